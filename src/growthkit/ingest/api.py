"""Ingestion entry point: files in, a row-accounted report out.

Each canonical file is one transaction; an adapter run (several files of one
public dataset, several tables) is one transaction. A crash, kill or Ctrl-C
in the middle leaves the store as it was; running the same load twice loads
nothing new.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from growthkit.config import Settings
from growthkit.errors import SchemaError, SourceError
from growthkit.ingest.load import TableReport, apply, prepare
from growthkit.ingest.mapping import MappedTable, canonical_mapping
from growthkit.ingest.sources import FORMATS, CsvOptions, StagedSource, Stager
from growthkit.schema import TABLES
from growthkit.store import Store

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, float], None]
"""``progress(what, fraction_done)``: what is happening now and how far the whole run is (0..1)."""


@dataclass
class AdapterContext:
    """What an adapter gets to stage and map its files."""

    stager: Stager
    store: Store
    timezone: str
    pii_key: bytes | None
    options: dict[str, str] = field(default_factory=dict)

    def stage(self, path: Path, fmt: str = "auto", csv_options: CsvOptions | None = None) -> StagedSource:
        return self.stager.stage(path, fmt=fmt, csv_options=csv_options)


class Adapter(Protocol):
    """Maps the files of one public data format to canonical tables."""

    name: str
    title: str
    tables: tuple[str, ...]

    def map(self, ctx: AdapterContext, paths: Sequence[Path]) -> list[MappedTable]:
        """Stage ``paths`` and return one :class:`MappedTable` per table to load."""
        ...


@dataclass(frozen=True)
class SourceFailure:
    source: str
    error: str


@dataclass(frozen=True)
class IngestReport:
    """Accounting of one ``ingest`` call: ``rows_read = rows_loaded + rows_duplicate + rows_quarantined``."""

    tables: tuple[TableReport, ...]
    failures: tuple[SourceFailure, ...]
    seconds: float

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables)

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables)

    @property
    def rows_updated(self) -> int:
        return sum(t.rows_updated for t in self.tables)

    @property
    def rows_duplicate(self) -> int:
        return sum(t.rows_duplicate for t in self.tables)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables)

    @property
    def reasons(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.tables:
            for k, n in t.reasons.items():
                out[k] = out.get(k, 0) + n
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def ok(self) -> bool:
        """False when some source could not be read at all."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_updated": self.rows_updated,
            "rows_duplicate": self.rows_duplicate,
            "rows_quarantined": self.rows_quarantined,
            "reasons": self.reasons,
            "tables": [t.to_dict() for t in self.tables],
            "failures": [{"source": f.source, "error": f.error} for f in self.failures],
            "seconds": round(self.seconds, 3),
        }


def _adapters() -> dict[str, Adapter]:
    from growthkit.ingest.adapters import ADAPTERS

    return ADAPTERS


def available_formats() -> list[str]:
    """``auto``, the file formats, and the names of the public-format adapters."""
    return ["auto", *FORMATS, *sorted(_adapters())]


@contextmanager
def _watch(store: Store, note: ProgressFn, what: str, lo: float, hi: float) -> Iterator[None]:
    """Report ``what`` with the running statement's progress mapped into ``[lo, hi]`` of the whole run."""
    done = threading.Event()

    def poll() -> None:
        best = 0.0  # a statement runs in several pipelines; never move the bar backwards
        while not done.wait(0.25):
            p = store.progress()
            if p is not None and p > best:
                best = p
                note(what, lo + (hi - lo) * p)

    note(what, lo)
    thread = threading.Thread(target=poll, name="growthkit-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        note(what, hi)


def _next_id(store: Store) -> int:
    return int(store.scalar("SELECT nextval('ingestion_seq')"))


def _log_ingestion(store: Store, iid: int, rep: TableReport, fmt: str, started: datetime, size: int | None) -> None:
    store.execute(
        "INSERT INTO ingestions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            iid,
            rep.table,
            fmt,
            rep.source,
            size,
            started,
            datetime.now(UTC).replace(tzinfo=None),
            rep.rows_read,
            rep.rows_loaded,
            rep.rows_updated,
            rep.rows_duplicate,
            rep.rows_quarantined,
        ],
    )


def _load_all(
    store: Store,
    mapped: list[MappedTable],
    *,
    fmt: str,
    settings: Settings,
    key: bytes | None,
    label: str,
    note: ProgressFn,
    span: tuple[float, float] = (0.0, 1.0),
) -> list[TableReport]:
    started = datetime.now(UTC).replace(tzinfo=None)
    reports = []
    # typing, checks and duplicate keys go to temp tables first; only the writes share the transaction
    lo, hi = span
    step = (hi - lo) / max(2 * len(mapped), 1)
    prepared = []
    for i, m in enumerate(mapped):
        with _watch(store, note, f"checking {m.table.name} rows", lo + i * step, lo + (i + 1) * step):
            prepared.append(prepare(store, m, timezone=settings.timezone))
    lo += len(mapped) * step
    with store.transaction():
        for i, p in enumerate(prepared):
            m = p.mapped
            iid = _next_id(store)
            source = str(m.staged.path) if m.staged is not None else label
            with _watch(store, note, f"writing {m.table.name}", lo + i * step, lo + (i + 1) * step):
                rep = apply(store, p, ingestion_id=iid, source=source, now=started, pii_key=key)
            size = m.staged.path.stat().st_size if m.staged is not None else None
            _log_ingestion(store, iid, rep, fmt, started, size)
            reports.append(rep)
    return reports


def _only_kind(mapped: list[MappedTable], kind: str) -> list[MappedTable]:
    """Keep the tables of ``kind``; a kept table takes over its file's unreadable records if needed."""
    kept = [m for m in mapped if m.table.name == kind]
    for m in kept:
        if m.staged is None or m.count_rejects:
            continue
        counted = any(k.count_rejects and k.staged is m.staged for k in kept)
        if not counted and any(d.count_rejects and d.staged is m.staged for d in mapped):
            m.count_rejects = True
    return kept


def ingest(
    store: Store,
    settings: Settings,
    paths: Sequence[Path | str],
    *,
    kind: str | None = None,
    fmt: str = "auto",
    csv_options: CsvOptions | None = None,
    column_map: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
    progress: ProgressFn | None = None,
) -> IngestReport:
    """Load files into the store, accounting for every row.

    Parameters
    ----------
    store
        A writable store.
    paths
        Input files (CSV/TSV, Parquet, JSON Lines; ``.gz`` too).
    kind
        Target table for canonical files: events, users, items, reviews, edges.
    fmt
        ``auto``/``csv``/``parquet``/``jsonl`` for files in contract shape, or an
        adapter name (``rees46``, ``retailrocket``, ``online-retail``, ``cdnow``,
        ``movielens``, ``instacart``) for a public dataset's own files.

    Returns
    -------
    IngestReport
        Per table and source: rows read, loaded, duplicate, quarantined, with reasons.

    Examples
    --------
    >>> from growthkit.store import open_store
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "e.csv").write_text("user_id,ts,event_type\\nu1,2024-03-01 10:00,view\\n,2024-03-01,view\\n")
    >>> s = Settings(db=":memory:", workspace=d)
    >>> with open_store(s) as st:
    ...     r = ingest(st, s, [d / "e.csv"], kind="events")
    >>> (r.rows_read, r.rows_loaded, r.rows_quarantined)
    (2, 1, 1)
    """
    t0 = time.perf_counter()
    files = [Path(p) for p in paths]
    if not files:
        raise SourceError("no input files given")
    adapters = _adapters()
    key = settings.resolve_pii_key()
    reports: list[TableReport] = []
    failures: list[SourceFailure] = []
    note = progress or (lambda what, frac: None)
    with tempfile.TemporaryDirectory(prefix="growthkit-ingest-") as work:
        stager = Stager(store, Path(work))
        if fmt in adapters:
            adapter = adapters[fmt]
            ctx = AdapterContext(stager, store, settings.timezone, key, dict(options or {}))
            try:
                with _watch(store, note, f"reading {adapter.title}", 0.0, 0.4):
                    mapped = adapter.map(ctx, files)
                if kind is not None:
                    mapped = _only_kind(mapped, kind)
                reports += _load_all(
                    store, mapped, fmt=fmt, settings=settings, key=key, label=adapter.name, note=note, span=(0.4, 1.0)
                )
            except (SourceError, SchemaError) as exc:
                failures.append(SourceFailure(", ".join(map(str, files)), str(exc)))
            finally:
                stager.drop_all()
        else:
            if kind is None:
                raise SchemaError(f"say which table the files are for: --kind {'|'.join(TABLES)}")
            if kind not in TABLES:
                raise SchemaError(f"unknown kind {kind!r}: use one of {', '.join(TABLES)}")
            if fmt not in ("auto", *FORMATS):
                raise SchemaError(f"unknown format {fmt!r}: use one of {', '.join(available_formats())}")
            for i, f in enumerate(files):
                try:
                    share = 1.0 / len(files)
                    with _watch(store, note, f"reading {f.name}", i * share, (i + 0.3) * share):
                        staged = stager.stage(f, fmt=fmt, csv_options=csv_options)
                    mapped = [canonical_mapping(staged, TABLES[kind], column_map=column_map, pii_key=key)]
                    reports += _load_all(
                        store,
                        mapped,
                        fmt=staged.format,
                        settings=settings,
                        key=key,
                        label=str(f),
                        note=note,
                        span=((i + 0.3) * share, (i + 1) * share),
                    )
                except (SourceError, SchemaError) as exc:
                    log.warning("%s", exc)
                    failures.append(SourceFailure(str(f), str(exc)))
                finally:
                    stager.drop_all()
        note("done", 1.0)
    return IngestReport(tuple(reports), tuple(failures), time.perf_counter() - t0)
