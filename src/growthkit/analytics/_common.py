"""What every insight shares: date ranges, periods, filters, breakdowns, actors.

Conventions (every module in :mod:`growthkit.analytics` follows them):

* An insight is a frozen query dataclass in and a frozen result dataclass out:
  ``run_<insight>(con, query) -> <Insight>Result``. ``con`` is an Ibis backend
  that has the canonical tables (``store.ibis()`` for the DuckDB store, or an
  Ibis PySpark backend), so the same expression runs on either engine.
* Times are UTC. A :class:`DateRange` is inclusive of both calendar days;
  ``[range.start_ts, range.end_ts)`` is the half-open timestamp interval.
* Calendar periods: days, ISO weeks (starting Monday) and calendar months,
  truncated in UTC.
* Every result can name the users behind any number it shows:
  ``result.actors(con, ...)`` returns the sorted user ids of one cell, so a
  segment or campaign can start from any chart cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir

from growthkit.errors import GrowthkitError


class AnalyticsQueryError(GrowthkitError, ValueError):
    """An insight query is inconsistent (dates reversed, unknown step, ...)."""


class Period(StrEnum):
    """Calendar period for bucketing."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def unit(self) -> str:
        return {"day": "D", "week": "W", "month": "M"}[self.value]


@dataclass(frozen=True)
class DateRange:
    """Calendar days ``start..end``, both included, in UTC."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise AnalyticsQueryError(f"date range ends ({self.end}) before it starts ({self.start})")

    @property
    def start_ts(self) -> datetime:
        return datetime.combine(self.start, time())

    @property
    def end_ts(self) -> datetime:
        """Exclusive upper bound: midnight after ``end``."""
        return datetime.combine(self.end + timedelta(days=1), time())

    def contains(self, ts: ir.TimestampValue) -> ir.BooleanValue:
        return (ts >= ibis.literal(self.start_ts)) & (ts < ibis.literal(self.end_ts))

    @classmethod
    def parse(cls, start: str, end: str) -> DateRange:
        try:
            return cls(date.fromisoformat(start), date.fromisoformat(end))
        except ValueError as exc:
            raise AnalyticsQueryError(f"dates must look like 2025-01-31: {exc}") from exc


def truncate(ts: ir.TimestampValue, period: Period) -> ir.TimestampValue:
    """Start of the calendar period containing ``ts`` (weeks start Monday)."""
    return ts.truncate(period.unit)


@dataclass(frozen=True)
class EventFilter:
    """Which events count: types, and equality on event columns (``{"channel": "ads"}``)."""

    event_types: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def apply(self, events: ir.Table) -> ir.Table:
        t = events
        if self.event_types:
            t = t.filter(t.event_type.isin(list(self.event_types)))
        for col, value in self.where:
            t = t.filter(t[col] == value)
        return t


@dataclass(frozen=True)
class Breakdown:
    """Split by an event column (``channel``), a user column (``user.city_tier``), or a property
    (``properties.coupon``); ``None`` values show as ``"(none)"``."""

    key: str

    def attach(self, events: ir.Table, users: ir.Table) -> ir.Table:
        """``events`` with a string column ``breakdown``."""
        if self.key.startswith("user."):
            col = self.key.removeprefix("user.")
            u = users.select(users.user_id, breakdown=users[col].cast("string"))
            out = events.left_join(u, events.user_id == u.user_id).drop("user_id_right")
        elif self.key.startswith("properties."):
            k = self.key.removeprefix("properties.")
            out = events.mutate(breakdown=events.properties.cast("json")[k].str)
        else:
            out = events.mutate(breakdown=events[self.key].cast("string"))
        return out.mutate(breakdown=out.breakdown.fill_null("(none)"))


def tables(con: Any) -> tuple[ir.Table, ir.Table]:
    """The ``events`` and ``users`` tables of an Ibis backend."""
    return con.table("events"), con.table("users")


def sorted_ids(expr: ir.Table | ir.Column) -> list[str]:
    """Execute a one-column expression of user ids; distinct and sorted."""
    col = expr if isinstance(expr, ir.Column) else expr[expr.columns[0]]
    values = col.name("user_id").as_table().distinct().execute()["user_id"]
    return sorted(str(v) for v in values.tolist())
