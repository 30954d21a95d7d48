"""What the HTML report shows of the churn and propensity scores: read from ``scores`` and ``churn_evaluation``.

Aggregated in the database (a histogram, per-decile sums, the top at-risk customers), so the
report never pulls every score into Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from growthkit.store import Store
from growthkit.workflows.churn import EVALUATION_TABLE, SCORES_TABLE

AT_RISK_DECILES = 2
"""The report's "at risk": the two riskiest deciles (the 20 % highest scores)."""
TOP_CUSTOMERS = 10
HISTOGRAM_BINS = 10
SCORE_COLUMNS = {"user_id", "model", "target", "horizon_days", "cutoff", "score", "risk_decile", "top_reason"}


@dataclass(frozen=True)
class DecileRow:
    """One risk decile (1 = the highest scores): users, mean score, their revenue to date."""

    decile: int
    users: int
    mean_score: float
    revenue: float


@dataclass(frozen=True)
class AtRiskCustomer:
    """A customer in the at-risk deciles: score, revenue to date, the strongest reason."""

    user_id: str
    score: float
    revenue: float
    reason: str


@dataclass(frozen=True)
class ChurnReport:
    """One target's scores as the report shows them."""

    target: str
    model: str
    horizon_days: int
    cutoff: datetime
    users: int
    mean_score: float
    histogram: tuple[tuple[str, int], ...]
    """Users per band of score (``0-10%`` ... ``90-100%``)."""
    deciles: tuple[DecileRow, ...]
    at_risk_users: int
    at_risk_revenue: float
    total_revenue: float
    top_customers: tuple[AtRiskCustomer, ...]
    evaluation: tuple[dict[str, Any], ...] = ()
    """The backtest rows (``model, roc_auc, pr_auc, brier, lift_top_decile, ...``), model first; empty without one."""


def _columns(store: Store, name: str) -> set[str]:
    rows = store.query("SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]).to_pylist()
    return {str(r["column_name"]) for r in rows}


def _histogram(store: Store, target: str) -> tuple[tuple[str, int], ...]:
    rows = store.query(
        f"SELECT least(CAST(floor(score * {HISTOGRAM_BINS}) AS INTEGER), {HISTOGRAM_BINS - 1}) AS b, count(*) AS n "
        f"FROM {SCORES_TABLE} WHERE target = ? GROUP BY 1",
        [target],
    ).to_pylist()
    counts = {int(r["b"]): int(r["n"]) for r in rows}
    step = 100 // HISTOGRAM_BINS
    return tuple((f"{b * step}-{(b + 1) * step}%", counts.get(b, 0)) for b in range(HISTOGRAM_BINS))


def _evaluation(store: Store, target: str) -> tuple[dict[str, Any], ...]:
    if EVALUATION_TABLE not in store.tables():
        return ()
    rows = store.query(f"SELECT * FROM {EVALUATION_TABLE} WHERE target = ?", [target]).to_pylist()
    return tuple({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows)


def read_target(store: Store, target: str, money: str) -> ChurnReport:
    """The report's view of one target's scores (``money``: the revenue column, or ``0``)."""
    head = store.query(
        f"SELECT any_value(model) AS model, any_value(horizon_days) AS h, max(cutoff) AS cutoff, count(*) AS n, "
        f"avg(score) AS mean FROM {SCORES_TABLE} WHERE target = ?",
        [target],
    ).to_pylist()[0]
    dec = store.query(
        f"SELECT risk_decile AS d, count(*) AS n, avg(score) AS s, sum({money}) AS r FROM {SCORES_TABLE} "
        "WHERE target = ? GROUP BY 1 ORDER BY 1",
        [target],
    ).to_pylist()
    deciles = tuple(DecileRow(int(r["d"]), int(r["n"]), float(r["s"]), float(r["r"] or 0.0)) for r in dec)
    top = store.query(
        f"SELECT user_id, score, {money} AS r, top_reason FROM {SCORES_TABLE} "
        f"WHERE target = ? AND risk_decile <= ? ORDER BY r DESC, score DESC, user_id LIMIT {TOP_CUSTOMERS}",
        [target, AT_RISK_DECILES],
    ).to_pylist()
    risky = [d for d in deciles if d.decile <= AT_RISK_DECILES]
    return ChurnReport(
        target=target,
        model=str(head["model"]),
        horizon_days=int(head["h"]),
        cutoff=head["cutoff"],
        users=int(head["n"]),
        mean_score=float(head["mean"]),
        histogram=_histogram(store, target),
        deciles=deciles,
        at_risk_users=sum(d.users for d in risky),
        at_risk_revenue=sum(d.revenue for d in risky),
        total_revenue=sum(d.revenue for d in deciles),
        top_customers=tuple(
            AtRiskCustomer(str(r["user_id"]), float(r["score"]), float(r["r"] or 0.0), str(r["top_reason"] or ""))
            for r in top
        ),
        evaluation=_evaluation(store, target),
    )


def read_churn_report(store: Store) -> tuple[ChurnReport, ...]:
    """Every target in ``scores`` (churn first), or an empty tuple when there is no usable ``scores`` table."""
    if SCORES_TABLE not in store.tables():
        return ()
    cols = _columns(store, SCORES_TABLE)
    if not cols >= SCORE_COLUMNS:
        return ()
    money = "monetary_total" if "monetary_total" in cols else "0"
    targets = [str(r["target"]) for r in store.query(f"SELECT DISTINCT target FROM {SCORES_TABLE}").to_pylist()]
    targets.sort(key=lambda t: (t != "churn", t))
    return tuple(read_target(store, t, money) for t in targets)
