"""The engine seam (layer 1): the :class:`Store` protocol and its backends."""

from growthkit.config import Settings
from growthkit.store.base import Store
from growthkit.store.duckdb import DuckDBStore
from growthkit.store.migrations import CURRENT_VERSION, MIGRATIONS, Migration

__all__ = ["CURRENT_VERSION", "MIGRATIONS", "DuckDBStore", "Migration", "Store", "open_store"]


def open_store(settings: Settings, *, read_only: bool = False) -> Store:
    """Open the store named by ``settings.db`` (the embedded DuckDB backend)."""
    return DuckDBStore.open(settings, read_only=read_only)
