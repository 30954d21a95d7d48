"""Use cases for the growth insights: run one on a store, and name the users behind a number."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from growthkit.analytics._common import DateRange
from growthkit.analytics.aarrr import AarrrQuery, run_aarrr
from growthkit.analytics.funnel import FunnelQuery, run_funnel
from growthkit.analytics.lifecycle import LifecycleQuery, run_lifecycle
from growthkit.analytics.retention import RetentionQuery, run_retention
from growthkit.analytics.retention_ltv import LtvQuery, run_ltv_curve
from growthkit.analytics.stickiness import StickinessQuery, run_stickiness
from growthkit.analytics.trends import TrendsQuery, run_trends
from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.store import open_store
from growthkit.workflows.data import last_event_day

RUNNERS: dict[type, Callable[[Any, Any], Any]] = {
    TrendsQuery: run_trends,
    StickinessQuery: run_stickiness,
    LifecycleQuery: run_lifecycle,
    AarrrQuery: run_aarrr,
    FunnelQuery: run_funnel,
    RetentionQuery: run_retention,
    LtvQuery: run_ltv_curve,
}
"""Each query type and the insight that answers it."""


def data_range(settings: Settings, *, days: int = 28) -> DateRange:
    """The last ``days`` days that hold events (ending on the last event's day)."""
    with open_store(settings, read_only=not settings.is_memory) as store:
        end = last_event_day(store)
    return DateRange(end - timedelta(days=days - 1), end)


def run_insight(settings: Settings, query: Any) -> Any:
    """Answer ``query`` (any insight query) on the store named in ``settings``, opened read-only.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from growthkit.analytics.trends import TrendMetric
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> s = Settings(db=str(d / "shop.duckdb"))
    >>> with open_store(s) as st:
    ...     st.execute("INSERT INTO events (event_id, user_id, ts, event_type) VALUES "
    ...                "('e1', 'u1', '2025-01-06 09:00', 'view')")
    >>> q = TrendsQuery((TrendMetric("active_users"),), DateRange(date(2025, 1, 6), date(2025, 1, 6)))
    >>> run_insight(s, q).frame["value"].tolist()
    [1.0]
    """
    runner = RUNNERS.get(type(query))
    if runner is None:
        raise ConfigError(
            f"no insight answers a {type(query).__name__}; use one of {sorted(t.__name__ for t in RUNNERS)}"
        )
    with open_store(settings, read_only=not settings.is_memory) as store:
        return runner(store.ibis(), query)


def insight_actors(settings: Settings, result: Any, **cell: Any) -> list[str]:
    """The user ids behind one cell of ``result`` (see each result's ``actors``)."""
    with open_store(settings, read_only=not settings.is_memory) as store:
        ids: list[str] = result.actors(store.ibis(), **cell)
    return ids
