"""``growthkit segment``: RFM segments or behavioural clusters, with profiles and personas, saved in the store."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from growthkit.cli.app import cli, db_option, make_settings, out
from growthkit.errors import ConfigError
from growthkit.models.segment import SegmentProfile
from growthkit.workflows.segments import ALGORITHMS, SegmentRun, read_truth, segment_users

DAY = click.DateTime(["%Y-%m-%d"])


@cli.group()
def segment() -> None:
    """Customer segments: RFM or behavioural clusters, with profiles and personas (see docs/segments.md)."""


def _k(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        k = int(value)
    except ValueError:
        raise ConfigError(f"--k must be 'auto' or a whole number, not {value!r}") from None
    if k < 1:
        raise ConfigError(f"--k must be at least 1, got {k}")
    return k


def k_selection_table(run: SegmentRun) -> Table:
    """Silhouette and BIC per candidate k, the chosen one marked."""
    rule = "highest silhouette" if run.criterion == "silhouette" else "lowest BIC"
    t = Table(title="choice of k", caption=f"chosen by {rule}; smallest = share of users in the smallest cluster")
    for c in ("k", "silhouette", "BIC", "smallest", ""):
        t.add_column(c, justify="right")
    for r in run.k_selection:
        sil = r["silhouette"]
        t.add_row(
            str(r["k"]),
            "-" if sil is None or (isinstance(sil, float) and math.isnan(sil)) else f"{sil:.4f}",
            f"{r['bic']:,.1f}",
            f"{r['smallest_share']:.1%}",
            "[bold green]chosen" if r["chosen"] else "",
        )
    return t


def _lifts(p: SegmentProfile) -> str:
    parts = []
    for f in p.distinguishing[:3]:
        st = p.feature(f)
        parts.append(f"{f} ×{st.lift:.2f}" if st.lift is not None else f"{f} {st.smd:+.1f} sd")
    return ", ".join(parts)


def profiles_table(run: SegmentRun) -> Table:
    """One row per segment: size, shares of users and revenue, what sets it apart, top categories."""
    names = run.segment_names()
    t = Table(title=f"{run.method} segments of {run.users:,} users (features before {run.cutoff})")
    for c in ("id", "name", "users", "% users", "% revenue", "stands out on (lift vs all users)", "top categories"):
        t.add_column(c, justify="right" if c in ("id", "users", "% users", "% revenue") else "left")
    for p in run.profiles:
        t.add_row(
            p.segment_id,
            names[p.segment_id],
            f"{p.users:,}",
            f"{p.share_users:.1%}",
            f"{p.share_revenue:.1%}",
            _lifts(p),
            ", ".join(c.category for c in p.categories),
        )
    return t


def print_personas(run: SegmentRun, echo: Callable[[str], Any]) -> None:
    """Each persona with where it came from and whether it passed the grounding check."""
    echo("\n[bold]personas[/]")
    for p in run.personas:
        check = "[green]grounding check passed[/]" if p.checks_passed else "[red]grounding check failed[/]"
        source = "template" if p.is_template else f"{p.backend}/{p.model}"
        echo(f"[bold]{p.segment_id} · {p.name}[/]  [dim]({source}; {check}[dim])[/]")
        echo(f"  {p.description}")
        if p.fallback_reason:
            echo(f"  [yellow]asked {p.asked}, used the template: {p.fallback_reason}[/]")
            for problem in p.problems[:5]:
                echo(f"    [dim]- {problem}[/]")


def print_run(run: SegmentRun) -> None:
    """The whole run for people."""
    if run.k_selection:
        out.print(k_selection_table(run))
    if run.id_matches:
        kept = [r for r in run.id_matches if r["previous_id"] is not None]
        out.print(
            f"segment ids: {len(kept)} of {len(run.id_matches)} kept from the last saved clustering"
            + "".join(f"; new id {r['segment_id']}" for r in run.id_matches if r["previous_id"] is None)
        )
    out.print(profiles_table(run))
    print_personas(run, out.print)
    if run.truth is not None:
        t = run.truth
        out.print(
            f"\nadjusted Rand index against the true types: [bold]{t.ari:.3f}[/] ({t.users:,} users, {t.segments} "
            f"segments, {t.types} types); random labels of the same sizes: {t.baseline_mean:.4f} ± "
            f"{t.baseline_sd:.4f} ({t.permutations} shuffles)"
        )
    for note in run.notes:
        out.print(f"[yellow]note[/] {note}")
    if run.tables:
        out.print(f"written to {', '.join(run.tables)} ({run.seconds:.1f} s)")


def _run(
    method: str,
    db: str | None,
    cutoff: datetime | None,
    lang: str,
    truth: Path | None,
    save: bool,
    as_json: bool,
    **kwargs: Any,
) -> None:
    run = segment_users(
        make_settings(db=db),
        method=method,
        cutoff=cutoff.date() if cutoff else None,
        lang=lang,
        truth=read_truth(truth) if truth is not None else None,
        save=save,
        **kwargs,
    )
    if as_json:
        click.echo(json.dumps(run.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        print_run(run)


def common(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options both commands share."""
    for opt in reversed(
        [
            db_option,
            click.option(
                "--cutoff", type=DAY, help="Use data before this day (default: the day after the last event)."
            ),
            click.option(
                "--lang",
                type=click.Choice(["en", "zh"]),
                default="en",
                show_default=True,
                help="Language of the personas.",
            ),
            click.option(
                "--truth",
                type=click.Path(path_type=Path, dir_okay=False),
                help="Parquet/CSV with user_id and customer_type (the simulator's truth/users.parquet): "
                "report the adjusted Rand index.",
            ),
            click.option(
                "--save/--no-save",
                default=True,
                show_default=True,
                help="Write the segments, segment_profiles (and segment_centers) tables.",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
        ]
    ):
        f = opt(f)
    return f


@segment.command("rfm")
@common
def rfm_cmd(db: str | None, cutoff: datetime | None, lang: str, truth: Path | None, save: bool, as_json: bool) -> None:
    """RFM scores (quantiles, 1-5) and the named segments: Champions, Loyal, ..., Lost, and Prospects.

    \b
    Example:
      growthkit segment rfm --db shop.duckdb --lang zh
    """
    _run("rfm", db, cutoff, lang, truth, save, as_json)


@segment.command("cluster")
@common
@click.option("--k", "k", default="auto", show_default=True, help="Number of clusters, or 'auto' (3..8).")
@click.option("--method", "algorithm", type=click.Choice(ALGORITHMS), default="kmeans", show_default=True)
@click.option("--features", help="Comma-separated feature columns (default: the RFM, activity and price set).")
@click.option("--new-ids", is_flag=True, help="Number the segments afresh instead of keeping the last run's ids.")
def cluster_cmd(
    db: str | None,
    cutoff: datetime | None,
    lang: str,
    truth: Path | None,
    save: bool,
    as_json: bool,
    k: str,
    algorithm: str,
    features: str | None,
    new_ids: bool,
) -> None:
    """Behavioural clusters (k-means or a Gaussian mixture) with k chosen by silhouette or BIC.

    \b
    Examples:
      growthkit segment cluster --db shop.duckdb
      growthkit segment cluster --db shop.duckdb --method gmm --k 5 --lang zh --json
    """
    feats = [c.strip() for c in features.split(",") if c.strip()] if features else None
    _run(
        "cluster",
        db,
        cutoff,
        lang,
        truth,
        save,
        as_json,
        algorithm=algorithm,
        k=_k(k),
        features=feats,
        keep_ids=not new_ids,
    )
