"""Sufficient statistics of one arm: the frozen inputs of the engine.

Each field accepts a number or a numpy array; arrays broadcast, so one object can hold a
whole batch of experiments (for example 100,000 metric/experiment pairs in one call).
Fields are stored as given; the properties compute per-unit means and variances.

Conventions follow GrowthBook's gbstats (``gbstats/models/statistics.py``):

* mean metrics use the sample variance ``(sum_squares - sum**2/n) / (n - 1)``;
* proportion (binomial) metrics use ``p (1 - p)``;
* ratio metrics use the delta-method variance of ``mean(m) / mean(d)`` per unit;
* the mean of an empty arm is 0 and the variance with ``n < 2`` is 0, which downstream code
  reports as a degenerate status instead of raising.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from growthkit.experiments.stats._arrays import BoolArray, FloatArray, farr, safe_div

_RTOL = 1e-9


def sample_variance(n: FloatArray, s: FloatArray, ss: FloatArray, *, population: bool = False) -> FloatArray:
    """Per-unit variance from ``n``, ``sum``, ``sum_squares`` (``n - 1`` denominator unless ``population``).

    0 where ``n < 2`` (``n < 1`` for the population form); never negative.
    """
    centred = ss - safe_div(s * s, n)
    den = n if population else n - 1.0
    minimum = 1.0 if population else 2.0
    var = np.where(n >= minimum, safe_div(centred, den), 0.0)
    return np.maximum(var, 0.0)


def sample_covariance(
    n: FloatArray, sa: FloatArray, sb: FloatArray, sab: FloatArray, *, population: bool = False
) -> FloatArray:
    """Per-unit covariance from sums and the sum of products (same denominators as :func:`sample_variance`)."""
    centred = sab - safe_div(sa * sb, n)
    den = n if population else n - 1.0
    minimum = 1.0 if population else 2.0
    return np.where(n >= minimum, safe_div(centred, den), 0.0)


def _bad_sum_squares(n: FloatArray, s: FloatArray, ss: FloatArray) -> BoolArray:
    lower = safe_div(s * s, n)
    out: BoolArray = ss < lower - _RTOL * np.maximum(np.abs(lower), 1.0)
    return out


def _not_finite(*xs: FloatArray) -> BoolArray:
    out: BoolArray = np.zeros(np.broadcast_shapes(*(np.shape(x) for x in xs)), dtype=bool)
    for x in xs:
        out = out | ~np.isfinite(x)
    return out


@dataclass(frozen=True)
class SampleMeanStats:
    """One arm of a mean (count, revenue, duration...) metric.

    Parameters
    ----------
    n : array_like
        Units (users) in the arm.
    sum : array_like
        Sum of the metric over units.
    sum_squares : array_like
        Sum of squared per-unit values.

    Examples
    --------
    >>> SampleMeanStats(n=3, sum=6.0, sum_squares=14.0).variance.item()
    1.0
    """

    n: npt.ArrayLike
    sum: npt.ArrayLike
    sum_squares: npt.ArrayLike

    @property
    def mean(self) -> FloatArray:
        """``sum / n`` (0 for an empty arm)."""
        return safe_div(self.sum, self.n)

    @property
    def variance(self) -> FloatArray:
        """Sample variance per unit (``n - 1`` denominator)."""
        return sample_variance(farr(self.n), farr(self.sum), farr(self.sum_squares))

    def invalid(self) -> BoolArray:
        """Elements whose statistics cannot come from real data."""
        n, s, ss = farr(self.n), farr(self.sum), farr(self.sum_squares)
        out: BoolArray = _not_finite(n, s, ss) | (n < 0) | _bad_sum_squares(n, s, ss)
        return out


@dataclass(frozen=True)
class ProportionStats:
    """One arm of a binomial metric (converted or not, per unit).

    Parameters
    ----------
    n : array_like
        Units in the arm.
    sum : array_like
        Units that converted (``0 <= sum <= n``).

    Examples
    --------
    >>> round(ProportionStats(n=100, sum=20).variance.item(), 6)
    0.16
    """

    n: npt.ArrayLike
    sum: npt.ArrayLike

    @property
    def sum_squares(self) -> FloatArray:
        """Equal to ``sum`` for 0/1 values."""
        return farr(self.sum)

    @property
    def mean(self) -> FloatArray:
        """The conversion rate ``sum / n`` (0 for an empty arm)."""
        return safe_div(self.sum, self.n)

    @property
    def variance(self) -> FloatArray:
        """``p (1 - p)``, gbstats' convention for proportions."""
        p = self.mean
        out: FloatArray = np.maximum(p * (1.0 - p), 0.0)
        return out

    def invalid(self) -> BoolArray:
        """Elements whose statistics cannot come from real data."""
        n, s = farr(self.n), farr(self.sum)
        out: BoolArray = _not_finite(n, s) | (n < 0) | (s < 0) | (s > n)
        return out


@dataclass(frozen=True)
class RatioStats:
    """One arm of a ratio metric ``sum(m) / sum(d)`` over units (e.g. revenue per order).

    Parameters
    ----------
    n : array_like
        Units (the randomisation unit, e.g. users).
    m_sum, m_sum_squares : array_like
        Sum and sum of squares of the numerator per unit.
    d_sum, d_sum_squares : array_like
        Sum and sum of squares of the denominator per unit.
    m_d_sum_of_products : array_like
        Sum over units of numerator times denominator.

    Examples
    --------
    >>> r = RatioStats(n=4, m_sum=10.0, m_sum_squares=30.0, d_sum=4.0, d_sum_squares=6.0,
    ...                m_d_sum_of_products=13.0)
    >>> r.mean.item()
    2.5
    """

    n: npt.ArrayLike
    m_sum: npt.ArrayLike
    m_sum_squares: npt.ArrayLike
    d_sum: npt.ArrayLike
    d_sum_squares: npt.ArrayLike
    m_d_sum_of_products: npt.ArrayLike

    @property
    def mean(self) -> FloatArray:
        """``m_sum / d_sum`` (0 when the denominator sums to 0)."""
        return safe_div(self.m_sum, self.d_sum)

    @property
    def variance(self) -> FloatArray:
        """Delta-method variance of the ratio per unit (divide by ``n`` for the variance of ``mean``).

        ``var_m / d^2 - 2 cov_md m / d^3 + m^2 var_d / d^4`` with ``m``, ``d`` the per-unit means.
        0 when ``n < 2`` or the denominator mean is 0.
        """
        n = farr(self.n)
        m, d = safe_div(self.m_sum, n), safe_div(self.d_sum, n)
        var_m = sample_variance(n, farr(self.m_sum), farr(self.m_sum_squares))
        var_d = sample_variance(n, farr(self.d_sum), farr(self.d_sum_squares))
        cov = sample_covariance(n, farr(self.m_sum), farr(self.d_sum), farr(self.m_d_sum_of_products))
        d2 = d * d
        var = safe_div(var_m, d2) - 2.0 * safe_div(cov * m, d2 * d) + safe_div(m * m * var_d, d2 * d2)
        out: FloatArray = np.where((d != 0) & (n >= 2), np.maximum(var, 0.0), 0.0)
        return out

    def invalid(self) -> BoolArray:
        """Elements whose statistics cannot come from real data."""
        n = farr(self.n)
        ms, mss = farr(self.m_sum), farr(self.m_sum_squares)
        ds, dss = farr(self.d_sum), farr(self.d_sum_squares)
        out: BoolArray = (
            _not_finite(n, ms, mss, ds, dss, farr(self.m_d_sum_of_products))
            | (n < 0)
            | _bad_sum_squares(n, ms, mss)
            | _bad_sum_squares(n, ds, dss)
        )
        return out


@dataclass(frozen=True)
class RegressionAdjustedStats:
    """One arm of a mean metric with one pre-period covariate, for CUPED.

    Parameters
    ----------
    n : array_like
        Units in the arm.
    post_sum, post_sum_squares : array_like
        Sum and sum of squares of the metric during the experiment.
    pre_sum, pre_sum_squares : array_like
        Sum and sum of squares of the covariate (usually the same metric before the experiment).
    post_pre_sum_of_products : array_like
        Sum over units of metric times covariate.
    proportion : bool, default False
        Use the population (``1/n``) variance and covariance, gbstats' convention when both the
        metric and the covariate are 0/1 (then ``sum_squares == sum``).

    Examples
    --------
    >>> s = RegressionAdjustedStats(n=3, post_sum=6.0, post_sum_squares=14.0, pre_sum=3.0,
    ...                             pre_sum_squares=5.0, post_pre_sum_of_products=8.0)
    >>> s.post.mean.item(), s.pre.mean.item()
    (2.0, 1.0)
    """

    n: npt.ArrayLike
    post_sum: npt.ArrayLike
    post_sum_squares: npt.ArrayLike
    pre_sum: npt.ArrayLike
    pre_sum_squares: npt.ArrayLike
    post_pre_sum_of_products: npt.ArrayLike
    proportion: bool = False

    @property
    def post(self) -> SampleMeanStats:
        """The metric alone (unadjusted)."""
        return SampleMeanStats(self.n, self.post_sum, self.post_sum_squares)

    @property
    def pre(self) -> SampleMeanStats:
        """The covariate alone."""
        return SampleMeanStats(self.n, self.pre_sum, self.pre_sum_squares)

    def invalid(self) -> BoolArray:
        """Elements whose statistics cannot come from real data."""
        out: BoolArray = self.post.invalid() | self.pre.invalid() | ~np.isfinite(farr(self.post_pre_sum_of_products))
        return out


@dataclass(frozen=True)
class MultiRegressionAdjustedStats:
    """One arm of a mean metric with ``k`` pre-period covariates (CUPED with a covariance matrix).

    Shapes: ``n``, ``post_sum``, ``post_sum_squares`` have the batch shape ``S``;
    ``pre_sum`` and ``post_pre_sum_of_products`` have shape ``S + (k,)``;
    ``pre_sum_squares`` is the matrix of sums of cross products ``X'X``, shape ``S + (k, k)``.

    Parameters
    ----------
    n : array_like
        Units in the arm.
    post_sum, post_sum_squares : array_like
        Sum and sum of squares of the metric.
    pre_sum : array_like
        Sum of each covariate.
    pre_sum_squares : array_like
        ``sum_i x_i x_i'`` (symmetric; the diagonal holds each covariate's sum of squares).
    post_pre_sum_of_products : array_like
        ``sum_i y_i x_i``.

    Examples
    --------
    >>> s = MultiRegressionAdjustedStats(n=3, post_sum=6.0, post_sum_squares=14.0,
    ...     pre_sum=[3.0, 3.0], pre_sum_squares=[[5.0, 4.0], [4.0, 5.0]],
    ...     post_pre_sum_of_products=[8.0, 7.0])
    >>> s.k
    2
    """

    n: npt.ArrayLike
    post_sum: npt.ArrayLike
    post_sum_squares: npt.ArrayLike
    pre_sum: npt.ArrayLike
    pre_sum_squares: npt.ArrayLike
    post_pre_sum_of_products: npt.ArrayLike

    @property
    def k(self) -> int:
        """Number of covariates."""
        return int(np.shape(self.pre_sum)[-1])

    @property
    def post(self) -> SampleMeanStats:
        """The metric alone (unadjusted)."""
        return SampleMeanStats(self.n, self.post_sum, self.post_sum_squares)

    def invalid(self) -> BoolArray:
        """Elements whose statistics cannot come from real data."""
        xs = farr(self.pre_sum)
        xx = farr(self.pre_sum_squares)
        bad_x = ~np.all(np.isfinite(xs), axis=-1) | ~np.all(np.isfinite(xx), axis=(-2, -1))
        bad_xy = ~np.all(np.isfinite(farr(self.post_pre_sum_of_products)), axis=-1)
        out: BoolArray = self.post.invalid() | bad_x | bad_xy
        return out


ArmStats = SampleMeanStats | ProportionStats | RatioStats | RegressionAdjustedStats | MultiRegressionAdjustedStats
