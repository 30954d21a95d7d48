"""``growthkit recommend evaluate|train|for|similar`` end to end on a tiny simulated store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import growthkit.cli.recommend  # noqa: F401  (registers the group until cli/__init__ imports it)
from growthkit.cli.app import cli, out
from growthkit.config import Settings
from growthkit.schema import TABLES
from growthkit.sim import SimConfig
from growthkit.sim.writer import simulate
from growthkit.store import open_store


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("recommend-cli")
    data = simulate(SimConfig(users=300, days=45, seed=9))
    path = str(folder / "shop.duckdb")
    with open_store(Settings(db=path, workspace=folder / "ws")) as store:
        for name in ("items", "users", "events"):
            table = getattr(data, name)
            cols = ", ".join(c for c in TABLES[name].column_names if c in table.column_names)
            with store.register("sim_rows", table):
                store.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM sim_rows")
    return path


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROWTHKIT_DB", raising=False)
    monkeypatch.setattr(out, "_width", 240)  # wide enough that rich does not fold the metric columns
    return CliRunner()


def test_evaluate_prints_the_table_and_json(runner: CliRunner, db: str) -> None:
    args = ["recommend", "evaluate", "--db", db, "--split", "leave-last", "--models", "popularity,ease", "--k", "5,10"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "leave-last split" in res.output and "ndcg@5" in res.output and "recall@10" in res.output
    assert "popularity" in res.output and "ease" in res.output and "slices" in res.output
    res = runner.invoke(cli, [*args, "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["protocol"]["ks"] == [5, 10] and payload["protocol"]["split"] == "leave-last"
    assert {r["model"] for r in payload["table"]} == {"popularity", "ease"}
    assert all(0.0 <= r["ndcg@5"] <= 1.0 for r in payload["table"])


def test_evaluate_a_simulated_shop_with_the_oracle(runner: CliRunner) -> None:
    args = ["recommend", "evaluate", "--dataset", "sim", "--sim-users", "250", "--sim-days", "40",
            "--models", "popularity", "--k", "10", "--json"]  # fmt: skip
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    rows = {r["model"]: r for r in json.loads(res.output)["table"]}
    assert set(rows) == {"oracle", "popularity"} and rows["oracle"]["true_ndcg@10"] == pytest.approx(1.0)


def test_train_for_and_similar(runner: CliRunner, db: str) -> None:
    res = runner.invoke(cli, ["recommend", "train", "--db", db, "--model", "itemknn", "--k", "5", "--json"])
    assert res.exit_code == 0, res.output
    run = json.loads(res.output)
    assert run["model"] == "itemknn" and run["k"] == 5 and run["rows"] > 0
    with open_store(Settings(db=db), read_only=True) as store:
        user = str(store.scalar("SELECT min(user_id) FROM recommendations"))
        item = str(store.scalar("SELECT item_id FROM recommendations WHERE user_id = ? AND rank = 1", [user]))
    res = runner.invoke(cli, ["recommend", "for", "--db", db, "--user", user, "--k", "3"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert f"recommended for {user}" in res.output and f"recent history of {user}" in res.output
    res = runner.invoke(cli, ["recommend", "for", "--db", db, "--user", user, "--k", "3", "--json"])
    assert json.loads(res.output)["recommendations"][0]["item_id"] == item
    res = runner.invoke(cli, ["recommend", "similar", "--db", db, "--item", item, "--k", "4", "--json"])
    assert res.exit_code == 0, res.output
    sims = json.loads(res.output)
    assert len(sims) == 4 and item not in {s["item_id"] for s in sims}
    res = runner.invoke(cli, ["recommend", "train", "--db", db, "--model", "popularity", "--k", "2", "--lang", "zh"])
    assert res.exit_code == 0 and f"written to recommendations ({run['users']:,} users with reasons)" in res.output
    res = runner.invoke(cli, ["recommend", "for", "--db", db, "--user", user, "--json"])
    reasons = [r["detail"] for r in json.loads(res.output)["recommendations"]]
    assert reasons and all(reasons)  # every item comes with its reason


def test_errors_are_one_line_messages(runner: CliRunner, db: str, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["recommend", "evaluate", "--db", db, "--k", "ten"])
    assert res.exit_code == 1 and "--k takes whole numbers" in res.output
    res = runner.invoke(cli, ["recommend", "train", "--db", db, "--model", "nope"])
    assert res.exit_code == 1 and "unknown model 'nope'" in res.output
    res = runner.invoke(cli, ["recommend", "train", "--db", db, "--params", "[1]"])
    assert res.exit_code == 1 and "JSON object" in res.output
    res = runner.invoke(cli, ["recommend", "for", "--db", str(tmp_path / "new.duckdb"), "--user", "u1"])
    assert res.exit_code == 1 and "recommend train" in res.output
