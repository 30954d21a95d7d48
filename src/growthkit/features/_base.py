"""What the feature modules share: the cutoff, the Ibis backend, event vocabularies, JSON access.

Internal to :mod:`growthkit.features`. Every expression here is built from portable Ibis
operations (filters, ``group_by``/``aggregate`` with ``where=``, joins, window ``lag`` and
cumulative sums, ``epoch_seconds``), so it compiles for DuckDB and for PySpark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthkit.errors import GrowthkitError
from growthkit.store.expr import json_property as _json_property

DAY_S = 86_400.0
"""Seconds in one day: every ``*_days`` feature is a difference of epoch seconds over this."""

SHOP_EVENTS: tuple[str, ...] = ("coupon_received",)
"""Event types the shop does to a user (mailings), not the user's own actions."""

ACTIVITY_TYPES: tuple[str, ...] = (
    "view",
    "search",
    "cart",
    "purchase",
    "refund",
    "review",
    "share",
    "invite",
    "coupon_received",
    "coupon_redeemed",
)
"""Event types counted per window (``<type>_count_<w>d``)."""

AMOUNT_TYPES: tuple[str, ...] = ("cart", "purchase", "refund")
"""Event types whose ``amount`` is summed per window (``<type>_amount_<w>d``)."""

NON_SESSION_TYPES: tuple[str, ...] = ("signup", "coupon_received", "refund", "review")
"""Event types that happen outside a browsing session (they never start or extend one)."""

SESSION_GAP_S = 30 * 60
"""Inactivity gap that ends a session when events carry no ``session_id`` (30 minutes)."""


class FeatureError(GrowthkitError, ValueError):
    """A feature request is inconsistent (bad cutoff, windows or horizon)."""


def backend(source: Any) -> Any:
    """The Ibis backend of a :class:`~growthkit.store.Store` (``store.ibis()``), or ``source`` itself."""
    make = getattr(source, "ibis", None)
    if callable(make):
        return make()
    if not hasattr(source, "table"):
        raise FeatureError(f"expected a growthkit Store or an Ibis backend with the canonical tables, got {source!r}")
    return source


def as_cutoff(value: date | datetime) -> datetime:
    """A naive UTC ``datetime``: aware values are converted, naive ones taken as UTC, dates mean midnight."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, date):
        return datetime.combine(value, time())
    raise FeatureError(f"cutoff must be a date or datetime, not {value!r}")


def epoch_s(ts: datetime) -> float:
    """Seconds since 1970-01-01 of a naive UTC datetime (Python twin of :func:`seconds`)."""
    return (ts - datetime(1970, 1, 1)).total_seconds()


def seconds(ts: ir.TimestampValue) -> ir.FloatingValue:
    """Epoch seconds of a timestamp column, as a float."""
    out: ir.FloatingValue = ts.epoch_seconds().cast("float64")
    return out


def check_windows(windows: Iterable[int]) -> tuple[int, ...]:
    """Distinct positive day counts, sorted; raises :class:`FeatureError` otherwise."""
    out = tuple(sorted(set(windows)))
    if not out or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in out):
        raise FeatureError(f"windows must be positive whole numbers of days such as (7, 30, 90), not {windows!r}")
    return out


def restrict(table: ir.Table, ids: ir.Table | None, column: str = "user_id") -> ir.Table:
    """Rows of ``table`` whose ``column`` is one of ``ids.user_id`` (all rows when ``ids`` is None)."""
    if ids is None:
        return table
    return table.semi_join(ids, table[column] == ids.user_id)


def id_table(users: Iterable[str] | None) -> ir.Table | None:
    """An in-memory one-column table of user ids, or None for "everybody"."""
    if users is None:
        return None
    ids = sorted({str(u) for u in users})
    return ibis.memtable(pd.DataFrame({"user_id": pd.Series(ids, dtype="object")}))


def json_property(doc: ir.Value, key: str) -> ir.StringValue:
    """Top-level ``key`` of a JSON column as text on any engine: :func:`growthkit.store.expr.json_property`."""
    return _json_property(doc, key, error=FeatureError)


def slug(value: str) -> str:
    """A column-name-safe form of a category or channel: lower case, runs of non-word characters as ``_``."""
    s = re.sub(r"\W+", "_", str(value).strip().lower()).strip("_")
    return s or "none"


def unique_slugs(values: Iterable[str]) -> dict[str, str]:
    """``value -> slug`` with collisions made unique by a numeric suffix (``home_garden_2``)."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for v in values:
        base = s = slug(v)
        k = 2
        while s in seen:
            s, k = f"{base}_{k}", k + 1
        seen.add(s)
        out[v] = s
    return out
