"""Ratio delta method and CUPED (one and several covariates) against computations on raw rows."""

from __future__ import annotations

import types

import numpy as np
import pytest

from growthkit.experiments.stats import (
    MultiRegressionAdjustedStats,
    RegressionAdjustedStats,
    effect_moments,
    ttest,
)


def _raw_ratio_var(m: np.ndarray, d: np.ndarray) -> float:
    mm, dm = m.mean(), d.mean()
    cov = np.cov(m, d, ddof=1)
    return float(cov[0, 0] / dm**2 - 2 * cov[0, 1] * mm / dm**3 + mm**2 * cov[1, 1] / dm**4)


def test_ratio_variance_matches_analytic_formula_on_raw_rows(sim: types.ModuleType) -> None:
    rng = np.random.default_rng(11)
    d = rng.poisson(3, 800).astype(float) + 1.0  # orders per user
    m = d * rng.gamma(3.0, 10.0, 800)  # revenue per user
    r = sim.ratio_stats(m, d)
    assert float(r.mean) == pytest.approx(m.sum() / d.sum(), rel=1e-12)
    assert float(r.variance) == pytest.approx(_raw_ratio_var(m, d), rel=1e-9)


def test_ratio_standard_error_matches_bootstrap(sim: types.ModuleType) -> None:
    rng = np.random.default_rng(12)
    n = 600
    d1, d2 = rng.poisson(2, n) + 1.0, rng.poisson(2, n) + 1.0
    m1, m2 = d1 * rng.gamma(2.0, 10.0, n), d2 * rng.gamma(2.0, 11.0, n)
    res = ttest(sim.ratio_stats(m1, d1), sim.ratio_stats(m2, d2), difference="relative")
    idx1, idx2 = rng.integers(0, n, size=(2000, n)), rng.integers(0, n, size=(2000, n))
    r1 = m1[idx1].sum(1) / d1[idx1].sum(1)
    r2 = m2[idx2].sum(1) / d2[idx2].sum(1)
    boot_se = np.std(r2 / r1 - 1, ddof=1)
    assert float(res.se) == pytest.approx(boot_se, rel=0.08)
    assert float(res.effect) == pytest.approx((m2.sum() / d2.sum()) / (m1.sum() / d1.sum()) - 1, rel=1e-10)


def test_ratio_interval_coverage(sim: types.ModuleType) -> None:
    rng = np.random.default_rng(13)
    sims, n = 3000, 400
    d1, d2 = rng.poisson(2, (sims, n)) + 1.0, rng.poisson(2, (sims, n)) + 1.0
    m1, m2 = d1 * rng.exponential(10.0, (sims, n)), d2 * rng.exponential(10.0, (sims, n))
    stats = [
        type(sim.ratio_stats(m1[0], d1[0]))(
            n=np.full(sims, float(n)), m_sum=m.sum(1), m_sum_squares=(m * m).sum(1), d_sum=d.sum(1),
            d_sum_squares=(d * d).sum(1), m_d_sum_of_products=(m * d).sum(1),
        )
        for m, d in ((m1, d1), (m2, d2))
    ]  # fmt: skip
    r = ttest(stats[0], stats[1], difference="absolute")
    cover = np.mean((r.ci_low <= 0) & (r.ci_high >= 0))
    assert abs(cover - 0.95) < sim.binomial_tolerance(0.95, sims)


def _cuped_data(rng: np.random.Generator, n: int, lift: float, rho: float = 0.7) -> tuple[np.ndarray, ...]:
    x = rng.normal(10, 3, size=(2, n))
    y = 10 + rho * (x - 10) + np.sqrt(1 - rho**2) * 3 * rng.normal(size=(2, n))
    y[1] += lift
    return x, y


def test_cuped_theta_is_pooled_ols_slope_and_effect_matches_raw_rows(sim: types.ModuleType) -> None:
    rng = np.random.default_rng(14)
    x, y = _cuped_data(rng, 500, 0.5)
    m = effect_moments(sim.cuped_stats(y[0], x[0]), sim.cuped_stats(y[1], x[1]), difference="absolute")
    xp, yp = x.ravel(), y.ravel()
    slope = np.linalg.lstsq(np.column_stack([np.ones_like(xp), xp]), yp, rcond=None)[0][1]
    assert float(m.theta) == pytest.approx(slope, rel=1e-9)
    adj = y - slope * x
    assert float(m.effect) == pytest.approx(adj[1].mean() - adj[0].mean(), rel=1e-9)
    se = np.sqrt(adj[0].var(ddof=1) / 500 + adj[1].var(ddof=1) / 500)
    assert float(m.se) == pytest.approx(se, rel=1e-9)
    # relative: divides by the unadjusted control mean; gbstats' delta-method variance
    rel = effect_moments(sim.cuped_stats(y[0], x[0]), sim.cuped_stats(y[1], x[1]), difference="relative")
    assert float(rel.effect) == pytest.approx((adj[1].mean() - adj[0].mean()) / y[0].mean(), rel=1e-9)
    g = y[1].mean() / y[0].mean()
    cov_c = np.cov(y[0], x[0])
    v_ctrl = cov_c[0, 0] * g**2 - 2 * slope * cov_c[0, 1] * g + slope**2 * cov_c[1, 1]
    var = adj[1].var(ddof=1) / (500 * y[0].mean() ** 2) + v_ctrl / (500 * y[0].mean() ** 2)
    assert float(rel.se) == pytest.approx(np.sqrt(var), rel=1e-9)


def test_cuped_reduces_variance_by_one_minus_rho_squared(sim: types.ModuleType) -> None:
    rng = np.random.default_rng(15)
    x, y = _cuped_data(rng, 20_000, 0.0, rho=0.6)
    adj = effect_moments(sim.cuped_stats(y[0], x[0]), sim.cuped_stats(y[1], x[1]), difference="absolute")
    raw = effect_moments(sim.mean_stats(y[0]), sim.mean_stats(y[1]), difference="absolute")
    assert float(adj.se**2 / raw.se**2) == pytest.approx(1 - 0.6**2, rel=0.05)


@pytest.mark.parametrize("difference", ["absolute", "relative"])
def test_cuped_interval_coverage(sim: types.ModuleType, difference: str) -> None:
    rng = np.random.default_rng(16)
    sims, n = 4000, 300
    x = rng.normal(10, 3, size=(2, sims, n))
    y = 10 + 0.8 * (x - 10) + 1.8 * rng.normal(size=(2, sims, n))
    y[1] += 0.5
    r = ttest(sim.cuped_stats(y[0], x[0]), sim.cuped_stats(y[1], x[1]), difference=difference)
    truth = 0.5 if difference == "absolute" else 0.05
    cover = np.mean((r.ci_low <= truth) & (truth <= r.ci_high))
    assert abs(cover - 0.95) < sim.binomial_tolerance(0.95, sims)


def _multi(y: np.ndarray, xs: np.ndarray) -> MultiRegressionAdjustedStats:
    return MultiRegressionAdjustedStats(
        n=float(y.size), post_sum=y.sum(), post_sum_squares=(y * y).sum(), pre_sum=xs.sum(0),
        pre_sum_squares=xs.T @ xs, post_pre_sum_of_products=xs.T @ y,
    )  # fmt: skip


def test_multi_covariate_theta_is_pooled_ols_and_k1_equals_single(sim: types.ModuleType) -> None:
    rng = np.random.default_rng(17)
    n = 700
    xs = rng.normal(size=(2, n, 3)) @ np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    y = 5 + xs @ np.array([1.0, -0.5, 0.25]) + rng.normal(size=(2, n))
    y[1] += 0.2
    m = effect_moments(_multi(y[0], xs[0]), _multi(y[1], xs[1]), difference="absolute")
    xp, yp = xs.reshape(-1, 3), y.ravel()
    beta = np.linalg.lstsq(np.column_stack([np.ones(2 * n), xp]), yp, rcond=None)[0][1:]
    assert m.theta == pytest.approx(beta, rel=1e-8)
    adj = y - xs @ beta
    assert float(m.effect) == pytest.approx(adj[1].mean() - adj[0].mean(), rel=1e-8)
    assert float(m.se) == pytest.approx(np.sqrt(adj[0].var(ddof=1) / n + adj[1].var(ddof=1) / n), rel=1e-8)
    one = effect_moments(_multi(y[0], xs[0][:, :1]), _multi(y[1], xs[1][:, :1]), difference="relative")
    single = effect_moments(sim.cuped_stats(y[0], xs[0][:, 0]), sim.cuped_stats(y[1], xs[1][:, 0]))
    assert float(one.effect) == pytest.approx(float(single.effect), rel=1e-9)
    assert float(one.se) == pytest.approx(float(single.se), rel=1e-9)


def test_constant_covariate_falls_back_to_unadjusted(sim: types.ModuleType) -> None:
    rng = np.random.default_rng(18)
    y = rng.normal(10, 2, size=(2, 100))
    x = np.ones((2, 100))
    adj = ttest(sim.cuped_stats(y[0], x[0]), sim.cuped_stats(y[1], x[1]))
    raw = ttest(sim.mean_stats(y[0]), sim.mean_stats(y[1]))
    assert float(adj.p_value) == pytest.approx(float(raw.p_value), rel=1e-10)
    xs = np.stack([np.ones((2, 100)), rng.normal(size=(2, 100))], axis=-1)
    multi = effect_moments(_multi(y[0], xs[0]), _multi(y[1], xs[1]))
    assert str(multi.status) == "ok" and multi.theta[0] == pytest.approx(0.0, abs=1e-9)


def test_proportion_cuped_uses_population_moments() -> None:
    s_c = RegressionAdjustedStats(1000, 100, 100, 90, 90, 60, proportion=True)
    s_t = RegressionAdjustedStats(1000, 120, 120, 95, 95, 70, proportion=True)
    m = effect_moments(s_c, s_t, difference="absolute")
    n, sy, sx, sxy = 2000, 220, 185, 130
    theta = (sxy / n - sy * sx / n**2) / (sx / n * (1 - sx / n))
    assert float(m.theta) == pytest.approx(theta, rel=1e-12)
