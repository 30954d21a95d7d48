"""Array helpers and the status codes that every result carries.

Every function of the engine broadcasts over numpy arrays: a field given as an array of
shape ``S`` yields result fields of shape ``S`` (0-d arrays for scalar input; use ``float()``).
Degenerate comparisons never raise and never return an unexplained NaN: their ``status`` is
one of the codes below and their numbers are the documented defaults.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from growthkit.experiments.stats.errors import StatsInputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
StatusArray = npt.NDArray[np.str_]
Difference = Literal["relative", "absolute"]
Alternative = Literal["two-sided", "greater", "less"]

OK = "ok"
INVALID_INPUT = "invalid_input"
TOO_FEW_UNITS = "too_few_units"
BASELINE_ZERO = "baseline_zero"
ZERO_VARIANCE = "zero_variance"

MESSAGES: dict[str, str] = {
    OK: "",
    INVALID_INPUT: (
        "a sufficient statistic is negative, not finite or inconsistent (e.g. sum_squares < sum**2/n, "
        "or more conversions than units); check the query that aggregated it"
    ),
    TOO_FEW_UNITS: "an arm has fewer than 2 units, so no variance can be estimated; wait for more data",
    BASELINE_ZERO: (
        "the control mean is 0, so a relative effect is undefined; wait for data or use difference='absolute'"
    ),
    ZERO_VARIANCE: (
        "an arm has zero variance (every unit has the same value), so no standard error can be "
        "estimated; wait for more data or check the metric definition"
    ),
}


def farr(x: npt.ArrayLike) -> FloatArray:
    """``x`` as a float64 array (no copy when it already is one)."""
    return np.asarray(x, dtype=np.float64)


def select_status(shape: tuple[int, ...], conditions: list[tuple[npt.ArrayLike, str]]) -> StatusArray:
    """Status code per element: the first condition that holds wins, ``"ok"`` otherwise."""
    conds = [np.broadcast_to(np.asarray(c, dtype=bool), shape) for c, _ in conditions]
    out: StatusArray = np.select(conds, [np.str_(code) for _, code in conditions], default=np.str_(OK))
    return out.astype("<U16")


def messages_for(status: StatusArray) -> StatusArray:
    """Human-readable message per status code ("" for ``ok``)."""
    codes, inverse = np.unique(status, return_inverse=True)
    table = np.array([MESSAGES.get(str(c), str(c)) for c in codes], dtype=str)
    out: StatusArray = table[inverse].reshape(np.shape(status))
    return out


def check_difference(difference: str) -> bool:
    """``True`` for relative, ``False`` for absolute; anything else is a :class:`StatsInputError`."""
    if difference == "relative":
        return True
    if difference == "absolute":
        return False
    raise StatsInputError(f"difference must be 'relative' or 'absolute', got {difference!r}")


def check_alpha(alpha: float) -> float:
    """Validate a significance level in (0, 1)."""
    if not (isinstance(alpha, int | float) and 0.0 < float(alpha) < 1.0):
        raise StatsInputError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


def check_alternative(alternative: str) -> Alternative:
    """Validate the alternative hypothesis name."""
    if alternative == "two-sided":
        return "two-sided"
    if alternative == "greater":
        return "greater"
    if alternative == "less":
        return "less"
    raise StatsInputError(f"alternative must be 'two-sided', 'greater' or 'less', got {alternative!r}")


def safe_div(num: npt.ArrayLike, den: npt.ArrayLike, default: float = 0.0) -> FloatArray:
    """``num / den`` where ``den != 0``, ``default`` elsewhere (no warnings)."""
    n, d = np.broadcast_arrays(farr(num), farr(den))
    out = np.full(n.shape, default, dtype=np.float64)
    np.divide(n, d, out=out, where=d != 0)
    return out
