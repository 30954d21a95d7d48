"""Degenerate data gives a defined result with a status, never an exception or an unexplained NaN."""

from __future__ import annotations

import numpy as np
import pytest

from growthkit.experiments.stats import (
    MESSAGES,
    ProportionStats,
    RatioStats,
    RegressionAdjustedStats,
    SampleMeanStats,
    StatsInputError,
    bayesian_test,
    hybrid_test,
    sequential_test,
    ttest,
)

GOOD = SampleMeanStats(100, 1000.0, 12_000.0)
CASES = {
    "zero_variance": SampleMeanStats(100, 1000.0, 10_000.0),  # every unit = 10
    "too_few_units": SampleMeanStats(1, 10.0, 100.0),
    "empty": SampleMeanStats(0, 0.0, 0.0),
    "baseline_zero": SampleMeanStats(100, 0.0, 50.0),
    "invalid_input": SampleMeanStats(100, 1000.0, 5.0),  # sum_squares < sum^2 / n
    "negative_n": SampleMeanStats(-5, 10.0, 100.0),
    "nan": SampleMeanStats(100, np.nan, 12_000.0),
}
EXPECTED = {
    "zero_variance": "zero_variance",
    "too_few_units": "too_few_units",
    "empty": "too_few_units",
    "baseline_zero": "baseline_zero",
    "invalid_input": "invalid_input",
    "negative_n": "invalid_input",
    "nan": "invalid_input",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_engine_returns_defaults_with_a_status(case: str) -> None:
    bad = CASES[case]
    for fn in (ttest, sequential_test, bayesian_test):
        r = fn(bad, GOOD)  # type: ignore[operator]
        assert str(r.status) == EXPECTED[case], fn.__name__
        assert str(r.message) == MESSAGES[EXPECTED[case]] and str(r.message)
        values = [np.asarray(getattr(r, f), dtype=float) for f in ("effect", "se", "ci_low", "ci_high")]
        assert all(np.all(np.isfinite(v)) for v in values)
        assert float(r.effect) == 0.0 and float(r.ci_low) == 0.0 == float(r.ci_high)
    assert float(ttest(bad, GOOD).p_value) == 1.0
    assert float(bayesian_test(bad, GOOD).chance_to_win) == 0.5
    assert float(hybrid_test(bad, GOOD, planned_n=100).p_value) == 1.0


def test_mixed_batch_keeps_good_rows() -> None:
    c = SampleMeanStats([100, 100, 1], [1000.0, 1000.0, 10.0], [12_000.0, 10_000.0, 100.0])
    t = SampleMeanStats([100, 100, 100], [1100.0, 1100.0, 1100.0], [14_000.0, 14_000.0, 14_000.0])
    r = ttest(c, t)
    assert r.status.tolist() == ["ok", "zero_variance", "too_few_units"]
    assert 0 < r.p_value[0] < 1 and r.p_value[1:].tolist() == [1.0, 1.0]
    assert all(np.isfinite(r.ci_low)) and r.message[0] == ""


def test_relative_zero_baseline_but_absolute_is_fine() -> None:
    c, t = ProportionStats(1000, 0), ProportionStats(1000, 5)
    assert str(ttest(c, t).status) == "baseline_zero"
    # absolute: control has zero variance too (gbstats' convention: any zero-variance arm is degenerate)
    assert str(ttest(c, t, difference="absolute").status) == "zero_variance"
    assert str(ttest(ProportionStats(1000, 1), t, difference="absolute").status) == "ok"


def test_ratio_and_cuped_degenerate() -> None:
    zero_d = RatioStats(100, 50.0, 80.0, 0.0, 0.0, 0.0)
    ok = RatioStats(100, 50.0, 80.0, 100.0, 140.0, 70.0)
    assert str(ttest(zero_d, ok).status) == "baseline_zero"
    one = RegressionAdjustedStats(1, 1.0, 1.0, 1.0, 1.0, 1.0)
    two = RegressionAdjustedStats(100, 100.0, 300.0, 90.0, 250.0, 200.0)
    assert str(ttest(one, two).status) == "too_few_units"


def test_structural_errors_raise_stats_input_error() -> None:
    with pytest.raises(StatsInputError):
        ttest(GOOD, ProportionStats(100, 10))  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # StatsInputError is a ValueError too
        ttest(GOOD, GOOD, difference="percent")
    with pytest.raises(StatsInputError):
        ttest(GOOD, GOOD, alpha=1.5)
    with pytest.raises(StatsInputError):
        ttest(SampleMeanStats([1, 2], [1, 2], [1, 4]), SampleMeanStats([1, 2, 3], [1, 2, 3], [1, 4, 9]))
