"""Evaluation runs of the churn and propensity models: the simulator against an oracle, and real datasets.

* :func:`evaluate_simulated`: a seeded simulated shop, with two extra scorers built from the
  simulator's ground truth (``truth/users``):

  - ``oracle``: what a perfect model could know *at the cutoff* — whether the user is still
    alive (has not churned), the user's latent daily purchase rate ``lambda = activity_rate x
    BASE_BUY[type] x COUPON_BUY_MULT[coupon type] x E[category match]`` and the type's daily churn
    hazard ``h = HAZARD0[type]``. With purchases Poisson(lambda) until an exponential(h) churn
    time, ``P(no purchase in H) = 1 - lambda / (lambda + h) x (1 - exp(-(lambda + h) H))`` for an
    alive user, 1 for a churned one. It leaves out what the truth does not record at the cutoff
    (the user's satisfaction, which scales both rates, weekdays, promotions, prices), so it is a
    strong reference, not a ceiling.
  - ``oracle_hindsight``: also knows *when* the user churns inside the horizon (the future):
    ``P(no purchase) = exp(-lambda x days alive in the horizon)``. No model can reach it; it shows
    how much of the outcome is Poisson noise.

* :func:`evaluate_dataset`: a sample dataset (CDNOW, Instacart) loaded into a temporary store.

``bench/churn.py`` runs them at full size; ``docs/churn.md`` has the numbers.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from growthkit.config import MEMORY_DB, Settings
from growthkit.datasets import load as load_dataset
from growthkit.errors import ConfigError
from growthkit.features._base import as_cutoff
from growthkit.models.churn import ChurnEvaluation
from growthkit.schema import TABLES
from growthkit.sim import COUPON_TYPES, CUSTOMER_TYPES, SimConfig, simulate
from growthkit.sim import population as sim_pop
from growthkit.store import Store, open_store
from growthkit.workflows.churn import evaluate_churn

log = logging.getLogger(__name__)

SIM_TABLES: tuple[str, ...] = ("items", "users", "events", "reviews", "edges")

DATASET_CUTOFFS: dict[str, date] = {
    "cdnow-sample": date(1997, 10, 1),
    "cdnow": date(1997, 10, 1),
    "instacart-sample": date(2017, 5, 1),
}
"""Default test cutoffs: CDNOW six months after the first purchases (Q1 1997); Instacart four months
after the synthetic anchor (every user's first order is on 2017-01-01)."""


def _match(prefs: Sequence[Any]) -> np.ndarray:
    """E[category match] per user: sum_c pref_c x clip(sqrt(pref_c x n_categories), 0.3, 2.5), as the simulator."""
    out = np.empty(len(prefs))
    for i, p in enumerate(prefs):
        a = np.asarray(p, dtype=np.float64)
        out[i] = float(np.sum(a * np.clip(np.sqrt(a * a.shape[0]), 0.3, 2.5)))
    return out


def oracle_scores(
    truth_users: pd.DataFrame, cutoff: date | datetime, horizon_days: int, target: str = "churn"
) -> dict[str, pd.Series]:
    """``oracle`` and ``oracle_hindsight`` P(target) per user from the simulator's truth (see the module docstring).

    ``truth_users`` is the ``truth/users`` table (``user_id, customer_type, coupon_type,
    activity_rate, churned, churn_ts, category_prefs``).
    """
    cut = as_cutoff(cutoff)
    t = truth_users
    ctype = t["customer_type"].map({c: i for i, c in enumerate(CUSTOMER_TYPES)}).to_numpy(np.int64)
    coupon = t["coupon_type"].map({c: i for i, c in enumerate(COUPON_TYPES)}).to_numpy(np.int64)
    lam = (
        t["activity_rate"].to_numpy(np.float64)
        * sim_pop.BASE_BUY[ctype]
        * sim_pop.COUPON_BUY_MULT[coupon]
        * _match(t["category_prefs"].tolist())
    )
    h = sim_pop.HAZARD0[ctype]
    churn_ts = pd.to_datetime(t["churn_ts"], utc=True).dt.tz_localize(None)
    alive = (churn_ts.isna() | (churn_ts > cut)).to_numpy()
    horizon = float(horizon_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        buy = np.where(lam + h > 0, lam / (lam + h) * (1.0 - np.exp(-(lam + h) * horizon)), 0.0)
    p_buy = np.where(alive, buy, 0.0)
    days_alive = ((churn_ts - cut).dt.total_seconds() / 86_400.0).clip(0.0, horizon).fillna(horizon).to_numpy()
    p_buy_hind = 1.0 - np.exp(-lam * days_alive)
    index = pd.Index(t["user_id"].astype(str), name="user_id")
    out = {}
    for name, p in (("oracle", p_buy), ("oracle_hindsight", p_buy_hind)):
        score = 1.0 - p if target == "churn" else p
        out[name] = pd.Series(np.clip(score, 0.0, 1.0), index=index, name=name)
    return out


def load_simulation(store: Store, config: SimConfig) -> pd.DataFrame:
    """Simulate ``config`` in memory, insert its tables into ``store``; returns ``truth/users`` as a DataFrame."""
    data = simulate(config)
    for name in SIM_TABLES:
        table = getattr(data, name)
        cols = ", ".join(c for c in TABLES[name].column_names if c in table.column_names)
        with store.register("_sim_rows", table):
            store.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM _sim_rows")
    truth: pd.DataFrame = data.truth["users"].to_pandas()
    return truth


def evaluate_simulated(
    settings: Settings,
    config: SimConfig,
    *,
    cutoff_day: int,
    horizon_days: int = 30,
    target: str = "churn",
    population: str | None = None,
    model: str = "lightgbm",
    params: Mapping[str, Any] | None = None,
) -> ChurnEvaluation:
    """Backtest on a simulated shop (test cutoff ``cutoff_day`` days after ``config.start``) with the oracles.

    The shop lives in an in-memory store (``settings`` gives its memory limit and threads).

    Examples
    --------
    >>> from growthkit.sim import SimConfig
    >>> ev = evaluate_simulated(Settings(), SimConfig(users=2000, days=120, seed=3), cutoff_day=80,
    ...                         params={"n_estimators": 50, "n_jobs": 1})  # doctest: +SKIP
    >>> ev.metric("oracle").roc_auc > ev.metric("base_rate").roc_auc  # doctest: +SKIP
    True
    """
    if not 2 * horizon_days <= cutoff_day <= config.days - horizon_days:
        raise ConfigError(
            f"cutoff_day must leave a horizon before and after it: {2 * horizon_days} <= cutoff_day <= "
            f"{config.days - horizon_days} for {config.days} simulated days (got {cutoff_day})"
        )
    cutoff = datetime.combine(config.start, datetime.min.time()) + timedelta(days=cutoff_day)
    with open_store(settings.model_copy(update={"db": MEMORY_DB})) as store:
        truth = load_simulation(store, config)
        extra = oracle_scores(truth, cutoff, horizon_days, target)
        return evaluate_churn(
            store, cutoff, horizon_days, target=target, population=population, model=model, params=params,
            extra_scores=extra,
        )  # fmt: skip


def evaluate_dataset(
    settings: Settings,
    name: str,
    *,
    cutoff: date | None = None,
    horizon_days: int = 90,
    target: str = "churn",
    population: str | None = None,
    model: str = "lightgbm",
    params: Mapping[str, Any] | None = None,
) -> ChurnEvaluation:
    """Fetch sample dataset ``name`` (cached in ``settings.cache_dir``), load it into a temporary store, backtest.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> ev = evaluate_dataset(Settings(), "cdnow-sample", horizon_days=90)  # doctest: +SKIP
    >>> ev.to_frame().loc[["lightgbm", "recency"], "roc_auc"]  # doctest: +SKIP
    """
    cut = cutoff or DATASET_CUTOFFS.get(name)
    if cut is None:
        raise ConfigError(f"give a cutoff for dataset {name!r} (defaults exist for {', '.join(DATASET_CUTOFFS)})")
    with tempfile.TemporaryDirectory(prefix="growthkit-churn-") as tmp:
        mem = settings.model_copy(update={"db": MEMORY_DB, "workspace": Path(tmp)})
        with open_store(mem) as store:
            load_dataset(name, store, mem)
            return evaluate_churn(
                store, cut, horizon_days, target=target, population=population, model=model, params=params
            )


def format_metrics(ev: ChurnEvaluation, digits: int = 3) -> str:
    """The metrics table as Markdown (for docs and benchmark output)."""
    cols = ("roc_auc", "pr_auc", "brier", "ece", "lift_top_decile", "capture_top_decile")
    head = "| scorer | ROC-AUC | PR-AUC | Brier | ECE | top-decile lift | top-decile capture |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for m in ev.metrics:
        vals = [getattr(m, c) for c in cols]
        cells = ["-" if isinstance(v, float) and math.isnan(v) else f"{v:.{digits}f}" for v in vals]
        cells[1 + 1] = cells[2] if cells[2] == "-" else f"{vals[2]:.4f}"
        lines.append(f"| {m.model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
