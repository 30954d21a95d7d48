"""Reading input files into a staging table, streaming and loss-free.

A file is staged into a temporary DuckDB table of text columns whose row
order is the file's record order (``rowid``). Records the reader cannot split
into columns (a missing delimiter, invalid UTF-8) go to a rejects table with
their line number instead of being dropped. Non-UTF-8 text (GBK/GB18030, ...)
is transcoded in a streaming pass first; gzip is read directly.

Line numbers count records: a header is line 1 and a record whose quoted
value spans several lines counts as one line. Blank lines in a CSV are
skipped by the reader and not counted before the first rejected record.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import itertools
import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from growthkit.errors import SchemaError, SourceError
from growthkit.ingest.validate import ident, lit
from growthkit.store import Store

log = logging.getLogger(__name__)

FORMATS = ("csv", "parquet", "jsonl")
_SNIFF_BYTES = 1 << 20
MAX_LINE_BYTES = 8 << 20

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CsvOptions:
    """How to read a delimited text file. ``None`` means detect."""

    delimiter: str | None = None
    header: bool = True
    columns: tuple[str, ...] | None = None
    quote: str = '"'
    escape: str | None = None
    encoding: str | None = None
    skip_rows: int = 0


@dataclass
class StagedSource:
    """A file staged as text columns in ``table`` (rowid = record order)."""

    path: Path
    format: str
    table: str
    columns: list[str]
    rows: int
    rejects: int
    line_base: int
    """Line of the first record: 2 below a header, else 1 (+ skipped rows)."""
    skipped_table: str
    """Temp table (line BIGINT, raw VARCHAR, reason_code, reason): records that never became rows."""
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.rows + self.rejects

    def line_sql(self, idx: str, offsets_alias: str = "o") -> str:
        """Line of staged row ``idx``; needs :meth:`offsets_join` in the FROM clause."""
        return f"({idx} + {self.line_base} + coalesce({offsets_alias}.k, 0))"

    def offsets_join(self, idx: str, alias: str = "o") -> str:
        """ASOF join that counts the skipped records before each row."""
        return f"ASOF LEFT JOIN {self.table}_offsets {alias} ON {idx} >= {alias}.t"


def detect_format(path: Path) -> str:
    name = path.name.lower()
    for suffix in (".gz", ".gzip"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "csv"


def normalise_column(name: str) -> str:
    """Canonical spelling of a header: lower case, underscores, no BOM."""
    n = name.replace("\ufeff", "").strip().lower()
    n = re.sub(r"[\s\-./]+", "_", n)
    return n or "column"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}_{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return out


def _compression(path: Path) -> str:
    """DuckDB's compression argument, from the file's magic bytes (not its name)."""
    with open(path, "rb") as fh:
        return "gzip" if fh.read(2) == b"\x1f\x8b" else "none"


def _open_binary(path: Path) -> IO[bytes]:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return open(path, "rb")


def detect_encoding(sample: bytes) -> str:
    """utf-8 (with or without BOM) when the sample decodes as UTF-8, else GB18030 (a superset of GBK)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise SourceError(
            "cannot tell the file's text encoding (not UTF-8, not GBK/GB18030): pass --encoding NAME"
        ) from exc


def _transcode(path: Path, encoding: str, out_dir: Path) -> Path:
    """Stream ``path`` (any codec, maybe gzip) into a UTF-8 file; undecodable bytes become U+FFFD."""
    target = out_dir / (path.name + ".utf8")
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with _open_binary(path) as src, open(target, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(_SNIFF_BYTES):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))
    return target


def _head_records(path: Path, encoding: str, delimiter: str | None, quote: str, skip: int) -> tuple[str, list[str]]:
    """Delimiter and header fields, read from the start of the file."""
    with _open_binary(path) as fh:
        sample = fh.read(_SNIFF_BYTES)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    text = text.lstrip("\ufeff")
    lines = text.splitlines()[skip:]
    if not lines:
        raise SourceError(f"{path} is empty: there is no header or record to read")
    first = lines[0]
    if delimiter is None:
        counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
        delimiter = max(counts, key=lambda d: counts[d]) if max(counts.values()) > 0 else ","
    reader = csv.reader(itertools.islice(lines, 1), delimiter=delimiter, quotechar=quote or None)
    return delimiter, next(reader, [])


class Stager:
    """Stages files into uniquely named temp tables of one store connection."""

    def __init__(self, store: Store, workdir: Path) -> None:
        self.store = store
        self.workdir = workdir
        self._n = 0
        self._staged: list[StagedSource] = []

    def _name(self, prefix: str) -> str:
        self._n += 1
        return f"gk_{prefix}_{self._n}"

    def stage(self, path: Path, *, fmt: str = "auto", csv_options: CsvOptions | None = None) -> StagedSource:
        """Stage one file; raises :class:`SourceError` when nothing in it can be read."""
        if not path.exists():
            raise SourceError(f"no such file: {path}")
        if not path.is_file():
            raise SourceError(f"{path} is not a file")
        fmt = detect_format(path) if fmt == "auto" else fmt
        if fmt not in FORMATS:
            raise SourceError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        if fmt == "parquet":
            staged = self._stage_parquet(path)
        elif fmt == "jsonl":
            staged = self._stage_jsonl(path, csv_options or CsvOptions())
        else:
            staged = self._stage_csv(path, csv_options or CsvOptions())
        self._offsets(staged)
        self._staged.append(staged)
        log.info("staged %s: %d rows, %d rejected", path, staged.rows, staged.rejects)
        return staged

    def _skipped_table(self, name: str) -> None:
        self.store.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} (line BIGINT, raw VARCHAR, reason_code VARCHAR, reason VARCHAR)"
        )

    def _offsets(self, s: StagedSource) -> None:
        """Per skipped record j (sorted by line), the first row index after it: t_j = line_j - j - base."""
        self.store.execute(
            f"""CREATE OR REPLACE TEMP TABLE {s.table}_offsets AS
            SELECT t, max(k) AS k FROM (
              SELECT line - (row_number() OVER (ORDER BY line) - 1) - {s.line_base} AS t,
                     row_number() OVER (ORDER BY line) AS k
              FROM (SELECT DISTINCT line FROM {s.skipped_table} WHERE line IS NOT NULL)
            ) GROUP BY t"""
        )

    def _stage_csv(self, path: Path, opts: CsvOptions) -> StagedSource:
        with _open_binary(path) as fh:
            sample = fh.read(_SNIFF_BYTES)
        encoding = (opts.encoding or detect_encoding(sample)).lower().replace("_", "-")
        read_path = path
        notes: list[str] = []
        if encoding not in ("utf-8", "utf8", "utf-8-sig"):
            try:
                codecs.lookup(encoding)
            except LookupError as exc:
                raise SourceError(f"unknown encoding {encoding!r}: try utf-8, gb18030 or gbk") from exc
            read_path = _transcode(path, encoding, Path(tempfile.mkdtemp(dir=self.workdir)))
            notes.append(f"transcoded from {encoding}")
            encoding_read = "utf-8"
        else:
            encoding_read = encoding
        delim, header_fields = _head_records(read_path, "utf-8", opts.delimiter, opts.quote, opts.skip_rows)
        if opts.header:
            names = [normalise_column(h) for h in header_fields]
        elif opts.columns:
            names = [normalise_column(c) for c in opts.columns]
        else:
            names = [f"column{i}" for i in range(len(header_fields))]
        if opts.columns and opts.header:
            names = [normalise_column(c) for c in opts.columns]
        names = _unique(names)
        if not names:
            raise SourceError(f"{path}: the first line has no columns")
        table = self._name("raw")
        skipped = self._name("skip")
        self._skipped_table(skipped)
        cols = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names) + "}"
        escape = opts.escape if opts.escape is not None else opts.quote
        self.store.execute(
            f"""CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_csv({lit(str(read_path))},
                auto_detect = false, header = {str(opts.header).lower()}, skip = {opts.skip_rows},
                delim = {lit(delim)}, quote = {lit(opts.quote)}, escape = {lit(escape)},
                compression = {lit(_compression(read_path))},
                columns = {cols}, all_varchar = true, store_rejects = true,
                rejects_table = '{table}_rj', rejects_scan = '{table}_rs',
                max_line_size = {MAX_LINE_BYTES}, strict_mode = true, null_padding = false)"""
        )
        self.store.execute(
            f"""INSERT INTO {skipped}
            SELECT line, first(csv_line ORDER BY column_idx),
                   'malformed_' || lower(replace(first(error_type), ' ', '_')),
                   string_agg(DISTINCT error_message, '; ')
            FROM {table}_rj GROUP BY line"""
        )
        self.store.execute(f"DROP TABLE IF EXISTS {table}_rj")
        self.store.execute(f"DROP TABLE IF EXISTS {table}_rs")
        self._humanise_rejects(skipped, len(names), delim)
        rows = int(self.store.scalar(f"SELECT count(*) FROM {table}"))
        rejects = int(self.store.scalar(f"SELECT count(*) FROM {skipped}"))
        base = (2 if opts.header else 1) + opts.skip_rows
        return StagedSource(path, "csv", table, names, rows, rejects, base, skipped, encoding_read, notes)

    def _humanise_rejects(self, skipped: str, ncols: int, delim: str) -> None:
        shown = {"\t": "tab"}.get(delim, delim)
        self.store.execute(
            f"""UPDATE {skipped} SET reason = CASE reason_code
              WHEN 'malformed_missing_columns' THEN 'row has fewer fields than the header''s {ncols} (a missing '
                   || {lit(shown)} || ' delimiter, or an unquoted line break?)'
              WHEN 'malformed_too_many_columns' THEN 'row has more fields than the header''s {ncols} (an unquoted '
                   || {lit(shown)} || ' inside a value?)'
              WHEN 'malformed_invalid_encoding'
                   THEN 'row is not valid UTF-8 (declare the encoding, e.g. --encoding gb18030)'
              WHEN 'malformed_unquoted_value' THEN 'a quote character inside an unquoted value'
              WHEN 'malformed_line_size_over_maximum' THEN 'row is longer than {MAX_LINE_BYTES} bytes'
              ELSE 'row cannot be parsed: ' || reason END"""
        )

    def _stage_parquet(self, path: Path) -> StagedSource:
        try:
            desc = self.store.query(f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})").to_pylist()
        except Exception as exc:  # duckdb raises its own error types for corrupt files
            raise SourceError(f"{path} is not a readable Parquet file: {exc}") from exc
        names = _unique([normalise_column(d["column_name"]) for d in desc])
        exprs = []
        for d, n in zip(desc, names, strict=True):
            ty = str(d["column_type"]).upper()
            src = ident(d["column_name"])
            nested = any(k in ty for k in ("STRUCT", "MAP", "[]", "LIST", "UNION"))
            exprs.append(
                f"{'to_json(' + src + ')::VARCHAR' if nested else 'CAST(' + src + ' AS VARCHAR)'} AS {ident(n)}"
            )
        table = self._name("raw")
        skipped = self._name("skip")
        self._skipped_table(skipped)
        self.store.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {', '.join(exprs)} FROM read_parquet({lit(str(path))})"
        )
        rows = int(self.store.scalar(f"SELECT count(*) FROM {table}"))
        return StagedSource(path, "parquet", table, names, rows, 0, 1, skipped)

    def _stage_jsonl(self, path: Path, opts: CsvOptions) -> StagedSource:
        with _open_binary(path) as fh:
            sample = fh.read(_SNIFF_BYTES)
        encoding = (opts.encoding or detect_encoding(sample)).lower()
        read_path = path
        if encoding not in ("utf-8", "utf8", "utf-8-sig"):
            read_path = _transcode(path, encoding, Path(tempfile.mkdtemp(dir=self.workdir)))
        lines = self._name("lines")
        self.store.execute(
            f"""CREATE OR REPLACE TEMP TABLE {lines} AS SELECT * FROM read_csv({lit(str(read_path))},
                auto_detect = false, header = false, delim = {lit(chr(1))}, quote = '', escape = '',
                compression = {lit(_compression(read_path))},
                columns = {{'line': 'VARCHAR'}}, all_varchar = true, max_line_size = {MAX_LINE_BYTES},
                store_rejects = true, rejects_table = '{lines}_rj', rejects_scan = '{lines}_rs')"""
        )
        skipped = self._name("skip")
        self._skipped_table(skipped)
        ok = "coalesce(CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' END, false)"
        self.store.execute(
            f"""INSERT INTO {skipped}
            SELECT rowid + 1, line,
                   CASE WHEN json_valid(line) THEN 'jsonl_not_an_object' ELSE 'jsonl_invalid' END,
                   CASE WHEN json_valid(line) THEN 'line is JSON but not an object ({{...}})'
                        ELSE 'line is not valid JSON: ' || left(line, 60) END
            FROM {lines} WHERE nullif(trim(line), '') IS NOT NULL AND NOT ({ok})"""
        )
        bad_unicode = int(self.store.scalar(f"SELECT count(*) FROM {lines}_rj"))
        if bad_unicode:
            self.store.execute(
                f"""INSERT INTO {skipped} SELECT line, csv_line, 'malformed_invalid_encoding',
                'line is not valid UTF-8 (declare the encoding, e.g. --encoding gb18030)' FROM {lines}_rj"""
            )
        keys = [
            r["k"]
            for r in self.store.query(
                f"SELECT DISTINCT unnest(json_keys(line)) AS k FROM {lines} WHERE {ok} ORDER BY 1"
            ).to_pylist()
        ]
        if not keys and not int(self.store.scalar(f"SELECT count(*) FROM {skipped}")):
            raise SourceError(f"{path} has no JSON object lines to read")
        names = _unique([normalise_column(k) for k in keys])
        path_of = {k: "$." + '"' + k.replace('"', '\\"') + '"' for k in keys}
        exprs = [
            f"CASE WHEN json_type(line, {lit(path_of[k])}) IN ('OBJECT', 'ARRAY') "
            f"THEN json_extract(line, {lit(path_of[k])})::VARCHAR "
            f"ELSE json_extract_string(line, {lit(path_of[k])}) END AS {ident(n)}"
            for k, n in zip(keys, names, strict=True)
        ]
        table = self._name("raw")
        # blank lines are not records but keep their place in the line count
        self.store.execute(
            f"""INSERT INTO {skipped} SELECT rowid + 1, NULL, 'blank', 'blank line' FROM {lines}
                WHERE nullif(trim(line), '') IS NULL"""
        )
        self.store.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {', '.join(exprs) or 'NULL AS _empty'} "
            f"FROM {lines} WHERE {ok} ORDER BY rowid"
        )
        blanks = int(self.store.scalar(f"SELECT count(*) FROM {skipped} WHERE reason_code = 'blank'"))
        self.store.execute(f"DROP TABLE IF EXISTS {lines}")
        self.store.execute(f"DROP TABLE IF EXISTS {lines}_rj")
        self.store.execute(f"DROP TABLE IF EXISTS {lines}_rs")
        rows = int(self.store.scalar(f"SELECT count(*) FROM {table}"))
        rejects = int(self.store.scalar(f"SELECT count(*) FROM {skipped}")) - blanks
        staged = StagedSource(path, "jsonl", table, names, rows, rejects, 1, skipped, "utf-8")
        return staged

    def drop_all(self) -> None:
        """Free the temp tables of every file staged so far."""
        for staged in self._staged:
            for t in (staged.table, f"{staged.table}_offsets", staged.skipped_table):
                self.store.execute(f"DROP TABLE IF EXISTS {t}")
        self._staged.clear()

    def temp_name(self, prefix: str) -> str:
        """A fresh name for a temp table of this run."""
        return self._name(prefix)

    def require_columns(self, staged: StagedSource, needed: list[str], hint: str = "") -> None:
        missing = [c for c in needed if c not in staged.columns]
        if missing:
            raise SchemaError(
                f"{staged.path}: column(s) {', '.join(missing)} not found; the file has "
                f"{', '.join(staged.columns) or 'no columns'}. {hint}".strip()
            )
