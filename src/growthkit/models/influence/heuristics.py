"""Baseline seed selectors: degree, PageRank, degree discount and random.

They have no approximation guarantee; they are the baselines that IMM, OPIM-C and CELF
must beat, and fast fallbacks. With a budget and unequal costs each ranks by
score / cost and fills the budget in that order, skipping users who no longer fit.

* Degree: out-degree, or the expected number of direct activations (sum of out-edge
  probabilities) with ``weighted=True``.
* PageRank (Brin and Page 1998), by power iteration on the graph with its edges
  *reversed*, so that a node ranks high when it points at (can influence) high-ranking
  nodes; :func:`pagerank` is an array view of
  :func:`growthkit.models.influence.analysis.pagerank` (one shared computation).
* DegreeDiscountIC (Chen, Wang and Yang 2009, "Efficient influence maximization in social
  networks", KDD): once ``t_v`` of ``v``'s in-neighbours are seeds, ``v``'s degree is
  discounted to ``d_v - 2 t_v - (d_v - t_v) t_v p`` for the uniform IC probability ``p``.
  On a directed graph ``d_v`` is the out-degree and ``t_v`` counts seeds with an edge
  into ``v``; on an undirected graph both are the paper's neighbour counts.
* Random: a uniform random order of the candidates.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

import numpy as np

from growthkit.errors import ConfigError
from growthkit.models.influence.analysis import pagerank_scores
from growthkit.models.influence.budget import Costs, SeedingProblem, SeedSelector, pick_by_score, take_in_order
from growthkit.models.influence.diffusion import stream_base
from growthkit.models.influence.graph import F64, I64, SocialGraph


def pagerank(
    graph: SocialGraph,
    *,
    alpha: float = 0.85,
    weighted: bool = False,
    reverse: bool = False,
    tol: float = 1e-12,
    max_iter: int = 1000,
) -> F64:
    """PageRank of every node as an array (aligned with ``graph.node_ids``), for the seed selectors.

    The random surfer follows an out-edge (``reverse=True``: an in-edge) with probability
    ``alpha``, chosen uniformly or in proportion to the edge probability
    (``weighted=True``), and otherwise jumps to a uniformly random node; dangling nodes
    jump uniformly. Stops when the L1 change is below ``n * tol``, as networkx does.
    The computation is :func:`growthkit.models.influence.analysis.pagerank_scores`, the
    one behind the public :func:`~growthkit.models.influence.analysis.pagerank` (a Series
    by user id, with personalization).

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "b", "c"], ["b", "c", "a"])
    >>> pagerank(g).round(4).tolist()
    [0.3333, 0.3333, 0.3333]
    """
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must lie in (0, 1), got {alpha!r}")
    return pagerank_scores(
        graph, damping=alpha, weighted=weighted, reverse=reverse, tol=graph.n_nodes * tol, max_iter=max_iter
    )


class _ScoreSeeds(SeedSelector):
    def _scores(self, graph: SocialGraph) -> F64:
        raise NotImplementedError

    def _select(self, graph: SocialGraph, problem: SeedingProblem) -> I64:
        self.scores_ = self._scores(graph)
        return pick_by_score(self.scores_, problem)


class DegreeSeeds(_ScoreSeeds):
    """The highest out-degree candidates (a baseline).

    Parameters
    ----------
    k, budget, costs, candidates :
        What may be seeded (see :mod:`.budget`).
    weighted : bool
        Rank by the sum of out-edge probabilities instead of the count.

    Attributes
    ----------
    seeds_ : list of str
    scores_ : ndarray of float
        The degree of every node (aligned with ``graph.node_ids``).
    total_cost_, fit_seconds_ : float

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "a", "b"], ["b", "c", "c"], [0.1, 0.1, 0.9])
    >>> DegreeSeeds(k=1).fit(g).seeds_, DegreeSeeds(k=1, weighted=True).fit(g).seeds_
    (['a'], ['b'])
    """

    def __init__(
        self,
        *,
        k: int | None = None,
        budget: float | None = None,
        costs: Costs | None = None,
        candidates: Iterable[str] | None = None,
        weighted: bool = False,
    ) -> None:
        super().__init__(k=k, budget=budget, costs=costs, candidates=candidates)
        self.weighted = weighted

    def _scores(self, graph: SocialGraph) -> F64:
        if self.weighted:
            return np.bincount(graph.edge_sources(), weights=graph.prob, minlength=graph.n_nodes).astype(np.float64)
        return graph.out_degree().astype(np.float64)


class PageRankSeeds(_ScoreSeeds):
    """The highest-PageRank candidates on the reversed graph (a baseline).

    Parameters
    ----------
    k, budget, costs, candidates :
        What may be seeded (see :mod:`.budget`).
    alpha : float
        Damping factor.
    weighted : bool
        Follow edges in proportion to their probability.

    Attributes
    ----------
    seeds_ : list of str
    scores_ : ndarray of float
        PageRank of every node.
    total_cost_, fit_seconds_ : float

    Examples
    --------
    >>> g = SocialGraph.from_edges(["hub", "hub", "hub", "x"], ["x", "y", "z", "y"])
    >>> PageRankSeeds(k=1).fit(g).seeds_
    ['hub']
    """

    def __init__(
        self,
        *,
        k: int | None = None,
        budget: float | None = None,
        costs: Costs | None = None,
        candidates: Iterable[str] | None = None,
        alpha: float = 0.85,
        weighted: bool = False,
    ) -> None:
        super().__init__(k=k, budget=budget, costs=costs, candidates=candidates)
        self.alpha = alpha
        self.weighted = weighted

    def _scores(self, graph: SocialGraph) -> F64:
        return pagerank(graph, alpha=self.alpha, weighted=self.weighted, reverse=True)


class DegreeDiscountSeeds(SeedSelector):
    """DegreeDiscountIC (Chen, Wang and Yang 2009), a baseline for the IC model.

    Parameters
    ----------
    k, budget, costs, candidates :
        What may be seeded (see :mod:`.budget`).
    p : float or None
        The uniform propagation probability of the heuristic; default: the mean edge
        probability of the graph.

    Attributes
    ----------
    seeds_ : list of str
    scores_ : ndarray of float
        Discounted degrees when the selection ended.
    total_cost_, fit_seconds_ : float

    Examples
    --------
    Two stars joined at their hubs: after ``a`` the discount leaves ``b`` at
    ``4 - 2 - 3 * 0.1 = 1.7``, still above the leaves' 1.

    >>> src = ["a", "a", "a", "a", "b", "b", "b"]
    >>> dst = ["b", "a1", "a2", "a3", "b1", "b2", "b3"]
    >>> g = SocialGraph.from_edges(src, dst, undirected=True)
    >>> DegreeDiscountSeeds(k=2, p=0.1).fit(g).seeds_
    ['a', 'b']
    """

    def __init__(
        self,
        *,
        k: int | None = None,
        budget: float | None = None,
        costs: Costs | None = None,
        candidates: Iterable[str] | None = None,
        p: float | None = None,
    ) -> None:
        super().__init__(k=k, budget=budget, costs=costs, candidates=candidates)
        self.p = p

    def _select(self, graph: SocialGraph, problem: SeedingProblem) -> I64:
        if self.p is None:
            p = float(graph.prob.mean()) if graph.n_edges else 0.0
        elif isinstance(self.p, int | float) and 0.0 <= self.p <= 1.0:
            p = float(self.p)
        else:
            raise ConfigError(f"p must lie in [0, 1], got {self.p!r}")
        d = graph.out_degree().astype(np.float64)
        t = np.zeros(graph.n_nodes)
        dd = d.copy()
        costs, ratio = problem.costs, problem.budgeted
        left = problem.budget_slack

        def key(v: int) -> float:
            return -float(dd[v] / max(float(costs[v]), 1e-12) if ratio else dd[v])

        heap = [(key(int(v)), int(v)) for v in np.flatnonzero(problem.candidates & (costs <= left))]
        heapq.heapify(heap)
        chosen = np.zeros(graph.n_nodes, dtype=bool)
        seeds: list[int] = []
        while heap and len(seeds) < problem.max_count:
            k, u = heapq.heappop(heap)
            if chosen[u] or k != key(u) or costs[u] > left:
                continue  # a stale entry, or no longer affordable
            chosen[u] = True
            seeds.append(u)
            left -= float(costs[u])
            for v in graph.indices[graph.indptr[u] : graph.indptr[u + 1]]:
                if chosen[v]:
                    continue
                t[v] += 1.0
                dd[v] = d[v] - 2.0 * t[v] - (d[v] - t[v]) * t[v] * p
                if problem.candidates[v] and costs[v] <= left:
                    heapq.heappush(heap, (key(int(v)), int(v)))
        self.scores_ = dd
        return np.asarray(seeds, dtype=np.int64)


class RandomSeeds(SeedSelector):
    """Uniformly random candidates (the floor every method must beat).

    Parameters
    ----------
    k, budget, costs, candidates :
        What may be seeded (see :mod:`.budget`); with a budget, candidates are taken in
        random order while they fit.
    random_state : int or None

    Attributes
    ----------
    seeds_ : list of str
    total_cost_, fit_seconds_ : float

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "b", "c"], ["b", "c", "a"])
    >>> len(RandomSeeds(k=2, random_state=0).fit(g).seeds_)
    2
    """

    def __init__(
        self,
        *,
        k: int | None = None,
        budget: float | None = None,
        costs: Costs | None = None,
        candidates: Iterable[str] | None = None,
        random_state: int | None = 0,
    ) -> None:
        super().__init__(k=k, budget=budget, costs=costs, candidates=candidates)
        self.random_state = random_state

    def _select(self, graph: SocialGraph, problem: SeedingProblem) -> I64:
        rng = np.random.default_rng(int(stream_base(self.random_state, 5)))
        order = rng.permutation(np.flatnonzero(problem.candidates)).astype(np.int64)
        return take_in_order(order, problem)
