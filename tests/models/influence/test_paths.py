"""Propagation paths (checked against brute force) and IC activation probabilities (checked exactly)."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from growthkit.errors import SchemaError
from growthkit.models.influence.communities import louvain
from growthkit.models.influence.graph import SocialGraph
from growthkit.models.influence.paths import (
    activation_probabilities,
    most_likely_paths,
    reach_by_community,
)

# a -> b (0.5) -> d (0.5): 0.25;  a -> c (0.9) -> d (0.5): 0.45;  d -> e (1.0);  f is unreachable; g -> a
DIAMOND = SocialGraph.from_edges(
    ["a", "a", "b", "c", "d", "g"],
    ["b", "c", "d", "d", "e", "a"],
    [0.5, 0.9, 0.5, 0.5, 1.0, 0.3],
    node_ids=list("abcdefg"),
)


def test_most_likely_paths_by_hand() -> None:
    res = most_likely_paths(DIAMOND, ["a"], ["d", "e", "f", "a"])
    got = [(p.users, round(p.probability, 12)) for p in res.paths]
    # a itself (a seed, probability 1), then e through the p = 1 edge d -> e, tied with d: target order
    assert got == [(("a",), 1.0), (("a", "c", "d"), 0.45), (("a", "c", "d", "e"), 0.45)]
    assert res.unreachable == ("f",)
    assert res.paths[2].hops == 3 and res.paths[2].seed == "a" and res.paths[2].target == "e"
    assert res.to_frame()["path"].tolist()[1] == "a -> c -> d"
    # from two seeds, each target keeps its best seed: b reaches d at 0.5 > 0.45
    two = most_likely_paths(DIAMOND, ["a", "b"], ["d"])
    assert [p.users for p in two.paths] == [("b", "d")]
    each = most_likely_paths(DIAMOND, ["a", "b", "g"], ["d"], per_seed=True)
    assert [(p.seed, round(p.probability, 12)) for p in each.paths] == [("b", 0.5), ("a", 0.45), ("g", 0.135)]
    assert most_likely_paths(DIAMOND, ["a"], ["d", "e"], min_prob=0.5).unreachable == ("d", "e")
    assert len(most_likely_paths(DIAMOND, ["a"], list("bcde"), top=2).paths) == 2
    with pytest.raises(KeyError, match="not nodes"):
        most_likely_paths(DIAMOND, ["zz"], ["a"])
    with pytest.raises(SchemaError):
        most_likely_paths(DIAMOND, ["a"], ["d"], min_prob=2.0)


def test_most_likely_paths_equal_brute_force_on_random_graphs() -> None:
    rng = np.random.default_rng(0)
    for trial in range(5):
        dg = nx.gnp_random_graph(9, 0.3, seed=trial, directed=True)
        for u, v in dg.edges():
            dg[u][v]["p"] = float(rng.choice([0.0, 0.2, 0.5, 0.9, 1.0]))
        edges = list(dg.edges(data="p"))
        g = SocialGraph.from_edges(
            [str(u) for u, _, _ in edges],
            [str(v) for _, v, _ in edges],
            [p for *_, p in edges],
            node_ids=[str(i) for i in range(9)],
        )
        res = most_likely_paths(g, ["0", "1"], [str(i) for i in range(2, 9)], top=None)
        got = {p.target: p.probability for p in res.paths}
        for t in range(2, 9):
            best = 0.0
            for s in (0, 1):
                for path in nx.all_simple_paths(dg, s, t):
                    best = max(best, math.prod(dg[a][b]["p"] for a, b in itertools.pairwise(path)))
            if best > 0:
                assert got[str(t)] == pytest.approx(best), (trial, t)
            else:
                assert str(t) in res.unreachable, (trial, t)


def exact_ic(graph: SocialGraph, seeds: list[str]) -> np.ndarray:
    """Activation probabilities by enumerating every live-edge world (Kempe et al. 2003: IC = random live edges)."""
    src, dst, p = graph.edge_sources(), graph.indices, graph.prob
    out = np.zeros(graph.n_nodes)
    seed_idx = set(graph.node_index(seeds).tolist())
    for live in itertools.product([False, True], repeat=graph.n_edges):
        w = math.prod(pi if on else 1 - pi for pi, on in zip(p, live, strict=True))
        if w == 0:
            continue
        reached, frontier = set(seed_idx), list(seed_idx)
        while frontier:
            u = frontier.pop()
            for e in np.flatnonzero((src == u) & np.array(live)):
                if int(dst[e]) not in reached:
                    reached.add(int(dst[e]))
                    frontier.append(int(dst[e]))
        out[list(reached)] += w
    return out


def test_activation_probabilities_match_exact_ic() -> None:
    # a small graph with a cycle, two routes into d, and a node only reachable through it
    g = SocialGraph.from_edges(
        ["a", "a", "b", "c", "d", "e", "c"], ["b", "c", "d", "d", "e", "b", "a"], [0.6, 0.3, 0.5, 0.7, 0.4, 0.8, 0.5]
    )
    exact = exact_ic(g, ["a"])
    n = 20_000
    mc = activation_probabilities(g, ["a"], simulations=n, seed=1, batch=3_000)
    assert mc.index.tolist() == list("abcde")
    se = np.sqrt(exact * (1 - exact) / n) + 1e-12
    assert np.all(np.abs(mc.to_numpy() - exact) < 4.5 * se + 1e-9)
    assert mc["a"] == 1.0
    again = activation_probabilities(g, ["a"], simulations=n, seed=1, batch=3_000)
    assert again.equals(mc)
    two = activation_probabilities(g, ["a", "e"], simulations=5_000, seed=2)
    assert two["e"] == 1.0 and two["b"] > mc["b"]
    with pytest.raises(SchemaError):
        activation_probabilities(g, ["a"], simulations=0)


def test_reach_by_community_from_simulation_array_series_and_callable() -> None:
    # two triangles a -> b -> c -> a and d -> e -> f -> d joined by c -> d, all p = 1: from a everyone is
    # reached for sure
    g = SocialGraph.from_edges(list("abcdefc"), list("bcaefdd"), [1.0] * 7)
    labels = {"a": "left", "b": "left", "c": "left", "d": "right", "e": "right", "f": "right"}
    df = reach_by_community(g, ["a"], labels, simulations=200)
    assert df.values.tolist() == [["left", 3, 1, 3.0, 1.0], ["right", 3, 0, 3.0, 1.0]]
    probs = np.array([1.0, 0.5, 0.5, 0.2, 0.1, 0.0])
    arr = reach_by_community(g, ["a"], labels, activation=probs)
    assert arr.set_index("community")["expected_active"].to_dict() == pytest.approx({"left": 2.0, "right": 0.3})
    series = pd.Series({"a": 1.0, "d": 0.5})  # users not named count as 0
    ser = reach_by_community(g, ["a"], labels, activation=series)
    assert ser.set_index("community")["expected_active"].to_dict() == {"left": 1.0, "right": 0.5}
    seen: list[list[str]] = []

    def estimator(graph: SocialGraph, seeds: list[str]) -> np.ndarray:
        seen.append(seeds)
        return np.full(graph.n_nodes, 0.5)

    cal = reach_by_community(g, ["a"], louvain(g), activation=estimator)
    assert seen == [["a"]] and sorted(cal["users"]) == [3, 3] and cal["expected_active"].sum() == 3.0
    partial = reach_by_community(g, ["a"], {"a": "x"}, activation=probs)
    assert partial.set_index("community")["users"].to_dict() == {"x": 1, "(none)": 5}
    with pytest.raises(SchemaError, match="one activation probability per node"):
        reach_by_community(g, ["a"], labels, activation=np.ones(3))
