"""Retention: of the users who did a start event, how many came back (or spent) N periods later.

Definitions (``docs/analytics/retention.md`` explains them with examples and compares with
Amplitude, Mixpanel and PostHog):

* **Cohorts.** ``cohort="first"``: each user belongs to the cohort of their *first ever* start
  event (first occurrence before ``as_of``, also before the date range); only users whose first
  start event lies inside the date range are counted (Amplitude "new users", PostHog
  "first time"). ``cohort="recurring"``: every period in which a user did the start event inside
  the date range puts them in that period's cohort (PostHog and Mixpanel "recurring").
  The cohort event (the anchor) is the earliest start event of the cohort's period; ties on the
  timestamp are broken by ``event_id``.
* **Periods.** ``windows="calendar"``: period N is the Nth UTC day / ISO week / month after the
  cohort's. ``windows="rolling"``: period N is ``[anchor + N*W, anchor + (N+1)*W)`` with
  ``W`` = 24 h, 7 x 24 h or 30 x 24 h (Amplitude's "24-hour windows").
* **Returns** are return events at or after the anchor (same instant included, and the anchor
  itself when it matches the return filter, so period 0 is 100 % when both filters are equal,
  as in Amplitude and PostHog). ``mode="exact"``: a return in period N; ``mode="unbounded"``:
  a return in period N or any later period observed (Amplitude's "return on or after").
* **Observation.** ``as_of`` (exclusive, UTC) ends observation: later events are ignored. By
  default it is just after the latest event in ``events``. A cell for period N counts only the
  users whose period N has fully elapsed at ``as_of`` (``eligible``); its share is
  ``returned / eligible`` and is ``None`` when nobody is eligible yet.
* **Revenue** (``measure="revenue"``, exact mode only): the amounts of the return events, refunds
  negative. ``revenue_share`` = revenue in period N / period-0 revenue of the same eligible users;
  ``revenue_per_user`` = revenue in period N / eligible users.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthkit.analytics._common import AnalyticsQueryError, Breakdown, DateRange, EventFilter, Period, sorted_ids
from growthkit.analytics.retention_core import (
    CohortKind,
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
    sum_reaching,
)

__all__ = [
    "RetentionCell",
    "RetentionQuery",
    "RetentionResult",
    "run_retention",
]

logger = logging.getLogger(__name__)

Mode = Literal["exact", "unbounded"]
Measure = Literal["users", "revenue"]


@dataclass(frozen=True)
class RetentionQuery:
    """A retention question (see the module docstring for every definition).

    ``periods`` is the last period number reported: ``periods=7`` gives periods 0 to 7.
    ``as_of`` (UTC; aware values are converted) ends observation; ``None`` = just after the
    latest event.
    """

    start_event: EventFilter
    return_event: EventFilter
    date_range: DateRange
    period: Period = Period.DAY
    periods: int = 7
    cohort: CohortKind = "first"
    mode: Mode = "exact"
    windows: Windows = "calendar"
    measure: Measure = "users"
    breakdown: Breakdown | None = None
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "period", coerce_period(self.period))
        if self.mode not in ("exact", "unbounded"):
            raise AnalyticsQueryError(f"mode must be 'exact' or 'unbounded', not {self.mode!r}")
        if self.measure not in ("users", "revenue"):
            raise AnalyticsQueryError(f"measure must be 'users' or 'revenue', not {self.measure!r}")
        if self.measure == "revenue" and self.mode == "unbounded":
            raise AnalyticsQueryError(
                "revenue is measured per period: use mode='exact' (or run_ltv_curve for cumulative revenue)"
            )
        self.spec()  # validates cohort, windows and periods

    def spec(self, periods: int | None = None) -> CohortSpec:
        """The cohort definition of this query (internal)."""
        n = self.periods if periods is None else periods
        return CohortSpec(self.start_event, self.date_range, self.period, n, self.cohort, self.windows, self.breakdown)


@dataclass(frozen=True)
class RetentionCell:
    """One cohort (or, in :meth:`RetentionResult.curve`, all cohorts: ``cohort=None``) at period N.

    ``cohort_size``: users in the cohort. ``eligible``: those whose period N had fully elapsed
    at ``as_of``. ``returned``: eligible users who returned in period N (exact) or in N or
    later (unbounded). ``share = returned / eligible`` (``None`` if nobody is eligible).
    Revenue fields are ``None`` unless ``measure="revenue"``: ``revenue`` of the eligible users
    in period N, ``revenue_base`` their period-0 revenue, ``revenue_share = revenue /
    revenue_base``, ``revenue_per_user = revenue / eligible``.
    """

    breakdown: str | None
    cohort: date | None
    period: int
    cohort_size: int
    eligible: int
    returned: int
    share: float | None
    revenue: float | None = None
    revenue_base: float | None = None
    revenue_share: float | None = None
    revenue_per_user: float | None = None


def _cell(
    breakdown: str | None,
    cohort: date | None,
    period: int,
    size: int,
    eligible: int,
    returned: int,
    revenue: float | None,
    base: float | None,
) -> RetentionCell:
    return RetentionCell(
        breakdown=breakdown,
        cohort=cohort,
        period=period,
        cohort_size=size,
        eligible=eligible,
        returned=returned,
        share=ratio(returned, eligible),
        revenue=revenue,
        revenue_base=base,
        revenue_share=ratio(revenue, base),
        revenue_per_user=ratio(revenue, eligible) if revenue is not None else None,
    )


def _frame_of(cells: Sequence[RetentionCell]) -> pd.DataFrame:
    cols = [f for f in RetentionCell.__dataclass_fields__]
    return pd.DataFrame([[getattr(c, f) for f in cols] for c in cells], columns=cols)


@dataclass(frozen=True)
class RetentionResult:
    """The cohort x period matrix of a :class:`RetentionQuery`, one :class:`RetentionCell` each.

    Every calendar period overlapping the date range is a cohort (empty ones have size 0), for
    each breakdown value seen; cells are ordered by breakdown, cohort, period.
    """

    query: RetentionQuery
    as_of: datetime
    cells: tuple[RetentionCell, ...]
    _index: dict[tuple[str | None, date | None, int], RetentionCell] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._index.update({(c.breakdown, c.cohort, c.period): c for c in self.cells})

    @property
    def cohorts(self) -> tuple[date, ...]:
        """Cohort labels (first day of each period), ascending."""
        return tuple(sorted({c.cohort for c in self.cells if c.cohort is not None}))

    @property
    def breakdowns(self) -> tuple[str | None, ...]:
        """Breakdown values (``(None,)`` without a breakdown)."""
        return tuple(sorted({c.breakdown for c in self.cells}, key=lambda b: (b is None, b or "")))

    def cell(self, cohort: date, period: int, breakdown: str | None = None) -> RetentionCell:
        """The cell of one cohort (named by any day of its period) and period number."""
        label = period_start_py(cohort_index_of(cohort, self.query.period), self.query.period)
        try:
            return self._index[(breakdown, label, period)]
        except KeyError:
            raise KeyError(f"no cell for cohort {label}, period {period}, breakdown {breakdown!r}") from None

    def curve(self, breakdown: str | None = None) -> tuple[RetentionCell, ...]:
        """All cohorts pooled per period (``cohort=None``): sums of counts, then ratios.

        This is the retention curve Amplitude and PostHog draw: each cohort weighs by its
        eligible users.
        """
        out = []
        for n in range(self.query.periods + 1):
            cs = [c for c in self.cells if c.period == n and c.breakdown == breakdown]
            revenue = base = None
            if self.query.measure == "revenue":
                revenue = sum(c.revenue or 0.0 for c in cs)
                base = sum(c.revenue_base or 0.0 for c in cs)
            out.append(
                _cell(
                    breakdown,
                    None,
                    n,
                    sum(c.cohort_size for c in cs),
                    sum(c.eligible for c in cs),
                    sum(c.returned for c in cs),
                    revenue,
                    base,
                )
            )
        return tuple(out)

    def to_frame(self) -> pd.DataFrame:
        """One row per cell, every field a column."""
        return _frame_of(self.cells)

    def matrix(self, breakdown: str | None = None) -> pd.DataFrame:
        """Cohorts x periods of the headline value: ``share`` (users) or ``revenue_share`` (revenue)."""
        value = "share" if self.query.measure == "users" else "revenue_share"
        df = self.to_frame()
        df = df[df["breakdown"].isna()] if breakdown is None else df[df["breakdown"] == breakdown]
        return df.pivot(index="cohort", columns="period", values=value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: the query, ``as_of`` and the cells (dates as ISO strings)."""
        return {"query": jsonable(self.query), "as_of": self.as_of.isoformat(), "cells": jsonable(list(self.cells))}

    def actors(
        self, con: Any, cohort: date, period: int, returned: bool = True, breakdown: str | None = None
    ) -> list[str]:
        """Sorted user ids behind one cell: the eligible users who returned (or did not).

        ``cohort`` is any day of the cohort's period; ``breakdown=None`` takes every value.
        ``len(actors(..., returned=True)) == cell.returned`` and ``returned=False`` gives the
        ``eligible - returned`` users who did not come back (a win-back audience).
        """
        check_periods(period, "period")
        if period > self.query.periods:
            raise AnalyticsQueryError(f"period {period} is beyond this result's {self.query.periods} periods")
        return retention_actors(con, self.query, self.as_of, cohort, period, returned, breakdown)


# ---------------------------------------------------------------- computation


def _cells_table(frame: Frame, query: RetentionQuery, wanted: Sequence[int]) -> ir.Table:
    keys = list(frame.keys)
    e, r = frame.entries, frame.returns
    grid = e.group_by(keys).aggregate(cohort_size=e.count()).cross_join(periods_table(wanted))
    parts = [count_reaching(e, keys, "max_elig", wanted, "eligible")]
    if query.mode == "exact":
        rp = r.filter((r.period <= r.max_elig) & r.period.isin(list(wanted)))
        parts.append(
            rp.group_by([*keys, rp.period.name("k")]).aggregate(returned=rp.user_id.nunique(), revenue=rp.value.sum())
        )
        if query.measure == "revenue":
            r0 = r.filter((r.period == 0) & (r.max_elig >= 0))
            per_entry = r0.group_by(["user_id", *keys, "max_elig"]).aggregate(v0=r0.value.sum())
            parts.append(sum_reaching(per_entry, keys, "max_elig", "v0", wanted, "revenue_base"))
    else:
        last = r.group_by(["user_id", *keys]).aggregate(last=r.period.max())
        reach = e.join(last, ["user_id", *keys]).mutate(reach=ibis.least(ibis._.last, ibis._.max_elig))
        parts.append(count_reaching(reach, keys, "reach", wanted, "returned"))
    out = grid
    for part in parts:
        out = out.left_join(part, [*keys, "k"]).drop(*[f"{k}_right" for k in [*keys, "k"]])
    return out


def _compute(con: Any, query: RetentionQuery, wanted: Sequence[int]) -> tuple[datetime, list[RetentionCell]]:
    as_of = resolve_as_of(con, query.as_of)
    frame = build_frame(con, query.spec(max(wanted)), query.return_event, as_of, bounded=query.mode == "exact")
    df = _cells_table(frame, query, wanted).execute()
    has_bd = query.breakdown is not None
    found: dict[tuple[str | None, int, int], dict[str, Any]] = {}
    for row in df.to_dict("records"):
        bd = str(row["breakdown"]) if has_bd else None
        found[(bd, int(row["cohort"]), int(row["k"]))] = row
    bds: Sequence[str | None] = [None]
    if has_bd:
        bds = sorted({k[0] for k in found if k[0] is not None})

    def num(row: dict[str, Any], col: str) -> float | None:
        v = row.get(col)
        return None if v is None or pd.isna(v) else float(v)

    revenue_on = query.measure == "revenue"
    cells = []
    for bd in bds:
        for idx in cohort_indexes(query.date_range, query.period):
            label = period_start_py(idx, query.period)
            for n in wanted:
                row = found.get((bd, idx, n), {})
                cells.append(
                    _cell(
                        bd,
                        label,
                        n,
                        int(num(row, "cohort_size") or 0),
                        int(num(row, "eligible") or 0),
                        int(num(row, "returned") or 0),
                        (num(row, "revenue") or 0.0) if revenue_on else None,
                        (num(row, "revenue_base") or 0.0) if revenue_on else None,
                    )
                )
    logger.debug("retention: %d cells as of %s", len(cells), as_of)
    return as_of, cells


def run_retention(con: Any, query: RetentionQuery) -> RetentionResult:
    """Cohort x period retention matrix.

    Parameters
    ----------
    con
        Ibis backend with the canonical ``events`` and ``users`` tables (``store.ibis()``).
    query
        What to measure; see :class:`RetentionQuery`.

    Returns
    -------
    RetentionResult
        Cells for every cohort overlapping the date range and periods ``0..query.periods``.

    Examples
    --------
    >>> from datetime import date
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> from growthkit.analytics._common import DateRange, EventFilter
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO events (event_id, user_id, ts, event_type) VALUES "
    ...               "('1', 'ann', '2025-03-03 09:00', 'signup'), ('2', 'ann', '2025-03-04 20:00', 'view'),"
    ...               "('3', 'bob', '2025-03-03 23:00', 'signup')")
    >>> q = RetentionQuery(EventFilter(("signup",)), EventFilter(("view",)),
    ...                    DateRange(date(2025, 3, 3), date(2025, 3, 3)), periods=1,
    ...                    as_of=datetime(2025, 3, 6))
    >>> cell = run_retention(store.ibis(), q).cell(date(2025, 3, 3), 1)
    >>> (cell.cohort_size, cell.eligible, cell.returned, cell.share)
    (2, 2, 1, 0.5)
    """
    as_of, cells = _compute(con, query, range(query.periods + 1))
    return RetentionResult(query=query, as_of=as_of, cells=tuple(cells))


def retention_actors(
    con: Any, query: RetentionQuery, as_of: datetime, cohort: date, period: int, returned: bool, breakdown: str | None
) -> list[str]:
    """Users behind one retention cell (see :meth:`RetentionResult.actors`)."""
    frame = build_frame(con, query.spec(period), query.return_event, as_of, bounded=query.mode == "exact")
    idx = cohort_index_of(cohort, query.period)
    e = cell_filter(frame.entries, frame.keys, idx, breakdown)
    e = e.filter(e.max_elig >= period)
    r = cell_filter(frame.returns, frame.keys, idx, breakdown)
    r = r.filter(r.period == period) if query.mode == "exact" else r.filter(r.period >= period)
    came_back = r.select(_u=r.user_id)
    hit = (
        e.semi_join(came_back, e.user_id == came_back._u)
        if returned
        else e.anti_join(came_back, e.user_id == came_back._u)
    )
    return sorted_ids(hit.user_id)
