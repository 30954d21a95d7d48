"""A churn or propensity model on held-out users, always next to its baselines in the same run.

:func:`evaluate_frames` fits the model and the baselines (logistic regression on standardised
features, the recency rule, the base rate) on one labelled feature table and scores all of
them on another; :class:`ChurnEvaluation` holds the metrics (ROC-AUC, PR-AUC, Brier, log loss,
calibration table and error, top-decile lift and capture) of every scorer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from growthkit.models.churn._validate import ChurnError, check_frame, check_labels
from growthkit.models.churn.baselines import BaseRate, RecencyRule
from growthkit.models.churn.estimator import ChurnModel
from growthkit.models.churn.metrics import ScoreMetrics, score_metrics

METRIC_COLUMNS: tuple[str, ...] = (
    "model", "n", "positives", "base_rate", "roc_auc", "pr_auc", "brier", "log_loss", "ece",
    "lift_top_decile", "capture_top_decile", "mean_score",
)  # fmt: skip


@dataclass(frozen=True)
class ChurnEvaluation:
    """Metrics of a model and its baselines on the same test users (one :class:`ScoreMetrics` per scorer).

    ``metrics`` lists the model first (calibrated), then the model without calibration (when it
    was calibrated), ``logistic``, ``recency``, ``base_rate`` and any extra scorers (an oracle).
    """

    target: str
    model: str
    horizon_days: int
    n_train: int
    n_test: int
    train_rate: float
    test_rate: float
    calibration: str
    metrics: tuple[ScoreMetrics, ...]
    fit_seconds: float
    seconds: float
    train_cutoff: datetime | None = None
    test_cutoff: datetime | None = None
    population: str = "all"
    label_events: tuple[str, ...] | None = ("purchase",)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def metric(self, name: str) -> ScoreMetrics:
        """The metrics of scorer ``name`` (e.g. ``lightgbm``, ``recency``)."""
        for m in self.metrics:
            if m.model == name:
                return m
        raise KeyError(f"no scorer {name!r}; have {', '.join(m.model for m in self.metrics)}")

    def to_frame(self) -> pd.DataFrame:
        """One row per scorer: n, positives, base rate, ROC-AUC, PR-AUC, Brier, log loss, ECE, lift, capture."""
        rows = [{k: getattr(m, k) for k in METRIC_COLUMNS} for m in self.metrics]
        return pd.DataFrame(rows, columns=list(METRIC_COLUMNS)).set_index("model")

    def calibration_frame(self) -> pd.DataFrame:
        """The calibration tables of every scorer: ``model, bin, count, mean_predicted, observed_rate``."""
        rows = [
            {"model": m.model, "bin": b.bin, "count": b.count, "mean_predicted": b.mean_predicted,
             "observed_rate": b.observed_rate}
            for m in self.metrics
            for b in m.calibration
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=["model", "bin", "count", "mean_predicted", "observed_rate"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: cutoffs as ISO strings, metrics as a list of dicts (NaN as None)."""
        out: dict[str, Any] = {
            "target": self.target,
            "model": self.model,
            "horizon_days": self.horizon_days,
            "label_events": list(self.label_events) if self.label_events is not None else None,
            "population": self.population,
            "train_cutoff": self.train_cutoff.isoformat() if self.train_cutoff else None,
            "test_cutoff": self.test_cutoff.isoformat() if self.test_cutoff else None,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "train_rate": _clean(self.train_rate),
            "test_rate": _clean(self.test_rate),
            "calibration": self.calibration,
            "fit_seconds": round(self.fit_seconds, 3),
            "seconds": round(self.seconds, 3),
            "metrics": [m.to_dict() for m in self.metrics],
            "notes": list(self.notes),
        }
        return out


def _clean(v: float) -> float | None:
    return None if math.isnan(v) else v


def recency_column(label_events: tuple[str, ...] | None) -> str:
    """``recency_days`` for purchase labels, ``days_since_last_event`` when any action counts."""
    return "recency_days" if label_events is None or "purchase" in label_events else "days_since_last_event"


def evaluate_frames(
    x_train: pd.DataFrame,
    y_train: Any,
    x_test: pd.DataFrame,
    y_test: Any,
    *,
    model: ChurnModel | None = None,
    extra_scores: Mapping[str, Any] | None = None,
    with_logistic: bool = True,
) -> ChurnEvaluation:
    """Fit ``model`` and the baselines on the training table, score everything on the test table.

    Parameters
    ----------
    x_train, y_train, x_test, y_test
        Feature tables (index ``user_id``) and 0/1 labels; the test table needs the training
        columns (extra columns are ignored).
    model : ChurnModel, optional
        The model to evaluate (default: ``ChurnModel()``); it is fitted here (a clone is not made).
    extra_scores : mapping, optional
        Further scorers already computed for the test users, e.g. ``{"oracle": p}`` (arrays
        in the order of ``x_test``, or Series indexed by user id).
    with_logistic : bool
        Also fit the logistic-regression baseline (skipped when ``model`` is itself logistic).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> def shop(n):
    ...     x = pd.DataFrame({"recency_days": rng.exponential(40, n), "frequency": rng.poisson(2, n)})
    ...     return x, (rng.random(n) < 1 / (1 + np.exp(-(x.recency_days - 40) / 10))).astype(int)
    >>> (xa, ya), (xb, yb) = shop(3000), shop(3000)
    >>> ev = evaluate_frames(xa, ya, xb, yb, model=ChurnModel(n_estimators=40, n_jobs=1))
    >>> list(ev.to_frame().index)
    ['lightgbm', 'lightgbm_uncalibrated', 'logistic', 'recency', 'base_rate']
    >>> bool(ev.metric("lightgbm").roc_auc > 0.8 > ev.metric("base_rate").roc_auc)
    True
    """
    t0 = time.perf_counter()
    est = model if model is not None else ChurnModel()
    x_train = check_frame(x_train, "x_train")
    x_test = check_frame(x_test, "x_test")
    ytr = check_labels(y_train, x_train.index)
    yte = _test_labels(y_test, x_test.index)
    label_events = tuple(est.label_events) if est.label_events is not None else None
    rec = recency_column(label_events)
    t1 = time.perf_counter()
    est.fit(x_train, ytr)
    fit_seconds = time.perf_counter() - t1
    scores: dict[str, np.ndarray] = {est.model: est.predict_proba(x_test)[:, 1]}
    if est.calibrator_ is not None:
        margin = est.decision_function(x_test)
        scores[f"{est.model}_uncalibrated"] = 1.0 / (1.0 + np.exp(-margin))
    if with_logistic and est.model != "logistic":
        params = est.get_params() | {"model": "logistic", "calibration": None}
        logit = ChurnModel(**params).fit(x_train, ytr)
        scores["logistic"] = logit.predict_proba(x_test)[:, 1]
    notes: list[str] = []
    if rec in x_train.columns and rec in x_test.columns:
        scores["recency"] = RecencyRule(column=rec).fit(x_train, ytr).predict_proba(x_test)[:, 1]
    else:
        notes.append(f"no recency baseline: the features lack {rec!r}")
    scores["base_rate"] = BaseRate().fit(x_train, ytr).predict_proba(x_test)[:, 1]
    for name, s in (extra_scores or {}).items():
        arr = s.reindex(x_test.index).to_numpy(dtype=np.float64) if isinstance(s, pd.Series) else np.asarray(s, float)
        if arr.shape != (len(x_test),) or not np.isfinite(arr).all():
            raise ChurnError(f"extra score {name!r} needs one finite value per test user")
        scores[name] = arr
    metrics = tuple(score_metrics(name, yte, s) for name, s in scores.items())
    return ChurnEvaluation(
        target=est.target,
        model=est.model,
        horizon_days=int(est.horizon_days),
        n_train=len(x_train),
        n_test=len(x_test),
        train_rate=float(ytr.mean()),
        test_rate=float(yte.mean()),
        calibration=est.describe_calibration(),
        metrics=metrics,
        fit_seconds=fit_seconds,
        seconds=time.perf_counter() - t0,
        label_events=label_events,
        notes=tuple(notes),
    )


def _test_labels(y: Any, index: pd.Index) -> np.ndarray:
    """Test labels may be a single class (metrics then say NaN where undefined); still 0/1 and aligned."""
    try:
        return check_labels(y, index, min_per_class=0)
    except ChurnError as exc:
        if "single class" not in str(exc):
            raise
    arr = y.reindex(index).to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
    return np.asarray(arr, dtype=np.int64)
