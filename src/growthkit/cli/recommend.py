"""``growthkit recommend``: evaluate recommenders, train one on the store, ask it for a user or an item."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from growthkit.cli.app import cli, db_option, err, make_settings, out, progress_bar
from growthkit.errors import ConfigError
from growthkit.models.recommend.evaluate import EvaluationReport
from growthkit.models.recommend.splits import BASKET_VARIANTS, SPLIT_KINDS
from growthkit.workflows.recommend import (
    DEFAULT_K,
    DEFAULT_MODEL,
    REASON_SCOPES,
    evaluate_recommenders,
    recommend_for_user,
    similar_to_item,
    train_recommendations,
)
from growthkit.workflows.recommend_data import SOURCES

SHOWN = ("recall", "ndcg", "hit", "mrr", "map")


@cli.group()
def recommend() -> None:
    """Recommendations: evaluate models on real or simulated data, train one, ask it (see docs/recommend.md)."""


def _ks(value: str) -> tuple[int, ...]:
    try:
        ks = tuple(sorted({int(v) for v in value.split(",") if v.strip()}))
    except ValueError:
        raise ConfigError(f"--k takes whole numbers separated by commas (e.g. 10,20), not {value!r}") from None
    if not ks or ks[0] < 1:
        raise ConfigError(f"--k needs positive whole numbers, got {value!r}")
    return ks


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def metrics_table(report: EvaluationReport) -> Table:
    """One row per model: per-user metrics (± standard error of the main one), catalogue metrics, times."""
    p = report.protocol
    t = Table(
        title=f"{p.dataset or 'store'} · {p.split} split · {p.users:,} test users · {p.items:,} items",
        caption=p.description,
    )
    t.add_column("model", justify="left")
    k0 = p.ks[0]
    cols = [f"{m}@{k0}" for m in SHOWN] + [f"{m}@{k}" for k in p.ks[1:] for m in ("recall", "ndcg")]
    extra = [c for c in (f"true_ndcg@{k0}", f"coverage@{k0}", f"gini@{k0}", f"avg_pop@{k0}") if c in report.table]
    for c in [*cols, *extra, "fit_s"]:
        t.add_column(c.replace("coverage", "cov").replace("avg_pop", "pop"), justify="right")
    main = f"ndcg@{k0}"
    for name, row in report.table.iterrows():
        cells = []
        for c in cols:
            cell = _fmt(row.get(c))
            if c == main:
                cell += f" ±{_fmt(report.errors[c].get(name), 3)}"
            cells.append(cell)
        cells += [_fmt(row.get(c), 3) for c in extra]
        cells.append(_fmt(row.get("fit_s"), 1))
        t.add_row(str(name), *cells)
    return t


def published_table(report: EvaluationReport) -> Table | None:
    """The published rows of the same protocol beside our best model."""
    pub = report.published
    if pub is None:
        return None
    metrics = ["map@10", "ndcg@10", "precision@10", "recall@10"]
    t = Table(title="published, same protocol", caption=f"{pub.source}: {pub.url}")
    t.add_column("model", justify="left")
    for m in metrics:
        t.add_column(m, justify="right")
    for name, row in pub.rows.items():
        t.add_row(name, *(_fmt(row.get(m)) for m in metrics))
    best = report.best("ndcg@10")
    t.add_row(f"[bold]ours: {best}[/]", *(f"[bold]{_fmt(report.table.loc[best, m])}[/]" for m in metrics))
    return t


def slices_table(report: EvaluationReport) -> Table:
    """Per model and slice: users and the main metrics."""
    k = report.protocol.ks[0]
    t = Table(title="slices")
    for c in ("model", "slice", "users", f"recall@{k}", f"ndcg@{k}", f"hit@{k}"):
        t.add_column(c, justify="left" if c in ("model", "slice") else "right")
    for r in report.slices.to_dict(orient="records"):
        if r["users"] == 0:
            continue
        t.add_row(str(r["model"]), str(r["slice"]), f"{r['users']:,}",
                  *(_fmt(r.get(f"{m}@{k}")) for m in ("recall", "ndcg", "hit")))  # fmt: skip
    return t


def print_report(report: EvaluationReport) -> None:
    """The evaluation for people."""
    out.print(metrics_table(report))
    pub = published_table(report)
    if pub is not None:
        out.print(pub)
    out.print(slices_table(report))
    for name, s in report.searches.items():
        out.print(f"[dim]tuned {name} on {s.validation_users:,} validation users: {s.best_params} "
                  f"({s.metric} {s.best_score:.4f}, {len(s.trials)} trials)[/]")  # fmt: skip
    for note in report.notes:
        out.print(f"[yellow]note[/] {note}")


@recommend.command("evaluate")
@db_option
@click.option(
    "--dataset", type=click.Choice(SOURCES), help="A sample dataset or a simulated shop (default: the store)."
)
@click.option("--split", "split", type=click.Choice(SPLIT_KINDS), help="Protocol (default per dataset, see docs).")
@click.option("--models", help="Comma-separated registry names (default: every registered model).")
@click.option("--k", "k", default="10,20", show_default=True, help="Cut-offs, comma-separated.")
@click.option("--tune", is_flag=True, help="Search each model's grid on a validation split cut from the training part.")
@click.option("--trials", default=8, show_default=True, help="At most this many settings per model with --tune.")
@click.option("--basket", type=click.Choice(BASKET_VARIANTS), default="all", show_default=True,
              help="Next-basket truth: all items of the last order, only reorders, or only new items.")  # fmt: skip
@click.option("--seed", type=int, help="Split seed (default: the protocol's).")
@click.option("--sim-users", default=3000, show_default=True, help="Customers of the simulated shop (--dataset sim).")
@click.option("--sim-days", default=120, show_default=True, help="Days of the simulated shop (--dataset sim).")
@click.option("--truth", "truth_dir", type=click.Path(path_type=Path, file_okay=False),
              help="The simulator's truth/ folder, for the oracle NDCG on a simulated store.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def evaluate_cmd(
    db: str | None,
    dataset: str | None,
    split: str | None,
    models: str | None,
    k: str,
    tune: bool,
    trials: int,
    basket: str,
    seed: int | None,
    sim_users: int,
    sim_days: int,
    truth_dir: Path | None,
    as_json: bool,
) -> None:
    """Evaluate recommenders with full ranking: Recall, NDCG, MRR, hit rate, MAP, coverage, Gini, popularity.

    \b
    Examples:
      growthkit recommend evaluate --dataset ml-100k --split stratified --models popularity,itemknn,ease,als,hybrid
      growthkit recommend evaluate --dataset instacart-sample --basket reorders --json
      growthkit recommend evaluate --dataset sim --split temporal
      growthkit recommend evaluate --db shop.duckdb --split leave-last
    """
    names = [m.strip() for m in models.split(",") if m.strip()] if models else None
    with progress_bar(enabled=err.is_terminal and not as_json) as update:
        report = evaluate_recommenders(
            make_settings(db=db), dataset=dataset, split=split, models=names, ks=_ks(k), tune=tune,
            max_trials=trials, seed=seed, basket=basket, sim_users=sim_users, sim_days=sim_days,
            truth_dir=truth_dir, progress=update,
        )  # fmt: skip
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        print_report(report)


@recommend.command("train")
@db_option
@click.option("--model", default=DEFAULT_MODEL, show_default=True, help="Registry name of the model.")
@click.option("--k", default=DEFAULT_K, show_default=True, help="Recommendations stored per user.")
@click.option("--params", help="Model parameters as JSON, e.g. '{\"l2\": 200}'.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Language of reasons.")
@click.option("--reasons", type=click.Choice(REASON_SCOPES), default="all", show_default=True,
              help="Whose lists pass the business rules and get reasons (a few ms per user).")  # fmt: skip
@click.option("--save/--no-save", default=True, show_default=True, help="Save the fitted model for `for`/`similar`.")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
def train_cmd(
    db: str | None, model: str, k: int, params: str | None, lang: str, reasons: str, save: bool, as_json: bool
) -> None:
    """Fit a model on every interaction in the store and write each user's top-k to `recommendations`.

    \b
    Example:
      growthkit recommend train --db shop.duckdb --model ease --k 20
    """
    try:
        extra = json.loads(params) if params else None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--params is not valid JSON: {exc}") from None
    if extra is not None and not isinstance(extra, dict):
        raise ConfigError("--params must be a JSON object of parameter names and values")
    with progress_bar(enabled=err.is_terminal and not as_json) as update:
        run = train_recommendations(
            make_settings(db=db),
            model=model,
            params=extra,
            k=k,
            lang=lang,
            reasons=reasons,
            save=save,
            progress=update,
        )
    if as_json:
        click.echo(json.dumps(run.to_dict(), indent=2, ensure_ascii=False, default=str))
        return
    out.print(
        f"{run.model}: {run.users:,} users x {run.items:,} items ({run.interactions:,} interactions), fitted in "
        f"{run.fit_seconds:.1f} s; {run.rows:,} recommendations written to {run.table} "
        f"({run.explained_users:,} users with reasons)"
    )
    if run.model_path:
        out.print(f"model saved to {run.model_path}")


@recommend.command("for")
@db_option
@click.option("--user", "user_id", required=True, help="The shop's user id.")
@click.option("--k", default=10, show_default=True, help="How many items.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Language of reasons.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def for_cmd(db: str | None, user_id: str, k: int, lang: str, as_json: bool) -> None:
    """Top-k for one user from the trained model with reasons, and their recent history (catalogue titles)."""
    ex = recommend_for_user(make_settings(db=db), user_id, k=k, lang=lang)
    if as_json:
        click.echo(json.dumps(ex.to_dict(), indent=2, ensure_ascii=False))
        return
    if ex.fallback:
        out.print(f"[yellow]{user_id} is unknown to the model: popular items instead[/]")
    hist = Table(title=f"recent history of {user_id}")
    for c in ("item", "title", "last event"):
        hist.add_column(c)
    for s in ex.history:
        hist.add_row(s.item_id, s.title, s.detail)
    out.print(hist)
    recs = Table(title=f"recommended for {user_id}")
    for c in ("#", "item", "title", "score", "reason"):
        recs.add_column(c, justify="right" if c in ("#", "score") else "left")
    for i, s in enumerate(ex.recommendations, 1):
        recs.add_row(str(i), s.item_id, s.title, _fmt(s.score), s.detail)
    out.print(recs)


@recommend.command("similar")
@db_option
@click.option("--item", "item_id", required=True, help="The shop's item id.")
@click.option("--k", default=10, show_default=True, help="How many items.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def similar_cmd(db: str | None, item_id: str, k: int, as_json: bool) -> None:
    """The k items most similar to one item, by the trained model."""
    frame = similar_to_item(make_settings(db=db), item_id, k=k)
    if as_json:
        click.echo(json.dumps(frame.to_dict(orient="records"), indent=2, ensure_ascii=False))
        return
    t = Table(title=f"similar to {item_id}")
    for c in ("#", "item", "title", "score"):
        t.add_column(c, justify="right" if c in ("#", "score") else "left")
    for r in frame.to_dict(orient="records"):
        t.add_row(str(r["rank"]), str(r["item_id"]), str(r["title"]), _fmt(r["score"]))
    out.print(t)
