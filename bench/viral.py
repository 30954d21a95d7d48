"""Seed-selection benchmark: IMM against degree, PageRank and CELF on synthetic power-law social graphs.

For every size (10k, 100k and 1M nodes by default) a Chung-Lu graph with a power-law
degree tail (exponent 2.5) and about 10 directed edges per node is generated with numpy
(cached under ``bench/data/``) and given weighted-cascade probabilities ``1 / in-degree``,
which are valid independent-cascade probabilities and linear-threshold weights. Then, for
the IC and the LT model, each method picks ``k = 50`` seeds in a fresh child process:

* ``imm``: IMM with ``epsilon = 0.5``, ``ell = 1`` (Tang, Shi and Xiao 2015); ``imm-0.1``: ``epsilon = 0.1``;
* ``degree``: the highest out-degrees; ``pagerank``: the highest PageRank on the reversed graph;
* ``celf``: lazy greedy on Monte-Carlo worlds (Leskovec et al. 2007), 10k nodes only,
  with fewer worlds (``--celf-sims``).

Every seed set's spread is then estimated by an independent Monte-Carlo run (worlds
shared by all methods of a size and model, so the spreads compare on common random
numbers). Each child reports its selection time, its evaluation time and its own peak
RSS (``VmHWM``; graph loading included). Results go to a rich table and to the ``viral``
section of ``bench/RESULTS.md``.

Usage::

    python bench/viral.py                          # 10k, 100k, 1M nodes
    python bench/viral.py --sizes 10000 --quick    # smoke run, RESULTS.md untouched
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from _common import DATA_DIR, MIB, ChildRun, machine_info, markdown_table, peak_rss_bytes, replace_section, run_child

SECTION = "viral"
SIZES = (10_000, 100_000, 1_000_000)
MODELS = ("ic", "lt")
METHODS = ("imm", "imm-0.1", "degree", "pagerank", "celf")
TIGHT_EPSILON = 0.1
CELF_MAX_NODES = 10_000
EDGES_PER_NODE = 10
EXPONENT = 2.5
GOALS = {100_000: 10.0, 1_000_000: 120.0}  # seconds of seed selection
GOAL_RSS_GB = 8.0


# --------------------------------------------------------------------------- graphs
def graph_path(n: int, seed: int) -> Path:
    return DATA_DIR / f"viral-chunglu-{n}-seed{seed}.npz"


def generate(n: int, seed: int) -> Path:
    """A Chung-Lu graph: ``n * EDGES_PER_NODE / 2`` ties drawn with weights ``i^(-1/(EXPONENT-1))``, both ways.

    Ends are drawn by inverse CDF on the cumulated weights (no Python loop); self-loops and
    repeated ties are dropped by ``SocialGraph.from_index_arrays``, so a little under 10
    directed edges per node remain. The CSR arrays are cached as ``.npz``.
    """
    from growthkit.models.influence import SocialGraph

    path = graph_path(n, seed)
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    w = np.arange(1, n + 1, dtype=np.float64) ** (-1.0 / (EXPONENT - 1.0))
    cum = np.cumsum(w)
    m = n * EDGES_PER_NODE // 2
    u = np.minimum(np.searchsorted(cum, rng.random(m) * cum[-1], side="right"), n - 1)
    v = np.minimum(np.searchsorted(cum, rng.random(m) * cum[-1], side="right"), n - 1)
    perm = rng.permutation(n)  # hubs at random positions, not the first node numbers
    u, v = perm[u], perm[v]
    g = SocialGraph.from_index_arrays(np.r_[u, v], np.r_[v, u], np.zeros(2 * m), node_ids=node_ids(n))
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, indptr=g.indptr, indices=g.indices, rev_indptr=g.rev_indptr, rev_indices=g.rev_indices,
             rev_edge=g.rev_edge)  # fmt: skip
    tmp.replace(path)
    return path


def node_ids(n: int) -> np.ndarray:
    return np.array([f"u{i:07d}" for i in range(n)], dtype=object)


def load_wc(path: Path, n: int) -> Any:
    """The cached graph with weighted-cascade probabilities ``1 / in-degree``."""
    from growthkit.models.influence import SocialGraph

    z = np.load(path)
    indices, rev_edge = z["indices"], z["rev_edge"]
    indeg = np.diff(z["rev_indptr"])
    prob = 1.0 / np.maximum(indeg, 1)[indices].astype(np.float64)
    return SocialGraph(node_ids(n), z["indptr"], indices, prob, z["rev_indptr"], z["rev_indices"], prob[rev_edge],
                       rev_edge)  # fmt: skip


# --------------------------------------------------------------------------- one child run
def child_main(method: str, model: str, n: int, path: Path, args: argparse.Namespace) -> None:
    from growthkit.models.influence import CELF, IMM, DegreeSeeds, PageRankSeeds, estimate_spread

    t0 = time.perf_counter()
    g = load_wc(path, n)
    load_s = time.perf_counter() - t0
    k, jobs = args.k, args.threads
    if method.startswith("imm"):
        eps = args.epsilon if method == "imm" else TIGHT_EPSILON
        sel: Any = IMM(k=k, epsilon=eps, ell=1.0, model=model, random_state=0, n_jobs=jobs)
    elif method == "celf":
        sel = CELF(k=k, n_sims=args.celf_sims, model=model, random_state=0, n_jobs=jobs)
    elif method == "degree":
        sel = DegreeSeeds(k=k)
    else:
        sel = PageRankSeeds(k=k)
    sel.fit(g)
    t1 = time.perf_counter()
    est = estimate_spread(g, sel.seeds_, model=model, n_sims=eval_sims(n, args), random_state=777, n_jobs=jobs)
    eval_s = time.perf_counter() - t1
    answer: dict[str, Any] = {
        "nodes": g.n_nodes,
        "edges": g.n_edges,
        "load_seconds": load_s,
        "select_seconds": float(sel.fit_seconds_),
        "eval_seconds": eval_s,
        "spread": est.mean,
        "ci_half": (est.ci_high - est.ci_low) / 2,
        "n_sims": est.n_sims,
        "peak_rss": peak_rss_bytes(),
    }
    if method.startswith("imm"):
        answer.update(rr_sets=sel.n_rr_sets_, rr_memory_mb=sel.rr_memory_mb_, ratio=sel.guarantee_.ratio,
                      failure=sel.guarantee_.failure_probability)  # fmt: skip
    if method == "celf":
        answer["celf_sims"] = args.celf_sims
    print(json.dumps(answer))


def eval_sims(n: int, args: argparse.Namespace) -> int:
    return int(args.eval_sims) if args.eval_sims else (10_000 if n <= 10_000 else 2_000 if n <= 100_000 else 300)


# --------------------------------------------------------------------------- orchestration
@dataclass
class Result:
    n: int
    model: str
    method: str
    run: ChildRun

    @property
    def ok(self) -> bool:
        return self.run.answer is not None

    def get(self, key: str) -> Any:
        return None if self.run.answer is None else self.run.answer.get(key)

    @property
    def peak_rss(self) -> int:
        return int(self.get("peak_rss") or self.run.polled_peak_rss)


def measure(method: str, model: str, n: int, path: Path, args: argparse.Namespace) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix="viral-", dir=DATA_DIR))
    try:
        cmd = [str(Path(__file__).resolve()), "--child", method, model, str(n), str(path)]
        cmd += ["--k", str(args.k), "--epsilon", str(args.epsilon), "--threads", str(args.threads)]
        cmd += ["--celf-sims", str(args.celf_sims), "--eval-sims", str(args.eval_sims)]
        run = run_child(cmd, workdir=workdir, timeout=args.timeout)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return Result(n, model, method, run)


HEADERS = ["nodes", "edges", "model", "method", "select s", "eval s", "peak RSS MiB", "spread (MC, 95% CI)",
           "vs IMM", "RR sets", "guarantee"]  # fmt: skip
RIGHT = {0, 1, 4, 5, 6, 7, 8, 9}


def table_rows(results: list[Result]) -> list[list[str]]:
    rows = []
    for r in results:
        if not r.ok:
            status = "timed out" if r.run.timed_out else f"failed (exit {r.run.returncode})"
            rows.append([f"{r.n:,}", "", r.model.upper(), r.method, status, "", f"{r.peak_rss / MIB:,.0f}", "", "", "",
                         ""])  # fmt: skip
            continue
        imm = next((x for x in results if x.ok and (x.n, x.model, x.method) == (r.n, r.model, "imm")), None)
        rel = "" if imm is None or r.method == "imm" else f"{(r.get('spread') / imm.get('spread') - 1) * 100:+.1f}%"
        guarantee = "none"
        if r.method.startswith("imm"):
            guarantee = f"{r.get('ratio'):.3f} w.p. 1 - {r.get('failure'):.0e}"
        elif r.method == "celf":
            guarantee = f"0.632 on its {r.get('celf_sims')} worlds"
        rows.append([
            f"{r.get('nodes'):,}", f"{r.get('edges'):,}", r.model.upper(), r.method, f"{r.get('select_seconds'):.2f}",
            f"{r.get('eval_seconds'):.1f}", f"{r.peak_rss / MIB:,.0f}",
            f"{r.get('spread'):,.1f} ± {r.get('ci_half'):,.1f}", rel,
            f"{r.get('rr_sets'):,}" if r.get("rr_sets") else "", guarantee,
        ])  # fmt: skip
    return rows


def goal_lines(results: list[Result]) -> list[str]:
    lines = []
    for n, limit in GOALS.items():
        imm = [r for r in results if r.n == n and r.method == "imm"]
        if not imm:
            continue
        secs = [f"{r.model.upper()} {r.get('select_seconds'):.1f} s" if r.ok else f"{r.model.upper()} failed"
                for r in imm]  # fmt: skip
        met = all(r.ok and r.get("select_seconds") < limit for r in imm)
        lines.append(f"IMM at {n:,} nodes under {limit:.0f} s: {'met' if met else 'NOT met'} ({', '.join(secs)})")
    big = [r for r in results if r.n >= 1_000_000]
    if big:
        top = max(big, key=lambda r: r.peak_rss)
        met = all(r.peak_rss < GOAL_RSS_GB * 2**30 for r in big)
        lines.append(
            f"1M nodes within {GOAL_RSS_GB:.0f} GB: {'met' if met else 'NOT met'} "
            f"(largest {top.method} {top.model.upper()} {top.peak_rss / 2**30:.2f} GiB)"
        )
    for n in sorted({r.n for r in results}):
        for model in MODELS:
            rs = {r.method: r for r in results if r.n == n and r.model == model and r.ok}
            if "imm" in rs:
                best = max(rs.values(), key=lambda r: r.get("spread"))
                versus = [f"{(rs['imm'].get('spread') / r.get('spread') - 1) * 100:+.1f}% vs {m}"
                          for m, r in rs.items() if m != "imm"]  # fmt: skip
                lines.append(
                    f"{n:,} nodes {model.upper()}: largest spread by {best.method} ({best.get('spread'):,.1f}); "
                    f"IMM {', '.join(versus)}"
                )
    return lines


def markdown(results: list[Result], args: argparse.Namespace, command: str, info: dict[str, str]) -> str:
    facts = "\n".join(f"- {k}: {v}" for k, v in info.items())
    goals = "\n".join(f"- {line}" for line in goal_lines(results))
    return f"""## Seed selection (`bench/viral.py`)

Command: `{command}`. Graphs: Chung-Lu with a power-law degree tail (exponent {EXPONENT}), {EDGES_PER_NODE // 2}
ties per node drawn both ways (self-loops and repeats dropped), numpy generator, seed {args.seed};
weighted-cascade probabilities `1 / in-degree` for IC and LT. k = {args.k}; `imm`: IMM with epsilon =
{args.epsilon}, ell = 1; `imm-0.1`: the same with epsilon = {TIGHT_EPSILON}; CELF (10k nodes only) averages
over {args.celf_sims} worlds. Each method runs in a fresh process with {args.threads} threads; "select s" is the
selector's `fit` (it includes loading the numba kernels from the on-disk cache, about 0.3 s; imports and
graph loading excluded), "eval s" the independent Monte-Carlo check
(`estimate_spread`, 10,000 simulations at 10k nodes, 2,000 at 100k, 300 at 1M; the same worlds for
every method of a size and model); peak RSS is the child's own `VmHWM` (graph included).
"vs IMM" = spread / the `imm` row's spread - 1 (positive: more reach than IMM with epsilon 0.5).

{facts}

{markdown_table(HEADERS, table_rows(results), right=RIGHT)}

**Goals:**

{goals}
"""


def print_table(results: list[Result], console: Console) -> None:
    t = Table(title="Seed selection, k = 50")
    for i, h in enumerate(HEADERS):
        t.add_column(h, justify="right" if i in RIGHT else "left")
    for row in table_rows(results):
        t.add_row(*row)
    console.print(t)


def warm_up(args: argparse.Namespace, console: Console) -> None:
    """Compile (or load) the numba kernels once, so that no measured child pays for compilation."""
    path = generate(2_000, args.seed)
    for model in MODELS:
        for method in ("imm", "celf"):
            r = measure(method, model, 2_000, path, args)
            if not r.ok:
                console.log(f"[red]warm-up {method} {model} failed[/red]\n{r.run.stderr_tail}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="comma-separated node counts")
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated: ic, lt")
    p.add_argument("--methods", default=",".join(METHODS), help="comma-separated: imm, imm-0.1, degree, pagerank, celf")
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--epsilon", type=float, default=0.5)
    p.add_argument("--celf-sims", type=int, default=200, help="worlds CELF averages over")
    p.add_argument("--eval-sims", type=int, default=0, help="Monte-Carlo simulations (0: by size)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per run before it is killed")
    p.add_argument("--quick", action="store_true", help="RESULTS.md untouched")
    p.add_argument("--out", type=Path, default=None, help="results file (default bench/RESULTS.md; none with --quick)")
    p.add_argument("--child", nargs=4, metavar=("METHOD", "MODEL", "N", "PATH"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        method, model, n, path = args.child
        child_main(method, model, int(n), Path(path), args)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    models = [m.strip() for m in args.models.split(",")]
    methods = [m.strip() for m in args.methods.split(",")]
    out = args.out or (None if args.quick else Path(__file__).resolve().parent / "RESULTS.md")
    console = Console() if sys.stdout.isatty() else Console(width=180)
    info = machine_info(("growthkit", "numpy", "numba", "scipy"))
    with console.status("warming up the numba kernels"):
        warm_up(args, console)
    results: list[Result] = []
    for n in sizes:
        with console.status(f"generating {n:,} nodes (cached in {DATA_DIR})"):
            t0 = time.perf_counter()
            path = generate(n, args.seed)
        console.log(f"{n:,} nodes: graph ready in {time.perf_counter() - t0:.1f} s ({path.name})")
        for model in models:
            for method in methods:
                if method == "celf" and n > CELF_MAX_NODES:
                    continue
                load = " ".join(f"{x:.1f}" for x in os.getloadavg())
                console.log(f"{n:,} {model} {method} ... (load {load})")
                r = measure(method, model, n, path, args)
                results.append(r)
                if r.ok:
                    console.log(f"  select {r.get('select_seconds'):.2f} s, spread {r.get('spread'):,.1f}, "
                                f"peak RSS {r.peak_rss / MIB:,.0f} MiB")  # fmt: skip
                else:
                    console.log(f"[red]  failed[/red]\n{r.run.stderr_tail}")
        if out is not None:
            command = "python bench/viral.py " + " ".join(argv if argv is not None else sys.argv[1:])
            replace_section(out, SECTION, markdown(results, args, command.strip(), info))
    print_table(results, console)
    for line in goal_lines(results):
        console.print(line)
    if out is not None:
        console.print(f"wrote {out}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
