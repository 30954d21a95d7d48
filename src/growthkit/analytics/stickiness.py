"""Stickiness: how often users come back.

Two views, as in Mixpanel's and Amplitude's stickiness reports:

``ratio``
    One row per day of the range: ``dau``, ``wau``, ``mau`` (distinct users
    active on the trailing 1, 7, 30 days ending that day, days before the range
    included, the same rolling windows as :mod:`growthkit.analytics.trends`) and
    ``dau_mau = dau / mau``, the classic stickiness ratio (NaN when ``mau`` is 0).
``distribution``
    Per week (ISO, Monday) or month: how many users were active on exactly ``k``
    distinct days of it, for every ``k`` from 1 to the period's length (zeros
    included), and their ``share`` of the period's active users. Counting days
    only makes sense over whole periods, so the range is widened to the whole
    calendar periods it touches (``result.covered``), like Mixpanel's weekly
    stickiness; a period still in progress simply has fewer days so far.

"Active" means having at least one event that passes ``filters`` (e.g.
``EventFilter(("purchase",))`` for buying stickiness). Days are UTC days.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthkit.analytics._common import (
    AnalyticsQueryError,
    DateRange,
    EventFilter,
    Period,
    period_next,
    period_starts,
    sorted_ids,
    tables,
    truncate,
)
from growthkit.analytics.trends import rolling_from_days

log = logging.getLogger(__name__)

__all__ = ["StickinessQuery", "StickinessResult", "run_stickiness"]


def _midnight(d: date) -> datetime:
    return datetime.combine(date(d.year, d.month, d.day), time())


@dataclass(frozen=True)
class StickinessQuery:
    """What to measure.

    Parameters
    ----------
    date_range
        Inclusive calendar days, UTC (the distribution widens it to whole periods).
    period
        ``week`` (default) or ``month``: the period whose active days are counted.
    filters
        Which events make a user active.
    """

    date_range: DateRange
    period: Period = Period.WEEK
    filters: EventFilter | None = None

    def __post_init__(self) -> None:
        try:
            period = Period(self.period)
        except ValueError as exc:
            raise AnalyticsQueryError(f"{exc}; stickiness periods are 'week' and 'month'") from exc
        if period is Period.DAY:
            raise AnalyticsQueryError("stickiness counts active days per week or month: use period='week' or 'month'")
        object.__setattr__(self, "period", period)

    @property
    def covered(self) -> DateRange:
        """The date range widened to the whole periods it touches."""
        starts = period_starts(self.date_range, self.period)
        return DateRange(starts[0], period_next(starts[-1], self.period) - timedelta(days=1))


class _Plan:
    def __init__(self, con: Any, query: StickinessQuery) -> None:
        self.q = query
        events, _ = tables(con)
        self.stream = query.filters.apply(events) if query.filters else events
        self.starts = period_starts(query.date_range, query.period)

    def ratio(self) -> ir.Table:
        r = self.q.date_range
        days = [r.start + timedelta(days=i) for i in range((r.end - r.start).days + 1)]
        cal = ibis.memtable(
            {"period": [_midnight(d) for d in days], "target": [_midnight(d) for d in days]},
            schema={"period": "timestamp", "target": "timestamp"},
        )
        # every user-day of the shared scan, unfiltered (so both views read one expression): a day
        # before the range's 29-day look-back or after its end cannot change a count on a range day
        c = rolling_from_days(self.user_days(), cal, {"dau": 1, "wau": 7, "mau": 30})  # no breakdown
        g = c.select(c_p=c.period, **{n: c[n].cast("int64") for n in ("dau", "wau", "mau")})
        base = cal.select("period")
        out = base.left_join(g, base.period == g.c_p).drop("c_p")
        counts = {n: out[n].fill_null(0) for n in ("dau", "wau", "mau")}
        ratio = ibis.ifelse(counts["mau"] > 0, counts["dau"].cast("float64") / counts["mau"], ibis.null())
        out = out.select(day=out.period.cast("date"), **counts, dau_mau=ratio.cast("float64"))
        return out.order_by("day")

    def user_days(self) -> ir.Table:
        """Distinct ``(user_id, day)`` over everything the ratio and the distribution read (one scan)."""
        r, cov = self.q.date_range, self.q.covered
        lo = _midnight(min(r.start - timedelta(days=29), cov.start))
        hi = max(r.end_ts, cov.end_ts)
        s = self.stream.filter((self.stream.ts >= ibis.literal(lo)) & (self.stream.ts < ibis.literal(hi)))
        return s.select("user_id", day=truncate(s.ts, Period.DAY)).distinct()

    def days_per_user(self) -> ir.Table:
        """``(period, user_id, days)``: distinct active days of each user in each whole period."""
        d = self.user_days()  # days outside the covered periods fall in periods the grid leaves out
        d = d.mutate(period=truncate(d.day, self.q.period))
        return d.group_by("period", "user_id").agg(days=d.day.count())

    def distribution(self) -> ir.Table:
        periods, ks = [], []
        for p in self.starts:
            length = (period_next(p, self.q.period) - p).days
            periods += [_midnight(p)] * length
            ks += list(range(1, length + 1))
        grid = ibis.memtable({"period": periods, "days": ks}, schema={"period": "timestamp", "days": "int64"})
        per_user = self.days_per_user()
        g = per_user.group_by("period", "days").agg(users=per_user.user_id.count())
        g = g.rename(g_period="period", g_days="days")
        j = grid.left_join(g, (grid.period == g.g_period) & (grid.days == g.g_days))
        j = j.select("period", "days", users=j.users.fill_null(0))
        total = j.users.sum().over(ibis.window(group_by="period"))
        share = ibis.ifelse(total > 0, j.users.cast("float64") / total, ibis.null()).cast("float64")
        out = j.select(period=j.period.cast("date"), days=j.days, users=j.users, share=share)
        return out.order_by("period", "days")


@dataclass(frozen=True, eq=False)
class StickinessResult:
    """``ratio``: ``day, dau, wau, mau, dau_mau``; ``distribution``: ``period, days, users, share``."""

    query: StickinessQuery
    ratio: pd.DataFrame
    distribution: pd.DataFrame

    @property
    def covered(self) -> DateRange:
        """The whole periods the distribution covers."""
        return self.query.covered

    def actors(self, con: Any, period_start: date, days: int | None = None) -> list[str]:
        """Sorted ids of the users active on exactly ``days`` days of the period
        (every active user of the period when ``days`` is None)."""
        p = date(period_start.year, period_start.month, period_start.day)
        if p not in period_starts(self.query.date_range, self.query.period):
            raise AnalyticsQueryError(
                f"{p} does not start a {self.query.period.value} of {self.query.date_range.start}.."
                f"{self.query.date_range.end}"
            )
        rows = _Plan(con, self.query).days_per_user()
        rows = rows.filter(rows.period == ibis.literal(_midnight(p)))
        if days is not None:
            rows = rows.filter(rows.days == int(days))
        return sorted_ids(rows.user_id)


def run_stickiness(con: Any, query: StickinessQuery) -> StickinessResult:
    """DAU/MAU per day, and the distribution of active days per user per week or month.

    Parameters
    ----------
    con
        Ibis backend with the canonical ``events`` table, e.g. ``store.ibis()``.
    query
        See :class:`StickinessQuery` and the module docstring.

    Returns
    -------
    StickinessResult

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> st = open_store(Settings(db=":memory:"))
    >>> st.execute(
    ...     "INSERT INTO events (event_id, user_id, ts, event_type) VALUES "
    ...     "('e1', 'u1', '2025-01-06 09:00', 'view'), ('e2', 'u1', '2025-01-08 09:00', 'view')"
    ... )
    >>> res = run_stickiness(st.ibis(), StickinessQuery(DateRange.parse("2025-01-06", "2025-01-12")))
    >>> res.distribution.loc[res.distribution["users"] > 0, ["days", "users"]].values.tolist()
    [[2, 1]]
    >>> res.ratio["dau_mau"].tolist()[:3]
    [1.0, 0.0, 1.0]
    >>> res.actors(st.ibis(), date(2025, 1, 6), days=2)
    ['u1']
    """
    plan = _Plan(con, query)
    # One statement for both views, as a union: they share the distinct (user, day) pairs, so
    # the engine scans the events once (a common table expression) instead of twice.
    r, d = plan.ratio(), plan.distribution()
    cols = {"day": "date", "a": "int64", "b": "int64", "c": "int64", "x": "float64"}

    def typed(t: ir.Table) -> ir.Table:
        return t.select("part", **{k: t[k].cast(v) for k, v in cols.items()})

    both = ibis.union(
        typed(r.select(part=ibis.literal("ratio"), day=r.day, a=r.dau, b=r.wau, c=r.mau, x=r.dau_mau)),
        typed(d.select(part=ibis.literal("dist"), day=d.period, a=d.days, b=d.users, c=ibis.literal(0), x=d.share)),
    )
    frame = both.execute()
    rr = frame[frame["part"] == "ratio"].sort_values("day")
    dd = frame[frame["part"] == "dist"].sort_values(["day", "a"])
    ratio = pd.DataFrame(
        {"day": rr["day"], "dau": rr["a"], "wau": rr["b"], "mau": rr["c"], "dau_mau": rr["x"]}
    ).reset_index(drop=True)
    distribution = pd.DataFrame({"period": dd["day"], "days": dd["a"], "users": dd["b"], "share": dd["x"]}).reset_index(
        drop=True
    )
    log.debug("stickiness: %d days, %d distribution rows", len(ratio), len(distribution))
    return StickinessResult(query=query, ratio=ratio, distribution=distribution)
