"""Turning per-item probabilities into one predicted basket per user, and scoring baskets by F1.

Per-order F1 follows the Instacart competition (Kaggle 2017): the truth of an order is the set of
its items the user bought before (its reorders), or the token ``None`` when there are none; a
prediction is a set of items, to which ``None`` may be added; an empty prediction means ``None``.
``F1 = 2 |S ∩ T| / (|S| + |T|)`` per order, averaged over orders (users).

Three ways to choose the basket from scores:

* a global threshold ``p >= t`` (``t`` tuned on held-out users, :func:`best_threshold`);
* the top ``k`` items of each user (:func:`top_k`), e.g. ``k`` = the user's mean basket size;
* per-user expected-F1 maximisation (:func:`expected_f1_sets`): with independent Bernoulli
  outcomes the F1-optimal prediction is one of the ``n + 1`` top-``k`` sets by probability (Ye,
  Chai, Lee & Chieu 2012, theorem 2, the "probability ranking principle" for F1), so for every
  ``k`` the exact expectation ``E[2A / (k + A + B)]`` is computed from the Poisson-binomial
  distributions of the positives ``A`` inside and ``B`` outside the top ``k`` (dynamic programming,
  Jansche 2007), once with and once without the ``None`` token, and the best is taken.

References
----------
Jansche, M. (2007). A maximum expected utility framework for binary sequence labeling. ACL 2007, 736-743.

Ye, N., Chai, K. M. A., Lee, W. S. & Chieu, H. L. (2012). Optimizing F-measures: a tale of two
approaches. ICML 2012.

Instacart Market Basket Analysis (2017), Kaggle competition: evaluation by mean F1 with ``None``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt

from growthkit.models.reorder._base import F64, I64, B, ReorderError

THRESHOLD_GRID: F64 = np.round(np.arange(0.02, 0.801, 0.01), 2)
"""Global thresholds tried by :func:`best_threshold`."""

BLOCK_CELLS = 1 << 21
"""Cells (k x A x B) of one vectorised block of :func:`expected_f1_choice` (about 16 MB of float64)."""


def order_f1(codes: I64, n_users: int, selected: B, y: I64, add_none: B | None = None) -> F64:
    """Per-user F1 of the selected items against the positive items, with the ``None`` token.

    ``codes``: the user number (0..n_users-1) of every pair; ``selected``/``y``: per pair;
    ``add_none``: per user, whether ``None`` is predicted besides the selected items (an empty
    selection always predicts ``None``).

    Examples
    --------
    >>> codes = np.array([0, 0, 0, 1, 1])
    >>> order_f1(codes, 2, np.array([1, 1, 0, 0, 0], bool), np.array([1, 0, 1, 0, 0])).round(3).tolist()
    [0.5, 1.0]
    """
    sel = selected.astype(np.float64)
    tp = np.bincount(codes, weights=sel * y, minlength=n_users)
    n_sel = np.bincount(codes, weights=sel, minlength=n_users)
    n_true = np.bincount(codes, weights=y.astype(np.float64), minlength=n_users)
    none = n_sel == 0
    if add_none is not None:
        none = none | add_none
    pred = n_sel + none
    truth = np.maximum(n_true, 1.0)
    hits = tp + (none & (n_true == 0))
    return np.asarray(2.0 * hits / (pred + truth), dtype=np.float64)


def best_threshold(codes: I64, n_users: int, score: F64, y: I64, grid: F64 = THRESHOLD_GRID) -> tuple[float, float]:
    """The global threshold of ``grid`` with the highest mean per-order F1, and that F1."""
    if score.shape[0] == 0:
        raise ReorderError("no pairs to tune a threshold on")
    f1 = np.array([order_f1(codes, n_users, score >= t, y).mean() for t in grid])
    i = int(np.argmax(f1))
    return float(grid[i]), float(f1[i])


def rank_in_user(codes: I64, score: F64, tiebreak: F64 | None = None) -> I64:
    """Rank of every pair inside its user, 1 = the highest score (ties: higher ``tiebreak``, then input order)."""
    n = codes.shape[0]
    keys: list[npt.NDArray[np.float64] | npt.NDArray[np.int64]] = [np.arange(n)]
    if tiebreak is not None:
        keys.append(-tiebreak)
    order = np.lexsort((*keys, -score, codes))
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, n]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - first + 1
    return rank


def top_k(codes: I64, score: F64, k: I64, tiebreak: F64 | None = None) -> B:
    """Per pair: among its user's top ``k[user]`` by score (ties broken as in :func:`rank_in_user`)."""
    return np.asarray(rank_in_user(codes, score, tiebreak) <= k[codes], dtype=np.bool_)


def _poisson_binomial_prefixes(p: F64, m: int) -> F64:
    """``out[k, a]`` = P(a successes among the first k of ``p``), counts truncated at ``m``."""
    out = np.zeros((p.shape[0] + 1, m + 1))
    out[0, 0] = 1.0
    for k, pk in enumerate(p):
        prev = out[k]
        cur = prev * (1.0 - pk)
        cur[1:] += prev[:-1] * pk
        out[k + 1] = cur
    return out


def expected_f1_choice(p: F64, *, with_none: bool = True) -> tuple[int, bool, float]:
    """The best basket for one user: ``(k, add_none, expected F1)``; the basket is the top ``k`` by ``p``.

    ``k = 0`` predicts ``None`` alone. Outcomes are taken as independent Bernoulli(``p``).

    Examples
    --------
    >>> expected_f1_choice(np.array([0.9, 0.8, 0.05]))[:2]
    (2, False)
    >>> expected_f1_choice(np.array([0.1, 0.05]))[:2]
    (0, False)
    """
    q = np.sort(np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0))[::-1]
    n = q.shape[0]
    if n == 0:
        return 0, False, 1.0
    mu, sd = float(q.sum()), math.sqrt(float((q * (1.0 - q)).sum()))
    m = min(n, math.ceil(mu + 6.0 * sd + 10.0))  # P(more than m positives) < 1e-6 (Bernstein)
    top = _poisson_binomial_prefixes(q, m)  # positives among the top k
    rest = _poisson_binomial_prefixes(q[::-1], m)[::-1]  # rest[k]: positives among items k..n-1
    p0 = float(np.prod(1.0 - q))
    a = np.arange(m + 1, dtype=np.float64)
    plain = np.empty(n + 1)
    extra = np.empty(n + 1)
    plain[0], extra[0] = p0, -1.0  # k = 0: None alone
    block = max(1, BLOCK_CELLS // (m + 1) ** 2)
    for lo in range(1, n + 1, block):
        k = np.arange(lo, min(n + 1, lo + block), dtype=np.float64)[:, None, None]
        denom = k + a[None, :, None] + a[None, None, :]  # k + A + B
        joint = top[lo : lo + block, :, None] * rest[lo : lo + block, None, :]
        weighted = joint * (2.0 * a[None, :, None])
        plain[lo : lo + block] = np.sum(weighted / denom, axis=(1, 2))
        extra[lo : lo + block] = p0 * 2.0 / (k[:, 0, 0] + 2.0) + np.sum(weighted / (denom + 1.0), axis=(1, 2))
    if not with_none:
        extra[:] = -1.0
    kp, ke = int(np.argmax(plain)), int(np.argmax(extra))
    if extra[ke] > plain[kp]:
        return ke, True, float(extra[ke])
    return kp, False, float(plain[kp])


def expected_f1_sets(codes: I64, n_users: int, p: F64, *, with_none: bool = True) -> tuple[B, B, F64]:
    """Per pair: selected by per-user expected-F1 maximisation; per user: ``None`` added, and the expected F1."""
    order = np.lexsort((-p, codes))
    sorted_codes = codes[order]
    bounds = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1, codes.shape[0]]
    selected = np.zeros(codes.shape[0], dtype=np.bool_)
    add_none = np.zeros(n_users, dtype=np.bool_)
    expected = np.ones(n_users, dtype=np.float64)  # a user without candidates: None, surely right
    for lo, hi in itertools.pairwise(bounds):
        if hi <= lo:
            continue
        idx = order[lo:hi]
        k, none, e = expected_f1_choice(p[idx], with_none=with_none)
        selected[idx[:k]] = True
        u = int(sorted_codes[lo])
        add_none[u], expected[u] = none, e
    return selected, add_none, expected


def at_basket_size(codes: I64, n_users: int, score: F64, y: I64, size: I64) -> tuple[float, float]:
    """Mean precision and recall of each user's top ``size[user]`` items (``size`` capped at the candidates).

    Precision averages over users with ``size > 0``; recall over users with at least one positive.
    """
    cands = np.bincount(codes, minlength=n_users)
    k = np.minimum(size, cands)
    sel = top_k(codes, score, k)
    hits = np.bincount(codes, weights=(sel & (y == 1)).astype(np.float64), minlength=n_users)
    pos = np.bincount(codes, weights=y.astype(np.float64), minlength=n_users)
    has_k, has_pos = k > 0, pos > 0
    precision = float(np.mean(hits[has_k] / k[has_k])) if has_k.any() else math.nan
    recall = float(np.mean(hits[has_pos] / pos[has_pos])) if has_pos.any() else math.nan
    return precision, recall
