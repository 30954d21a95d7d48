"""P(item in the user's next order) for every candidate pair: gradient boosting, calibrated on held-out users.

Assumptions
-----------
* One row per (user, item bought before), the point-in-time features of
  :func:`~growthkit.models.reorder.build_pair_features`; the label says whether the item is in the
  user's target order. Pairs of one user are *not* independent (one basket), so the calibration
  fold and the threshold fold hold out whole users, never single pairs.
* The relation learned on one target (each user's second-to-last order, or other users' last
  orders) holds for the next one.

Model
-----
The learner is :class:`growthkit.models.churn.ChurnModel` without its own calibration (LightGBM,
Ke et al. 2017, or standardised logistic regression), trained on the pairs of the users outside
the calibration fold. Its margin is calibrated on the fold (Platt 1999 or isotonic, Zadrozny &
Elkan 2002, with :func:`growthkit.models.churn.calibration.resolve_method`'s ``auto`` rule), and
the global threshold of the per-order F1 is tuned on the same fold
(:func:`~growthkit.models.reorder.f1.best_threshold`).

References
----------
Ke, G. et al. (2017). LightGBM: a highly efficient gradient boosting decision tree. NeurIPS 30.

Platt, J. (1999). Probabilistic outputs for support vector machines. Advances in Large Margin Classifiers.

Zadrozny, B. & Elkan, C. (2002). Transforming classifier scores into accurate multiclass probability
estimates. KDD 2002.
"""

from __future__ import annotations

import logging
from typing import Any, Self

import numpy as np
import pandas as pd

from growthkit.errors import GrowthkitError, NotFittedError
from growthkit.models.churn import CALIBRATIONS, MODELS, ChurnModel
from growthkit.models.churn.calibration import Calibrator, describe_calibrator, fit_calibrator, resolve_method
from growthkit.models.reorder._base import F64, I64, ReorderError, check_pair_labels, check_pairs, user_codes
from growthkit.models.reorder.f1 import best_threshold, expected_f1_sets, rank_in_user

log = logging.getLogger(__name__)

MIN_CALIBRATION_CLASS = 20
"""Fewer positive (or negative) pairs than this in the fold: ``auto`` trains on every user, uncalibrated."""

_LEARNER_PARAMS: tuple[str, ...] = (
    "model", "n_estimators", "learning_rate", "num_leaves", "min_child_samples", "subsample", "colsample_bytree",
    "reg_lambda", "C", "random_state", "n_jobs",
)  # fmt: skip


class ReorderModel:
    """Probability that a previously bought item is in the user's next order.

    Parameters
    ----------
    model : {"lightgbm", "logistic"}
        The learner (see :class:`growthkit.models.churn.ChurnModel`).
    calibration : {"auto", "isotonic", "sigmoid", None}
        Calibration of the margin on the pairs of a held-out ``calibration_fraction`` of the
        users (``auto``: isotonic from 1,000 pairs and 100 of each class, else sigmoid; none
        below :data:`MIN_CALIBRATION_CLASS` of a class). None: the learner's own probabilities,
        trained on every user, and the threshold tuned on the training pairs.
    calibration_fraction : float
        Share of the training users held out for calibration and the threshold.
    n_estimators, learning_rate, num_leaves, min_child_samples, subsample, colsample_bytree, reg_lambda, C
        Learner parameters (:class:`~growthkit.models.churn.ChurnModel`). The small trees (7 leaves,
        200 pairs per leaf) had the best held-out log loss of four settings on a simulated shop
        (20,000 users, seed 3; positives are rare there, 1.3 % of the pairs); they were not tuned
        on Instacart.
    random_state : int
        Seed of the user split and of LightGBM.
    n_jobs : int or None
        LightGBM threads (None: all cores).

    Attributes
    ----------
    learner_ : ChurnModel
    calibrator_ : object or None
    calibration_method_ : str or None
    threshold_ : float
        The global probability threshold with the best mean per-order F1 on the held-out users.
    threshold_f1_ : float
        That F1 on the held-out users.
    feature_names_in_ : list of str
    n_features_in_ : int
    base_rate_ : float
    n_train_users_, n_calibration_users_ : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> idx = pd.MultiIndex.from_product([[f"u{i}" for i in range(300)], ["a", "b", "c"]],
    ...                                  names=["user_id", "item_id"])
    >>> x = pd.DataFrame({"up_order_share": rng.uniform(size=900)}, index=idx)
    >>> y = (rng.uniform(size=900) < x.up_order_share).astype(int)
    >>> m = ReorderModel(model="logistic").fit(x, y)
    >>> bool(m.predict_proba(x)[:, 1][x.up_order_share.to_numpy() > 0.8].mean() > 0.7)
    True
    """

    def __init__(
        self,
        *,
        model: str = "lightgbm",
        calibration: str | None = "auto",
        calibration_fraction: float = 0.2,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 200,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        C: float = 1.0,  # noqa: N803  (scikit-learn's name)
        random_state: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.model = model
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.C = C
        self.random_state = random_state
        self.n_jobs = n_jobs

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (scikit-learn's ``get_params``)."""
        return {k: getattr(self, k) for k in ("calibration", "calibration_fraction", *_LEARNER_PARAMS)}

    def set_params(self, **params: Any) -> Self:
        """Set constructor arguments (scikit-learn's ``set_params``)."""
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise ReorderError(f"unknown parameter {k!r} for ReorderModel; valid: {', '.join(valid)}")
            setattr(self, k, v)
        return self

    def _learner(self) -> ChurnModel:
        params = {k: getattr(self, k) for k in _LEARNER_PARAMS}
        return ChurnModel(target="purchase", calibration=None, **params)

    def fit(self, x: pd.DataFrame, y: Any) -> Self:
        """Fit on pair features ``x`` (index ``(user_id, item_id)``) and 0/1 labels ``y``; returns self.

        Raises
        ------
        ReorderError
            Bad parameters, a frame that is not a pair table, labels that are not 0/1 or have a
            single class, or a calibration fold too small for an explicit calibration method.
        """
        if self.model not in MODELS:
            raise ReorderError(f"model must be one of {', '.join(MODELS)}, not {self.model!r}")
        if self.calibration not in CALIBRATIONS:
            raise ReorderError(f"calibration must be one of {CALIBRATIONS}, not {self.calibration!r}")
        if not 0.05 <= self.calibration_fraction <= 0.5:
            raise ReorderError(f"calibration_fraction must be in [0.05, 0.5], not {self.calibration_fraction}")
        x = check_pairs(x, "x")
        labels = check_pair_labels(y, x.index)
        pos = int(labels.sum())
        if pos == 0 or pos == labels.shape[0]:
            raise ReorderError(
                "y has a single class: a model needs pairs that were and were not reordered; check the target orders"
            )
        codes, users = user_codes(x.index)  # type: ignore[arg-type]
        fit_rows, cal_rows, method = self._split(codes, len(users), labels)
        learner = self._learner()
        try:
            learner.fit(x.iloc[fit_rows], labels[fit_rows])
        except GrowthkitError as exc:
            raise ReorderError(f"the {self.model} learner cannot be fitted: {exc}") from exc
        self.learner_ = learner
        self.calibration_method_ = method
        self.calibrator_: Calibrator | None = None
        held = cal_rows if method is not None else fit_rows
        if method is not None:
            self.calibrator_ = fit_calibrator(method, learner.decision_function(x.iloc[cal_rows]), labels[cal_rows])
        p_held = self._proba(learner.decision_function(x.iloc[held]))
        held_codes, held_users = user_codes(x.index[held])  # type: ignore[arg-type]
        self.threshold_, self.threshold_f1_ = best_threshold(held_codes, len(held_users), p_held, labels[held])
        self.feature_names_in_ = list(learner.feature_names_in_)
        self.n_features_in_ = len(self.feature_names_in_)
        self.base_rate_ = float(labels.mean())
        self.n_calibration_users_ = len(np.unique(codes[cal_rows]))
        self.n_train_users_ = len(users) - self.n_calibration_users_
        log.info(
            "fitted reorder %s on %d users (%d pairs), %d users held out (calibration %s, threshold %.2f)",
            self.model, self.n_train_users_, fit_rows.shape[0], self.n_calibration_users_,
            describe_calibrator(self.calibrator_), self.threshold_,
        )  # fmt: skip
        return self

    def _split(self, codes: I64, n_users: int, labels: I64) -> tuple[I64, I64, str | None]:
        """Pair rows ``(fit, calibration)`` by a random split of the users, and the calibration method."""
        every = np.arange(codes.shape[0])
        if self.calibration is None:
            return every, np.empty(0, dtype=np.int64), None
        rng = np.random.default_rng(self.random_state)
        held_users = rng.permutation(n_users)[: round(self.calibration_fraction * n_users)]
        held = np.isin(codes, held_users)
        cal_rows, fit_rows = np.flatnonzero(held), np.flatnonzero(~held)
        cal_pos = int(labels[cal_rows].sum())
        minority = min(cal_pos, cal_rows.shape[0] - cal_pos)
        fit_pos = int(labels[fit_rows].sum())
        if minority >= MIN_CALIBRATION_CLASS and 0 < fit_pos < fit_rows.shape[0]:
            return fit_rows, cal_rows, resolve_method(self.calibration, labels[cal_rows])
        if self.calibration == "auto":
            log.info("calibration 'auto': %d pairs of the rarer class in the fold, too few; not calibrating", minority)
            return every, np.empty(0, dtype=np.int64), None
        raise ReorderError(
            f"the calibration fold ({len(held_users)} users) has {cal_pos} positive and "
            f"{cal_rows.shape[0] - cal_pos} negative pairs; {self.calibration} calibration needs at least "
            f"{MIN_CALIBRATION_CLASS} of each (use more users, calibration='auto' or calibration=None)"
        )

    # ------------------------------------------------------------------ prediction
    def _check(self) -> None:
        if not hasattr(self, "learner_"):
            raise NotFittedError("this ReorderModel is not fitted yet; call fit(x, y) first")

    def _proba(self, margin: F64) -> F64:
        if self.calibrator_ is not None:
            return self.calibrator_.predict(margin)
        return np.asarray(1.0 / (1.0 + np.exp(-margin)), dtype=np.float64)

    def decision_function(self, x: pd.DataFrame) -> F64:
        """The uncalibrated log-odds margin of every pair."""
        self._check()
        return self.learner_.decision_function(check_pairs(x, "x"))

    def predict_proba(self, x: pd.DataFrame) -> F64:
        """Calibrated probabilities, shape ``(n, 2)``; column 1 is P(item in the next order)."""
        p = self._proba(self.decision_function(x))
        return np.column_stack([1.0 - p, p])

    def predict(self, x: pd.DataFrame, threshold: float | None = None) -> I64:
        """1 where P >= ``threshold`` (default: the tuned global :attr:`threshold_`)."""
        t = self.threshold_ if threshold is None else threshold
        return (self.predict_proba(x)[:, 1] >= t).astype(np.int64)

    def predict_baskets(self, x: pd.DataFrame) -> pd.DataFrame:
        """Per pair: ``probability``, ``rank`` in the user (1 = most likely) and ``selected``.

        ``selected`` marks the basket of per-user expected-F1 maximisation
        (:func:`~growthkit.models.reorder.f1.expected_f1_sets`); ``predict_none`` (per pair, the
        user's value) says whether "no reorder at all" is part of the best prediction.
        """
        p = self.predict_proba(x)[:, 1]
        codes, users = user_codes(x.index)  # type: ignore[arg-type]
        selected, none, _ = expected_f1_sets(codes, len(users), p)
        return pd.DataFrame(
            {"probability": p, "rank": rank_in_user(codes, p), "selected": selected, "predict_none": none[codes]},
            index=x.index,
        )

    def feature_importance(self) -> pd.Series:
        """LightGBM's total gain per feature (|coef| for logistic), sorted."""
        self._check()
        return self.learner_.feature_importance()

    def describe_calibration(self) -> str:
        """``isotonic, k thresholds``, ``sigmoid a=…, b=…`` or ``none``."""
        self._check()
        return describe_calibrator(self.calibrator_)

    def __repr__(self) -> str:
        return f"ReorderModel(model={self.model!r}, calibration={self.calibration!r})"
