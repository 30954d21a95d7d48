"""Estimator plumbing shared by the segmentation models: parameters, fitted checks, input checks."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

from growthkit.errors import ConfigError, NotFittedError, SchemaError


class Estimator:
    """The scikit-learn estimator plumbing (``get_params``/``set_params``, fitted checks, repr)."""

    _fitted_attr = "labels_"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, by name."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params: Any) -> Self:
        """Set constructor arguments (they take effect at the next ``fit``)."""
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise ConfigError(f"{type(self).__name__} has no parameter {k!r}; it has {', '.join(valid)}")
            setattr(self, k, v)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attr):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(...) first")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if k != "previous")
        return f"{type(self).__name__}({args})"


def check_frame(frame: Any, columns: Sequence[str], what: str) -> pd.DataFrame:
    """``frame`` as a DataFrame that has ``columns``, all numeric and finite (a SchemaError otherwise)."""
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"{what} needs a pandas DataFrame indexed by user id (growthkit.features.build_user_features), "
            f"not {type(frame).__name__}"
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what}: the feature table has no column {', '.join(map(repr, missing))}; build it with "
            "growthkit.features.build_user_features or choose other features"
        )
    for c in columns:
        values = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isfinite(values).all():
            raise SchemaError(f"{what}: column {c!r} has missing or infinite values; the feature table has none")
    if frame.index.has_duplicates:
        raise SchemaError(f"{what}: the index (user ids) has duplicates")
    return frame
