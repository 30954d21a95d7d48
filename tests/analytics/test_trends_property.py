"""Property: on random small event logs, run_trends equals a naive pure-Python reference."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from growthkit.analytics._common import Breakdown, DateRange, EventFilter, NewUser
from growthkit.analytics.trends import TrendMetric, TrendsQuery, run_trends
from growthkit.config import Settings
from growthkit.store import DuckDBStore, open_store

T0 = datetime(2024, 12, 20)
USERS = ["u0", "u1", "u2", "u3"]
COLS = "event_id, user_id, ts, event_type, amount, session_id, channel"

# an event: (user, seconds after T0, type, amount, session, channel); times are a midnight, noon or
# the day's last second, so many events share a timestamp or sit exactly on a period boundary
events_st = st.lists(
    st.tuples(
        st.sampled_from(USERS),
        st.tuples(st.integers(0, 45), st.sampled_from([0, 43200, 86399])).map(lambda x: x[0] * 86400 + x[1]),
        st.sampled_from(["signup", "view", "purchase", "refund"]),
        st.integers(1, 5).map(float),
        st.sampled_from([None, "s1", "s2"]),
        st.sampled_from([None, "a", "b"]),
    ),
    max_size=30,
)
signups_st = st.lists(
    st.one_of(st.none(), st.integers(0, 45 * 2).map(lambda h: T0 + timedelta(hours=12 * h))), min_size=4, max_size=4
)


# ----------------------------------------------------------------------------- reference


def floor(d: date, period: str) -> date:
    if period == "week":
        while d.weekday() != 0:
            d -= timedelta(days=1)
        return d
    return d.replace(day=1) if period == "month" else d


def reference(
    evs: list[dict[str, Any]], signup: dict[str, datetime | None], tier: dict[str, str | None], q: TrendsQuery
) -> dict[tuple[date, str, str], float]:
    r = q.date_range
    days = [r.start + timedelta(days=i) for i in range((r.end - r.start).days + 1)]
    periods = sorted({floor(d, q.period) for d in days})

    def bd(e: dict[str, Any]) -> str:
        if q.breakdown is None:
            return "(all)"
        if q.breakdown.key == "channel":
            return e["channel"] or "(none)"
        return tier[e["user"]] or "(none)"

    born: dict[str, datetime] = {}
    for u in {e["user"] for e in evs}:
        mine = [e["ts"] for e in evs if e["user"] == u]
        if q.new_user == NewUser.SIGNUP:
            s = [e["ts"] for e in evs if e["user"] == u and e["type"] == "signup"]
            s += [signup[u]] if signup[u] is not None else []
            born[u] = min(s) if s else min(mine)
        else:
            born[u] = min(mine)

    f = q.filters
    stream = [e for e in evs if not f or e["type"] in f.event_types]
    in_range = [e for e in stream if r.start_ts <= e["ts"] < r.end_ts]
    values = {bd(e) for e in stream} if q.breakdown is not None else {"(all)"}
    out: dict[tuple[date, str, str], float] = {}
    seen: set[str] = set()
    for p in periods:
        last = max(d for d in days if floor(d, q.period) == p)  # the snapshot day of rolling metrics
        for b in values:
            es = [e for e in in_range if floor(e["ts"].date(), q.period) == p and bd(e) == b]
            active = {e["user"] for e in es}
            new = {u for u in active if r.start_ts <= born[u] < r.end_ts and floor(born[u].date(), q.period) == p}
            buys = [e for e in es if e["type"] == "purchase"]
            refunds = [e for e in es if e["type"] == "refund"]
            orders = {(e["user"], e["session"] or "#" + e["id"]) for e in buys}
            gross = sum(e["amount"] for e in buys)
            rolling = {
                w: {e["user"] for e in stream if bd(e) == b and last - timedelta(days=w - 1) <= e["ts"].date() <= last}
                for w in (1, 7, 30)
            }
            buyers = {e["user"] for e in buys}
            v = {
                "active_users": len(active),
                "new_users": len(new),
                "dau": len(rolling[1]),
                "wau": len(rolling[7]),
                "mau": len(rolling[30]),
                "purchasers": len(buyers),
                "orders": len(orders),
                "gross_revenue": gross,
                "net_revenue": gross - sum(e["amount"] for e in refunds),
                "aov": gross / len(orders) if orders else math.nan,
                "conversion": len(buyers) / len(active) if active else math.nan,
            }
            support = {  # a breakdown value shows once a requested metric has data for it
                "active_users": active,
                "conversion": active,
                "new_users": new,
                "dau": rolling[1],
                "wau": rolling[7],
                "mau": rolling[30],
                "purchasers": buys,
                "orders": buys,
                "gross_revenue": buys,
                "aov": buys,
                "net_revenue": buys + refunds,
            }
            if any(support[m.value] for m in q.metrics):
                seen.add(b)
            for m in q.metrics:
                out[(p, b, m.value)] = v[m.value]
    if q.breakdown is not None:
        out = {k: v for k, v in out.items() if k[1] in seen}
    return out


# ----------------------------------------------------------------------------- the test


@pytest.fixture(scope="module")
def store() -> Iterator[DuckDBStore]:
    s = open_store(Settings(db=":memory:"))
    assert isinstance(s, DuckDBStore)
    yield s
    s.close()


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    raw=events_st,
    signups=signups_st,
    start=st.integers(0, 40),
    length=st.integers(0, 16),
    period=st.sampled_from(["day", "week", "month"]),
    basis=st.sampled_from(list(NewUser)),
    breakdown=st.sampled_from([None, "channel", "user.city_tier"]),
    only_buys=st.booleans(),
    metrics=st.lists(st.sampled_from(list(TrendMetric)), min_size=1, max_size=3, unique=True),
)
def test_trends_match_reference(
    store: DuckDBStore,
    raw: list[tuple[Any, ...]],
    signups: list[datetime | None],
    start: int,
    length: int,
    period: str,
    basis: NewUser,
    breakdown: str | None,
    only_buys: bool,
    metrics: list[TrendMetric],
) -> None:
    evs = [
        {
            "id": f"e{i:02d}",
            "user": u,
            "ts": T0 + timedelta(seconds=s),
            "type": t,
            "amount": a,
            "session": sess,
            "channel": ch,
        }
        for i, (u, s, t, a, sess, ch) in enumerate(raw)
    ]
    signup = dict(zip(USERS, signups, strict=True))
    tier = {"u0": "1", "u1": "2", "u2": None, "u3": "1"}
    store.execute("DELETE FROM events")
    store.execute("DELETE FROM users")
    for e in evs:
        store.execute(
            f"INSERT INTO events ({COLS}) VALUES (?,?,?,?,?,?,?)",
            [e["id"], e["user"], e["ts"], e["type"], e["amount"], e["session"], e["channel"]],
        )
    for u in USERS:
        store.execute("INSERT INTO users (user_id, signup_ts, city_tier) VALUES (?,?,?)", [u, signup[u], tier[u]])
    d0 = T0.date() + timedelta(days=start)
    q = TrendsQuery(
        tuple(metrics),
        DateRange(d0, d0 + timedelta(days=length)),
        period=period,  # type: ignore[arg-type]
        breakdown=Breakdown(breakdown) if breakdown else None,
        filters=EventFilter(("purchase", "refund")) if only_buys else None,
        new_user=basis,
    )
    f = run_trends(store.ibis(), q).frame
    got = {(p.date(), b, m): v for p, b, m, v in zip(f.period, f.breakdown, f.metric, f["value"], strict=True)}
    want = reference(evs, signup, tier, q)
    assert got.keys() == want.keys()
    for k, w in want.items():
        g = got[k]
        assert (math.isnan(w) and math.isnan(g)) or g == pytest.approx(w), (k, g, w)
