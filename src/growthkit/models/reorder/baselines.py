"""The rules every reorder model is compared with, computed from the pair features alone.

* ``everything``: "the next order repeats everything bought before": every candidate is
  predicted (its score is a constant, so ROC-AUC 0.5 and PR-AUC the base rate).
* ``frequency``: the share of the user's orders that contained the item
  (``up_order_share``), ties broken by recency; as a basket, the top ``N`` with ``N`` = the
  user's mean basket size (rounded, at least 1): "buy your usual".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from growthkit.models.reorder._base import F64, I64, ReorderError

FREQUENCY_COLUMN = "up_order_share"
RECENCY_COLUMN = "up_orders_since_last"
BASKET_COLUMN = "u_mean_basket"


def _column(x: pd.DataFrame, name: str, rule: str) -> F64:
    if name not in x.columns:
        raise ReorderError(f"the {rule} baseline needs the column {name!r} of build_pair_features, which x lacks")
    return x[name].to_numpy(dtype=np.float64)


def frequency_score(x: pd.DataFrame) -> tuple[F64, F64]:
    """``(score, tiebreak)``: ``up_order_share`` and ``-up_orders_since_last`` (more recent first)."""
    return _column(x, FREQUENCY_COLUMN, "frequency"), -_column(x, RECENCY_COLUMN, "frequency")


def usual_basket_size(x: pd.DataFrame) -> F64:
    """Per pair: the user's mean basket size, rounded, at least 1 (the ``N`` of top-N)."""
    return np.maximum(np.round(_column(x, BASKET_COLUMN, "top-N")), 1.0)


def per_user(codes: I64, n_users: int, values: F64) -> I64:
    """One value per user (the first of its pairs) from a per-pair column that is constant per user."""
    out = np.zeros(n_users, dtype=np.int64)
    out[codes[::-1]] = values[::-1].astype(np.int64)  # the last write wins: each user's first pair
    return out
