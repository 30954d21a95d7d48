"""Funnels: how many users go from a first step through later steps, and how fast.

Exact semantics (all times UTC; ``docs/analytics/funnel.md`` has the long form):

* **Attempt.** An attempt starts with an event in ``date_range`` (a step-0 event; in
  unordered funnels any step's event) at ``t0``. Later steps count only inside the
  conversion window ``[t0, t0 + window]`` (both ends included), even past the range's end.
  Events before the range never count.
* **Which attempt counts** (like PostHog and Amplitude): every first-step occurrence
  in the range is tried; the user is credited with the attempt that reaches the furthest
  step, and among those the earliest. Taking the first occurrence only (as a naive funnel
  does) would count users who failed once and converted on a later visit as dropped.
* **Ordered** (default): steps in order, other events may happen in between. Step ``k``
  is reached when some step-``k`` event follows a step-``k - 1`` event that itself was
  reachable; ``step_windows[k - 1]`` additionally bounds the time between the two. The
  earliest such event is credited (its time, its breakdown value).
* **Strict** (PostHog's "strict order", Amplitude's "exact order"): step ``k`` must be
  the user's very next event of *any* type after step ``k - 1``; any intervening event,
  even one that is no step, breaks the attempt there.
* **Unordered** (Amplitude's "any order"): step ``k`` is reached when each of steps
  ``0..k`` happens in the window, in any order; the attempt's first event must be one of
  them. (PostHog's unordered funnel counts *any* ``k + 1`` steps instead; growthkit keeps
  step ``k`` tied to named steps so that "dropped at step k" names one missing action.)
  An event matching several steps counts for each of them; a step may not repeat.
* **Same timestamp.** Within a user, events are ordered by time, then by the first step
  they match (events matching no step come last), then the last step they match, then
  ``event_id`` (Mixpanel's rule: ties count in funnel order). One event fulfils one step,
  so ``view -> view`` needs two views.
* **Exclusions.** An exclusion event voids an attempt when it happens strictly after the
  attempt reached ``from_step`` and strictly before it reached ``to_step`` (or, if it
  never did, until the window ends). At the same timestamp as either step it does not
  void. Voided attempts are dropped; the user counts through another attempt, or not at
  all (PostHog: "excluded from the funnel").
* **Breakdown and attribution.** Each user is attributed to one breakdown value: that of
  the attempt's first event (``first_touch``) or of the event that reached the user's
  furthest step (``last_touch``, PostHog's "last touchpoint"). Rows therefore add up to
  the total. User columns (``user.city_tier``) are the same either way.
* **Numbers.** ``count[k]`` users reached step ``k``; conversion from first is
  ``count[k] / count[0]``, from previous ``count[k] / count[k - 1]`` (0.0 when dividing by
  zero). Time to convert is measured from ``t0`` to when step ``k`` was reached (median,
  and a histogram); from previous, between the two steps' credited events (unordered:
  when steps ``0..k-1`` and ``0..k`` were complete).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from growthkit.analytics import funnel_engine as engine
from growthkit.analytics._common import AnalyticsQueryError, sorted_ids
from growthkit.analytics.funnel_query import FunnelExclusion, FunnelOrder, FunnelQuery, FunnelStep

__all__ = [
    "FunnelExclusion",
    "FunnelOrder",
    "FunnelQuery",
    "FunnelResult",
    "FunnelSeries",
    "FunnelStep",
    "FunnelStepStats",
    "run_funnel",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FunnelStepStats:
    """One step of a funnel (overall or for one breakdown value).

    ``time_histogram[i]`` counts the users whose time from the first step to this step lies
    in bin ``i`` (see :attr:`FunnelResult.bin_edges_seconds`). Times are in seconds and
    ``None`` when nobody reached the step.
    """

    step: int
    name: str
    count: int
    conversion_from_first: float
    conversion_from_previous: float
    dropped: int
    median_seconds_from_first: float | None
    median_seconds_from_previous: float | None
    time_histogram: tuple[int, ...]


@dataclass(frozen=True)
class FunnelSeries:
    """The steps of one breakdown value (``breakdown=None``: all users)."""

    breakdown: str | None
    steps: tuple[FunnelStepStats, ...]

    @property
    def counts(self) -> tuple[int, ...]:
        """Users per step."""
        return tuple(s.count for s in self.steps)


@dataclass(frozen=True)
class FunnelResult:
    """What :func:`run_funnel` returns: per-step numbers overall and per breakdown value."""

    query: FunnelQuery
    steps: tuple[FunnelStepStats, ...]
    breakdowns: tuple[FunnelSeries, ...]
    bin_edges_seconds: tuple[float, ...]
    """Lower edges of the time histogram bins, starting at 0; the last bin is open."""

    @property
    def counts(self) -> tuple[int, ...]:
        """Users per step, overall."""
        return tuple(s.count for s in self.steps)

    @property
    def overall_conversion(self) -> float:
        """Share of the first step's users who reached the last step."""
        return self.steps[-1].conversion_from_first

    def series(self, breakdown: str | None = None) -> FunnelSeries:
        """The steps of one breakdown value (``None``: overall)."""
        if breakdown is None:
            return FunnelSeries(None, self.steps)
        for s in self.breakdowns:
            if s.breakdown == breakdown:
                return s
        raise AnalyticsQueryError(f"no breakdown value {breakdown!r} in this funnel")

    def to_frame(self) -> pd.DataFrame:
        """One row per (breakdown, step); ``breakdown`` is missing on the overall rows."""
        rows = []
        for series in (FunnelSeries(None, self.steps), *self.breakdowns):
            for s in series.steps:
                row: dict[str, Any] = {"breakdown": series.breakdown, "step": s.step, "name": s.name}
                row |= {
                    "count": s.count,
                    "conversion_from_first": s.conversion_from_first,
                    "conversion_from_previous": s.conversion_from_previous,
                    "dropped": s.dropped,
                    "median_seconds_from_first": s.median_seconds_from_first,
                    "median_seconds_from_previous": s.median_seconds_from_previous,
                    "time_histogram": list(s.time_histogram),
                }
                rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data."""

        def steps(ss: tuple[FunnelStepStats, ...]) -> list[dict[str, Any]]:
            return [
                {
                    "step": s.step,
                    "name": s.name,
                    "count": s.count,
                    "conversion_from_first": s.conversion_from_first,
                    "conversion_from_previous": s.conversion_from_previous,
                    "dropped": s.dropped,
                    "median_seconds_from_first": s.median_seconds_from_first,
                    "median_seconds_from_previous": s.median_seconds_from_previous,
                    "time_histogram": list(s.time_histogram),
                }
                for s in ss
            ]

        q = self.query
        return {
            "steps": steps(self.steps),
            "breakdowns": [{"breakdown": b.breakdown, "steps": steps(b.steps)} for b in self.breakdowns],
            "bin_edges_seconds": list(self.bin_edges_seconds),
            "query": {
                "steps": [s.label for s in q.steps],
                "date_range": [q.date_range.start.isoformat(), q.date_range.end.isoformat()],
                "window_seconds": q.window.total_seconds(),
                "order": q.order,
                "breakdown": q.breakdown.key if q.breakdown else None,
                "attribution": q.attribution,
            },
        }

    def actors(self, con: Any, step: int | str, dropped: bool = False, breakdown: str | None = None) -> list[str]:
        """Sorted ids of the users who reached ``step`` (or, ``dropped=True``, reached the step
        before it but not this one), optionally of one breakdown value.

        Nobody drops at the first step: ``actors(con, 0, dropped=True)`` is empty.
        """
        q = self.query
        k = q.step_index(step)
        if breakdown is not None and q.breakdown is None:
            raise AnalyticsQueryError("this funnel has no breakdown; leave breakdown=None")
        if dropped and k == 0:
            return []
        best = engine.best_attempts(con, q)
        cond = best.reached == k - 1 if dropped else best.reached >= k
        sel = best.filter(cond)
        if breakdown is not None:
            sel = sel.filter(sel.breakdown == breakdown)
        return sorted_ids(sel.user_id)


def _rate(num: int, den: int) -> float:
    return num / den if den else 0.0


def _opt(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _series(q: FunnelQuery, row: dict[str, Any] | None, n_bins: int) -> tuple[FunnelStepStats, ...]:
    """Step stats from one wide row of :func:`funnel_engine.step_stats` (``None``: nobody)."""
    r = row or {}
    counts = [int(r.get(f"n{k}", 0) or 0) for k in range(len(q.steps))]
    out = []
    for k, step in enumerate(q.steps):
        prev = counts[k - 1] if k else counts[0]
        out.append(
            FunnelStepStats(
                step=k,
                name=step.label,
                count=counts[k],
                conversion_from_first=_rate(counts[k], counts[0]),
                conversion_from_previous=_rate(counts[k], prev),
                dropped=prev - counts[k],
                median_seconds_from_first=_opt(r.get(f"mf{k}")),
                median_seconds_from_previous=_opt(r.get(f"mp{k}")),
                time_histogram=tuple(int(r.get(f"h{k}_{i}", 0) or 0) for i in range(n_bins)),
            )
        )
    return tuple(out)


def run_funnel(con: Any, query: FunnelQuery) -> FunnelResult:
    """Compute a funnel as one Ibis expression and execute it once.

    Parameters
    ----------
    con
        Ibis backend with the canonical ``events`` and ``users`` tables (``store.ibis()``).
    query
        The funnel; see :class:`FunnelQuery` and the module docstring for the semantics.

    Returns
    -------
    FunnelResult
        Per-step counts, conversion rates, median times and histograms, overall and per
        breakdown value (sorted by first-step users, most first).

    Examples
    --------
    >>> from datetime import date, timedelta
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> from growthkit.analytics._common import DateRange
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute(
    ...     "INSERT INTO events (event_id, user_id, ts, event_type) VALUES "
    ...     "('e1', 'u1', '2025-01-01 10:00', 'view'), ('e2', 'u1', '2025-01-01 10:05', 'purchase'), "
    ...     "('e3', 'u2', '2025-01-01 11:00', 'view')")
    >>> q = FunnelQuery(steps=(FunnelStep("view"), FunnelStep("purchase")),
    ...                 date_range=DateRange(date(2025, 1, 1), date(2025, 1, 1)), window=timedelta(days=1))
    >>> result = run_funnel(store.ibis(), q)
    >>> result.counts, result.overall_conversion, result.steps[1].median_seconds_from_first
    ((2, 1), 0.5, 300.0)
    >>> result.actors(store.ibis(), "purchase", dropped=True)
    ['u2']
    >>> store.close()
    """
    best = engine.best_attempts(con, query)
    df = engine.step_stats(best, query).execute()
    n_bins = len(query.bin_edges) + 1
    total: dict[str, Any] | None = None
    series = []
    for rec in df.to_dict("records"):
        if rec["breakdown"] is None or pd.isna(rec["breakdown"]):
            total = rec
        else:
            series.append(FunnelSeries(str(rec["breakdown"]), _series(query, rec, n_bins)))
    series.sort(key=lambda s: (-s.steps[0].count, s.breakdown or ""))
    edges = (0.0, *(e.total_seconds() for e in query.bin_edges))
    result = FunnelResult(query, _series(query, total, n_bins), tuple(series), edges)
    log.debug("funnel %s: %s", [s.label for s in query.steps], result.counts)
    return result
