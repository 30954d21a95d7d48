"""Frequently bought together: co-purchase association rules with support, confidence and lift.

Baskets are built from the raw event log (``Interactions.log``): the purchase events grouped
by ``order_id`` where the log has one, else by ``session_id``, else by user and calendar day
(UTC). With no purchase in the log at all, every event type is used instead (and a warning
logged), so a shop with views only still gets "viewed together" rules. Each basket counts an
item once.

For items ``a`` and ``b`` over ``N`` baskets, with ``n(a)`` the baskets holding ``a`` and
``n(a, b)`` those holding both, the rule ``a -> b`` ("bought a, also buys b") has the
measures of Agrawal & Srikant (1994), "Fast algorithms for mining association rules", VLDB
'94 (support and confidence), and the lift of Brin, Motwani, Ullman & Tsur (1997), "Dynamic
itemset counting and implication rules for market basket data", SIGMOD '97:

* ``support(a -> b) = n(a, b) / N``
* ``confidence(a -> b) = n(a, b) / n(a)`` (an estimate of P(b | a))
* ``lift(a -> b) = n(a, b) N / (n(a) n(b))`` (``> 1``: bought together more than chance).

All pairs are counted at once as the sparse product ``B^T B`` of the basket x item matrix;
pairs below ``min_count`` or ``min_support`` are dropped.

Recommendations for users and visitors rank by confidence by default: summed over the
items of the recent baskets it estimates how likely each item joins the next basket, while
lift, which divides by the consequent's popularity, favours rare items and predicts poorly
(measured in docs/recommend.md; lift stays the measure for finding *surprising* pairs).
Where the rules run out, the list is filled with the most popular remaining items
(``popularity_backoff``), the usual fill-up of association-rule recommenders; the rules
themselves (:meth:`FrequentlyBoughtTogether.similar_items`, :meth:`~FrequentlyBoughtTogether.rules`)
never include fill-ups.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from growthkit.features.interactions import Interactions
from growthkit.models.recommend._session_base import as_str, csr_from_state, csr_to_state, require_log, seconds
from growthkit.models.recommend.base import Recommender, RecommendError

log = logging.getLogger(__name__)

METRICS = ("lift", "confidence", "count", "support")
"""Accepted values of ``FrequentlyBoughtTogether(metric=...)``."""

PURCHASE = "purchase"


class FrequentlyBoughtTogether(Recommender):
    """Items bought together: association rules ``a -> b`` between pairs of items in baskets.

    ``similar_items(a)`` answers "frequently bought together with ``a``" (the consequents
    of ``a``'s rules, best ``metric`` first, nothing else). A known user's scores are the
    summed ``metric`` of the rules from the items of their ``recent_baskets`` most recent
    baskets (a user without baskets: from their interaction history); an anonymous visitor's
    from the given items (weighted by ``weights``). With ``popularity_backoff`` every item
    without a rule from those items scores ``popularity / max_popularity - 1`` (in
    ``[-1, 0]``), below every rule and in popularity order. :meth:`rules` lists the rules as
    a table.

    Parameters
    ----------
    min_support
        Drop pairs bought together in fewer than this share of the baskets.
    min_count
        Drop pairs bought together fewer than this many times (noise guard; lift of a pair
        seen once is huge and meaningless).
    metric
        ``"confidence"``, ``"lift"``, ``"count"`` or ``"support"``: the score of a rule.
    recent_baskets
        How many of a known user's last baskets give their scores.
    max_basket_size
        Baskets with more distinct items are left out entirely (their pairs grow with the
        square of the size); ``None`` keeps all.
    popularity_backoff
        Fill users' and visitors' lists with popular items where no rule applies (``False``:
        those items score 0 and their order is arbitrary).

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.features.interactions import Interactions
    >>> log = pd.DataFrame({"user_id": list("aabbc"), "item_id": ["tea", "cup", "tea", "cup", "tea"],
    ...                     "order_id": ["o1", "o1", "o2", "o2", "o3"], "event_type": "purchase",
    ...                     "ts": pd.date_range("2026-01-01", periods=5, freq="h")})
    >>> x = Interactions.from_frame(log).with_context(log=log)
    >>> FrequentlyBoughtTogether(min_count=1).fit(x).rules()[["antecedent", "consequent", "confidence"]].values.tolist()
    [['cup', 'tea', 1.0], ['tea', 'cup', 0.6666666666666666]]
    """

    name = "fbt"

    def __init__(
        self,
        *,
        min_support: float = 0.0,
        min_count: int = 2,
        metric: str = "confidence",
        recent_baskets: int = 3,
        max_basket_size: int | None = 100,
        popularity_backoff: bool = True,
    ) -> None:
        self.min_support = min_support
        self.min_count = min_count
        self.metric = metric
        self.recent_baskets = recent_baskets
        self.max_basket_size = max_basket_size
        self.popularity_backoff = popularity_backoff

    def _check_params(self) -> None:
        if self.metric not in METRICS:
            raise RecommendError(f"metric must be one of {list(METRICS)}, got {self.metric!r}")
        ms = self.min_support
        if isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 <= ms <= 1:
            raise RecommendError(f"min_support must be a share in [0, 1], got {ms!r}")
        for key in ("min_count", "recent_baskets"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise RecommendError(f"{key} must be a positive integer, got {v!r}")
        mb = self.max_basket_size
        if mb is not None and (isinstance(mb, bool) or not isinstance(mb, int | np.integer) or mb < 2):
            raise RecommendError(f"max_basket_size must be an integer >= 2 or None, got {mb!r}")
        if not isinstance(self.popularity_backoff, bool | np.bool_):
            raise RecommendError(f"popularity_backoff must be True or False, got {self.popularity_backoff!r}")

    # ---- fitting ----------------------------------------------------------------------
    def _fit(self, x: sparse.csr_matrix, interactions: Interactions) -> None:
        self._check_params()
        frame = require_log(interactions, type(self).__name__)
        basket, item, user, sec = self._basket_rows(frame)
        n_items = len(self.item_ids_)
        uniq, b_idx = np.unique(basket, return_inverse=True)
        b_idx = b_idx.ravel()
        baskets = sparse.csr_matrix((np.ones(len(item), dtype=np.float32), (b_idx, item)), shape=(len(uniq), n_items))
        baskets.sum_duplicates()
        baskets.data[:] = 1.0
        size = np.diff(baskets.indptr)
        keep = size >= 1
        if self.max_basket_size is not None:
            big = size > int(self.max_basket_size)
            if big.any():
                log.info("fbt: leaving out %d basket(s) with more than %d items", int(big.sum()), self.max_basket_size)
            keep &= ~big
        if not keep.any():
            raise RecommendError("fbt: no basket left to learn from (check max_basket_size and the log)")
        kept = np.flatnonzero(keep)
        b = sparse.csr_matrix(baskets[kept])
        self.n_baskets_ = len(kept)
        self.item_counts_ = np.asarray(b.sum(axis=0), dtype=np.float64).ravel()
        pairs = sparse.csr_matrix(b.T @ b, dtype=np.float64)
        pairs.setdiag(0)
        pairs.eliminate_zeros()
        self.pair_counts_ = self._prune(pairs)
        self._set_scores()
        self.current_ = self._recent_profiles(b, kept, b_idx, user, sec, x)

    def _basket_rows(
        self, frame: pd.DataFrame
    ) -> tuple[NDArray[Any], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Basket key, item column, user row and time of each usable purchase row."""
        if "event_type" in frame.columns:
            bought = (frame["event_type"].astype(str) == PURCHASE).to_numpy()
            if bought.any():
                frame = frame.loc[bought]
            else:
                log.warning("fbt: the log has no purchase events; baskets are built from every event type")
        users = as_str(frame["user_id"])
        sec = seconds(frame["ts"])
        key = np.full(len(frame), None, dtype=object)
        for col, tag in (("order_id", "o"), ("session_id", "s")):
            if col in frame.columns:
                vals = as_str(frame[col])
                fill = pd.isna(key) & pd.notna(vals)
                key[fill] = [f"{tag}\x1f{v}" for v in vals[fill]]
        day = np.floor(sec / 86_400.0)
        fill = pd.isna(key)
        key[fill] = [f"d\x1f{d:.0f}" for d in day[fill]]
        item = pd.Index(self.item_ids_.tolist()).get_indexer(np.asarray(frame["item_id"].astype(str), dtype=object))
        user = pd.Index(self.user_ids_.tolist()).get_indexer(users)
        ok = (item >= 0) & pd.notna(users) & (np.isfinite(sec) | ~fill)
        if not ok.any():
            raise RecommendError("fbt: no purchase in the log is of an item on the interaction matrix")
        basket = np.asarray([f"{u}\x1f{k}" for u, k in zip(users[ok], key[ok], strict=True)], dtype=str)
        return basket, item[ok].astype(np.int64), user[ok].astype(np.int64), sec[ok]

    def _prune(self, pairs: sparse.csr_matrix) -> sparse.csr_matrix:
        floor = max(float(self.min_count), float(self.min_support) * self.n_baskets_)
        pairs.data[pairs.data < floor - 1e-9] = 0.0
        pairs.eliminate_zeros()
        pairs.sort_indices()
        return pairs

    def _recent_profiles(
        self,
        b: sparse.csr_matrix,
        kept: NDArray[np.int64],
        b_idx: NDArray[np.int64],
        user: NDArray[np.int64],
        sec: NDArray[np.float64],
        x: sparse.csr_matrix,
    ) -> sparse.csr_matrix:
        """Items of each known user's ``recent_baskets`` last baskets (binary), else their history."""
        n_baskets_all = int(b_idx.max()) + 1
        b_user = np.full(n_baskets_all, -1, dtype=np.int64)
        b_user[b_idx] = user
        b_end = np.full(n_baskets_all, -np.inf)
        np.maximum.at(b_end, b_idx, np.nan_to_num(sec, nan=-np.inf))
        owner, end = b_user[kept], b_end[kept]
        mine = np.flatnonzero(owner >= 0)
        order = mine[np.lexsort((-end[mine], owner[mine]))]  # by user, newest basket first
        first = np.searchsorted(owner[order], owner[order], side="left")
        recent = order[np.arange(len(order)) - first < int(self.recent_baskets)]
        pick = sparse.csr_matrix(
            (np.ones(len(recent), dtype=np.float32), (owner[recent], recent)), shape=(x.shape[0], len(kept))
        )
        prof = sparse.csr_matrix(pick @ b)
        prof.data[:] = 1.0
        no_basket = np.diff(prof.indptr) == 0
        hist = sparse.csr_matrix(x, dtype=np.float32, copy=True)
        hist.data[:] = 1.0
        out = sparse.csr_matrix(prof + sparse.diags(no_basket.astype(np.float32)) @ hist)
        out.sort_indices()
        return out

    def _set_scores(self) -> None:
        c = self.pair_counts_.tocoo()
        n_a = self.item_counts_[c.row]
        n_b = self.item_counts_[c.col]
        values = {
            "count": c.data,
            "support": c.data / self.n_baskets_,
            "confidence": c.data / n_a,
            "lift": c.data * self.n_baskets_ / (n_a * n_b),
        }[self.metric]
        m = sparse.csr_matrix((values.astype(np.float32), (c.row, c.col)), shape=self.pair_counts_.shape)
        m.sort_indices()
        self.scores_ = m

    # ---- answers ----------------------------------------------------------------------
    def _score_users(self, rows: NDArray[np.int64]) -> NDArray[np.floating[Any]]:
        return self._score_profiles(self.current_[rows])

    def _score_profiles(self, profiles: sparse.csr_matrix) -> NDArray[np.floating[Any]]:
        p = sparse.csr_matrix(profiles, dtype=np.float32)
        scores = np.asarray((p @ self.scores_).toarray(), dtype=np.float32)
        if not self.popularity_backoff:
            return scores
        fill = (self._popularity_row() - 1.0).astype(np.float32)  # in [-1, 0]: below every rule
        out: NDArray[np.float32] = np.where(scores > 0, scores, fill[None, :])
        return out

    def _similar(self, items: NDArray[np.int64]) -> NDArray[np.floating[Any]]:
        return np.asarray(self.scores_[items].toarray(), dtype=np.float32)

    def rules(self, top: int | None = None) -> pd.DataFrame:
        """The kept rules, best ``metric`` first (ties: larger count, then ids).

        Returns
        -------
        pandas.DataFrame
            Columns ``antecedent, consequent`` (the shop's item ids), ``count`` (baskets with
            both), ``support``, ``confidence`` and ``lift``; at most ``top`` rows.
        """
        self._check_fitted()
        if top is not None and (isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1):
            raise RecommendError(f"top must be a positive integer or None, got {top!r}")
        c = self.pair_counts_.tocoo()
        n_a, n_b, n = self.item_counts_[c.row], self.item_counts_[c.col], float(self.n_baskets_)
        frame = pd.DataFrame(
            {
                "antecedent": self.item_ids_[c.row],
                "consequent": self.item_ids_[c.col],
                "count": c.data.astype(np.int64),
                "support": c.data / n,
                "confidence": c.data / n_a,
                "lift": c.data * n / (n_a * n_b),
            }
        )
        frame = frame.sort_values(
            [self.metric, "count", "antecedent", "consequent"], ascending=[False, False, True, True], kind="stable"
        )
        if top is not None:
            frame = frame.head(int(top))
        return frame.reset_index(drop=True)

    # ---- persistence ------------------------------------------------------------------
    def _state(self) -> dict[str, NDArray[Any]]:
        return {
            **csr_to_state(self.pair_counts_, "pairs"),
            **csr_to_state(self.current_, "current"),
            "item_counts": self.item_counts_,
            "n_baskets": np.asarray([self.n_baskets_], dtype=np.int64),
        }

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self.pair_counts_ = csr_from_state(state, "pairs")
        self.current_ = csr_from_state(state, "current")
        self.item_counts_ = np.asarray(state["item_counts"], dtype=np.float64)
        self.n_baskets_ = int(state["n_baskets"][0])
        self._set_scores()
