"""Use case: the self-contained HTML growth report of a store.

Opens the store read-only, runs every insight of :mod:`growthkit.analytics`
over one date range (by default the last eight weeks of data, starting on a
Monday), turns the results into sections with :mod:`growthkit.report` and
writes one HTML file that opens offline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from growthkit.analytics._common import Breakdown, DateRange, EventFilter, Period, period_floor
from growthkit.analytics.aarrr import AarrrQuery, AarrrResult, run_aarrr
from growthkit.analytics.funnel import FunnelQuery, FunnelResult, run_funnel
from growthkit.analytics.funnel import FunnelStep as FunnelEvent
from growthkit.analytics.lifecycle import LifecycleQuery, LifecycleResult, run_lifecycle
from growthkit.analytics.retention import RetentionQuery, RetentionResult, run_retention
from growthkit.analytics.retention_ltv import LtvCurveResult, LtvQuery, run_ltv_curve
from growthkit.analytics.stickiness import StickinessQuery, StickinessResult, run_stickiness
from growthkit.analytics.trends import TrendMetric, TrendsQuery, TrendsResult, run_trends
from growthkit.config import Settings
from growthkit.errors import ConfigError, GrowthkitError
from growthkit.models.clv import HoldoutCheck
from growthkit.store import Store, open_store
from growthkit.workflows.churn_report import ChurnReport, read_churn_report
from growthkit.workflows.clv import read_holdout
from growthkit.workflows.data import last_event_day
from growthkit.workflows.experiments import DEFAULT_METRICS, analyze_in_store
from growthkit.workflows.recommend import RecommendReport, read_recommend_report
from growthkit.workflows.segments import SavedSegmentation, read_segment_profiles

log = logging.getLogger(__name__)

DEFAULT_WEEKS = 8
FUNNEL_STEPS: tuple[str, ...] = ("view", "cart", "purchase")
FUNNEL_WINDOW = timedelta(days=7)


KPI_METRICS: tuple[str, ...] = ("new_users", "dau", "orders", "gross_revenue", "net_revenue", "purchasers")
"""The daily trends metrics the report's KPI tiles and trend lines are made of."""

MAX_EXPERIMENTS = 3
"""The report analyses at most this many experiments (those with the latest first exposure)."""


@dataclass(frozen=True)
class ReportData:
    """Everything the HTML report shows, computed from one store for one date range."""

    store: str
    current: DateRange
    previous: DateRange | None
    """The equally long range just before ``current``, when the data reaches back that far."""
    generated: datetime
    currency: str
    notes: tuple[str, ...]
    daily: TrendsResult
    stickiness: StickinessResult
    funnel: FunnelResult
    retention: RetentionResult
    ltv: LtvCurveResult
    aarrr: AarrrResult
    lifecycle: LifecycleResult
    experiments: tuple[dict[str, Any], ...] = ()
    """Analyses (:func:`~growthkit.workflows.experiments.analyze_experiment` results, default metrics) of
    the experiments in the store that have exposures, most recent first exposure first; empty when none."""
    experiment_notes: tuple[str, ...] = ()
    """Experiments that could not be analysed, and why."""
    clv: HoldoutCheck | None = None
    """The CLV holdout check saved by ``growthkit clv score --holdout-days N``; None when there is none."""
    churn: tuple[ChurnReport, ...] = ()
    """The churn and propensity scores saved by ``growthkit predict churn|purchase``; empty when there are none."""
    segments: tuple[SavedSegmentation, ...] = ()
    """The segmentations saved by ``growthkit segment rfm|cluster`` (``segment_profiles``); empty when none."""
    recommend: RecommendReport | None = None
    """The recommendations saved by ``growthkit recommend train`` (and their evaluation); None when none."""


def report_range(
    store: Store, start: date | None = None, end: date | None = None, weeks: int = DEFAULT_WEEKS
) -> DateRange:
    """The report's days: ``end`` defaults to the last day with events, ``start`` to the Monday
    ``weeks`` weeks before it (so weekly charts start with a whole week)."""
    if weeks < 1:
        raise ConfigError(f"weeks must be at least 1, got {weeks}")
    if end is None:
        end = last_event_day(store)
    if start is None:
        start = period_floor(end - timedelta(days=7 * weeks - 1), Period.WEEK)
    return DateRange(start, end)


def _currency(store: Store, rng: DateRange) -> tuple[str, str | None]:
    """The main currency of the range's purchases and refunds, and a note when several are mixed."""
    rows = store.query(
        "SELECT upper(currency) AS c, count(*) AS n FROM events WHERE event_type IN ('purchase', 'refund') "
        "AND currency IS NOT NULL AND ts >= ? AND ts < ? GROUP BY 1 ORDER BY n DESC, c",
        [rng.start_ts, rng.end_ts],
    ).to_pylist()
    if not rows:
        return "", None
    total = sum(int(r["n"]) for r in rows)
    main = str(rows[0]["c"])
    if len(rows) == 1:
        return main, None
    mix = ", ".join(f"{r['c']} {int(r['n']) / total:.0%}" for r in rows[:4])
    return main, f"Purchases in several currencies ({mix}); amounts are summed as recorded, shown as {main}."


def _first_day(store: Store) -> date | None:
    first = store.scalar("SELECT min(ts) FROM events")
    return first.date() if isinstance(first, datetime) else None


def _insights(con: Any, current: DateRange, previous: DateRange | None) -> dict[str, Any]:
    days = (current.end - current.start).days + 1
    later = max(1, min(days // 7 - 1, 12))  # weeks after the first one that the oldest cohort can fill
    span = DateRange(previous.start, current.end) if previous else current
    steps = tuple(FunnelEvent(s) for s in FUNNEL_STEPS)
    return {
        "daily": run_trends(con, TrendsQuery(tuple(TrendMetric(m) for m in KPI_METRICS), span, period=Period.DAY)),
        "stickiness": run_stickiness(con, StickinessQuery(current)),
        "funnel": run_funnel(con, FunnelQuery(steps, current, FUNNEL_WINDOW)),
        "retention": run_retention(
            con, RetentionQuery(EventFilter(), EventFilter(), current, period=Period.WEEK, periods=later)
        ),
        "ltv": run_ltv_curve(
            con, LtvQuery(current, period=Period.DAY, periods=max(days // 2, 1), breakdown=Breakdown("user.channel"))
        ),
        "aarrr": run_aarrr(con, AarrrQuery(current)),
        "lifecycle": run_lifecycle(con, LifecycleQuery(current, period=Period.WEEK)),
    }


def _experiments(store: Store, notes: list[str]) -> tuple[dict[str, Any], ...]:
    """Analyse the (at most :data:`MAX_EXPERIMENTS`) most recently started experiments with exposures.

    An experiment that cannot be analysed is left out with a note (the others are still shown).
    """
    if "exposures" not in store.tables():
        return ()
    keys = [
        str(r["experiment"])
        for r in store.query(
            "SELECT experiment, min(ts) AS first FROM exposures GROUP BY 1 ORDER BY first DESC, experiment LIMIT ?",
            [MAX_EXPERIMENTS],
        ).to_pylist()
    ]
    out = []
    for key in keys:
        try:
            out.append(analyze_in_store(store, key, DEFAULT_METRICS))
        except GrowthkitError as exc:
            log.warning("report: experiment %s not analysed: %s", key, exc)
            notes.append(f"Experiment {key} could not be analysed: {exc}")
    return tuple(out)


def gather_report(
    settings: Settings,
    *,
    start: date | None = None,
    end: date | None = None,
    weeks: int = DEFAULT_WEEKS,
    now: datetime | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> ReportData:
    """Compute every insight the HTML report shows, for the store named in ``settings``.

    ``growthkit.report.write_report`` turns the result into the page.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> s = Settings(db=str(d / "shop.duckdb"))
    >>> with open_store(s) as st:
    ...     st.execute("INSERT INTO events (event_id, user_id, ts, event_type, amount, currency) VALUES "
    ...                "('e1', 'u1', '2025-01-06 09:00', 'view', NULL, NULL), "
    ...                "('e2', 'u1', '2025-01-06 09:05', 'purchase', 20.0, 'CNY')")
    >>> data = gather_report(s)
    >>> data.current.start.isoformat(), data.currency
    ('2024-11-11', 'CNY')
    """
    tick = progress or (lambda what, frac: None)
    with open_store(settings, read_only=not settings.is_memory) as store:
        rng = report_range(store, start, end, weeks)
        currency, mixed = _currency(store, rng)
        length = timedelta(days=(rng.end - rng.start).days + 1)
        first = _first_day(store)
        prev = DateRange(rng.start - length, rng.start - timedelta(days=1))
        previous = prev if first is not None and first <= prev.start else None
        notes = [mixed] if mixed else []
        if not currency:
            notes.append("No currency recorded on purchases; amounts are shown as plain numbers.")
        tick("computing the insights", 0.1)
        t0 = time.perf_counter()
        results = _insights(store.ibis(), rng, previous)
        log.info("report insights computed in %.2f s", time.perf_counter() - t0)
        tick("analysing experiments", 0.8)
        experiment_notes: list[str] = []
        experiments = _experiments(store, experiment_notes)
        clv = read_holdout(store)
        churn = read_churn_report(store)
        segments = read_segment_profiles(store)
        recommend = read_recommend_report(store)
    return ReportData(
        store=str(settings.db),
        current=rng,
        previous=previous,
        generated=(now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None),
        currency=currency,
        notes=tuple(notes),
        **results,
        experiments=experiments,
        experiment_notes=tuple(experiment_notes),
        clv=clv,
        churn=churn,
        segments=segments,
        recommend=recommend,
    )
