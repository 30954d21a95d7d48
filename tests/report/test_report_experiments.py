"""The report's experiments section on tiny hand-made stores: numbers, SRM status, decision, order, none."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from growthkit.config import Settings
from growthkit.experiments import Experiment, record_exposure_rows
from growthkit.report import Interval, Unit, build_sections, interval_chart, render_report
from growthkit.report.build_experiments import NO_EXPERIMENTS
from growthkit.report.intervals import signed
from growthkit.store import open_store
from growthkit.workflows.report import gather_report

BANNER_T0 = datetime(2025, 1, 10, tzinfo=UTC)
OLD_T0 = datetime(2025, 1, 3, tzinfo=UTC)


def _events(rows: list[tuple[str, str, str, float | None]]) -> pa.Table:
    return pa.table(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "user_id": [r[0] for r in rows],
            "ts": pa.array([datetime.fromisoformat(r[1]) for r in rows], pa.timestamp("us")),
            "event_type": [r[2] for r in rows],
            "amount": pa.array([r[3] for r in rows], pa.float64()),
            "currency": ["CNY" if r[3] is not None else None for r in rows],
        }
    )


def _exposures(users: list[tuple[str, str]], ts: datetime) -> pa.Table:
    return pa.table(
        {
            "variation": [v for _, v in users],
            "user_id": [u for u, _ in users],
            "ts": pa.array([ts] * len(users), pa.timestamp("us", tz="UTC")),
        }
    )


@pytest.fixture
def shop(settings: Settings) -> Settings:
    """``banner`` (from 10 Jan): 20 control users, 4 buy for 50; 20 B users, 8 buy for 30.
    ``old`` (from 3 Jan): 40 control vs 10 B users on a planned 50/50 split, so its SRM check fails."""
    control = [f"c{i:02d}" for i in range(20)]
    treated = [f"t{i:02d}" for i in range(20)]
    rows: list[tuple[str, str, str, float | None]] = [(u, "2025-01-11 09:00", "view", None) for u in control + treated]
    rows += [(u, "2025-01-12 10:00", "purchase", 50.0) for u in control[:4]]
    rows += [(u, "2025-01-12 11:00", "purchase", 30.0) for u in treated[:8]]
    with open_store(settings) as st:
        with st.register("ev_in", _events(rows)):
            st.execute(
                "INSERT INTO events (event_id, user_id, ts, event_type, amount, currency) "
                "SELECT event_id, user_id, ts, event_type, amount, currency FROM ev_in"
            )
        banner = Experiment("banner", ("control", "B"))
        record_exposure_rows(
            st, banner, _exposures([(u, "control") for u in control] + [(u, "B") for u in treated], BANNER_T0)
        )
        old = Experiment("old", ("control", "B"))
        users = [(f"c{i:02d}", "control") for i in range(20)] + [(f"t{i:02d}", "control") for i in range(20)]
        users += [(f"x{i:02d}", "B") for i in range(10)]
        record_exposure_rows(st, old, _exposures(users, OLD_T0))
    return settings


def test_section_shows_effects_srm_and_decision(shop: Settings) -> None:
    data = gather_report(shop, now=datetime(2025, 1, 27, 9, 30))
    assert [a["experiment"] for a in data.experiments] == ["banner", "old"]  # most recent first
    section = build_sections(data)[-1]
    assert section.key == "experiments" and len(section.figures) == 2 and not section.notes
    page = render_report(data)
    body = page[page.index('id="experiments"') :]

    banner = data.experiments[0]
    conv, rev = (m["result"]["variations"][0] for m in banner["metrics"])
    assert conv["effect"] == pytest.approx(1.0)  # 8/20 against 4/20
    assert rev["effect"] == pytest.approx(0.2)  # 240/20 against 200/20
    assert "+100.0%" in body and "+20.0%" in body
    for v in (conv, rev):
        assert f"[{signed(Unit.percent(), v['ci_low'])}, {signed(Unit.percent(), v['ci_high'])}]" in body
    assert "Users: control 20 (50% planned), B 20 (50% planned)" in body
    assert "SRM check p = 1.000" in body  # 20 vs 20 on 50/50
    decision = banner["decisions"][0]
    assert 'Decision for B: <span class="badge' in body
    assert {"ship": "Ship", "dont_ship": "Don&#x27;t ship", "keep_running": "Keep running"}[decision["action"]] in body
    assert decision["reasons"][0].replace("'", "&#x27;") in body

    old = data.experiments[1]
    assert old["srm"]["detected"] and old["srm"]["p_value"] < 1e-4  # 40 vs 10 on 50/50
    assert '<span class="badge bad"' in body and "Sample-ratio mismatch: p &lt; 0.001" in body
    assert body.index("banner: effect against control") < body.index("old: effect against control")


def test_at_most_three_experiments_are_analysed(shop: Settings) -> None:
    with open_store(shop) as st:
        for k in range(3):
            exp = Experiment(f"later{k}", ("control", "B"))
            when = datetime(2025, 1, 20 + k, tzinfo=UTC)
            record_exposure_rows(st, exp, _exposures([("c00", "control"), ("t00", "B"), ("c01", "B")], when))
    data = gather_report(shop)
    assert [a["experiment"] for a in data.experiments] == ["later2", "later1", "later0"]


def test_store_without_experiments_says_so(settings: Settings) -> None:
    with open_store(settings) as st:
        st.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, amount, currency) VALUES "
            "('e1', 'u1', '2025-01-06 09:00', 'purchase', 20.0, 'CNY')"
        )
    data = gather_report(settings)
    assert data.experiments == ()
    section = build_sections(data)[-1]
    assert section.key == "experiments" and section.figures == () and section.notes[0] == NO_EXPERIMENTS
    assert "No experiments with exposures in this store" in render_report(data)


def test_interval_chart_draws_zero_line_and_clips_open_ends() -> None:
    svg = interval_chart(
        [Interval("conversion", 0.05, 0.01, 0.09, "p = 0.020"), Interval("revenue <net>", -0.1, None, 0.02)],
        title="Effects",
        unit=Unit.percent(),
    )
    assert "+5.0% [+1.0%, +9.0%]" in svg and "−10.0% [–, +2.0%]" in svg
    assert "revenue &lt;net&gt;" in svg and "<net>" not in svg
    assert 'stroke="#1f8f5f"' in svg  # significant and better: green
    assert svg.count("<circle") == 2 and ">0%</text>" in svg
    assert "chart-empty" in interval_chart([Interval("x", None, None, None)], title="t", unit=Unit.percent())
