"""Retention on tiny hand-checked timelines: every expected number is justified in a comment.

All timestamps are naive UTC. Dates in comments are 2025-03-DD unless said otherwise
(2025-03-03 is a Monday).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from growthkit.analytics._common import AnalyticsQueryError, Breakdown, DateRange, EventFilter, Period
from growthkit.analytics.retention import RetentionQuery, run_retention
from growthkit.analytics.retention_trend import run_retention_trend
from growthkit.config import Settings
from growthkit.store import Store, open_store

SIGNUP = EventFilter(("signup",))
VIEW = EventFilter(("view",))
MONEY = EventFilter(("purchase", "refund"))
PURCHASE = EventFilter(("purchase",))


def d(day: int, month: int = 3) -> date:
    return date(2025, month, day)


def t(day: int, hh: int = 0, mm: int = 0, ss: int = 0, month: int = 3, us: int = 0) -> datetime:
    return datetime(2025, month, day, hh, mm, ss, us)


Row = tuple[str, datetime, str] | tuple[str, datetime, str, float | None] | tuple[str, datetime, str, float | None, str]


def load(st: Store, rows: list[Row], users: Sequence[tuple[str, str]] = ()) -> Store:
    """Insert events ``(user, ts, type[, amount[, channel]])`` with ids e00, e01, ... in order."""
    for i, r in enumerate(rows):
        amount = r[3] if len(r) > 3 else None
        channel = r[4] if len(r) > 4 else None
        st.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, amount, channel) VALUES (?, ?, ?, ?, ?, ?)",
            [f"e{i:02d}", r[0], r[1], r[2], amount, channel],
        )
    for uid, channel in users:
        st.execute("INSERT INTO users (user_id, channel) VALUES (?, ?)", [uid, channel])
    return st


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(Settings(db=":memory:", workspace=tmp_path))
    yield st
    st.close()


def q(**kw: Any) -> RetentionQuery:
    base: dict[str, Any] = {
        "start_event": SIGNUP,
        "return_event": VIEW,
        "date_range": DateRange(d(3), d(4)),
        "periods": 3,
        "as_of": t(6, 12),
    }
    return RetentionQuery(**{**base, **kw})


def counts(res: Any, cohort: date, bd: str | None = None) -> list[tuple[int, int]]:
    """(eligible, returned) per period of one cohort."""
    return [(c.eligible, c.returned) for c in res.cells if c.cohort == cohort and c.breakdown == bd]


# The main timeline. as_of = 6th 12:00 (exclusive) in most tests.
#   ann: signup 3rd 09:00; views 3rd 18:00, 4th 00:00:00 (exactly at the day boundary), 6th 11:00;
#        signup again 4th 20:00 (only matters for recurring cohorts)
#   bob: signup 3rd 23:59:59; views 4th 00:00:01 and 6th 12:00:00 (exactly at as_of: not observed)
#   cat: signup 4th 10:00, never views
#   dan: signup 1st (before the range), signup again 3rd 10:00; view 4th 12:00
MAIN: list[Row] = [
    ("ann", t(3, 9), "signup"),
    ("ann", t(3, 18), "view"),
    ("ann", t(4), "view"),
    ("ann", t(6, 11), "view"),
    ("ann", t(4, 20), "signup"),
    ("bob", t(3, 23, 59, 59), "signup"),
    ("bob", t(4, 0, 0, 1), "view"),
    ("bob", t(6, 12), "view"),
    ("cat", t(4, 10), "signup"),
    ("dan", t(1, 10), "signup"),
    ("dan", t(3, 10), "signup"),
    ("dan", t(4, 12), "view"),
]


def test_first_exact_calendar_days(store: Store) -> None:
    con = load(store, MAIN).ibis()
    res = run_retention(con, q())
    # cohort 3rd = ann, bob (dan's first signup is on the 1st, before the range: not a new user)
    assert {c.cohort_size for c in res.cells if c.cohort == d(3)} == {2}
    # P0 (3rd): ann viewed at 18:00; bob signed up at 23:59:59 and viewed only after midnight -> 1 of 2
    # P1 (4th): ann's 00:00:00 view is day 4, bob's 00:00:01 too -> 2 of 2
    # P2 (5th): nobody -> 0 of 2, and the 5th ended (6th 00:00) before as_of
    # P3 (6th): not over at as_of 6th 12:00 -> nobody eligible (ann's 11:00 view is not counted)
    assert counts(res, d(3)) == [(2, 1), (2, 2), (2, 0), (0, 0)]
    assert [c.share for c in res.cells if c.cohort == d(3)] == [0.5, 1.0, 0.0, None]
    # cohort 4th = cat: P0 (4th) and P1 (5th) are over, P2 (6th) and P3 (7th) are not; cat never views
    assert counts(res, d(4)) == [(1, 0), (1, 0), (0, 0), (0, 0)]
    assert res.cohorts == (d(3), d(4))
    assert res.actors(con, d(3), 0) == ["ann"]
    assert res.actors(con, d(3), 0, returned=False) == ["bob"]
    assert res.actors(con, d(3), 1) == ["ann", "bob"]
    assert res.actors(con, d(3), 3) == []  # nobody eligible
    assert res.actors(con, d(4), 1, returned=False) == ["cat"]


def test_first_unbounded_calendar_days(store: Store) -> None:
    con = load(store, MAIN).ibis()
    res = run_retention(con, q(mode="unbounded"))
    # ann's last observed return is in P3 (6th 11:00); bob's in P1 (his 6th 12:00 view is at as_of, unobserved)
    # P0: both returned in P0 or later -> 2/2; P1: both -> 2/2; P2: ann (P3 >= 2) -> 1/2, although P3 is not over:
    # the user is eligible because P2 is over, and the return is observed. P3: nobody eligible.
    assert counts(res, d(3)) == [(2, 2), (2, 2), (2, 1), (0, 0)]
    assert res.actors(con, d(3), 2) == ["ann"]
    assert res.actors(con, d(3), 2, returned=False) == ["bob"]
    # one microsecond later bob's 12:00 view is observed and he counts for P2 too
    later = run_retention(con, q(mode="unbounded", as_of=t(6, 12, us=1)))
    assert counts(later, d(3))[2] == (2, 2)


def test_recurring_cohorts(store: Store) -> None:
    con = load(store, MAIN).ibis()
    res = run_retention(con, q(cohort="recurring"))
    # cohort 3rd = ann, bob, dan (dan's signup on the 3rd counts; his earlier one is outside the range)
    # P0: ann only; P1: ann, bob, dan (dan viewed 4th 12:00); P2 (5th): none; P3: not over
    assert counts(res, d(3)) == [(3, 1), (3, 3), (3, 0), (0, 0)]
    # cohort 4th = ann (anchored at her 20:00 signup) and cat. ann's 4th 00:00 view is *before* the anchor,
    # so it is no return: P0 0/2; P1 (5th) 0/2; P2 (6th) not over
    assert counts(res, d(4)) == [(2, 0), (2, 0), (0, 0), (0, 0)]
    assert res.actors(con, d(3), 1) == ["ann", "bob", "dan"]
    assert res.actors(con, d(4), 0, returned=False) == ["ann", "cat"]


def test_rolling_24h_windows(store: Store) -> None:
    con = load(store, MAIN).ibis()
    res = run_retention(con, q(windows="rolling"))
    # ann anchor 3rd 09:00: views +9h, +15h (P0), +74h (P3). Windows end 4th 09:00, 5th 09:00, 6th 09:00 (<= as_of
    #   6th 12:00: P0..P2 over), 7th 09:00 (P3 not over).
    # bob anchor 3rd 23:59:59: view +2s (P0). P1 ends 5th 23:59:59 (over), P2 ends 6th 23:59:59 (not over).
    # P0: 2/2; P1: 0/2; P2: only ann eligible, no return -> 0/1; P3: nobody eligible
    assert counts(res, d(3)) == [(2, 2), (2, 0), (1, 0), (0, 0)]
    # cat anchor 4th 10:00: P0 ends 5th 10:00, P1 ends 6th 10:00 (over), P2 ends 7th 10:00
    assert counts(res, d(4)) == [(1, 0), (1, 0), (0, 0), (0, 0)]
    assert res.actors(con, d(3), 2, returned=False) == ["ann"]
    unb = run_retention(con, q(windows="rolling", mode="unbounded"))
    # unbounded: ann's last return P3 -> counts for P0, P1, P2; bob's last return P0
    assert counts(unb, d(3)) == [(2, 2), (2, 1), (1, 1), (0, 0)]


def test_rolling_window_boundaries_are_half_open(store: Store) -> None:
    con = load(
        store,
        [
            ("ann", t(3, 9, 30, 15, us=250), "signup"),
            ("ann", t(4, 9, 30, 15, us=249), "view"),  # 1 microsecond before anchor + 24h -> P0
            ("bob", t(3, 9, 30, 15, us=250), "signup"),
            ("bob", t(4, 9, 30, 15, us=250), "view"),  # exactly anchor + 24h -> P1
            ("cat", t(3, 9), "signup"),
            ("cat", t(5, 9), "view"),  # exactly anchor + 48h -> P2
        ],
    ).ibis()
    res = run_retention(con, q(windows="rolling", periods=2, date_range=DateRange(d(3), d(3)), as_of=t(9)))
    assert counts(res, d(3)) == [(3, 1), (3, 1), (3, 1)]
    assert [res.actors(con, d(3), n) for n in range(3)] == [["ann"], ["bob"], ["cat"]]
    # eligibility is half-open too: with as_of exactly anchor + 24h, ann's and bob's P0 has just ended,
    # one microsecond earlier it has not (cat's anchor is earlier: his P0 is over in both cases)
    at = run_retention(
        con, q(windows="rolling", periods=0, date_range=DateRange(d(3), d(3)), as_of=t(4, 9, 30, 15, us=250))
    )
    assert counts(at, d(3)) == [(3, 1)]  # only ann's P0 view is observed (bob's is at as_of)
    before = run_retention(
        con, q(windows="rolling", periods=0, date_range=DateRange(d(3), d(3)), as_of=t(4, 9, 30, 15, us=249))
    )
    assert counts(before, d(3)) == [(1, 0)]


def test_same_timestamp_start_and_return(store: Store) -> None:
    con = load(
        store,
        [
            # two signups at the same instant: the anchor is the smaller event_id (e00, channel ads)
            ("ann", t(3, 9), "signup", None, "ads"),
            ("ann", t(3, 9), "signup", None, "seo"),
            ("ann", t(3, 9), "view"),  # same instant as the anchor: counts as a P0 return
        ],
    ).ibis()
    res = run_retention(con, q(breakdown=Breakdown("channel"), periods=0, date_range=DateRange(d(3), d(3))))
    assert res.breakdowns == ("ads",)
    assert counts(res, d(3), "ads") == [(1, 1)]
    # start == return: the cohort event itself is a period-0 return, so P0 is 100% (Amplitude, PostHog)
    same = run_retention(con, q(return_event=SIGNUP, periods=0, date_range=DateRange(d(3), d(3))))
    assert counts(same, d(3)) == [(1, 1)]


def test_weeks_are_iso_and_cohorts_named_by_monday(store: Store) -> None:
    con = load(
        store,
        [
            ("ann", t(9, 23), "signup"),  # Sunday 9th: ISO week of Monday 3rd
            ("ann", t(10), "view"),  # Monday 10th 00:00: the next week, P1
            ("bob", t(5, 12), "signup"),  # Wednesday 5th
            ("bob", t(23, 23, 59, 59), "view"),  # Sunday 23rd: week of 17th, P2
        ],
    ).ibis()
    # range starts Wednesday 5th: the cohort is still named by its Monday, the 3rd
    res = run_retention(con, q(period=Period.WEEK, periods=2, date_range=DateRange(d(5), d(9)), as_of=t(24)))
    # weeks end 10th, 17th, 24th 00:00 <= as_of 24th: all over
    assert res.cohorts == (d(3),)
    assert counts(res, d(3)) == [(2, 0), (2, 1), (2, 1)]
    assert res.actors(con, d(3), 1) == ["ann"] and res.actors(con, d(5), 2) == ["bob"]  # any day names the week
    assert res.cell(d(9), 2).share == 0.5


def test_months_and_the_month_boundary(store: Store) -> None:
    con = load(
        store,
        [
            ("ann", t(31, 23, 59, 59, month=1), "signup"),
            ("ann", t(1, month=2), "view"),  # Feb 1st 00:00 -> P1
            ("ann", t(31, 12, month=3), "view"),  # March 31st -> P2
        ],
    ).ibis()
    rng = DateRange(date(2025, 1, 1), date(2025, 1, 31))
    res = run_retention(con, q(period="month", periods=2, date_range=rng, as_of=datetime(2025, 4, 1)))
    # P0 (January): no view after the signup; P1 (February): the Feb 1st 00:00 view;
    # P2 (March): the 31st's view, and March ends April 1st 00:00 == as_of: over
    assert counts(res, date(2025, 1, 1)) == [(1, 0), (1, 1), (1, 1)]
    early = run_retention(con, q(period="month", periods=2, date_range=rng, as_of=datetime(2025, 3, 31, 23)))
    assert counts(early, date(2025, 1, 1)) == [(1, 0), (1, 1), (0, 0)]
    # rolling months are 30 x 24 h from Jan 31st 23:59:59: P0 runs to March 2nd 23:59:59 (holds the Feb 1st
    # view), P1 to April 1st 23:59:59 (holds March 31st), P2 has no view
    roll = run_retention(
        con, q(period="month", periods=2, windows="rolling", date_range=rng, as_of=datetime(2025, 6, 1))
    )
    assert counts(roll, date(2025, 1, 1)) == [(1, 1), (1, 1), (1, 0)]


def test_revenue_retention(store: Store) -> None:
    con = load(
        store,
        [
            ("ann", t(3, 10), "purchase", 100.0),  # anchor: counts in P0 revenue
            ("ann", t(4, 10), "purchase", 50.0),
            ("ann", t(4, 11), "refund", 20.0),  # refunds subtract: P1 net 30
            ("bob", t(3, 12), "purchase", 40.0),
            ("bob", t(5, 10), "purchase", 10.0),
            ("bob", t(5, 11), "refund", None),  # missing amount counts 0
        ],
    ).ibis()
    query = q(start_event=PURCHASE, return_event=MONEY, measure="revenue", periods=2, as_of=t(6))
    res = run_retention(con, query)
    c0, c1, c2 = (res.cell(d(3), n) for n in range(3))
    # P0: 100 + 40 = 140; base 140; per user 70
    assert (c0.revenue, c0.revenue_base, c0.revenue_share, c0.revenue_per_user) == (140.0, 140.0, 1.0, 70.0)
    # P1: 50 - 20 = 30 -> 30/140 of P0, 15 per user; only ann returned
    assert (c1.revenue, c1.revenue_share, c1.revenue_per_user, c1.returned) == (30.0, 30 / 140, 15.0, 1)
    # P2: bob's 10 (P2 = 5th, over at as_of 6th 00:00) -> 5 per user
    assert (c2.revenue, c2.revenue_per_user, c2.returned) == (10.0, 5.0, 1)
    assert list(res.matrix().loc[d(3)]) == [1.0, 30 / 140, 10 / 140]
    # cohort 4th is empty: zeros and no ratios
    empty = res.cell(d(4), 0)
    assert (empty.cohort_size, empty.revenue, empty.revenue_share, empty.share) == (0, 0.0, None, None)


def test_breakdown_by_user_column(store: Store) -> None:
    con = load(store, MAIN, users=[("ann", "ads"), ("bob", "seo"), ("cat", "ads")]).ibis()
    res = run_retention(con, q(breakdown=Breakdown("user.channel")))
    # dan has no users row and is not in a first-time cohort; ann and cat are "ads", bob "seo"
    assert res.breakdowns == ("ads", "seo")
    assert counts(res, d(3), "ads") == [(1, 1), (1, 1), (1, 0), (0, 0)]  # ann, as in the main test
    assert counts(res, d(3), "seo") == [(1, 0), (1, 1), (1, 0), (0, 0)]  # bob
    assert counts(res, d(4), "ads") == [(1, 0), (1, 0), (0, 0), (0, 0)]  # cat
    assert counts(res, d(4), "seo") == [(0, 0)] * 4  # empty cohort, still listed for the breakdown value
    assert res.actors(con, d(3), 1, breakdown="seo") == ["bob"]
    assert res.actors(con, d(3), 1) == ["ann", "bob"]  # no breakdown value: every value
    # recurring: dan joins the 3rd's cohort with no users row -> "(none)"
    rec = run_retention(con, q(breakdown=Breakdown("user.channel"), cohort="recurring"))
    assert "(none)" in rec.breakdowns and rec.actors(con, d(3), 1, breakdown="(none)") == ["dan"]


def test_pooled_curve_weights_by_eligible_users(store: Store) -> None:
    con = load(store, MAIN).ibis()
    curve = run_retention(con, q()).curve()
    # sums of the two cohorts in test_first_exact_calendar_days: P0 (2+1, 1+0), P1 (2+1, 2+0), P2 (2+0, 0)
    assert [(c.eligible, c.returned) for c in curve] == [(3, 1), (3, 2), (2, 0), (0, 0)]
    assert curve[1].share == 2 / 3 and curve[3].share is None and curve[0].cohort_size == 3


def test_day_n_trend(store: Store) -> None:
    con = load(store, MAIN).ibis()
    trend = run_retention_trend(con, q(), 1)
    # day-1 retention: cohort 3rd 2/2 (see the main test), cohort 4th 0/1
    assert [(p.cohort, p.eligible, p.returned, p.share) for p in trend.points] == [(d(3), 2, 2, 1.0), (d(4), 1, 0, 0.0)]
    assert trend.actors(con, d(3)) == ["ann", "bob"] and trend.actors(con, d(4), returned=False) == ["cat"]
    assert list(trend.to_frame()["share"]) == [1.0, 0.0]
    assert trend.to_dict()["day_n"] == 1


def test_default_as_of_is_just_after_the_latest_event(store: Store) -> None:
    con = load(store, [("ann", t(3, 9), "signup"), ("ann", t(4, 23, 59, 59), "view")]).ibis()
    res = run_retention(con, q(as_of=None, periods=1))
    assert res.as_of == t(4, 23, 59, 59, us=1)
    # no view on the 3rd (P0); the 4th's view is observed, but the 4th is not over yet at 23:59:59.000001,
    # so P1 has nobody eligible
    assert counts(res, d(3)) == [(1, 0), (0, 0)]
    store.execute("INSERT INTO events (event_id, user_id, ts, event_type) VALUES ('x', 'zed', '2025-03-05', 'view')")
    assert counts(run_retention(con, q(as_of=None, periods=1)), d(3)) == [(1, 0), (1, 1)]  # now the 4th is over


def test_as_of_with_time_zone_is_converted_to_utc(store: Store) -> None:
    con = load(store, MAIN).ibis()
    # 6th 20:00 at UTC+8 is 6th 12:00 UTC: the same result as the naive UTC as_of
    aware = run_retention(con, q(as_of=datetime(2025, 3, 6, 20, tzinfo=timezone(timedelta(hours=8)))))
    assert aware.as_of == t(6, 12)
    assert aware.cells == run_retention(con, q()).cells


def test_empty_range_and_empty_store(store: Store) -> None:
    con = load(store, MAIN).ibis()
    res = run_retention(con, q(date_range=DateRange(d(20), d(21))))
    # nobody signed up: every day of the range is listed, with zeros and no shares
    assert res.cohorts == (d(20), d(21))
    assert all(c.cohort_size == 0 and c.eligible == 0 and c.share is None for c in res.cells)
    assert res.actors(con, d(20), 0) == []
    store.execute("DELETE FROM events")
    none = run_retention(con, q(as_of=None))
    assert all(c.cohort_size == 0 for c in none.cells) and none.as_of == datetime(1970, 1, 1)
    # as_of before the range: cohorts cannot have formed yet
    assert all(c.cohort_size == 0 for c in run_retention(con, q(as_of=t(1))).cells)


def test_results_serialise(store: Store) -> None:
    con = load(store, MAIN).ibis()
    res = run_retention(con, q(breakdown=Breakdown("channel")))
    payload = json.loads(json.dumps(res.to_dict()))
    assert payload["as_of"] == "2025-03-06T12:00:00"
    assert payload["query"]["date_range"] == {"start": "2025-03-03", "end": "2025-03-04"}
    assert payload["cells"][0]["cohort"] == "2025-03-03" and payload["cells"][0]["breakdown"] == "(none)"
    frame = res.to_frame()
    assert len(frame) == len(res.cells) == 2 * 4
    assert list(frame.columns[:4]) == ["breakdown", "cohort", "period", "cohort_size"]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"mode": "sometimes"}, "mode must be"),
        ({"cohort": "all"}, "cohort must be"),
        ({"windows": "sliding"}, "windows must be"),
        ({"measure": "time"}, "measure must be"),
        ({"periods": -1}, "periods must be"),
        ({"periods": 401}, "periods must be"),
        ({"period": "year"}, "period must be"),
        ({"measure": "revenue", "mode": "unbounded"}, "use mode='exact'"),
    ],
)
def test_bad_queries_say_what_to_fix(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(AnalyticsQueryError, match=message):
        q(**kw)


def test_bad_actor_calls(store: Store) -> None:
    con = load(store, MAIN).ibis()
    res = run_retention(con, q())
    with pytest.raises(AnalyticsQueryError, match="beyond"):
        res.actors(con, d(3), 4)
    with pytest.raises(AnalyticsQueryError, match="no breakdown"):
        res.actors(con, d(3), 1, breakdown="ads")
    with pytest.raises(KeyError):
        res.cell(d(20), 0)
