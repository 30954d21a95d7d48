"""Simulate an A/B test with a known effect -> DuckDB store -> analyse: the truth is recovered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from growthkit.config import Settings
from growthkit.experiments.assignment import Experiment, assign
from growthkit.experiments.exposures import record_exposure_rows
from growthkit.sim.experiment import ExperimentSimConfig, ExperimentSimData, simulate_experiment
from growthkit.store import open_store
from growthkit.workflows import ingest_files
from growthkit.workflows.experiments import analyze_experiment

EXP = Experiment("sim-checkout", ("control", "treatment"))
CONFIG = ExperimentSimConfig(key=EXP.key, users=30_000, seed=2024, conversion_lift=0.15)


def _simulated() -> ExperimentSimData:
    return simulate_experiment(CONFIG, assign=lambda ids: assign(EXP, ids).variation_index)


def _load(settings: Settings, data: ExperimentSimData, exposures: pa.Table, tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pq.write_table(data.events, path)
    report = ingest_files(settings, [path], kind="events")
    assert report.rows_loaded == data.events.num_rows and report.rows_quarantined == 0
    with open_store(settings) as store:
        record_exposure_rows(store, EXP, exposures)


def _metric(res: dict[str, Any], name: str) -> dict[str, Any]:
    m = next(m for m in res["metrics"] if m["name"] == name)
    row: dict[str, Any] = m["result"]["variations"][0]
    assert row["name"] == "treatment" and row["status"] == "ok"
    return row


def test_true_effect_is_inside_the_interval_and_the_decision_is_ship(settings: Settings, tmp_path: Path) -> None:
    data = _simulated()
    _load(settings, data, data.exposures, tmp_path)
    res = analyze_experiment(settings, EXP.key, ["conversion", "revenue", "revenue_per_order"], end=CONFIG.end)

    assert res["srm"]["p_value"] > 0.01 and not res["srm"]["detected"]
    assert sum(v["users"] for v in res["variations"]) == CONFIG.users
    truth = data.truth.relative_lift
    for name in ("conversion", "revenue"):
        row = _metric(res, name)
        assert row["ci_low"] <= truth[name] <= row["ci_high"], (name, truth[name], row)
        assert row["ci_low"] > 0, (name, row)  # the real effect is found
    rpo = _metric(res, "revenue_per_order")  # the treatment changes conversion, not order value
    assert rpo["ci_low"] <= truth["revenue_per_order"] <= rpo["ci_high"]
    assert all(m["result"]["cuped"] == m["covariate"] for m in res["metrics"])
    assert res["decisions"] == [{"variation": "treatment", "action": "ship", "reasons": res["decisions"][0]["reasons"]}]


def test_losing_a_tenth_of_treatment_exposures_fires_srm(settings: Settings, tmp_path: Path) -> None:
    data = _simulated()
    rng = np.random.default_rng(0)
    treated = pc.equal(data.exposures["variation"], "treatment").to_numpy(zero_copy_only=False)
    keep = ~(treated & (rng.random(data.exposures.num_rows) < 0.10))
    _load(settings, data, data.exposures.filter(pa.array(keep)), tmp_path)
    res = analyze_experiment(settings, EXP.key, ["conversion"], end=CONFIG.end)
    assert res["srm"]["detected"] and res["srm"]["p_value"] < 1e-6
    assert "SAMPLE RATIO MISMATCH" in res["srm"]["warning"]
    assert res["decisions"][0]["action"] == "dont_ship"
    assert res["metrics"][0]["result"]["srm_detected"]  # the engine, given the weights, agrees


@pytest.mark.parametrize("lift", [0.0])
def test_simulator_truth_for_no_effect_is_zero(lift: float) -> None:
    data = simulate_experiment(ExperimentSimConfig(users=500, conversion_lift=lift, seed=1))
    assert all(abs(v) < 1e-12 for v in data.truth.relative_lift.values())
