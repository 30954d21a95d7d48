"""The ``growthkit`` command group and what every command shares."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

from growthkit import __version__
from growthkit.config import Settings
from growthkit.errors import ConfigError, GrowthkitError

F = TypeVar("F", bound=Callable[..., Any])

out = Console()
err = Console(stderr=True)


class GrowthkitGroup(click.Group):
    """Turns growthkit errors into a one-line message and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GrowthkitError as exc:
            raise click.ClickException(str(exc)) from exc
        except ValidationError as exc:
            msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise click.ClickException(f"invalid setting: {msgs}") from exc


@click.group(cls=GrowthkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="growthkit")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """growthkit: the growth loop for online shops: understand, act, measure."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def db_option(f: F) -> F:
    """``--db PATH`` (default: $GROWTHKIT_DB or ./growthkit.duckdb)."""
    return click.option(
        "--db",
        "db",
        type=str,
        default=None,
        help="Store file (default: $GROWTHKIT_DB or ./growthkit.duckdb).",
    )(f)


def make_settings(**overrides: Any) -> Settings:
    """The one Settings object of a command: environment, then the command's options."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid setting: {msgs}") from exc


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[str, float], None]]:
    """A rich progress bar on stderr; yields ``update(what, fraction)``."""
    prog = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not enabled,
    )
    task = prog.add_task("starting", total=1.0)

    def update(what: str, frac: float) -> None:
        prog.update(task, description=what, completed=max(0.0, min(1.0, frac)))

    with prog:
        yield update
        prog.update(task, completed=1.0)
