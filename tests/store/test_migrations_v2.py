"""Schema v2 (experiments and exposures): a v1 store is migrated on open, read-only says how."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from growthkit import __version__
from growthkit.config import Settings
from growthkit.errors import MigrationError
from growthkit.store import CURRENT_VERSION, MIGRATIONS, open_store
from growthkit.store.migrations import VERSION_TABLE_SQL


def _v1_store(path: Path) -> None:
    """A store exactly as growthkit wrote it at schema version 1, with one event in it."""
    con = duckdb.connect(str(path))
    con.execute(VERSION_TABLE_SQL)
    v1 = MIGRATIONS[0]
    assert v1.version == 1
    for stmt in v1.statements:
        con.execute(stmt)
    con.execute("insert into schema_version values (1, ?, ?, now())", [v1.description, __version__])
    con.execute("insert into events (event_id, user_id, ts, event_type) values ('e1', 'u1', '2025-01-01', 'view')")
    con.close()


def test_v2_adds_exposures_and_experiments() -> None:
    assert CURRENT_VERSION >= 2
    v2 = next(m for m in MIGRATIONS if m.version == 2)
    assert any("exposures" in s for s in v2.statements) and any("experiments" in s for s in v2.statements)


def test_v1_store_is_migrated_to_v2_on_open_and_keeps_its_data(tmp_path: Path) -> None:
    db = tmp_path / "v1.duckdb"
    _v1_store(db)
    with open_store(Settings(db=str(db))) as st:
        assert st.schema_version() == CURRENT_VERSION
        assert {"exposures", "experiments"} <= set(st.tables())
        assert st.scalar("select count(*) from events") == 1
        st.execute("insert into exposures values ('exp', 'control', 'u1', '2025-01-01', null)")
        with pytest.raises(duckdb.ConstraintException):  # one first exposure per user and experiment
            st.execute("insert into exposures values ('exp', 'B', 'u1', '2025-01-02', null)")
    versions = duckdb.connect(str(db), read_only=True).execute("select version from schema_version order by 1")
    assert [r[0] for r in versions.fetchall()] == list(range(1, CURRENT_VERSION + 1))


def test_read_only_open_of_a_v1_store_says_to_run_migrate(tmp_path: Path) -> None:
    db = tmp_path / "v1.duckdb"
    _v1_store(db)
    with pytest.raises(MigrationError, match=r"schema version 1; this growthkit needs .*growthkit migrate --db"):
        open_store(Settings(db=str(db)), read_only=True)
    with open_store(Settings(db=str(db))) as st:  # the store was left as it was
        assert st.schema_version() == CURRENT_VERSION
