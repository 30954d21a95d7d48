"""Churn and propensity benchmarks: model quality on the simulator and the sample datasets, and speed at scale.

    python bench/churn.py quality                  # simulator (with oracle), CDNOW, Instacart: Markdown tables
    python bench/churn.py quality --only sim --users 50000
    python bench/churn.py scale --users 1000000 --features 60 [--threads 2]

``quality`` prints the metrics of the model and its baselines (``docs/churn.md`` shows the output);
``scale`` fits ``ChurnModel()`` (LightGBM, default settings) on synthetic random features and
times fitting, scoring (probabilities) and explaining (contributions + sentences).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date, datetime

import numpy as np
import pandas as pd

from growthkit.config import Settings
from growthkit.models.churn import ChurnEvaluation, ChurnModel, roc_auc
from growthkit.sim import SimConfig
from growthkit.workflows.churn import risk_deciles, score_frame
from growthkit.workflows.churn_eval import evaluate_dataset, evaluate_simulated, format_metrics

# (name, dataset, target, horizon days, test cutoff)
DATASET_RUNS: tuple[tuple[str, str, str, int, date], ...] = (
    ("CDNOW (full): churn within 90 days", "cdnow", "churn", 90, date(1997, 10, 1)),
    ("CDNOW (full): purchase within 90 days", "cdnow", "purchase", 90, date(1997, 10, 1)),
    ("Instacart sample: order again within 14 days", "instacart-sample", "purchase", 14, date(2017, 5, 1)),
    ("Instacart sample: order again within 30 days", "instacart-sample", "purchase", 30, date(2017, 5, 1)),
)


def _header(title: str, e: ChurnEvaluation, seconds: float) -> str:
    return (
        f"### {title}\n\ntrain: features at {e.train_cutoff:%Y-%m-%d}, {e.n_train:,} users "
        f"({e.train_rate:.1%} positive); test: features at {e.test_cutoff:%Y-%m-%d}, {e.n_test:,} users "
        f"({e.test_rate:.1%} positive); population {e.population}; calibration {e.calibration}; {seconds:.0f} s\n"
    )


def quality(args: argparse.Namespace) -> None:
    settings = Settings()
    params = {"n_jobs": args.threads, "random_state": args.seed}
    if args.only in (None, "sim"):
        cfg = SimConfig(users=args.users, days=180, seed=args.sim_seed)
        for target in ("churn", "purchase"):
            t0 = time.perf_counter()
            ev = evaluate_simulated(settings, cfg, cutoff_day=150, horizon_days=30, target=target, params=params)
            title = f"Simulator ({args.users:,} users, 180 days, seed {args.sim_seed}): {target} within 30 days"
            print(_header(title, ev, time.perf_counter() - t0))
            print(format_metrics(ev), "\n", flush=True)
    if args.only in (None, "datasets"):
        for title, name, target, horizon, cutoff in DATASET_RUNS:
            t0 = time.perf_counter()
            ev = evaluate_dataset(settings, name, cutoff=cutoff, horizon_days=horizon, target=target, params=params)
            print(_header(title, ev, time.perf_counter() - t0))
            print(format_metrics(ev), "\n", flush=True)


def synthetic(n: int, k: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``k`` features (a few count-like, most continuous) and labels from a logistic model on six of them."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, k), dtype=np.float32).astype(np.float64)
    x[:, 0] = rng.exponential(40.0, n)  # recency-like
    x[:, 1] = rng.poisson(3.0, n)  # frequency-like
    logit = 0.04 * (x[:, 0] - 40) - 0.3 * (x[:, 1] - 3) + 0.5 * x[:, 2] - 0.5 * x[:, 3] + 0.3 * x[:, 4] * x[:, 5]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    cols = ["recency_days", "frequency", *[f"f{j}" for j in range(2, k)]]
    index = pd.Index([f"u{i}" for i in range(n)], name="user_id")
    return pd.DataFrame(x, columns=cols, index=index), y


def scale(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    x, y = synthetic(args.users, args.features, args.seed)
    xt, yt = synthetic(min(args.users, 200_000), args.features, args.seed + 1)
    print(f"data: {args.users:,} x {args.features} ({time.perf_counter() - t0:.1f} s), threads={args.threads}")
    for model in ("lightgbm", "logistic"):
        m = ChurnModel(model=model, n_jobs=args.threads)
        t0 = time.perf_counter()
        m.fit(x, y)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        p = m.predict_proba(xt)[:, 1]
        pred_s = time.perf_counter() - t0
        sub = xt.iloc[: args.explain]
        t0 = time.perf_counter()
        ex = m.explain(sub, top=3)
        explain_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        risk_deciles(p, m.decision_function(xt), [str(u) for u in xt.index])
        dec_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = score_frame(m, sub, datetime(2025, 1, 1))
        rows_s = time.perf_counter() - t0
        print(
            f"{model}: fit {fit_s:.1f} s (calibration {m.describe_calibration()}); "
            f"predict_proba {len(xt) / pred_s:,.0f} users/s; explain (top 3, en) {len(sub) / explain_s:,.0f} users/s "
            f"({len(ex):,} reasons); risk deciles {len(xt) / dec_s:,.0f} users/s; scores rows (score, decile, "
            f"reasons JSON) {len(rows) / rows_s:,.0f} users/s; test ROC-AUC {roc_auc(yt, p):.4f}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--only", choices=["sim", "datasets"])
    q.add_argument("--users", type=int, default=50_000)
    q.add_argument("--sim-seed", type=int, default=11)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    s = sub.add_parser("scale")
    s.add_argument("--users", type=int, default=1_000_000)
    s.add_argument("--features", type=int, default=60)
    s.add_argument("--explain", type=int, default=100_000, help="users to explain")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    quality(args) if args.cmd == "quality" else scale(args)


if __name__ == "__main__":
    main()
