"""Experiment metrics as sufficient statistics, computed by the store (SQL), per variation.

The statistics engine never sees rows (house rule 2): for every variation this module returns
``n``, ``sum`` and ``sum_squares`` of the per-user metric value, the denominator sums and cross
product for ratio metrics, and the covariate sums and cross product for CUPED. Their names map
1:1 to the keys of the engine's spec (:meth:`VariationSums.to_spec`).

Semantics, per exposed user with first exposure ``t0`` (from the ``exposures`` table):

* **Outcome window** ``[t0 + offset, t0 + offset + window)``: half-open, so an event exactly at
  ``t0`` counts and an event exactly at the window end does not. Without ``window_days`` the
  window runs to the analysis ``end`` (exclusive); with both, the earlier bound wins. Users first
  exposed at or after ``end`` are not analysed.
* **Covariate window** (CUPED) ``[t0 - pre_window, t0)``: the same metric before exposure.
  Events before ``t0`` never count in the outcome.
* **Value** of a :class:`Measure`: the sum of ``amount`` or ``quantity``, the number of events,
  or the number of distinct sessions, over events of the given types, minus the same over
  ``minus_event_types`` (e.g. refunds, whose amount is positive in the data contract; a refund
  counts when it happens, also for a purchase made before exposure).
* **Kinds.** ``mean``: the value (users without events count as 0). ``proportion``: 1 when the
  value is > 0, else 0. ``ratio``: numerator and denominator values; the estimate is
  ``sum / denominator_sum`` (delta method in the engine).
* **Capping** (winsorisation) at ``cap_percentile``: values above that percentile of all
  exposed users' values (``quantile_cont``, zeros included) are set to it; the covariate is
  capped at the same percentile of the covariate values; for ratios only the numerator is capped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from growthkit.errors import ConfigError
from growthkit.experiments.exposures import load_experiment
from growthkit.store import Store

MetricKind = Literal["mean", "proportion", "ratio"]
MeasureValue = Literal["amount", "quantity", "count", "sessions"]
_KINDS = ("mean", "proportion", "ratio")
_VALUES = ("amount", "quantity", "count", "sessions")
_DAY_US = 86_400_000_000


@dataclass(frozen=True)
class Measure:
    """What to add up over a user's events.

    Parameters
    ----------
    event_types : tuple of str
        Events that count (empty: every event).
    value : {"amount", "quantity", "count", "sessions"}
        What each event adds: its amount or quantity (null as 0), 1, or distinct sessions.
    minus_event_types : tuple of str
        Events whose value is subtracted (refunds); not for ``sessions``.
    """

    event_types: tuple[str, ...] = ()
    value: MeasureValue = "count"
    minus_event_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_types", tuple(self.event_types))
        object.__setattr__(self, "minus_event_types", tuple(self.minus_event_types))
        if self.value not in _VALUES:
            raise ConfigError(f"measure value must be one of {list(_VALUES)}, got {self.value!r}")
        if self.value == "sessions" and self.minus_event_types:
            raise ConfigError("a 'sessions' measure cannot subtract events; drop minus_event_types")


@dataclass(frozen=True, kw_only=True)
class MetricDefinition:
    """A metric of an experiment (see the module docstring for the exact semantics).

    Examples
    --------
    >>> revenue = MetricDefinition(
    ...     name="revenue", kind="mean",
    ...     numerator=Measure(("purchase",), "amount", minus_event_types=("refund",)),
    ...     window_days=14, cap_percentile=0.99)
    >>> revenue.uses_covariate
    True
    """

    name: str
    kind: MetricKind
    numerator: Measure
    denominator: Measure | None = None
    window_days: float | None = 14.0
    offset_days: float = 0.0
    cap_percentile: float | None = None
    covariate: bool | None = None
    """CUPED on the same metric before exposure; default: on for mean and proportion, off for ratio."""
    pre_window_days: float | None = None
    """Length of the covariate window; default: ``window_days``, or 28 days without a window."""
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("a metric needs a name")
        if self.kind not in _KINDS:
            raise ConfigError(f"metric {self.name!r}: kind must be one of {list(_KINDS)}, got {self.kind!r}")
        if (self.kind == "ratio") != (self.denominator is not None):
            raise ConfigError(
                f"metric {self.name!r}: a ratio metric needs a denominator, other kinds must not have one"
            )
        if self.kind == "ratio" and self.covariate:
            raise ConfigError(f"metric {self.name!r}: CUPED is not supported for ratio metrics; set covariate=False")
        if self.window_days is not None and self.window_days <= 0:
            raise ConfigError(f"metric {self.name!r}: window_days must be > 0 (or None for 'until the end')")
        if self.offset_days < 0:
            raise ConfigError(f"metric {self.name!r}: offset_days must be >= 0")
        if self.pre_window_days is not None and self.pre_window_days <= 0:
            raise ConfigError(f"metric {self.name!r}: pre_window_days must be > 0")
        if self.cap_percentile is not None:
            if self.kind == "proportion":
                raise ConfigError(f"metric {self.name!r}: capping a proportion changes nothing; drop cap_percentile")
            if not 0.0 < self.cap_percentile < 1.0:
                raise ConfigError(f"metric {self.name!r}: cap_percentile must be in (0, 1), e.g. 0.99")

    @property
    def uses_covariate(self) -> bool:
        return self.kind != "ratio" if self.covariate is None else self.covariate

    @property
    def pre_window(self) -> float:
        if self.pre_window_days is not None:
            return self.pre_window_days
        return self.window_days if self.window_days is not None else 28.0


def retention(day: int, *, name: str | None = None) -> MetricDefinition:
    """Share of users with any event on day ``day`` after exposure (``[t0 + day, t0 + day + 1)``)."""
    return MetricDefinition(
        name=name or f"retention_d{day}",
        kind="proportion",
        numerator=Measure(),
        offset_days=float(day),
        window_days=1.0,
        pre_window_days=1.0,
        description=f"any event in the 24 hours starting {day} days after first exposure",
    )


METRICS: dict[str, MetricDefinition] = {
    m.name: m
    for m in (
        MetricDefinition(
            name="revenue",
            kind="mean",
            numerator=Measure(("purchase",), "amount", ("refund",)),
            description="purchase amount minus refunded amount per exposed user, 14 days",
        ),
        MetricDefinition(
            name="conversion",
            kind="proportion",
            numerator=Measure(("purchase",)),
            description="share of exposed users with a purchase within 14 days",
        ),
        MetricDefinition(
            name="orders", kind="mean", numerator=Measure(("purchase",)), description="purchases per user, 14 days"
        ),
        MetricDefinition(
            name="revenue_per_order",
            kind="ratio",
            numerator=Measure(("purchase",), "amount"),
            denominator=Measure(("purchase",)),
            description="purchase amount per purchase event, 14 days",
        ),
        MetricDefinition(
            name="events_per_session",
            kind="ratio",
            numerator=Measure(),
            denominator=Measure((), "sessions"),
            description="events per distinct session, 14 days",
        ),
        retention(7),
    )
}
"""Ready-made metrics by name (``growthkit experiment analyze --metric NAME``)."""


@dataclass(frozen=True)
class VariationSums:
    """Sufficient statistics of one variation; field names are the engine's spec keys."""

    name: str
    n: int
    sum: float
    sum_squares: float
    denominator_sum: float | None = None
    denominator_sum_squares: float | None = None
    main_denominator_sum_product: float | None = None
    covariate_sum: float | None = None
    covariate_sum_squares: float | None = None
    main_covariate_sum_product: float | None = None

    def to_spec(self) -> dict[str, Any]:
        """The variation entry of the engine's spec (keys without a value are left out)."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class MetricSums:
    """A metric's sufficient statistics for every variation of an experiment, control first."""

    experiment: str
    metric: MetricDefinition
    variations: tuple[VariationSums, ...]
    cap: float | None = None
    covariate_cap: float | None = None
    end: datetime | None = field(default=None)

    def spec(self, *, engine: str = "frequentist", difference: str = "relative", alpha: float = 0.05) -> dict[str, Any]:
        """The input of ``growthkit.experiments.stats.analyze`` for this metric."""
        return {
            "engine": engine,
            "difference": difference,
            "alpha": alpha,
            "metric_type": self.metric.kind,
            "variations": [v.to_spec() for v in self.variations],
        }


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _types(types: tuple[str, ...]) -> str:
    return "TRUE" if not types else f"ev.event_type IN ({', '.join(_lit(t) for t in types)})"


def _us(days: float) -> str:
    return f"to_microseconds(CAST({round(days * _DAY_US)} AS BIGINT))"


def _measure_sql(m: Measure, cond: str) -> str:
    if m.value == "sessions":
        return f"count(DISTINCT CASE WHEN {cond} AND {_types(m.event_types)} THEN ev.session_id END)"
    val = {"amount": "coalesce(ev.amount, 0)", "quantity": "coalesce(ev.quantity, 0)", "count": "1"}[m.value]
    plus = f"coalesce(sum(CASE WHEN {cond} AND {_types(m.event_types)} THEN {val} END), 0)"
    if not m.minus_event_types:
        return f"CAST({plus} AS DOUBLE)"
    minus = f"coalesce(sum(CASE WHEN {cond} AND {_types(m.minus_event_types)} THEN {val} END), 0)"
    return f"CAST({plus} - {minus} AS DOUBLE)"


def _event_filter(metric: MetricDefinition) -> str:
    measures = [metric.numerator] + ([metric.denominator] if metric.denominator else [])
    if any(not m.event_types for m in measures):
        return "TRUE"
    types = sorted({t for m in measures for t in (*m.event_types, *m.minus_event_types)})
    return _types(tuple(types))


def metric_sql(experiment: str, metric: MetricDefinition, end: datetime | None = None) -> str:
    """The SQL that computes ``metric`` per variation (one row per variation that has users)."""
    end_lit = None if end is None else f"TIMESTAMP {_lit(_naive_utc(end).isoformat(sep=' '))}"
    lo = f"x.t0 + {_us(metric.offset_days)}"
    post = [f"ev.ts >= {lo}"]
    if metric.window_days is not None:
        post.append(f"ev.ts < {lo} + {_us(metric.window_days)}")
    if end_lit:
        post.append(f"ev.ts < {end_lit}")
    post_cond = " AND ".join(post)
    pre_cond = f"ev.ts >= x.t0 - {_us(metric.pre_window)} AND ev.ts < x.t0"
    join_lo = f"x.t0 - {_us(metric.pre_window)}" if metric.uses_covariate else lo
    to_y = (lambda e: f"CASE WHEN {e} > 0 THEN 1.0 ELSE 0.0 END") if metric.kind == "proportion" else (lambda e: e)
    cols = [f"{to_y(_measure_sql(metric.numerator, post_cond))} AS y"]
    cols.append(f"{_measure_sql(metric.denominator, post_cond)} AS d" if metric.denominator else "NULL AS d")
    cols.append(f"{to_y(_measure_sql(metric.numerator, pre_cond))} AS x" if metric.uses_covariate else "NULL AS x")
    p = metric.cap_percentile
    cap_y = f"quantile_cont(y, {p})" if p else "NULL"
    cap_x = f"quantile_cont(x, {p})" if p and metric.uses_covariate else "NULL"
    exp_end = f" AND ts < {end_lit}" if end_lit else ""
    return f"""
WITH x AS (SELECT user_id, variation, ts AS t0 FROM exposures WHERE experiment = {_lit(experiment)}{exp_end}),
ev AS (SELECT user_id, ts, event_type, amount, quantity, session_id FROM events ev
       WHERE {_event_filter(metric)} AND user_id IN (SELECT user_id FROM x)),
per_user AS (
  SELECT x.variation, {", ".join(cols)}
  FROM x LEFT JOIN ev ON ev.user_id = x.user_id AND ev.ts >= {join_lo}
  GROUP BY x.user_id, x.variation
),
caps AS (SELECT CAST({cap_y} AS DOUBLE) AS cap_y, CAST({cap_x} AS DOUBLE) AS cap_x{" FROM per_user" if p else ""}),
v AS (
  SELECT variation, CASE WHEN cap_y IS NULL THEN y ELSE least(y, cap_y) END AS y, d,
         CASE WHEN cap_x IS NULL THEN x ELSE least(x, cap_x) END AS x, cap_y, cap_x
  FROM per_user CROSS JOIN caps
)
SELECT variation, count(*) AS n, sum(y) AS s, sum(y * y) AS ss,
       sum(d) AS ds, sum(d * d) AS dss, sum(y * d) AS yd,
       sum(x) AS xs, sum(x * x) AS xss, sum(y * x) AS yx,
       any_value(cap_y) AS cap_y, any_value(cap_x) AS cap_x
FROM v GROUP BY variation
"""


def _naive_utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=None) if ts.tzinfo is None else ts.astimezone(UTC).replace(tzinfo=None)


def experiment_variations(store: Store, experiment: str) -> tuple[str, ...]:
    """Variation names, control first: from the stored definition, else from the exposures."""
    exp = load_experiment(store, experiment)
    if exp is not None:
        return exp.variations
    names = [
        r["variation"]
        for r in store.query(
            "SELECT DISTINCT variation FROM exposures WHERE experiment = ? ORDER BY 1", [experiment]
        ).to_pylist()
    ]
    if not names:
        raise ConfigError(
            f"no exposures for experiment {experiment!r} in the store; record them first "
            "(growthkit experiment assign --record, or record_exposures)"
        )
    return tuple(sorted(names, key=lambda v: (v != "control", v)))


def compute_metric(
    store: Store,
    experiment: str,
    metric: MetricDefinition,
    *,
    variations: tuple[str, ...] | None = None,
    end: datetime | None = None,
) -> MetricSums:
    """Sufficient statistics of ``metric`` for each variation of ``experiment`` (control first).

    Parameters
    ----------
    store : Store
        A store at schema version 2 or later with ``events`` and ``exposures``.
    experiment : str
        The experiment key.
    metric : MetricDefinition
        What to measure.
    variations : tuple of str, optional
        Variation names, control first (default: :func:`experiment_variations`). A variation
        without users gets ``n = 0``.
    end : datetime, optional
        Analysis end (exclusive): later events and exposures are ignored. Naive means UTC.
    """
    names = variations or experiment_variations(store, experiment)
    rows = {r["variation"]: r for r in store.query(metric_sql(experiment, metric, end)).to_pylist()}
    unknown = set(rows) - set(names)
    if unknown:
        raise ConfigError(
            f"experiment {experiment!r} has exposures to variation(s) {sorted(unknown)} that are not in "
            f"{list(names)}; fix the experiment definition or the exposures"
        )
    ratio, cov = metric.kind == "ratio", metric.uses_covariate
    out, cap, cov_cap = [], None, None
    for name in names:
        r = rows.get(name)
        if r is None:
            den: tuple[float | None, ...] = (0.0, 0.0, 0.0) if ratio else (None, None, None)
            covs: tuple[float | None, ...] = (0.0, 0.0, 0.0) if cov else (None, None, None)
            out.append(VariationSums(name, 0, 0.0, 0.0, *den, *covs))
            continue
        cap, cov_cap = r["cap_y"], r["cap_x"]
        out.append(
            VariationSums(
                name=name,
                n=int(r["n"]),
                sum=float(r["s"]),
                sum_squares=float(r["ss"]),
                denominator_sum=float(r["ds"]) if ratio else None,
                denominator_sum_squares=float(r["dss"]) if ratio else None,
                main_denominator_sum_product=float(r["yd"]) if ratio else None,
                covariate_sum=float(r["xs"]) if cov else None,
                covariate_sum_squares=float(r["xss"]) if cov else None,
                main_covariate_sum_product=float(r["yx"]) if cov else None,
            )
        )
    return MetricSums(experiment, metric, tuple(out), cap, cov_cap, end)
