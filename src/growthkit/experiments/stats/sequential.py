"""Sequential testing valid under continuous monitoring ("peeking").

**Confidence sequence.** The normal-mixture (mixture SPRT) boundary of Howard et al. (2021),
in the asymptotic form of Waudby-Smith et al. (2023, eq. 9 and 155), as gbstats does. With
``N = n_c + n_t`` units so far, ``s2 = se^2 N`` and mixing parameter ``rho``::

    halfwidth = sqrt(s2) sqrt( 2 (N rho^2 + 1) / (N rho)^2 * log( sqrt(N rho^2 + 1) / alpha ) )
    p         = min(1, sqrt(N rho^2 + 1) exp( -rho^2 N effect^2 / (2 se^2 (N rho^2 + 1)) ))
    rho       = sqrt( (-2 log a + log(-2 log a + 1)) / N* ),   a = alpha (two-sided), 2 alpha (one-sided)

``N*`` (``tuning_parameter``) is the total sample size at which the sequence is tightest: set
it to the sample size you expect to reach (gbstats' default is 5,000). One-sided sequences
use ``halfwidth = sqrt(s2 2 (N rho^2+1)/(N rho)^2 log(1 + sqrt(N rho^2+1)/(2 alpha)))`` and the
p-value is that boundary solved for ``alpha`` (gbstats finds it by bisection; here in closed form).

**Hybrid.** Spend ``alpha_seq = sequential_share * alpha`` on the confidence sequence while the
experiment runs and the rest, ``alpha_fix = alpha - alpha_seq``, on one fixed-horizon Welch test at
the planned total sample size. By Bonferroni the chance of any false rejection, however often
you peek before the end, is at most ``alpha_seq + alpha_fix = alpha``. Before the end the
result is the sequence at ``alpha_seq`` (p-value ``p_seq / share``); from the planned end on it
is the intersection of that sequence with the fixed interval at ``alpha_fix`` and the p-value
``min(p_seq / share, p_fix / (1 - share))``. Only the first look at or after the planned end
should be used for the fixed-horizon part.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from growthkit.experiments.stats._arrays import (
    Alternative,
    FloatArray,
    check_alpha,
    check_alternative,
    farr,
    safe_div,
)
from growthkit.experiments.stats.errors import StatsInputError
from growthkit.experiments.stats.frequentist import FrequentistResult, finish_result, ttest_from_moments
from growthkit.experiments.stats.inputs import ArmStats
from growthkit.experiments.stats.moments import EffectMoments, effect_moments

DEFAULT_TUNING_PARAMETER = 5000.0
DEFAULT_SEQUENTIAL_SHARE = 0.2


def sequential_rho(alpha: float, tuning_parameter: npt.ArrayLike, *, two_sided: bool = True) -> FloatArray:
    """Mixing parameter ``rho`` that makes the boundary tightest at ``tuning_parameter`` units in total.

    Examples
    --------
    >>> round(float(sequential_rho(0.05, 5000)), 5)
    0.03984
    """
    a = alpha if two_sided else 2.0 * alpha
    n_star = farr(tuning_parameter)
    if np.any(n_star <= 0):
        raise StatsInputError("tuning_parameter must be a positive expected total sample size")
    out: FloatArray = np.sqrt((-2.0 * np.log(a) + np.log(-2.0 * np.log(a) + 1.0)) / n_star)
    return out


def sequential_from_moments(
    m: EffectMoments,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    tuning_parameter: npt.ArrayLike = DEFAULT_TUNING_PARAMETER,
) -> FrequentistResult:
    """Confidence sequence and always-valid p-value from :class:`EffectMoments` (see :func:`sequential_test`)."""
    alpha = check_alpha(alpha)
    alt: Alternative = check_alternative(alternative)
    if alt != "two-sided" and alpha >= 0.5:
        raise StatsInputError("a one-sided sequential test needs alpha < 0.5")
    rho = sequential_rho(alpha, tuning_parameter, two_sided=alt == "two-sided")
    n = m.n_control + m.n_treatment
    r2 = rho * rho
    tr = n * r2 + 1.0
    with np.errstate(all="ignore"):
        s2 = m.se**2 * n
        coef = safe_div(2.0 * tr, (n * rho) ** 2)
        q = safe_div(r2 * n * m.effect**2, 2.0 * m.se**2 * tr)  # log of the mixture martingale + log sqrt(tr)
        if alt == "two-sided":
            half = np.sqrt(s2 * coef * np.log(np.sqrt(tr) / alpha))
            lo, hi = m.effect - half, m.effect + half
            p = np.minimum(1.0, np.sqrt(tr) * np.exp(-q))
        else:
            half = np.sqrt(s2 * coef * np.log1p(np.sqrt(tr) / (2.0 * alpha)))
            toward = m.effect > 0 if alt == "greater" else m.effect < 0
            p_dir = safe_div(np.sqrt(tr), 2.0 * np.expm1(q), default=1.0)
            p = np.where(toward, np.minimum(1.0, p_dir), 1.0)
            if alt == "greater":
                lo, hi = m.effect - half, np.full_like(m.effect, np.inf)
            else:
                lo, hi = np.full_like(m.effect, -np.inf), m.effect + half
    inf = np.full_like(m.effect, np.inf)
    return finish_result(m, lo, hi, p, df=inf, alpha=alpha, alternative=alt, method="sequential")


def sequential_test(
    control: ArmStats,
    treatment: ArmStats,
    *,
    difference: str = "relative",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    tuning_parameter: npt.ArrayLike = DEFAULT_TUNING_PARAMETER,
) -> FrequentistResult:
    """Anytime-valid confidence sequence and p-value (safe to look at after every new unit).

    Parameters
    ----------
    control, treatment : ArmStats
        Cumulative sufficient statistics so far.
    difference : {"relative", "absolute"}
        Effect scale.
    alpha : float
        The chance that the sequence *ever* excludes the true effect is at most ``alpha``.
    alternative : {"two-sided", "greater", "less"}
        Direction of the test.
    tuning_parameter : float
        Expected total sample size (both arms) where the sequence should be tightest.

    Returns
    -------
    FrequentistResult
        ``method == "sequential"``; ``df`` is infinite (normal theory).

    Examples
    --------
    >>> from growthkit.experiments.stats import ProportionStats, sequential_test
    >>> r = sequential_test(ProportionStats(5000, 500), ProportionStats(5000, 600), tuning_parameter=10_000)
    >>> round(float(r.p_value), 3), bool(r.ci_low < 0 < r.ci_high)
    (0.069, True)
    """
    m = effect_moments(control, treatment, difference=difference)
    return sequential_from_moments(m, alpha=alpha, alternative=alternative, tuning_parameter=tuning_parameter)


def hybrid_test(
    control: ArmStats,
    treatment: ArmStats,
    *,
    planned_n: npt.ArrayLike,
    difference: str = "relative",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    sequential_share: float = DEFAULT_SEQUENTIAL_SHARE,
    tuning_parameter: npt.ArrayLike | None = None,
) -> FrequentistResult:
    """Sequential while running, the (slightly stricter) fixed-horizon test at the planned end.

    Parameters
    ----------
    control, treatment : ArmStats
        Cumulative sufficient statistics so far.
    planned_n : float
        Planned total sample size (both arms). From ``n_c + n_t >= planned_n`` on, the fixed test applies.
    difference, alpha, alternative
        As in :func:`sequential_test`.
    sequential_share : float
        Share of ``alpha`` spent on the confidence sequence (default 0.2; the fixed test gets the rest).
    tuning_parameter : float, optional
        Defaults to ``planned_n``: the sequence is tightest at the planned end.

    Returns
    -------
    FrequentistResult
        ``method == "hybrid"``.

    Examples
    --------
    >>> from growthkit.experiments.stats import ProportionStats, hybrid_test
    >>> r = hybrid_test(ProportionStats(5000, 500), ProportionStats(5000, 600), planned_n=10_000)
    >>> bool(r.ci_low > 0)
    True
    """
    alpha = check_alpha(alpha)
    if not 0.0 < sequential_share < 1.0:
        raise StatsInputError(f"sequential_share must be strictly between 0 and 1, got {sequential_share!r}")
    planned = farr(planned_n)
    if np.any(planned <= 0):
        raise StatsInputError("planned_n must be a positive total sample size")
    tuning = planned if tuning_parameter is None else tuning_parameter
    m = effect_moments(control, treatment, difference=difference)
    a_seq, a_fix = sequential_share * alpha, (1.0 - sequential_share) * alpha
    seq = sequential_from_moments(m, alpha=a_seq, alternative=alternative, tuning_parameter=tuning)
    fix = ttest_from_moments(m, alpha=a_fix, alternative=alternative)
    at_end = (m.n_control + m.n_treatment) >= planned
    p_seq = np.minimum(1.0, seq.p_value / sequential_share)
    p_end = np.minimum(p_seq, np.minimum(1.0, fix.p_value / (1.0 - sequential_share)))
    lo = np.where(at_end, np.maximum(seq.ci_low, fix.ci_low), seq.ci_low)
    hi = np.where(at_end, np.minimum(seq.ci_high, fix.ci_high), seq.ci_high)
    p = np.where(at_end, p_end, p_seq)
    df = np.where(at_end, fix.df, np.inf)
    return finish_result(m, lo, hi, p, df=df, alpha=alpha, alternative=seq.alternative, method="hybrid")
