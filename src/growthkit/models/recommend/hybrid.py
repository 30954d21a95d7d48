"""Hybrid recall-and-rank: several recall models propose candidates, a learned ranker orders them.

The two-stage design of Covington, Adams and Sargin (2016, "Deep Neural Networks for YouTube
Recommendations", RecSys): a cheap candidate stage narrows the catalogue to a few hundred
items per user, and a ranking stage with richer features orders only those. Here the
candidate stage is the union of the top ``n_candidates`` unseen items of each recall model
(any registered recommender: item-kNN, popularity by category, ALS, ...), and the ranker is
LambdaMART (Burges 2010, "From RankNet to LambdaRank to LambdaMART: An Overview", MSR-TR-2010-82)
as implemented by LightGBM (Ke et al. 2017) with ``objective="lambdarank"``, one query group per
user. Its features are listed in :mod:`growthkit.models.recommend.ranker_features`.

Training (``fit``)
    1. Hold out the ranker's labels (:mod:`growthkit.models.recommend._hybrid_split`): by
       default (``holdout="auto"``) a random fifth of each user's items, or with repeats each
       user's last basket; ``"last"`` takes each user's last new items, a fraction everything
       after a time cutoff.
    2. Fit the recalls on the earlier part and take their candidates for (a sample of) the
       users with labels. A label is a positive example only when some recall proposed it;
       ``candidate_recall_`` reports the share of labels that were (recall@N of the candidate
       stage), which bounds what the ranker can reach.
    3. Train the ranker on the groups with at least one positive. It boosts from the order of
       the recall whose ranks give the best NDCG@10 on the labels (initial score
       ``-log(rank)``), so its trees learn corrections to that recall rather than the whole
       order from nothing; the recall features are monotone (a better recall score or rank
       never lowers an item), and when there are enough groups a fifth of them stops the
       boosting once their NDCG@10 stops improving. The same users then decide whether the
       trees are served: when they do not beat the base recall's order there, the hybrid
       serves that order (``ranker_check_``, logged).
    4. Refit the recalls on all training data for serving.

Why a random fifth (MovieLens-100K, stratified 75/25 split, NDCG@10 over three seeds): with
each user's *last* item as the label the ranker learns "what comes next" (here: films more
obscure than those rated at sign-up) from one or two labels per user, gains on held-out users'
last items and loses where the truth is a random quarter of each user's items (0.440-0.482
against EASE's 0.482). A random fifth asks the recalls' own question, "which items belong to
this user", with ten times the labels: 0.482-0.483. On temporal tests the time labels do
slightly better but within noise (leave-last 0.0606 vs 0.0589, time split 0.3507 vs 0.3495,
standard errors 0.006 and 0.017); the simulator without repeats prefers the fifth (0.186 vs
0.184). Recall scores are relative and item counts percentiles (see ``ranker_features``):
with raw ones a ranker that gained on held-out users lost at serving, where both are larger
(item-kNN and popularity as recalls: 0.36 raw, 0.39-0.40 relative, item-kNN alone 0.387).

Repeats (``repeats``)
    Where buying again is the point (groceries, next-basket tasks served with
    ``exclude_seen=False``), a ranker that learned only from *new* items demotes each user's
    staples. With repeats the split labels every item of each user's last basket (reorders
    included, :func:`~growthkit.models.recommend._hybrid_split.split_for_repeats`), the user's
    own items join the candidates with features of how the user came back to them (baskets
    with the item, recency, rank in the user's history,
    :data:`~growthkit.models.recommend.ranker_features.REPEAT_FEATURES`), and their initial
    score is their "buy it again" rank, shifted by the constant that best interleaves them
    with the base recall's list on the labels. Each user gives two query groups: all
    candidates against all labels, and the unseen candidates against the new items only, so
    the one ranker serves ``exclude_seen=False`` (repeats ranked as in training) and
    ``exclude_seen=True`` (new items ranked as before). ``"auto"`` (the default) turns this on
    when at least a tenth of the users' last baskets were items bought before (Instacart
    0.70, the simulator 0.28, MovieLens 0: one rating per movie), so a shop without repeat
    business keeps exactly the ranker it had.

Serving
    Known users: the recalls' candidates (plus the user's seen items, so that
    ``exclude_seen=False`` can return them; only a ranker fitted with repeats has learned to
    rank those) scored by the ranker (its trees, unless ``ranker_check_`` refused them, plus
    the base recall's ``-log(rank)``, as in training); every other item scores
    ``-inf``, so the base class's ``exclude_seen``, allow and block lists work unchanged and a
    user gets at most the candidate count of items. New visitors (``recommend_from_items``):
    the recalls' fold-in, with the ranker's user features computed from the given items.

Saving
    ``save`` writes the ranker as LightGBM's model text (a uint8 array) and each recall's
    name, params and ``_state()`` arrays under the prefix ``recall{j}`` (see
    ``Recommender._submodel_state``); the recalls share the parent's ids and training
    matrix, which the base class saves once. No pickle anywhere.

Assumptions: the held-out part asks the serving question (a random fifth: which items a user
takes; the last basket: what comes next); the recalls used for serving behave like the ones
fitted on the earlier part, up to the scale that relative scores remove.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from growthkit.features.interactions import Interactions
from growthkit.models.recommend._hybrid_ranker import (
    MAX_GROUP,
    RankerCheck,
    _best_recall,
    _best_shift,
    _is_int,
    _is_pos,
    _monotone,
    _prior,
    fit_ranker,
    history_column,
    recall_specs,
    rows_of_groups,
    training_rows,
)
from growthkit.models.recommend._hybrid_split import (
    RankerSplit,
    pair_stats,
    repeat_share,
    split_for_ranker,
    split_for_repeats,
    usable_log,
)
from growthkit.models.recommend.base import Recommender, RecommendError
from growthkit.models.recommend.ranker_features import (
    PAIR_STATS_KEYS,
    PairStats,
    candidates,
    feature_names,
    features,
    item_table,
    item_table_arrays,
    item_table_from_arrays,
    profile_activity,
    repeat_features,
    user_activity,
)

log = logging.getLogger(__name__)

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

DEFAULT_RECALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("ease", {"max_items": 5_000}),
    ("itemknn", {}),
    ("popularity", {}),
)
"""EASE and item-kNN for personal candidates, global popularity for the head of the catalogue.

EASE is the strongest single model on MovieLens-100K (NDCG@10 0.482 against item-kNN's 0.387);
its block is capped at 5,000 items because the hybrid fits it twice (time grows with the cube
of the block: on the 50,000-item benchmark one fit on one thread takes 1.2 s at 5,000, 9 s at 10,000)."""

_AUTO_REPEATS = 0.1
"""``repeats="auto"`` trains for repeats when at least this share of the label window was bought before."""


def _lightgbm() -> Any:
    """The ``lightgbm`` module, or an ImportError that says how to install it."""
    try:
        import lightgbm
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "Hybrid needs LightGBM for its ranker; install the extra: pip install 'growthkit[models]'"
        ) from exc
    return lightgbm


class Hybrid(Recommender):
    """Candidates from several recall models, re-ranked by LightGBM LambdaRank.

    Parameters
    ----------
    recalls
        ``(registry name, params)`` pairs of the recall models, e.g.
        ``(("itemknn", {}), ("popularity", {"by": "category"}))``; params must be JSON-able.
    n_candidates
        Top items taken from each recall per user (the candidate set is their union).
    holdout
        ``"auto"`` (a random fifth of each user's items; with repeats the last basket),
        ``"random"`` (the same), ``"last"`` (each user's last new items) or a fraction in
        (0, 1) (pairs first touched in that last share of time). The time splits need
        ``Interactions.log`` with ``ts``; without it a random share of each user's items is
        held out, with a warning. With repeats: each user's last basket (``"auto"``,
        ``"random"``, ``"last"``), or every event in the last share of time.
    repeats
        Train the ranker to rank the user's own items too (see "Repeats" above): ``True``,
        ``False`` (new items only) or ``"auto"`` (when the log shows repeat business). Needs a
        log with timestamps; ``True`` without one falls back to ``False`` with a warning.
    n_estimators, learning_rate, num_leaves, min_child_samples
        LightGBM ranker parameters.
    max_ranker_users
        The ranker learns from at most this many users with labels (a random sample), which
        bounds fit time on large shops; ``None`` uses all.
    recent_days
        Window of the "recent popularity" feature, counted back from the last logged event.
    n_jobs
        Threads for LightGBM (training and prediction).
    random_state
        Seed of the user sample, the random holdout and LightGBM.

    Attributes
    ----------
    recalls_ : list of Recommender
        The recall models fitted on all training data.
    ranker_ : lightgbm.Booster
        The trained ranker.
    feature_names_ : list of str
        Ranker feature names in column order.
    base_recall_ : int
        Index (in ``recalls``) of the recall whose ranks are the ranker's initial score.
    split_ : str
        How labels were held out: ``"last"``, ``"time"`` or ``"random"`` (new items), or
        ``"basket"`` or ``"events"`` (with repeats).
    repeats_ : bool
        Whether the ranker learned repeats.
    repeat_share_ : float
        Share of the label window's items the user had touched before (``nan`` when not measured).
    seen_shift_ : float
        Shift of the own items' initial score (0 without repeats).
    pair_stats_ : PairStats or None
        How users came back to items on all training data (with repeats).
    ranker_check_ : RankerCheck
        The trees against the base recall's order on the held-out users (NDCG@10 of each,
        standard error of the gain, trees kept) and whether they are served (``used``).
    candidate_recall_ : float
        Share of held-out labels (of the sampled users) that the candidate stage proposed.
    recall_candidate_recall_ : ndarray
        The same per recall model.
    n_ranker_queries_, n_ranker_rows_ : int
        Query groups and rows the ranker was trained on.
    items_ : ItemTable
        Item features on all training data (serving).
    activity_ : ndarray
        ``(n_users, 3)`` events, sessions and purchases per user in the log (``nan`` without).

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.features.interactions import Interactions
    >>> rows = pd.DataFrame({"user_id": list("aaabbbccc"), "item_id": list("xyzxyzxyw")})
    >>> rows["ts"] = pd.date_range("2026-01-01", periods=9, freq="h")
    >>> x = Interactions.from_frame(rows).with_context(log=rows)
    >>> model = Hybrid(recalls=(("popularity", {}),), min_child_samples=1).fit(x)
    >>> len(model.recommend("a", k=1).items_of("a"))
    1
    """

    name = "hybrid"

    def __init__(
        self,
        *,
        recalls: Sequence[tuple[str, Mapping[str, Any]]] = DEFAULT_RECALLS,
        n_candidates: int = 100,
        holdout: str | float = "auto",
        repeats: str | bool = "auto",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        max_ranker_users: int | None = 5_000,
        recent_days: float = 14.0,
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.recalls = recalls
        self.n_candidates = n_candidates
        self.holdout = holdout
        self.repeats = repeats
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_ranker_users = max_ranker_users
        self.recent_days = recent_days
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ---- validation -------------------------------------------------------------------
    def _check_params(self) -> None:
        checks: list[tuple[str, Any, bool]] = [
            ("n_candidates", self.n_candidates, _is_int(self.n_candidates, 1)),
            ("n_estimators", self.n_estimators, _is_int(self.n_estimators, 1)),
            ("num_leaves", self.num_leaves, _is_int(self.num_leaves, 2)),
            ("min_child_samples", self.min_child_samples, _is_int(self.min_child_samples, 1)),
            ("n_jobs", self.n_jobs, _is_int(self.n_jobs, 1)),
            ("learning_rate", self.learning_rate, _is_pos(self.learning_rate)),
            ("recent_days", self.recent_days, _is_pos(self.recent_days)),
            (
                "max_ranker_users",
                self.max_ranker_users,
                self.max_ranker_users is None or _is_int(self.max_ranker_users, 1),
            ),
        ]
        for key, value, ok in checks:
            if not ok:
                raise RecommendError(f"{key} has an invalid value {value!r}; see help(Hybrid) for its range")
        h = self.holdout
        if not (h in ("auto", "last", "random") or (_is_pos(h) and not isinstance(h, str) and 0.0 < float(h) < 1.0)):
            raise RecommendError(f"holdout must be 'auto', 'last', 'random' or a fraction in (0, 1), got {h!r}")
        if not (self.repeats is True or self.repeats is False or self.repeats == "auto"):
            raise RecommendError(f"repeats must be 'auto', True or False, got {self.repeats!r}")

    # ---- fitting ----------------------------------------------------------------------
    def _split(self, x: sparse.csr_matrix, interactions: Interactions, rng: np.random.Generator) -> RankerSplit:
        """The ranker's labels: every item of the label window with repeats, else the new items only."""
        self.repeat_share_ = float("nan")
        if self.repeats is not False:
            rsplit = split_for_repeats(x, interactions, "last" if self.holdout in ("auto", "random") else self.holdout)
            if rsplit is not None and rsplit.labels.nnz:
                self.repeat_share_ = repeat_share(rsplit)
                if self.repeats is True or self.repeat_share_ >= _AUTO_REPEATS:
                    self.repeats_ = True
                    return rsplit
            elif self.repeats is True:
                log.warning("Hybrid: repeats=True needs a log with timestamps and two baskets per user; ignored")
        self.repeats_ = False
        return split_for_ranker(x, interactions, "random" if self.holdout == "auto" else self.holdout, rng)

    def _fit(self, x: sparse.csr_matrix, interactions: Interactions) -> None:
        self._check_params()
        specs = recall_specs(self.recalls, self.name)
        if int(self.n_candidates) * len(specs) > MAX_GROUP:
            raise RecommendError(
                f"n_candidates={self.n_candidates} with {len(specs)} recalls allows "
                f"{self.n_candidates * len(specs)} candidates per user; LightGBM's LambdaRank takes at most "
                f"{MAX_GROUP} rows per query: lower n_candidates"
            )
        lgb = _lightgbm()
        rng = np.random.default_rng(self.random_state)
        split = self._split(x, interactions, rng)
        if split.labels.nnz == 0 or split.train.nnz == 0:
            raise RecommendError(
                "Hybrid found no interactions to hold out for its ranker: it needs users with at least two "
                "distinct items touched at different times (or use another model for this data)"
            )
        self.split_ = split.how
        early = Interactions(matrix=split.train, user_ids=self.user_ids_, item_ids=self.item_ids_)
        early = early.with_context(log=split.log, items=interactions.items)
        early_recalls = [cls(**params).fit(early) for cls, params in specs]
        early_items = item_table(
            split.train, self.item_ids_, items=interactions.items, log=split.log, recent_days=self.recent_days
        )
        users = self._ranker_users(split, rng)
        early_stats = pair_stats(split.log, self.user_ids_, self.item_ids_) if self.repeats_ else None
        data = training_rows(
            early_recalls, split, users, early_items, user_activity(split.log, self.user_ids_),
            int(self.n_candidates), early_stats,
        )  # fmt: skip
        self.candidate_recall_ = data.candidate_recall
        self.recall_candidate_recall_ = data.recall_candidate_recall
        if not len(data.group):
            raise RecommendError(
                f"none of the {len(users)} users' held-out items was among the recalls' candidates, so the ranker "
                "has nothing to learn; add a recall model that reaches them or raise n_candidates"
            )
        n_rec, group = len(specs), data.group
        # the base recall orders the unseen candidates: judge it on the new items
        new_rows = rows_of_groups(group, data.new_view)
        if data.new_view.any():
            ranks = data.x[new_rows, n_rec : 2 * n_rec]
            self.base_recall_ = _best_recall(ranks, data.y[new_rows], group[data.new_view])
        else:
            self.base_recall_ = _best_recall(data.x[:, n_rec : 2 * n_rec], data.y, group)
        init = _prior(data.x, self.base_recall_, n_rec, self.n_candidates, repeats=self.repeats_)
        self.seen_shift_ = 0.0
        if self.repeats_:  # how far the user's own items start above the recalls' items
            own = np.isfinite(data.x[:, history_column(n_rec)])
            self.seen_shift_ = _best_shift(init, own, data.y, group)
            init = init + np.where(own, self.seen_shift_, 0.0)
        params = {
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "monotone_constraints": _monotone(n_rec, repeats=self.repeats_),
            "seed": self.random_state,
            "num_threads": self.n_jobs,
        }
        self.ranker_, self.ranker_check_ = fit_ranker(lgb, data, init, params, int(self.n_estimators), rng)
        self.scale_free_ = True
        self.feature_names_ = feature_names(n_rec, repeats=self.repeats_)
        self.n_ranker_queries_ = len(group)
        self.n_ranker_rows_ = int(group.sum())
        # serving: the recalls and the features on all training data
        self.recalls_ = [cls(**params).fit(interactions) for cls, params in specs]
        for model in self.recalls_:
            model.user_items_ = self.user_items_  # the same matrix; keep one copy
        full_log = usable_log(interactions)
        self.items_ = item_table(
            x, self.item_ids_, items=interactions.items, log=full_log, recent_days=self.recent_days
        )
        self.activity_ = user_activity(full_log, self.user_ids_)
        self.pair_stats_ = pair_stats(full_log, self.user_ids_, self.item_ids_) if self.repeats_ else None
        log.info(
            "Hybrid: %s holdout (repeats %s, share %.2f), candidate recall@%d %.3f over %d users, "
            "ranker on %d queries / %d rows; held-out users' NDCG@10: base recall %d %.4f, ranker (%d trees) "
            "%.4f (gain %+.4f ± %.4f over %d queries): %s",
            self.split_,
            self.repeats_,
            self.repeat_share_,
            self.n_candidates,
            self.candidate_recall_,
            len(users),
            self.n_ranker_queries_,
            self.n_ranker_rows_,
            self.base_recall_,
            self.ranker_check_.base_ndcg,
            self.ranker_check_.n_trees,
            self.ranker_check_.ranker_ndcg,
            self.ranker_check_.ranker_ndcg - self.ranker_check_.base_ndcg,
            self.ranker_check_.gain_se,
            self.ranker_check_.n_groups,
            "ranker served" if self.ranker_check_.used else "trees do not help, serving the base recall's order",
        )

    def _ranker_users(self, split: RankerSplit, rng: np.random.Generator) -> I64:
        """Users with labels and an earlier history, sampled down to ``max_ranker_users``."""
        eligible = np.flatnonzero((np.diff(split.labels.indptr) > 0) & (np.diff(split.train.indptr) > 0))
        if self.max_ranker_users is not None and len(eligible) > self.max_ranker_users:
            eligible = np.sort(rng.choice(eligible, size=int(self.max_ranker_users), replace=False))
        return eligible.astype(np.int64)

    # ---- serving ----------------------------------------------------------------------
    def _rank(
        self,
        blocks: list[NDArray[Any]],
        profiles: sparse.csr_matrix,
        activity: NDArray[np.float64],
        users: I64 | None,
    ) -> F32:
        n_rows, n_items = profiles.shape[0], len(self.item_ids_)
        cands = candidates(blocks, profiles, self.n_candidates, include_seen=True)
        out = np.full((n_rows, n_items), -np.inf, dtype=np.float32)
        if len(cands.rows):
            feats = features(cands, blocks, profiles, activity, self.items_, relative=self.scale_free_)
            if self.repeats_ and self.pair_stats_ is not None:
                own = repeat_features(cands, profiles, self.items_, self.pair_stats_, users)
                feats = np.hstack([feats, own])
            raw = self.ranker_.predict(feats, num_threads=self.n_jobs) if self.ranker_check_.used else 0.0
            prior = _prior(
                feats, self.base_recall_, len(blocks), self.n_candidates, repeats=self.repeats_, shift=self.seen_shift_
            )
            out[cands.rows, cands.cols] = raw + prior
        return out

    def _score_users(self, rows: I64) -> NDArray[np.floating[Any]]:
        blocks = [np.asarray(r._score_users(rows)) for r in self.recalls_]
        return self._rank(blocks, self.user_items_[rows], self.activity_[rows], np.asarray(rows, dtype=np.int64))

    def _score_profiles(self, profiles: sparse.csr_matrix) -> NDArray[np.floating[Any]]:
        profiles = profiles.tocsr()
        blocks = [np.asarray(r._score_profiles(profiles)) for r in self.recalls_]
        return self._rank(blocks, profiles, profile_activity(profiles), None)

    # ---- persistence ------------------------------------------------------------------
    def _state(self) -> dict[str, NDArray[Any]]:
        state: dict[str, NDArray[Any]] = {
            "ranker": np.frombuffer(self.ranker_.model_to_string().encode(), dtype=np.uint8),
            "feature_names": np.asarray(self.feature_names_, dtype=str),
            "activity": self.activity_,
            "split": np.asarray([self.split_]),
            "diagnostics": np.asarray(
                [self.candidate_recall_, self.n_ranker_queries_, self.n_ranker_rows_], dtype=np.float64
            ),
            "recall_candidate_recall": self.recall_candidate_recall_,
            "base_recall": np.asarray([self.base_recall_], dtype=np.int64),
            "repeats": np.asarray([self.repeats_, self.repeat_share_, self.seen_shift_], dtype=np.float64),
            "ranker_check": self.ranker_check_.to_array(),
            "scale_free": np.asarray([self.scale_free_]),
        }
        state.update({f"items__{k}": v for k, v in item_table_arrays(self.items_).items()})
        if self.pair_stats_ is not None:
            state.update({f"pairs__{k}": getattr(self.pair_stats_, k) for k in PAIR_STATS_KEYS})
        for j, model in enumerate(self.recalls_):
            state.update(self._submodel_state(model, f"recall{j}"))
        return state

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        lgb = _lightgbm()
        self.ranker_ = lgb.Booster(model_str=state["ranker"].tobytes().decode())
        self.feature_names_ = [str(v) for v in state["feature_names"]]
        self.activity_ = state["activity"].astype(np.float64)
        self.split_ = str(state["split"][0])
        diag = state["diagnostics"]
        self.candidate_recall_ = float(diag[0])
        self.n_ranker_queries_ = int(diag[1])
        self.n_ranker_rows_ = int(diag[2])
        self.recall_candidate_recall_ = state["recall_candidate_recall"]
        # files saved before the ranker boosted from a recall's ranks have no base recall
        self.base_recall_ = int(state["base_recall"][0]) if "base_recall" in state else -1
        # files saved before rankers learned repeats have neither the flag nor the pair statistics
        flags = state.get("repeats", np.asarray([0.0, np.nan, 0.0]))
        self.repeats_, self.repeat_share_, self.seen_shift_ = bool(flags[0]), float(flags[1]), float(flags[2])
        # files saved before the check serve their trees, on raw recall scores
        check = state.get("ranker_check", np.asarray([np.nan, np.nan, np.nan, 0, self.ranker_.num_trees(), 1]))
        self.ranker_check_ = RankerCheck.from_array(check)
        self.scale_free_ = bool(state.get("scale_free", np.asarray([False]))[0])
        self.pair_stats_ = (
            PairStats(*(state[f"pairs__{k}"] for k in PAIR_STATS_KEYS)) if "pairs__indptr" in state else None
        )
        self.items_ = item_table_from_arrays(
            {k.removeprefix("items__"): v for k, v in state.items() if k.startswith("items__")}
        )
        self.recalls_ = [self._restore_submodel(state, f"recall{j}") for j in range(len(self.recalls))]
