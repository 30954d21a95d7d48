"""Throughput of the A/B statistics engine: comparisons per second on 100k experiment/metric pairs.

Command: ``python bench/experiments.py [--pairs 100000] [--repeats 5]``. Each analysis runs on
one batch of ``pairs`` random comparisons (random sizes, means and variances, seed 7); the
time is the best of ``repeats`` runs of the whole call, from sufficient statistics to the
result dataclass. Prints a rich table and rewrites the ``experiments`` section of
``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from _common import BENCH_DIR, machine_info, markdown_table, replace_section
from growthkit.experiments.stats import (
    RegressionAdjustedStats,
    SampleMeanStats,
    bayesian_test,
    hybrid_test,
    sequential_test,
    ttest,
)

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    info = machine_info(("growthkit", "numpy", "scipy"))
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
    replace_section(BENCH_DIR / "RESULTS.md", "experiments", body)


if __name__ == "__main__":
    main()
