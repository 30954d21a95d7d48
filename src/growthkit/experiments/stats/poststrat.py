"""Post-stratification: combine per-stratum arm statistics with the pooled stratum shares.

Strata (e.g. country, platform, new vs returning) are on the **last axis** of every field.
With ``w_h = (n_c,h + n_t,h) / N`` the share of stratum ``h`` among all units (both arms, as
gbstats' ``nu_hat``), each arm's post-stratified mean is ``M = sum_h w_h mean_h`` with variance
``sum_h w_h^2 var_h / n_h`` (conditional on the shares; Miratrix, Sekhon & Yu 2013). Then

* absolute: ``M_t - M_c``, variance ``Var(M_t) + Var(M_c)``;
* relative: ``M_t / M_c - 1``, variance ``Var(M_t)/M_c^2 + M_t^2 Var(M_c)/M_c^4`` (delta method);
* degrees of freedom: Welch-Satterthwaite over all stratum-arm cells,
  ``(sum_j a_j)^2 / sum_j a_j^2/(n_j - 1)`` with ``a_j = w_j^2 var_j / n_j``.

Strata where an arm has fewer than 2 units are merged into nothing: they make the comparison
``too_few_units`` (merge small strata before calling).
"""

from __future__ import annotations

import numpy as np

from growthkit.experiments.stats._arrays import BoolArray, FloatArray, check_difference, farr, safe_div
from growthkit.experiments.stats.errors import StatsInputError
from growthkit.experiments.stats.frequentist import FrequentistResult, ttest_from_moments
from growthkit.experiments.stats.inputs import ProportionStats, SampleMeanStats
from growthkit.experiments.stats.moments import EffectMoments, _Parts, finish_moments

StrataStats = SampleMeanStats | ProportionStats


def post_stratified_moments(
    control: StrataStats, treatment: StrataStats, *, difference: str = "relative"
) -> EffectMoments:
    """Post-stratified effect moments; strata on the last axis, which is summed out.

    Examples
    --------
    >>> c = ProportionStats(n=[1000, 3000], sum=[50, 300])
    >>> t = ProportionStats(n=[1000, 3000], sum=[60, 330])
    >>> round(float(post_stratified_moments(c, t, difference="absolute").effect), 4)
    0.01
    """
    relative = check_difference(difference)
    if type(control) is not type(treatment):
        raise StatsInputError("control and treatment must use the same statistics class")
    nc, nt = farr(control.n), farr(treatment.n)
    if nc.ndim == 0 or nc.shape != nt.shape:
        raise StatsInputError("post-stratification needs n arrays of equal shape with strata on the last axis")
    with np.errstate(all="ignore"):
        total = (nc + nt).sum(axis=-1, keepdims=True)
        w = safe_div(nc + nt, total)
        mc, mt = control.mean, treatment.mean
        vc, vt = control.variance, treatment.variance
        big_c, big_t = (w * mc).sum(axis=-1), (w * mt).sum(axis=-1)
        a_c, a_t = w**2 * safe_div(vc, nc), w**2 * safe_div(vt, nt)
        var_mc, var_mt = a_c.sum(axis=-1), a_t.sum(axis=-1)
        den = (safe_div(a_c**2, nc - 1.0) + safe_div(a_t**2, nt - 1.0)).sum(axis=-1)
        df = safe_div((var_mc + var_mt) ** 2, den)
        invalid: BoolArray = np.any(control.invalid() | treatment.invalid(), axis=-1)
        small: BoolArray = np.any((nc < 2) | (nt < 2), axis=-1)
        n_c, n_t = nc.sum(axis=-1), nt.sum(axis=-1)
        # Express the combined arms as "effective" per-unit variances so the shared finisher applies:
        # var_arm = Var(M_arm) * n_arm keeps var_arm / n_arm == Var(M_arm).
        zero: FloatArray = np.zeros(n_c.shape)
        parts = _Parts(
            n_c=np.where(small, 0.0, n_c),
            n_t=np.where(small, 0.0, n_t),
            mean_c=big_c,
            mean_t=big_t,
            unadj_c=big_c,
            unadj_t=big_t,
            var_c=var_mc * n_c,
            var_t=var_mt * n_t,
            invalid=invalid,
            theta=zero,
        )
        m = finish_moments(parts, relative)
    ok = m.status == "ok"
    return EffectMoments(
        effect=m.effect,
        se=m.se,
        df=np.where(ok, df, 0.0),
        n_control=n_c,
        n_treatment=n_t,
        control_mean=m.control_mean,
        treatment_mean=m.treatment_mean,
        theta=m.theta,
        status=m.status,
        relative=m.relative,
    )


def post_stratified_ttest(
    control: StrataStats,
    treatment: StrataStats,
    *,
    difference: str = "relative",
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> FrequentistResult:
    """Welch-type t-test on post-stratified means (see :func:`post_stratified_moments`).

    Examples
    --------
    >>> c = SampleMeanStats(n=[500, 500], sum=[5000.0, 10000.0], sum_squares=[250000.0, 400000.0])
    >>> t = SampleMeanStats(n=[500, 500], sum=[5500.0, 10500.0], sum_squares=[280000.0, 440000.0])
    >>> str(post_stratified_ttest(c, t).status)
    'ok'
    """
    m = post_stratified_moments(control, treatment, difference=difference)
    return ttest_from_moments(m, alpha=alpha, alternative=alternative)
