"""Lifecycle: new, returning, resurrecting and dormant users per period.

Follows PostHog's lifecycle insight. A user is *active* in a period when they
have an event that passes ``filters`` in it; *born* at
:func:`~growthkit.analytics._common.first_seen` under ``query.new_user`` (their
first event, like PostHog's "person created", or their signup). For each
period ``P``:

``new``
    active in ``P``, and ``P`` is the period they were born in;
``returning``
    active in ``P`` and in the period before, not new;
``resurrecting``
    active in ``P``, not in the period before, not new (born earlier);
``dormant``
    active in the period before, not in ``P``; reported as a *negative* count,
    as PostHog charts it. A user is dormant once per gap, in the first period
    after their last activity.

So ``new + returning + resurrecting`` = the period's active users, and with
``first_event`` births and no filter a user's first active period is always
``new``. As in PostHog, with a filter (``EventFilter(("purchase",))``) a user
born earlier whose first *matching* event comes later is ``resurrecting``, not
``new``. Activity before the birth period (browsing before a later signup) is
ignored: the user is not followed before they are born.

Statuses depend on whole periods, so the range is widened to the whole
calendar periods it touches (``query.covered``), as PostHog does; history
before it is read for births and for the first period's previous period.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthkit.analytics._common import (
    AnalyticsQueryError,
    DateRange,
    EventFilter,
    NewUser,
    Period,
    first_seen,
    period_next,
    period_starts,
    sorted_ids,
    tables,
    truncate,
)

log = logging.getLogger(__name__)

__all__ = ["LifecycleQuery", "LifecycleResult", "LifecycleStatus", "run_lifecycle"]


class LifecycleStatus(StrEnum):
    """PostHog's four lifecycle statuses."""

    NEW = "new"
    RETURNING = "returning"
    RESURRECTING = "resurrecting"
    DORMANT = "dormant"


def _midnight(d: date) -> datetime:
    return datetime.combine(date(d.year, d.month, d.day), time())


def _previous(start: date, period: Period) -> date:
    if period is Period.MONTH:
        return (start - timedelta(days=1)).replace(day=1)
    return start - timedelta(days=7 if period is Period.WEEK else 1)


def _shift(ts: ir.TimestampValue, period: Period) -> ir.TimestampValue:
    """Start of the next period, for a period start ``ts``."""
    step = {
        Period.DAY: ibis.interval(days=1),
        Period.WEEK: ibis.interval(days=7),
        Period.MONTH: ibis.interval(months=1),
    }
    return ts + step[period]


@dataclass(frozen=True)
class LifecycleQuery:
    """What to classify.

    Parameters
    ----------
    date_range
        Inclusive calendar days, UTC, widened to whole periods.
    period
        ``day``, ``week`` (ISO, Monday; default) or ``month``.
    new_user
        Birth: ``first_event`` (default, PostHog's) or ``signup``.
    filters
        Which events make a user active.
    """

    date_range: DateRange
    period: Period = Period.WEEK
    new_user: NewUser = NewUser.FIRST_EVENT
    filters: EventFilter | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "period", Period(self.period))
            object.__setattr__(self, "new_user", NewUser(self.new_user))
        except ValueError as exc:
            raise AnalyticsQueryError(
                f"{exc}; periods are {[p.value for p in Period]}, new_user {[n.value for n in NewUser]}"
            ) from exc

    @property
    def covered(self) -> DateRange:
        """The date range widened to the whole periods it touches."""
        starts = period_starts(self.date_range, self.period)
        return DateRange(starts[0], period_next(starts[-1], self.period) - timedelta(days=1))


class _Plan:
    def __init__(self, con: Any, query: LifecycleQuery) -> None:
        self.q = query
        self.events, self.users = tables(con)
        self.starts = period_starts(query.date_range, query.period)

    def status_rows(self) -> ir.Table:
        """Distinct ``(period, status, user_id)`` for every reported period."""
        q, per = self.q, self.q.period
        first, last = _midnight(self.starts[0]), _midnight(self.starts[-1])
        lo = ibis.literal(_midnight(_previous(self.starts[0], per)))
        hi = ibis.literal(_midnight(q.covered.end) + timedelta(days=1))
        ev = q.filters.apply(self.events) if q.filters else self.events
        ev = ev.filter((ev.ts >= lo) & (ev.ts < hi))
        active = ev.select("user_id", period=truncate(ev.ts, per)).distinct()
        born = first_seen(self.events, self.users, q.new_user)
        born = born.select(b_user=born.user_id, born=truncate(born.born_ts, per))
        a = active.join(born, active.user_id == born.b_user).drop("b_user")
        a = a.filter(a.period >= a.born)
        # each active period's neighbours in the user's own activity: one sort per user, no self-joins
        w = ibis.window(group_by=a.user_id, order_by=a.period)
        a = a.mutate(prev=a.period.lag().over(w), nxt=a.period.lead().over(w))
        in_report = (a.period >= ibis.literal(first)) & (a.period <= ibis.literal(last))
        cur = a.filter(in_report)
        status = ibis.cases(
            (cur.period == cur.born, LifecycleStatus.NEW.value),
            (_shift(cur.prev, per) == cur.period, LifecycleStatus.RETURNING.value),
            else_=LifecycleStatus.RESURRECTING.value,
        )
        live = cur.select("period", status=status, user_id=cur.user_id)
        # dormant in the period after an active one when the user is not active again right then
        after = _shift(a.period, per)
        gone = a.filter(
            (a.nxt.isnull() | (a.nxt != after)) & (after >= ibis.literal(first)) & (after <= ibis.literal(last))
        )
        dormant = gone.select(
            period=_shift(gone.period, per), status=ibis.literal(LifecycleStatus.DORMANT.value), user_id=gone.user_id
        )
        return live.union(dormant)

    def counts(self) -> ir.Table:
        rows = self.status_rows()
        g = rows.group_by("period", "status").agg(n=rows.count())  # rows are distinct (period, user) pairs
        g = g.rename(g_period="period", g_status="status")
        statuses = list(LifecycleStatus)
        grid = ibis.memtable(
            {
                "period": [_midnight(p) for p in self.starts for _ in statuses],
                "status": [s.value for _ in self.starts for s in statuses],
                "rank": [i for _ in self.starts for i in range(len(statuses))],
            },
            schema={"period": "timestamp", "status": "string", "rank": "int64"},
        )
        j = grid.left_join(g, (grid.period == g.g_period) & (grid.status == g.g_status))
        n = j.n.fill_null(0)
        users = ibis.ifelse(j.status == LifecycleStatus.DORMANT.value, -n, n).cast("int64")
        out = j.select(period=j.period.cast("date"), status=j.status, users=users, rank=j.rank)
        return out.order_by("period", "rank").drop("rank")


@dataclass(frozen=True, eq=False)
class LifecycleResult:
    """``frame``: ``period, status, users`` for every period and status; dormant counts are negative."""

    query: LifecycleQuery
    frame: pd.DataFrame

    @property
    def covered(self) -> DateRange:
        """The whole periods the result covers."""
        return self.query.covered

    def actors(self, con: Any, period_start: date, status: LifecycleStatus | str) -> list[str]:
        """Sorted ids of the users with ``status`` in the period starting on ``period_start``."""
        try:
            s = LifecycleStatus(status)
        except ValueError as exc:
            raise AnalyticsQueryError(f"{exc}; statuses are {[x.value for x in LifecycleStatus]}") from exc
        p = date(period_start.year, period_start.month, period_start.day)
        if p not in period_starts(self.query.date_range, self.query.period):
            raise AnalyticsQueryError(
                f"{p} does not start a {self.query.period.value} of {self.query.date_range.start}.."
                f"{self.query.date_range.end}"
            )
        rows = _Plan(con, self.query).status_rows()
        rows = rows.filter((rows.period == ibis.literal(_midnight(p))) & (rows.status == s.value))
        return sorted_ids(rows.user_id)


def run_lifecycle(con: Any, query: LifecycleQuery) -> LifecycleResult:
    """Classify users per period as new, returning, resurrecting or dormant (PostHog's lifecycle).

    Parameters
    ----------
    con
        Ibis backend with the canonical ``events`` and ``users`` tables, e.g. ``store.ibis()``.
    query
        See :class:`LifecycleQuery` and the module docstring.

    Returns
    -------
    LifecycleResult

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> st = open_store(Settings(db=":memory:"))
    >>> st.execute(
    ...     "INSERT INTO events (event_id, user_id, ts, event_type) VALUES "
    ...     "('e1', 'u1', '2025-01-06 09:00', 'view'), ('e2', 'u1', '2025-01-20 09:00', 'view')"
    ... )
    >>> res = run_lifecycle(st.ibis(), LifecycleQuery(DateRange.parse("2025-01-06", "2025-01-26")))
    >>> res.frame[res.frame["users"] != 0].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [[Timestamp('2025-01-06 00:00:00'), 'new', 1], [Timestamp('2025-01-13 00:00:00'), 'dormant', -1],
     [Timestamp('2025-01-20 00:00:00'), 'resurrecting', 1]]
    >>> res.actors(st.ibis(), date(2025, 1, 13), "dormant")
    ['u1']
    """
    frame = _Plan(con, query).counts().execute()
    log.debug("lifecycle: %d rows", len(frame))
    return LifecycleResult(query=query, frame=frame)
