"""The demo's report in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium).

Every chart must render (an SVG with shapes and a non-zero box), the console
must stay free of errors, the page must request nothing from the network, and
a full-page screenshot is kept as a test artifact (out/test-artifacts/report.png).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from growthkit.config import Settings
from growthkit.report import write_report
from growthkit.workflows import run_demo

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "out" / "test-artifacts" / "report.png"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECTIONS = ("kpis", "trends", "aarrr", "funnel", "retention", "ltv", "lifecycle", "experiments", "recommendations")

CHART_STATE = """
() => [...document.querySelectorAll('figure svg.chart')].map((svg) => {
  const box = svg.getBoundingClientRect();
  return {
    section: svg.closest('section').id,
    title: svg.getAttribute('aria-label'),
    empty: svg.classList.contains('chart-empty'),
    shapes: svg.querySelectorAll('rect, path, circle, line, polyline').length,
    texts: svg.querySelectorAll('text').length,
    width: box.width,
    height: box.height,
  };
})
"""


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    settings = Settings(db=str(out / "growthkit.duckdb"), workspace=out / "ws")
    ctx = run_demo(
        settings, out_dir=out, users=1500, days=120, seed=11, render_report=lambda d, p: write_report(d, p).path
    )
    path = Path(ctx.results["report"])
    assert path == out / "report.html" and path.is_file()
    return path


@pytest.mark.browser
def test_report_renders_every_chart_in_chromium(demo_report: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium) or deselect -m browser")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 900},
            device_scale_factor=1,
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(demo_report.as_uri(), wait_until="load")
            charts: list[dict[str, Any]] = page.evaluate(CHART_STATE)
            sections = page.evaluate("() => [...document.querySelectorAll('section.card')].map((s) => s.id)")
            tiles = page.locator(".kpi").count()
            title = page.title()
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACT)

    assert errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert list(sections) == list(SECTIONS)
    assert "Growth report" in title
    assert tiles >= 6 + 5  # headline tiles and the five AARRR stages
    assert len(charts) >= 10
    for c in charts:
        assert not c["empty"], f"{c['title']} shows no data"
        assert c["shapes"] > 3 and c["texts"] > 0, c
        assert c["width"] > 200 and c["height"] > 50, c
    assert {c["section"] for c in charts} == set(SECTIONS) - {"kpis"}
    assert shot.stat().st_size > 20_000
