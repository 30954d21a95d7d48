"""``growthkit copy``: generate, audience and check on a small store with one item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from growthkit.cli import cli
from growthkit.config import Settings
from growthkit.store import open_store


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for var in ("GROWTHKIT_DB", "GROWTHKIT_SHOP", "GROWTHKIT_LLM_MODEL_PATH", "GROWTHKIT_OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "shop.duckdb")
    with open_store(Settings(db=path)) as st:
        st.execute(
            "INSERT INTO items (item_id, title, category, brand, price, currency) "
            "VALUES ('tea1', '铁观音', 'Tea > Oolong', '小满', 199, 'CNY')"
        )
    return path


OFFER = ["--offer-discount", "20", "--valid-until", "2026-11-30", "--shop", "小满茶铺"]


def test_generate_json_has_grounded_variants_with_provenance(runner: CliRunner, db: str) -> None:
    args = ["copy", "generate", "--db", db, "--item", "tea1", "--segment", "vip", "--channel", "push"]
    res = runner.invoke(cli, [*args, "--lang", "zh", "--variants", "5", *OFFER, "--json"])
    assert res.exit_code == 0, res.output
    batch = json.loads(res.output)
    assert batch["item_id"] == "tea1" and batch["persona"] == "vip" and len(batch["variants"]) == 5
    assert len({v["variant_id"] for v in batch["variants"]}) == 5
    for v in batch["variants"]:
        assert v["status"] in ("ok", "repaired") and v["title_length"] <= 20 and v["body_length"] <= 60
        assert all(c["passed"] for c in v["provenance"]["checks"])
        assert v["provenance"]["backend"] == "template" and "price" in v["provenance"]["record_fields"]
    bodies = " ".join(v["body"] for v in batch["variants"])
    assert "8折" in bodies and "¥159.20" in bodies and "11月30日" in bodies
    again = json.loads(runner.invoke(cli, [*args, "--lang", "zh", "--variants", "5", *OFFER, "--json"]).output)
    assert again["cache_hits"] == 5 and again["generator_calls"] == 0


def test_generate_table(runner: CliRunner, db: str) -> None:
    args = ["copy", "generate", "--db", db, "--item", "tea1", "--channel", "sms", "--lang", "zh", *OFFER]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "回T退订" in res.output and "【小满茶铺】" in res.output and "/70" in res.output
    assert "11/11 passed" in res.output and "template/template" in res.output


def test_generate_errors_say_what_to_fix(runner: CliRunner, db: str) -> None:
    base = ["copy", "generate", "--db", db, "--channel", "sms", "--lang", "zh"]
    res = runner.invoke(cli, [*base, "--item", "nope", "--shop", "x"])
    assert res.exit_code == 1 and "no item 'nope'" in res.output
    res = runner.invoke(cli, [*base, "--item", "tea1"])
    assert res.exit_code == 1 and "pass the shop name" in res.output
    res = runner.invoke(cli, [*base, "--item", "tea1", "--shop", "x", "--offer-discount", "150"])
    assert res.exit_code == 1 and "between 0 and 100" in res.output


def test_shop_from_the_environment_and_extra_banned_phrases(runner: CliRunner, db: str, tmp_path: Path) -> None:
    banned = tmp_path / "banned.txt"
    banned.write_text("# house list\n爆款\n", encoding="utf-8")
    args = ["copy", "generate", "--db", db, "--item", "tea1", "--channel", "sms", "--banned-file", str(banned)]
    res = runner.invoke(cli, [*args, "--json"], env={"GROWTHKIT_SHOP": "环境茶铺"})
    assert res.exit_code == 0, res.output
    batch = json.loads(res.output)
    assert batch["variants"][0]["body"].startswith("【环境茶铺】")
    assert batch["variants"][0]["provenance"]["policy"] != ""


def test_audience_with_progress(runner: CliRunner, db: str) -> None:
    args = ["copy", "audience", "--db", db, "--segments", "vip,新客", "--channel", "referral", "--lang", "en", *OFFER]
    res = runner.invoke(cli, [*args, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [b["persona"] for b in out["batches"]] == ["vip", "新客"] and out["failures"] == []
    res = runner.invoke(cli, args)
    assert res.exit_code == 0 and "3/3" in res.output and "6 variants from cache" in res.output


def test_check_exits_1_on_unsupported_claims(runner: CliRunner, db: str) -> None:
    base = ["copy", "check", "--db", db, "--item", "tea1", "--channel", "sms", "--lang", "zh", *OFFER]
    res = runner.invoke(cli, [*base, "全场五折，仅限今天！最低价。", "--json"])
    assert res.exit_code == 1
    rep = json.loads(res.output)
    assert not rep["passed"]
    assert {i["rule"] for i in rep["issues"]} >= {"claims", "superlatives", "opt_out", "sender"}
    good = "【小满茶铺】铁观音8折，到手价¥159.20，11月30日截止。回T退订"
    res = runner.invoke(cli, [*base, good])
    assert res.exit_code == 0, res.output
    assert "claims" in res.output and "yes" in res.output
