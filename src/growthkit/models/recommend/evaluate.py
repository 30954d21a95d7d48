"""The evaluation harness: every model on one split, full ranking, per-user errors and slices.

:func:`evaluate` fits each model on ``split.train`` (optionally after a hyperparameter search
on a validation split carved from the training part, :mod:`~growthkit.models.recommend.search`),
ranks *every* item for each test user (no sampled negatives; the user's training items are
excluded when the protocol says so) and scores the lists with
:mod:`~growthkit.models.recommend.metrics`. The result is a frozen :class:`EvaluationReport`:
a table of means per model and metric, the standard error of each mean (over users), the
per-user values (for paired comparisons, :meth:`EvaluationReport.compare`), slices (cold users,
cold items, customer segments) and the protocol in words.

Two reference rankings that are not models can join the table:

* ``"repeat"`` — each user's own past items by how often they were bought (ties and users
  without history by popularity): the strong "buy it again" baseline of next-basket data;
* ``"oracle"`` — given ``true_scores`` (a simulator's true preferences), the unseen items
  ranked by true preference: how good a model could be if it knew the truth. With true
  scores every model also gets ``true_ndcg@k``: the NDCG of its list with the true preference
  as graded relevance (1 = the k truly preferred unseen items, in order).

Examples
--------
>>> import pandas as pd
>>> from growthkit.models.recommend.splits import make_split
>>> log = pd.DataFrame({"user_id": list("aaabbbccc"), "item_id": list("xyzxyzxyw")})
>>> split = make_split("leave-last", log.assign(ts=pd.date_range("2025-01-01", periods=9, freq="h")))
>>> report = evaluate(split, ["popularity"], ks=(2,))
>>> sorted(report.table.index)
['popularity']
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from growthkit.models.recommend.base import Recommender, RecommendError, top_k
from growthkit.models.recommend.metrics import (
    RANKING_METRICS,
    coverage,
    gini,
    graded_ndcg,
    mean_popularity,
    ranking_metrics,
    standard_error,
)
from growthkit.models.recommend.search import Ranked, SearchResult, make_model, rank_users, search
from growthkit.models.recommend.splits import Split

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
TrueScores = Callable[[NDArray[np.str_]], NDArray[np.floating[Any]]]
"""``true_scores(user_ids) -> (len(user_ids), n_items)`` true preference over ``split.train.item_ids``."""
BASELINES: tuple[str, ...] = ("repeat", "oracle")
COLD = 2
"""Users with at most this many training items are cold; so are items with at most this many users."""


@dataclass(frozen=True)
class Published:
    """A published result table we match the protocol of (cited in docs/recommend.md)."""

    source: str
    url: str
    protocol: str
    rows: dict[str, dict[str, float]]
    """Model name to metric name (our names, e.g. ``ndcg@10``) to value."""


MS_RECOMMENDERS_ML100K = Published(
    source="Microsoft Recommenders (recommenders-team/recommenders) README, 'Algorithm Comparison', release 1.1.1",
    url="https://github.com/recommenders-team/recommenders#algorithm-comparison",
    protocol=(
        "MovieLens-100K, every rating an implicit interaction, python_stratified_split 75/25 per user (seed 42), "
        "top-10 over all training items with training items removed; MAP = sum of precision at each hit / number "
        "of test items"
    ),
    rows={
        "ALS (Spark)": {"map@10": 0.004732, "ndcg@10": 0.044239, "precision@10": 0.048462, "recall@10": 0.017796},
        "BiVAE": {"map@10": 0.146126, "ndcg@10": 0.475077, "precision@10": 0.411771, "recall@10": 0.219145},
        "BPR (Cornac)": {"map@10": 0.132478, "ndcg@10": 0.441997, "precision@10": 0.388229, "recall@10": 0.212522},
        "FastAI": {"map@10": 0.025503, "ndcg@10": 0.147866, "precision@10": 0.130329, "recall@10": 0.053824},
        "LightGCN": {"map@10": 0.088526, "ndcg@10": 0.419846, "precision@10": 0.379626, "recall@10": 0.144336},
        "NCF": {"map@10": 0.107720, "ndcg@10": 0.396118, "precision@10": 0.347296, "recall@10": 0.180775},
        "SAR": {"map@10": 0.110591, "ndcg@10": 0.382461, "precision@10": 0.330753, "recall@10": 0.176385},
        "SVD (Surprise)": {"map@10": 0.012873, "ndcg@10": 0.095930, "precision@10": 0.091198, "recall@10": 0.032783},
    },
)  # fmt: skip


@dataclass(frozen=True)
class Protocol:
    """What was evaluated, how: enough to reproduce the numbers."""

    dataset: str
    split: str
    description: str
    params: dict[str, Any]
    ks: tuple[int, ...]
    exclude_seen: bool
    users: int
    items: int
    train_pairs: int
    test_pairs: int
    weights: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True, eq=False)
class EvaluationReport:
    """Every model's metrics on one split.

    Attributes
    ----------
    protocol
        Dataset, split, K values and sizes.
    table
        One row per model (and baseline): mean per-user metrics (``recall@10``, ...), catalogue
        metrics (``coverage@k``, ``gini@k``, ``avg_pop@k``: mean share of training users who
        touched a recommended item), ``fit_s`` and ``rank_s`` (seconds).
    errors
        Standard error of each per-user mean in ``table`` (same index, per-user columns).
    slices
        Long table: ``model, slice, users`` and the per-user metric means in that slice.
    per_user
        Per model, one row per evaluated user (index ``user_id``), per-user metric columns.
    params
        The parameters each model was evaluated with.
    searches
        Per searched model, the :class:`SearchResult` (validation split from training data only).
    published
        A published table of the same protocol, when there is one.
    notes
        Anything the reader should know (failed models, caveats).
    """

    protocol: Protocol
    table: pd.DataFrame
    errors: pd.DataFrame
    slices: pd.DataFrame
    per_user: Mapping[str, pd.DataFrame]
    params: Mapping[str, dict[str, Any]]
    searches: Mapping[str, SearchResult] = field(default_factory=dict)
    published: Published | None = None
    notes: tuple[str, ...] = ()

    @property
    def models(self) -> list[str]:
        """Names of the evaluated models and baselines, in table order."""
        return [str(i) for i in self.table.index]

    def best(self, metric: str = "ndcg@10", *, exclude: Sequence[str] = BASELINES) -> str:
        """The model (baselines excluded) with the highest mean ``metric``."""
        col = self.table[metric].drop([m for m in exclude if m in self.table.index])
        if col.dropna().empty:
            raise RecommendError(f"no model has a value for {metric}")
        return str(col.idxmax())

    def compare(self, a: str, b: str, metric: str = "ndcg@10") -> tuple[float, float]:
        """Mean per-user difference ``a - b`` of ``metric`` and its standard error (paired over users)."""
        x = self.per_user[a][metric]
        y = self.per_user[b][metric].reindex(x.index)
        diff = (x - y).to_numpy(dtype=np.float64)
        return float(np.nanmean(diff)), standard_error(diff)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: protocol, table with standard errors, slices, parameters, searches, published rows."""
        table = self.table.astype(float).round(6).reset_index(names="model")
        errors = self.errors.astype(float).round(6).reset_index(names="model")
        return {
            "protocol": self.protocol.to_dict(),
            "table": _records(table),
            "errors": _records(errors),
            "slices": _records(self.slices.round(6)),
            "params": {k: dict(v) for k, v in self.params.items()},
            "searches": {k: v.to_dict() for k, v in self.searches.items()},
            "published": None
            if self.published is None
            else {"source": self.published.source, "url": self.published.url, "protocol": self.published.protocol,
                  "rows": self.published.rows},
            "notes": list(self.notes),
        }  # fmt: skip


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{str(k): v for k, v in r.items()} for r in rows]


def _seen_rows(split: Split, users: NDArray[np.str_]) -> sparse.csr_matrix:
    """Training rows of ``users`` (empty rows for users without training data)."""
    idx = split.train.user_index(users)
    known = np.flatnonzero(idx >= 0)
    sel = sparse.csr_matrix(split.train.matrix[idx[known]])
    expand = sparse.csr_matrix(
        (np.ones(len(known), dtype=np.float32), (known, np.arange(len(known)))), shape=(len(users), len(known))
    )
    return sparse.csr_matrix(expand @ sel)


def _ranking_from_scores(scores: F64, seen: sparse.csr_matrix | None, k: int) -> NDArray[np.int64]:
    s = np.asarray(scores, dtype=np.float64).copy()
    if seen is not None:
        r = np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr))
        s[r, seen.indices] = -np.inf
    idx, _ = top_k(s, k)
    return idx


def repeat_ranking(split: Split, users: NDArray[np.str_], k: int) -> Ranked:
    """The "buy it again" baseline: the user's own past items by total weight, then popular items."""
    seen = _seen_rows(split, users)
    pop = np.asarray((split.train.matrix > 0).sum(axis=0), dtype=np.float64).ravel()
    tie = pop / max(float(pop.max()), 1.0) * 1e-3  # < 1: own items (scored 1 + weight) always come first
    top = np.full((len(users), k), -1, dtype=np.int64)
    step = max(1, (1 << 22) // max(split.train.n_items, 1))
    for start in range(0, len(users), step):
        block = seen[start : start + step].toarray().astype(np.float64)
        scores = np.where(block > 0, 1.0 + block, 0.0) + tie[None, :]
        mask = seen[start : start + step] if split.exclude_seen else None
        top[start : start + step] = _ranking_from_scores(scores, mask, k)
    return Ranked(users, top, np.zeros(len(users), dtype=bool), 0.0, 0.0)


def oracle_ranking(split: Split, users: NDArray[np.str_], k: int, true_scores: TrueScores) -> Ranked:
    """Unseen items ranked by true preference."""
    seen = _seen_rows(split, users)
    top = np.full((len(users), k), -1, dtype=np.int64)
    step = max(1, (1 << 22) // max(split.train.n_items, 1))
    for start in range(0, len(users), step):
        scores = np.asarray(true_scores(users[start : start + step]), dtype=np.float64)
        mask = seen[start : start + step] if split.exclude_seen else None
        top[start : start + step] = _ranking_from_scores(scores, mask, k)
    return Ranked(users, top, np.zeros(len(users), dtype=bool), 0.0, 0.0)


def _slice_rows(
    name: str,
    per_user: pd.DataFrame,
    cold_items: pd.DataFrame | None,
    user_counts: pd.Series,
    segments: pd.Series | None,
) -> list[dict[str, Any]]:
    cols = [c for c in per_user.columns if c.split("@")[0] in RANKING_METRICS]
    groups: list[tuple[str, pd.DataFrame]] = [("all users", per_user)]
    counts = user_counts.reindex(per_user.index).fillna(0)
    groups.append((f"cold users (<= {COLD} training items)", per_user[counts.to_numpy() <= COLD]))
    groups.append((f"warm users (> {COLD} training items)", per_user[counts.to_numpy() > COLD]))
    if cold_items is not None:
        groups.append((f"cold items (<= {COLD} training users)", cold_items))
    if segments is not None:
        labels = segments.reindex(per_user.index)
        for label in sorted(labels.dropna().astype(str).unique()):
            groups.append((f"segment: {label}", per_user[(labels == label).to_numpy()]))
    rows = []
    for slice_name, frame in groups:
        row: dict[str, Any] = {"model": name, "slice": slice_name, "users": int(frame[cols[0]].notna().sum())}
        row.update({c: float(frame[c].mean()) if len(frame) else float("nan") for c in cols})
        rows.append(row)
    return rows


def _score_ranked(
    name: str,
    ranked: Ranked,
    split: Split,
    ks: Sequence[int],
    truth: tuple[NDArray[np.str_], sparse.csr_matrix, NDArray[np.int64]],
    cold_cols: NDArray[np.bool_],
    true_scores: TrueScores | None,
    seen: sparse.csr_matrix,
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, float]]:
    users, m, n_rel = truth
    per = ranking_metrics(ranked.top, m, ks, n_relevant=n_rel)
    if true_scores is not None:
        for k in ks:
            per[f"true_ndcg@{k}"] = graded_ndcg(
                ranked.top, lambda rows: true_scores(users[rows]), k, seen=seen if split.exclude_seen else None
            )
    per_user = pd.DataFrame(per, index=pd.Index(users, name="user_id"))
    cold_frame = None
    if cold_cols.any():
        keep = sparse.diags(cold_cols.astype(np.float64))
        cold_m = sparse.csr_matrix(m @ keep)
        cold_m.eliminate_zeros()
        on_axis = np.diff(sparse.csr_matrix(m).indptr)
        cold_rel = np.diff(cold_m.indptr) + (n_rel - on_axis)
        has = cold_rel > 0
        if has.any():
            cold = ranking_metrics(ranked.top[has], cold_m[has], ks, n_relevant=cold_rel[has])
            cold_frame = pd.DataFrame(cold, index=pd.Index(users[has], name="user_id"))
    pop_share = np.asarray((split.train.matrix > 0).sum(axis=0), dtype=np.float64).ravel() / max(split.train.n_users, 1)
    catalogue: dict[str, float] = {}
    for k in ks:
        catalogue[f"coverage@{k}"] = coverage(ranked.top[:, :k], split.train.n_items)
        catalogue[f"gini@{k}"] = gini(ranked.top[:, :k], split.train.n_items)
        catalogue[f"avg_pop@{k}"] = mean_popularity(ranked.top[:, :k], pop_share)
    catalogue["fit_s"] = ranked.fit_seconds
    catalogue["rank_s"] = ranked.rank_seconds
    catalogue["fallback_users"] = float(ranked.fallback.sum())
    return per_user, cold_frame, catalogue


def evaluate(
    split: Split,
    models: Sequence[str | Recommender],
    *,
    ks: Sequence[int] = (10, 20),
    params: Mapping[str, Mapping[str, Any]] | None = None,
    tune: bool = False,
    tune_metric: str = "ndcg@10",
    max_trials: int = 8,
    baselines: Sequence[str] = (),
    true_scores: TrueScores | None = None,
    segments: pd.Series | Mapping[str, str] | None = None,
    dataset: str = "",
    published: Published | None = None,
    seed: int = 0,
    progress: Callable[[str, float], None] | None = None,
) -> EvaluationReport:
    """Fit, rank and score every model on ``split``.

    Parameters
    ----------
    split
        From :func:`~growthkit.models.recommend.splits.make_split`.
    models
        Registry names (fresh models with defaults, or ``params[name]``) or unfitted model objects.
    ks
        Cut-offs (default 10 and 20).
    params
        Parameters per registry name (used as the fixed part when ``tune`` is on).
    tune
        Search each named model's grid on a validation split carved from ``split.train`` first.
    baselines
        ``"repeat"`` and/or ``"oracle"`` (the latter needs ``true_scores``).
    true_scores
        True preference of every item for given users (simulator); adds ``true_ndcg@k``.
    segments
        Customer segment per user id, for per-segment slices.

    Returns
    -------
    EvaluationReport
    """
    ks = tuple(sorted({int(k) for k in ks}))
    if not ks or ks[0] < 1:
        raise RecommendError(f"ks must be positive integers, got {ks}")
    if not models and not baselines:
        raise RecommendError("nothing to evaluate: give at least one model or baseline")
    bad = [b for b in baselines if b not in BASELINES]
    if bad:
        raise RecommendError(f"unknown baseline(s) {bad}; choose from {BASELINES}")
    if "oracle" in baselines and true_scores is None:
        raise RecommendError("the oracle baseline needs true_scores (the simulator's true preferences)")
    tick = progress or (lambda what, frac: None)
    kmax = ks[-1]
    truth = split.truth()
    users = truth[0]
    seen = _seen_rows(split, users)
    item_users = np.asarray((split.train.matrix > 0).sum(axis=0), dtype=np.float64).ravel()
    cold_cols = item_users <= COLD
    user_counts = pd.Series(np.diff(split.train.matrix.indptr), index=split.train.user_ids)
    seg = (
        pd.Series(segments, dtype=object) if segments is not None and not isinstance(segments, pd.Series) else segments
    )
    params = params or {}
    table: dict[str, dict[str, float]] = {}
    errors: dict[str, dict[str, float]] = {}
    slices: list[dict[str, Any]] = []
    per_users: dict[str, pd.DataFrame] = {}
    used: dict[str, dict[str, Any]] = {}
    searches: dict[str, SearchResult] = {}
    notes: list[str] = []
    entries: list[tuple[str, str | Recommender, bool]] = [(b, b, True) for b in baselines]
    for m in models:
        base = m if isinstance(m, str) else m.name
        label, n = base, 1
        while label in {e[0] for e in entries}:  # the same model twice (e.g. two settings): number them
            n += 1
            label = f"{base} ({n})"
        entries.append((label, m, False))
    for i, (name, spec, is_baseline) in enumerate(entries):
        tick(f"evaluating {name}", i / len(entries))
        try:
            if is_baseline and spec == "repeat":
                ranked = repeat_ranking(split, users, kmax)
                used[name] = {}
            elif is_baseline:
                assert true_scores is not None
                ranked = oracle_ranking(split, users, kmax, true_scores)
                used[name] = {}
            else:
                model = _resolve(spec, params, split, tune, tune_metric, max_trials, seed, searches, tick)
                used[name] = model.get_params()
                ranked = rank_users(model, split, users, kmax)
        except (RecommendError, ValueError, ImportError, MemoryError) as exc:
            log.warning("evaluate: %s failed: %s", name, exc)
            notes.append(f"{name} was not evaluated: {exc}")
            continue
        per_user, cold, catalogue = _score_ranked(name, ranked, split, ks, truth, cold_cols, true_scores, seen)
        per_users[name] = per_user
        table[name] = {**{str(c): float(v) for c, v in per_user.mean().items()}, **catalogue}
        errors[name] = {c: standard_error(per_user[c].to_numpy()) for c in per_user.columns}
        slices += _slice_rows(name, per_user, cold, user_counts, seg)
    if not table:
        raise RecommendError("no model could be evaluated: " + "; ".join(notes))
    tick("evaluated", 1.0)
    protocol = Protocol(
        dataset=dataset,
        split=split.kind,
        description=split.description,
        params=dict(split.params),
        ks=ks,
        exclude_seen=split.exclude_seen,
        users=len(users),
        items=split.train.n_items,
        train_pairs=split.train.nnz,
        test_pairs=len(split.test),
        weights={"event_weights": dict(split.weights.event_weights), "half_life_days": split.weights.half_life_days,
                 "binary": split.weights.binary},
    )  # fmt: skip
    return EvaluationReport(
        protocol=protocol,
        table=pd.DataFrame.from_dict(table, orient="index"),
        errors=pd.DataFrame.from_dict(errors, orient="index"),
        slices=pd.DataFrame(slices),
        per_user=per_users,
        params=used,
        searches=searches,
        published=published,
        notes=tuple(notes),
    )


def _resolve(
    spec: str | Recommender,
    params: Mapping[str, Mapping[str, Any]],
    split: Split,
    tune: bool,
    metric: str,
    max_trials: int,
    seed: int,
    searches: dict[str, SearchResult],
    tick: Callable[[str, float], None],
) -> Recommender:
    if not isinstance(spec, str):
        return spec
    fixed = dict(params.get(spec, {}))
    if not tune:
        return make_model(spec, fixed)
    result = search(
        spec, split.train, kind=split.kind, split_params=split.params, weights=split.weights, metric=metric,
        base_params=fixed, max_trials=max_trials, seed=seed, progress=tick,
    )  # fmt: skip
    searches[spec] = result
    return make_model(spec, result.best_params)
