"""Use cases for recommendations: evaluate models, train one on the store, answer for a user or item.

``evaluate_recommenders``
    Every model on one protocol and one data source: a real sample dataset (``ml-100k``,
    ``instacart-sample``), a simulated shop (``sim``, with its true preferences for the oracle
    NDCG) or the store itself. See docs/recommend.md for each protocol.
``train_recommendations``
    Fit one model on all interactions in the store and write every user's top-k into the
    ``recommendations`` table (``user_id, rank, item_id, score, reason, model, created_at``,
    replaced as a whole in one transaction); the fitted model is saved (npz, no pickle) under
    the workspace for ``recommend_for_user`` and ``similar_to_item``.
``recommend_demo``
    The demo's step: evaluate on the store by time, keep the evaluation table
    (``recommendation_evaluation``), train the best model and store top-20 per user.
``read_recommend_report``
    What the HTML report shows: the stored evaluation and a few example users with their
    history and recommendations (catalogue titles).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.features.interactions import (
    DEFAULT_EVENT_WEIGHTS,
    InteractionWeights,
    build_interactions,
    interaction_log,
    item_attributes,
)
from growthkit.models.recommend import Recommender, RecommendError
from growthkit.models.recommend.evaluate import MS_RECOMMENDERS_ML100K, EvaluationReport, TrueScores, evaluate
from growthkit.models.recommend.rules import BusinessRules, apply_rules
from growthkit.models.recommend.search import available_models, make_model
from growthkit.models.recommend.splits import make_split
from growthkit.store import Store, open_store
from growthkit.workflows import recommend_data as data

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
RECOMMENDATIONS_TABLE = "recommendations"
EVALUATION_TABLE = "recommendation_evaluation"
DEFAULT_MODEL = "ease"
"""The model ``growthkit recommend train`` fits unless told otherwise: the best of the
evaluations in docs/recommend.md on MovieLens-100K and on the simulated shop, and fast."""
DEMO_MODELS: tuple[str, ...] = ("popularity", "itemknn", "ease", "als")
"""Models the demo compares (fast enough on 2 cores for a 20,000-customer shop)."""
DEFAULT_K = 20
SHOWN_METRICS: tuple[str, ...] = ("ndcg@10", "recall@10", "hit@10", "coverage@10", "avg_pop@10")
"""The metrics stored in ``recommendation_evaluation`` and shown in the report."""


def _tick(progress: Progress | None) -> Progress:
    return progress or (lambda what, frac: None)


def evaluate_recommenders(
    settings: Settings,
    *,
    dataset: str | None = None,
    split: str | None = None,
    models: Sequence[str] | None = None,
    ks: Sequence[int] = (10, 20),
    tune: bool = False,
    max_trials: int = 8,
    seed: int | None = None,
    basket: str = "all",
    sim_users: int = 3000,
    sim_days: int = 120,
    truth_dir: Path | None = None,
    progress: Progress | None = None,
) -> EvaluationReport:
    """Evaluate recommenders on a sample dataset, a simulated shop, or the store in ``settings``.

    Parameters
    ----------
    dataset
        ``ml-100k``, ``instacart-sample``, ``sim``, or ``None`` for the store.
    split
        ``random``, ``stratified``, ``temporal``, ``leave-last`` or ``next-basket`` (default per
        source: stratified for ml-100k, next-basket for instacart-sample, temporal otherwise).
    models
        Registry names (default: every registered model).
    ks
        Cut-offs.
    tune
        Search each model's grid on a validation split carved from the training part.
    basket
        Next-basket truth: ``all`` items of the last order, ``reorders`` or ``new`` ones.
    sim_users, sim_days
        Size of the simulated shop for ``dataset="sim"``.
    truth_dir
        For the store: the simulator's ``truth/`` folder, to add the oracle and true NDCG.

    Examples
    --------
    >>> rep = evaluate_recommenders(Settings(), dataset="ml-100k", models=["popularity", "ease"])  # doctest: +SKIP
    >>> rep.best("ndcg@10")  # doctest: +SKIP
    'ease'
    """
    tick = _tick(progress)
    tick("loading the interactions", 0.0)
    source = data.load_source(settings, dataset, sim_users=sim_users, sim_days=sim_days, truth_dir=truth_dir)
    kind = split or source.default_split
    params = dict(source.split_params(kind, seed=seed, basket=basket))
    tick(f"splitting ({kind})", 0.05)
    sp = make_split(kind, source.log, weights=source.weights, items=source.items, **params)
    names = list(models) if models else sorted(available_models())
    baselines: list[str] = []
    if kind == "next-basket" and basket != "new":
        baselines.append("repeat")
    truth: TrueScores | None = None
    if source.truth is not None:
        truth = data.true_scores(source.truth, sp.train.item_ids)
        baselines.append("oracle")
    published = MS_RECOMMENDERS_ML100K if source.name == "ml-100k" and _ms_protocol(kind, params) else None

    def sub(what: str, frac: float) -> None:
        tick(what, 0.1 + 0.9 * frac)

    report = evaluate(
        sp, names, ks=ks, tune=tune, max_trials=max_trials, baselines=baselines, true_scores=truth,
        segments=source.segments, dataset=source.name, published=published, seed=params.get("seed", 0),
        progress=sub, params=data.MODEL_PARAMS,
    )  # fmt: skip
    if source.name == "ml-100k" and published is None:
        notes = (*report.notes, "the published comparison needs --split stratified (75/25 per user, seed 42)")
        report = dataclasses.replace(report, notes=notes)
    return report


def _ms_protocol(kind: str, params: dict[str, Any]) -> bool:
    return kind == "stratified" and params.get("ratio") == 0.75


# ---- training on the store -------------------------------------------------------------------
@dataclass(frozen=True)
class TrainRun:
    """What :func:`train_recommendations` fitted and wrote."""

    model: str
    params: dict[str, Any]
    users: int
    items: int
    interactions: int
    k: int
    rows: int
    model_path: Path | None
    fit_seconds: float
    seconds: float
    created_at: datetime
    explained_users: int
    """Users whose stored recommendations carry reasons."""
    table: str = RECOMMENDATIONS_TABLE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = {k: v for k, v in self.__dict__.items()}
        out["model_path"] = str(self.model_path) if self.model_path else None
        out["created_at"] = self.created_at.isoformat()
        return out


def model_path(settings: Settings, name: str | None = None) -> Path:
    """Where ``train_recommendations`` saves the fitted model (``<workspace>/models/recommend.npz``)."""
    return settings.workspace_dir / "models" / ("recommend.npz" if name is None else f"recommend-{name}.npz")


def store_interactions(store: Store, weights: InteractionWeights | None = None) -> Any:
    """All weighted interactions of the store with their log and the catalogue attached."""
    w = weights or InteractionWeights(event_weights=dict(DEFAULT_EVENT_WEIGHTS))
    x = build_interactions(store, weights=w)
    log_rows = interaction_log(store, event_types=tuple(w.event_weights))
    items = item_attributes(store)
    return x.with_context(log=log_rows, items=items)


REASON_SCOPES: tuple[str, ...] = ("all", "examples", "none")
"""Whose stored recommendations pass the business rules and get reasons (see ``train_recommendations``)."""
EXAMPLES = 4
"""Example customers the report shows."""


def train_recommendations(
    settings: Settings,
    *,
    model: str = DEFAULT_MODEL,
    params: dict[str, Any] | None = None,
    k: int = DEFAULT_K,
    weights: InteractionWeights | None = None,
    rules: BusinessRules | None = None,
    lang: str = "en",
    reasons: str = "all",
    save: bool = True,
    progress: Progress | None = None,
) -> TrainRun:
    """Fit ``model`` on every interaction in the store and write each user's top ``k``.

    The lists pass through the business rules (:func:`~growthkit.models.recommend.rules.apply_rules`;
    by default no filtering or re-ranking), which give every item a reason ("Because you viewed
    X", "Popular in your city tier 2", ...) in ``lang`` (``en`` or ``zh``). The rules cost a few
    milliseconds per user; ``reasons="examples"`` applies them only to the example customers
    the report shows (the others get the model's own top ``k`` and no reason), ``"none"`` to
    nobody.
    """
    if reasons not in REASON_SCOPES:
        raise ConfigError(f"reasons must be one of {', '.join(REASON_SCOPES)}, got {reasons!r}")
    tick = _tick(progress)
    t0 = time.perf_counter()
    created = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    rules = rules or BusinessRules(lang=lang)
    with open_store(settings) as store:
        tick("reading interactions", 0.05)
        x = store_interactions(store, weights)
        if x.nnz == 0:
            raise ConfigError("the store has no view, cart, purchase or review events with an item: nothing to learn")
        est = make_model(model, {**data.MODEL_PARAMS.get(model, {}), **(params or {})})
        tick(f"fitting {model}", 0.2)
        t1 = time.perf_counter()
        est.fit(x)
        fit_s = time.perf_counter() - t1
        tick("recommending", 0.5)
        users = store.query("SELECT user_id, city_tier FROM users").to_pandas()
        frame = _top_frame(est, x, x.user_ids, k, rules if reasons == "all" else None, users)
        frame["model"] = model
        frame["created_at"] = created
        tick("writing recommendations", 0.9)
        _write(store, RECOMMENDATIONS_TABLE, frame)
        if reasons == "examples":
            shown = data.pick_example_users(store, RECOMMENDATIONS_TABLE, EXAMPLES)
            ruled = _top_frame(est, x, np.asarray(shown, dtype=str), k, rules, users)
            _replace_users(store, ruled.assign(model=model, created_at=created), shown)
        explained = int(
            store.scalar(f"SELECT count(DISTINCT user_id) FROM {RECOMMENDATIONS_TABLE} WHERE reason IS NOT NULL")
        )
        rows = int(store.scalar(f"SELECT count(*) FROM {RECOMMENDATIONS_TABLE}"))
    path = est.save(model_path(settings)) if save else None
    return TrainRun(
        model, est.get_params(), x.n_users, x.n_items, x.nnz, k, rows, path, fit_s,
        time.perf_counter() - t0, created, explained,
    )  # fmt: skip


def _top_frame(
    est: Recommender,
    x: Any,
    user_ids: Any,
    k: int,
    rules: BusinessRules | None,
    users: pd.DataFrame | None,
    batch: int = 4096,
) -> pd.DataFrame:
    """The top ``k`` of ``user_ids``: after the business rules with a reason each, or (``rules=None``) the
    model's own list without reasons."""
    fbt = _fbt(x) if rules is not None else None
    parts = []
    log_rows = x.log
    for start in range(0, len(user_ids), batch):
        ids = user_ids[start : start + batch]
        if rules is None:
            f = est.recommend(ids, k=k).to_frame().rename(columns={"query_id": "user_id"}).assign(reason=None)
        else:
            hist = log_rows[log_rows["user_id"].isin(set(ids.tolist()))] if log_rows is not None else None
            f = apply_rules(est, ids, k, rules, hist, users, items=x.items, fbt=fbt).to_frame()
        parts.append(f)
    cols = ["user_id", "rank", "item_id", "score", "reason"]
    out = pd.concat(parts, ignore_index=True).reindex(columns=cols) if parts else pd.DataFrame(columns=cols)
    out["rank"] = out["rank"].astype(np.int64)
    out["score"] = out["score"].astype(np.float64)
    out["reason"] = out["reason"].astype(object)
    return out


def _fbt(x: Any) -> Recommender | None:
    """A frequently-bought-together model for "often bought together" reasons, when there is one."""
    if "fbt" not in available_models():
        return None
    try:
        return make_model("fbt").fit(x)
    except RecommendError as exc:  # e.g. no purchases to learn from
        log.info("no frequently-bought-together reasons: %s", exc)
        return None


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as Arrow, with all-NULL columns typed as text (e.g. ``reason`` without reasons)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_null(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table


def _replace_users(store: Store, frame: pd.DataFrame, user_ids: Sequence[str]) -> None:
    """Replace the rows of ``user_ids`` in the recommendations table by ``frame``, atomically."""
    if not user_ids:
        return
    table = _arrow(frame)
    with store.transaction(), store.register("_recommend_users_in", table):
        store.execute(
            f"DELETE FROM {RECOMMENDATIONS_TABLE} WHERE user_id IN (SELECT unnest(?::VARCHAR[]))", [list(user_ids)]
        )
        store.execute(f"INSERT INTO {RECOMMENDATIONS_TABLE} BY NAME SELECT * FROM _recommend_users_in")


def _write(store: Store, name: str, frame: pd.DataFrame) -> None:
    view = f"_{name}_in"
    table = _arrow(frame)
    with store.transaction(), store.register(view, table):
        store.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {view}")


def _load_model(settings: Settings) -> Recommender:
    path = model_path(settings)
    if not path.exists():
        raise ConfigError(f"no trained recommender at {path}; run `growthkit recommend train` first")
    return Recommender.load(path)


def recommend_for_user(
    settings: Settings, user_id: str, *, k: int = 10, history: int = 10, lang: str = "en"
) -> data.ExampleUser:
    """The saved model's top ``k`` for one user after the business rules, with reasons, titles and history.

    A user the model does not know gets popular items (``fallback``).
    """
    est = _load_model(settings)
    uid = str(user_id)
    with open_store(settings, read_only=not settings.is_memory) as store:
        rows = store.query(
            "SELECT user_id, item_id, ts, event_type FROM events WHERE user_id = ? AND item_id IS NOT NULL ORDER BY ts",
            [uid],
        ).to_pandas()
        users = store.query("SELECT user_id, city_tier FROM users WHERE user_id = ?", [uid]).to_pandas()
        ruled = apply_rules(est, uid, k, BusinessRules(lang=lang), rows, users, items=item_attributes(store))
        frame = ruled.to_frame()
        return data.example_user(store, uid, frame, n_history=history, fallback=bool(ruled.fallback[0]))


def similar_to_item(settings: Settings, item_id: str, *, k: int = 10) -> pd.DataFrame:
    """The saved model's ``k`` most similar items of ``item_id``, with titles (``rank, item_id, title, score``)."""
    est = _load_model(settings)
    recs = est.similar_items(str(item_id), k=k)
    if recs.fallback[0]:
        raise ConfigError(f"item {item_id!r} is not in the trained model; is the id right, and was it ever touched?")
    frame = recs.to_frame()[["rank", "item_id", "score"]]
    with open_store(settings, read_only=not settings.is_memory) as store:
        titles = data.titles(store, frame["item_id"].tolist())
    return frame.assign(title=frame["item_id"].map(titles))


# ---- the demo and the report -------------------------------------------------------------------
@dataclass(frozen=True)
class RecommendReport:
    """What the report shows: the stored evaluation and example users."""

    model: str
    created_at: datetime
    users: int
    k: int
    protocol: str
    evaluation: tuple[dict[str, Any], ...]
    """One row per evaluated model: ``model`` and :data:`SHOWN_METRICS` with ``ndcg_se``."""
    examples: tuple[data.ExampleUser, ...] = field(default_factory=tuple)


def _evaluation_rows(report: EvaluationReport, chosen: str, created: datetime) -> pd.DataFrame:
    t = report.table
    rows = pd.DataFrame({"model": [str(m) for m in t.index]})
    for m in SHOWN_METRICS:
        rows[m.replace("@", "_at_")] = t[m].to_numpy(dtype=float) if m in t.columns else np.nan
    rows["ndcg_se"] = report.errors["ndcg@10"].reindex(t.index).to_numpy(dtype=float)
    rows["chosen"] = rows["model"] == chosen
    rows["protocol"] = report.protocol.description
    rows["users"] = report.protocol.users
    rows["created_at"] = created
    return rows


def recommend_demo(
    settings: Settings, *, models: Sequence[str] = DEMO_MODELS, k: int = DEFAULT_K, progress: Progress | None = None
) -> dict[str, Any]:
    """Evaluate ``models`` on the store by time, store the table, train the best and store top-``k``."""
    tick = _tick(progress)
    t0 = time.perf_counter()
    available = [m for m in models if m in available_models()]
    report = evaluate_recommenders(settings, split="temporal", models=available, ks=(10, 20), progress=tick)
    chosen = report.best("ndcg@10")
    created = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with open_store(settings) as store:
        _write(store, EVALUATION_TABLE, _evaluation_rows(report, chosen, created))
    run = train_recommendations(settings, model=chosen, k=k, reasons="examples", progress=tick)
    return {"evaluation": report, "chosen": chosen, "train": run, "seconds": time.perf_counter() - t0}


def read_recommend_report(store: Store, *, examples: int = 4) -> RecommendReport | None:
    """The stored recommendations and evaluation as the report shows them; None when there are none."""
    tables = store.tables()
    if RECOMMENDATIONS_TABLE not in tables:
        return None
    head = store.query(
        f"SELECT any_value(model) AS model, max(created_at) AS created, count(DISTINCT user_id) AS users, "
        f"max(rank) AS k FROM {RECOMMENDATIONS_TABLE}"
    ).to_pylist()[0]
    if not head["users"]:
        return None
    rows: tuple[dict[str, Any], ...] = ()
    protocol = ""
    if EVALUATION_TABLE in tables:
        ev = store.query(f"SELECT * FROM {EVALUATION_TABLE} ORDER BY ndcg_at_10 DESC").to_pandas()
        rows = tuple(_records(ev.drop(columns=["protocol", "created_at"], errors="ignore")))
        protocol = str(ev["protocol"].iloc[0]) if len(ev) else ""
    picked = data.pick_example_users(store, RECOMMENDATIONS_TABLE, examples)
    shown = tuple(data.example_user_from_table(store, RECOMMENDATIONS_TABLE, u) for u in picked)
    return RecommendReport(
        str(head["model"]), head["created"], int(head["users"]), int(head["k"]), protocol, rows, shown
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{str(k): v for k, v in r.items()} for r in out]
