"""CELF: lazy greedy seed selection on Monte-Carlo spread (the small-graph reference).

Kempe, Kleinberg and Tardos (2003) showed that the greedy that adds the node with the
largest marginal spread is within ``1 - 1/e`` of the best ``k`` seeds, because the
spread is monotone and submodular under IC and LT. Leskovec et al. (2007),
"Cost-effective outbreak detection in networks" (KDD), made it lazy (CELF): marginal
gains only shrink, so a stale gain that still tops the queue is re-evaluated and, if it
stays on top, taken. Under a budget with unequal costs CELF runs the unit-cost and the
cost-benefit greedy and keeps the better (guarantee ``(1 - 1/e) / 2``, see :mod:`.budget`).

Spread is the average over ``n_sims`` fixed live-edge worlds (common random numbers, see
:mod:`._kernels`): the objective is then exactly submodular, so laziness loses nothing,
and a marginal gain is a search from the new node over the nodes the seeds have not
reached yet. The guarantee is relative to that sample average; it approaches the true
spread as ``n_sims`` grows. Cost: ``n_sims x n_nodes`` bytes and many graph searches, so
use it on graphs of a few thousand nodes at most; use :class:`IMM` or :class:`OPIMC` beyond.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable

import numpy as np

from growthkit.errors import ConfigError
from growthkit.models.influence.budget import Costs, SeedingProblem, SeedSelector
from growthkit.models.influence.diffusion import (
    DiffusionModel,
    PreparedGraph,
    prepare,
    resolve_n_jobs,
    run_chunks,
    stream_base,
)
from growthkit.models.influence.graph import I64, SocialGraph

_MAX_CELLS = 400_000_000


class CELF(SeedSelector):
    """Lazy greedy seed selection with Monte-Carlo spread (Leskovec et al. 2007).

    Parameters
    ----------
    k, budget, costs, candidates :
        What may be seeded (see :class:`~growthkit.models.influence.imm.IMM`).
    n_sims : int
        Live-edge worlds the spread is averaged over.
    model : {"ic", "lt"}
    random_state : int or None
        Seed of the worlds; results are identical for every ``n_jobs``.
    n_jobs : int
        Threads (-1: all cores).

    Attributes
    ----------
    seeds_ : list of str
        Seed user ids in selection order.
    gains_ : list of float
        Marginal spread of each seed when it was added.
    spread_ : float
        Average spread of the seeds over the ``n_sims`` worlds.
    spread_stderr_ : float
        Its standard error.
    total_cost_ : float
    fit_seconds_ : float

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "a", "b", "c"], ["b", "c", "d", "d"], [0.9, 0.9, 0.5, 0.5])
    >>> celf = CELF(k=2, n_sims=2000, random_state=0, n_jobs=1).fit(g)
    >>> celf.seeds_
    ['a', 'd']
    """

    def __init__(
        self,
        *,
        k: int | None = None,
        budget: float | None = None,
        costs: Costs | None = None,
        candidates: Iterable[str] | None = None,
        n_sims: int = 1000,
        model: DiffusionModel = "ic",
        random_state: int | None = 0,
        n_jobs: int = -1,
    ) -> None:
        super().__init__(k=k, budget=budget, costs=costs, candidates=candidates)
        self.n_sims = n_sims
        self.model = model
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _select(self, graph: SocialGraph, problem: SeedingProblem) -> I64:
        prep = prepare(graph, self.model)
        jobs = resolve_n_jobs(self.n_jobs)
        if isinstance(self.n_sims, bool) or not isinstance(self.n_sims, int | np.integer) or self.n_sims < 2:
            raise ConfigError(f"n_sims must be an int >= 2, got {self.n_sims!r}")
        n_sims = int(self.n_sims)
        if n_sims * graph.n_nodes > _MAX_CELLS:
            raise ConfigError(
                f"CELF keeps n_sims x n_nodes = {n_sims * graph.n_nodes} flags; it is the reference for small "
                "graphs: lower n_sims or use IMM / OPIMC"
            )
        base = stream_base(self.random_state, 0)
        runs = [_lazy_greedy(prep, problem, base, n_sims, jobs, ratio_rule=False)]
        if problem.budgeted:
            runs.append(_lazy_greedy(prep, problem, base, n_sims, jobs, ratio_rule=True))
        seeds, gains, counts = max(runs, key=lambda r: (r[2].sum(), -float(problem.costs[r[0]].sum())))
        self.gains_ = [g / n_sims for g in gains]
        self.spread_ = float(counts.mean())
        self.spread_stderr_ = float(counts.std(ddof=1) / math.sqrt(n_sims))
        return seeds


def _lazy_greedy(
    prep: PreparedGraph, problem: SeedingProblem, base: np.uint64, n_sims: int, jobs: int, *, ratio_rule: bool
) -> tuple[I64, list[int], I64]:
    """One CELF run; returns the seeds, their total gains over the worlds, per-world spread."""
    from growthkit.models.influence._kernels import commit_seed, marginal_gains

    g = prep.graph
    active = np.zeros((n_sims, g.n_nodes), dtype=np.uint8)
    costs = problem.costs

    def gains_of(nodes: I64) -> I64:
        parts = run_chunks(
            n_sims,
            jobs,
            lambda a, b: marginal_gains(g.indptr, g.indices, g.prob, prep.lo, prep.lt, base, active, nodes, a, b),
        )
        return np.asarray(np.sum(parts, axis=0), dtype=np.int64)

    def score(gain: int, v: int) -> float:
        return gain / max(float(costs[v]), 1e-12) if ratio_rule else float(gain)

    left = problem.budget_slack
    cands = np.flatnonzero(problem.candidates & (costs <= left)).astype(np.int64)
    if problem.max_count == 0:
        cands = cands[:0]
    first = gains_of(cands) if cands.size else np.zeros(0, dtype=np.int64)
    heap = [(-score(int(gain), int(v)), int(v), 0) for v, gain in zip(cands, first, strict=True)]
    heapq.heapify(heap)
    seeds: list[int] = []
    gains: list[int] = []
    while heap and len(seeds) < problem.max_count:
        _, v, fresh = heapq.heappop(heap)
        if costs[v] > left:
            continue
        if fresh == len(seeds):

            def commit(a: int, b: int, node: int = v) -> int:
                return int(commit_seed(g.indptr, g.indices, g.prob, prep.lo, prep.lt, base, active, node, a, b))

            total = sum(run_chunks(n_sims, jobs, commit))
            seeds.append(v)
            gains.append(int(total))
            left -= float(costs[v])
        else:
            gain = int(gains_of(np.asarray([v], dtype=np.int64))[0])
            heapq.heappush(heap, (-score(gain, v), v, len(seeds)))
    counts = active.sum(axis=1, dtype=np.int64)
    return np.asarray(seeds, dtype=np.int64), gains, counts
