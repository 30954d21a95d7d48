"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), fit by maximum likelihood.

Assumptions (for a customer observed from the first purchase at time 0 to T):

1. While alive, a customer buys according to a Poisson process with rate λ.
2. λ varies across customers as Gamma(r, α).
3. Each customer's unobserved lifetime is exponential with rate μ.
4. μ varies across customers as Gamma(s, β).
5. λ and μ are independent.

Likelihood (Fader & Hardie 2005 note, eq. 22), in logs::

    L = Γ(r+x) α^r β^s / Γ(r) · [ 1 / ((α+T)^(r+x) (β+T)^s) + s/(r+s+x) · A0 ]
    A0 = F(t_x) - F(T),   F(y) = ₂F₁(r+s+x, c; r+s+x+1; z(y)) / (m(y))^(r+s+x)

with, when α >= β, ``c = s+1``, ``z = (α-β)/(α+y)``, ``m = α+y`` and otherwise
``c = r+x``, ``z = (β-α)/(β+y)``, ``m = β+y``. The branch keeps ``0 <= z < 1``,
where every term of the hypergeometric series is positive. ``log F`` is computed
directly (SciPy's ``hyp2f1``), ``log A0 = log F(t_x) + log1p(-exp(log F(T) - log F(t_x)))``
and the bracket with ``logaddexp``, so nothing overflows. Where ``hyp2f1`` overflows
or fails, and whenever r+s+x >= 100 (a heavy buyer, or s and β running off to
infinity when the data show no heterogeneity in lifetimes), ``log F`` comes from its
integral ``F(y) = (r+s+x) ∫_y^∞ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ`` by double-exponential
quadrature instead (:func:`log_f_integral`).

F depends on (x, y) only, so it is computed once per distinct (x, t_x) and (x, T):
a few thousand evaluations per likelihood even for a million customers.

References
----------
Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: who are
they and what will they do next? Management Science 33(1), 1-24.

Fader, P. S. & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and related
expressions. http://brucehardie.com/notes/009/
"""

from __future__ import annotations

import logging
import time
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import gammaln, hyp2f1

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

PARAMS: tuple[str, ...] = ("r", "alpha", "s", "beta")


_STEP = 1.0 / 16.0
_NODES = np.arange(-4.5, 4.5 + _STEP / 2, _STEP)
_U = np.exp(np.pi / 2 * np.sinh(_NODES))
_W = _STEP * np.pi / 2 * np.cosh(_NODES) * _U


def log_f_integral(r: float, alpha: float, s: float, beta: float, x: Array, y: Array) -> Array:
    """log F(y) from its integral, F(y) = (r+s+x) ∫_y^∞ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ, by exp-sinh quadrature.

    With τ = y + u the integrand is ``(α+y)^-(r+x) (β+y)^-(s+1) exp(-h(u))``, ``0 < exp(-h) <= 1``;
    the double-exponential nodes u = exp(π/2 sinh t), t in [-4.5, 4.5] step 1/16, resolve every scale
    from 1e-30 to 1e30. Relative error about 1e-12 when r+s+x >= 5 (the cases SciPy's ``hyp2f1``
    cannot handle), 1e-7 for r+s+x below 1.
    """
    k1, k2 = r + x, s + 1.0
    a1, b1 = alpha + y, beta + y
    h = k1[:, None] * np.log1p(_U[None, :] / a1[:, None]) + k2 * np.log1p(_U[None, :] / b1[:, None])
    integral = np.exp(-h) @ _W
    return np.asarray(np.log(r + s + x) - k1 * np.log(a1) - k2 * np.log(b1) + np.log(integral), dtype=np.float64)


LARGE_M = 100.0
"""From r+s+x = LARGE_M on, log F comes from the integral: SciPy's ``hyp2f1`` gets slow there near
z = 1 (tens of microseconds a value) and fails beyond about 170."""


def log_f(r: float, alpha: float, s: float, beta: float, x: Array, y: Array) -> Array:
    """log F(y) of the module docstring for each (x, y)."""
    m = r + s + x
    if alpha >= beta:
        c = np.full_like(x, s + 1.0)
        lead = alpha + y
        z = (alpha - beta) / lead
    else:
        c = r + x
        lead = beta + y
        z = (beta - alpha) / lead
    out = np.empty(len(x))
    small = m < LARGE_M
    with np.errstate(all="ignore"):
        h = hyp2f1(m[small], c[small], m[small] + 1.0, z[small])
        out[small] = np.log(h) - m[small] * np.log(lead[small])
    bad = ~small
    bad[small] = ~np.isfinite(out[small]) | (h < 1.0)  # every series term is >= 0: the value is at least 1
    if bad.any():
        out[bad] = log_f_integral(r, alpha, s, beta, x[bad], y[bad])
    return out


def _levels(index: Any) -> tuple[Array, Array]:
    """The two levels of a factorized MultiIndex as float arrays."""
    return (np.asarray(index.get_level_values(0), dtype=np.float64), np.asarray(index.get_level_values(1), np.float64))


class _Data:
    """Collapsed customers with the distinct x, (x, t_x) and (x, T) they need."""

    def __init__(self, c: Collapsed) -> None:
        self.c = c
        self.ux, ix = np.unique(c.x, return_inverse=True)
        self.wx = np.bincount(ix, weights=c.w)
        p1 = pd.MultiIndex.from_arrays([c.x, c.tx])
        p2 = pd.MultiIndex.from_arrays([c.x, c.T])
        self.i1, u1 = p1.factorize()
        self.i2, u2 = p2.factorize()
        self.x1, self.y1 = _levels(u1)
        self.x2, self.y2 = _levels(u2)
        self.uT, self.iT = np.unique(c.T, return_inverse=True)


def _terms(
    r: float, alpha: float, s: float, beta: float, x: Array, log_f1: Array, log_f2: Array, age: Array
) -> tuple[Array, Array]:
    """(log of the alive-at-T term, log of the s/(r+s+x)·A0 term) per customer."""
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.minimum(log_f2 - log_f1, 0.0)
        log_a0 = log_f1 + np.log(-np.expm1(gap))
    alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    gone = np.log(s) - np.log(r + s + x) + log_a0
    return alive, gone


def _objective(theta: Array, d: _Data) -> float:
    """Mean negative log-likelihood at log parameters ``theta``."""
    r, alpha, s, beta = np.exp(theta)
    c = d.c
    lf1 = log_f(r, alpha, s, beta, d.x1, d.y1)[d.i1]
    lf2 = log_f(r, alpha, s, beta, d.x2, d.y2)[d.i2]
    alive, gone = _terms(r, alpha, s, beta, c.x, lf1, lf2, c.T)
    head = gammaln(r + d.ux) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    ll = dot(d.wx, head) + dot(c.w, logaddexp(alive, gone))
    return -ll / c.n_customers if np.isfinite(ll) else np.inf


def _start(c: Collapsed) -> Array:
    """A data-driven first start: r = 1, α from the mean purchase rate, s = 1, β = the mean T."""
    rate = dot(c.w, c.x / np.maximum(c.T, 1e-9)) / c.n_customers
    mean_t = dot(c.w, c.T) / c.n_customers
    return np.log(np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, max(mean_t, 1e-3)], dtype=np.float64))


class ParetoNBD(Estimator):
    """Pareto/NBD model: Poisson purchasing while alive, exponential lifetimes, gamma heterogeneity in both.

    Parameters
    ----------
    n_starts, max_iter, tol, random_state
        As for :class:`~growthkit.models.clv.BGNBD` (L-BFGS-B on central-difference gradients here).

    Attributes
    ----------
    r_, alpha_, s_, beta_ : float
        The fitted parameters (see the module docstring).
    params_ : dict[str, float]
    log_likelihood_ : float
    n_customers_ : float
    fit_report_ : FitReport

    Examples
    --------
    >>> from growthkit.models.clv import ParetoNBD, simulate_paretonbd
    >>> data = simulate_paretonbd(r=0.55, alpha=10.0, s=0.6, beta=12.0, durations=[39.0] * 3000, seed=1)
    >>> model = ParetoNBD(n_starts=1).fit(data)
    >>> bool(model.p_alive(data).between(0, 1).all())
    True
    """

    r_: float
    alpha_: float
    s_: float
    beta_: float

    def fit(self, data: RFMData, y: Any = None, *, sample_weight: npt.ArrayLike | None = None) -> Self:
        """Fit r, α, s, β by maximum likelihood on the customers' (frequency, recency, T).

        Raises
        ------
        SchemaError
            Missing columns or impossible values.
        ConfigError
            Invalid options, or no customer in the data.
        """
        t0 = time.perf_counter()
        c = self._collapse_rfm(data, sample_weight, "Pareto/NBD")
        d = _Data(c)
        self._fit_params(PARAMS, lambda th: _objective(th, d), _start(c), c, jac="3-point", t0=t0)
        if self.s_ > 1e3:
            log.warning(
                "Pareto/NBD: s = %.3g: the data show no heterogeneity in lifetimes; only s/β = %.3g (the mean "
                "dropout rate) is identified, not s and β separately",
                self.s_,
                self.s_ / self.beta_,
            )
        return self

    def _p(self) -> tuple[float, float, float, float]:
        self._check_fitted()
        return self.r_, self.alpha_, self.s_, self.beta_

    def _branches(self, data: RFMData) -> tuple[RFMArrays, Array, Array, Array]:
        r, alpha, s, beta = self._p()
        d = RFMArrays.from_data(data)
        lf1 = log_f(r, alpha, s, beta, d.frequency, d.recency)
        lf2 = log_f(r, alpha, s, beta, d.frequency, d.T)
        alive, gone = _terms(r, alpha, s, beta, d.frequency, lf1, lf2, d.T)
        head = gammaln(r + d.frequency) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        return d, alive, gone, head

    def log_likelihood(self, data: RFMData) -> pd.Series:
        """Each customer's log-likelihood under the fitted parameters (index: user ids)."""
        d, alive, gone, head = self._branches(data)
        return pd.Series(head + logaddexp(alive, gone), index=d.ids, name="log_lik")

    def score(self, data: RFMData, y: Any = None) -> float:
        """Mean log-likelihood per customer (higher is better)."""
        return float(self.log_likelihood(data).mean())

    def p_alive(self, data: RFMData) -> pd.Series:
        """P(alive at T | x, t_x, T) = 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A0) per customer."""
        d, alive, gone, _ = self._branches(data)
        return pd.Series(np.exp(alive - logaddexp(alive, gone)), index=d.ids, name="p_alive")

    def expected_purchases(self, data: RFMData, t: float) -> pd.Series:
        """Expected purchases in the next ``t``: P(alive) · (r+x)(β+T) / ((α+T)(s-1)) · [1 - ((β+T)/(β+T+t))^(s-1)]."""
        r, alpha, s, beta = self._p()
        _check_t(t)
        d = RFMArrays.from_data(data)
        alive_rate = (r + d.frequency) / (alpha + d.T)
        per = alive_rate * (beta + d.T) * _lifetime_factor(s, np.log1p(t / (beta + d.T)))
        return pd.Series(per * self.p_alive(data).to_numpy(), index=d.ids, name="expected_purchases")

    def expected_purchases_new(self, t: float) -> float:
        """Expected purchases in ``t`` after the first, for a new customer: rβ/(α(s-1)) · [1 - (β/(β+t))^(s-1)]."""
        r, alpha, s, beta = self._p()
        _check_t(t)
        return float(r / alpha * beta * _lifetime_factor(s, np.log1p(np.array([t / beta], dtype=np.float64)))[0])


def _lifetime_factor(s: float, log_ratio: Array) -> Array:
    """[1 - exp(-(s-1) L)] / (s-1) with L = log((β+T+t)/(β+T)); L itself in the limit s = 1."""
    if abs(s - 1.0) < 1e-9:
        return np.asarray(log_ratio, dtype=np.float64)
    return np.asarray(-np.expm1(-(s - 1.0) * log_ratio) / (s - 1.0), dtype=np.float64)


def _check_t(t: float) -> None:
    if not (np.isfinite(t) and t >= 0):
        raise ConfigError(f"the prediction horizon t must be a finite number >= 0, got {t!r}")
