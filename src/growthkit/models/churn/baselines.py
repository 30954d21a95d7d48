"""The baselines every churn or propensity score is compared with: a recency rule and the base rate.

* :class:`RecencyRule`: the oldest rule of thumb, "the longer since the last purchase, the more
  likely gone". The score is a one-feature logistic curve in ``log1p(recency_days)`` fitted on
  the training labels: strictly monotone, so it ranks users exactly by recency (its ROC-AUC is
  that of recency itself), and it is a probability, so its Brier score can be compared.
* :class:`BaseRate`: everyone gets the training share of positives; ROC-AUC 0.5, lift 1. A model
  that does not beat it on Brier score says nothing about individuals.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd

from growthkit.models.churn._validate import F64, ChurnError, check_fitted, check_frame, check_labels

RECENCY_COLUMN = "recency_days"


class RecencyRule:
    """P(target) as a logistic curve in ``log1p(column)`` (default ``recency_days``), fitted by maximum likelihood.

    Parameters
    ----------
    column : str
        The recency feature (``days_since_last_event`` for "no activity" churn).

    Examples
    --------
    >>> x = pd.DataFrame({"recency_days": [1.0, 5, 40, 90]}, index=["a", "b", "c", "d"])
    >>> rule = RecencyRule().fit(x, [0, 0, 1, 1])
    >>> bool(np.all(np.diff(rule.predict_proba(x)[:, 1]) > 0))
    True
    """

    def __init__(self, *, column: str = RECENCY_COLUMN) -> None:
        self.column = column

    def fit(self, x: pd.DataFrame, y: Any) -> Self:
        """Fit the two coefficients of the curve; returns self."""
        from sklearn.linear_model import LogisticRegression

        x = check_frame(x)
        if self.column not in x.columns:
            raise ChurnError(f"the recency rule needs the column {self.column!r}, which the feature table lacks")
        labels = check_labels(y, x.index, min_per_class=1)
        z = np.log1p(np.maximum(x[self.column].to_numpy(dtype=np.float64), 0.0))
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(z[:, None], labels)
        self.coef_ = float(lr.coef_[0, 0])
        self.intercept_ = float(lr.intercept_[0])
        return self

    def predict_proba(self, x: pd.DataFrame) -> F64:
        """Shape ``(n, 2)``; column 1 is P(target)."""
        check_fitted(self, "coef_")
        x = check_frame(x)
        if self.column not in x.columns:
            raise ChurnError(f"the recency rule needs the column {self.column!r}, which the feature table lacks")
        z = np.log1p(np.maximum(x[self.column].to_numpy(dtype=np.float64), 0.0))
        p = 1.0 / (1.0 + np.exp(-(self.coef_ * z + self.intercept_)))
        return np.column_stack([1.0 - p, p])


class BaseRate:
    """Everyone gets the share of positive labels seen in training.

    Examples
    --------
    >>> x = pd.DataFrame({"x": [0.0, 1, 2, 3]})
    >>> BaseRate().fit(x, [0, 0, 0, 1]).predict_proba(x)[:, 1].tolist()
    [0.25, 0.25, 0.25, 0.25]
    """

    def fit(self, x: pd.DataFrame, y: Any) -> Self:
        """Remember the positive rate; returns self."""
        x = check_frame(x)
        self.rate_ = float(check_labels(y, x.index, min_per_class=1).mean())
        return self

    def predict_proba(self, x: pd.DataFrame) -> F64:
        """Shape ``(n, 2)``; column 1 is the base rate."""
        check_fitted(self, "rate_")
        p = np.full(len(x), self.rate_)
        return np.column_stack([1.0 - p, p])
