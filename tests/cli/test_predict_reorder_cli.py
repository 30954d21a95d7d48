"""``growthkit predict reorder``: every candidate of the next order into ``reorder_scores``, with a backtest."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from growthkit.cli import cli
from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.sim import SimConfig
from growthkit.store import open_store
from growthkit.workflows.churn_eval import load_simulation
from growthkit.workflows.reorder import evaluate_reorder, evaluate_reorder_dataset, reorder_tables


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROWTHKIT_DB", raising=False)
    monkeypatch.setenv("GROWTHKIT_THREADS", "1")  # LightGBM threads too: fast and deterministic on a busy machine
    return CliRunner()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2,000-user, 120-day simulated shop (2025-01-01 to 2025-04-30); about 300 users order twice or more."""
    d = tmp_path_factory.mktemp("reorder")
    settings = Settings(db=str(d / "shop.duckdb"), workspace=d / "ws", threads=1)
    with open_store(settings) as st:
        load_simulation(st, SimConfig(users=2000, days=120, seed=5))
    return settings.db


def test_predict_reorder_json_then_for_people(runner: CliRunner, shop: str) -> None:
    res = runner.invoke(cli, ["predict", "reorder", "--db", shop, "--trees", "20", "--evaluate", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["table"] == "reorder_scores" and out["model"] == "lightgbm"
    with open_store(Settings(db=shop), read_only=True) as st:
        last = st.scalar("SELECT max(ts) FROM events WHERE event_type = 'purchase'")
        rows = st.query(
            "SELECT user_id, count(*) AS n, min(rank) AS lo, max(rank) AS hi, count(DISTINCT rank) AS d, "
            "min(probability) AS pmin, max(probability) AS pmax, sum(selected::INT) AS s FROM reorder_scores GROUP BY 1"
        ).to_pandas()
        buyers = st.scalar("SELECT count(DISTINCT user_id) FROM events WHERE event_type = 'purchase'")
    assert out["as_of"] == f"{last.date() + timedelta(days=1)}T00:00:00"  # the day after the last purchase
    assert out["users"] == len(rows) == buyers  # every buyer has candidates for the next order
    assert out["pairs"] == rows["n"].sum() and out["selected"] == rows["s"].sum()
    assert (rows["lo"] == 1).all() and (rows["hi"] == rows["n"]).all() and (rows["d"] == rows["n"]).all()
    assert rows["pmin"].min() >= 0 and rows["pmax"].max() <= 1
    ev = out["evaluation"]
    assert ev["protocol"] == "last" and ev["train_on"] == "previous" and ev["n_test_users"] > 100
    assert [m["model"] for m in ev["metrics"]] == ["lightgbm", "logistic", "frequency", "everything"]
    assert 0 < ev["reorder_share"] < 1 and ev["f1_none"] == pytest.approx(1 - ev["orders_with_reorder"])

    res = runner.invoke(cli, ["predict", "reorder", "--db", shop, "--model", "logistic", "--no-evaluate"])
    assert res.exit_code == 0, res.output
    assert "reorder scores (logistic" in res.output and "backtest" not in res.output
    with open_store(Settings(db=shop), read_only=True) as st:  # replaced, not appended
        assert st.scalar("SELECT count(*) FROM reorder_scores") == out["pairs"]
        assert st.scalar("SELECT min(model) FROM reorder_scores") == "logistic"


def test_cutoff_protocol_with_a_user_split_for_people(runner: CliRunner, shop: str) -> None:
    args = ["predict", "reorder", "--db", shop, "--protocol", "cutoff", "--train-on", "users", "--window", "4w"]
    res = runner.invoke(cli, [*args, "--trees", "20"])
    assert res.exit_code == 0, res.output
    assert "backtest: reorders in the cutoff order" in res.output and "ROC-AUC" in res.output
    assert all(name in res.output for name in ("frequency", "everything"))


def test_errors_are_one_line_messages(runner: CliRunner, shop: str, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["predict", "reorder", "--db", shop, "--window", "thirty"])
    assert res.exit_code == 1 and "--window must look like 30d, 4w or 30" in res.output
    res = runner.invoke(cli, ["predict", "reorder", "--db", str(tmp_path / "empty.duckdb")])
    assert res.exit_code == 1 and "no purchase events with an item_id" in res.output
    res = runner.invoke(cli, ["predict", "reorder", "--db", shop, "--cutoff", "2025-01-02", "--no-evaluate"])
    assert res.exit_code == 1 and "nothing to predict" in res.output


def test_protocols_keep_train_and_test_apart(shop: str) -> None:
    with open_store(Settings(db=shop), read_only=True) as st:
        train, test = reorder_tables(st, "last", "users", test_fraction=0.3, seed=1)
        assert not set(train.users.index) & set(test.users.index)
        assert len(test.users) == round(0.3 * (len(train.users) + len(test.users)))
        again, _ = reorder_tables(st, "last", "users", test_fraction=0.3, seed=1)
        assert list(again.users.index) == list(train.users.index)  # seeded
        cut_train, cut_test = reorder_tables(st, "cutoff", "previous", cutoff=date(2025, 4, 1), window_days=30)
        # training targets lie in [Mar 2, Apr 1), test targets in [Apr 1, May 1) with the history before Apr 1:
        # every training target is part of the test history, never the reverse
        both = cut_train.users.index.intersection(cut_test.users.index)
        assert len(both) > 20
        assert (cut_train.users.loc[both, "target_seq"] < cut_test.users.loc[both, "target_seq"]).all()
        with pytest.raises(ConfigError, match="protocol must be one of"):
            evaluate_reorder(st, "first")
        with pytest.raises(ConfigError, match="needs a test cutoff"):
            reorder_tables(st, "cutoff")
    with pytest.raises(ConfigError, match="records no product ids"):
        evaluate_reorder_dataset(Settings(), "cdnow-sample")
