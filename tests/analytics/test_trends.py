"""Trends on tiny hand-checked timelines (every expected number is justified in a comment)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pytest

from growthkit.analytics._common import AnalyticsQueryError, Breakdown, DateRange, EventFilter, NewUser
from growthkit.analytics.trends import TrendMetric, TrendsQuery, TrendsResult, run_trends
from growthkit.config import Settings
from growthkit.store import open_store

ALL_METRICS = tuple(TrendMetric)

# (event_id, user_id, ts, event_type, amount, session_id, channel, item_id)
EVENTS: list[tuple[Any, ...]] = [
    # u1: first event BEFORE the range (born 01-05 under first_event), then one order of two lines
    # (same session, same timestamp) on 01-06 and a refund of the second line on 01-07.
    ("e01", "u1", "2025-01-05 23:59:59", "view", None, None, None, None),
    ("e02", "u1", "2025-01-06 00:00:00", "view", None, None, None, None),  # exactly at the range start
    ("e03", "u1", "2025-01-06 10:00:00", "purchase", 30.0, "s1", None, "i1"),
    ("e04", "u1", "2025-01-06 10:00:00", "purchase", 20.0, "s1", None, "i2"),
    ("e05", "u1", "2025-01-07 12:00:00", "refund", 20.0, None, None, "i2"),
    # u2: signs up on 01-06 (signup and a view at the same instant, two channels), then two
    # purchases without session id on 01-07: two orders.
    ("e06", "u2", "2025-01-06 08:00:00", "signup", None, None, "ads", None),
    ("e07", "u2", "2025-01-06 08:00:00", "view", None, None, "organic", None),
    ("e08", "u2", "2025-01-07 09:00:00", "purchase", 50.0, None, "ads", None),
    ("e09", "u2", "2025-01-07 09:30:00", "purchase", 10.0, None, "ads", None),
    # u3: users.signup_ts is 01-07 but the first event is the last instant of the range;
    # the event at the exclusive end (01-09 00:00) is outside.
    ("e10", "u3", "2025-01-08 23:59:59.999999", "view", None, None, "organic", None),
    ("e11", "u3", "2025-01-09 00:00:00", "view", None, None, "organic", None),
    # u4, u5: only active long before; they matter for the 30-day rolling window only.
    ("e12", "u4", "2024-12-10 12:00:00", "view", None, None, None, None),  # in MAU of 01-06..01-08 (from 12-10)
    ("e13", "u5", "2024-12-09 23:59:59", "view", None, None, None, None),  # in MAU of 01-06, 01-07 only
]
USERS = [
    ("u1", "2024-12-01 00:00:00", "1"),
    ("u2", None, "2"),
    ("u3", "2025-01-07 12:00:00", None),
    ("u4", None, "1"),
    ("u5", None, "1"),
]
ITEMS = [("i1", "A > x"), ("i2", "B")]
RANGE = DateRange(date(2025, 1, 6), date(2025, 1, 8))


@pytest.fixture
def con() -> Iterator[Any]:
    st = open_store(Settings(db=":memory:"))
    cols = "event_id, user_id, ts, event_type, amount, session_id, channel, item_id"
    st.execute(
        f"INSERT INTO events ({cols}) VALUES " + ",".join(["(?,?,?,?,?,?,?,?)"] * len(EVENTS)),
        [v for row in EVENTS for v in row],
    )
    for u in USERS:
        st.execute("INSERT INTO users (user_id, signup_ts, city_tier) VALUES (?, ?, ?)", list(u))
    for i in ITEMS:
        st.execute("INSERT INTO items (item_id, category) VALUES (?, ?)", list(i))
    yield st.ibis()
    st.close()


def cells(res: TrendsResult) -> dict[tuple[str, str, str], float]:
    f = res.frame
    return {(str(p.date()), b, m): v for p, b, m, v in zip(f.period, f.breakdown, f.metric, f["value"], strict=True)}


def check(got: dict[tuple[str, str, str], float], want: dict[tuple[str, str, str], float]) -> None:
    for key, w in want.items():
        g = got[key]
        assert (math.isnan(g) and math.isnan(w)) or g == pytest.approx(w), (key, g, w)


def day_values(res: TrendsResult, metric: str, breakdown: str = "(all)") -> list[float]:
    f = res.frame
    return f[(f.metric == metric) & (f.breakdown == breakdown)]["value"].tolist()


def test_daily_metrics_by_hand(con: Any) -> None:
    res = run_trends(con, TrendsQuery(ALL_METRICS, RANGE))
    f = res.frame
    assert list(f.columns) == ["period", "breakdown", "metric", "value"]
    assert len(f) == 3 * len(ALL_METRICS)  # 3 days x 11 metrics, one breakdown value
    assert day_values(res, "active_users") == [2, 2, 1]  # {u1,u2}, {u1 refund, u2}, {u3}; e11 is outside
    assert day_values(res, "new_users") == [1, 0, 1]  # u2 first seen 01-06; u3 01-08; u1 was born 01-05
    assert day_values(res, "dau") == [2, 2, 1]  # same as active_users for day periods
    assert day_values(res, "wau") == [2, 2, 3]  # 01-08 looks back to 01-02: u1, u2, u3
    assert day_values(res, "mau") == [4, 4, 4]  # 01-06: u1,u2,u4,u5; 01-07: u5 (12-09) still in; 01-08: u3 in, u5 out
    assert day_values(res, "purchasers") == [1, 1, 0]  # u1, u2
    assert day_values(res, "orders") == [1, 2, 0]  # u1's two lines share session s1; u2's two have none
    assert day_values(res, "gross_revenue") == [50, 60, 0]
    assert day_values(res, "net_revenue") == [50, 40, 0]  # 01-07: 60 minus u1's refund of 20
    aov = day_values(res, "aov")
    assert aov[:2] == [50, 30] and math.isnan(aov[2])  # 50/1, 60/2, no orders
    assert day_values(res, "conversion") == [0.5, 0.5, 0.0]  # 1 of 2, 1 of 2, 0 of 1


def test_rolling_actors_include_days_before_the_range(con: Any) -> None:
    res = run_trends(con, TrendsQuery(("mau",), RANGE))
    assert res.actors(con, date(2025, 1, 7), "mau") == ["u1", "u2", "u4", "u5"]  # window 12-09..01-07
    assert res.actors(con, date(2025, 1, 8), "mau") == ["u1", "u2", "u3", "u4"]  # window 12-10..01-08
    assert res.actors(con, date(2025, 1, 8), "wau") == ["u1", "u2", "u3"]


def test_weekly_period_snapshot_and_totals(con: Any) -> None:
    res = run_trends(con, TrendsQuery(ALL_METRICS, RANGE, period="week"))
    check(
        cells(res),
        {
            ("2025-01-06", "(all)", "active_users"): 3,  # u1, u2, u3 during 01-06..01-08
            ("2025-01-06", "(all)", "new_users"): 2,  # u2, u3; u1's birth (01-05) is outside the range
            ("2025-01-06", "(all)", "dau"): 1,  # snapshot on the last in-range day, 01-08: u3
            ("2025-01-06", "(all)", "wau"): 3,
            ("2025-01-06", "(all)", "orders"): 3,
            ("2025-01-06", "(all)", "gross_revenue"): 110,
            ("2025-01-06", "(all)", "net_revenue"): 90,
            ("2025-01-06", "(all)", "aov"): 110 / 3,
            ("2025-01-06", "(all)", "conversion"): 2 / 3,
        },
    )
    assert res.actors(con, date(2025, 1, 6), "new_users") == ["u2", "u3"]
    assert res.actors(con, date(2025, 1, 6), "orders") == ["u1", "u2"]


def test_new_user_signup_basis(con: Any) -> None:
    res = run_trends(con, TrendsQuery(("new_users",), RANGE, new_user=NewUser.SIGNUP))
    # u2: signup event 01-06. u3: users.signup_ts 01-07, but not active that day, and on 01-08
    # they are active but no longer new. u1 signed up 2024-12-01.
    assert day_values(res, "new_users") == [1, 0, 0]


def test_channel_breakdown_counts_a_user_in_each_value(con: Any) -> None:
    res = run_trends(con, TrendsQuery(("active_users", "gross_revenue"), RANGE, breakdown=Breakdown("channel")))
    check(
        cells(res),
        {
            ("2025-01-06", "ads", "active_users"): 1,  # u2's signup
            ("2025-01-06", "organic", "active_users"): 1,  # u2's view at the same instant
            ("2025-01-06", "(none)", "active_users"): 1,  # u1, events without channel
            ("2025-01-06", "(none)", "gross_revenue"): 50,
            ("2025-01-07", "ads", "gross_revenue"): 60,
            ("2025-01-08", "organic", "active_users"): 1,  # u3
            ("2025-01-08", "ads", "active_users"): 0,  # zero-filled
        },
    )
    assert set(res.frame.breakdown) == {"ads", "organic", "(none)"}
    assert res.actors(con, date(2025, 1, 6), "active_users", breakdown="ads") == ["u2"]
    assert res.actors(con, date(2025, 1, 6), "active_users") == ["u1", "u2"]  # every breakdown value


def test_user_property_breakdown(con: Any) -> None:
    res = run_trends(con, TrendsQuery(("active_users", "new_users"), RANGE, breakdown=Breakdown("user.city_tier")))
    check(
        cells(res),
        {
            ("2025-01-06", "1", "active_users"): 1,  # u1
            ("2025-01-06", "2", "new_users"): 1,  # u2
            ("2025-01-08", "(none)", "new_users"): 1,  # u3 has no tier
        },
    )


def test_item_category_breakdown(con: Any) -> None:
    q = TrendsQuery(("orders", "gross_revenue", "net_revenue"), RANGE, breakdown=Breakdown("item.category"))
    check(
        cells(run_trends(con, q)),
        {
            ("2025-01-06", "A > x", "orders"): 1,  # order s1 contains i1 ...
            ("2025-01-06", "B", "orders"): 1,  # ... and i2: it counts once in each category
            ("2025-01-06", "A > x", "gross_revenue"): 30,
            ("2025-01-06", "B", "gross_revenue"): 20,
            ("2025-01-07", "B", "net_revenue"): -20,  # the refund of i2, in the refund's period
            ("2025-01-07", "(none)", "net_revenue"): 60,  # u2's purchases have no item
        },
    )


def test_metrics_asked_together_match_each_asked_alone(con: Any) -> None:
    # The metrics of one query share passes over the events (the user-days, read from the longest
    # rolling look-back; one aggregate for orders, revenue and AOV): sharing changes no number.
    for bd in (None, Breakdown("channel"), Breakdown("item.category")):
        together = cells(run_trends(con, TrendsQuery(ALL_METRICS, RANGE, breakdown=bd)))
        for m in ALL_METRICS:
            check(together, cells(run_trends(con, TrendsQuery((m,), RANGE, breakdown=bd))))
    # With net_revenue asked, the refund of i2 on 01-07 (category B) is a period without orders:
    # orders 0 and no AOV there, as when AOV is asked alone.
    q = TrendsQuery(("aov", "orders", "net_revenue"), RANGE, breakdown=Breakdown("item.category"))
    check(
        cells(run_trends(con, q)),
        {
            ("2025-01-07", "B", "aov"): math.nan,
            ("2025-01-07", "B", "orders"): 0,
            ("2025-01-07", "B", "net_revenue"): -20,
        },
    )


def test_filters_define_the_event_stream(con: Any) -> None:
    q = TrendsQuery(("active_users", "new_users", "conversion"), RANGE, filters=EventFilter(("purchase",)))
    res = run_trends(con, q)
    assert day_values(res, "active_users") == [1, 1, 0]  # buyers only
    # u2 was born on 01-06 (signup) but first bought on 01-07: not new on either day.
    assert day_values(res, "new_users") == [0, 0, 0]
    conv = day_values(res, "conversion")
    assert conv[:2] == [1.0, 1.0] and math.isnan(conv[2])  # nobody active on 01-08
    ads = run_trends(con, TrendsQuery(("active_users",), RANGE, filters=EventFilter(where=(("channel", "ads"),))))
    assert day_values(ads, "active_users") == [1, 1, 0]  # u2's ads events only


def test_period_boundaries_week_and_month() -> None:
    st = open_store(Settings(db=":memory:"))
    st.execute(
        "INSERT INTO events (event_id, user_id, ts, event_type) VALUES "
        "('a', 'u1', '2025-01-12 23:59:59', 'view'),"  # Sunday: ISO week of Monday 01-06
        "('b', 'u2', '2025-01-13 00:00:00', 'view'),"  # Monday: next week
        "('c', 'u3', '2025-01-31 23:59:59', 'view'),"  # last second of January
        "('d', 'u4', '2025-02-01 00:00:00', 'view')"  # first instant of February
    )
    con = st.ibis()
    r = DateRange(date(2025, 1, 8), date(2025, 2, 3))
    weeks = run_trends(con, TrendsQuery(("active_users",), r, period="week"))
    assert [str(p.date()) for p in weeks.frame.period] == [
        "2025-01-06",
        "2025-01-13",
        "2025-01-20",
        "2025-01-27",
        "2025-02-03",
    ]
    assert weeks.frame["value"].tolist() == [1, 1, 0, 2, 0]  # c (Fri) and d (Sat) share the week of 01-27
    months = run_trends(con, TrendsQuery(("active_users",), r, period="month"))
    assert months.frame["value"].tolist() == [3, 1]  # u1, u2, u3 in January; u4 in February
    assert months.actors(con, date(2025, 2, 1), "active_users") == ["u4"]
    st.close()


def test_empty_range_gives_zeros_and_nan(con: Any) -> None:
    res = run_trends(con, TrendsQuery(ALL_METRICS, DateRange(date(2030, 1, 1), date(2030, 1, 2))))
    assert len(res.frame) == 2 * len(ALL_METRICS)
    f = res.frame
    ratios = f.metric.isin(["aov", "conversion"])
    assert (f[~ratios]["value"] == 0).all() and f[ratios]["value"].isna().all()
    assert res.actors(con, date(2030, 1, 1), "active_users") == []
    empty_bd = run_trends(
        con, TrendsQuery(("orders",), DateRange(date(2030, 1, 1), date(2030, 1, 2)), breakdown=Breakdown("channel"))
    )
    assert empty_bd.frame.empty  # no breakdown value was seen


@pytest.mark.parametrize(
    "kwargs",
    [{"metrics": ()}, {"metrics": ("nope",)}, {"metrics": ("dau", "dau")}, {"period": "year"}, {"new_user": "x"}],
)
def test_bad_queries_say_what_to_fix(kwargs: dict[str, Sequence[str] | str]) -> None:
    args: dict[str, Any] = {"metrics": ("dau",), "date_range": RANGE, **kwargs}
    with pytest.raises(AnalyticsQueryError):
        TrendsQuery(**args)


def test_actors_reject_a_day_that_starts_no_period(con: Any) -> None:
    res = run_trends(con, TrendsQuery(("active_users",), RANGE, period="week"))
    with pytest.raises(AnalyticsQueryError, match="does not start"):
        res.actors(con, date(2025, 1, 7), "active_users")
    with pytest.raises(AnalyticsQueryError):
        res.actors(con, date(2025, 1, 6), "not_a_metric")
