"""Property: on random small logs, run_aarrr equals a naive pure-Python reading of the definitions."""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from growthkit.analytics._common import DateRange, EventFilter, Period
from growthkit.analytics.aarrr import USER_ACTIONS, AarrrQuery, RetentionWindow, run_aarrr
from growthkit.config import Settings
from growthkit.store import open_store

T0 = datetime(2024, 12, 30)  # a Monday; random times are T0 + k * 6 hours, so ties and boundaries are common
RANGE = DateRange(date(2025, 1, 1), date(2025, 1, 5))
IDS = ("u0", "u1", "u2", "u3", "u4", "u5")
TYPES = ("signup", "view", "purchase", "refund", "invite", "coupon_received", "share")
CHANNELS = (None, "ads", "organic")
EXAMPLES = int(os.environ.get("AARRR_PROPERTY_EXAMPLES", "15"))


def _ts(k: int) -> datetime:
    return T0 + timedelta(hours=6 * k)


@dataclass(frozen=True)
class Ev:
    event_id: str
    user_id: str
    ts: datetime
    event_type: str
    amount: float | None
    channel: str | None
    prop: str | None  # invitee (invite) or referrer (signup)


@dataclass(frozen=True)
class Log:
    users: tuple[tuple[str, datetime | None, str | None], ...]
    events: tuple[Ev, ...]
    edges: tuple[tuple[str, str, datetime | None], ...]


_user = st.tuples(st.sampled_from(IDS), st.one_of(st.none(), st.integers(0, 40).map(_ts)), st.sampled_from(CHANNELS))
_event = st.tuples(
    st.sampled_from(IDS),
    st.integers(0, 44).map(_ts),
    st.sampled_from(TYPES),
    st.sampled_from((None, 10.0, 25.0)),
    st.sampled_from(CHANNELS),
    st.one_of(st.none(), st.sampled_from(IDS)),
)
_edge = st.tuples(st.sampled_from(IDS), st.sampled_from(IDS), st.one_of(st.none(), st.integers(0, 40).map(_ts)))


@st.composite
def logs(draw: st.DrawFn) -> Log:
    users = draw(st.lists(_user, max_size=5, unique_by=lambda u: u[0]))
    raw = draw(st.lists(_event, max_size=14))
    events = tuple(Ev(f"e{i}", u, t, ty, a, c, p) for i, (u, t, ty, a, c, p) in enumerate(raw))
    edges = draw(st.lists(_edge, max_size=3))
    return Log(tuple(users), events, tuple(edges))


_queries = st.builds(
    lambda days, win, act: AarrrQuery(RANGE, activation=EventFilter(act), activation_days=days, retention=win),
    st.integers(1, 3),
    st.one_of(
        st.builds(RetentionWindow, start_day=st.integers(1, 4), length_days=st.integers(1, 3)),
        st.sampled_from((Period.DAY, Period.WEEK)).map(RetentionWindow.calendar),
    ),
    st.sampled_from((("purchase",), ("view", "share"))),
)


# --- the reference: the definitions of docs/analytics/aarrr.md, read literally, in plain Python ---


def _window(q: AarrrQuery, s: datetime) -> tuple[datetime, datetime]:
    w = q.retention
    if w.period is None:
        return s + timedelta(days=w.start_day), s + timedelta(days=w.start_day + w.length_days)
    if w.period is Period.DAY:
        base, step = datetime(s.year, s.month, s.day), timedelta(days=1)
    else:
        base, step = datetime(s.year, s.month, s.day) - timedelta(days=s.weekday()), timedelta(days=7)
    return base + w.offset * step, base + (w.offset + 1) * step


def reference(log: Log, q: AarrrQuery) -> dict[str, object]:
    lo, hi = RANGE.start_ts, RANGE.end_ts
    inr = [e for e in log.events if lo <= e.ts < hi]
    users = {u: (s, c) for u, s, c in log.users}
    known = set(users) | {e.user_id for e in log.events}
    signup: dict[str, datetime | None] = {}
    channel: dict[str, str] = {}
    for u in known:
        own = [e for e in log.events if e.user_id == u]
        ups = [e.ts for e in own if e.event_type == "signup"]
        s, c = users.get(u, (None, None))
        earliest = min([*ups, *([s] if s else [])], default=None)
        signup[u] = earliest or (min(e.ts for e in own) if own else None)
        first = min(own, key=lambda e: (e.ts, e.event_type != "signup", e.event_id)) if own else None
        channel[u] = c or (first.channel if first else None) or "(none)"
    new = sorted(u for u in known if signup[u] is not None and lo <= signup[u] < hi)  # type: ignore[operator]
    until = max((e.ts for e in log.events), default=datetime(1970, 1, 1))

    def did(u: str, types: tuple[str, ...], a: datetime, b: datetime) -> bool:
        return any(e.user_id == u and e.event_type in types and a <= e.ts < b for e in log.events)

    act_types = q.activation.event_types
    activated, retained, act_inc, ret_inc = set(), set(), 0, 0
    for u in new:
        s = signup[u]
        assert s is not None
        end = s + timedelta(days=q.activation_days)
        if did(u, act_types, s, end):
            activated.add(u)
        act_inc += end > until
        a, b = _window(q, s)
        if did(u, USER_ACTIONS, a, b):
            retained.add(u)
        ret_inc += b > until
    by_channel: dict[str, list[int]] = {}
    for u in new:
        row = by_channel.setdefault(channel[u], [0, 0, 0])
        row[0] += 1
        row[1] += u in activated
        row[2] += u in retained

    active = {e.user_id for e in inr if e.event_type in USER_ACTIONS or e.event_type == "purchase"}
    gross = sum(e.amount or 0.0 for e in inr if e.event_type == "purchase")
    refunds = sum(e.amount or 0.0 for e in inr if e.event_type == "refund")
    paying = {e.user_id for e in inr if e.event_type == "purchase"}
    sent = [e for e in inr if e.event_type == "invite"]

    cands: dict[str, list[tuple[int, bool, datetime, str]]] = {}
    for src, dst, ts in log.edges:
        if src != dst:
            cands.setdefault(dst, []).append((0, ts is None, ts or T0, src))
    for e in log.events:
        if e.event_type == "signup" and e.prop and e.prop != e.user_id:
            cands.setdefault(e.user_id, []).append((1, False, e.ts, e.prop))
        if e.event_type == "invite" and e.prop and e.prop != e.user_id:
            inv_s = signup.get(e.prop)
            if inv_s is not None and e.ts <= inv_s:
                cands.setdefault(e.prop, []).append((2, False, e.ts, e.user_id))
    accepted, cycles = [], []
    for inv, cs in cands.items():
        s = signup.get(inv)
        if s is None or not lo <= s < hi:
            continue
        referrer = min(cs)[3]
        accepted.append(inv)
        rs = signup.get(referrer)
        if rs is not None and s >= rs:
            cycles.append((s - rs).total_seconds() / 86400)
    return {
        "by_channel": {ch: tuple(v) for ch, v in by_channel.items()},
        "incomplete": (act_inc, ret_inc),
        "actors": (sorted(activated), sorted(retained)),
        "revenue": (round(gross, 6), round(refunds, 6), len(active), len(paying)),
        "referral": (len(sent), len({e.user_id for e in sent}), len(accepted), len(cycles)),
        "cycle": statistics.median(cycles) if cycles else None,
        "accepted": sorted(accepted),
    }


def _sql(v: object) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return repr(v)
    return "'" + str(v) + "'"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(log=logs(), q=_queries)
def test_run_aarrr_matches_the_reference(log: Log, q: AarrrQuery) -> None:
    store = open_store(Settings(db=":memory:"))
    try:
        if log.users:
            rows = ", ".join(f"({_sql(u)}, {_sql(s)}, {_sql(c)})" for u, s, c in log.users)
            store.execute(f"INSERT INTO users (user_id, signup_ts, channel) VALUES {rows}")
        for e in log.events:
            key = "invitee" if e.event_type == "invite" else "referrer"
            props = json.dumps({key: e.prop}) if e.event_type in ("invite", "signup") else None
            store.execute(
                "INSERT INTO events (event_id, user_id, ts, event_type, amount, channel, properties) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [e.event_id, e.user_id, e.ts, e.event_type, e.amount, e.channel, props],
            )
        for i, (src, dst, ts) in enumerate(log.edges):
            store.execute(
                "INSERT INTO edges (edge_id, src_user, dst_user, kind, ts) VALUES (?, ?, ?, 'referral', ?)",
                [f"x{i}", src, dst, ts],
            )
        con = store.ibis()
        r = run_aarrr(con, q)
        want = reference(log, q)
        got_channels = {
            ch: (n, act.numerator, ret.numerator)
            for (ch, n), (_, act), (_, ret) in zip(
                r.acquisition.by_channel, r.activation.by_channel, r.retention.by_channel, strict=True
            )
        }
        assert got_channels == want["by_channel"]
        assert (r.activation.incomplete, r.retention.incomplete) == want["incomplete"]
        assert (r.actors(con, "activation"), r.actors(con, "retention")) == want["actors"]
        rev = r.revenue
        assert (round(rev.gross, 6), round(rev.refunds, 6), rev.active_users, rev.paying_users) == want["revenue"]
        ref = r.referral
        assert (ref.invites_sent, ref.inviters, ref.invites_accepted, ref.cycle_pairs) == want["referral"]
        assert r.actors(con, "referral") == want["accepted"]
        if want["cycle"] is None:
            assert ref.viral_cycle_days is None
        else:
            assert ref.viral_cycle_days == pytest.approx(want["cycle"])
    finally:
        store.close()
