"""The report's churn section: shown when ``scores`` exists, proper charts, the at-risk table; absent otherwise."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from growthkit.config import Settings
from growthkit.report import build_sections, render_report, write_report
from growthkit.sim import SimConfig
from growthkit.store import open_store
from growthkit.workflows.churn import score_churn
from growthkit.workflows.churn_eval import load_simulation
from growthkit.workflows.report import gather_report

FAST = {"n_estimators": 30, "n_jobs": 1}
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A 1,000-user, 100-day simulated shop without scores."""
    d = tmp_path_factory.mktemp("report-churn")
    settings = Settings(db=str(d / "plain.duckdb"), workspace=d / "ws")
    with open_store(settings) as st:
        load_simulation(st, SimConfig(users=1000, days=100, seed=6))
    return settings


@pytest.fixture(scope="module")
def scored(plain: Settings) -> Settings:
    """The same shop with churn (backtested) and purchase scores."""
    db = Path(plain.db).with_name("scored.duckdb")
    shutil.copyfile(plain.db, db)
    settings = Settings(db=str(db), workspace=plain.workspace)
    score_churn(settings, target="churn", horizon_days=30, params=FAST)
    score_churn(settings, target="purchase", horizon_days=14, params=FAST, evaluate=False)
    return settings


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", html, flags=re.S)


def test_the_section_shows_risk_revenue_and_reasons(scored: Settings) -> None:
    data = gather_report(scored)
    assert [r.target for r in data.churn] == ["churn", "purchase"]
    sections = build_sections(data)
    churn = next(s for s in sections if s.key == "churn")
    titles = [f.title for f in churn.figures]
    assert titles == [
        "Churn risk: customers by predicted probability",
        "Revenue to date by churn-risk decile",
        "Top at-risk customers",
        "How good are the churn scores? Backtest against baselines",
        "Purchase propensity: users by predicted probability",
    ]
    for f in churn.figures:
        if "<svg" in f.body:
            assert 'class="chart"' in f.body and "chart-empty" not in f.body
            assert f.body.count("<rect") >= 10 and "<title>" in f.body  # bars with tooltips
    table = churn.figures[2].body
    top = data.churn[0].top_customers
    assert len(top) == 10 and top[0].user_id in table and top[0].reason.split(" (")[0] in table
    assert "recency rule" in churn.figures[3].body and "base rate" in churn.figures[3].body
    page = render_report(data)
    assert 'id="churn"' in page and page.index('id="churn"') > page.index('id="experiments"')


def test_no_scores_no_section(plain: Settings) -> None:
    data = gather_report(plain)
    assert data.churn == ()
    assert "churn" not in [s.key for s in build_sections(data)]


def test_a_foreign_scores_table_is_ignored(plain: Settings, tmp_path: Path) -> None:
    db = tmp_path / "foreign.duckdb"
    shutil.copyfile(plain.db, db)
    settings = Settings(db=str(db), workspace=tmp_path / "ws")
    with open_store(settings) as st:
        st.execute("CREATE TABLE scores AS SELECT 'u1' AS user_id, 0.5 AS score")
    assert gather_report(settings).churn == ()


CHART_STATE = """
() => [...document.querySelectorAll('section#churn figure svg.chart')].map((svg) => {
  const box = svg.getBoundingClientRect();
  return {empty: svg.classList.contains('chart-empty'), shapes: svg.querySelectorAll('rect, line').length,
          texts: svg.querySelectorAll('text').length, width: box.width, height: box.height};
})
"""


@pytest.mark.browser
def test_the_churn_charts_render_in_chromium(scored: Settings, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium) or deselect -m browser")
    from playwright.sync_api import sync_playwright

    path = write_report(gather_report(scored), tmp_path / "report.html").path
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu"], viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri(), wait_until="load")
            charts: list[dict[str, Any]] = page.evaluate(CHART_STATE)
            rows = page.locator("section#churn table.data tbody tr").count()
        finally:
            browser.close()
    assert errors == [] and len(charts) == 3 and rows >= 10 + 4  # at-risk customers, backtest rows
    for c in charts:
        assert not c["empty"] and c["shapes"] > 10 and c["texts"] > 5
        assert c["width"] > 200 and c["height"] > 100
