"""The main job: simulate a shop, load it, and show what growthkit makes of it.

The demo is a list of steps (:data:`DEMO_STEPS`) run in order on a shared
:class:`DemoContext`. A feature joins the demo by appending a step here:
a name and a function that reads what earlier steps left on the context and
adds its own result to ``ctx.results``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.ingest import IngestReport
from growthkit.ingest.summary import StoreSummary
from growthkit.sim import SimConfig, SimManifest, write_simulation
from growthkit.workflows.data import ingest_files, store_status

LOAD_ORDER = ("items", "users", "events", "reviews", "edges")


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


DemoStep = tuple[str, Callable[[DemoContext], None]]

DEMO_STEPS: list[DemoStep] = [
    ("simulate a shop", _simulate),
    ("load it into the store", _load),
    ("summarise the store", _summarise),
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
    for name, step in DEMO_STEPS:
        progress(name, 0.0)
        t0 = time.perf_counter()
        step(ctx)
        ctx.timings[name] = time.perf_counter() - t0
    return ctx
