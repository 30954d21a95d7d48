"""Compiled kernels for forward diffusion (Monte-Carlo spread and CELF's marginal gains).

Internal module: it imports numba at import time, so the public modules import it lazily
inside functions. Every kernel is ``nogil`` (callers split the work over threads) and
cached on disk (``cache=True``), and each is compiled for one signature only: int64
``indptr``, int32 ``indices``, float64 probabilities, uint64 seeds.

Randomness is counter-based (SplitMix64, Steele, Lea and Flood 2014): the coin of edge
``e`` in world ``s`` is a hash of ``(seed, s, e)``. A world is therefore the same
whatever thread simulates it and whatever seed set is spread in it, so results do not
depend on the number of threads, and CELF's gains are computed on common random numbers.

Live-edge worlds (Kempe, Kleinberg and Tardos 2003):

* independent cascade (IC): edge ``u -> v`` is live when ``U(s, e) < p_e``, independently
  per edge;
* linear threshold (LT): node ``v`` draws one ``r = U(s, v)`` and keeps the in-edge whose
  slot ``[lo_e, lo_e + w_e)`` of the cumulated in-weights contains ``r`` (at most one
  in-edge, none with probability ``1 - sum(w)``), which has the LT model's distribution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

try:
    import numba
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "growthkit's diffusion models and seed selection need numba; install the extra: pip install 'growthkit[models]'"
    ) from exc

F = TypeVar("F", bound=Callable[..., Any])
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_TWO_M53 = 1.0 / 9007199254740992.0


def jit(fn: F) -> F:
    """``numba.njit(cache=True, nogil=True)`` keeping the function's static type."""
    return cast(F, numba.njit(cache=True, nogil=True)(fn))


@jit
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64's output function: a bijective 64-bit hash."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@jit
def stream_seed(base: np.uint64, index: int) -> np.uint64:
    """The seed of item ``index`` (a world, an RR set) of the stream ``base``."""
    return mix64(base + np.uint64(index + 1) * GOLDEN)


@jit
def uniform_at(seed: np.uint64, key: int) -> float:
    """``U[0, 1)`` number ``key`` of the counter-based stream ``seed``."""
    return float(mix64(seed + np.uint64(key + 1) * GOLDEN) >> _S11) * _TWO_M53


@jit
def next_uniform(state: np.uint64) -> tuple[np.uint64, float]:
    """Advance a sequential SplitMix64 state; return it and a ``U[0, 1)`` number."""
    state = state + GOLDEN
    return state, float(mix64(state) >> _S11) * _TWO_M53


@jit
def _live(world: np.uint64, e: int, v: int, lo: F64, prob: F64, by_target: bool) -> bool:
    r = uniform_at(world, v if by_target else e)
    return bool(lo[e] <= r < lo[e] + prob[e])


@jit
def simulate_counts(
    indptr: I64, indices: I32, prob: F64, lo: F64, by_target: bool, seeds: I64, base: np.uint64, s0: int, s1: int
) -> I64:
    """Number of active nodes at the end of worlds ``s0..s1-1`` when ``seeds`` start active."""
    n = indptr.shape[0] - 1
    out = np.zeros(s1 - s0, np.int64)
    mark = np.zeros(n, np.int64)
    queue = np.empty(max(n, 1), np.int32)
    for s in range(s0, s1):
        world = stream_seed(base, s)
        stamp = s + 1
        tail = 0
        for i in range(seeds.shape[0]):
            v = seeds[i]
            if mark[v] != stamp:
                mark[v] = stamp
                queue[tail] = v
                tail += 1
        head = 0
        while head < tail:
            u = queue[head]
            head += 1
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if mark[v] != stamp and _live(world, e, v, lo, prob, by_target):
                    mark[v] = stamp
                    queue[tail] = v
                    tail += 1
        out[s - s0] = tail
    return out


@jit
def _spread_from(
    indptr: I64,
    indices: I32,
    prob: F64,
    lo: F64,
    by_target: bool,
    world: np.uint64,
    active: U8,
    start: int,
    mark: I64,
    stamp: int,
    queue: I32,
    commit: bool,
) -> int:
    """Nodes newly reached from ``start`` in one world, avoiding already ``active`` ones."""
    if active[start]:
        return 0
    mark[start] = stamp
    queue[0] = start
    tail = 1
    head = 0
    while head < tail:
        u = queue[head]
        head += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if mark[v] != stamp and not active[v] and _live(world, e, v, lo, prob, by_target):
                mark[v] = stamp
                queue[tail] = v
                tail += 1
    if commit:
        for i in range(tail):
            active[queue[i]] = 1
    return tail


@jit
def marginal_gains(
    indptr: I64,
    indices: I32,
    prob: F64,
    lo: F64,
    by_target: bool,
    base: np.uint64,
    active: U8,
    nodes: I64,
    s0: int,
    s1: int,
) -> I64:
    """Sum over worlds ``s0..s1-1`` of each node's marginal gain given the ``active`` rows.

    ``active[s, v]`` is 1 when ``v`` is reached by the current seed set in world ``s``.
    """
    n = indptr.shape[0] - 1
    gains = np.zeros(nodes.shape[0], np.int64)
    mark = np.zeros(n, np.int64)
    queue = np.empty(max(n, 1), np.int32)
    stamp = 0
    for s in range(s0, s1):
        world = stream_seed(base, s)
        row = active[s]
        for i in range(nodes.shape[0]):
            stamp += 1
            gains[i] += _spread_from(
                indptr, indices, prob, lo, by_target, world, row, nodes[i], mark, stamp, queue, False
            )
    return gains


@jit
def commit_seed(
    indptr: I64,
    indices: I32,
    prob: F64,
    lo: F64,
    by_target: bool,
    base: np.uint64,
    active: U8,
    node: int,
    s0: int,
    s1: int,
) -> int:
    """Add ``node`` to the seed set in worlds ``s0..s1-1``; return the total gain."""
    n = indptr.shape[0] - 1
    mark = np.zeros(n, np.int64)
    queue = np.empty(max(n, 1), np.int32)
    total = 0
    for s in range(s0, s1):
        world = stream_seed(base, s)
        total += _spread_from(indptr, indices, prob, lo, by_target, world, active[s], node, mark, s + 1, queue, True)
    return total
