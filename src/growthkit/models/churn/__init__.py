"""Churn and purchase propensity: who will stop buying (or buy) in the next H days, how sure, and why.

* :class:`ChurnModel`: gradient-boosted trees (LightGBM, the ``[models]`` extra) or logistic
  regression on the point-in-time feature table (:func:`growthkit.features.build_user_features`),
  with probabilities calibrated on a held-out fold (isotonic or Platt) and per-user reasons in
  English or Chinese (:meth:`ChurnModel.explain`).
* :func:`make_labels`: churned / purchased within the horizon, from
  :func:`growthkit.features.horizon_labels`.
* :func:`evaluate_frames` / :class:`ChurnEvaluation`: ROC-AUC, PR-AUC, Brier, calibration table and
  top-decile lift of the model next to its baselines (logistic regression, recency rule, base rate).
* :mod:`~growthkit.models.churn.metrics`: the metric functions themselves.

See ``docs/churn.md``.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from growthkit.models.churn import ChurnModel
>>> rng = np.random.default_rng(0)
>>> x = pd.DataFrame({"recency_days": rng.uniform(0, 120, 1000), "frequency": rng.poisson(3, 1000)},
...                  index=pd.Index([f"u{i}" for i in range(1000)], name="user_id"))
>>> y = (x.recency_days > 60).astype(int)
>>> model = ChurnModel(model="logistic").fit(x, y)
>>> model.explain(x.loc[["u0"]], top=1, lang="en")["feature"].tolist()
['recency_days']
"""

from growthkit.models.churn._validate import TARGETS, ChurnError
from growthkit.models.churn.baselines import BaseRate, RecencyRule
from growthkit.models.churn.calibration import CALIBRATIONS, IsotonicCalibration, PlattScaling
from growthkit.models.churn.estimator import MODELS, ChurnModel
from growthkit.models.churn.evaluate import ChurnEvaluation, evaluate_frames, recency_column
from growthkit.models.churn.explain import explain_contributions, first_reason, reasons_json
from growthkit.models.churn.labels import make_labels
from growthkit.models.churn.metrics import (
    CalibrationBin,
    ScoreMetrics,
    average_precision,
    brier_score,
    calibration_table,
    lift_and_capture,
    roc_auc,
    score_metrics,
)
from growthkit.models.churn.reasons import LANGS, sentence

__all__ = [
    "CALIBRATIONS",
    "LANGS",
    "MODELS",
    "TARGETS",
    "BaseRate",
    "CalibrationBin",
    "ChurnError",
    "ChurnEvaluation",
    "ChurnModel",
    "IsotonicCalibration",
    "PlattScaling",
    "RecencyRule",
    "ScoreMetrics",
    "average_precision",
    "brier_score",
    "calibration_table",
    "evaluate_frames",
    "explain_contributions",
    "first_reason",
    "lift_and_capture",
    "make_labels",
    "reasons_json",
    "recency_column",
    "roc_auc",
    "score_metrics",
    "sentence",
]
