"""Power analysis: sample size, minimum detectable effect (MDE) and duration.

Two-sided test at level ``alpha`` with power ``1 - beta``, equal allocation, on the same
effect scale the engine tests. With ``V(delta)`` the variance of the effect estimate times the
units per arm, and ``z = z_{1-alpha/2} + z_{1-beta}``::

    n_per_arm = z^2 V(delta) (1 - rho^2) / delta^2

* mean metric, absolute: ``V = 2 sd^2``;
* mean metric, relative (delta method, as the engine): ``V = sd^2 (1 + (1 + delta)^2) / mean^2``;
* proportion ``p0 -> p1``: ``V = p0 (1 - p0) + p1 (1 - p1)`` (absolute) or
  ``[p1 (1 - p1) + p0 (1 - p0) (p1/p0)^2] / p0^2`` (relative; ``p1 = p0 (1 + delta)``);
* ``rho`` is the correlation between the metric and its CUPED covariate: regression adjustment
  leaves ``1 - rho^2`` of the variance.

The MDE solves the same equation for ``delta`` (closed form for absolute means, bisection
otherwise). Duration is ``ceil(n_arms * n_per_arm / (daily_units * traffic_share))`` days.
Reference: e.g. Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 17;
Deng et al. (2013) for the CUPED factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from growthkit.experiments.stats._arrays import FloatArray, check_alpha, check_difference, farr, safe_div
from growthkit.experiments.stats.errors import StatsInputError

_ITER = 80


def _z(alpha: float, power: float) -> float:
    check_alpha(alpha)
    if not 0.0 < power < 1.0:
        raise StatsInputError(f"power must be strictly between 0 and 1, got {power!r}")
    return float(special.ndtri(1.0 - alpha / 2.0) + special.ndtri(power))


def _rho_factor(rho: npt.ArrayLike) -> FloatArray:
    r = farr(rho)
    if np.any(~np.isfinite(r)) or np.any(np.abs(r) >= 1):
        raise StatsInputError("the CUPED correlation rho must lie in (-1, 1)")
    out: FloatArray = 1.0 - r * r
    return out


def _unit_variance(kind: str, base: FloatArray, sd: FloatArray, delta: FloatArray, relative: bool) -> FloatArray:
    """``n_per_arm * Var(effect estimate)`` at effect ``delta`` (on the tested scale)."""
    if kind == "mean":
        if relative:
            return safe_div(sd**2 * (1.0 + (1.0 + delta) ** 2), base**2, default=np.inf)
        out: FloatArray = 2.0 * sd**2 + 0.0 * delta
        return out
    p1 = base * (1.0 + delta) if relative else base + delta
    v0, v1 = base * (1.0 - base), p1 * (1.0 - p1)
    if relative:
        return safe_div(v1 + v0 * safe_div(p1, base) ** 2, base**2, default=np.inf)
    out = v0 + v1
    return out


def _check_base(kind: str, base: FloatArray, sd: FloatArray) -> None:
    if kind == "proportion" and np.any((base <= 0) | (base >= 1)):
        raise StatsInputError("baseline conversion rate must lie strictly between 0 and 1")
    if kind == "mean" and (np.any(sd <= 0) or np.any(~np.isfinite(sd))):
        raise StatsInputError("sd must be a positive number")


def sample_size(
    *,
    metric: str,
    baseline: npt.ArrayLike,
    mde: npt.ArrayLike,
    sd: npt.ArrayLike = 1.0,
    difference: str = "relative",
    alpha: float = 0.05,
    power: float = 0.8,
    rho: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Units per arm needed to detect ``mde`` with the given power (rounded up).

    Parameters
    ----------
    metric : {"mean", "proportion"}
        Metric type.
    baseline : array_like
        Control mean (``mean``) or conversion rate (``proportion``).
    mde : array_like
        Effect to detect, relative (0.05 = +5 %) or absolute per ``difference``; its sign is ignored.
    sd : array_like
        Per-unit standard deviation (``mean`` metrics only).
    difference : {"relative", "absolute"}
        Scale of ``mde`` and of the test.
    alpha, power : float
        Two-sided significance level and target power.
    rho : array_like
        Correlation with the CUPED covariate (0 = no variance reduction).

    Returns
    -------
    ndarray
        Units per arm.

    Examples
    --------
    >>> int(sample_size(metric="proportion", baseline=0.10, mde=0.10))
    16232
    """
    kind = _kind(metric)
    relative = check_difference(difference)
    base, s, d = farr(baseline), farr(sd), np.abs(farr(mde))
    _check_base(kind, base, s)
    if np.any(d <= 0):
        raise StatsInputError("mde must be non-zero")
    z = _z(alpha, power)
    n = z * z * _unit_variance(kind, base, s, d, relative) * _rho_factor(rho) / d**2
    out: FloatArray = np.ceil(n)
    return out


def minimum_detectable_effect(
    *,
    metric: str,
    baseline: npt.ArrayLike,
    n_per_arm: npt.ArrayLike,
    sd: npt.ArrayLike = 1.0,
    difference: str = "relative",
    alpha: float = 0.05,
    power: float = 0.8,
    rho: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Smallest positive effect detectable with ``n_per_arm`` units per arm (inverse of :func:`sample_size`).

    Examples
    --------
    >>> round(float(minimum_detectable_effect(metric="mean", baseline=10, sd=5, n_per_arm=1000,
    ...                                        difference="absolute")), 4)
    0.6265
    """
    kind = _kind(metric)
    relative = check_difference(difference)
    base, s, n = farr(baseline), farr(sd), farr(n_per_arm)
    _check_base(kind, base, s)
    if np.any(n <= 0):
        raise StatsInputError("n_per_arm must be positive")
    z = _z(alpha, power)
    factor = _rho_factor(rho)
    if kind == "mean" and not relative:
        out: FloatArray = z * np.sqrt(2.0 * s**2 * factor / n)
        return out
    hi_start = (1.0 / base - 1.0) * (1.0 - 1e-9) if kind == "proportion" and relative else None
    if kind == "proportion" and not relative:
        hi_start = (1.0 - base) * (1.0 - 1e-9)
    shape = np.broadcast_shapes(base.shape, s.shape, n.shape, np.shape(factor))
    lo = np.full(shape, 1e-12)
    hi = np.broadcast_to(hi_start, shape).astype(np.float64) if hi_start is not None else np.full(shape, 1e6)
    for _ in range(_ITER):  # n_needed(delta) decreases in delta: bisection on a log scale
        mid = np.sqrt(lo * hi)
        needed = z * z * _unit_variance(kind, base, s, mid, relative) * factor / mid**2
        too_small = needed > n
        lo, hi = np.where(too_small, mid, lo), np.where(too_small, hi, mid)
    out = np.sqrt(lo * hi)
    return out


def duration_days(
    n_per_arm: npt.ArrayLike, daily_units: npt.ArrayLike, *, n_arms: int = 2, traffic_share: float = 1.0
) -> FloatArray:
    """Days to enrol ``n_per_arm`` units in each of ``n_arms`` arms (rounded up).

    Examples
    --------
    >>> int(duration_days(16_232, daily_units=2_000))
    17
    """
    daily = farr(daily_units)
    if np.any(daily <= 0) or not 0.0 < traffic_share <= 1.0 or n_arms < 2:
        raise StatsInputError("daily_units must be positive, traffic_share in (0, 1] and n_arms >= 2")
    out: FloatArray = np.ceil(n_arms * farr(n_per_arm) / (daily * traffic_share))
    return out


@dataclass(frozen=True, eq=False)
class PowerPlan:
    """Sample size and duration of a planned experiment."""

    n_per_arm: FloatArray
    n_total: FloatArray
    days: FloatArray


def plan_experiment(
    *,
    metric: str,
    baseline: npt.ArrayLike,
    mde: npt.ArrayLike,
    daily_units: npt.ArrayLike,
    sd: npt.ArrayLike = 1.0,
    difference: str = "relative",
    alpha: float = 0.05,
    power: float = 0.8,
    rho: npt.ArrayLike = 0.0,
    n_arms: int = 2,
    traffic_share: float = 1.0,
) -> PowerPlan:
    """Sample size per arm, in total, and days needed (see :func:`sample_size`, :func:`duration_days`).

    Examples
    --------
    >>> p = plan_experiment(metric="proportion", baseline=0.1, mde=0.1, daily_units=2000)
    >>> int(p.n_total), int(p.days)
    (32464, 17)
    """
    n = sample_size(
        metric=metric, baseline=baseline, mde=mde, sd=sd, difference=difference, alpha=alpha, power=power, rho=rho
    )
    days = duration_days(n, daily_units, n_arms=n_arms, traffic_share=traffic_share)
    return PowerPlan(n_per_arm=n, n_total=n * n_arms, days=days)


def _kind(metric: str) -> str:
    if metric not in ("mean", "proportion"):
        raise StatsInputError(f"metric must be 'mean' or 'proportion', got {metric!r}")
    return metric
