"""Hyperparameter search: it tunes on a validation split cut from training data and never sees the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from growthkit.features.interactions import Interactions, InteractionWeights
from growthkit.models.recommend import Popularity, RecommendError
from growthkit.models.recommend import base as recommend_base
from growthkit.models.recommend.search import candidates, make_model, search
from growthkit.models.recommend.splits import make_split

W = InteractionWeights(event_weights={"purchase": 1.0}, binary=True)
T0 = pd.Timestamp("2025-01-01")


def taste_log(users_per_group: int = 12, items_per_group: int = 8, seed: int = 0) -> pd.DataFrame:
    """Two groups that never share items; globally the b items are more popular."""
    rng = np.random.default_rng(seed)
    rows = []
    for g, n_users in (("a", users_per_group), ("b", 2 * users_per_group)):
        for u in range(n_users):
            for item in rng.choice(items_per_group, size=5, replace=False):
                rows.append((f"{g}{u}", f"{g}-item{item}"))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id"])
    return frame.assign(ts=T0 + pd.to_timedelta(np.arange(len(frame)), unit="min"), event_type="purchase")


def catalogue() -> pd.DataFrame:
    ids = [f"{g}-item{i}" for g in "ab" for i in range(8)]
    return pd.DataFrame({"item_id": ids, "title": ids, "category": [i[0] for i in ids]})


@pytest.fixture
def spy() -> Iterator[list[set[tuple[str, str]]]]:
    """Registers ``spy_search``: popularity that records every matrix it is fitted on (only for this test)."""
    fitted: list[set[tuple[str, str]]] = []

    class Spy(Popularity):
        name = "spy_search"

        def _fit(self, x: sparse.csr_matrix, interactions: Interactions) -> None:
            f = interactions.to_frame()
            fitted.append(set(zip(f["user_id"], f["item_id"], strict=True)))
            super()._fit(x, interactions)

    yield fitted
    recommend_base._REGISTRY.pop(Spy.name, None)  # keep the registry as other tests expect it


def pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["user_id"].astype(str), frame["item_id"].astype(str), strict=True))


def test_search_fits_only_on_training_pairs_and_never_on_test_pairs(spy: list[set[tuple[str, str]]]) -> None:
    split = make_split("stratified", taste_log(), weights=W, items=catalogue(), ratio=0.75, seed=42)
    train = pairs(split.train.to_frame())
    test = pairs(split.test)
    result = search(
        "spy_search", split.train, kind=split.kind, split_params=split.params, weights=W,
        grid={"by": ["global", "category"]},
    )  # fmt: skip
    assert len(spy) == len(result.trials) == 3  # defaults, then the two grid values
    for fitted in spy:
        assert fitted < train  # a strict part of the training pairs: the rest is the validation truth
        assert fitted.isdisjoint(test)
    assert result.validation_users > 0 and "stratified" in result.validation


def test_search_finds_the_setting_that_fits_the_data() -> None:
    # The a-users only ever buy a items; global popularity pushes b items (twice as many b-users),
    # popularity within the user's category ranks a items first for them.
    split = make_split("stratified", taste_log(), weights=W, items=catalogue(), ratio=0.75, seed=42)
    result = search(
        "popularity", split.train, kind=split.kind, split_params=split.params, weights=W,
        grid={"by": ["global", "category"]}, metric="ndcg@5",
    )  # fmt: skip
    assert result.best_params == {"by": "category"}
    scores = {t.params.get("by", "global"): t.score for t in result.trials}
    assert scores["category"] > scores["global"]
    assert result.to_dict()["best_params"] == {"by": "category"}


def test_a_failing_setting_is_recorded_not_raised() -> None:
    split = make_split("stratified", taste_log(), weights=W, ratio=0.75, seed=42)  # no catalogue: no categories
    result = search(
        "popularity", split.train, kind=split.kind, split_params=split.params, weights=W, grid={"by": ["category"]}
    )
    failed = [t for t in result.trials if t.error]
    assert len(failed) == 1 and "categor" in str(failed[0].error)
    assert result.best_params == {}  # the defaults still work


def test_candidates_take_the_grid_or_a_seeded_sample() -> None:
    grid: dict[str, list[Any]] = {"a": [1, 2], "b": [3, 4, 5], "unknown": [0]}
    full = candidates(grid, ["a", "b"], max_trials=10, seed=0)
    assert full[0] == {} and len(full) == 1 + 6  # defaults first, then all 2 x 3 combinations
    assert all(set(c) <= {"a", "b"} for c in full)  # a parameter the model lacks is skipped
    some = candidates(grid, ["a", "b"], max_trials=4, seed=0)
    assert len(some) == 4 and some[0] == {}
    assert some == candidates(grid, ["a", "b"], max_trials=4, seed=0)


def test_bad_names_and_metrics_are_refused() -> None:
    split = make_split("stratified", taste_log(), weights=W, seed=1)
    with pytest.raises(RecommendError, match="unknown model"):
        make_model("no-such-model")
    with pytest.raises(RecommendError, match="ndcg@10"):
        search("popularity", split.train, kind=split.kind, split_params=split.params, weights=W, metric="ndcg")
    with pytest.raises(RecommendError, match="no parameter"):
        make_model("popularity", {"depth": 3})
