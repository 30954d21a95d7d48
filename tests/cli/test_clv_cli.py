"""``growthkit clv``: fit (sample dataset or store) and score, for people and as JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

from growthkit.cli import cli
from growthkit.config import Settings
from growthkit.store import open_store


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROWTHKIT_DB", raising=False)
    return CliRunner()


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dataset cache for the module's integration tests (each fetch checks it first)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def shop(tmp_path: Path) -> str:
    """300 customers with repeat purchases over 200 days (first purchases in the first 50)."""
    rng = np.random.default_rng(3)
    users, stamps, amounts = [], [], []
    start = datetime(2024, 1, 1)
    for i in range(300):
        t, rate = float(rng.integers(0, 50)), rng.gamma(1.0, 1 / 20)
        while t < 200:
            users.append(f"u{i}")
            stamps.append(start + timedelta(days=t))
            amounts.append(float(rng.lognormal(3, 0.4)))
            t += rng.exponential(1 / rate)
            if rng.uniform() < 0.15:
                break
    db = str(tmp_path / "shop.duckdb")
    table = pa.table(
        {
            "event_id": [f"e{i}" for i in range(len(users))],
            "user_id": users,
            "ts": pa.array(stamps, pa.timestamp("us")),
            "event_type": ["purchase"] * len(users),
            "amount": amounts,
        }
    )
    with open_store(Settings(db=db, workspace=tmp_path / "ws")) as st, st.register("t", table):
        st.execute("INSERT INTO events (event_id, user_id, ts, event_type, amount) SELECT * FROM t")
    return db


def test_fit_on_the_store_as_json_and_for_people(runner: CliRunner, shop: str) -> None:
    args = ["clv", "fit", "--db", shop, "--calibration-end", "2024-05-01", "--holdout-end", "2024-07-18"]
    res = runner.invoke(cli, [*args, "--model", "paretonbd", "--json"])
    assert res.exit_code == 0, res.output
    fit = json.loads(res.output)
    assert set(fit["params"]) == {"r", "alpha", "s", "beta"} and fit["log_likelihood"] < 0
    assert fit["customers"] == 300 and fit["holdout"]["buckets"][-1]["frequency"] == "7+"
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "bgnbd (store, time in weeks)" in res.output and "log-likelihood" in res.output
    assert "holdout: repeat purchases by calibration frequency" in res.output and "total" in res.output


def test_score_writes_clv_scores(runner: CliRunner, shop: str) -> None:
    res = runner.invoke(cli, ["clv", "score", "--db", shop, "--holdout-days", "60", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["table"] == "clv_scores" and out["customers"] == 300 and out["total_clv"] > 0
    assert out["holdout"]["duration"] == pytest.approx(60 / 7)
    with open_store(Settings(db=shop), read_only=True) as st:
        row = st.query("SELECT count(*) AS n, sum(clv) AS v, max(p_alive) AS p FROM clv_scores").to_pylist()[0]
    assert row["n"] == 300 and row["v"] == pytest.approx(out["total_clv"]) and row["p"] <= 1
    res = runner.invoke(cli, ["clv", "score", "--db", shop, "--model", "paretonbd", "--period", "week"])
    assert res.exit_code == 0, res.output
    assert "written to" in res.output and "clv_scores" in res.output


def test_usage_errors(runner: CliRunner, shop: str) -> None:
    res = runner.invoke(cli, ["clv", "fit", "--dataset", "cdnow-sample", "--db", shop])
    assert res.exit_code == 1 and "either --dataset NAME or --db PATH" in res.output
    res = runner.invoke(cli, ["clv", "score", "--db", shop, "--model", "gammagamma"])
    assert res.exit_code == 2  # not a transaction model: click refuses the choice
    res = runner.invoke(cli, ["clv", "fit", "--db", str(Path(shop).with_name("none.duckdb"))])
    assert res.exit_code == 1 and "no store at" in res.output


@pytest.mark.integration
@pytest.mark.parametrize(
    ("model", "published", "log_lik"),
    [
        ("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
        ("paretonbd", {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
        ("gammagamma", {"p": 6.25, "q": 3.74, "gamma": 15.44}, None),
    ],
)
def test_fit_cdnow_sample_json(
    runner: CliRunner, cache: Path, model: str, published: dict[str, float], log_lik: float | None
) -> None:
    res = runner.invoke(
        cli,
        ["clv", "fit", "--dataset", "cdnow-sample", "--model", model, "--json"],
        env={"GROWTHKIT_CACHE_DIR": str(cache)},
    )
    assert res.exit_code == 0, res.output
    fit = json.loads(res.output)
    digits = 2 if model == "gammagamma" else 3
    assert {k: round(v, digits) for k, v in fit["params"].items()} == published
    if log_lik is not None:
        assert round(fit["log_likelihood"], 1) == log_lik
        assert fit["holdout"]["total_actual"] == 1882 and fit["calibration_end"] == "1997-09-30"
