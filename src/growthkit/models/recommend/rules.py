"""Business rules applied after ranking, with a reason for every recommendation.

A model's top list is rarely what a shop can show as is: some items are out of stock or
blocked, a list of ten near-identical items wastes the slot, and every model leans towards
what is already popular. :func:`apply_rules` takes any fitted
:class:`~growthkit.models.recommend.base.Recommender` and a :class:`BusinessRules` config, and

1. asks the model for ``candidate_multiplier * k`` candidates per user, restricted to available
   items and without blocked ones (the model's own allow/block lists);
2. turns the model's scores into relevance and divides it by ``popularity ** beta`` — the
   simplest of the popularity-bias controls discussed by Abdollahpouri, Burke & Mobasher
   (2019, "Managing popularity bias in recommender systems with personalized re-ranking",
   FLAIRS-32), where ``popularity`` is the number of users who touched the item;
3. re-ranks greedily by maximal marginal relevance (Carbonell & Goldstein 1998) over category
   (or user co-occurrence) redundancy, with an optional cap of items per category;
4. attaches a reason to every item ("Because you viewed X", "Often bought together with X",
   "Popular in your city tier 2", "Popular right now"), in English or Chinese, with titles from
   the catalogue (see :mod:`growthkit.models.recommend._rules_reasons` for the order of checks).

Users the model does not know get its popularity fallback; when their city tier is known (a
``users`` frame with ``city_tier``), those candidates are re-ordered by popularity among the
tier's users, so "Popular in your city tier" is true of them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from growthkit.models.recommend._rules_reasons import TEXTS, Explainer, histories, tier_popularity
from growthkit.models.recommend._rules_rerank import (
    category_similarity,
    cooccurrence_similarity,
    mmr,
    relevance,
)
from growthkit.models.recommend.base import Recommender, RecommendError, _as_ids, _check_k

SIMILARITIES = ("category", "cooccurrence")
"""Accepted values of ``BusinessRules.similarity``."""


@dataclass(frozen=True)
class BusinessRules:
    """What may be shown and how a list is re-ranked (immutable; build one per placement).

    Parameters
    ----------
    available_items
        Only these item ids may be recommended (any collection; stored as a frozenset).
    available_column
        Name of a boolean column of the ``items`` catalogue given to :func:`apply_rules`;
        items whose value is false, or that are not in the catalogue, are not recommended.
    blocked_items
        Item ids never recommended.
    diversity
        MMR trade-off in [0, 1]: 0 keeps the relevance order, 1 only avoids redundancy.
        It is ``1 - lambda`` of Carbonell & Goldstein (1998).
    similarity
        Redundancy between two items for MMR: ``"category"`` (1 when they share the
        catalogue category, else 0) or ``"cooccurrence"`` (cosine of their user sets).
    popularity_penalty
        ``beta >= 0`` of ``relevance / popularity ** beta``; 0 turns the penalty off.
    max_per_category
        At most this many items of one category per list (items of unknown category are not
        capped); lists come back shorter when too few candidates remain.
    candidate_multiplier
        Candidates asked from the model per shown item.
    popular_top
        An item counts as popular (overall, or in a city tier) when it is among this many
        most-touched items.
    exclude_seen
        Leave out items the user already touched (passed to the model).
    lang
        Language of the reasons: ``"en"`` or ``"zh"``.
    """

    available_items: Collection[str] | None = None
    available_column: str | None = None
    blocked_items: Collection[str] = field(default_factory=frozenset)
    diversity: float = 0.0
    similarity: str = "category"
    popularity_penalty: float = 0.0
    max_per_category: int | None = None
    candidate_multiplier: int = 5
    popular_top: int = 100
    exclude_seen: bool = True
    lang: str = "en"

    def __post_init__(self) -> None:
        if self.available_items is not None:
            object.__setattr__(self, "available_items", frozenset(str(i) for i in self.available_items))
        object.__setattr__(self, "blocked_items", frozenset(str(i) for i in self.blocked_items))
        if not 0.0 <= self.diversity <= 1.0:
            raise RecommendError(f"diversity must be in [0, 1], got {self.diversity!r}")
        if self.similarity not in SIMILARITIES:
            raise RecommendError(f"similarity must be one of {SIMILARITIES}, got {self.similarity!r}")
        if not self.popularity_penalty >= 0:
            raise RecommendError(f"popularity_penalty must be >= 0, got {self.popularity_penalty!r}")
        if self.max_per_category is not None and not _positive_int(self.max_per_category):
            raise RecommendError(f"max_per_category must be a positive integer or None, got {self.max_per_category!r}")
        for key in ("candidate_multiplier", "popular_top"):
            if not _positive_int(getattr(self, key)):
                raise RecommendError(f"{key} must be a positive integer, got {getattr(self, key)!r}")
        if self.lang not in TEXTS:
            raise RecommendError(f"lang must be one of {sorted(TEXTS)}, got {self.lang!r}")


@dataclass(frozen=True, eq=False)
class RuledRecommendations:
    """Recommendations after the business rules, with reasons.

    Attributes
    ----------
    query_ids
        The user ids asked about, in order.
    item_ids
        ``(n, k)`` object array, best first; ``None`` pads short lists.
    scores
        ``(n, k)`` relevance after the popularity penalty, in (0, 1]; ``nan`` where padded.
    model_scores
        ``(n, k)`` the model's own scores of the shown items.
    reasons, reason_kinds, because_item_ids
        ``(n, k)`` object arrays: the display text, its kind (``together``, ``history``,
        ``city_tier``, ``popular``, ``personal``) and the history item behind it (or ``None``).
    fallback
        ``(n,)`` the user was unknown to the model (popularity fallback).
    """

    query_ids: NDArray[np.str_]
    item_ids: NDArray[np.object_]
    scores: NDArray[np.float64]
    model_scores: NDArray[np.float64]
    reasons: NDArray[np.object_]
    reason_kinds: NDArray[np.object_]
    because_item_ids: NDArray[np.object_]
    fallback: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.query_ids)

    def _row(self, user_id: Any) -> int:
        hits = np.flatnonzero(self.query_ids == str(user_id))
        if hits.size == 0:
            raise KeyError(f"{user_id!r} was not among the users asked about")
        return int(hits[0])

    def items_of(self, user_id: Any) -> list[str]:
        """The shown item ids of one user, best first."""
        return [i for i in self.item_ids[self._row(user_id)].tolist() if i is not None]

    def reasons_of(self, user_id: Any) -> list[str]:
        """The reasons of one user's items, in the same order."""
        r = self._row(user_id)
        return [t for i, t in zip(self.item_ids[r], self.reasons[r], strict=True) if i is not None]

    def to_frame(self) -> pd.DataFrame:
        """Long format: ``user_id, rank, item_id, score, model_score, reason, reason_kind,
        because_item_id, fallback`` (rank starts at 1), padding dropped."""
        n, k = self.item_ids.shape
        frame = pd.DataFrame(
            {
                "user_id": np.repeat(self.query_ids, k),
                "rank": np.tile(np.arange(1, k + 1), n),
                "item_id": self.item_ids.ravel(),
                "score": self.scores.ravel(),
                "model_score": self.model_scores.ravel(),
                "reason": self.reasons.ravel(),
                "reason_kind": self.reason_kinds.ravel(),
                "because_item_id": self.because_item_ids.ravel(),
                "fallback": np.repeat(self.fallback, k),
            }
        )
        return frame[frame["item_id"].notna()].reset_index(drop=True)


def apply_rules(
    model: Recommender,
    user_ids: Any,
    k: int = 10,
    rules: BusinessRules | None = None,
    history: pd.DataFrame | None = None,
    users: pd.DataFrame | None = None,
    *,
    items: pd.DataFrame | None = None,
    fbt: Recommender | None = None,
) -> RuledRecommendations:
    """The top ``k`` of a fitted model per user after ``rules``, each with a reason.

    Parameters
    ----------
    model
        Any fitted recommender.
    user_ids
        One user id or a sequence (the shop's own ids).
    k
        Items per user.
    rules
        The :class:`BusinessRules` (default: no filtering, no re-ranking, reasons only).
    history
        Raw rows ``user_id, item_id[, event_type, ts]`` (e.g. ``interaction_log(store)``), used
        for the reasons: which item the user viewed or bought, most recent first. Without it,
        the model's training matrix is used and every item counts as viewed.
    users
        The users table (``user_id, city_tier``) for "Popular in your city tier" reasons.
    items
        The catalogue (``item_id`` as column or index; ``title``, ``category`` and the
        ``available_column``): titles for reasons, categories for diversity and caps.
    fbt
        A fitted frequently-bought-together model; its ``similar_items`` give the
        "Often bought together with" reasons.

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.features.interactions import Interactions
    >>> from growthkit.models.recommend import Popularity
    >>> x = Interactions.from_frame(pd.DataFrame({"user_id": list("aabc"), "item_id": list("ijii")}))
    >>> items = pd.DataFrame({"item_id": ["i", "j"], "title": ["Tea", "Teapot"]})
    >>> apply_rules(Popularity().fit(x), "c", k=1, items=items).to_frame()[["item_id", "reason"]].values.tolist()
    [['j', 'Because you viewed Tea']]
    """
    model._check_fitted()
    k = _check_k(k)
    rules = rules or BusinessRules()
    ids = _as_ids(user_ids)
    catalogue = _catalogue(items)
    categories = _categories(catalogue, model.item_ids_, rules)
    titles = _titles(catalogue, model.item_ids_)
    recs = model.recommend(
        ids,
        k=k * rules.candidate_multiplier,
        exclude_seen=rules.exclude_seen,
        allow_items=_allowed(rules, catalogue),
        block_items=rules.blocked_items or None,
    )
    tier_pop, tiers = tier_popularity(model, users)
    explainer = Explainer(
        model,
        titles=titles,
        categories=categories,
        popular_top=rules.popular_top,
        lang=rules.lang,
        fbt=fbt,
        tier_popularity=tier_pop,
    )
    hist = histories(model, ids, history)
    binary = None
    if rules.diversity > 0 and rules.similarity == "cooccurrence":
        binary = (model.user_items_ > 0).astype(np.float64).tocsc()
    popularity = np.asarray(model.item_popularity_, dtype=np.float64)
    shape = (len(ids), k)
    out_items = np.full(shape, None, dtype=object)
    out_scores = np.full(shape, np.nan)
    out_model = np.full(shape, np.nan)
    out_reason = np.full(shape, None, dtype=object)
    out_kind = np.full(shape, None, dtype=object)
    out_because = np.full(shape, None, dtype=object)
    for n, uid in enumerate(ids.tolist()):
        row_ids = recs.item_ids[n]
        valid = np.asarray([i is not None for i in row_ids], dtype=bool)
        if not valid.any():
            continue
        cols = model.item_index(row_ids[valid])
        scores = recs.scores[n][valid].astype(np.float64)
        tier = tiers.get(uid)
        ranked = scores
        if recs.fallback[n] and tier is not None and tier in tier_pop and tier_pop[tier][cols].sum() > 0:
            # popularity within the tier first, overall popularity breaks ties
            ranked = tier_pop[tier][cols] + scores / (np.nanmax(np.abs(scores)) + 1.0) * 0.5
        rel = relevance(ranked, popularity[cols], rules.popularity_penalty)
        sim = None
        if rules.diversity > 0:
            sim = (
                category_similarity(categories[cols])
                if binary is None
                else cooccurrence_similarity(binary, popularity, cols)
            )
        picked = mmr(rel, sim, rules.diversity, k, categories=categories[cols], max_per_category=rules.max_per_category)
        chosen = cols[picked]
        reasons = explainer.explain(hist.get(uid), tier, chosen)
        m = len(picked)
        out_items[n, :m] = model.item_ids_[chosen]
        out_scores[n, :m] = rel[picked]
        out_model[n, :m] = scores[picked]
        out_reason[n, :m] = [r.text for r in reasons]
        out_kind[n, :m] = [r.kind for r in reasons]
        out_because[n, :m] = [r.because for r in reasons]
    return RuledRecommendations(
        query_ids=ids,
        item_ids=out_items,
        scores=out_scores,
        model_scores=out_model,
        reasons=out_reason,
        reason_kinds=out_kind,
        because_item_ids=out_because,
        fallback=np.asarray(recs.fallback, dtype=bool),
    )


def _catalogue(items: pd.DataFrame | None) -> pd.DataFrame | None:
    if items is None:
        return None
    frame = items.set_index("item_id") if "item_id" in items.columns else items.copy()
    frame.index = frame.index.astype(str)
    return frame


def _categories(catalogue: pd.DataFrame | None, item_ids: NDArray[np.str_], rules: BusinessRules) -> NDArray[np.int64]:
    codes = np.full(len(item_ids), -1, dtype=np.int64)
    needs = (rules.diversity > 0 and rules.similarity == "category") or rules.max_per_category is not None
    if catalogue is None or "category" not in catalogue.columns:
        if needs:
            raise RecommendError(
                "category diversity and max_per_category need the catalogue: pass items=item_attributes(store) "
                "with a category column (or use similarity='cooccurrence' without a cap)"
            )
        return codes
    cats = catalogue["category"].reindex(item_ids)
    known = cats.notna().to_numpy()
    _, inverse = np.unique(cats[known].astype(str).to_numpy(), return_inverse=True)
    codes[known] = inverse
    return codes


def _titles(catalogue: pd.DataFrame | None, item_ids: NDArray[np.str_]) -> NDArray[np.object_]:
    titles = np.asarray(item_ids, dtype=object).copy()
    if catalogue is not None and "title" in catalogue.columns:
        found = catalogue["title"].reindex(item_ids)
        ok = found.notna().to_numpy() & (found.astype(str).str.strip() != "").to_numpy()
        titles[ok] = found[ok].astype(str).to_numpy()
    return titles


def _allowed(rules: BusinessRules, catalogue: pd.DataFrame | None) -> frozenset[str] | None:
    allowed: frozenset[str] | None = None
    if rules.available_items is not None:
        allowed = frozenset(rules.available_items)
    if rules.available_column is not None:
        if catalogue is None or rules.available_column not in catalogue.columns:
            raise RecommendError(
                f"available_column={rules.available_column!r} needs items= with that column "
                "(a boolean: true when the item can be sold)"
            )
        flags = catalogue[rules.available_column].eq(True)  # missing or false: not available
        in_stock = frozenset(flags.index[flags.to_numpy()].tolist())
        allowed = in_stock if allowed is None else allowed & in_stock
    return allowed


def _positive_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and int(value) >= 1
