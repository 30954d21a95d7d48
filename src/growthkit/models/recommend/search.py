"""Fitting a model on a split, ranking for its test users, and a small hyperparameter search.

:func:`rank_users` is the one code path from a fitted model to the item columns the metrics
read. :func:`search` tunes one model on a *validation* split carved out of the training set
the same way the test was split (:func:`~growthkit.models.recommend.splits.split_again`): it
receives only ``split.train``, so the test part cannot influence the choice. The grids are
data (:data:`GRIDS`, per registry name); parameters a model does not have are skipped, so a
grid written for one version of a model keeps working with the next.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from growthkit.errors import GrowthkitError
from growthkit.features.interactions import Interactions, InteractionWeights
from growthkit.models.recommend.base import Recommender, RecommendError, registered_models
from growthkit.models.recommend.metrics import ranking_metrics, standard_error
from growthkit.models.recommend.splits import Split, split_again

log = logging.getLogger(__name__)

I64 = NDArray[np.int64]

GRIDS: dict[str, dict[str, Sequence[Any]]] = {
    "popularity": {"by": ["global", "category"], "count": ["users", "weight"]},
    "itemknn": {
        "similarity": ["cosine", "bm25"],
        "k_neighbors": [20, 50, 100, 200],
        "shrink": [0.0, 10.0, 50.0],
        "normalize": [False, True],
    },
    "ease": {"l2": [50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]},
    "als": {"factors": [32, 64, 128], "regularization": [0.01, 0.1, 1.0], "alpha": [1.0, 5.0, 20.0]},
    "bpr": {"factors": [32, 64, 128], "learning_rate": [0.01, 0.05, 0.1], "regularization": [0.001, 0.01]},
    "content_tfidf": {"max_n": [3, 4], "popularity_exponent": [0.0, 0.5, 1.0, 2.0]},
    "content_embedding": {
        "centre": [0.0, 0.8, 1.0],
        "popularity_exponent": [1.0, 2.0],
        "recency_half_life_days": [None, 30.0],
    },
    "session_knn": {"k_neighbors": [50, 100, 200], "sample_size": [250, 500, 1000], "recency_weighting": [True, False]},
    "transitions": {"backward": [0.5, 1.0], "session_decay": [0.5, 1.0], "popularity_share": [0.0, 0.5]},
    "fbt": {"min_count": [1, 2], "metric": ["confidence", "lift"], "recent_baskets": [3, 10]},
    "hybrid": {
        "n_candidates": [50, 100, 200],
        "num_leaves": [15, 31],
        "learning_rate": [0.05, 0.1],
        "holdout": ["auto", "last"],
    },
}
"""Search grids per registry name (value lists per ``__init__`` parameter)."""


@dataclass(frozen=True)
class Trial:
    """One setting tried in a search: its validation score (mean and standard error) and fit time."""

    params: dict[str, Any]
    score: float
    se: float
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class SearchResult:
    """The outcome of :func:`search` for one model."""

    model: str
    metric: str
    best_params: dict[str, Any]
    best_score: float
    trials: tuple[Trial, ...]
    validation: str
    """How the validation split was made (never from the test part)."""
    validation_users: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "model": self.model,
            "metric": self.metric,
            "best_params": self.best_params,
            "best_score": self.best_score,
            "validation": self.validation,
            "validation_users": self.validation_users,
            "seconds": round(self.seconds, 3),
            "trials": [
                {"params": t.params, "score": t.score, "se": t.se, "seconds": round(t.seconds, 3), "error": t.error}
                for t in self.trials
            ],
        }


@dataclass(frozen=True)
class Ranked:
    """A fitted model's top-k item columns for a split's test users, and what it cost."""

    users: NDArray[np.str_]
    top: I64
    fallback: NDArray[np.bool_]
    fit_seconds: float
    rank_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


MODEL_MODULES: tuple[str, ...] = ("popularity", "itemknn", "ease", "als", "content", "session", "fbt", "hybrid")
"""Modules of ``growthkit.models.recommend`` whose import registers the models."""


def available_models() -> dict[str, type[Recommender]]:
    """Every registered model, after importing the model modules that exist (they register on import)."""
    for module in MODEL_MODULES:
        try:
            importlib.import_module(f"growthkit.models.recommend.{module}")
        except ImportError as exc:
            if exc.name != f"growthkit.models.recommend.{module}":
                log.debug("recommender module %s not importable: %s", module, exc)
    return registered_models()


def make_model(name: str, params: Mapping[str, Any] | None = None) -> Recommender:
    """A fresh model of registry ``name`` with ``params`` (parameters it does not have are an error)."""
    models = available_models()
    if name not in models:
        raise RecommendError(f"unknown model {name!r}; registered: {', '.join(sorted(models))}")
    model = models[name]()
    if params:
        model.set_params(**dict(params))
    return model


def rank_users(
    model: Recommender,
    split: Split,
    users: Sequence[str] | NDArray[np.str_],
    k: int,
    *,
    fit: bool = True,
    batch: int = 4096,
) -> Ranked:
    """Fit ``model`` on ``split.train`` (unless ``fit=False``) and rank every item for ``users``.

    Returns the recommended items as columns of ``split.train.item_ids`` (``-1`` = empty slot
    or an item outside that axis), honouring ``split.exclude_seen``.
    """
    t0 = time.perf_counter()
    if fit:
        model.fit(split.train)
    t1 = time.perf_counter()
    ids = np.asarray(users, dtype=str)
    top = np.full((len(ids), k), -1, dtype=np.int64)
    fallback = np.zeros(len(ids), dtype=bool)
    for start in range(0, len(ids), batch):
        recs = model.recommend(ids[start : start + batch], k=k, exclude_seen=split.exclude_seen)
        flat = recs.item_ids.ravel()
        cols = np.full(flat.shape, -1, dtype=np.int64)
        ok = np.flatnonzero(np.asarray([v is not None for v in flat], dtype=bool))
        cols[ok] = split.train.item_index(flat[ok])
        top[start : start + len(recs)] = cols.reshape(recs.item_ids.shape)
        fallback[start : start + len(recs)] = recs.fallback
    return Ranked(ids, top, fallback, t1 - t0, time.perf_counter() - t1)


def _metric_key(metric: str) -> tuple[str, int]:
    try:
        name, k = metric.split("@")
        return name, int(k)
    except ValueError:
        raise RecommendError(f"metric must look like 'ndcg@10', got {metric!r}") from None


def validation_score(model: Recommender, split: Split, metric: str = "ndcg@10") -> tuple[float, float]:
    """Mean and standard error of ``metric`` (e.g. ``ndcg@10``) of ``model`` fitted on ``split``."""
    _, k = _metric_key(metric)
    users, truth, n_rel = split.truth()
    ranked = rank_users(model, split, users, k)
    values = ranking_metrics(ranked.top, truth, [k], n_relevant=n_rel)[metric]
    return float(np.nanmean(values)), standard_error(values)


def candidates(
    grid: Mapping[str, Sequence[Any]], valid: Sequence[str], max_trials: int, seed: int
) -> list[dict[str, Any]]:
    """The settings to try: the full grid when small, else ``max_trials`` drawn at random (seeded).

    Keys of ``grid`` that are not in ``valid`` are dropped. The model's defaults are always tried
    first (as the empty setting).
    """
    usable = {k: list(v) for k, v in grid.items() if k in valid and len(v) > 0}
    dropped = sorted(set(grid) - set(usable))
    if dropped:
        log.debug("search: parameters %s are not model parameters; skipped", dropped)
    combos: list[dict[str, Any]] = [
        dict(zip(usable, values, strict=True)) for values in itertools.product(*usable.values())
    ]
    if len(combos) + 1 > max_trials:
        rng = np.random.default_rng(seed)
        picked = rng.choice(len(combos), size=max(max_trials - 1, 0), replace=False)
        combos = [combos[i] for i in sorted(picked.tolist())]
    return [{}, *combos]


def search(
    name: str,
    train: Interactions,
    *,
    kind: str,
    split_params: Mapping[str, Any],
    weights: InteractionWeights,
    metric: str = "ndcg@10",
    grid: Mapping[str, Sequence[Any]] | None = None,
    base_params: Mapping[str, Any] | None = None,
    max_trials: int = 8,
    seed: int = 0,
    progress: Callable[[str, float], None] | None = None,
) -> SearchResult:
    """Tune model ``name`` on a validation split carved from ``train`` (the test is never given).

    Parameters
    ----------
    name
        Registry name of the model.
    train
        The training interactions of the evaluation split (with their weighted ``log``).
    kind, split_params, weights
        How the test was split; the validation split is made the same way from ``train``.
    metric
        What to maximise, e.g. ``"ndcg@10"``.
    grid
        Values to try per parameter (default :data:`GRIDS` ``[name]``).
    base_params
        Fixed parameters under every trial (e.g. thread counts).
    max_trials
        At most this many fits (the defaults included); larger grids are sampled.

    Returns
    -------
    SearchResult
        The best setting (the defaults win ties) and every trial.
    """
    _metric_key(metric)
    t0 = time.perf_counter()
    validation = split_again(train, kind, split_params, weights)
    base = dict(base_params or {})
    valid = list(make_model(name, base).get_params())
    trials: list[Trial] = []
    options = candidates(grid if grid is not None else GRIDS.get(name, {}), valid, max_trials, seed)
    for i, extra in enumerate(options):
        params = {**base, **extra}
        if progress is not None:
            progress(f"tuning {name} ({i + 1}/{len(options)})", i / len(options))
        t = time.perf_counter()
        try:
            score, se = validation_score(make_model(name, params), validation, metric)
            trials.append(Trial(params, score, se, time.perf_counter() - t))
        except (GrowthkitError, ValueError, MemoryError) as exc:
            log.info("search %s: %s failed: %s", name, params, exc)
            trials.append(Trial(params, float("nan"), float("nan"), time.perf_counter() - t, str(exc)))
    scored = [t for t in trials if np.isfinite(t.score)]
    if not scored:
        raise RecommendError(f"every setting of {name} failed on the validation split: {trials[0].error}")
    best = max(scored, key=lambda t: t.score)  # max keeps the first of equals: the defaults win ties
    users = int(validation.test["user_id"].nunique())
    return SearchResult(
        name, metric, best.params, best.score, tuple(trials), validation.description, users, time.perf_counter() - t0
    )
