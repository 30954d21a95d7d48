"""Bayesian engine: a normal posterior on the effect, chance to win and expected loss.

As gbstats' ``EffectBayesianABTest``: the likelihood of the effect (relative or absolute) is
normal with the frequentist point estimate ``d`` and variance ``v`` (:mod:`.moments`). With a
proper normal prior ``N(m0, s0^2)`` the posterior is ``N(mu, sigma^2)`` with
``1/sigma^2 = 1/v + 1/s0^2`` and ``mu = sigma^2 (d/v + m0/s0^2)``; with the default flat prior,
``mu = d`` and ``sigma^2 = v``. A prior stated on the other scale is converted with the
unadjusted control mean (``relative = absolute / |mean_c|``).

* chance to win ``P(effect > 0) = Phi(mu / sigma)`` (``P(effect < 0)`` for ``inverse`` metrics);
* credible interval ``mu ± z_{1-alpha/2} sigma``;
* risk (expected loss) of each choice: shipping the treatment loses ``E[max(-effect, 0)]``
  and keeping control loses ``E[max(effect, 0)]``, with
  ``E[max(X, 0)] = mu Phi(mu/sigma) + sigma phi(mu/sigma)`` (roles swap for ``inverse`` metrics).

Degenerate comparisons get chance to win 0.5, risks 0 and interval [0, 0], as gbstats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from growthkit.experiments.stats._arrays import (
    OK,
    FloatArray,
    StatusArray,
    check_alpha,
    check_difference,
    messages_for,
    safe_div,
)
from growthkit.experiments.stats.errors import StatsInputError
from growthkit.experiments.stats.inputs import ArmStats
from growthkit.experiments.stats.moments import EffectMoments, effect_moments

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


@dataclass(frozen=True)
class GaussianPrior:
    """Normal prior on the effect; ``proper=False`` (the default) is the flat prior.

    Parameters
    ----------
    mean : float
        Prior mean of the effect.
    variance : float
        Prior variance (> 0 when ``proper``).
    proper : bool
        Whether the prior is used at all.
    scale : {"relative", "absolute"}, optional
        Scale the prior is stated on; defaults to the scale of the analysis.
    """

    mean: float = 0.0
    variance: float = 1.0
    proper: bool = False
    scale: str | None = None

    def __post_init__(self) -> None:
        if self.proper and not self.variance > 0:
            raise StatsInputError(f"a proper prior needs a positive variance, got {self.variance!r}")
        if self.scale is not None:
            check_difference(self.scale)


@dataclass(frozen=True, eq=False)
class BayesianResult:
    """Posterior summary of the effect (arrays with the batch shape of the inputs).

    Attributes
    ----------
    effect, se : ndarray
        Posterior mean and standard deviation of the effect.
    ci_low, ci_high : ndarray
        Equal-tailed credible interval at ``1 - alpha``.
    chance_to_win : ndarray
        Posterior probability that the treatment is better than control.
    risk_treatment : ndarray
        Expected loss if the treatment is shipped (same scale as the effect).
    risk_control : ndarray
        Expected loss if control is kept.
    control_mean, treatment_mean : ndarray
        Unadjusted arm means.
    status : ndarray of str
        ``"ok"`` or a degenerate-case code.
    relative : bool
        Whether the effect is relative.
    alpha : float
        1 - credibility of the interval.
    """

    effect: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    chance_to_win: FloatArray
    risk_treatment: FloatArray
    risk_control: FloatArray
    control_mean: FloatArray
    treatment_mean: FloatArray
    status: StatusArray
    relative: bool
    alpha: float

    @property
    def message(self) -> StatusArray:
        """Human-readable explanation of ``status`` ("" when ok)."""
        return messages_for(self.status)


def expected_positive_part(mu: FloatArray, sigma: FloatArray) -> FloatArray:
    """``E[max(X, 0)]`` for ``X ~ N(mu, sigma^2)`` (``max(mu, 0)`` when ``sigma == 0``)."""
    z = safe_div(mu, sigma)
    out: FloatArray = np.where(
        sigma > 0, mu * special.ndtr(z) + sigma * _INV_SQRT_2PI * np.exp(-0.5 * z * z), np.maximum(mu, 0.0)
    )
    return out


def bayesian_from_moments(
    m: EffectMoments, *, alpha: float = 0.05, prior: GaussianPrior | None = None, inverse: bool = False
) -> BayesianResult:
    """Posterior summary from :class:`EffectMoments` (see :func:`bayesian_test`)."""
    alpha = check_alpha(alpha)
    prior = prior or GaussianPrior()
    ok = m.status == OK
    with np.errstate(all="ignore"):
        v = m.se**2
        pm: FloatArray = np.asarray(prior.mean, dtype=np.float64)
        pv: FloatArray = np.asarray(prior.variance, dtype=np.float64)
        scale = prior.scale or ("relative" if m.relative else "absolute")
        base = np.abs(m.control_mean)
        if m.relative and scale == "absolute":
            pm, pv = safe_div(pm, base), safe_div(pv, base**2)
        elif not m.relative and scale == "relative":
            pm, pv = pm * base, pv * base**2
        if prior.proper:
            prec = safe_div(1.0, v) + safe_div(1.0, pv)
            mu = safe_div(safe_div(m.effect, v) + safe_div(pm, pv), prec)
            sigma = np.sqrt(safe_div(1.0, prec))
        else:
            mu, sigma = m.effect, m.se
        ok = ok & (sigma > 0) & np.isfinite(mu)
        z = float(special.ndtri(1.0 - alpha / 2.0))
        p_up = special.ndtr(safe_div(mu, sigma))
        gain, loss = expected_positive_part(mu, sigma), expected_positive_part(-mu, sigma)
    ctw = 1.0 - p_up if inverse else p_up
    risk_t, risk_c = (gain, loss) if inverse else (loss, gain)
    zero = np.zeros(np.shape(ok))
    return BayesianResult(
        effect=np.where(ok, mu, 0.0),
        se=np.where(ok, sigma, 0.0),
        ci_low=np.where(ok, mu - z * sigma, 0.0),
        ci_high=np.where(ok, mu + z * sigma, 0.0),
        chance_to_win=np.where(ok, ctw, 0.5),
        risk_treatment=np.where(ok, risk_t, zero),
        risk_control=np.where(ok, risk_c, zero),
        control_mean=m.control_mean,
        treatment_mean=m.treatment_mean,
        status=m.status,
        relative=m.relative,
        alpha=alpha,
    )


def bayesian_test(
    control: ArmStats,
    treatment: ArmStats,
    *,
    difference: str = "relative",
    alpha: float = 0.05,
    prior: GaussianPrior | None = None,
    inverse: bool = False,
) -> BayesianResult:
    """Normal-approximation Bayesian comparison of ``treatment`` against ``control``.

    Parameters
    ----------
    control, treatment : ArmStats
        Sufficient statistics of the two arms (same class); array fields broadcast.
    difference : {"relative", "absolute"}
        Effect scale.
    alpha : float
        The credible interval has probability ``1 - alpha``.
    prior : GaussianPrior, optional
        Prior on the effect; flat by default.
    inverse : bool
        ``True`` when lower values are better (e.g. bounce rate).

    Returns
    -------
    BayesianResult

    Examples
    --------
    >>> from growthkit.experiments.stats import ProportionStats, bayesian_test
    >>> r = bayesian_test(ProportionStats(1000, 100), ProportionStats(1000, 130))
    >>> round(float(r.chance_to_win), 3)
    0.967
    """
    return bayesian_from_moments(
        effect_moments(control, treatment, difference=difference), alpha=alpha, prior=prior, inverse=inverse
    )
