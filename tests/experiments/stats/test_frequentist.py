"""Welch t-test on sufficient statistics against scipy on the raw rows, and coverage by simulation."""

from __future__ import annotations

import types

import numpy as np
import pytest
from scipy import stats

from growthkit.experiments.stats import ProportionStats, SampleMeanStats, effect_moments, ttest, welch_df


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_absolute_welch_matches_scipy_on_raw_rows(seed: int, alternative: str, sim: types.ModuleType) -> None:
    rng = np.random.default_rng(seed)
    a = rng.lognormal(2.0, 1.0, size=137)
    b = rng.lognormal(2.1, 1.3, size=211)
    ref = stats.ttest_ind(b, a, equal_var=False, alternative=alternative)
    r = ttest(sim.mean_stats(a), sim.mean_stats(b), difference="absolute", alternative=alternative)
    assert float(r.effect) == pytest.approx(b.mean() - a.mean(), rel=1e-10)
    assert float(r.p_value) == pytest.approx(ref.pvalue, rel=1e-8)
    assert float(r.df) == pytest.approx(ref.df, rel=1e-8)
    ci = ref.confidence_interval(0.95)
    assert float(r.ci_low) == pytest.approx(ci.low, rel=1e-8)
    assert float(r.ci_high) == pytest.approx(ci.high, rel=1e-8)
    assert float(r.se) == pytest.approx(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size), rel=1e-10)


def test_relative_effect_uses_delta_method_on_raw_rows(sim: types.ModuleType) -> None:
    rng = np.random.default_rng(4)
    a, b = rng.gamma(2.0, 5.0, 400), rng.gamma(2.0, 5.5, 500)
    ma, mb, va, vb = a.mean(), b.mean(), a.var(ddof=1), b.var(ddof=1)
    var = vb / (b.size * ma**2) + va * mb**2 / (a.size * ma**4)
    df = (va / a.size + vb / b.size) ** 2 / ((va / a.size) ** 2 / (a.size - 1) + (vb / b.size) ** 2 / (b.size - 1))
    r = ttest(sim.mean_stats(a), sim.mean_stats(b), difference="relative", alpha=0.1)
    assert float(r.effect) == pytest.approx(mb / ma - 1, rel=1e-10)
    assert float(r.se) == pytest.approx(np.sqrt(var), rel=1e-10)
    assert float(r.df) == pytest.approx(df, rel=1e-10)
    t = (mb / ma - 1) / np.sqrt(var)
    assert float(r.p_value) == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-8)
    half = stats.t.ppf(0.95, df) * np.sqrt(var)
    assert (float(r.ci_low), float(r.ci_high)) == pytest.approx((mb / ma - 1 - half, mb / ma - 1 + half), rel=1e-9)


def test_proportion_uses_bernoulli_variance() -> None:
    rng = np.random.default_rng(5)
    a, b = (rng.random(3000) < 0.1).astype(float), (rng.random(2500) < 0.12).astype(float)
    r = ttest(ProportionStats(a.size, a.sum()), ProportionStats(b.size, b.sum()), difference="absolute")
    pa, pb = a.mean(), b.mean()
    se = np.sqrt(pa * (1 - pa) / a.size + pb * (1 - pb) / b.size)
    assert float(r.se) == pytest.approx(se, rel=1e-12)
    assert float(r.effect) == pytest.approx(pb - pa, rel=1e-12)


def test_batch_equals_one_by_one() -> None:
    rng = np.random.default_rng(6)
    n = rng.integers(10, 500, size=(2, 50)).astype(float)
    mu = rng.normal(10, 1, size=(2, 50))
    s = n * mu
    ss = s**2 / n + (n - 1) * rng.uniform(1, 20, size=(2, 50))
    c, t = SampleMeanStats(n[0], s[0], ss[0]), SampleMeanStats(n[1], s[1], ss[1])
    batch = ttest(c, t)
    for i in range(50):
        one = ttest(SampleMeanStats(n[0, i], s[0, i], ss[0, i]), SampleMeanStats(n[1, i], s[1, i], ss[1, i]))
        assert float(one.p_value) == pytest.approx(batch.p_value[i], rel=1e-12)
        assert float(one.ci_low) == pytest.approx(batch.ci_low[i], rel=1e-12)
    # a scalar control broadcasts against a batch of treatments
    assert ttest(SampleMeanStats(n[0, 0], s[0, 0], ss[0, 0]), t).p_value.shape == (50,)


def test_welch_df_helper_matches_scipy() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(0, 1, 20), rng.normal(0, 3, 35)
    df = welch_df(np.array(a.var(ddof=1)), np.array(20.0), np.array(b.var(ddof=1)), np.array(35.0))
    assert float(df) == pytest.approx(stats.ttest_ind(a, b, equal_var=False).df, rel=1e-10)


@pytest.mark.parametrize("difference", ["absolute", "relative"])
def test_intervals_cover_the_true_effect_95_percent(difference: str, sim: types.ModuleType) -> None:
    rng = np.random.default_rng(8)
    sims, na, nb = 4000, 300, 200
    a = rng.exponential(10.0, size=(sims, na))  # skewed revenue-like data
    b = rng.exponential(11.0, size=(sims, nb))
    r = ttest(sim.mean_stats(a), sim.mean_stats(b), difference=difference)
    truth = 1.0 if difference == "absolute" else 0.1
    cover = np.mean((r.ci_low <= truth) & (truth <= r.ci_high))
    assert abs(cover - 0.95) < sim.binomial_tolerance(0.95, sims)
    # under the null the p-values are uniform: 5 % fall under 0.05
    null = ttest(sim.mean_stats(a), sim.mean_stats(rng.exponential(10.0, size=(sims, nb))), difference=difference)
    assert abs(np.mean(null.p_value < 0.05) - 0.05) < sim.binomial_tolerance(0.05, sims)


def test_one_sided_interval_and_p_value_agree() -> None:
    m = effect_moments(SampleMeanStats(100, 1000.0, 12000.0), SampleMeanStats(100, 1030.0, 12800.0))
    g = ttest(SampleMeanStats(100, 1000.0, 12000.0), SampleMeanStats(100, 1030.0, 12800.0), alternative="greater")
    assert np.isinf(g.ci_high) and float(g.ci_low) < float(m.effect)
    lo = ttest(SampleMeanStats(100, 1000.0, 12000.0), SampleMeanStats(100, 1030.0, 12800.0), alternative="less")
    assert float(g.p_value) + float(lo.p_value) == pytest.approx(1.0)
    # the one-sided bound excludes 0 exactly when p < alpha
    at_p = ttest(
        SampleMeanStats(100, 1000.0, 12000.0),
        SampleMeanStats(100, 1030.0, 12800.0),
        alternative="greater",
        alpha=float(g.p_value),
    )
    assert float(at_p.ci_low) == pytest.approx(0.0, abs=1e-12)
