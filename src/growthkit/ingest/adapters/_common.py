"""Helpers shared by the public-format adapters: sniffing files, building SELECTs.

Adapters return :class:`~growthkit.ingest.mapping.MappedTable` SELECTs that
yield every contract column as text. The helpers here keep those SELECTs
uniform: :func:`select_sql` fills the columns an adapter does not set with
NULL, :func:`json_object_sql` builds the ``properties``/``attributes`` JSON
without NULL members, and :func:`ts_sql` turns a source's date text into ISO
text the core validates, keeping the original text when it does not parse so
that the quarantine reason quotes it.
"""

from __future__ import annotations

import codecs
import gzip
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from growthkit.errors import SchemaError, SourceError
from growthkit.ingest.mapping import MappedTable
from growthkit.ingest.sources import CsvOptions, StagedSource, normalise_column
from growthkit.ingest.validate import ident, lit
from growthkit.schema import Table

if TYPE_CHECKING:
    from growthkit.ingest.api import AdapterContext

log = logging.getLogger(__name__)

LINES = CsvOptions(delimiter=chr(1), header=False, columns=("line",), quote="", escape="")
"""Stage a file as one text column ``line`` per record (for whitespace- or ``::``-separated files)."""


def read_head(path: Path, n_bytes: int = 65536) -> str:
    """The first ``n_bytes`` of a (maybe gzipped) file as text, BOM removed.

    Raises
    ------
    SourceError
        The file does not exist.
    """
    if not path.is_file():
        raise SourceError(f"no such file: {path}")
    with open(path, "rb") as fh:
        data = fh.read(n_bytes)
    if data[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as gz:
            data = gz.read(n_bytes)
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=False)
    return text.lstrip("\ufeff")


def first_line(path: Path) -> str:
    """The first line of ``path`` (without its line break)."""
    head = read_head(path)
    return head.splitlines()[0] if head else ""


def header_columns(path: Path, delimiter: str | None = None) -> list[str]:
    """Normalised column names of the first line, split on ``delimiter`` (default: the most frequent of , tab ; |)."""
    line = first_line(path)
    if delimiter is None:
        counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
        delimiter = max(counts, key=lambda d: counts[d])
    return [normalise_column(c.strip().strip('"')) for c in line.split(delimiter)]


def text_encoding(path: Path) -> str:
    """``utf-8`` when the file's start decodes as UTF-8, else ``latin-1`` (older MovieLens files)."""
    with open(path, "rb") as fh:
        data = fh.read(1 << 20)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def classify(
    paths: Sequence[Path], roles: Mapping[str, Callable[[Path], bool]], *, adapter: str
) -> dict[str, list[Path]]:
    """Assign each path to the first role whose test accepts it.

    Raises
    ------
    SchemaError
        A file fits no role; the message lists the roles the adapter knows.
    """
    out: dict[str, list[Path]] = {r: [] for r in roles}
    for p in paths:
        for role, test in roles.items():
            if test(p):
                out[role].append(p)
                break
        else:
            raise SchemaError(
                f"{p}: not a file of the {adapter} format (its first line is {first_line(p)[:100]!r}); "
                f"expected one of: {', '.join(roles)}"
            )
    return out


def col(name: str, alias: str = "") -> str:
    """A staged column as a SQL expression, empty text as NULL."""
    ref = f"{alias}.{ident(name)}" if alias else ident(name)
    return f"nullif(trim({ref}), '')"


def int_text(expr: str) -> str:
    """Text of a whole number written as ``12.0`` (pandas exports) without the ``.0``."""
    return f"regexp_replace({expr}, '^(-?[0-9]+)\\.0+$', '\\1')"


def ts_sql(expr: str, fmt: str, *, utc: bool, suffix: str = "") -> str:
    """ISO text ``YYYY-MM-DD HH:MM:SS`` of ``expr`` read with strptime ``fmt``; the input text when it does not parse.

    ``utc=True`` appends ``+00`` so the value is read as UTC whatever the
    ingest time zone; otherwise it stays naive (local to ``Settings.timezone``).
    """
    zone = "+00" if utc else ""
    return f"coalesce(strftime(try_strptime({expr}, {lit(fmt)}), '%Y-%m-%d %H:%M:%S') || {lit(zone)}, {expr})"


def json_object_sql(pairs: Mapping[str, str]) -> str:
    """SQL for a JSON object text of ``{key: expr}`` without NULL members, or NULL when empty."""
    if not pairs:
        return "NULL::VARCHAR"
    body = ", ".join(f"{lit(k)}, {v}" for k, v in pairs.items())
    return f"nullif(CAST(json_merge_patch('{{}}', json_object({body})) AS VARCHAR), '{{}}')"


def select_sql(table: Table, exprs: Mapping[str, str], from_sql: str, *, idx: str = "rowid", raw: str = "NULL") -> str:
    """``SELECT`` of every contract column of ``table`` as text, plus ``_idx`` and ``_raw``.

    Columns missing from ``exprs`` are NULL; unknown names are a bug.
    """
    unknown = set(exprs) - set(table.column_names)
    if unknown:
        raise AssertionError(f"not {table.name} columns: {sorted(unknown)}")
    cols = ", ".join(
        f"CAST({exprs[c]} AS VARCHAR) AS {ident(c)}" if c in exprs else f"NULL::VARCHAR AS {ident(c)}"
        for c in table.column_names
    )
    return f"SELECT {cols}, {idx} AS _idx, CAST({raw} AS VARCHAR) AS _raw FROM {from_sql}"


def rejects_only(table: Table, staged: StagedSource) -> MappedTable | None:
    """A MappedTable offering no rows, so that a lookup file's unreadable records are still quarantined.

    Returns None when the file has no unreadable records.
    """
    if not staged.rejects:
        return None
    sql = select_sql(table, {}, f"{staged.table} WHERE false")
    return MappedTable(table, sql, staged, count_rejects=True, notes=[f"lookup file {staged.path.name}"])


def stage(ctx: AdapterContext, path: Path, options: CsvOptions | None = None) -> StagedSource:
    """Stage ``path`` as CSV with ``options``; typed wrapper of :meth:`AdapterContext.stage`."""
    staged: StagedSource = ctx.stage(path, "csv", options or CsvOptions())
    return staged


def require(staged: StagedSource, needed: Sequence[str], what: str) -> None:
    """Raise :class:`SchemaError` naming the missing columns of ``staged``."""
    missing = [c for c in needed if c not in staged.columns]
    if missing:
        raise SchemaError(
            f"{staged.path}: {what} needs column(s) {', '.join(missing)}; the file has {', '.join(staged.columns)}"
        )
