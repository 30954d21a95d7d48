"""The time split that gives :class:`~growthkit.models.recommend.hybrid.Hybrid` its ranker labels.

The ranker must learn from the situation it serves in: recall models that know a user's past
propose items, and the ranker orders them by what the user touched *next*. So the training
data is cut in two: the earlier part fits the recalls, the later part gives the labels.

* ``holdout="last"`` — for every user with at least two distinct items, the items first
  touched at the user's latest first-touch time (their last new item, or the whole last
  basket when several share the timestamp) become labels.
* ``holdout=f`` (a fraction) — one global cutoff at the ``1 - f`` quantile of the pairs'
  first-touch times; pairs first touched at or after it become labels.
* without a log with timestamps, a random share of each user's items (one for ``"last"``,
  ``round(f * n)`` otherwise, always leaving at least one) is held out, with a warning.

Pairs are removed from the earlier matrix whole: their weight (which may include events of
any time) is not recomputed, so a pair touched before and after the cut keeps its full weight
in the earlier part. The earlier log keeps the rows strictly before the user's cut time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from growthkit.features.interactions import Interactions
from growthkit.models.recommend.ranker_features import codes_of, to_seconds

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class RankerSplit:
    """The earlier part (recall training data) and the held-out labels.

    Attributes
    ----------
    train
        The training matrix without the held-out pairs (same shape).
    labels
        The held-out pairs (value 1), same shape.
    log
        The raw log rows strictly before each user's cut, or ``None``.
    how
        ``"last"``, ``"time"`` or ``"random"``.
    """

    train: sparse.csr_matrix
    labels: sparse.csr_matrix
    log: pd.DataFrame | None
    how: str


def usable_log(interactions: Interactions) -> pd.DataFrame | None:
    """The interaction log when it has ids and timestamps for at least one row, else ``None``."""
    frame = interactions.log
    if frame is None or not len(frame) or not {"user_id", "item_id", "ts"} <= set(frame.columns):
        return None
    return frame


def split_for_ranker(
    x: sparse.csr_matrix, interactions: Interactions, holdout: str | float, rng: np.random.Generator
) -> RankerSplit:
    """Cut ``x`` into recall training data and ranker labels (see the module docstring)."""
    frame = usable_log(interactions)
    if frame is None:
        log.warning(
            "Hybrid: the interactions carry no log with timestamps, so the ranker's labels are a random "
            "share of each user's items; pass interactions.with_context(log=interaction_log(store)) for a "
            "time-ordered split"
        )
        held = _random_holdout(x, holdout, rng)
        return RankerSplit(*_cut(x, held), log=None, how="random")
    n_users = x.shape[0]
    u = codes_of(frame["user_id"], interactions.user_ids)
    i = codes_of(frame["item_id"], interactions.item_ids)
    t = to_seconds(frame["ts"])
    first = _first_touch(x, u, i, t)
    rows = np.repeat(np.arange(n_users), np.diff(x.indptr))
    if holdout == "last":
        user_last = np.full(n_users, -np.inf)
        user_first = np.full(n_users, np.inf)
        np.maximum.at(user_last, rows, first)
        np.minimum.at(user_first, rows, first)
        eligible = np.isfinite(user_last) & (user_first < user_last)
        held = eligible[rows] & (first == user_last[rows])
        cut = np.where(eligible, user_last, np.inf)
        how = "last"
    else:
        known = first[np.isfinite(first)]
        cutoff = float(np.quantile(known, 1.0 - float(holdout))) if known.size else np.inf
        held = first >= cutoff
        cut = np.full(n_users, cutoff)
        how = "time"
    ok = (u >= 0) & np.isfinite(t)
    keep = np.zeros(len(frame), dtype=bool)
    keep[ok] = t[ok] < cut[u[ok]]
    earlier = frame.loc[keep].reset_index(drop=True)
    return RankerSplit(*_cut(x, held), log=earlier, how=how)


def _first_touch(x: sparse.csr_matrix, u: NDArray[np.int64], i: NDArray[np.int64], t: F64) -> F64:
    """First log time of every stored pair of ``x`` (CSR order); ``-inf`` when the log lacks it."""
    n_items = x.shape[1]
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    mkeys = rows.astype(np.int64) * n_items + x.indices
    first = np.full(len(mkeys), -np.inf)
    ok = (u >= 0) & (i >= 0) & np.isfinite(t)
    if not ok.any():
        return first
    keys = u[ok] * n_items + i[ok]
    tt = t[ok]
    order = np.lexsort((tt, keys))
    keys, tt = keys[order], tt[order]
    uniq, start = np.unique(keys, return_index=True)
    pos = np.clip(np.searchsorted(mkeys, uniq), 0, max(len(mkeys) - 1, 0))
    hit = mkeys[pos] == uniq if len(mkeys) else np.zeros(len(uniq), dtype=bool)
    first[pos[hit]] = tt[start[hit]]
    return first


def _random_holdout(x: sparse.csr_matrix, holdout: str | float, rng: np.random.Generator) -> NDArray[np.bool_]:
    """A random share of each user's stored pairs (CSR order), leaving each user at least one."""
    counts = np.diff(x.indptr)
    rows = np.repeat(np.arange(x.shape[0]), counts)
    n_hold = np.ones_like(counts) if holdout == "last" else np.rint(float(holdout) * counts).astype(np.int64)
    n_hold = np.clip(n_hold, 1, None)
    n_hold = np.where(counts >= 2, np.minimum(n_hold, counts - 1), 0)
    order = np.lexsort((rng.random(len(rows)), rows))
    rank = np.empty(len(rows), dtype=np.int64)
    rank[order] = np.arange(len(rows)) - x.indptr[rows[order]]
    held: NDArray[np.bool_] = rank < n_hold[rows]
    return held


def _cut(x: sparse.csr_matrix, held: NDArray[np.bool_]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    train = x.copy()
    train.data = np.where(held, 0.0, train.data).astype(np.float32)
    train.eliminate_zeros()
    labels = x.copy()
    labels.data = held.astype(np.float32)
    labels.eliminate_zeros()
    return train.tocsr(), labels.tocsr()
