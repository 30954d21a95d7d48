"""Fixtures for the diffusion and seed-selection tests: real small social networks as SocialGraphs.

Each networkx graph becomes an undirected SocialGraph with weighted-cascade probabilities
``p(u -> v) = 1 / in_degree(v)`` (Kempe, Kleinberg and Tardos 2003), which are also valid
linear-threshold weights (each node's in-weights sum to exactly 1).
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import numpy as np
import pytest

from growthkit.models.influence.graph import SocialGraph


def _weighted_cascade(nx_graph: nx.Graph) -> SocialGraph:
    edges = list(nx_graph.edges())
    src = [str(u) for u, _ in edges]
    dst = [str(v) for _, v in edges]
    g = SocialGraph.from_edges(src, dst, node_ids=[str(u) for u in nx_graph.nodes()], undirected=True)
    return g.with_prob(1.0 / g.in_degree()[g.indices])


@pytest.fixture(scope="session")
def wc_graph_of() -> Callable[[nx.Graph], SocialGraph]:
    """``wc_graph_of(nx_graph)``: the weighted-cascade SocialGraph of an undirected networkx graph."""
    return _weighted_cascade


@pytest.fixture(scope="session")
def karate_wc() -> SocialGraph:
    """Zachary's karate club (34 members, 78 ties), weighted cascade."""
    return _weighted_cascade(nx.karate_club_graph())


@pytest.fixture(scope="session")
def real_networks_wc() -> dict[str, SocialGraph]:
    """The four small social networks networkx ships, weighted cascade."""
    return {
        "karate": _weighted_cascade(nx.karate_club_graph()),
        "les_miserables": _weighted_cascade(nx.les_miserables_graph()),
        "florentine": _weighted_cascade(nx.florentine_families_graph()),
        "davis_women": _weighted_cascade(nx.davis_southern_women_graph()),
    }


@pytest.fixture(scope="session")
def chung_lu_wc() -> Callable[[int, int, int], SocialGraph]:
    """``chung_lu_wc(n, m, seed)``: a power-law (exponent 2.5) Chung-Lu graph with ~2m directed edges, WC."""

    def build(n: int, m: int, seed: int) -> SocialGraph:
        rng = np.random.default_rng(seed)
        w = np.arange(1, n + 1) ** (-1.0 / 1.5)
        u = rng.choice(n, size=m, p=w / w.sum())
        v = rng.choice(n, size=m, p=w / w.sum())
        ids = np.array([f"u{i:06d}" for i in range(n)], dtype=object)
        g = SocialGraph.from_index_arrays(np.r_[u, v], np.r_[v, u], np.zeros(2 * m), node_ids=ids)
        indeg = np.maximum(g.in_degree(), 1)
        return g.with_prob(1.0 / indeg[g.indices])

    return build
