"""Use cases that compose the layers (layer 6). The CLI, service and report call only these."""

from growthkit.workflows.data import ingest_files, migrate_store, quarantined_rows, store_status
from growthkit.workflows.demo import DEMO_STEPS, DemoContext, run_demo
from growthkit.workflows.sim import simulate_shop

__all__ = [
    "DEMO_STEPS",
    "DemoContext",
    "ingest_files",
    "migrate_store",
    "quarantined_rows",
    "run_demo",
    "simulate_shop",
    "store_status",
]
