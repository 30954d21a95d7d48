"""``growthkit segment rfm|cluster``: the k-selection table, profiles and personas for people, and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from growthkit.cli import cli
from growthkit.config import Settings
from growthkit.schema import TABLES
from growthkit.sim import SimConfig
from growthkit.sim.writer import simulate
from growthkit.store import open_store


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A 1,000-user simulated shop in a store file, and its truth file."""
    folder = tmp_path_factory.mktemp("segment-cli")
    data = simulate(SimConfig(users=1000, days=90, seed=8))
    db = str(folder / "shop.duckdb")
    with open_store(Settings(db=db, workspace=folder / "ws")) as store:
        for name in ("events", "users", "items", "reviews", "edges"):
            table = getattr(data, name)
            cols = ", ".join(c for c in TABLES[name].column_names if c in table.column_names)
            with store.register("sim_rows", table):
                store.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM sim_rows")
    truth = folder / "users.parquet"
    pq.write_table(data.truth["users"], truth)
    return db, truth


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for var in ("GROWTHKIT_DB", "GROWTHKIT_LLM_BACKEND", "GROWTHKIT_LLM_MODEL_PATH", "GROWTHKIT_OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner()


def test_cluster_prints_the_k_selection_profiles_personas_and_ari(runner: CliRunner, shop: tuple[str, Path]) -> None:
    db, truth = shop
    res = runner.invoke(cli, ["segment", "cluster", "--db", db, "--truth", str(truth)], terminal_width=200)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "choice of k" in out and "silhouette" in out and "BIC" in out and "chosen" in out
    for k in range(3, 9):
        assert f"│ {k} │" in out
    assert "cluster segments of 1,000 users" in out and "personas" in out and "grounding check passed" in out
    assert "adjusted Rand index against the true types" in out
    assert "written to segments, segment_profiles, segment_centers" in out
    again = runner.invoke(cli, ["segment", "cluster", "--db", db], terminal_width=200)
    assert again.exit_code == 0 and "kept from the last saved clustering" in again.output


def test_json_output_of_both_methods(runner: CliRunner, shop: tuple[str, Path]) -> None:
    db, _ = shop
    args = ["segment", "cluster", "--db", db, "--k", "3", "--method", "gmm", "--lang", "zh", "--json"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["method"] == "cluster" and doc["algorithm"] == "gmm" and doc["k"] == 3
    assert [r["k"] for r in doc["k_selection"]] == [3] and doc["k_selection"][0]["chosen"] is True
    assert all(p["lang"] == "zh" and p["backend"] == "template" for p in doc["personas"])
    res = runner.invoke(cli, ["segment", "rfm", "--db", db, "--json", "--no-save", "--cutoff", "2025-03-01"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["method"] == "rfm" and doc["cutoff"] == "2025-03-01" and doc["tables"] == []
    assert doc["profiles"][0]["name"] == "Champions" and set(doc["thresholds"]) == {"R", "F", "M"}


def test_rfm_for_people_and_bad_options(runner: CliRunner, shop: tuple[str, Path]) -> None:
    db, _ = shop
    res = runner.invoke(cli, ["segment", "rfm", "--db", db, "--lang", "zh"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "rfm segments of 1,000 users" in res.output and "冠军客户" in res.output and "Prospects" in res.output
    bad = runner.invoke(cli, ["segment", "cluster", "--db", db, "--k", "many"])
    assert bad.exit_code == 1 and "--k must be 'auto' or a whole number" in bad.output
    bad = runner.invoke(cli, ["segment", "cluster", "--db", db, "--features", "frequency,nope"])
    assert bad.exit_code == 1 and "no column 'nope'" in bad.output
    helped = runner.invoke(cli, ["segment", "--help"])
    assert helped.exit_code == 0 and "rfm" in helped.output and "cluster" in helped.output
