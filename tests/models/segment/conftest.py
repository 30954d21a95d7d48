"""Fixtures for the segmentation tests: a small simulated shop's feature table and its true customer types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from growthkit.config import Settings
from growthkit.features import build_user_features
from growthkit.schema import TABLES
from growthkit.sim import SimConfig
from growthkit.sim.writer import simulate
from growthkit.store import open_store

SIM = SimConfig(users=1500, days=90, seed=3)


@dataclass(frozen=True)
class SimShop:
    features: pd.DataFrame
    truth: pd.Series


@pytest.fixture(scope="session")
def sim_shop() -> SimShop:
    """1,500 simulated users after 90 days: the feature table at the end and each user's true type."""
    data = simulate(SIM)
    with open_store(Settings(db=":memory:")) as store:
        for name in ("events", "users", "items", "reviews", "edges"):
            table = getattr(data, name)
            cols = ", ".join(c for c in TABLES[name].column_names if c in table.column_names)
            with store.register("sim_rows", table):
                store.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM sim_rows")
        features = build_user_features(store, SIM.start + timedelta(days=SIM.days))
    users = data.truth["users"].to_pandas()
    truth = pd.Series(
        users["customer_type"].astype(str).to_numpy(), index=pd.Index(users["user_id"].astype(str)), name="type"
    )
    return SimShop(features, truth)


def blobs(
    sizes: tuple[int, ...], centres: tuple[tuple[float, float], ...], seed: int, prefix: str = "u"
) -> pd.DataFrame:
    """Well separated 2-d Gaussian blobs as a two-column feature table (``frequency``, ``recency_days``)."""
    rng = np.random.default_rng(seed)
    parts = [rng.normal(c, 0.5, size=(n, 2)) for n, c in zip(sizes, centres, strict=True)]
    xy = np.vstack(parts)
    ids = [f"{prefix}{i}" for i in range(len(xy))]
    return pd.DataFrame({"frequency": xy[:, 0], "recency_days": xy[:, 1]}, index=pd.Index(ids, name="user_id"))


@pytest.fixture
def make_blobs():  # type: ignore[no-untyped-def]
    return blobs
