"""Use cases for getting data in and looking at what is there."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.ingest import CsvOptions, IngestReport, ingest, parse_column_map
from growthkit.ingest.api import ProgressFn
from growthkit.ingest.summary import StoreSummary, summarize
from growthkit.store import Store, open_store


def ingest_files(
    settings: Settings,
    paths: Sequence[Path | str],
    *,
    kind: str | None = None,
    fmt: str = "auto",
    csv_options: CsvOptions | None = None,
    column_map: Sequence[str] = (),
    options: dict[str, str] | None = None,
    progress: ProgressFn | None = None,
) -> IngestReport:
    """Open the store named in ``settings`` for writing and ingest ``paths`` into it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "u.csv").write_text("user_id,email\\nu1,a@example.com\\n")
    >>> r = ingest_files(Settings(db=str(d / "s.duckdb")), [d / "u.csv"], kind="users")
    >>> r.rows_loaded
    1
    """
    with open_store(settings) as store:
        return ingest(
            store,
            settings,
            paths,
            kind=kind,
            fmt=fmt,
            csv_options=csv_options,
            column_map=parse_column_map(list(column_map)),
            options=options,
            progress=progress,
        )


def store_status(settings: Settings) -> StoreSummary:
    """Summary of the store named in ``settings`` (opened read-only)."""
    with open_store(settings, read_only=not settings.is_memory) as store:
        return summarize(store)


def quarantined_rows(
    settings: Settings, *, kind: str | None = None, reason: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The latest quarantined rows, optionally for one table or reason code."""
    where, params = [], []
    if kind:
        where.append("kind = ?")
        params.append(kind)
    if reason:
        where.append("reason_code = ?")
        params.append(reason)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    with open_store(settings, read_only=not settings.is_memory) as store:
        rows: list[dict[str, Any]] = store.query(
            f"SELECT ingestion_id, kind, source, line, reason_code, reason, raw FROM quarantine {clause} "
            f"ORDER BY ingestion_id DESC, line LIMIT {int(limit)}",
            params,
        ).to_pylist()
    return rows


def migrate_store(settings: Settings) -> int:
    """Bring the store's schema up to date; returns the schema version."""
    with open_store(settings) as store:
        return store.schema_version()


def last_event_day(store: Store) -> date:
    """The UTC day of the store's latest event; a clear error when there are no events."""
    last = store.scalar("SELECT max(ts) FROM events")
    if last is None:
        raise ConfigError(f"the store {store.location} has no events; load some first (growthkit ingest or demo)")
    return last.date() if isinstance(last, datetime) else date.fromisoformat(str(last)[:10])
