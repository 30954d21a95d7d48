"""The time split that gives :class:`~growthkit.models.recommend.hybrid.Hybrid` its ranker labels.

The ranker must learn from the situation it serves in: recall models that know a user's past
propose items, and the ranker orders them by what the user touched *next*. So the training
data is cut in two: the earlier part fits the recalls, the later part gives the labels.

* ``holdout="last"`` — for every user with at least two distinct items, the items first
  touched at the user's latest first-touch time (their last new item, or the whole last
  basket when several share the timestamp) become labels.
* ``holdout=f`` (a fraction) — one global cutoff at the ``1 - f`` quantile of the pairs'
  first-touch times; pairs first touched at or after it become labels.
* ``holdout="random"`` — a random fifth (:data:`RANDOM_SHARE`) of each user's items, whenever
  they were touched (always leaving at least one): the question the recall models answer
  ("which other items belong to this user?") rather than "which item comes next", with about
  a fifth of each user's items as labels instead of the last one. The earlier log loses the
  rows of the held-out pairs.
* without a log with timestamps, a random share of each user's items (one for ``"last"``,
  ``round(f * n)`` otherwise, always leaving at least one) is held out, with a warning.

Pairs are removed from the earlier matrix whole: their weight (which may include events of
any time) is not recomputed, so a pair touched before and after the cut keeps its full weight
in the earlier part. The earlier log keeps the rows strictly before the user's cut time.

When repeats count (``Hybrid(repeats=...)``), :func:`split_for_repeats` cuts by *events*
instead: ``"last"`` takes each user's last basket (``session_id``, else ``order_id``, else one
timestamp) with every item in it, reorders included; a fraction cuts all events at one time.
A pair's earlier weight is its weight times the share of its logged weight before the cut, so
nothing of the label window leaks into the recalls or the features. :func:`pair_stats` counts
how users come back to items (the repeat features of
:class:`~growthkit.models.recommend.ranker_features.PairStats`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from growthkit.features.interactions import Interactions
from growthkit.models.recommend.ranker_features import PairStats, codes_of, to_seconds

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
        ``"last"``, ``"time"`` or ``"random"`` (new items only); ``"basket"`` or ``"events"``
        (every item of the label window, from :func:`split_for_repeats`).
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


RANDOM_SHARE = 0.2
"""Share of each user's items that ``holdout="random"`` holds out."""


def split_for_ranker(
    x: sparse.csr_matrix, interactions: Interactions, holdout: str | float, rng: np.random.Generator
) -> RankerSplit:
    """Cut ``x`` into recall training data and ranker labels (see the module docstring)."""
    frame = usable_log(interactions)
    if holdout == "random":
        held = _random_holdout(x, RANDOM_SHARE, rng)
        return RankerSplit(*_cut(x, held), log=_without_pairs(frame, interactions, x, held), how="random")
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


def _without_pairs(
    frame: pd.DataFrame | None, interactions: Interactions, x: sparse.csr_matrix, held: NDArray[np.bool_]
) -> pd.DataFrame | None:
    """The log without the rows of the held-out pairs (``held``: a mask over ``x``'s stored pairs)."""
    if frame is None:
        return None
    n_items = x.shape[1]
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    gone = np.sort(rows[held].astype(np.int64) * n_items + x.indices[held])
    u = codes_of(frame["user_id"], interactions.user_ids)
    i = codes_of(frame["item_id"], interactions.item_ids)
    keys = np.where((u >= 0) & (i >= 0), u * n_items + i, -1)
    pos = np.clip(np.searchsorted(gone, keys), 0, max(len(gone) - 1, 0))
    drop = gone[pos] == keys if len(gone) else np.zeros(len(keys), dtype=bool)
    return frame.loc[~drop].reset_index(drop=True)


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


BASKET_COLUMNS: tuple[str, ...] = ("session_id", "order_id")
"""Log columns that name a basket, in order of preference; rows without one: their timestamp."""


def basket_codes(frame: pd.DataFrame) -> NDArray[np.int64]:
    """A basket number per log row: its ``session_id``, else its ``order_id``, else its timestamp."""
    out = np.full(len(frame), -1, dtype=np.int64)
    offset = 0
    for col in BASKET_COLUMNS:
        if col in frame.columns:
            codes, uniques = pd.factorize(frame[col])
            fill = (out < 0) & (codes >= 0)
            out[fill] = codes[fill] + offset
            offset += len(uniques)
    rest = out < 0
    if rest.any():
        codes, _ = pd.factorize(frame["ts"].to_numpy()[rest])
        out[rest] = np.where(codes >= 0, codes + offset, -1)
    return out


def _timed_rows(
    frame: pd.DataFrame, user_ids: NDArray[np.str_], item_ids: NDArray[np.str_]
) -> tuple[NDArray[np.int64], NDArray[np.int64], F64, NDArray[np.int64], NDArray[np.bool_]]:
    u = codes_of(frame["user_id"], user_ids)
    i = codes_of(frame["item_id"], item_ids)
    t = to_seconds(frame["ts"])
    b = basket_codes(frame)
    return u, i, t, b, (u >= 0) & (i >= 0) & np.isfinite(t) & (b >= 0)


def _baskets(u: NDArray[np.int64], b: NDArray[np.int64], t: F64) -> tuple[NDArray[np.int64], F64, NDArray[np.int64]]:
    """Per row its (user, basket) number; per (user, basket) its start time and user."""
    span = np.int64(b.max(initial=0)) + 1
    uniq, inverse = np.unique(u.astype(np.int64) * span + b, return_inverse=True)
    start = np.full(len(uniq), np.inf)
    np.minimum.at(start, inverse, t)
    return inverse.astype(np.int64), start, (uniq // span).astype(np.int64)


def split_for_repeats(x: sparse.csr_matrix, interactions: Interactions, holdout: str | float) -> RankerSplit | None:
    """Labels = every item of each user's last basket (or of all events after a cutoff); ``None`` without a log."""
    frame = usable_log(interactions)
    if frame is None:
        return None
    n_users, n_items = x.shape
    u, i, t, b, ok = _timed_rows(frame, interactions.user_ids, interactions.item_ids)
    if not ok.any():
        return None
    if holdout == "last":
        _, start, owner = _baskets(u[ok], b[ok], t[ok])
        cut = np.full(n_users, -np.inf)
        np.maximum.at(cut, owner, start)
        first = np.full(n_users, np.inf)
        np.minimum.at(first, u[ok], t[ok])
        cut = np.where(first < cut, cut, np.inf)  # one basket: nothing earlier to learn from
        how = "basket"
    else:
        cut = np.full(n_users, float(np.quantile(t[ok], 1.0 - float(holdout))))
        how = "events"
    late = np.zeros(len(frame), dtype=bool)
    late[ok] = t[ok] >= cut[u[ok]]
    w = frame["weight"].to_numpy(dtype=np.float64) if "weight" in frame.columns else np.ones(len(frame))
    rows = np.repeat(np.arange(n_users), np.diff(x.indptr))
    mkeys = rows.astype(np.int64) * n_items + x.indices
    keys = u[ok].astype(np.int64) * n_items + i[ok]
    pos = np.clip(np.searchsorted(mkeys, keys), 0, max(len(mkeys) - 1, 0))
    hit = mkeys[pos] == keys
    pos, w_ok, late_ok = pos[hit], w[ok][hit], late[ok][hit]
    total = np.bincount(pos, weights=w_ok, minlength=len(mkeys))
    before = np.bincount(pos[~late_ok], weights=w_ok[~late_ok], minlength=len(mkeys))
    held = np.bincount(pos[late_ok], minlength=len(mkeys)) > 0
    share = np.divide(before, total, out=np.ones(len(mkeys)), where=total > 0)  # no rows: keep the weight
    train = x.copy()
    binary = bool(np.all(x.data == 1.0))
    train.data = (share > 0 if binary else x.data * share).astype(np.float32)
    train.eliminate_zeros()
    labels = x.copy()
    labels.data = held.astype(np.float32)
    labels.eliminate_zeros()
    timed = (u >= 0) & np.isfinite(t)
    keep = np.zeros(len(frame), dtype=bool)
    keep[timed] = t[timed] < cut[u[timed]]
    return RankerSplit(train.tocsr(), labels.tocsr(), frame.loc[keep].reset_index(drop=True), how)


def repeat_share(split: RankerSplit) -> float:
    """Share of the labels (of users with an earlier part) that the user had touched before."""
    has_earlier = np.diff(split.train.indptr) > 0
    labels = sparse.diags(has_earlier.astype(np.float32)) @ split.labels
    n = labels.nnz
    return float(labels.multiply(split.train > 0).nnz / n) if n else 0.0


def pair_stats(frame: pd.DataFrame | None, user_ids: NDArray[np.str_], item_ids: NDArray[np.str_]) -> PairStats:
    """How each user came back to each item in ``frame`` (see :class:`PairStats`)."""
    n_users, n_items = len(user_ids), len(item_ids)
    empty = np.zeros(0)
    if frame is None or not len(frame):
        nan_u, nan_i = np.full(n_users, np.nan), np.full(n_items, np.nan)
        return PairStats(np.zeros(n_users + 1, np.int64), empty.astype(np.int64), empty, empty, empty,
                         np.zeros(n_users), nan_u, nan_i)  # fmt: skip
    u, i, t, b, ok = _timed_rows(frame, user_ids, item_ids)
    u, i, t, b = u[ok], i[ok], t[ok], b[ok]
    basket, start, owner = _baskets(u, b, t)
    n_baskets = np.bincount(owner, minlength=n_users).astype(np.float64)
    order = np.lexsort((np.arange(len(start)), start, owner))  # each user's baskets in time order
    seq = np.empty(len(start), dtype=np.int64)
    first_of_user = np.searchsorted(owner[order], owner[order], side="left")
    seq[order] = np.arange(len(order)) - first_of_user
    pair, p_inv = np.unique(u.astype(np.int64) * n_items + i, return_inverse=True)
    occurrences = np.unique(p_inv.astype(np.int64) * len(start) + basket)  # distinct (pair, basket)
    baskets = np.bincount(occurrences // len(start), minlength=len(pair)).astype(np.float64)
    last_seq = np.full(len(pair), -1, dtype=np.int64)
    np.maximum.at(last_seq, p_inv, seq[basket])
    last_t = np.full(len(pair), -np.inf)
    np.maximum.at(last_t, p_inv, t)
    user_last = np.full(n_users, -np.inf)
    np.maximum.at(user_last, u, t)
    p_user, p_item = pair // n_items, pair % n_items
    n_pairs = np.bincount(p_user, minlength=n_users)
    occ = np.bincount(p_user, weights=baskets, minlength=n_users)
    item_users = np.bincount(p_item, minlength=n_items)
    item_back = np.bincount(p_item, weights=(baskets >= 2).astype(np.float64), minlength=n_items)
    with np.errstate(divide="ignore", invalid="ignore"):
        user_repeat = np.where(occ > 0, 1.0 - n_pairs / occ, np.nan)
        item_repeat = np.where(item_users > 0, item_back / item_users, np.nan)
    return PairStats(
        indptr=np.concatenate(([0], np.cumsum(n_pairs))).astype(np.int64),
        indices=p_item.astype(np.int64),
        baskets=baskets,
        since=(n_baskets[p_user] - 1 - last_seq).astype(np.float64),
        days=(user_last[p_user] - last_t) / 86400.0,
        user_baskets=n_baskets,
        user_repeat=user_repeat,
        item_repeat=item_repeat,
    )
