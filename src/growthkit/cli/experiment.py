"""``growthkit experiment``: analyse, plan and assign A/B tests."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from growthkit.cli.app import cli, db_option, err, make_settings, out
from growthkit.errors import ConfigError
from growthkit.experiments.assignment import Experiment, Holdout, Layer
from growthkit.experiments.metrics import METRICS
from growthkit.workflows.experiments import analyze_experiment, analyze_spec, assign, plan


@cli.group()
def experiment() -> None:
    """A/B tests: analyse results, plan sample sizes, assign users."""


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
        return f"[{_fmt(float(v[0]))}, {_fmt(float(v[1]))}]"
    if isinstance(v, (dict, list)):
        return json.dumps(v, default=str)[:40]
    return str(v)


def result_table(result: dict[str, Any], title: str) -> Table:
    """A table of the engine's per-variation results (whatever scalar fields it returns)."""
    rows: list[dict[str, Any]] = result.get("variations") or []
    t = Table(title=title)
    if not rows:
        t.add_column("result")
        t.add_row(json.dumps(result, default=str)[:200])
        return t
    cols = [c for c in dict.fromkeys(k for r in rows for k in r) if c not in ("message", "status")]
    for c in cols:
        t.add_column(c, justify="left" if c == "name" else "right")
    for r in rows:
        t.add_row(*(_fmt(r.get(c)) for c in cols))
    control = result.get("control")
    if control:
        t.caption = f"control ({control['name']}): n = {control['n']:,}, mean = {_fmt(control.get('mean'))}"
    for w in result.get("warnings", []):
        t.caption = (t.caption or "") + f"\n[red]{w}[/]"
    return t


def _srm_lines(console: Console, srm: dict[str, Any]) -> None:
    if srm.get("detected"):
        console.print(Panel(f"[bold red]{srm['warning']}[/]", title="[bold red]SRM", border_style="red"))
    else:
        console.print(f"[green]no sample ratio mismatch[/] (p = {srm['p_value']:.3g})")


def print_analysis(console: Console, res: dict[str, Any]) -> None:
    users = Table(title=f"experiment {res['experiment']}")
    for c in ("variation", "users", "share", "expected"):
        users.add_column(c, justify="left" if c == "variation" else "right")
    total = sum(v["users"] for v in res["variations"]) or 1
    for v in res["variations"]:
        users.add_row(v["name"], f"{v['users']:,}", f"{v['users'] / total:.2%}", f"{v['expected_share']:.2%}")
    console.print(users)
    _srm_lines(console, res["srm"])
    for m in res["metrics"]:
        extra = " (CUPED)" if m["covariate"] else ""
        console.print(result_table(m["result"], f"{m['name']} ({m['kind']}{extra}): {m['description']}"))
    colour = {"ship": "green", "dont_ship": "red", "keep_running": "yellow"}
    for d in res["decisions"]:
        c = colour.get(d["action"], "white")
        console.print(f"[bold {c}]{d['variation']}: {d['action'].replace('_', ' ')}[/]")
        for reason in d["reasons"]:
            console.print(f"  - {reason}")
    if res["srm"].get("detected"):
        err.print(f"[bold red]WARNING[/] {res['srm']['warning']}")


@experiment.command("analyze")
@db_option
@click.argument("spec_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--experiment", "key", help="Experiment key in the store (instead of a spec file).")
@click.option("--metric", "metrics", multiple=True, help=f"Metric (repeatable); one of: {', '.join(METRICS)}.")
@click.option("--engine", type=click.Choice(["frequentist", "bayesian"]), default="frequentist", show_default=True)
@click.option("--difference", type=click.Choice(["relative", "absolute"]), default="relative", show_default=True)
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Significance level.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="Analysis end (UTC, exclusive).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def analyze_cmd(
    db: str | None,
    spec_file: Path | None,
    key: str | None,
    metrics: tuple[str, ...],
    engine: str,
    difference: str,
    alpha: float,
    end: datetime | None,
    as_json: bool,
) -> None:
    """Analyse SPEC_FILE (sufficient statistics as JSON) or an experiment in the store.

    \b
    Examples:
      growthkit experiment analyze spec.json --json
      growthkit experiment analyze --experiment checkout-button --metric conversion --db shop.duckdb
    """
    if (spec_file is None) == (key is None):
        raise ConfigError("give either a spec file or --experiment KEY (with --db PATH)")
    if spec_file is not None:
        try:
            spec = json.loads(spec_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{spec_file} is not valid JSON: {exc}") from exc
        result = analyze_spec(spec)
        if as_json:
            click.echo(json.dumps(result, indent=2, default=str))
        else:
            out.print(result_table(result, f"{spec.get('metric_type', 'metric')} ({spec.get('engine', '')})"))
        return
    assert key is not None
    res = analyze_experiment(
        make_settings(db=db),
        key,
        metrics or ("conversion", "revenue"),
        engine=engine,
        difference=difference,
        alpha=alpha,
        end=end.replace(tzinfo=UTC) if end else None,
    )
    if as_json:
        click.echo(json.dumps(res, indent=2, default=str))
        if res["srm"].get("detected"):
            err.print(f"[bold red]WARNING[/] {res['srm']['warning']}")
    else:
        print_analysis(out, res)


@experiment.command("plan")
@click.option("--baseline", type=float, required=True, help="Control conversion rate (or mean, with --sd).")
@click.option("--mde", type=float, required=True, help="Minimum detectable effect (0.02 = +2 % when relative).")
@click.option("--metric", type=click.Choice(["proportion", "mean"]), default="proportion", show_default=True)
@click.option("--sd", type=float, help="Per-user standard deviation (mean metrics).")
@click.option("--daily-users", type=float, help="Users entering per day, for the duration.")
@click.option("--difference", type=click.Choice(["relative", "absolute"]), default="relative", show_default=True)
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option("--power", type=float, default=0.8, show_default=True)
@click.option("--rho", type=float, default=0.0, show_default=True, help="Correlation with the CUPED covariate.")
@click.option("--arms", type=int, default=2, show_default=True, help="Number of variations, control included.")
@click.option("--traffic", type=float, default=1.0, show_default=True, help="Share of daily users in the test.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan_cmd(as_json: bool, **kw: Any) -> None:
    """How many users (and days) an experiment needs to detect an effect."""
    p = plan(**kw)
    if as_json:
        click.echo(json.dumps(p, indent=2))
        return
    t = Table(title="experiment plan", show_header=False)
    for k in ("metric", "baseline", "mde", "difference", "alpha", "power", "rho", "arms", "n_per_arm", "n_total"):
        t.add_row(k, _fmt(p[k]) if not isinstance(p[k], int) else f"{p[k]:,}")
    if p["days"] is not None:
        t.add_row("[bold]days", f"[bold]{p['days']:,}")
    out.print(t)


def _read_users(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if lines and "," in lines[0]:
        reader = csv.DictReader(lines)
        if "user_id" not in (reader.fieldnames or []):
            raise ConfigError(f"{path}: a CSV needs a user_id column (or give one id per line)")
        return [r["user_id"].strip() for r in reader if r["user_id"].strip()]
    ids = [ln.strip() for ln in lines if ln.strip()]
    return ids[1:] if ids and ids[0] == "user_id" else ids


def _parse_layer(text: str | None) -> Layer | None:
    if not text:
        return None
    try:
        name, rng = text.rsplit(":", 1)
        lo, hi = rng.split("-", 1)
        return Layer(name, float(lo), float(hi))
    except ValueError as exc:
        raise ConfigError(f"--layer {text!r}: write NAME:START-END, e.g. checkout:0-0.5") from exc


@experiment.command("assign")
@db_option
@click.option("--experiment", "key", required=True, help="Experiment key (the hash seed, with --salt).")
@click.option("--variations", default="control,treatment", show_default=True, help="Comma-separated, control first.")
@click.option("--weights", help="Comma-separated weights, e.g. 50,50 (default: equal).")
@click.option("--coverage", type=float, default=1.0, show_default=True, help="Share of users in the experiment.")
@click.option("--salt", default="", help="Hash salt; change it to re-randomise.")
@click.option("--layer", help="Mutually exclusive layer range NAME:START-END, e.g. checkout:0-0.5.")
@click.option("--holdout", type=float, help="Global holdout share kept out of all experiments, e.g. 0.05.")
@click.option("--users", "users_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from-store", is_flag=True, help="Assign every user in the store (--db).")
@click.option("--record", is_flag=True, help="Record the assigned users' exposures (now) in the store.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write user_id,variation CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print counts and the user -> variation map as JSON.")
def assign_cmd(
    db: str | None,
    key: str,
    variations: str,
    weights: str | None,
    coverage: float,
    salt: str,
    layer: str | None,
    holdout: float | None,
    users_file: Path | None,
    from_store: bool,
    record: bool,
    out_file: Path | None,
    as_json: bool,
) -> None:
    """Assign users to variations deterministically (GrowthBook-compatible hashing)."""
    if (users_file is None) == (not from_store):
        raise ConfigError("give either --users FILE or --from-store (with --db PATH)")
    try:
        w = tuple(float(x) for x in weights.split(",")) if weights else None
    except ValueError as exc:
        raise ConfigError(f"--weights {weights!r}: give comma-separated numbers such as 50,50") from exc
    exp = Experiment(
        key, tuple(v.strip() for v in variations.split(",")), w, coverage=coverage, salt=salt, layer=_parse_layer(layer)
    )
    settings = make_settings(db=db) if (from_store or record) else None
    res = assign(
        exp,
        user_ids=_read_users(users_file) if users_file else None,
        settings=settings,
        holdout=Holdout(holdout) if holdout else None,
        record=record,
    )
    if out_file is not None:
        with out_file.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["user_id", "variation"])
            writer.writerows(res.assignments.mapping().items())
    if as_json:
        click.echo(json.dumps(res.to_dict(with_users=out_file is None), indent=2))
        return
    t = Table(title=f"assignment of {len(res.assignments):,} users to {key}")
    t.add_column("group")
    t.add_column("users", justify="right")
    for name, n in res.assignments.counts().items():
        t.add_row(name, f"{n:,}")
    out.print(t)
    if res.recorded is not None:
        r = res.recorded
        out.print(f"recorded {r.rows_new:,} new exposures ({r.rows_duplicate:,} already there)")
    if out_file is not None:
        out.print(f"written to {out_file}")
