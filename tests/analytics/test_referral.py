"""Referral analytics on a tiny hand-checked timeline (every number justified), plus a property test
against a naive pure-Python reading of the definitions."""

from __future__ import annotations

import doctest
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from growthkit.analytics import referral, referral_exprs
from growthkit.analytics._common import AnalyticsQueryError, DateRange, Period
from growthkit.analytics.aarrr import USER_ACTIONS, AarrrQuery, run_aarrr
from growthkit.analytics.referral import CohortRevenue, ReferralQuery, run_referral
from growthkit.analytics.referral_exprs import referral_forest
from growthkit.config import Settings
from growthkit.store import Store, open_store

JAN = DateRange(date(2025, 1, 1), date(2025, 1, 31))

# (user, signup_ts, channel)
USERS = [
    ("r", "2024-12-20 00:00:00", "organic"),  # referrer from before the range: the tree's root
    ("a", "2025-01-02 10:00:00", "ads"),  # referred by r through a referral edge (channel says ads)
    ("b", "2025-01-07 09:00:00", "referral"),  # referred by a through its signup event's property
    ("c", "2025-01-08 12:00:00", "organic"),  # referred by a through a's invite naming c, an hour before
    ("d", "2025-01-14 08:00:00", "referral"),  # channel referral, but nobody on record: referred, no pair
    ("e", "2025-01-15 10:00:00", "ads"),  # not referred
    ("f", "2025-02-03 00:00:00", "referral"),  # referred by b, but after the range: not in January's tree
    ("g", "2025-01-20 00:00:00", "organic"),  # a's invite to g came after g's signup: not referred
]

# (event_id, user, ts, type, amount, properties)
EVENTS = [
    ("r1", "r", "2025-01-01 09:00:00", "invite", None, {"invitee": "a", "campaign": "winter"}),
    ("r2", "r", "2025-01-03 08:00:00", "view", None, None),
    ("a1", "a", "2025-01-05 10:00:00", "purchase", 100.0, None),  # inside a's 7 days
    ("a2", "a", "2025-01-08 11:00:00", "invite", None, {"invitee": "c", "campaign": "spring"}),
    ("a3", "a", "2025-01-09 10:00:00", "purchase", 50.0, None),  # exactly signup + 7 d: outside
    ("a4", "a", "2025-01-21 10:00:00", "invite", None, {"invitee": "g", "campaign": "spring"}),
    ("b0", "b", "2025-01-07 09:00:00", "signup", None, {"referrer": "a", "campaign": "spring"}),
    ("b1", "b", "2025-01-07 09:00:00", "purchase", 30.0, None),  # at the signup instant: inside
    ("b2", "b", "2025-01-10 09:00:00", "refund", 10.0, None),
    ("b3", "b", "2025-01-10 10:00:00", "invite", None, {"invitee": None, "campaign": "summer"}),
    ("d1", "d", "2025-01-20 08:00:00", "purchase", 25.0, None),
    ("d2", "d", "2025-01-21 08:00:00", "purchase", 40.0, None),  # exactly signup + 7 d: outside
    ("e1", "e", "2025-01-16 10:00:00", "purchase", 60.0, None),
    ("g1", "g", "2025-01-25 10:00:00", "purchase", 10.0, None),
    ("e2", "e", "2025-01-26 12:00:00", "view", None, None),  # the latest event: observed_until
]

EDGES = [
    ("x1", "r", "a", "referral"),
    ("x2", "b", "f", "referral"),
    ("x3", "a", "e", "friend"),  # a friendship is no referral
]


def load(store: Store, users: list[tuple], events: list[tuple], edges: list[tuple]) -> None:  # type: ignore[type-arg]
    for u in users:
        store.execute("INSERT INTO users (user_id, signup_ts, channel) VALUES (?, ?, ?)", list(u))
    for eid, user, ts, etype, amount, props in events:
        store.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, amount, properties) VALUES (?, ?, ?, ?, ?, ?)",
            [eid, user, ts, etype, amount, None if props is None else json.dumps(props)],
        )
    for e in edges:
        store.execute(
            "INSERT INTO edges (edge_id, src_user, dst_user, kind, ts) VALUES (?, ?, ?, ?, ?)", [*e, None][:5]
        )


@pytest.fixture
def shop() -> Iterator[Store]:
    s = open_store(Settings(db=":memory:"))
    load(s, USERS, EVENTS, EDGES)
    yield s
    s.close()


def run(store: Store, **kw: object) -> referral.ReferralResult:
    return run_referral(store.ibis(), ReferralQuery(JAN, revenue_days=7, **kw))  # type: ignore[arg-type]


def test_totals_are_aarrrs_referral_block(shop: Store) -> None:
    r = run(shop)
    t = r.totals
    # invites in January: r 01-01, a 01-08, b 01-10 (names nobody), a 01-21 (after g's signup): 4 from r, a, b
    assert (t.invites_sent, t.inviters) == (4, 3)
    # accepted = referral pairs whose invitee signed up in January: a (edge), b (signup property), c (invite)
    # active = r (view), a, b, d, e, g (purchases); c did nothing: 6. K = 3 / 6
    assert (t.invites_accepted, t.active_users, t.k_factor, t.acceptance_rate) == (3, 6, 0.5, 0.75)
    # cycle days: a 13 d 10 h after r, b 4 d 23 h after a, c 6 d 2 h after a: median 6 d 2 h
    assert t.viral_cycle_days == pytest.approx(6 + 2 / 24) and t.cycle_pairs == 3
    assert t == run_aarrr(shop.ibis(), AarrrQuery(JAN)).referral


def test_referred_share_and_cohort_revenue(shop: Store) -> None:
    r = run(shop)
    # new in January: a, b, c, d, e, g. Referred: a, b, c (pairs) and d (channel referral): 4 of 6
    assert (r.new_users, r.referred_users) == (6, 4)
    assert r.share_referred == pytest.approx(4 / 6)
    # first 7 days: a 100 (the 50 at exactly +7 d is out), b 30 - 10, c 0, d 25 (the 40 at +7 d is out)
    assert r.referred_revenue == CohortRevenue(users=4, paying=3, revenue=145.0, incomplete=0)
    assert r.referred_revenue.per_user == 36.25
    # e 60, g 10; g's window (to 01-27 00:00) ends after the last event (01-26 12:00): incomplete
    assert r.other_revenue == CohortRevenue(users=2, paying=2, revenue=70.0, incomplete=1)


def test_periods(shop: Store) -> None:
    r = run(shop)
    rows = {
        p.period: (p.new_users, p.referred_users, p.invites_sent, p.invites_accepted, p.active_users) for p in r.periods
    }
    assert rows == {
        date(2024, 12, 30): (1, 1, 1, 1, 2),  # a; r's invite; a accepted; r and a active
        date(2025, 1, 6): (2, 2, 2, 2, 2),  # b, c; invites of a and b; b, c accepted; a and b active
        date(2025, 1, 13): (2, 1, 0, 0, 1),  # d (referred by channel), e; only e active (d buys on 01-20)
        date(2025, 1, 20): (1, 0, 1, 0, 4),  # g; a's late invite; a, d, e, g active
        date(2025, 1, 27): (0, 0, 0, 0, 0),
    }
    week2 = r.periods[1]
    assert week2.k_factor == 1.0 and week2.share_referred == 1.0
    assert week2.viral_cycle_days == pytest.approx((4 + 23 / 24 + 6 + 2 / 24) / 2)
    assert week2.referred_revenue.revenue == 20.0 and r.periods[2].other_revenue.revenue == 60.0
    assert r.periods[4].k_factor is None and r.periods[4].viral_cycle_days is None
    months = run(shop, period=Period.MONTH)
    assert [(p.period, p.new_users, p.invites_sent) for p in months.periods] == [(date(2025, 1, 1), 6, 4)]


def test_campaigns_come_from_the_invite_that_brought_the_user(shop: Store) -> None:
    assert run(shop).campaigns == ()  # no campaign_key: the data contract names no campaign property
    r = run(shop, campaign_key="campaign")
    got = {c.campaign: (c.invites_sent, c.referred_users, c.revenue.revenue) for c in r.campaigns}
    # a: r's "winter" invite named a; b: no invite named b, b's signup says "spring"; c: a's "spring" invite;
    # d: nothing on record; summer: b's invite brought nobody
    assert got == {"(none)": (0, 1, 25.0), "spring": (2, 2, 20.0), "summer": (1, 0, 0.0), "winter": (1, 1, 100.0)}


def test_trees_as_of_the_end_of_the_range(shop: Store) -> None:
    t = run(shop).trees
    # r -> a -> {b, c}; b -> f is February
    assert (t.referred_users, t.trees, t.max_depth, t.max_breadth) == (3, 1, 2, 2)
    assert t.by_depth == ((0, 1), (1, 1), (2, 2))
    assert t.mean_direct == 1.5  # r 1, a 2
    assert t.top_referrers == (("r", 1, 3), ("a", 2, 2))
    feb = run_referral(shop.ibis(), ReferralQuery(DateRange(date(2025, 2, 1), date(2025, 2, 28))))
    assert feb.trees.by_depth == ((0, 1), (1, 1), (2, 2), (3, 1))  # f joins at depth 3


def test_actors(shop: Store) -> None:
    r = run(shop, campaign_key="campaign")
    con = shop.ibis()
    assert r.actors(con, "referred") == ["a", "b", "c", "d"]
    assert r.actors(con, "not_referred") == ["e", "g"]
    assert len(r.actors(con, "new")) == r.new_users
    assert r.actors(con, "referred", period=date(2025, 1, 6)) == ["b", "c"]
    assert r.actors(con, "referred", campaign="spring") == ["b", "c"]
    assert r.actors(con, "referred", campaign="(none)") == ["d"]
    assert r.actors(con, "invitees") == ["a", "b", "c"] and r.actors(con, "referrers") == ["a", "r"]
    assert r.actors(con, "invitees", period=date(2024, 12, 30)) == ["a"]
    assert r.actors(con, "inviters") == ["a", "b", "r"]
    assert r.actors(con, "active") == ["a", "b", "d", "e", "g", "r"]
    assert r.actors(con, "depth", depth=2) == ["b", "c"] and r.actors(con, "depth", depth=0) == ["r"]
    with pytest.raises(AnalyticsQueryError, match="not the start"):
        r.actors(con, "new", period=date(2025, 1, 7))
    with pytest.raises(AnalyticsQueryError, match="unknown cell"):
        r.actors(con, "viral")
    with pytest.raises(AnalyticsQueryError, match="depth"):
        r.actors(con, "depth")
    with pytest.raises(AnalyticsQueryError, match="campaign"):
        r.actors(con, "new", campaign="spring")


def test_frame_empty_store_and_validation(shop: Store) -> None:
    df = run(shop).to_frame()
    assert list(df.columns) == ["section", "key", "metric", "value"]
    assert df[(df.section == "cohort") & (df.metric == "referred_revenue")].value.item() == 145.0
    assert df[(df.section == "trees") & (df.key == "2")].value.item() == 2.0
    empty = open_store(Settings(db=":memory:"))
    try:
        e = run(empty)
        assert e.new_users == 0 and e.share_referred is None and e.totals.k_factor is None
        assert e.trees.by_depth == () and e.trees.mean_direct is None and e.observed_until is None
        assert all(p.new_users == 0 for p in e.periods)
    finally:
        empty.close()
    with pytest.raises(AnalyticsQueryError, match="revenue_days"):
        ReferralQuery(JAN, revenue_days=0)


def test_forest_cuts_cycles_at_the_smallest_id() -> None:
    # x -> y -> x is a cycle (inconsistent data); z hangs below y. The link into x (smallest) is cut
    f = referral_forest(["y", "x", "z"], ["x", "y", "y"])
    assert list(f.user_ids) == ["x", "y", "z"] and f.parent.tolist() == [-1, 0, 1]
    assert f.depth.tolist() == [0, 1, 2] and f.descendants.tolist() == [2, 1, 0]


def test_docstring_examples_run() -> None:
    for mod in (referral, referral_exprs):
        failed, _ = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failed == 0, mod.__name__


# ----------------------------------------------------------------- property: engine == naive reading

T0 = datetime(2024, 12, 30)  # random times are T0 + k * 6 hours: ties and day boundaries are common
RANGE = DateRange(date(2025, 1, 1), date(2025, 1, 4))
IDS = ("u0", "u1", "u2", "u3", "u4", "u5")
TYPES = ("signup", "view", "purchase", "refund", "invite", "coupon_received")
CHANNELS = (None, "ads", "referral")
EXAMPLES = int(os.environ.get("REFERRAL_PROPERTY_EXAMPLES", "10"))
DAYS = 2


def _ts(k: int) -> datetime:
    return T0 + timedelta(hours=6 * k)


@dataclass(frozen=True)
class Log:
    users: tuple[tuple[str, datetime | None, str | None], ...]
    events: tuple[tuple[str, str, datetime, str, float | None, str | None, str | None], ...]
    edges: tuple[tuple[str, str], ...]


@st.composite
def logs(draw: st.DrawFn) -> Log:
    user = st.tuples(st.sampled_from(IDS), st.one_of(st.none(), st.integers(0, 24).map(_ts)), st.sampled_from(CHANNELS))
    users = draw(st.lists(user, max_size=6, unique_by=lambda u: u[0]))
    event = st.tuples(
        st.sampled_from(IDS),
        st.integers(0, 26).map(_ts),
        st.sampled_from(TYPES),
        st.sampled_from((None, 10.0, 25.0)),
        st.sampled_from(CHANNELS),
        st.one_of(st.none(), st.sampled_from(IDS)),
    )
    raw = draw(st.lists(event, max_size=14))
    events = tuple((f"e{i:02d}", u, t, ty, a, c, p) for i, (u, t, ty, a, c, p) in enumerate(raw))
    edges = draw(st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(IDS)), max_size=4))
    return Log(tuple(users), events, tuple(edges))


def reference(log: Log) -> dict[str, object]:
    """The module docstring's definitions, read literally."""
    lo, hi = RANGE.start_ts, RANGE.end_ts
    urows = {u: (s, c) for u, s, c in log.users}
    known = set(urows) | {e[1] for e in log.events}
    signup: dict[str, datetime | None] = {}
    channel: dict[str, str] = {}
    for u in known:
        own = [e for e in log.events if e[1] == u]
        s, c = urows.get(u, (None, None))
        ups = [e[2] for e in own if e[3] == "signup"] + ([s] if s else [])
        signup[u] = min(ups) if ups else (min(e[2] for e in own) if own else None)
        first = min(own, key=lambda e: (e[2], e[3] != "signup", e[0])) if own else None
        channel[u] = c or (first[5] if first else None) or "(none)"
    cands: dict[str, list[tuple[int, datetime, str]]] = {}
    for src, dst in log.edges:
        if src != dst:
            cands.setdefault(dst, []).append((0, T0, src))  # edges carry no ts here: all tie on it
    for _eid, u, ts, ty, _a, _c, prop in log.events:
        if ty == "signup" and prop and prop != u:
            cands.setdefault(u, []).append((1, ts, prop))
        inv_s = signup.get(prop) if prop else None
        if ty == "invite" and prop and prop != u and inv_s is not None and ts <= inv_s:
            cands.setdefault(prop, []).append((2, ts, u))
    referrer = {v: min(cs)[2] for v, cs in cands.items() if signup.get(v) is not None}
    new = [u for u in known if signup[u] is not None and lo <= signup[u] < hi]  # type: ignore[operator]
    until = max((e[2] for e in log.events), default=datetime(1970, 1, 1))
    cohort: dict[bool, list[float]] = {True: [0, 0, 0.0, 0], False: [0, 0, 0.0, 0]}
    per_day: dict[date, list[int]] = {RANGE.start + timedelta(days=i): [0, 0, 0, 0, 0] for i in range(4)}
    for u in new:
        s = signup[u]
        assert s is not None
        referred = u in referrer or channel[u] == "referral"
        win = [
            e
            for e in log.events
            if e[1] == u and e[3] in ("purchase", "refund") and s <= e[2] < s + timedelta(days=DAYS)
        ]
        money = sum((e[4] or 0.0) * (1 if e[3] == "purchase" else -1) for e in win)
        row = cohort[referred]
        row[0] += 1
        row[1] += any(e[3] == "purchase" for e in win)
        row[2] += money
        row[3] += s + timedelta(days=DAYS) > until
        per_day[s.date()][0] += 1
        per_day[s.date()][1] += referred
    for d, row in per_day.items():
        evs = [e for e in log.events if e[2].date() == d]
        row[2] = sum(e[3] == "invite" for e in evs)
        row[3] = sum(1 for v in referrer if signup[v] is not None and signup[v].date() == d)  # type: ignore[union-attr]
        row[4] = len({e[1] for e in evs if e[3] in USER_ACTIONS})
    # trees as of the range end: pairs whose invitee signed up before it, cycles cut at their smallest id
    parent = {v: r for v, r in referrer.items() if signup[v] < hi}  # type: ignore[operator]
    while True:
        cycle = None
        for start in parent:
            path, x = [], start
            while x in parent and x not in path:
                path.append(x)
                x = parent[x]
            if x in path:
                cycle = path[path.index(x) :]
                break
        if cycle is None:
            break
        del parent[min(cycle)]
    nodes = set(parent) | set(parent.values())
    depth = {}
    for v in nodes:
        k, x = 0, v
        while x in parent:
            k, x = k + 1, parent[x]
        depth[v] = k
    by_depth = tuple((d, sum(1 for v in depth.values() if v == d)) for d in range(max(depth.values(), default=-1) + 1))
    return {
        "cohort": {k: (v[0], v[1], round(v[2], 6), v[3]) for k, v in cohort.items()},
        "per_day": {d: tuple(v) for d, v in per_day.items()},
        "by_depth": by_depth,
        "referred": sorted(u for u in new if u in referrer or channel[u] == "referral"),
    }


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(log=logs())
def test_run_referral_matches_the_reference(log: Log) -> None:
    store = open_store(Settings(db=":memory:"))
    try:
        for u in log.users:
            store.execute("INSERT INTO users (user_id, signup_ts, channel) VALUES (?, ?, ?)", list(u))
        for eid, u, ts, ty, amount, ch, prop in log.events:
            key = "invitee" if ty == "invite" else "referrer"
            props = json.dumps({key: prop}) if ty in ("invite", "signup") else None
            store.execute(
                "INSERT INTO events (event_id, user_id, ts, event_type, amount, channel, properties) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [eid, u, ts, ty, amount, ch, props],
            )
        for i, (src, dst) in enumerate(log.edges):
            store.execute(
                "INSERT INTO edges (edge_id, src_user, dst_user, kind) VALUES (?, ?, ?, 'referral')",
                [f"x{i}", src, dst],
            )
        con = store.ibis()
        r = run_referral(con, ReferralQuery(RANGE, period=Period.DAY, revenue_days=DAYS))
        want = reference(log)
        got_cohort = {
            flag: (c.users, c.paying, round(c.revenue, 6), c.incomplete)
            for flag, c in ((True, r.referred_revenue), (False, r.other_revenue))
        }
        assert got_cohort == want["cohort"]
        got_days = {
            p.period: (p.new_users, p.referred_users, p.invites_sent, p.invites_accepted, p.active_users)
            for p in r.periods
        }
        assert got_days == want["per_day"]
        assert r.trees.by_depth == want["by_depth"]
        assert r.actors(con, "referred") == want["referred"]
        assert r.totals == run_aarrr(con, AarrrQuery(RANGE)).referral
    finally:
        store.close()
