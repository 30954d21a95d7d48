"""Use cases for the real sample datasets: list, fetch, load."""

from __future__ import annotations

from pathlib import Path

from growthkit.config import Settings
from growthkit.datasets import DATASETS, Dataset, fetch, load
from growthkit.ingest import IngestReport
from growthkit.ingest.api import ProgressFn
from growthkit.store import open_store


def list_datasets() -> list[Dataset]:
    """The sample datasets growthkit can fetch, by name."""
    return [DATASETS[k] for k in sorted(DATASETS)]


def fetch_dataset(settings: Settings, name: str, *, progress: ProgressFn | None = None) -> Path:
    """Download (or reuse the cached, verified copy of) dataset ``name``; returns its folder."""
    return fetch(name, settings, progress=progress)


def load_dataset(settings: Settings, name: str, *, progress: ProgressFn | None = None) -> IngestReport:
    """Fetch dataset ``name`` and ingest it into the store named in ``settings``."""
    with open_store(settings) as store:
        return load(name, store, settings, progress=progress)
