"""The report's segments section: shown only when segments are saved, with a chart per method that renders."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from growthkit.config import Settings
from growthkit.report import build_sections, render_report, write_report
from growthkit.report.build_segments import chart_title, share_bars
from growthkit.schema import TABLES
from growthkit.sim import SimConfig
from growthkit.sim.writer import simulate
from growthkit.store import open_store
from growthkit.workflows.report import gather_report
from growthkit.workflows.segments import SavedSegmentation, segment_users

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("segment-report")
    settings = Settings(db=str(folder / "shop.duckdb"), workspace=folder / "ws")
    data = simulate(SimConfig(users=800, days=70, seed=2))
    with open_store(settings) as store:
        for name in ("events", "users", "items", "reviews", "edges"):
            table = getattr(data, name)
            cols = ", ".join(c for c in TABLES[name].column_names if c in table.column_names)
            with store.register("sim_rows", table):
                store.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM sim_rows")
    return settings


def test_no_section_without_saved_segments_then_one_per_method(shop: Settings) -> None:
    with open_store(shop) as st:  # whatever another test of the module saved
        for table in ("segments", "segment_profiles", "segment_centers"):
            st.execute(f"DROP TABLE IF EXISTS {table}")
    data = gather_report(shop)
    assert data.segments == () and "segments" not in [s.key for s in build_sections(data)]
    rfm = segment_users(shop, method="rfm")
    cluster = segment_users(shop, method="cluster", k=3, lang="zh")
    data = gather_report(shop)
    sections = build_sections(data)
    seg = next(s for s in sections if s.key == "segments")
    assert [s.key for s in sections].index("segments") > [s.key for s in sections].index("experiments")
    titles = [f.title for f in seg.figures]
    assert titles == [
        "RFM segments: share of users and of revenue",
        "RFM segments: personas",
        "Behavioural clusters: share of users and of revenue",
        "Behavioural clusters: personas",
    ]
    page = render_report(data)
    assert 'aria-label="RFM segments: share of users and of revenue"' in page
    assert rfm.personas[0].description.split(".")[0] in page  # the persona text, escaped as HTML needs
    assert cluster.personas[0].name in page and "template" in page
    assert page.count("<rect") > 2 * len(rfm.profiles)


def test_share_bars_draw_two_bars_per_segment_and_shorten_long_names() -> None:
    labels = ["Champions", "a very long persona name that goes on and on", "高价值常客"]
    svg = share_bars(labels, [0.2, 0.5, 0.3], [0.7, 0.1, 0.2], title="t")
    assert svg.count("<rect") >= 2 * 3 + 2  # bars and the legend swatches
    assert "a very long persona name …" in svg and "高价值常客" in svg
    assert "Champions · revenue: 70.0%" in svg  # the tooltip
    saved = SavedSegmentation("cluster", "gmm", date(2025, 1, 1), datetime(2025, 1, 2), ())
    assert chart_title(saved) == "Behavioural clusters: share of users and of revenue"


CHARTS = """
() => [...document.querySelectorAll('section#segments figure svg.chart')].map((svg) => {
  const box = svg.getBoundingClientRect();
  return {title: svg.getAttribute('aria-label'), empty: svg.classList.contains('chart-empty'),
          rects: svg.querySelectorAll('rect').length, texts: svg.querySelectorAll('text').length,
          width: box.width, height: box.height};
})
"""


@pytest.mark.browser
def test_segment_charts_render_in_chromium(shop: Settings, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium) or deselect -m browser")
    from playwright.sync_api import sync_playwright

    segment_users(shop, method="rfm")
    segment_users(shop, method="cluster", k=3)
    path = write_report(gather_report(shop), tmp_path / "report.html").path
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri(), wait_until="load")
            charts: list[dict[str, Any]] = page.evaluate(CHARTS)
        finally:
            browser.close()
    assert errors == []
    assert [c["title"] for c in charts] == [
        "RFM segments: share of users and of revenue",
        "Behavioural clusters: share of users and of revenue",
    ]
    for c in charts:
        assert not c["empty"] and c["rects"] >= 2 * 3 and c["texts"] > 5, c
        assert c["width"] > 200 and c["height"] > 100, c
