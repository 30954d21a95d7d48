"""The social graph as forward and reverse compressed sparse rows.

A directed edge ``u -> v`` with probability ``p`` means: when ``u`` is activated
(shares, refers, buys), ``v`` is activated by ``u`` with probability ``p`` under
the independent cascade model, or ``p`` is ``u``'s weight in ``v``'s threshold
sum under the linear threshold model. Undirected ties (friends) are stored as
two directed edges.

Node numbers ``0..n-1`` are internal; ``node_ids[i]`` is the shop's user id of
node ``i``. Public functions take and return user ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from growthkit.errors import SchemaError

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SocialGraph:
    """A directed graph with one probability per edge, in CSR form both ways.

    Attributes
    ----------
    node_ids:
        The shop's user id of each node (``object`` array of ``str``).
    indptr, indices, prob:
        Forward CSR: the out-neighbours of ``u`` are
        ``indices[indptr[u]:indptr[u + 1]]`` with probabilities ``prob[...]``.
        Rows are sorted by target; there are no self-loops and no duplicate
        ``(u, v)`` pairs.
    rev_indptr, rev_indices, rev_prob:
        Reverse CSR (in-edges): the in-neighbours of ``v`` are
        ``rev_indices[rev_indptr[v]:rev_indptr[v + 1]]`` with the same
        probabilities as the forward edges.
    rev_edge:
        For each reverse slot, the position of the same edge in the forward arrays.
    """

    node_ids: npt.NDArray[np.object_]
    indptr: I64
    indices: I32
    prob: F64
    rev_indptr: I64
    rev_indices: I32
    rev_prob: F64
    rev_edge: I64
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_ids.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.indices.shape[0])

    def out_degree(self) -> I64:
        """Out-degree of every node."""
        return np.diff(self.indptr)

    def in_degree(self) -> I64:
        """In-degree of every node."""
        return np.diff(self.rev_indptr)

    def edge_sources(self) -> I32:
        """The source node of every forward edge (aligned with ``indices``)."""
        return np.repeat(np.arange(self.n_nodes, dtype=np.int32), self.out_degree())

    def node_index(self, user_ids: Iterable[str]) -> I64:
        """Node numbers of ``user_ids``; raises ``KeyError`` naming unknown ids."""
        if not self._index:
            self._index.update({str(u): i for i, u in enumerate(self.node_ids)})
        out, missing = [], []
        for u in user_ids:
            i = self._index.get(str(u))
            if i is None:
                missing.append(str(u))
            else:
                out.append(i)
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise KeyError(f"{len(missing)} user id(s) are not nodes of the graph: {shown}")
        return np.asarray(out, dtype=np.int64)

    def with_prob(self, prob: F64) -> SocialGraph:
        """The same graph with new forward-edge probabilities (aligned with ``indices``)."""
        p = np.asarray(prob, dtype=np.float64)
        if p.shape != self.prob.shape:
            raise SchemaError(f"need {self.n_edges} probabilities, got {p.shape[0]}")
        if p.size and (np.isnan(p).any() or p.min() < 0.0 or p.max() > 1.0):
            raise SchemaError("edge probabilities must lie in [0, 1]; fix the weights or pick a model")
        return SocialGraph(
            self.node_ids,
            self.indptr,
            self.indices,
            p,
            self.rev_indptr,
            self.rev_indices,
            p[self.rev_edge],
            self.rev_edge,
        )

    @classmethod
    def from_edges(
        cls,
        src: Sequence[str] | npt.ArrayLike,
        dst: Sequence[str] | npt.ArrayLike,
        prob: npt.ArrayLike | None = None,
        *,
        node_ids: Sequence[str] | npt.ArrayLike | None = None,
        undirected: npt.ArrayLike | bool = False,
        duplicates: str = "max",
    ) -> SocialGraph:
        """Build a graph from edge lists of user ids.

        Parameters
        ----------
        src, dst:
            User ids of edge ends.
        prob:
            One probability per edge in ``[0, 1]``; default 0.0 everywhere (set
            them with a probability model from :mod:`.probs`).
        node_ids:
            All nodes, including isolated ones; default: the ids seen in edges,
            sorted.
        undirected:
            ``True`` (or a boolean per edge) to add the reverse of the edge too.
        duplicates:
            How to combine probabilities of repeated ``(u, v)`` pairs:
            ``"max"`` or ``"union"`` (``1 - prod(1 - p)``). Self-loops are dropped.

        Examples
        --------
        >>> g = SocialGraph.from_edges(["a", "b"], ["b", "c"], [0.5, 0.2])
        >>> g.n_nodes, g.n_edges
        (3, 2)
        """
        s = np.asarray(src, dtype=object).astype(str)
        d = np.asarray(dst, dtype=object).astype(str)
        if s.shape != d.shape:
            raise SchemaError(f"src and dst differ in length ({s.shape[0]} vs {d.shape[0]})")
        p = np.zeros(s.shape[0]) if prob is None else np.asarray(prob, dtype=np.float64)
        if p.shape != s.shape:
            raise SchemaError(f"need one probability per edge ({s.shape[0]}), got {p.shape[0]}")
        if p.size and (np.isnan(p).any() or p.min() < 0.0 or p.max() > 1.0):
            raise SchemaError("edge probabilities must lie in [0, 1]")
        if node_ids is None:
            ids = np.unique(np.concatenate([s, d])) if s.size else np.array([], dtype=str)
        else:
            ids = np.asarray(node_ids, dtype=object).astype(str)
            if np.unique(ids).shape[0] != ids.shape[0]:
                raise SchemaError("node_ids contains repeated ids")
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        si = np.searchsorted(sorted_ids, s)
        di = np.searchsorted(sorted_ids, d)
        bad = (si >= ids.shape[0]) | (di >= ids.shape[0])
        if not bad.all():
            ok = ~bad
            bad[ok] = (sorted_ids[si[ok]] != s[ok]) | (sorted_ids[di[ok]] != d[ok])
        if bad.any():
            raise SchemaError(f"{int(bad.sum())} edge end(s) are not in node_ids, e.g. {s[bad][0]}->{d[bad][0]}")
        u = order[si].astype(np.int64)
        v = order[di].astype(np.int64)
        und = np.broadcast_to(np.asarray(undirected, dtype=bool), u.shape)
        if und.any():
            u, v, p = np.concatenate([u, v[und]]), np.concatenate([v, u[und]]), np.concatenate([p, p[und]])
        return cls.from_index_arrays(u, v, p, node_ids=ids, duplicates=duplicates)

    @classmethod
    def from_index_arrays(
        cls,
        u: npt.ArrayLike,
        v: npt.ArrayLike,
        prob: npt.ArrayLike,
        *,
        node_ids: npt.ArrayLike,
        duplicates: str = "max",
    ) -> SocialGraph:
        """Build a graph from node numbers (fast path for millions of edges)."""
        ids = np.asarray(node_ids, dtype=object)
        n = ids.shape[0]
        a = np.asarray(u, dtype=np.int64)
        b = np.asarray(v, dtype=np.int64)
        p = np.asarray(prob, dtype=np.float64)
        if a.size and (a.min() < 0 or b.min() < 0 or a.max() >= n or b.max() >= n):
            raise SchemaError("edge node numbers must lie in 0..n_nodes-1")
        keep = a != b
        a, b, p = a[keep], b[keep], p[keep]
        key = a * max(n, 1) + b
        order = np.argsort(key, kind="stable")
        key, a, b, p = key[order], a[order], b[order], p[order]
        if key.size:
            first = np.ones(key.shape[0], dtype=bool)
            first[1:] = key[1:] != key[:-1]
            if not first.all():
                grp = np.cumsum(first) - 1
                if duplicates == "max":
                    merged = np.zeros(int(first.sum()))
                    np.maximum.at(merged, grp, p)
                elif duplicates == "union":
                    logq = np.zeros(int(first.sum()))
                    np.add.at(logq, grp, np.log1p(-np.minimum(p, 1.0 - 1e-15)))
                    merged = -np.expm1(logq)
                else:
                    raise ValueError(f"duplicates must be 'max' or 'union', not {duplicates!r}")
                a, b, p = a[first], b[first], merged
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(a, minlength=n), out=indptr[1:])
        rorder = np.lexsort((a, b))
        rev_indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(b, minlength=n), out=rev_indptr[1:])
        return cls(
            node_ids=ids,
            indptr=indptr,
            indices=b.astype(np.int32),
            prob=p,
            rev_indptr=rev_indptr,
            rev_indices=a[rorder].astype(np.int32),
            rev_prob=p[rorder],
            rev_edge=rorder.astype(np.int64),
        )
