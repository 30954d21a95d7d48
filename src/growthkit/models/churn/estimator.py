"""Churn and purchase propensity: gradient boosting (or logistic regression) with calibrated probabilities.

Assumptions
-----------
* One row per user, the point-in-time features of :func:`growthkit.features.build_user_features`
  (index ``user_id``, finite numbers); the label is what happened in the horizon after the cutoff
  (:func:`growthkit.models.churn.make_labels` of :func:`growthkit.features.horizon_labels`). Users
  are independent given their features.
* The relation between features and outcome at the scoring cutoff is the one learned at the
  training cutoff (stationarity over one horizon). The evaluation trains at ``cutoff - H`` and
  tests at ``cutoff`` to measure exactly this.
* Classes are not re-weighted: the model estimates the probability itself, which calibration
  then corrects on a held-out fold (:mod:`growthkit.models.churn.calibration`).

Models
------
``lightgbm``: gradient-boosted trees (Ke et al. 2017), binary log-loss, with row and column
subsampling; its explanations are exact TreeSHAP contributions (Lundberg et al. 2020,
``pred_contrib=True``). ``logistic``: L2-regularised logistic regression on standardised
features; its contributions are ``coef_j * z_j`` (the exact SHAP values of a linear model with
independent features).

References
----------
Ke, G. et al. (2017). LightGBM: a highly efficient gradient boosting decision tree. NeurIPS 30.

Lundberg, S. M. et al. (2020). From local explanations to global understanding with explainable AI
for trees. Nature Machine Intelligence 2, 56-67.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

from growthkit.models.churn._validate import (
    F64,
    I64,
    TARGETS,
    ChurnError,
    check_choice,
    check_columns,
    check_fitted,
    check_frame,
    check_labels,
)
from growthkit.models.churn.calibration import (
    CALIBRATIONS,
    Calibrator,
    calibration_split,
    describe_calibrator,
    fit_calibrator,
    resolve_method,
)
from growthkit.models.churn.explain import explain_contributions

log = logging.getLogger(__name__)

MODELS: tuple[str, ...] = ("lightgbm", "logistic")
MIN_CALIBRATION_CLASS = 5
"""Fewer positives (or negatives) than this in the calibration fold: an explicit calibration is an error."""
AUTO_MIN_CALIBRATION_CLASS = 50
"""Fewer positives (or negatives) than this in the calibration fold: ``auto`` does not calibrate (too few
to estimate even Platt's two parameters reliably) and trains on every row instead."""


def lightgbm() -> Any:
    """The ``lightgbm`` module, or an ImportError that says how to install it."""
    try:
        import lightgbm as lgb
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "ChurnModel(model='lightgbm') needs LightGBM; install the extra: pip install 'growthkit[models]' "
            "(or use model='logistic')"
        ) from exc
    return lgb


class ChurnModel:
    """Probability that a user churns (or buys) in the horizon after the cutoff, with reasons.

    Parameters
    ----------
    target : {"churn", "purchase"}
        What ``y = 1`` means: churned (none of ``label_events`` in the horizon) or purchased
        (at least one). Used by :func:`~growthkit.models.churn.make_labels` and in reports.
    horizon_days : int
        Length of the label horizon in days (recorded with the scores).
    label_events : tuple of str or None
        Event types that count as "still a customer"; None: any own action.
    model : {"lightgbm", "logistic"}
        Gradient-boosted trees, or the standardised logistic-regression baseline.
    calibration : {"auto", "isotonic", "sigmoid", None}
        Calibration of the probabilities on a held-out stratified fold of the training users
        (``calibration_fraction``); ``auto``: isotonic from 1,000 users and 100 of each class in
        the fold, sigmoid (Platt) from 50 of each class, else none; None: the model's own
        probabilities, trained on all rows.
    calibration_fraction : float
        Share of the training users held out for calibration.
    n_estimators, learning_rate, num_leaves, min_child_samples, subsample, colsample_bytree, reg_lambda
        LightGBM's boosting rounds, shrinkage, leaves per tree, minimum users per leaf, row and
        column subsampling per tree, L2 penalty on leaf values.
    C : float
        Inverse L2 strength of the logistic model.
    random_state : int
        Seed of the calibration split and of LightGBM (results are deterministic for a seed and
        a thread count).
    n_jobs : int or None
        Threads for LightGBM (None: all cores).

    Attributes
    ----------
    feature_names_in_ : list of str
    n_features_in_ : int
    typical_ : Series
        Median of every feature over the training users (the "typical" of the explanations).
    base_rate_ : float
        Share of positive labels in the training data.
    expected_margin_ : float
        Mean log-odds margin of the training users (baseline of the contributions).
    calibration_method_ : str or None
        The calibration used (``auto`` resolved).
    calibrator_ : object or None
    booster_ : lightgbm.Booster (``model="lightgbm"``)
    scaler_mean_, scaler_scale_, clip_low_, clip_high_, coef_, intercept_ : (``model="logistic"``)
        Standardisation, the training range every feature is clipped to before scoring, and the
        coefficients on the standardised scale.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame({"recency_days": rng.uniform(0, 120, 2000), "frequency": rng.poisson(3, 2000)},
    ...                  index=pd.Index([f"u{i}" for i in range(2000)], name="user_id"))
    >>> y = (rng.random(2000) < np.where(x.recency_days > 60, 0.8, 0.2)).astype(int)
    >>> m = ChurnModel(n_estimators=50, n_jobs=1).fit(x, y)
    >>> p = m.predict_proba(x)[:, 1]
    >>> bool(p[x.recency_days.to_numpy() > 60].mean() > 0.6)
    True
    >>> m.explain(x.iloc[:1], top=1)["feature"].tolist()
    ['recency_days']
    """

    def __init__(
        self,
        *,
        target: str = "churn",
        horizon_days: int = 30,
        label_events: Sequence[str] | None = ("purchase",),
        model: str = "lightgbm",
        calibration: str | None = "auto",
        calibration_fraction: float = 0.2,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 40,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        C: float = 1.0,  # noqa: N803  (scikit-learn's name)
        random_state: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.target = target
        self.horizon_days = horizon_days
        self.label_events = label_events
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

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (scikit-learn's ``get_params``)."""
        names = (
            "target", "horizon_days", "label_events", "model", "calibration", "calibration_fraction",
            "n_estimators", "learning_rate", "num_leaves", "min_child_samples", "subsample", "colsample_bytree",
            "reg_lambda", "C", "random_state", "n_jobs",
        )  # fmt: skip
        return {k: getattr(self, k) for k in names}

    def set_params(self, **params: Any) -> Self:
        """Set constructor arguments (scikit-learn's ``set_params``)."""
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise ChurnError(f"unknown parameter {k!r} for ChurnModel; valid: {', '.join(valid)}")
            setattr(self, k, v)
        return self

    def _check_params(self) -> None:
        check_choice("target", self.target, TARGETS)
        check_choice("model", self.model, MODELS)
        check_choice("calibration", self.calibration, CALIBRATIONS)
        if not 0.05 <= self.calibration_fraction <= 0.5:
            raise ChurnError(f"calibration_fraction must be in [0.05, 0.5], not {self.calibration_fraction}")
        ints = {"n_estimators": 1, "num_leaves": 2, "min_child_samples": 1, "horizon_days": 1}
        for name, low in ints.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ChurnError(f"{name} must be an integer >= {low}, not {v!r}")
        positive = {"learning_rate": self.learning_rate, "C": self.C, "reg_lambda": self.reg_lambda + 1e-300}
        for name, val in positive.items():
            if not (isinstance(val, int | float) and val > 0 and math.isfinite(val)):
                raise ChurnError(f"{name} must be a positive number, not {val!r}")
        for name in ("subsample", "colsample_bytree"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and 0 < v <= 1):
                raise ChurnError(f"{name} must be in (0, 1], not {v!r}")

    # ------------------------------------------------------------------ fitting
    def fit(self, x: pd.DataFrame, y: Any) -> Self:
        """Fit on features ``x`` (index ``user_id``) and 0/1 labels ``y``; returns self.

        Raises
        ------
        ChurnError
            Bad parameters, non-numeric or non-finite features, labels that are not 0/1, a single
            class, or labels that do not cover the users of ``x``.
        """
        self._check_params()
        x = check_frame(x)
        labels = check_labels(y, x.index)
        values = x.to_numpy(dtype=np.float64)
        rng = np.random.default_rng(self.random_state)
        fit_idx, cal_idx = np.arange(values.shape[0]), np.empty(0, dtype=np.int64)
        method = self.calibration
        if method is not None:
            fit_idx, cal_idx = calibration_split(labels, self.calibration_fraction, rng)
            cal_pos = int(labels[cal_idx].sum())
            minority = min(cal_pos, cal_idx.shape[0] - cal_pos)
            too_small = minority < (AUTO_MIN_CALIBRATION_CLASS if method == "auto" else MIN_CALIBRATION_CLASS)
            if too_small and method == "auto":
                log.info(
                    "calibration 'auto': %d users of the rarer class in the fold, too few; not calibrating", minority
                )
                fit_idx, cal_idx, method = np.arange(values.shape[0]), np.empty(0, dtype=np.int64), None
            elif too_small:
                raise ChurnError(
                    f"the calibration fold has {cal_pos} positive and {cal_idx.shape[0] - cal_pos} negative users; "
                    f"{self.calibration} calibration needs at least {MIN_CALIBRATION_CLASS} of each "
                    "(use more data, calibration='auto' or calibration=None)"
                )
            else:
                method = resolve_method(method, labels[cal_idx])
        if min(int(labels[fit_idx].sum()), fit_idx.shape[0] - int(labels[fit_idx].sum())) < 1:
            raise ChurnError("the training fold has a single class; use more data or calibration=None")
        for attr in ("booster_", "coef_", "scaler_mean_", "scaler_scale_", "intercept_", "clip_low_", "clip_high_"):
            if hasattr(self, attr):
                delattr(self, attr)
        self.feature_names_in_ = [str(c) for c in x.columns]
        self.n_features_in_ = len(self.feature_names_in_)
        if self.model == "lightgbm":
            self._fit_lightgbm(values[fit_idx], labels[fit_idx])
        else:
            self._fit_logistic(values[fit_idx], labels[fit_idx])
        self.calibration_method_ = method
        self.calibrator_: Calibrator | None = None
        if method is not None:
            self.calibrator_ = fit_calibrator(method, self._margin(values[cal_idx]), labels[cal_idx])
        self.typical_ = x.median().astype(np.float64)
        self.base_rate_ = float(labels.mean())
        self.expected_margin_ = float(self._margin(values[fit_idx]).mean())
        self.n_train_ = int(fit_idx.shape[0])
        self.n_calibration_ = int(cal_idx.shape[0])
        log.info(
            "fitted %s %s model on %d users (%d held out, calibration %s)",
            self.model, self.target, self.n_train_, self.n_calibration_, describe_calibrator(self.calibrator_),
        )  # fmt: skip
        return self

    def _lgb_params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves),
            "min_data_in_leaf": int(self.min_child_samples),
            "feature_fraction": float(self.colsample_bytree),
            "bagging_fraction": float(self.subsample),
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "lambda_l2": float(self.reg_lambda),
            "seed": int(self.random_state),
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": int(self.n_jobs or 0),
            "verbose": -1,
        }

    def _fit_lightgbm(self, values: F64, labels: I64) -> None:
        lgb = lightgbm()
        names = [f"f{j}" for j in range(values.shape[1])]  # LightGBM rejects some characters in names
        data = lgb.Dataset(values, label=labels, feature_name=names, free_raw_data=True)
        self.booster_ = lgb.train(self._lgb_params(), data, num_boost_round=int(self.n_estimators))

    def _fit_logistic(self, values: F64, labels: I64) -> None:
        from sklearn.linear_model import LogisticRegression

        mean = values.mean(axis=0)
        scale = values.std(axis=0)
        # (almost) constant columns get z = 0 everywhere: scoring clips to the training range
        scale = np.where(scale > 1e-9 * np.maximum(1.0, np.abs(mean)), scale, 1.0)
        lr = LogisticRegression(C=float(self.C), max_iter=1000)
        lr.fit((values - mean) / scale, labels)
        self.scaler_mean_, self.scaler_scale_ = mean, scale
        self.clip_low_, self.clip_high_ = values.min(axis=0), values.max(axis=0)
        self.coef_ = np.asarray(lr.coef_[0], dtype=np.float64)
        self.intercept_ = float(lr.intercept_[0])

    # ------------------------------------------------------------------ prediction
    def _values(self, x: pd.DataFrame) -> F64:
        check_fitted(self, "feature_names_in_")
        x = check_columns(check_frame(x), self.feature_names_in_)
        return x.to_numpy(dtype=np.float64)

    def _margin(self, values: F64) -> F64:
        if self.model == "lightgbm":
            return np.asarray(self.booster_.predict(values, raw_score=True), dtype=np.float64)
        return self._z(values) @ self.coef_ + self.intercept_

    def _z(self, values: F64) -> F64:
        """Standardised values of the logistic model, clipped to the training range first (no extrapolation:
        a feature that shifts with time, such as tenure, cannot push a score beyond what training saw)."""
        clipped = np.clip(values, self.clip_low_, self.clip_high_)
        return np.asarray((clipped - self.scaler_mean_) / self.scaler_scale_, dtype=np.float64)

    def decision_function(self, x: pd.DataFrame) -> F64:
        """The uncalibrated log-odds margin of every user (higher: more likely the target)."""
        return self._margin(self._values(x))

    def _proba(self, margin: F64) -> F64:
        if self.calibrator_ is not None:
            return self.calibrator_.predict(margin)
        return np.asarray(1.0 / (1.0 + np.exp(-margin)), dtype=np.float64)

    def predict_proba(self, x: pd.DataFrame) -> F64:
        """Calibrated probabilities, shape ``(n, 2)``: column 1 is P(target), e.g. P(churn)."""
        p = self._proba(self.decision_function(x))
        return np.column_stack([1.0 - p, p])

    def predict(self, x: pd.DataFrame, threshold: float = 0.5) -> I64:
        """1 where P(target) >= ``threshold``."""
        return (self.predict_proba(x)[:, 1] >= threshold).astype(np.int64)

    def predict_score(self, x: pd.DataFrame) -> pd.Series:
        """P(target) as a Series indexed like ``x`` (named after the target)."""
        p = self.predict_proba(x)[:, 1]
        return pd.Series(p, index=x.index, name=f"p_{self.target}")

    def contributions(self, x: pd.DataFrame) -> pd.DataFrame:
        """Each feature's contribution to each user's log-odds margin, plus the ``bias`` column.

        Rows add up to :meth:`decision_function`. LightGBM: TreeSHAP values; logistic:
        ``coef_j * (x_j - mean_j) / scale_j`` with the intercept as the bias.
        """
        values = self._values(x)
        if self.model == "lightgbm":
            raw = np.asarray(self.booster_.predict(values, pred_contrib=True), dtype=np.float64)
        else:
            z = self._z(values)
            raw = np.column_stack([z * self.coef_, np.full(values.shape[0], self.intercept_)])
        return pd.DataFrame(raw, index=x.index, columns=[*self.feature_names_in_, "bias"])

    def explain(self, x: pd.DataFrame, top: int = 3, lang: str = "en") -> pd.DataFrame:
        """The top ``top`` reasons behind every user's score, as sentences in ``lang`` (``en`` or ``zh``).

        Returns one row per (user, rank): ``user_id, rank, feature, value, typical,
        contribution, text`` (see :func:`growthkit.models.churn.explain_contributions`). The
        reasons explain the uncalibrated margin; calibration is monotone, so they point the
        same way.
        """
        contrib = self.contributions(x)
        feats = check_columns(x, self.feature_names_in_)
        matrix = contrib.drop(columns="bias").to_numpy()
        return explain_contributions(feats, matrix, self.expected_margin_, self.typical_, top=top, lang=lang)

    def feature_importance(self) -> pd.Series:
        """Mean |contribution| is not stored; this is LightGBM's total gain (or |coef| for logistic), sorted."""
        check_fitted(self, "feature_names_in_")
        if self.model == "lightgbm":
            gain = self.booster_.feature_importance(importance_type="gain")
        else:
            gain = np.abs(self.coef_)
        s = pd.Series(np.asarray(gain, dtype=np.float64), index=self.feature_names_in_, name="importance")
        return s.sort_values(ascending=False)

    def describe_calibration(self) -> str:
        """``isotonic, k thresholds``, ``sigmoid a=…, b=…`` or ``none``."""
        check_fitted(self, "feature_names_in_")
        return describe_calibrator(self.calibrator_)

    def __repr__(self) -> str:
        return f"ChurnModel(target={self.target!r}, model={self.model!r}, calibration={self.calibration!r})"


def check_model_name(model: str) -> None:
    """A :class:`ChurnError` unless ``model`` is one of :data:`MODELS`."""
    if model not in MODELS:
        raise ChurnError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
