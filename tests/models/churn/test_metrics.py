"""The metric functions agree with scikit-learn and handle ties as a random tie-break would on average."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from growthkit.models.churn import (
    ChurnError,
    average_precision,
    brier_score,
    calibration_table,
    lift_and_capture,
    roc_auc,
    score_metrics,
)
from growthkit.models.churn.metrics import expected_calibration_error
from growthkit.models.churn.metrics import log_loss as gk_log_loss


def _data(seed: int, n: int = 2000, ties: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    s = np.clip(0.3 + 0.2 * (y - 0.3) + rng.normal(0, 0.2, n), 0, 1)
    return y, (np.round(s, 2) if ties else s)  # rounding makes many ties


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ties", [True, False])
def test_ranking_and_probability_metrics_match_sklearn(seed: int, ties: bool) -> None:
    y, s = _data(seed, ties=ties)
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert average_precision(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert brier_score(y, s) == pytest.approx(brier_score_loss(y, s), abs=1e-12)
    assert gk_log_loss(y, np.clip(s, 0.01, 0.99)) == pytest.approx(log_loss(y, np.clip(s, 0.01, 0.99)), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=40))
def test_auc_and_ap_match_sklearn_on_small_tied_inputs(pairs: list[tuple[bool, int]]) -> None:
    y = np.array([int(a) for a, _ in pairs])
    s = np.array([b / 5 for _, b in pairs])
    if y.min() == y.max():
        return
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert average_precision(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)


def test_auc_is_nan_with_one_class_and_half_for_a_constant_score() -> None:
    assert math.isnan(roc_auc([1, 1, 1], [0.1, 0.2, 0.3]))
    assert roc_auc([0, 1, 0, 1], [0.5] * 4) == 0.5


def test_calibration_table_is_deciles_of_the_predicted_probability() -> None:
    y, s = _data(3)
    table = calibration_table(y, s)
    assert [b.bin for b in table] == list(range(1, 11))
    assert sum(b.count for b in table) == len(y) and {b.count for b in table} == {200}
    assert all(a.max_predicted <= b.min_predicted for a, b in itertools.pairwise(table))
    weighted = sum(b.count * b.observed_rate for b in table) / len(y)
    assert weighted == pytest.approx(y.mean())
    order = np.argsort(s, kind="stable")
    assert table[-1].observed_rate == pytest.approx(y[order[-200:]].mean())
    assert table[0].mean_predicted == pytest.approx(s[order[:200]].mean())
    ece = expected_calibration_error(table)
    assert ece == pytest.approx(sum(abs(b.mean_predicted - b.observed_rate) for b in table) / 10)


def test_calibration_table_with_fewer_users_than_bins() -> None:
    table = calibration_table([0, 1, 1], [0.2, 0.5, 0.9])
    assert [(b.bin, b.count) for b in table] == [(1, 1), (2, 1), (3, 1)]


def test_lift_and_capture() -> None:
    y = np.array([1] * 10 + [0] * 90)
    perfect = np.linspace(1, 0, 100)
    assert lift_and_capture(y, perfect) == pytest.approx((10.0, 1.0))
    # a constant score: the top decile is a random tenth on average
    assert lift_and_capture(y, np.full(100, 0.3)) == pytest.approx((1.0, 0.1))
    # ties across the boundary count by their average label: top 10 = 5 sure positives + 5 of 10 tied (half positive)
    s = np.r_[np.full(5, 0.9), np.full(10, 0.5), np.zeros(85)]
    yy = np.r_[np.ones(5), np.ones(5), np.zeros(5), np.zeros(85)].astype(int)
    lift, capture = lift_and_capture(yy, s)
    assert capture == pytest.approx(7.5 / 10) and lift == pytest.approx(0.75 / 0.1)


def test_score_metrics_collects_everything_and_serialises() -> None:
    y, s = _data(4)
    m = score_metrics("rule", y, s)
    assert (m.model, m.n, m.positives) == ("rule", len(y), int(y.sum()))
    assert m.roc_auc == pytest.approx(roc_auc_score(y, s)) and len(m.calibration) == 10
    d = m.to_dict()
    assert d["calibration"][0]["bin"] == 1 and d["brier"] == pytest.approx(brier_score_loss(y, s))
    assert score_metrics("x", [1, 1], [0.2, 0.4]).to_dict()["roc_auc"] is None  # NaN -> None


@pytest.mark.parametrize(
    ("y", "s", "message"),
    [
        ([0, 1], [0.1], "same length"),
        ([0, 2], [0.1, 0.2], "0 or 1"),
        ([0, 1], [0.1, math.nan], "finite"),
        ([], [], "no labels"),
    ],
)
def test_bad_metric_inputs_say_what_is_wrong(y: list[float], s: list[float], message: str) -> None:
    with pytest.raises(ChurnError, match=message):
        roc_auc(y, s)
