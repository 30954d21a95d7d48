"""Diffusion models on a :class:`SocialGraph`: Monte-Carlo and exact expected spread.

Two models, both as in Kempe, Kleinberg and Tardos (2003), "Maximizing the spread of
influence through a social network" (KDD):

* **Independent cascade** (``"ic"``). Seeds are active at step 0. When ``u`` becomes
  active it gets one chance to activate each inactive out-neighbour ``v``, succeeding with
  the edge probability ``p(u, v)``, independently of everything else.
* **Linear threshold** (``"lt"``). Edge probabilities are weights: ``v`` becomes active
  once the weights of its active in-neighbours reach a threshold drawn uniformly from
  ``[0, 1]``. Each node's in-weights must sum to at most 1.

The *spread* ``sigma(S)`` is the expected number of active nodes at the end, seeds
included. Both models are live-edge models (IC: each edge is live independently; LT: each
node keeps at most one in-edge, edge ``e`` with probability ``w_e``), so ``sigma(S)`` is
the expected number of nodes reachable from ``S`` in a random live-edge graph;
:func:`exact_spread` enumerates these graphs on tiny inputs, :func:`estimate_spread`
samples them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from growthkit.errors import ConfigError, SchemaError
from growthkit.models.influence.graph import F64, I64, SocialGraph

DiffusionModel = Literal["ic", "lt"]
MODELS: tuple[str, ...] = ("ic", "lt")
T = TypeVar("T")


@dataclass(frozen=True)
class SpreadEstimate:
    """A Monte-Carlo estimate of the expected spread ``sigma(S)``.

    Attributes
    ----------
    mean : float
        Average number of active nodes over the simulations (seeds included).
    stderr : float
        Standard error of ``mean`` (sample standard deviation / sqrt(n_sims)).
    ci_low, ci_high : float
        Normal-approximation confidence interval ``mean -/+ z * stderr``.
    n_sims : int
        Number of simulated cascades.
    confidence : float
        Coverage of the interval (0.95 by default).
    """

    mean: float
    stderr: float
    ci_low: float
    ci_high: float
    n_sims: int
    confidence: float = 0.95


@dataclass(frozen=True)
class PreparedGraph:
    """Arrays the compiled kernels need, derived once per fit (internal).

    ``uniform_p[v]`` is the probability all in-edges of ``v`` share (-1 when they differ);
    ``log1m[v]`` is ``log(1 - uniform_p[v])`` (NaN when they differ); ``lo`` holds each
    edge's LT slot start in forward order.
    """

    graph: SocialGraph
    lt: bool
    lo: F64
    uniform_p: F64
    log1m: F64


def check_model(model: str) -> bool:
    """Validate ``model``; return True for linear threshold."""
    if model not in MODELS:
        raise ConfigError(f"model must be one of {list(MODELS)}, got {model!r}")
    return model == "lt"


def check_lt_weights(graph: SocialGraph, tol: float = 1e-9) -> None:
    """Raise :class:`SchemaError` when some node's in-weights sum to more than 1."""
    if graph.n_edges == 0:
        return
    total = np.bincount(graph.indices, weights=graph.prob, minlength=graph.n_nodes)
    worst = int(np.argmax(total))
    if total[worst] > 1.0 + tol:
        n_bad = int((total > 1.0 + tol).sum())
        raise SchemaError(
            f"the linear threshold model needs each node's in-edge weights to sum to at most 1; "
            f"{n_bad} node(s) exceed it, e.g. user {graph.node_ids[worst]!s} with {total[worst]:.6g}. "
            "Normalise the weights (e.g. weighted cascade 1/in_degree) or use model='ic'"
        )


def prepare(graph: SocialGraph, model: str) -> PreparedGraph:
    """Check the model and derive kernel arrays: LT slots and per-node uniform in-probability."""
    lt = check_model(model)
    if lt:
        check_lt_weights(graph)
    n = graph.n_nodes
    deg = graph.in_degree()
    nz = deg > 0
    lo = np.zeros(graph.n_edges)
    uniform = np.zeros(n)
    if graph.n_edges:
        starts = graph.rev_indptr[:-1][nz]
        lo_min = np.minimum.reduceat(graph.rev_prob, starts)
        hi_max = np.maximum.reduceat(graph.rev_prob, starts)
        uniform[nz] = np.where(lo_min == hi_max, hi_max, -1.0)
        if lt:
            csum = np.cumsum(graph.rev_prob)
            before = np.concatenate([[0.0], csum])[graph.rev_indptr[:-1]]
            lo_rev = csum - graph.rev_prob - np.repeat(before, deg)
            lo[graph.rev_edge] = np.maximum(lo_rev, 0.0)
    # log(1 - p) of the shared in-probability: 0 (no live in-edge), -inf (all live), NaN (unequal)
    with np.errstate(divide="ignore"):
        log1m = np.log1p(-np.clip(uniform, 0.0, 1.0))
    log1m[uniform < 0.0] = np.nan
    return PreparedGraph(graph=graph, lt=lt, lo=lo, uniform_p=uniform, log1m=log1m)


def resolve_n_jobs(n_jobs: int) -> int:
    """Number of threads: ``n_jobs >= 1`` as given, ``-1`` for every available core."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or (n_jobs < 1 and n_jobs != -1):
        raise ConfigError(f"n_jobs must be a positive int or -1 (all cores), got {n_jobs!r}")
    if n_jobs == -1:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return int(n_jobs)


def stream_base(random_state: int | None, stream: int) -> np.uint64:
    """A 64-bit seed for random stream ``stream`` of ``random_state`` (fresh entropy if None)."""
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, int | np.integer) or random_state < 0
    ):
        raise ConfigError(f"random_state must be a non-negative int or None, got {random_state!r}")
    seq = np.random.SeedSequence(entropy=random_state, spawn_key=(stream,))
    return np.uint64(seq.generate_state(1, dtype=np.uint64)[0])


def run_chunks(n_items: int, n_jobs: int, fn: Callable[[int, int], T]) -> list[T]:
    """Call ``fn(start, stop)`` on contiguous chunks of ``range(n_items)`` on up to ``n_jobs`` threads.

    Results come back in chunk order. The kernels release the GIL, and every item draws
    its own random numbers from its index, so results do not depend on ``n_jobs``.
    """
    n_chunks = max(1, min(n_jobs, n_items))
    bounds = [n_items * i // n_chunks for i in range(n_chunks + 1)]
    if n_chunks == 1:
        return [fn(0, n_items)]
    with ThreadPoolExecutor(max_workers=n_chunks) as pool:
        futures = [pool.submit(fn, bounds[i], bounds[i + 1]) for i in range(n_chunks)]
        return [f.result() for f in futures]


def seed_indices(graph: SocialGraph, seeds: Iterable[str], what: str = "seed") -> I64:
    """Node numbers of user ids, de-duplicated in first-seen order; unknown ids raise SchemaError."""
    ids = [seeds] if isinstance(seeds, str) else list(seeds)
    try:
        idx = graph.node_index(ids)
    except KeyError as exc:
        raise SchemaError(f"{what} ids must be nodes of the graph: {exc.args[0]}") from exc
    _, first = np.unique(idx, return_index=True)
    return idx[np.sort(first)]


def estimate_spread(
    graph: SocialGraph,
    seeds: Iterable[str],
    *,
    model: DiffusionModel = "ic",
    n_sims: int = 10_000,
    random_state: int | None = 0,
    n_jobs: int = -1,
    confidence: float = 0.95,
) -> SpreadEstimate:
    """Monte-Carlo estimate of the expected spread of ``seeds`` under IC or LT.

    Each simulation samples one live-edge world (Kempe, Kleinberg and Tardos 2003) and
    counts the nodes reachable from the seeds. World ``s`` depends only on
    ``(random_state, s)``, so the estimate is the same for every ``n_jobs``, and two
    seed sets estimated with the same ``random_state`` are compared on the same worlds
    (common random numbers).

    Parameters
    ----------
    graph : SocialGraph
        Edge probabilities (IC) or weights (LT, in-weights summing to <= 1 per node).
    seeds : iterable of str
        User ids of the seed set (repeats are ignored).
    model : {"ic", "lt"}
        Diffusion model.
    n_sims : int
        Number of simulations (>= 2).
    random_state : int or None
        Seed of the worlds; None draws fresh entropy.
    n_jobs : int
        Threads (-1: all cores).
    confidence : float
        Coverage of the normal confidence interval.

    Returns
    -------
    SpreadEstimate

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "b"], ["b", "c"], [0.5, 0.5])
    >>> est = estimate_spread(g, ["a"], n_sims=20_000, n_jobs=1)
    >>> abs(est.mean - 1.75) < 4 * est.stderr   # exact: 1 + 0.5 + 0.25
    True
    """
    prep = prepare(graph, model)
    if isinstance(n_sims, bool) or not isinstance(n_sims, int | np.integer) or n_sims < 2:
        raise ConfigError(f"n_sims must be an int >= 2, got {n_sims!r}")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must lie in (0, 1), got {confidence!r}")
    jobs = resolve_n_jobs(n_jobs)
    base = stream_base(random_state, 0)
    idx = seed_indices(graph, seeds)
    if idx.size == 0:
        return SpreadEstimate(0.0, 0.0, 0.0, 0.0, int(n_sims), confidence)
    counts = simulate(prep, idx, base, int(n_sims), jobs)
    mean = float(counts.mean())
    stderr = float(counts.std(ddof=1) / math.sqrt(counts.shape[0]))
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    return SpreadEstimate(mean, stderr, mean - z * stderr, mean + z * stderr, int(n_sims), confidence)


def simulate(prep: PreparedGraph, seeds: I64, base: np.uint64, n_sims: int, n_jobs: int) -> I64:
    """Active-node count of each of ``n_sims`` worlds (internal; ``seeds`` are node numbers)."""
    from growthkit.models.influence._kernels import simulate_counts

    g = prep.graph
    seeds64 = np.ascontiguousarray(seeds, dtype=np.int64)

    def chunk(a: int, b: int) -> I64:
        return simulate_counts(g.indptr, g.indices, g.prob, prep.lo, prep.lt, seeds64, base, a, b)

    return np.concatenate(run_chunks(n_sims, n_jobs, chunk))


def _reachable(graph: SocialGraph, seeds: I64) -> npt.NDArray[np.bool_]:
    seen = np.zeros(graph.n_nodes, dtype=bool)
    seen[seeds] = True
    stack = [int(s) for s in seeds]
    while stack:
        u = stack.pop()
        lo, hi = graph.indptr[u], graph.indptr[u + 1]
        for v, p in zip(graph.indices[lo:hi], graph.prob[lo:hi], strict=True):
            if p > 0.0 and not seen[v]:
                seen[v] = True
                stack.append(int(v))
    return seen


def _propagate(active: npt.NDArray[np.bool_], src: I64, dst: I64, live: npt.NDArray[np.bool_]) -> None:
    """Close ``active`` (worlds x nodes) under live edges ``src -> dst`` (worlds x edges)."""
    for _ in range(active.shape[1] + 1):
        before = int(active.sum())
        for j in range(src.shape[0]):
            active[:, dst[j]] |= active[:, src[j]] & live[:, j]
        if int(active.sum()) == before:
            return


def exact_spread(
    graph: SocialGraph, seeds: Iterable[str], *, model: DiffusionModel = "ic", max_worlds: int = 1 << 20
) -> float:
    """Exact expected spread by enumerating every live-edge world (tiny graphs only).

    Only the part of the graph reachable from the seeds matters. IC enumerates the
    ``2^m`` outcomes of its ``m`` uncertain edges (probability strictly between 0 and 1);
    LT enumerates each reachable non-seed node's choice of at most one in-edge. Used to
    check the Monte-Carlo and RR-set estimators.

    Parameters
    ----------
    graph : SocialGraph
    seeds : iterable of str
        User ids of the seed set.
    model : {"ic", "lt"}
    max_worlds : int
        Refuse (ConfigError) when more worlds than this would be enumerated.

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "b"], ["b", "c"], [0.5, 0.5])
    >>> exact_spread(g, ["a"])
    1.75
    """
    lt = check_model(model)
    if lt:
        check_lt_weights(graph)
    idx = seed_indices(graph, seeds)
    if idx.size == 0:
        return 0.0
    reach = _reachable(graph, idx)
    src_all = graph.edge_sources().astype(np.int64)
    keep = reach[src_all] & (graph.prob > 0.0)
    src, dst, p = src_all[keep], graph.indices[keep].astype(np.int64), graph.prob[keep]
    is_seed = np.zeros(graph.n_nodes, dtype=bool)
    is_seed[idx] = True
    if lt:
        keep_e = ~is_seed[dst]
        src, dst, p = src[keep_e], dst[keep_e], p[keep_e]
        targets = np.unique(dst)
        sizes = [int((dst == v).sum()) + 1 for v in targets]
        n_worlds = math.prod(sizes)
        if n_worlds > max_worlds:
            raise ConfigError(f"exact LT spread would enumerate {n_worlds} worlds (> max_worlds={max_worlds})")
        live = np.zeros((n_worlds, src.shape[0]), dtype=bool)
        weight = np.ones(n_worlds)
        rest = np.arange(n_worlds)
        for v, size in zip(targets, sizes, strict=True):
            choice, rest = rest % size, rest // size
            edges = np.flatnonzero(dst == v)
            probs = np.append(p[edges], max(0.0, 1.0 - float(p[edges].sum())))
            weight *= probs[choice]
            for c, e in enumerate(edges):
                live[:, e] = choice == c
    else:
        certain = p >= 1.0
        uncertain = np.flatnonzero(~certain)
        if (1 << uncertain.shape[0]) > max_worlds:
            raise ConfigError(
                f"exact IC spread would enumerate 2^{uncertain.shape[0]} worlds (> max_worlds={max_worlds})"
            )
        n_worlds = 1 << uncertain.shape[0]
        world = np.arange(n_worlds)
        live = np.ones((n_worlds, src.shape[0]), dtype=bool)
        weight = np.ones(n_worlds)
        for bit, e in enumerate(uncertain):
            on = ((world >> bit) & 1).astype(bool)
            live[:, e] = on
            weight *= np.where(on, p[e], 1.0 - p[e])
    active = np.zeros((n_worlds, graph.n_nodes), dtype=bool)
    active[:, idx] = True
    _propagate(active, src, dst, live)
    return float(weight @ active.sum(axis=1))
