"""Gamma-Gamma: recovery from simulated spend, the gradient, the conditional expectation by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime

from growthkit.errors import ConfigError, NotFittedError
from growthkit.models.clv import GammaGamma, simulate_spend
from growthkit.models.clv.gammagamma import _objective

from .conftest import standard_errors

TRUE = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def repeaters() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    x = rng.geometric(0.35, 20_000)
    return pd.DataFrame({"frequency": x, "monetary_value": simulate_spend(**TRUE, frequency=x, seed=12)})


def _fixed(p: float, q: float, gamma: float) -> GammaGamma:
    m = GammaGamma()
    m.p_, m.q_, m.gamma_ = p, q, gamma
    m.params_ = {"p": p, "q": q, "gamma": gamma}
    return m


def test_recovers_the_parameters_within_four_standard_errors(repeaters: pd.DataFrame) -> None:
    model = GammaGamma().fit(repeaters)
    est = np.array([model.params_[k] for k in TRUE])
    se = standard_errors(lambda v: -float(_fixed(*v).log_likelihood(repeaters).sum()), est)
    assert np.all(np.abs(est - np.array(list(TRUE.values()))) < 4 * se), (est, se)
    assert abs(model.frequency_spend_corr_) < 0.05  # simulated spend is independent of frequency
    assert model.mean_spend_ == pytest.approx(model.p_ * model.gamma_ / (model.q_ - 1))


def test_gradient_matches_finite_differences(repeaters: pd.DataFrame) -> None:
    x, m = repeaters["frequency"].to_numpy(float), repeaters["monetary_value"].to_numpy()
    w = np.ones(len(x))
    theta = np.log([3.0, 5.0, 20.0])
    numeric = approx_fprime(theta, lambda th: _objective(th, x, m, w, len(x))[0], 1e-7)
    np.testing.assert_allclose(_objective(theta, x, m, w, len(x))[1], numeric, rtol=1e-4, atol=1e-7)


def test_expected_spend_shrinks_towards_the_population_mean() -> None:
    model = _fixed(**TRUE)
    data = pd.DataFrame(
        {"frequency": [0, 1, 20, 2], "monetary_value": [0.0, 100.0, 100.0, np.nan]},
        index=["new", "once", "often", "unknown"],
    )
    spend = model.expected_spend(data)
    p, q, g = TRUE.values()
    assert spend["new"] == spend["unknown"] == pytest.approx(p * g / (q - 1))
    assert spend["once"] == pytest.approx((p * g + p * 1 * 100) / (p * 1 + q - 1))
    assert spend["new"] < spend["once"] < spend["often"] < 100  # more transactions: closer to their own mean


def test_needs_repeat_buyers_with_amounts() -> None:
    with pytest.raises(ConfigError, match="repeat purchases and a positive monetary value"):
        GammaGamma().fit(pd.DataFrame({"frequency": [0, 2], "monetary_value": [0.0, np.nan]}))
    with pytest.raises(NotFittedError):
        GammaGamma().expected_spend(pd.DataFrame({"frequency": [1], "monetary_value": [3.0]}))
