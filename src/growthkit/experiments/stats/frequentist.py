"""Fixed-horizon frequentist test: Welch's t-test on absolute or relative effects.

``t = effect / se`` with Welch-Satterthwaite degrees of freedom ``df``;

* two-sided: ``p = 2 T_df(-|t|)``, interval ``effect ± t_{df, 1-alpha/2} se``;
* ``greater`` (treatment > control): ``p = T_df(-t)``, interval ``[effect - t_{df,1-alpha} se, +inf)``;
* ``less``: ``p = T_df(t)``, interval ``(-inf, effect + t_{df,1-alpha} se]``.

These are gbstats' ``TwoSidedTTest`` / ``OneSidedTreatment{Greater,Lesser}TTest`` conventions.
Degenerate comparisons (``status != "ok"``) get effect 0, interval [0, 0] and p-value 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from growthkit.experiments.stats._arrays import (
    OK,
    Alternative,
    BoolArray,
    FloatArray,
    StatusArray,
    check_alpha,
    check_alternative,
    messages_for,
    safe_div,
)
from growthkit.experiments.stats.inputs import ArmStats
from growthkit.experiments.stats.moments import EffectMoments, effect_moments


@dataclass(frozen=True, eq=False)
class FrequentistResult:
    """Result of a frequentist comparison (arrays with the batch shape of the inputs).

    Attributes
    ----------
    effect, se : ndarray
        Point estimate and standard error (relative or absolute, see ``relative``).
    ci_low, ci_high : ndarray
        Confidence interval (confidence sequence for sequential methods); infinite on the open
        side of a one-sided test.
    p_value : ndarray
        p-value in [0, 1] (always-valid p-value for sequential methods).
    df : ndarray
        Welch-Satterthwaite degrees of freedom (``inf`` for the normal-theory sequential methods).
    control_mean, treatment_mean : ndarray
        Unadjusted arm means.
    status : ndarray of str
        ``"ok"`` or a degenerate-case code; :attr:`message` explains it.
    relative : bool
        Whether the effect is relative.
    alpha : float
        Significance level used for the interval.
    alternative : str
        ``"two-sided"``, ``"greater"`` or ``"less"``.
    method : str
        ``"fixed"``, ``"sequential"`` or ``"hybrid"``.
    """

    effect: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    p_value: FloatArray
    df: FloatArray
    control_mean: FloatArray
    treatment_mean: FloatArray
    status: StatusArray
    relative: bool
    alpha: float
    alternative: str
    method: str

    @property
    def message(self) -> StatusArray:
        """Human-readable explanation of ``status`` ("" when ok)."""
        return messages_for(self.status)

    @property
    def significant(self) -> BoolArray:
        """``p_value < alpha`` (and the comparison is ok)."""
        out: BoolArray = (self.p_value < self.alpha) & (self.status == OK)
        return out


def t_quantile(df: FloatArray, q: float) -> FloatArray:
    """Student-t quantile, the normal one where ``df`` is infinite or 0 (degenerate rows)."""
    z = float(special.ndtri(q))
    finite = np.isfinite(df) & (df > 0)
    safe = np.where(finite, df, 1.0)
    out: FloatArray = np.where(finite, special.stdtrit(safe, q), z)
    return out


def t_cdf(df: FloatArray, t: FloatArray) -> FloatArray:
    """Student-t CDF, the normal one where ``df`` is infinite or 0."""
    finite = np.isfinite(df) & (df > 0)
    safe = np.where(finite, df, 1.0)
    out: FloatArray = np.where(finite, special.stdtr(safe, t), special.ndtr(t))
    return out


def finish_result(
    m: EffectMoments,
    ci_low: FloatArray,
    ci_high: FloatArray,
    p_value: FloatArray,
    *,
    df: FloatArray,
    alpha: float,
    alternative: str,
    method: str,
) -> FrequentistResult:
    """Apply the degenerate-case defaults and pack a :class:`FrequentistResult`."""
    ok = m.status == OK
    return FrequentistResult(
        effect=m.effect,
        se=m.se,
        ci_low=np.where(ok, ci_low, 0.0),
        ci_high=np.where(ok, ci_high, 0.0),
        p_value=np.where(ok, np.clip(p_value, 0.0, 1.0), 1.0),
        df=np.where(ok, df, 0.0),
        control_mean=m.control_mean,
        treatment_mean=m.treatment_mean,
        status=m.status,
        relative=m.relative,
        alpha=alpha,
        alternative=alternative,
        method=method,
    )


def ttest_from_moments(m: EffectMoments, *, alpha: float = 0.05, alternative: str = "two-sided") -> FrequentistResult:
    """Welch t-test from precomputed :class:`EffectMoments` (see :func:`ttest`)."""
    alpha = check_alpha(alpha)
    alt: Alternative = check_alternative(alternative)
    with np.errstate(all="ignore"):
        t = safe_div(m.effect, m.se)
        if alt == "two-sided":
            p = 2.0 * t_cdf(m.df, -np.abs(t))
            half = t_quantile(m.df, 1.0 - alpha / 2.0) * m.se
            lo, hi = m.effect - half, m.effect + half
        elif alt == "greater":
            p = t_cdf(m.df, -t)
            lo, hi = m.effect - t_quantile(m.df, 1.0 - alpha) * m.se, np.full_like(m.effect, np.inf)
        else:
            p = t_cdf(m.df, t)
            lo, hi = np.full_like(m.effect, -np.inf), m.effect + t_quantile(m.df, 1.0 - alpha) * m.se
    return finish_result(m, lo, hi, p, df=m.df, alpha=alpha, alternative=alt, method="fixed")


def ttest(
    control: ArmStats,
    treatment: ArmStats,
    *,
    difference: str = "relative",
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> FrequentistResult:
    """Welch's t-test of ``treatment`` against ``control`` on sufficient statistics.

    Works for every input class (mean, proportion, ratio, CUPED with one or several covariates);
    fields may be arrays, so thousands of comparisons are one call.

    Parameters
    ----------
    control, treatment : ArmStats
        Sufficient statistics of the two arms (same class).
    difference : {"relative", "absolute"}
        Effect scale; relative is ``(mean_t - mean_c) / mean_c``.
    alpha : float
        Significance level; the interval has coverage ``1 - alpha``.
    alternative : {"two-sided", "greater", "less"}
        ``greater`` tests treatment > control.

    Returns
    -------
    FrequentistResult

    Examples
    --------
    >>> from growthkit.experiments.stats import SampleMeanStats, ttest
    >>> r = ttest(SampleMeanStats(1000, 10_000.0, 200_000.0), SampleMeanStats(1000, 10_500.0, 215_000.0))
    >>> round(float(r.effect), 3), round(float(r.p_value), 3)
    (0.05, 0.281)
    """
    return ttest_from_moments(
        effect_moments(control, treatment, difference=difference), alpha=alpha, alternative=alternative
    )
