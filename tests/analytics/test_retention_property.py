"""Property: on random small event logs, retention and LTV equal a naive pure-Python reference.

The reference below is written from the definitions in docs/analytics/retention.md, with
Python's own calendar (``date.toordinal``, ``weekday``) and ``timedelta`` floor division, and
shares no code with the Ibis implementation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from growthkit.analytics._common import Breakdown, DateRange, EventFilter, Period
from growthkit.analytics.retention import RetentionQuery, run_retention
from growthkit.analytics.retention_ltv import LtvQuery, run_ltv_curve
from growthkit.config import Settings
from growthkit.store import Store, open_store

BASE = datetime(2025, 2, 20)  # a Thursday; 24 days reach into March, so months and weeks both roll over
SPAN_DAYS = 24
TYPES = ("signup", "view", "purchase", "refund")
ROLL = {"day": 1, "week": 7, "month": 30}


@dataclass(frozen=True)
class Ev:
    eid: str
    user: str
    ts: datetime
    type: str
    amount: float | None
    channel: str | None


# ---------------------------------------------------------------- the reference


def cal_index(ts: datetime, period: str) -> int:
    day = ts.date()
    if period == "day":
        return day.toordinal()
    if period == "week":
        return (day - timedelta(days=day.weekday())).toordinal() // 7  # Monday's ordinal, counted in weeks
    return day.year * 12 + day.month


def label(ts: datetime, period: str) -> date:
    day = ts.date()
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def money(e: Ev) -> float:
    a = e.amount or 0.0
    return -a if e.type == "refund" else a


def ref_entries(
    events: list[Ev], start: tuple[str, ...], cohort: str, rng: DateRange, period: str, bd: bool
) -> list[tuple[str, datetime, Any]]:
    """(user, anchor ts, breakdown value) per cohort entry."""

    def in_range(ts: datetime) -> bool:
        return rng.start <= ts.date() <= rng.end

    starts = sorted((e for e in events if not start or e.type in start), key=lambda e: (e.ts, e.eid))
    firsts: dict[Any, Ev] = {}
    for e in starts:
        key = e.user if cohort == "first" else (e.user, cal_index(e.ts, period))
        if cohort == "recurring" and not in_range(e.ts):
            continue
        firsts.setdefault(key, e)
    return [(e.user, e.ts, (e.channel or "(none)") if bd else None) for e in firsts.values() if in_range(e.ts)]


def ref_number(anchor: datetime, ts: datetime, period: str, windows: str) -> int:
    if windows == "rolling":
        return (ts - anchor) // timedelta(days=ROLL[period])
    return cal_index(ts, period) - cal_index(anchor, period)


def ref_elapsed(anchor: datetime, n: int, as_of: datetime, period: str, windows: str) -> bool:
    """Has period n of this entry ended at or before as_of?"""
    if windows == "rolling":
        return anchor + (n + 1) * timedelta(days=ROLL[period]) <= as_of
    # the first instant of the next calendar period after period n: walk forward day by day
    target = cal_index(anchor, period) + n + 1
    day = anchor.date()
    while cal_index(datetime.combine(day, datetime.min.time()), period) < target:
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time()) <= as_of


def ref_retention(events: list[Ev], q: RetentionQuery, as_of: datetime) -> dict[tuple[Any, date, int], tuple[Any, ...]]:
    period = q.period.value
    obs = [e for e in events if e.ts < as_of]
    entries = ref_entries(obs, q.start_event.event_types, q.cohort, q.date_range, period, q.breakdown is not None)
    rtypes = q.return_event.event_types  # an empty filter matches every event
    rets = [e for e in obs if not rtypes or e.type in rtypes]
    out: dict[tuple[Any, date, int], list[Any]] = {}
    for user, anchor, bd in entries:
        mine = [(ref_number(anchor, e.ts, period, q.windows), e) for e in rets if e.user == user and e.ts >= anchor]
        for n in range(q.periods + 1):
            cell = out.setdefault((bd, label(anchor, period), n), [0, 0, 0, 0.0, 0.0])
            cell[0] += 1
            if not ref_elapsed(anchor, n, as_of, period, q.windows):
                continue
            cell[1] += 1
            hit = [e for m, e in mine if (m == n if q.mode == "exact" else m >= n)]
            cell[2] += bool(hit)
            cell[3] += sum(money(e) for e in hit)
            cell[4] += sum(money(e) for m, e in mine if m == 0)
    return {k: tuple(v) for k, v in out.items()}


def ref_ltv(events: list[Ev], q: LtvQuery, as_of: datetime) -> dict[tuple[Any, date, int], tuple[Any, ...]]:
    period = q.period.value
    obs = [e for e in events if e.ts < as_of]
    entries = ref_entries(obs, q.start_event.event_types, "first", q.date_range, period, q.breakdown is not None)
    out: dict[tuple[Any, date, int], list[Any]] = {}
    for user, anchor, bd in entries:
        mine = [
            (ref_number(anchor, e.ts, period, q.windows), money(e))
            for e in obs
            if e.user == user and e.ts >= anchor and e.type in ("purchase", "refund")
        ]
        for n in range(q.periods + 1):
            cell = out.setdefault((bd, label(anchor, period), n), [0, 0, 0.0])
            cell[0] += 1
            if ref_elapsed(anchor, n, as_of, period, q.windows):
                cell[1] += 1
                cell[2] += sum(v for m, v in mine if m <= n)
    return {k: tuple(v) for k, v in out.items()}


# ---------------------------------------------------------------- strategies


def instants() -> st.SearchStrategy[datetime]:
    """Midnights and exact day offsets (boundaries) as often as arbitrary microseconds."""
    midnight = st.integers(0, SPAN_DAYS).map(lambda k: BASE + timedelta(days=k))
    hours = st.integers(0, SPAN_DAYS * 24).map(lambda h: BASE + timedelta(hours=h))
    anywhere = st.integers(0, SPAN_DAYS * 86_400 * 10**6).map(lambda us: BASE + timedelta(microseconds=us))
    return st.one_of(midnight, hours, anywhere)


@st.composite
def logs(draw: st.DrawFn) -> list[Ev]:
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["u0", "u1", "u2", "u3", "u4"]),
                instants(),
                st.sampled_from(TYPES),
                st.sampled_from([None, 0.0, 5.0, 12.5, 100.0]),
                st.sampled_from([None, "ads", "seo"]),
            ),
            min_size=8,
            max_size=30,
        )
    )
    # duplicate some instants on purpose: same-timestamp events
    if rows and draw(st.booleans()):
        u, ts, *_ = rows[0]
        rows.append((u, ts, draw(st.sampled_from(TYPES)), 5.0, "ads"))
    return [Ev(f"e{i:03d}", *r) for i, r in enumerate(rows)]


def date_ranges() -> st.SearchStrategy[DateRange]:
    return st.tuples(st.integers(0, SPAN_DAYS // 3), st.integers(0, SPAN_DAYS)).map(
        lambda p: DateRange(BASE.date() + timedelta(days=p[0]), BASE.date() + timedelta(days=p[0] + p[1]))
    )


def as_ofs() -> st.SearchStrategy[datetime | None]:
    late = st.integers(SPAN_DAYS // 2, 40).map(lambda h: BASE + timedelta(days=h))
    return st.one_of(st.none(), late, instants(), st.just(BASE + timedelta(days=60)))


FILTERS = [
    EventFilter(),
    EventFilter(("signup",)),
    EventFilter(("view", "purchase")),
    EventFilter(("purchase", "refund")),
]


@st.composite
def retention_queries(draw: st.DrawFn) -> RetentionQuery:
    measure = draw(st.sampled_from(["users", "revenue"]))
    return RetentionQuery(
        start_event=draw(st.sampled_from(FILTERS)),
        return_event=draw(st.sampled_from(FILTERS)),
        date_range=draw(date_ranges()),
        period=draw(st.sampled_from(list(Period))),
        periods=draw(st.integers(0, 4)),
        cohort=draw(st.sampled_from(["first", "recurring"])),
        mode="exact" if measure == "revenue" else draw(st.sampled_from(["exact", "unbounded"])),
        windows=draw(st.sampled_from(["calendar", "rolling"])),
        measure=measure,
        breakdown=draw(st.sampled_from([None, Breakdown("channel")])),
        as_of=draw(as_ofs()),
    )


@st.composite
def ltv_queries(draw: st.DrawFn) -> LtvQuery:
    return LtvQuery(
        date_range=draw(date_ranges()),
        start_event=draw(st.sampled_from(FILTERS)),
        period=draw(st.sampled_from(list(Period))),
        periods=draw(st.integers(0, 4)),
        windows=draw(st.sampled_from(["calendar", "rolling"])),
        breakdown=draw(st.sampled_from([None, Breakdown("channel")])),
        as_of=draw(as_ofs()),
    )


# ---------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    tmp: Path = tmp_path_factory.mktemp("retention-property")
    st_ = open_store(Settings(db=":memory:", workspace=tmp))
    yield st_
    st_.close()


def reload(store: Store, events: list[Ev]) -> Any:
    store.execute("DELETE FROM events")
    for e in events:
        store.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, amount, channel) VALUES (?, ?, ?, ?, ?, ?)",
            [e.eid, e.user, e.ts, e.type, e.amount, e.channel],
        )
    return store.ibis()


def effective_as_of(events: list[Ev], as_of: datetime | None) -> datetime:
    if as_of is not None:
        return as_of
    return max(e.ts for e in events) + timedelta(microseconds=1) if events else datetime(1970, 1, 1)


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, abs_tol=1e-9))


PROPERTY = settings(
    max_examples=45,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@PROPERTY
@given(events=logs(), q=retention_queries())
def test_retention_matches_reference(shop: Store, events: list[Ev], q: RetentionQuery) -> None:
    con = reload(shop, events)
    res = run_retention(con, q)
    as_of = effective_as_of(events, q.as_of)
    assert res.as_of == as_of
    expected = ref_retention(events, q, as_of)
    got = {(c.breakdown, c.cohort, c.period): c for c in res.cells if c.cohort_size}
    assert set(got) == set(expected)
    for key, (size, elig, ret, rev, base) in expected.items():
        c = got[key]
        assert (c.cohort_size, c.eligible, c.returned) == (size, elig, ret), key
        assert close(c.share, ret / elig if elig else None)
        if q.measure == "revenue":
            assert close(c.revenue, rev) and close(c.revenue_base, base), key
            assert close(c.revenue_share, rev / base if base else None)
    # the actors of a non-empty cell are as many as its count
    if got:
        key, c = max(got.items(), key=lambda kv: (kv[1].returned, kv[1].eligible))
        assert len(res.actors(con, c.cohort, c.period, True, c.breakdown)) == c.returned
        assert len(res.actors(con, c.cohort, c.period, False, c.breakdown)) == c.eligible - c.returned


@PROPERTY
@given(events=logs(), q=ltv_queries())
def test_ltv_matches_reference(shop: Store, events: list[Ev], q: LtvQuery) -> None:
    con = reload(shop, events)
    res = run_ltv_curve(con, q)
    expected = ref_ltv(events, q, effective_as_of(events, q.as_of))
    got = {(p.breakdown, p.cohort, p.period): p for p in res.points if p.cohort_size}
    assert set(got) == set(expected)
    for key, (size, elig, revenue) in expected.items():
        p = got[key]
        assert (p.cohort_size, p.eligible) == (size, elig), key
        assert close(p.revenue, revenue) and close(p.ltv, revenue / elig if elig else None), key
