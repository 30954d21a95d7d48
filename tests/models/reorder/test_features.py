"""build_pair_features on the hand-checked timeline of conftest.py: every expected number is derived there."""

from __future__ import annotations

from datetime import date

import pytest

from growthkit.config import Settings
from growthkit.models.reorder import FEATURE_NAMES, FEATURES, ReorderError, build_pair_features, target_orders
from growthkit.models.reorder.orders import order_lines
from growthkit.store import Store, open_store


def test_orders_are_sessions_or_instants_numbered_by_time(timeline_store: Store) -> None:
    orders, lines = order_lines(timeline_store)
    o = orders.execute().sort_values(["user_id", "seq"])
    # ann o1..o4 (the item-less purchase o9 is no order); bob b1..b3; cy c1; dan: two session-less instants
    assert o.groupby("user_id")["seq"].max().to_dict() == {"ann": 4, "bob": 3, "cy": 1, "dan": 2}
    assert o[o.user_id == "ann"]["order_key"].tolist() == ["o1", "o2", "o3", "o4"]
    assert o[o.user_id == "dan"]["basket"].tolist() == [2, 1]  # y and x at 08:00 form one order
    li = lines.execute().set_index(["user_id", "seq", "item_id"])["pos"]
    assert li[("ann", 3, "jam")] == 3.0  # add_to_cart_order from properties
    # no cart positions for dan: rank by first event time, ties by item id, so x before y
    assert (li[("dan", 1, "x")], li[("dan", 1, "y")]) == (1.0, 2.0)


def test_last_order_target_pair_features_by_hand(timeline_store: Store) -> None:
    t = build_pair_features(timeline_store, "last")
    x = t.x
    assert list(x.columns) == list(FEATURE_NAMES) == list(FEATURES)
    # candidates: what each user bought before the last order; cy (one order) has no history to predict from
    assert x.index.get_level_values("user_id").unique().tolist() == ["ann", "bob", "dan"]
    assert x.loc["ann"].index.tolist() == ["bread", "eggs", "jam", "milk"]  # not caviar (a view)
    milk = x.loc[("ann", "milk")]
    # ann's history: o1 {milk, eggs} Jan 1, o2 {milk, bread} Jan 8, o3 {milk, eggs, jam} Jan 15 -> 3 orders
    assert milk.up_orders == 3 and milk.up_order_share == 1.0  # in all 3
    assert milk.up_share_since_first == 1.0 and milk.up_orders_since_first == 3  # since o1: 3 orders, 3 with it
    assert milk.up_orders_since_last == 0 and milk.up_days_since_last == 0.0  # in o3, the last history order
    assert milk.up_streak == 3 and milk.up_last3 == 3  # o1, o2, o3 in a row
    assert milk.up_mean_gap_orders == 1.0 and milk.up_mean_gap_days == 7.0  # (3 - 1) / 2; 14 days / 2
    assert milk.up_mean_cart_pos == 1.0  # always added first
    assert milk.up_mean_cart_share == pytest.approx((1 / 2 + 1 / 2 + 1 / 3) / 3)  # pos / basket per order
    eggs = x.loc[("ann", "eggs")]
    assert eggs.up_orders == 2 and eggs.up_order_share == pytest.approx(2 / 3)  # o1 and o3
    assert eggs.up_streak == 1 and eggs.up_last3 == 2  # in o3 but not in o2
    assert eggs.up_mean_gap_orders == 2.0 and eggs.up_mean_gap_days == 14.0  # o1 -> o3, Jan 1 -> Jan 15
    assert eggs.up_mean_cart_pos == 2.0 and eggs.up_mean_cart_share == pytest.approx((2 / 2 + 2 / 3) / 2)
    bread = x.loc[("ann", "bread")]
    assert bread.up_orders == 1 and bread.up_share_since_first == 0.5  # first in o2: o2, o3 -> 1 of 2
    assert bread.up_orders_since_last == 1 and bread.up_days_since_last == 7.0  # o2 (Jan 8) to o3 (Jan 15)
    assert bread.up_streak == 0 and bread.up_last3 == 1
    assert bread.up_mean_gap_orders == 0.0 and bread.up_mean_gap_days == 0.0  # bought once: 0 by rule
    jam = x.loc[("ann", "jam")]
    assert jam.up_orders_since_first == 1 and jam.up_streak == 1 and jam.up_mean_cart_share == 1.0  # 3rd of 3
    # ann as a user: baskets 2, 2, 3; 7 lines of 4 distinct items -> 3 repeats; gaps 7 and 7 days
    assert milk.u_orders == 3 and milk.u_items == 4
    assert milk.u_mean_basket == pytest.approx(7 / 3) and milk.u_last_basket == 3
    assert milk.u_reorder_rate == pytest.approx(3 / 7)
    assert milk.u_mean_gap_days == 7.0 and milk.u_last_gap_days == 7.0
    # bob: b1 {eggs} Jan 5, b2 {eggs, milk} Jan 20 -> gaps of 15 days, 3 lines of 2 items
    bob = x.loc[("bob", "eggs")]
    assert bob.up_orders == 2 and bob.up_streak == 2 and bob.up_mean_gap_days == 15.0
    assert bob.up_mean_cart_share == pytest.approx((1 / 1 + 1 / 2) / 2)
    assert bob.u_mean_basket == 1.5 and bob.u_reorder_rate == pytest.approx(1 / 3) and bob.u_last_gap_days == 15.0
    # dan has one history order: the user's gaps are 0 by rule
    assert x.loc[("dan", "x")].u_mean_gap_days == 0.0 and x.loc[("dan", "x")].u_last_gap_days == 0.0
    # products pool the history lines of ann, bob and dan. milk: ann o1, o2, o3 and bob b2 -> 4 lines, 2 users
    assert milk.p_lines == 4 and milk.p_users == 2 and milk.p_reorder_rate == 0.5
    assert milk.p_repeat_share == 0.5  # ann bought it 3 times, bob once
    assert milk.p_mean_cart_share == pytest.approx((1 / 2 + 1 / 2 + 1 / 3 + 2 / 2) / 4)
    # eggs: ann o1 (2/2), o3 (2/3); bob b1 (1/1), b2 (1/2); both users bought it twice
    assert eggs.p_lines == 4 and eggs.p_repeat_share == 1.0
    assert eggs.p_mean_cart_share == pytest.approx((1 + 2 / 3 + 1 + 1 / 2) / 4)


def test_last_order_labels_and_targets(timeline_store: Store) -> None:
    t = build_pair_features(timeline_store, "last")
    assert t.y is not None
    # ann's o4 = {milk, bread}; bob's b3 = {tea}, new, so no positive; dan's 2nd order = {x}
    assert t.y[t.y == 1].index.tolist() == [("ann", "bread"), ("ann", "milk"), ("dan", "x")]
    u = t.users
    assert u.loc["ann"].tolist() == [4, 3, pytest.approx(7 / 3), 4, 2, 2]
    assert u.loc["bob", "target_size"] == 1 and u.loc["bob", "target_reorders"] == 0
    assert t.n_pairs == 4 + 2 + 2


def test_second_to_last_next_and_cutoff_targets(timeline_store: Store) -> None:
    prev = build_pair_features(timeline_store, "last", offset=1)
    # ann's target is o3 (history o1, o2); bob's b2 (history b1); dan has no order before his 1st
    assert prev.users["target_seq"].to_dict() == {"ann": 3, "bob": 2}
    assert prev.y is not None and prev.y[prev.y == 1].index.tolist() == [
        ("ann", "eggs"),
        ("ann", "milk"),
        ("bob", "eggs"),
    ]
    nxt = build_pair_features(timeline_store, "next")
    assert nxt.y is None and "target_size" not in nxt.users.columns
    assert nxt.users["target_seq"].to_dict() == {"ann": 5, "bob": 4, "cy": 2, "dan": 3}
    assert nxt.x.loc[("ann", "milk"), "up_orders"] == 4 and nxt.x.loc[("ann", "bread"), "up_streak"] == 1
    cut = build_pair_features(timeline_store, "cutoff", cutoff=date(2025, 1, 10))
    # the first order at or after Jan 10 00:00: ann o3, bob b2, dan's 2nd (exactly at the cutoff);
    # cy's only order is at the cutoff, with nothing before it
    assert cut.users["target_seq"].to_dict() == {"ann": 3, "bob": 2, "dan": 2}
    window = build_pair_features(timeline_store, "cutoff", cutoff=date(2025, 1, 10), until=date(2025, 1, 12))
    assert window.users.index.tolist() == ["dan"]  # ann's o3 (Jan 15) and bob's b2 (Jan 20) are after until
    before = build_pair_features(timeline_store, "last", before=date(2025, 1, 16))
    # ann's o4 is not seen, so o3 is her last; bob keeps only b1 (b2 is Jan 20): one order, no target
    assert before.users["target_seq"].to_dict() == {"ann": 3, "dan": 2}


def test_bad_requests_say_what_to_fix(timeline_store: Store) -> None:
    with pytest.raises(ReorderError, match="must be one of last, cutoff, next"):
        build_pair_features(timeline_store, "first")
    with pytest.raises(ReorderError, match="needs a cutoff"):
        build_pair_features(timeline_store, "cutoff")
    with pytest.raises(ReorderError, match="apply to the 'cutoff' target only"):
        build_pair_features(timeline_store, "last", cutoff=date(2025, 1, 10))
    with pytest.raises(ReorderError, match="must be after the cutoff"):
        build_pair_features(timeline_store, "cutoff", cutoff=date(2025, 1, 10), until=date(2025, 1, 1))
    with pytest.raises(ReorderError, match="offset must be a whole number"):
        build_pair_features(timeline_store, "last", offset=-1)
    with pytest.raises(ReorderError, match="nothing to predict"):
        build_pair_features(timeline_store, "last", offset=5)
    orders, _ = order_lines(timeline_store)
    with pytest.raises(ReorderError, match="must be one of"):
        target_orders(orders, "bogus")


def test_a_store_without_item_ids_is_explained(insert) -> None:  # type: ignore[no-untyped-def]
    with open_store(Settings(db=":memory:")) as st:
        insert(st, [("1", "ann", "1997-01-01", "purchase", None, None, None)])  # CDNOW-like
        with pytest.raises(ReorderError, match="no purchase events with an item_id"):
            build_pair_features(st)
