"""The experiment simulator: seeded, vectorised, canonical output, exact truth."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest

from growthkit.sim.experiment import ExperimentSimConfig, simulate_experiment
from growthkit.sim.frames import EVENTS_SCHEMA

SMALL = ExperimentSimConfig(users=3_000, seed=5, conversion_lift=0.2, amount_lift=0.1)


def test_same_config_same_data_and_canonical_schema() -> None:
    a, b = simulate_experiment(SMALL), simulate_experiment(SMALL)
    assert a.events.equals(b.events) and a.exposures.equals(b.exposures) and a.truth == b.truth
    assert a.events.schema == EVENTS_SCHEMA
    assert pc.count_distinct(a.events["event_id"]).as_py() == a.events.num_rows
    c = simulate_experiment(ExperimentSimConfig(users=3_000, seed=6, conversion_lift=0.2, amount_lift=0.1))
    assert not a.events.equals(c.events)


def test_truth_combines_the_lifts_exactly() -> None:
    t = simulate_experiment(SMALL).truth
    assert t.relative_lift["orders"] == pytest.approx(0.2)
    assert t.relative_lift["revenue"] == pytest.approx(1.2 * 1.1 - 1)
    assert t.relative_lift["revenue_per_order"] == pytest.approx(0.1)
    assert 0 < t.relative_lift["conversion"] < 0.2  # saturation: P(any) grows less than the rate
    assert t.absolute_lift["revenue"] == pytest.approx(t.control["revenue"] * (1.2 * 1.1 - 1))


def test_events_sit_in_their_windows_and_only_outcome_purchases_are_refunded() -> None:
    d = simulate_experiment(SMALL)
    t0 = dict(zip(d.exposures["user_id"].to_pylist(), d.exposures["ts"].to_pylist(), strict=True))
    ev = d.events.to_pylist()
    days = np.array([(e["ts"] - t0[e["user_id"]]).total_seconds() / 86_400 for e in ev])
    types = np.array([e["event_type"] for e in ev])
    assert days.min() >= -SMALL.pre_days and days[types != "refund"].max() < SMALL.window_days
    assert (days[types == "refund"] >= 1).all()  # 1 to 7 days after an outcome-period purchase
    assert set(types) == {"view", "purchase", "refund"}


def test_observed_lift_is_near_the_truth_at_scale() -> None:
    d = simulate_experiment(ExperimentSimConfig(users=60_000, seed=9, conversion_lift=0.3))
    purchases = d.events.filter(pc.equal(d.events["event_type"], "purchase"))
    t0 = dict(zip(d.exposures["user_id"].to_pylist(), d.exposures["ts"].to_pylist(), strict=True))
    pairs = zip(purchases["user_id"].to_pylist(), purchases["ts"].to_pylist(), strict=True)
    post = np.array([ts >= t0[u] for u, ts in pairs])
    buyers = np.array(purchases["user_id"].to_pylist())[post]
    idx = np.array([int(u[1:]) for u in buyers])
    per_arm = np.bincount(d.variation_index[idx], minlength=2) / np.bincount(d.variation_index, minlength=2)
    assert per_arm[1] / per_arm[0] - 1 == pytest.approx(d.truth.relative_lift["orders"], abs=0.05)


def test_assignment_function_is_used_and_checked() -> None:
    d = simulate_experiment(SMALL, assign=lambda ids: np.where(np.arange(ids.size) % 4 == 0, -1, 1))
    assert d.exposures.num_rows == 2_250 and set(d.exposures["variation"].to_pylist()) == {"treatment"}
    with pytest.raises(ValueError, match="one variation index"):
        simulate_experiment(SMALL, assign=lambda ids: np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize(
    "kwargs",
    [{"users": 0}, {"variations": ("a",)}, {"weights": (0.2, 0.2)}, {"conversion_lift": 1.5}, {"purchase_prob": 0.9}],
)
def test_bad_config_says_what_to_fix(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ExperimentSimConfig(**kwargs)  # type: ignore[arg-type]
