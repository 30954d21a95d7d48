"""Shared fixtures for the simulator tests: one 3k-user, 120-day shop written once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from growthkit.sim import SimConfig, SimManifest, write_simulation

SHOP_CONFIG = SimConfig(users=3_000, days=120, seed=11, chunk_users=1_000)


@dataclass(frozen=True)
class Shop:
    manifest: SimManifest
    events: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame
    reviews: pd.DataFrame
    edges: pd.DataFrame
    truth_users: pd.DataFrame
    truth_edges: pd.DataFrame
    truth_items: pd.DataFrame


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    out = tmp_path_factory.mktemp("shop")
    manifest = write_simulation(SHOP_CONFIG, out)

    def read(path: Path) -> pd.DataFrame:
        return pq.read_table(path).to_pandas()

    return Shop(
        manifest=manifest,
        events=read(manifest.files["events"]),
        users=read(manifest.files["users"]),
        items=read(manifest.files["items"]),
        reviews=read(manifest.files["reviews"]),
        edges=read(manifest.files["edges"]),
        truth_users=read(manifest.truth_files["users"]),
        truth_edges=read(manifest.truth_files["edges"]),
        truth_items=read(manifest.truth_files["items"]),
    )
