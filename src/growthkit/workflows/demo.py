"""The main job: simulate a shop, load it, and show what growthkit makes of it.

The demo is a list of steps (:data:`DEMO_STEPS`) run in order on a shared
:class:`DemoContext`. A feature joins the demo by appending a step here:
a name and a function that reads what earlier steps left on the context and
adds its own result to ``ctx.results``.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.experiments.metrics import METRICS, MetricDefinition
from growthkit.ingest import IngestReport
from growthkit.ingest.summary import StoreSummary
from growthkit.sim import SimConfig, SimManifest, write_simulation
from growthkit.workflows.data import ingest_files, store_status
from growthkit.workflows.experiments import analyze_experiment, record_experiment_tables
from growthkit.workflows.recommend import recommend_demo
from growthkit.workflows.report import ReportData, gather_report

LOAD_ORDER = ("items", "users", "events", "reviews", "edges")
EXPERIMENT_AFTER_DAYS = 3
DAY_US = 86_400_000_000
"""The A/B analysis window: the send day, the coupon's validity, and this many days after it."""


@dataclass
class DemoContext:
    """State shared by the demo's steps."""

    settings: Settings
    out_dir: Path
    sim: SimConfig
    progress: Callable[[str, float], None]
    manifest: SimManifest | None = None
    ingest: dict[str, IngestReport] = field(default_factory=dict)
    summary: StoreSummary | None = None
    results: dict[str, Any] = field(default_factory=dict)
    render_report: Callable[[ReportData, Path], Path] | None = None
    """Writes the HTML report (given by the caller: the renderer lives in the top layer)."""
    timings: dict[str, float] = field(default_factory=dict)


def _simulate(ctx: DemoContext) -> None:
    def tick(done: int, total: int) -> None:
        ctx.progress(f"simulating {total:,} customers", done / max(total, 1))

    ctx.manifest = write_simulation(ctx.sim, ctx.out_dir / "data", progress=tick)


def _load(ctx: DemoContext) -> None:
    assert ctx.manifest is not None
    for i, kind in enumerate(LOAD_ORDER):
        path = ctx.manifest.files[kind]
        ctx.progress(f"loading {kind}", i / len(LOAD_ORDER))
        ctx.ingest[kind] = ingest_files(ctx.settings, [path], kind=kind)


def _summarise(ctx: DemoContext) -> None:
    ctx.summary = store_status(ctx.settings)


def campaign_metrics(window_days: float) -> list[MetricDefinition]:
    """Conversion and revenue per exposed user over ``window_days`` after exposure (CUPED on the same before)."""
    return [
        dataclasses.replace(
            m, window_days=window_days, description=m.description.replace("14 days", f"{window_days:g} days")
        )
        for m in (METRICS["conversion"], METRICS["revenue"])
    ]


def pick_campaign(definitions: pa.Table, exposures: pa.Table, data_end_us: int, window_days: float) -> str | None:
    """The campaign with the most exposed users among those whose analysis window ends inside the data
    (else the largest of all); None without exposures."""
    if exposures.num_rows == 0:
        return None
    counts = {str(r["values"]): int(r["counts"]) for r in pc.value_counts(exposures["experiment"]).to_pylist()}
    window_us = round(window_days * DAY_US)
    starts = {
        str(k): int(ts.as_py())
        for k, ts in zip(definitions["experiment"], pc.cast(definitions["start_ts"], pa.int64()), strict=True)
    }
    complete = [k for k in counts if starts.get(k, data_end_us) + window_us <= data_end_us]
    return max(complete or list(counts), key=lambda k: (counts[k], k))


def _experiment(ctx: DemoContext) -> None:
    """Record the simulated coupon campaigns as experiments and analyse the largest one against its truth."""
    assert ctx.manifest is not None
    files, truth_file = ctx.manifest.experiment_files, ctx.manifest.truth_files["experiments"]
    definitions, exposures = pq.read_table(files["experiments"]), pq.read_table(files["exposures"])
    ctx.progress("recording campaign exposures", 0.1)
    recorded = record_experiment_tables(ctx.settings, definitions, exposures)
    window = float(ctx.sim.coupon_valid_days + 1 + EXPERIMENT_AFTER_DAYS)
    end_us = ((ctx.sim.start - date(1970, 1, 1)).days + ctx.sim.days) * DAY_US
    key = pick_campaign(definitions, exposures, end_us, window)
    if key is None:
        ctx.results["experiment"] = None
        return
    ctx.progress(f"analysing {key}", 0.5)
    analysis = analyze_experiment(ctx.settings, key, campaign_metrics(window))
    truth = pq.read_table(truth_file).to_pylist()
    ctx.results["experiment"] = {
        "experiment": key,
        "window_days": window,
        "campaigns": len(recorded),
        "exposures": sum(r.rows_offered for r in recorded),
        "analysis": analysis,
        "truth": next((t for t in truth if t["experiment"] == key), None),
    }


def _recommend(ctx: DemoContext) -> None:
    """Compare recommenders by time on the store, train the best, store every customer's top 20."""
    ctx.results["recommend"] = recommend_demo(ctx.settings, progress=ctx.progress)


def _report(ctx: DemoContext) -> None:
    """Compute the growth report of the demo store and, given a renderer, write ``out_dir/report.html``."""
    data = gather_report(ctx.settings, progress=ctx.progress)
    ctx.results["report_data"] = data
    if ctx.render_report is not None:
        ctx.results["report"] = ctx.render_report(data, ctx.out_dir / "report.html")


DemoStep = tuple[str, Callable[[DemoContext], None]]

DEMO_STEPS: list[DemoStep] = [
    ("simulate a shop", _simulate),
    ("load it into the store", _load),
    ("summarise the store", _summarise),
    ("analyse a coupon campaign as an A/B test", _experiment),
    ("recommend products to every customer", _recommend),
    ("write the HTML report", _report),
]
"""The demo, in order. Append ``(name, step)`` to add a feature to ``growthkit demo``."""


def run_demo(
    settings: Settings,
    *,
    out_dir: Path,
    users: int = 20_000,
    days: int = 180,
    seed: int = 7,
    fresh: bool = True,
    on_step: Callable[[str, float], None] | None = None,
    render_report: Callable[[ReportData, Path], Path] | None = None,
) -> DemoContext:
    """Run every step of :data:`DEMO_STEPS`; returns the context with all results.

    ``fresh`` deletes the store file first, but only when it lies inside
    ``out_dir`` (the demo never deletes a store it did not create).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    db = Path(settings.db)
    if fresh and not settings.is_memory and db.exists():
        if out_dir.resolve() not in db.resolve().parents:
            raise ConfigError(
                f"{db} already exists and is outside the demo folder {out_dir}; "
                "pass --no-fresh to add the demo data to it, or choose another --db"
            )
        db.unlink()
        wal = db.with_name(db.name + ".wal")
        if wal.exists():
            wal.unlink()
    if fresh and (out_dir / "data").exists():
        shutil.rmtree(out_dir / "data")
    progress = on_step or (lambda what, frac: None)
    ctx = DemoContext(settings, out_dir, SimConfig(users=users, days=days, seed=seed), progress)
    ctx.render_report = render_report
    for name, step in DEMO_STEPS:
        progress(name, 0.0)
        t0 = time.perf_counter()
        step(ctx)
        ctx.timings[name] = time.perf_counter() - t0
    return ctx
