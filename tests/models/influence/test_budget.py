"""Cost-aware seeding: money budgets, per-user costs, candidate segments."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from growthkit.errors import ConfigError, SchemaError
from growthkit.models.influence.budget import BUDGETED_RATIO, GREEDY_RATIO, resolve_problem
from growthkit.models.influence.celf import CELF
from growthkit.models.influence.graph import SocialGraph
from growthkit.models.influence.heuristics import DegreeDiscountSeeds, DegreeSeeds, PageRankSeeds, RandomSeeds
from growthkit.models.influence.imm import IMM
from growthkit.models.influence.opim import OPIMC

ALL = [IMM, OPIMC, CELF, DegreeSeeds, PageRankSeeds, DegreeDiscountSeeds, RandomSeeds]
GREEDY_METHODS = [IMM, OPIMC, CELF]


def _fast(cls: type, **kwargs: object) -> object:
    extra: dict[str, object] = {}
    if cls in (IMM, OPIMC):
        extra = {"epsilon": 0.3, "n_jobs": 2}
    elif cls is CELF:
        extra = {"n_sims": 300, "n_jobs": 2}
    return cls(**kwargs, **extra)


def _stars(centres: dict[str, int]) -> SocialGraph:
    """Disjoint stars: centre -> its leaves with probability 1, so spreads are certain."""
    src, dst, ids = [], [], []
    for c, leaves in centres.items():
        ids.append(c)
        for i in range(leaves):
            src.append(c)
            dst.append(f"{c}_{i}")
            ids.append(f"{c}_{i}")
    return SocialGraph.from_edges(src, dst, [1.0] * len(src), node_ids=ids)


@pytest.mark.parametrize("cls", GREEDY_METHODS)
def test_best_single_node_beats_the_cost_effective_greedy(cls: type) -> None:
    """The Khuller-Moss-Naor trap: cheap nodes win on spread per cost, one expensive node wins."""
    g = _stars({"hub": 50, "x1": 0, "x2": 0, "x3": 0, "x4": 0, "x5": 0})
    costs = {"hub": 100.0, "x1": 1.0, "x2": 1.0, "x3": 1.0, "x4": 1.0, "x5": 1.0}
    est = _fast(cls, budget=100.0, costs=costs).fit(g)  # type: ignore[attr-defined]
    assert est.seeds_ == ["hub"] and est.total_cost_ == 100.0  # spread 51, not 5


@pytest.mark.parametrize("cls", GREEDY_METHODS)
def test_cost_effective_greedy_beats_the_unit_cost_greedy(cls: type) -> None:
    g = _stars({"big": 20, **{f"c{i}": 9 for i in range(10)}})
    costs = {"big": 10.0, **{f"c{i}": 1.0 for i in range(10)}}
    est = _fast(cls, budget=10.0, costs=costs).fit(g)  # type: ignore[attr-defined]
    assert sorted(est.seeds_) == [f"c{i}" for i in range(10)]  # spread 100, not 21
    assert est.total_cost_ == pytest.approx(10.0)


@pytest.mark.parametrize("cls", ALL)
def test_budget_costs_and_candidates_are_respected(cls: type, karate_wc: SocialGraph) -> None:
    rng = np.random.default_rng(0)
    costs = rng.uniform(1.0, 10.0, karate_wc.n_nodes)
    segment = [str(i) for i in range(0, 34, 2)]
    est = _fast(cls, budget=20.0, costs=costs, candidates=segment).fit(karate_wc)  # type: ignore[attr-defined]
    assert est.seeds_ and set(est.seeds_) <= set(segment)
    spent = costs[karate_wc.node_index(est.seeds_)].sum()
    assert spent <= 20.0 and est.total_cost_ == pytest.approx(spent)
    capped = _fast(cls, k=1, budget=1000.0, costs=costs).fit(karate_wc)  # type: ignore[attr-defined]
    assert len(capped.seeds_) == 1  # k caps the count under a budget


@pytest.mark.parametrize("cls", ALL)
def test_budget_below_every_cost_gives_no_seeds(
    cls: type, karate_wc: SocialGraph, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        est = _fast(cls, budget=0.5, costs=np.full(34, 2.0)).fit(karate_wc)  # type: ignore[attr-defined]
    assert est.seeds_ == [] and est.total_cost_ == 0.0
    assert "below every candidate's cost" in caplog.text


@pytest.mark.parametrize("cls", [IMM, OPIMC])
def test_equal_costs_are_a_seed_count(cls: type, karate_wc: SocialGraph) -> None:
    by_budget = cls(budget=7.5, costs=np.full(34, 2.5), epsilon=0.3, random_state=3, n_jobs=2).fit(karate_wc)
    by_count = cls(k=3, epsilon=0.3, random_state=3, n_jobs=2).fit(karate_wc)
    assert by_budget.seeds_ == by_count.seeds_
    assert by_budget.guarantee_.base_ratio == GREEDY_RATIO
    unequal = cls(budget=7.5, costs=np.linspace(1, 3, 34), epsilon=0.1, random_state=3, n_jobs=2).fit(karate_wc)
    assert unequal.guarantee_.base_ratio == BUDGETED_RATIO
    assert unequal.guarantee_.target == pytest.approx(BUDGETED_RATIO - 0.1)


def test_costs_mapping_and_validation(karate_wc: SocialGraph) -> None:
    prob = resolve_problem(karate_wc, k=None, budget=5.0, costs={"0": 1.0, "33": 2.0}, candidates=None)
    assert prob.n_candidates == 2 and prob.max_seeds == 2 and prob.budgeted  # the mapping's keys
    with pytest.raises(SchemaError, match=r"have no cost, e\.g\. 5"):
        resolve_problem(karate_wc, k=None, budget=5.0, costs={"0": 1.0}, candidates=["0", "5"])
    with pytest.raises(SchemaError, match="not nodes of the graph: ghost"):
        resolve_problem(karate_wc, k=None, budget=5.0, costs={"ghost": 1.0}, candidates=None)
    with pytest.raises(SchemaError, match="non-negative"):
        resolve_problem(karate_wc, k=None, budget=5.0, costs={"0": -1.0}, candidates=None)
    with pytest.raises(SchemaError, match="non-negative"):
        resolve_problem(karate_wc, k=None, budget=5.0, costs=np.r_[np.nan, np.ones(33)], candidates=None)
    with pytest.raises(SchemaError, match="aligned with node_ids"):
        resolve_problem(karate_wc, k=None, budget=5.0, costs=np.ones(3), candidates=None)
    with pytest.raises(ConfigError, match="costs need a budget"):
        resolve_problem(karate_wc, k=2, budget=None, costs=np.ones(34), candidates=None)
    with pytest.raises(ConfigError, match="budget must be a non-negative"):
        resolve_problem(karate_wc, k=None, budget=-1.0, costs=None, candidates=None)
    with pytest.raises(ConfigError, match="finite"):
        resolve_problem(karate_wc, k=None, budget=math.inf, costs=None, candidates=None)
    with pytest.raises(SchemaError, match="not nodes of the graph: nobody"):
        resolve_problem(karate_wc, k=1, budget=None, costs=None, candidates=["nobody"])
    free = resolve_problem(karate_wc, k=None, budget=0.0, costs=np.zeros(34), candidates=None)
    assert free.max_seeds == 34 and not free.budgeted  # zero costs are allowed
    unit = resolve_problem(karate_wc, k=None, budget=4.99, costs=None, candidates=None)
    assert unit.max_seeds == 4 and not unit.budgeted  # without costs every user costs 1


def test_number_of_solutions_for_the_union_bound(karate_wc: SocialGraph) -> None:
    by_count = resolve_problem(karate_wc, k=3, budget=None, costs=None, candidates=None)
    assert by_count.log_n_solutions() == pytest.approx(math.log(math.comb(34, 3)))
    costs = np.r_[np.ones(17), np.full(17, 2.0)]
    by_budget = resolve_problem(karate_wc, k=None, budget=3.0, costs=costs, candidates=None)
    assert by_budget.max_seeds == 3  # three of the 1-cost users
    assert by_budget.log_n_solutions() == pytest.approx(math.log(sum(math.comb(34, i) for i in range(4))))
