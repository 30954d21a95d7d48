"""``growthkit analytics``: the growth insights as tables (``--json``/``--csv`` for machines)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import click
import pandas as pd
from rich.table import Table

from growthkit.cli.app import cli, db_option, make_settings, out
from growthkit.workflows.analytics import data_range, insight_actors, run_insight
from growthkit.workflows.results import (
    AarrrQuery,
    Breakdown,
    DateRange,
    EventFilter,
    FunnelExclusion,
    FunnelQuery,
    FunnelStep,
    LifecycleQuery,
    LtvQuery,
    NewUser,
    Period,
    RetentionQuery,
    RetentionWindow,
    StickinessQuery,
    TrendMetric,
    TrendsQuery,
)

PERIODS = click.Choice([p.value for p in Period])


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options every insight command takes."""
    options = [
        db_option,
        click.option("--start", help="First day, YYYY-MM-DD (default: 28 days before --end)."),
        click.option("--end", help="Last day, YYYY-MM-DD (default: the day of the last event)."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON records."),
        click.option("--csv", "as_csv", is_flag=True, help="Print the result as CSV."),
        click.option(
            "--actors",
            "actors",
            multiple=True,
            metavar="KEY=VALUE",
            help="Instead of the table, list the users behind one cell, e.g. --actors step=2 --actors dropped=true.",
        ),
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


def _range(settings: Any, start: str | None, end: str | None) -> DateRange:
    if start and end:
        return DateRange.parse(start, end)
    default = data_range(settings)
    last = date.fromisoformat(end) if end else default.end
    first = date.fromisoformat(start) if start else last - timedelta(days=27)
    return DateRange(first, last)


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    return text


def _emit(settings: Any, result: Any, frame: pd.DataFrame, title: str, opts: dict[str, Any]) -> None:
    if opts["actors"]:
        cell = {k: _value(v) for k, v in (a.split("=", 1) for a in opts["actors"] if "=" in a)}
        ids = insight_actors(settings, result, **cell)
        if opts["as_json"]:
            click.echo(json.dumps(ids))
        else:
            click.echo("\n".join(ids))
        return
    if opts["as_json"]:
        click.echo(frame.to_json(orient="records", date_format="iso", force_ascii=False))
    elif opts["as_csv"]:
        click.echo(frame.to_csv(index=False), nl=False)
    else:
        listy = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, (list, tuple, dict))).any()]
        empty = [c for c in frame.columns if frame[c].isna().all()]
        frame = frame.drop(columns=listy + [c for c in empty if c not in listy])
        t = Table(title=title)
        for c in frame.columns:
            t.add_column(str(c), justify="right" if pd.api.types.is_numeric_dtype(frame[c]) else "left")
        for row in frame.head(200).itertuples(index=False):
            t.add_row(*(_fmt(v) for v in row))
        out.print(t)
        if len(frame) > 200:
            out.print(f"[dim]{len(frame) - 200} more rows: use --csv or --json[/]")


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}"
    if hasattr(v, "isoformat"):
        return str(v.isoformat())[:10]
    return str(v)


def _filter(spec: str) -> EventFilter:
    """``purchase`` or ``purchase,cart`` or ``purchase:channel=ads``."""
    types, _, cond = spec.partition(":")
    where = tuple((k, v) for k, _, v in (c.partition("=") for c in cond.split(",") if "=" in c))
    return EventFilter(tuple(t for t in types.split(",") if t), where)


@cli.group()
def analytics() -> None:
    """Growth insights on the store: trends, AARRR, funnels, retention, lifecycle, stickiness."""


@analytics.command()
@_common
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    default=("active_users", "new_users", "orders", "net_revenue"),
    show_default=True,
    type=click.Choice([m.value for m in TrendMetric]),
    help="Metric (repeatable).",
)
@click.option("--period", type=PERIODS, default="day", show_default=True)
@click.option("--breakdown", help="channel, user.city_tier, item.category, properties.KEY ...")
@click.option("--events", "events", help="Only these events, e.g. purchase or view,cart or purchase:channel=ads.")
@click.option("--new-user", type=click.Choice([n.value for n in NewUser]), default="first_event", show_default=True)
def trends(
    db: str | None,
    start: str | None,
    end: str | None,
    metrics: tuple[str, ...],
    period: str,
    breakdown: str | None,
    events: str | None,
    new_user: str,
    **opts: Any,
) -> None:
    """New users, DAU/WAU/MAU, orders, revenue, AOV, conversion per day/week/month."""
    settings = make_settings(db=db)
    q = TrendsQuery(
        tuple(TrendMetric(m) for m in metrics),
        _range(settings, start, end),
        period=Period(period),
        breakdown=Breakdown(breakdown) if breakdown else None,
        filters=_filter(events) if events else None,
        new_user=NewUser(new_user),
    )
    r = run_insight(settings, q)
    _emit(settings, r, r.frame, "Trends", opts)


@analytics.command()
@_common
@click.option("--period", type=click.Choice(["week", "month"]), default="week", show_default=True)
@click.option("--distribution", is_flag=True, help="Show active days per user instead of DAU/MAU.")
def stickiness(
    db: str | None, start: str | None, end: str | None, period: str, distribution: bool, **opts: Any
) -> None:
    """DAU/MAU over time, or the distribution of active days per user per week/month."""
    settings = make_settings(db=db)
    r = run_insight(settings, StickinessQuery(_range(settings, start, end), period=Period(period)))
    _emit(settings, r, r.distribution if distribution else r.ratio, "Stickiness", opts)


@analytics.command()
@_common
@click.option("--period", type=PERIODS, default="week", show_default=True)
@click.option("--new-user", type=click.Choice([n.value for n in NewUser]), default="first_event", show_default=True)
def lifecycle(db: str | None, start: str | None, end: str | None, period: str, new_user: str, **opts: Any) -> None:
    """New, returning, resurrecting and dormant users per period (dormant as negative counts)."""
    settings = make_settings(db=db)
    r = run_insight(
        settings, LifecycleQuery(_range(settings, start, end), period=Period(period), new_user=NewUser(new_user))
    )
    _emit(settings, r, r.frame, "Lifecycle", opts)


@analytics.command()
@_common
@click.option("--activation", default="purchase", show_default=True, help="Key action, e.g. purchase or cart.")
@click.option("--activation-days", default=7, show_default=True, help="Days after signup to do the key action.")
@click.option("--retention-day", default=30, show_default=True, help="First day of the retention window.")
@click.option("--retention-days", default=7, show_default=True, help="Length of the retention window in days.")
def aarrr(
    db: str | None,
    start: str | None,
    end: str | None,
    activation: str,
    activation_days: int,
    retention_day: int,
    retention_days: int,
    **opts: Any,
) -> None:
    """Acquisition, activation, retention, revenue and referral (K-factor, viral cycle time)."""
    settings = make_settings(db=db)
    q = AarrrQuery(
        _range(settings, start, end),
        activation=_filter(activation),
        activation_days=activation_days,
        retention=RetentionWindow(start_day=retention_day, length_days=retention_days),
    )
    r = run_insight(settings, q)
    _emit(settings, r, r.to_frame(), "AARRR", opts)


@analytics.command()
@_common
@click.option(
    "--step",
    "steps",
    multiple=True,
    required=True,
    help="A step, in order: view, or purchase:channel=ads (give 2 or more).",
)
@click.option("--window", default=7.0, show_default=True, help="Conversion window in days.")
@click.option("--order", type=click.Choice(["ordered", "strict", "unordered"]), default="ordered", show_default=True)
@click.option("--exclude", "exclusions", multiple=True, help="An event that voids a conversion, e.g. refund.")
@click.option("--breakdown", help="channel, user.channel, properties.KEY ...")
@click.option(
    "--attribution", type=click.Choice(["first_touch", "last_touch"]), default="first_touch", show_default=True
)
def funnel(
    db: str | None,
    start: str | None,
    end: str | None,
    steps: tuple[str, ...],
    window: float,
    order: Any,
    exclusions: tuple[str, ...],
    breakdown: str | None,
    attribution: Any,
    **opts: Any,
) -> None:
    """Conversion through ordered steps, with drop-off and time to convert."""
    settings = make_settings(db=db)
    fsteps = []
    for s in steps:
        f = _filter(s)
        fsteps.append(FunnelStep(f.event_types[0], f.where))
    q = FunnelQuery(
        tuple(fsteps),
        _range(settings, start, end),
        timedelta(days=window),
        order=order,
        exclusions=tuple(FunnelExclusion(FunnelStep(e)) for e in exclusions),
        breakdown=Breakdown(breakdown) if breakdown else None,
        attribution=attribution,
    )
    r = run_insight(settings, q)
    _emit(settings, r, r.to_frame(), "Funnel", opts)


@analytics.command()
@_common
@click.option("--start-event", default="", help="Cohort event, e.g. signup (default: any event).")
@click.option("--return-event", default="", help="Return event, e.g. purchase (default: any event).")
@click.option("--period", type=PERIODS, default="week", show_default=True)
@click.option("--periods", default=8, show_default=True, help="Last period number shown.")
@click.option("--cohort", type=click.Choice(["first", "recurring"]), default="first", show_default=True)
@click.option("--mode", type=click.Choice(["exact", "unbounded"]), default="exact", show_default=True)
@click.option("--windows", type=click.Choice(["calendar", "rolling"]), default="calendar", show_default=True)
@click.option("--measure", type=click.Choice(["users", "revenue"]), default="users", show_default=True)
@click.option("--ltv", is_flag=True, help="Show the cumulative revenue per cohort user (LTV curve) instead.")
@click.option("--breakdown", help="user.channel, channel, ...")
def retention(
    db: str | None,
    start: str | None,
    end: str | None,
    start_event: str,
    return_event: str,
    period: str,
    periods: int,
    cohort: Any,
    mode: Any,
    windows: Any,
    measure: Any,
    ltv: bool,
    breakdown: str | None,
    **opts: Any,
) -> None:
    """Cohort retention (users or revenue), or the LTV curve."""
    settings = make_settings(db=db)
    rng = _range(settings, start, end)
    bd = Breakdown(breakdown) if breakdown else None
    if ltv:
        r = run_insight(
            settings,
            LtvQuery(
                rng,
                start_event=_filter(start_event),
                period=Period(period),
                periods=periods,
                windows=windows,
                breakdown=bd,
            ),
        )
        _emit(settings, r, r.to_frame(), "LTV curve", opts)
        return
    q = RetentionQuery(
        _filter(start_event),
        _filter(return_event),
        rng,
        period=Period(period),
        periods=periods,
        cohort=cohort,
        mode=mode,
        windows=windows,
        measure=measure,
        breakdown=bd,
    )
    r = run_insight(settings, q)
    _emit(settings, r, r.to_frame(), "Retention", opts)
