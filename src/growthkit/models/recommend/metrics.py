"""Top-k ranking metrics over the full item ranking, vectorised with numpy.

Every function takes the recommended lists as a ``(n_users, K)`` array of item column numbers,
best first, ``-1`` where a list is shorter, and the held-out truth as a CSR matrix over the
same users and item columns (a stored value > 0 marks a relevant item; its value is the graded
relevance used by :func:`graded_ndcg`). ``n_relevant`` counts each user's relevant items,
including held-out items the model cannot rank (items outside the training axis): they can
never be hit, but they count in the denominators, as in the published protocols.

Definitions (``hits_j`` = 1 when the item at rank ``j`` is relevant, ``R`` = ``n_relevant``):

* ``precision@k = sum_{j<=k} hits_j / k``
* ``recall@k = sum_{j<=k} hits_j / R`` (Microsoft Recommenders' and RecBole's definition; not
  capped at ``min(k, R)``)
* ``ndcg@k = DCG / IDCG`` with binary gains, ``DCG = sum_j hits_j / log2(j + 1)`` and
  ``IDCG = sum_{j <= min(R, k)} 1 / log2(j + 1)``
* ``hit@k`` = 1 when any of the first k items is relevant
* ``mrr@k`` = ``1 / rank`` of the first relevant item within the first k, else 0
* ``map@k = sum_{j<=k} hits_j * precision@j / R`` — the "MAP" of Microsoft Recommenders'
  benchmark table (``map``/old ``map_at_k``, normalised by all relevant items, not ``min(k, R)``)

Catalogue-level metrics take only the lists: :func:`coverage` (share of the catalogue that is
recommended to anyone), :func:`gini` (inequality of exposure over all items, 0 = every item
shown equally often, 1 = one item takes all exposure) and :func:`mean_popularity` (average
popularity of what is shown).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

RANKING_METRICS: tuple[str, ...] = ("precision", "recall", "ndcg", "hit", "mrr", "map")
"""Per-user metrics computed at every k."""


def _discounts(k: int) -> F64:
    """``1 / log2(j + 1)`` for ranks ``j = 1..k``."""
    out: F64 = 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))
    return out


def _check(top: I64, truth: sparse.csr_matrix, n_relevant: I64 | None) -> tuple[I64, sparse.csr_matrix, I64]:
    top = np.asarray(top, dtype=np.int64)
    if top.ndim != 2:
        raise ValueError(f"top must be a (users, k) array of item columns, got shape {top.shape}")
    truth = sparse.csr_matrix(truth)
    if truth.shape[0] != top.shape[0]:
        raise ValueError(f"top has {top.shape[0]} users but truth has {truth.shape[0]} rows")
    truth.sum_duplicates()
    truth.sort_indices()
    on_axis = np.diff(truth.indptr).astype(np.int64)
    rel = on_axis if n_relevant is None else np.asarray(n_relevant, dtype=np.int64)
    if rel.shape != (top.shape[0],):
        raise ValueError(f"n_relevant must have one count per user ({top.shape[0]}), got shape {rel.shape}")
    if np.any(rel < on_axis):
        raise ValueError("n_relevant is smaller than the number of relevant items in truth for some users")
    return top, truth, rel


def gains(top: I64, truth: sparse.csr_matrix) -> F64:
    """The truth value of each recommended item (0 where it is not relevant or the slot is empty).

    Membership is found by one ``searchsorted`` of ``row * n_items + column`` codes, so the cost
    is ``O((nnz + n * K) log nnz)`` whatever the number of items.

    >>> import numpy as np
    >>> from scipy import sparse
    >>> truth = sparse.csr_matrix(np.array([[0, 1, 0, 2]]))
    >>> gains(np.array([[3, 0, 1]]), truth).tolist()
    [[2.0, 0.0, 1.0]]
    """
    truth = sparse.csr_matrix(truth)
    truth.sum_duplicates()
    truth.sort_indices()
    n, n_items = truth.shape
    top = np.asarray(top, dtype=np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(truth.indptr))
    codes = rows * n_items + truth.indices.astype(np.int64)
    query = np.arange(n, dtype=np.int64)[:, None] * n_items + np.where(top >= 0, top, 0)
    out = np.zeros(top.shape, dtype=np.float64)
    if codes.size == 0:
        return out
    pos = np.searchsorted(codes, query)
    pos = np.minimum(pos, codes.size - 1)
    found = (codes[pos] == query) & (top >= 0)
    out[found] = np.asarray(truth.data, dtype=np.float64)[pos[found]]
    return out


def ranking_metrics(
    top: I64, truth: sparse.csr_matrix, ks: Sequence[int], *, n_relevant: I64 | None = None
) -> dict[str, F64]:
    """Per-user precision, recall, NDCG, hit rate, MRR and MAP at each ``k`` in ``ks``.

    Parameters
    ----------
    top
        ``(n_users, K)`` recommended item columns, best first, ``-1`` for empty slots;
        ``K >= max(ks)``.
    truth
        ``(n_users, n_items)`` CSR; stored values > 0 are the relevant items.
    ks
        Cut-offs.
    n_relevant
        Relevant items per user including those outside the item axis (default: the row
        counts of ``truth``).

    Returns
    -------
    dict
        ``{"recall@10": per-user array, ...}``; users without any relevant item get ``nan``.

    Examples
    --------
    Two relevant items at ranks 1 and 3 of a list of 3: DCG = 1/log2(2) + 1/log2(4) = 1.5,
    IDCG = 1 + 1/log2(3) = 1.6309, NDCG = 0.9197.

    >>> import numpy as np
    >>> from scipy import sparse
    >>> truth = sparse.csr_matrix(np.array([[1, 0, 1, 0]]))
    >>> m = ranking_metrics(np.array([[0, 1, 2]]), truth, [3])
    >>> round(float(m["ndcg@3"][0]), 4), float(m["recall@3"][0]), float(m["mrr@3"][0])
    (0.9197, 1.0, 1.0)
    """
    top, truth, rel = _check(top, truth, n_relevant)
    kmax = max(ks)
    if top.shape[1] < kmax:
        raise ValueError(f"top has {top.shape[1]} columns, fewer than k={kmax}")
    hits = gains(top[:, :kmax], truth) > 0
    disc = _discounts(kmax)
    cum = np.cumsum(hits, axis=1, dtype=np.float64)
    ranks = np.arange(1, kmax + 1, dtype=np.float64)
    prec_at = cum / ranks
    first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0)
    ideal_cum = np.concatenate([[0.0], np.cumsum(disc)])
    valid = rel > 0
    safe = np.maximum(rel, 1).astype(np.float64)
    out: dict[str, F64] = {}
    for k in ks:
        h = cum[:, k - 1]
        dcg = (hits[:, :k] * disc[:k]).sum(axis=1)
        idcg = ideal_cum[np.minimum(rel, k)]
        metrics = {
            "precision": h / k,
            "recall": h / safe,
            "ndcg": np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0),
            "hit": (h > 0).astype(np.float64),
            "mrr": np.where((first > 0) & (first <= k), 1.0 / np.maximum(first, 1), 0.0),
            "map": (prec_at[:, :k] * hits[:, :k]).sum(axis=1) / safe,
        }
        for name in RANKING_METRICS:
            out[f"{name}@{k}"] = np.where(valid, metrics[name], np.nan)
    return out


def graded_ndcg(
    top: I64,
    scores: Callable[[I64], NDArray[np.floating[Any]]],
    k: int,
    *,
    seen: sparse.csr_matrix | None = None,
    chunk: int = 2048,
) -> F64:
    """NDCG@k of each list against a graded relevance known for every item (e.g. true preferences).

    ``scores(rows)`` returns the relevance of every item for the users at positions ``rows``
    (shape ``(len(rows), n_items)``, non-negative). Items in ``seen`` (the training
    interactions, which recommendations exclude) are left out of the ideal ranking too, so 1
    means "the k unseen items with the highest relevance, in order".

    >>> import numpy as np
    >>> rel = np.array([[3.0, 2.0, 1.0, 0.0]])
    >>> float(graded_ndcg(np.array([[0, 1]]), lambda r: rel[r], 2)[0])
    1.0
    """
    top = np.asarray(top, dtype=np.int64)[:, :k]
    n = top.shape[0]
    disc = _discounts(k)
    out = np.full(n, np.nan)
    for start in range(0, n, chunk):
        rows = np.arange(start, min(n, start + chunk), dtype=np.int64)
        s = np.asarray(scores(rows), dtype=np.float64).copy()
        if np.any(s < 0):
            raise ValueError("graded relevance must be non-negative")
        if seen is not None:
            block = sparse.csr_matrix(seen[rows])
            r = np.repeat(np.arange(len(rows)), np.diff(block.indptr))
            s[r, block.indices] = 0.0
        t = top[rows]
        got = np.where(t >= 0, np.take_along_axis(s, np.maximum(t, 0), axis=1), 0.0)
        dcg = (got * disc[: t.shape[1]]).sum(axis=1)
        kk = min(k, s.shape[1])
        best = -np.sort(-np.partition(s, s.shape[1] - kk, axis=1)[:, s.shape[1] - kk :], axis=1)
        idcg = (best * disc[:kk]).sum(axis=1)
        out[rows] = np.divide(dcg, idcg, out=np.full_like(dcg, np.nan), where=idcg > 0)
    return out


def exposure(top: I64, n_items: int) -> I64:
    """How many lists each item appears in (length ``n_items``)."""
    t = np.asarray(top, dtype=np.int64).ravel()
    t = t[t >= 0]
    counts: I64 = np.bincount(t, minlength=n_items).astype(np.int64)
    return counts


def coverage(top: I64, n_items: int) -> float:
    """Share of the ``n_items`` catalogue that appears in at least one list.

    >>> import numpy as np
    >>> coverage(np.array([[0, 1], [1, -1]]), 4)
    0.5
    """
    if n_items <= 0:
        return float("nan")
    return float(np.count_nonzero(exposure(top, n_items)) / n_items)


def gini(top: I64, n_items: int) -> float:
    """Gini coefficient of item exposure over the whole catalogue (items never shown count as 0).

    ``G = sum_i (2i - n - 1) c_(i) / (n sum c)`` with exposure counts ``c`` sorted ascending.

    >>> import numpy as np
    >>> gini(np.array([[0], [1]]), 2)  # two items shown once each: perfectly equal
    0.0
    >>> gini(np.array([[0], [0]]), 2)  # one of two items takes everything: (n - 1) / n
    0.5
    """
    c = np.sort(exposure(top, n_items)).astype(np.float64)
    n = c.size
    total = c.sum()
    if n == 0 or total == 0:
        return float("nan")
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(((2 * i - n - 1) * c).sum() / (n * total))


def mean_popularity(top: I64, popularity: F64) -> float:
    """Average ``popularity`` of the recommended items (empty slots ignored)."""
    t = np.asarray(top, dtype=np.int64).ravel()
    t = t[t >= 0]
    if t.size == 0:
        return float("nan")
    return float(np.asarray(popularity, dtype=np.float64)[t].mean())


def standard_error(values: F64) -> float:
    """Standard error of the mean of per-user values (``nan`` ignored; ``nan`` below two values)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size < 2:
        return float("nan")
    return float(v.std(ddof=1) / np.sqrt(v.size))
