"""Throughput of the A/B statistics engine, and the time to compute sufficient statistics in the store.

Command: ``python bench/experiments.py [--pairs 100000] [--repeats 5] [--exposures 10000000]
[--store-repeats 3]``.

* **Engine.** Each analysis runs on one batch of ``pairs`` random comparisons (random sizes,
  means and variances, seed 7); the time is the best of ``repeats`` runs of the whole call,
  from sufficient statistics to the result dataclass.
* **Store.** A temporary DuckDB store gets ``exposures`` exposed users (two variations, one
  day of first exposures) and two events per user (a view or, 30 % of the time, a purchase,
  within 14 days before or after exposure), generated with DuckDB SQL. The time is the best
  of ``store-repeats`` calls of ``compute_metric`` per metric: ``revenue`` (mean, 14-day
  window, CUPED covariate over the 14 days before exposure) and ``revenue_per_order`` (ratio),
  with the default store settings (2 threads, 2 GB memory limit). ``--exposures 0`` skips it.

Prints rich tables and rewrites the ``experiments`` section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from _common import BENCH_DIR, machine_info, markdown_table, replace_section
from growthkit.config import Settings
from growthkit.experiments.metrics import METRICS, compute_metric
from growthkit.experiments.stats import (
    RegressionAdjustedStats,
    SampleMeanStats,
    bayesian_test,
    hybrid_test,
    sequential_test,
    ttest,
)
from growthkit.store import Store, open_store

GOAL = 100_000.0


def _inputs(pairs: int, seed: int = 7) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n = rng.integers(100, 50_000, size=(2, pairs)).astype(float)
    mean = rng.uniform(1, 100, size=(2, pairs))
    var = rng.uniform(1, 400, size=(2, pairs))
    s = n * mean
    ss = s**2 / n + (n - 1) * var
    x_mean = mean * rng.uniform(0.8, 1.2, size=(2, pairs))
    xs = n * x_mean
    xss = xs**2 / n + (n - 1) * var
    xy = s * xs / n + (n - 1) * 0.6 * var
    arms = [SampleMeanStats(n[i], s[i], ss[i]) for i in range(2)]
    cuped = [RegressionAdjustedStats(n[i], s[i], ss[i], xs[i], xss[i], xy[i]) for i in range(2)]
    return {"arms": arms, "cuped": cuped, "planned": n.sum(axis=0) * 1.5}


def _cases(d: dict[str, Any]) -> list[tuple[str, Callable[[], object]]]:
    c, t = d["arms"]
    cc, ct = d["cuped"]
    return [
        ("frequentist (Welch, relative)", lambda: ttest(c, t)),
        ("frequentist (Welch, absolute)", lambda: ttest(c, t, difference="absolute")),
        ("bayesian (flat prior, relative)", lambda: bayesian_test(c, t)),
        ("CUPED (Welch, relative)", lambda: ttest(cc, ct)),
        ("sequential (confidence sequence)", lambda: sequential_test(c, t)),
        ("sequential hybrid", lambda: hybrid_test(c, t, planned_n=d["planned"])),
    ]


def _best(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


EXPOSURES_SQL = """
INSERT INTO exposures
SELECT 'bench', CASE WHEN hash(i) % 2 = 0 THEN 'control' ELSE 'B' END, 'u' || lpad(CAST(i AS VARCHAR), 9, '0'),
       TIMESTAMP '2025-03-01' + to_microseconds(CAST(hash(i + 7) % 86400000000 AS BIGINT)), NULL
FROM range(?) t(i)
"""
EVENTS_SQL = """
INSERT INTO events (event_id, user_id, ts, event_type, session_id, amount, currency)
SELECT 'e' || CAST(j AS VARCHAR), 'u' || lpad(CAST(j // 2 AS VARCHAR), 9, '0'),
       TIMESTAMP '2025-03-01' + to_microseconds(CAST(hash(j // 2 + 7) % 86400000000 AS BIGINT))
         + to_microseconds(CAST(hash(j) % (28 * 86400000000) AS BIGINT) - 14 * 86400000000),
       CASE WHEN hash(j + 1) % 10 < 3 THEN 'purchase' ELSE 'view' END,
       's' || CAST(j AS VARCHAR),
       CASE WHEN hash(j + 1) % 10 < 3 THEN 10 + CAST(hash(j + 2) % 9000 AS DOUBLE) / 100 END,
       CASE WHEN hash(j + 1) % 10 < 3 THEN 'CNY' END
FROM range(2 * ?) t(j)
"""


def _fill_store(store: Store, exposures: int) -> float:
    t0 = time.perf_counter()
    store.execute(EXPOSURES_SQL, [exposures])
    store.execute(EVENTS_SQL, [exposures])
    return time.perf_counter() - t0


def store_bench(exposures: int, repeats: int) -> tuple[float, list[tuple[str, float, int]]]:
    """Seconds to generate the store, and per metric (name, best seconds, users) of ``compute_metric``."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="gk-bench-") as tmp:
        settings = Settings(db=f"{tmp}/bench.duckdb", workspace=f"{tmp}/ws")
        with open_store(settings) as store:
            fill = _fill_store(store, exposures)
            for name in ("revenue", "revenue_per_order"):
                metric = METRICS[name]
                best, users = float("inf"), 0
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    sums = compute_metric(store, "bench", metric, variations=("control", "B"))
                    best = min(best, time.perf_counter() - t0)
                    users = sum(v.n for v in sums.variations)
                label = f"{name} ({metric.kind}{', CUPED' if metric.uses_covariate else ''})"
                rows.append((label, best, users))
    return fill, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--exposures", type=int, default=10_000_000)
    parser.add_argument("--store-repeats", type=int, default=3)
    args = parser.parse_args()
    info = machine_info(("growthkit", "numpy", "scipy", "duckdb"))
    data = _inputs(args.pairs)
    rows = []
    for name, fn in _cases(data):
        seconds = _best(fn, args.repeats)
        rows.append((name, seconds, args.pairs / seconds))
    table = Table(title=f"growthkit.experiments.stats on {args.pairs:,} comparisons (best of {args.repeats})")
    for col in ("analysis", "seconds", "comparisons/s", "goal 100k/s"):
        table.add_column(col, justify="left" if col == "analysis" else "right")
    for name, sec, rate in rows:
        table.add_row(name, f"{sec:.3f}", f"{rate:,.0f}", "met" if rate >= GOAL else "NOT met")
    Console().print(table)
    header = "\n".join(f"- {k}: {v}" for k, v in info.items())
    md = markdown_table(
        ["analysis", "seconds", "comparisons/s", "goal (>= 100,000/s)"],
        [[n, f"{s:.3f}", f"{r:,.0f}", "met" if r >= GOAL else "NOT met"] for n, s, r in rows],
        right={1, 2},
    )
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    body = (
        "## Statistics engine (`bench/experiments.py`)\n\n"
        f"Command: `python bench/experiments.py --pairs {args.pairs} --repeats {args.repeats}`; "
        f"one vectorised call per analysis on {args.pairs:,} random experiment/metric pairs (seed 7), "
        f"best of {args.repeats} runs, "
        f"OPENBLAS_NUM_THREADS={threads}.\n\n{header}\n\n{md}\n"
    )
    if args.exposures > 0:
        fill, store_rows = store_bench(args.exposures, args.store_repeats)
        st = Table(title=f"compute_metric on {args.exposures:,} exposures (best of {args.store_repeats})")
        for col in ("metric", "seconds", "users/s"):
            st.add_column(col, justify="left" if col == "metric" else "right")
        for name, sec, users in store_rows:
            st.add_row(name, f"{sec:.2f}", f"{users / sec:,.0f}")
        Console().print(st)
        md_store = markdown_table(
            ["metric", "exposed users", "seconds", "users/s"],
            [[n, f"{u:,}", f"{s:.2f}", f"{u / s:,.0f}"] for n, s, u in store_rows],
            right={1, 2, 3},
        )
        body += (
            "\n### Sufficient statistics in the store (`compute_metric`)\n\n"
            f"Command: same run, `--exposures {args.exposures} --store-repeats {args.store_repeats}`. "
            f"A temporary DuckDB store with {args.exposures:,} exposed users (control/B, first exposures over one "
            f"day) and {2 * args.exposures:,} events (30 % purchases) within 14 days either side of exposure, "
            f"generated with DuckDB SQL in {fill:.1f} s; best of {args.store_repeats} `compute_metric` calls per "
            "metric (one SQL query: per-user values, capping, per-variation sums), default store settings "
            "(2 DuckDB threads, 2 GB memory limit).\n\n"
            f"{md_store}\n"
        )
    replace_section(BENCH_DIR / "RESULTS.md", "experiments", body)


if __name__ == "__main__":
    main()
