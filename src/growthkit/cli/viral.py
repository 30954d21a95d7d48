"""``growthkit viral``: seed selection, social-graph analysis, referral numbers (``--json`` for machines)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
import pandas as pd
from rich import box
from rich.table import Table

from growthkit.analytics.referral import ReferralQuery, ReferralResult
from growthkit.cli.analytics import analytics
from growthkit.cli.app import cli, db_option, err, make_settings, out, progress_bar
from growthkit.models.influence import SpreadEstimate, TruthComparison
from growthkit.schema import EDGE_KINDS
from growthkit.workflows.analytics import data_range, insight_actors
from growthkit.workflows.results import DateRange, Period, SimConfig
from growthkit.workflows.viral import ALGORITHMS, SeedRequest, SeedResult, select_seeds
from growthkit.workflows.viral_analyze import GraphAnalysis, analyze_graph, referral_insight
from growthkit.workflows.viral_check import CHECK_MODELS, SimulatorCheck, simulator_check
from growthkit.workflows.viral_graph import PROB_MODELS, GraphSpec

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
SPREADER_COLUMNS = ("user_id", "direct", "total", "depth", "out_degree", "pagerank_rank")


@cli.group()
def viral() -> None:
    """Viral and referral marketing: whom to seed, how the graph looks, what referrals bring (docs/viral.md)."""


def _graph_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        db_option,
        click.option("--graph", "graph_file", type=FILE, help="Edge list 'src dst [prob]' instead of the store."),
        click.option("--undirected", is_flag=True, help="Read each edge-list line as a tie both ways."),
        click.option(
            "--kinds",
            default=",".join(EDGE_KINDS),
            show_default=True,
            help="Edge kinds from the store's edges table.",
        ),
        click.option("--threads", type=int, help="Threads (default: $GROWTHKIT_THREADS or 2)."),
        click.option("--seed", "random_state", type=int, default=0, show_default=True, help="Random seed."),
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


def _kinds(text: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in text.split(",") if k.strip())


def _num(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


# --------------------------------------------------------------------------- seeds


@viral.command()
@_graph_options
@click.option("--k", "k", type=int, help="Seeds to choose (default 50; with --budget a cap on the count).")
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default="imm", show_default=True)
@click.option("--model", type=click.Choice(["ic", "lt"]), default="ic", show_default=True, help="Diffusion model.")
@click.option("--prob", type=click.Choice(PROB_MODELS), default="weighted-cascade", show_default=True)
@click.option("--p", "p", type=float, default=0.1, show_default=True, help="Edge probability of --prob uniform.")
@click.option("--cascades", type=FILE, help="Cascade log (Parquet/CSV: exposures, activations) for --prob cascades.")
@click.option("--epsilon", type=float, default=0.5, show_default=True, help="IMM/OPIM-C slack: 1 - 1/e - epsilon.")
@click.option("--ell", type=float, default=1.0, show_default=True, help="Failure probability 1/n^ell.")
@click.option("--budget", type=float, help="Money for seeding (with --costs or --cost; default cost 1).")
@click.option("--costs", "costs_file", type=FILE, help="CSV user_id,cost.")
@click.option("--cost", type=float, help="One cost for every user.")
@click.option("--candidates", "candidates_file", type=FILE, help="File of user ids who may be seeded.")
@click.option("--segment", help="Only users of this saved segment (the store's segments table).")
@click.option("--consented", is_flag=True, help="Only users with users.marketing_consent = true.")
@click.option("--eval-sims", type=int, default=10_000, show_default=True, help="Independent Monte-Carlo check.")
@click.option("--celf-sims", type=int, default=1_000, show_default=True, help="Worlds CELF averages over.")
@click.option("--gain-sets", type=int, default=100_000, show_default=True, help="RR sets for marginal gains.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the seeds as CSV.")
def seeds(
    db: str | None,
    graph_file: Path | None,
    undirected: bool,
    kinds: str,
    threads: int | None,
    random_state: int,
    prob: str,
    p: float,
    cascades: Path | None,
    as_json: bool,
    as_csv: bool,
    **opts: Any,
) -> None:
    """Choose the users to seed so that the message reaches the most others.

    \b
    growthkit viral seeds --k 50 --model ic --prob weighted-cascade --json
    growthkit viral seeds --graph edges.txt --prob file --algorithm opimc --epsilon 0.1
    growthkit viral seeds --budget 500 --costs costs.csv --consented
    growthkit viral seeds --prob cascades --cascades share_cascades.parquet
    """
    settings = make_settings(db=db, threads=threads)
    spec = GraphSpec(
        kinds=_kinds(kinds), graph_file=graph_file, undirected=undirected, prob=prob, p=p, cascades=cascades
    )
    request = SeedRequest(random_state=random_state, **opts)
    with progress_bar(enabled=err.is_terminal and not (as_json or as_csv)) as update:
        result = select_seeds(settings, request, spec, progress=update)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif as_csv:
        frame = pd.DataFrame([vars(s) for s in result.seeds], columns=["rank", "user_id", "gain", "cumulative", "cost"])
        click.echo(frame.to_csv(index=False), nl=False)
    else:
        _print_seeds(result)


def _print_seeds(r: SeedResult) -> None:
    priced = r.budget is not None
    t = Table(title=f"Seeds: {r.algorithm.upper()} under {r.model.upper()} ({r.graph.prob} probabilities)")
    for c in ("rank", "user_id", "marginal gain", "cumulative", *(("cost",) if priced else ())):
        t.add_column(c, justify="left" if c == "user_id" else "right")
    for s in r.seeds:
        t.add_row(str(s.rank), s.user_id, _num(s.gain), _num(s.cumulative), *((f"{s.cost:,.2f}",) if priced else ()))
    out.print(t)
    g = r.graph
    out.print(f"graph: {g.n_nodes:,} users, {g.n_edges:,} edges from {g.source}; mean probability {g.mean_prob:.4f}")
    out.print(
        f"candidates: {r.candidates:,}" + (f"; budget {r.budget:,.2f}, spent {r.total_cost:,.2f}" if priced else "")
    )
    if r.spread is not None:
        e = r.spread
        out.print(
            f"[bold]expected spread: {e.mean:,.1f}[/] users, {e.confidence:.0%} CI [{e.ci_low:,.1f}, {e.ci_high:,.1f}] "
            f"(independent Monte Carlo, {e.n_sims:,} simulations)"
        )
    if r.selection_spread is not None:
        out.print(f"[dim]the algorithm's own estimate: {r.selection_spread:,.1f}[/]")
    out.print(f"guarantee: {r.guarantee.statement}")
    steps = ", ".join(f"{k} {v:.2f} s" for k, v in r.seconds.items())
    out.print(f"run time: {steps}")
    for note in r.notes:
        out.print(f"[dim]note: {note}[/]")


# --------------------------------------------------------------------------- analyze


@viral.command()
@_graph_options
@click.option("--top", type=int, default=10, show_default=True, help="Users listed per table.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def analyze(
    db: str | None,
    graph_file: Path | None,
    undirected: bool,
    kinds: str,
    threads: int | None,
    random_state: int,
    top: int,
    as_json: bool,
) -> None:
    """Degrees and power-law tail, top PageRank spreaders, communities, top referrers (by segment)."""
    settings = make_settings(db=db, threads=threads)
    spec = GraphSpec(kinds=_kinds(kinds), graph_file=graph_file, undirected=undirected)
    with progress_bar(enabled=err.is_terminal and not as_json) as update:
        res = analyze_graph(settings, spec, top=top, random_state=random_state, progress=update)
    if as_json:
        click.echo(json.dumps(res.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_analysis(res)


def _frame_table(df: pd.DataFrame, title: str) -> Table:
    t = Table(title=title)
    for c in df.columns:
        t.add_column(str(c), justify="right" if pd.api.types.is_numeric_dtype(df[c]) else "left")
    for row in df.itertuples(index=False):
        t.add_row(*(_cell(v) for v in row))
    return t


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1 else f"{v:,.2f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _print_analysis(a: GraphAnalysis) -> None:
    g = a.graph
    out.print(f"graph: {g.n_nodes:,} users, {g.n_edges:,} edges from {g.source}")
    t = Table(title="Degrees")
    for c in ("direction", "mean", "max", "degree 0", "power-law alpha", "x_min", "tail users", "KS"):
        t.add_column(c, justify="right")
    for d in a.degrees:
        alpha = "–" if d.alpha is None else f"{d.alpha:.2f} ± {d.alpha_sigma:.2f}"
        t.add_row(
            d.direction, f"{d.mean:.2f}", f"{d.max:,}", f"{d.zero:,}", alpha,
            _cell(d.xmin), _cell(d.n_tail), "–" if d.ks is None else f"{d.ks:.3f}",
        )  # fmt: skip
    out.print(t)
    out.print(_frame_table(a.top_pagerank, "Top spreaders by PageRank (edges walked backwards)"))
    sizes = ", ".join(f"{s:,}" for s in a.community_sizes[:8])
    out.print(f"communities (Louvain): {a.communities:,}, modularity {a.modularity:.3f}; largest {sizes}")
    if a.spreaders is not None:
        cols = [c for c in (*SPREADER_COLUMNS, "community", "segment") if c in a.spreaders.columns]
        out.print(_frame_table(a.spreaders[cols], "Top spreaders by observed referrals"))
    if a.by_segment is not None:
        out.print(_frame_table(a.by_segment, "Referrals by segment"))
    for note in a.notes:
        out.print(f"[dim]note: {note}[/]")


# --------------------------------------------------------------------------- referral analytics


def _range(settings: Any, start: str | None, end: str | None) -> DateRange:
    if start and end:
        return DateRange.parse(start, end)
    default = data_range(settings)
    last = date.fromisoformat(end) if end else default.end
    first = date.fromisoformat(start) if start else last - timedelta(days=27)
    return DateRange(first, last)


@viral.command()
@db_option
@click.option("--start", help="First day, YYYY-MM-DD (default: 28 days before --end).")
@click.option("--end", help="Last day, YYYY-MM-DD (default: the day of the last event).")
@click.option("--period", type=click.Choice(["day", "week", "month"]), default="week", show_default=True)
@click.option("--revenue-days", type=int, default=30, show_default=True, help="Revenue window after signup.")
@click.option("--campaign-key", help="Property of invite events naming the campaign.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON records.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the result as CSV.")
@click.option(
    "--actors",
    "actors",
    multiple=True,
    metavar="KEY=VALUE",
    help="List the users behind one number, e.g. --actors cell=referred --actors period=2025-03-03.",
)
def referral(
    db: str | None,
    start: str | None,
    end: str | None,
    period: str,
    revenue_days: int,
    campaign_key: str | None,
    as_json: bool,
    as_csv: bool,
    actors: tuple[str, ...],
) -> None:
    """K-factor, cycle time, referred share, revenue referred vs not, referral trees, per period."""
    settings = make_settings(db=db)
    q = ReferralQuery(
        _range(settings, start, end), period=Period(period), revenue_days=revenue_days, campaign_key=campaign_key
    )
    r = referral_insight(settings, q)
    if actors:
        cell: dict[str, Any] = {}
        for a in actors:
            key, _, value = a.partition("=")
            cell[key] = date.fromisoformat(value) if key == "period" else int(value) if key == "depth" else value
        ids = insight_actors(settings, r, **cell)
        click.echo(json.dumps(ids) if as_json else "\n".join(ids))
        return
    frame = r.to_frame()
    if as_json:
        click.echo(frame.to_json(orient="records", force_ascii=False))
    elif as_csv:
        click.echo(frame.to_csv(index=False), nl=False)
    else:
        _print_referral(r)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.1%}"


def _print_referral(r: ReferralResult) -> None:
    q, tot = r.query, r.totals
    out.print(f"[bold]Referral[/] {q.date_range.start} to {q.date_range.end}")
    out.print(
        f"K-factor {_num(tot.k_factor, 3)} = {tot.invites_accepted:,} accepted invites / {tot.active_users:,} active "
        f"users; {tot.invites_sent:,} invites sent by {tot.inviters:,} users; viral cycle "
        f"{_num(tot.viral_cycle_days)} days (median)"
    )
    out.print(
        f"new users {r.new_users:,}, referred {r.referred_users:,} ({_pct(r.share_referred)}); revenue in "
        f"{q.revenue_days} days per new user: referred {_num(r.referred_revenue.per_user, 2)}, "
        f"others {_num(r.other_revenue.per_user, 2)} (total {r.referred_revenue.revenue:,.2f} vs "
        f"{r.other_revenue.revenue:,.2f})"
    )
    tr = r.trees
    out.print(
        f"referral trees: {tr.trees:,} trees, {tr.referred_users:,} referred users, max depth {tr.max_depth}, "
        f"max breadth {tr.max_breadth}, {_num(tr.mean_direct, 2)} direct referrals per referrer"
    )
    t = Table(title=f"Per {q.period.value} (invites and active users: --json or --csv)", box=box.SIMPLE_HEAD)
    for c in ("period", "new", "referred", "share", "K", "cycle\ndays", "rev./user\nreferred", "rev./user\nother"):
        t.add_column(c, justify="right", min_width=10 if c == "period" else None)
    for p in r.periods:
        t.add_row(
            p.period.isoformat(), f"{p.new_users:,}", f"{p.referred_users:,}", _pct(p.share_referred),
            _num(p.k_factor, 3), _num(p.viral_cycle_days), _num(p.referred_revenue.per_user, 2),
            _num(p.other_revenue.per_user, 2),
        )  # fmt: skip
    out.print(t)


analytics.add_command(referral, "referral")  # also `growthkit analytics referral`, next to the other insights


# --------------------------------------------------------------------------- simulator check


@viral.command()
@click.option("--users", default=20_000, show_default=True, help="Customers in the simulated shop.")
@click.option("--days", default=180, show_default=True, help="Days of history.")
@click.option("--sim-seed", default=7, show_default=True, help="Simulator seed.")
@click.option("--k", "k", default=50, show_default=True, help="Seeds per method.")
@click.option("--epsilon", default=0.3, show_default=True, help="IMM's slack.")
@click.option("--eval-sims", default=5_000, show_default=True, help="Monte-Carlo simulations per seed set and graph.")
@click.option(
    "--prob", "--probs", "probs", multiple=True, type=click.Choice(CHECK_MODELS), help="Models (default: all)."
)
@click.option(
    "--bootstrap", default=20, show_default=True, help="Refits of the learned model on resampled cascades (0: none)."
)
@click.option("--bootstrap-sims", default=500, show_default=True, help="Monte-Carlo simulations per bootstrap refit.")
@click.option("--threads", type=int, help="Threads (default: $GROWTHKIT_THREADS or 2).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check(
    users: int,
    days: int,
    sim_seed: int,
    k: int,
    epsilon: float,
    eval_sims: int,
    probs: tuple[str, ...],
    bootstrap: int,
    bootstrap_sims: int,
    threads: int | None,
    as_json: bool,
) -> None:
    """Seed a simulated shop; compare predicted with realised (true-probability) reach of IMM, degree, random."""
    settings = make_settings(db=":memory:", threads=threads)
    config = SimConfig(users=users, days=days, seed=sim_seed)
    with progress_bar(enabled=err.is_terminal and not as_json) as update:
        r = simulator_check(
            settings, config, k=k, epsilon=epsilon, eval_sims=eval_sims, probs=probs or CHECK_MODELS,
            bootstrap=bootstrap, bootstrap_sims=bootstrap_sims, progress=update,
        )  # fmt: skip
    if as_json:
        click.echo(json.dumps(r.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_check(r)


def _pm(e: SpreadEstimate) -> str:
    return f"{e.mean:,.1f} ± {(e.ci_high - e.ci_low) / 2:,.1f}"


def _print_calibration(prob: str, cal: TruthComparison) -> None:
    t = Table(
        title=f"{prob}: edge probabilities against the truth (Pearson {cal.pearson:.3f}, Spearman "
        f"{cal.spearman:.3f}, mean {cal.mean_predicted:.4f} vs {cal.mean_true:.4f})",
        box=box.SIMPLE_HEAD,
    )
    for col in ("estimated p from", "to", "edges", "mean estimated", "mean true"):
        t.add_column(col, justify="right")
    for b in cal.bins:
        t.add_row(f"{b.lo:.4f}", f"{b.hi:.4f}", f"{b.edges:,}", f"{b.mean_predicted:.4f}", f"{b.mean_true:.4f}")
    out.print(t)


def _print_check(r: SimulatorCheck) -> None:
    out.print(
        f"simulated shop: {r.config.users:,} users, {r.config.days} days (seed {r.config.seed}); graph "
        f"{r.n_nodes:,} users, {r.n_edges:,} edges; true mean probability {r.true_mean_prob:.3f}; k = {r.k}, IC"
    )
    t = Table(title="Reach of each seed set: predicted (estimated probabilities) vs realised (true probabilities)")
    for col in ("probabilities", "mean p", "method", "predicted", "realised"):
        t.add_column(col, justify="right")
    for c in r.checks:
        for m in c.methods:
            t.add_row(c.prob, f"{c.mean_prob:.3f}", m.method, _pm(m.predicted), _pm(m.realised))
    out.print(t)
    mt = Table(title="IMM's margin over each baseline (paired differences, 95% intervals)")
    cols = ("probabilities", "versus", "predicted margin", "± estimation", "realised margin", "z (MC only)", "z")
    for col in cols:
        mt.add_column(col, justify="right")
    for c in r.checks:
        for g in c.margins:
            est = f"{1.96 * g.estimation_error:,.1f}" if g.estimation else "–"
            mt.add_row(c.prob, g.versus, _pm(g.predicted), est, _pm(g.realised), f"{g.z_mc:+.2f}", f"{g.z:+.2f}")
    out.print(mt)
    for c in r.checks:
        if c.calibration is not None and c.prob != "truth":
            _print_calibration(c.prob, c.calibration)
    out.print(
        "criterion: a model is calibrated when, for both margins, |predicted - realised| <= 1.96 sqrt(se_predicted^2"
        " + se_realised^2 + rmse_estimation^2) (Monte-Carlo error of both runs plus the bootstrap's estimation error "
        "over the observed cascades; z above; 'z (MC only)' leaves the estimation error out), and every predicted "
        "spread is within 15% of its realised spread"
    )
    for c in r.checks:
        worst = max((abs(m.relative_error) for m in c.methods if m.relative_error is not None), default=0.0)
        verdict = "[green]calibrated[/]" if c.calibrated() else "[red]not calibrated[/]"
        out.print(f"  {c.prob}: {verdict} (largest spread error {worst:.1%})" + (f"; {c.note}" if c.note else ""))
    out.print(f"[dim]{r.eval_sims:,} simulations per seed set and graph; seconds {r.seconds}[/]")
