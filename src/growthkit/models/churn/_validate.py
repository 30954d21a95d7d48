"""Input checks shared by the churn estimators: a numeric, finite feature frame and binary labels.

Internal to :mod:`growthkit.models.churn`. Every message says what is wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from growthkit.errors import GrowthkitError, NotFittedError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

TARGETS: tuple[str, ...] = ("churn", "purchase")
"""``churn``: 1 = none of the label events in the horizon; ``purchase``: 1 = at least one."""


class ChurnError(GrowthkitError, ValueError):
    """The data given to a churn or propensity model cannot be used as it is."""


def check_frame(x: Any, what: str = "the feature table") -> pd.DataFrame:
    """``x`` as a DataFrame of finite numbers with a unique index (the shop's user ids)."""
    if not isinstance(x, pd.DataFrame):
        raise ChurnError(
            f"{what} must be a pandas DataFrame indexed by user_id (e.g. growthkit.features.build_user_features), "
            f"not {type(x).__name__}"
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ChurnError(f"{what} is empty ({x.shape[0]} rows, {x.shape[1]} columns): there is nothing to model")
    if not x.index.is_unique:
        dup = x.index[x.index.duplicated()][:3].tolist()
        raise ChurnError(f"{what} has duplicate index values (e.g. {dup}); one row per user is expected")
    bad = [c for c in x.columns if not (pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c]))]
    if bad:
        raise ChurnError(f"{what} has non-numeric columns {bad[:5]}; encode them as numbers or drop them")
    values = x.to_numpy(dtype=np.float64, copy=False)
    finite = np.isfinite(values)
    if not finite.all():
        cols = [str(x.columns[j]) for j in np.flatnonzero(~finite.all(axis=0))[:5]]
        rows = int((~finite.all(axis=1)).sum())
        raise ChurnError(
            f"{what} has NaN or infinite values in columns {cols} ({rows} rows); the feature table of "
            "growthkit.features has none, so fill them with each column's missing-value rule before fitting"
        )
    return x


def check_labels(y: Any, index: pd.Index, *, min_per_class: int = 2) -> I64:
    """``y`` as 0/1 integers aligned with ``index``; both classes present at least ``min_per_class`` times.

    A Series is aligned on its index (every user of ``x`` needs a label); anything else must
    have one value per row of ``x``, in the same order.
    """
    if isinstance(y, pd.DataFrame):
        raise ChurnError("y must be one column of labels (a Series or an array), not a DataFrame")
    if isinstance(y, pd.Series):
        missing = index.difference(y.index)
        if len(missing):
            raise ChurnError(
                f"y has no label for {len(missing)} users of the feature table (e.g. {missing[:3].tolist()})"
            )
        arr = y.reindex(index).to_numpy()
    else:
        arr = np.asarray(y)
        if arr.ndim != 1 or arr.shape[0] != len(index):
            raise ChurnError(f"y has shape {arr.shape}; expected one label per row of the feature table ({len(index)})")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ChurnError(f"y must hold 0/1 labels, not {arr.dtype} values")
    num = arr.astype(np.float64)
    if not np.isfinite(num).all() or not np.isin(num, (0.0, 1.0)).all():
        raise ChurnError("y must hold only 0 and 1 (1 = the target happened: churned, or purchased)")
    labels = num.astype(np.int64)
    pos = int(labels.sum())
    neg = labels.shape[0] - pos
    if pos == 0 or neg == 0:
        only = "1" if pos else "0"
        raise ChurnError(
            f"y has a single class (every label is {only}): a model needs users who did and who did not; "
            "choose another cutoff or horizon, or check the label events"
        )
    if min(pos, neg) < min_per_class:
        raise ChurnError(f"y has {pos} positive and {neg} negative labels; at least {min_per_class} of each are needed")
    return labels


def check_scores(y: Any, score: Any) -> tuple[I64, F64]:
    """Labels (0/1) and scores as aligned 1-d arrays for the metric functions."""
    yy = np.asarray(y)
    ss = np.asarray(score, dtype=np.float64)
    if yy.ndim != 1 or ss.ndim != 1 or yy.shape != ss.shape:
        raise ChurnError(f"labels {yy.shape} and scores {ss.shape} must be 1-d and of the same length")
    if yy.shape[0] == 0:
        raise ChurnError("no labels to score")
    num = yy.astype(np.float64)
    if not np.isin(num, (0.0, 1.0)).all():
        raise ChurnError("labels must be 0 or 1")
    if not np.isfinite(ss).all():
        raise ChurnError("scores must be finite")
    return num.astype(np.int64), ss


def check_columns(x: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``x`` restricted to ``columns`` in that order; missing columns are an error, extra ones ignored."""
    missing = [c for c in columns if c not in x.columns]
    if missing:
        raise ChurnError(
            f"the feature table lacks {len(missing)} columns the model was fitted on (e.g. {missing[:5]}); build the "
            "features with the same windows, categories and channels as for fitting"
        )
    return x if list(x.columns) == list(columns) else x.loc[:, list(columns)]


def check_fitted(est: Any, attr: str) -> None:
    """A :class:`~growthkit.errors.NotFittedError` unless ``est`` has the learned attribute ``attr``."""
    if not hasattr(est, attr):
        raise NotFittedError(f"this {type(est).__name__} is not fitted yet; call fit(x, y) first")


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> None:
    """A :class:`ChurnError` naming the allowed values unless ``value`` is one of them."""
    if value not in choices:
        raise ChurnError(f"{name} must be one of {', '.join(map(repr, choices))}, not {value!r}")
