"""BG/NBD expectations stay finite when the fit runs off to huge a, b (no dropout heterogeneity).

On data such as the Instacart sample the likelihood keeps rising as a and b grow together, so
the fit ends at values like a = 7.5e4, b = 3.3e6. The posterior of the dropout probability p
is then a spike at a / (a + b + x); the expectation must approach the one with p fixed there,
instead of overflowing (SciPy's Jacobi nodes overflow for such exponents).
"""

from __future__ import annotations

import numpy as np

from growthkit.models.clv.bgnbd import conditional_alive_purchases


def fixed_p(r: float, alpha: float, p: float, x: float, age: float, t: float) -> float:
    # E[(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p] with p known: the integrand at one point
    return float(-np.expm1(-(r + x) * np.log1p(p * t / (alpha + age))) / p)


def test_huge_a_b_match_the_fixed_dropout_limit() -> None:
    r, alpha, a, b, t = 4.06, 5.60, 75_076.0, 3_269_017.0, 13.14
    x = np.array([7.0, 20.0, 50.0])
    age = np.array([30.0, 39.0, 39.0])
    got = conditional_alive_purchases(r, alpha, a, b, x, age, t)
    assert np.all(np.isfinite(got))
    want = [fixed_p(r, alpha, a / (a + b + xi), xi, ti, t) for xi, ti in zip(x, age, strict=True)]
    # posterior sd of p is ~1e-5 of a mean of ~0.022: the spike's width changes the value by < 1e-6
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_moderate_parameters_agree_between_closed_form_and_quadrature() -> None:
    # a = 0.79, b = 2.43 (CDNOW's fit): the hypergeometric closed form is used; the quadrature
    # fallback must give the same expectation for the same inputs.
    from growthkit.models.clv.bgnbd import _alive_purchases_quadrature

    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    closed = conditional_alive_purchases(r, alpha, a, b, np.array([2.0]), np.array([30.0]), 39.0)[0]
    quad = _alive_purchases_quadrature(r, alpha, a, b, 2.0, 30.0, 39.0)
    assert abs(closed - quad) / closed < 1e-6
