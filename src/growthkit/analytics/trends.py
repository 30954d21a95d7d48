"""Trends: new and active users, orders, revenue, AOV and conversion per day, week or month.

Definitions (every metric is computed from the *event stream* of the query: the
events that pass ``filters``; only events inside the date range count, so the
first and last period may be partial, as in Amplitude and Mixpanel charts):

``active_users``
    Distinct users with at least one event in the period.
``new_users``
    Active users of the period who were born in it (inside the range). Birth is
    :func:`~growthkit.analytics._common.first_seen` under ``query.new_user``:
    the first event ever (Amplitude's "new user", PostHog's "first seen"), or
    the signup. Being born is judged on the unfiltered log; the filter only
    decides whether the user was active. Same definition as lifecycle ``new``.
``dau``, ``wau``, ``mau``
    Rolling windows like Amplitude's and Mixpanel's: distinct users active on
    the trailing 1, 7 or 30 days ending on a day (that day included; days before
    the range are looked at). With ``period="week"``/``"month"`` the value is
    the one on the last day of the period inside the range (an end-of-period
    snapshot); use ``active_users`` for distinct users over the whole period.
``purchasers``
    Distinct users with a ``purchase`` event in the period.
``orders``
    Distinct orders: purchase events are order *lines*, and the adapters store
    the order or invoice id in ``session_id``, so an order is a distinct
    ``(user_id, session_id)``; a purchase without a ``session_id`` is its own
    order. (All purchases of one session count as one order.)
``gross_revenue``
    Sum of ``amount`` over purchase events (a missing amount counts as 0).
``net_revenue``
    Gross revenue minus the ``amount`` of ``refund`` events, each refund counted
    in the period in which it happened (cash basis, like Shopify's net sales).
``aov``
    ``gross_revenue / orders`` (refunds excluded, as in Shopify's AOV); empty
    (NaN) when there were no orders.
``conversion``
    ``purchasers / active_users``; NaN when nobody was active.

With a breakdown, a user (or order) counts once in every breakdown value they
had a matching event for, so user counts over breakdown values may add up to
more than the total (Amplitude and Mixpanel do the same). ``new_users`` with a
user-property breakdown (``user.city_tier``) partitions exactly. Amounts are
summed as they are: keep one currency per query (``filters`` on ``currency``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthkit.analytics._common import (
    ALL,
    AnalyticsQueryError,
    Breakdown,
    DateRange,
    EventFilter,
    NewUser,
    Period,
    attach_breakdown,
    first_seen,
    period_floor,
    period_next,
    period_starts,
    sorted_ids,
    tables,
    truncate,
)

log = logging.getLogger(__name__)

__all__ = ["TrendMetric", "TrendsQuery", "TrendsResult", "rolling_active", "rolling_counts", "run_trends"]


class TrendMetric(StrEnum):
    """The metrics of :func:`run_trends` (definitions in the module docstring)."""

    NEW_USERS = "new_users"
    ACTIVE_USERS = "active_users"
    DAU = "dau"
    WAU = "wau"
    MAU = "mau"
    PURCHASERS = "purchasers"
    ORDERS = "orders"
    GROSS_REVENUE = "gross_revenue"
    NET_REVENUE = "net_revenue"
    AOV = "aov"
    CONVERSION = "conversion"


ROLLING_DAYS: dict[TrendMetric, int] = {TrendMetric.DAU: 1, TrendMetric.WAU: 7, TrendMetric.MAU: 30}
"""Trailing window, in days, of the rolling active-user metrics."""

_RATIOS = frozenset({TrendMetric.AOV, TrendMetric.CONVERSION})


def _midnight(d: date) -> datetime:
    return datetime.combine(date(d.year, d.month, d.day), time())


@dataclass(frozen=True)
class TrendsQuery:
    """What to chart.

    Parameters
    ----------
    metrics
        One or more :class:`TrendMetric` (their string values are accepted).
    date_range
        Inclusive calendar days, UTC.
    period
        ``day``, ``week`` (ISO, Monday) or ``month``.
    breakdown
        Split by an event column (``channel``), a user column (``user.city_tier``),
        an event property (``properties.coupon``) or an item column (``item.category``).
    filters
        Which events make up the stream (types, equality on event columns).
    new_user
        Birth definition for ``new_users``: ``first_event`` (default) or ``signup``.
    """

    metrics: tuple[TrendMetric, ...]
    date_range: DateRange
    period: Period = Period.DAY
    breakdown: Breakdown | None = None
    filters: EventFilter | None = None
    new_user: NewUser = NewUser.FIRST_EVENT

    def __post_init__(self) -> None:
        raw = (self.metrics,) if isinstance(self.metrics, str) else tuple(self.metrics)
        try:
            metrics = tuple(TrendMetric(m) for m in raw)
            period, new_user = Period(self.period), NewUser(self.new_user)
        except ValueError as exc:
            raise AnalyticsQueryError(
                f"{exc}; metrics are {[m.value for m in TrendMetric]}, periods {[p.value for p in Period]}, "
                f"new_user {[n.value for n in NewUser]}"
            ) from exc
        if not metrics:
            raise AnalyticsQueryError("name at least one metric, e.g. metrics=('active_users',)")
        if len(set(metrics)) != len(metrics):
            raise AnalyticsQueryError(f"metrics repeat: {[m.value for m in metrics]}")
        object.__setattr__(self, "metrics", metrics)
        object.__setattr__(self, "period", period)
        object.__setattr__(self, "new_user", new_user)


def rolling_active(events: ir.Table, targets: ir.Table, window_days: int) -> ir.Table:
    """Users active on the ``window_days`` days ending on each target day.

    ``events`` has ``user_id``, ``ts`` and ``breakdown``; ``targets`` has
    ``period`` and ``target`` (midnight of the day to evaluate). Returns distinct
    ``(period, breakdown, user_id)`` rows: a range join, portable to any engine.
    """
    days = events.select("user_id", "breakdown", day=truncate(events.ts, Period.DAY)).distinct()
    lo = targets.target - ibis.interval(days=window_days)
    j = days.join(targets, (days.day <= targets.target) & (days.day > lo))
    return j.select("period", "breakdown", "user_id").distinct()


def rolling_counts(events: ir.Table, targets: ir.Table, window_days: int) -> ir.Table:
    """How many users were active on the ``window_days`` days ending on each target day.

    Returns ``(period, breakdown, value)`` for every target and breakdown value seen; see
    :func:`rolling_counts_many`.
    """
    c = rolling_counts_many(events, targets, {"value": window_days})
    return c.select("period", "breakdown", value=c.value)


def rolling_counts_many(events: ir.Table, targets: ir.Table, windows: dict[str, int]) -> ir.Table:
    """Rolling active-user counts for several trailing windows in one pass over the events.

    The same numbers as counting :func:`rolling_active` rows, without producing one row per
    (user, target day): each user's active days become disjoint intervals
    ``[day, min(day + window, next active day))``, and a running sum of +1 at each start and
    -1 at each end over the day axis counts the intervals that contain a target day. All
    windows share the distinct user-days, the ``lead`` and one grouped running sum.
    Returns ``(period, breakdown, <name>...)`` (float64) for every target and breakdown value seen.
    """
    days = events.select("user_id", "breakdown", day=truncate(events.ts, Period.DAY)).distinct()
    return rolling_from_days(days, targets, windows)


def rolling_from_days(days: ir.Table, targets: ir.Table, windows: dict[str, int]) -> ir.Table:
    """:func:`rolling_counts_many` from distinct ``(user_id, breakdown, day)`` rows.

    Without a ``breakdown`` column (``(user_id, day)`` rows) there is one count per target and
    no grid of breakdown values to build; the result then has no ``breakdown`` column either.
    """
    names = list(windows)
    by = ["breakdown"] if "breakdown" in days.columns else []
    nxt = days.day.lead().over(ibis.window(group_by=[days.user_id, *(days[c] for c in by)], order_by=days.day))
    iv = days.mutate(nxt=nxt)
    one, zero = ibis.literal(1, type="int64"), ibis.literal(0, type="int64")
    parts = [iv.select(*by, "day", **{f"d_{n}": one for n in names})]
    for name in names:
        end = iv.day + ibis.interval(days=windows[name])
        stop = ibis.ifelse(iv.nxt.notnull() & (iv.nxt < end), iv.nxt, end)
        parts.append(iv.select(*by, day=stop, **{f"d_{n}": (-one if n == name else zero) for n in names}))
    deltas = ibis.union(*parts)
    grid = targets.cross_join(deltas.select(*by).distinct()) if by else targets
    marks = grid.select(*by, day=grid.target, **{f"d_{n}": zero for n in names})
    both = deltas.union(marks)
    axis = both.group_by(*by, "day").agg(**{f"d_{n}": both[f"d_{n}"].sum() for n in names})
    running = ibis.window(group_by=[axis[c] for c in by], order_by=axis.day, preceding=None, following=0)
    counted = axis.mutate(**{f"a_{n}": axis[f"d_{n}"].sum().over(running) for n in names})
    c = counted.rename(c_day="day", **{f"c_{k}": k for k in by})
    on = [grid.target == c.c_day, *(grid[k] == c[f"c_{k}"] for k in by)]
    j = grid.join(c, on)
    return j.select("period", *by, **{n: j[f"a_{n}"].cast("float64") for n in names})


class _Plan:
    """The Ibis expressions of one query: actor rows per metric, values, the tidy table.

    The metrics share their passes over the events, each one expression used by every metric that
    needs it (the engine computes a shared expression once): the distinct user-days (active, new,
    dau, wau, mau, conversion), the purchase (and refund) events (orders, revenue, aov, purchasers,
    conversion) and, for ``new_users``, the births (:func:`first_seen`, over the whole log).
    """

    def __init__(self, con: Any, query: TrendsQuery) -> None:
        self.q = query
        events, self.users = tables(con)
        self.events = events
        ev = query.filters.apply(events) if query.filters else events
        self.stream = attach_breakdown(con, ev, query.breakdown)
        t = self.stream.filter(query.date_range.contains(self.stream.ts))
        self.in_range = t.mutate(period=truncate(t.ts, query.period))
        # Distinct (user, breakdown, day): one expression shared by active_users, new_users,
        # conversion, dau, wau and mau, so the engine reads the events for them once. With wau
        # or mau it starts early enough for the longest window; days_in_range is the range's part.
        self.windows = {m.value: ROLLING_DAYS[m] for m in query.metrics if ROLLING_DAYS.get(m, 1) > 1}
        look = max(self.windows.values(), default=1) - 1
        if look:
            lo = ibis.literal(_midnight(query.date_range.start - timedelta(days=look)))
            s = self.stream.filter((self.stream.ts >= lo) & (self.stream.ts < ibis.literal(query.date_range.end_ts)))
            self.user_days = s.select("user_id", "breakdown", day=truncate(s.ts, Period.DAY)).distinct()
            d = self.user_days.view()
            self.days_in_range = d.filter(d.day >= ibis.literal(query.date_range.start_ts))
        else:
            self.user_days = t.select("user_id", "breakdown", day=truncate(t.ts, Period.DAY)).distinct()
            self.days_in_range = self.user_days
        self._actors: dict[TrendMetric, ir.Table] = {}
        self.starts = period_starts(query.date_range, query.period)
        last = [min(period_next(p, query.period) - timedelta(days=1), query.date_range.end) for p in self.starts]
        self.calendar = ibis.memtable(
            {"period": [_midnight(p) for p in self.starts], "target": [_midnight(d) for d in last]},
            schema={"period": "timestamp", "target": "timestamp"},
        )

    def _users(self, t: ir.Table) -> ir.Table:
        return t.select("period", "breakdown", "user_id").distinct()

    @cached_property
    def _money_events(self) -> ir.Table:
        t = self.in_range
        if TrendMetric.NET_REVENUE in self.q.metrics:
            return t.filter(t.event_type.isin(["purchase", "refund"]))
        return t.filter(t.event_type == "purchase")

    def money_rows(self) -> ir.Table:
        """The range's purchase events, and its refunds when the query asks for ``net_revenue``.

        Each call is a new view of one relation: with two readers (the money aggregate and the
        purchasers) it becomes a common table expression, so the engine reads those events once.
        """
        return self._money_events.view()

    @cached_property
    def money(self) -> ir.Table:
        """``(period, breakdown, orders, gross, net)``: one aggregate over :meth:`money_rows` for every
        money metric of the query."""
        m = self.money_rows()
        buy = m.event_type == "purchase"
        order = m.user_id + "|" + ibis.ifelse(m.session_id.isnull(), "e:" + m.event_id, "s:" + m.session_id)
        amount = m.amount
        aggs: dict[str, ir.Value] = {}
        if TrendMetric.NET_REVENUE in self.q.metrics:  # refunds are among the rows: keep them out of these
            order = ibis.ifelse(buy, order, ibis.null("string"))
            amount = ibis.ifelse(buy, m.amount, ibis.null(m.amount.type()))
            aggs["net"] = ibis.ifelse(m.event_type == "refund", -m.amount, m.amount).fill_null(0).sum()
        return m.group_by("period", "breakdown").agg(orders=order.nunique(), gross=amount.sum().fill_null(0), **aggs)

    def actor_rows(self, metric: TrendMetric) -> ir.Table:
        """Distinct ``(period, breakdown, user_id)`` of the users behind a metric.

        One expression per metric and plan (several metrics read the same rows)."""
        if metric not in self._actors:
            self._actors[metric] = self._actor_rows(metric)
        return self._actors[metric]

    def _actor_rows(self, metric: TrendMetric) -> ir.Table:
        t = self.in_range
        if metric is TrendMetric.ACTIVE_USERS:
            d = self.days_in_range
            return self._users(d.mutate(period=truncate(d.day, self.q.period)))
        if metric is TrendMetric.NEW_USERS:
            born = first_seen(self.events, self.users, self.q.new_user)
            born = born.filter(self.q.date_range.contains(born.born_ts))
            born = born.select(b_user=born.user_id, b_period=truncate(born.born_ts, self.q.period))
            a = self.actor_rows(TrendMetric.ACTIVE_USERS)
            j = a.join(born, (a.user_id == born.b_user) & (a.period == born.b_period))
            return j.select("period", "breakdown", "user_id")
        if metric is TrendMetric.DAU:
            # The 1-day window needs no look-back and no running sum: the users of the range's
            # user-days that fall on a period's target day. Targets are distinct days, one per
            # period, so the rows are distinct (period, breakdown, user_id) without a DISTINCT.
            d, cal = self.days_in_range, self.calendar
            j = d.join(cal, d.day == cal.target)
            return j.select("period", "breakdown", "user_id")
        if metric in ROLLING_DAYS:
            w = ROLLING_DAYS[metric]
            s = self.stream
            lookback = _midnight(self.q.date_range.start - timedelta(days=w - 1))
            s = s.filter((s.ts >= ibis.literal(lookback)) & (s.ts < ibis.literal(self.q.date_range.end_ts)))
            return rolling_active(s, self.calendar, w)
        if metric is TrendMetric.NET_REVENUE:
            return self._users(t.filter(t.event_type.isin(["purchase", "refund"])))
        # purchasers, orders, gross_revenue, aov, conversion: the users who purchased
        m = self.money_rows()
        return self._users(m.filter(m.event_type == "purchase"))

    def values(self, metric: TrendMetric) -> ir.Table:
        """``(period, breakdown, value)`` for the periods and breakdown values that have data."""
        keys = ["period", "breakdown"]
        if metric in (TrendMetric.ORDERS, TrendMetric.GROSS_REVENUE, TrendMetric.AOV, TrendMetric.NET_REVENUE):
            g = self.money
            orders, gross = g.orders.cast("float64"), g.gross.cast("float64")
            if metric is TrendMetric.ORDERS:
                value = orders
            elif metric is TrendMetric.GROSS_REVENUE:
                value = gross
            elif metric is TrendMetric.AOV:  # a group of refunds only (net_revenue asked) has no orders
                value = ibis.ifelse(g.orders > 0, gross / orders, ibis.null("float64"))
            else:
                value = g.net.cast("float64")
            return g.select(*keys, value=value)
        if metric in self.windows:
            c = rolling_from_days(self.user_days, self.calendar, self.windows)
            counts = c.select("period", "breakdown", value=c[metric.value])
            return counts.filter(counts.value > 0)
        if metric is TrendMetric.CONVERSION:
            act = self._count(self.actor_rows(TrendMetric.ACTIVE_USERS)).rename(active="value")
            buy = self._count(self.actor_rows(TrendMetric.PURCHASERS)).rename(
                buyers="value", bp="period", bb="breakdown"
            )
            j = act.left_join(buy, (act.period == buy.bp) & (act.breakdown == buy.bb))
            return j.select(*keys, value=j.buyers.fill_null(0) / j.active)
        return self._count(self.actor_rows(metric))

    def _count(self, rows: ir.Table) -> ir.Table:
        # actor_rows are distinct (period, breakdown, user_id): a row count, no second DISTINCT
        g = rows.group_by("period", "breakdown").agg(value=rows.count())
        return g.select("period", "breakdown", value=g.value.cast("float64"))

    def tidy(self) -> ir.Table:
        """One row per (period, breakdown value, metric), zeros filled in, sorted."""
        parts = [self.values(m).mutate(metric=ibis.literal(m.value)) for m in self.q.metrics]
        data = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
        names = ibis.memtable(
            {"metric": [m.value for m in self.q.metrics], "rank": list(range(len(self.q.metrics)))},
            schema={"metric": "string", "rank": "int64"},
        )
        if self.q.breakdown is None:
            values = ibis.memtable({"breakdown": [ALL]}, schema={"breakdown": "string"})
        else:
            values = data.select("breakdown").distinct()
        grid = self.calendar.select("period").cross_join(values).cross_join(names)
        d = data.rename(d_period="period", d_breakdown="breakdown", d_metric="metric")
        j = grid.left_join(
            d, (grid.period == d.d_period) & (grid.breakdown == d.d_breakdown) & (grid.metric == d.d_metric)
        )
        ratio = j.metric.isin([m.value for m in _RATIOS])
        value = ibis.ifelse(ratio, j.value, j.value.fill_null(0.0))
        out = j.select(period=j.period.cast("date"), breakdown=j.breakdown, metric=j.metric, value=value, rank=j.rank)
        return out.order_by("period", "breakdown", "rank").drop("rank")


@dataclass(frozen=True, eq=False)
class TrendsResult:
    """Tidy trends: ``frame`` has columns ``period`` (start day), ``breakdown``, ``metric``, ``value``.

    Every period of the range and every breakdown value seen appears for every
    metric; counts and sums are 0 where nothing happened, ratios NaN.
    """

    query: TrendsQuery
    frame: pd.DataFrame

    def actors(
        self, con: Any, period_start: date, metric: TrendMetric | str, breakdown: str | None = None
    ) -> list[str]:
        """Sorted ids of the users behind one cell.

        ``new_users``, ``active_users``, ``purchasers``: those users; ``dau``/``wau``/``mau``:
        the users active in the trailing window; ``orders``, ``gross_revenue``, ``aov``,
        ``conversion``: the purchasers (conversion's numerator); ``net_revenue``: users
        with a purchase or a refund. ``breakdown=None`` takes every breakdown value.
        """
        try:
            m = TrendMetric(metric)
        except ValueError as exc:
            raise AnalyticsQueryError(f"{exc}; metrics are {[x.value for x in TrendMetric]}") from exc
        p = _check_period(period_start, self.query.date_range, self.query.period)
        rows = _Plan(con, self.query).actor_rows(m)
        rows = rows.filter(rows.period == ibis.literal(_midnight(p)))
        if breakdown is not None:
            rows = rows.filter(rows.breakdown == breakdown)
        return sorted_ids(rows.user_id)


def _check_period(period_start: date, date_range: DateRange, period: Period) -> date:
    p = date(period_start.year, period_start.month, period_start.day)
    if period_floor(p, period) != p or p not in period_starts(date_range, period):
        raise AnalyticsQueryError(
            f"{p} does not start a {period.value} of {date_range.start}..{date_range.end}; "
            f"periods start on {[str(s) for s in period_starts(date_range, period)[:3]]}..."
        )
    return p


def run_trends(con: Any, query: TrendsQuery) -> TrendsResult:
    """Compute the metrics of ``query`` per period (and breakdown value).

    Parameters
    ----------
    con
        Ibis backend with the canonical ``events``, ``users`` (and, for ``item.``
        breakdowns, ``items``) tables, e.g. ``store.ibis()``.
    query
        What to compute; see :class:`TrendsQuery` and the module docstring.

    Returns
    -------
    TrendsResult
        The tidy frame, and ``actors`` for the users behind any cell.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> st = open_store(Settings(db=":memory:"))
    >>> st.execute(
    ...     "INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES "
    ...     "('e1', 'u1', '2025-01-06 09:00', 'view', NULL), ('e2', 'u1', '2025-01-06 09:05', 'purchase', 20.0)"
    ... )
    >>> q = TrendsQuery(("active_users", "gross_revenue"), DateRange.parse("2025-01-06", "2025-01-07"))
    >>> res = run_trends(st.ibis(), q)
    >>> res.frame["value"].tolist()
    [1.0, 20.0, 0.0, 0.0]
    >>> res.actors(st.ibis(), date(2025, 1, 6), "active_users")
    ['u1']
    """
    plan = _Plan(con, query)
    frame = plan.tidy().execute()
    log.debug("trends: %d rows for %s", len(frame), [m.value for m in query.metrics])
    return TrendsResult(query=query, frame=frame)
