"""Commands that load data and look at the store: ingest, status, quarantine, migrate."""

from __future__ import annotations

import json
from pathlib import Path

import click

from growthkit.cli.app import cli, db_option, err, make_settings, out, progress_bar
from growthkit.cli.render import emit_ingest, print_rows, summary_panel
from growthkit.schema import TABLES
from growthkit.workflows import ingest_files, migrate_store, quarantined_rows, store_status
from growthkit.workflows.results import CsvOptions


@cli.command()
@db_option
@click.option("--kind", type=click.Choice(list(TABLES)), help="Target table for files in contract shape.")
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    help="auto, csv, parquet, jsonl, or a public format: rees46, retailrocket, online-retail, "
    "cdnow, movielens, instacart.",
)
@click.option("--delimiter", help="CSV field delimiter (default: detected; 'tab' for a tab).")
@click.option("--no-header", is_flag=True, help="The CSV has no header line (give --columns).")
@click.option("--columns", help="Comma-separated column names, for files without a header.")
@click.option("--quote", default='"', show_default=True, help="CSV quote character ('' for none).")
@click.option("--escape", default=None, help="CSV escape character (default: the quote character, doubled quotes).")
@click.option("--encoding", help="Text encoding (default: detected; utf-8, gb18030, gbk, ...).")
@click.option("--timezone", "tz", help="Zone of timestamps without an offset (default: UTC or $GROWTHKIT_TIMEZONE).")
@click.option(
    "--map",
    "column_map",
    multiple=True,
    metavar="SRC=DST",
    help="Rename an input column to a contract column, e.g. --map customer_id=user_id.",
)
@click.option(
    "--option", "options", multiple=True, metavar="KEY=VALUE", help="Adapter option (e.g. anchor=2017-01-01)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def ingest(
    db: str | None,
    kind: str | None,
    fmt: str,
    delimiter: str | None,
    no_header: bool,
    columns: str | None,
    quote: str,
    escape: str | None,
    encoding: str | None,
    tz: str | None,
    column_map: tuple[str, ...],
    options: tuple[str, ...],
    as_json: bool,
    files: tuple[Path, ...],
) -> None:
    """Load FILES into the store; every row is loaded, a duplicate, or quarantined with a reason.

    \b
    Examples:
      growthkit ingest --kind events events.csv.gz
      growthkit ingest --kind users --map customer_id=user_id customers.csv
      growthkit ingest --format rees46 2019-Oct.csv
    """
    settings = make_settings(db=db, timezone=tz)
    delim = {"tab": "\t", "\\t": "\t"}.get(delimiter or "", delimiter)
    csv = CsvOptions(
        delimiter=delim,
        header=not no_header,
        columns=tuple(c.strip() for c in columns.split(",")) if columns else None,
        quote=quote,
        escape=escape,
        encoding=encoding,
    )
    opts = dict(o.split("=", 1) for o in options if "=" in o)
    with progress_bar(enabled=err.is_terminal) as update:
        report = ingest_files(
            settings, files, kind=kind, fmt=fmt, csv_options=csv, column_map=column_map, options=opts, progress=update
        )
    emit_ingest(report, as_json=as_json)


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def status(db: str | None, as_json: bool) -> None:
    """What the store holds: tables, row counts, date ranges, data quality."""
    summary = store_status(make_settings(db=db))
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    else:
        out.print(summary_panel(summary))


@cli.command()
@db_option
@click.option("--kind", type=click.Choice(list(TABLES)), help="Only rows meant for this table.")
@click.option("--reason", help="Only this reason code (e.g. ts_not_a_date).")
@click.option("--limit", default=20, show_default=True, help="How many rows to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def quarantine(db: str | None, kind: str | None, reason: str | None, limit: int, as_json: bool) -> None:
    """Show quarantined rows: source file, line, reason and the raw row."""
    rows = quarantined_rows(make_settings(db=db), kind=kind, reason=reason, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
    else:
        print_rows(out, rows, "Quarantined rows")


@cli.command()
@db_option
def migrate(db: str | None) -> None:
    """Bring a store written by an older growthkit up to this version's schema."""
    version = migrate_store(make_settings(db=db))
    out.print(f"store is at schema version {version}")
