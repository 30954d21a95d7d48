"""Greedy maximum coverage over RR sets, with an upper bound on the optimum (internal).

The greedy is lazy (a max-heap of possibly stale scores; marginal coverages only shrink,
Minoux 1978) and keeps every node's marginal coverage exact through the node -> RR-set
inverted index, so a whole run touches each stored entry a constant number of times.

Upper bound (Tang, Tang, Xiao and Yuan 2018, OPIM-C, Section 4.2): for every prefix
``S_i`` of the greedy and every feasible set ``T``, submodularity gives
``Cov(T) <= Cov(S_i) + sum_{v in T} Cov(v | S_i)``. The sum is bounded by the ``k``
largest marginal coverages (seed count) and by a fractional knapsack over them (money
budget); the minimum over the prefixes is an upper bound on the best coverage.
Imports numba at import time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from growthkit.models.influence._kernels import F64, I32, I64, jit
from growthkit.models.influence.budget import SeedingProblem
from growthkit.models.influence.rrsets import RRSets

Bools = npt.NDArray[np.bool_]


@jit
def _better(key: F64, val: I64, i: int, j: int) -> bool:
    return bool(key[i] > key[j] or (key[i] == key[j] and val[i] < val[j]))


@jit
def _sift_down(key: F64, val: I64, size: int, i: int) -> None:
    while True:
        c = 2 * i + 1
        if c >= size:
            return
        if c + 1 < size and _better(key, val, c + 1, c):
            c += 1
        if not _better(key, val, c, i):
            return
        key[i], key[c] = key[c], key[i]
        val[i], val[c] = val[c], val[i]
        i = c


@jit
def _score(deg: int, cost: float, ratio_rule: bool) -> float:
    return float(deg / max(cost, 1e-12)) if ratio_rule else float(deg)


@jit
def _gain_bound(deg: I64, chosen: Bools, cand: Bools, costs: F64, bound_k: int, bound_budget: float) -> float:
    """Most coverage any feasible set can add to the current prefix (see the module docstring)."""
    m = 0
    for v in range(deg.shape[0]):
        if cand[v] and not chosen[v] and deg[v] > 0:
            m += 1
    gain = np.empty(m, np.float64)
    cost = np.empty(m, np.float64)
    m = 0
    for v in range(deg.shape[0]):
        if cand[v] and not chosen[v] and deg[v] > 0:
            gain[m] = deg[v]
            cost[m] = costs[v]
            m += 1
    top = float(gain.sum()) if m <= bound_k else float(np.partition(gain, m - bound_k)[m - bound_k :].sum())
    if not np.isfinite(bound_budget):
        return top
    ratio = np.empty(m, np.float64)
    for i in range(m):
        ratio[i] = gain[i] / cost[i] if cost[i] > 0.0 else np.inf
    order = np.argsort(-ratio)
    left = bound_budget
    frac = 0.0
    for i in order:
        if cost[i] <= left:
            frac += gain[i]
            left -= cost[i]
        else:
            frac += gain[i] * left / cost[i]
            break
    return float(min(top, frac))


@jit
def greedy_cover(
    set_ptr: I64,
    nodes: I32,
    node_ptr: I64,
    node_sets: I32,
    cand: Bools,
    costs: F64,
    budget: float,
    max_count: int,
    ratio_rule: bool,
    bound_k: int,
    bound_budget: float,
    bound_at: Bools,
) -> tuple[I64, int, float]:
    """Lazy greedy max coverage; returns the seeds, their coverage and an upper bound.

    Picks the candidate with the largest marginal coverage (``ratio_rule``: per unit
    cost) among those that still fit ``budget``, until ``max_count`` seeds or nothing
    fits. ``bound_at[i]`` asks for the prefix bound with ``i`` seeds chosen; the final
    prefix is always bounded when any is asked.
    """
    n = node_ptr.shape[0] - 1
    deg = np.empty(n, np.int64)
    for v in range(n):
        deg[v] = node_ptr[v + 1] - node_ptr[v]
    covered = np.zeros(set_ptr.shape[0] - 1, np.bool_)
    chosen = np.zeros(n, np.bool_)
    key = np.empty(n, np.float64)
    val = np.empty(n, np.int64)
    size = 0
    for v in range(n):
        if cand[v] and costs[v] <= budget:
            key[size] = _score(deg[v], costs[v], ratio_rule)
            val[size] = v
            size += 1
    for i in range(size // 2 - 1, -1, -1):
        _sift_down(key, val, size, i)
    seeds = np.empty(max(max_count, 0), np.int64)
    count = 0
    total = 0
    left = budget
    bound = np.inf
    want = bound_at.any()
    while count < max_count and size > 0:
        v = val[0]
        if costs[v] > left:
            size -= 1
            key[0], val[0] = key[size], val[size]
            _sift_down(key, val, size, 0)
            continue
        cur = _score(deg[v], costs[v], ratio_rule)
        if cur < key[0]:
            key[0] = cur
            _sift_down(key, val, size, 0)
            continue
        if bound_at[count]:
            bound = min(bound, total + _gain_bound(deg, chosen, cand, costs, bound_k, bound_budget))
        size -= 1
        key[0], val[0] = key[size], val[size]
        _sift_down(key, val, size, 0)
        chosen[v] = True
        seeds[count] = v
        count += 1
        left -= costs[v]
        total += deg[v]
        for q in range(node_ptr[v], node_ptr[v + 1]):
            j = node_sets[q]
            if not covered[j]:
                covered[j] = True
                for t in range(set_ptr[j], set_ptr[j + 1]):
                    deg[nodes[t]] -= 1
    if want:
        bound = min(bound, total + _gain_bound(deg, chosen, cand, costs, bound_k, bound_budget))
    return seeds[:count].copy(), total, bound


@dataclass(frozen=True)
class Cover:
    """The greedy's answer on one collection of RR sets.

    Attributes
    ----------
    seeds : ndarray of int64
        Node numbers in selection order.
    covered : int
        RR sets covered by ``seeds``.
    upper : float
        Upper bound on the coverage of any feasible seed set in the same RR sets.
    """

    seeds: I64
    covered: int
    upper: float


def _bound_steps(max_count: int, want: bool) -> Bools:
    steps = np.zeros(max_count + 1, dtype=np.bool_)
    if want:
        steps[: min(max_count, 64) + 1] = True
        steps[np.unique(np.linspace(0, max_count, 33).astype(np.int64))] = True
    return steps


def max_cover(rr: RRSets, problem: SeedingProblem, *, want_bound: bool = False) -> Cover:
    """Greedy (and, with unequal costs, cost-effective greedy) max coverage on ``rr``.

    With unequal costs both rules run and the better coverage wins (ties: the cheaper
    set), which keeps the ``(1 - 1/e) / 2`` guarantee of Khuller, Moss and Naor (1999).
    ``upper`` is at most ``covered / base_ratio`` in every case.
    """
    node_ptr, node_sets = rr.index()
    steps = _bound_steps(problem.max_count, want_bound)
    bound_budget = problem.budget_slack if problem.budgeted else math.inf
    rules = (False, True) if problem.budgeted else (False,)
    runs = []
    for ratio_rule in rules:
        seeds, covered, upper = greedy_cover(
            rr.set_ptr,
            rr.nodes,
            node_ptr,
            node_sets,
            problem.candidates,
            problem.costs,
            problem.budget_slack,
            problem.max_count,
            ratio_rule,
            problem.max_seeds,
            bound_budget,
            steps,
        )
        runs.append((int(covered), -float(problem.costs[seeds].sum()), seeds, float(upper)))
    best = max(runs, key=lambda r: (r[0], r[1]))
    upper = min(min(r[3] for r in runs), best[0] / problem.base_ratio)
    return Cover(seeds=best[2], covered=best[0], upper=upper)
