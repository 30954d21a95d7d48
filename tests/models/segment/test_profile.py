"""Segment profiles on a hand-checked table: sizes, shares, means, lifts, SMD ranking, categories, ranks."""

from __future__ import annotations

import pandas as pd
import pytest

from growthkit.errors import SchemaError
from growthkit.models.segment import profile_segments, profiles_frame


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency": [0.0, 0.0, 2.0, 10.0],
            "monetary_total": [0.0, 0.0, 100.0, 900.0],
            "trend_events_30d": [-1.0, -0.5, 0.5, 1.0],
            "cat_share__books": [0.2, 0.4, 0.1, 0.0],
            "cat_share__toys": [0.0, 0.1, 0.6, 0.3],
            "cat_share__other": [0.8, 0.5, 0.3, 0.7],
        },
        index=pd.Index(["a", "b", "c", "d"], name="user_id"),
    )


def test_numbers_by_hand() -> None:
    labels = pd.Series({"a": 2, "b": 2, "c": 10, "d": 10})
    low, high = profile_segments(
        table(), labels, features=["frequency", "monetary_total", "trend_events_30d"], names={10: "big", 2: "small"}
    )
    assert [p.segment_id for p in (low, high)] == ["10", "2"]  # the names' order
    assert (low.name, high.name) == ("big", "small")
    big = low
    assert big.users == 2 and big.share_users == 0.5
    assert big.revenue == 1000.0 and big.share_revenue == 1.0
    f = big.feature("frequency")
    assert (f.mean, f.population_mean, f.lift) == (6.0, 3.0, 2.0)
    # population SD of 0, 0, 2, 10 (ddof 0): sqrt(((3)^2 + 3^2 + 1 + 49) / 4) = sqrt(17)
    assert f.smd == pytest.approx(3.0 / 17**0.5)
    trend = big.feature("trend_events_30d")
    assert trend.lift is None and trend.mean == 0.75  # the feature can be negative: no lift
    assert big.distinguishing[0] == "trend_events_30d"  # largest |SMD|: 0.75 / sd(-1, -.5, .5, 1) = 0.75 / 0.79
    assert [c.category for c in big.categories] == ["toys", "books"]  # never "other"
    assert [c.share for c in big.categories] == pytest.approx([0.45, 0.05])
    assert big.categories[0].lift == pytest.approx(0.45 / 0.25)
    assert big.ranks == {"users": 1, "share_revenue": 1, "frequency": 1, "monetary_total": 1, "trend_events_30d": 1}
    assert high.ranks["frequency"] == 2 and big.n_segments == 2
    frame = profiles_frame((low, high))
    assert frame["segment_id"].tolist() == ["10", "2"] and frame["mean__frequency"].tolist() == [6.0, 0.0]


def test_default_features_are_those_present_and_sorted_ids() -> None:
    ps = profile_segments(table(), pd.Series({"a": "y", "b": "x", "c": "x", "d": "y"}))
    assert [p.segment_id for p in ps] == ["x", "y"] and ps[0].name == "Segment x"
    assert [f.feature for f in ps[0].features] == ["frequency", "monetary_total"]  # of PROFILE_FEATURES


def test_users_without_a_label_are_left_out_of_every_number() -> None:
    (only,) = profile_segments(table(), pd.Series({"c": 1, "d": 1, "zz": 1}), features=["frequency"])
    assert only.users == 2 and only.share_users == 1.0 and only.feature("frequency").population_mean == 6.0


def test_errors() -> None:
    with pytest.raises(SchemaError, match="no column"):
        profile_segments(table(), pd.Series({"a": 1}), features=["sessions"])
    with pytest.raises(SchemaError, match="no labelled user"):
        profile_segments(table(), pd.Series({"q": 1}))
    with pytest.raises(SchemaError, match="distinct as text"):
        profile_segments(table(), pd.Series({"a": 1, "b": "1"}))
    with pytest.raises(KeyError, match="not in the profile"):
        profile_segments(table(), pd.Series({"a": 1}))[0].feature("sessions")
