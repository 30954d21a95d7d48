"""The command line, through click's in-process runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from growthkit.cli import cli
from growthkit.store import CURRENT_VERSION


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROWTHKIT_DB", raising=False)
    return CliRunner()


def _events(tmp_path: Path) -> Path:
    p = tmp_path / "events.csv"
    p.write_text(
        "user_id,ts,event_type,amount\n"
        "u1,2024-03-01 10:00,view,\n"
        "u1,2024-03-01 10:05,purchase,25\n"
        "u2,2023-13-45,view,\n"
        "u3,2024-03-02,purchase,-5\n"
    )
    return p


def test_ingest_json_report_and_status(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "a.duckdb")
    res = runner.invoke(cli, ["ingest", "--db", db, "--kind", "events", "--json", str(_events(tmp_path))])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert {k: rep[k] for k in ("rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined")} == {
        "rows_read": 4,
        "rows_loaded": 2,
        "rows_duplicate": 0,
        "rows_quarantined": 2,
    }
    assert rep["reasons"] == {"amount_negative_purchase": 1, "ts_not_a_date": 1}
    res = runner.invoke(cli, ["status", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert st["tables"]["events"]["rows"] == 2
    assert st["quarantine"]["rows"] == 2
    assert st["event_types"] == {"purchase": 1, "view": 1}
    res = runner.invoke(cli, ["status", "--db", db])
    assert res.exit_code == 0 and "events" in res.output


def test_growthkit_db_environment_variable(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROWTHKIT_DB", str(tmp_path / "env.duckdb"))
    res = runner.invoke(cli, ["ingest", "--kind", "events", str(_events(tmp_path))])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "env.duckdb").exists()
    res = runner.invoke(cli, ["quarantine", "--json", "--reason", "ts_not_a_date"])
    rows = json.loads(res.output)
    assert len(rows) == 1 and rows[0]["line"] == 4 and "2023-13-45" in rows[0]["raw"]


def test_default_store_is_in_the_working_directory(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["ingest", "--kind", "events", str(_events(tmp_path))])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "growthkit.duckdb").exists()
    assert "Ingestion" in res.output and "ts_not_a_date" in res.output


def test_missing_file_exits_non_zero_with_a_message(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["ingest", "--db", str(tmp_path / "b.duckdb"), "--kind", "events", "nope.csv"])
    assert res.exit_code == 1
    assert "no such file" in res.output


def test_missing_kind_and_bad_settings_say_what_to_do(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["ingest", "--db", str(tmp_path / "c.duckdb"), str(_events(tmp_path))])
    assert res.exit_code == 1 and "--kind" in res.output
    res = runner.invoke(cli, ["ingest", "--timezone", "Mars/Base", "--kind", "events", str(_events(tmp_path))])
    assert res.exit_code == 1 and "unknown time zone" in res.output


def test_status_of_missing_store(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["status", "--db", str(tmp_path / "none.duckdb")])
    assert res.exit_code == 1 and "growthkit demo" in res.output


def test_migrate(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["migrate", "--db", str(tmp_path / "m.duckdb")])
    assert res.exit_code == 0 and f"schema version {CURRENT_VERSION}" in res.output


def test_simulate_writes_canonical_files(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["simulate", "--users", "300", "--days", "30", "--seed", "3", "--out", "shop", "--json"])
    assert res.exit_code == 0, res.output
    manifest = json.loads(res.output)
    assert set(manifest["files"]) == {"events", "users", "items", "reviews", "edges"}
    assert manifest["rows"]["users"] == 300
    assert all(Path(p).exists() for p in manifest["files"].values())


def test_demo_loads_everything_and_reruns_fresh(runner: CliRunner, tmp_path: Path) -> None:
    for _ in range(2):
        res = runner.invoke(cli, ["demo", "--out", "d", "--users", "400", "--days", "30", "--json"])
        assert res.exit_code == 0, res.output
        summary = json.loads(res.output)
        assert summary["tables"]["users"]["rows"] == 400
        assert summary["tables"]["events"]["rows"] > 1000
        assert summary["quarantine"]["rows"] == 0
        assert summary["quality"]["events_with_unknown_user"] == 0
    res = runner.invoke(cli, ["demo", "--out", "d", "--users", "400", "--days", "30"])
    assert res.exit_code == 0 and "growthkit store" in res.output


def test_demo_never_deletes_a_store_outside_its_folder(runner: CliRunner, tmp_path: Path) -> None:
    other = tmp_path / "mine.duckdb"
    runner.invoke(cli, ["migrate", "--db", str(other)])
    res = runner.invoke(cli, ["demo", "--db", str(other), "--out", "d", "--users", "100", "--days", "10"])
    assert res.exit_code == 1 and "--no-fresh" in res.output
    assert other.exists()


def test_datasets_list(runner: CliRunner) -> None:
    res = runner.invoke(cli, ["datasets", "list", "--json"])
    assert res.exit_code == 0, res.output
    names = {d["name"] for d in json.loads(res.output)}
    assert names == {"cdnow", "cdnow-sample", "ml-100k", "instacart-sample", "zh-reviews"}


def test_ingest_csv_dialect_options(runner: CliRunner, tmp_path: Path) -> None:
    p = tmp_path / "e.tsv"
    p.write_text("u1\t2024-03-01\tsearch\t'a\tb'\n")
    res = runner.invoke(
        cli,
        [
            "ingest",
            "--db",
            str(tmp_path / "q.duckdb"),
            "--kind",
            "events",
            "--no-header",
            "--columns",
            "user_id,ts,event_type,query",
            "--delimiter",
            "tab",
            "--quote",
            "'",
            "--json",
            str(p),
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["rows_loaded"] == 1
