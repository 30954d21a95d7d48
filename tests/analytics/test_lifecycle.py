"""Lifecycle (PostHog's definitions) on a hand-checked timeline, plus a property test against a reference."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from growthkit.analytics._common import AnalyticsQueryError, DateRange, EventFilter, NewUser
from growthkit.analytics.lifecycle import LifecycleQuery, LifecycleResult, run_lifecycle
from growthkit.config import Settings
from growthkit.store import DuckDBStore, open_store

# Weeks (Monday): W0 = 01-06 (before the range), W1 = 01-13, W2 = 01-20, W3 = 01-27, W4 = 02-03.
EVENTS = [
    # a: W0, W1 (exactly at its first instant), W2, W4 -> returning, returning, dormant, resurrecting
    ("a0", "a", "2025-01-06 10:00:00", "view"),
    ("a1", "a", "2025-01-13 00:00:00", "view"),
    ("a2", "a", "2025-01-21 10:00:00", "view"),
    ("a4", "a", "2025-02-05 10:00:00", "purchase"),
    # b: first seen on the last second of W1 (two events at that instant), W3, W4
    ("b1", "b", "2025-01-19 23:59:59", "view"),
    ("b2", "b", "2025-01-19 23:59:59", "cart"),
    ("b3", "b", "2025-01-29 10:00:00", "view"),
    ("b4", "b", "2025-02-04 10:00:00", "view"),
    # c: only the last second of W0 -> dormant in W1, and nothing after that
    ("c0", "c", "2025-01-12 23:59:59", "view"),
    # d: first seen long before, then W2 -> resurrecting in W2, dormant in W3
    ("d0", "d", "2024-12-01 10:00:00", "view"),
    ("d2", "d", "2025-01-22 10:00:00", "view"),
    # e: users.signup_ts in W1, first event in W2
    ("e2", "e", "2025-01-21 10:00:00", "view"),
    # f: browses in W1, signs up (signup event, no signup_ts) in W2
    ("f1", "f", "2025-01-15 10:00:00", "view"),
    ("f2", "f", "2025-01-22 10:00:00", "signup"),
]
SIGNUP_TS = {"a": "2024-11-01 00:00:00", "e": "2025-01-14 00:00:00"}
RANGE = DateRange(date(2025, 1, 13), date(2025, 2, 9))
WEEKS = ["2025-01-13", "2025-01-20", "2025-01-27", "2025-02-03"]


@pytest.fixture
def store() -> Iterator[DuckDBStore]:
    s = open_store(Settings(db=":memory:"))
    assert isinstance(s, DuckDBStore)
    s.execute(
        "INSERT INTO events (event_id, user_id, ts, event_type) VALUES " + ",".join(["(?,?,?,?)"] * len(EVENTS)),
        [v for row in EVENTS for v in row],
    )
    for u in "abcdef":
        s.execute("INSERT INTO users (user_id, signup_ts) VALUES (?, ?)", [u, SIGNUP_TS.get(u)])
    yield s
    s.close()


def table(res: LifecycleResult) -> dict[str, list[int]]:
    """status -> counts per week."""
    f = res.frame
    assert [str(p.date()) for p in f.period.unique()] == WEEKS[: len(f.period.unique())]
    return {s: f[f.status == s]["users"].tolist() for s in ("new", "returning", "resurrecting", "dormant")}


def test_first_event_basis_by_hand(store: DuckDBStore) -> None:
    con = store.ibis()
    res = run_lifecycle(con, LifecycleQuery(RANGE))
    assert list(res.frame.columns) == ["period", "status", "users"]
    assert table(res) == {
        "new": [2, 1, 0, 0],  # W1: b, f; W2: e
        "returning": [1, 2, 0, 1],  # W1: a (active W0); W2: a, f; W4: b
        "resurrecting": [0, 1, 1, 1],  # W2: d (first seen 2024-12); W3: b; W4: a
        "dormant": [-1, -1, -4, 0],  # W1: c; W2: b; W3: a, d, e, f; negative, as PostHog charts them
    }
    assert res.actors(con, date(2025, 1, 13), "new") == ["b", "f"]
    assert res.actors(con, date(2025, 1, 13), "dormant") == ["c"]
    assert res.actors(con, date(2025, 1, 27), "dormant") == ["a", "d", "e", "f"]


def test_signup_basis_by_hand(store: DuckDBStore) -> None:
    con = store.ibis()
    res = run_lifecycle(con, LifecycleQuery(RANGE, new_user=NewUser.SIGNUP))
    # e is born in W1 (signup_ts) but first active in W2: resurrecting there, as in PostHog.
    # f is born in W2 (signup event): the browsing in W1 is before birth and ignored.
    assert table(res) == {
        "new": [1, 1, 0, 0],  # W1: b (no signup at all: falls back to first event); W2: f
        "returning": [1, 1, 0, 1],  # W1: a; W2: a; W4: b
        "resurrecting": [0, 2, 1, 1],  # W2: d, e; W3: b; W4: a
        "dormant": [-1, -1, -4, 0],  # W3: a, d, e, f
    }
    assert res.actors(con, date(2025, 1, 20), "resurrecting") == ["d", "e"]
    assert res.actors(con, date(2025, 1, 20), "new") == ["f"]


def test_filters_follow_posthog_for_late_first_matches(store: DuckDBStore) -> None:
    con = store.ibis()
    res = run_lifecycle(con, LifecycleQuery(RANGE, filters=EventFilter(("purchase",))))
    # only a's purchase in W4 counts; a was born long before, so it is resurrecting, not new
    assert table(res) == {"new": [0] * 4, "returning": [0] * 4, "resurrecting": [0, 0, 0, 1], "dormant": [0] * 4}


def test_partial_range_is_widened_to_whole_weeks(store: DuckDBStore) -> None:
    con = store.ibis()
    # Wednesday of W1 .. Tuesday of W2: the same two weeks as the full result
    res = run_lifecycle(con, LifecycleQuery(DateRange(date(2025, 1, 15), date(2025, 1, 21))))
    assert res.covered == DateRange(date(2025, 1, 13), date(2025, 1, 26))
    full = run_lifecycle(con, LifecycleQuery(RANGE))
    assert res.frame.equals(full.frame.head(8))
    with pytest.raises(AnalyticsQueryError, match="does not start"):
        res.actors(con, date(2025, 1, 15), "new")
    with pytest.raises(AnalyticsQueryError):
        res.actors(con, date(2025, 1, 13), "sleeping")


def test_day_and_month_periods(store: DuckDBStore) -> None:
    con = store.ibis()
    days = run_lifecycle(con, LifecycleQuery(DateRange(date(2025, 1, 12), date(2025, 1, 14)), period="day"))
    # 01-12: c's only (so first) event, at 23:59:59: new.
    # 01-13: a at 00:00:00 (last active 01-06: resurrecting), c dormant; 01-14: a dormant.
    assert table_by_day(days) == {
        "2025-01-12": {"new": 1, "returning": 0, "resurrecting": 0, "dormant": 0},
        "2025-01-13": {"new": 0, "returning": 0, "resurrecting": 1, "dormant": -1},
        "2025-01-14": {"new": 0, "returning": 0, "resurrecting": 0, "dormant": -1},
    }
    months = run_lifecycle(con, LifecycleQuery(DateRange(date(2025, 1, 1), date(2025, 2, 28)), period="month"))
    # January: new a, b, c, e, f (first events in January; a's November signup does not matter
    # under first_event); d was active in December: returning. February: a, b returning; c, d, e, f dormant.
    assert table_by_day(months) == {
        "2025-01-01": {"new": 5, "returning": 1, "resurrecting": 0, "dormant": 0},
        "2025-02-01": {"new": 0, "returning": 2, "resurrecting": 0, "dormant": -4},
    }


def table_by_day(res: LifecycleResult) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for p, s, n in res.frame.itertuples(index=False):
        out.setdefault(str(p.date()), {})[s] = n
    return out


def test_empty_range(store: DuckDBStore) -> None:
    res = run_lifecycle(store.ibis(), LifecycleQuery(DateRange(date(2030, 1, 1), date(2030, 1, 31)), period="month"))
    assert res.frame["users"].tolist() == [0, 0, 0, 0]


# ----------------------------------------------------------------------------- property

T0 = datetime(2025, 1, 1)


def floor(d: date, period: str) -> date:
    if period == "week":
        return d - timedelta(days=d.weekday())
    return d.replace(day=1) if period == "month" else d


def step(p: date, period: str, n: int) -> date:
    """The period start ``n`` periods after ``p`` (n = -1: the one before)."""
    if period == "month":
        m = p.year * 12 + p.month - 1 + n
        return date(m // 12, m % 12 + 1, 1)
    return p + timedelta(days=n * (7 if period == "week" else 1))


def reference(
    evs: list[tuple[str, datetime, str]],
    signup: dict[str, datetime | None],
    q: LifecycleQuery,
) -> dict[tuple[date, str], set[str]]:
    per = q.period.value
    born: dict[str, date] = {}
    for u in {u for u, _, _ in evs}:
        first = min(ts for v, ts, _ in evs if v == u)
        if q.new_user == NewUser.SIGNUP:
            s = [ts for v, ts, t in evs if v == u and t == "signup"] + ([signup[u]] if signup.get(u) else [])
            first = min(s) if s else first  # type: ignore[type-var]
        born[u] = floor(first.date(), per)
    f = q.filters
    active = {(u, floor(ts.date(), per)) for u, ts, t in evs if (not f or t in f.event_types)}
    active = {(u, p) for u, p in active if p >= born[u]}  # not followed before birth
    r = q.date_range
    periods = sorted({floor(r.start + timedelta(days=i), per) for i in range((r.end - r.start).days + 1)})
    out: dict[tuple[date, str], set[str]] = {}
    for p in periods:
        prev = step(p, per, -1)
        for u in born:
            now, before = (u, p) in active, (u, prev) in active
            status = None
            if now:
                status = "new" if born[u] == p else "returning" if before else "resurrecting"
            elif before:
                status = "dormant"
            if status:
                out.setdefault((p, status), set()).add(u)
    return out


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(
    raw=st.lists(
        st.tuples(
            st.sampled_from(["u0", "u1", "u2", "u3"]),
            st.integers(0, 2 * 70).map(lambda h: 12 * h),
            st.sampled_from(["signup", "view", "purchase"]),
        ),
        max_size=20,
    ),
    signups=st.lists(st.one_of(st.none(), st.integers(0, 70 * 24)), min_size=4, max_size=4),
    start=st.integers(0, 60),
    length=st.integers(0, 25),
    period=st.sampled_from(["day", "week", "month"]),
    basis=st.sampled_from(list(NewUser)),
    only_buys=st.booleans(),
)
def test_lifecycle_matches_reference(
    raw: list[tuple[str, int, str]],
    signups: list[int | None],
    start: int,
    length: int,
    period: str,
    basis: NewUser,
    only_buys: bool,
) -> None:
    evs = [(u, T0 + timedelta(hours=h), t) for u, h, t in raw]
    signup = {f"u{i}": (T0 + timedelta(hours=h) if h is not None else None) for i, h in enumerate(signups)}
    d0 = T0.date() + timedelta(days=start)
    q = LifecycleQuery(
        DateRange(d0, d0 + timedelta(days=length)),
        period=period,
        new_user=basis,  # type: ignore[arg-type]
        filters=EventFilter(("purchase",)) if only_buys else None,
    )
    with open_store(Settings(db=":memory:")) as s:
        for i, (u, ts, t) in enumerate(evs):
            s.execute("INSERT INTO events (event_id, user_id, ts, event_type) VALUES (?,?,?,?)", [f"e{i}", u, ts, t])
        for u, ts in signup.items():
            s.execute("INSERT INTO users (user_id, signup_ts) VALUES (?,?)", [u, ts])
        con = s.ibis()
        res = run_lifecycle(con, q)
        want = reference(evs, signup, q)
        got = {(p.date(), st_): n for p, st_, n in res.frame.itertuples(index=False)}
        for (p, status), n in got.items():
            users = want.get((p, status), set())
            assert n == (-len(users) if status == "dormant" else len(users)), (p, status, n, users)
        # the users behind one non-empty cell
        if want:
            (p, status), users = sorted(want.items())[0]
            assert res.actors(con, p, status) == sorted(users)
