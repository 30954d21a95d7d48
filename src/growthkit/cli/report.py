"""The ``report`` command: the self-contained HTML growth report of a store."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from growthkit.cli.app import cli, db_option, err, make_settings, out, progress_bar
from growthkit.report import write_report
from growthkit.workflows.report import DEFAULT_WEEKS, gather_report


def _day(value: object) -> date | None:
    return value.date() if hasattr(value, "date") else None


@cli.command()
@db_option
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="HTML file to write (folders are created).",
)
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="First day (UTC).")
@click.option("--end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Last day (default: last event).")
@click.option(
    "--weeks",
    default=DEFAULT_WEEKS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Length of the default range, from a Monday to the last day.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def report(db: str | None, out_path: Path, start: object, end: object, weeks: int, as_json: bool) -> None:
    """Write one HTML file with KPIs, trends, AARRR, funnel, retention, LTV and lifecycle charts.

    The file is self-contained (inline CSS and SVG, no scripts, no network) and opens offline.
    By default it covers the last WEEKS weeks of data.
    """
    settings = make_settings(db=db)
    with progress_bar(enabled=err.is_terminal and not as_json) as update:
        data = gather_report(settings, start=_day(start), end=_day(end), weeks=weeks, progress=update)
        result = write_report(data, out_path)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    out.print(f"report: [bold]{result.path}[/]  ({result.start} to {result.end}, {result.seconds:.1f} s)")
    for key in result.skipped:
        out.print(f"[yellow]note[/] section {key} is left out (see the note in the report)")
