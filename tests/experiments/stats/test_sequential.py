"""Sequential testing: type-I error under continuous peeking, gbstats' formulas, the hybrid."""

from __future__ import annotations

import types

import numpy as np
import pytest

from growthkit.experiments.stats import (
    SampleMeanStats,
    StatsInputError,
    effect_moments,
    hybrid_test,
    sequential_rho,
    sequential_test,
    ttest,
)

SIMS, PEEKS, BATCH = 2000, 100, 50  # 100 looks, 50 -> 5,000 units per arm


def _peeking(sim: types.ModuleType, seed: int) -> tuple[SampleMeanStats, SampleMeanStats]:
    rng = np.random.default_rng(seed)
    c = sim.normal_batches(rng, SIMS, PEEKS, BATCH, 10.0, 4.0)
    t = sim.normal_batches(rng, SIMS, PEEKS, BATCH, 10.0, 4.0)
    return SampleMeanStats(*c), SampleMeanStats(*t)


def test_confidence_sequence_keeps_type_one_error_under_peeking_naive_test_does_not(sim: types.ModuleType) -> None:
    c, t = _peeking(sim, 21)
    seq = sequential_test(c, t, difference="absolute", tuning_parameter=5000)
    ever_seq = np.any(seq.p_value < 0.05, axis=1).mean()
    # the p-value and the sequence agree: the sequence excludes 0 exactly when p < alpha
    assert np.array_equal(seq.p_value < 0.05, (seq.ci_low > 0) | (seq.ci_high < 0))
    naive = ttest(c, t, difference="absolute")
    ever_naive = np.any(naive.p_value < 0.05, axis=1).mean()
    assert ever_seq <= 0.05 + sim.binomial_tolerance(0.05, SIMS, 3)
    assert ever_naive > 0.15  # peeking at a fixed-horizon test inflates the error several-fold
    rel = sequential_test(c, t, difference="relative", tuning_parameter=5000)
    assert np.any(rel.p_value < 0.05, axis=1).mean() <= 0.05 + sim.binomial_tolerance(0.05, SIMS, 3)


def test_hybrid_keeps_type_one_error_and_uses_fixed_test_at_the_end(sim: types.ModuleType) -> None:
    c, t = _peeking(sim, 22)
    planned = 2 * BATCH * PEEKS
    h = hybrid_test(c, t, planned_n=planned, difference="absolute")
    assert np.any(h.p_value < 0.05, axis=1).mean() <= 0.05 + sim.binomial_tolerance(0.05, SIMS, 3)
    # at the planned end the interval is (at most) the fixed-horizon interval at 0.8 alpha
    last = SampleMeanStats(c.n[:, -1], c.sum[:, -1], c.sum_squares[:, -1])  # type: ignore[index]
    last_t = SampleMeanStats(t.n[:, -1], t.sum[:, -1], t.sum_squares[:, -1])  # type: ignore[index]
    fixed = ttest(last, last_t, difference="absolute", alpha=0.04)
    assert np.all(h.ci_low[:, -1] >= fixed.ci_low - 1e-12) and np.all(h.ci_high[:, -1] <= fixed.ci_high + 1e-12)
    assert np.mean(np.isclose(h.ci_low[:, -1], fixed.ci_low)) > 0.99  # the fixed interval is the tighter one


def test_confidence_sequence_covers_the_true_effect_at_all_times(sim: types.ModuleType) -> None:
    rng = np.random.default_rng(23)
    c = SampleMeanStats(*sim.normal_batches(rng, SIMS, PEEKS, BATCH, 10.0, 4.0))
    t = SampleMeanStats(*sim.normal_batches(rng, SIMS, PEEKS, BATCH, 10.5, 4.0))
    seq = sequential_test(c, t, difference="absolute", tuning_parameter=10_000)
    always = np.all((seq.ci_low <= 0.5) & (seq.ci_high >= 0.5), axis=1).mean()
    assert always >= 0.95 - sim.binomial_tolerance(0.95, SIMS, 3)


def test_formulas_match_gbstats_conventions() -> None:
    a = 0.05
    assert float(sequential_rho(a, 5000)) == pytest.approx(
        np.sqrt((-2 * np.log(a) + np.log(-2 * np.log(a) + 1)) / 5000)
    )
    c, t = SampleMeanStats(3000, 30_000.0, 330_000.0), SampleMeanStats(3100, 31_500.0, 345_000.0)
    m = effect_moments(c, t)
    r = sequential_test(c, t)
    n, rho, pe, se = 6100, float(sequential_rho(a, 5000)), float(m.effect), float(m.se)
    s2 = se**2 * n
    half = np.sqrt(s2) * np.sqrt(2 * (n * rho**2 + 1) / (n * rho) ** 2 * np.log(np.sqrt(n * rho**2 + 1) / a))
    assert (float(r.ci_low), float(r.ci_high)) == pytest.approx((pe - half, pe + half), rel=1e-10)
    st2 = pe**2 * n / se**2
    tr = n * rho**2 + 1
    assert float(r.p_value) == pytest.approx(min(1.0, 1 / (np.exp(rho**2 * st2 / (2 * tr)) / np.sqrt(tr))), rel=1e-10)


def test_one_sided_sequential_p_value_inverts_the_bound() -> None:
    c, t = SampleMeanStats(3000, 30_000.0, 330_000.0), SampleMeanStats(3000, 30_500.0, 345_000.0)
    g = sequential_test(c, t, alternative="greater", difference="absolute")
    assert 0 < float(g.p_value) < 0.5 and np.isinf(g.ci_high)
    # with rho held fixed, the bound at alpha = p touches 0; rho depends on alpha, so compare via the formula
    m = effect_moments(c, t, difference="absolute")
    n, rho = 6000, float(sequential_rho(0.05, 5000, two_sided=False))
    s2 = float(m.se) ** 2 * n
    tr = n * rho**2 + 1
    half = np.sqrt(s2 * 2 * tr / (n * rho) ** 2 * np.log(1 + np.sqrt(tr) / (2 * float(g.p_value))))
    assert half == pytest.approx(float(m.effect), rel=1e-8)
    less = sequential_test(c, t, alternative="less", difference="absolute")
    assert float(less.p_value) == 1.0 and np.isinf(less.ci_low)


def test_sequential_rejects_bad_options() -> None:
    c = SampleMeanStats(100, 1000.0, 12000.0)
    with pytest.raises(StatsInputError):
        sequential_test(c, c, tuning_parameter=0)
    with pytest.raises(StatsInputError):
        hybrid_test(c, c, planned_n=100, sequential_share=1.0)
    with pytest.raises(StatsInputError):
        sequential_test(c, c, alternative="greater", alpha=0.6)
