"""Candidates and features for the learned ranker of :class:`~growthkit.models.recommend.hybrid.Hybrid`.

The ranker sees one row per (user, candidate item) pair. The candidates of a user are the
union of every recall model's top ``n`` unseen items (Covington et al. 2016: a cheap
candidate stage followed by a ranking stage with richer features). The features describe

* the recalls: each recall's score of the pair relative to the user's best candidate of that
  recall (``score / |top score|``), its rank in that recall's top ``n`` (missing when the
  recall did not propose the item), and how many recalls proposed it;
* the item: popularity (the share of items with fewer users, a percentile), recent popularity
  (the same percentile of events in the last ``recent_days`` of the log), log price;
* the user: history length (distinct items), total interaction weight, events, sessions and
  purchases in the log, typical log price (mean log price of the history, i.e. the
  geometric mean price);
* the pair: the item's log price minus the user's typical log price, and the share of the
  user's history that lies in the item's category;
* repeats (only for a ranker trained with repeats, :data:`REPEAT_FEATURES`): how often the
  user came back to the item (distinct baskets with it, their share of the user's baskets,
  baskets and days since the last one, the profile weight and the item's rank in the user's
  own history), how often the item's buyers come back to it, and how much of the user's
  history is repeat business. Baskets are the log's ``session_id`` (else ``order_id``, else
  one basket per timestamp); see :class:`PairStats`.

Missing values are ``nan`` (LightGBM learns where they go). Everything here is pure numpy and
scipy on row numbers; :class:`Hybrid` maps the shop's ids.

Scale: the ranker learns on the earlier part of the data and is served on all of it. Counts
of users per item and recall scores that sum over a history or count users grow with the data,
and trees split on absolute thresholds, so such features would shift between training and
serving; percentiles and relative scores do not (``Hybrid``'s notes say what the shift cost).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.stats import rankdata

from growthkit.models.recommend.base import top_k

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

SHARED_FEATURES: tuple[str, ...] = (
    "n_recalls_hit",
    "item_popularity",
    "item_recent_popularity",
    "item_log_price",
    "user_log_price",
    "log_price_ratio",
    "category_share",
    "user_n_items",
    "user_weight",
    "user_n_events",
    "user_n_sessions",
    "user_n_purchases",
)
"""Feature names after the per-recall score and rank columns, in column order."""

ACTIVITY_COLUMNS: tuple[str, ...] = ("user_n_events", "user_n_sessions", "user_n_purchases")
"""Per-user counts taken from the raw log (``nan`` without one)."""

REPEAT_FEATURES: tuple[str, ...] = (
    "item_repeat_rate",
    "user_n_baskets",
    "user_repeat_share",
    "pair_weight",
    "pair_history_rank",
    "pair_n_baskets",
    "pair_basket_share",
    "pair_baskets_since",
    "pair_days_since",
)
"""Columns appended when the ranker also ranks the user's own items (see :func:`repeat_features`)."""


def feature_names(n_recalls: int, *, repeats: bool = False) -> list[str]:
    """Column names of the feature matrix for ``n_recalls`` recall models (and the repeat columns)."""
    scores = [f"recall{j}_score" for j in range(n_recalls)]
    ranks = [f"recall{j}_rank" for j in range(n_recalls)]
    return [*scores, *ranks, *SHARED_FEATURES, *(REPEAT_FEATURES if repeats else ())]


@dataclass(frozen=True, eq=False)
class ItemTable:
    """Per-item features, aligned with the model's item axis.

    Attributes
    ----------
    popularity
        Percentile (in (0, 1], ties averaged) of the number of users who touched the item.
    recent
        Percentile of the item's events in the last ``recent_days`` of the log; ``nan`` without a log.
    log_price
        Natural log of the price (``nan`` when unknown or not positive).
    category
        Category code per item, ``-1`` when unknown.
    n_categories
        Number of category codes.
    """

    popularity: F64
    recent: F64
    log_price: F64
    category: I64
    n_categories: int


def item_table(
    x: sparse.csr_matrix,
    item_ids: NDArray[np.str_],
    *,
    items: pd.DataFrame | None,
    log: pd.DataFrame | None,
    recent_days: float,
) -> ItemTable:
    """Item features from the training matrix ``x``, the catalogue ``items`` and the raw ``log``."""
    n_items = len(item_ids)
    popularity = percentile(np.asarray((x > 0).sum(axis=0), dtype=np.float64).ravel())
    recent = np.full(n_items, np.nan)
    if log is not None and len(log) and "ts" in log.columns:
        t = to_seconds(log["ts"])
        codes = codes_of(log["item_id"], item_ids)
        keep = (codes >= 0) & (t >= np.nanmax(t) - recent_days * 86400.0)
        recent = percentile(np.bincount(codes[keep], minlength=n_items).astype(np.float64))
    log_price = np.full(n_items, np.nan)
    category = np.full(n_items, -1, dtype=np.int64)
    n_categories = 0
    if items is not None:
        if "price" in items.columns:
            price = pd.to_numeric(items["price"].reindex(item_ids), errors="coerce").to_numpy(dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                log_price = np.where(price > 0, np.log(price), np.nan)
        if "category" in items.columns:
            cats = items["category"].reindex(item_ids)
            known = cats.notna().to_numpy()
            uniques, inverse = np.unique(cats[known].astype(str).to_numpy(), return_inverse=True)
            category[known] = inverse
            n_categories = len(uniques)
    return ItemTable(popularity, recent, log_price, category, n_categories)


def percentile(values: F64) -> F64:
    """Each value's rank among ``values`` (ties share their mean rank) divided by their number.

    Unchanged when every value is scaled by the same factor, so counts on the earlier part of
    the data and on all of it give comparable features.
    """
    return np.asarray(rankdata(values, method="average"), dtype=np.float64) / max(len(values), 1)


def item_table_from_arrays(arrays: dict[str, NDArray[Any]]) -> ItemTable:
    """Rebuild an :class:`ItemTable` from :func:`item_table_arrays` output."""
    category = arrays["category"].astype(np.int64)
    n_cat = int(category.max()) + 1 if category.size and category.max() >= 0 else 0
    return ItemTable(
        arrays["popularity"].astype(np.float64),
        arrays["recent"].astype(np.float64),
        arrays["log_price"].astype(np.float64),
        category,
        n_cat,
    )


def item_table_arrays(table: ItemTable) -> dict[str, NDArray[Any]]:
    """The arrays of an :class:`ItemTable`, for saving."""
    return {
        "popularity": table.popularity,
        "recent": table.recent,
        "log_price": table.log_price,
        "category": table.category,
    }


def user_activity(log: pd.DataFrame | None, user_ids: NDArray[np.str_]) -> F64:
    """``(n_users, 3)`` events, sessions and purchases per user in ``log`` (``nan`` without a log)."""
    out = np.full((len(user_ids), len(ACTIVITY_COLUMNS)), np.nan)
    if log is None or not len(log):
        return out
    codes = codes_of(log["user_id"], user_ids)
    ok = codes >= 0
    n = len(user_ids)
    out[:, 0] = np.bincount(codes[ok], minlength=n)
    if "session_id" in log.columns:
        sessions = pd.DataFrame({"u": codes[ok], "s": log["session_id"].to_numpy()[ok]}).dropna().drop_duplicates()
        out[:, 1] = np.bincount(sessions["u"].to_numpy(dtype=np.int64), minlength=n)
    if "event_type" in log.columns:
        bought = ok & (log["event_type"].astype(str).to_numpy() == "purchase")
        out[:, 2] = np.bincount(codes[bought], minlength=n)
    return out


def profile_activity(profiles: sparse.csr_matrix) -> F64:
    """Activity columns for fold-in profiles: one event per given item, one session, purchases unknown."""
    n_given = np.diff(profiles.indptr).astype(np.float64)
    out = np.full((profiles.shape[0], len(ACTIVITY_COLUMNS)), np.nan)
    out[:, 0] = n_given
    out[:, 1] = 1.0
    return out


@dataclass(frozen=True, eq=False)
class Candidates:
    """Candidate pairs of a block of profiles, sorted by row then item.

    Attributes
    ----------
    rows, cols
        Row in the block and item column of each pair.
    ranks
        ``(n_pairs, n_recalls)`` rank (1 = best) of the pair in each recall's top ``n``; ``nan``
        when that recall did not propose it.
    """

    rows: I64
    cols: I64
    ranks: F32


def pair_keys(rows: I64, cols: I64, n_items: int) -> I64:
    """One integer per (row, column) pair, increasing in row then column."""
    return rows.astype(np.int64) * np.int64(n_items) + cols.astype(np.int64)


def candidates(
    blocks: Sequence[NDArray[np.floating[Any]]],
    seen: sparse.csr_matrix,
    n: int,
    *,
    include_seen: bool,
    max_seen: int | None = None,
) -> Candidates:
    """The union of each recall's top ``n`` unseen items per row.

    Parameters
    ----------
    blocks
        One ``(rows, n_items)`` score block per recall.
    seen
        ``(rows, n_items)`` profiles; their items are left out of every recall's top ``n``.
    n
        Candidates per recall.
    include_seen
        Also add every seen item (so that ``exclude_seen=False`` can still return them).
    max_seen
        With ``include_seen``, at most this many seen items per row: those of largest weight.
    """
    n_rows, n_items = seen.shape
    seen = seen.tocsr()
    seen_rows = np.repeat(np.arange(n_rows), np.diff(seen.indptr))
    per_recall: list[tuple[I64, I64]] = []
    for block in blocks:
        s = np.array(block, dtype=np.float32, copy=True).reshape(n_rows, n_items)
        s[seen_rows, seen.indices] = -np.inf
        idx, _ = top_k(s, n)
        valid = idx >= 0
        rr = np.broadcast_to(np.arange(n_rows)[:, None], idx.shape)[valid]
        rank = np.broadcast_to(np.arange(1, idx.shape[1] + 1)[None, :], idx.shape)[valid]
        per_recall.append((pair_keys(rr, idx[valid], n_items), rank.astype(np.int64)))
    parts = [k for k, _ in per_recall]
    if include_seen:
        own = np.ones(len(seen_rows), dtype=bool)
        if max_seen is not None and len(seen_rows):
            order = np.lexsort((seen.indices, -seen.data, seen_rows))  # per row, heaviest first
            pos = np.empty(len(order), dtype=np.int64)
            pos[order] = np.arange(len(order)) - seen.indptr[seen_rows[order]]
            own = pos < max_seen
        parts.append(pair_keys(seen_rows[own], seen.indices[own], n_items))
    keys = sorted_unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    ranks = np.full((len(keys), len(blocks)), np.nan, dtype=np.float32)
    for j, (k, rank) in enumerate(per_recall):
        ranks[np.searchsorted(keys, k), j] = rank
    return Candidates(keys // n_items, keys % n_items, ranks)


def features(
    cands: Candidates,
    blocks: Sequence[NDArray[np.floating[Any]]],
    profiles: sparse.csr_matrix,
    activity: F64,
    items: ItemTable,
    *,
    relative: bool = True,
) -> F32:
    """The ``(n_pairs, n_features)`` matrix in the order of :func:`feature_names`.

    ``profiles`` are the users' histories (the training rows, or a fold-in profile) and
    ``activity`` their ``(rows, 3)`` log counts. ``relative``: recall scores divided by the
    absolute score of the recall's first candidate for the user (``False``: raw, for old files).
    """
    r, c = cands.rows, cands.cols
    n_rec = len(blocks)
    out = np.full((len(r), 2 * n_rec + len(SHARED_FEATURES)), np.nan, dtype=np.float32)
    n_rows = profiles.shape[0]
    for j, block in enumerate(blocks):
        vals = np.asarray(block)[r, c].astype(np.float64)
        vals[~np.isfinite(vals)] = np.nan
        if relative:
            top = np.ones(n_rows)
            first = cands.ranks[:, j] == 1
            top[r[first]] = np.abs(vals[first])
            vals = vals / np.where(np.isfinite(top) & (top > 0), top, 1.0)[r]
        out[:, j] = vals
    out[:, n_rec : 2 * n_rec] = cands.ranks
    base = 2 * n_rec
    prof = profiles.tocsr()
    n_rows = prof.shape[0]
    hist_rows = np.repeat(np.arange(n_rows), np.diff(prof.indptr))
    n_hist = np.diff(prof.indptr).astype(np.float64)
    weight = np.bincount(hist_rows, weights=prof.data.astype(np.float64), minlength=n_rows)
    hist_price = items.log_price[prof.indices]
    priced = np.isfinite(hist_price)
    price_sum = np.bincount(hist_rows[priced], weights=hist_price[priced], minlength=n_rows)
    price_n = np.bincount(hist_rows[priced], minlength=n_rows)
    user_price = np.divide(price_sum, price_n, out=np.full(n_rows, np.nan), where=price_n > 0)
    out[:, base + 0] = np.sum(np.isfinite(cands.ranks), axis=1)
    out[:, base + 1] = items.popularity[c]
    out[:, base + 2] = items.recent[c]
    out[:, base + 3] = items.log_price[c]
    out[:, base + 4] = user_price[r]
    out[:, base + 5] = items.log_price[c] - user_price[r]
    out[:, base + 6] = category_share(hist_rows, items.category[prof.indices], items.category[c], r, n_hist)
    out[:, base + 7] = n_hist[r]
    out[:, base + 8] = weight[r]
    out[:, base + 9 : base + 12] = activity[r]
    return out


@dataclass(frozen=True, eq=False)
class PairStats:
    """How users come back to items, from the log (built by ``_hybrid_split.pair_stats``).

    One stored entry per (user, item) pair with timed log rows, in CSR layout on the model's
    axes (``indptr`` per user, ascending ``indices`` per user).

    Attributes
    ----------
    indptr, indices
        The pairs' CSR structure.
    baskets
        Distinct baskets of the user that hold the item.
    since
        The user's baskets after the last one that holds the item (0: it was in the last).
    days
        Days from the item's last event to the user's last event.
    user_baskets
        Baskets per user (0 without log rows).
    user_repeat
        Share of the user's (basket, item) occurrences that repeat an item of an earlier
        basket: ``1 - distinct items / occurrences`` (``nan`` without rows).
    item_repeat
        Share of the item's users with it in two or more baskets (``nan`` without users).
    """

    indptr: I64
    indices: I64
    baskets: F64
    since: F64
    days: F64
    user_baskets: F64
    user_repeat: F64
    item_repeat: F64


PAIR_STATS_KEYS: tuple[str, ...] = (
    "indptr", "indices", "baskets", "since", "days", "user_baskets", "user_repeat", "item_repeat",
)  # fmt: skip
"""The arrays of :class:`PairStats`, in field order (for saving)."""


def _stat_positions(stats: PairStats, users: I64, rows: I64, cols: I64, n_items: int) -> I64:
    """Position in ``stats`` of each (block row, item) pair; ``-1`` when it has no entry."""
    start, stop = stats.indptr[users], stats.indptr[users + 1]
    lens = stop - start
    offsets = np.repeat(start - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
    pos = offsets + np.arange(int(lens.sum()), dtype=np.int64)
    keys = pair_keys(np.repeat(np.arange(len(users)), lens), stats.indices[pos], n_items)
    out = np.full(len(rows), -1, dtype=np.int64)
    if len(keys):
        want = pair_keys(rows, cols, n_items)
        at = np.clip(np.searchsorted(keys, want), 0, len(keys) - 1)
        hit = keys[at] == want
        out[hit] = pos[at[hit]]
    return out


def repeat_features(
    cands: Candidates,
    profiles: sparse.csr_matrix,
    items: ItemTable,
    stats: PairStats,
    users: I64 | None,
) -> F32:
    """The ``(n_pairs, len(REPEAT_FEATURES))`` columns: how the user comes back to each candidate.

    ``users`` are the profiles' user rows in ``stats``; ``None`` for fold-in profiles, whose
    given items count as one basket that ends now. Unseen candidates have weight 0, 0
    baskets and no rank, recency or days (``nan``).
    """
    r, c = cands.rows, cands.cols
    prof = profiles.tocsr()
    n_rows, n_items = prof.shape
    out = np.full((len(r), len(REPEAT_FEATURES)), np.nan, dtype=np.float32)
    out[:, 0] = stats.item_repeat[c]
    hist_rows = np.repeat(np.arange(n_rows), np.diff(prof.indptr))
    # the user's own items by weight, ties by popularity, then column: the "buy it again" order
    order = np.lexsort((prof.indices, -items.popularity[prof.indices], -prof.data, hist_rows))
    hist_rank = np.empty(len(order), dtype=np.float64)
    hist_rank[order] = np.arange(len(order)) - prof.indptr[hist_rows[order]] + 1.0
    hist_keys = pair_keys(hist_rows, prof.indices, n_items)  # ascending (sorted CSR)
    cand_keys = pair_keys(r, c, n_items)
    at = np.clip(np.searchsorted(hist_keys, cand_keys), 0, max(len(hist_keys) - 1, 0))
    own = hist_keys[at] == cand_keys if len(hist_keys) else np.zeros(len(r), dtype=bool)
    out[:, 3] = np.where(own, prof.data[at] if len(hist_keys) else 0.0, 0.0)
    out[own, 4] = hist_rank[at[own]]
    if users is None:  # a visitor's given items: one basket, just now
        out[:, 1], out[:, 2] = 1.0, 0.0
        out[:, 5] = own.astype(np.float32)
        out[:, 6] = out[:, 5]
        out[own, 7], out[own, 8] = 0.0, 0.0
        return out
    n_baskets = stats.user_baskets[users][r]
    out[:, 1] = n_baskets
    out[:, 2] = stats.user_repeat[users][r]
    pos = _stat_positions(stats, users, r, c, n_items)
    has = pos >= 0
    out[:, 5] = np.where(has, stats.baskets[np.maximum(pos, 0)], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 6] = np.where(n_baskets > 0, out[:, 5] / n_baskets, np.nan)
    out[has, 7] = stats.since[pos[has]]
    out[has, 8] = stats.days[pos[has]]
    return out


def category_share(hist_rows: I64, hist_cats: I64, cand_cats: I64, cand_rows: I64, n_hist: F64) -> F64:
    """Share of each candidate's user history (distinct items) in the candidate's category.

    ``hist_rows``/``hist_cats`` list the history (row, category code) pairs; candidates are
    given by row and category code. Unknown categories (code ``-1``) give ``nan``.
    """
    share = np.full(len(cand_rows), np.nan)
    big = np.int64(max(int(hist_cats.max(initial=0)), int(cand_cats.max(initial=0))) + 1)
    known = hist_cats >= 0
    keys, counts = _counts(hist_rows[known].astype(np.int64) * big + hist_cats[known])
    ok = cand_cats >= 0
    want = cand_rows[ok].astype(np.int64) * big + cand_cats[ok]
    found = np.zeros(len(want))
    if len(keys):
        pos = np.clip(np.searchsorted(keys, want), 0, len(keys) - 1)
        found = np.where(keys[pos] == want, counts[pos], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share[ok] = np.where(n_hist[cand_rows[ok]] > 0, found / n_hist[cand_rows[ok]], np.nan)
    return share


def _counts(values: I64) -> tuple[I64, F64]:
    """Distinct values (ascending) and how often each occurs."""
    v = np.sort(values)
    if not len(v):
        return v, np.zeros(0)
    start = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
    counts = np.diff(np.append(start, len(v))).astype(np.float64)
    return v[start], counts


def sorted_unique(values: I64) -> I64:
    """The distinct values, ascending (a sort and a comparison: faster than ``np.unique`` here)."""
    out = np.sort(values)
    if len(out) > 1:
        out = out[np.concatenate(([True], out[1:] != out[:-1]))]
    return out


def contains(sorted_keys: I64, values: I64) -> NDArray[np.bool_]:
    """Whether each of ``values`` is in ``sorted_keys`` (ascending)."""
    if len(sorted_keys) == 0:
        return np.zeros(len(values), dtype=bool)
    pos = np.clip(np.searchsorted(sorted_keys, values), 0, len(sorted_keys) - 1)
    found: NDArray[np.bool_] = sorted_keys[pos] == values
    return found


def codes_of(values: pd.Series[Any] | NDArray[Any], axis: NDArray[np.str_]) -> I64:
    """Position of each value on ``axis`` (``-1`` when absent); ``axis`` holds unique strings."""
    strings = pd.Index(np.asarray(values).astype(str))
    return np.asarray(pd.Index(axis).get_indexer(strings), dtype=np.int64)


def to_seconds(ts: pd.Series[Any]) -> F64:
    """Timestamps as float seconds since the epoch (naive times are read as UTC)."""
    t = pd.to_datetime(ts, utc=True)
    seconds = (t - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return np.asarray(seconds, dtype=np.float64)
