"""The data contract: canonical tables, columns and vocabularies (layer 0, pure)."""

from growthkit.schema.tables import (
    CURRENCY_ALIASES,
    EDGE_KINDS,
    EDGES,
    EVENT_TYPE_ALIASES,
    EVENT_TYPES,
    EVENTS,
    ITEMS,
    PII_FIELDS,
    REVIEWS,
    TABLES,
    USERS,
    Column,
    ColumnType,
    Table,
    TableRole,
)

__all__ = [
    "CURRENCY_ALIASES",
    "EDGES",
    "EDGE_KINDS",
    "EVENTS",
    "EVENT_TYPES",
    "EVENT_TYPE_ALIASES",
    "ITEMS",
    "PII_FIELDS",
    "REVIEWS",
    "TABLES",
    "USERS",
    "Column",
    "ColumnType",
    "Table",
    "TableRole",
]
