"""``growthkit experiment``: analyze (spec file or store), plan, assign."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from growthkit.cli import cli
from growthkit.config import Settings
from growthkit.experiments.assignment import Experiment, assign
from growthkit.experiments.stats import duration_days, sample_size
from growthkit.store import open_store


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROWTHKIT_DB", raising=False)
    return CliRunner()


def _spec(tmp_path: Path) -> Path:
    p = tmp_path / "spec.json"
    spec = {
        "engine": "frequentist",
        "difference": "relative",
        "alpha": 0.05,
        "metric_type": "proportion",
        "variations": [{"name": "control", "n": 1000, "sum": 100}, {"name": "B", "n": 1000, "sum": 130}],
    }
    p.write_text(json.dumps(spec))
    return p


def test_analyze_spec_file_json_and_table(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["experiment", "analyze", str(_spec(tmp_path)), "--json"])
    assert res.exit_code == 0, res.output
    row = json.loads(res.output)["variations"][0]
    assert row["name"] == "B" and row["effect"] == pytest.approx(0.3)
    res = runner.invoke(cli, ["experiment", "analyze", str(_spec(tmp_path))])
    assert res.exit_code == 0 and "ci_low" in res.output and "control (control)" in res.output


def test_analyze_needs_a_spec_or_an_experiment(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["experiment", "analyze"])
    assert res.exit_code == 1 and "--experiment KEY" in res.output
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = runner.invoke(cli, ["experiment", "analyze", str(bad)])
    assert res.exit_code == 1 and "not valid JSON" in res.output


def test_plan_matches_the_power_functions(runner: CliRunner) -> None:
    args = ["experiment", "plan", "--baseline", "0.05", "--mde", "0.02", "--difference", "absolute"]
    res = runner.invoke(cli, [*args, "--daily-users", "1000", "--json"])
    assert res.exit_code == 0, res.output
    p = json.loads(res.output)
    n = int(sample_size(metric="proportion", baseline=0.05, mde=0.02, difference="absolute"))
    assert p["n_per_arm"] == n and p["n_total"] == 2 * n
    assert p["days"] == int(duration_days(n, 1000))
    res = runner.invoke(cli, [*args, "--daily-users", "1000"])
    assert res.exit_code == 0 and "days" in res.output and f"{n:,}" in res.output
    res = runner.invoke(cli, ["experiment", "plan", "--baseline", "30", "--mde", "0.05", "--metric", "mean"])
    assert res.exit_code == 1 and "--sd" in res.output


def test_assign_users_file_is_deterministic(runner: CliRunner, tmp_path: Path) -> None:
    users = [f"u{i}" for i in range(500)]
    f = tmp_path / "users.txt"
    f.write_text("user_id\n" + "\n".join(users) + "\n")
    args = ["experiment", "assign", "--experiment", "hero", "--variations", "control,B", "--weights", "50,50"]
    res = runner.invoke(cli, [*args, "--users", str(f), "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    expected = assign(Experiment("hero", ("control", "B"), (0.5, 0.5)), users).mapping()
    assert got["assignments"] == expected and len(expected) == 500
    res = runner.invoke(cli, [*args, "--users", str(f), "--out", str(tmp_path / "a.csv")])
    assert res.exit_code == 0 and (tmp_path / "a.csv").read_text().startswith("user_id,variation\n")
    res = runner.invoke(cli, [*args, "--weights", "50,x", "--users", str(f)])
    assert res.exit_code == 1 and "--weights" in res.output


def test_assign_from_store_record_then_analyze_with_a_loud_srm(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "shop.duckdb")
    with open_store(Settings(db=db)) as st:
        for i in range(400):
            st.execute(
                "INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES (?, ?, ?, 'purchase', 10)",
                [f"e{i}", f"u{i}", datetime(2030, 1, 2)],
            )
    args = ["experiment", "assign", "--experiment", "skew", "--variations", "control,B", "--weights", "90,10"]
    res = runner.invoke(cli, [*args, "--from-store", "--record", "--db", db])
    assert res.exit_code == 0, res.output
    assert "recorded 400 new exposures" in res.output
    # the analysis assumes 50/50 if the weights were recorded as 50/50: re-record the definition so
    # the stored weights disagree with the 90/10 traffic -> SRM
    with open_store(Settings(db=db)) as st:
        st.execute(
            "UPDATE experiments SET definition = ? WHERE experiment = 'skew'",
            [json.dumps(Experiment("skew", ("control", "B")).to_dict())],
        )
    res = runner.invoke(cli, ["experiment", "analyze", "--experiment", "skew", "--metric", "conversion", "--db", db])
    assert res.exit_code == 0, res.output
    assert "SAMPLE RATIO MISMATCH" in res.output and "dont ship" in res.output
    res = runner.invoke(cli, ["experiment", "analyze", "--experiment", "skew", "--db", db, "--json"])
    assert res.exit_code == 0
    body = json.loads(res.stdout)  # the SRM warning goes to stderr, the JSON stays parseable
    assert "SAMPLE RATIO MISMATCH" in res.stderr
    assert body["srm"]["detected"] and [m["name"] for m in body["metrics"]] == ["conversion", "revenue"]
    res = runner.invoke(cli, ["experiment", "analyze", "--experiment", "skew", "--metric", "nope", "--db", db])
    assert res.exit_code == 1 and "known metrics" in res.output
