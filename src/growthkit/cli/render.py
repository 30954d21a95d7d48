"""Rich rendering of workflow results for people (``--json`` prints the data instead)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from growthkit.workflows.results import IngestReport, StoreSummary


def _n(v: int) -> str:
    return f"{v:,}"


def ingest_table(report: IngestReport) -> Table:
    t = Table(title="Ingestion", show_lines=False)
    t.add_column("table", no_wrap=True)
    t.add_column("source", overflow="ellipsis", max_width=28, no_wrap=True)
    for col in ("read", "loaded", "updated", "duplicate", "quarantined"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in report.tables:
        name = Path(r.source).name or r.source
        src = name if len(name) <= 40 else "…" + name[-39:]
        t.add_row(
            r.table,
            src,
            _n(r.rows_read),
            _n(r.rows_loaded),
            _n(r.rows_updated),
            _n(r.rows_duplicate),
            f"[red]{_n(r.rows_quarantined)}[/]" if r.rows_quarantined else "0",
        )
    if len(report.tables) > 1:
        t.add_row(
            "[bold]total",
            "",
            _n(report.rows_read),
            _n(report.rows_loaded),
            _n(report.rows_updated),
            _n(report.rows_duplicate),
            _n(report.rows_quarantined),
        )
    return t


def print_ingest(console: Console, report: IngestReport) -> None:
    console.print(ingest_table(report))
    if report.reasons:
        r = Table(title="Quarantined, by reason (see: growthkit quarantine)")
        r.add_column("reason")
        r.add_column("rows", justify="right")
        for k, n in report.reasons.items():
            r.add_row(k, _n(n))
        console.print(r)
    for t in report.tables:
        for note in t.notes:
            console.print(f"[yellow]note[/] {t.table}: {note}")
    for f in report.failures:
        console.print(f"[red]could not read[/] {f.source}: {f.error}")
    console.print(f"[dim]{report.seconds:.2f} s[/]")


def emit_ingest(report: IngestReport, *, as_json: bool, console: Console | None = None) -> None:
    """Print an ingestion report (table or JSON); exit 1 when a source could not be read at all."""
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print_ingest(console or Console(), report)
    if not report.ok:
        raise SystemExit(1)


def summary_panel(s: StoreSummary) -> Panel:
    t = Table(box=None)
    t.add_column("table")
    t.add_column("rows", justify="right")
    t.add_column("from")
    t.add_column("to")
    t.add_column("quarantined", justify="right")
    for ts in s.tables:
        t.add_row(
            ts.name,
            _n(ts.rows),
            (ts.first or "")[:19],
            (ts.last or "")[:19],
            f"[red]{_n(ts.quarantined)}[/]" if ts.quarantined else "0",
        )
    ev = Table(box=None, title="events by type")
    ev.add_column("type")
    ev.add_column("rows", justify="right")
    for k, v in list(s.event_types.items())[:14]:
        ev.add_row(k, _n(v))
    q = Table(box=None, title="data quality")
    q.add_column("check")
    q.add_column("rows", justify="right")
    q.add_row("quarantined rows", _n(s.quarantined_total))
    for k, v in s.quality.items():
        q.add_row(k.replace("_", " "), _n(v))
    size = f"{s.size_bytes / 2**20:,.1f} MiB" if s.size_bytes else "in memory"
    head = (
        f"[bold]{s.location}[/]  schema v{s.schema_version}  {size}  "
        f"{_n(s.distinct_users)} active users, {_n(s.distinct_items)} items with events, "
        f"{_n(s.ingestions)} loads"
    )
    return Panel(Group(head, t, ev, q), title="growthkit store", expand=False)


def print_rows(console: Console, rows: list[dict[str, Any]], title: str) -> None:
    if not rows:
        console.print(f"{title}: none")
        return
    t = Table(title=title, show_lines=True)
    for c in rows[0]:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*("" if v is None else str(v) for v in r.values()))
    console.print(t)
