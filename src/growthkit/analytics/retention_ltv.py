"""The LTV curve: cumulative net revenue per cohort user, by period since the cohort event.

Cohorts are users by their *first* start event (default: their first event of any kind, i.e.
"first seen", as Amplitude's revenue LTV chart does for new users), with the same periods,
windows, breakdown and ``as_of`` rules as :mod:`growthkit.analytics.retention`. Revenue is the
``amount`` of ``purchase`` events minus the ``amount`` of ``refund`` events (refunds are
separate events with a positive amount), counted from the cohort event on (the first purchase
itself counts when it is the cohort event).

``ltv`` of cohort *c* at period *N* = (net revenue in periods ``0..N`` of the users of *c* whose
period N has fully elapsed at ``as_of``) / (number of those users). Restricting both sides to
the same *eligible* users keeps the curve from sagging at its young end, where the latest
users have not had the time to buy yet.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from growthkit.analytics._common import AnalyticsQueryError, Breakdown, DateRange, EventFilter, Period, sorted_ids
from growthkit.analytics.retention_core import (
    CohortSpec,
    Frame,
    Windows,
    build_frame,
    cell_filter,
    check_periods,
    coerce_period,
    cohort_index_of,
    cohort_indexes,
    count_reaching,
    jsonable,
    period_start_py,
    periods_table,
    ratio,
    resolve_as_of,
)

__all__ = ["LtvCurveResult", "LtvPoint", "LtvQuery", "run_ltv_curve"]

logger = logging.getLogger(__name__)

REVENUE_EVENTS = EventFilter(("purchase", "refund"))
"""The events whose ``amount`` makes revenue (refunds subtract)."""


@dataclass(frozen=True)
class LtvQuery:
    """Cohort LTV curve: cumulative net revenue per user through period ``0..periods``.

    ``start_event`` defines the cohort by each user's *first* matching event (default: any
    event). ``as_of`` (UTC; ``None`` = just after the latest event) ends observation.
    """

    date_range: DateRange
    start_event: EventFilter = field(default_factory=EventFilter)
    period: Period = Period.DAY
    periods: int = 30
    windows: Windows = "calendar"
    breakdown: Breakdown | None = None
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "period", coerce_period(self.period))
        self.spec()

    def spec(self, periods: int | None = None) -> CohortSpec:
        """The cohort definition of this query (internal)."""
        n = self.periods if periods is None else periods
        return CohortSpec(self.start_event, self.date_range, self.period, n, "first", self.windows, self.breakdown)


@dataclass(frozen=True)
class LtvPoint:
    """One cohort (``None`` in :meth:`LtvCurveResult.curve`: all cohorts pooled) at period N.

    ``eligible``: cohort users whose period N had fully elapsed; ``revenue``: their net revenue
    in periods ``0..N``; ``ltv = revenue / eligible`` (``None`` when nobody is eligible).
    """

    breakdown: str | None
    cohort: date | None
    period: int
    cohort_size: int
    eligible: int
    revenue: float
    ltv: float | None


@dataclass(frozen=True)
class LtvCurveResult:
    """LTV points for every cohort overlapping the date range and periods ``0..periods``."""

    query: LtvQuery
    as_of: datetime
    points: tuple[LtvPoint, ...]

    def curve(self, breakdown: str | None = None) -> tuple[LtvPoint, ...]:
        """All cohorts pooled per period: summed revenue over summed eligible users."""
        out = []
        for n in range(self.query.periods + 1):
            ps = [p for p in self.points if p.period == n and p.breakdown == breakdown]
            size, elig = sum(p.cohort_size for p in ps), sum(p.eligible for p in ps)
            revenue = sum(p.revenue for p in ps)
            out.append(LtvPoint(breakdown, None, n, size, elig, revenue, ratio(revenue, elig)))
        return tuple(out)

    def to_frame(self) -> pd.DataFrame:
        """One row per point, every field a column."""
        cols = list(LtvPoint.__dataclass_fields__)
        return pd.DataFrame([[getattr(p, c) for c in cols] for p in self.points], columns=cols)

    def matrix(self, breakdown: str | None = None) -> pd.DataFrame:
        """Cohorts x periods of ``ltv``."""
        df = self.to_frame()
        df = df[df["breakdown"].isna()] if breakdown is None else df[df["breakdown"] == breakdown]
        return df.pivot(index="cohort", columns="period", values="ltv")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: the query, ``as_of`` and the points."""
        return {"query": jsonable(self.query), "as_of": self.as_of.isoformat(), "points": jsonable(list(self.points))}

    def actors(self, con: Any, cohort: date, period: int, breakdown: str | None = None) -> list[str]:
        """Sorted ids of the eligible users whose revenue one point averages."""
        check_periods(period, "period")
        if period > self.query.periods:
            raise AnalyticsQueryError(f"period {period} is beyond this result's {self.query.periods} periods")
        frame = build_frame(con, self.query.spec(period), REVENUE_EVENTS, self.as_of, bounded=True)
        e = cell_filter(frame.entries, frame.keys, cohort_index_of(cohort, self.query.period), breakdown)
        return sorted_ids(e.filter(e.max_elig >= period).user_id)


def _points_table(frame: Frame, periods: int) -> ir.Table:
    keys = list(frame.keys)
    e, r = frame.entries, frame.returns
    wanted = range(periods + 1)
    ks = periods_table(wanted)
    grid = e.group_by(keys).aggregate(cohort_size=e.count()).cross_join(ks)
    elig = count_reaching(e, keys, "max_elig", wanted, "eligible")
    # revenue of period n counts towards every reported k with n <= k <= max_elig
    per_period = r.group_by([*keys, "max_elig", "period"]).aggregate(v=r.value.sum())
    ks2 = periods_table(wanted)
    spread = per_period.join(ks2, (per_period.period <= ks2.k) & (per_period.max_elig >= ks2.k))
    cum = spread.group_by([*keys, "k"]).aggregate(revenue=spread.v.sum())
    out = grid
    for part in (elig, cum):
        out = out.left_join(part, [*keys, "k"]).drop(*[f"{k}_right" for k in [*keys, "k"]])
    return out


def run_ltv_curve(con: Any, query: LtvQuery) -> LtvCurveResult:
    """Cumulative net revenue per cohort user, by period since the cohort event.

    Parameters
    ----------
    con
        Ibis backend with the canonical ``events`` and ``users`` tables (``store.ibis()``).
    query
        Cohorts, periods and observation end; see :class:`LtvQuery`.

    Returns
    -------
    LtvCurveResult
        One :class:`LtvPoint` per cohort and period; :meth:`LtvCurveResult.curve` pools cohorts.

    Examples
    --------
    >>> from datetime import date
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES "
    ...               "('1', 'ann', '2025-03-03 09:00', 'purchase', 30),"
    ...               "('2', 'ann', '2025-03-04 20:00', 'refund', 10),"
    ...               "('3', 'bob', '2025-03-03 23:00', 'signup', NULL)")
    >>> q = LtvQuery(DateRange(date(2025, 3, 3), date(2025, 3, 3)), periods=1, as_of=datetime(2025, 3, 6))
    >>> [(p.period, p.eligible, p.revenue, p.ltv) for p in run_ltv_curve(store.ibis(), q).points]
    [(0, 2, 30.0, 15.0), (1, 2, 20.0, 10.0)]
    """
    as_of = resolve_as_of(con, query.as_of)
    frame = build_frame(con, query.spec(), REVENUE_EVENTS, as_of, bounded=True)
    df = _points_table(frame, query.periods).execute()
    has_bd = query.breakdown is not None
    found = {}
    for row in df.to_dict("records"):
        bd = str(row["breakdown"]) if has_bd else None
        found[(bd, int(row["cohort"]), int(row["k"]))] = row
    bds: Sequence[str | None] = [None]
    if has_bd:
        bds = sorted({k[0] for k in found if k[0] is not None})
    points = []
    for bd in bds:
        for idx in cohort_indexes(query.date_range, query.period):
            for n in range(query.periods + 1):
                row = found.get((bd, idx, n), {})
                size = _int(row.get("cohort_size"))
                elig = _int(row.get("eligible"))
                revenue = _float(row.get("revenue"))
                label = period_start_py(idx, query.period)
                points.append(LtvPoint(bd, label, n, size, elig, revenue, ratio(revenue, elig)))
    logger.debug("ltv curve: %d points as of %s", len(points), as_of)
    return LtvCurveResult(query=query, as_of=as_of, points=tuple(points))


def _int(v: Any) -> int:
    return 0 if v is None or pd.isna(v) else int(v)


def _float(v: Any) -> float:
    return 0.0 if v is None or pd.isna(v) else float(v)
