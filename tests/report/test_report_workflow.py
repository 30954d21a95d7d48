"""The report workflow and the ``growthkit report`` command on a tiny hand-made store."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from growthkit.cli import cli
from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.report import build_sections, render_report, write_report
from growthkit.store import open_store
from growthkit.workflows.report import gather_report

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def shop(settings: Settings) -> Settings:
    """Three users over three weeks (Mon 6 Jan .. Sun 26 Jan 2025); one has a hostile channel name."""
    rows = [
        ("e1", "u1", "2025-01-06 09:00", "view", None, None, None),
        ("e2", "u1", "2025-01-06 09:02", "cart", None, None, None),
        ("e3", "u1", "2025-01-06 09:05", "purchase", 120.0, "CNY", "s1"),
        ("e4", "u2", "2025-01-07 10:00", "view", None, None, None),
        ("e5", "u1", "2025-01-14 11:00", "view", None, None, None),
        ("e6", "u1", "2025-01-14 11:10", "purchase", 80.0, "CNY", "s2"),
        ("e7", "u3", "2025-01-15 12:00", "view", None, None, None),
        ("e8", "u3", "2025-01-15 12:01", "cart", None, None, None),
        ("e9", "u2", "2025-01-21 08:00", "view", None, None, None),
        ("e10", "u2", "2025-01-21 08:05", "purchase", 45.5, "CNY", "s3"),
        ("e11", "u1", "2025-01-22 09:00", "refund", 20.0, "CNY", "s2"),
        ("e12", "u3", "2025-01-26 18:00", "view", None, None, None),
    ]
    with open_store(settings) as st:
        for r in rows:
            st.execute(
                "INSERT INTO events (event_id, user_id, ts, event_type, amount, currency, session_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                list(r),
            )
        for uid, ch in (("u1", "ads"), ("u2", EVIL), ("u3", "organic")):
            st.execute("INSERT INTO users (user_id, channel) VALUES (?, ?)", [uid, ch])
    return settings


def test_page_is_self_contained_and_escaped(shop: Settings) -> None:
    data = gather_report(shop, now=datetime(2025, 1, 27, 9, 30))
    page, rng, sections = render_report(data), data.current, build_sections(data)
    assert (rng.start, rng.end) == (date(2024, 12, 2), date(2025, 1, 26))  # Monday, 8 weeks back; last event day
    assert not re.search(r"https?://", page)
    assert not re.search(r"<script|<link rel=\"stylesheet|<img|<iframe|\ssrc=|url\(|@import", page, re.I)
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert [s.key for s in sections] == [
        "kpis", "trends", "aarrr", "funnel", "retention", "ltv", "lifecycle", "experiments"
    ]
    # header: store, range, generation time, currency
    assert str(shop.db) in page
    assert "2 Dec 2024 – 26 Jan 2025 (56 days)" in page
    assert "27 Jan 2025, 09:30 UTC" in page
    assert "CNY (¥)" in page
    # the numbers a person would check by hand: 3 orders, gross 245.50, refund 20
    assert "¥225.50" in page  # net revenue tile
    assert "¥81.83" in page  # average order value = 245.50 / 3
    assert page.count('<svg class="chart') >= 10


def test_explicit_range_and_no_comparison_without_history(shop: Settings, tmp_path: Path) -> None:
    data = gather_report(shop, start=date(2025, 1, 13), end=date(2025, 1, 26))
    res = write_report(data, tmp_path / "sub" / "r.html")
    assert res.path.is_file() and (res.start, res.end) == ("2025-01-13", "2025-01-26")
    page = res.path.read_text(encoding="utf-8")
    assert "13 Jan – 26 Jan 2025 (14 days)" in page
    # the 14 days before hold data (6..12 Jan) but the store does not reach back to 30 Dec
    assert "does not reach back far enough" in page


def test_empty_store_says_what_to_do(settings: Settings) -> None:
    with open_store(settings):
        pass
    with pytest.raises(ConfigError, match="no events; load some first"):
        gather_report(settings)


def test_report_command(shop: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROWTHKIT_DB", raising=False)
    runner = CliRunner()
    out = tmp_path / "reports" / "report.html"
    res = runner.invoke(cli, ["report", "--db", shop.db, "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["path"] == str(out) and out.is_file()
    assert info["start"] == "2024-12-02" and info["end"] == "2025-01-26"
    assert info["skipped"] == ["experiments"]  # the store has no exposures
    res = runner.invoke(
        cli, ["report", "--db", shop.db, "--out", str(out), "--start", "2025-01-20", "--end", "2025-01-10"]
    )
    assert res.exit_code == 1 and "before it starts" in res.output
    res = runner.invoke(cli, ["report", "--db", shop.db, "--out", str(out), "--weeks", "2"])
    assert res.exit_code == 0, res.output
    assert "report:" in res.output and "2025-01-13 to 2025-01-26" in res.output
