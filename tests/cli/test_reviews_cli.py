"""``growthkit reviews``: evaluate, sentiment and topics, for people and as JSON."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from growthkit.cli import cli
from growthkit.config import Settings
from growthkit.store import open_store

GOOD = ("质量很好", "非常满意", "做工精致", "Great quality", "Love it")
BAD = ("物流太慢", "非常失望", "包装破损", "Terrible quality", "Arrived broken")


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROWTHKIT_DB", raising=False)
    monkeypatch.setenv("GROWTHKIT_EMBED_BACKEND", "tfidf")  # fast and always there
    monkeypatch.setenv("GROWTHKIT_LLM_BACKEND", "template")
    monkeypatch.setenv("GROWTHKIT_CACHE_DIR", str(tmp_path / "cache"))
    return CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    """60 reviews (half 5-star praise, half 1-star complaints) on two items in two categories, and searches."""
    rng = random.Random(1)
    texts, ratings, items = [], [], []
    for i in range(60):
        good = i % 2 == 0
        a, b = rng.sample(GOOD if good else BAD, 2)
        texts.append(f"{a}，{b} #{i}")
        ratings.append(5.0 if good else 1.0)
        items.append("i1" if i < 40 else "i2")
    reviews = pa.table(
        {
            "review_id": [f"r{i}" for i in range(60)],
            "item_id": items,
            "ts": pa.array([datetime(2025, 3, 1) + timedelta(days=i) for i in range(60)], pa.timestamp("us")),
            "rating": ratings,
            "text": texts,
        }
    )
    path = str(tmp_path / "shop.duckdb")
    with open_store(Settings(db=path, workspace=tmp_path / "ws")) as st:
        with st.register("r", reviews):
            st.execute("INSERT INTO reviews (review_id, item_id, ts, rating, text) SELECT * FROM r")
        st.execute("INSERT INTO items (item_id, category) VALUES ('i1', 'Beauty > Skincare'), ('i2', 'Books')")
        st.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, query) VALUES "
            "('e1', 'u', '2025-03-01', 'search', '面霜'), ('e2', 'u', '2025-03-02', 'search', '面霜 保湿'), "
            "('e3', 'u', '2025-03-02', 'search', 'novel'), ('e4', 'u', '2025-03-03', 'search', 'science novel')"
        )
    return path


def test_sentiment_json_and_table(runner: CliRunner, db: str) -> None:
    res = runner.invoke(cli, ["reviews", "sentiment", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["n_reviews"] == 60 and d["table"] == "review_sentiment" and d["period"] == "month"
    assert [g["key"] for g in d["by_category"]] == ["Beauty", "Books"] and d["holdout_accuracy"] > 0.8
    res = runner.invoke(cli, ["reviews", "sentiment", "--db", db, "--period", "week", "--no-write"])
    assert res.exit_code == 0, res.output
    assert "review sentiment" in res.output and "by week" in res.output and "(not written)" in res.output


def test_topics_json_and_table(runner: CliRunner, db: str) -> None:
    res = runner.invoke(cli, ["reviews", "topics", "--db", db, "--topics", "2", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["k"] == 2 and d["n_total"] == 60 and len(d["topics"]) == 2 and d["namer"] == "template/template"
    assert {c["category"] for c in d["by_category"]} == {"Beauty", "Books"} and d["trend"]
    res = runner.invoke(cli, ["reviews", "topics", "--db", db, "--topics", "2"])
    assert res.exit_code == 0, res.output
    assert "2 topics of 60 reviews" in res.output and "top topics per category" in res.output
    assert "sentiment per topic per month" in res.output
    res = runner.invoke(cli, ["reviews", "topics", "--db", db, "--source", "queries", "--topics", "2", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["n_total"] == 4


def test_evaluate_on_the_store(runner: CliRunner, db: str) -> None:
    res = runner.invoke(cli, ["reviews", "evaluate", "--dataset", "", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["n_train"] + d["n_test"] == 60
    assert [s["model"] for s in d["scores"]][2:] == [
        "majority class",
        "char 1-2-gram naive Bayes",
        "char 1-3-gram TF-IDF logistic",
    ]
    res = runner.invoke(cli, ["reviews", "evaluate", "--dataset", "", "--db", db])
    assert res.exit_code == 0 and "baseline" in res.output and "macro F1" in res.output


def test_errors_say_what_to_do(runner: CliRunner, db: str, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["reviews", "evaluate", "--dataset", "zh-reviews", "--db", db])
    assert res.exit_code == 1 and "either --dataset NAME or --db PATH" in res.output
    with open_store(Settings(db=db, workspace=tmp_path / "ws")) as st:
        st.execute("UPDATE reviews SET rating = NULL")
    res = runner.invoke(cli, ["reviews", "sentiment", "--db", db])
    assert res.exit_code == 1 and "--train-dataset zh-reviews" in res.output
    res = runner.invoke(cli, ["reviews", "topics", "--db", str(tmp_path / "empty.duckdb")])
    assert res.exit_code == 1 and "topics need at least 2" in res.output


@pytest.mark.integration
def test_evaluate_on_zh_reviews(runner: CliRunner) -> None:
    args = ["reviews", "evaluate", "--dataset", "zh-reviews", "--embedder", "tfidf"]
    res = runner.invoke(cli, [*args, "--train-size", "600", "--test-size", "300", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert (d["dataset"], d["n_train"], d["n_test"]) == ("zh-reviews", 600, 300)
    ours, hybrid, majority = d["scores"][:3]
    assert (ours["model"], hybrid["model"], majority["model"]) == (
        "logistic on TF-IDF SVD-128",
        "TF-IDF SVD-128 + char n-grams",
        "majority class",
    )
    assert min(ours["accuracy"], hybrid["accuracy"]) > majority["accuracy"] + 0.15
    assert "seed 0" in d["split"] and "47 with both labels dropped" in d["split"]
