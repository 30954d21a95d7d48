"""Decision rules with success and guardrail metrics."""

from __future__ import annotations

import pytest

from growthkit.experiments.stats import MetricOutcome, StatsInputError, decide

WIN = MetricOutcome("revenue", "success", 0.05, 0.01, 0.09)
FLAT = MetricOutcome("revenue", "success", 0.01, -0.02, 0.04)
LOSS = MetricOutcome("revenue", "success", -0.05, -0.09, -0.01)
GUARD_OK = MetricOutcome("refunds", "guardrail", 0.0, -0.01, 0.01, higher_is_better=False)
GUARD_BAD = MetricOutcome("refunds", "guardrail", 0.03, 0.01, 0.05, higher_is_better=False)


def test_rules_in_order() -> None:
    assert decide([WIN, GUARD_OK]).action == "ship"
    d = decide([WIN, GUARD_BAD])
    assert d.action == "dont_ship" and "refunds" in d.reasons[0] and "worse" in d.reasons[0]
    assert decide([LOSS, GUARD_OK]).action == "dont_ship"
    assert decide([FLAT, GUARD_OK]).action == "keep_running"
    assert decide([FLAT], reached_planned_sample=True).action == "dont_ship"
    srm = decide([WIN], srm_p_value=1e-6)
    assert srm.action == "dont_ship" and "sample ratio mismatch" in srm.reasons[0]


def test_lower_is_better_success_and_degenerate_metrics() -> None:
    faster = MetricOutcome("load_time", "success", -0.1, -0.2, -0.05, higher_is_better=False)
    assert decide([faster]).action == "ship"
    broken = MetricOutcome("revenue", "success", 0.0, 0.0, 0.0, status="zero_variance")
    d = decide([broken])
    assert d.action == "keep_running" and any("zero_variance" in r for r in d.reasons)


def test_invalid_inputs() -> None:
    with pytest.raises(StatsInputError):
        decide([GUARD_OK])
    with pytest.raises(StatsInputError):
        MetricOutcome("x", "primary", 0.0, 0.0, 0.0)  # type: ignore[arg-type]
    with pytest.raises(StatsInputError):
        MetricOutcome("x", "success", 0.0, 1.0, -1.0)
