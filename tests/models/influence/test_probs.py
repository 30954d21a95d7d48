"""Edge probability models: the standard assignments by hand, learning from cascades against the simulator's truth."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pytest

from growthkit.config import Settings
from growthkit.errors import SchemaError
from growthkit.models.influence.graph import SocialGraph
from growthkit.models.influence.graph_sources import EdgeCounts, graph_from_store, referral_cascades
from growthkit.models.influence.probs import (
    TRIVALENCY,
    BetaPrior,
    compare_with_truth,
    learned,
    trivalency,
    truth_probabilities,
    uniform,
    weighted_cascade,
)
from growthkit.schema import TABLES
from growthkit.sim import SimConfig
from growthkit.sim.writer import simulate
from growthkit.store import Store, open_store

# a -> b, a -> c, b -> c, c -> a (node order a, b, c; forward edges sorted by source then target)
G = SocialGraph.from_edges(["a", "a", "b", "c"], ["b", "c", "c", "a"])


def test_uniform_and_weighted_cascade() -> None:
    assert uniform(G, 0.3).prob.tolist() == [0.3] * 4
    # in-degrees: a 1 (from c), b 1 (from a), c 2 (from a, b)
    assert weighted_cascade(G).prob.tolist() == [1.0, 0.5, 0.5, 1.0]
    assert G.prob.tolist() == [0.0] * 4  # the input graph is untouched
    with pytest.raises(SchemaError):
        uniform(G, 1.5)


def test_trivalency_is_seeded_and_uses_only_its_values() -> None:
    big = SocialGraph.from_index_arrays(
        np.arange(3000) % 100, np.arange(3000) // 30, np.zeros(3000), node_ids=[str(i) for i in range(100)]
    )
    one, again, other = trivalency(big, seed=3), trivalency(big, seed=3), trivalency(big, seed=4)
    assert np.array_equal(one.prob, again.prob) and not np.array_equal(one.prob, other.prob)
    values, counts = np.unique(one.prob, return_counts=True)
    assert set(values) == set(TRIVALENCY)
    # each value about a third of the edges (binomial sd ~ 26 of ~ 990)
    assert np.all(np.abs(counts - big.n_edges / 3) < 5 * np.sqrt(big.n_edges * 2 / 9))
    assert set(trivalency(G, values=(0.2,)).prob) == {0.2}


def test_beta_prior_method_of_moments_by_hand() -> None:
    # rates 0/4 and 4/4 on two edges: m = 4/8 = 0.5; mean((r - m)^2) = 0.25;
    # binomial noise m(1-m) mean(1/n) = 0.25 * 0.25 = 0.0625; tau2 = 0.1875;
    # a + b = 0.25 / 0.1875 - 1 = 1/3, so a = b = 1/6 (the unexposed third edge plays no part)
    counts = EdgeCounts(np.array([4, 4, 0]), np.array([0, 4, 0]))
    pr = BetaPrior.fit(counts, min_strength=0.1)
    assert pr.a == pytest.approx(1 / 6) and pr.b == pytest.approx(1 / 6)
    # the default floor of half a trial: a = b = 0.25
    assert BetaPrior.fit(counts).a == pytest.approx(0.25)
    # one trial per edge: the spread is pure binomial noise (tau2 = 0), heterogeneity is not identified
    one_each = EdgeCounts(np.array([1, 1, 1, 1]), np.array([1, 0, 0, 0]))
    flat = BetaPrior.fit(one_each)
    assert flat.strength == pytest.approx(10.0) and flat.mean == pytest.approx(0.25)
    assert BetaPrior.fit(one_each, fallback_strength=100.0).strength == pytest.approx(100.0)
    # rates 0.5 and 0.6 on 1000 trials each: m = 0.55, spread 0.0025, noise 0.2475 / 1000,
    # tau2 = 0.0022525, a + b = 0.2475 / 0.0022525 - 1 = 108.88; capped at max_strength
    alike = EdgeCounts(np.array([1000, 1000]), np.array([500, 600]))
    assert BetaPrior.fit(alike).strength == pytest.approx(0.2475 / 0.0022525 - 1)
    assert BetaPrior.fit(alike, max_strength=50.0).strength == pytest.approx(50.0)
    # no success at all: the mean is kept half a trial off zero
    assert BetaPrior.fit(EdgeCounts(np.array([2, 2]), np.array([0, 0]))).mean == pytest.approx(0.5 / 4)
    with pytest.raises(SchemaError, match="no edge was ever exposed"):
        BetaPrior.fit(EdgeCounts(np.array([0, 0]), np.array([0, 0])))
    with pytest.raises(SchemaError):
        BetaPrior(0.0, 1.0)


def test_learned_is_the_posterior_mean_and_scales_the_unexposed() -> None:
    counts = EdgeCounts(np.array([10, 0, 3, 1]), np.array([3, 0, 0, 1]))
    g = learned(G, counts, prior=BetaPrior(1.0, 9.0), unexposed_scale=0.5)
    # (3+1)/(10+10) = 0.2; unexposed: 0.5 * 0.1; (0+1)/(3+10); (1+1)/(1+10)
    assert g.prob.tolist() == pytest.approx([0.2, 0.05, 1 / 13, 2 / 11])
    assert g.rev_prob.tolist() == pytest.approx([2 / 11, 0.2, 0.05, 1 / 13])  # reverse CSR: into a, b, c, c
    default = learned(G, counts)  # prior fitted on the three exposed edges
    pr = BetaPrior.fit(counts)
    assert default.prob[1] == pytest.approx(pr.mean)
    with pytest.raises(SchemaError, match="cover 2 edges"):
        learned(G, EdgeCounts(np.array([1, 1]), np.array([0, 0])))


def test_truth_alignment_and_comparison_by_hand() -> None:
    truth = {
        "src_user": ["a", "b", "a", "c", "x"],
        "dst_user": ["c", "a", "b", "a", "a"],
        "kind": ["friend", "follow", "referral", "referral", "follow"],
        "influence_prob": [0.2, 0.9, 0.4, 0.1, 0.5],
    }
    # a-c friend covers a->c and c->a (c->a also listed as referral 0.1: the max, 0.2, wins);
    # b->a is no edge of G; a->b 0.4; b->c unknown; x is no node
    assert np.allclose(truth_probabilities(G, truth), [0.4, 0.2, np.nan, 0.2], equal_nan=True)
    pred = G.with_prob(np.array([0.5, 0.1, 0.3, 0.4]))
    r = compare_with_truth(pred, pa.table(truth), bins=2)
    # scored: a->b (0.5 vs 0.4), a->c (0.1 vs 0.2), c->a (0.4 vs 0.2): MAE (0.1 + 0.1 + 0.2) / 3
    assert r.edges == 3 and r.mae == pytest.approx(0.4 / 3)
    assert r.mean_predicted == pytest.approx(1 / 3) and r.mean_true == pytest.approx(0.8 / 3)
    assert r.spearman == pytest.approx(0.8660254)  # ranks (3, 1, 2) vs (3, 1.5, 1.5)
    assert [(b.edges, b.mean_true) for b in r.bins] == [(2, pytest.approx(0.2)), (1, pytest.approx(0.4))]
    assert np.isnan(compare_with_truth(uniform(G), truth).pearson)  # a constant carries no ranking
    only = compare_with_truth(pred, truth, mask=[True, False, False, False])
    assert only.edges == 1 and only.mae == pytest.approx(0.1)
    with pytest.raises(SchemaError, match="influence_prob"):
        compare_with_truth(pred, {"src_user": [], "dst_user": [], "kind": []})


# ----------------------------------------------------------------- against the simulator's truth


@dataclass(frozen=True)
class SimShop:
    store: Store
    truth: pa.Table


def load_sim(config: SimConfig) -> SimShop:
    """Simulate in memory and load the canonical columns into an in-memory store."""
    data = simulate(config)
    store = open_store(Settings(db=":memory:"))
    for name in ("events", "users", "edges"):
        t = getattr(data, name)
        cols = [c for c in TABLES[name].column_names if c in t.column_names]
        with store.register("_src", t.select(cols)):
            store.execute(f"INSERT INTO {name} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _src")
    return SimShop(store, data.truth["edges"])


@pytest.fixture(scope="module")
def sim() -> Iterator[SimShop]:
    shop = load_sim(SimConfig(users=3000, days=60, seed=3))
    yield shop
    shop.store.close()


def test_learned_probabilities_track_the_simulators_truth(sim: SimShop) -> None:
    """In the simulator a referred user's referrer is drawn among earlier in-neighbours with probability
    proportional to the true influence probability, so referral credit carries the truth; nothing else does."""
    g = graph_from_store(sim.store, ("friend", "follow"))
    cas = referral_cascades(sim.store, g)  # Goyal et al.'s Bernoulli model: every later signup is a trial
    fit = learned(g, cas.counts)
    scores = {
        "learned": compare_with_truth(fit, sim.truth),
        "uniform": compare_with_truth(uniform(g, 0.1), sim.truth),
        "weighted_cascade": compare_with_truth(weighted_cascade(g), sim.truth),
        "trivalency": compare_with_truth(trivalency(g, seed=0), sim.truth),
    }
    assert scores["learned"].edges == g.n_edges  # every friend/follow edge has a truth
    assert np.isnan(scores["uniform"].pearson)  # a constant carries no ranking: the learned one must
    assert scores["learned"].pearson > 0.05
    for other in ("weighted_cascade", "trivalency"):
        assert scores["learned"].pearson > scores[other].pearson + 0.03, other
    # as close to the truth in absolute terms as a well-chosen uniform p (the truth's mean is ~0.10)
    assert scores["learned"].mae < scores["uniform"].mae + 0.005
    # the credit variant (only referred users are trials) ranks the exposed edges much more sharply,
    # but its rates are a share of credit, not a probability: far off the truth's scale
    credit = referral_cascades(sim.store, g, referred_only=True)
    sharp = compare_with_truth(learned(g, credit.counts), sim.truth, mask=credit.counts.exposed)
    assert sharp.edges > 1000 and sharp.pearson > 0.2 and sharp.spearman > 0.2
    assert sharp.bins[-1].mean_true > 1.5 * sharp.bins[0].mean_true
    assert sharp.mean_predicted > 2 * sharp.mean_true
