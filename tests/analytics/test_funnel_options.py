"""Funnel options on hand-checked timelines: exclusions, breakdowns and attribution,
property conditions, histogram bins, actors and the result's frame and dict."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import pytest

from growthkit.analytics._common import AnalyticsQueryError, Breakdown, DateRange
from growthkit.analytics.funnel import FunnelExclusion, FunnelQuery, FunnelResult, FunnelStep, run_funnel
from growthkit.config import Settings
from growthkit.store import open_store

JAN1 = DateRange(date(2025, 1, 1), date(2025, 1, 1))
DAY = timedelta(days=1)
VIEW, CART, BUY = FunnelStep("view"), FunnelStep("cart"), FunnelStep("purchase")


@pytest.fixture(scope="module")
def _store() -> Iterator[Any]:
    with open_store(Settings(db=":memory:")) as store:
        yield store


@pytest.fixture
def store(_store: Any) -> Any:
    _store.execute("DELETE FROM events")
    _store.execute("DELETE FROM users")
    return _store


def load(store: Any, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``(user, ts, event_type[, channel[, properties dict]])``; ids e000, e001, ... in order."""
    values = []
    for i, row in enumerate(rows):
        user, ts, etype = row[:3]
        channel = f"'{row[3]}'" if len(row) > 3 and row[3] is not None else "NULL"
        props = f"'{json.dumps(row[4])}'" if len(row) > 4 else "NULL"
        values.append(f"('e{i:03d}', '{user}', TIMESTAMP '{ts}', '{etype}', {channel}, {props})")
    store.execute(
        "INSERT INTO events (event_id, user_id, ts, event_type, channel, properties) VALUES " + ", ".join(values)
    )


def run(store: Any, steps: Sequence[FunnelStep] = (VIEW, CART, BUY), **kw: Any) -> FunnelResult:
    kw.setdefault("date_range", JAN1)
    kw.setdefault("window", DAY)
    return run_funnel(store.ibis(), FunnelQuery(steps=tuple(steps), **kw))


COUPON = FunnelStep("coupon_received")


def test_exclusion_voids_attempts_between_its_steps(store: Any) -> None:
    load(
        store,
        [
            # u1: coupon between view and cart -> voided; no other attempt -> not in the funnel at all
            ("u1", "2025-01-01 10:00:00", "view"),
            ("u1", "2025-01-01 10:05:00", "coupon_received"),
            ("u1", "2025-01-01 10:10:00", "cart"),
            # u2: coupon after the cart (outside steps 0..1) -> not voided
            ("u2", "2025-01-01 10:00:00", "view"),
            ("u2", "2025-01-01 10:10:00", "cart"),
            ("u2", "2025-01-01 10:20:00", "coupon_received"),
            # u3: coupon at the same second as the view and as the cart -> "strictly between" fails
            ("u3", "2025-01-01 10:00:00", "view"),
            ("u3", "2025-01-01 10:00:00", "coupon_received"),
            ("u3", "2025-01-01 10:10:00", "coupon_received"),
            ("u3", "2025-01-01 10:10:00", "cart"),
            # u4: never reaches the cart; a coupon inside the window voids the attempt
            ("u4", "2025-01-01 10:00:00", "view"),
            ("u4", "2025-01-01 20:00:00", "coupon_received"),
            # u5: never reaches the cart; the coupon comes after the window -> not voided
            ("u5", "2025-01-01 10:00:00", "view"),
            ("u5", "2025-01-02 10:00:01", "coupon_received"),
            # u6: the first attempt is voided, the 12:00 attempt is clean and counts
            ("u6", "2025-01-01 10:00:00", "view"),
            ("u6", "2025-01-01 10:05:00", "coupon_received"),
            ("u6", "2025-01-01 12:00:00", "view"),
            ("u6", "2025-01-01 12:30:00", "cart"),
        ],
    )
    assert run(store, steps=(VIEW, CART)).counts == (6, 4)  # without the exclusion: u1, u2, u3, u6 cart
    r = run(store, steps=(VIEW, CART), exclusions=(FunnelExclusion(COUPON, 0, 1),))
    # in the funnel: u2, u3, u5, u6; at the cart: u2, u3, u6
    assert r.counts == (4, 3)
    assert r.actors(store.ibis(), 0) == ["u2", "u3", "u5", "u6"]
    assert r.actors(store.ibis(), 1, dropped=True) == ["u5"]
    # u6's cart counts from its clean 12:00 attempt: 30 min; u2 and u3: 10 min -> median 10 min
    assert r.steps[1].median_seconds_from_first == 600.0


def test_exclusion_span_covers_only_its_steps(store: Any) -> None:
    load(
        store,
        [
            # coupon between view and cart
            ("u1", "2025-01-01 10:00:00", "view"),
            ("u1", "2025-01-01 10:05:00", "coupon_received"),
            ("u1", "2025-01-01 10:10:00", "cart"),
            ("u1", "2025-01-01 10:20:00", "purchase"),
        ],
    )
    # exclusion between cart (1) and purchase (2): the coupon comes before the cart -> not voided
    assert run(store, exclusions=(FunnelExclusion(COUPON, 1, 2),)).counts == (1, 1, 1)
    # to_step=None means the last step: view (0) .. purchase (2) contains the coupon -> voided
    assert run(store, exclusions=(FunnelExclusion(COUPON, 0),)).counts == (0, 0, 0)
    with pytest.raises(AnalyticsQueryError, match="between two steps"):
        FunnelQuery((VIEW, CART), JAN1, DAY, exclusions=(FunnelExclusion(COUPON, 1, 1),))


def test_exclusions_in_strict_and_unordered_funnels(store: Any) -> None:
    load(
        store,
        [
            # unordered: cart, then coupon, then view: steps 0..1 complete at the view (10:20);
            # step 0 (view) is reached at 10:20 as well, so the coupon at 10:10 is before step 0: not voided
            ("u1", "2025-01-01 10:00:00", "cart"),
            ("u1", "2025-01-01 10:10:00", "coupon_received"),
            ("u1", "2025-01-01 10:20:00", "view"),
            # strict: view and never a cart; the coupon inside the window voids it
            ("u2", "2025-01-01 10:00:00", "view"),
            ("u2", "2025-01-01 10:10:00", "coupon_received"),
        ],
    )
    ex = (FunnelExclusion(COUPON, 0, 1),)
    assert run(store, steps=(VIEW, CART), order="unordered", exclusions=ex).counts == (1, 1)
    # strict: u1's view is its last event and u2's next event is a coupon -> both stop at step 0;
    # with the exclusion u2's coupon (after the view, inside the window, no cart) voids u2; u1's coupon
    # comes before its view -> u1 alone at step 0
    assert run(store, steps=(VIEW, CART), order="strict").counts == (2, 0)
    assert run(store, steps=(VIEW, CART), order="strict", exclusions=ex).counts == (1, 0)


def test_breakdown_first_and_last_touch(store: Any) -> None:
    load(
        store,
        [
            # u1 arrives from ads, carts from email: first touch ads, last touch email
            ("u1", "2025-01-01 10:00:00", "view", "ads"),
            ("u1", "2025-01-01 10:10:00", "cart", "email"),
            # u2 views from ads only: ads either way
            ("u2", "2025-01-01 11:00:00", "view", "ads"),
            # u3: channel unknown -> "(none)"
            ("u3", "2025-01-01 12:00:00", "view", None),
            ("u3", "2025-01-01 12:10:00", "cart", "email"),
            ("u3", "2025-01-01 12:20:00", "purchase", "push"),
        ],
    )
    first = run(store, breakdown=Breakdown("channel"))
    # first touch: ads {u1, u2}, (none) {u3}; sorted by first-step users, most first
    assert [(s.breakdown, s.counts) for s in first.breakdowns] == [("ads", (2, 1, 0)), ("(none)", (1, 1, 1))]
    assert first.counts == (3, 2, 1)  # rows add up to the total
    last = run(store, breakdown=Breakdown("channel"), attribution="last_touch")
    # last touch: value at the furthest step: u1 email (cart), u2 ads (view), u3 push (purchase)
    assert [(s.breakdown, s.counts) for s in last.breakdowns] == [
        ("ads", (1, 0, 0)),
        ("email", (1, 1, 0)),
        ("push", (1, 1, 1)),
    ]
    assert last.series("email").steps[1].median_seconds_from_first == 600.0
    assert last.actors(store.ibis(), 1, breakdown="email") == ["u1"]
    assert last.actors(store.ibis(), 1, dropped=True, breakdown="ads") == ["u2"]
    assert first.actors(store.ibis(), 1, dropped=True, breakdown="ads") == ["u2"]
    with pytest.raises(AnalyticsQueryError, match="no breakdown value"):
        last.series("sms")


@pytest.mark.parametrize("order", ["ordered", "strict", "unordered"])
def test_best_attempt_without_breakdown_value_stays_none(store: Any, order: str) -> None:
    load(
        store,
        [
            # attempt 1 (from ads) never reaches cart within its hour ...
            ("u1", "2025-01-01 08:00:00", "view", "ads"),
            # ... attempt 2 (no channel) does: it is the best attempt, so its value, "(none)",
            # is the user's first-touch value, not the ads of the other attempt
            ("u1", "2025-01-01 10:00:00", "view", None),
            ("u1", "2025-01-01 10:10:00", "cart", None),
        ],
    )
    r = run(store, steps=(VIEW, CART), window=timedelta(hours=1), order=order, breakdown=Breakdown("channel"))
    assert [(s.breakdown, s.counts) for s in r.breakdowns] == [("(none)", (1, 1))]
    assert r.steps[1].median_seconds_from_first == 600.0  # from the best attempt's view at 10:00


def test_breakdown_by_user_column_with_missing_users(store: Any) -> None:
    load(
        store,
        [
            ("u1", "2025-01-01 10:00:00", "view"),
            ("u1", "2025-01-01 10:10:00", "cart"),
            ("u2", "2025-01-01 11:00:00", "view"),
            ("u3", "2025-01-01 12:00:00", "view"),  # no users row -> "(none)"
        ],
    )
    store.execute("INSERT INTO users (user_id, city_tier) VALUES ('u1', '1'), ('u2', NULL)")
    r = run(store, steps=(VIEW, CART), breakdown=Breakdown("user.city_tier"))
    # tier 1: u1 (carted); (none): u2 (NULL tier) and u3 (no row)
    assert [(s.breakdown, s.counts) for s in r.breakdowns] == [("(none)", (2, 0)), ("1", (1, 1))]
    assert r.actors(store.ibis(), 0, breakdown="(none)") == ["u2", "u3"]


def test_steps_with_column_and_property_conditions(store: Any) -> None:
    load(
        store,
        [
            ("u1", "2025-01-01 10:00:00", "view", "ads"),
            ("u1", "2025-01-01 10:10:00", "purchase", "ads", {"coupon_id": "c1"}),
            ("u2", "2025-01-01 10:00:00", "view", "organic"),  # not from ads: not in the funnel
            ("u2", "2025-01-01 10:10:00", "purchase", "ads", {"coupon_id": "c1"}),
            ("u3", "2025-01-01 10:00:00", "view", "ads"),
            ("u3", "2025-01-01 10:10:00", "purchase", "ads", {"coupon_id": "c2"}),  # other coupon
        ],
    )
    steps = (
        FunnelStep("view", where=(("channel", "ads"),)),
        FunnelStep("purchase", where=(("properties.coupon_id", "c1"),), name="coupon purchase"),
    )
    r = run(store, steps=steps)
    assert r.counts == (2, 1)
    assert [s.name for s in r.steps] == ["view[channel=ads]", "coupon purchase"]
    assert r.actors(store.ibis(), "coupon purchase") == ["u1"]


def test_custom_time_bins(store: Any) -> None:
    load(
        store,
        [
            ("u1", "2025-01-01 10:00:00", "view"),
            ("u1", "2025-01-01 10:00:30", "cart"),  # 30 s -> bin [0, 1 min)
            ("u2", "2025-01-01 10:00:00", "view"),
            ("u2", "2025-01-01 10:01:00", "cart"),  # exactly 1 min -> bin [1 min, 1 h)
            ("u3", "2025-01-01 10:00:00", "view"),
            ("u3", "2025-01-01 12:00:00", "cart"),  # 2 h -> open bin [1 h, inf)
        ],
    )
    r = run(store, steps=(VIEW, CART), time_bins=(timedelta(minutes=1), timedelta(hours=1)))
    assert r.bin_edges_seconds == (0.0, 60.0, 3600.0)
    assert r.steps[1].time_histogram == (1, 1, 1)
    assert r.steps[0].time_histogram == (3, 0, 0)  # step 0 is reached at the start
    assert r.steps[1].median_seconds_from_first == 60.0


def test_actors_frame_and_dict(store: Any) -> None:
    load(
        store,
        [
            ("u1", "2025-01-01 10:00:00", "view", "ads"),
            ("u1", "2025-01-01 10:10:00", "cart", "ads"),
            ("u2", "2025-01-01 11:00:00", "view", "seo"),
        ],
    )
    r = run(store, breakdown=Breakdown("channel"))
    con = store.ibis()
    assert r.actors(con, "view") == ["u1", "u2"]
    assert r.actors(con, "cart", dropped=True) == ["u2"]
    assert r.actors(con, 2, dropped=True) == ["u1"]  # reached the cart, not the purchase
    assert r.actors(con, 0, dropped=True) == []  # nobody drops before entering
    with pytest.raises(AnalyticsQueryError, match="out of range"):
        r.actors(con, 3)
    with pytest.raises(AnalyticsQueryError, match="is not a step"):
        r.actors(con, "refund")
    frame = r.to_frame()
    # 3 overall rows + 3 per channel value (ads, seo)
    assert len(frame) == 9
    assert frame["count"].tolist() == [2, 1, 0, 1, 1, 0, 1, 0, 0]
    assert frame["breakdown"].isna().sum() == 3
    d = r.to_dict()
    json.dumps(d)  # JSON-ready
    assert [s["count"] for s in d["steps"]] == [2, 1, 0]
    assert d["breakdowns"][0]["breakdown"] == "ads"
    assert d["query"]["order"] == "ordered"
    plain = run(store)
    with pytest.raises(AnalyticsQueryError, match="no breakdown"):
        plain.actors(con, 0, breakdown="ads")
