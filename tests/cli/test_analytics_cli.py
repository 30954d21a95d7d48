"""``growthkit analytics ...`` on a small simulated shop."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from growthkit.cli import cli


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("shop")
    res = CliRunner().invoke(cli, ["demo", "--out", str(out), "--users", "400", "--days", "45", "--json"])
    assert res.exit_code == 0, res.output
    return str(out / "growthkit.duckdb")


def _json(args: list[str]) -> list[dict[str, object]]:
    res = CliRunner().invoke(cli, ["analytics", *args, "--json"])
    assert res.exit_code == 0, res.output
    rows: list[dict[str, object]] = json.loads(res.output)
    return rows


def test_trends_by_week_with_breakdown(db: str) -> None:
    rows = _json(["trends", "--db", db, "--period", "week", "--metric", "active_users", "--breakdown", "user.channel"])
    assert rows and {r["metric"] for r in rows} == {"active_users"}
    assert {"organic", "ads"} <= {str(r["breakdown"]) for r in rows}


def test_every_insight_answers(db: str) -> None:
    assert _json(["stickiness", "--db", db])
    assert {r["status"] for r in _json(["lifecycle", "--db", db])} >= {"new", "returning", "dormant"}
    assert {r["stage"] for r in _json(["aarrr", "--db", db])} >= {"acquisition", "activation", "revenue", "referral"}
    steps = _json(["funnel", "--db", db, "--step", "view", "--step", "cart", "--step", "purchase"])
    counts = [int(r["count"]) for r in steps if r.get("breakdown") in (None, "", "(all)")]  # type: ignore[arg-type]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    ret = _json(["retention", "--db", db, "--period", "week", "--periods", "3"])
    assert all(r["period"] in (0, 1, 2, 3) for r in ret)
    assert _json(["retention", "--db", db, "--ltv", "--period", "day", "--periods", "7"])


def test_csv_and_actors(db: str, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["analytics", "lifecycle", "--db", db, "--csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert rows and set(rows[0]) == {"period", "status", "users"}
    new = next(r for r in rows if r["status"] == "new" and int(r["users"]) > 0)
    res = CliRunner().invoke(
        cli,
        ["analytics", "lifecycle", "--db", db, "--actors", f"period_start={new['period']}", "--actors", "status=new"],
    )
    assert res.exit_code == 0, res.output
    assert len(res.output.split()) == int(new["users"])


def test_bad_dates_say_what_to_do(db: str) -> None:
    res = CliRunner().invoke(cli, ["analytics", "trends", "--db", db, "--start", "2025-02-01", "--end", "2025-01-01"])
    assert res.exit_code == 1 and "before it starts" in res.output
