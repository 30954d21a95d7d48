"""Graph analysis: degrees and power-law tails, PageRank against networkx, Louvain communities, spreaders."""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.special import zeta
from sklearn.metrics import adjusted_rand_score

from growthkit.config import Settings
from growthkit.errors import SchemaError
from growthkit.models.influence.analysis import (
    degree_distribution,
    fit_power_law,
    pagerank,
    referral_reach,
    spreaders,
)
from growthkit.models.influence.communities import louvain, modularity
from growthkit.models.influence.graph import SocialGraph
from growthkit.store import Store, open_store


def from_nx(graph: nx.Graph, weight: str | None = None) -> SocialGraph:
    edges = list(graph.edges(data=True))
    prob = None if weight is None else [d[weight] for _, _, d in edges]
    return SocialGraph.from_edges(
        [str(u) for u, _, _ in edges],
        [str(v) for _, v, _ in edges],
        prob,
        node_ids=[str(u) for u in graph.nodes()],
        undirected=not graph.is_directed(),
    )


def power_law_sample(alpha: float, xmin: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Exact discrete power-law draws by inverting the CDF ``1 - zeta(alpha, x + 1) / zeta(alpha, xmin)``."""
    support = np.arange(xmin, xmin + 200_000, dtype=np.float64)
    cdf = 1.0 - zeta(alpha, support + 1.0) / zeta(alpha, xmin)
    return (xmin + np.searchsorted(cdf, rng.random(n))).astype(np.int64)


# ----------------------------------------------------------------- degrees and power laws


def test_degree_distribution_counts_and_log_bins() -> None:
    # a -> b, c, d, e;  b -> c;  e -> a: out-degrees a 4, b 1, c 0, d 0, e 1
    g = SocialGraph.from_edges(["a", "a", "a", "a", "b", "e"], ["b", "c", "d", "e", "c", "a"])
    out = degree_distribution(g, "out", fit=False)
    assert out.to_frame().values.tolist() == [[0, 2], [1, 2], [4, 1]]
    # bins [1,2): b, e; [2,4): none; [4,8): a. density = nodes / (width * 5 nodes)
    assert [(b.lo, b.hi, b.nodes, b.density) for b in out.log_bins] == [(1, 2, 2, 0.4), (2, 4, 0, 0.0), (4, 8, 1, 0.05)]
    assert (out.zero, out.max, out.mean) == (2, 4, 1.2)
    inn = degree_distribution(g, "in", fit=False)  # in: a 1, b 1, c 2, d 1, e 1
    assert inn.to_frame().values.tolist() == [[1, 4], [2, 1]]
    with pytest.raises(SchemaError):
        degree_distribution(g, "both")


@pytest.mark.parametrize("alpha", [2.1, 2.5, 3.2])
def test_power_law_mle_recovers_the_exponent(alpha: float) -> None:
    x = power_law_sample(alpha, 3, 20_000, np.random.default_rng(int(alpha * 10)))
    fit = fit_power_law(x, xmin=3)
    assert fit is not None and fit.n_tail == 20_000
    assert abs(fit.alpha - alpha) < 4 * fit.sigma  # sigma ~ 0.01-0.015 here
    # it is the maximum of the discrete log-likelihood: a fine grid finds nothing better
    grid = np.linspace(fit.alpha - 0.05, fit.alpha + 0.05, 201)
    ll = -x.size * np.log(zeta(grid, 3)) - grid * np.log(x).sum()
    assert abs(grid[np.argmax(ll)] - fit.alpha) <= 0.0006


def test_power_law_xmin_is_chosen_by_ks_on_a_mixed_sample() -> None:
    rng = np.random.default_rng(1)
    tail = power_law_sample(2.5, 8, 4000, rng)
    body = rng.integers(1, 8, 6000)  # a flat body below 8 that is no power law
    fit = fit_power_law(np.concatenate([body, tail]))
    assert fit is not None
    assert 6 <= fit.xmin <= 10 and abs(fit.alpha - 2.5) < 0.15
    assert fit_power_law(np.array([1, 2, 3]), min_tail=10) is None
    assert fit_power_law(x := np.array([5] * 20), xmin=6) is None and x.size == 20


def test_degree_distribution_fits_a_heavy_tailed_graph() -> None:
    rng = np.random.default_rng(2)
    deg = power_law_sample(2.4, 2, 5000, rng)
    # a configuration-style directed graph: node i sends deg[i] edges to random targets
    src = np.repeat(np.arange(deg.size), deg)
    dst = rng.integers(0, deg.size, src.size)
    g = SocialGraph.from_index_arrays(src, dst, np.zeros(src.size), node_ids=[f"u{i:05d}" for i in range(deg.size)])
    d = degree_distribution(g, "out")
    assert d.power_law is not None and abs(d.power_law.alpha - 2.4) < 0.2
    # [2, 4) holds most nodes (degrees start at 2), [8, 16) fewer but some
    assert d.log_bins[1].nodes > d.log_bins[3].nodes > 0


# ----------------------------------------------------------------- PageRank


@pytest.fixture(scope="module")
def digraph() -> nx.DiGraph:
    g = nx.gnp_random_graph(120, 0.04, seed=3, directed=True)
    rng = np.random.default_rng(3)
    for u, v in g.edges():
        g[u][v]["p"] = float(rng.random())
    g.add_node(500)  # isolated: dangling
    return g


def _close(ours: pd.Series, ref: dict[int, float]) -> float:
    return max(abs(ours[str(k)] - v) for k, v in ref.items())


def test_pagerank_matches_networkx(digraph: nx.DiGraph) -> None:
    g = from_nx(digraph, "p")
    assert _close(pagerank(g), nx.pagerank(digraph, weight=None, tol=1e-13)) < 1e-9
    assert _close(pagerank(g, weighted=True), nx.pagerank(digraph, weight="p", tol=1e-13)) < 1e-9
    assert _close(pagerank(g, reverse=True), nx.pagerank(digraph.reverse(), weight=None, tol=1e-13)) < 1e-9
    pers = {"3": 1.0, "7": 3.0}
    ref = nx.pagerank(digraph, alpha=0.7, personalization={3: 1.0, 7: 3.0}, weight=None, tol=1e-13)
    assert _close(pagerank(g, damping=0.7, personalization=pers), ref) < 1e-9
    pr = pagerank(g)
    assert pr.sum() == pytest.approx(1.0) and pr.index.name == "user_id"
    with pytest.raises(SchemaError):
        pagerank(g, damping=1.0)


# ----------------------------------------------------------------- communities


def test_modularity_matches_networkx() -> None:
    k = nx.karate_club_graph()
    g = from_nx(k)
    club = [k.nodes[i]["club"] for i in k.nodes()]
    parts = [{i for i in k.nodes() if k.nodes[i]["club"] == c} for c in set(club)]
    assert modularity(g, club) == pytest.approx(nx.community.modularity(k, parts, weight=None))
    assert modularity(g, club, resolution=2.0) == pytest.approx(
        nx.community.modularity(k, parts, weight=None, resolution=2.0)
    )


def test_louvain_on_the_karate_club() -> None:
    k = nx.karate_club_graph()
    g = from_nx(k)
    best_nx = max(
        nx.community.modularity(k, nx.community.louvain_communities(k, weight=None, seed=s), weight=None)
        for s in range(5)
    )
    qs = []
    for seed in range(5):
        c = louvain(g, seed=seed)
        parts = [{int(u) for u in c.members(i)} for i in range(len(c.sizes))]
        assert c.modularity == pytest.approx(nx.community.modularity(k, parts, weight=None))
        assert sum(c.sizes) == 34 and list(c.sizes) == sorted(c.sizes, reverse=True)
        qs.append(c.modularity)
    # the best known partition of the unweighted club has Q = 0.4198 (networkx finds it too)
    assert max(qs) == pytest.approx(best_nx, abs=1e-3)
    assert min(qs) > 0.39
    assert louvain(g, seed=2).labels.equals(louvain(g, seed=2).labels)  # same seed, same partition


def test_louvain_recovers_planted_blocks() -> None:
    sbm = nx.stochastic_block_model([150, 120, 100, 80, 50], _block_probs(5, 0.12, 0.004), seed=7)
    g = from_nx(sbm)
    c = louvain(g)
    planted = [sbm.nodes[int(u)]["block"] for u in g.node_ids]
    assert adjusted_rand_score(planted, c.labels.loc[g.node_ids].to_numpy()) > 0.8
    assert len(c.sizes) == 5 and c.sizes[0] == 150
    assert c.members(4) == sorted(str(u) for u in sbm.nodes() if sbm.nodes[u]["block"] == 4)


def _block_probs(k: int, p_in: float, p_out: float) -> list[list[float]]:
    return [[p_in if i == j else p_out for j in range(k)] for i in range(k)]


def test_louvain_edge_cases() -> None:
    empty = SocialGraph.from_edges([], [])
    assert louvain(empty).sizes == ()
    isolated = SocialGraph.from_edges([], [], node_ids=["a", "b"])
    assert louvain(isolated).sizes == (1, 1)
    with pytest.raises(SchemaError):
        louvain(isolated, resolution=0.0)


# ----------------------------------------------------------------- referral trees and spreaders


@pytest.fixture
def st() -> Iterator[Store]:
    s = open_store(Settings(db=":memory:"))
    s.execute(
        "INSERT INTO users (user_id, signup_ts) VALUES ('a', '2025-01-01'), ('b', '2025-01-02'), ('c', '2025-01-03'), "
        "('d', '2025-01-04'), ('e', '2025-01-05'), ('f', '2025-01-06'), ('g', '2025-01-07')"
    )
    # a referred b and c; b referred d; d referred e (signup property); f referred g
    s.execute(
        "INSERT INTO edges (edge_id, src_user, dst_user, kind) VALUES ('1', 'a', 'b', 'referral'), "
        "('2', 'a', 'c', 'referral'), ('3', 'b', 'd', 'referral'), ('4', 'f', 'g', 'referral'), "
        "('5', 'a', 'f', 'friend')"
    )
    s.execute(
        "INSERT INTO events (event_id, user_id, ts, event_type, properties) VALUES "
        """('x', 'e', '2025-01-05', 'signup', '{"referrer": "d"}')"""
    )
    yield s
    s.close()


def test_referral_reach_counts_direct_and_all_descendants(st: Store) -> None:
    r = referral_reach(st)
    rows = {u: (d, t, dep, root) for u, d, t, dep, root in r.itertuples(index=False)}
    # tree a: a -> b, c; b -> d -> e. tree f: f -> g
    assert rows == {
        "a": (2, 4, 0, "a"),
        "b": (1, 2, 1, "a"),
        "c": (0, 0, 1, "a"),
        "d": (1, 1, 2, "a"),
        "e": (0, 0, 3, "a"),
        "f": (1, 1, 0, "f"),
        "g": (0, 0, 1, "f"),
    }
    assert list(r["user_id"][:3]) == ["a", "b", "d"]  # most descendants first, ties by direct then id
    from datetime import datetime

    early = referral_reach(st, until=datetime(2025, 1, 4))  # d, e, f, g had not signed up
    assert dict(zip(early["user_id"], early["total"], strict=True)) == {"a": 2, "b": 0, "c": 0}


def test_spreaders_rank_by_referrals_and_sum_by_segment(st: Store) -> None:
    from growthkit.models.influence.graph_sources import graph_from_store

    g = graph_from_store(st)
    s = spreaders(g, referral_reach(st), segments={"a": "vip", "b": "vip", "f": "new"}, communities=louvain(g), top=3)
    # d and f both brought one user; the tie goes to spreader PageRank: the graph (edges table) has
    # f -> g and f <-> a, while d's referral of e is only a signup property, so d has no out-edge
    assert list(s.table["user_id"]) == ["a", "b", "f"]
    assert list(s.table["total"]) == [4, 2, 1] and "community" in s.table.columns
    assert (
        s.table.set_index("user_id").loc["f", "pagerank_rank"]
        < spreaders(g, referral_reach(st), top=7).table.set_index("user_id").loc["d", "pagerank_rank"]
    )
    seg = s.by_segment.set_index("segment")
    # direct referrals: vip a 2 + b 1 = 3, new f 1, (none) d 1: 5 in all; (none) = c, d, e, g
    assert seg.loc["vip", ["users", "referrers", "direct", "total"]].tolist() == [2, 2, 3, 6]
    assert seg.loc["(none)", "users"] == 4 and seg.loc["vip", "share_of_referrals"] == pytest.approx(0.6)
    lines = s.describe(2)
    assert lines[0].startswith("1. a (segment vip): referred 2 directly and 4 in all")
    assert len(lines) == 2
