"""The DuckDB store: creation, migrations, transactions, concurrency, Ibis."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from growthkit.config import Settings
from growthkit.errors import MigrationError, StoreBusyError, StoreError
from growthkit.schema import TABLES
from growthkit.store import CURRENT_VERSION, DuckDBStore, Store, open_store


def test_new_store_has_every_canonical_table(store: DuckDBStore) -> None:
    assert isinstance(store, Store)
    names = set(store.tables())
    assert set(TABLES) | {"quarantine", "ingestions", "schema_version"} <= names
    assert store.schema_version() == CURRENT_VERSION
    for t in TABLES.values():
        cols = [r["column_name"] for r in store.query(f"DESCRIBE {t.name}").to_pylist()]
        assert cols[: len(t.columns)] == list(t.column_names)


def test_memory_store_works_and_cannot_be_read_only() -> None:
    with open_store(Settings(db=":memory:")) as st:
        assert st.scalar("select count(*) from events") == 0
    with pytest.raises(StoreError, match="in-memory"):
        open_store(Settings(db=":memory:"), read_only=True)


def test_read_only_open_of_missing_store_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="growthkit demo"):
        open_store(Settings(db=str(tmp_path / "nope.duckdb")), read_only=True)


def test_transaction_rolls_back_on_error(store: DuckDBStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.execute("insert into items (item_id) values ('a')")
        raise RuntimeError("boom")
    assert store.scalar("select count(*) from items") == 0
    with store.transaction():
        store.execute("insert into items (item_id) values ('b')")
    assert store.scalar("select count(*) from items") == 1


def test_ibis_backend_sees_the_tables(store: DuckDBStore) -> None:
    store.execute("insert into events (event_id, user_id, ts, event_type) values ('e1', 'u1', now(), 'view')")
    ev = store.ibis().table("events")
    assert ev.count().execute() == 1
    assert ev.filter(ev.event_type == "view").user_id.execute().tolist() == ["u1"]


def test_old_store_is_migrated_on_write_open_and_refused_read_only(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))  # a "version 0" store: data but no schema_version table
    con.execute("create table notes (x int)")
    con.close()
    with pytest.raises(MigrationError, match="growthkit migrate"):
        open_store(Settings(db=str(db)), read_only=True)
    with open_store(Settings(db=str(db))) as st:
        assert st.schema_version() == CURRENT_VERSION
        assert "notes" in st.tables()  # migrations keep what was there
    with open_store(Settings(db=str(db)), read_only=True) as st:
        assert st.schema_version() == CURRENT_VERSION


def test_store_from_a_newer_growthkit_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    open_store(Settings(db=str(db))).close()
    con = duckdb.connect(str(db))
    con.execute("insert into schema_version values (?, 'future', '9.9', now())", [CURRENT_VERSION + 1])
    con.close()
    with pytest.raises(MigrationError, match="upgrade growthkit"):
        open_store(Settings(db=str(db)))


def test_not_a_duckdb_file_gives_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.duckdb"
    bad.write_text("this is not a database")
    with pytest.raises(StoreError, match="cannot open store"):
        open_store(Settings(db=str(bad)))


HOLD_WRITE_LOCK = textwrap.dedent(
    """
    import sys, time
    from growthkit.config import Settings
    from growthkit.store import open_store
    st = open_store(Settings(db=sys.argv[1]))
    st.execute("begin transaction")
    st.execute("insert into items (item_id) values ('half-written')")
    print("locked", flush=True)
    time.sleep(30)
    """
)


def test_second_writer_and_reader_get_store_is_busy_and_nothing_is_corrupted(tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    with open_store(Settings(db=str(db))) as st:
        st.execute("insert into items (item_id) values ('committed')")
    proc = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(StoreBusyError, match=rf"store is busy: process {proc.pid}"):
            open_store(Settings(db=str(db), busy_timeout=0.3))
        with pytest.raises(StoreBusyError, match="GROWTHKIT_BUSY_TIMEOUT"):
            open_store(Settings(db=str(db), busy_timeout=0.0), read_only=True)
    finally:
        proc.kill()
        proc.wait()
    with open_store(Settings(db=str(db)), read_only=True) as st:
        assert [r["item_id"] for r in st.query("select item_id from items").to_pylist()] == ["committed"]


def test_two_readers_at_once(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    open_store(Settings(db=str(db))).close()
    a = open_store(Settings(db=str(db)), read_only=True)
    code = (
        f"from growthkit.config import Settings; from growthkit.store import open_store; "
        f"print(open_store(Settings(db={str(db)!r}), read_only=True).scalar('select count(*) from events'))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    a.close()
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "0"
