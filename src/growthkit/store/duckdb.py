"""The embedded default store: one DuckDB file (or memory).

Concurrency follows DuckDB's file lock: any number of read-only processes,
or one writer. A process that finds the lock taken waits up to
``Settings.busy_timeout`` seconds, then raises :class:`StoreBusyError` naming
the process that holds it. The lock and DuckDB's write-ahead log mean a
reader never sees a half-written load and a killed writer leaves the file as
it was before its open transaction.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from growthkit import __version__
from growthkit.config import Settings
from growthkit.errors import MigrationError, StoreBusyError, StoreError
from growthkit.store.migrations import CURRENT_VERSION, MIGRATIONS, VERSION_TABLE_SQL

log = logging.getLogger(__name__)

_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<prog>.*?) \(PID (?P<pid>\d+)\)")


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


class DuckDBStore:
    """A :class:`~growthkit.store.Store` on a DuckDB file or in memory.

    Use :meth:`open`; the constructor takes an open connection.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> with DuckDBStore.open(Settings(db=":memory:")) as store:
    ...     store.scalar("select count(*) from events")
    0
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, *, location: str, read_only: bool) -> None:
        self._con = con
        self.location = location
        self.read_only = read_only
        self._tx_depth = 0
        self._ibis: Any = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None

    # -- opening -----------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, *, read_only: bool = False, migrate: bool = True) -> DuckDBStore:
        """Open (and create or migrate, when writable) the store ``settings.db``.

        Raises
        ------
        StoreBusyError
            Another process holds the lock for longer than ``settings.busy_timeout``.
        MigrationError
            The store's schema is older (read-only open) or newer than this growthkit.
        StoreError
            A read-only open of a store that does not exist.
        """
        location = settings.db
        config: dict[str, Any] = {
            "memory_limit": settings.memory_limit,
            "threads": settings.threads,
        }
        tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if settings.is_memory:
            if read_only:
                raise StoreError("an in-memory store cannot be opened read-only; give a file with --db PATH")
            tmpdir = tempfile.TemporaryDirectory(prefix="growthkit-spill-")
            config["temp_directory"] = tmpdir.name
        else:
            path = Path(location)
            if read_only and not path.exists():
                raise StoreError(
                    f"no store at {path}: create one with 'growthkit demo' or 'growthkit ingest --db {path} ...'"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
        con = cls._connect(location, read_only=read_only, config=config, timeout=settings.busy_timeout)
        con.execute("SET TimeZone = 'UTC'").fetchall()
        # let another thread read the progress of a long statement (query_progress); print nothing
        con.execute("SET enable_progress_bar = true").fetchall()
        con.execute("SET enable_progress_bar_print = false").fetchall()
        store = cls(con, location=location, read_only=read_only)
        store._tmpdir = tmpdir
        try:
            store._check_version(migrate=migrate)
        except BaseException:
            store.close()
            raise
        return store

    @staticmethod
    def _connect(
        location: str, *, read_only: bool, config: dict[str, Any], timeout: float
    ) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            try:
                return duckdb.connect(location, read_only=read_only, config=config)
            except duckdb.IOException as exc:
                if not _is_lock_error(exc):
                    raise StoreError(f"cannot open store {location}: {exc}") from exc
                if time.monotonic() >= deadline:
                    m = _LOCK_RE.search(str(exc))
                    who = f"process {m.group('pid')} ({m.group('prog')})" if m else "another process"
                    raise StoreBusyError(
                        f"store is busy: {who} is writing to {location}. Wait for it to finish and try "
                        f"again, or raise GROWTHKIT_BUSY_TIMEOUT (now {timeout:g} s) to wait longer."
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except duckdb.Error as exc:
                raise StoreError(
                    f"cannot open store {location}: {exc}. Is it a DuckDB file written by growthkit?"
                ) from exc

    def _check_version(self, *, migrate: bool) -> None:
        has_table = self.scalar("select count(*) from information_schema.tables where table_name = 'schema_version'")
        version = int(self.scalar("select coalesce(max(version), 0) from schema_version")) if has_table else 0
        if version > CURRENT_VERSION:
            raise MigrationError(
                f"store {self.location} has schema version {version}, but this growthkit ({__version__}) "
                f"knows versions up to {CURRENT_VERSION}: upgrade growthkit (pip install -U growthkit)."
            )
        if version == CURRENT_VERSION:
            return
        if self.read_only or not migrate:
            raise MigrationError(
                f"store {self.location} has schema version {version}; this growthkit needs {CURRENT_VERSION}. "
                f"Upgrade it once with: growthkit migrate --db {self.location}"
            )
        self._migrate(version)

    def _migrate(self, from_version: int) -> None:
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.transaction():
            self.execute(VERSION_TABLE_SQL)
            for m in MIGRATIONS:
                if m.version <= from_version:
                    continue
                log.info("migrating store %s to schema version %d: %s", self.location, m.version, m.description)
                for stmt in m.statements:
                    self.execute(stmt)
                self.execute(
                    "insert into schema_version values (?, ?, ?, ?)", [m.version, m.description, __version__, now]
                )

    # -- the protocol ------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        res = self._con.execute(sql, params)
        done = getattr(res, "complete", None)  # duckdb >= 2 keeps results open until consumed
        if done is not None:
            done()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        rel = self._con.sql(sql, params=params)
        if rel is None:  # a statement without a result
            return pa.table({})
        fetch = getattr(rel, "to_arrow_table", None) or rel.arrow  # duckdb >= 1.4 / older
        table: pa.Table = fetch()
        return table

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self._con.execute(sql, params).fetchall()
        return rows[0][0] if rows else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._tx_depth:
            self._tx_depth += 1
            try:
                yield
            finally:
                self._tx_depth -= 1
            return
        self.execute("BEGIN TRANSACTION")
        self._tx_depth = 1
        try:
            yield
        except BaseException:
            self._tx_depth = 0
            try:
                self.execute("ROLLBACK")
            except duckdb.Error:  # connection already aborted the transaction
                log.debug("rollback after failure also failed", exc_info=True)
            raise
        self._tx_depth = 0
        self.execute("COMMIT")

    @contextmanager
    def register(self, name: str, data: Any) -> Iterator[None]:
        self._con.register(name, data)
        try:
            yield
        finally:
            self._con.unregister(name)

    def progress(self) -> float | None:
        """How far the statement running now is (0..1), or None when unknown; callable from another thread."""
        try:
            value = float(self._con.query_progress())
        except duckdb.Error:
            return None
        return value / 100.0 if value >= 0 else None

    def tables(self) -> list[str]:
        rows = self._con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by 1"
        ).fetchall()
        return [r[0] for r in rows]

    def schema_version(self) -> int:
        return int(self.scalar("select coalesce(max(version), 0) from schema_version"))

    def ibis(self) -> Any:
        if self._ibis is None:
            import ibis  # heavy: imported on first use

            self._ibis = ibis.duckdb.from_connection(self._con)
        return self._ibis

    def iter_batches(self, sql: str, batch_size: int = 100_000) -> Iterator[pa.RecordBatch]:
        rel = self._con.sql(sql)
        fetch: Any = getattr(rel, "to_arrow_reader", None) or rel.record_batch
        yield from fetch(batch_size)

    def close(self) -> None:
        self._con.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"DuckDBStore({self.location!r}, {mode})"
