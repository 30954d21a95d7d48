"""What the reorder modules share: the error, input checks and the names of the pair table.

Internal to :mod:`growthkit.models.reorder`. Every message says what is wrong and what to do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from growthkit.errors import GrowthkitError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

USER, ITEM = "user_id", "item_id"
"""The two index levels of every pair table (the shop's own ids)."""


class ReorderError(GrowthkitError, ValueError):
    """The data or the request given to a reorder model cannot be used as it is."""


def check_pairs(x: Any, what: str = "the pair table") -> pd.DataFrame:
    """``x`` as a DataFrame of finite numbers indexed by unique ``(user_id, item_id)`` pairs."""
    if not isinstance(x, pd.DataFrame):
        raise ReorderError(
            f"{what} must be a pandas DataFrame indexed by (user_id, item_id) "
            f"(growthkit.models.reorder.build_pair_features), not {type(x).__name__}"
        )
    if not isinstance(x.index, pd.MultiIndex) or list(x.index.names) != [USER, ITEM]:
        raise ReorderError(
            f"{what} must have the index levels ['user_id', 'item_id'], not {list(x.index.names)}; "
            "use build_pair_features(...).x or set_index(['user_id', 'item_id'])"
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ReorderError(f"{what} is empty ({x.shape[0]} rows, {x.shape[1]} columns): there are no candidate pairs")
    if not x.index.is_unique:
        dup = x.index[x.index.duplicated()][:3].tolist()
        raise ReorderError(f"{what} has duplicate (user_id, item_id) pairs (e.g. {dup}); one row per pair is expected")
    bad = [c for c in x.columns if not (pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c]))]
    if bad:
        raise ReorderError(f"{what} has non-numeric columns {bad[:5]}; encode them as numbers or drop them")
    if not np.isfinite(x.to_numpy(dtype=np.float64, copy=False)).all():
        raise ReorderError(f"{what} has NaN or infinite values; build_pair_features fills every column")
    return x


def check_pair_labels(y: Any, index: pd.Index) -> I64:
    """``y`` as 0/1 integers aligned with the pair ``index`` (a Series is aligned on its index)."""
    if isinstance(y, pd.Series):
        missing = index.difference(y.index)
        if len(missing):
            raise ReorderError(f"y has no label for {len(missing)} pairs (e.g. {missing[:3].tolist()})")
        arr = y.reindex(index).to_numpy()
    else:
        arr = np.asarray(y)
        if arr.ndim != 1 or arr.shape[0] != len(index):
            raise ReorderError(f"y has shape {arr.shape}; expected one label per pair ({len(index)})")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ReorderError(f"y must hold 0/1 labels, not {arr.dtype} values")
    num = arr.astype(np.float64)
    if not np.isin(num, (0.0, 1.0)).all():
        raise ReorderError("y must hold only 0 and 1 (1 = the item is in the user's target order)")
    return num.astype(np.int64)


def user_codes(index: pd.MultiIndex) -> tuple[I64, pd.Index]:
    """Per pair, the number of its user (0..n_users-1, in order of first appearance), and the users."""
    codes, uniques = pd.factorize(index.get_level_values(USER))
    return np.asarray(codes, dtype=np.int64), pd.Index(uniques, name=USER)
