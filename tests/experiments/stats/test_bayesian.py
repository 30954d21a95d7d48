"""Bayesian engine: posterior algebra, chance to win and risk against numerical integration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from growthkit.experiments.stats import (
    GaussianPrior,
    ProportionStats,
    SampleMeanStats,
    StatsInputError,
    bayesian_test,
    effect_moments,
)

C, T = SampleMeanStats(2000, 20_000.0, 260_000.0), SampleMeanStats(2100, 21_420.0, 280_000.0)


def test_flat_prior_posterior_is_the_likelihood_and_risk_matches_integration() -> None:
    m = effect_moments(C, T)
    r = bayesian_test(C, T, alpha=0.1)
    mu, sd = float(m.effect), float(m.se)
    assert float(r.effect) == pytest.approx(mu) and float(r.se) == pytest.approx(sd)
    assert float(r.chance_to_win) == pytest.approx(stats.norm.sf(0, mu, sd), rel=1e-12)
    assert (float(r.ci_low), float(r.ci_high)) == pytest.approx(tuple(stats.norm.ppf([0.05, 0.95], mu, sd)), rel=1e-10)
    pdf = stats.norm(mu, sd).pdf
    loss_ship = integrate.quad(lambda x: -x * pdf(x), -np.inf, 0)[0]
    loss_keep = integrate.quad(lambda x: x * pdf(x), 0, np.inf)[0]
    assert float(r.risk_treatment) == pytest.approx(loss_ship, rel=1e-7, abs=1e-12)
    assert float(r.risk_control) == pytest.approx(loss_keep, rel=1e-7)
    # E[max(X,0)] - E[max(-X,0)] = E[X]
    assert float(r.risk_control - r.risk_treatment) == pytest.approx(mu, rel=1e-9)


def test_proper_prior_is_precision_weighted() -> None:
    m = effect_moments(C, T)
    prior = GaussianPrior(mean=0.0, variance=0.01**2, proper=True)
    r = bayesian_test(C, T, prior=prior)
    v = float(m.se) ** 2
    prec = 1 / v + 1 / 0.01**2
    assert float(r.se) == pytest.approx(np.sqrt(1 / prec))
    assert float(r.effect) == pytest.approx(float(m.effect) / v / prec)
    assert abs(float(r.effect)) < abs(float(m.effect))  # shrunk toward 0


def test_prior_on_the_other_scale_is_rescaled_by_the_control_mean() -> None:
    mean_c = 10.0
    rel = bayesian_test(C, T, prior=GaussianPrior(0.5, 0.04, proper=True, scale="absolute"))
    same = bayesian_test(C, T, prior=GaussianPrior(0.5 / mean_c, 0.04 / mean_c**2, proper=True))
    assert float(rel.effect) == pytest.approx(float(same.effect)) and float(rel.se) == pytest.approx(float(same.se))
    absolute = bayesian_test(
        C, T, difference="absolute", prior=GaussianPrior(0.05, 0.01, proper=True, scale="relative")
    )
    same_abs = bayesian_test(C, T, difference="absolute", prior=GaussianPrior(0.5, 1.0, proper=True))
    assert float(absolute.effect) == pytest.approx(float(same_abs.effect))


def test_inverse_metrics_swap_chance_to_win_and_risks() -> None:
    c, t = ProportionStats(1000, 100), ProportionStats(1000, 130)
    up, down = bayesian_test(c, t), bayesian_test(c, t, inverse=True)
    assert float(up.chance_to_win + down.chance_to_win) == pytest.approx(1.0)
    assert float(up.risk_treatment) == pytest.approx(float(down.risk_control))


def test_chance_to_win_is_calibrated_under_the_flat_prior() -> None:
    # Among simulated experiments with true effect drawn from a wide prior, P(effect > 0 | data) is calibrated.
    rng = np.random.default_rng(31)
    sims, n = 20_000, 400
    true = rng.normal(0, 0.3, sims)
    c = SampleMeanStats(n, rng.normal(10 * n, 3 * np.sqrt(n), sims), 0.0)
    c = SampleMeanStats(n, c.sum, (np.asarray(c.sum) ** 2) / n + 9 * rng.chisquare(n - 1, sims))
    ts = rng.normal((10 + true) * n, 3 * np.sqrt(n), sims)
    t = SampleMeanStats(n, ts, ts**2 / n + 9 * rng.chisquare(n - 1, sims))
    r = bayesian_test(c, t, difference="absolute")
    bins = (r.chance_to_win > 0.8) & (r.chance_to_win < 0.9)
    assert np.mean(true[bins] > 0) == pytest.approx(np.mean(r.chance_to_win[bins]), abs=0.03)


def test_improper_variance_is_rejected() -> None:
    with pytest.raises(StatsInputError):
        GaussianPrior(0.0, 0.0, proper=True)
