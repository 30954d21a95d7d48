"""Customer-intelligence benchmark: feature build, CLV fits, churn model fit and scoring.

Every measurement runs in a fresh child process whose peak RSS (``VmHWM``) is read at
the end; wall seconds cover the measured step only (data generation and imports are
excluded and reported separately where they matter).

* **features**: :func:`growthkit.features.build_user_features` on a synthetic store of
  ``--users`` users and ``--events`` events (generated with DuckDB SQL by
  ``bench/analytics.py``'s generator, cached in ``bench/data``), cutoff 2025-01-01
  (after the last event, so every user is in the table).
* **bgnbd / paretonbd / gammagamma**: maximum-likelihood fits on ``--customers``
  simulated customers (CDNOW-like parameters, recency to the day), 3 starts.
* **churn**: LightGBM with calibration, and the logistic baseline, on ``--rows`` users x
  ``--features`` synthetic features with a planted signal; then scoring throughput
  (``predict_proba``) and explanation throughput (``explain``).

Goals (issue 4): BG/NBD and Pareto/NBD on 1M customers under 5 s each; churn model fit
on 1M users x 60 features under 2 minutes.

Usage::

    python bench/customers.py                       # the full run, writes bench/RESULTS.md
    python bench/customers.py --quick               # small sizes, RESULTS.md untouched
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, markdown_table, peak_rss_bytes, replace_section, run_child

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
TASKS = ("features", "bgnbd", "paretonbd", "gammagamma", "churn")


@dataclass
class Row:
    task: str
    size: str
    seconds: float | None
    peak_mib: float | None
    detail: str
    goal: str


# --------------------------------------------------------------------------- children


def _features(args: argparse.Namespace) -> dict[str, Any]:
    from datetime import date

    from growthkit.config import Settings
    from growthkit.features import build_user_features
    from growthkit.store import open_store

    settings = Settings(db=args.db, memory_limit=args.memory_limit, threads=args.threads)
    with open_store(settings, read_only=True) as store:
        t0 = time.perf_counter()
        table = build_user_features(store, date(2025, 1, 1))
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "detail": f"{len(table):,} users x {table.shape[1]} columns"}


def _clv(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from growthkit.models.clv import BGNBD, GammaGamma, ParetoNBD
    from growthkit.models.clv.simulate import cohort_durations, simulate_bgnbd, simulate_paretonbd, simulate_spend

    n = args.customers
    durations = cohort_durations(n, seed=1)
    if args.task == "bgnbd":
        data = simulate_bgnbd(r=0.243, alpha=4.414, a=0.793, b=2.426, durations=durations, seed=2, resolution=1 / 7)
        model: Any = BGNBD()
    elif args.task == "paretonbd":
        data = simulate_paretonbd(
            r=0.553, alpha=10.578, s=0.606, beta=11.669, durations=durations, seed=2, resolution=1 / 7
        )
        model = ParetoNBD()
    else:
        data = simulate_bgnbd(r=0.243, alpha=4.414, a=0.793, b=2.426, durations=durations, seed=2, resolution=1 / 7)
        data["monetary_value"] = simulate_spend(p=6.25, q=3.74, gamma=15.44, frequency=data["frequency"], seed=3)
        model = GammaGamma()
    t0 = time.perf_counter()
    model.fit(data)
    seconds = time.perf_counter() - t0
    params = {k: round(float(v), 3) for k, v in model.params_.items()}
    distinct = int(np.unique(data[["frequency", "recency", "T"]].to_numpy(), axis=0).shape[0])
    return {"seconds": seconds, "detail": f"{n:,} customers ({distinct:,} distinct rows); fitted {params}"}


def _churn(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from growthkit.models.churn import ChurnModel

    rng = np.random.default_rng(0)
    n, d = args.rows, args.features
    x = rng.standard_normal((n, d)).astype(np.float64)
    logit = -1.0 + 1.2 * x[:, 0] - 0.8 * x[:, 1] + 0.5 * x[:, 2] * x[:, 3]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    index = pd.Index([f"u{i}" for i in range(n)], name="user_id")
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(d)], index=index)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    model = ChurnModel(model="lightgbm", random_state=0).fit(frame, y)
    out["seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ChurnModel(model="logistic", random_state=0).fit(frame, y)
    logistic = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.predict_proba(frame)
    score = time.perf_counter() - t0
    sample = frame.iloc[:20_000]
    t0 = time.perf_counter()
    model.explain(sample, top=3)
    explain = time.perf_counter() - t0
    out["detail"] = (
        f"{n:,} x {d}; logistic baseline fit {logistic:.1f} s; scoring {n / score:,.0f} users/s; "
        f"explanations {len(sample) / explain:,.0f} users/s"
    )
    return out


def child(args: argparse.Namespace) -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if args.task == "features":
        result = _features(args)
    elif args.task == "churn":
        result = _churn(args)
    else:
        result = _clv(args)
    result["peak"] = peak_rss_bytes()
    print(json.dumps(result))


# --------------------------------------------------------------------------- parent


def _store(args: argparse.Namespace) -> Path:
    from rich.console import Console

    import analytics as gen  # bench/analytics.py: the shared synthetic event generator

    return gen.generate(args.events, 7, args.memory_limit, args.threads, Console(stderr=True), users=args.users)


GOALS = {"bgnbd": 5.0, "paretonbd": 5.0, "churn": 120.0}


def measure(task: str, args: argparse.Namespace, db: Path | None) -> Row:
    extra = ["--db", str(db)] if db is not None else []
    cmd = [
        str(Path(__file__).resolve()), "--child", task, "--customers", str(args.customers), "--rows", str(args.rows),
        "--features", str(args.features), "--memory-limit", args.memory_limit, "--threads", str(args.threads), *extra,
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        run = run_child(cmd, workdir=Path(tmp), timeout=args.timeout)
    size = {
        "features": f"{args.users:,} users / {args.events:,} events",
        "churn": f"{args.rows:,} x {args.features}",
    }.get(task, f"{args.customers:,} customers")
    if run.answer is None:
        why = "timed out" if run.timed_out else f"failed (exit {run.returncode}): {run.stderr_tail[-300:]}"
        return Row(task, size, None, run.peak / 2**20, why, "NOT met" if task in GOALS else "-")
    secs = float(run.answer["seconds"])
    goal = "-"
    if task in GOALS:
        goal = f"{'met' if secs < GOALS[task] else 'NOT met'} (< {GOALS[task]:.0f} s)"
    return Row(task, size, secs, run.answer["peak"] / 2**20, str(run.answer["detail"]), goal)


def report(rows: list[Row], args: argparse.Namespace, command: str) -> str:
    info = machine_info(("growthkit", "duckdb", "numpy", "scipy", "lightgbm", "scikit-learn"))
    lines = ["## Customer intelligence (`bench/customers.py`)", "", f"Command: `{command}`", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines.append("")
    table = [
        [r.task, r.size, "-" if r.seconds is None else f"{r.seconds:.2f}",
         "-" if r.peak_mib is None else f"{r.peak_mib:,.0f}", r.goal, r.detail.replace("|", "/")]
        for r in rows
    ]  # fmt: skip
    lines.append(markdown_table(["task", "size", "seconds", "peak RSS MiB", "goal", "detail"], table, right={2, 3}))
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--users", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=50_000_000)
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--features", type=int, default=60)
    p.add_argument("--memory-limit", default="4GB")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument("--quick", action="store_true", help="small sizes; RESULTS.md untouched")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--db", default=None, help=argparse.SUPPRESS)
    p.add_argument("--child", dest="task", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.users, args.events, args.customers, args.rows = 20_000, 1_000_000, 50_000, 50_000
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.task is not None:
        child(args)
        return 0
    from rich.console import Console

    console = Console()
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        raise SystemExit(f"unknown tasks {unknown}; choose from {', '.join(TASKS)}")
    db = _store(args) if "features" in tasks else None
    rows = []
    for task in tasks:
        console.log(f"{task} ... (load {' '.join(f'{v:.1f}' for v in os.getloadavg())})")
        row = measure(task, args, db if task == "features" else None)
        console.log(f"  {row.seconds if row.seconds is not None else row.detail} s, {row.peak_mib or 0:,.0f} MiB")
        rows.append(row)
    command = "python bench/customers.py " + " ".join(argv if argv is not None else sys.argv[1:])
    body = report(rows, args, command.strip())
    console.print(body)
    if not args.quick or args.out is not None:
        replace_section(args.out or RESULTS, "customers", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
