"""Where recommender evaluations get their data, and how example users are shown (helpers of
:mod:`growthkit.workflows.recommend`).

Sources (:func:`load_source`):

``ml-100k``
    MovieLens-100K through ``growthkit.datasets`` into a throwaway in-memory store; every rating
    is one implicit interaction (``review`` events, binary), as in the published protocols.
``instacart-sample``
    The Instacart sample: ``purchase`` events, one order = one basket (``session_id``); the
    weight counts purchases so "buy again" frequencies survive.
``sim``
    A simulated shop (``growthkit.sim``) built in memory, with its ground truth: true
    category preferences (for the oracle and the true NDCG) and customer types (segments).
the store (``None``)
    The shop's own events; with ``truth_dir`` (the simulator's ``truth/`` folder) the oracle too.

The simulator's true preference of user ``u`` for item ``i`` (top category ``c``) is the
probability that one of ``u``'s sessions views ``i`` (``growthkit.sim.behaviour``): the
session picks category ``c`` with probability ``0.9 p_uc + 0.1 W_c`` (``p_u`` the user's
Dirichlet preferences, ``W_c`` the category's share of popularity, the 10 % exploration) and
then item ``i`` with probability ``pop_i / W_c``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from numpy.typing import NDArray

from growthkit.config import Settings
from growthkit.datasets import load
from growthkit.errors import ConfigError
from growthkit.features.interactions import DEFAULT_EVENT_WEIGHTS, InteractionWeights, interaction_log, item_attributes
from growthkit.schema import TABLES
from growthkit.sim import SimConfig, simulate
from growthkit.store import Store, open_store

SOURCES: tuple[str, ...] = ("ml-100k", "instacart-sample", "sim")
SHOP_EVENTS: tuple[str, ...] = ("view", "cart", "purchase", "review")
MODEL_PARAMS: dict[str, dict[str, Any]] = {}
"""Fixed parameters per model for evaluations and training (none: the models' defaults)."""
EXPLORE = 0.1
"""The simulator's share of sessions that pick a category by popularity (behaviour.py)."""


@dataclass(frozen=True, eq=False)
class SimTruth:
    """The simulator's true preferences: ``prefs`` (users x top categories, rows sum to 1), and per
    item its top category (column of ``prefs``) and popularity."""

    user_ids: NDArray[np.str_]
    prefs: NDArray[np.float64]
    item_ids: NDArray[np.str_]
    item_category: NDArray[np.int64]
    item_popularity: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Source:
    """An interaction log to evaluate on, with what belongs to it."""

    name: str
    log: pd.DataFrame
    items: pd.DataFrame | None
    weights: InteractionWeights
    default_split: str
    truth: SimTruth | None = None
    segments: pd.Series | None = None

    def split_params(self, kind: str, *, seed: int | None = None, basket: str = "all") -> dict[str, Any]:
        """The protocol's parameters for split ``kind`` on this source (see docs/recommend.md)."""
        if kind == "stratified":
            return {"ratio": 0.75, "seed": 42 if seed is None else seed}
        if kind == "random":
            return {"test_ratio": 0.2, "seed": 0 if seed is None else seed}
        if kind == "temporal":
            return {"test_ratio": 0.2, "seed": 0 if seed is None else seed}
        if kind == "next-basket":
            return {"basket": basket, "seed": 0 if seed is None else seed}
        return {"seed": 0 if seed is None else seed}


def load_source(
    settings: Settings,
    dataset: str | None,
    *,
    sim_users: int = 3000,
    sim_days: int = 120,
    sim_seed: int = 7,
    truth_dir: Path | None = None,
) -> Source:
    """The interaction log of ``dataset`` (see the module docstring); ``None`` reads the store."""
    if dataset is None or dataset == "store":
        return _store_source(settings, truth_dir)
    if dataset not in SOURCES:
        raise ConfigError(f"unknown dataset {dataset!r}; choose one of {', '.join(SOURCES)} (or none for the store)")
    with tempfile.TemporaryDirectory(prefix="growthkit-recommend-") as tmp:
        temp = settings.model_copy(update={"db": ":memory:", "workspace": Path(tmp)})
        with open_store(temp) as store:
            if dataset == "sim":
                return _sim_source(store, SimConfig(users=sim_users, days=sim_days, seed=sim_seed))
            load(dataset, store, temp)
            if dataset == "ml-100k":
                w = InteractionWeights(event_weights={"review": 1.0}, binary=True)
                return Source(dataset, _log(store, w), item_attributes(store), w, "stratified")
            w = InteractionWeights(event_weights={"purchase": 1.0})
            return Source(dataset, _log(store, w), item_attributes(store), w, "next-basket")


def _log(store: Store, weights: InteractionWeights) -> pd.DataFrame:
    return interaction_log(store, event_types=tuple(weights.event_weights))


def _shop_weights() -> InteractionWeights:
    return InteractionWeights(event_weights={k: DEFAULT_EVENT_WEIGHTS[k] for k in SHOP_EVENTS})


def _sim_source(store: Store, config: SimConfig) -> Source:
    sim = simulate(config)
    for name in ("items", "users", "events"):
        table = getattr(sim, name)
        cols = ", ".join(c for c in TABLES[name].column_names if c in table.column_names)
        with store.register("_sim_rows", table):
            store.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM _sim_rows")
    w = _shop_weights()
    users = sim.truth["users"].to_pandas()
    truth = sim_truth(users, sim.truth["items"].to_pandas(), sim.truth["categories"].to_pandas())
    segments = pd.Series(users["customer_type"].to_numpy(), index=users["user_id"].astype(str).to_numpy())
    return Source("sim", _log(store, w), item_attributes(store), w, "temporal", truth, segments)


def _store_source(settings: Settings, truth_dir: Path | None) -> Source:
    w = _shop_weights()
    with open_store(settings, read_only=not settings.is_memory) as store:
        log = _log(store, w)
        items = item_attributes(store)
        segments = saved_segments(store)
    truth = None
    if truth_dir is not None:
        folder = Path(truth_dir)
        missing = [f for f in ("users", "items", "categories") if not (folder / f"{f}.parquet").exists()]
        if missing:
            raise ConfigError(f"{folder} is not a simulator truth folder: no {', '.join(missing)}.parquet")
        truth = sim_truth(
            *(pq.read_table(folder / f"{f}.parquet").to_pandas() for f in ("users", "items", "categories"))
        )
    if log.empty:
        raise ConfigError("the store has no view, cart, purchase or review events with an item to evaluate on")
    return Source("store", log, items, w, "temporal", truth, segments)


def saved_segments(store: Store) -> pd.Series | None:
    """Each user's saved segment name (RFM segments first), or None without a ``segments`` table."""
    if "segments" not in store.tables():
        return None
    rows = store.query(
        "SELECT user_id, min(name) AS name FROM segments WHERE method = coalesce("
        "(SELECT min(method) FROM segments WHERE method = 'rfm'), (SELECT min(method) FROM segments)) GROUP BY 1"
    ).to_pandas()
    if rows.empty:
        return None
    return pd.Series(rows["name"].astype(str).to_numpy(), index=rows["user_id"].astype(str).to_numpy())


def sim_truth(users: pd.DataFrame, items: pd.DataFrame, categories: pd.DataFrame) -> SimTruth:
    """Build :class:`SimTruth` from the simulator's ``truth/users``, ``truth/items`` and ``truth/categories``."""
    order = {str(c): int(i) for i, c in zip(categories["index"], categories["category"], strict=True)}
    prefs = np.vstack([np.asarray(p, dtype=np.float64) for p in users["category_prefs"]])
    cat = items["top_category"].astype(str).map(order)
    if cat.isna().any():
        raise ConfigError("truth/items names a top category that truth/categories does not list")
    return SimTruth(
        np.asarray(users["user_id"].astype(str), dtype=str),
        prefs,
        np.asarray(items["item_id"].astype(str), dtype=str),
        np.asarray(cat, dtype=np.int64),
        items["popularity"].to_numpy(dtype=np.float64),
    )


def true_scores(truth: SimTruth, item_ids: NDArray[np.str_]) -> Callable[[NDArray[np.str_]], NDArray[np.float64]]:
    """``scores(user_ids)``: the true view probability per session of every item of ``item_ids``.

    Items unknown to the truth score 0; users unknown to it get the exploration part only.
    """
    pos = pd.Series(np.arange(len(truth.item_ids)), index=truth.item_ids).reindex(np.asarray(item_ids, dtype=str))
    known = pos.notna().to_numpy()
    idx = pos.fillna(0).to_numpy(dtype=np.int64)
    n_cat = truth.prefs.shape[1]
    weight = np.bincount(truth.item_category, weights=truth.item_popularity, minlength=n_cat)
    share = weight / max(float(weight.sum()), 1e-300)
    cat = truth.item_category[idx]
    within = np.where(known, truth.item_popularity[idx] / np.maximum(weight[cat], 1e-300), 0.0)
    user_pos = pd.Series(np.arange(len(truth.user_ids)), index=truth.user_ids)

    def scores(users: NDArray[np.str_]) -> NDArray[np.float64]:
        rows = user_pos.reindex(np.asarray(users, dtype=str))
        p = np.zeros((len(rows), n_cat))
        ok = rows.notna().to_numpy()
        p[ok] = truth.prefs[rows[ok].to_numpy(dtype=np.int64)]
        mix = (1 - EXPLORE) * p + EXPLORE * share[None, :]
        out: NDArray[np.float64] = mix[:, cat] * within[None, :]
        return out

    return scores


# ---- example users ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Shown:
    """One item as shown to people: id, catalogue title, and a detail (event type or reason)."""

    item_id: str
    title: str
    detail: str = ""
    score: float | None = None


@dataclass(frozen=True)
class ExampleUser:
    """A user's recent history and their recommendations, with titles."""

    user_id: str
    history: tuple[Shown, ...]
    recommendations: tuple[Shown, ...]
    fallback: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "user_id": self.user_id,
            "fallback": self.fallback,
            "history": [s.__dict__ for s in self.history],
            "recommendations": [s.__dict__ for s in self.recommendations],
        }


def titles(store: Store, item_ids: list[str]) -> dict[str, str]:
    """Catalogue titles of ``item_ids`` (the id itself when there is no title)."""
    if not item_ids:
        return {}
    rows = store.query(
        "SELECT item_id, title FROM items WHERE item_id IN (SELECT unnest(?::VARCHAR[]))", [item_ids]
    ).to_pylist()
    found = {str(r["item_id"]): str(r["title"]) for r in rows if r["title"]}
    return {i: found.get(i, i) for i in item_ids}


def history(store: Store, user_id: str, n: int) -> tuple[Shown, ...]:
    """The user's ``n`` most recently touched distinct items, newest first, with their latest event type."""
    rows = store.query(
        "SELECT item_id, arg_max(event_type, ts) AS event_type, max(ts) AS ts FROM events "
        "WHERE user_id = ? AND item_id IS NOT NULL AND event_type IN ('view', 'cart', 'purchase', 'review') "
        "GROUP BY item_id ORDER BY ts DESC, item_id LIMIT ?",
        [user_id, n],
    ).to_pylist()
    names = titles(store, [str(r["item_id"]) for r in rows])
    return tuple(Shown(str(r["item_id"]), names[str(r["item_id"])], str(r["event_type"])) for r in rows)


def example_user(
    store: Store, user_id: str, recs: pd.DataFrame, *, n_history: int = 5, fallback: bool = False
) -> ExampleUser:
    """An :class:`ExampleUser` from a ``rank, item_id, score[, reason]`` frame of recommendations."""
    names = titles(store, [str(i) for i in recs["item_id"]])
    shown = tuple(
        Shown(str(r["item_id"]), names[str(r["item_id"])], str(r.get("reason") or ""), float(r["score"]))
        for r in recs.to_dict(orient="records")
    )
    return ExampleUser(user_id, history(store, user_id, n_history), shown, fallback)


def pick_example_users(store: Store, table: str, n: int, min_items: int = 3) -> list[str]:
    """``n`` users with recommendations and at least ``min_items`` items in their history, in a fixed
    pseudo-random order (by the md5 of the id), so the report shows the same people each time."""
    rows = store.query(
        f"SELECT r.user_id FROM (SELECT DISTINCT user_id FROM {table}) r JOIN ("
        "SELECT user_id, count(DISTINCT item_id) AS n FROM events WHERE item_id IS NOT NULL "
        "AND event_type IN ('view', 'cart', 'purchase', 'review') GROUP BY 1) e USING (user_id) "
        "WHERE e.n >= ? ORDER BY md5(r.user_id) LIMIT ?",
        [min_items, n],
    ).to_pylist()
    return [str(r["user_id"]) for r in rows]


def example_user_from_table(store: Store, table: str, user_id: str, *, k: int = 5, n_history: int = 5) -> ExampleUser:
    """A user's stored top ``k`` (from ``table``) and recent history."""
    recs = store.query(
        f"SELECT rank, item_id, score, reason FROM {table} WHERE user_id = ? ORDER BY rank LIMIT ?", [user_id, k]
    ).to_pandas()
    return example_user(store, user_id, recs, n_history=n_history)
