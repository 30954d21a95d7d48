"""Shared machinery of retention and the LTV curve: cohort entries, period numbers, observation.

Internal to :mod:`growthkit.analytics.retention` and :mod:`growthkit.analytics.retention_ltv`;
the definitions are documented for people in ``docs/analytics/retention.md``.

Vocabulary used below:

* **entry** — one user in one cohort, anchored at the *cohort event* (``anchor_ts``). With
  ``cohort="first"`` a user has at most one entry (the first start event ever); with
  ``cohort="recurring"`` one per period in which they did the start event (anchored at the
  earliest start event of that period).
* **period number** ``N`` of a later event — calendar windows: the number of calendar
  periods (UTC days, ISO weeks, months) between the cohort's period and the event's period;
  rolling windows: ``N`` such that ``anchor + N*W <= ts < anchor + (N+1)*W`` with ``W`` = 24 h,
  7 x 24 h or 30 x 24 h.
* **max_elig** — the last period number of the entry that has fully elapsed at ``as_of``
  (``-1`` when not even period 0 has), clamped to the number of periods asked for. A cell for
  period ``N`` only counts entries with ``max_elig >= N``.

Everything is an Ibis expression built from portable operations (filters, window
``row_number``, ``group_by``/``aggregate``, joins, ``CASE``, timestamp-plus-interval with
literal intervals, ``epoch_seconds``, ``year``/``month``) so it compiles for DuckDB and PySpark.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

from growthkit.analytics._common import AnalyticsQueryError, Breakdown, DateRange, EventFilter, Period, tables

logger = logging.getLogger(__name__)

CohortKind = Literal["first", "recurring"]
Windows = Literal["calendar", "rolling"]

MAX_PERIODS = 400
"""Upper bound on ``periods`` (rolling windows are classified with one comparison per period)."""

ROLLING_DAYS: dict[Period, int] = {Period.DAY: 1, Period.WEEK: 7, Period.MONTH: 30}
"""Length of one rolling window, in 24-hour days, per period."""

REFUND = "refund"
_EPOCH = datetime(1970, 1, 1)
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class CohortSpec:
    """What defines the cohort entries and their periods (shared by retention and LTV)."""

    start_event: EventFilter
    date_range: DateRange
    period: Period
    periods: int
    cohort: CohortKind
    windows: Windows
    breakdown: Breakdown | None

    def __post_init__(self) -> None:
        if self.cohort not in ("first", "recurring"):
            raise AnalyticsQueryError(f"cohort must be 'first' or 'recurring', not {self.cohort!r}")
        if self.windows not in ("calendar", "rolling"):
            raise AnalyticsQueryError(f"windows must be 'calendar' or 'rolling', not {self.windows!r}")
        check_periods(self.periods, "periods")


def check_periods(n: int, name: str) -> None:
    """Raise unless ``0 <= n <= MAX_PERIODS``."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_PERIODS:
        raise AnalyticsQueryError(f"{name} must be an integer from 0 to {MAX_PERIODS}, not {n!r}")


def coerce_period(period: Period | str) -> Period:
    """``Period`` from a member or its value, with an error that lists the choices."""
    try:
        return Period(period)
    except ValueError as exc:
        raise AnalyticsQueryError(f"period must be one of {[p.value for p in Period]}, not {period!r}") from exc


# ---------------------------------------------------------------- time helpers (Python side)


def utc_naive(ts: datetime) -> datetime:
    """A naive UTC datetime: aware values are converted to UTC, naive ones are taken as UTC."""
    if ts.tzinfo is not None:
        return ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def resolve_as_of(con: Any, as_of: datetime | None) -> datetime:
    """The end of observation (exclusive): ``as_of`` itself, or just after the latest event.

    The default is the latest ``events.ts`` of any type plus one microsecond (the timestamp
    resolution), so the latest event is observed. Without events it is the Unix epoch, which
    makes every cell empty.
    """
    if as_of is not None:
        return utc_naive(as_of)
    events, _ = tables(con)
    latest = events.ts.max().execute()
    if latest is None or latest != latest:  # None or NaT
        return _EPOCH
    value: datetime = latest.to_pydatetime() if hasattr(latest, "to_pydatetime") else latest
    return utc_naive(value) + timedelta(microseconds=1)


def period_index_py(ts: datetime, period: Period) -> int:
    """Python twin of :func:`period_index`."""
    if period is Period.MONTH:
        return ts.year * 12 + ts.month - 1
    days = (ts - _EPOCH) // timedelta(days=1)
    return days if period is Period.DAY else (days + 3) // 7


def period_start_py(index: int, period: Period) -> date:
    """First day of the calendar period with this index (inverse of :func:`period_index_py`)."""
    if period is Period.MONTH:
        return date(index // 12, index % 12 + 1, 1)
    if period is Period.DAY:
        return _EPOCH.date() + timedelta(days=index)
    return _EPOCH.date() + timedelta(days=index * 7 - 3)  # 1969-12-29 is a Monday


def cohort_indexes(date_range: DateRange, period: Period) -> list[int]:
    """Indexes of every calendar period that overlaps the date range."""
    first = period_index_py(date_range.start_ts, period)
    last = period_index_py(datetime.combine(date_range.end, time()), period)
    return list(range(first, last + 1))


def cohort_index_of(cohort: date | datetime, period: Period) -> int:
    """Index of the period containing ``cohort`` (any day of the period names it)."""
    ts = cohort if isinstance(cohort, datetime) else datetime.combine(cohort, time())
    return period_index_py(utc_naive(ts), period)


# ---------------------------------------------------------------- expressions


def period_index(ts: ir.TimestampValue, period: Period) -> ir.IntegerValue:
    """Calendar period number since 1970 in UTC: days, ISO weeks (Monday) or months."""
    if period is Period.MONTH:
        return ts.year() * 12 + ts.month() - 1
    days = (ts.epoch_seconds() // _SECONDS_PER_DAY).cast("int64")
    return days if period is Period.DAY else (days + 3) // 7


def signed_amount(t: ir.Table) -> ir.FloatingValue:
    """Money of an event: ``amount`` (missing = 0), negative for refunds."""
    amount = t.amount.cast("float64").fill_null(0.0)
    return ibis.cases((t.event_type == REFUND, -amount), else_=amount)


@dataclass(frozen=True)
class Frame:
    """Expressions behind a retention or LTV computation.

    ``entries``: ``user_id, cohort, [breakdown], anchor_ts, max_elig``; ``returns``: one row per
    matching event of an entry at or after its anchor, ``user_id, cohort, [breakdown], max_elig,
    period, value``.
    """

    entries: ir.Table
    returns: ir.Table
    keys: tuple[str, ...]
    periods: int
    as_of: datetime


def observed_events(con: Any, as_of: datetime) -> tuple[ir.Table, ir.Table]:
    """``events`` before ``as_of`` and ``users``."""
    events, users = tables(con)
    return events.filter(events.ts < ibis.literal(as_of)), users


def build_entries(con: Any, spec: CohortSpec, as_of: datetime) -> ir.Table:
    """One row per cohort entry (see the module docstring)."""
    events, users = observed_events(con, as_of)
    starts = spec.start_event.apply(events)
    if spec.breakdown is not None:
        starts = spec.breakdown.attach(starts, users)
    starts = starts.mutate(cohort=period_index(starts.ts, spec.period))
    if spec.cohort != "first":
        starts = starts.filter(spec.date_range.contains(starts.ts))
    keys = ["user_id"] if spec.cohort == "first" else ["user_id", "cohort"]
    if spec.breakdown is None:
        # only the entry time matters: no need to pick one event among simultaneous ones
        first_ts = starts.group_by(keys).agg(anchor_ts=starts.ts.min())
        if spec.cohort == "first":
            first_ts = first_ts.mutate(cohort=period_index(first_ts.anchor_ts, spec.period))
            first_ts = first_ts.filter(spec.date_range.contains(first_ts.anchor_ts))
        entries = first_ts.select("user_id", "cohort", "anchor_ts")
        return entries.mutate(max_elig=_max_elig(entries, spec, as_of))
    # rank only the start events at each group's earliest timestamp (not all of them): same winner
    earliest = starts.group_by(keys).agg(_min_ts=starts.ts.min())
    earliest = earliest.rename(**{f"_k_{k}": k for k in keys})
    cond = [starts[k] == earliest[f"_k_{k}"] for k in keys] + [starts.ts == earliest._min_ts]
    at_min = starts.join(earliest, cond).select(*starts.columns)
    group = [at_min[k] for k in keys]
    ranked = at_min.mutate(_rn=ibis.row_number().over(group_by=group, order_by=[at_min.event_id]))
    first = ranked.filter(ranked._rn == 0)
    if spec.cohort == "first":
        first = first.filter(spec.date_range.contains(first.ts))
    cols = {"user_id": first.user_id, "cohort": first.cohort}
    if spec.breakdown is not None:
        cols["breakdown"] = first.breakdown
    entries = first.select(**cols, anchor_ts=first.ts)
    return entries.mutate(max_elig=_max_elig(entries, spec, as_of))


def _max_elig(entries: ir.Table, spec: CohortSpec, as_of: datetime) -> ir.IntegerValue:
    if spec.windows == "calendar":
        # period N ends when period cohort+N+1 starts; it has elapsed iff cohort+N+1 <= index(as_of)
        last = ibis.literal(period_index_py(as_of, spec.period) - 1) - entries.cohort
        return ibis.least(last, spec.periods)
    w = timedelta(days=ROLLING_DAYS[spec.period])
    # window k ends at anchor + (k+1)W; it has elapsed iff anchor <= as_of - (k+1)W
    branches = [(entries.anchor_ts > ibis.literal(as_of - (k + 1) * w), k - 1) for k in range(spec.periods + 1)]
    return ibis.cases(*branches, else_=spec.periods)


_MAX_PERIOD_DAYS = {Period.DAY: 1, Period.WEEK: 7, Period.MONTH: 31}


def build_frame(
    con: Any, spec: CohortSpec, return_event: EventFilter, as_of: datetime, *, bounded: bool = False
) -> Frame:
    """Entries and their matching events with period numbers (not yet filtered).

    ``bounded=False`` keeps every event after the anchor (on-or-after retention needs the
    latest one). ``bounded=True`` is for callers that only look at periods ``0..periods``:
    the join then stops ``periods + 1`` of the longest such period after the anchor,
    which covers every one of those periods (a cohort's periods start at or before its
    anchor) and spares joining each entry to the rest of the user's history.
    """
    entries = build_entries(con, spec, as_of)
    events, _ = observed_events(con, as_of)
    ret = return_event.apply(events)
    ret = ret.select(_uid=ret.user_id, _ts=ret.ts, value=signed_amount(ret))
    cond = [entries.user_id == ret._uid, ret._ts >= entries.anchor_ts]
    if bounded:
        days = (ROLLING_DAYS if spec.windows == "rolling" else _MAX_PERIOD_DAYS)[spec.period]
        cond.append(ret._ts < entries.anchor_ts + ibis.interval(days=int(days) * (spec.periods + 1)))
    joined = entries.join(ret, cond)
    if spec.windows == "calendar":
        number = period_index(joined._ts, spec.period) - joined.cohort
    else:
        w = timedelta(days=ROLLING_DAYS[spec.period])
        number = ibis.cases(
            *[
                (joined._ts < joined.anchor_ts + ibis.interval(days=(k + 1) * w.days), k)
                for k in range(spec.periods + 1)
            ],
            else_=spec.periods + 1,
        )
    keys = ("cohort", "breakdown") if spec.breakdown is not None else ("cohort",)
    returns = joined.select("user_id", *keys, "max_elig", period=number, value=joined.value)
    logger.debug("retention frame built: %s", spec)
    return Frame(entries=entries, returns=returns, keys=keys, periods=spec.periods, as_of=as_of)


def periods_table(wanted: Sequence[int]) -> ir.Table:
    """A one-column table ``k`` of the period numbers to report."""
    return ibis.memtable({"k": [int(n) for n in wanted]}, schema={"k": "int64"})


def count_reaching(t: ir.Table, keys: Sequence[str], level: str, wanted: Sequence[int], name: str) -> ir.Table:
    """For each ``keys`` group and period ``k`` in ``wanted``: rows of ``t`` with ``level >= k``."""
    per_level = t.group_by([*keys, level]).aggregate(_n=ibis._.count())
    ks = periods_table(wanted)
    grid = per_level.join(ks, per_level[level] >= ks.k)
    return grid.group_by([*keys, "k"]).aggregate(**{name: grid._n.sum()})


def sum_reaching(
    t: ir.Table, keys: Sequence[str], level: str, value: str, wanted: Sequence[int], name: str
) -> ir.Table:
    """For each ``keys`` group and period ``k``: the sum of ``value`` over rows with ``level >= k``."""
    per_level = t.group_by([*keys, level]).aggregate(_v=t[value].sum())
    ks = periods_table(wanted)
    grid = per_level.join(ks, per_level[level] >= ks.k)
    return grid.group_by([*keys, "k"]).aggregate(**{name: grid._v.sum()})


def cell_filter(t: ir.Table, keys: Sequence[str], cohort: int, breakdown: str | None) -> ir.Table:
    """Rows of one cohort (and one breakdown value when given)."""
    out = t.filter(t.cohort == cohort)
    if breakdown is not None:
        if "breakdown" not in keys:
            raise AnalyticsQueryError("this result has no breakdown; call actors() without one")
        out = out.filter(out.breakdown == breakdown)
    return out


def ratio(num: float | None, den: float | None) -> float | None:
    """``num / den``, or ``None`` when the denominator is missing or zero."""
    if num is None or den is None or den == 0:
        return None
    return float(num) / float(den)


def jsonable(value: Any) -> Any:
    """Dates and datetimes as ISO strings, tuples as lists, dataclasses and enums unpacked."""
    from dataclasses import fields, is_dataclass
    from enum import Enum

    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    return value
