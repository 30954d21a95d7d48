"""IC and LT spread: exact enumeration, Monte-Carlo and RR-set estimates agree."""

from __future__ import annotations

import doctest
import importlib
import math
import subprocess
import sys

import numpy as np
import pytest

from growthkit.errors import ConfigError, SchemaError
from growthkit.models.influence.diffusion import DiffusionModel, estimate_spread, exact_spread, prepare, stream_base
from growthkit.models.influence.graph import SocialGraph

# A fixed seed makes every check below deterministic. The tolerance is 4 standard errors:
# for a correct estimator a 4-sigma miss has probability ~6e-5, so a failure means a bias,
# while a biased kernel (say a wrong LT slot or a skipped geometric jump) shifts these tiny
# graphs' spreads by far more than 4 standard errors at these sample sizes.
Z = 4.0


def _path() -> SocialGraph:
    return SocialGraph.from_edges(["a", "b"], ["b", "c"], [0.5, 0.5])


def _diamond() -> SocialGraph:
    return SocialGraph.from_edges(["a", "a", "b", "c"], ["b", "c", "d", "d"], [0.5, 0.5, 0.5, 0.5])


def _tiny_random(kind: str, seed: int = 1) -> SocialGraph:
    """7 nodes, at most 14 edges: small enough to enumerate every live-edge world."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"n{i}" for i in range(7)], dtype=object)
    u, v = rng.integers(0, 7, 14), rng.integers(0, 7, 14)
    keep = u != v
    g = SocialGraph.from_edges(ids[u[keep]], ids[v[keep]], rng.uniform(0.1, 0.9, int(keep.sum())), node_ids=ids)
    if kind == "random":
        return g
    if kind == "wc":  # equal in-probabilities: the geometric-skip and direct-index branches
        return g.with_prob(1.0 / g.in_degree()[g.indices])
    total = np.bincount(g.indices, weights=g.prob, minlength=7)
    return g.with_prob(0.9 * g.prob / np.maximum(total, 1.0)[g.indices])  # unequal LT weights, sums <= 0.9


def test_exact_spread_by_hand() -> None:
    assert exact_spread(_path(), ["a"]) == pytest.approx(1 + 0.5 + 0.25)
    assert exact_spread(_path(), ["a"], model="lt") == pytest.approx(1.75)  # in-degree 1: LT = IC
    # diamond: d is reached through b or c. IC: 1 - (1 - 0.25)^2; LT: d keeps one in-edge, 0.5 * 0.5 each
    assert exact_spread(_diamond(), ["a"]) == pytest.approx(1 + 0.5 + 0.5 + 0.4375)
    assert exact_spread(_diamond(), ["a"], model="lt") == pytest.approx(1 + 0.5 + 0.5 + 0.5)
    assert exact_spread(_diamond(), ["a", "d"]) == pytest.approx(3.0)
    assert exact_spread(_diamond(), []) == 0.0


@pytest.mark.parametrize(("kind", "model"), [("random", "ic"), ("wc", "ic"), ("wc", "lt"), ("lt", "lt")])
def test_monte_carlo_matches_exact(kind: str, model: DiffusionModel) -> None:
    g = _tiny_random(kind)
    for seeds in (["n0"], ["n0", "n3"], ["n5", "n6", "n1"]):
        exact = exact_spread(g, seeds, model=model)
        est = estimate_spread(g, seeds, model=model, n_sims=40_000, random_state=3, n_jobs=2)
        assert abs(est.mean - exact) <= Z * est.stderr + 1e-12, (seeds, est, exact)
        assert est.ci_low < est.mean < est.ci_high or est.stderr == 0.0


@pytest.mark.parametrize(("kind", "model"), [("random", "ic"), ("wc", "ic"), ("wc", "lt"), ("lt", "lt")])
def test_rr_sets_estimate_matches_exact(kind: str, model: DiffusionModel) -> None:
    from growthkit.models.influence.rrsets import RRSets

    g = _tiny_random(kind)
    rr = RRSets(prepare(g, model), stream_base(0, 7), n_jobs=2)
    rr.grow_to(100_000)
    for seeds in (["n0"], ["n2", "n4"]):
        exact = exact_spread(g, seeds, model=model)
        frac = rr.covered(g.node_index(seeds)) / rr.n_sets
        stderr = g.n_nodes * math.sqrt(frac * (1 - frac) / rr.n_sets)  # binomial coverage count
        assert abs(rr.spread(g.node_index(seeds)) - exact) <= Z * stderr + 1e-12, (seeds, exact)


def test_monte_carlo_and_rr_sets_agree_on_karate(karate_wc: SocialGraph) -> None:
    """Too big to enumerate, so two independent unbiased estimators must agree."""
    from growthkit.models.influence.rrsets import RRSets

    seeds = ["0", "33", "5"]
    for model in ("ic", "lt"):
        mc = estimate_spread(karate_wc, seeds, model=model, n_sims=20_000, random_state=1, n_jobs=2)
        rr = RRSets(prepare(karate_wc, model), stream_base(1, 7), n_jobs=2)
        rr.grow_to(50_000)
        frac = rr.covered(karate_wc.node_index(seeds)) / rr.n_sets
        rr_se = 34 * math.sqrt(frac * (1 - frac) / rr.n_sets)
        assert abs(mc.mean - rr.spread(karate_wc.node_index(seeds))) <= Z * math.hypot(mc.stderr, rr_se)


def test_estimate_is_deterministic_and_independent_of_threads(karate_wc: SocialGraph) -> None:
    a = estimate_spread(karate_wc, ["0", "33"], n_sims=3001, random_state=11, n_jobs=1)
    b = estimate_spread(karate_wc, ["0", "33"], n_sims=3001, random_state=11, n_jobs=2)
    c = estimate_spread(karate_wc, ["33", "0", "0"], n_sims=3001, random_state=11, n_jobs=-1)
    d = estimate_spread(karate_wc, ["0", "33"], n_sims=3001, random_state=12, n_jobs=2)
    assert a == b == c
    assert d.mean != a.mean and abs(d.mean - a.mean) < Z * math.hypot(a.stderr, d.stderr)


def test_confidence_interval_fields(karate_wc: SocialGraph) -> None:
    est = estimate_spread(karate_wc, ["0"], n_sims=5000, random_state=0, n_jobs=2, confidence=0.99)
    assert est.n_sims == 5000 and est.confidence == 0.99
    assert est.ci_high - est.mean == pytest.approx(2.5758293 * est.stderr, rel=1e-6)
    assert est.mean - est.ci_low == pytest.approx(2.5758293 * est.stderr, rel=1e-6)
    assert estimate_spread(karate_wc, [], n_sims=10).mean == 0.0


def test_certain_edges_give_a_certain_spread() -> None:
    g = SocialGraph.from_edges(["a", "b", "x"], ["b", "c", "y"], [1.0, 1.0, 0.0])
    for model in ("ic", "lt"):
        est = estimate_spread(g, ["a", "x"], model=model, n_sims=500, n_jobs=2)
        assert (est.mean, est.stderr) == (4.0, 0.0)
        assert exact_spread(g, ["a", "x"], model=model) == 4.0


def test_lt_rejects_in_weights_above_one() -> None:
    g = SocialGraph.from_edges(["a", "b"], ["c", "c"], [0.7, 0.6])
    with pytest.raises(SchemaError, match=r"sum to at most 1.*user c"):
        estimate_spread(g, ["a"], model="lt")
    with pytest.raises(SchemaError, match="at most 1"):
        exact_spread(g, ["a"], model="lt")
    assert estimate_spread(g, ["a"], model="ic", n_sims=100).mean > 1.0  # fine as IC probabilities
    ok = g.with_prob(np.array([0.5, 0.5 + 1e-12]))  # rounding slack of 1e-9 is allowed
    assert estimate_spread(ok, ["a"], model="lt", n_sims=100).mean >= 1.0


def test_bad_arguments_say_what_to_fix() -> None:
    g = _path()
    with pytest.raises(SchemaError, match="not nodes of the graph: zz"):
        estimate_spread(g, ["a", "zz"])
    with pytest.raises(ConfigError, match="model must be one of"):
        estimate_spread(g, ["a"], model="sir")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="n_sims"):
        estimate_spread(g, ["a"], n_sims=1)
    with pytest.raises(ConfigError, match="n_jobs"):
        estimate_spread(g, ["a"], n_jobs=0)
    with pytest.raises(ConfigError, match="random_state"):
        estimate_spread(g, ["a"], random_state=-3)
    with pytest.raises(ConfigError, match="max_worlds"):
        exact_spread(_tiny_random("random"), ["n0", "n1", "n2"], max_worlds=2)


def test_empty_graph() -> None:
    g = SocialGraph.from_edges([], [])
    assert g.n_nodes == 0
    assert estimate_spread(g, [], n_sims=10).mean == 0.0
    assert exact_spread(g, []) == 0.0


MODULES = ["diffusion", "budget", "imm", "opim", "celf", "heuristics"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"growthkit.models.influence.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_numba_is_imported_lazily_with_an_install_hint() -> None:
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import growthkit.models.influence as inf\n"
        "from growthkit.models.influence.diffusion import estimate_spread\n"
        "g = inf.SocialGraph.from_edges(['a'], ['b'], [0.5])\n"
        "try:\n    estimate_spread(g, ['a'])\nexcept ImportError as e:\n    print(e)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "pip install 'growthkit[models]'" in res.stdout
