"""Shared fixtures: a settings object and a store in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from growthkit.config import Settings
from growthkit.store import DuckDBStore, open_store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db=str(tmp_path / "shop.duckdb"), workspace=tmp_path / "ws", busy_timeout=0.2)


@pytest.fixture
def store(settings: Settings) -> Iterator[DuckDBStore]:
    st = open_store(settings)
    assert isinstance(st, DuckDBStore)
    yield st
    st.close()


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``write(name, text, encoding="utf-8") -> Path`` in the test's folder."""

    def _write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return _write
