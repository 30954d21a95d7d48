"""Effect moments: point estimate, standard error and Welch degrees of freedom of a comparison.

This is the shared first step of every engine (frequentist, sequential, Bayesian). Conventions
follow GrowthBook's gbstats (``EffectMoments`` in ``gbstats/models/tests.py``):

* absolute effect ``mean_t - mean_c`` with variance ``var_t/n_t + var_c/n_c``;
* relative effect ``(mean_t - mean_c) / mean_c`` with delta-method variance
  ``var_t/(n_t mean_c^2) + var_c mean_t^2/(n_c mean_c^4)``;
* Welch-Satterthwaite degrees of freedom from the per-unit variances of the two arms;
* CUPED: one ``theta`` per comparison, estimated on both arms pooled (the joint covariance of
  metric and covariate over all units, divided by the joint covariate variance), adjusted means
  ``mean_post - theta' mean_pre`` and adjusted variance ``var_y + theta' S_xx theta - 2 theta' s_xy``;
  the relative effect divides by the *unadjusted* control mean (gbstats' delta method for
  relative CUPED).

Degenerate comparisons get ``effect = se = df = 0`` and a ``status`` code (see ``_arrays``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from growthkit.experiments.stats._arrays import (
    BASELINE_ZERO,
    INVALID_INPUT,
    OK,
    TOO_FEW_UNITS,
    ZERO_VARIANCE,
    BoolArray,
    FloatArray,
    StatusArray,
    check_difference,
    farr,
    messages_for,
    safe_div,
    select_status,
)
from growthkit.experiments.stats.errors import StatsInputError
from growthkit.experiments.stats.inputs import (
    ArmStats,
    MultiRegressionAdjustedStats,
    ProportionStats,
    RatioStats,
    RegressionAdjustedStats,
    SampleMeanStats,
    sample_covariance,
    sample_variance,
)


@dataclass(frozen=True, eq=False)
class EffectMoments:
    """Point estimate and standard error of treatment minus control (arrays, batch shape).

    Attributes
    ----------
    effect : ndarray
        Absolute or relative effect (see ``relative``); 0 where ``status != "ok"``.
    se : ndarray
        Standard error of ``effect``; 0 where ``status != "ok"``.
    df : ndarray
        Welch-Satterthwaite degrees of freedom; 0 where ``status != "ok"``.
    n_control, n_treatment : ndarray
        Units per arm.
    control_mean, treatment_mean : ndarray
        Unadjusted means (for a ratio metric, the ratio).
    theta : ndarray
        CUPED coefficient(s); 0 without regression adjustment. Shape ``S`` or ``S + (k,)``.
    status : ndarray of str
        ``"ok"`` or a degenerate-case code; :attr:`message` explains it.
    relative : bool
        Whether ``effect`` is relative.
    """

    effect: FloatArray
    se: FloatArray
    df: FloatArray
    n_control: FloatArray
    n_treatment: FloatArray
    control_mean: FloatArray
    treatment_mean: FloatArray
    theta: FloatArray
    status: StatusArray
    relative: bool

    @property
    def message(self) -> StatusArray:
        """Human-readable explanation of ``status`` ("" when ok)."""
        return messages_for(self.status)

    @property
    def ok(self) -> BoolArray:
        """``status == "ok"``."""
        out: BoolArray = self.status == OK
        return out


@dataclass
class _Parts:
    n_c: FloatArray
    n_t: FloatArray
    mean_c: FloatArray  # adjusted (CUPED) or plain
    mean_t: FloatArray
    unadj_c: FloatArray
    unadj_t: FloatArray
    var_c: FloatArray  # per-unit variance of the (adjusted) metric
    var_t: FloatArray
    invalid: BoolArray
    theta: FloatArray
    rel_var: FloatArray | None = None  # overrides the generic relative variance (CUPED)


def _plain(
    c: SampleMeanStats | ProportionStats | RatioStats, t: SampleMeanStats | ProportionStats | RatioStats
) -> _Parts:
    mc, mt = c.mean, t.mean
    zero = np.zeros(np.broadcast_shapes(np.shape(mc), np.shape(mt)))
    return _Parts(farr(c.n), farr(t.n), mc, mt, mc, mt, c.variance, t.variance, c.invalid() | t.invalid(), zero)


def _cuped_single(c: RegressionAdjustedStats, t: RegressionAdjustedStats) -> _Parts:
    pop = bool(c.proportion or t.proportion)
    nc, nt = farr(c.n), farr(t.n)
    ys_c, ys_t, yss_c, yss_t = farr(c.post_sum), farr(t.post_sum), farr(c.post_sum_squares), farr(t.post_sum_squares)
    xs_c, xs_t, xss_c, xss_t = farr(c.pre_sum), farr(t.pre_sum), farr(c.pre_sum_squares), farr(t.pre_sum_squares)
    xy_c, xy_t = farr(c.post_pre_sum_of_products), farr(t.post_pre_sum_of_products)
    vy_c, vy_t = sample_variance(nc, ys_c, yss_c, population=pop), sample_variance(nt, ys_t, yss_t, population=pop)
    vx_c, vx_t = sample_variance(nc, xs_c, xss_c, population=pop), sample_variance(nt, xs_t, xss_t, population=pop)
    cov_c = sample_covariance(nc, ys_c, xs_c, xy_c, population=pop)
    cov_t = sample_covariance(nt, ys_t, xs_t, xy_t, population=pop)
    n = nc + nt
    vx_j = sample_variance(n, xs_c + xs_t, xss_c + xss_t, population=pop)
    vy_j = sample_variance(n, ys_c + ys_t, yss_c + yss_t, population=pop)
    cov_j = sample_covariance(n, ys_c + ys_t, xs_c + xs_t, xy_c + xy_t, population=pop)
    theta = np.where((vx_j > 0) & (vy_j > 0), safe_div(cov_j, vx_j), 0.0)
    yc, yt = safe_div(ys_c, nc), safe_div(ys_t, nt)
    xc, xt = safe_div(xs_c, nc), safe_div(xs_t, nt)
    var_c = vy_c + theta**2 * vx_c - 2 * theta * cov_c
    var_t = vy_t + theta**2 * vx_t - 2 * theta * cov_t
    # gbstats' relative-CUPED delta method: gradient of the control part evaluated at mean_t / mean_c.
    g = safe_div(yt, yc)
    v_ctrl = vy_c * g**2 - 2 * theta * cov_c * g + theta**2 * vx_c
    rel_var = safe_div(var_t, nt * yc**2) + safe_div(v_ctrl, nc * yc**2)
    invalid = c.invalid() | t.invalid()
    return _Parts(nc, nt, yc - theta * xc, yt - theta * xt, yc, yt, var_c, var_t, invalid, theta, rel_var)


def _quad(theta: FloatArray, m: FloatArray) -> FloatArray:
    out: FloatArray = np.einsum("...i,...ij,...j->...", theta, m, theta)
    return out


def _cov_matrix(n: FloatArray, s: FloatArray, ss: FloatArray) -> FloatArray:
    nn = n[..., None, None]
    centred = ss - safe_div(s[..., :, None] * s[..., None, :], nn)
    return np.where(nn >= 2, safe_div(centred, nn - 1.0), 0.0)


def _cuped_multi(c: MultiRegressionAdjustedStats, t: MultiRegressionAdjustedStats) -> _Parts:
    if c.k != t.k:
        raise StatsInputError(f"control has {c.k} covariates but treatment has {t.k}; give both arms the same ones")
    nc, nt = farr(c.n), farr(t.n)
    ys_c, ys_t, yss_c, yss_t = farr(c.post_sum), farr(t.post_sum), farr(c.post_sum_squares), farr(t.post_sum_squares)
    xs_c, xs_t, xx_c, xx_t = farr(c.pre_sum), farr(t.pre_sum), farr(c.pre_sum_squares), farr(t.pre_sum_squares)
    xy_c, xy_t = farr(c.post_pre_sum_of_products), farr(t.post_pre_sum_of_products)
    vy_c, vy_t = sample_variance(nc, ys_c, yss_c), sample_variance(nt, ys_t, yss_t)
    sxx_c, sxx_t = _cov_matrix(nc, xs_c, xx_c), _cov_matrix(nt, xs_t, xx_t)
    sxy_c = sample_covariance(nc[..., None], ys_c[..., None], xs_c, xy_c)
    sxy_t = sample_covariance(nt[..., None], ys_t[..., None], xs_t, xy_t)
    n = nc + nt
    sxx_j = _cov_matrix(n, xs_c + xs_t, xx_c + xx_t)
    sxy_j = sample_covariance(n[..., None], (ys_c + ys_t)[..., None], xs_c + xs_t, xy_c + xy_t)
    vy_j = sample_variance(n, ys_c + ys_t, yss_c + yss_t)
    # pseudo-inverse: a constant or collinear covariate gets no weight instead of a singular solve
    theta = np.einsum("...ij,...j->...i", np.linalg.pinv(sxx_j, hermitian=True), sxy_j)
    theta = np.where((vy_j > 0)[..., None], theta, 0.0)
    yc, yt = safe_div(ys_c, nc), safe_div(ys_t, nt)
    xc, xt = safe_div(xs_c, nc[..., None]), safe_div(xs_t, nt[..., None])
    tc = np.einsum("...i,...i->...", theta, sxy_c)
    var_c = vy_c + _quad(theta, sxx_c) - 2 * tc
    var_t = vy_t + _quad(theta, sxx_t) - 2 * np.einsum("...i,...i->...", theta, sxy_t)
    g = safe_div(yt, yc)
    v_ctrl = vy_c * g**2 - 2 * tc * g + _quad(theta, sxx_c)
    rel_var = safe_div(var_t, nt * yc**2) + safe_div(v_ctrl, nc * yc**2)
    adj_c = yc - np.einsum("...i,...i->...", theta, xc)
    adj_t = yt - np.einsum("...i,...i->...", theta, xt)
    return _Parts(nc, nt, adj_c, adj_t, yc, yt, var_c, var_t, c.invalid() | t.invalid(), theta, rel_var)


def welch_df(var_c: FloatArray, n_c: FloatArray, var_t: FloatArray, n_t: FloatArray) -> FloatArray:
    """Welch-Satterthwaite degrees of freedom from per-unit variances and arm sizes (0 if undefined)."""
    a, b = safe_div(var_c, n_c), safe_div(var_t, n_t)
    den = safe_div(a * a, n_c - 1.0) + safe_div(b * b, n_t - 1.0)
    return safe_div((a + b) ** 2, den)


def _parts(control: ArmStats, treatment: ArmStats) -> _Parts:
    if type(control) is not type(treatment):
        raise StatsInputError(
            f"control is {type(control).__name__} but treatment is {type(treatment).__name__}; "
            "both arms must use the same statistics class"
        )
    if isinstance(control, RegressionAdjustedStats) and isinstance(treatment, RegressionAdjustedStats):
        return _cuped_single(control, treatment)
    if isinstance(control, MultiRegressionAdjustedStats) and isinstance(treatment, MultiRegressionAdjustedStats):
        return _cuped_multi(control, treatment)
    if isinstance(control, SampleMeanStats | ProportionStats | RatioStats) and isinstance(
        treatment, SampleMeanStats | ProportionStats | RatioStats
    ):
        return _plain(control, treatment)
    raise StatsInputError(f"unsupported statistics class {type(control).__name__}")


def finish_moments(p: _Parts, relative: bool) -> EffectMoments:
    """Turn per-arm parts into :class:`EffectMoments` (shared with post-stratification)."""
    diff = p.mean_t - p.mean_c
    abs_var = safe_div(p.var_t, p.n_t) + safe_div(p.var_c, p.n_c)
    if relative:
        effect = safe_div(diff, p.unadj_c)
        if p.rel_var is not None:
            var = p.rel_var
        else:
            uc2 = p.unadj_c**2
            var = safe_div(p.var_t, p.n_t * uc2) + safe_div(p.var_c * p.unadj_t**2, p.n_c * uc2 * uc2)
    else:
        effect, var = diff, abs_var
    df = welch_df(p.var_c, p.n_c, p.var_t, p.n_t)
    shape = np.broadcast_shapes(np.shape(effect), np.shape(var), np.shape(p.invalid))
    baseline_zero = (p.unadj_c == 0) | (p.mean_c == 0) if relative else np.zeros(shape, dtype=bool)
    status = select_status(
        shape,
        [
            (p.invalid, INVALID_INPUT),
            ((p.n_c < 2) | (p.n_t < 2), TOO_FEW_UNITS),
            (baseline_zero, BASELINE_ZERO),
            ((p.var_c <= 0) | (p.var_t <= 0) | ~(var > 0) | ~np.isfinite(var), ZERO_VARIANCE),
        ],
    )
    ok = status == OK
    return EffectMoments(
        effect=np.where(ok, effect, 0.0),
        se=np.where(ok, np.sqrt(np.where(ok, var, 0.0)), 0.0),
        df=np.where(ok, df, 0.0),
        n_control=np.broadcast_to(p.n_c, shape).astype(np.float64),
        n_treatment=np.broadcast_to(p.n_t, shape).astype(np.float64),
        control_mean=np.broadcast_to(np.where(np.isfinite(p.unadj_c), p.unadj_c, 0.0), shape).astype(np.float64),
        treatment_mean=np.broadcast_to(np.where(np.isfinite(p.unadj_t), p.unadj_t, 0.0), shape).astype(np.float64),
        theta=np.where(np.isfinite(p.theta), p.theta, 0.0),
        status=status,
        relative=relative,
    )


def effect_moments(control: ArmStats, treatment: ArmStats, *, difference: str = "relative") -> EffectMoments:
    """Effect of ``treatment`` over ``control`` with its standard error and Welch df.

    Parameters
    ----------
    control, treatment : ArmStats
        Sufficient statistics of the two arms, of the same class. Array fields broadcast.
    difference : {"relative", "absolute"}
        ``relative`` is ``(mean_t - mean_c) / mean_c`` (gbstats' default), ``absolute`` is ``mean_t - mean_c``.

    Returns
    -------
    EffectMoments

    Examples
    --------
    >>> m = effect_moments(SampleMeanStats(100, 1000.0, 12000.0), SampleMeanStats(100, 1100.0, 14000.0),
    ...                    difference="absolute")
    >>> round(float(m.effect), 6), str(m.status)
    (1.0, 'ok')
    """
    relative = check_difference(difference)
    try:
        with np.errstate(all="ignore"):
            return finish_moments(_parts(control, treatment), relative)
    except ValueError as exc:
        if isinstance(exc, StatsInputError):
            raise
        raise StatsInputError(f"the arms' fields do not broadcast to one batch shape: {exc}") from exc
