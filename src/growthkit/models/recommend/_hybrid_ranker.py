"""Helpers of :class:`~growthkit.models.recommend.hybrid.Hybrid`: the ranker's prior and checks.

* :func:`_best_recall`, :func:`_prior`, :func:`_monotone`, :func:`_validation_groups`: the
  ranker starts from its best recall's ranking (an ``init_score``), may only raise an item with a
  better recall score or rank (monotone constraints), and stops early on held-out query groups.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from growthkit.models.recommend.ranker_features import (
    feature_names,
)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_MIN_VALID_GROUPS = 5
"""Early stopping needs at least this many held-out query groups (a fifth of the users)."""


def _monotone(n_recalls: int) -> list[int]:
    """Monotone constraints: a higher recall score, a better recall rank, more recalls never hurt."""
    return [1] * n_recalls + [-1] * n_recalls + [1] + [0] * (len(feature_names(n_recalls)) - 2 * n_recalls - 1)


def _prior(feats: NDArray[Any], base: int, n_recalls: int, n_candidates: int) -> F64:
    """The ranker's starting score: ``-log(rank)`` in the base recall (``-log(n + 1)`` when unranked).

    The trees learn corrections to the base recall's order, so a ranker with little to learn
    (few labels, or labels unlike the serving situation) stays close to its best recall.
    """
    if base < 0:
        return np.zeros(len(feats), dtype=np.float64)
    rank = np.asarray(feats[:, n_recalls + base], dtype=np.float64)
    rank = np.where(np.isfinite(rank), rank, float(n_candidates) + 1.0)
    out: F64 = -np.log(rank)
    return out


def _best_recall(ranks: NDArray[Any], y: NDArray[Any], group: I64) -> int:
    """The recall whose rank order has the highest mean NDCG@10 on the training labels."""
    starts = np.concatenate(([0], np.cumsum(group)))[:-1]
    qid = np.repeat(np.arange(len(group)), group)
    best, best_ndcg = 0, -np.inf
    for j in range(ranks.shape[1]):
        r = np.asarray(ranks[:, j], dtype=np.float64)
        r = np.where(np.isfinite(r), r, np.inf)
        order = np.lexsort((r, qid))  # by query, then rank
        pos = np.empty(len(r), dtype=np.int64)
        pos[order] = np.arange(len(r)) - starts[qid[order]]
        gain = np.where((pos < 10) & (y > 0), 1.0 / np.log2(pos + 2.0), 0.0)
        ndcg = float(np.bincount(qid, weights=gain, minlength=len(group)).mean())
        if ndcg > best_ndcg:
            best, best_ndcg = j, ndcg
    return best


def _validation_groups(n_groups: int, rng: np.random.Generator) -> NDArray[np.bool_]:
    """A random fifth of the query groups for early stopping; none when too few groups."""
    valid = np.zeros(n_groups, dtype=bool)
    n_valid = n_groups // 5
    if n_valid >= _MIN_VALID_GROUPS:
        valid[rng.choice(n_groups, size=n_valid, replace=False)] = True
    return valid


def _is_int(value: Any, low: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= low


def _is_pos(value: Any) -> bool:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    v = float(value)
    return bool(np.isfinite(v) and v > 0)
