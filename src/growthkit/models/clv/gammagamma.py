"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005b), fit by maximum likelihood.

Assumptions:

1. A customer's transaction values vary around their own mean: each value is
   Gamma(p, ν) (shape p, rate ν), so the mean of x values, m̄, is Gamma(px, νx).
2. ν varies across customers as Gamma(q, γ).
3. Spend is independent of the purchase process (how often and how long a
   customer buys): check that frequency and monetary value are roughly
   uncorrelated among repeat buyers (``frequency_spend_corr_``).

The model is fit on the customers with at least one repeat purchase, on the mean
of their repeat transactions (the first purchase is excluded, as in the paper).
Marginal likelihood of m̄ for a customer with x transactions (eq. 3 of the paper)::

    f(m̄ | p, q, γ; x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q m̄^(px-1) x^(px) / (γ + m̄ x)^(px+q)

Conditional expected average transaction value (eq. 4), a weighted mean of the
population mean pγ/(q-1) and the customer's own m̄::

    E[M | p, q, γ, m̄, x] = (pγ + p x m̄) / (p x + q - 1)

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005b). RFM and CLV: using iso-value curves for
customer base analysis. Journal of Marketing Research 42(4), 415-430.

Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
http://brucehardie.com/notes/025/
"""

from __future__ import annotations

import logging
import time
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import digamma, gammaln

from growthkit.errors import ConfigError
from growthkit.models.clv._optim import (
    Array,
    Collapsed,
    Estimator,
    RFMData,
    as_frame,
    column,
    dot,
    sample_weights,
)

log = logging.getLogger(__name__)

PARAMS: tuple[str, ...] = ("p", "q", "gamma")


def _objective(theta: Array, x: Array, m: Array, w: Array, n: float) -> tuple[float, Array]:
    """Mean negative log-likelihood and its gradient in log parameters."""
    p, q, g = np.exp(theta)
    px = p * x
    lxm = np.log(g + m * x)
    ll = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + (px - 1.0) * np.log(m) + px * np.log(x)
    ll -= (px + q) * lxm
    psi = digamma(px + q)
    g_p = dot(w, x * (psi - digamma(px) + np.log(m) + np.log(x) - lxm))
    g_q = dot(w, psi - digamma(q) + np.log(g) - lxm)
    g_g = dot(w, q / g - (px + q) / (g + m * x))
    grad = np.array([g_p, g_q, g_g]) * np.array([p, q, g])
    return -dot(w, ll) / n, -grad / n


class GammaGamma(Estimator):
    """Gamma-Gamma model: each customer's expected spend per transaction, shrunk towards the population mean.

    Parameters
    ----------
    n_starts, max_iter, tol, random_state
        As for :class:`~growthkit.models.clv.BGNBD`.

    Attributes
    ----------
    p_, q_, gamma_ : float
        The fitted parameters.
    params_ : dict[str, float]
    log_likelihood_ : float
    n_customers_ : float
        Repeat buyers the model was fit on.
    frequency_spend_corr_ : float
        Pearson correlation of frequency and monetary value among them (the model assumes
        independence; values far from 0 are a warning sign).
    fit_report_ : FitReport

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"frequency": [1, 2, 5, 3, 1, 4, 2, 6],
    ...                      "monetary_value": [20.0, 35.0, 28.0, 15.0, 60.0, 22.0, 41.0, 30.0]})
    >>> model = GammaGamma().fit(data)
    >>> spend = model.expected_spend(data)
    >>> bool(spend.between(15, 60).all())
    True
    """

    p_: float
    q_: float
    gamma_: float

    def fit(self, data: RFMData, y: Any = None, *, sample_weight: npt.ArrayLike | None = None) -> Self:
        """Fit p, q, γ on the customers with ``frequency > 0`` and a positive ``monetary_value``.

        Raises
        ------
        SchemaError
            ``frequency`` or ``monetary_value`` is missing.
        ConfigError
            Invalid options, or no repeat buyer with a positive monetary value.
        """
        t0 = time.perf_counter()
        self._check_options()
        frame = as_frame(data)
        x = column(frame, "frequency")
        if "monetary_value" not in frame.columns:
            column(frame, "monetary_value")  # raises, naming the column
        m = frame["monetary_value"].to_numpy(dtype=np.float64)
        w = sample_weights(sample_weight, len(x))
        keep = (x > 0) & np.isfinite(m) & (m > 0) & (w > 0)
        if not keep.any():
            raise ConfigError(
                "the Gamma-Gamma model needs customers with repeat purchases and a positive monetary value; "
                "there are none (are purchase amounts recorded?)"
            )
        x, m, w = x[keep], m[keep], w[keep]
        g = pd.DataFrame({"x": x, "m": m, "w": w}).groupby(["x", "m"], sort=False)["w"].sum().reset_index()
        cx, cm, cw = (g[k].to_numpy(dtype=np.float64) for k in ("x", "m", "w"))
        c = Collapsed(cx, cm, cm, cw)  # tx/T slots carry m: only the counts are used by run_fit
        n = c.n_customers
        mean = dot(cw, cm) / n
        base = np.log(np.array([1.0, 2.0, max(mean, 1e-6)]))
        self._fit_params(PARAMS, lambda th: _objective(th, cx, cm, cw, n), base, c, jac=True, t0=t0)
        self.frequency_spend_corr_ = float(np.corrcoef(x, m)[0, 1]) if len(x) > 2 and np.ptp(x) > 0 else float("nan")
        if self.q_ <= 1.0:
            log.warning("Gamma-Gamma: q = %.3g <= 1, so the population mean spend is infinite", self.q_)
        return self

    @property
    def mean_spend_(self) -> float:
        """Population mean spend per transaction, pγ/(q-1) (infinite when q <= 1)."""
        self._check_fitted()
        return self.p_ * self.gamma_ / (self.q_ - 1.0) if self.q_ > 1.0 else float("inf")

    def expected_spend(self, data: RFMData) -> pd.Series:
        """Conditional expected spend per transaction of each customer, (pγ + p x m̄)/(p x + q - 1).

        Customers without repeat purchases (or without a known monetary value) get the
        population mean pγ/(q-1).
        """
        self._check_fitted()
        frame = as_frame(data)
        x = column(frame, "frequency")
        has_m = "monetary_value" in frame.columns
        m = frame["monetary_value"].to_numpy(dtype=np.float64) if has_m else np.zeros(len(x))
        known = (x > 0) & np.isfinite(m) & (m > 0)
        p, q, g = self.p_, self.q_, self.gamma_
        xs, ms = np.where(known, x, 0.0), np.where(known, m, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (p * g + p * xs * ms) / (p * xs + q - 1.0)
        value = np.where(known, value, self.mean_spend_)
        return pd.Series(value, index=frame.index, name="expected_spend")

    def log_likelihood(self, data: RFMData) -> pd.Series:
        """Log-likelihood of each repeat buyer's mean spend (NaN for the others)."""
        self._check_fitted()
        frame = as_frame(data)
        x = column(frame, "frequency")
        m = frame["monetary_value"].to_numpy(dtype=np.float64)
        p, q, g = self.p_, self.q_, self.gamma_
        ok = (x > 0) & np.isfinite(m) & (m > 0)
        xs, ms = np.where(ok, x, 1.0), np.where(ok, m, 1.0)
        px = p * xs
        ll = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + (px - 1.0) * np.log(ms) + px * np.log(xs)
        ll -= (px + q) * np.log(g + ms * xs)
        return pd.Series(np.where(ok, ll, np.nan), index=frame.index, name="log_lik")
