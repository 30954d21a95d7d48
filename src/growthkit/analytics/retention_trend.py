"""Day-N retention of successive cohorts: is week-1 retention of newer cohorts getting better?

The cells are those of one column of the :func:`~growthkit.analytics.retention.run_retention`
matrix, with the same definitions (``docs/analytics/retention.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import pandas as pd

from growthkit.analytics.retention import RetentionCell, RetentionQuery, _compute, _frame_of, retention_actors
from growthkit.analytics.retention_core import check_periods, jsonable

__all__ = ["RetentionTrendResult", "run_retention_trend"]


@dataclass(frozen=True)
class RetentionTrendResult:
    """Period-``day_n`` retention of each successive cohort (one :class:`RetentionCell` each)."""

    query: RetentionQuery
    day_n: int
    as_of: datetime
    points: tuple[RetentionCell, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per cohort (and breakdown value)."""
        return _frame_of(self.points)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: the query, ``day_n``, ``as_of`` and the points."""
        return {
            "query": jsonable(self.query),
            "day_n": self.day_n,
            "as_of": self.as_of.isoformat(),
            "points": jsonable(list(self.points)),
        }

    def actors(self, con: Any, cohort: date, returned: bool = True, breakdown: str | None = None) -> list[str]:
        """Sorted user ids of one cohort who returned in period ``day_n`` (or did not)."""
        return retention_actors(con, self.query, self.as_of, cohort, self.day_n, returned, breakdown)


def run_retention_trend(con: Any, query: RetentionQuery, day_n: int) -> RetentionTrendResult:
    """Period-``day_n`` retention of successive cohorts (is day-7 retention getting better?).

    ``query.periods`` is ignored; periods are the query's ``period`` (day, week or month).

    Examples
    --------
    >>> from datetime import date
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> from growthkit.analytics._common import DateRange, EventFilter
    >>> from growthkit.analytics.retention import RetentionQuery
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO events (event_id, user_id, ts, event_type) VALUES "
    ...               "('1', 'ann', '2025-03-03 09:00', 'view'), ('2', 'ann', '2025-03-04 20:00', 'view'),"
    ...               "('3', 'bob', '2025-03-04 10:00', 'view')")
    >>> q = RetentionQuery(EventFilter(("view",)), EventFilter(("view",)),
    ...                    DateRange(date(2025, 3, 3), date(2025, 3, 4)), as_of=datetime(2025, 3, 6))
    >>> [(p.cohort.isoformat(), p.share) for p in run_retention_trend(store.ibis(), q, 1).points]
    [('2025-03-03', 1.0), ('2025-03-04', 0.0)]
    """
    check_periods(day_n, "day_n")
    as_of, cells = _compute(con, query, [day_n])
    return RetentionTrendResult(query=replace(query, periods=day_n), day_n=day_n, as_of=as_of, points=tuple(cells))
