"""Funnels on tiny hand-checked timelines: anchoring, windows, boundaries, order modes, ties.

Every expected number is justified in a comment. The funnel semantics are documented in
``growthkit.analytics.funnel`` and ``docs/analytics/funnel.md``.
"""

from __future__ import annotations

import doctest
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import pytest

from growthkit.analytics import funnel
from growthkit.analytics._common import AnalyticsQueryError, DateRange
from growthkit.analytics.funnel import FunnelQuery, FunnelResult, FunnelStep, run_funnel
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
    """Insert ``(user, 'YYYY-MM-DD HH:MM:SS', event_type[, channel])``; event ids e000, e001, ... in order."""
    values = []
    for i, row in enumerate(rows):
        user, ts, etype = row[:3]
        channel = f"'{row[3]}'" if len(row) > 3 and row[3] is not None else "NULL"
        values.append(f"('e{i:03d}', '{user}', TIMESTAMP '{ts}', '{etype}', NULL, NULL, {channel})")
    store.execute(
        "INSERT INTO events (event_id, user_id, ts, event_type, item_id, amount, channel) VALUES " + ", ".join(values)
    )


def run(store: Any, steps: Sequence[FunnelStep] = (VIEW, CART, BUY), **kw: Any) -> FunnelResult:
    kw.setdefault("date_range", JAN1)
    kw.setdefault("window", DAY)
    return run_funnel(store.ibis(), FunnelQuery(steps=tuple(steps), **kw))


def test_basic_counts_conversions_and_times(store: Any) -> None:
    load(
        store,
        [
            ("u1", "2025-01-01 10:00:00", "view"),
            ("u1", "2025-01-01 10:10:00", "cart"),
            ("u1", "2025-01-01 11:00:00", "purchase"),
            ("u2", "2025-01-01 12:00:00", "view"),
            ("u2", "2025-01-01 12:30:00", "cart"),
            ("u3", "2025-01-01 13:00:00", "view"),
            ("u4", "2025-01-01 13:00:00", "cart"),  # never viewed: not in the funnel
        ],
    )
    r = run(store)
    # step 0: u1, u2, u3; step 1: u1, u2; step 2: u1
    assert r.counts == (3, 2, 1)
    assert [s.conversion_from_first for s in r.steps] == [1.0, 2 / 3, 1 / 3]
    assert [s.conversion_from_previous for s in r.steps] == [1.0, 2 / 3, 1 / 2]
    assert [s.dropped for s in r.steps] == [0, 1, 1]
    # view->cart: u1 600 s, u2 1800 s -> median 1200 s; view->purchase: u1 3600 s
    assert r.steps[0].median_seconds_from_first == 0.0
    assert r.steps[1].median_seconds_from_first == 1200.0
    assert r.steps[2].median_seconds_from_first == 3600.0
    # cart->purchase: u1 50 min
    assert r.steps[2].median_seconds_from_previous == 3000.0
    assert r.steps[0].median_seconds_from_previous is None
    # default bins: ten of 2.4 h over the one-day window; 600 s and 1800 s and 3600 s all fall in bin 0
    assert r.bin_edges_seconds[:3] == (0.0, 8640.0, 17280.0)
    assert r.steps[1].time_histogram == (2, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert r.overall_conversion == 1 / 3
    assert r.breakdowns == ()


def test_the_attempt_that_leads_furthest_counts_and_ties_take_the_earliest(store: Any) -> None:
    load(
        store,
        [
            # u1 (1 h window): the 08:00 view leads to a cart only (its window closes at 09:00,
            # before the purchase); the 09:00 view leads to cart and purchase
            ("u1", "2025-01-01 08:00:00", "view"),
            ("u1", "2025-01-01 08:30:00", "cart"),
            ("u1", "2025-01-01 09:00:00", "view"),
            ("u1", "2025-01-01 09:30:00", "cart"),
            ("u1", "2025-01-01 09:45:00", "purchase"),
            # u2: both views reach the cart; the earlier (10:00) attempt is credited
            ("u2", "2025-01-01 10:00:00", "view"),
            ("u2", "2025-01-01 10:20:00", "view"),
            ("u2", "2025-01-01 10:30:00", "cart"),
        ],
    )
    r = run(store, window=timedelta(hours=1))
    # u1: from 08:00 the 1 h window closes at 09:00, before the purchase -> reaches cart only;
    # from 09:00 it reaches the purchase -> credited with the 09:00 attempt. u2 reaches the cart.
    assert r.counts == (2, 2, 1)
    # purchase time is measured from u1's 09:00 view: 45 min
    assert r.steps[2].median_seconds_from_first == 2700.0
    # cart: u1 30 min (09:00 -> 09:30), u2 30 min from the earlier 10:00 view (not 10 min from 10:20)
    assert r.steps[1].median_seconds_from_first == 1800.0
    assert r.actors(store.ibis(), 2) == ["u1"]


def test_events_before_the_range_never_count(store: Any) -> None:
    load(
        store,
        [
            # u1 viewed the day before the range, carted inside it: not in the funnel
            ("u1", "2024-12-31 23:00:00", "view"),
            ("u1", "2025-01-01 01:00:00", "cart"),
            # u2 viewed before and inside the range: the attempt starts at the in-range view,
            # and the cart before it does not count
            ("u2", "2024-12-31 22:00:00", "view"),
            ("u2", "2024-12-31 23:00:00", "cart"),
            ("u2", "2025-01-01 02:00:00", "view"),
            ("u2", "2025-01-01 03:00:00", "cart"),
        ],
    )
    r = run(store)
    assert r.counts == (1, 1, 0)
    assert r.steps[1].median_seconds_from_first == 3600.0  # 02:00 -> 03:00
    assert r.actors(store.ibis(), 0) == ["u2"]


def test_range_boundaries(store: Any) -> None:
    load(
        store,
        [
            ("u1", "2025-01-01 00:00:00", "view"),  # exactly at the range start: in
            ("u2", "2025-01-02 00:00:00", "view"),  # exactly at midnight after the last day: out
            ("u3", "2025-01-01 23:59:59", "view"),  # last second of the range: in
            ("u3", "2025-01-02 10:00:00", "cart"),  # after the range, inside the window: counts
        ],
    )
    r = run(store)
    assert r.counts == (2, 1, 0)
    assert r.actors(store.ibis(), 0) == ["u1", "u3"]
    assert r.actors(store.ibis(), 1) == ["u3"]


def test_conversion_window_is_inclusive(store: Any) -> None:
    load(
        store,
        [
            ("u1", "2025-01-01 10:00:00", "view"),
            ("u1", "2025-01-01 11:00:00", "cart"),  # exactly window after the view: in
            ("u2", "2025-01-01 10:00:00", "view"),
            ("u2", "2025-01-01 11:00:01", "cart"),  # one second too late: out
            ("u1", "2025-01-01 11:00:01", "purchase"),  # also one second past u1's window: out
        ],
    )
    r = run(store, window=timedelta(hours=1))
    assert r.counts == (2, 1, 0)
    assert r.actors(store.ibis(), 1) == ["u1"]
    assert r.actors(store.ibis(), 1, dropped=True) == ["u2"]


def test_same_timestamp_counts_in_funnel_order_and_one_event_fills_one_step(store: Any) -> None:
    load(
        store,
        [
            # inserted purchase, cart, view, all at the same second: ties count in funnel order
            ("u1", "2025-01-01 10:00:00", "purchase"),
            ("u1", "2025-01-01 10:00:00", "cart"),
            ("u1", "2025-01-01 10:00:00", "view"),
        ],
    )
    r = run(store)
    assert r.counts == (1, 1, 1)
    assert r.steps[2].median_seconds_from_first == 0.0
    # view -> view needs two view events: u1 has one
    r2 = run(store, steps=(VIEW, VIEW))
    assert r2.counts == (1, 0)


def test_two_views_at_the_same_second_fill_view_view(store: Any) -> None:
    load(store, [("u1", "2025-01-01 10:00:00", "view"), ("u1", "2025-01-01 10:00:00", "view")])
    assert run(store, steps=(VIEW, VIEW)).counts == (1, 1)


def test_strict_order_breaks_on_any_intervening_event(store: Any) -> None:
    load(
        store,
        [
            # u1: view, search, cart -> ordered converts to cart; strict stops at the view
            ("u1", "2025-01-01 10:00:00", "view"),
            ("u1", "2025-01-01 10:01:00", "search"),
            ("u1", "2025-01-01 10:02:00", "cart"),
            # u2: view, cart, purchase back to back -> strict converts
            ("u2", "2025-01-01 10:00:00", "view"),
            ("u2", "2025-01-01 10:01:00", "cart"),
            ("u2", "2025-01-01 10:02:00", "purchase"),
            # u3: a failed strict attempt (view, view, ...) then a clean one; the second view starts it
            ("u3", "2025-01-01 12:00:00", "view"),
            ("u3", "2025-01-01 12:01:00", "view"),
            ("u3", "2025-01-01 12:02:00", "cart"),
            # u4: a non-step event at the same second as the view sorts after it and breaks the chain
            ("u4", "2025-01-01 13:00:00", "view"),
            ("u4", "2025-01-01 13:00:00", "share"),
            ("u4", "2025-01-01 13:01:00", "cart"),
        ],
    )
    assert run(store).counts == (4, 4, 1)
    strict = run(store, order="strict")
    # step 1 in strict order: u2 (view, cart adjacent), u3 (12:01 view, cart adjacent)
    assert strict.counts == (4, 2, 1)
    assert strict.actors(store.ibis(), 1) == ["u2", "u3"]
    assert strict.actors(store.ibis(), 1, dropped=True) == ["u1", "u4"]
    # u3's credited attempt starts at 12:01: one minute to the cart
    assert strict.series().steps[1].median_seconds_from_first == 60.0


def test_unordered_steps_in_any_order(store: Any) -> None:
    load(
        store,
        [
            # u1: purchase, cart, view in reverse order -> all three steps in any order
            ("u1", "2025-01-01 10:00:00", "purchase"),
            ("u1", "2025-01-01 10:10:00", "cart"),
            ("u1", "2025-01-01 10:20:00", "view"),
            # u2: cart in the range, view after the range (in the window), no purchase -> steps 0 and 1
            ("u2", "2025-01-01 23:00:00", "cart"),
            ("u2", "2025-01-02 01:00:00", "view"),
            # u3: purchase only -> never did view: not in the funnel
            ("u3", "2025-01-01 09:00:00", "purchase"),
            # u4: view and cart both after the range: the attempt's first event is out of range
            ("u4", "2025-01-02 09:00:00", "view"),
            ("u4", "2025-01-02 09:30:00", "cart"),
            # u5: purchase in the range, view only after it: the purchase-started attempt reaches no
            # step up to the purchase's own (view, cart missing) and a view-started one is out of range
            ("u5", "2025-01-01 23:00:00", "purchase"),
            ("u5", "2025-01-02 01:00:00", "view"),
        ],
    )
    ordered = run(store)
    # ordered: u1's view is last, so only step 0; u2's view is out of range -> not in it
    assert ordered.counts == (1, 0, 0)
    r = run(store, order="unordered")
    assert r.counts == (2, 2, 1)
    assert r.actors(store.ibis(), 2) == ["u1"]
    # steps 0..1 complete: u1 at 10:20 (20 min after its 10:00 start), u2 at 01:00 (2 h after 23:00)
    assert r.steps[1].median_seconds_from_first == (1200 + 7200) / 2
    # steps 0..2 complete for u1 at 10:20 as well: 0 s after steps 0..1 completed
    assert r.steps[2].median_seconds_from_previous == 0.0


def test_per_step_window_uses_any_feasible_previous_step(store: Any) -> None:
    windows = (timedelta(hours=12), timedelta(hours=6))  # view -> cart <= 12 h, cart -> purchase <= 6 h
    load(
        store,
        [
            # u1: carts at 10:00 and 19:00 (both within 12 h of the view), purchase at 23:00: too late
            # after the 10:00 cart (13 h) but 4 h after the 19:00 one -> u1 converts
            ("u1", "2025-01-01 09:00:00", "view"),
            ("u1", "2025-01-01 10:00:00", "cart"),
            ("u1", "2025-01-01 19:00:00", "cart"),
            ("u1", "2025-01-01 23:00:00", "purchase"),
            # u2: cart 13 h after the view: past the 12 h step window (inside the 1-day window)
            ("u2", "2025-01-01 09:00:00", "view"),
            ("u2", "2025-01-01 22:00:00", "cart"),
        ],
    )
    r = run(store, step_windows=windows)
    assert r.counts == (2, 1, 1)
    assert r.actors(store.ibis(), 1, dropped=True) == ["u2"]
    # times are when each step was first reached: cart 10:00, purchase 23:00 -> 13 h "from previous"
    assert r.steps[2].median_seconds_from_previous == 13 * 3600.0
    assert r.steps[2].median_seconds_from_first == 14 * 3600.0
    # without step windows u2 reaches the cart too
    assert run(store).counts == (2, 2, 1)
    # strict order: u1's view and first cart are adjacent (1 h), then comes a cart, not a purchase;
    # u2's adjacent cart is past the step window
    assert run(store, order="strict", step_windows=windows).counts == (2, 1, 0)
    # a None entry adds no bound: only cart -> purchase <= 6 h
    assert run(store, step_windows=(None, timedelta(hours=6))).counts == (2, 2, 1)


def test_empty_range_gives_zeros(store: Any) -> None:
    load(store, [("u1", "2025-02-01 10:00:00", "view"), ("u1", "2025-02-01 10:01:00", "cart")])
    for order in ("ordered", "strict", "unordered"):
        r = run(store, order=order)
        assert r.counts == (0, 0, 0)
        assert [s.conversion_from_first for s in r.steps] == [0.0, 0.0, 0.0]
        assert r.steps[1].median_seconds_from_first is None
        assert r.steps[1].time_histogram == (0,) * 10
        assert r.actors(store.ibis(), 0) == []


def test_invalid_queries_say_what_to_fix() -> None:
    with pytest.raises(AnalyticsQueryError, match="at least two steps"):
        FunnelQuery((VIEW,), JAN1, DAY)
    with pytest.raises(AnalyticsQueryError, match="window must be positive"):
        FunnelQuery((VIEW, CART), JAN1, timedelta(0))
    with pytest.raises(AnalyticsQueryError, match="order must be one of"):
        FunnelQuery((VIEW, CART), JAN1, DAY, order="random")  # type: ignore[arg-type]
    with pytest.raises(AnalyticsQueryError, match="one entry per transition"):
        FunnelQuery((VIEW, CART, BUY), JAN1, DAY, step_windows=(DAY,))
    with pytest.raises(AnalyticsQueryError, match="step_windows need an order"):
        FunnelQuery((VIEW, CART), JAN1, DAY, step_windows=(DAY,), order="unordered")
    with pytest.raises(AnalyticsQueryError, match="cannot repeat a step"):
        FunnelQuery((VIEW, VIEW), JAN1, DAY, order="unordered")
    with pytest.raises(AnalyticsQueryError, match="unknown column"):
        FunnelStep("view", where=(("colour", "red"),))
    with pytest.raises(AnalyticsQueryError, match="strictly increasing"):
        FunnelQuery((VIEW, CART), JAN1, DAY, time_bins=(DAY, timedelta(hours=1)))
    with pytest.raises(AnalyticsQueryError, match="attribution"):
        FunnelQuery((VIEW, CART), JAN1, DAY, attribution="linear")  # type: ignore[arg-type]


def test_docstring_example_runs() -> None:
    failed, attempted = doctest.testmod(funnel, optionflags=doctest.ELLIPSIS)[:2]
    assert attempted > 0 and failed == 0
