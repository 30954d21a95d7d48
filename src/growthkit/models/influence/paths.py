"""How influence travels: the most likely propagation paths, and expected reach per community.

* :func:`most_likely_paths`: for seed users and target users, the path of
  maximum probability product ``p(u1, u2) p(u2, u3) ...``, found as a shortest
  path on edge lengths ``-log p`` with Dijkstra's algorithm
  (:func:`scipy.sparse.csgraph.dijkstra`). This is the *maximum influence path*
  of Chen, Wang and Wang, "Scalable influence maximization for prevalent viral
  marketing in large-scale social networks", KDD 2010: the single most likely
  route, a lower bound of the target's activation probability (other routes
  add to it).
* :func:`activation_probabilities`: each user's probability of being activated
  under the independent cascade model (Kempe, Kleinberg and Tardos, KDD 2003)
  from a seed set, by Monte Carlo: a batch of simulations runs at once as a
  boolean matrix (simulations x users); each newly activated user tries each
  out-edge once, with one uniform draw per attempt. Standard error of each
  probability is at most ``0.5 / sqrt(simulations)``.
* :func:`reach_by_community`: the expected number of activated users per
  community, from those probabilities or from any per-user activation
  probabilities you pass (e.g. another diffusion estimator).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from growthkit.errors import SchemaError
from growthkit.models.influence.communities import Communities
from growthkit.models.influence.graph import SocialGraph

__all__ = [
    "LikelyPaths",
    "PropagationPath",
    "activation_probabilities",
    "most_likely_paths",
    "reach_by_community",
]

F64 = npt.NDArray[np.float64]
_TINY = 1e-300  # length of a p = 1 edge: csgraph must never mistake it for "no edge"


@dataclass(frozen=True)
class PropagationPath:
    """A chain of users from a seed to a target, with the product of its edge probabilities."""

    users: tuple[str, ...]
    probability: float

    @property
    def seed(self) -> str:
        return self.users[0]

    @property
    def target(self) -> str:
        return self.users[-1]

    @property
    def hops(self) -> int:
        return len(self.users) - 1


@dataclass(frozen=True)
class LikelyPaths:
    """The most likely paths (most probable first) and the targets no seed can reach."""

    paths: tuple[PropagationPath, ...]
    unreachable: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "seed": [p.seed for p in self.paths],
                "target": [p.target for p in self.paths],
                "hops": [p.hops for p in self.paths],
                "probability": [p.probability for p in self.paths],
                "path": [" -> ".join(p.users) for p in self.paths],
            }
        )


def _lengths(graph: SocialGraph) -> sp.csr_matrix:
    n = graph.n_nodes
    keep = graph.prob > 0
    rows = graph.edge_sources()[keep]
    length = np.maximum(-np.log(graph.prob[keep]), _TINY)
    return sp.csr_matrix((length, (rows, graph.indices[keep])), shape=(n, n))


def _walk(pred: npt.NDArray[np.int32], target: int) -> list[int]:
    out = [target]
    while pred[out[-1]] >= 0:
        out.append(int(pred[out[-1]]))
    return out[::-1]


def most_likely_paths(
    graph: SocialGraph,
    seeds: Iterable[str],
    targets: Iterable[str],
    *,
    top: int | None = 10,
    per_seed: bool = False,
    min_prob: float = 0.0,
) -> LikelyPaths:
    """The most probable propagation paths from ``seeds`` to ``targets``.

    Parameters
    ----------
    seeds, targets
        User ids (nodes of ``graph``).
    top
        Keep the ``top`` most probable paths (``None``: all).
    per_seed
        One path per (seed, target) pair instead of one per target (from
        whichever seed reaches it best).
    min_prob
        Ignore paths less likely than this (also prunes the search).

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "a", "b", "c"], ["b", "c", "d", "d"], [0.5, 0.9, 0.5, 0.5])
    >>> res = most_likely_paths(g, ["a"], ["d"])
    >>> res.paths[0].users, round(res.paths[0].probability, 6)
    (('a', 'c', 'd'), 0.45)
    """
    if not 0.0 <= min_prob <= 1.0:
        raise SchemaError(f"min_prob must lie in [0, 1], got {min_prob}")
    s_idx = np.unique(graph.node_index(seeds))
    t_ids = sorted(set(map(str, targets)))
    t_idx = graph.node_index(t_ids)
    if s_idx.size == 0 or t_idx.size == 0:
        return LikelyPaths((), tuple(t_ids) if s_idx.size == 0 else ())
    limit = np.inf if min_prob == 0.0 else -np.log(min_prob) + 1e-12
    lengths = _lengths(graph)
    found: list[PropagationPath] = []
    reached: set[int] = set()
    ids = graph.node_ids
    if per_seed:
        dist, pred = dijkstra(lengths, indices=s_idx, return_predecessors=True, limit=limit)
        for row in range(s_idx.size):
            for t in t_idx:
                if np.isfinite(dist[row, t]):
                    reached.add(int(t))
                    hops = _walk(pred[row], int(t))
                    found.append(PropagationPath(tuple(str(ids[i]) for i in hops), float(np.exp(-dist[row, t]))))
    else:
        dist, pred, _src = dijkstra(lengths, indices=s_idx, return_predecessors=True, min_only=True, limit=limit)
        for t in t_idx:
            if np.isfinite(dist[t]):
                reached.add(int(t))
                hops = _walk(pred, int(t))
                found.append(PropagationPath(tuple(str(ids[i]) for i in hops), float(np.exp(-dist[t]))))
    found.sort(key=lambda p: (-p.probability, p.target, p.seed))
    unreachable = tuple(t for t, i in zip(t_ids, t_idx, strict=True) if int(i) not in reached)
    return LikelyPaths(tuple(found if top is None else found[:top]), unreachable)


def activation_probabilities(
    graph: SocialGraph,
    seeds: Iterable[str],
    *,
    simulations: int = 1000,
    seed: int = 0,
    batch: int | None = None,
) -> pd.Series:
    """Each user's probability of activation under the independent cascade model, by Monte Carlo.

    Seeds are active with probability 1. ``batch`` simulations run together
    (default: as many as fit about 50 million user slots).

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "b"], ["b", "c"], [1.0, 0.5])
    >>> activation_probabilities(g, ["a"], simulations=4000, seed=1).round(1).tolist()
    [1.0, 1.0, 0.5]
    """
    if simulations < 1:
        raise SchemaError(f"simulations must be >= 1, got {simulations}")
    n = graph.n_nodes
    s_idx = np.unique(graph.node_index(seeds))
    rng = np.random.default_rng(seed)
    size = batch or max(1, min(simulations, 50_000_000 // max(n, 1)))
    out_deg = graph.out_degree()
    hits = np.zeros(n, dtype=np.int64)
    done = 0
    while done < simulations:
        b = min(size, simulations - done)
        active = np.zeros((b, n), dtype=bool)
        active[:, s_idx] = True
        fs = np.repeat(np.arange(b, dtype=np.int64), s_idx.size)
        fu = np.tile(s_idx, b)
        while fs.size:
            deg = out_deg[fu]
            total = int(deg.sum())
            if total == 0:
                break
            slots = np.repeat(graph.indptr[fu] - (np.cumsum(deg) - deg), deg) + np.arange(total, dtype=np.int64)
            ok = rng.random(total) < graph.prob[slots]
            sims, v = np.repeat(fs, deg)[ok], graph.indices[slots[ok]].astype(np.int64)
            fresh = ~active[sims, v]
            key = np.unique(sims[fresh] * n + v[fresh])
            fs, fu = key // n, key % n
            active[fs, fu] = True
        hits += active.sum(axis=0)
        done += b
    return pd.Series(hits / simulations, index=pd.Index(graph.node_ids, name="user_id"), name="activation")


def _labels(graph: SocialGraph, communities: Communities | Mapping[str, Hashable] | pd.Series) -> pd.Series:
    if isinstance(communities, Communities):
        lab = communities.labels
    elif isinstance(communities, pd.Series):
        lab = communities
    else:
        lab = pd.Series(dict(communities), dtype=object)
    return pd.Series(graph.node_ids.astype(str)).map(lab).fillna("(none)")


def reach_by_community(
    graph: SocialGraph,
    seeds: Iterable[str],
    communities: Communities | Mapping[str, Hashable] | pd.Series,
    *,
    activation: pd.Series | npt.ArrayLike | Callable[[SocialGraph, list[str]], Any] | None = None,
    simulations: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Expected activated users per community for a seed set.

    Parameters
    ----------
    communities
        A :class:`~growthkit.models.influence.communities.Communities`, or a
        mapping user id -> community label; users without one form ``"(none)"``.
    activation
        Per-user activation probabilities: a Series indexed by user id, an
        array aligned with ``graph.node_ids``, or a callable ``f(graph,
        seed_ids)`` returning either. Default :func:`activation_probabilities`.

    Returns
    -------
    pandas.DataFrame
        ``community, users, seeds, expected_active`` (seeds included) and
        ``share`` (= expected_active / users), most expected first.

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "b", "c"], ["b", "c", "d"], [1.0, 0.5, 1.0])
    >>> df = reach_by_community(g, ["a"], {"a": "x", "b": "x", "c": "y", "d": "y"}, simulations=2000)
    >>> df[["community", "users", "seeds"]].values.tolist(), df["expected_active"].round(1).tolist()
    ([['x', 2, 1], ['y', 2, 0]], [2.0, 1.0])
    """
    seed_ids = [str(s) for s in seeds]
    if activation is None:
        act: Any = activation_probabilities(graph, seed_ids, simulations=simulations, seed=seed)
    elif callable(activation):
        act = activation(graph, seed_ids)
    else:
        act = activation
    if isinstance(act, pd.Series):
        probs = act.reindex(graph.node_ids.astype(str)).fillna(0.0).to_numpy(dtype=np.float64)
    else:
        probs = np.asarray(act, dtype=np.float64)
    if probs.shape != (graph.n_nodes,):
        raise SchemaError(f"need one activation probability per node ({graph.n_nodes}), got shape {probs.shape}")
    is_seed = np.zeros(graph.n_nodes, dtype=bool)
    is_seed[graph.node_index(seed_ids)] = True
    df = pd.DataFrame({"community": _labels(graph, communities), "p": probs, "seed": is_seed})
    out = df.groupby("community", sort=False).agg(
        users=("p", "size"), seeds=("seed", "sum"), expected_active=("p", "sum")
    )
    out = out.reset_index()
    out["seeds"] = out["seeds"].astype(np.int64)
    out["share"] = out["expected_active"] / out["users"]
    out["_key"] = out["community"].astype(str)
    return out.sort_values(["expected_active", "_key"], ascending=[False, True], ignore_index=True).drop(columns="_key")
