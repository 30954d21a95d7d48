"""``growthkit predict``: churn risk or purchase propensity per user (``scores`` table), and which
previously bought products each user's next order will contain (``reorder_scores`` table)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import click
from rich.table import Table

from growthkit.cli.app import cli, db_option, make_settings, out
from growthkit.errors import ConfigError
from growthkit.models.churn import LANGS, MODELS, ChurnEvaluation
from growthkit.models.reorder import ReorderEvaluation
from growthkit.workflows.churn import POPULATIONS, ChurnScores, score_churn
from growthkit.workflows.reorder import PROTOCOLS as REORDER_PROTOCOLS
from growthkit.workflows.reorder import TRAIN_ON, score_reorder

DAY = click.DateTime(["%Y-%m-%d"])


def parse_horizon(text: str) -> int:
    """``30d``, ``4w`` or ``30`` as a number of days."""
    m = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text.lower())
    if m is None or int(m.group(1)) < 1:
        raise ConfigError(f"--horizon must look like 30d, 4w or 30 (days), not {text!r}")
    return int(m.group(1)) * (7 if m.group(2) == "w" else 1)


@cli.group()
def predict() -> None:
    """Churn risk, purchase propensity and reorders (gradient boosting, calibrated; see docs/churn.md)."""


def evaluation_table(ev: ChurnEvaluation) -> Table:
    """The backtest: every scorer's ROC-AUC, PR-AUC, Brier and top-decile lift on the same users."""
    caption = (
        f"trained at {ev.train_cutoff:%Y-%m-%d} ({ev.n_train:,} users), tested at {ev.test_cutoff:%Y-%m-%d} "
        f"({ev.n_test:,} users, {ev.test_rate:.1%} positive); calibration: {ev.calibration}"
    )
    t = Table(title=f"backtest: {ev.target} within {ev.horizon_days} days", caption=caption)
    for c in ("model", "ROC-AUC", "PR-AUC", "Brier", "ECE", "top-decile lift", "top-decile capture"):
        t.add_column(c, justify="left" if c == "model" else "right")
    for m in ev.metrics:
        t.add_row(
            m.model,
            f"{m.roc_auc:.3f}",
            f"{m.pr_auc:.3f}",
            f"{m.brier:.4f}",
            f"{m.ece:.3f}",
            f"{m.lift_top_decile:.2f}x",
            f"{m.capture_top_decile:.1%}",
        )
    return t


def summary_table(res: ChurnScores) -> Table:
    """What was written: users, mean score, at-risk users and their revenue."""
    t = Table(title=f"{res.target} scores ({res.model}, {res.horizon_days} days after {res.cutoff:%Y-%m-%d})")
    t.add_column("", style="dim")
    t.add_column("")
    word = "churn" if res.target == "churn" else "purchase"
    rows = {
        "users scored": f"{res.users:,} ({res.population})",
        f"mean P({word})": f"{res.mean_score:.3f} (top decile {res.top_decile_mean:.3f})",
        "top 2 risk deciles": f"{res.at_risk_users:,} users, revenue to date {res.at_risk_revenue:,.0f} "
        f"of {res.total_revenue:,.0f}",
        "trained on": f"features at {res.train_cutoff:%Y-%m-%d}, labels to {res.cutoff:%Y-%m-%d}",
        "calibration": res.calibration,
        "written to": res.table,
    }
    for k, v in rows.items():
        t.add_row(k, v)
    return t


def _run(target: str, **kw: Any) -> None:
    as_json = kw.pop("as_json")
    cutoff: datetime | None = kw.pop("cutoff")
    params: dict[str, Any] = {"random_state": kw.pop("seed")}
    if kw.get("model") == "lightgbm":
        params["n_estimators"] = kw.pop("trees")
    else:
        kw.pop("trees")
    res = score_churn(
        make_settings(db=kw.pop("db")),
        target=target,
        horizon_days=parse_horizon(kw.pop("horizon")),
        cutoff=cutoff,
        label_events=None if kw.pop("any_activity") else ("purchase",),
        params=params,
        **kw,
    )
    if as_json:
        click.echo(json.dumps(res.to_dict(), indent=2, ensure_ascii=False))
        return
    out.print(summary_table(res))
    if res.evaluation is not None:
        out.print(evaluation_table(res.evaluation))
    for note in res.notes:
        out.print(f"[yellow]note[/] {note}")


def _options(f: Any) -> Any:
    options = [
        db_option,
        click.option("--horizon", default="30d", show_default=True, help="Horizon after the cutoff: 30d, 4w or days."),
        click.option("--cutoff", type=DAY, help="Score as of this day (default: the day after the last event)."),
        click.option("--model", type=click.Choice(MODELS), default="lightgbm", show_default=True),
        click.option("--population", type=click.Choice(POPULATIONS), help="Who is scored (default: see docs)."),
        click.option("--lang", type=click.Choice(LANGS), default="en", show_default=True, help="Language of reasons."),
        click.option("--top", type=click.IntRange(1, 10), default=3, show_default=True, help="Reasons per user."),
        click.option("--trees", type=click.IntRange(1), default=200, show_default=True, help="Boosting rounds."),
        click.option("--seed", type=int, default=0, show_default=True, help="Random seed."),
        click.option("--no-evaluate", "evaluate", flag_value=False, default=True, help="Skip the backtest."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


@predict.command("churn")
@_options
@click.option(
    "--any-activity", is_flag=True, help="Churn = no own action at all in the horizon (default: no purchase)."
)
def churn_cmd(**kw: Any) -> None:
    """P(no purchase within the horizon) for every customer, with the top reasons, into the scores table.

    \b
    Examples:
      growthkit predict churn --db shop.duckdb --horizon 30d
      growthkit predict churn --horizon 60d --cutoff 2025-06-01 --lang zh --json
    """
    _run("churn", **kw)


@predict.command("purchase")
@_options
def purchase_cmd(**kw: Any) -> None:
    """P(at least one purchase within the horizon) for every user, with the top reasons, into the scores table.

    \b
    Example:
      growthkit predict purchase --db shop.duckdb --horizon 14d
    """
    _run("purchase", any_activity=False, **kw)


def reorder_evaluation_table(ev: ReorderEvaluation) -> Table:
    """The reorder backtest: every scorer's ranking and basket F1 on the same target orders."""
    caption = (
        f"trained on {ev.n_train_users:,} users ({ev.train_on}), tested on {ev.n_test_users:,} users' "
        f"{ev.protocol} orders; {ev.reorder_share:.1%} of their items were bought before (the ceiling), "
        f"always predicting None scores F1 {ev.f1_none:.3f}; calibration: {ev.calibration}. "
        "P@size, R@size: each user's top k, k = the size of the target order; F1 per order with a global "
        "threshold, by expected-F1 maximisation, and of the top N (N = the user's mean basket)"
    )
    t = Table(title=f"backtest: reorders in the {ev.protocol} order", caption=caption)
    t.add_column("model", no_wrap=True)
    for c in ("ROC-AUC", "PR-AUC", "P@size", "R@size", "F1 thr.", "F1 exp.", "F1 top-N"):
        t.add_column(c, justify="right")
    for m in ev.metrics:
        vals = (m.roc_auc, m.pr_auc, m.precision_at_basket, m.recall_at_basket, m.f1_threshold, m.f1_expected)
        cells = ["-" if v != v else f"{v:.3f}" for v in (*vals, m.f1_top_n)]
        t.add_row(m.model, *cells)
    return t


def _window(text: str) -> int:
    try:
        return parse_horizon(text)
    except ConfigError:
        raise ConfigError(f"--window must look like 30d, 4w or 30 (days), not {text!r}") from None


@predict.command("reorder")
@db_option
@click.option("--cutoff", type=DAY, help="Use only purchases before this day (default: all).")
@click.option("--model", type=click.Choice(MODELS), default="lightgbm", show_default=True)
@click.option(
    "--protocol", type=click.Choice(REORDER_PROTOCOLS), default="last", show_default=True,
    help="Backtest target: each user's last order, or the first order in the last --window days.",
)  # fmt: skip
@click.option(
    "--train-on", type=click.Choice(TRAIN_ON), default="previous", show_default=True,
    help="Backtest training: the order before each user's target, or other users.",
)  # fmt: skip
@click.option("--window", default="30d", show_default=True, help="Window of the cutoff protocol: 30d, 4w or days.")
@click.option("--trees", type=click.IntRange(1), default=200, show_default=True, help="Boosting rounds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--evaluate/--no-evaluate", default=True, show_default=True, help="Run the backtest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def reorder_cmd(**kw: Any) -> None:
    """P(item in the next order) for every item each user bought before, into the reorder_scores table.

    Each user's predicted basket (expected-F1 maximisation) is marked in the "selected" column.

    \b
    Examples:
      growthkit predict reorder --db shop.duckdb
      growthkit predict reorder --db shop.duckdb --protocol cutoff --window 30d --evaluate --json
    """
    params: dict[str, Any] = {"random_state": kw.pop("seed")}
    trees = kw.pop("trees")
    if kw["model"] == "lightgbm":
        params["n_estimators"] = trees
    res = score_reorder(
        make_settings(db=kw.pop("db")),
        cutoff=kw.pop("cutoff"),
        model=kw.pop("model"),
        params=params,
        evaluate=kw.pop("evaluate"),
        protocol=kw.pop("protocol"),
        train_on=kw.pop("train_on"),
        window_days=_window(kw.pop("window")),
    )
    if kw.pop("as_json"):
        click.echo(json.dumps(res.to_dict(), indent=2, ensure_ascii=False))
        return
    t = Table(title=f"reorder scores ({res.model}, as of {res.as_of:%Y-%m-%d})")
    t.add_column("", style="dim")
    t.add_column("")
    rows = {
        "users scored": f"{res.users:,} ({res.pairs:,} items bought before)",
        "predicted baskets": f"{res.selected:,} items, {res.mean_basket:.1f} per user; "
        f"{res.users_predict_none:,} users may reorder nothing",
        "calibration": f"{res.calibration}; global threshold {res.threshold:.2f}",
        "written to": res.table,
    }
    for k, v in rows.items():
        t.add_row(k, v)
    out.print(t)
    if res.evaluation is not None:
        out.print(reorder_evaluation_table(res.evaluation))
    for note in res.notes:
        out.print(f"[yellow]note[/] {note}")
