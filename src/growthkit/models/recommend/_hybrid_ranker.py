"""Helpers of :class:`~growthkit.models.recommend.hybrid.Hybrid`: training rows, the ranker's prior, checks.

* :func:`training_rows`: the candidates of the ranker's users with features and labels. With
  repeats, every user gives two query groups: all candidates (the user's own items included)
  against every item of the label window, and the unseen candidates against the new items
  only, so that one ranker serves both ``exclude_seen=False`` and ``exclude_seen=True``.
* :func:`_best_recall`, :func:`_prior`, :func:`_monotone`, :func:`_validation_groups`: the
  ranker starts from its best recall's ranking (an ``init_score``; the user's own items from
  their "buy it again" rank), may only raise an item with a better recall score or rank
  (monotone constraints), and stops early on held-out users.
* :func:`fit_ranker` and :class:`RankerCheck`: training, and whether the trees beat the
  starting order on the held-out users at all (else the hybrid serves that order).
* :func:`recall_specs`: the recalls' checked classes and params.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from growthkit.models.recommend._hybrid_split import RankerSplit
from growthkit.models.recommend.base import Recommender, RecommendError, registered_models
from growthkit.models.recommend.ranker_features import (
    REPEAT_FEATURES,
    SHARED_FEATURES,
    ItemTable,
    PairStats,
    candidates,
    contains,
    feature_names,
    features,
    pair_keys,
    repeat_features,
)

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

CHUNK_CELLS = 1 << 24
"""Candidate generation scores at most this many user x item cells at a time."""

MAX_GROUP = 10_000
"""LightGBM's LambdaRank refuses query groups with more rows than this."""


def history_column(n_recalls: int) -> int:
    """Column of ``pair_history_rank`` in a feature matrix with the repeat columns."""
    return 2 * n_recalls + len(SHARED_FEATURES) + REPEAT_FEATURES.index("pair_history_rank")


@dataclass(frozen=True, eq=False)
class TrainingRows:
    """The ranker's training data: rows, labels, query groups, and what the candidates reached."""

    x: F32
    y: F32
    group: I64
    user: I64
    """User row of each query group (both views of a user share it)."""
    new_view: NDArray[np.bool_]
    """Per group: only unseen candidates, labelled by the new items."""
    candidate_recall: float
    recall_candidate_recall: F64


def training_rows(
    recalls: Sequence[Recommender],
    split: RankerSplit,
    users: I64,
    items: ItemTable,
    activity: F64,
    n_candidates: int,
    stats: PairStats | None,
) -> TrainingRows:
    """Feature rows, labels and groups of the users' candidates (``stats`` given: with repeats)."""
    repeats = stats is not None
    n_items = split.train.shape[1]
    step = max(1, CHUNK_CELLS // max(n_items, 1))
    max_seen = MAX_GROUP - n_candidates * len(recalls)
    xs: list[F32] = []
    ys: list[F32] = []
    groups: list[I64] = []
    owners: list[I64] = []
    views: list[NDArray[np.bool_]] = []
    n_labels = 0
    hits = np.zeros(len(recalls) + 1, dtype=np.int64)
    for start in range(0, len(users), step):
        rows = users[start : start + step]
        blocks = [np.asarray(r._score_users(rows)) for r in recalls]
        seen = split.train[rows]
        cands = candidates(blocks, seen, n_candidates, include_seen=repeats, max_seen=max_seen)
        lab = split.labels[rows].tocoo()
        n_labels += lab.nnz
        keys = pair_keys(cands.rows, cands.cols, n_items)
        y = contains(np.sort(pair_keys(lab.row, lab.col, n_items)), keys)
        hits[0] += int(y.sum())
        hits[1:] += np.isfinite(cands.ranks[y]).sum(axis=0)
        feats = features(cands, blocks, seen, activity[rows], items)
        if stats is not None:
            feats = np.hstack([feats, repeat_features(cands, seen, items, stats, rows)])
        seen_coo = seen.tocoo()
        own = contains(np.sort(pair_keys(seen_coo.row, seen_coo.col, n_items)), keys)
        for mask, new in ([(np.ones(len(keys), dtype=bool), False)] if repeats else []) + [(~own, True)]:
            size = np.bincount(cands.rows[mask], minlength=len(rows))
            keep = np.bincount(cands.rows[mask & y], minlength=len(rows)) > 0
            if not keep.any():
                continue
            rows_kept = mask & keep[cands.rows]
            xs.append(feats[rows_kept])
            ys.append(y[rows_kept].astype(np.float32))
            groups.append(size[keep])
            owners.append(rows[keep])
            views.append(np.full(int(keep.sum()), new))
    share = hits / max(n_labels, 1)
    width = len(feature_names(len(recalls), repeats=repeats))
    return TrainingRows(
        x=np.vstack(xs) if xs else np.zeros((0, width), dtype=np.float32),
        y=np.concatenate(ys) if ys else np.zeros(0, dtype=np.float32),
        group=np.concatenate(groups).astype(np.int64) if groups else np.zeros(0, dtype=np.int64),
        user=np.concatenate(owners).astype(np.int64) if owners else np.zeros(0, dtype=np.int64),
        new_view=np.concatenate(views) if views else np.zeros(0, dtype=bool),
        candidate_recall=float(share[0]),
        recall_candidate_recall=share[1:].astype(np.float64),
    )


PATIENCE = 10
"""Boosting rounds without a better validation NDCG@10 before the ranker stops."""


@dataclass(frozen=True)
class RankerCheck:
    """The ranker against its starting order (the base recall's) on the held-out users.

    ``base_ndcg`` and ``ranker_ndcg`` are mean NDCG@10 over the held-out query groups of the
    initial score alone and of the initial score plus the trees; ``gain_se`` is the standard
    error of their paired difference; ``used`` whether the trees are served (they are when
    they gain, or when there were too few users to hold any out: ``n_groups`` 0, ``nan``s).
    """

    base_ndcg: float
    ranker_ndcg: float
    gain_se: float
    n_groups: int
    n_trees: int
    used: bool

    def to_array(self) -> F64:
        return np.asarray([self.base_ndcg, self.ranker_ndcg, self.gain_se, self.n_groups, self.n_trees, self.used])

    @classmethod
    def from_array(cls, a: NDArray[Any]) -> RankerCheck:
        return cls(float(a[0]), float(a[1]), float(a[2]), int(a[3]), int(a[4]), bool(a[5]))


def fit_ranker(
    lgb: Any, data: TrainingRows, init: F64, params: dict[str, Any], n_estimators: int, rng: np.random.Generator
) -> tuple[Any, RankerCheck]:
    """LightGBM LambdaRank on ``data`` boosted from ``init``, stopped early on held-out users.

    A fifth of the users (when there are enough) stops the boosting once NDCG@10 on users it
    did not learn from stops improving: few labels must not be over-fitted. Both query groups
    of a user (with repeats) fall on the same side. The same users then decide whether the
    trees are served at all: early stopping keeps at least one tree, and when the trees it kept
    do not beat the initial score (the base recall's order) on those users, zero trees is the
    better number and :class:`RankerCheck` says so (``used=False``).
    """
    ranker_params = {
        "objective": "lambdarank",
        "eval_at": [10],
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
        **params,
    }
    group = data.group
    owners, owner_of_group = np.unique(data.user, return_inverse=True)
    valid = _validation_groups(len(owners), rng)[owner_of_group]
    rows = rows_of_groups(group, valid)
    train_set = lgb.Dataset(
        data.x[~rows], data.y[~rows], group=group[~valid], init_score=init[~rows], params=ranker_params
    )
    valid_sets, callbacks = [], []
    if valid.any():
        valid_sets = [
            lgb.Dataset(data.x[rows], data.y[rows], group=group[valid], init_score=init[rows], reference=train_set)
        ]
        callbacks = [lgb.early_stopping(PATIENCE, first_metric_only=True, verbose=False)]
    booster = lgb.train(
        ranker_params, train_set, num_boost_round=n_estimators, valid_sets=valid_sets, callbacks=callbacks
    )
    n_trees = int(booster.best_iteration or booster.num_trees())
    if not valid.any():
        return booster, RankerCheck(np.nan, np.nan, np.nan, 0, n_trees, True)
    raw = booster.predict(data.x[rows], num_iteration=n_trees, num_threads=params.get("num_threads", 1))
    base = _group_ndcg(-init[rows], data.y[rows], group[valid])
    ranked = _group_ndcg(-(init[rows] + raw), data.y[rows], group[valid])
    diff = ranked - base
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else np.nan
    check = RankerCheck(float(base.mean()), float(ranked.mean()), se, len(diff), n_trees, bool(diff.mean() > 0))
    return booster, check


def rows_of_groups(group: I64, chosen: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Row mask of the chosen query groups."""
    return np.repeat(chosen, group)


_MIN_VALID_GROUPS = 5
"""Early stopping needs at least this many held-out query groups (a fifth of the users)."""


def _monotone(n_recalls: int, *, repeats: bool = False) -> list[int]:
    """Monotone constraints: a higher recall score, a better recall rank, more recalls never hurt."""
    rest = len(feature_names(n_recalls, repeats=repeats)) - 2 * n_recalls - 1
    return [1] * n_recalls + [-1] * n_recalls + [1] + [0] * rest


def _prior(
    feats: NDArray[Any], base: int, n_recalls: int, n_candidates: int, *, repeats: bool = False, shift: float = 0.0
) -> F64:
    """The ranker's starting score: ``-log(rank)`` in the base recall (``-log(n + 1)`` when unranked).

    The trees learn corrections to the base recall's order, so a ranker with little to learn
    (few labels, or labels unlike the serving situation) stays close to its best recall. With
    ``repeats`` the user's own items (which no recall proposes) start from ``-log`` of their
    rank in the user's history (most bought first): the "buy it again" list interleaved with
    the base recall's, shifted by ``shift`` (see :func:`_best_shift`), for the trees to correct.
    """
    if base < 0:
        return np.zeros(len(feats), dtype=np.float64)
    rank = np.asarray(feats[:, n_recalls + base], dtype=np.float64)
    rank = np.where(np.isfinite(rank), rank, float(n_candidates) + 1.0)
    if repeats:
        own = np.asarray(feats[:, history_column(n_recalls)], dtype=np.float64)
        mine = np.isfinite(own)
        out: F64 = np.where(mine, shift - np.log(np.where(mine, own, 1.0)), -np.log(rank))
        return out
    out = -np.log(rank)
    return out


def _mean_ndcg(key: NDArray[Any], y: NDArray[Any], group: I64, *, normalise: bool = True) -> float:
    """Mean NDCG@10 of the groups sorted by ``key`` ascending (binary gains; DCG without ``normalise``)."""
    return float(np.mean(_group_ndcg(key, y, group, normalise=normalise)))


def _group_ndcg(key: NDArray[Any], y: NDArray[Any], group: I64, *, normalise: bool = True) -> F64:
    """NDCG@10 of each group sorted by ``key`` ascending (binary gains; DCG without ``normalise``)."""
    starts = np.concatenate(([0], np.cumsum(group)))[:-1]
    qid = np.repeat(np.arange(len(group)), group)
    order = np.lexsort((key, qid))  # by query, then key; ties keep row order
    pos = np.empty(len(key), dtype=np.int64)
    pos[order] = np.arange(len(key)) - starts[qid[order]]
    gain = np.where((pos < 10) & (y > 0), 1.0 / np.log2(pos + 2.0), 0.0)
    n_pos = np.minimum(np.bincount(qid, weights=(y > 0).astype(np.float64), minlength=len(group)), 10).astype(int)
    ideal = np.concatenate(([0.0], np.cumsum(1.0 / np.log2(np.arange(10) + 2.0))))[n_pos]
    dcg = np.bincount(qid, weights=gain, minlength=len(group)).astype(np.float64)
    if not normalise:
        return dcg
    out: F64 = np.divide(dcg, ideal, out=np.zeros(len(group)), where=ideal > 0)
    return out


def _best_recall(ranks: NDArray[Any], y: NDArray[Any], group: I64) -> int:
    """The recall whose rank order has the highest mean DCG@10 on the training labels."""
    best, best_ndcg = 0, -np.inf
    for j in range(ranks.shape[1]):
        r = np.asarray(ranks[:, j], dtype=np.float64)
        ndcg = _mean_ndcg(np.where(np.isfinite(r), r, np.inf), y, group, normalise=False)
        if ndcg > best_ndcg:
            best, best_ndcg = j, ndcg
    return best


SEEN_SHIFTS: tuple[float, ...] = (0.0, -2.0, -1.0, 1.0, 2.0)
"""Candidate shifts (in ``-log(rank)`` units) of the user's own items in the prior; 0 first (wins ties).

Bounded: a larger shift saturates LambdaRank's pairwise gradients between own and new items, and
the trees stop learning where a new item belongs above an own one (measured on Instacart: 0.449
NDCG@10 with shifts up to 8 against 0.458 with at most 2, with seed 0)."""


def _best_shift(prior: F64, own: NDArray[np.bool_], y: NDArray[Any], group: I64) -> float:
    """The shift of the own items' prior with the best mean NDCG@10 on the training labels.

    The prior interleaves the "buy it again" list with the base recall's list; how far a
    user's own items belong above (or below) new ones depends on the shop, so it is chosen
    from :data:`SEEN_SHIFTS` rather than left to the trees alone (which early stopping may cut
    off before they learn it).
    """
    best, best_ndcg = 0.0, -np.inf
    for shift in SEEN_SHIFTS:
        ndcg = _mean_ndcg(-(prior + np.where(own, shift, 0.0)), y, group)
        if ndcg > best_ndcg:
            best, best_ndcg = shift, ndcg
    return best


def _validation_groups(n_groups: int, rng: np.random.Generator) -> NDArray[np.bool_]:
    """A random fifth of the query groups for early stopping; none when too few groups."""
    valid = np.zeros(n_groups, dtype=bool)
    n_valid = n_groups // 5
    if n_valid >= _MIN_VALID_GROUPS:
        valid[rng.choice(n_groups, size=n_valid, replace=False)] = True
    return valid


def recall_specs(recalls: Any, own_name: str) -> list[tuple[type[Recommender], dict[str, Any]]]:
    """The checked ``(model class, params)`` of a Hybrid's ``recalls`` (errors say what to fix)."""
    if isinstance(recalls, str | bytes) or not isinstance(recalls, Sequence) or not recalls:
        raise RecommendError(
            f"recalls must be a non-empty sequence of (name, params) pairs, e.g. (('itemknn', {{}}),); got {recalls!r}"
        )
    known = registered_models()
    specs: list[tuple[type[Recommender], dict[str, Any]]] = []
    for spec in recalls:
        if isinstance(spec, str) or not isinstance(spec, Sequence) or len(spec) != 2:
            raise RecommendError(f"each recall must be a (name, params) pair, got {spec!r}")
        name, params = spec
        if name == own_name:
            raise RecommendError("a Hybrid cannot use another Hybrid as a recall")
        if name not in known:
            raise RecommendError(f"unknown recall model {name!r}; registered: {sorted(set(known) - {own_name})}")
        if not isinstance(params, Mapping):
            raise RecommendError(f"params of recall {name!r} must be a dict, got {params!r}")
        try:
            json.dumps(dict(params))
        except TypeError as exc:
            raise RecommendError(f"params of recall {name!r} must be JSON-able (they are saved): {exc}") from exc
        specs.append((known[name], dict(params)))
    return specs


def _is_int(value: Any, low: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= low


def _is_pos(value: Any) -> bool:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    v = float(value)
    return bool(np.isfinite(v) and v > 0)
