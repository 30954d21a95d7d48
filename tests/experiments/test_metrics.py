"""Sufficient statistics from the store, checked against the hand-computed timeline in conftest.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from growthkit.errors import ConfigError
from growthkit.experiments.metrics import METRICS, Measure, MetricDefinition, compute_metric
from growthkit.store import DuckDBStore


def _by_name(store: DuckDBStore, metric: MetricDefinition, **kw: object) -> dict[str, dict[str, object]]:
    res = compute_metric(store, "exp", metric, **kw)  # type: ignore[arg-type]
    assert [v.name for v in res.variations] == ["control", "B"]  # control first, from the definition
    return {v.name: v.to_spec() for v in res.variations}


def test_revenue_window_boundaries_refunds_and_covariate(timeline: DuckDBStore) -> None:
    got = _by_name(timeline, METRICS["revenue"])
    # control: u1 = 30 (e2 at t0) - 10 (refund e4) = 20, e6 at the window end excluded; u2 = 0.
    #          covariate: u1 = 100 (e1, before t0), u2 = 0.
    assert got["control"] == {
        "name": "control",
        "n": 2,
        "sum": 20.0,
        "sum_squares": 400.0,
        "covariate_sum": 100.0,
        "covariate_sum_squares": 10_000.0,
        "main_covariate_sum_product": 2_000.0,
    }
    # B: u3 = 60 + 40 (e10 one second before the window end) = 100, e7 is 14 days + 1 h before t0;
    #    u4 = 5, covariate 10 (e11). Cross product: 100*0 + 5*10 = 50.
    assert got["B"] == {
        "name": "B",
        "n": 2,
        "sum": 105.0,
        "sum_squares": 10_025.0,
        "covariate_sum": 10.0,
        "covariate_sum_squares": 100.0,
        "main_covariate_sum_product": 50.0,
    }


def test_conversion_is_any_purchase_in_the_window(timeline: DuckDBStore) -> None:
    got = _by_name(timeline, METRICS["conversion"])
    # control: u1 bought (1, bought before too: x=1), u2 did not (0, 0).
    assert (got["control"]["sum"], got["control"]["covariate_sum"], got["control"]["main_covariate_sum_product"]) == (
        1.0,
        1.0,
        1.0,
    )
    # B: u3 bought (x=0: e7 is outside the pre-window), u4 bought (x=1).
    assert (got["B"]["n"], got["B"]["sum"], got["B"]["sum_squares"], got["B"]["covariate_sum"]) == (2, 2.0, 2.0, 1.0)
    assert got["B"]["main_covariate_sum_product"] == 1.0


def test_revenue_per_order_is_a_ratio_without_covariate(timeline: DuckDBStore) -> None:
    got = _by_name(timeline, METRICS["revenue_per_order"])
    # control: u1 30 over 1 purchase, u2 0 over 0.  B: u3 100 over 2, u4 5 over 1.
    assert got["control"] == {
        "name": "control",
        "n": 2,
        "sum": 30.0,
        "sum_squares": 900.0,
        "denominator_sum": 1.0,
        "denominator_sum_squares": 1.0,
        "main_denominator_sum_product": 30.0,
    }
    assert got["B"] == {
        "name": "B",
        "n": 2,
        "sum": 105.0,
        "sum_squares": 10_025.0,
        "denominator_sum": 3.0,
        "denominator_sum_squares": 5.0,
        "main_denominator_sum_product": 205.0,
    }


def test_events_per_session_counts_distinct_sessions(timeline: DuckDBStore) -> None:
    got = _by_name(timeline, METRICS["events_per_session"])
    # u1: e2 e3 e4 e5 = 4 events in sessions u1-b, u1-c (the refund has none) = 2.
    # u3: e8 e9 e10 = 3 events in 2 sessions; u4: e12 e13 = 2 events in 2 sessions.
    c = got["control"]
    assert (c["sum"], c["denominator_sum"], c["main_denominator_sum_product"]) == (4.0, 2.0, 8.0)
    assert (got["B"]["sum"], got["B"]["sum_squares"], got["B"]["denominator_sum"]) == (5.0, 13.0, 4.0)
    assert (got["B"]["denominator_sum_squares"], got["B"]["main_denominator_sum_product"]) == (8.0, 10.0)


def test_retention_day_7_and_its_covariate(timeline: DuckDBStore) -> None:
    got = _by_name(timeline, METRICS["retention_d7"])
    # Day 7 is [t0 + 7 d, t0 + 8 d): u1 has e5 on Jan 17 08:00, u4 has e13 on Jan 27 23:59:59; u2, u3 nothing.
    # The covariate is the day before t0: only u4 (e11 on Jan 19 12:00).
    assert (got["control"]["sum"], got["control"]["covariate_sum"]) == (1.0, 0.0)
    assert (got["B"]["sum"], got["B"]["covariate_sum"], got["B"]["main_covariate_sum_product"]) == (1.0, 1.0, 1.0)


def test_analysis_end_cuts_exposures_and_events(timeline: DuckDBStore) -> None:
    got = _by_name(timeline, METRICS["revenue"], end=datetime(2025, 1, 15, tzinfo=UTC))
    # u4 (exposed Jan 20) is not analysed; u3's purchases are at or after the end (exclusive).
    assert (got["control"]["n"], got["control"]["sum"]) == (2, 20.0)
    assert (got["B"]["n"], got["B"]["sum"], got["B"]["covariate_sum"]) == (1, 0.0, 0.0)


def test_capping_at_a_percentile_of_all_exposed_users(timeline: DuckDBStore) -> None:
    metric = replace(METRICS["revenue"], cap_percentile=0.75)
    res = compute_metric(timeline, "exp", metric)
    # values 0, 5, 20, 100: the 75th percentile (linear) is 20 + 0.25 * 80 = 40, so u3's 100 -> 40.
    # covariates 0, 0, 10, 100: 10 + 0.25 * 90 = 32.5, so u1's 100 -> 32.5.
    assert (res.cap, res.covariate_cap) == (40.0, 32.5)
    control, b = res.variations
    assert (control.sum, control.covariate_sum, control.main_covariate_sum_product) == (20.0, 32.5, 650.0)
    assert (b.sum, b.sum_squares) == (45.0, 1_625.0)


def test_window_until_the_end_and_variation_without_users(timeline: DuckDBStore) -> None:
    metric = replace(METRICS["orders"], window_days=None, covariate=False)
    res = compute_metric(timeline, "exp", metric, variations=("control", "B", "C"))
    # Without a window u1's e6 (Jan 24) counts too: u1 2 orders, u3 2, u4 1.
    assert [(v.name, v.n, v.sum) for v in res.variations] == [("control", 2, 2.0), ("B", 2, 3.0), ("C", 0, 0.0)]
    assert res.variations[0].covariate_sum is None


def test_spec_maps_to_the_engine_keys(timeline: DuckDBStore) -> None:
    spec = compute_metric(timeline, "exp", METRICS["conversion"]).spec(engine="bayesian", alpha=0.1)
    assert spec["engine"] == "bayesian" and spec["metric_type"] == "proportion" and spec["alpha"] == 0.1
    assert set(spec["variations"][0]) == {
        "name",
        "n",
        "sum",
        "sum_squares",
        "covariate_sum",
        "covariate_sum_squares",
        "main_covariate_sum_product",
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "ratio"}, "needs a denominator"),
        ({"kind": "mean", "denominator": Measure()}, "must not have one"),
        ({"kind": "proportion", "cap_percentile": 0.9}, "changes nothing"),
        ({"kind": "mean", "cap_percentile": 99}, "e.g. 0.99"),
        ({"kind": "mean", "window_days": 0}, "window_days"),
        ({"kind": "ratio", "denominator": Measure(), "covariate": True}, "covariate=False"),
        ({"kind": "median"}, "kind must be one of"),
    ],
)
def test_bad_definitions_say_what_to_fix(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MetricDefinition(name="m", numerator=Measure(), **kwargs)  # type: ignore[arg-type]


def test_unknown_experiment_says_how_to_record_exposures(timeline: DuckDBStore) -> None:
    with pytest.raises(ConfigError, match="record"):
        compute_metric(timeline, "nope", METRICS["revenue"])
