"""Time splits and horizon labels on the hand-checked timeline (cutoff 2025-03-01 00:00 UTC)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import pytest

from growthkit.features import FeatureError, TimeSplit, build_user_features, horizon_labels, split_by_time
from growthkit.store import Store

CUTOFF = datetime(2025, 3, 1)


def test_split_by_time_from_days_or_timedelta() -> None:
    s = split_by_time(date(2025, 3, 1), 30)
    assert s == TimeSplit(CUTOFF, datetime(2025, 3, 31))
    assert s.horizon == timedelta(days=30) and s.complete is None
    assert split_by_time(CUTOFF, timedelta(hours=12)).horizon_end == datetime(2025, 3, 1, 12)
    assert s.shifted(-28) == TimeSplit(datetime(2025, 2, 1), datetime(2025, 3, 3))


@pytest.mark.parametrize("horizon", [0, -3, timedelta(0), "30", True])
def test_bad_horizons_are_refused(horizon: object) -> None:
    with pytest.raises(FeatureError, match="horizon"):
        split_by_time(CUTOFF, horizon)  # type: ignore[arg-type]


def test_a_split_from_a_store_knows_whether_the_data_covers_the_horizon(
    shop: Store, caplog: pytest.LogCaptureFixture
) -> None:
    short = split_by_time(CUTOFF, 5, shop)
    assert short.observed_until == datetime(2025, 3, 10, 0, 0, 0, 1)  # just after eve's purchase
    assert short.complete is True
    with caplog.at_level(logging.WARNING, logger="growthkit.features.split"):
        long = split_by_time(CUTOFF, 30, shop)
    assert long.complete is False
    assert "censored" in caplog.text


def test_calibration_and_holdout_filters(shop: Store) -> None:
    s = split_by_time(CUTOFF, 5)
    events = shop.ibis().table("events")
    cal = s.calibration(events).event_id.execute().tolist()
    hold = sorted(s.holdout(events).event_id.execute().tolist())
    assert "a9" in cal and "a10" not in cal  # 23:59:59 before; exactly at the cutoff is the horizon's
    assert hold == ["a10", "a11", "b5", "c1"]  # [03-01, 03-06): e2 on 03-10 is outside


def test_horizon_labels_count_purchases_revenue_activity_and_churn(shop: Store) -> None:
    labels = horizon_labels(shop, split_by_time(CUTOFF, 30))
    # the users known before the cutoff; cat (first seen at the cutoff) is not among them
    assert labels.index.tolist() == ["ann", "bob", "dan", "eve"]
    assert labels.loc["ann"].tolist() == [1, 500.0, 2, 1, 0]  # a10 at the cutoff counts, a11 view
    assert labels.loc["bob"].tolist() == [1, 10.0, 1, 1, 0]
    assert labels.loc["dan"].tolist() == [0, 0.0, 0, 0, 1]
    assert labels.loc["eve"].tolist() == [1, 20.0, 1, 1, 0]
    assert list(labels.columns) == ["purchases", "revenue", "active_events", "active", "churned"]
    assert [str(t) for t in labels.dtypes] == ["int64", "float64", "int64", "int64", "int64"]


def test_horizon_labels_options(shop: Store) -> None:
    short = horizon_labels(shop, split_by_time(CUTOFF, 5))
    assert short.loc["eve", ["purchases", "active", "churned"]].tolist() == [0, 0, 1]  # e2 on 03-10 is later
    views = horizon_labels(shop, split_by_time(CUTOFF, 30), churn_events=["view"])
    assert views["churned"].to_dict() == {"ann": 0, "bob": 1, "dan": 1, "eve": 1}
    anything = horizon_labels(shop, split_by_time(CUTOFF, 30), churn_events=None)
    assert anything["churned"].to_dict() == {"ann": 0, "bob": 0, "dan": 1, "eve": 0}
    some = horizon_labels(shop, split_by_time(CUTOFF, 30), users=["eve", "cat"])
    assert some.index.tolist() == ["eve"]
    with pytest.raises(FeatureError, match="churn_events"):
        horizon_labels(shop, split_by_time(CUTOFF, 30), churn_events=[])


def test_labels_align_with_the_features_of_the_same_cutoff(shop: Store) -> None:
    split = split_by_time(CUTOFF, 30)
    features = build_user_features(shop, split.cutoff)
    labels = horizon_labels(shop, split)
    assert features.index.equals(labels.index)
