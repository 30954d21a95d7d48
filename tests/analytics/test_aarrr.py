"""AARRR overview on a tiny hand-checked timeline (every number is justified in a comment)."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from datetime import date, datetime

import pytest

from growthkit.analytics import aarrr, aarrr_exprs
from growthkit.analytics._common import AnalyticsQueryError, DateRange, EventFilter, Period
from growthkit.analytics.aarrr import AarrrQuery, Rate, RetentionWindow, Stage, run_aarrr
from growthkit.config import Settings
from growthkit.store import Store, open_store

JAN = DateRange(date(2025, 1, 1), date(2025, 1, 31))

# Users table. b has no channel, d no signup_ts, c is missing from `users` altogether.
USERS = [
    ("a", "2025-01-01 00:00:00", "ads"),  # first second of the range: new
    ("b", "2025-01-10 12:00:00", None),  # channel from its first event (the signup event wins the tie)
    ("d", None, None),  # signup time from its signup event; no channel anywhere -> "(none)"
    ("e", "2024-12-31 12:00:00", "organic"),  # before the range: not new, but active and paying in it
    ("f", "2025-02-01 00:00:00", "referral"),  # midnight after the range: not new
    ("g", "2024-06-01 00:00:00", "organic"),  # only receives a coupon in the range: not active
]

# (event_id, user, ts, type, amount, channel, properties)
EVENTS = [
    ("a1", "a", "2025-01-03 10:00:00", "invite", None, "referral", '{"invitee": null}'),  # invite, not accepted
    ("a2", "a", "2025-01-08 00:00:00", "purchase", 100.0, None, None),  # exactly signup+7d: too late to activate
    ("a3", "a", "2025-01-31 20:00:00", "invite", None, "referral", '{"invitee": "f"}'),  # f signs up after the range
    ("a4", "a", "2025-02-01 00:00:00", "purchase", 999.0, None, None),  # after the range: no revenue in January
    ("b0", "b", "2025-01-10 12:00:00", "view", None, "ads", None),  # same ts as the signup event ...
    ("b1", "b", "2025-01-10 12:00:00", "signup", None, "social", None),  # ... which gives b's channel: social
    ("b2", "b", "2025-01-10 12:00:00", "purchase", 50.0, None, None),  # at the signup instant: activates b
    ("b3", "b", "2025-01-12 09:00:00", "refund", 20.0, None, None),
    ("b4", "b", "2025-01-20 10:00:00", "coupon_received", None, "email", None),  # the shop's, not b's action
    ("b5", "b", "2025-01-24 12:00:00", "view", None, None, None),  # exactly signup+14d: just outside retention
    ("c1", "c", "2025-01-31 23:59:59", "view", None, "organic", None),  # first seen on the last second: new
    ("d1", "d", "2025-01-05 08:00:00", "signup", None, None, '{"referrer": "e"}'),  # the referral edge wins
    ("d2", "d", "2025-01-12 07:59:59", "purchase", 30.0, None, None),  # signup+7d-1s: activates d
    ("d3", "d", "2025-01-19 07:59:00", "view", None, None, None),  # inside days 7..13: retains d
    ("e1", "e", "2025-01-02 08:00:00", "refund", 10.0, None, None),  # refund of a December purchase
    ("e2", "e", "2025-01-10 11:00:00", "invite", None, "referral", '{"invitee": "b"}'),  # b signs up 1 h later
    ("e3", "e", "2025-01-15 09:00:00", "purchase", 40.0, None, None),
    ("e4", "e", "2025-02-02 00:00:00", "invite", None, "referral", '{"invitee": "c"}'),  # after c's signup: no
    ("e5", "e", "2025-02-05 00:00:00", "view", None, None, None),  # latest event: observed_until
    ("f1", "f", "2025-02-01 00:00:00", "signup", None, "referral", '{"referrer": "a"}'),
    ("g1", "g", "2025-01-20 10:00:00", "coupon_received", None, "sms", None),
]

EDGES = [
    ("x1", "a", "d", "referral", "2025-01-05 08:00:00"),
    ("x2", "a", "f", "referral", "2025-02-01 00:00:00"),
    ("x3", "a", "b", "friend", "2024-01-01 00:00:00"),  # a friend tie is no referral
]

WEEK_RETENTION = RetentionWindow(start_day=7, length_days=7)


def _sql(v: object) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def load(store: Store, users: list[tuple], events: list[tuple], edges: list[tuple]) -> None:  # type: ignore[type-arg]
    """Insert rows into the canonical tables of an in-memory store."""
    if users:
        rows = ", ".join(f"({_sql(u)}, {_sql(s)}, {_sql(c)})" for u, s, c in users)
        store.execute(f"INSERT INTO users (user_id, signup_ts, channel) VALUES {rows}")
    if events:
        rows = ", ".join("(" + ", ".join(_sql(v) for v in e) + ")" for e in events)
        store.execute(
            f"INSERT INTO events (event_id, user_id, ts, event_type, amount, channel, properties) VALUES {rows}"
        )
    if edges:
        rows = ", ".join("(" + ", ".join(_sql(v) for v in e) + ")" for e in edges)
        store.execute(f"INSERT INTO edges (edge_id, src_user, dst_user, kind, ts) VALUES {rows}")


@pytest.fixture
def shop() -> Iterator[Store]:
    st = open_store(Settings(db=":memory:"))
    load(st, USERS, EVENTS, EDGES)
    yield st
    st.close()


@pytest.fixture
def empty() -> Iterator[Store]:
    st = open_store(Settings(db=":memory:"))
    yield st
    st.close()


def test_acquisition_counts_new_users_by_channel_with_fallbacks(shop: Store) -> None:
    r = run_aarrr(shop.ibis(), AarrrQuery(JAN, retention=WEEK_RETENTION))
    # new: a (users, ads), b (users signup, channel of the signup event that ties with a view: social),
    # c (first seen 01-31 23:59:59, organic), d (signup event, no channel: "(none)"); e is older, f is February.
    assert r.acquisition.new_users == 4
    assert r.acquisition.by_channel == (("(none)", 1), ("ads", 1), ("organic", 1), ("social", 1))


def test_activation_window_is_half_open_from_the_signup_instant(shop: Store) -> None:
    r = run_aarrr(shop.ibis(), AarrrQuery(JAN, retention=WEEK_RETENTION))
    # b buys at its signup instant (in), d at signup+7d-1s (in), a at exactly signup+7d (out), c never.
    assert r.activation.activated == Rate(2, 4)
    assert dict(r.activation.by_channel) == {
        "(none)": Rate(1, 1),
        "ads": Rate(0, 1),
        "organic": Rate(0, 1),
        "social": Rate(1, 1),
    }
    # observed until e's view on 02-05; only c's window (to 02-07 23:59:59) runs past it.
    assert r.observed_until == datetime(2025, 2, 5)
    assert r.activation.incomplete == 1


def test_retention_needs_a_user_action_inside_the_later_window(shop: Store) -> None:
    r = run_aarrr(shop.ibis(), AarrrQuery(JAN, retention=WEEK_RETENTION))
    # window [signup+7d, signup+14d): a's purchase at 01-08 00:00 is its first instant (in);
    # d's view at 01-19 07:59 is inside; b only gets a coupon (the shop's event) and views at the
    # exclusive end 01-24 12:00; c has nothing.
    assert r.retention.retained == Rate(2, 4)
    assert r.retention.window == "active on days 7..13 after signup"
    # c's window ends 02-14 > 02-05.
    assert r.retention.incomplete == 1


def test_retention_by_calendar_week_and_month(shop: Store) -> None:
    con = shop.ibis()
    week = run_aarrr(con, AarrrQuery(JAN, retention=RetentionWindow.calendar(Period.WEEK)))
    # ISO weeks: a signs up Wed 01-01 (week of Mon 12-30), buys in week 1 (01-06..12): in.
    # d signs up Sun 01-05 (same week), buys Sun 01-12 07:59:59, still week 1: in.
    # b (week of 01-06) does nothing of its own in 01-13..19; c (week of 01-27) nothing in 02-03..09.
    assert week.retention.retained == Rate(2, 4)
    assert week.retention.incomplete == 1  # c's week 1 ends 02-10 > 02-05
    month = run_aarrr(con, AarrrQuery(JAN, retention=RetentionWindow.calendar(Period.MONTH)))
    # month 1 = February: only a (purchase 02-01 00:00); e's invite naming c is e's event, not c's.
    assert month.retention.retained == Rate(1, 4)
    assert month.actors(con, Stage.RETENTION) == ["a"]


def test_revenue_is_net_of_refunds_over_active_users(shop: Store) -> None:
    rev = run_aarrr(shop.ibis(), AarrrQuery(JAN, retention=WEEK_RETENTION)).revenue
    # purchases in January: a 100 + b 50 + d 30 + e 40 = 220 (a's 999 is on 02-01);
    # refunds in January: b 20 + e 10 (of a December purchase) = 30; net 190.
    assert (rev.gross, rev.refunds, rev.net) == (220.0, 30.0, 190.0)
    # active: a, b, c, d, e (g only got a coupon); paying: a, b, d, e.
    assert (rev.active_users, rev.paying_users) == (5, 4)
    assert rev.arpu == pytest.approx(190 / 5)
    assert rev.arppu == pytest.approx(190 / 4)
    assert rev.paying_share == pytest.approx(4 / 5)


def test_referral_k_factor_and_cycle_time(shop: Store) -> None:
    ref = run_aarrr(shop.ibis(), AarrrQuery(JAN, retention=WEEK_RETENTION)).referral
    # sent in January: a1 (no invitee), a3 (f, signs up in February), e2 (b) -> 3 invites by a and e.
    assert (ref.invites_sent, ref.inviters) == (3, 2)
    # accepted = referred users who signed up in January: b (e's invite 1 h before signup) and
    # d (edge a->d beats the signup property naming e). Not c: e's invite naming c comes after c's signup.
    assert ref.invites_accepted == 2
    assert ref.invites_per_user == pytest.approx(3 / 5)
    assert ref.acceptance_rate == pytest.approx(2 / 3)
    assert ref.k_factor == pytest.approx(3 / 5 * 2 / 3)  # = 2 accepted / 5 active
    # cycle: e 12-31 12:00 -> b 01-10 12:00 = 10 d; a 01-01 00:00 -> d 01-05 08:00 = 4 1/3 d; median 43/6.
    assert ref.cycle_pairs == 2
    assert ref.viral_cycle_days == pytest.approx((10 + 13 / 3) / 2)


def test_actors_name_every_cell(shop: Store) -> None:
    con = shop.ibis()
    r = run_aarrr(con, AarrrQuery(JAN, retention=WEEK_RETENTION))
    assert r.actors(con, "acquisition") == ["a", "b", "c", "d"]
    assert r.actors(con, "acquisition", channel="ads") == ["a"]
    assert r.actors(con, "acquisition", "denominator", channel="ads") == ["a", "b", "c", "d"]
    assert r.actors(con, Stage.ACTIVATION) == ["b", "d"]
    assert r.actors(con, Stage.ACTIVATION, "denominator") == ["a", "b", "c", "d"]
    assert r.actors(con, Stage.ACTIVATION, channel="social") == ["b"]
    assert r.actors(con, Stage.RETENTION) == ["a", "d"]
    assert r.actors(con, Stage.REVENUE) == ["a", "b", "d", "e"]
    assert r.actors(con, Stage.REVENUE, "denominator") == ["a", "b", "c", "d", "e"]
    assert r.actors(con, Stage.REFERRAL) == ["b", "d"]
    assert r.actors(con, Stage.REFERRAL, "inviters") == ["a", "e"]
    assert r.actors(con, Stage.REFERRAL, "referrers") == ["a", "e"]
    with pytest.raises(AnalyticsQueryError, match="inviters, referrers"):
        r.actors(con, Stage.REFERRAL, "payers")
    with pytest.raises(AnalyticsQueryError, match="channel applies"):
        r.actors(con, Stage.REVENUE, channel="ads")


def test_custom_activation_event_filter(shop: Store) -> None:
    q = AarrrQuery(JAN, activation=EventFilter(("view",)), activation_days=1, retention=WEEK_RETENTION)
    r = run_aarrr(shop.ibis(), q)
    # a view within a day of signup: b (b0 at the signup instant) and c (its first-seen view); a and d none.
    assert r.activation.activated == Rate(2, 4)
    assert r.actors(shop.ibis(), "activation") == ["b", "c"]


def test_signup_property_alone_counts_as_a_referral(empty: Store) -> None:
    load(
        empty,
        [("r", "2025-01-01 00:00:00", "organic")],
        [
            ("s1", "n", "2025-01-03 00:00:00", "signup", None, "referral", '{"referrer": "r"}'),
            ("s2", "r", "2025-01-02 00:00:00", "view", None, None, None),
        ],
        [],
    )
    ref = run_aarrr(empty.ibis(), AarrrQuery(JAN)).referral
    # no invite events, no edges: n's signup names r, so n is accepted. Active: r only (a signup is
    # not a user action). K = 1 accepted / 1 active; acceptance is undefined without invite events.
    assert (ref.invites_sent, ref.invites_accepted, ref.active_users) == (0, 1, 1)
    assert ref.acceptance_rate is None
    assert ref.k_factor == 1.0
    assert ref.viral_cycle_days == pytest.approx(2.0)  # r 01-01 -> n 01-03


def test_signup_time_is_the_earliest_of_users_and_signup_events(empty: Store) -> None:
    load(
        empty,
        [("p", "2025-02-01 00:00:00", "ads"), ("q", "2025-01-20 00:00:00", "ads")],
        [
            ("p1", "p", "2025-01-31 23:00:00", "signup", None, None, None),  # earlier than users.signup_ts
            ("q1", "q", "2025-02-03 00:00:00", "signup", None, None, None),  # later: users.signup_ts wins
            ("q2", "q", "2024-12-01 00:00:00", "view", None, None, None),  # a first event never beats a signup
        ],
        [],
    )
    r = run_aarrr(empty.ibis(), AarrrQuery(JAN))
    assert r.actors(empty.ibis(), "acquisition") == ["p", "q"]  # p on 01-31 23:00, q on 01-20


def test_empty_store_and_empty_range(empty: Store, shop: Store) -> None:
    r = run_aarrr(empty.ibis(), AarrrQuery(JAN))
    assert r.observed_until is None
    assert r.acquisition.new_users == 0 and r.acquisition.by_channel == ()
    assert r.activation.activated.rate is None
    assert r.revenue.net == 0.0 and r.revenue.arpu is None
    assert r.referral.k_factor is None and r.referral.viral_cycle_days is None
    # a March day on the shop: nobody new, nobody active
    march = run_aarrr(shop.ibis(), AarrrQuery(DateRange(date(2025, 3, 1), date(2025, 3, 1))))
    assert march.acquisition.new_users == 0 and march.revenue.active_users == 0
    assert march.actors(shop.ibis(), "activation", "denominator") == []


def test_to_frame_is_tidy(shop: Store) -> None:
    df = run_aarrr(shop.ibis(), AarrrQuery(JAN, retention=WEEK_RETENTION)).to_frame()
    assert list(df.columns) == ["stage", "metric", "channel", "value"]
    row = df[(df.stage == "activation") & (df.metric == "rate") & (df.channel == "(all)")]
    assert row.value.item() == 0.5
    assert set(df.stage) == {s.value for s in Stage}


def test_query_validation() -> None:
    with pytest.raises(AnalyticsQueryError, match="activation_days"):
        AarrrQuery(JAN, activation_days=0)
    with pytest.raises(AnalyticsQueryError, match="start at day >= 1"):
        RetentionWindow(start_day=0)
    with pytest.raises(AnalyticsQueryError, match="offset"):
        RetentionWindow.calendar(Period.WEEK, offset=0)


def test_docstring_examples_run() -> None:
    for mod in (aarrr, aarrr_exprs):
        failed, _ = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failed == 0, mod.__name__
