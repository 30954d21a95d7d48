"""``growthkit predict churn|purchase``: scores a store into ``scores``, for people and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from growthkit.cli import cli
from growthkit.cli.predict import parse_horizon
from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.sim import SimConfig
from growthkit.store import open_store
from growthkit.workflows.churn_eval import load_simulation


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROWTHKIT_DB", raising=False)
    return CliRunner()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 1,000-user, 100-day simulated shop (2025-01-01 to 2025-04-10)."""
    d = tmp_path_factory.mktemp("predict")
    settings = Settings(db=str(d / "shop.duckdb"), workspace=d / "ws")
    with open_store(settings) as st:
        load_simulation(st, SimConfig(users=1000, days=100, seed=5))
    return settings.db


def test_predict_churn_as_json_then_purchase_for_people(runner: CliRunner, shop: str) -> None:
    args = ["predict", "churn", "--db", shop, "--horizon", "30d", "--trees", "30", "--no-evaluate", "--json"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["table"] == "scores" and out["target"] == "churn" and out["horizon_days"] == 30
    assert out["cutoff"] == "2025-04-11T00:00:00" and out["train_cutoff"] == "2025-03-12T00:00:00"
    assert out["users"] > 100 and 0 < out["mean_score"] < 1
    assert out["evaluation"] is None and abs(out["at_risk_users"] - 0.2 * out["users"]) <= 2

    res = runner.invoke(
        cli, ["predict", "purchase", "--db", shop, "--horizon", "2w", "--model", "logistic", "--lang", "zh"]
    )
    assert res.exit_code == 0, res.output
    assert "purchase scores (logistic, 14 days after 2025-04-11)" in res.output
    assert "backtest: purchase within 14 days" in res.output and "ROC-AUC" in res.output
    assert all(name in res.output for name in ("logistic", "recency", "base_rate"))
    with open_store(Settings(db=shop), read_only=True) as st:
        rows = st.query("SELECT target, count(*) AS n, min(horizon_days) AS h FROM scores GROUP BY 1 ORDER BY 1")
    assert rows.to_pylist()[0]["target"] == "churn" and rows.to_pylist()[1]["h"] == 14


def test_errors_are_one_line_messages(runner: CliRunner, shop: str, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["predict", "churn", "--db", shop, "--horizon", "thirty"])
    assert res.exit_code == 1 and "--horizon must look like 30d, 4w or 30" in res.output
    res = runner.invoke(cli, ["predict", "churn", "--db", shop, "--cutoff", "2025-12-01", "--no-evaluate"])
    assert res.exit_code == 1 and "labels would be censored" in res.output
    res = runner.invoke(cli, ["predict", "churn", "--db", str(tmp_path / "empty.duckdb")])
    assert res.exit_code == 1 and "has no events" in res.output


def test_parse_horizon() -> None:
    assert [parse_horizon(t) for t in ("30d", "4w", "7", " 90D ")] == [30, 28, 7, 90]
    with pytest.raises(ConfigError):
        parse_horizon("0d")
