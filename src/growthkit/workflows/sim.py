"""Use case: write a simulated shop to disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from growthkit.sim import SimConfig, SimManifest, write_simulation


def simulate_shop(
    config: SimConfig, out_dir: Path, *, progress: Callable[[int, int], None] | None = None
) -> SimManifest:
    """Simulate ``config`` and write canonical Parquet files plus ground truth to ``out_dir``."""
    return write_simulation(config, out_dir, progress=progress)
