"""Probability calibration of a score on a held-out fold: Platt scaling and isotonic regression.

Both map the model's raw score (the log-odds margin) to a probability with a monotone
function fitted on users the model was *not* trained on, so the ranking is unchanged (isotonic
ties are broken by the raw score) and the probabilities mean what they say.

* ``sigmoid`` (Platt 1999): ``P = 1 / (1 + exp(-(a * margin + b)))``, two parameters fitted by
  maximum likelihood on Platt's smoothed targets ``(N+ + 1) / (N+ + 2)`` and ``1 / (N- + 2)``.
  Few parameters, so it needs little data; it can only fix a sigmoid-shaped distortion.
* ``isotonic`` (Zadrozny & Elkan 2002): the best non-decreasing step function (pool adjacent
  violators), linear between steps. Fixes any monotone distortion but over-fits a small fold.
* ``auto``: isotonic when the calibration fold has at least :data:`ISOTONIC_MIN_ROWS` users and
  :data:`ISOTONIC_MIN_CLASS` of each class, Platt otherwise; the comparison of Niculescu-Mizil &
  Caruana (2005) found isotonic better than Platt from about a thousand calibration cases on,
  and worse below.

References
----------
Platt, J. (1999). Probabilistic outputs for support vector machines and comparisons to regularized
likelihood methods. Advances in Large Margin Classifiers, 61-74.

Zadrozny, B. & Elkan, C. (2002). Transforming classifier scores into accurate multiclass probability
estimates. KDD 2002, 694-699.

Niculescu-Mizil, A. & Caruana, R. (2005). Predicting good probabilities with supervised learning. ICML 2005.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from growthkit.models.churn._validate import F64, I64, ChurnError

CALIBRATIONS: tuple[str | None, ...] = ("auto", "isotonic", "sigmoid", None)
ISOTONIC_MIN_ROWS = 1_000
ISOTONIC_MIN_CLASS = 100


def resolve_method(method: str | None, y_cal: I64) -> str | None:
    """The calibration actually used for a calibration fold with labels ``y_cal`` (``auto`` decided)."""
    if method != "auto":
        return method
    pos = int(y_cal.sum())
    small = y_cal.shape[0] < ISOTONIC_MIN_ROWS or min(pos, y_cal.shape[0] - pos) < ISOTONIC_MIN_CLASS
    return "sigmoid" if small else "isotonic"


class PlattScaling:
    """``P = expit(a * margin + b)`` fitted by maximum likelihood on Platt's smoothed targets.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> m = rng.normal(size=5000)
    >>> y = (rng.random(5000) < 1 / (1 + np.exp(-(2 * m - 1)))).astype(int)
    >>> cal = PlattScaling().fit(m, y)
    >>> round(cal.a_, 1), round(cal.b_, 1)
    (2.0, -1.0)
    """

    def fit(self, margin: F64, y: I64) -> Self:
        """Fit ``a`` and ``b``; returns self."""
        pos = float(y.sum())
        neg = float(y.shape[0]) - pos
        t = np.where(y == 1, (pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0))

        def nll(ab: F64) -> tuple[float, F64]:
            z = ab[0] * margin + ab[1]
            loss = -np.sum(t * log_expit(z) + (1.0 - t) * log_expit(-z))
            g = expit(z) - t
            return float(loss), np.array([np.sum(g * margin), np.sum(g)])

        res = minimize(nll, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
        self.a_, self.b_ = float(res.x[0]), float(res.x[1])
        return self

    def predict(self, margin: F64) -> F64:
        """Calibrated probabilities."""
        return np.asarray(expit(self.a_ * margin + self.b_), dtype=np.float64)


TIE_BREAK = 1e-6
"""Weight of the raw score's sigmoid blended into isotonic probabilities to break their ties."""


class IsotonicCalibration:
    """A non-decreasing map from the margin to a probability (scikit-learn's ``IsotonicRegression``).

    Scores outside the fitted range get the end values. The step function gives whole blocks of
    users the same probability, which would throw away the model's ranking inside a block (and
    lower ROC-AUC, PR-AUC and the top-decile lift); so the result is
    ``(1 - 1e-6) * isotonic + 1e-6 * expit(margin)``: at most 1e-6 away from the isotonic value,
    in [0, 1], and strictly increasing in the margin, so the ranking is the model's.
    """

    def fit(self, margin: F64, y: I64) -> Self:
        """Fit the step function; returns self."""
        from sklearn.isotonic import IsotonicRegression

        self.iso_ = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        self.iso_.fit(margin, y.astype(np.float64))
        return self

    def predict(self, margin: F64) -> F64:
        """Calibrated probabilities."""
        iso = np.clip(np.asarray(self.iso_.predict(margin), dtype=np.float64), 0.0, 1.0)
        return (1.0 - TIE_BREAK) * iso + TIE_BREAK * np.asarray(expit(margin), dtype=np.float64)


Calibrator = PlattScaling | IsotonicCalibration


def fit_calibrator(method: str, margin: F64, y: I64) -> Calibrator:
    """A fitted calibrator (``sigmoid`` or ``isotonic``) of ``margin`` against ``y``."""
    if int(y.sum()) in (0, y.shape[0]):
        raise ChurnError(
            "the calibration fold has a single class; use more data, a larger calibration_fraction or calibration=None"
        )
    if method == "sigmoid":
        return PlattScaling().fit(margin, y)
    if method == "isotonic":
        return IsotonicCalibration().fit(margin, y)
    raise ChurnError(f"unknown calibration {method!r}: use 'isotonic', 'sigmoid', 'auto' or None")


def calibration_split(y: I64, fraction: float, rng: np.random.Generator) -> tuple[I64, I64]:
    """Row indices ``(fit, calibrate)``: a stratified random ``fraction`` of each class held out."""
    fit_parts: list[I64] = []
    cal_parts: list[I64] = []
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        idx = idx[rng.permutation(idx.shape[0])]
        k = round(fraction * idx.shape[0])
        cal_parts.append(idx[:k])
        fit_parts.append(idx[k:])
    return np.sort(np.concatenate(fit_parts)), np.sort(np.concatenate(cal_parts))


def describe_calibrator(cal: Any) -> str:
    """A short description for reports (``sigmoid a=…, b=…`` or ``isotonic, k steps``)."""
    if isinstance(cal, PlattScaling):
        return f"sigmoid a={cal.a_:.3g}, b={cal.b_:.3g}"
    if isinstance(cal, IsotonicCalibration):
        return f"isotonic, {len(cal.iso_.X_thresholds_)} thresholds"
    return "none"
