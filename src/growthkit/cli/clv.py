"""``growthkit clv``: fit customer-lifetime-value models, check them on a holdout, score the store."""

from __future__ import annotations

import json
from datetime import date, datetime

import click
from rich.console import Console
from rich.table import Table

from growthkit.cli.app import cli, db_option, make_settings, out
from growthkit.errors import ConfigError
from growthkit.models.clv import HoldoutCheck
from growthkit.workflows.clv import DATASET_PERIODS, MODELS, PERIOD_DAYS, TRANSACTION_MODELS, fit_clv, score_clv

DAY = click.DateTime(["%Y-%m-%d"])


@cli.group()
def clv() -> None:
    """Customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma models (see docs/clv.md)."""


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def holdout_table(check: HoldoutCheck) -> Table:
    """Predicted against actual holdout purchases per calibration frequency, and the totals."""
    t = Table(
        title="holdout: repeat purchases by calibration frequency",
        caption=f"after {check.calibration_end}, to {check.holdout_end} ({check.duration:g} {check.unit})",
    )
    for c in ("frequency", "customers", "actual", "predicted", "actual / customer", "predicted / customer"):
        t.add_column(c, justify="right")
    for b in check.buckets:
        t.add_row(
            b.label,
            f"{b.customers:,}",
            f"{b.actual:,.0f}",
            f"{b.predicted:,.1f}",
            f"{b.actual_mean:.3f}",
            f"{b.predicted_mean:.3f}",
        )
    t.add_row("[bold]total", f"{check.customers:,}", f"{check.total_actual:,.0f}", f"{check.total_predicted:,.1f}")
    return t


def _params(console: Console, title: str, params: dict[str, float], rows: dict[str, str]) -> None:
    t = Table(title=title, show_header=False)
    for k, v in params.items():
        t.add_row(k, f"{v:.4f}")
    for k, text in rows.items():
        t.add_row(f"[dim]{k}", text)
    console.print(t)


@clv.command("fit")
@db_option
@click.option("--dataset", help=f"Fit on a sample dataset instead of the store, e.g. {', '.join(DATASET_PERIODS)}.")
@click.option("--model", type=click.Choice(MODELS), default="bgnbd", show_default=True)
@click.option("--calibration-end", type=DAY, help="Last day of the fitting period (default: last purchase day).")
@click.option("--holdout-end", type=DAY, help="Also compare the forecast with the purchases up to this day.")
@click.option("--unit", type=click.Choice(["W", "D"]), default="W", show_default=True, help="Weeks or days.")
@click.option("--starts", type=int, default=3, show_default=True, help="Optimisation starts.")
@click.option("--json", "as_json", is_flag=True, help="Print the fit as JSON.")
def fit_cmd(
    db: str | None,
    dataset: str | None,
    model: str,
    calibration_end: datetime | None,
    holdout_end: datetime | None,
    unit: str,
    starts: int,
    as_json: bool,
) -> None:
    """Fit a model by maximum likelihood and print its parameters and log-likelihood.

    \b
    Examples:
      growthkit clv fit --dataset cdnow-sample --model bgnbd --json
      growthkit clv fit --db shop.duckdb --model paretonbd --calibration-end 2025-03-31 --holdout-end 2025-06-30
    """
    if dataset is not None and db is not None:
        raise ConfigError("give either --dataset NAME or --db PATH, not both")
    res = fit_clv(
        make_settings(db=db),
        model=model,
        dataset=dataset,
        calibration_end=_day(calibration_end),
        holdout_end=_day(holdout_end),
        unit="W" if unit == "W" else "D",
        n_starts=starts,
    )
    if as_json:
        click.echo(json.dumps(res.to_dict(), indent=2))
        return
    rows = {
        "log-likelihood": f"{res.log_likelihood:,.3f}",
        "customers": f"{res.customers:,.0f} ({res.distinct:,} distinct)",
        "starts at the optimum": f"{res.agreeing_starts} of {res.starts}"
        + ("" if res.converged else " (not converged)"),
        "calibration end": res.calibration_end.isoformat(),
        "seconds": f"{res.seconds:.2f}",
    }
    unit_name = "weeks" if res.unit == "W" else "days"
    _params(out, f"{res.model} ({dataset or 'store'}, time in {unit_name})", res.params, rows)
    if res.holdout is not None:
        out.print(holdout_table(res.holdout))


@clv.command("score")
@db_option
@click.option("--model", type=click.Choice(list(TRANSACTION_MODELS)), default="bgnbd", show_default=True)
@click.option("--horizon", type=int, default=12, show_default=True, help="CLV horizon, in periods.")
@click.option("--period", type=click.Choice(list(PERIOD_DAYS)), default="month", show_default=True)
@click.option("--discount-rate", type=float, default=0.01, show_default=True, help="Per period (0.01 = 1 %).")
@click.option("--calibration-end", type=DAY, help="Last day of data used (default: last purchase day).")
@click.option("--holdout-days", type=int, help="Also check the model on the last N days (saved for the report).")
@click.option("--unit", type=click.Choice(["W", "D"]), default="W", show_default=True, help="Model time unit.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def score_cmd(
    db: str | None,
    model: str,
    horizon: int,
    period: str,
    discount_rate: float,
    calibration_end: datetime | None,
    holdout_days: int | None,
    unit: str,
    as_json: bool,
) -> None:
    """Write each customer's P(alive), expected purchases, expected spend and CLV to the clv_scores table.

    \b
    Example:
      growthkit clv score --db shop.duckdb --horizon 12 --period month --discount-rate 0.01 --holdout-days 91
    """
    res = score_clv(
        make_settings(db=db),
        model=model,
        horizon=horizon,
        period=period,
        discount_rate=discount_rate,
        calibration_end=_day(calibration_end),
        holdout_days=holdout_days,
        unit="W" if unit == "W" else "D",
    )
    if as_json:
        click.echo(json.dumps(res.to_dict(), indent=2))
        return
    rows = {
        "customers scored": f"{res.customers:,}",
        "expected purchases": f"{res.expected_purchases:,.1f} in {res.horizon} {res.period_days:g}-day periods",
        "total CLV": "-" if res.total_clv is None else f"{res.total_clv:,.2f} (discount {res.discount_rate:g}/period)",
        "mean P(alive)": f"{res.mean_p_alive:.3f}",
        "written to": res.table,
    }
    params = dict(res.params) | {f"spend {k}": v for k, v in (res.spend_params or {}).items()}
    _params(out, f"{res.model} + gamma-gamma, data to {res.calibration_end}", params, rows)
    for note in res.notes:
        out.print(f"[yellow]note[/] {note}")
    if res.holdout is not None:
        out.print(holdout_table(res.holdout))
