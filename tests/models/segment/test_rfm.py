"""RFM scores and segments on hand-checked numbers, the rule table as data, and the estimator contract."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import growthkit.models.segment as segment_pkg
from growthkit.errors import ConfigError, NotFittedError, SchemaError
from growthkit.models.segment import (
    PROSPECTS,
    RFM_SEGMENTS,
    RFMRule,
    RFMSegmenter,
    cluster,
    evaluate,
    grounding,
    kselect,
    persona,
    profile,
    rfm,
    segment_grid,
    stable,
)

NAMES = (
    "Champions",
    "Loyal",
    "Potential loyalists",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "Can't lose them",
    "At risk",
    "Hibernating",
    "Lost",
)


def table() -> pd.DataFrame:
    """10 customers with recency 1..10 days, frequency 1..10, spend 10..100, and one user who never bought."""
    r = np.arange(1.0, 11.0)
    return pd.DataFrame(
        {"recency_days": [*r, 50.0], "frequency": [*r[::-1], 0], "monetary_total": [*(r[::-1] * 10), 0.0]},
        index=pd.Index([f"c{i}" for i in range(1, 11)] + ["never"], name="user_id"),
    )


def test_the_default_map_names_the_eleven_usual_segments_and_covers_every_cell() -> None:
    assert tuple(r.name for r in RFM_SEGMENTS) == NAMES
    grid = segment_grid()
    assert grid.shape == (5, 5) and set(grid.to_numpy().ravel()) == set(NAMES)
    assert grid.loc[5, 5] == "Champions" and grid.loc[5, 1] == "New" and grid.loc[4, 1] == "Promising"
    assert grid.loc[1, 5] == "Can't lose them" and grid.loc[1, 1] == "Lost" and grid.loc[2, 4] == "At risk"
    assert grid.loc[3, 2] == "Need attention" and grid.loc[3, 1] == "About to sleep" and grid.loc[2, 2] == "Hibernating"


def test_quantile_thresholds_and_scores_by_hand() -> None:
    model = RFMSegmenter().fit(table())
    # quantiles of 1..10 at 20/40/60/80 % (linear interpolation): 2.8, 4.6, 6.4, 8.2
    for key in ("R", "F"):
        np.testing.assert_allclose(model.thresholds_[key], [2.8, 4.6, 6.4, 8.2])
    np.testing.assert_allclose(model.thresholds_["M"], [28.0, 46.0, 64.0, 82.0])
    s = model.scores_
    # c1: recency 1 (R5), frequency 10 (F5), spend 100 (M5); c10: recency 10 (R1), F1, M1
    assert s.loc["c1", ["R", "F", "M", "FM"]].tolist() == [5, 5, 5, 5]
    assert s.loc["c10", ["R", "F", "M", "FM"]].tolist() == [1, 1, 1, 1]
    # c6: recency 6 exceeds 2.8 and 4.6 -> R = 5 - 2 = 3; frequency 5 and spend 50 exceed two thresholds -> F = M = 3
    assert s.loc["c6", ["R", "F", "M", "FM"]].tolist() == [3, 3, 3, 3]
    assert s.loc["c7", ["R", "F", "M", "FM"]].tolist() == [2, 2, 2, 2]
    assert model.labels_.to_dict() == {
        "c1": "champions",
        "c2": "champions",
        "c3": "champions",
        "c4": "champions",
        "c5": "loyal",
        "c6": "loyal",
        "c7": "hibernating",
        "c8": "hibernating",
        "c9": "lost",
        "c10": "lost",
        "never": "prospects",
    }
    assert s.loc["never", ["R", "F", "M", "FM"]].tolist() == [0, 0, 0, 0]
    assert s.loc["never", "segment"] == PROSPECTS.name and model.customers_ == 10


def test_every_segment_of_the_map_with_fixed_thresholds() -> None:
    # R5 <= 7 days < R4 <= 14 < R3 <= 30 < R2 <= 60 < R1; F1 = 1, F2 = 2, F3 = 3-4, F4 = 5-8, F5 > 8 purchases;
    # M1 <= 50 < M2 <= 100 < M3 <= 200 < M4 <= 400 < M5; FM = (F + M + 1) // 2
    rows = {
        "champions": (3, 10, 500),  # R5 FM5
        "loyal": (20, 6, 300),  # R3 FM4
        "potential_loyalists": (10, 2, 80),  # R4 FM2
        "new": (2, 1, 30),  # R5 FM1
        "promising": (10, 1, 20),  # R4 FM1
        "need_attention": (25, 2, 90),  # R3 FM2
        "about_to_sleep": (25, 1, 10),  # R3 FM1
        "cant_lose_them": (90, 20, 900),  # R1 FM5
        "at_risk": (45, 4, 150),  # R2 FM3
        "hibernating": (45, 1, 40),  # R2 FM1
        "lost": (120, 2, 60),  # R1 FM2
    }
    f = pd.DataFrame(rows.values(), index=list(rows), columns=["recency_days", "frequency", "monetary_total"])
    fixed = {"R": [7, 14, 30, 60], "F": [1, 2, 4, 8], "M": [50, 100, 200, 400]}
    labels = RFMSegmenter(thresholds=fixed).fit(f).labels_
    assert labels.to_dict() == {k: k for k in rows}


def test_ties_get_the_lower_score_so_one_time_buyers_are_f1() -> None:
    f = pd.DataFrame(
        {"recency_days": np.arange(10.0), "frequency": [1] * 7 + [2, 3, 9], "monetary_total": np.arange(10.0) + 1}
    )
    s = RFMSegmenter().fit(f).scores_
    assert set(s.loc[f["frequency"] == 1, "F"]) == {1}
    assert s["F"].max() == 5


def test_fixed_thresholds_and_a_custom_rule_table_override_the_defaults() -> None:
    fixed = {"R": [7, 14, 30, 60], "F": [1, 2, 4, 8], "M": [50, 100, 200, 400]}
    model = RFMSegmenter(thresholds=fixed).fit(table())
    assert model.thresholds_["F"].tolist() == [1.0, 2.0, 4.0, 8.0]
    # c1: recency 1 < 7 -> R5; frequency 10 > 8 -> F5; spend 100 exceeds 50 only (not > 100) -> M2; FM (5+2+1)//2 = 4
    assert model.scores_.loc["c1", ["R", "F", "M", "FM"]].tolist() == [5, 5, 2, 4]
    rules = (
        RFMRule("recent", "Recent", "近期", r=(4, 5), fm=(1, 5)),
        RFMRule("older", "Older", "较早", r=(1, 3), fm=(1, 5)),
    )
    m2 = RFMSegmenter(rules=rules).fit(table())
    assert set(m2.labels_) == {"recent", "older", "prospects"}
    assert m2.rule_table()["segment_id"].tolist() == ["recent", "older", "prospects"]
    assert m2.rule_table().iloc[-1][["R", "FM"]].tolist() == ["-", "-"]
    assert RFMSegmenter().rule_table()["name"].tolist() == [*NAMES, "Prospects"]
    assert m2.segment_names_ == {"recent": "Recent", "older": "Older", "prospects": "Prospects"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rules": (RFMRule("a", "A", "甲", (1, 5), (1, 4)),)}, r"without a segment: \[\(1, 5\)"),
        ({"rules": (RFMRule("a", "A", "甲", (0, 5), (1, 5)),)}, "must lie in 1..5"),
        ({"rules": (RFMRule("a", "A", "甲", (1, 5), (1, 5)), RFMRule("a", "B", "乙", (1, 5), (1, 5)))}, "repeated"),
        ({"quantiles": (0.5, 0.4, 0.6, 0.8)}, "4 increasing numbers"),
        ({"thresholds": {"R": [1, 2, 3]}}, "4 finite, non-decreasing"),
        ({"thresholds": {"X": [1, 2, 3, 4]}}, "must be R, F and M"),
    ],
)
def test_bad_options_fail_in_fit_with_a_message(kwargs: dict[str, object], match: str) -> None:
    model = RFMSegmenter(**kwargs)  # type: ignore[arg-type]
    assert model.get_params()[next(iter(kwargs))] == next(iter(kwargs.values()))  # __init__ only stores
    with pytest.raises(ConfigError, match=match):
        model.fit(table())


def test_estimator_contract() -> None:
    model = RFMSegmenter()
    with pytest.raises(NotFittedError, match="call fit"):
        model.predict(table())
    assert model.fit(table()) is model
    new = pd.DataFrame(
        {"recency_days": [1.0, 9.5], "frequency": [12, 1], "monetary_total": [500.0, 5.0]}, index=["x", "y"]
    )
    assert model.predict(new).to_dict() == {"x": "champions", "y": "lost"}  # the thresholds learned in fit
    assert model.set_params(quantiles=(0.1, 0.2, 0.3, 0.4)) is model
    with pytest.raises(ConfigError, match="no parameter"):
        model.set_params(bins=3)
    with pytest.raises(SchemaError, match="no column 'monetary_total'"):
        RFMSegmenter().fit(table().drop(columns="monetary_total"))
    with pytest.raises(SchemaError, match="missing or infinite"):
        RFMSegmenter().fit(table().assign(frequency=np.nan))
    with pytest.raises(SchemaError, match="DataFrame"):
        RFMSegmenter().fit(np.zeros((3, 3)))  # type: ignore[arg-type]


def test_a_shop_without_buyers_is_all_prospects() -> None:
    f = table().assign(frequency=0, monetary_total=0.0)
    assert set(RFMSegmenter().fit(f).labels_) == {"prospects"}


def test_docstring_examples_run() -> None:
    for module in (segment_pkg, rfm, cluster, kselect, stable, profile, persona, grounding, evaluate):
        failed, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failed == 0, module.__name__
