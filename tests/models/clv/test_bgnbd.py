"""BG/NBD: parameter recovery on simulated data, the likelihood's gradient, predictions against ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime
from scipy.special import hyp2f1

from growthkit.errors import ConfigError, NotFittedError, SchemaError
from growthkit.models.clv import BGNBD, cohort_durations, simulate_bgnbd
from growthkit.models.clv._optim import collapse
from growthkit.models.clv.bgnbd import _alive_purchases_quadrature, _Data, _objective, conditional_alive_purchases

from .conftest import standard_errors

TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # the CDNOW estimates


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    """30,000 customers acquired over 12 weeks, observed to week 39, with a 39-week holdout."""
    return simulate_bgnbd(**TRUE, durations=cohort_durations(30_000, seed=1), seed=2, holdout=39.0)


def _fixed(**params: float) -> BGNBD:
    m = BGNBD()
    m.r_, m.alpha_, m.a_, m.b_ = (params[k] for k in ("r", "alpha", "a", "b"))
    m.params_ = dict(params)
    return m


def test_recovers_the_parameters_within_four_standard_errors(simulated: pd.DataFrame) -> None:
    model = BGNBD().fit(simulated)
    est = np.array([model.params_[k] for k in TRUE])

    def nll(p: np.ndarray) -> float:
        return -float(_fixed(**dict(zip(TRUE, p, strict=True))).log_likelihood(simulated).sum())

    se = standard_errors(nll, est)
    # the sampling error of 30,000 customers: each estimate within 4 of its asymptotic standard errors
    assert np.all(np.abs(est - np.array(list(TRUE.values()))) < 4 * se), (est, se)
    assert np.all(se / est < 0.1)  # and the design identifies them (relative SE below 10 %)
    assert model.fit_report_.converged


def test_gradient_matches_finite_differences(simulated: pd.DataFrame) -> None:
    c = collapse(*(simulated[k].to_numpy(float) for k in ("frequency", "recency", "T")), np.ones(len(simulated)))
    d = _Data(c)
    for theta in (np.log([0.243, 4.414, 0.793, 2.426]), np.log([2.0, 0.3, 4.0, 0.6])):
        numeric = approx_fprime(theta, lambda th: _objective(th, d)[0], 1e-7)
        np.testing.assert_allclose(_objective(theta, d)[1], numeric, rtol=1e-4, atol=1e-6)


def test_collapsing_and_weights_do_not_change_the_fit(simulated: pd.DataFrame) -> None:
    part = simulated.iloc[:4000]
    twice = pd.concat([part, part.sample(frac=1.0, random_state=0)])
    a = BGNBD(n_starts=1).fit(twice)
    b = BGNBD(n_starts=1).fit(part, sample_weight=np.full(len(part), 2.0))
    np.testing.assert_allclose(list(a.params_.values()), list(b.params_.values()), rtol=1e-6)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-10)
    assert a.fit_report_.n_unique == b.fit_report_.n_unique < len(part)


def test_conditional_expectations_match_the_simulated_holdout(simulated: pd.DataFrame) -> None:
    """At the true parameters, E[holdout purchases | calibration data] summed over customers equals the
    simulated total up to sampling noise (the conditional variance of a sum of independent customers)."""
    expected = _fixed(**TRUE).expected_purchases(simulated, 39.0)
    actual = simulated["frequency_holdout"]
    noise = np.sqrt(((actual - expected) ** 2).sum())
    assert abs(actual.sum() - expected.sum()) < 4 * noise
    for k in (0, 1, 2):  # and per calibration frequency
        sel = simulated["frequency"] == k
        assert abs(actual[sel].sum() - expected[sel].sum()) < 4 * np.sqrt(((actual - expected)[sel] ** 2).sum())


def test_new_customer_expectation_matches_simulation() -> None:
    model = _fixed(**TRUE)
    sim = simulate_bgnbd(**TRUE, durations=np.full(200_000, 52.0), seed=7)
    se = sim["frequency"].std() / np.sqrt(len(sim))
    assert model.expected_purchases_new(52.0) == pytest.approx(sim["frequency"].mean(), abs=4 * se)
    assert model.expected_purchases_new(0.0) == 0.0


def test_hypergeometric_form_agrees_with_quadrature_and_the_paper() -> None:
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    for x, age, t in [(0, 30.0, 39.0), (2, 38.9, 39.0), (7, 20.0, 5.0), (40, 10.0, 200.0), (150, 2.0, 300.0)]:
        got = conditional_alive_purchases(r, alpha, a, b, np.array([float(x)]), np.array([age]), t)[0]
        assert got == pytest.approx(_alive_purchases_quadrature(r, alpha, a, b, x, age, t), rel=1e-8)
        if x < 10:  # eq. 10 as printed, where the plain 2F1 does not overflow
            z = t / (alpha + age + t)
            paper = (
                (a + b + x - 1)
                / (a - 1)
                * (1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
            )
            assert got == pytest.approx(paper, rel=1e-10)
    # a = 1 makes the closed form 0/0: the quadrature takes over
    near = conditional_alive_purchases(r, alpha, 1.0, b, np.array([3.0]), np.array([20.0]), 10.0)[0]
    assert near == pytest.approx(_alive_purchases_quadrature(r, alpha, 1.0 + 1e-9, b, 3.0, 20.0, 10.0), rel=1e-6)


def test_p_alive_by_hand() -> None:
    m = _fixed(**TRUE)
    data = pd.DataFrame(
        {"frequency": [0, 2, 2], "recency": [0.0, 30.0, 5.0], "T": [39.0, 39.0, 39.0]},
        index=pd.Index(["u0", "u1", "u2"], name="user_id"),
    )
    p = m.p_alive(data)
    assert list(p.index) == ["u0", "u1", "u2"] and p["u0"] == 1.0
    r, alpha, a, b = TRUE.values()
    by_hand = 1 / (1 + a / (b + 2 - 1) * ((alpha + 39) / (alpha + 30)) ** (r + 2))
    assert p["u1"] == pytest.approx(by_hand, rel=1e-12)
    assert p["u2"] < p["u1"]  # a long silence since the last purchase makes it less likely the customer is alive
    e = m.expected_purchases(data, 10.0)
    assert (e > 0).all() and (m.expected_purchases(data, 20.0) > e).all()
    assert (m.expected_purchases(data, 0.0) == 0).all()


def test_estimator_contract(simulated: pd.DataFrame) -> None:
    model = BGNBD(n_starts=2, random_state=5)
    assert model.get_params() == {"n_starts": 2, "max_iter": 1000, "tol": 1e-12, "random_state": 5}
    assert repr(model) == "BGNBD(n_starts=2, max_iter=1000, tol=1e-12, random_state=5)"
    with pytest.raises(NotFittedError, match="not fitted"):
        model.p_alive(simulated)
    with pytest.raises(ConfigError, match="n_starts"):
        BGNBD(n_starts=0).fit(simulated)
    with pytest.raises(ConfigError, match="no parameter"):
        model.set_params(nope=1)
    before = simulated.copy()
    assert model.set_params(n_starts=1).fit(simulated.iloc[:2000]) is model
    assert model.n_starts == 1 and len(model.fit_report_.starts) == 1
    pd.testing.assert_frame_equal(simulated, before)
    with pytest.raises(ConfigError, match="horizon"):
        model.expected_purchases(simulated, -1.0)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"frequency": [-1], "recency": [0.0], "T": [5.0]}), "frequency is negative"),
        (pd.DataFrame({"frequency": [1.5], "recency": [1.0], "T": [5.0]}), "whole number"),
        (pd.DataFrame({"frequency": [1], "recency": [6.0], "T": [5.0]}), "recency exceeds T"),
        (pd.DataFrame({"frequency": [0], "recency": [1.0], "T": [5.0]}), "recency is not 0"),
        (pd.DataFrame({"frequency": [1], "recency": [1.0]}), "lack column 'T'"),
        (pd.DataFrame({"frequency": [1], "recency": [np.nan], "T": [5.0]}), "missing or infinite"),
    ],
)
def test_bad_data_is_refused_with_the_reason(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        BGNBD().fit(frame)
