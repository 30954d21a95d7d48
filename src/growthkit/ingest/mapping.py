"""From staged text columns to the contract's columns.

A :class:`MappedTable` is a SELECT that yields every contract column of one
table as text (or NULL) plus ``_idx`` (the staged row it came from, for line
numbers and the raw row) and ``_raw`` (JSON of the input, only for rows that
were derived from several input rows). Adapters for public formats build
their own; :func:`canonical_mapping` serves files already in contract shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from growthkit.errors import SchemaError
from growthkit.ingest.pii import hmac_sql, pii_columns
from growthkit.ingest.sources import StagedSource, normalise_column
from growthkit.ingest.validate import ident, lit
from growthkit.schema import Table


@dataclass
class MappedTable:
    """Rows for one canonical table, as a SQL SELECT of text columns."""

    table: Table
    sql: str
    staged: StagedSource | None
    """Where ``_idx`` points (line numbers, raw rows); None for fully derived rows."""
    count_rejects: bool = True
    """Whether the staged file's unreadable records are accounted to this table."""
    pii: Mapping[str, str] | None = None
    """Staged columns holding personal data (column -> field), hashed in raw rows too."""
    notes: list[str] = field(default_factory=list)
    """Things a person should know about this mapping (columns not kept, ...)."""


def raw_row_sql(staged: StagedSource, alias: str, pii: Mapping[str, str], key: bytes | None) -> str:
    """JSON text of one staged row, personal data replaced by its pseudonym."""
    parts = []
    for c in staged.columns:
        value = f"{alias}.{ident(c)}"
        if c in pii and key is not None:
            parts.append(f"{lit(c + '_hash')}, {hmac_sql(key, value, pii[c])}")
        elif c in pii:
            parts.append(f"{lit(c)}, NULL")
        else:
            parts.append(f"{lit(c)}, {value}")
    if not parts:
        return "NULL"
    # json_object takes at most ~100 pairs per call: merge chunks
    chunks = [parts[i : i + 50] for i in range(0, len(parts), 50)]
    objs = [f"json_object({', '.join(ch)})" for ch in chunks]
    expr = objs[0]
    for o in objs[1:]:
        expr = f"json_merge_patch({expr}, {o})"
    return f"CAST({expr} AS VARCHAR)"


def parse_column_map(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["src=dst", ...]`` -> ``{src: dst}`` with both sides normalised."""
    out: dict[str, str] = {}
    for p in pairs:
        if "=" not in p:
            raise SchemaError(f"column mapping {p!r} must look like SOURCE=TARGET, e.g. customer_id=user_id")
        src, dst = p.split("=", 1)
        out[normalise_column(src)] = normalise_column(dst)
    return out


def canonical_mapping(
    staged: StagedSource,
    table: Table,
    *,
    column_map: Mapping[str, str] | None = None,
    pii_key: bytes | None = None,
) -> MappedTable:
    """Map a file whose columns already carry the contract's names (after ``column_map``).

    Columns the contract does not name go into the table's JSON extras column
    (``properties``/``attributes``), so nothing is lost; personal data columns
    of ``users`` are replaced by keyed hashes.

    Raises
    ------
    SchemaError
        A required column is missing or a mapping names a column the file lacks.
    """
    column_map = dict(column_map or {})
    unknown = [s for s in column_map if s not in staged.columns]
    if unknown:
        raise SchemaError(
            f"{staged.path}: --map names column(s) {', '.join(unknown)} that the file does not have "
            f"(it has {', '.join(staged.columns)})"
        )
    target_of = {c: column_map.get(c, c) for c in staged.columns}
    source_of: dict[str, str] = {}
    for src, dst in target_of.items():
        if dst in table.column_names and dst not in source_of:
            source_of[dst] = src
    missing = [c.name for c in table.columns if c.required and c.name not in source_of]
    if missing:
        raise SchemaError(
            f"{staged.path}: {table.name} need(s) column(s) {', '.join(missing)}, but the file has "
            f"{', '.join(staged.columns)}. Rename them in the file or map them, e.g. --map customer_id=user_id"
        )
    pii = pii_columns([c for c in staged.columns if c not in source_of.values()])
    if pii and pii_key is None:
        raise SchemaError(f"{staged.path}: column(s) {', '.join(pii)} hold personal data but no PII key was given")
    used = set(source_of.values()) | set(pii)
    select: dict[str, str] = {
        c.name: ident(source_of[c.name]) if c.name in source_of else "NULL::VARCHAR" for c in table.columns
    }
    extra_pairs = [(c, ident(c)) for c in staged.columns if c not in used]
    notes: list[str] = []
    for col, pii_field in pii.items():
        assert pii_key is not None
        target = f"{pii_field}_hash"
        if target in table.column_names and target not in source_of:
            select[target] = hmac_sql(pii_key, ident(col), pii_field)
        else:  # personal data in a table without a place for it: keep only the pseudonym
            extra_pairs.append((f"{col}_hash", hmac_sql(pii_key, ident(col), pii_field)))
    if table.extras_column and extra_pairs:
        # merge-patching into {} drops the keys whose value is NULL (empty cells)
        obj = f"json_merge_patch('{{}}', json_object({', '.join(f'{lit(k)}, {v}' for k, v in extra_pairs)}))"
        base = select[table.extras_column]
        select[table.extras_column] = (
            f"CASE WHEN {base} IS NULL OR trim({base}) = '' THEN nullif(CAST({obj} AS VARCHAR), '{{}}') "
            f"WHEN json_valid({base}) THEN CASE WHEN json_type({base}) = 'OBJECT' "
            f"THEN CAST(json_merge_patch({base}, {obj}) AS VARCHAR) ELSE {base} END "
            f"ELSE {base} END"
        )
    elif extra_pairs:
        dropped = ", ".join(k for k, _ in extra_pairs)
        notes.append(f"columns not in the {table.name} contract and not kept: {dropped}")
    cols = ", ".join(f"{expr} AS {ident(name)}" for name, expr in select.items())
    sql = f"SELECT {cols}, rowid AS _idx, NULL::VARCHAR AS _raw FROM {staged.table}"
    return MappedTable(table, sql, staged, pii=pii, notes=notes)
