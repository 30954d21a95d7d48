"""Commands around the simulator: simulate, demo."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from growthkit.cli.app import cli, db_option, err, make_settings, out, progress_bar
from growthkit.cli.render import ingest_table, summary_panel
from growthkit.report import write_report
from growthkit.workflows import run_demo, simulate_shop
from growthkit.workflows.results import IngestReport, SimConfig


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:+.1f}%"


def experiment_summary(res: dict[str, Any]) -> list[str]:
    """A few lines on the demo's A/B analysis of a coupon campaign, next to the simulator's truth."""
    a, truth = res["analysis"], res.get("truth") or {}
    arms = ", ".join(f"{v['name']} {v['users']:,}" for v in a["variations"])
    srm = a["srm"]
    lines = [
        f"\n[bold]A/B test of coupon campaign {res['experiment']}[/] ({arms} users; "
        f"{res['window_days']:g}-day window, CUPED)",
        f"  SRM check: p = {srm['p_value']:.3g} "
        + ("[red](sample-ratio mismatch)[/]" if srm["detected"] else "[green](ok)[/]"),
    ]
    for m in a["metrics"]:
        for v in m["result"]["variations"]:
            ci = f"[{_pct(v.get('ci_low'))}, {_pct(v.get('ci_high'))}]"
            p = v.get("p_value")
            lines.append(
                f"  {m['name']:<11} {v['name']} vs control: {_pct(v.get('effect'))} {ci}"
                + ("" if p is None else f", p = {p:.3g}")
            )
    for d in a["decisions"]:
        lines.append(f"  decision for {d['variation']}: [bold]{d['action']}[/] ({'; '.join(d['reasons'])})")
    if truth.get("true_att") is not None:
        lines.append(
            f"  truth: the coupon raises the per-session purchase probability by {truth['true_att'] * 100:+.2f} "
            f"points on average over the coupon arm ({truth['true_att_alive'] * 100:+.2f} over the "
            f"{truth['n_coupon_alive']:,} not yet churned; {truth['share_persuadable']:.0%} persuadable, "
            f"{truth['share_sleeping_dog']:.0%} sleeping dogs)"
        )
    return lines


@cli.command()
@click.option("--users", default=10_000, show_default=True, help="Number of customers.")
@click.option("--days", default=180, show_default=True, help="Length of the simulated period.")
@click.option("--seed", default=7, show_default=True, help="Random seed; the same seed gives the same shop.")
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default="2025-01-01",
    show_default=True,
    help="First day (UTC).",
)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def simulate(users: int, days: int, seed: int, start: object, out_dir: Path, as_json: bool) -> None:
    """Simulate a shop with known ground truth; write canonical Parquet files and truth to OUT."""
    start_date = start.date() if hasattr(start, "date") else date(2025, 1, 1)
    config = SimConfig(users=users, days=days, seed=seed, start=start_date)
    with progress_bar(enabled=err.is_terminal) as update:
        manifest = simulate_shop(config, out_dir, progress=lambda d, t: update(f"simulating {t:,} customers", d / t))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "out_dir": str(manifest.out_dir),
                    "rows": manifest.rows,
                    "files": {k: str(v) for k, v in manifest.files.items()},
                    "truth": {k: str(v) for k, v in manifest.truth_files.items()},
                    "seconds": round(manifest.seconds, 3),
                },
                indent=2,
            )
        )
        return
    for name, n in manifest.rows.items():
        out.print(f"{name:>8}: {n:>12,} rows  {manifest.files.get(name, '')}")
    out.print(f"ground truth in {out_dir / 'truth'}  ({manifest.seconds:.1f} s)")


@cli.command()
@db_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("out/demo"),
    show_default=True,
    help="Folder for the simulated data (and the store, unless --db is given).",
)
@click.option("--users", default=20_000, show_default=True, help="Customers in the simulated shop.")
@click.option("--days", default=180, show_default=True, help="Days of history.")
@click.option("--seed", default=7, show_default=True, help="Random seed.")
@click.option(
    "--fresh/--no-fresh",
    default=True,
    show_default=True,
    help="Start from an empty store (only a store inside --out is ever deleted).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the final store summary as JSON.")
def demo(db: str | None, out_dir: Path, users: int, days: int, seed: int, fresh: bool, as_json: bool) -> None:
    """The main job: simulate a shop, load it into a DuckDB store, and summarise it."""
    settings = make_settings(db=db or str(out_dir / "growthkit.duckdb"))
    with progress_bar(enabled=err.is_terminal) as update:
        ctx = run_demo(
            settings,
            out_dir=out_dir,
            users=users,
            days=days,
            seed=seed,
            fresh=fresh,
            on_step=update,
            render_report=lambda data, path: write_report(data, path).path,
        )
    assert ctx.summary is not None
    if as_json:
        click.echo(json.dumps(ctx.summary.to_dict(), indent=2, ensure_ascii=False))
        return
    reports = list(ctx.ingest.values())
    combined = IngestReport(
        tuple(t for r in reports for t in r.tables),
        tuple(f for r in reports for f in r.failures),
        sum(r.seconds for r in reports),
    )
    out.print(ingest_table(combined))
    out.print(summary_panel(ctx.summary))
    for name, secs in ctx.timings.items():
        out.print(f"[dim]{name}: {secs:.1f} s[/]")
    if ctx.results.get("experiment"):
        for line in experiment_summary(ctx.results["experiment"]):
            out.print(line)
    if "report" in ctx.results:
        out.print(f"\nReport: [bold]{ctx.results['report']}[/] (one HTML file; open it in any browser, offline)")
    out.print(f"\nNext: [bold]growthkit status --db {settings.db}[/]")
