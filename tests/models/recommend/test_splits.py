"""Evaluation splits: sizes, no leakage between train and test, and which rows each protocol holds out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from growthkit.features.interactions import InteractionWeights
from growthkit.models.recommend import RecommendError
from growthkit.models.recommend.splits import make_split, split_again, weigh

T0 = pd.Timestamp("2025-01-01")


def pairs_of(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["user_id"].astype(str), frame["item_id"].astype(str), strict=True))


def train_pairs(split) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return pairs_of(split.train.to_frame())


def ratings_log(seed: int = 0) -> pd.DataFrame:
    """Users u0..u29 with 2..13 distinct items each, one event per (user, item)."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(30):
        n = 2 + u % 12
        for j, item in enumerate(rng.choice(40, size=n, replace=False)):
            rows.append((f"u{u}", f"i{item}", T0 + pd.Timedelta(hours=u * 24 + j), "review"))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "ts", "event_type"])


W = InteractionWeights(event_weights={"review": 1.0}, binary=True)


def test_stratified_split_per_user_counts_round_half_to_even() -> None:
    log = ratings_log()
    split = make_split("stratified", log, weights=W, ratio=0.75, seed=42)
    train = split.train.to_frame().groupby("user_id").size()
    test = split.test.groupby("user_id").size()
    n = log.groupby("user_id").size()
    for user, total in n.items():
        want = int(np.round(0.75 * total))  # n=2 -> 1.5 -> 2 (even); n=6 -> 4.5 -> 4 (even); n=4 -> 3
        assert train.get(user, 0) == want, (user, total)
        assert test.get(user, 0) == total - want
    assert train_pairs(split).isdisjoint(pairs_of(split.test))
    assert train_pairs(split) | pairs_of(split.test) == pairs_of(log)
    assert split.exclude_seen and split.params == {"ratio": 0.75, "seed": 42, "min_pairs": 1}


def test_stratified_split_is_reproducible_and_depends_on_the_seed() -> None:
    log = ratings_log()
    a = make_split("stratified", log, weights=W, seed=1)
    b = make_split("stratified", log, weights=W, seed=1)
    c = make_split("stratified", log, weights=W, seed=2)
    assert pairs_of(a.test) == pairs_of(b.test)
    assert pairs_of(a.test) != pairs_of(c.test)


def test_random_split_holds_out_a_share_of_pairs_with_all_their_events() -> None:
    log = ratings_log()
    repeat = log.iloc[::3].assign(event_type="review", ts=lambda f: f["ts"] + pd.Timedelta(minutes=5))
    log2 = pd.concat([log, repeat], ignore_index=True)  # some pairs have two events
    split = make_split("random", log2, weights=W, test_ratio=0.2, seed=0)
    n_pairs = len(pairs_of(log2))
    assert len(split.test) == round(0.2 * n_pairs)
    assert split.train.log is not None
    assert pairs_of(split.train.log).isdisjoint(pairs_of(split.test))  # no event of a test pair trains
    assert train_pairs(split) | pairs_of(split.test) == pairs_of(log2)


def test_temporal_split_has_no_future_in_training_and_only_new_items_in_the_truth() -> None:
    log = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b", "b", "c"],
            "item_id": ["x", "y", "x", "x", "z", "y"],
            "ts": T0 + pd.to_timedelta([0, 1, 5, 2, 6, 7], unit="D"),
            "event_type": "view",
        }
    )
    split = make_split("temporal", log, weights=InteractionWeights(), test_days=3.0)
    cutoff = pd.Timestamp(split.params["cutoff"])  # last event (day 7) minus 3 days = day 4
    assert cutoff == T0 + pd.Timedelta(days=4)
    assert split.train.log is not None and (split.train.log["ts"] < cutoff).all()
    # a re-viewed x (seen before the cutoff): not in the truth; b's z is new; c is a new user with y
    assert pairs_of(split.test) == {("b", "z"), ("c", "y")}
    assert "c" not in set(split.train.user_ids)  # cold user: answered by the popularity fallback


def test_leave_last_out_holds_out_the_latest_new_item() -> None:
    log = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "a", "b", "c", "c"],
            "item_id": ["x", "y", "x", "z", "x", "y", "y"],
            "ts": T0 + pd.to_timedelta([0, 1, 9, 3, 0, 1, 2], unit="h"),
            "event_type": "view",
        }
    )
    split = make_split("leave-last", log, weights=InteractionWeights())
    # a first touched x (0h), y (1h), z (3h); the x at 9h is a repeat: z is the last new item.
    # b and c touched one distinct item only: they stay in training and have no test.
    assert pairs_of(split.test) == {("a", "z")}
    assert ("a", "z") not in train_pairs(split)
    assert {("a", "x"), ("a", "y"), ("b", "x"), ("c", "y")} == train_pairs(split)


def basket_log() -> pd.DataFrame:
    rows = [
        ("a", "milk", "o1", 0), ("a", "bread", "o1", 0), ("a", "milk", "o2", 5), ("a", "eggs", "o2", 5),
        ("a", "milk", "o3", 9), ("a", "jam", "o3", 9), ("a", "bread", "o3", 9),
        ("b", "milk", "o4", 1), ("b", "tea", "o5", 3),
        ("c", "eggs", "o6", 2),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "session_id", "day"])
    views = pd.DataFrame({"user_id": ["a"], "item_id": ["tea"], "session_id": [None], "day": [7]})
    frame = pd.concat([frame.assign(event_type="purchase"), views.assign(event_type="view")], ignore_index=True)
    return frame.assign(ts=T0 + pd.to_timedelta(frame.pop("day"), unit="D"))


def test_next_basket_holds_out_the_last_order() -> None:
    w = InteractionWeights(event_weights={"purchase": 1.0, "view": 1.0})
    split = make_split("next-basket", basket_log(), weights=w, basket="all")
    # a's last order is o3 (day 9), b's is o5; c has a single order and is not tested
    assert pairs_of(split.test) == {("a", "milk"), ("a", "jam"), ("a", "bread"), ("b", "tea")}
    assert not split.exclude_seen  # buying again is the point
    log = split.train.log
    assert log is not None and set(log["session_id"].dropna()) == {"o1", "o2", "o4", "o6"}
    assert ("a", "tea") in train_pairs(split)  # a's view before the last order still trains
    reorders = make_split("next-basket", basket_log(), weights=w, basket="reorders")
    assert pairs_of(reorders.test) == {("a", "milk"), ("a", "bread")}  # bought in o1/o2 before
    new = make_split("next-basket", basket_log(), weights=w, basket="new")
    assert pairs_of(new.test) == {("a", "jam"), ("b", "tea")} and new.exclude_seen


def test_item_axis_is_the_whole_catalogue_and_context_is_carried() -> None:
    log = ratings_log()
    items = pd.DataFrame({"item_id": ["i0", "never-touched"], "title": ["zero", "new"], "category": ["c", "c"]})
    split = make_split("stratified", log, weights=W, items=items, seed=3)
    assert "never-touched" in set(split.train.item_ids)
    assert split.train.items is not None and split.train.items.loc["never-touched", "title"] == "new"
    assert split.train.log is not None and "weight" in split.train.log.columns
    users, truth, n_rel = split.truth()
    assert truth.shape == (len(users), split.train.n_items)
    assert n_rel.sum() == len(split.test) == truth.nnz


def test_weights_drop_unlisted_events_and_decay_old_ones() -> None:
    log = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b"],
            "item_id": ["x", "y", "z", "x"],
            "ts": T0 + pd.to_timedelta([0, 10, 10, 10], unit="D"),
            "event_type": ["view", "purchase", "search", "view"],
        }
    )
    rows = weigh(log, InteractionWeights(event_weights={"view": 1.0, "purchase": 5.0}))
    assert set(rows["event_type"]) == {"view", "purchase"}  # search has no weight
    w = InteractionWeights(event_weights={"view": 1.0, "purchase": 5.0}, half_life_days=10.0)
    split = make_split("leave-last", log, weights=w)  # a's last new item y is held out
    frame = split.train.to_frame().set_index(["user_id", "item_id"])["weight"]
    # a's view of x is 10 days older than the last training row: half its weight
    assert frame[("a", "x")] == pytest.approx(0.5)
    assert frame[("b", "x")] == pytest.approx(1.0)


def test_validation_split_comes_from_the_training_rows_only() -> None:
    split = make_split("stratified", ratings_log(), weights=W, seed=42)
    val = split_again(split.train, "stratified", split.params, W)
    seen = train_pairs(val) | pairs_of(val.test)
    assert seen == train_pairs(split)  # exactly the training pairs, re-split
    assert seen.isdisjoint(pairs_of(split.test))


def test_bad_arguments_say_what_to_fix() -> None:
    log = ratings_log()
    with pytest.raises(RecommendError, match="unknown split"):
        make_split("shuffle", log, weights=W)
    with pytest.raises(RecommendError, match="ratio"):
        make_split("stratified", log, weights=W, ratio=1.5)
    with pytest.raises(RecommendError, match="ts"):
        make_split("temporal", log.drop(columns="ts"), weights=W)
    with pytest.raises(RecommendError, match="order_id or session_id"):
        make_split("next-basket", log, weights=W)
    with pytest.raises(RecommendError, match="weighted event types"):
        make_split("random", log, weights=InteractionWeights(event_weights={"purchase": 1.0}))
    with pytest.raises(RecommendError, match="user_id and item_id"):
        make_split("random", log.drop(columns="item_id"), weights=W)
