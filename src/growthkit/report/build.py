"""Turning insight results into report sections: KPIs, trends, stickiness, lifecycle.

Each function takes the typed result of one insight (``growthkit.analytics``)
and returns a :class:`~growthkit.report.html.Section`; the cohort insights
(AARRR, funnel, retention, LTV) are in :mod:`growthkit.report.build_cohorts`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from growthkit.analytics._common import DateRange
from growthkit.analytics.lifecycle import LifecycleResult
from growthkit.analytics.stickiness import StickinessResult
from growthkit.analytics.trends import TrendsResult
from growthkit.report.charts import Series, bar_chart, date_labels, line_chart
from growthkit.report.figures import Kpi, kpi_tiles
from growthkit.report.format import Unit, fmt_date, fmt_range
from growthkit.report.html import Figure, Section
from growthkit.report.svg import PALETTE
from growthkit.workflows.report import KPI_METRICS

LIFECYCLE_COLOURS: dict[str, str] = {
    "new": PALETTE[0],
    "returning": PALETTE[2],
    "resurrecting": PALETTE[1],
    "dormant": PALETTE[3],
}


def as_dates(values: Sequence[object] | pd.Series) -> list[date]:
    """Timestamps, datetimes or dates as plain :class:`datetime.date` values."""
    return [pd.Timestamp(v).date() for v in values]  # type: ignore[arg-type]


def _metric(frame: pd.DataFrame, metric: str) -> pd.Series:
    """One metric of a tidy trends frame as a series indexed by day."""
    part = frame[frame["metric"] == metric]
    return pd.Series(part["value"].to_numpy(dtype=float), index=as_dates(part["period"]), dtype=float)


def _window(s: pd.Series, rng: DateRange) -> pd.Series:
    return s[[rng.start <= d <= rng.end for d in s.index]]


def _weekly(s: pd.Series) -> list[float]:
    """Sums per whole ISO week (for sparklines; a partial first or last week would look like a drop)."""
    if s.empty:
        return []
    weeks = pd.to_datetime(pd.Index(s.index)).to_period("W-SUN")
    g = s.groupby(weeks)
    sums, days = g.sum(), g.count()
    return [float(v) for v, n in zip(sums.tolist(), days.tolist(), strict=True) if n == 7]


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or math.isnan(now) or math.isnan(before) or before == 0:
        return None
    return now / before - 1.0


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


@dataclass(frozen=True)
class Periods:
    """The report's range and the equally long range just before it (for the KPI changes)."""

    current: DateRange
    previous: DateRange | None


def kpi_section(daily: TrendsResult, periods: Periods, money: Unit, notes: Sequence[str] = ()) -> Section:
    """Headline numbers of the range, each with its change against the previous range of equal length.

    ``daily`` holds :data:`KPI_METRICS` per day over both ranges (``periods.previous``
    may be ``None`` when the data does not reach back far enough: then no change is shown).
    """
    f = daily.frame
    cur, prev = periods.current, periods.previous

    def totals(rng: DateRange | None) -> dict[str, float] | None:
        if rng is None:
            return None
        return {m: float(_window(_metric(f, m), rng).sum()) for m in KPI_METRICS} | {
            "days": float((rng.end - rng.start).days + 1)
        }

    now, before = totals(cur), totals(prev)
    assert now is not None

    def per(t: dict[str, float] | None, key: str, den: str) -> float | None:
        return None if t is None else _ratio(t[key], t[den])

    def was(key: str) -> float | None:
        return None if before is None else before[key]

    spark = {m: _weekly(_window(_metric(f, m), cur)) for m in ("net_revenue", "orders", "new_users", "dau")}
    tiles = [
        Kpi(
            "Net revenue",
            now["net_revenue"],
            money,
            _change(now["net_revenue"], was("net_revenue")),
            "purchases minus refunds",
            spark["net_revenue"],
        ),
        Kpi(
            "Orders",
            now["orders"],
            Unit.count(),
            _change(now["orders"], was("orders")),
            "distinct orders",
            spark["orders"],
        ),
        Kpi(
            "Avg order value",
            per(now, "gross_revenue", "orders"),
            money,
            _change(per(now, "gross_revenue", "orders"), per(before, "gross_revenue", "orders")),
            "gross revenue ÷ orders",
        ),
        Kpi(
            "New users",
            now["new_users"],
            Unit.count(),
            _change(now["new_users"], was("new_users")),
            "first seen in the period",
            spark["new_users"],
        ),
        Kpi(
            "Daily actives",
            per(now, "dau", "days"),
            Unit.count(),
            _change(per(now, "dau", "days"), per(before, "dau", "days")),
            "average per day",
            spark["dau"],
        ),
        Kpi(
            "Conversion",
            per(now, "purchasers", "dau"),
            Unit.percent(),
            _change(per(now, "purchasers", "dau"), per(before, "purchasers", "dau")),
            "daily buyers ÷ daily active users",
        ),
    ]
    lead = f"{fmt_range(cur.start, cur.end)}"
    lead += (
        f", compared with the {(cur.end - cur.start).days + 1} days before ({fmt_range(prev.start, prev.end)})."
        if prev
        else "; the data does not reach back far enough for a comparison with the period before."
    )
    return Section(
        "kpis", "Headline numbers", (Figure("", kpi_tiles(tiles), wide=True),), lead=lead, notes=tuple(notes), wide=True
    )


def trends_section(daily: TrendsResult, current: DateRange, money: Unit) -> Section:
    """Daily lines: active and new users, orders, and gross and net revenue."""
    f = daily.frame
    s = {m: _window(_metric(f, m), current) for m in KPI_METRICS}
    days = list(s["dau"].index)
    users = line_chart(
        days,
        [Series("Daily active users", s["dau"].tolist()), Series("New users", s["new_users"].tolist())],
        title="Active and new users per day",
        unit=Unit.count(),
        x_caption="day (UTC)",
    )
    revenue = line_chart(
        days,
        [Series("Gross revenue", s["gross_revenue"].tolist()), Series("Net revenue", s["net_revenue"].tolist())],
        title="Revenue per day",
        unit=money,
        x_caption="day (UTC)",
    )
    orders = line_chart(
        days,
        [Series("Orders", s["orders"].tolist()), Series("Buyers", s["purchasers"].tolist())],
        title="Orders and buyers per day",
        unit=Unit.count(),
        x_caption="day (UTC)",
    )
    cap_money = f"Amounts in {money.label}; net = purchases minus refunds, refunds counted on the day they happen."
    return Section(
        "trends",
        "Trends",
        (
            Figure(
                "Active and new users per day",
                users,
                "DAU: users with any event that day. New: users seen for the first time that day.",
            ),
            Figure("Revenue per day", revenue, cap_money),
            Figure(
                "Orders and buyers per day",
                orders,
                "An order is a distinct checkout (session); buyers are distinct users who purchased that day.",
            ),
        ),
        lead="Day by day over the report's period.",
        wide=True,
    )


def stickiness_figure(result: StickinessResult, current: DateRange) -> Figure:
    """DAU/MAU and WAU/MAU per day, in percent."""
    r = result.ratio
    days = as_dates(r["day"])
    keep = [current.start <= d <= current.end for d in days]
    r = r[keep]
    days = [d for d, k in zip(days, keep, strict=True) if k]
    mau = r["mau"].to_numpy(dtype=float)
    dau_mau = [float(v) if not math.isnan(v) else None for v in r["dau_mau"].to_numpy(dtype=float)]
    wau = r["wau"].to_numpy(dtype=float)
    wau_mau = [float(w / m) if m else None for w, m in zip(wau, mau, strict=True)]
    svg = line_chart(
        days,
        [Series("DAU / MAU", dau_mau), Series("WAU / MAU", wau_mau)],
        title="Stickiness: share of monthly users active that day / week",
        unit=Unit.percent(),
        x_caption="day (UTC)",
    )
    return Figure(
        "Stickiness",
        svg,
        "DAU, WAU and MAU are users active on the trailing 1, 7 and 30 days; a higher ratio means users come back "
        "more often.",
    )


def lifecycle_section(result: LifecycleResult, extra: Sequence[Figure] = ()) -> Section:
    """Stacked weekly bars: new, returning and resurrecting users up, dormant users down."""
    f = result.frame
    weeks = sorted(set(as_dates(f["period"])))
    statuses = [s for s in ("new", "returning", "resurrecting", "dormant") if s in set(f["status"])]
    series = []
    for st in statuses:
        part = f[f["status"] == st]
        by_week = dict(zip(as_dates(part["period"]), part["users"].to_numpy(dtype=float), strict=True))
        series.append(Series(st, [by_week.get(w, 0.0) for w in weeks], LIFECYCLE_COLOURS[st]))
    svg = bar_chart(
        date_labels(weeks),
        series,
        title="User lifecycle per week",
        unit=Unit.count(),
        stacked=True,
        x_caption="week starting (Monday, UTC)",
    )
    covered = result.covered
    cap = (
        "New: first active this week. Returning: active this week and last week. Resurrecting: back after a gap. "
        f"Dormant (below zero): active last week, not this week. Whole weeks {fmt_date(covered.start)} to "
        f"{fmt_date(covered.end)}."
    )
    return Section(
        "lifecycle",
        "Lifecycle",
        (Figure("Users by lifecycle status", svg, cap), *extra),
        lead="Where each week's active users come from, and who stopped coming.",
    )
