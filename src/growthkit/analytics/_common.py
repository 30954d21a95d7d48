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
from growthkit.store.expr import json_property as _json_property


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

    def predicate(self, events: ir.Table) -> ir.BooleanValue:
        """The same rule as :meth:`apply`, as a never-NULL boolean column of ``events``."""
        pred: ir.BooleanValue = ibis.literal(True)
        if self.event_types:
            pred = pred & events.event_type.isin(list(self.event_types))
        for col, value in self.where:
            pred = pred & (events[col] == value)
        return pred.fill_null(False)


@dataclass(frozen=True)
class Breakdown:
    """Split by an event column (``channel``), a user column (``user.city_tier``), or a property
    (``properties.coupon``, read as text by :func:`json_property`); ``None`` values show as ``"(none)"``."""

    key: str

    def attach(self, events: ir.Table, users: ir.Table) -> ir.Table:
        """``events`` with a string column ``breakdown``."""
        if self.key.startswith("user."):
            col = self.key.removeprefix("user.")
            u = users.select(users.user_id, breakdown=users[col].cast("string"))
            out = events.left_join(u, events.user_id == u.user_id).drop("user_id_right")
        elif self.key.startswith("properties."):
            k = self.key.removeprefix("properties.")
            out = events.mutate(breakdown=json_property(events.properties, k))
        else:
            out = events.mutate(breakdown=events[self.key].cast("string"))
        return out.mutate(breakdown=out.breakdown.fill_null("(none)"))


def json_property(doc: ir.Value, key: str) -> ir.StringValue:
    """Top-level ``key`` of a JSON column as text on any engine: :func:`growthkit.store.expr.json_property`."""
    return _json_property(doc, key, error=AnalyticsQueryError)


def tables(con: Any) -> tuple[ir.Table, ir.Table]:
    """The ``events`` and ``users`` tables of an Ibis backend."""
    return con.table("events"), con.table("users")


def sorted_ids(expr: ir.Table | ir.Column) -> list[str]:
    """Execute a one-column expression of user ids; distinct and sorted."""
    col = expr if isinstance(expr, ir.Column) else expr[expr.columns[0]]
    values = col.name("user_id").as_table().distinct().execute()["user_id"]
    return sorted(str(v) for v in values.tolist())


# --- shared by trends, stickiness and lifecycle (and any insight that needs them) ---

ALL = "(all)"
"""The ``breakdown`` value of every row when a query has no breakdown."""


def attach_breakdown(con: Any, events: ir.Table, breakdown: Breakdown | None) -> ir.Table:
    """``events`` with a string column ``breakdown``; also accepts ``item.<column>`` keys.

    ``item.category`` joins the ``items`` table on ``item_id``; events without an
    item (or with an unknown one) show as ``"(none)"``. Without a breakdown every
    row gets :data:`ALL`.
    """
    if breakdown is None:
        return events.mutate(breakdown=ibis.literal(ALL))
    if not breakdown.key.startswith("item."):
        users = con.table("users")
        return breakdown.attach(events, users)
    items = con.table("items")
    col = breakdown.key.removeprefix("item.")
    i = items.select(_bd_item_id=items.item_id, breakdown=items[col].cast("string"))
    out = events.left_join(i, events.item_id == i._bd_item_id).drop("_bd_item_id")
    return out.mutate(breakdown=out.breakdown.fill_null("(none)"))


class NewUser(StrEnum):
    """When a user counts as new (born).

    ``first_event``: the user's first event of any type (Amplitude's and PostHog's
    "first seen"). ``signup``: the earliest of ``users.signup_ts`` and the user's
    ``signup`` events; users with neither fall back to their first event.
    """

    FIRST_EVENT = "first_event"
    SIGNUP = "signup"


def first_seen(events: ir.Table, users: ir.Table, basis: NewUser) -> ir.Table:
    """One row per user with events: ``user_id``, ``born_ts`` (see :class:`NewUser`).

    ``events`` should be the unfiltered event log: being born is a fact about the
    user, not about the events a query looks at.
    """
    first = events.group_by("user_id").agg(first_ts=events.ts.min())
    if NewUser(basis) is NewUser.FIRST_EVENT:
        return first.select("user_id", born_ts=first.first_ts)
    s_ev = events.filter(events.event_type == "signup").select("user_id", "ts")
    s_us = users.filter(users.signup_ts.notnull()).select("user_id", ts=users.signup_ts.cast("timestamp"))
    both = s_ev.mutate(ts=s_ev.ts.cast("timestamp")).union(s_us)
    signup = both.group_by("user_id").agg(signup_ts=both.ts.min())
    j = first.left_join(signup, first.user_id == signup.user_id)
    return j.select(user_id=j.user_id, born_ts=j.signup_ts.fill_null(j.first_ts.cast("timestamp")))


def period_floor(day: date, period: Period) -> date:
    """Start of the calendar period containing ``day`` (pure Python twin of :func:`truncate`)."""
    period = Period(period)
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    return day


def period_next(start: date, period: Period) -> date:
    """Start of the period after the one starting on ``start``."""
    period = Period(period)
    if period is Period.WEEK:
        return start + timedelta(days=7)
    if period is Period.MONTH:
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=1)


def period_starts(date_range: DateRange, period: Period) -> list[date]:
    """Starts of the calendar periods that intersect ``date_range``, in order."""
    out, p = [], period_floor(date_range.start, period)
    while p <= date_range.end:
        out.append(p)
        p = period_next(p, period)
    return out
