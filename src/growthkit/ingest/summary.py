"""What a store holds: tables, row counts, date ranges and data quality."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from growthkit.schema import EVENT_TYPES, TABLES
from growthkit.store import Store

_TIME_COLUMN = {"events": "ts", "users": "signup_ts", "reviews": "ts", "edges": "ts"}


@dataclass(frozen=True)
class TableSummary:
    name: str
    rows: int
    first: str | None = None
    last: str | None = None
    quarantined: int = 0


@dataclass(frozen=True)
class StoreSummary:
    """Summary shown by ``growthkit status`` and at the end of ``growthkit demo``."""

    location: str
    schema_version: int
    size_bytes: int | None
    tables: tuple[TableSummary, ...]
    event_types: dict[str, int]
    distinct_users: int
    distinct_items: int
    ingestions: int
    quarantine_reasons: dict[str, int]
    quality: dict[str, int] = field(default_factory=dict)
    """Integrity checks across tables: counts of rows that point at something missing."""

    @property
    def rows_total(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantine_reasons.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.location,
            "schema_version": self.schema_version,
            "size_bytes": self.size_bytes,
            "tables": {
                t.name: {"rows": t.rows, "first": t.first, "last": t.last, "quarantined": t.quarantined}
                for t in self.tables
            },
            "event_types": self.event_types,
            "distinct_users": self.distinct_users,
            "distinct_items": self.distinct_items,
            "ingestions": self.ingestions,
            "quarantine": {"rows": self.quarantined_total, "reasons": self.quarantine_reasons},
            "quality": self.quality,
        }


def _iso(v: Any) -> str | None:
    return None if v is None else str(v)


def summarize(store: Store) -> StoreSummary:
    """Summarise the canonical tables and the quarantine of ``store``.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> with open_store(Settings(db=":memory:")) as st:
    ...     summarize(st).rows_total
    0
    """
    quarantined = {
        r["kind"]: int(r["n"]) for r in store.query("SELECT kind, count(*) AS n FROM quarantine GROUP BY 1").to_pylist()
    }
    tables = []
    for name in TABLES:
        rows = int(store.scalar(f"SELECT count(*) FROM {name}"))
        first = last = None
        col = _TIME_COLUMN.get(name)
        if col and rows:
            lo, hi = store.query(f"SELECT min({col}) AS lo, max({col}) AS hi FROM {name}").to_pylist()[0].values()
            first, last = _iso(lo), _iso(hi)
        tables.append(TableSummary(name, rows, first, last, quarantined.get(name, 0)))
    event_types = {
        r["event_type"]: int(r["n"])
        for r in store.query("SELECT event_type, count(*) AS n FROM events GROUP BY 1 ORDER BY 2 DESC, 1").to_pylist()
    }
    reasons = {
        r["reason_code"]: int(r["n"])
        for r in store.query(
            "SELECT reason_code, count(*) AS n FROM quarantine GROUP BY 1 ORDER BY 2 DESC, 1"
        ).to_pylist()
    }
    known = set(EVENT_TYPES)
    quality = {
        "events_with_unknown_user": int(
            store.scalar(
                "SELECT count(*) FROM events e WHERE (SELECT count(*) FROM users) > 0 "
                "AND NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = e.user_id)"
            )
        ),
        "events_with_unknown_item": int(
            store.scalar(
                "SELECT count(*) FROM events e WHERE e.item_id IS NOT NULL AND (SELECT count(*) FROM items) > 0 "
                "AND NOT EXISTS (SELECT 1 FROM items i WHERE i.item_id = e.item_id)"
            )
        ),
        "events_with_non_canonical_type": sum(n for t, n in event_types.items() if t not in known),
    }
    size = None
    p = Path(store.location)
    if store.location != ":memory:" and p.exists():
        size = p.stat().st_size
    return StoreSummary(
        location=store.location,
        schema_version=store.schema_version(),
        size_bytes=size,
        tables=tuple(tables),
        event_types=event_types,
        distinct_users=int(store.scalar("SELECT count(DISTINCT user_id) FROM events")),
        distinct_items=int(store.scalar("SELECT count(DISTINCT item_id) FROM events")),
        ingestions=int(store.scalar("SELECT count(*) FROM ingestions")),
        quarantine_reasons=reasons,
        quality=quality,
    )
