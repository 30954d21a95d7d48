"""Reverse-reachable (RR) sets: sampling, flat storage and coverage.

An RR set is sampled by picking a root ``v`` uniformly at random and collecting the nodes
that reach ``v`` in a random live-edge world (Borgs, Brautbar, Chayes and Lucier 2014,
"Maximizing social influence in nearly optimal time", SODA). For every seed set ``S``,
``sigma(S) = n * P(S intersects a random RR set)``, so the fraction of RR sets that ``S``
covers, times ``n``, is an unbiased spread estimate and maximising coverage maximises
spread (Tang, Xiao and Shi 2014; Tang, Shi and Xiao 2015).

* IC: a reverse breadth-first search that keeps each in-edge ``u -> v`` with probability
  ``p(u, v)``. When all in-edges of ``v`` share one probability (weighted cascade,
  uniform IC), kept edges are found by geometric skips instead of one coin per edge.
* LT: a reverse random walk: each visited node keeps at most one in-edge (edge ``e`` with
  probability ``w_e``) and the walk stops at a node without one or at a repeat.

Sets are stored flat (``set_ptr`` int64 offsets into ``nodes`` int32). RR set ``j`` of a
stream depends only on the stream seed and ``j``, never on the thread that sampled it.
Internal module: it imports numba at import time.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from growthkit.errors import ConfigError
from growthkit.models.influence._kernels import F64, I32, I64, jit, next_uniform, stream_seed
from growthkit.models.influence.diffusion import PreparedGraph, run_chunks

_MAX_SETS = np.iinfo(np.int32).max


@jit
def _push(buf: I32, pos: int, value: int) -> I32:
    if pos >= buf.shape[0]:
        bigger = np.empty(2 * buf.shape[0], np.int32)
        bigger[: buf.shape[0]] = buf
        buf = bigger
    buf[pos] = value
    return buf


@jit
def sample_batch(
    rev_indptr: I64,
    rev_indices: I32,
    rev_prob: F64,
    uniform_p: F64,
    log1m: F64,
    lt: bool,
    base: np.uint64,
    j0: int,
    j1: int,
) -> tuple[I64, I32]:
    """RR sets ``j0..j1-1`` of stream ``base``: their sizes and their nodes, concatenated."""
    n = rev_indptr.shape[0] - 1
    sizes = np.zeros(j1 - j0, np.int64)
    buf = np.empty(max(1024, 4 * (j1 - j0)), np.int32)
    mark = np.zeros(n, np.int32)
    pos = 0
    for j in range(j0, j1):
        state = stream_seed(base, j)
        stamp = j + 1
        state, r = next_uniform(state)
        root = min(int(r * n), n - 1)
        start = pos
        buf = _push(buf, pos, root)
        pos += 1
        mark[root] = stamp
        if lt:
            v = root
            while True:
                a, b = rev_indptr[v], rev_indptr[v + 1]
                if a == b:
                    break
                state, r = next_uniform(state)
                u = -1
                p = uniform_p[v]
                if p >= 0.0:
                    if r < p * (b - a):
                        u = rev_indices[a + min(int(r / p), b - a - 1)]
                else:
                    acc = 0.0
                    for q in range(a, b):
                        acc += rev_prob[q]
                        if r < acc:
                            u = rev_indices[q]
                            break
                if u < 0 or mark[u] == stamp:
                    break
                mark[u] = stamp
                buf = _push(buf, pos, u)
                pos += 1
                v = u
        else:
            head = start
            while head < pos:
                v = buf[head]
                head += 1
                lq = log1m[v]
                if lq == 0.0:
                    continue  # no in-edge can be live
                a, b = rev_indptr[v], rev_indptr[v + 1]
                if np.isnan(lq):
                    for q in range(a, b):
                        state, r = next_uniform(state)
                        if r < rev_prob[q]:
                            u = rev_indices[q]
                            if mark[u] != stamp:
                                mark[u] = stamp
                                buf = _push(buf, pos, u)
                                pos += 1
                else:
                    q = a - 1
                    while True:
                        if lq > -np.inf:
                            state, r = next_uniform(state)
                            skip = np.log(1.0 - r) / lq  # failures before the next kept edge
                            if skip >= b - q - 1:
                                break
                            q += 1 + int(skip)
                        else:
                            q += 1
                            if q >= b:
                                break
                        u = rev_indices[q]
                        if mark[u] != stamp:
                            mark[u] = stamp
                            buf = _push(buf, pos, u)
                            pos += 1
        sizes[j - j0] = pos - start
    return sizes, buf[:pos].copy()


@jit
def invert(set_ptr: I64, nodes: I32, n: int) -> tuple[I64, I32]:
    """Inverted index: the RR sets containing node ``v`` are ``sets[ptr[v]:ptr[v + 1]]``."""
    ptr = np.zeros(n + 1, np.int64)
    for q in range(nodes.shape[0]):
        ptr[nodes[q] + 1] += 1
    for v in range(n):
        ptr[v + 1] += ptr[v]
    fill = ptr[:-1].copy()
    sets = np.empty(nodes.shape[0], np.int32)
    for j in range(set_ptr.shape[0] - 1):
        for q in range(set_ptr[j], set_ptr[j + 1]):
            v = nodes[q]
            sets[fill[v]] = j
            fill[v] += 1
    return ptr, sets


@jit
def count_covered(set_ptr: I64, nodes: I32, is_seed: npt.NDArray[np.bool_]) -> int:
    """Number of RR sets that contain at least one node with ``is_seed[v]``."""
    hit = 0
    for j in range(set_ptr.shape[0] - 1):
        for q in range(set_ptr[j], set_ptr[j + 1]):
            if is_seed[nodes[q]]:
                hit += 1
                break
    return hit


class RRSets:
    """A growing collection of RR sets from one random stream, stored flat.

    Parameters
    ----------
    prep : PreparedGraph
        The graph and model.
    base : numpy.uint64
        Seed of the stream; set ``j`` depends only on ``(base, j)``.
    n_jobs : int
        Threads used to sample.
    """

    def __init__(self, prep: PreparedGraph, base: np.uint64, n_jobs: int) -> None:
        self.prep = prep
        self.base = base
        self.n_jobs = n_jobs
        self.set_ptr: I64 = np.zeros(1, dtype=np.int64)
        self.nodes: I32 = np.empty(0, dtype=np.int32)

    @property
    def n_sets(self) -> int:
        """Number of RR sets sampled so far."""
        return int(self.set_ptr.shape[0] - 1)

    @property
    def n_entries(self) -> int:
        """Total size of the RR sets (node entries stored)."""
        return int(self.nodes.shape[0])

    @property
    def mean_size(self) -> float:
        """Average RR-set size (1.0 before any set is sampled)."""
        return self.n_entries / self.n_sets if self.n_sets else 1.0

    def grow_to(self, n_sets: int) -> None:
        """Sample sets ``n_sets_..n_sets-1`` of the stream (no-op when already there)."""
        start = self.n_sets
        if n_sets <= start:
            return
        if n_sets > _MAX_SETS:
            raise ConfigError(f"{n_sets} RR sets exceed the int32 index; raise epsilon or lower the memory limit")
        g = self.prep.graph
        prep = self.prep

        def chunk(a: int, b: int) -> tuple[I64, I32]:
            return sample_batch(
                g.rev_indptr, g.rev_indices, g.rev_prob, prep.uniform_p, prep.log1m, prep.lt, self.base, a, b
            )

        parts = run_chunks(n_sets - start, self.n_jobs, lambda a, b: chunk(start + a, start + b))
        sizes = np.concatenate([s for s, _ in parts])
        new_ptr = np.empty(n_sets - start, dtype=np.int64)
        np.cumsum(sizes, out=new_ptr)
        new_ptr += self.set_ptr[-1]
        self.set_ptr = np.concatenate([self.set_ptr, new_ptr])
        self.nodes = np.concatenate([self.nodes, *(x for _, x in parts)])

    def index(self) -> tuple[I64, I32]:
        """The node -> RR-set inverted index (``ptr``, ``sets``)."""
        return invert(self.set_ptr, self.nodes, self.prep.graph.n_nodes)

    def covered(self, seeds: I64) -> int:
        """Number of sets that contain a node of ``seeds`` (node numbers)."""
        is_seed = np.zeros(self.prep.graph.n_nodes, dtype=np.bool_)
        is_seed[seeds] = True
        return int(count_covered(self.set_ptr, self.nodes, is_seed))

    def spread(self, seeds: I64) -> float:
        """``n * covered / n_sets``: the RR-set estimate of ``sigma(seeds)``."""
        if self.n_sets == 0:
            return 0.0
        return self.prep.graph.n_nodes * self.covered(seeds) / self.n_sets


def bytes_per_set(mean_size: float) -> float:
    """Memory of one stored RR set with its inverted-index entries and greedy flag."""
    return 8.0 * mean_size + 8.0 + 1.0
