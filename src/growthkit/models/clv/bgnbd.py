"""The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005), fit by maximum likelihood.

Assumptions (for a customer observed from the first purchase at time 0 to T):

1. While alive, a customer buys according to a Poisson process with rate λ.
2. λ varies across customers as Gamma(r, α) (shape r, rate α).
3. After every repeat purchase the customer becomes inactive ("dies") with
   probability p, for good; death is unobserved.
4. p varies across customers as Beta(a, b).
5. λ and p are independent of each other and across customers.

Likelihood of one customer with x repeat purchases, the last at t_x, observed for T
(Fader, Hardie & Lee 2005, eq. 6), in the log-space form used here::

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

Conditional expectation of the purchases in the next t (eq. 10) and probability
of being alive (Fader, Hardie & Lee 2008 note) are computed with the Euler
transformation of the Gaussian hypergeometric function, which keeps every term
bounded; where SciPy's ``hyp2f1`` still fails the expectation is integrated over
the Beta posterior of p by Gauss-Jacobi quadrature instead.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy
way: an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2008). Computing P(alive) using the BG/NBD
model. http://brucehardie.com/notes/021/
"""

from __future__ import annotations

import logging
import time
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import digamma, expit, gammaln, hyp2f1, roots_jacobi

from growthkit.errors import ConfigError
from growthkit.models.clv._optim import (
    Array,
    Collapsed,
    Estimator,
    RFMArrays,
    RFMData,
    dot,
    logaddexp,
)

log = logging.getLogger(__name__)

PARAMS: tuple[str, ...] = ("r", "alpha", "a", "b")


class _Data:
    """Collapsed customers split into those without and with repeat purchases, with the index arrays
    that let each term be computed once per distinct x, T and t_x."""

    def __init__(self, c: Collapsed) -> None:
        self.n = c.n_customers
        self.ux, ix = np.unique(c.x, return_inverse=True)
        self.wx = np.bincount(ix, weights=c.w)
        rep = c.x > 0
        self.w0, self.T0 = c.w[~rep], c.T[~rep]
        self.w, self.x = c.w[rep], c.x[rep]
        self.ix = ix[rep]
        self.uT, self.iT = np.unique(c.T[rep], return_inverse=True)
        self.utx, self.itx = np.unique(c.tx[rep], return_inverse=True)


def _objective(theta: Array, d: _Data) -> tuple[float, Array]:
    """Mean negative log-likelihood and its gradient in log parameters.

    Per customer ``ll = A1 + A2 + A3 + log(1 + exp(D))`` with ``D = A4 - A3`` for repeat buyers
    (the two branches of eq. 6: still alive at T, or gone right after the last purchase) and
    ``A1 + A2 + A3`` without repeats; ``π = sigmoid(D)`` is the posterior weight of "gone".
    """
    r, alpha, a, b = np.exp(theta)
    ux, wx = d.ux, d.wx
    # terms that depend on x only (A1, A2 of the paper)
    a12 = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + ux) - gammaln(b)
    a12 -= gammaln(a + b + ux)
    # customers without repeat purchases: A3 = -r log(α+T)
    log_t0 = np.log(alpha + d.T0)
    ll = dot(wx, a12) - r * dot(d.w0, log_t0)
    g_r = -dot(d.w0, log_t0)
    g_alpha = -r * dot(d.w0, 1.0 / (alpha + d.T0))
    # repeat buyers
    with np.errstate(divide="ignore", invalid="ignore"):
        log_bx = np.log(b + ux - 1.0)
        inv_bx = np.where(ux > 0, 1.0 / (b + ux - 1.0), 0.0)
    inv_t = (1.0 / (alpha + d.uT))[d.iT]
    inv_tx = (1.0 / (alpha + d.utx))[d.itx]
    log_t = np.log(alpha + d.uT)[d.iT]
    log_tx = np.log(alpha + d.utx)[d.itx]
    rx = r + d.x
    diff = np.log(a) - log_bx[d.ix] + rx * (log_t - log_tx)
    ll += dot(d.w, _softplus(diff) - rx * log_t)
    wpi = d.w * expit(diff)
    g_r += dot(wx, digamma(r + ux) - digamma(r) + np.log(alpha)) - dot(d.w, log_t) + dot(wpi, log_t - log_tx)
    g_alpha += float(wx.sum()) * r / alpha - dot(d.w * rx, inv_t) + dot(wpi * rx, inv_t - inv_tx)
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + ux)
    g_a = dot(wx, psi_ab - psi_abx) + float(wpi.sum()) / a
    g_b = dot(wx, psi_ab + digamma(b + ux) - digamma(b) - psi_abx) - dot(wpi, inv_bx[d.ix])
    grad = np.array([g_r, g_alpha, g_a, g_b]) * np.array([r, alpha, a, b])
    return -ll / d.n, -grad / d.n


def _softplus(v: Array) -> Array:
    """log(1 + exp(v)), without overflow."""
    return np.asarray(np.maximum(v, 0.0) + np.log1p(np.exp(-np.abs(v))), dtype=np.float64)


def _start(c: Collapsed) -> Array:
    """A data-driven first start: r = 1, α from the mean purchase rate, a = 1, b = 3."""
    rate = dot(c.w, c.x / np.maximum(c.T, 1e-9)) / c.n_customers
    return np.log(np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, 3.0], dtype=np.float64))


def conditional_alive_purchases(r: float, alpha: float, a: float, b: float, x: Array, age: Array, t: float) -> Array:
    """E[purchases in (T, T+t] | alive at T, x, T]: the BG/NBD expectation before weighting by P(alive).

    Uses ``(a+b+x-1)/(a-1) · [1 - (1-z)^(a-1) ₂F₁(a+b-1-r, a-1; a+b+x-1; z)]`` with
    ``z = t/(α+T+t)`` (the Euler transform of eq. 10), and Gauss-Jacobi quadrature over the
    Beta(a, b+x) posterior of p where that is not finite or a is too close to 1.
    """
    x = np.asarray(x, dtype=np.float64)
    age = np.asarray(age, dtype=np.float64)
    z = t / (alpha + age + t)
    with np.errstate(all="ignore"):
        h = np.exp((a - 1.0) * np.log1p(-z)) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
        out = (a + b + x - 1.0) / (a - 1.0) * (1.0 - h)
    bad = ~np.isfinite(out) | (out < 0) | (abs(a - 1.0) < 1e-4)
    if bad.any():
        out = np.where(bad, 0.0, out)
        for i in np.flatnonzero(bad):
            out[i] = _alive_purchases_quadrature(r, alpha, a, b, float(x[i]), float(age[i]), t)
    return np.asarray(out, dtype=np.float64)


def _alive_purchases_quadrature(r: float, alpha: float, a: float, b: float, x: float, age: float, t: float) -> float:
    """E_p[(1 - ((α+T)/(α+T+p t))^(r+x)) / p] with p ~ Beta(a, b+x), by 400-point Gauss-Jacobi.

    When a + b is so large that the Jacobi nodes overflow (the posterior of p is then a
    narrow peak: the data identify only the mean dropout a/(a+b)), the Beta density is
    integrated in log space by Gauss-Legendre over mean ± 12 standard deviations instead.
    """

    def f(p: Array) -> Array:
        return np.asarray(-np.expm1(-(r + x) * np.log1p(p * t / (alpha + age))) / p, dtype=np.float64)

    if a + b + x < 1e4:
        with np.errstate(all="ignore"):
            u, wts = roots_jacobi(400, b + x - 1.0, a - 1.0)
            p = (1.0 + u) / 2.0
            value = float(np.sum(f(p) * wts) / np.sum(wts))
        if np.isfinite(value):
            return value
    bb = b + x
    mean = a / (a + bb)
    sd = np.sqrt(mean * (1.0 - mean) / (a + bb + 1.0))
    lo, hi = max(mean - 12.0 * sd, 1e-300), min(mean + 12.0 * sd, 1.0 - 1e-16)
    u, wts = np.polynomial.legendre.leggauss(200)
    p = lo + (hi - lo) * (u + 1.0) / 2.0
    log_density = (a - 1.0) * np.log(p) + (bb - 1.0) * np.log1p(-p)
    w = wts * np.exp(log_density - log_density.max())
    return float(np.sum(f(p) * w) / np.sum(w))


class BGNBD(Estimator):
    """Beta-geometric/NBD model: how many purchases a customer will make, and whether they are still active.

    Parameters
    ----------
    n_starts
        Optimisation starts (a data-driven one, all parameters 1, then random points around
        the first); the best optimum is kept.
    max_iter
        L-BFGS-B iterations per start.
    tol
        Relative tolerance on the mean log-likelihood.
    random_state
        Seed of the random starts.

    Attributes
    ----------
    r_, alpha_, a_, b_ : float
        The fitted parameters (see the module docstring).
    params_ : dict[str, float]
        The same, by name.
    log_likelihood_ : float
        Total log-likelihood at the optimum (weighted by ``sample_weight``).
    n_customers_ : float
        Customers (sum of weights) in the fit.
    fit_report_ : FitReport
        Every start's result, the number of distinct (x, t_x, T) triplets and the time taken.

    Notes
    -----
    Time is in the unit of the data (weeks for the CDNOW summaries). Customers with the
    same (frequency, recency, T) are collapsed before the fit.

    Examples
    --------
    >>> from growthkit.models.clv import BGNBD, simulate_bgnbd
    >>> data = simulate_bgnbd(r=0.25, alpha=4.0, a=0.8, b=2.5, durations=[39.0] * 5000, seed=1)
    >>> model = BGNBD().fit(data)
    >>> round(model.r_, 1), bool(model.p_alive(data).between(0, 1).all())
    (0.2, True)
    """

    r_: float
    alpha_: float
    a_: float
    b_: float

    def fit(self, data: RFMData, y: Any = None, *, sample_weight: npt.ArrayLike | None = None) -> Self:
        """Fit r, α, a, b by maximum likelihood on the customers' (frequency, recency, T).

        Raises
        ------
        SchemaError
            Missing columns or impossible values (negative frequency, recency above T, ...).
        ConfigError
            Invalid options, or no customer in the data.
        """
        t0 = time.perf_counter()
        c = self._collapse_rfm(data, sample_weight, "BG/NBD")
        d = _Data(c)
        self._fit_params(PARAMS, lambda th: _objective(th, d), _start(c), c, jac=True, t0=t0)
        if min(self.a_, self.b_) > 1e3:
            log.warning(
                "BG/NBD: a = %.3g, b = %.3g: the data show no heterogeneity in dropout; only a/(a+b) = %.3g "
                "(the mean dropout probability) is identified, not a and b separately",
                self.a_,
                self.b_,
                self.a_ / (self.a_ + self.b_),
            )
        return self

    def _p(self) -> tuple[float, float, float, float]:
        self._check_fitted()
        return self.r_, self.alpha_, self.a_, self.b_

    def log_likelihood(self, data: RFMData) -> pd.Series:
        """Each customer's log-likelihood under the fitted parameters (index: user ids)."""
        r, alpha, a, b = self._p()
        arr = RFMArrays.from_data(data)
        x, tx, age = arr.frequency, arr.recency, arr.T
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        with np.errstate(divide="ignore", invalid="ignore"):
            a4 = np.where(x > 0, np.log(a) - np.log(b + x - 1.0) - (r + x) * np.log(alpha + tx), -np.inf)
        ll = a1 + a2 + logaddexp(-(r + x) * np.log(alpha + age), a4)
        return pd.Series(ll, index=arr.ids, name="log_lik")

    def score(self, data: RFMData, y: Any = None) -> float:
        """Mean log-likelihood per customer (higher is better)."""
        return float(self.log_likelihood(data).mean())

    def p_alive(self, data: RFMData) -> pd.Series:
        """P(still active at T | x, t_x, T) per customer: 1 / (1 + [x>0] a/(b+x-1) ((α+T)/(α+t_x))^(r+x))."""
        r, alpha, a, b = self._p()
        d = RFMArrays.from_data(data)
        x = d.frequency
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = np.log(a) - np.log(b + x - 1.0) + (r + x) * (np.log(alpha + d.T) - np.log(alpha + d.recency))
        p = np.where(x > 0, expit(-odds), 1.0)
        return pd.Series(p, index=d.ids, name="p_alive")

    def expected_purchases(self, data: RFMData, t: float) -> pd.Series:
        """Expected purchases of each customer in the next ``t`` time units (eq. 10 of the paper)."""
        r, alpha, a, b = self._p()
        _check_t(t)
        d = RFMArrays.from_data(data)
        pairs = pd.DataFrame({"x": d.frequency, "T": d.T})
        u = pairs.drop_duplicates()
        e = conditional_alive_purchases(r, alpha, a, b, u["x"].to_numpy(), u["T"].to_numpy(), float(t))
        per_pair = pd.Series(e, index=pd.MultiIndex.from_frame(u))
        cond = per_pair.reindex(pd.MultiIndex.from_frame(pairs)).to_numpy()
        return pd.Series(cond * self.p_alive(data).to_numpy(), index=d.ids, name="expected_purchases")

    def expected_purchases_new(self, t: float) -> float:
        """Expected repeat purchases in ``t`` time units after the first purchase, for a new customer."""
        r, alpha, a, b = self._p()
        _check_t(t)
        return float(conditional_alive_purchases(r, alpha, a, b, np.zeros(1), np.zeros(1), float(t))[0])


def _check_t(t: float) -> None:
    if not (np.isfinite(t) and t >= 0):
        raise ConfigError(f"the prediction horizon t must be a finite number >= 0, got {t!r}")
