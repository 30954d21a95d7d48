"""Baselines: PageRank against networkx, degree discount by hand, degree and random seeds."""

from __future__ import annotations

import networkx as nx
import numpy as np
import numpy.typing as npt
import pytest

from growthkit.errors import ConfigError, NotFittedError
from growthkit.models.influence.diffusion import estimate_spread
from growthkit.models.influence.graph import SocialGraph
from growthkit.models.influence.heuristics import (
    DegreeDiscountSeeds,
    DegreeSeeds,
    PageRankSeeds,
    RandomSeeds,
    pagerank,
)


def _as_array(graph: SocialGraph, scores: dict[object, float]) -> npt.NDArray[np.float64]:
    return np.array([scores[u] for u in graph.node_ids])


def test_pagerank_equals_networkx_on_karate(karate_wc: SocialGraph) -> None:
    ref = nx.pagerank(nx.relabel_nodes(nx.karate_club_graph(), str), alpha=0.85, weight=None, tol=1e-13)
    ours = pagerank(karate_wc)
    assert np.abs(ours - _as_array(karate_wc, ref)).max() < 1e-6
    assert ours.sum() == pytest.approx(1.0)
    # undirected: reversing the edges changes nothing
    assert np.abs(pagerank(karate_wc, reverse=True) - ours).max() < 1e-9


def test_weighted_pagerank_equals_networkx_on_les_miserables() -> None:
    les = nx.les_miserables_graph()
    edges = list(les.edges(data="weight"))
    top = max(w for _, _, w in edges)
    g = SocialGraph.from_edges(
        [u for u, _, _ in edges], [v for _, v, _ in edges], [w / top for _, _, w in edges], undirected=True
    )
    ref = nx.pagerank(les, weight="weight", tol=1e-13)
    assert np.abs(pagerank(g, weighted=True) - _as_array(g, ref)).max() < 1e-6


def test_directed_pagerank_with_dangling_nodes() -> None:
    d = nx.gnp_random_graph(60, 0.05, seed=3, directed=True)
    d = nx.relabel_nodes(d, lambda x: f"v{x:02d}")
    assert any(d.out_degree(u) == 0 for u in d)  # dangling nodes are exercised
    src, dst = zip(*d.edges(), strict=True)
    g = SocialGraph.from_edges(src, dst, node_ids=list(d.nodes()))
    assert np.abs(pagerank(g) - _as_array(g, nx.pagerank(d, tol=1e-13))).max() < 1e-6
    assert np.abs(pagerank(g, reverse=True) - _as_array(g, nx.pagerank(d.reverse(), tol=1e-13))).max() < 1e-6
    with pytest.raises(ConfigError, match="alpha"):
        pagerank(g, alpha=1.0)


def _hand_graph() -> SocialGraph:
    # a: b c d e (degree 4); b-c; e: f g.  Degrees a4 b2 c2 d1 e3 f1 g1.
    src = ["a", "a", "a", "a", "b", "e", "e"]
    dst = ["b", "c", "d", "e", "c", "f", "g"]
    return SocialGraph.from_edges(src, dst, undirected=True)


def test_degree_discount_by_hand() -> None:
    """Chen, Wang and Yang (2009): dd_v = d_v - 2 t_v - (d_v - t_v) t_v p, here with p = 0.1.

    1. a (degree 4). Its neighbours get t = 1: b, c: 2 - 2 - 1 * 0.1 = -0.1; d: 1 - 2 = -1;
       e: 3 - 2 - 2 * 0.1 = 0.8. f and g keep 1.
    2. f (1, ties with g, lower id). e: t = 2: 3 - 4 - 1 * 2 * 0.1 = -1.2.
    3. g (1). e: t = 3: 3 - 6 - 0 = -3.
    """
    g = _hand_graph()
    dd = DegreeDiscountSeeds(k=3, p=0.1).fit(g)
    assert dd.seeds_ == ["a", "f", "g"]
    expected = {"b": -0.1, "c": -0.1, "d": -1.0, "e": -3.0}
    for user, value in expected.items():
        assert dd.scores_[g.node_index([user])[0]] == pytest.approx(value)
    assert DegreeSeeds(k=3).fit(g).seeds_ == ["a", "e", "b"]  # plain degree, ties by id
    # p defaults to the mean edge probability, 0 here: e drops to 3 - 2 = 1, tying f and g; e's id is lowest
    assert DegreeDiscountSeeds(k=2).fit(g).seeds_ == ["a", "e"]
    with pytest.raises(ConfigError, match="p must lie"):
        DegreeDiscountSeeds(k=2, p=2.0).fit(g)


def test_degree_seeds_weighted() -> None:
    g = SocialGraph.from_edges(["a", "a", "b"], ["b", "c", "c"], [0.1, 0.1, 0.9])
    assert DegreeSeeds(k=1).fit(g).seeds_ == ["a"]
    fitted = DegreeSeeds(k=1, weighted=True).fit(g)
    assert fitted.seeds_ == ["b"] and fitted.scores_.tolist() == pytest.approx([0.2, 0.9, 0.0])


def test_pagerank_seeds_follow_influence_direction() -> None:
    # the hub points at everyone; on the reversed graph it collects all the rank
    g = SocialGraph.from_edges(["hub"] * 5, ["a", "b", "c", "d", "e"], [0.5] * 5)
    fitted = PageRankSeeds(k=1).fit(g)
    assert fitted.seeds_ == ["hub"] and fitted.scores_.argmax() == g.node_index(["hub"])[0]


def test_random_seeds(karate_wc: SocialGraph) -> None:
    a = RandomSeeds(k=5, random_state=1).fit(karate_wc).seeds_
    assert a == RandomSeeds(k=5, random_state=1).fit(karate_wc).seeds_
    assert a != RandomSeeds(k=5, random_state=2).fit(karate_wc).seeds_
    assert len(set(a)) == 5
    seg = RandomSeeds(k=3, candidates=["1", "2", "3", "4"], random_state=0).fit(karate_wc).seeds_
    assert set(seg) <= {"1", "2", "3", "4"} and len(seg) == 3


def test_heuristics_rank_as_expected_on_karate(karate_wc: SocialGraph) -> None:
    def spread(seeds: list[str]) -> float:
        return estimate_spread(karate_wc, seeds, n_sims=20_000, random_state=4, n_jobs=2).mean

    rnd = np.mean([spread(RandomSeeds(k=3, random_state=s).fit(karate_wc).seeds_) for s in range(5)])
    for cls in (DegreeSeeds, PageRankSeeds, DegreeDiscountSeeds):
        assert spread(cls(k=3).fit(karate_wc).seeds_) > rnd


@pytest.mark.parametrize("cls", [DegreeSeeds, PageRankSeeds, DegreeDiscountSeeds, RandomSeeds])
def test_estimator_contract(cls: type, karate_wc: SocialGraph) -> None:
    est = cls(k=2)
    with pytest.raises(NotFittedError):
        _ = est.seeds_
    assert est.fit(karate_wc) is est and len(est.seeds_) == 2 and est.fit_seconds_ >= 0
    assert est.evaluate(karate_wc, n_sims=500, n_jobs=1).mean >= 2.0
    assert cls(k=0).fit(karate_wc).seeds_ == []
    with pytest.raises(ConfigError, match="exceeds"):
        cls(k=99).fit(karate_wc)
    with pytest.raises(TypeError):
        cls(2)
