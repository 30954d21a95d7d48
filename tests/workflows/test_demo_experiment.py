"""The demo's A/B step: the simulated campaigns land in the store and the largest complete one is analysed."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from growthkit.config import Settings
from growthkit.store import open_store
from growthkit.workflows import demo as demo_mod
from growthkit.workflows import run_demo


def test_demo_records_campaigns_and_analyses_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = [s for s in demo_mod.DEMO_STEPS if s[1] is not demo_mod._report]  # the report has its own tests
    monkeypatch.setattr(demo_mod, "DEMO_STEPS", steps)
    settings = Settings(db=str(tmp_path / "g.duckdb"), workspace=tmp_path / "ws")
    ctx = run_demo(settings, out_dir=tmp_path, users=1_500, days=60, seed=5)
    res = ctx.results["experiment"]
    assert ctx.manifest is not None
    exposures = pq.read_table(ctx.manifest.experiment_files["exposures"])
    with open_store(settings, read_only=True) as st:
        assert st.scalar("SELECT count(*) FROM exposures") == exposures.num_rows
        assert st.scalar("SELECT count(*) FROM experiments") == res["campaigns"] == 4  # days 7, 21, 35, 49
    # 49 + 11 > 60: the last campaign's window is incomplete, so the largest of the others is analysed
    assert res["experiment"] == "coupon-2025-02-05" and res["window_days"] == 11.0
    a = res["analysis"]
    assert [m["name"] for m in a["metrics"]] == ["conversion", "revenue"]
    assert [v["name"] for v in a["variations"]] == ["control", "coupon"]
    assert [v["expected_share"] for v in a["variations"]] == pytest.approx([0.7, 0.3])
    assert not a["srm"]["detected"]
    assert a["decisions"][0]["action"] in {"ship", "dont_ship", "keep_running"}
    assert res["truth"]["experiment"] == res["experiment"]
    assert res["truth"]["n_coupon"] == a["variations"][1]["users"]
    assert 0.0 < res["truth"]["true_att"] < 0.2
