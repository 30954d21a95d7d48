"""Pareto/NBD: the likelihood against numerical integration, the stable 2F1, recovery and predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import gammaln, hyp2f1

from growthkit.errors import NotFittedError
from growthkit.models.clv import ParetoNBD, cohort_durations, simulate_paretonbd
from growthkit.models.clv.paretonbd import log_f, log_f_integral

from .conftest import standard_errors

TRUE = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    """20,000 customers, purchase days recorded to the day (recency in whole days / 7), 39-week holdout."""
    return simulate_paretonbd(
        **TRUE, durations=cohort_durations(20_000, seed=3), seed=4, resolution=1 / 7, holdout=39.0
    )


def _fixed(**p: float) -> ParetoNBD:
    m = ParetoNBD()
    m.r_, m.alpha_, m.s_, m.beta_ = (p[k] for k in ("r", "alpha", "s", "beta"))
    m.params_ = dict(p)
    return m


def _likelihood_by_integration(r: float, alpha: float, s: float, beta: float, x: int, tx: float, age: float) -> float:
    """log L from the model's definition: alive through T, or dying at τ in (t_x, T], λ and μ integrated out."""
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = (alpha + age) ** -(r + x) * (beta / (beta + age)) ** s
    dying, _ = quad(
        lambda tau: (alpha + tau) ** -(r + x) * s * beta**s * (beta + tau) ** -(s + 1), tx, age, epsabs=0, epsrel=1e-13
    )
    return float(head + np.log(alive + dying))


@pytest.mark.parametrize("params", [TRUE, {"r": 2.0, "alpha": 1.5, "s": 0.3, "beta": 40.0}])
def test_likelihood_equals_its_integral_definition(params: dict[str, float]) -> None:
    data = pd.DataFrame(
        {"frequency": [0, 1, 5, 30, 3], "recency": [0.0, 2.0, 30.0, 38.0, 38.9], "T": [39.0, 20.0, 39.0, 39.0, 38.9]}
    )
    got = _fixed(**params).log_likelihood(data)
    for i, row in enumerate(data.itertuples()):
        want = _likelihood_by_integration(*params.values(), int(row.frequency), row.recency, row.T)
        assert got.iloc[i] == pytest.approx(want, rel=1e-9), row


def _log_2f1_series(m: float, c: float, z: float, terms: int = 2_000_000) -> float:
    """log 2F1(m, c; m+1; z) by its Euler transform (1-z)^(1-c) 2F1(1, m+1-c; m+1; z), summed term by term
    in logs (all terms positive): slow but independent of scipy and of the quadrature."""
    k = np.arange(terms - 1)
    log_terms = np.concatenate([[0.0], np.cumsum(np.log((m + 1 - c + k) / (m + 1 + k)) + np.log(z))])
    top = log_terms.max()
    return float((1 - c) * np.log1p(-z) + top + np.log(np.exp(log_terms - top).sum()))


def test_log_f_is_accurate_where_scipy_is_and_finite_where_it_is_not() -> None:
    # where scipy's hyp2f1 works, the integral form and an independent series agree with it
    r, alpha, s, beta = 0.5, 3.0, 0.7, 12.0
    x, y = np.array([0.0, 2.0, 25.0, 150.0]), np.array([0.0, 5.0, 30.0, 1.0])
    direct = log_f(r, alpha, s, beta, x, y)
    np.testing.assert_allclose(log_f_integral(r, alpha, s, beta, x, y), direct, rtol=1e-10)
    m, c, z = r + s + x, r + x, (beta - alpha) / (beta + y)  # α < β: the second branch
    series = [_log_2f1_series(*v) for v in zip(m, c, z, strict=True)] - m * np.log(beta + y)
    np.testing.assert_allclose(direct, series, rtol=1e-10)
    # hyp2f1 overflows (value > 1e308) or fails (m > 170 near z = 1): log_f falls back to the integral
    x, y = np.array([600.0, 250.0, 3.0]), np.array([0.01, 0.02, 5.0])
    r, alpha, s, beta = 0.5, 0.01, 3e4, 5e5  # the last: s and β far out, as on data without lifetime heterogeneity
    m, c, z = r + s + x, r + x, (beta - alpha) / (beta + y)
    assert not np.isfinite(np.log(hyp2f1(m, c, m + 1, z))).all()  # these really break scipy
    want = [_log_2f1_series(*v, terms=4_000_000) for v in zip(m, c, z, strict=True)] - m * np.log(beta + y)
    np.testing.assert_allclose(log_f(r, alpha, s, beta, x, y), want, rtol=1e-10)


def test_recovers_the_parameters_within_four_standard_errors(simulated: pd.DataFrame) -> None:
    model = ParetoNBD().fit(simulated)
    est = np.array([model.params_[k] for k in TRUE])

    def nll(p: np.ndarray) -> float:
        return -float(_fixed(**dict(zip(TRUE, p, strict=True))).log_likelihood(simulated).sum())

    se = standard_errors(nll, est)
    assert np.all(np.abs(est - np.array(list(TRUE.values()))) < 4 * se), (est, se)
    assert model.fit_report_.converged and model.fit_report_.agreeing_starts >= 2


def test_conditional_expectations_match_the_simulated_holdout(simulated: pd.DataFrame) -> None:
    expected = _fixed(**TRUE).expected_purchases(simulated, 39.0)
    actual = simulated["frequency_holdout"]
    assert abs(actual.sum() - expected.sum()) < 4 * np.sqrt(((actual - expected) ** 2).sum())
    sim = simulate_paretonbd(**TRUE, durations=np.full(100_000, 52.0), seed=8)
    se = sim["frequency"].std() / np.sqrt(len(sim))
    assert _fixed(**TRUE).expected_purchases_new(52.0) == pytest.approx(sim["frequency"].mean(), abs=4 * se)


def test_predictions_by_hand_and_the_s_equal_one_limit() -> None:
    data = pd.DataFrame({"frequency": [0, 4], "recency": [0.0, 10.0], "T": [30.0, 30.0]}, index=["a", "b"])
    m = _fixed(**TRUE)
    p = m.p_alive(data)
    assert 0 < p["b"] < p["a"] < 1
    r, alpha, s, beta = TRUE.values()
    per = (r + 4) / (alpha + 30) * (beta + 30) / (s - 1) * (1 - ((beta + 30) / (beta + 30 + 10)) ** (s - 1))
    assert m.expected_purchases(data, 10.0)["b"] == pytest.approx(p["b"] * per, rel=1e-12)
    one = _fixed(r=r, alpha=alpha, s=1.0, beta=beta)
    near = _fixed(r=r, alpha=alpha, s=1.0 + 1e-7, beta=beta)
    assert one.expected_purchases_new(20.0) == pytest.approx(near.expected_purchases_new(20.0), rel=1e-6)
    with pytest.raises(NotFittedError):
        ParetoNBD().expected_purchases_new(1.0)
