"""Multiple-testing corrections across variations and metrics.

* **Holm-Bonferroni** (Holm 1979), controls the family-wise error rate: with the ``m`` p-values
  sorted ascending, ``p_adj(i) = max_{j <= i} min(1, (m - j + 1) p(j))``.
* **Benjamini-Hochberg** (1995), controls the false discovery rate:
  ``p_adj(i) = min_{j >= i} min(1, m p(j) / j)``.

Both match ``statsmodels.stats.multitest.multipletests`` (``"holm"``, ``"fdr_bh"``). Adjusted
intervals follow GrowthBook: the standard error is rescaled so that the interval at ``alpha``
excludes 0 exactly when the adjusted p-value is below ``alpha``::

    se_adj = |effect| / z_{1 - p_adj/2},   interval = effect ± z_{1 - alpha/2} se_adj

(an infinite interval when ``p_adj == 1`` or the effect is 0).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from growthkit.experiments.stats._arrays import FloatArray, check_alpha, farr, safe_div
from growthkit.experiments.stats.errors import StatsInputError

METHODS = ("holm", "bh")


def _prepare(p_values: npt.ArrayLike) -> FloatArray:
    p = farr(p_values)
    if p.ndim == 0:
        p = p[None]
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise StatsInputError("p-values must be finite numbers in [0, 1]")
    return p


def holm(p_values: npt.ArrayLike) -> FloatArray:
    """Holm-Bonferroni adjusted p-values along the last axis.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = _prepare(p_values)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1, kind="stable")
    ps = np.take_along_axis(p, order, axis=-1)
    factors = m - np.arange(m, dtype=np.float64)
    adj_sorted = np.minimum(1.0, np.maximum.accumulate(ps * factors, axis=-1))
    out = np.empty_like(p)
    np.put_along_axis(out, order, adj_sorted, axis=-1)
    return out


def benjamini_hochberg(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (q-values) along the last axis.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
    [0.02, 0.04, 0.04, 0.02]
    """
    p = _prepare(p_values)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1, kind="stable")
    ps = np.take_along_axis(p, order, axis=-1)
    scaled = ps * m / np.arange(1, m + 1, dtype=np.float64)
    adj_sorted = np.minimum(1.0, np.flip(np.minimum.accumulate(np.flip(scaled, axis=-1), axis=-1), axis=-1))
    out = np.empty_like(p)
    np.put_along_axis(out, order, adj_sorted, axis=-1)
    return out


def adjust_p_values(p_values: npt.ArrayLike, method: str = "holm") -> FloatArray:
    """Adjusted p-values along the last axis with ``method`` in ``{"holm", "bh"}``."""
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    raise StatsInputError(f"method must be one of {METHODS}, got {method!r}")


def adjusted_interval(
    effect: npt.ArrayLike, adjusted_p: npt.ArrayLike, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray]:
    """Two-sided interval consistent with an adjusted p-value (GrowthBook's construction).

    Examples
    --------
    >>> lo, hi = adjusted_interval(0.1, 0.05, alpha=0.05)
    >>> round(float(lo), 6), round(float(hi), 6)
    (0.0, 0.2)
    """
    alpha = check_alpha(alpha)
    e, p = np.broadcast_arrays(farr(effect), farr(adjusted_p))
    z_alpha = float(special.ndtri(1.0 - alpha / 2.0))
    with np.errstate(all="ignore"):
        z_p = special.ndtri(1.0 - p / 2.0)
        width = z_alpha * safe_div(np.abs(e), z_p, default=np.inf)
    width = np.where((p >= 1.0) | (e == 0) | ~np.isfinite(width), np.inf, width)
    return e - width, e + width
