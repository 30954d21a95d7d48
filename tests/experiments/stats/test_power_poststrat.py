"""Power analysis against simulation, and post-stratification."""

from __future__ import annotations

import types

import numpy as np
import pytest

from growthkit.experiments.stats import (
    ProportionStats,
    SampleMeanStats,
    StatsInputError,
    duration_days,
    minimum_detectable_effect,
    plan_experiment,
    post_stratified_moments,
    post_stratified_ttest,
    sample_size,
    ttest,
)

SIMS = 4000


@pytest.mark.parametrize("difference", ["relative", "absolute"])
def test_simulated_power_at_computed_sample_size_is_the_target_proportion(
    sim: types.ModuleType, difference: str
) -> None:
    rng = np.random.default_rng(51)
    p0, mde = 0.08, (0.15 if difference == "relative" else 0.012)
    n = int(sample_size(metric="proportion", baseline=p0, mde=mde, difference=difference))
    p1 = p0 * (1 + mde) if difference == "relative" else p0 + mde
    c = ProportionStats(n, rng.binomial(n, p0, SIMS))
    t = ProportionStats(n, rng.binomial(n, p1, SIMS))
    power = np.mean(ttest(c, t, difference=difference).p_value < 0.05)
    assert abs(power - 0.8) < sim.binomial_tolerance(0.8, SIMS)


@pytest.mark.parametrize("difference", ["relative", "absolute"])
def test_simulated_power_for_means_with_cuped_factor(sim: types.ModuleType, difference: str) -> None:
    rng = np.random.default_rng(52)
    mu, sd, rho, mde = 20.0, 8.0, 0.5, (0.05 if difference == "relative" else 1.0)
    n = int(sample_size(metric="mean", baseline=mu, sd=sd, mde=mde, difference=difference, rho=rho))
    # data after CUPED: the residual standard deviation is sd * sqrt(1 - rho^2)
    sd_adj = sd * np.sqrt(1 - rho**2)
    lift = mu * mde if difference == "relative" else mde
    c = SampleMeanStats(*[x[:, 0] for x in sim.normal_batches(rng, SIMS, 1, n, mu, sd_adj)])
    t = SampleMeanStats(*[x[:, 0] for x in sim.normal_batches(rng, SIMS, 1, n, mu + lift, sd_adj)])
    power = np.mean(ttest(c, t, difference=difference).p_value < 0.05)
    assert abs(power - 0.8) < sim.binomial_tolerance(0.8, SIMS)


def test_mde_inverts_sample_size_and_cuped_shrinks_n() -> None:
    for metric, base in (("proportion", 0.05), ("mean", 30.0)):
        for difference in ("relative", "absolute"):
            n = minimum_detectable_effect(metric=metric, baseline=base, sd=12.0, n_per_arm=5000, difference=difference)
            back = sample_size(metric=metric, baseline=base, sd=12.0, mde=n, difference=difference)
            assert float(back) == pytest.approx(5000, abs=1)
    plain = sample_size(metric="mean", baseline=10, sd=5, mde=0.5, difference="absolute")
    cuped = sample_size(metric="mean", baseline=10, sd=5, mde=0.5, difference="absolute", rho=0.6)
    assert float(cuped) == pytest.approx(float(plain) * 0.64, abs=1)
    # the textbook formula for two proportions (absolute): (z_a + z_b)^2 (p0 q0 + p1 q1) / d^2
    z = 1.959964 + 0.841621
    assert float(sample_size(metric="proportion", baseline=0.1, mde=0.02, difference="absolute")) == pytest.approx(
        np.ceil(z**2 * (0.09 + 0.12 * 0.88) / 0.02**2), abs=1
    )


def test_duration_and_plan() -> None:
    assert float(duration_days(1000, 300)) == 7  # 2000 units at 300/day
    assert float(duration_days(1000, 300, n_arms=3, traffic_share=0.5)) == 20
    p = plan_experiment(metric="proportion", baseline=0.1, mde=0.1, daily_units=1000)
    assert float(p.n_total) == 2 * float(p.n_per_arm) and float(p.days) == np.ceil(float(p.n_total) / 1000)
    with pytest.raises(StatsInputError):
        sample_size(metric="proportion", baseline=1.5, mde=0.1)
    with pytest.raises(StatsInputError):
        sample_size(metric="mean", baseline=1, sd=1, mde=0.1, rho=1.0)


def test_one_stratum_equals_the_plain_welch_test() -> None:
    c = SampleMeanStats([500.0], [5000.0], [60_000.0])
    t = SampleMeanStats([480.0], [5100.0], [63_000.0])
    ps = post_stratified_ttest(c, t)
    plain = ttest(SampleMeanStats(500.0, 5000.0, 60_000.0), SampleMeanStats(480.0, 5100.0, 63_000.0))
    for f in ("effect", "se", "df", "p_value", "ci_low"):
        assert float(getattr(ps, f)) == pytest.approx(float(getattr(plain, f)), rel=1e-10)


def test_post_stratification_against_raw_rows_and_coverage(sim: types.ModuleType) -> None:
    rng = np.random.default_rng(53)
    sims, shares, means = 3000, np.array([0.2, 0.5, 0.3]), np.array([5.0, 20.0, 60.0])
    n = 600

    # units fall into strata at random in each arm; strata means differ a lot
    def arm(lift: float) -> SampleMeanStats:
        counts = rng.multinomial(n, shares, size=sims).astype(float)
        s = rng.normal(counts * (means + lift), 4.0 * np.sqrt(np.maximum(counts, 1)))
        ss = s**2 / np.maximum(counts, 1) + 16.0 * rng.chisquare(np.maximum(counts - 1, 1))
        return SampleMeanStats(counts, s, ss)

    c, t = arm(0.0), arm(1.0)
    r = post_stratified_ttest(c, t, difference="absolute")
    cover = np.mean((r.ci_low <= 1.0) & (r.ci_high >= 1.0))
    assert abs(cover - 0.95) < sim.binomial_tolerance(0.95, sims)
    pooled = ttest(
        SampleMeanStats(c.n.sum(1), c.sum.sum(1), c.sum_squares.sum(1)),  # type: ignore[attr-defined]
        SampleMeanStats(t.n.sum(1), t.sum.sum(1), t.sum_squares.sum(1)),  # type: ignore[attr-defined]
        difference="absolute",
    )
    assert np.median(r.se) < 0.5 * np.median(pooled.se)  # stratification removes the between-strata variance
    # hand check of the estimator on one row
    w = (c.n[0] + t.n[0]) / (c.n[0] + t.n[0]).sum()  # type: ignore[index]
    est = (w * (t.sum[0] / t.n[0] - c.sum[0] / c.n[0])).sum()  # type: ignore[index]
    assert float(r.effect[0]) == pytest.approx(est, rel=1e-10)


def test_post_stratified_proportions_and_small_strata() -> None:
    c = ProportionStats(n=[1000, 3000], sum=[50, 300])
    t = ProportionStats(n=[1000, 3000], sum=[60, 330])
    m = post_stratified_moments(c, t, difference="absolute")
    assert float(m.effect) == pytest.approx(0.25 * 0.01 + 0.75 * 0.01)
    tiny = post_stratified_moments(ProportionStats([1, 3000], [0, 300]), ProportionStats([5, 3000], [1, 330]))
    assert str(tiny.status) == "too_few_units" and float(tiny.effect) == 0.0
