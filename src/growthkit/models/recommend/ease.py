"""EASE: an item x item linear model with a closed-form solution.

Steck (2019), "Embarrassingly Shallow Autoencoders for Sparse Data" (WWW '19), learns an item x
item weight matrix ``B`` that predicts each item's column of the user x item matrix ``X`` from
all the other items, with an L2 penalty and the constraint ``diag(B) = 0`` (an item may not
predict itself):

    minimise ||X - X B||^2 + l2 ||B||^2  subject to  diag(B) = 0,

whose solution is ``P = (X^T X + l2 I)^-1`` and ``B_ij = -P_ij / P_jj`` (``B_jj = 0``). A user's
scores are ``x_u @ B``; for an anonymous visitor the same product with the visited items is
the exact fold-in (the model has no user parameters).

Assumptions and limits. Fitting inverts a dense ``m x m`` matrix: ``O(m^3)`` time and ``m^2``
float32 memory (400 MB at 10k items). Measured on one core (CPU seconds for the whole fit on
1M synthetic interactions): 1.4 s at 5k items, 9 s at 10k, 30 s at 15k, 69 s at 20k.
Hence ``max_items`` (default 10 000): with more items, the learned block is restricted to the
``max_items`` items with the most users, and a warning is logged. That is *exactly* EASE with
every weight that involves an item outside the block fixed at zero: such items neither
predict nor are predicted, so their score is always ``0`` (they rank after items with positive
evidence and before items with negative evidence), and they have no similar items. With a
power-law catalogue the block holds most interactions (81% with 10k of 50k items in the
measurement above); ``coverage_`` reports the share.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.linalg import lapack
from threadpoolctl import threadpool_limits

from growthkit.features.interactions import Interactions
from growthkit.models.recommend._sparse import remap_columns
from growthkit.models.recommend.base import Recommender, RecommendError

log = logging.getLogger(__name__)

_SYM_BLOCK = 1024
"""Rows per block when mirroring the lower triangle of the inverse (no full-size temporaries)."""


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder (Steck 2019): closed-form item x item regression.

    Parameters
    ----------
    l2
        The L2 penalty ``lambda``; Steck reports values of a few hundred for MovieLens-20M
        and Netflix. Larger values shrink the weights towards zero.
    max_items
        Largest learned block (see the module docstring): above it, only the ``max_items``
        items with the most users are modelled and the rest score ``0``.
    num_threads
        BLAS threads for the Gram matrix and the inverse.

    Attributes
    ----------
    weights_
        Dense float32 ``(m, m)`` matrix ``B`` over the learned block (zero diagonal).
    block_items_
        Column numbers (into ``item_ids_``) of the learned block, ascending.
    coverage_
        Share of the training interactions (stored entries) that fall in the block.

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.features.interactions import Interactions
    >>> x = Interactions.from_frame(pd.DataFrame({"user_id": list("aabbc"), "item_id": list("ijijk")}))
    >>> EASE(l2=1.0).fit(x).recommend_from_items(["i"], k=1).items_of("anonymous")
    ['j']
    """

    name = "ease"

    def __init__(self, *, l2: float = 500.0, max_items: int = 10_000, num_threads: int = 1) -> None:
        self.l2 = l2
        self.max_items = max_items
        self.num_threads = num_threads

    def _validate(self) -> None:
        if isinstance(self.l2, bool) or not (np.isfinite(self.l2) and self.l2 > 0):
            raise RecommendError(f"l2 must be a positive number, got {self.l2!r}")
        for key in ("max_items", "num_threads"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise RecommendError(f"{key} must be a positive integer, got {v!r}")

    def _fit(self, x: sparse.csr_matrix, interactions: Interactions) -> None:
        self._validate()
        n = x.shape[1]
        m = min(n, int(self.max_items))
        if m < n:
            by_pop = np.argsort(-self.item_popularity_, kind="stable")
            block = np.sort(by_pop[:m]).astype(np.int64)
        else:
            block = np.arange(n, dtype=np.int64)
        self.block_items_ = block
        self._set_block_map()
        xb = remap_columns(x, self.block_pos_, m)
        self.coverage_ = float(xb.nnz / x.nnz)
        if m < n:
            log.warning(
                "EASE: %d items exceed max_items=%d; learning the %d items with the most users "
                "(%.1f%% of the interactions). The other %d items score 0 and have no similar items; "
                "raise max_items (cost grows with its cube) to model them.",
                n,
                m,
                m,
                100 * self.coverage_,
                n - m,
            )
        with threadpool_limits(int(self.num_threads), "blas"):
            self.weights_ = ease_weights(xb, float(self.l2))

    def _set_block_map(self) -> None:
        pos = np.full(len(self.item_ids_), -1, dtype=np.int64)
        pos[self.block_items_] = np.arange(len(self.block_items_))
        self.block_pos_ = pos
        self._full_block = len(self.block_items_) == len(self.item_ids_)

    def _score_profiles(self, profiles: sparse.csr_matrix) -> NDArray[np.floating[Any]]:
        if self._full_block:
            scores: NDArray[np.float32] = np.asarray(profiles @ self.weights_, dtype=np.float32)
            return scores
        inside = remap_columns(profiles, self.block_pos_, len(self.block_items_))
        block_scores = np.asarray(inside @ self.weights_, dtype=np.float32)
        out = np.zeros((profiles.shape[0], len(self.item_ids_)), dtype=np.float32)
        out[:, self.block_items_] = block_scores
        return out

    def _similar(self, items: NDArray[np.int64]) -> NDArray[np.floating[Any]]:
        out = np.full((len(items), len(self.item_ids_)), -np.inf, dtype=np.float32)
        pos = self.block_pos_[items]
        ok = np.flatnonzero(pos >= 0)
        if ok.size:
            rows = np.full((ok.size, len(self.item_ids_)), -np.inf, dtype=np.float32)
            rows[:, self.block_items_] = self.weights_[pos[ok]]
            out[ok] = rows
        return out

    def _state(self) -> dict[str, NDArray[Any]]:
        return {"weights": self.weights_, "block_items": self.block_items_, "coverage": np.asarray(self.coverage_)}

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self.weights_ = np.ascontiguousarray(state["weights"], dtype=np.float32)
        self.block_items_ = state["block_items"].astype(np.int64)
        self.coverage_ = float(state["coverage"])
        self._set_block_map()


def ease_weights(x: sparse.csr_matrix, l2: float) -> NDArray[np.float32]:
    """EASE's ``B = I - P diag(1 / diag(P))`` with ``P = (X^T X + l2 I)^-1``, float32, zero diagonal.

    The Gram matrix is formed from the sparse ``x`` and inverted in place through a float32
    Cholesky factorisation (LAPACK ``potrf`` then ``potri``); peak memory is about one dense
    ``m x m`` float32 matrix.
    """
    m = x.shape[1]
    g = np.asarray((x.T @ x).toarray(), dtype=np.float32)
    g[np.diag_indices(m)] += np.float32(l2)
    # g is symmetric, so a C-ordered buffer read in Fortran order is the same matrix: passing
    # a Fortran-ordered view lets LAPACK work in place instead of copying m^2 floats.
    c, info = lapack.spotrf(g if g.flags.f_contiguous else g.T, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        raise RecommendError(f"EASE: X^T X + l2 I is not positive definite (LAPACK info {info}); increase l2")
    p, info = lapack.spotri(c, lower=1, overwrite_c=1)
    if info != 0:
        raise RecommendError(f"EASE: inverting X^T X + l2 I failed (LAPACK info {info}); increase l2")
    _mirror_lower(p)  # P is now complete and symmetric
    b = np.ascontiguousarray(p.T)  # a view (no copy) when LAPACK worked in place
    inv_diag = (-1.0 / np.diag(b).astype(np.float64)).astype(np.float32)
    for start in range(0, m, _SYM_BLOCK):  # B_ij = -P_ij / P_jj, in place, block by block
        b[start : start + _SYM_BLOCK] *= inv_diag[None, :]
    b[np.diag_indices(m)] = 0.0
    out: NDArray[np.float32] = b
    return out


def _mirror_lower(p: NDArray[np.float32]) -> None:
    """Copy the lower triangle of a square matrix onto its upper triangle, in blocks."""
    m = p.shape[0]
    for start in range(0, m, _SYM_BLOCK):
        stop = min(start + _SYM_BLOCK, m)
        sq = p[start:stop, start:stop]
        low = np.tril(sq)
        p[start:stop, start:stop] = low + np.tril(low, -1).T
        if stop < m:
            p[start:stop, stop:] = p[stop:, start:stop].T
