"""Independent-cascade probabilities from logged cascades: reading trials, Saito et al.'s EM, the edge prior."""

from __future__ import annotations

import doctest
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from growthkit.errors import NotFittedError, SchemaError
from growthkit.models.influence import SocialGraph
from growthkit.models.influence import cascade_em as em_module
from growthkit.models.influence import cascade_log as trials_module
from growthkit.models.influence import edge_prior as prior_module
from growthkit.models.influence.cascade_em import CascadeEM
from growthkit.models.influence.cascade_log import cascade_trials
from growthkit.models.influence.edge_prior import EdgeFeatures, fit_logistic_beta

HOUR = 3_600_000_000  # microseconds
W = timedelta(hours=1)


def _ic_log(
    graph: SocialGraph,
    p: np.ndarray,
    seeds: list[list[int]],
    rng: np.random.Generator,
    background: float = 0.0,
    rounds: int = 8,
) -> pd.DataFrame:
    """Discrete-time IC cascades on ``graph`` with probabilities ``p``: round g adopts at g hours, shares at g + 0.5.

    ``background``: each inactive user also adopts on their own with this probability per round. Each
    cascade is watched for ``rounds`` rounds (exposures of the last round are censored).
    """
    rows: list[tuple[int, str, str, str | None, int]] = []
    src = graph.edge_sources()
    ids = graph.node_ids
    for c, start in enumerate(seeds):
        active = np.zeros(graph.n_nodes, dtype=bool)
        new = np.zeros(graph.n_nodes, dtype=bool)
        new[start] = True
        for g in range(rounds):
            active |= new
            for v in np.flatnonzero(new):
                rows.append((c, "activation", ids[v], None, g * HOUR))
            nxt = np.zeros(graph.n_nodes, dtype=bool)
            for e in np.flatnonzero(new[src]):
                v = graph.indices[e]
                rows.append((c, "exposure", ids[v], ids[src[e]], g * HOUR + HOUR // 2))
                if not active[v] and rng.random() < p[e]:
                    nxt[v] = True
            if background:
                nxt |= rng.random(graph.n_nodes) < background
            new = nxt & ~active
    df = pd.DataFrame(rows, columns=["cascade_id", "event", "user_id", "src_user", "ts"])
    return df.assign(observed_until=rounds * HOUR)


@pytest.mark.parametrize("module", [em_module, trials_module, prior_module])
def test_docstring_examples_run(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


# ----------------------------------------------------------------- reading a log into trials


def test_trials_by_hand() -> None:
    g = SocialGraph.from_edges(["a", "a", "b", "c"], ["b", "c", "c", "d"])  # edges 0..3 in this order
    log = pd.DataFrame(
        [
            ("k1", "activation", "a", None, 0),
            ("k1", "exposure", "b", "a", 10),  # b adopts 5 later: credit
            ("k1", "exposure", "c", "a", 10),  # c adopts 100 later: outside the window, a failure
            ("k1", "activation", "b", None, 15),
            ("k1", "exposure", "c", "b", 20),  # c adopts 90 later: a failure too
            ("k1", "activation", "c", None, 110),  # ... so c came from outside the shares
            ("k1", "exposure", "d", "c", 120),  # never followed up to 120 + 30: censored
            ("k1", "exposure", "b", "c", 121),  # not an edge of the graph
            ("k2", "activation", "b", None, 0),
            ("k2", "exposure", "c", "b", 1),  # c was already active: no trial
            ("k2", "activation", "c", None, 0),
        ],
        columns=["cascade_id", "event", "user_id", "src_user", "ts"],
    ).assign(observed_until=140)
    t = cascade_trials(g, log, window=timedelta(microseconds=30))
    assert t.failures.tolist() == [0, 1, 1, 0]
    assert t.credit_edge.tolist() == [0] and t.credit_ptr.tolist() == [0, 1]
    assert t.seeds.tolist() == [1, 2] and t.external.tolist() == [1, 0]  # k1: a, then c; k2: b and c at once
    assert (t.censored, t.unmatched, t.cascades) == (1, 1, 2)
    assert t.trials.tolist() == [1, 1, 1, 0] and t.hard_counts().successes.tolist() == [1, 0, 0, 0]
    fails, act_w = t.weighted([2.0, 0.0])
    assert fails.tolist() == [0, 2, 2, 0] and act_w.tolist() == [2.0]
    # without observed_until the end of each cascade is its last row: d's exposure is still censored
    assert cascade_trials(g, log.drop(columns="observed_until"), window=timedelta(microseconds=30)).censored == 1


def test_trials_name_what_is_wrong() -> None:
    g = SocialGraph.from_edges(["a"], ["b"])
    with pytest.raises(SchemaError, match="lacks column"):
        cascade_trials(g, {"cascade_id": [1], "user_id": ["a"]})
    bad = {"cascade_id": [1], "event": ["click"], "user_id": ["a"], "src_user": [None], "ts": [0]}
    with pytest.raises(SchemaError, match="'exposure' or 'activation'"):
        cascade_trials(g, bad)
    with pytest.raises(SchemaError, match="window must be positive"):
        cascade_trials(g, {**bad, "event": ["activation"]}, window=timedelta(0))
    with pytest.raises(SchemaError, match="one non-negative weight per cascade"):
        cascade_trials(g, {**bad, "event": ["activation"]}).weighted([1.0, 1.0])


# ----------------------------------------------------------------- the EM


def _two_parents(
    rng: np.random.Generator, p: tuple[float, float] = (0.4, 0.1)
) -> tuple[SocialGraph, np.ndarray, pd.DataFrame]:
    """a -> c and b -> c; half the cascades start at both a and b, so c's credit must be shared."""
    g = SocialGraph.from_edges(["a", "b"], ["c", "c"])
    p = np.array(p)
    seeds = [[0, 1]] * 3000 + [[0]] * 1500 + [[1]] * 1500
    return g, p, _ic_log(g, p, seeds, rng)


def test_em_shares_the_credit_that_plain_counting_double_counts() -> None:
    g, p, log = _two_parents(np.random.default_rng(1))
    em = CascadeEM(window=W, prior="none").fit(g, log)
    assert em.converged_ and em.prob_ == pytest.approx(p, abs=0.02)
    hard = em.trials_.hard_counts()
    plain = hard.successes / hard.exposures
    assert plain[1] > 0.3  # b gets the whole credit whenever a and b exposed c together (0.34)
    assert em.background_ == 0.0  # every activation but the seeds came after an exposure
    assert np.isfinite(em.log_likelihood_) and em.log_likelihood_ < 0
    # the log-likelihood of held-out cascades prefers the fitted probabilities to wrong ones
    _, _, held_out = _two_parents(np.random.default_rng(2))
    _, _, swapped = _two_parents(np.random.default_rng(3), p=(0.1, 0.4))
    wrong = CascadeEM(window=W, prior="none").fit(g, swapped)
    assert em.score(held_out) > wrong.score(held_out) + 0.01


def test_background_adoptions_are_kept_out_of_the_edges() -> None:
    rng = np.random.default_rng(3)
    n = 60
    src = rng.integers(0, n, 240)
    dst = (src + 1 + rng.integers(0, n - 1, 240)) % n
    g = SocialGraph.from_index_arrays(src, dst, np.zeros(240), node_ids=np.array([f"u{i:02d}" for i in range(n)]))
    p = rng.uniform(0.02, 0.3, g.n_edges)
    log = _ic_log(g, p, [[int(rng.integers(0, n))] for _ in range(1500)], rng, background=0.01)
    with_bg = CascadeEM(window=W, prior="none").fit(g, log)
    without = CascadeEM(window=W, prior="none", background=False).fit(g, log)
    assert with_bg.background_ > 0.004 and without.background_ == 0.0
    tried = with_bg.trials_.trials > 30
    err_bg = np.abs(with_bg.prob_ - p)[tried].mean()
    err_no = np.abs(without.prob_ - p)[tried].mean()
    assert err_bg < err_no  # credit for background adoptions no longer goes to the edges
    assert (without.prob_ - p)[tried].mean() > 0 and abs((with_bg.prob_ - p)[tried].mean()) < 0.01


def test_prior_from_features_fills_edges_never_tried() -> None:
    rng = np.random.default_rng(4)
    n = 400
    src = rng.integers(0, n, 2400)
    dst = (src + 1 + rng.integers(0, n - 1, 2400)) % n
    g = SocialGraph.from_index_arrays(src, dst, np.zeros(2400), node_ids=np.array([f"u{i:03d}" for i in range(n)]))
    strong = rng.random(g.n_edges) < 0.5
    p = np.where(strong, rng.beta(3, 12, g.n_edges), rng.beta(1, 30, g.n_edges))
    log = _ic_log(g, p, [[int(rng.integers(0, n))] for _ in range(400)], rng)
    feats = EdgeFeatures(("strong",), strong[:, None].astype(float))
    em = CascadeEM(window=W).fit(g, log, feats)
    never = em.trials_.trials == 0
    assert never.sum() > 50
    # never-tried edges get their group's prior mean, and the groups come out right
    assert em.prob_[never] == pytest.approx(em.prior_mean_[never])
    assert em.prior_mean_[strong].mean() == pytest.approx(0.2, abs=0.04)
    assert em.prior_mean_[~strong].mean() == pytest.approx(1 / 31, abs=0.02)
    assert 1.0 < em.prior_.strength < 1e3 and set(em.prior_.as_dict()) == {"intercept", "strong", "strength"}
    # shrinkage beats the raw rates on the edges that were tried
    ml = CascadeEM(window=W, prior="none").fit(g, log)
    tried = ~never
    assert np.abs(em.prob_ - p)[tried].mean() < np.abs(ml.prob_ - p)[tried].mean()
    # a bootstrap over cascades: refits that vary around the fit
    draws = np.array(list(em.bootstrap(4, random_state=0)))
    assert draws.shape == (4, g.n_edges) and not np.allclose(draws[0], draws[1])
    assert draws.mean() == pytest.approx(em.prob_.mean(), rel=0.1)
    assert np.array_equal(draws, np.array(list(em.bootstrap(4, random_state=0))))


def test_logistic_beta_prior_fits_mean_and_strength() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=20_000)
    mu = 1 / (1 + np.exp(-(-2.0 + 0.8 * x)))
    p = rng.beta(20 * mu, 20 * (1 - mu))
    n = rng.integers(5, 40, x.size)
    prior = fit_logistic_beta(rng.binomial(n, p), n, EdgeFeatures(("x",), x[:, None]))
    assert prior.intercept == pytest.approx(-2.0, abs=0.05) and prior.coef[0] == pytest.approx(0.8, abs=0.05)
    assert prior.strength == pytest.approx(20, rel=0.2)
    with pytest.raises(SchemaError, match="no edge has a trial"):
        fit_logistic_beta(np.zeros(3), np.zeros(3))
    with pytest.raises(SchemaError, match="0 <= successes <= trials"):
        fit_logistic_beta(np.array([2.0]), np.array([1.0]))
    with pytest.raises(SchemaError, match="features must be finite"):
        EdgeFeatures(("x",), np.array([[np.nan]]))


def test_estimator_contract_and_errors() -> None:
    g, _, log = _two_parents(np.random.default_rng(6))
    em = CascadeEM(window=W, prior="flat")
    assert em.prior == "flat" and not hasattr(em, "prob_")  # __init__ only stores
    with pytest.raises(SchemaError, match="'logistic' or 'none'"):
        em.fit(g, log)
    with pytest.raises(NotFittedError, match="fit"):
        CascadeEM().score(log)
    with pytest.raises(SchemaError, match="features shape the prior"):
        CascadeEM(window=W, prior="none").fit(g, log, EdgeFeatures(("x",), np.zeros((2, 1))))
    with pytest.raises(SchemaError, match="features cover 1 edges"):
        CascadeEM(window=W).fit(g, log, EdgeFeatures(("x",), np.zeros((1, 1))))
    other = SocialGraph.from_edges(["x"], ["y"])
    with pytest.raises(SchemaError, match="user ids are the graph's"):
        CascadeEM(window=W).fit(other, log)
    fitted = CascadeEM(window=W).fit(g, log)
    assert fitted.fit(g, log) is fitted and fitted.graph_.prob.tolist() == fitted.prob_.tolist()
    assert fitted.n_iter_ >= 1 and fitted.fit_seconds_ >= 0
