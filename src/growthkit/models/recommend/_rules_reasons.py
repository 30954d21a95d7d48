"""Reasons for recommendations ("Because you viewed X"), for :mod:`growthkit.models.recommend.rules`.

For each recommended item the first of these that holds is its reason:

1. ``together`` — an FBT model was given and lists the item among the top co-purchases of
   something the user bought or carted (any history item when event types are unknown):
   "Often bought together with {title}".
2. ``history`` — a history item that shares users with it (largest cosine of the two items'
   user sets in the model's training matrix; ties go to the most recent history item), or
   failing that the most recent history item of the same category: "Because you viewed /
   bought {title}".
3. ``city_tier`` — the user's city tier is known and the item is among the tier's
   ``popular_top`` items: "Popular in your city tier {t}".
4. ``popular`` — the item is among the ``popular_top`` items overall: "Popular right now".
5. ``personal`` — none of the above: "Recommended for you".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from growthkit.models.recommend.base import Recommender, RecommendError

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "viewed": "Because you viewed {title}",
        "bought": "Because you bought {title}",
        "together": "Often bought together with {title}",
        "city_tier": "Popular in your city tier {tier}",
        "popular": "Popular right now",
        "personal": "Recommended for you",
    },
    "zh": {
        "viewed": "因为您浏览过「{title}」",
        "bought": "因为您购买过「{title}」",
        "together": "与「{title}」经常一起购买",
        "city_tier": "在您所在的{tier}线城市热销",
        "popular": "近期热销",
        "personal": "为您推荐",
    },
}
"""Reason templates per language."""

_ZH_DIGITS = {"1": "一", "2": "二", "3": "三", "4": "四", "5": "五", "6": "六"}
_BOUGHT = frozenset({"purchase", "cart"})
TOGETHER_K = 50
"""Co-purchases looked at per history item when an FBT model is given."""


@dataclass(frozen=True)
class Reason:
    """Why one item is recommended: ``kind``, the display ``text`` and the history item behind it."""

    kind: str
    text: str
    because: str | None = None


@dataclass(frozen=True, eq=False)
class History:
    """One user's history on the model's item axis: columns (most recent first) and whether bought."""

    cols: I64
    bought: NDArray[np.bool_]


class Explainer:
    """Finds the reason of each recommended item (see the module docstring).

    Built once per :func:`~growthkit.models.recommend.rules.apply_rules` call; holds the
    binary training matrix by column, titles, categories and popular-item sets.
    """

    def __init__(
        self,
        model: Recommender,
        *,
        titles: NDArray[np.object_],
        categories: I64,
        popular_top: int,
        lang: str,
        fbt: Recommender | None,
        tier_popularity: Mapping[str, F64],
    ) -> None:
        x = model.user_items_.tocsc()
        self.binary = sparse.csc_matrix((np.ones_like(x.data), x.indices, x.indptr), shape=x.shape)
        self.popularity = np.asarray(model.item_popularity_, dtype=np.float64)
        self.model = model
        self.item_ids = model.item_ids_
        self.titles = titles
        self.categories = categories
        self.texts = TEXTS[lang]
        self.lang = lang
        self.fbt = fbt
        self.global_top = _top_set(self.popularity, popular_top)
        self.tier_top = {t: _top_set(p, popular_top) for t, p in tier_popularity.items()}

    def explain(self, history: History | None, tier: str | None, cols: I64) -> list[Reason]:
        """One reason per recommended column of ``cols``."""
        out: list[Reason | None] = [None] * len(cols)
        if history is not None and len(history.cols):
            if self.fbt is not None:
                self._together(history, cols, out)
            self._from_history(history, cols, out)
        for n, c in enumerate(cols):
            if out[n] is None:
                out[n] = self._popular(int(c), tier)
        return [r for r in out if r is not None]

    def _together(self, history: History, cols: I64, out: list[Reason | None]) -> None:
        assert self.fbt is not None
        basket = history.cols[history.bought] if history.bought.any() else history.cols
        ids = self.item_ids[basket]
        sims = self.fbt.similar_items(list(ids), k=TOGETHER_K)
        best: dict[str, tuple[float, str]] = {}
        for src, row, scores in zip(ids.tolist(), sims.item_ids, sims.scores, strict=True):
            for item, score in zip(row.tolist(), scores.tolist(), strict=True):
                # a rule exists only where the FBT score is positive (zeros pad the list)
                if item is not None and score > 0 and (item not in best or score > best[item][0]):
                    best[item] = (float(score), str(src))
        for n, c in enumerate(cols):
            hit = best.get(str(self.item_ids[c]))
            if hit is not None:
                out[n] = Reason("together", self.texts["together"].format(title=self._title(hit[1])), hit[1])

    def _from_history(self, history: History, cols: I64, out: list[Reason | None]) -> None:
        todo = np.asarray([n for n in range(len(cols)) if out[n] is None], dtype=np.int64)
        if todo.size == 0:
            return
        hist = history.cols
        rec = cols[todo]
        inter = np.asarray((self.binary[:, hist].T @ self.binary[:, rec]).todense(), dtype=np.float64)
        norm = (
            np.sqrt(np.maximum(self.popularity[hist], 1.0))[:, None]
            * np.sqrt(np.maximum(self.popularity[rec], 1.0))[None, :]
        )
        cosine = inter / norm
        for m, n in enumerate(todo.tolist()):
            h = int(np.argmax(cosine[:, m]))  # first maximum: the most recent history item
            if cosine[h, m] <= 0:
                same = np.flatnonzero((self.categories[hist] == self.categories[rec[m]]) & (self.categories[hist] >= 0))
                if same.size == 0:
                    continue
                h = int(same[0])
            verb = "bought" if history.bought[h] else "viewed"
            item = str(self.item_ids[hist[h]])
            out[n] = Reason("history", self.texts[verb].format(title=self._title(item)), item)

    def _popular(self, col: int, tier: str | None) -> Reason:
        if tier is not None and col in self.tier_top.get(tier, frozenset()):
            shown = _ZH_DIGITS.get(tier, tier) if self.lang == "zh" else tier
            return Reason("city_tier", self.texts["city_tier"].format(tier=shown))
        if col in self.global_top:
            return Reason("popular", self.texts["popular"])
        return Reason("personal", self.texts["personal"])

    def _title(self, item_id: str) -> str:
        pos = int(self.model.item_index([item_id])[0])
        return str(self.titles[pos]) if pos >= 0 else item_id


def histories(model: Recommender, user_ids: NDArray[np.str_], history: pd.DataFrame | None) -> dict[str, History]:
    """Each asked user's history on the model's item axis, most recent (or strongest) first.

    From ``history`` rows (``user_id, item_id`` and optionally ``event_type`` and ``ts``) when
    given, else from the model's training matrix ordered by interaction weight, with every item
    counted as viewed.
    """
    out: dict[str, History] = {}
    if history is None:
        rows = model.user_index(user_ids)
        x = model.user_items_
        for uid, r in zip(user_ids.tolist(), rows.tolist(), strict=True):
            if r < 0:
                continue
            cols = x.indices[x.indptr[r] : x.indptr[r + 1]].astype(np.int64)
            weights = x.data[x.indptr[r] : x.indptr[r + 1]]
            order = np.argsort(-weights, kind="stable")
            out[uid] = History(cols[order], np.zeros(len(cols), dtype=bool))
        return out
    missing = {"user_id", "item_id"} - set(history.columns)
    if missing:
        raise RecommendError(f"history needs columns user_id and item_id; missing {sorted(missing)}")
    frame = history[history["user_id"].astype(str).isin(set(user_ids.tolist()))].copy()
    frame["user_id"] = frame["user_id"].astype(str)
    frame["col"] = model.item_index(frame["item_id"].astype(str))
    frame = frame[frame["col"] >= 0]
    # most recent first: by time when known, else the later rows first
    frame = frame.sort_values("ts", ascending=False, kind="stable") if "ts" in frame.columns else frame.iloc[::-1]
    types = frame["event_type"].astype(str) if "event_type" in frame.columns else pd.Series("", index=frame.index)
    frame["bought"] = types.isin(_BOUGHT).to_numpy()
    for uid, part in frame.groupby("user_id", sort=False):
        bought = part.groupby("col", sort=False)["bought"].any()
        out[str(uid)] = History(bought.index.to_numpy(dtype=np.int64), bought.to_numpy(dtype=bool))
    return out


def _top_set(popularity: F64, n: int) -> frozenset[int]:
    order = np.argsort(-popularity, kind="stable")[:n]
    return frozenset(int(c) for c in order if popularity[c] > 0)


def tier_popularity(model: Recommender, users: pd.DataFrame | None) -> tuple[dict[str, F64], dict[str, str]]:
    """Per city tier, the number of the tier's users who touched each item; and each user's tier."""
    if users is None:
        return {}, {}
    frame = users.reset_index() if "user_id" not in users.columns else users
    if "city_tier" not in frame.columns or "user_id" not in frame.columns:
        raise RecommendError("users needs columns user_id and city_tier (the users table of the store)")
    frame = frame[["user_id", "city_tier"]].dropna()
    tiers = dict(zip(frame["user_id"].astype(str), frame["city_tier"].map(_tier_label), strict=True))
    rows = model.user_index(frame["user_id"].astype(str))
    binary = (model.user_items_ > 0).astype(np.float64).tocsr()
    labels = frame["city_tier"].map(_tier_label).to_numpy()
    pops: dict[str, F64] = {}
    for tier in sorted(set(labels.tolist())):
        sel = rows[(labels == tier) & (rows >= 0)]
        pops[tier] = np.asarray(binary[sel].sum(axis=0), dtype=np.float64).ravel()
    return pops, tiers


def _tier_label(value: Any) -> str:
    """``1``, ``1.0`` and ``"1"`` all become ``"1"``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
