"""Shared machinery of the content-based recommenders (private; see :mod:`.content`).

A content model turns each item's text into a vector, L2-normalises it and keeps the
``n_items x d`` matrix ``item_vectors_`` (float32; a SciPy CSR matrix for exact TF-IDF, a
dense array otherwise). Everything else is shared and lives here:

* a user's profile is the weighted mean of the vectors of the items in their history (the
  weights are the interaction weights, optionally multiplied by a recency factor), scaled
  to unit length, and an item's affinity is the cosine ``profile . v_item`` (in ``[-1, 1]``);
  the classic content-based scheme of Pazzani & Billsus (2007, "Content-based recommendation
  systems", in *The Adaptive Web*, LNCS 4321). Since every item of the profile enters
  linearly, ranking by this cosine is ranking by the summed similarity to the user's items;
* a popularity prior turns the affinity into the score of users and visitors:
  ``score = max(cosine, 0) * ((n_item + 1) / (n_max + 1)) ** popularity_exponent`` with
  ``n`` the number of training users of an item (add-one smoothed, so an item nobody touched
  yet keeps a positive score). Text similarity says which items fit a taste, not which of
  them people want; multiplying by popularity to a tuned power is the usual remedy (the
  popularity bias of accuracy-optimal rankings: Steck 2011, "Item popularity and
  recommendation accuracy", RecSys '11). ``popularity_exponent=0`` gives the plain cosine;
  larger values move the ranking towards popularity (and cold items further down);
* similar items are the nearest vectors by cosine (no prior: "similar" means similar text);
* fold-in (:meth:`recommend_from_items`) needs nothing but the saved vectors.

Scoring one user reads the whole item matrix once, so its size sets the latency. With
``n_components="auto"`` a matrix larger than :data:`AUTO_MAX_SPARSE_VALUES` stored values
(sparse) or :data:`AUTO_MAX_DENSE_VALUES` values (dense) is projected on its top
:data:`AUTO_COMPONENTS` right singular vectors (a truncated SVD, uncentred, as in latent
semantic analysis: Deerwester et al. 1990, "Indexing by latent semantic analysis", JASIS
41(6)) before normalising: the best rank-k approximation of the item Gram matrix, so
cosines are approximated, near-duplicates stay nearest and one user costs about a
millisecond at 50k items. An integer asks for that many dimensions, ``None`` never reduces.

Items with no text have the zero vector: they score 0 for everybody and are nobody's
neighbour, while an item nobody touched yet but with a text (a cold item on a catalogue-wide
item axis) is scored like any other.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from growthkit.features.interactions import Interactions, attributes_text
from growthkit.models.recommend._session_base import seconds
from growthkit.models.recommend.base import Recommender, RecommendError

log = logging.getLogger(__name__)

TEXT_FIELDS: tuple[str, ...] = ("title", "description", "category", "brand", "attributes")
"""The item fields content models read (columns of ``Interactions.items``); ``attributes`` is
the items' JSON attributes flattened to text (:func:`~growthkit.features.interactions.attributes_text`)."""

DAY_S = 86_400.0

AUTO_MAX_SPARSE_VALUES = 1_000_000
"""``n_components="auto"`` keeps a sparse item matrix (TF-IDF) exact up to this many stored values."""

AUTO_MAX_DENSE_VALUES = 8_000_000
"""``n_components="auto"`` keeps dense item vectors exact up to ``n_items * dim`` of this (32 MB)."""

AUTO_COMPONENTS = 128
"""``n_components="auto"`` reduces larger item matrices to this many dimensions."""

Vectors: TypeAlias = NDArray[np.float32] | sparse.csr_matrix


def item_texts(
    interactions: Interactions, item_ids: NDArray[np.str_], fields: Sequence[str], model: str
) -> pd.DataFrame:
    """One row per id of ``item_ids`` (in that order), one string column per field (``""`` when missing).

    Raises
    ------
    RecommendError
        ``interactions`` carries no item attributes, or none of ``fields`` is among them.
    """
    items = interactions.items
    if items is None:
        raise RecommendError(
            f"{model} needs item texts: pass interactions.with_context(items=item_attributes(store)) "
            "(or a DataFrame with item_id and title/description/category/brand/attributes columns)"
        )
    present = [f for f in fields if f in items.columns]
    if not present:
        raise RecommendError(
            f"{model} reads the item fields {list(fields)}, but the items table has only {list(items.columns)}"
        )
    frame = items.loc[~items.index.duplicated(keep="last"), present]
    frame.index = frame.index.astype(str)
    frame = frame.reindex(pd.Index(item_ids.tolist(), dtype=object))
    out = pd.DataFrame(index=frame.index)
    for f in present:
        col = frame[f]
        if f == "attributes":
            col = _attributes_as_text(col)
        out[f] = np.where(col.isna().to_numpy(), "", col.astype(object).astype(str).to_numpy())
    missing = int(np.sum(~pd.Index(item_ids.tolist()).isin(items.index)))
    if missing:
        log.info(
            "%s: %d of %d items have no row in the items table (they get no content vector)",
            model,
            missing,
            len(item_ids),
        )
    return out


def _attributes_as_text(col: pd.Series) -> pd.Series:
    """An ``attributes`` column as text: raw JSON objects (a table read as is) are flattened."""
    raw = col.map(lambda v: isinstance(v, dict) or (isinstance(v, str) and v.lstrip().startswith("{")))
    if not raw.any():
        return col
    out = col.astype(object).copy()
    out[raw] = attributes_text(col[raw])
    return out


def check_popularity_exponent(value: Any) -> None:
    """A :class:`RecommendError` unless ``value`` is a finite number >= 0."""
    ok = not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)
    if not ok or not np.isfinite(value) or value < 0:
        raise RecommendError(
            f"popularity_exponent must be a finite number >= 0 (0: no popularity prior), got {value!r}"
        )


def l2_normalise(v: Vectors) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    if sparse.issparse(v):
        m = sparse.csr_matrix(v, dtype=np.float32)
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1), dtype=np.float64).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        out: sparse.csr_matrix = sparse.csr_matrix(sparse.diags(scale.astype(np.float32)) @ m)
        out.eliminate_zeros()
        out.sort_indices()
        return out
    d = np.asarray(v, dtype=np.float32)
    n = np.linalg.norm(d, axis=1, keepdims=True)
    res: NDArray[np.float32] = np.divide(d, n, out=np.zeros_like(d), where=n > 0)
    return res


def recency_factors(
    interactions: Interactions, x: sparse.csr_matrix, half_life_days: float, model: str
) -> NDArray[np.float32]:
    """Per stored entry of ``x`` (CSR order): ``0.5 ** (age / half_life_days)``.

    ``age`` is the time from the user's last event in the log to the pair's last event, so
    each user's most recent items weigh most whenever that user was last active. Pairs that
    are not in the log keep factor 1.
    """
    frame = interactions.log
    if frame is None or not {"user_id", "item_id", "ts"} <= set(frame.columns):
        raise RecommendError(
            f"{model}(recency_half_life_days=...) needs the event log with user_id, item_id, ts: pass "
            "interactions.with_context(log=interaction_log(store)), or set recency_half_life_days=None"
        )
    users = pd.Index(interactions.user_ids.tolist())
    items = pd.Index(interactions.item_ids.tolist())
    u = users.get_indexer(np.asarray(frame["user_id"].astype(str), dtype=object))
    i = items.get_indexer(np.asarray(frame["item_id"].astype(str), dtype=object))
    sec = seconds(frame["ts"])
    ok = (u >= 0) & (i >= 0) & np.isfinite(sec)
    n_items = len(items)
    pairs = pd.DataFrame({"key": u[ok].astype(np.int64) * n_items + i[ok], "u": u[ok], "t": sec[ok]})
    last_pair = pairs.groupby("key", sort=True)["t"].max()
    last_user = pairs.groupby("u")["t"].max()
    rows = np.repeat(np.arange(x.shape[0], dtype=np.int64), np.diff(x.indptr))
    keys = rows * n_items + x.indices
    pos = last_pair.index.get_indexer(keys)
    user_last = last_user.reindex(rows).to_numpy(dtype=np.float64)
    age = np.where(pos >= 0, user_last - last_pair.to_numpy()[np.maximum(pos, 0)], 0.0)
    factor = np.power(0.5, np.maximum(age, 0.0) / (half_life_days * DAY_S))
    return np.where(pos >= 0, factor, 1.0).astype(np.float32)


class ContentRecommender(Recommender):
    """Base of the content models: item vectors in, cosine profiles and neighbours out.

    Subclasses implement :meth:`_item_vectors` and own their parameters; every subclass has
    a ``recency_half_life_days`` parameter (``None`` or a positive number of days) and a
    ``popularity_exponent`` (a number >= 0, see the module docstring).
    """

    recency_half_life_days: float | None
    popularity_exponent: float
    n_components: int | str | None
    random_state: int

    @abstractmethod
    def _item_vectors(self, interactions: Interactions) -> Vectors:
        """Raw (not yet normalised) vectors of ``self.item_ids_``, one row per item."""

    def _fit(self, x: sparse.csr_matrix, interactions: Interactions) -> None:
        hl = self.recency_half_life_days
        if hl is not None and (isinstance(hl, bool) or not isinstance(hl, int | float) or not hl > 0):
            raise RecommendError(f"recency_half_life_days must be a positive number of days or None, got {hl!r}")
        check_popularity_exponent(self.popularity_exponent)
        nc = self.n_components
        if not (nc is None or nc == "auto" or (isinstance(nc, int) and not isinstance(nc, bool) and nc >= 1)):
            raise RecommendError(f"n_components must be None, 'auto' or a positive integer, got {nc!r}")
        vectors = l2_normalise(self._reduce(self._item_vectors(interactions)))
        if vectors.shape[0] != len(self.item_ids_):
            raise RecommendError(
                f"{type(self).__name__} made {vectors.shape[0]} vectors for {len(self.item_ids_)} items"
            )
        self._set_vectors(vectors)
        if not self.has_text_.any():
            raise RecommendError(f"{type(self).__name__}: no item has any text to learn from")
        self.profile_weights_: NDArray[np.float32] | None = None
        if hl is not None:
            self.profile_weights_ = x.data * recency_factors(interactions, x, float(hl), type(self).__name__)

    def _reduce(self, v: Vectors) -> Vectors:
        """``v`` projected on its top singular vectors when ``n_components`` asks for it."""
        nc = self.n_components
        sparse_in = isinstance(v, sparse.csr_matrix)
        size = v.nnz if isinstance(v, sparse.csr_matrix) else int(np.prod(v.shape))
        limit = AUTO_MAX_SPARSE_VALUES if sparse_in else AUTO_MAX_DENSE_VALUES
        if nc is None or (nc == "auto" and size <= limit):
            return v
        k = min(AUTO_COMPONENTS if nc == "auto" else int(nc), v.shape[1] - 1, v.shape[0])
        if k < 1:
            return v
        from sklearn.decomposition import TruncatedSVD

        log.info("%s: reducing %d x %d item vectors to %d dimensions", type(self).__name__, *v.shape, k)
        svd = TruncatedSVD(n_components=k, algorithm="randomized", n_iter=4, random_state=self.random_state)
        return np.asarray(svd.fit_transform(v), dtype=np.float32)

    def _set_vectors(self, vectors: Vectors) -> None:
        self.item_vectors_ = vectors
        if isinstance(vectors, sparse.csr_matrix):
            self._vectors_t: sparse.csr_matrix | None = sparse.csr_matrix(vectors.T)
            self.has_text_ = np.diff(vectors.indptr) > 0
        else:
            self._vectors_t = None
            self.has_text_ = np.abs(vectors).sum(axis=1) > 0

    # ---- scoring ----------------------------------------------------------------------
    def _profiles_of(self, rows: NDArray[np.int64]) -> sparse.csr_matrix:
        x = self.user_items_
        if self.profile_weights_ is None:
            return x[rows]
        weighted = sparse.csr_matrix((self.profile_weights_, x.indices, x.indptr), shape=x.shape)
        return weighted[rows]

    def _score_users(self, rows: NDArray[np.int64]) -> NDArray[np.floating[Any]]:
        return self._score_profiles(self._profiles_of(rows))

    def _score_profiles(self, profiles: sparse.csr_matrix) -> NDArray[np.floating[Any]]:
        cos = self._cosines(profiles)
        beta = float(self.popularity_exponent)
        if beta == 0:
            return cos
        n = np.asarray(self.item_popularity_, dtype=np.float64)
        prior = np.power((n + 1.0) / (float(n.max(initial=0.0)) + 1.0), beta).astype(np.float32)
        out: NDArray[np.float32] = np.maximum(cos, np.float32(0.0)) * prior[None, :]
        return out

    def _similar(self, items: NDArray[np.int64]) -> NDArray[np.floating[Any]]:
        n = len(items)
        one_hot = sparse.csr_matrix(
            (np.ones(n, dtype=np.float32), (np.arange(n), items)), shape=(n, len(self.item_ids_))
        )
        return self._cosines(one_hot)

    def _cosines(self, profiles: sparse.csr_matrix) -> NDArray[np.float32]:
        """Cosine of each profile row's unit-length mean vector with every item vector."""
        p = sparse.csr_matrix(profiles, dtype=np.float32)
        v = self.item_vectors_
        if self._vectors_t is not None:
            u = l2_normalise(sparse.csr_matrix(p @ v))
            return np.asarray((u @ self._vectors_t).toarray(), dtype=np.float32)
        dense_u = l2_normalise(np.asarray(p @ v, dtype=np.float32))
        out: NDArray[np.float32] = np.asarray(dense_u, dtype=np.float32) @ np.asarray(v).T
        return out

    # ---- persistence ------------------------------------------------------------------
    def _state(self) -> dict[str, NDArray[Any]]:
        v = self.item_vectors_
        state: dict[str, NDArray[Any]] = {}
        if isinstance(v, sparse.csr_matrix):
            state["vec_data"] = np.asarray(v.data)
            state["vec_indices"] = np.asarray(v.indices)
            state["vec_indptr"] = np.asarray(v.indptr)
            state["vec_shape"] = np.asarray(v.shape, dtype=np.int64)
        else:
            state["vectors"] = np.asarray(v, dtype=np.float32)
        if self.profile_weights_ is not None:
            state["profile_weights"] = self.profile_weights_
        return state

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        if "vectors" in state:
            vectors: Vectors = np.asarray(state["vectors"], dtype=np.float32)
        else:
            shape = tuple(int(s) for s in state["vec_shape"])
            vectors = sparse.csr_matrix((state["vec_data"], state["vec_indices"], state["vec_indptr"]), shape=shape)
        self._set_vectors(vectors)
        pw = state.get("profile_weights")
        self.profile_weights_ = None if pw is None else np.asarray(pw, dtype=np.float32)
