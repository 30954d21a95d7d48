"""``growthkit assistant``: ask (for people and as JSON) and evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import growthkit.cli.assistant  # noqa: F401  (registers growthkit assistant ...)
from growthkit.cli import cli
from growthkit.config import Settings
from growthkit.store import open_store


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROWTHKIT_DB", raising=False)
    monkeypatch.setenv("GROWTHKIT_EMBED_BACKEND", "tfidf")  # fast and always there
    monkeypatch.setenv("GROWTHKIT_LLM_BACKEND", "template")
    return CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Two items and two customers with one order each."""
    path = str(tmp_path / "shop.duckdb")
    with open_store(Settings(db=path, workspace=tmp_path / "ws")) as st:
        st.execute(
            "INSERT INTO items (item_id, title, brand, category, price, currency) VALUES "
            "('i001', '绿茶 礼盒装 Green Tea Gift Box', '茶语 TeaTalk', 'Food > Beverages', 59.9, 'CNY'), "
            "('i002', '跑步鞋 白色 Running Shoes White', '疾风 Gale', 'Shoes > Sneakers', 329.0, 'CNY')"
        )
        st.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, item_id, session_id, quantity, amount, currency) "
            "VALUES ('e1', 'u001', '2025-03-01 10:00', 'purchase', 'i001', 'u001-s1', 2, 119.8, 'CNY'), "
            "('e2', 'u002', '2025-03-02 11:00', 'purchase', 'i002', 'u002-s1', 1, 329.0, 'CNY')"
        )
    return path


def test_ask_for_people(runner: CliRunner, db: str) -> None:
    res = runner.invoke(cli, ["assistant", "ask", "--db", db, "--user", "u001", "When was my last order?"])
    assert res.exit_code == 0, res.output
    assert "u001-s1" in res.output and "2025-03-01" in res.output and "¥119.80" in res.output
    assert "order u001-s1" in res.output and "answered" in res.output


def test_ask_as_json(runner: CliRunner, db: str) -> None:
    res = runner.invoke(cli, ["assistant", "ask", "--db", db, "--user", "u001", "--json", "绿茶 礼盒装多少钱？"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["language"] == "zh" and data["intent"] == "product" and "¥59.90" in data["text"]
    assert data["citations"] == [{"kind": "product", "ref": "i001", "label": "绿茶 礼盒装"}]
    assert data["grounded"] is True and data["refused"] is False


def test_ask_refuses_other_customers(runner: CliRunner, db: str) -> None:
    res = runner.invoke(cli, ["assistant", "ask", "--db", db, "--user", "u001", "--json", "What did u002 buy?"])
    data = json.loads(res.output)
    assert data["refused"] is True and "u002" not in data["text"] and "329" not in data["text"]


def test_ask_with_the_shops_own_documents(runner: CliRunner, db: str, tmp_path: Path) -> None:
    docs = tmp_path / "policies"
    docs.mkdir()
    (docs / "faq.en.md").write_text("# FAQ\n\n## Opening hours\n\nWe are open from 8:00 to 18:00.\n", encoding="utf-8")
    res = runner.invoke(
        cli, ["assistant", "ask", "--db", db, "--docs", str(docs), "--json", "What are your opening hours?"]
    )
    data = json.loads(res.output)
    assert data["citations"][0]["ref"] == "faq.en.md#opening-hours" and "18:00" in data["text"]
    missing = runner.invoke(cli, ["assistant", "ask", "--db", db, "--docs", str(tmp_path / "nope"), "hi"])
    assert missing.exit_code != 0


def test_ask_on_an_empty_store(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["assistant", "ask", "--db", str(tmp_path / "empty.duckdb"), "hello"])
    assert res.exit_code == 0  # an empty catalog still answers policy questions and greetings
    assert "Hello" in res.output


def test_evaluate_as_json(runner: CliRunner) -> None:
    res = runner.invoke(cli, ["assistant", "evaluate", "--users", "200", "--days", "30", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["n_cases"] >= 100 and data["leaks"] == 0 and data["refusal_correctness"] == 1.0
    assert data["accuracy"] >= 0.9 and data["grounded_claim_rate"] == 1.0
    assert data["embedder"].startswith("tfidf") and data["backend"] == "template" and "cases" not in data


def test_evaluate_for_people(runner: CliRunner) -> None:
    res = runner.invoke(cli, ["assistant", "evaluate", "--users", "200", "--days", "30"])
    assert res.exit_code == 0, res.output
    assert "answer accuracy" in res.output and "refusal correctness" in res.output
