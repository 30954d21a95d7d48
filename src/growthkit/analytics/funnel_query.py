"""The funnel query: steps, exclusions and the options of :func:`~growthkit.analytics.funnel.run_funnel`.

The semantics are documented in :mod:`growthkit.analytics.funnel` and in
``docs/analytics/funnel.md``; this module only declares and validates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise
from typing import Literal

from growthkit.analytics._common import AnalyticsQueryError, Breakdown, DateRange
from growthkit.schema import EVENTS

__all__ = ["FunnelExclusion", "FunnelOrder", "FunnelQuery", "FunnelStep", "default_bin_edges"]

FunnelOrder = Literal["ordered", "strict", "unordered"]
Attribution = Literal["first_touch", "last_touch"]

_ORDERS: tuple[str, ...] = ("ordered", "strict", "unordered")
_ATTRIBUTIONS: tuple[str, ...] = ("first_touch", "last_touch")
_PROPERTY_PREFIX = "properties."


@dataclass(frozen=True)
class FunnelStep:
    """One funnel step: an event type plus optional equality conditions.

    Parameters
    ----------
    event_type
        The event type, e.g. ``"purchase"`` (see :data:`growthkit.schema.EVENT_TYPES`).
    where
        ``(column, value)`` pairs that must all hold: an event column
        (``("channel", "ads")``) or a JSON property (``("properties.coupon_id", "c1")``,
        compared as a string).
    name
        Label shown in results; defaults to the event type plus the conditions.
    """

    event_type: str
    where: tuple[tuple[str, str], ...] = ()
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.event_type:
            raise AnalyticsQueryError("a funnel step needs an event type, e.g. FunnelStep('purchase')")
        object.__setattr__(self, "where", tuple((str(c), str(v)) for c, v in self.where))
        for col, _ in self.where:
            if col.startswith(_PROPERTY_PREFIX):
                if not col.removeprefix(_PROPERTY_PREFIX):
                    raise AnalyticsQueryError(f"property condition {col!r} names no property, e.g. properties.coupon")
            elif col not in EVENTS.column_names:
                raise AnalyticsQueryError(
                    f"funnel step condition on unknown column {col!r}: use an events column "
                    f"({', '.join(EVENTS.column_names)}) or properties.<key>"
                )

    @property
    def label(self) -> str:
        """The step's name: ``name`` or ``event_type[col=value,...]``."""
        if self.name:
            return self.name
        if not self.where:
            return self.event_type
        conds = ",".join(f"{c}={v}" for c, v in self.where)
        return f"{self.event_type}[{conds}]"


@dataclass(frozen=True)
class FunnelExclusion:
    """Users who do ``step`` between funnel steps ``from_step`` and ``to_step`` do not convert.

    An exclusion event voids the user's attempt when it happens strictly after the
    attempt reached ``from_step`` and strictly before it reached ``to_step`` (or, when
    it never reached ``to_step``, up to the end of the conversion window). Steps are
    0-based indexes into :attr:`FunnelQuery.steps`; ``to_step=None`` is the last step.
    """

    step: FunnelStep
    from_step: int = 0
    to_step: int | None = None


def default_bin_edges(window: timedelta) -> tuple[timedelta, ...]:
    """Nine inner edges: ten equal-width bins over ``[0, window]`` for time-to-convert histograms."""
    return tuple(window * i / 10 for i in range(1, 10))


@dataclass(frozen=True)
class FunnelQuery:
    """What :func:`~growthkit.analytics.funnel.run_funnel` computes.

    Parameters
    ----------
    steps
        Two or more :class:`FunnelStep`, in funnel order.
    date_range
        Days (UTC, inclusive) in which an attempt's first event must happen.
    window
        Conversion window: every later step at most this long after the attempt's first event
        (inclusive).
    step_windows
        Optional extra window per transition: ``step_windows[k - 1]`` bounds the time from step
        ``k - 1`` to step ``k`` (inclusive); ``None`` entries add no bound. Length ``len(steps) - 1``.
        Not allowed with ``order="unordered"``.
    order
        ``"ordered"`` (steps in order, other events may happen between), ``"strict"`` (each step
        is the user's very next event of any type), or ``"unordered"`` (steps ``0..k`` in any order).
    exclusions
        :class:`FunnelExclusion` events that void a conversion.
    breakdown
        Optional :class:`~growthkit.analytics._common.Breakdown`; each user is attributed to one value.
    attribution
        ``"first_touch"``: the breakdown value of the attempt's first event; ``"last_touch"``: that
        of the event that reached the user's furthest step.
    time_bins
        Inner edges of the time-to-convert histogram (increasing, positive); ``None`` gives ten
        equal bins over ``[0, window]``. ``n`` edges make ``n + 1`` bins: ``[0, e1)``, ...,
        ``[en, inf)``.
    """

    steps: tuple[FunnelStep, ...]
    date_range: DateRange
    window: timedelta
    step_windows: tuple[timedelta | None, ...] | None = None
    order: FunnelOrder = "ordered"
    exclusions: tuple[FunnelExclusion, ...] = ()
    breakdown: Breakdown | None = None
    attribution: Attribution = "first_touch"
    time_bins: tuple[timedelta, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "exclusions", tuple(self.exclusions))
        if self.step_windows is not None:
            object.__setattr__(self, "step_windows", tuple(self.step_windows))
        if self.time_bins is not None:
            object.__setattr__(self, "time_bins", tuple(self.time_bins))
        self._validate()

    def _validate(self) -> None:
        n = len(self.steps)
        if n < 2:
            raise AnalyticsQueryError(f"a funnel needs at least two steps, got {n}")
        if not all(isinstance(s, FunnelStep) for s in self.steps):
            raise AnalyticsQueryError("funnel steps must be FunnelStep objects, e.g. FunnelStep('view')")
        if self.window <= timedelta(0):
            raise AnalyticsQueryError(f"the conversion window must be positive, got {self.window}")
        if self.order not in _ORDERS:
            raise AnalyticsQueryError(f"order must be one of {', '.join(_ORDERS)}, got {self.order!r}")
        if self.attribution not in _ATTRIBUTIONS:
            raise AnalyticsQueryError(
                f"attribution must be one of {', '.join(_ATTRIBUTIONS)}, got {self.attribution!r}"
            )
        if self.step_windows is not None:
            if self.order == "unordered":
                raise AnalyticsQueryError("step_windows need an order: use order='ordered' or 'strict'")
            if len(self.step_windows) != n - 1:
                raise AnalyticsQueryError(
                    f"step_windows needs one entry per transition ({n - 1} for {n} steps), got {len(self.step_windows)}"
                )
            for w in self.step_windows:
                if w is not None and w <= timedelta(0):
                    raise AnalyticsQueryError(f"step windows must be positive or None, got {w}")
        if self.order == "unordered" and len(set(self.steps)) != n:
            raise AnalyticsQueryError("an unordered funnel cannot repeat a step: one event would count for both")
        for ex in self.exclusions:
            to = self.last_step if ex.to_step is None else ex.to_step
            if not 0 <= ex.from_step < to <= self.last_step:
                raise AnalyticsQueryError(
                    f"exclusion {ex.step.label!r} must lie between two steps: need 0 <= from_step < to_step "
                    f"<= {self.last_step}, got from_step={ex.from_step}, to_step={ex.to_step}"
                )
        if self.time_bins is not None:
            edges = self.time_bins
            if any(e <= timedelta(0) for e in edges) or any(b <= a for a, b in pairwise(edges)):
                raise AnalyticsQueryError("time_bins must be positive and strictly increasing")

    @property
    def last_step(self) -> int:
        """Index of the last step."""
        return len(self.steps) - 1

    def exclusion_span(self, ex: FunnelExclusion) -> tuple[int, int]:
        """``(from_step, to_step)`` of an exclusion, with ``None`` resolved to the last step."""
        return ex.from_step, self.last_step if ex.to_step is None else ex.to_step

    def step_window(self, k: int) -> timedelta | None:
        """The extra window from step ``k - 1`` to step ``k`` (``k >= 1``), if any."""
        return None if self.step_windows is None else self.step_windows[k - 1]

    @property
    def bin_edges(self) -> tuple[timedelta, ...]:
        """Inner histogram edges (``time_bins`` or the default ten equal bins)."""
        return self.time_bins if self.time_bins is not None else default_bin_edges(self.window)

    def step_index(self, step: int | str) -> int:
        """Index of a step given by index or by its unique :attr:`FunnelStep.label`."""
        if isinstance(step, bool) or not isinstance(step, int | str):
            raise AnalyticsQueryError(f"name a step by index or label, got {step!r}")
        if isinstance(step, int):
            if not 0 <= step <= self.last_step:
                raise AnalyticsQueryError(f"step {step} out of range: the funnel has steps 0..{self.last_step}")
            return step
        hits = [i for i, s in enumerate(self.steps) if s.label == step]
        if len(hits) != 1:
            labels = ", ".join(repr(s.label) for s in self.steps)
            why = "is not a step" if not hits else "names several steps; use the index"
            raise AnalyticsQueryError(f"{step!r} {why} (steps: {labels})")
        return hits[0]
