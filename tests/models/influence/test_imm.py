"""IMM and OPIM-C: seeds as good as CELF's greedy, guarantees reported, determinism, edge cases."""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from growthkit.errors import ConfigError, NotFittedError, SchemaError
from growthkit.models.influence.celf import CELF
from growthkit.models.influence.diffusion import DiffusionModel, estimate_spread
from growthkit.models.influence.graph import SocialGraph
from growthkit.models.influence.heuristics import DegreeSeeds
from growthkit.models.influence.imm import IMM
from growthkit.models.influence.opim import OPIMC

GREEDY = 1 - 1 / math.e


def _spreads(graph: SocialGraph, model: DiffusionModel, *seed_sets: list[str]) -> list[float]:
    """Independent MC (its own random_state) on common worlds, so the comparison's noise is small."""
    return [estimate_spread(graph, s, model=model, n_sims=20_000, random_state=2024, n_jobs=2).mean for s in seed_sets]


def _compare_with_celf(graph: SocialGraph, model: DiffusionModel, k: int, opim_slack: float) -> None:
    celf = CELF(k=k, n_sims=2000, model=model, random_state=1, n_jobs=2).fit(graph)
    imm = IMM(k=k, epsilon=0.1, model=model, random_state=1, n_jobs=2).fit(graph)
    opim = OPIMC(k=k, epsilon=0.02, model=model, random_state=1, n_jobs=2).fit(graph)
    ref, s_imm, s_opim = _spreads(graph, model, celf.seeds_, imm.seeds_, opim.seeds_)
    assert len(imm.seeds_) == len(opim.seeds_) == k
    assert s_imm >= (GREEDY - 0.1) * ref and s_opim >= (GREEDY - 0.02) * ref  # the promise
    assert s_imm >= 0.98 * ref, (imm.seeds_, celf.seeds_)  # what it does in practice
    assert s_opim >= (1 - opim_slack) * ref, (opim.seeds_, celf.seeds_)


@pytest.mark.parametrize("name", ["karate", "les_miserables", "florentine", "davis_women"])
@pytest.mark.parametrize("model", ["ic", "lt"])
def test_real_networks_match_celf(real_networks_wc: dict[str, SocialGraph], name: str, model: DiffusionModel) -> None:
    _compare_with_celf(real_networks_wc[name], model, k=4, opim_slack=0.02)


@pytest.mark.parametrize("model", ["ic", "lt"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: nx.powerlaw_cluster_graph(300, 2, 0.3, seed=1),
        lambda: nx.stochastic_block_model(
            [60, 60, 60], [[0.1, 0.01, 0.005], [0.01, 0.1, 0.01], [0.005, 0.01, 0.1]], seed=2
        ),
    ],
    ids=["powerlaw_cluster", "sbm"],
)
def test_synthetic_graphs_match_celf(
    wc_graph_of: Callable[[nx.Graph], SocialGraph], make: Callable[[], nx.Graph], model: DiffusionModel
) -> None:
    # OPIM-C stops as soon as its instance bound proves the target, with fewer RR sets than IMM's
    # worst-case count; on the SBM's flat landscape (many near-equal seeds per block) that leaves
    # its seed choice about 2-3% below greedy-on-exact-spread, so it gets 3% here.
    _compare_with_celf(wc_graph_of(make()), model, k=5, opim_slack=0.03)


def test_guarantees_are_reported(karate_wc: SocialGraph) -> None:
    imm = IMM(k=3, epsilon=0.3, ell=2.0, random_state=0, n_jobs=2).fit(karate_wc)
    g = imm.guarantee_
    assert (g.epsilon, g.base_ratio, g.instance_ratio) == (0.3, GREEDY, None)
    assert g.ratio == g.target == pytest.approx(GREEDY - 0.3)
    assert g.failure_probability == pytest.approx(34.0**-2.0)
    assert imm.n_rr_sets_ > 0 and imm.n_rr_entries_ >= imm.n_rr_sets_ and imm.fit_seconds_ > 0

    opim = OPIMC(k=3, epsilon=0.1, delta=0.05, random_state=0, n_jobs=2).fit(karate_wc)
    g = opim.guarantee_
    assert g.failure_probability == 0.05 and g.target == pytest.approx(GREEDY - 0.1)
    assert g.instance_ratio is not None and g.ratio >= g.target
    # the bounds bracket the truth: sigma_lower(S) <= sigma(S) <= sigma_upper(OPT)
    (true_s,) = _spreads(karate_wc, "ic", opim.seeds_)
    assert g.instance_ratio * opim.spread_upper_ <= true_s <= opim.spread_upper_
    assert abs(opim.spread_ - true_s) < 0.1 * true_s  # unbiased estimate from the independent R2


def test_deterministic_for_a_seed_and_independent_of_threads(karate_wc: SocialGraph) -> None:
    for cls in (IMM, OPIMC):
        a = cls(k=4, epsilon=0.2, random_state=7, n_jobs=1).fit(karate_wc)
        b = cls(k=4, epsilon=0.2, random_state=7, n_jobs=2).fit(karate_wc)
        c = cls(k=4, epsilon=0.2, random_state=7, n_jobs=-1).fit(karate_wc)
        assert a.seeds_ == b.seeds_ == c.seeds_
        assert (a.spread_, a.n_rr_sets_, a.n_rr_entries_) == (b.spread_, b.n_rr_sets_, b.n_rr_entries_)
        assert a.guarantee_ == b.guarantee_


def test_scales_to_20k_nodes(chung_lu_wc: Callable[[int, int, int], SocialGraph]) -> None:
    """A 20k-node, ~200k-edge power-law graph; the work (RR-set entries) grows near-linearly."""
    small, big = chung_lu_wc(5_000, 25_000, 0), chung_lu_wc(20_000, 100_000, 0)
    work_small = IMM(k=20, epsilon=0.5, random_state=0, n_jobs=2).fit(small).n_rr_entries_
    work_big = IMM(k=20, epsilon=0.5, random_state=0, n_jobs=2).fit(big).n_rr_entries_
    # 4x the nodes: a quadratic method does 16x the work; IMM's is O((k + ell)(n + m) log n / eps^2)
    assert work_big < 8 * work_small
    imm = IMM(k=20, epsilon=0.2, random_state=0, n_jobs=2).fit(big)
    opim = OPIMC(k=20, epsilon=0.1, random_state=0, n_jobs=2).fit(big)
    assert len(set(imm.seeds_)) == len(set(opim.seeds_)) == 20
    deg = DegreeSeeds(k=20).fit(big)  # on weighted cascade Chung-Lu graphs the hubs are (near) optimal
    s_deg, s_imm, s_opim = (
        estimate_spread(big, s, n_sims=300, random_state=5, n_jobs=2).mean
        for s in (deg.seeds_, imm.seeds_, opim.seeds_)
    )
    # OPIM-C stops as soon as its instance bound proves 1 - 1/e - 0.1 (here after ~10k RR sets, a
    # twentieth of IMM's), so its choice is noisier: within 2-4% of the hubs on such graphs
    assert s_imm >= 0.99 * s_deg and s_opim >= 0.95 * s_deg


def test_memory_cap_weakens_the_guarantee_instead_of_failing(
    karate_wc: SocialGraph, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        imm = IMM(k=3, epsilon=0.1, random_state=0, n_jobs=2, memory_limit_mb=0.01).fit(karate_wc)
    assert "memory_limit_mb" in caplog.text
    assert imm.guarantee_.ratio < imm.guarantee_.target and len(imm.seeds_) == 3
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        opim = OPIMC(k=3, epsilon=0.001, random_state=0, n_jobs=2, memory_limit_mb=0.01).fit(karate_wc)
    assert "memory_limit_mb" in caplog.text and len(opim.seeds_) == 3


@pytest.mark.parametrize("cls", [IMM, OPIMC])
def test_edge_cases_and_errors(cls: type[IMM] | type[OPIMC], karate_wc: SocialGraph) -> None:
    with pytest.raises(NotFittedError, match="call fit"):
        _ = cls(k=2).seeds_
    with pytest.raises(NotFittedError):
        cls(k=2).evaluate(karate_wc)
    empty = cls(k=0, n_jobs=1).fit(karate_wc)
    assert (empty.seeds_, empty.spread_, empty.n_rr_sets_) == ([], 0.0, 0)
    nothing = SocialGraph.from_edges([], [])
    assert cls(k=0, n_jobs=1).fit(nothing).seeds_ == []
    with pytest.raises(ConfigError, match="exceeds the 0 candidate"):
        cls(k=1).fit(nothing)
    with pytest.raises(ConfigError, match="k=35 exceeds the 34 candidate"):
        cls(k=35).fit(karate_wc)
    with pytest.raises(ConfigError, match="k must be a non-negative int"):
        cls(k=-1).fit(karate_wc)
    with pytest.raises(ConfigError, match="give k"):
        cls().fit(karate_wc)
    with pytest.raises(ConfigError, match="epsilon"):
        cls(k=2, epsilon=1.5).fit(karate_wc)
    with pytest.raises(ConfigError, match="model"):
        cls(k=2, model="sis").fit(karate_wc)  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="not nodes of the graph: nobody"):
        cls(k=2, candidates=["0", "nobody"]).fit(karate_wc)
    with pytest.raises(ConfigError, match="SocialGraph"):
        cls(k=2).fit(nx.karate_club_graph())
    assert cls(k=34, n_jobs=2).fit(karate_wc).seeds_.__len__() == 34  # every node
    assert "k=2" in repr(cls(k=2))


def test_parameter_errors() -> None:
    g = SocialGraph.from_edges(["a"], ["b"], [0.5])
    with pytest.raises(ConfigError, match="ell"):
        IMM(k=1, ell=0).fit(g)
    with pytest.raises(ConfigError, match="delta"):
        OPIMC(k=1, delta=1.0).fit(g)
    with pytest.raises(ConfigError, match="memory_limit_mb"):
        IMM(k=1, memory_limit_mb=0).fit(g)
    with pytest.raises(SchemaError, match="at most 1"):
        IMM(k=1, model="lt").fit(SocialGraph.from_edges(["a", "b"], ["c", "c"], [0.7, 0.6]))


def test_candidates_restrict_the_seeds(karate_wc: SocialGraph) -> None:
    segment = [str(i) for i in range(1, 33) if i not in (2, 32)]  # the two hubs 0 and 33 are out
    for cls in (IMM, OPIMC):
        est = cls(k=3, candidates=segment, epsilon=0.2, random_state=0, n_jobs=2).fit(karate_wc)
        assert set(est.seeds_) <= set(segment) and len(est.seeds_) == 3
        assert est.evaluate(karate_wc, n_sims=2000).mean > 3.0


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 3),
    budgeted=st.booleans(),
    model=st.sampled_from(["ic", "lt"]),
)
def test_greedy_coverage_and_upper_bound_against_brute_force(
    seed: int, k: int, budgeted: bool, model: DiffusionModel
) -> None:
    """On RR sets of random tiny directed graphs: the greedy reaches its ratio of the best feasible
    coverage, and OPIM-C's upper bound is never below it (else its instance guarantee would be void)."""
    from growthkit.models.influence.budget import resolve_problem
    from growthkit.models.influence.diffusion import prepare, stream_base
    from growthkit.models.influence.maxcover import max_cover
    from growthkit.models.influence.rrsets import RRSets

    rng = np.random.default_rng(seed)
    n = 7
    ids = np.array([f"n{i}" for i in range(n)], dtype=object)
    u, v = rng.integers(0, n, 12), rng.integers(0, n, 12)
    keep = u != v
    g = SocialGraph.from_edges(ids[u[keep]], ids[v[keep]], rng.uniform(0.05, 0.95, int(keep.sum())), node_ids=ids)
    if model == "lt":
        g = g.with_prob(1.0 / np.maximum(g.in_degree(), 1)[g.indices])
    costs = rng.uniform(0.5, 3.0, n) if budgeted else None
    budget = 3.0 if budgeted else None
    problem = resolve_problem(g, k=k, budget=budget, costs=costs, candidates=None)
    rr = RRSets(prepare(g, model), stream_base(seed, 1), n_jobs=1)
    rr.grow_to(300)
    cover = max_cover(rr, problem, want_bound=True)
    best = 0
    for size in range(1, problem.max_seeds + 1):
        for combo in itertools.combinations(range(n), size):
            if problem.costs[list(combo)].sum() <= problem.budget_slack:
                best = max(best, rr.covered(np.asarray(combo, dtype=np.int64)))
    assert cover.covered == rr.covered(cover.seeds)
    assert cover.covered >= problem.base_ratio * best - 1e-9
    assert cover.upper >= best - 1e-9
    assert len(cover.seeds) <= k and problem.costs[cover.seeds].sum() <= problem.budget_slack
