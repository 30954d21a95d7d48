"""Loading mapped rows into a canonical table: validate, dedupe, quarantine.

Every row offered to a table ends in exactly one of three places:

* **loaded** — inserted (new key), or for dimension tables (users, items) an
  update of a key whose content changed;
* **duplicate** — the same key with the same content is already in the
  store, or earlier in the same input;
* **quarantined** — with its source, line, raw row and a reason: it failed a
  check, could not be parsed, or (fact tables) reuses a key with other content.

``rows_read = rows_loaded + rows_duplicate + rows_quarantined`` is checked on
every load. The caller runs this inside one store transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from growthkit.errors import GrowthkitError
from growthkit.ingest.mapping import MappedTable, raw_row_sql
from growthkit.ingest.validate import ident, lit, validation_sql
from growthkit.schema import TableRole
from growthkit.store import Store


@dataclass(frozen=True)
class TableReport:
    """What happened to the rows offered to one table from one source."""

    table: str
    source: str
    rows_read: int
    rows_loaded: int
    rows_updated: int
    rows_duplicate: int
    rows_quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_updated": self.rows_updated,
            "rows_duplicate": self.rows_duplicate,
            "rows_quarantined": self.rows_quarantined,
            "reasons": dict(self.reasons),
            "notes": list(self.notes),
        }


class AccountingError(GrowthkitError, AssertionError):
    """Internal: the row accounting did not balance (a growthkit bug; please report it)."""


def _tmp(prefix: str) -> str:
    return f"gk_{prefix}_{uuid.uuid4().hex[:12]}"


def _reasons(store: Store, ingestion_id: int, table: str) -> dict[str, int]:
    rows = store.query(
        "SELECT reason_code, count(*) AS n FROM quarantine WHERE ingestion_id = ? AND kind = ? "
        "GROUP BY 1 ORDER BY 2 DESC, 1",
        [ingestion_id, table],
    ).to_pylist()
    return {r["reason_code"]: int(r["n"]) for r in rows}


def _count(store: Store, sql: str) -> int:
    return int(store.scalar(f"SELECT count(*) FROM ({sql}) c"))


@dataclass
class Prepared:
    """Validated rows of one :class:`MappedTable` in temp tables, ready to apply."""

    mapped: MappedTable
    valid: str
    dupkeys: str
    winners: str
    offered: int
    rejects: int
    has_dupkeys: bool


def prepare(store: Store, mapped: MappedTable, *, timezone: str) -> Prepared:
    """Type, check and find repeated keys, in temp tables (outside the load's transaction: it is faster)."""
    t = mapped.table
    key = ident(t.key)
    v = _tmp("valid")
    store.execute(f"SET TimeZone = {lit(timezone)}")
    try:
        store.execute(f"CREATE OR REPLACE TEMP TABLE {v} AS {validation_sql(t, mapped.sql, timezone=timezone)}")
    finally:
        store.execute("SET TimeZone = 'UTC'")
    staged = mapped.staged
    offered = int(store.scalar(f"SELECT count(*) FROM {v}"))
    rejects = staged.rejects if (staged is not None and mapped.count_rejects) else 0
    fact = t.role is TableRole.FACT
    dk, w = _tmp("dupkeys"), _tmp("winners")
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE {dk} AS SELECT {key} FROM {v} WHERE _reason IS NULL "
        f"GROUP BY {key} HAVING count(*) > 1"
    )
    order = "ASC" if fact else "DESC"  # facts: first wins; dimensions: the latest row wins
    store.execute(
        f"""CREATE OR REPLACE TEMP TABLE {w} AS SELECT v.*, row_number() OVER (
              PARTITION BY {key} ORDER BY _idx {order} NULLS LAST, _hash) AS _rank
            FROM {v} v SEMI JOIN {dk} USING ({key}) WHERE _reason IS NULL"""
    )
    has_dupkeys = int(store.scalar(f"SELECT count(*) FROM {dk}")) > 0
    return Prepared(mapped, v, dk, w, offered, rejects, has_dupkeys)


def load_mapped(
    store: Store,
    mapped: MappedTable,
    *,
    ingestion_id: int,
    source: str,
    timezone: str,
    now: datetime,
    pii_key: bytes | None = None,
) -> TableReport:
    """Validate ``mapped`` and load it into its table; returns the accounting."""
    prepared = prepare(store, mapped, timezone=timezone)
    return apply(store, prepared, ingestion_id=ingestion_id, source=source, now=now, pii_key=pii_key)


def apply(
    store: Store,
    p: Prepared,
    *,
    ingestion_id: int,
    source: str,
    now: datetime,
    pii_key: bytes | None = None,
) -> TableReport:
    """Write the prepared rows: quarantine, updates, inserts; run inside the load's transaction."""
    mapped = p.mapped
    t = mapped.table
    key = ident(t.key)
    v, dk, w = p.valid, p.dupkeys, p.winners
    staged = mapped.staged
    reasons_before = _reasons(store, ingestion_id, t.name)
    offered, rejects = p.offered, p.rejects
    fact = t.role is TableRole.FACT

    # 1. rows that failed a check, and records the reader could not split
    raw_expr = "v._raw"
    line_expr = "NULL::BIGINT"
    joins = ""
    if staged is not None:
        raw_expr = f"coalesce(v._raw, {raw_row_sql(staged, 's', mapped.pii or {}, pii_key)})"
        line_expr = staged.line_sql("v._idx")
        joins = f"LEFT JOIN {staged.table} s ON s.rowid = v._idx {staged.offsets_join('v._idx')}"
    store.execute(
        f"""INSERT INTO quarantine
        SELECT {ingestion_id}, {lit(t.name)}, {lit(source)}, {line_expr}, {raw_expr}, v._reason_code, v._reason, ?
        FROM {v} v {joins} WHERE v._reason IS NOT NULL""",
        [now],
    )
    if rejects:
        assert staged is not None
        raw = "NULL" if mapped.pii else "raw"
        hint = " (raw row not kept: it may hold personal data; see the source file)" if mapped.pii else ""
        store.execute(
            f"""INSERT INTO quarantine SELECT {ingestion_id}, {lit(t.name)}, {lit(source)}, line, {raw},
                reason_code, reason || {lit(hint)}, ? FROM {staged.skipped_table} WHERE reason_code <> 'blank'""",
            [now],
        )
    invalid = int(store.scalar(f"SELECT count(*) FROM {v} WHERE _reason IS NOT NULL"))

    # 2. the same key more than once in this input
    losers = f"""SELECT l.*, f._hash AS _winner_hash, f._idx AS _winner_idx
                 FROM {w} l JOIN {w} f ON f.{key} = l.{key} AND f._rank = 1 WHERE l._rank > 1"""
    infile_dup = _count(store, f"SELECT * FROM ({losers}) x WHERE _hash = _winner_hash")
    infile_diff = _count(store, f"SELECT * FROM ({losers}) x WHERE _hash <> _winner_hash")
    if fact and infile_diff:
        line_of_winner = staged.line_sql("x._winner_idx", "o2") if staged is not None else "NULL"
        winner_join = staged.offsets_join("x._winner_idx", "o2") if staged is not None else ""
        xraw = f"coalesce(x._raw, {raw_row_sql(staged, 's', mapped.pii or {}, pii_key)})" if staged else "x._raw"
        xline = staged.line_sql("x._idx") if staged is not None else "NULL::BIGINT"
        xjoin = f"LEFT JOIN {staged.table} s ON s.rowid = x._idx {staged.offsets_join('x._idx')}" if staged else ""
        store.execute(
            f"""INSERT INTO quarantine
            SELECT {ingestion_id}, {lit(t.name)}, {lit(source)}, {xline}, {xraw}, 'key_conflict_in_input',
                   {lit(t.key + " '")} || x.{key} || ''' appears earlier in this input'
                   || coalesce(' (line ' || {line_of_winner} || ')', '') || ' with different content', ?
            FROM ({losers}) x {xjoin} {winner_join} WHERE x._hash <> x._winner_hash""",
            [now],
        )

    # 3. against what the store already holds
    # candidates: valid rows, one per key (a subquery, not materialised: it is read once or twice)
    if p.has_dupkeys:
        c = f"""(SELECT * EXCLUDE (_rank) FROM {w} WHERE _rank = 1
                 UNION ALL BY NAME
                 SELECT * FROM {v} ANTI JOIN {dk} USING ({key}) WHERE _reason IS NULL)"""
    else:
        c = f"(SELECT * FROM {v} WHERE _reason IS NULL)"
    target_empty = int(store.scalar(f"SELECT count(*) FROM {t.name}")) == 0
    ex = _tmp("existing")
    store.execute(
        f"""CREATE OR REPLACE TEMP TABLE {ex} AS
        SELECT c.{key}, c._hash, c._idx, c._raw, t._hash AS _old_hash, t._ingestion_id AS _old_ingestion
        FROM {c} c JOIN {t.name} t USING ({key}) WHERE NOT {str(target_empty).lower()}"""
    )
    store_dup = int(store.scalar(f"SELECT count(*) FROM {ex} WHERE _hash = _old_hash"))
    store_diff = int(store.scalar(f"SELECT count(DISTINCT {key}) FROM {ex} WHERE _hash <> _old_hash"))
    if fact and store_diff:
        xraw = f"coalesce(x._raw, {raw_row_sql(staged, 's', mapped.pii or {}, pii_key)})" if staged else "x._raw"
        xline = staged.line_sql("x._idx") if staged is not None else "NULL::BIGINT"
        xjoin = f"LEFT JOIN {staged.table} s ON s.rowid = x._idx {staged.offsets_join('x._idx')}" if staged else ""
        store.execute(
            f"""INSERT INTO quarantine
            SELECT DISTINCT ON (x.{key}) {ingestion_id}, {lit(t.name)}, {lit(source)}, {xline}, {xraw}, 'key_conflict',
                   {lit(t.key + " '")} || x.{key} || ''' is already loaded with different content (ingestion '
                   || x._old_ingestion || ')', ?
            FROM {ex} x {xjoin} WHERE x._hash <> x._old_hash""",
            [now],
        )
    if not fact and store_diff:
        store.execute(f"DELETE FROM {t.name} WHERE {key} IN (SELECT {key} FROM {ex} WHERE _hash <> _old_hash)")
    cols = ", ".join(ident(n) for n in t.column_names)
    before = int(store.scalar(f"SELECT count(*) FROM {t.name}"))
    new_rows = f"{c} c" if target_empty else f"{c} c ANTI JOIN {t.name} USING ({key})"
    store.execute(
        f"""INSERT INTO {t.name} ({cols}, _hash, _ingestion_id)
        SELECT {cols}, _hash, {ingestion_id} FROM {new_rows}"""
    )
    inserted = int(store.scalar(f"SELECT count(*) FROM {t.name}")) - before

    rows_read = offered + rejects
    quarantined = invalid + rejects + (infile_diff + store_diff if fact else 0)
    duplicate = infile_dup + store_dup
    loaded = inserted + (0 if fact else infile_diff)
    updated = 0 if fact else store_diff + infile_diff
    if rows_read != loaded + duplicate + quarantined:
        raise AccountingError(
            f"{t.name} from {source}: read {rows_read} != loaded {loaded} + duplicate {duplicate} "
            f"+ quarantined {quarantined}; this is a growthkit bug, please report it"
        )
    after = _reasons(store, ingestion_id, t.name)
    reasons = {k: n - reasons_before.get(k, 0) for k, n in after.items() if n - reasons_before.get(k, 0)}
    for tmp in (v, dk, w, ex):
        store.execute(f"DROP TABLE IF EXISTS {tmp}")
    return TableReport(t.name, source, rows_read, loaded, updated, duplicate, quarantined, reasons, tuple(mapped.notes))
