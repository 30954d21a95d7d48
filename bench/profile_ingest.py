"""Where does ``ingest()`` spend its time and memory? Per-SQL-statement profile of one run.

Wraps the DuckDB store's ``execute``/``scalar``/``query`` with timers and
attributes each statement to the line in ``growthkit.ingest`` that issued it,
together with the growth of the process's peak RSS during the statement.

Usage::

    python bench/profile_ingest.py bench/data/events-10000000-seed7.csv [--memory-limit 1GB --threads 2]
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from growthkit.config import Settings
from growthkit.ingest.api import ingest
from growthkit.store import open_store
from growthkit.store.duckdb import DuckDBStore


@dataclass
class Site:
    """One place in growthkit that issues SQL."""

    where: str
    sql: str
    calls: int = 0
    seconds: float = 0.0
    rss_growth: int = 0
    samples: list[float] = field(default_factory=list)


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _caller() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if "growthkit" in name and "/store/" not in name:
            return f"{Path(name).parent.name}/{Path(name).name}:{frame.f_lineno} {frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


def _instrument(sites: dict[str, Site]) -> None:
    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(self: DuckDBStore, sql: str, *args: Any, **kwargs: Any) -> Any:
            where = _caller()
            before, t0 = _peak_rss(), time.perf_counter()
            try:
                return method(self, sql, *args, **kwargs)
            finally:
                site = sites.setdefault(where, Site(where, re.sub(r"\s+", " ", sql)[:90]))
                site.calls += 1
                site.seconds += time.perf_counter() - t0
                site.rss_growth += _peak_rss() - before

        return timed

    for name in ("execute", "scalar", "query"):
        setattr(DuckDBStore, name, wrap(getattr(DuckDBStore, name)))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", type=Path)
    p.add_argument("--memory-limit", default="1GB")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()
    sites: dict[str, Site] = {}
    _instrument(sites)
    with tempfile.TemporaryDirectory(prefix="gk-profile-") as work:
        s = Settings(db=f"{work}/p.duckdb", workspace=Path(work), memory_limit=args.memory_limit, threads=args.threads)
        t0 = time.perf_counter()
        with open_store(s) as store:
            rep = ingest(store, s, [args.path], kind="events")
        total = time.perf_counter() - t0
    console = Console(width=200)
    t = Table(title=f"ingest {args.path.name}: {total:.1f} s, {rep.rows_read:,} rows, peak RSS {_peak_rss() >> 20} MiB")
    for h in ("where", "calls", "seconds", "share", "peak RSS +MiB", "sql"):
        t.add_column(h, justify="right" if h in ("calls", "seconds", "share", "peak RSS +MiB") else "left")
    for site in sorted(sites.values(), key=lambda x: -x.seconds)[: args.top]:
        share = f"{100 * site.seconds / total:.1f}%"
        t.add_row(site.where, str(site.calls), f"{site.seconds:.2f}", share, f"{site.rss_growth >> 20}", site.sql)
    console.print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
