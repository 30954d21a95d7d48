"""Property-based invariants of the engine."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from growthkit.experiments.stats import SampleMeanStats, bayesian_test, effect_moments, sequential_test, ttest

arm = st.builds(
    lambda n, mean, var: SampleMeanStats(n, n * mean, n * mean**2 + (n - 1) * var),
    st.integers(0, 10_000),
    st.floats(-1e4, 1e4, allow_nan=False),
    st.floats(0, 1e6, allow_nan=False),
)
difference = st.sampled_from(["relative", "absolute"])
alternative = st.sampled_from(["two-sided", "greater", "less"])


@settings(max_examples=200, deadline=None)
@given(arm, arm, difference, alternative, st.floats(0.001, 0.49))
def test_interval_contains_estimate_and_p_in_unit_interval(
    c: SampleMeanStats, t: SampleMeanStats, d: str, alt: str, alpha: float
) -> None:
    for fn in (ttest, sequential_test):
        r = fn(c, t, difference=d, alternative=alt, alpha=alpha)  # type: ignore[operator]
        assert 0.0 <= float(r.p_value) <= 1.0
        assert float(r.ci_low) <= float(r.effect) <= float(r.ci_high)
        assert not np.isnan([float(r.effect), float(r.se), float(r.ci_low), float(r.ci_high)]).any()
    b = bayesian_test(c, t, difference=d, alpha=alpha)
    assert 0.0 <= float(b.chance_to_win) <= 1.0 and float(b.risk_treatment) >= 0 and float(b.risk_control) >= 0


@settings(max_examples=200, deadline=None)
@given(arm, arm)
def test_swapping_arms_flips_the_absolute_effect(c: SampleMeanStats, t: SampleMeanStats) -> None:
    a, b = ttest(c, t, difference="absolute"), ttest(t, c, difference="absolute")
    assert str(a.status) == str(b.status)
    np.testing.assert_allclose(float(a.effect), -float(b.effect), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(float(a.p_value), float(b.p_value), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(float(a.ci_low), -float(b.ci_high), rtol=1e-7, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(arm, arm, st.floats(0.01, 0.2))
def test_sequential_interval_is_wider_than_fixed(c: SampleMeanStats, t: SampleMeanStats, alpha: float) -> None:
    m = effect_moments(c, t)
    if str(m.status) != "ok" or float(m.df) < 30:
        return
    fixed, seq = ttest(c, t, alpha=alpha), sequential_test(c, t, alpha=alpha)
    assert (
        float(seq.ci_high - seq.ci_low) >= float(fixed.ci_high - fixed.ci_low) * (1 - 1e-9)
        or float(m.n_control + m.n_treatment) > 1e6
    )
