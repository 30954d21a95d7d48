"""Versioned schema migrations for the store.

A store records the migrations applied to it in ``schema_version``. Opening a
store written by an older growthkit applies the missing migrations in one
transaction; a read-only open of an outdated store says how to upgrade it.
To change the schema, append a :class:`Migration`; never edit an old one.
"""

from __future__ import annotations

from dataclasses import dataclass

from growthkit.schema import TABLES, Table

SYSTEM_COLUMNS: tuple[tuple[str, str], ...] = (("_hash", "VARCHAR"), ("_ingestion_id", "BIGINT"))
"""Columns every canonical table carries besides the contract's:
``_hash`` (md5 of the canonical row, for dedupe) and ``_ingestion_id`` (lineage)."""


def create_table_sql(table: Table) -> str:
    cols = [f"{c.name} {c.type.sql}" for c in table.columns]
    cols += [f"{name} {sql_type}" for name, sql_type in SYSTEM_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n  " + ",\n  ".join(cols) + "\n)"


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


def _v1() -> Migration:
    stmts = [create_table_sql(t) for t in TABLES.values()]
    stmts += [
        """CREATE TABLE IF NOT EXISTS ingestions (
  ingestion_id BIGINT PRIMARY KEY,
  kind VARCHAR NOT NULL,
  format VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  source_bytes BIGINT,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP NOT NULL,
  rows_read BIGINT NOT NULL,
  rows_loaded BIGINT NOT NULL,
  rows_updated BIGINT NOT NULL,
  rows_duplicate BIGINT NOT NULL,
  rows_quarantined BIGINT NOT NULL
)""",
        """CREATE TABLE IF NOT EXISTS quarantine (
  ingestion_id BIGINT NOT NULL,
  kind VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  line BIGINT,
  raw VARCHAR,
  reason_code VARCHAR NOT NULL,
  reason VARCHAR NOT NULL,
  quarantined_at TIMESTAMP NOT NULL
)""",
        "CREATE SEQUENCE IF NOT EXISTS ingestion_seq START 1",
    ]
    return Migration(1, "canonical tables, ingestion log and quarantine", tuple(stmts))


def _v2() -> Migration:
    stmts = (
        """CREATE TABLE IF NOT EXISTS experiments (
  experiment VARCHAR PRIMARY KEY,
  definition JSON NOT NULL,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
)""",
        """CREATE TABLE IF NOT EXISTS exposures (
  experiment VARCHAR NOT NULL,
  variation VARCHAR NOT NULL,
  user_id VARCHAR NOT NULL,
  ts TIMESTAMP NOT NULL,
  context JSON,
  PRIMARY KEY (experiment, user_id)
)""",
    )
    return Migration(2, "experiments and exposures (first exposure per user and experiment)", stmts)


MIGRATIONS: tuple[Migration, ...] = (_v1(), _v2())
"""All migrations, oldest first. ``MIGRATIONS[-1].version`` is the current schema."""

CURRENT_VERSION: int = MIGRATIONS[-1].version

VERSION_TABLE_SQL = """CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER NOT NULL,
  description VARCHAR NOT NULL,
  growthkit_version VARCHAR NOT NULL,
  applied_at TIMESTAMP NOT NULL
)"""
