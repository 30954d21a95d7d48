"""Property test: on random small event logs, ``run_funnel`` equals a naive pure-Python funnel.

The reference below is written from the documented semantics, independently of the Ibis
code: it tries every anchor and, for (strict) ordered funnels, enumerates every chain of
positions by brute force instead of tracking feasible sets.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import combinations
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from growthkit.analytics._common import Breakdown, DateRange
from growthkit.analytics.funnel import FunnelExclusion, FunnelQuery, FunnelStep, run_funnel
from growthkit.config import Settings
from growthkit.store import open_store

# events fall on an hourly grid of 7 hours across the range's start or its end: ties are common
STARTS = (datetime(2024, 12, 31, 20), datetime(2025, 1, 1, 18))
RANGE = DateRange(date(2025, 1, 1), date(2025, 1, 1))
USERS = ("u0", "u1", "u2")
TYPES = ("view", "view", "view", "cart", "cart", "purchase", "purchase", "search", "coupon_received")
STEPS = (
    FunnelStep("view"),
    FunnelStep("cart"),
    FunnelStep("purchase"),
    FunnelStep("view", where=(("channel", "a"),)),
)
EXCLUDED = (FunnelStep("coupon_received"), FunnelStep("search"))
# 30 keeps the suite fast; a deeper check: GROWTHKIT_FUNNEL_EXAMPLES=500 pytest tests/analytics/test_funnel_property.py
EXAMPLES = int(os.environ.get("GROWTHKIT_FUNNEL_EXAMPLES", "30"))


@dataclass(frozen=True)
class Ev:
    eid: str
    user: str
    ts: datetime
    etype: str
    channel: str | None


def match(step: FunnelStep, e: Ev) -> bool:
    return e.etype == step.event_type and all(getattr(e, col) == value for col, value in step.where)


@dataclass(frozen=True)
class Attempt:
    pos: int  # anchor position in the user's sorted stream: earlier anchors win ties
    reached: int
    start: datetime
    times: tuple[datetime, ...]  # when steps 0..reached were reached
    values: tuple[str, ...]  # breakdown value of the event that reached each step
    first_value: str


def reference(events: list[Ev], q: FunnelQuery) -> dict[str, Attempt]:
    """The credited attempt of every user in the funnel, by the documented rules."""
    n = len(q.steps)
    lo, hi, w = q.date_range.start_ts, q.date_range.end_ts, q.window

    def value(e: Ev) -> str:
        return (e.channel or "(none)") if q.breakdown else ""

    def key(e: Ev) -> tuple[Any, ...]:
        hits = [k for k in range(n) if match(q.steps[k], e)]
        return (e.ts, min(hits, default=n), max(hits, default=n), e.eid)

    out: dict[str, Attempt] = {}
    for user in sorted({e.user for e in events}):
        stream = sorted((e for e in events if e.user == user and lo <= e.ts < hi + w), key=key)
        attempts: list[Attempt] = []
        for i, a in enumerate(stream):
            if not lo <= a.ts < hi:
                continue
            if q.order == "unordered":
                att = _unordered_attempt(stream, i, q, value)
            elif match(q.steps[0], a):
                att = _chain_attempt(stream, i, q, value)
            else:
                att = None
            if att is not None and not _voided(att, stream, q):
                attempts.append(att)
        if attempts:
            out[user] = min(attempts, key=lambda t: (-t.reached, t.pos))
    return out


def _chain_attempt(stream: list[Ev], i: int, q: FunnelQuery, value: Any) -> Attempt:
    """(Strict) ordered: try every chain of later positions, keep the earliest end per length."""
    a, times, values = stream[i], [stream[i].ts], [value(stream[i])]
    for k in range(1, len(q.steps)):
        if q.order == "strict":
            chains = [tuple(range(i + 1, i + k + 1))] if i + k < len(stream) else []
        else:
            chains = list(combinations(range(i + 1, len(stream)), k))
        ends = []
        for chain in chains:
            pos = (i, *chain)
            ok = all(match(q.steps[j], stream[p]) for j, p in enumerate(pos))
            ok = ok and all(stream[p].ts - a.ts <= q.window for p in pos)
            for j in range(1, k + 1):
                sw = q.step_window(j)
                ok = ok and (sw is None or stream[pos[j]].ts - stream[pos[j - 1]].ts <= sw)
            if ok:
                ends.append(chain[-1])
        if not ends:
            break
        times.append(stream[min(ends)].ts)
        values.append(value(stream[min(ends)]))
    return Attempt(i, len(times) - 1, a.ts, tuple(times), tuple(values), value(a))


def _unordered_attempt(stream: list[Ev], i: int, q: FunnelQuery, value: Any) -> Attempt | None:
    a = stream[i]
    hits = [k for k, s in enumerate(q.steps) if match(s, a)]
    if not hits:
        return None
    firsts: list[int] = []  # position of the first event of each step in the window, while all present
    for step in q.steps:
        ps = [p for p, e in enumerate(stream) if a.ts <= e.ts <= a.ts + q.window and match(step, e)]
        if not ps:
            break
        firsts.append(min(ps))
    reached = len(firsts) - 1
    if reached < min(hits):
        return None
    done = [max(firsts[: k + 1]) for k in range(reached + 1)]  # the event that completed steps 0..k
    return Attempt(i, reached, a.ts, tuple(stream[p].ts for p in done), tuple(value(stream[p]) for p in done), value(a))


def _voided(att: Attempt, stream: list[Ev], q: FunnelQuery) -> bool:
    for ex in q.exclusions:
        lo, hi = q.exclusion_span(ex)
        if att.reached < lo:
            continue
        after = att.times[lo]
        before = att.times[hi] if att.reached >= hi else None
        for e in stream:
            if not match(ex.step, e) or e.ts <= after:
                continue
            if (before is not None and e.ts < before) or (before is None and e.ts <= att.start + q.window):
                return True
    return False


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Ev], FunnelQuery]:
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(USERS), st.integers(0, 6), st.sampled_from(TYPES), st.sampled_from(["a", "b", None])
            ),
            min_size=6,
            max_size=24,
        )
    )
    t0 = draw(st.sampled_from(STARTS))
    events = [Ev(f"e{i:03d}", u, t0 + timedelta(hours=h), t, c) for i, (u, h, t, c) in enumerate(rows)]
    order = draw(st.sampled_from(["ordered", "strict", "unordered"]))
    n = draw(st.integers(2, 3))
    steps = tuple(draw(st.lists(st.sampled_from(STEPS), min_size=n, max_size=n, unique=order == "unordered")))
    window = timedelta(hours=draw(st.sampled_from([1, 2, 3, 6])))
    step_windows = None
    if order != "unordered" and draw(st.booleans()):
        step_windows = tuple(
            draw(st.sampled_from([None, timedelta(hours=1), timedelta(hours=2)])) for _ in range(n - 1)
        )
    exclusions: tuple[FunnelExclusion, ...] = ()
    if draw(st.booleans()):
        exclusions = (FunnelExclusion(draw(st.sampled_from(EXCLUDED)), 0, draw(st.sampled_from([1, None]))),)
    breakdown = Breakdown("channel") if draw(st.booleans()) else None
    attribution = draw(st.sampled_from(["first_touch", "last_touch"]))
    q = FunnelQuery(
        steps, RANGE, window, step_windows=step_windows, order=order, exclusions=exclusions,
        breakdown=breakdown, attribution=attribution, time_bins=(timedelta(hours=1), timedelta(hours=2)),
    )  # fmt: skip
    return events, q


def _expected(att: dict[str, Attempt], q: FunnelQuery) -> dict[str | None, tuple[tuple[int, ...], list[Any]]]:
    """Per breakdown value (None: all users): counts and median hours from the first step."""

    def one(users: list[Attempt]) -> tuple[tuple[int, ...], list[Any]]:
        counts, medians = [], []
        for k in range(len(q.steps)):
            d = [(a.times[k] - a.start).total_seconds() for a in users if a.reached >= k]
            counts.append(len(d))
            medians.append(statistics.median(d) if d else None)
        return tuple(counts), medians

    out = {None: one(list(att.values()))}
    if q.breakdown:
        for v in {_attributed(a, q) for a in att.values()}:
            out[v] = one([a for a in att.values() if _attributed(a, q) == v])
    return out


def _attributed(a: Attempt, q: FunnelQuery) -> str:
    return a.first_value if q.attribution == "first_touch" else a.values[a.reached]


@seed(20250101)
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), cell=st.tuples(st.integers(0, 2), st.booleans()))
def test_funnel_matches_naive_reference(case: tuple[list[Ev], FunnelQuery], cell: tuple[int, bool]) -> None:
    events, q = case
    with open_store(Settings(db=":memory:", threads=1)) as store:
        if events:
            store.execute(
                "INSERT INTO events (event_id, user_id, ts, event_type, channel) VALUES "
                + ", ".join(
                    f"('{e.eid}', '{e.user}', TIMESTAMP '{e.ts:%Y-%m-%d %H:%M:%S}', '{e.etype}', "
                    + (f"'{e.channel}')" if e.channel else "NULL)")
                    for e in events
                )
            )
        con = store.ibis()
        result = run_funnel(con, q)
        att = reference(events, q)
        expected = _expected(att, q)
        counts, medians = expected[None]
        assert result.counts == counts
        assert [s.median_seconds_from_first for s in result.steps] == medians
        for k, s in enumerate(result.steps):
            d = [(a.times[k] - a.start).total_seconds() for a in att.values() if a.reached >= k]
            hist = (sum(x < 3600 for x in d), sum(3600 <= x < 7200 for x in d), sum(x >= 7200 for x in d))
            assert s.time_histogram == hist
            if k:
                prev = [(a.times[k] - a.times[k - 1]).total_seconds() for a in att.values() if a.reached >= k]
                assert s.median_seconds_from_previous == (statistics.median(prev) if prev else None)
        assert {b.breakdown: (b.counts, [s.median_seconds_from_first for s in b.steps]) for b in result.breakdowns} == {
            v: (c, m) for v, (c, m) in expected.items() if v is not None
        }
        step, dropped = min(cell[0], len(q.steps) - 1), cell[1]
        want = sorted(u for u, a in att.items() if (a.reached == step - 1 if dropped else a.reached >= step))
        assert result.actors(con, step, dropped=dropped) == want
