"""Stickiness on tiny hand-checked timelines, plus a property test against a pure-Python reference."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from growthkit.analytics._common import AnalyticsQueryError, DateRange, EventFilter
from growthkit.analytics.stickiness import StickinessQuery, run_stickiness
from growthkit.config import Settings
from growthkit.store import DuckDBStore, open_store

EVENTS = [
    # u1: Monday twice at the same instant, Wednesday, and the last second of Sunday: 3 days
    ("a1", "u1", "2025-01-06 09:00:00", "view"),
    ("a2", "u1", "2025-01-06 09:00:00", "purchase"),
    ("a3", "u1", "2025-01-08 10:00:00", "view"),
    ("a4", "u1", "2025-01-12 23:59:59", "view"),
    # u2: the first instant of the week, then the first instant of the next week: 1 day
    ("b1", "u2", "2025-01-06 00:00:00", "view"),
    ("b2", "u2", "2025-01-13 00:00:00", "view"),
    # u3: the last second of the week before, then Tuesday: 1 day
    ("c1", "u3", "2025-01-05 23:59:59", "view"),
    ("c2", "u3", "2025-01-07 12:00:00", "view"),
    # u4: long before; inside the 30-day window of 01-08 (from 12-10) but not of 01-09
    ("d1", "u4", "2024-12-10 08:00:00", "view"),
]


@pytest.fixture
def store() -> Iterator[DuckDBStore]:
    s = open_store(Settings(db=":memory:"))
    assert isinstance(s, DuckDBStore)
    s.execute(
        "INSERT INTO events (event_id, user_id, ts, event_type) VALUES " + ",".join(["(?,?,?,?)"] * len(EVENTS)),
        [v for row in EVENTS for v in row],
    )
    yield s
    s.close()


def test_weekly_distribution_over_the_whole_week(store: DuckDBStore) -> None:
    con = store.ibis()
    # Wednesday..Friday: the distribution widens to the whole ISO week 01-06..01-12
    q = StickinessQuery(DateRange(date(2025, 1, 8), date(2025, 1, 10)))
    res = run_stickiness(con, q)
    assert res.covered == DateRange(date(2025, 1, 6), date(2025, 1, 12))
    d = res.distribution
    assert list(d.columns) == ["period", "days", "users", "share"]
    assert d["days"].tolist() == [1, 2, 3, 4, 5, 6, 7]  # every k, zeros included
    assert d["users"].tolist() == [2, 0, 1, 0, 0, 0, 0]  # u2 and u3 on 1 day, u1 on 3
    assert d["share"].tolist() == pytest.approx([2 / 3, 0, 1 / 3, 0, 0, 0, 0])
    assert res.actors(con, date(2025, 1, 6), days=3) == ["u1"]
    assert res.actors(con, date(2025, 1, 6), days=1) == ["u2", "u3"]
    assert res.actors(con, date(2025, 1, 6), days=2) == []
    assert res.actors(con, date(2025, 1, 6)) == ["u1", "u2", "u3"]


def test_dau_mau_ratio_by_hand(store: DuckDBStore) -> None:
    res = run_stickiness(store.ibis(), StickinessQuery(DateRange(date(2025, 1, 8), date(2025, 1, 10))))
    r = res.ratio
    assert list(r.columns) == ["day", "dau", "wau", "mau", "dau_mau"]
    assert [str(x.date()) for x in r["day"]] == ["2025-01-08", "2025-01-09", "2025-01-10"]  # the range, not widened
    assert r["dau"].tolist() == [1, 0, 0]  # u1 on Wednesday
    assert r["wau"].tolist() == [3, 3, 3]  # u1, u2, u3 all within the trailing 7 days
    assert r["mau"].tolist() == [4, 3, 3]  # u4 (12-10) leaves the 30-day window on 01-09
    assert r["dau_mau"].tolist() == [0.25, 0.0, 0.0]


def test_monthly_distribution_and_filters(store: DuckDBStore) -> None:
    con = store.ibis()
    res = run_stickiness(con, StickinessQuery(DateRange(date(2025, 1, 1), date(2025, 2, 1)), period="month"))
    d = res.distribution
    assert len(d) == 31 + 28  # k = 1..31 for January, 1..28 for February
    jan = d[d.period == "2025-01-01"].set_index("days")["users"]
    assert (jan[1], jan[2], jan[3]) == (0, 2, 1)  # u2: 06 and 13, u3: 05 and 07; u1: 06, 08, 12 (u4: December)
    assert d[d.period == "2025-02-01"]["users"].sum() == 0
    week = DateRange(date(2025, 1, 6), date(2025, 1, 12))
    buys = run_stickiness(con, StickinessQuery(week, filters=EventFilter(("purchase",))))
    assert buys.distribution["users"].tolist() == [1, 0, 0, 0, 0, 0, 0]  # only u1's purchase counts
    assert buys.ratio["mau"].tolist() == [1] * 7


def test_empty_range_and_bad_queries(store: DuckDBStore) -> None:
    con = store.ibis()
    res = run_stickiness(con, StickinessQuery(DateRange(date(2030, 1, 1), date(2030, 1, 2))))
    assert res.distribution["users"].sum() == 0 and res.distribution["share"].isna().all()
    assert res.ratio["dau"].tolist() == [0, 0] and res.ratio["dau_mau"].isna().all()
    with pytest.raises(AnalyticsQueryError, match="week or month"):
        StickinessQuery(DateRange(date(2025, 1, 1), date(2025, 1, 2)), period="day")
    with pytest.raises(AnalyticsQueryError, match="does not start"):
        res.actors(con, date(2030, 1, 1), days=1)  # a Tuesday: weeks start on Monday 2029-12-31


# ----------------------------------------------------------------------------- property

T0 = datetime(2024, 12, 28)


def floor(d: date, period: str) -> date:
    return d - timedelta(days=d.weekday()) if period == "week" else d.replace(day=1)


def reference(
    evs: list[tuple[str, datetime, str]], q: StickinessQuery
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    f = q.filters
    stream = [(u, ts) for u, ts, t in evs if not f or t in f.event_types]
    r = q.date_range
    ratio = []
    for i in range((r.end - r.start).days + 1):
        d = r.start + timedelta(days=i)
        n = {w: len({u for u, ts in stream if d - timedelta(days=w - 1) <= ts.date() <= d}) for w in (1, 7, 30)}
        ratio.append((d, n[1], n[7], n[30], n[1] / n[30] if n[30] else math.nan))
    dist = []
    days = [r.start + timedelta(days=i) for i in range((r.end - r.start).days + 1)]
    for p in sorted({floor(d, q.period) for d in days}):
        nxt = p + timedelta(days=7) if q.period == "week" else (p + timedelta(days=32)).replace(day=1)
        per_user: dict[str, set[date]] = {}
        for u, ts in stream:
            if p <= ts.date() < nxt:
                per_user.setdefault(u, set()).add(ts.date())
        for k in range(1, (nxt - p).days + 1):
            n = sum(1 for s in per_user.values() if len(s) == k)
            dist.append((p, k, n, n / len(per_user) if per_user else math.nan))
    return ratio, dist


def same(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    return len(a) == len(b) and all(
        x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y)) or x == pytest.approx(y)
        for ra, rb in zip(a, b, strict=True)
        for x, y in zip(ra, rb, strict=True)
    )


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    raw=st.lists(
        st.tuples(st.sampled_from(["u0", "u1", "u2"]), st.integers(0, 24 * 80), st.sampled_from(["view", "purchase"])),
        max_size=20,
    ),
    start=st.integers(0, 60),
    length=st.integers(0, 20),
    period=st.sampled_from(["week", "month"]),
    only_buys=st.booleans(),
)
def test_stickiness_matches_reference(
    raw: list[tuple[str, int, str]], start: int, length: int, period: str, only_buys: bool
) -> None:
    evs = [(u, T0 + timedelta(hours=h), t) for u, h, t in raw]
    d0 = T0.date() + timedelta(days=start)
    q = StickinessQuery(
        DateRange(d0, d0 + timedelta(days=length)),
        period=period,  # type: ignore[arg-type]
        filters=EventFilter(("purchase",)) if only_buys else None,
    )
    with open_store(Settings(db=":memory:")) as s:
        for i, (u, ts, t) in enumerate(evs):
            s.execute("INSERT INTO events (event_id, user_id, ts, event_type) VALUES (?,?,?,?)", [f"e{i}", u, ts, t])
        res = run_stickiness(s.ibis(), q)
    ratio, dist = reference(evs, q)
    got_ratio = [(d.date(), a, b, c, x) for d, a, b, c, x in res.ratio.itertuples(index=False)]
    got_dist = [(p.date(), k, n, x) for p, k, n, x in res.distribution.itertuples(index=False)]
    assert same(got_ratio, ratio), (got_ratio, ratio)
    assert same(got_dist, dist), (got_dist, dist)
