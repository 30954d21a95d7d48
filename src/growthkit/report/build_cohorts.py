"""Turning cohort insights into report sections: AARRR overview, retention heatmap, LTV curves.

See :mod:`growthkit.report.build` for the time-series sections.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from growthkit.analytics.aarrr import AarrrResult, Rate
from growthkit.analytics.funnel import FunnelResult
from growthkit.analytics.retention import RetentionResult
from growthkit.analytics.retention_ltv import LtvCurveResult, LtvPoint
from growthkit.report.charts import Series, bar_chart, date_labels, line_chart
from growthkit.report.figures import FunnelStep, Kpi, funnel_chart, heatmap, kpi_tiles
from growthkit.report.format import Unit
from growthkit.report.html import Figure, Section, table

MIN_ELIGIBLE = 10
"""LTV points averaged over fewer users than this are left out (too noisy to draw)."""

MIN_ELIGIBLE_SHARE = 0.3
"""... and so are points where fewer than this share of the series' users has been observed that long."""

MAX_CURVES = 5
"""At most this many breakdown values get their own LTV curve (the largest cohorts)."""


def missing_section(key: str, title: str, module: str, what: str) -> Section:
    """A visible placeholder for an insight this version of growthkit cannot compute yet."""
    return Section(
        key,
        title,
        lead=what,
        notes=(f"Not in this report: the {title.lower()} insight ({module}) is not available in this version.",),
    )


def _rate_note(r: Rate, what: str, incomplete: int) -> str:
    note = f"{r.numerator:,} of {r.denominator:,} new users {what}"
    if incomplete:
        note += f"; {incomplete:,} still inside their window"
    return note


def aarrr_section(result: AarrrResult, money: Unit) -> Section:
    """The five pirate metrics as tiles, plus acquisition, activation and retention by channel."""
    acq, act, ret, rev, ref = (result.acquisition, result.activation, result.retention, result.revenue, result.referral)
    k_note = f"{ref.invites_sent:,} invites, {ref.invites_accepted:,} accepted"
    if ref.acceptance_rate is not None:
        k_note += f" ({ref.acceptance_rate:.0%})"
    paid = f"{rev.paying_share:.1%}" if rev.paying_share is not None else "–"
    tiles = kpi_tiles(
        [
            Kpi("Acquisition", float(acq.new_users), Unit.count(), note="new users (signed up in the period)"),
            Kpi(
                "Activation",
                act.activated.rate,
                Unit.percent(),
                note=_rate_note(act.activated, f"bought within {act.window_days} days", act.incomplete),
            ),
            Kpi(
                "Retention",
                ret.retained.rate,
                Unit.percent(),
                note=_rate_note(ret.retained, ret.window.replace("after signup", "after signing up"), ret.incomplete),
            ),
            Kpi(
                "Revenue",
                rev.arpu,
                money,
                note=f"per active user (ARPU); net {money.format(rev.net, compact=True)}, {paid} of "
                f"{rev.active_users:,} active users paid",
            ),
            Kpi("Referral", ref.k_factor, Unit.count(), note=f"K-factor (accepted invites per active user); {k_note}"),
        ]
    )
    channels = [ch for ch, _ in acq.by_channel]
    figures = [Figure("", tiles, wide=True)]
    if channels:
        new = bar_chart(
            channels,
            [Series("New users", [float(n) for _, n in acq.by_channel])],
            title="New users by acquisition channel",
            unit=Unit.count(),
            height=240,
        )
        act_by, ret_by = dict(act.by_channel), dict(ret.by_channel)
        rates = bar_chart(
            channels,
            [
                Series("Activation", [act_by[c].rate if c in act_by else None for c in channels]),
                Series("Retention", [ret_by[c].rate if c in ret_by else None for c in channels]),
            ],
            title="Activation and retention rate by acquisition channel",
            unit=Unit.percent(),
            height=240,
        )
        figures += [
            Figure("New users by acquisition channel", new, "Channel from the user record, else the first event."),
            Figure(
                "Activation and retention by channel",
                rates,
                f"Activation: a purchase within {act.window_days} days of signup. Retention: {ret.window}.",
            ),
        ]
    return Section(
        "aarrr",
        "AARRR overview",
        tuple(figures),
        lead="Acquisition, activation, retention, revenue and referral (McClure's pirate metrics) for the period.",
        wide=True,
    )


def retention_section(result: RetentionResult, extra: Sequence[Figure] = ()) -> Section:
    """Cohort heatmap: one row per weekly cohort of new users, one column per week since."""
    rows: list[date] = []
    notes, values = [], []
    dropped = 0
    for cohort in result.cohorts:
        cells = [result.cell(cohort, n) for n in range(result.query.periods + 1)]
        vals = [c.share if c.eligible else None for c in cells]
        if cells[0].cohort_size == 0 or all(v is None for v in vals):
            dropped += 1
            continue
        rows.append(cohort)
        notes.append(f"{cells[0].cohort_size:,} users")
        values.append(vals)
    period = result.query.period.value
    width = result.query.periods + 1
    while width > 1 and all(v[width - 1] is None for v in values):  # periods no cohort has lived through yet
        width -= 1
    values = [v[:width] for v in values]
    cols = [f"{period[0].upper()}{n}" for n in range(width)]
    svg = heatmap(
        date_labels(rows),
        cols,
        values,
        title=f"Share of new users active again N {period}s later",
        unit=Unit.percent(),
        vmax=1.0,
        col_caption=f"{period}s since first seen →",
    )
    cap = (
        f"Rows: users by the {period} (UTC, starting Monday) of their first event. "
        f"{cols[0]} is that {period}; blank cells have not fully happened yet."
    )
    if dropped:
        cap += f" {dropped} cohort{'s' if dropped > 1 else ''} too recent to show."
    return Section(
        "retention",
        "Cohort retention",
        (Figure(f"Retention by {period}ly cohort", svg, cap), *extra),
        lead="Of the users first seen in a week, how many came back in each later week.",
    )


def _pooled(points: Sequence[LtvPoint], periods: int) -> list[float | None]:
    """Cohorts pooled per period (revenue over eligible users); thinly observed points left out."""
    size = sum(p.cohort_size for p in points if p.period == 0)
    floor = max(MIN_ELIGIBLE, MIN_ELIGIBLE_SHARE * size)
    out: list[float | None] = []
    for n in range(periods + 1):
        ps = [p for p in points if p.period == n]
        elig = sum(p.eligible for p in ps)
        out.append(sum(p.revenue for p in ps) / elig if elig >= floor and elig else None)
    return out


def ltv_section(result: LtvCurveResult, money: Unit) -> Section:
    """Cumulative net revenue per new user by periods since first seen: all users, and per breakdown value."""
    q = result.query
    periods = q.periods
    series = [Series("All new users", _pooled(result.points, periods))]
    sizes: dict[str, int] = {}
    for p in result.points:
        if p.period == 0 and p.breakdown is not None:
            sizes[p.breakdown] = sizes.get(p.breakdown, 0) + p.cohort_size
    top = sorted(sizes, key=lambda b: (-sizes[b], b))[:MAX_CURVES]
    for b in top:
        series.append(Series(b, _pooled([p for p in result.points if p.breakdown == b], periods)))
    unit_name = q.period.value
    svg = line_chart(
        list(range(periods + 1)),
        series,
        title=f"Cumulative net revenue per new user by {unit_name}s since first seen",
        unit=money,
        x_unit=Unit.count(f" {unit_name[0]}"),
        x_caption=f"{unit_name}s since first seen",
    )
    by = f" by {q.breakdown.key.removeprefix('user.')}" if q.breakdown else ""
    cap = (
        f"Users first seen in the period, as cohorts; each point averages the users whose {unit_name} N has fully "
        f"passed, so young cohorts do not pull the curve down; the curve stops where fewer than "
        f"{MIN_ELIGIBLE_SHARE:.0%} of the users have been around that long. Amounts in {money.label}."
    )
    return Section(
        "ltv",
        "Lifetime value",
        (Figure(f"LTV curve{by}", svg, cap),),
        lead="How much a new user has spent, on average, after a given time.",
    )


def _duration(seconds: float | None) -> str:
    """``42 min``, ``5.2 h``, ``3.1 days``."""
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    d = seconds / 86400
    return f"{d:.0f} days" if d.is_integer() else f"{d:.1f} days"


def funnel_section(result: FunnelResult) -> Section:
    """Funnel bars (users per step, shares of the first step and of the step before) and median times."""
    q = result.query
    steps = [FunnelStep(s.name, float(s.count)) for s in result.steps]
    window = _duration(q.window.total_seconds())
    svg = funnel_chart(steps, title=f"Users reaching each step within {window}")
    rows = [
        (
            s.name,
            f"{s.count:,}",
            f"{s.conversion_from_previous:.1%}" if s.step else "–",
            f"{s.dropped:,}" if s.step else "–",
            _duration(s.median_seconds_from_previous) if s.step else "–",
        )
        for s in result.steps
    ]
    times = table(["step", "users", "from previous", "dropped", "median time from previous"], rows)
    cap = (
        f"Users whose {result.steps[0].name} in the period was followed by the next steps, in order, within "
        f"{window}; each user counts once, through their furthest attempt. Overall conversion "
        f"{result.overall_conversion:.1%}."
    )
    return Section(
        "funnel",
        "Purchase funnel",
        (Figure("Conversion funnel", svg, cap), Figure("Step by step", times)),
        lead="From viewing an item to buying it.",
    )
