"""Helpers of :class:`~growthkit.models.recommend.hybrid.Hybrid`: saving sub-models, and the ranker's prior.

* :func:`submodel_state` / :func:`restore_submodel`: a wrapper model's recall models saved
  under a key prefix (their name, parameters and learned arrays) and rebuilt on load.
* :func:`_best_recall`, :func:`_prior`, :func:`_monotone`, :func:`_validation_groups`: the
  ranker starts from its best recall's ranking (an ``init_score``), may only raise an item with a
  better recall score or rank (monotone constraints), and stops early on held-out query groups.
"""

from __future__ import annotations

import json
import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from growthkit.models.recommend.base import Recommender, RecommendError, _jsonable, registered_models
from growthkit.models.recommend.ranker_features import (
    feature_names,
)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_MIN_VALID_GROUPS = 5
"""Early stopping needs at least this many held-out query groups (a fifth of the users)."""


def submodel_state(model: Recommender, prefix: str) -> dict[str, NDArray[Any]]:
    """A fitted sub-model's name, params and learned arrays under keys starting with ``prefix``.

    The sub-model must share its parent's ids and training matrix (those are saved once, by
    the parent). Keys: ``{prefix}_header`` (JSON as uint8) and ``{prefix}__{key}`` per array.
    """
    header = {"model": model.name, "params": _jsonable(model.get_params())}
    out: dict[str, NDArray[Any]] = {f"{prefix}_header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)}
    for key, value in model._state().items():
        out[f"{prefix}__{key}"] = np.asarray(value)
    return out


def restore_submodel(parent: Recommender, state: dict[str, NDArray[Any]], prefix: str) -> Recommender:
    """Rebuild a sub-model written by :func:`submodel_state` on ``parent``'s ids and matrix."""
    try:
        header = json.loads(state[f"{prefix}_header"].tobytes().decode())
    except KeyError as exc:
        raise RecommendError(f"saved Hybrid lacks sub-model {prefix!r}; the file is incomplete") from exc
    cls = registered_models().get(header["model"])
    if cls is None:
        raise RecommendError(
            f"saved sub-model {header['model']!r} is not registered; import its module first "
            f"(known: {sorted(registered_models())})"
        )
    model = cls(**header["params"])
    model.user_ids_ = parent.user_ids_
    model.item_ids_ = parent.item_ids_
    model.user_items_ = parent.user_items_
    model.item_popularity_ = parent.item_popularity_
    model._build_maps()
    model._restore({k.removeprefix(f"{prefix}__"): v for k, v in state.items() if k.startswith(f"{prefix}__")})
    return model


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
