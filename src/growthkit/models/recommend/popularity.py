"""Popularity: the baseline every evaluation table shows.

Three flavours, one class:

* ``by="global"`` — every user gets the items most users touched (``count="users"``) or with
  the largest total interaction weight (``count="weight"``; with time-decayed interaction
  weights, see :class:`~growthkit.features.interactions.InteractionWeights`, this is the
  time-decayed popularity "trending now").
* ``by="category"`` — the popular items of the categories the user favours: an item's score
  is its popularity times ``smoothing + share of the user's history in the item's category``,
  so a user who only buys tea sees popular tea first, then everything else by popularity.
  Needs item categories (``Interactions.items["category"]``, from ``item_attributes``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from growthkit.features.interactions import Interactions
from growthkit.models.recommend.base import Recommender, RecommendError


class Popularity(Recommender):
    """Most popular items, globally or within the user's favourite categories.

    Parameters
    ----------
    by
        ``"global"`` or ``"category"``.
    count
        ``"users"`` (how many users touched the item) or ``"weight"`` (sum of interaction
        weights, which carries event-type weights and time decay).
    smoothing
        For ``by="category"``: weight of global popularity against category affinity.

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.features.interactions import Interactions
    >>> x = Interactions.from_frame(pd.DataFrame({"user_id": list("aabc"), "item_id": list("ijii")}))
    >>> Popularity().fit(x).recommend("c", k=1).items_of("c")
    ['j']
    """

    name = "popularity"

    def __init__(self, *, by: str = "global", count: str = "users", smoothing: float = 0.1) -> None:
        self.by = by
        self.count = count
        self.smoothing = smoothing

    def _fit(self, x: sparse.csr_matrix, interactions: Interactions) -> None:
        if self.by not in ("global", "category"):
            raise RecommendError(f"by must be 'global' or 'category', got {self.by!r}")
        if self.count not in ("users", "weight"):
            raise RecommendError(f"count must be 'users' or 'weight', got {self.count!r}")
        if not self.smoothing >= 0:
            raise RecommendError(f"smoothing must be >= 0, got {self.smoothing!r}")
        pop = self.item_popularity_ if self.count == "users" else np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
        self.scores_ = (pop / max(float(pop.max()), 1e-12)).astype(np.float32)
        self.item_category_ = np.zeros(len(self.item_ids_), dtype=np.int64)
        self.n_categories_ = 1
        if self.by == "category":
            items = interactions.items
            if items is None or "category" not in items.columns:
                raise RecommendError(
                    "by='category' needs item categories: pass interactions.with_context(items=item_attributes(store))"
                )
            cats = items["category"].reindex(self.item_ids_).fillna("").astype(str).to_numpy()
            codes, uniques = _codes(cats)
            self.item_category_ = codes
            self.n_categories_ = len(uniques)

    def _category_share(self, profiles: sparse.csr_matrix) -> NDArray[np.float32]:
        one_hot = sparse.csr_matrix(
            (
                np.ones(len(self.item_category_), dtype=np.float32),
                (np.arange(len(self.item_category_)), self.item_category_),
            ),
            shape=(len(self.item_category_), self.n_categories_),
        )
        per_cat = np.asarray((profiles @ one_hot).todense(), dtype=np.float32)
        total = per_cat.sum(axis=1, keepdims=True)
        share: NDArray[np.float32] = np.divide(per_cat, total, out=np.zeros_like(per_cat), where=total > 0)
        return share

    def _score_profiles(self, profiles: sparse.csr_matrix) -> NDArray[np.floating[Any]]:
        n = profiles.shape[0]
        if self.by == "global":
            return np.broadcast_to(self.scores_, (n, len(self.scores_)))
        share = self._category_share(profiles)
        scores: NDArray[np.float32] = (self.smoothing + share[:, self.item_category_]) * self.scores_[None, :]
        return scores

    def _similar(self, items: NDArray[np.int64]) -> NDArray[np.floating[Any]]:
        same = (self.item_category_[None, :] == self.item_category_[items][:, None]).astype(np.float32)
        scores: NDArray[np.float32] = (self.smoothing + same) * self.scores_[None, :]
        return scores

    def _state(self) -> dict[str, NDArray[Any]]:
        return {"scores": self.scores_, "item_category": self.item_category_}

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self.scores_ = state["scores"]
        self.item_category_ = state["item_category"]
        self.n_categories_ = int(self.item_category_.max()) + 1 if len(self.item_category_) else 1


def _codes(values: NDArray[Any]) -> tuple[NDArray[np.int64], NDArray[Any]]:
    uniques, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int64), uniques
