"""Shared fixtures: a small simulated shop in a DuckDB store, and its assistant (TF-IDF, no model)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pytest

from growthkit.assistant import Assistant
from growthkit.config import Settings
from growthkit.sim import SimConfig
from growthkit.store import Store, open_store
from growthkit.workflows.assistant import load_simulated_shop

SHOP = SimConfig(users=300, days=45, seed=5)


@dataclass(frozen=True)
class Shop:
    store: Store
    bot: Assistant
    purchases: pd.DataFrame
    items: pd.DataFrame

    def buyers(self, min_orders: int = 2) -> list[str]:
        """Users with at least ``min_orders`` orders (sessions with a purchase), sorted."""
        n = self.purchases.groupby("user_id")["session_id"].nunique()
        return sorted(n[n >= min_orders].index)


@pytest.fixture(scope="session")
def shop() -> Iterator[Shop]:
    store = open_store(Settings(db=":memory:"))
    load_simulated_shop(store, SHOP)
    purchases = store.query(
        "SELECT user_id, session_id, event_id, ts, item_id, amount, quantity FROM events WHERE event_type = 'purchase'"
    ).to_pandas()
    items = store.query("SELECT * FROM items").to_pandas()
    yield Shop(store, Assistant.from_store(store), purchases, items)
    store.close()


def insert(store: Store, table: str, rows: list[dict[str, object]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``."""
    cols = list(rows[0])
    values = ", ".join("(" + ", ".join("?" for _ in cols) + ")" for _ in rows)
    params = [r[c] for r in rows for c in cols]
    store.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES {values}", params)
