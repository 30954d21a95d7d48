"""The recommender contract: one small base class every model implements.

A model learns from :class:`~growthkit.features.interactions.Interactions` (a weighted
user x item matrix with the shop's ids) and answers four questions, all in the shop's own ids:

* :meth:`Recommender.recommend` — top-k items for known users (one or a batch), excluding what
  they already touched, restricted to an allow list or without a block list. Users the model
  has never seen get the most popular items (and :attr:`Recommendations.fallback` says so).
* :meth:`Recommender.recommend_from_items` — top-k for a new or anonymous visitor from the
  items they just looked at, without refitting (fold-in).
* :meth:`Recommender.similar_items` — the k nearest items of each item.
* :meth:`Recommender.score` — the model's score of given (user, item) pairs, for re-rankers.

A subclass implements ``_fit`` and ``_score_profiles`` (scores of all items for rows of a
user x item profile matrix); factor models also override ``_score_users`` and
``_similar``. ``save``/``load`` write one ``.npz`` file (arrays plus a JSON header, loaded
with ``allow_pickle=False``): no pickle, so a saved model cannot run code when loaded.

The design follows the small base class of the ``implicit`` library (one contract, shared
evaluation and tests) but, unlike it, never exposes matrix row numbers.
"""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from growthkit.errors import GrowthkitError, NotFittedError
from growthkit.features.interactions import Interactions
from growthkit.models.recommend.results import Recommendations as Recommendations  # re-exported
from growthkit.models.recommend.results import top_k as top_k  # re-exported

F32 = NDArray[np.float32]
I64 = NDArray[np.int64]

FORMAT = "growthkit-recommender/1"
"""Version tag written into every saved model."""

_CHUNK_CELLS = 1 << 21
"""Batch scoring works on blocks of at most this many user x item scores (8 MB of float32: top-k stays in cache)."""


class RecommendError(GrowthkitError, ValueError):
    """A recommender was given inputs it cannot use (empty data, bad k, unknown saved format)."""


_REGISTRY: dict[str, type[Recommender]] = {}


class Recommender(ABC):
    """Base class of every recommender (see the module docstring for the contract).

    Learned attributes set by :meth:`fit`: ``user_ids_``, ``item_ids_``, ``user_items_``
    (the training matrix, used to exclude seen items and as user profiles) and
    ``item_popularity_`` (number of users per item, the fallback ranking).
    """

    name: ClassVar[str] = "base"
    """Short registry name (``popularity``, ``itemknn``, ...)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not inspect.isabstract(cls) and cls.name != "base":
            _REGISTRY[cls.name] = cls

    # ---- parameters -------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The keyword arguments of ``__init__`` and their current values."""
        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    def set_params(self, **params: Any) -> Self:
        """Change parameters (unfits nothing: call :meth:`fit` again)."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise RecommendError(f"{type(self).__name__} has no parameter {key!r}; valid: {sorted(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ---- fitting ----------------------------------------------------------------------
    def fit(self, interactions: Interactions) -> Self:
        """Learn from a weighted user x item matrix; returns ``self``."""
        if not isinstance(interactions, Interactions):
            raise RecommendError(
                f"fit() takes growthkit.features.interactions.Interactions, not {type(interactions).__name__}; "
                "build one with build_interactions(store) or Interactions.from_frame(df)"
            )
        if interactions.nnz == 0:
            raise RecommendError("no interactions to learn from: the matrix is empty")
        x = interactions.matrix.astype(np.float32).tocsr()
        x.sort_indices()
        self.user_ids_ = interactions.user_ids.copy()
        self.item_ids_ = interactions.item_ids.copy()
        self.user_items_ = x
        self.item_popularity_ = np.asarray((x > 0).sum(axis=0), dtype=np.float64).ravel()
        self._build_maps()
        self._fit(x, interactions)
        return self

    def _build_maps(self) -> None:
        self._user_pos = {u: i for i, u in enumerate(self.user_ids_.tolist())}
        self._item_pos = {u: i for i, u in enumerate(self.item_ids_.tolist())}

    @abstractmethod
    def _fit(self, x: sparse.csr_matrix, interactions: Interactions) -> None:
        """Learn the model's own attributes from ``x`` (float32 CSR, users x items)."""

    @abstractmethod
    def _score_profiles(self, profiles: sparse.csr_matrix) -> NDArray[np.floating[Any]]:
        """Scores of every item, one row per row of ``profiles`` (rows x items)."""

    def _score_users(self, rows: I64) -> NDArray[np.floating[Any]]:
        """Scores of every item for known users (row numbers); default: their training profile."""
        return self._score_profiles(self.user_items_[rows])

    def _similar(self, items: I64) -> NDArray[np.floating[Any]]:
        """Similarity of every item to each of ``items``; default: a one-item profile."""
        n = len(items)
        one_hot = sparse.csr_matrix(
            (np.ones(n, dtype=np.float32), (np.arange(n), items)), shape=(n, len(self.item_ids_))
        )
        return self._score_profiles(one_hot)

    def _state(self) -> dict[str, NDArray[Any]]:
        """Learned arrays beyond the base ones, for :meth:`save`."""
        return {}

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:  # noqa: B027  (optional hook)
        """Set learned attributes from arrays written by :meth:`_state`."""

    # ---- lookups ----------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "item_ids_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(interactions) first")

    def user_index(self, user_ids: Iterable[Any]) -> I64:
        """Row numbers of ``user_ids`` (``-1`` when unknown)."""
        self._check_fitted()
        return np.fromiter((self._user_pos.get(str(u), -1) for u in user_ids), dtype=np.int64)

    def item_index(self, item_ids: Iterable[Any]) -> I64:
        """Column numbers of ``item_ids`` (``-1`` when unknown)."""
        self._check_fitted()
        return np.fromiter((self._item_pos.get(str(i), -1) for i in item_ids), dtype=np.int64)

    def _item_mask(self, ids: Iterable[Any] | None) -> NDArray[np.bool_] | None:
        if ids is None:
            return None
        idx = self.item_index(ids)
        mask = np.zeros(len(self.item_ids_), dtype=bool)
        mask[idx[idx >= 0]] = True
        return mask

    def _popularity_row(self) -> NDArray[np.float64]:
        pop = self.item_popularity_.astype(np.float64)
        return pop / max(float(pop.max()), 1.0)

    # ---- answers ----------------------------------------------------------------------
    def recommend(
        self,
        user_ids: Any,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        allow_items: Iterable[Any] | None = None,
        block_items: Iterable[Any] | None = None,
    ) -> Recommendations:
        """Top-``k`` items for one user id or a sequence of them.

        Parameters
        ----------
        user_ids
            One id or a sequence of ids (the shop's own). Unknown users get the most
            popular items, flagged in ``fallback``.
        k
            How many items per user.
        exclude_seen
            Leave out items the user interacted with in the training data.
        allow_items
            Only these items may be recommended (e.g. in stock); unknown ids are ignored.
        block_items
            These items are never recommended.
        """
        self._check_fitted()
        k = _check_k(k)
        ids = _as_ids(user_ids)
        rows = self.user_index(ids)
        allow = self._item_mask(allow_items)
        block = self._item_mask(block_items)
        n_items = len(self.item_ids_)
        out_idx = np.full((len(ids), k), -1, dtype=np.int64)
        out_val = np.full((len(ids), k), np.nan)
        known = np.flatnonzero(rows >= 0)
        step = max(1, _CHUNK_CELLS // max(n_items, 1))
        for start in range(0, len(known), step):
            pos = known[start : start + step]
            r = rows[pos]
            s = np.asarray(self._score_users(r), dtype=np.float32).copy()
            if exclude_seen:
                _mask_seen(s, self.user_items_[r])
            _apply_masks(s, allow, block)
            out_idx[pos], out_val[pos] = top_k(s, k)
        unknown = np.flatnonzero(rows < 0)
        if unknown.size:
            s = np.tile(self._popularity_row().astype(np.float32), (1, 1))
            _apply_masks(s, allow, block)
            i, v = top_k(s, k)
            out_idx[unknown], out_val[unknown] = i[0], v[0]
        return self._package(ids, out_idx, out_val, rows < 0)

    def recommend_from_items(
        self,
        item_ids: Sequence[Any],
        k: int = 10,
        *,
        weights: Sequence[float] | None = None,
        exclude_seen: bool = True,
        allow_items: Iterable[Any] | None = None,
        block_items: Iterable[Any] | None = None,
    ) -> Recommendations:
        """Top-``k`` for a new or anonymous visitor from the items they interacted with (fold-in).

        ``weights`` gives each item's strength (default 1 each). Items the model does not
        know are ignored; with none known, the answer is the popularity fallback.
        """
        self._check_fitted()
        k = _check_k(k)
        items = list(item_ids)
        w = np.ones(len(items), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
        if len(w) != len(items):
            raise RecommendError(f"weights has {len(w)} values for {len(items)} items")
        idx = self.item_index(items)
        ok = idx >= 0
        n_items = len(self.item_ids_)
        profile = sparse.csr_matrix((w[ok], (np.zeros(int(ok.sum()), dtype=np.int64), idx[ok])), shape=(1, n_items))
        profile.sum_duplicates()
        fallback = profile.nnz == 0
        if fallback:
            s = self._popularity_row().astype(np.float32)[None, :]
        else:
            s = np.asarray(self._score_profiles(profile), dtype=np.float32).reshape(1, n_items).copy()
            if exclude_seen:
                _mask_seen(s, profile)
        _apply_masks(s, self._item_mask(allow_items), self._item_mask(block_items))
        i, v = top_k(s, k)
        return self._package(np.asarray(["anonymous"]), i, v, np.asarray([fallback]))

    def similar_items(self, item_ids: Any, k: int = 10) -> Recommendations:
        """The ``k`` most similar items of each item (never the item itself); unknown items get none."""
        self._check_fitted()
        k = _check_k(k)
        ids = _as_ids(item_ids)
        idx = self.item_index(ids)
        out_idx = np.full((len(ids), k), -1, dtype=np.int64)
        out_val = np.full((len(ids), k), np.nan)
        known = np.flatnonzero(idx >= 0)
        n_items = len(self.item_ids_)
        step = max(1, _CHUNK_CELLS // max(n_items, 1))
        for start in range(0, len(known), step):
            pos = known[start : start + step]
            s = np.asarray(self._similar(idx[pos]), dtype=np.float32).copy()
            s[np.arange(len(pos)), idx[pos]] = -np.inf
            out_idx[pos], out_val[pos] = top_k(s, k)
        return self._package(ids, out_idx, out_val, idx < 0)

    def score(self, user_ids: Sequence[Any], item_ids: Sequence[Any]) -> NDArray[np.float64]:
        """The model's score of each (user, item) pair; ``nan`` when either is unknown."""
        self._check_fitted()
        users = self.user_index(user_ids)
        items = self.item_index(item_ids)
        if len(users) != len(items):
            raise RecommendError(f"{len(users)} user ids but {len(items)} item ids: give one of each per pair")
        out = np.full(len(users), np.nan)
        ok = np.flatnonzero((users >= 0) & (items >= 0))
        if ok.size == 0:
            return out
        n_items = len(self.item_ids_)
        uniq, inverse = np.unique(users[ok], return_inverse=True)
        step = max(1, _CHUNK_CELLS // max(n_items, 1))
        for start in range(0, len(uniq), step):
            block = uniq[start : start + step]
            s = np.asarray(self._score_users(block), dtype=np.float64)
            sel = (inverse >= start) & (inverse < start + len(block))
            out[ok[sel]] = s[inverse[sel] - start, items[ok[sel]]]
        return out

    def _package(self, ids: NDArray[np.str_], idx: I64, val: NDArray[np.float64], fb: Any) -> Recommendations:
        names = np.empty(idx.shape, dtype=object)
        valid = idx >= 0
        names[valid] = self.item_ids_[idx[valid]]
        return Recommendations(query_ids=ids, item_ids=names, scores=val, fallback=np.asarray(fb, dtype=bool))

    # ---- persistence ------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted model to one ``.npz`` file (no pickle); returns the path written."""
        self._check_fitted()
        target = Path(path)
        if target.suffix != ".npz":
            target = target.with_suffix(".npz")
        header = {"format": FORMAT, **self._header()}
        x = self.user_items_
        arrays: dict[str, NDArray[Any]] = {
            "__header__": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            "__user_ids__": self.user_ids_.astype(str),
            "__item_ids__": self.item_ids_.astype(str),
            "__x_data__": x.data,
            "__x_indices__": x.indices,
            "__x_indptr__": x.indptr,
            "__x_shape__": np.asarray(x.shape, dtype=np.int64),
            "__popularity__": self.item_popularity_,
        }
        for key, value in self._state().items():
            if key.startswith("__"):
                raise RecommendError(f"state key {key!r} is reserved")
            if np.asarray(value).dtype == object:
                raise RecommendError(f"state {key!r} is an object array; save arrays of numbers or strings")
            arrays[key] = np.asarray(value)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as fh:
            # uncompressed: learned float weights barely compress and zlib made large saves slow
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        return target

    @classmethod
    def load(cls, path: str | Path) -> Recommender:
        """Read a model written by :meth:`save` (any registered model class)."""
        with np.load(Path(path), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        try:
            header = json.loads(arrays.pop("__header__").tobytes().decode())
        except (KeyError, ValueError) as exc:
            raise RecommendError(f"{path} is not a growthkit recommender file") from exc
        if header.get("format") != FORMAT:
            raise RecommendError(f"{path}: unsupported format {header.get('format')!r}; expected {FORMAT}")
        model = _from_header(header, str(path))
        if cls is not Recommender and not isinstance(model, cls):
            raise RecommendError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        shape = tuple(int(v) for v in arrays.pop("__x_shape__"))
        matrix = sparse.csr_matrix(
            (arrays.pop("__x_data__"), arrays.pop("__x_indices__"), arrays.pop("__x_indptr__")), shape=shape
        )
        model._attach(arrays.pop("__user_ids__"), arrays.pop("__item_ids__"), matrix, arrays.pop("__popularity__"))
        model._restore(arrays)
        return model

    # ---- models inside models (e.g. a hybrid's recalls) ---------------------------------
    def _header(self) -> dict[str, Any]:
        """The registry name and JSON parameters that rebuild this model (saved with it)."""
        return {"model": self.name, "params": _jsonable(self.get_params())}

    def _attach(self, user_ids: NDArray[Any], item_ids: NDArray[Any], user_items: Any, popularity: Any) -> None:
        """Set the base class's learned attributes (ids, training matrix, popularity) without fitting."""
        self.user_ids_ = user_ids
        self.item_ids_ = item_ids
        self.user_items_ = user_items
        self.item_popularity_ = popularity
        self._build_maps()

    def _submodel_state(self, model: Recommender, prefix: str) -> dict[str, NDArray[Any]]:
        """A fitted sub-model's header and learned arrays under keys starting with ``prefix``.

        The sub-model must share this model's ids and training matrix (saved once, by the
        parent). Keys: ``{prefix}_header`` (JSON as uint8) and ``{prefix}__{key}`` per array.
        """
        out = {f"{prefix}_header": np.frombuffer(json.dumps(model._header()).encode(), dtype=np.uint8)}
        for key, value in model._state().items():
            out[f"{prefix}__{key}"] = np.asarray(value)
        return out

    def _restore_submodel(self, state: dict[str, NDArray[Any]], prefix: str) -> Recommender:
        """Rebuild a sub-model written by :meth:`_submodel_state` on this model's ids and matrix."""
        try:
            header = json.loads(state[f"{prefix}_header"].tobytes().decode())
        except KeyError as exc:
            raise RecommendError(
                f"saved {type(self).__name__} lacks sub-model {prefix!r}; the file is incomplete"
            ) from exc
        model = _from_header(header, f"sub-model {prefix!r}")
        model._attach(self.user_ids_, self.item_ids_, self.user_items_, self.item_popularity_)
        model._restore({k.removeprefix(f"{prefix}__"): v for k, v in state.items() if k.startswith(f"{prefix}__")})
        return model


def registered_models() -> dict[str, type[Recommender]]:
    """Model classes by registry name (those whose modules have been imported)."""
    return dict(_REGISTRY)


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise RecommendError(f"k must be a positive integer, got {k!r}")
    return int(k)


def _as_ids(ids: Any) -> NDArray[np.str_]:
    if isinstance(ids, str | int | np.integer):
        return np.asarray([str(ids)])
    values = [str(v) for v in ids]
    return np.asarray(values, dtype=str) if values else np.zeros(0, dtype=str)


def _mask_seen(scores: NDArray[np.float32], seen: sparse.csr_matrix) -> None:
    seen = seen.tocsr()
    rows = np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr))
    scores[rows, seen.indices] = -np.inf


def _apply_masks(scores: NDArray[np.float32], allow: NDArray[np.bool_] | None, block: NDArray[np.bool_] | None) -> None:
    if allow is not None:
        scores[:, ~allow] = -np.inf
    if block is not None:
        scores[:, block] = -np.inf


def _from_header(header: dict[str, Any], where: str) -> Recommender:
    """An unfitted model of the registered class and parameters named by a saved header."""
    model_cls = _REGISTRY.get(header["model"])
    if model_cls is None:
        raise RecommendError(
            f"{where}: unknown model {header['model']!r}; import its module first (known: {sorted(_REGISTRY)})"
        )
    return model_cls(**_restore_tuples(model_cls, header["params"]))


def _restore_tuples(model_cls: type[Recommender], params: dict[str, Any]) -> dict[str, Any]:
    """JSON turned tuple parameters into lists: give back tuples where ``__init__``'s default is one."""
    sig = inspect.signature(model_cls.__init__)
    out = dict(params)
    for key, value in params.items():
        p = sig.parameters.get(key)
        if p is not None and isinstance(p.default, tuple) and isinstance(value, list):
            out[key] = _deep_tuple(value)
    return out


def _deep_tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_deep_tuple(v) for v in value)
    return value


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, tuple):
            value = list(value)
        try:
            json.dumps(value)
        except TypeError as exc:
            raise RecommendError(f"parameter {key}={value!r} cannot be saved as JSON") from exc
        out[key] = value
    return out
