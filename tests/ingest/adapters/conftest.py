"""Fixtures for the public-format adapter tests: a fresh store file per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from growthkit.config import Settings
from growthkit.ingest import IngestReport, ingest
from growthkit.store import Store, open_store


@dataclass
class Shop:
    store: Store
    settings: Settings
    dir: Path

    def write(self, name: str, text: str, encoding: str = "utf-8") -> Path:
        p = self.dir / name
        p.write_bytes(text.encode(encoding))
        return p

    def ingest(self, paths: Sequence[Path], fmt: str, **kw: Any) -> IngestReport:
        rep = ingest(self.store, self.settings, list(paths), fmt=fmt, **kw)
        for t in rep.tables:
            assert t.rows_read == t.rows_loaded + t.rows_duplicate + t.rows_quarantined, t
        assert rep.rows_read == rep.rows_loaded + rep.rows_duplicate + rep.rows_quarantined
        return rep

    def rows(self, sql: str) -> list[dict[str, Any]]:
        return list(self.store.query(sql).to_pylist())

    def quarantine(self) -> list[dict[str, Any]]:
        return self.rows("SELECT kind, line, reason_code, reason, raw FROM quarantine ORDER BY kind, line")

    def reload_adds_nothing(self, paths: Sequence[Path], fmt: str, **kw: Any) -> None:
        """Ingest ``paths`` again and check that nothing new is loaded or updated."""
        tables = ("events", "items", "users", "reviews")
        before = {t: self.store.scalar(f"SELECT count(*) FROM {t}") for t in tables}
        q_before = self.store.scalar("SELECT count(*) FROM quarantine")
        rep = self.ingest(paths, fmt, **kw)
        assert rep.ok, rep.failures
        assert (rep.rows_loaded, rep.rows_updated) == (0, 0)
        assert rep.rows_read > 0
        assert {t: self.store.scalar(f"SELECT count(*) FROM {t}") for t in tables} == before
        # only the rows that were bad the first time are quarantined again
        assert self.store.scalar("SELECT count(*) FROM quarantine") - q_before == rep.rows_quarantined

    def table(self, rep: IngestReport, name: str, source: str | None = None) -> Any:
        found = [t for t in rep.tables if t.table == name and (source is None or Path(t.source).name == source)]
        assert len(found) == 1, rep.tables
        return found[0]


@pytest.fixture
def make_shop(tmp_path: Path) -> Iterator[Callable[..., Shop]]:
    """``make_shop(**settings) -> Shop``: a store in its own folder, with extra settings."""
    opened: list[Store] = []

    def _make(**settings: Any) -> Shop:
        d = tmp_path / f"shop{len(opened)}"
        d.mkdir()
        s = Settings(db=str(d / "s.duckdb"), workspace=d, **settings)
        st = open_store(s)
        opened.append(st)
        return Shop(st, s, d)

    yield _make
    for st in opened:
        st.close()


@pytest.fixture
def shop(make_shop: Callable[..., Shop]) -> Shop:
    """A fresh store file (UTC) and a folder to write input files to."""
    return make_shop()
