"""Item-kNN: items are similar when the same users touch them.

The item-based collaborative filtering of Sarwar, Karypis, Konstan & Riedl (2001, "Item-based
collaborative filtering recommendation algorithms", WWW '01): compare the columns of the user x
item matrix, keep every item's ``k`` most similar items, and score a candidate for a user by
the summed similarity to the items in the user's history (the top-N formulation of Deshpande
& Karypis 2004, "Item-based top-N recommendation algorithms", ACM TOIS 22(1)).

Three similarities, all on the (weighted) interaction matrix ``X`` (users x items):

* ``"cosine"`` — ``s_ij = x_i . x_j / (|x_i| |x_j| + shrink)``; ``shrink`` damps pairs with
  little support.
* ``"tfidf"`` — cosine after weighting each user's entries by the inverse user frequency
  ``log(N / n_u)`` (Breese, Heckerman & Kadie 1998; ``N`` items with an interaction, ``n_u``
  items of the user): a user who touched everything says nothing about any pair.
* ``"bm25"`` — plain co-occurrence (dot products) of BM25-weighted columns (Robertson &
  Zaragoza 2009, "The probabilistic relevance framework: BM25 and beyond"), the weighting that
  the ``implicit`` library popularised for implicit feedback. Each item is a "document" whose
  "terms" are its users: ``w_ui = idf_u * x_ui (k1 + 1) / (x_ui + k1 (1 - b + b L_i / L))``
  with ``idf_u = log(1 + (N - n_u + 0.5) / (n_u + 0.5))``, ``N`` the number of items with an
  interaction, ``n_u`` the number of items of user ``u``, ``L_i`` the total weight of item
  ``i`` and ``L`` its mean over items. ``k1`` saturates repeated interactions, ``b`` damps
  very popular items. ``shrink`` does not apply.

Scaling: the similarity matrix is never dense. ``X^T X`` is computed in row blocks of bounded
cost (sparse products, float32), the diagonal dropped and each block pruned to its top
``k_neighbors`` per row before the next block, so memory is ``O(n_items * k_neighbors)``.
Scoring a user is one sparse vector-matrix product.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from growthkit.features.interactions import Interactions
from growthkit.models.recommend._sparse import row_blocks, topk_per_row, zero_diagonal
from growthkit.models.recommend.base import Recommender, RecommendError

SIMILARITIES = ("cosine", "tfidf", "bm25")
"""Accepted values of ``ItemKNN(similarity=...)``."""

_BLOCK_COST = 1e7
"""Multiply-adds per block of the item x item product (bounds the memory of one block)."""


class ItemKNN(Recommender):
    """Item-based nearest neighbours on a sparse, pruned item x item similarity matrix.

    Parameters
    ----------
    similarity
        ``"cosine"``, ``"tfidf"`` (cosine with inverse user frequency) or ``"bm25"``
        (co-occurrence of BM25-weighted columns); see the module docstring.
    k_neighbors
        Similar items kept per item (the rest are set to zero).
    shrink
        Added to the cosine denominator (``cosine`` and ``tfidf`` only); ``0`` is plain cosine.
    bm25_k1, bm25_b
        BM25 saturation and length normalisation (``bm25`` only).
    normalize
        Scale each item's kept similarities to sum to one (Deshpande & Karypis 2004), so
        items with many strong neighbours do not dominate every user's list.

    Attributes
    ----------
    similarity_
        CSR float32 ``(n_items, n_items)``; row ``i`` holds the ``k_neighbors`` items most
        similar to item ``i`` (zero diagonal). A user's scores are ``profile @ similarity_``.

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.features.interactions import Interactions
    >>> x = Interactions.from_frame(pd.DataFrame({"user_id": list("aabbc"), "item_id": list("ijijk")}))
    >>> ItemKNN().fit(x).similar_items("i", k=1).items_of("i")
    ['j']
    """

    name = "itemknn"

    def __init__(
        self,
        *,
        similarity: str = "cosine",
        k_neighbors: int = 100,
        shrink: float = 0.0,
        bm25_k1: float = 1.2,
        bm25_b: float = 0.75,
        normalize: bool = False,
    ) -> None:
        self.similarity = similarity
        self.k_neighbors = k_neighbors
        self.shrink = shrink
        self.bm25_k1 = bm25_k1
        self.bm25_b = bm25_b
        self.normalize = normalize

    def _validate(self) -> None:
        if self.similarity not in SIMILARITIES:
            raise RecommendError(f"similarity must be one of {SIMILARITIES}, got {self.similarity!r}")
        k = self.k_neighbors
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise RecommendError(f"k_neighbors must be a positive integer, got {k!r}")
        if not (np.isfinite(self.shrink) and self.shrink >= 0):
            raise RecommendError(f"shrink must be a finite number >= 0, got {self.shrink!r}")
        if not (np.isfinite(self.bm25_k1) and self.bm25_k1 > 0):
            raise RecommendError(f"bm25_k1 must be > 0, got {self.bm25_k1!r}")
        if not (np.isfinite(self.bm25_b) and 0 <= self.bm25_b <= 1):
            raise RecommendError(f"bm25_b must be between 0 and 1, got {self.bm25_b!r}")

    def _fit(self, x: sparse.csr_matrix, interactions: Interactions) -> None:
        self._validate()
        w = weight_matrix(x, self.similarity, k1=float(self.bm25_k1), b=float(self.bm25_b))
        self.similarity_ = item_similarity(
            w,
            k=int(self.k_neighbors),
            cosine=self.similarity != "bm25",
            shrink=float(self.shrink),
            normalize=bool(self.normalize),
        )

    def _score_profiles(self, profiles: sparse.csr_matrix) -> NDArray[np.floating[Any]]:
        scores: NDArray[np.float32] = np.asarray((profiles @ self.similarity_).toarray(), dtype=np.float32)
        return scores

    def _similar(self, items: NDArray[np.int64]) -> NDArray[np.floating[Any]]:
        rows = self.similarity_[items]
        out = np.full(rows.shape, -np.inf, dtype=np.float32)
        r = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
        out[r, rows.indices] = rows.data  # only kept neighbours are "similar"
        return out

    def _state(self) -> dict[str, NDArray[Any]]:
        s = self.similarity_
        return {"sim_data": s.data, "sim_indices": s.indices, "sim_indptr": s.indptr}

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        n = len(self.item_ids_)
        self.similarity_ = sparse.csr_matrix(
            (state["sim_data"], state["sim_indices"], state["sim_indptr"]), shape=(n, n)
        )


def weight_matrix(x: sparse.csr_matrix, similarity: str, *, k1: float = 1.2, b: float = 0.75) -> sparse.csr_matrix:
    """The user x item matrix re-weighted for ``similarity`` (float32 CSR, same pattern).

    ``cosine`` returns ``x`` itself; ``tfidf`` multiplies each user's row by
    ``log(N / n_u)``; ``bm25`` applies the BM25 weighting of the module docstring.
    """
    x = sparse.csr_matrix(x, dtype=np.float32)
    if similarity == "cosine":
        return x
    n_u = np.diff(x.indptr).astype(np.float64)  # items per user
    n_items = max(int(np.count_nonzero(np.bincount(x.indices, minlength=x.shape[1]))), 1)  # items with users
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    if similarity == "tfidf":
        idf = np.log(n_items / np.maximum(n_u, 1.0))
        out = x.copy()
        out.data = (x.data * idf[rows]).astype(np.float32)
        out.eliminate_zeros()
        return out
    if similarity == "bm25":
        idf = np.log1p((n_items - n_u + 0.5) / (n_u + 0.5))
        length = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
        mean_length = float(length[length > 0].mean()) if np.any(length > 0) else 1.0
        norm = 1.0 - b + b * length / mean_length
        tf = x.data.astype(np.float64)
        out = x.copy()
        out.data = (idf[rows] * tf * (k1 + 1.0) / (tf + k1 * norm[x.indices])).astype(np.float32)
        return out
    raise RecommendError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")


def item_similarity(
    w: sparse.csr_matrix, *, k: int, cosine: bool, shrink: float = 0.0, normalize: bool = False
) -> sparse.csr_matrix:
    """Top-``k`` item x item similarity of the columns of ``w`` (users x items), as float32 CSR.

    Computed in row blocks of bounded cost; each block is pruned before the next one, so the
    full co-occurrence matrix never exists at once. The diagonal is always zero.
    """
    w = sparse.csr_matrix(w, dtype=np.float32)
    n = w.shape[1]
    wt = w.T.tocsr()  # items x users
    norms = np.sqrt(np.asarray(w.multiply(w).sum(axis=0), dtype=np.float64).ravel())
    # cost of row i of wt @ w: sum over its users of their number of items
    user_len = np.diff(w.indptr).astype(np.float64)
    pattern = sparse.csr_matrix((np.ones(wt.nnz), wt.indices, wt.indptr), shape=wt.shape)
    cost = np.asarray(pattern @ user_len, dtype=np.float64).ravel() + 1.0
    blocks: list[sparse.csr_matrix] = []
    for start, stop in row_blocks(cost, _BLOCK_COST):
        blk = (wt[start:stop] @ w).tocsr()
        rows = np.repeat(np.arange(stop - start, dtype=np.int64), np.diff(blk.indptr))
        zero_diagonal(blk, start, rows)
        if cosine and blk.nnz:
            blk.data /= (norms[rows + start] * norms[blk.indices] + shrink).astype(np.float32)
        blk.eliminate_zeros()
        blocks.append(topk_per_row(blk, k))
    s = sparse.vstack(blocks, format="csr", dtype=np.float32) if blocks else sparse.csr_matrix((n, n), dtype=np.float32)
    if normalize and s.nnz:
        sums = np.asarray(s.sum(axis=1), dtype=np.float64).ravel()
        rows = np.repeat(np.arange(n), np.diff(s.indptr))
        s.data = np.divide(s.data, sums[rows], out=np.zeros_like(s.data), where=sums[rows] > 0).astype(np.float32)
    s.sort_indices()
    return s
