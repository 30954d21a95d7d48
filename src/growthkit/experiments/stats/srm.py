"""Sample-ratio mismatch (SRM): did units land in the arms in the planned proportions?

Pearson's chi-square goodness of fit: with observed counts ``o_i`` (total ``N``) and expected
shares ``w_i`` (normalised to sum to 1), ``X^2 = sum_i (o_i - N w_i)^2 / (N w_i)`` on ``k - 1``
degrees of freedom. A p-value under the threshold (default 0.001, the usual convention and
GrowthBook's) means the assignment or the logging is broken and no effect estimate can be trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from growthkit.experiments.stats._arrays import BoolArray, FloatArray, farr, safe_div
from growthkit.experiments.stats.errors import StatsInputError

DEFAULT_SRM_THRESHOLD = 0.001


@dataclass(frozen=True, eq=False)
class SRMResult:
    """Result of the SRM check (arrays over any leading batch axes).

    Attributes
    ----------
    p_value : ndarray
        Chi-square p-value (1 when there are no units yet).
    chi2 : ndarray
        The statistic.
    df : int
        Number of arms minus one.
    srm_detected : ndarray of bool
        ``p_value < threshold``.
    threshold : float
        The threshold used.
    """

    p_value: FloatArray
    chi2: FloatArray
    df: int
    srm_detected: BoolArray
    threshold: float

    @property
    def warning(self) -> str:
        """A loud warning when any SRM was detected, "" otherwise."""
        if not np.any(self.srm_detected):
            return ""
        worst = float(np.min(self.p_value))
        return (
            f"SAMPLE RATIO MISMATCH: the split of units across variations differs from the expected weights "
            f"(p = {worst:.2g} < {self.threshold:g}). Assignment or tracking is broken; do not trust the results "
            "until the cause is found."
        )


def srm_test(
    counts: npt.ArrayLike, weights: npt.ArrayLike | None = None, *, threshold: float = DEFAULT_SRM_THRESHOLD
) -> SRMResult:
    """Chi-square SRM test of observed ``counts`` (last axis = arms) against expected ``weights``.

    Parameters
    ----------
    counts : array_like
        Units per arm, shape ``S + (k,)`` with ``k >= 2``.
    weights : array_like, optional
        Expected shares per arm (any positive scale); equal split by default.
    threshold : float
        p-value under which a mismatch is reported.

    Returns
    -------
    SRMResult

    Examples
    --------
    >>> r = srm_test([5000, 5300])
    >>> round(float(r.p_value), 5), bool(r.srm_detected)
    (0.00312, False)
    """
    o = farr(counts)
    if o.ndim == 0 or o.shape[-1] < 2:
        raise StatsInputError("counts needs at least two arms on its last axis")
    if np.any(~np.isfinite(o)) or np.any(o < 0):
        raise StatsInputError("counts must be finite and non-negative")
    k = o.shape[-1]
    w = np.full(k, 1.0 / k) if weights is None else farr(weights)
    if w.shape[-1:] != (k,) or np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise StatsInputError(f"weights must be {k} positive numbers, one per arm, got {weights!r}")
    w = w / w.sum(axis=-1, keepdims=True)
    total = o.sum(axis=-1, keepdims=True)
    expected = total * w
    chi2 = safe_div((o - expected) ** 2, expected).sum(axis=-1)
    p = np.where(total[..., 0] > 0, special.chdtrc(k - 1, chi2), 1.0)
    return SRMResult(p_value=p, chi2=chi2, df=k - 1, srm_detected=p < threshold, threshold=threshold)


def srm_p_value(counts: npt.ArrayLike, weights: npt.ArrayLike | None = None) -> FloatArray:
    """The SRM chi-square p-value alone (see :func:`srm_test`).

    Examples
    --------
    >>> round(float(srm_p_value([1000, 1000, 2000], [1, 1, 2])), 3)
    1.0
    """
    return srm_test(counts, weights).p_value
