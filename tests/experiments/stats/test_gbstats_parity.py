"""Parity with GrowthBook's gbstats on random inputs (skipped when gbstats is not installed).

gbstats is not a dependency; install it next to the dev tools to run these checks
(``pip install gbstats``). Checked against gbstats 0.8.0 from PyPI. One known difference:
for *relative CUPED* we use the newer gbstats delta method (``frequentist_variance_relative_cuped``
on GitHub main), while 0.8.0 still applies the plain relative formula to adjusted variances, so
that case is compared with absolute effects only.
"""

from __future__ import annotations

import numpy as np
import pytest

from growthkit.experiments.stats import (
    GaussianPrior,
    ProportionStats,
    RatioStats,
    RegressionAdjustedStats,
    SampleMeanStats,
    bayesian_test,
    sequential_test,
    ttest,
)

gbs = pytest.importorskip("gbstats.models.statistics")
gbf = pytest.importorskip("gbstats.frequentist.tests")
gbb = pytest.importorskip("gbstats.bayesian.tests")


def _random_arm(rng: np.random.Generator) -> tuple[int, float, float]:
    n = int(rng.integers(20, 5000))
    mean, var = rng.uniform(0.5, 50), rng.uniform(0.1, 500)
    s = n * mean
    return n, s, s * s / n + (n - 1) * var


def _close(ours: float, theirs: float) -> None:
    assert ours == pytest.approx(theirs, rel=1e-7, abs=1e-10)


@pytest.mark.parametrize("difference", ["relative", "absolute"])
def test_frequentist_sequential_and_bayesian_match_on_random_means(difference: str) -> None:
    rng = np.random.default_rng(61)
    for _ in range(60):
        a, b = _random_arm(rng), _random_arm(rng)
        ga, gb = gbs.SampleMeanStatistic(*a), gbs.SampleMeanStatistic(*b)
        alpha = float(rng.choice([0.05, 0.1]))
        ref = gbf.TwoSidedTTest(ga, gb, gbf.FrequentistConfig(difference_type=difference, alpha=alpha)).compute_result()
        ours = ttest(SampleMeanStats(*a), SampleMeanStats(*b), difference=difference, alpha=alpha)
        _close(float(ours.effect), ref.expected)
        _close(float(ours.p_value), ref.p_value)
        _close(float(ours.ci_low), ref.ci[0])
        _close(float(ours.ci_high), ref.ci[1])
        cfg = gbf.SequentialConfig(difference_type=difference, alpha=alpha, sequential_tuning_parameter=3000)
        seq_ref = gbf.SequentialTwoSidedTTest(ga, gb, cfg).compute_result()
        seq = sequential_test(
            SampleMeanStats(*a), SampleMeanStats(*b), difference=difference, alpha=alpha, tuning_parameter=3000
        )
        _close(float(seq.p_value), seq_ref.p_value)
        _close(float(seq.ci_low), seq_ref.ci[0])
        prior = gbb.GaussianPrior(mean=0.01, variance=0.05, proper=True)
        bcfg = gbb.EffectBayesianConfig(difference_type=difference, prior_type=difference, prior_effect=prior)
        b_ref = gbb.EffectBayesianABTest(ga, gb, bcfg).compute_result()
        bay = bayesian_test(
            SampleMeanStats(*a), SampleMeanStats(*b), difference=difference, prior=GaussianPrior(0.01, 0.05, True)
        )
        _close(float(bay.chance_to_win), b_ref.chance_to_win)
        _close(float(bay.effect), b_ref.expected)
        _close(float(bay.ci_low), b_ref.ci[0])
        _close(float(bay.risk_control), b_ref.risk[0])
        _close(float(bay.risk_treatment), b_ref.risk[1])


def test_proportions_ratios_and_cuped_match() -> None:
    rng = np.random.default_rng(62)
    for _ in range(40):
        n_a, n_b = int(rng.integers(100, 5000)), int(rng.integers(100, 5000))
        s_a, s_b = int(rng.integers(5, n_a // 2)), int(rng.integers(5, n_b // 2))
        ref = gbf.TwoSidedTTest(gbs.ProportionStatistic(n_a, s_a), gbs.ProportionStatistic(n_b, s_b)).compute_result()
        ours = ttest(ProportionStats(n_a, s_a), ProportionStats(n_b, s_b))
        _close(float(ours.p_value), ref.p_value)
        # ratio: numerator and denominator per unit
        stats_r = []
        for n in (n_a, n_b):
            d = rng.poisson(2, n) + 1.0
            m = d * rng.gamma(2.0, 10.0, n)
            stats_r.append((n, m.sum(), (m * m).sum(), d.sum(), (d * d).sum(), (m * d).sum()))
        g = [
            gbs.RatioStatistic(
                n=r[0], m_statistic=gbs.SampleMeanStatistic(r[0], r[1], r[2]),
                d_statistic=gbs.SampleMeanStatistic(r[0], r[3], r[4]), m_d_sum_of_products=r[5],
            )
            for r in stats_r
        ]  # fmt: skip
        ref = gbf.TwoSidedTTest(g[0], g[1]).compute_result()
        ours = ttest(RatioStats(*stats_r[0]), RatioStats(*stats_r[1]))
        _close(float(ours.p_value), ref.p_value)
        _close(float(ours.ci_high), ref.ci[1])
        # CUPED (absolute; see the module docstring)
        raw = []
        for n in (n_a, n_b):
            x = rng.normal(10, 3, n)
            y = 2 + 0.8 * x + rng.normal(0, 2, n)
            raw.append((n, y.sum(), (y * y).sum(), x.sum(), (x * x).sum(), (x * y).sum()))
        g = [
            gbs.RegressionAdjustedStatistic(
                n=r[0], post_statistic=gbs.SampleMeanStatistic(r[0], r[1], r[2]),
                pre_statistic=gbs.SampleMeanStatistic(r[0], r[3], r[4]), post_pre_sum_of_products=r[5], theta=0,
            )
            for r in raw
        ]  # fmt: skip
        theta = gbs.compute_theta(g[0], g[1])
        for s in g:
            s.theta = theta
        ref = gbf.TwoSidedTTest(g[0], g[1], gbf.FrequentistConfig(difference_type="absolute")).compute_result()
        ours = ttest(RegressionAdjustedStats(*raw[0]), RegressionAdjustedStats(*raw[1]), difference="absolute")
        _close(float(ours.p_value), ref.p_value)
        _close(float(ours.ci_low), ref.ci[0])
