"""Use cases for A/B tests: analyse a spec or an experiment in the store, plan, assign.

The statistics live in ``growthkit.experiments.stats`` (pure functions on sufficient
statistics); this module reads the store, builds the engine's spec and runs the SRM check.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.experiments.assignment import Assignments, Experiment, Holdout
from growthkit.experiments.assignment import assign as assign_users
from growthkit.experiments.exposures import (
    ExposureReport,
    exposure_counts,
    load_experiment,
    record_exposure_rows,
    record_exposures,
)
from growthkit.experiments.metrics import METRICS, MetricDefinition, compute_metric, experiment_variations
from growthkit.experiments.stats import MetricOutcome, analyze, decide, duration_days, sample_size, srm_test
from growthkit.store import Store, open_store

log = logging.getLogger(__name__)

DEFAULT_METRICS: tuple[str, ...] = ("conversion", "revenue")


def analyze_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the statistics engine on a spec of sufficient statistics (see ``docs/experiments.md``).

    Examples
    --------
    >>> spec = {"engine": "frequentist", "metric_type": "proportion", "variations": [
    ...     {"name": "control", "n": 1000, "sum": 100, "sum_squares": 100},
    ...     {"name": "B", "n": 1000, "sum": 130, "sum_squares": 130}]}
    >>> round(analyze_spec(spec)["variations"][0]["effect"], 2)
    0.3
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("variations"), list):
        raise ConfigError("a spec is a JSON object with a 'variations' list (control first); see docs/experiments.md")
    return analyze(spec)


def resolve_metrics(metrics: Sequence[str | MetricDefinition]) -> list[MetricDefinition]:
    """Metric definitions from names in :data:`~growthkit.experiments.metrics.METRICS` or definitions."""
    out = []
    for m in metrics:
        if isinstance(m, MetricDefinition):
            out.append(m)
        elif m in METRICS:
            out.append(METRICS[m])
        else:
            raise ConfigError(f"unknown metric {m!r}; known metrics: {', '.join(METRICS)}")
    return out


def srm_check(counts: Sequence[int], weights: Sequence[float], *, threshold: float = 0.001) -> dict[str, Any]:
    """Chi-square sample-ratio-mismatch check of users per variation against the planned weights."""
    res = srm_test(np.asarray(counts, dtype=float), np.asarray(weights, dtype=float), threshold=threshold)
    return {
        "p_value": float(res.p_value),
        "chi2": float(res.chi2),
        "detected": bool(res.srm_detected),
        "threshold": float(res.threshold),
        "warning": str(res.warning),
    }


def _analyze_in_store(
    store: Store,
    key: str,
    metrics: list[MetricDefinition],
    *,
    engine: str,
    difference: str,
    alpha: float,
    end: datetime | None,
    srm_threshold: float,
    guardrails: Sequence[str],
) -> dict[str, Any]:
    definition = load_experiment(store, key)
    names = experiment_variations(store, key)
    counts = exposure_counts(store, key, end=end)
    users = [counts.get(v, 0) for v in names]
    if sum(users) == 0:
        raise ConfigError(f"experiment {key!r} has no exposures before {end}; pick a later --end")
    weights = list(definition.split) if definition is not None else [1.0 / len(names)] * len(names)
    srm = srm_check(users, weights, threshold=srm_threshold)
    if srm["detected"]:
        log.warning("experiment %s: %s", key, srm["warning"])
    out_metrics = []
    for metric in metrics:
        sums = compute_metric(store, key, metric, variations=names, end=end)
        spec = sums.spec(engine=engine, difference=difference, alpha=alpha) | {
            "weights": weights,
            "srm_threshold": srm_threshold,
        }
        out_metrics.append(
            {
                "name": metric.name,
                "kind": metric.kind,
                "description": metric.description,
                "covariate": metric.uses_covariate,
                "cap": sums.cap,
                "covariate_cap": sums.covariate_cap,
                "spec": spec,
                "result": analyze_spec(spec),
            }
        )
    return {
        "experiment": key,
        "end": None if end is None else end.isoformat(),
        "decisions": _decisions(names[1:], out_metrics, srm, guardrails),
        "definition": None if definition is None else definition.to_dict(),
        "variations": [
            {"name": v, "users": n, "expected_share": w} for v, n, w in zip(names, users, weights, strict=True)
        ],
        "srm": srm,
        "metrics": out_metrics,
    }


def _bound(x: Any, default: float) -> float:
    return default if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _decisions(
    treatments: Sequence[str], metrics: list[dict[str, Any]], srm: dict[str, Any], guardrails: Sequence[str]
) -> list[dict[str, Any]]:
    """Ship / don't ship / keep running per non-control variation (``stats.decide``)."""
    out = []
    for name in treatments:
        outcomes = []
        for m in metrics:
            row = next(r for r in m["result"]["variations"] if r["name"] == name)
            outcomes.append(
                MetricOutcome(
                    m["name"],
                    "guardrail" if m["name"] in guardrails else "success",
                    _bound(row["effect"], 0.0),
                    _bound(row["ci_low"], -math.inf),
                    _bound(row["ci_high"], math.inf),
                    status=str(row["status"]),
                )
            )
        if not any(o.role == "success" for o in outcomes):
            continue
        d = decide(outcomes, srm_p_value=srm["p_value"], srm_threshold=srm["threshold"])
        out.append({"variation": name, "action": d.action, "reasons": list(d.reasons)})
    return out


def analyze_in_store(
    store: Store,
    key: str,
    metrics: Sequence[str | MetricDefinition] = DEFAULT_METRICS,
    *,
    end: datetime | None = None,
) -> dict[str, Any]:
    """:func:`analyze_experiment` on an open store, with the default engine (frequentist, relative, 95 %)."""
    return _analyze_in_store(
        store,
        key,
        resolve_metrics(metrics),
        engine="frequentist",
        difference="relative",
        alpha=0.05,
        end=end,
        srm_threshold=0.001,
        guardrails=(),
    )


def analyze_experiment(
    settings: Settings,
    key: str,
    metrics: Sequence[str | MetricDefinition] = DEFAULT_METRICS,
    *,
    engine: str = "frequentist",
    difference: str = "relative",
    alpha: float = 0.05,
    end: datetime | None = None,
    srm_threshold: float = 0.001,
    guardrails: Sequence[str] = (),
) -> dict[str, Any]:
    """Analyse experiment ``key`` from the store named in ``settings``.

    Reads the exposures and computes each metric's sufficient statistics in the store
    (:func:`~growthkit.experiments.metrics.compute_metric`), runs the statistics engine on each
    and checks the split of users against the planned weights (SRM). Metrics named in
    ``guardrails`` must not get worse; the others are success metrics for the decision
    (``ship`` / ``dont_ship`` / ``keep_running`` per variation, see ``stats.decide``).

    Returns
    -------
    dict
        ``experiment``, ``end``, ``decisions`` (variation, action, reasons), ``definition``,
        ``variations`` (name, users, expected_share),
        ``srm`` (p_value, chi2, detected, threshold, warning) and ``metrics`` (name, kind,
        description, covariate, cap, covariate_cap, spec, result), JSON-ready.
    """
    defs = resolve_metrics(metrics)
    with open_store(settings, read_only=not settings.is_memory) as store:
        return _analyze_in_store(
            store,
            key,
            defs,
            engine=engine,
            difference=difference,
            alpha=alpha,
            end=end,
            srm_threshold=srm_threshold,
            guardrails=guardrails,
        )


def plan(
    *,
    baseline: float,
    mde: float,
    metric: str = "proportion",
    sd: float | None = None,
    daily_users: float | None = None,
    difference: str = "relative",
    alpha: float = 0.05,
    power: float = 0.8,
    rho: float = 0.0,
    arms: int = 2,
    traffic: float = 1.0,
) -> dict[str, Any]:
    """Users per arm (and days, given ``daily_users``) to detect ``mde`` on ``baseline``.

    ``metric`` is ``proportion`` (baseline = conversion rate) or ``mean`` (give ``sd``);
    ``rho`` is the correlation with the CUPED covariate (0 = no variance reduction).
    """
    if metric == "mean" and sd is None:
        raise ConfigError("a mean metric needs its per-user standard deviation: give sd (--sd)")
    n = sample_size(
        metric=metric,
        baseline=baseline,
        mde=mde,
        sd=1.0 if sd is None else sd,
        difference=difference,
        alpha=alpha,
        power=power,
        rho=rho,
    )
    out: dict[str, Any] = {
        "metric": metric,
        "baseline": baseline,
        "mde": mde,
        "difference": difference,
        "sd": sd,
        "alpha": alpha,
        "power": power,
        "rho": rho,
        "arms": arms,
        "n_per_arm": int(n),
        "n_total": int(n) * arms,
        "days": None,
    }
    if daily_users is not None:
        days = duration_days(n, daily_users, n_arms=arms, traffic_share=traffic)
        out["days"] = int(days)
        out["daily_users"] = daily_users
        out["traffic"] = traffic
    return out


@dataclass(frozen=True)
class AssignResult:
    """The assignments, and the exposure report when they were recorded."""

    assignments: Assignments
    recorded: ExposureReport | None = None

    def to_dict(self, *, with_users: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "experiment": self.assignments.experiment.to_dict(),
            "counts": self.assignments.counts(),
            "recorded": None if self.recorded is None else self.recorded.to_dict(),
        }
        if with_users:
            d["assignments"] = self.assignments.mapping()
        return d


def store_user_ids(store: Store) -> list[str]:
    """Every user id the store knows (``users`` and ``events``), sorted."""
    rows = store.query(
        "SELECT user_id FROM users UNION SELECT DISTINCT user_id FROM events WHERE user_id IS NOT NULL ORDER BY 1"
    )
    return [str(u) for u in rows["user_id"].to_pylist()]


def assign(
    experiment: Experiment,
    *,
    user_ids: Sequence[str] | None = None,
    settings: Settings | None = None,
    holdout: Holdout | None = None,
    record: bool = False,
    ts: datetime | None = None,
) -> AssignResult:
    """Assign ``user_ids`` (or, without them, every user in the store) to ``experiment``.

    With ``record``, the assigned users' exposures are written to the store at ``ts``
    (default: now) together with the experiment's definition.
    """
    if (user_ids is None or record) and settings is None:
        raise ConfigError("reading users from the store or recording exposures needs a store: give --db")
    if user_ids is None:
        assert settings is not None
        with open_store(settings, read_only=not settings.is_memory) as store:
            user_ids = store_user_ids(store)
        if not user_ids:
            raise ConfigError(f"the store {settings.db} has no users; ingest users or events first")
    result = assign_users(experiment, user_ids, holdout=holdout)
    if not record:
        return AssignResult(result)
    assert settings is not None
    with open_store(settings) as store:
        report = record_exposures(store, experiment, result, ts or datetime.now(UTC))
    return AssignResult(result, report)


def record_experiment_tables(settings: Settings, definitions: pa.Table, exposures: pa.Table) -> list[ExposureReport]:
    """Save experiment definitions and record their exposures, one experiment at a time (idempotent).

    This is how exposures logged outside growthkit (an exposure log, or the simulator's
    ``experiments.parquet`` and ``exposures.parquet``) enter the store: through
    :func:`~growthkit.experiments.exposures.record_exposure_rows`, so each user keeps their
    first exposure, unknown variations are refused and crossovers are counted.

    Parameters
    ----------
    settings : Settings
        Names the (writable) store.
    definitions : pyarrow.Table
        One row per experiment: ``experiment``, ``variations`` (list, control first) and
        optionally ``weights`` (list, same order).
    exposures : pyarrow.Table
        ``experiment``, ``variation``, ``user_id``, ``ts`` (UTC) and optionally ``context`` (JSON).

    Returns
    -------
    list of ExposureReport
        One per definition, in the order given.
    """
    for name in ("experiment", "variations"):
        if name not in definitions.column_names:
            raise ConfigError(f"experiment definitions need a {name!r} column; got {definitions.column_names}")
    if "experiment" not in exposures.column_names:
        raise ConfigError(f"exposures need an 'experiment' column; got {exposures.column_names}")
    unknown = set(pc.unique(exposures["experiment"]).to_pylist()) - set(definitions["experiment"].to_pylist())
    if unknown:
        raise ConfigError(f"exposures name experiment(s) {sorted(map(str, unknown))} that have no definition")
    reports = []
    with open_store(settings) as store:
        for row in definitions.to_pylist():
            weights = row.get("weights")
            exp = Experiment(
                str(row["experiment"]), tuple(row["variations"]), None if weights is None else tuple(weights)
            )
            rows = exposures.filter(pc.equal(exposures["experiment"], exp.key)).drop_columns(["experiment"])
            reports.append(record_exposure_rows(store, exp, rows))
    log.info("recorded exposures of %d experiment(s)", len(reports))
    return reports
