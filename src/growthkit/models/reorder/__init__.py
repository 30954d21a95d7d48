"""Reorder prediction: which of the items a user bought before will be in the user's next order.

The Instacart Market Basket task (Kaggle 2017), for any shop with purchase events:

* :func:`build_pair_features` / :class:`PairTable`: the candidate (user, item) pairs of every
  user's target order (:data:`TARGETS`: the last order, the first order after a cutoff, or the
  next one), with point-in-time features computed in the store from the orders before the
  target only (:data:`FEATURES`), and the labels.
* :class:`ReorderModel`: LightGBM (or logistic regression) with probabilities calibrated on
  held-out users and a tuned global threshold; :meth:`ReorderModel.predict_baskets` chooses each
  user's basket by expected-F1 maximisation.
* :func:`evaluate_pairs` / :class:`ReorderEvaluation`: ROC-AUC, PR-AUC, Brier, per-order F1
  (global threshold, expected-F1, top-N), precision/recall at the basket size and the reorder
  ceiling, for the model and its baselines (logistic regression, "buy your usual" frequency,
  "reorder everything") in the same run.
* :mod:`~growthkit.models.reorder.f1`: the F1 functions themselves.

See ``docs/churn.md`` ("Reorder prediction").

Examples
--------
>>> import numpy as np
>>> from growthkit.models.reorder import expected_f1_choice
>>> expected_f1_choice(np.array([0.9, 0.6, 0.1]))[:2]
(2, False)
"""

from growthkit.models.reorder._base import ReorderError
from growthkit.models.reorder.estimator import ReorderModel
from growthkit.models.reorder.evaluate import ReorderEvaluation, ReorderMetrics, evaluate_pairs
from growthkit.models.reorder.f1 import (
    at_basket_size,
    best_threshold,
    expected_f1_choice,
    expected_f1_sets,
    order_f1,
    rank_in_user,
    top_k,
)
from growthkit.models.reorder.features import FEATURE_NAMES, FEATURES, PairTable, build_pair_features
from growthkit.models.reorder.orders import TARGETS, order_lines, target_orders

__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "TARGETS",
    "PairTable",
    "ReorderError",
    "ReorderEvaluation",
    "ReorderMetrics",
    "ReorderModel",
    "at_basket_size",
    "best_threshold",
    "build_pair_features",
    "evaluate_pairs",
    "expected_f1_choice",
    "expected_f1_sets",
    "order_f1",
    "order_lines",
    "rank_in_user",
    "target_orders",
    "top_k",
]
