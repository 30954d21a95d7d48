"""Simulators with known ground truth for the BG/NBD and Pareto/NBD models.

Each draws every customer's latent rate and dropout from the model's mixing
distributions and returns the calibration summary (frequency, recency, T) the
models are fit on, exactly as the model describes the data-generating process:

* BG/NBD: purchases arrive as a Poisson process with rate λ ~ Gamma(r, α);
  after each repeat purchase the customer drops out with probability
  p ~ Beta(a, b). With N ~ Poisson(λT) arrivals in (0, T] and K ~ Geometric(p)
  repeat purchases before dropout, x = min(N, K) and the x-th arrival time is
  T · Beta(x, N - x + 1) (an order statistic of N uniforms).
* Pareto/NBD: λ ~ Gamma(r, α) as above; the lifetime is τ ~ Exponential(μ) with
  μ ~ Gamma(s, β); x ~ Poisson(λ · min(τ, T)) and t_x is the largest of x uniform
  times in (0, min(τ, T)].

``resolution`` puts recency on a grid (e.g. 1/7 for whole days in weeks), as data
recorded per day would be, so that identical customers collapse: the first purchase
falls at a uniformly random time of its day, and recency is the difference of the
two purchase days (unbiased: rounding down alone would make every customer look
silent half a day longer).
``holdout`` (a length) adds ``frequency_holdout``: the purchases in (T, T + holdout]
of the same customers, for checking conditional forecasts against ground truth.

:func:`simulate_spend` draws the Gamma-Gamma model's mean transaction values.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from growthkit.errors import ConfigError


def _durations(durations: npt.ArrayLike) -> npt.NDArray[np.float64]:
    t = np.asarray(durations, dtype=np.float64).reshape(-1)
    if len(t) == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ConfigError("durations must be one or more finite observation lengths >= 0")
    return t


def _frame(
    x: npt.NDArray[np.int64],
    tx: npt.NDArray[np.float64],
    age: npt.NDArray[np.float64],
    resolution: float | None,
    rng: np.random.Generator,
) -> pd.DataFrame:
    if resolution is not None:
        if resolution <= 0:
            raise ConfigError(f"resolution must be positive, got {resolution}")
        offset = rng.uniform(0.0, 1.0, len(tx))  # the first purchase's time of day, in grid steps
        tx = np.floor(tx / resolution + offset) * resolution
    tx = np.where(x > 0, np.minimum(tx, age), 0.0)
    return pd.DataFrame({"frequency": x, "recency": tx, "T": age})


def _holdout_length(holdout: float | None) -> float | None:
    if holdout is not None and not (np.isfinite(holdout) and holdout > 0):
        raise ConfigError(f"holdout must be a positive length, got {holdout}")
    return holdout


def cohort_durations(
    n: int, *, calibration_days: int = 273, cohort_days: int = 84, unit_days: int = 7, seed: int | None = None
) -> npt.NDArray[np.float64]:
    """Observation lengths of ``n`` customers whose first purchase falls on one of the first ``cohort_days``
    days of a ``calibration_days``-day calibration period, in units of ``unit_days`` days (CDNOW: 273, 84, 7)."""
    rng = np.random.default_rng(seed)
    return np.asarray((calibration_days - rng.integers(0, cohort_days, n)) / unit_days, dtype=np.float64)


def simulate_bgnbd(
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    durations: npt.ArrayLike,
    seed: int | None = None,
    resolution: float | None = None,
    holdout: float | None = None,
) -> pd.DataFrame:
    """Simulate BG/NBD customers, each observed for one of ``durations`` (their T).

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T``; the index numbers the simulated customers.

    Examples
    --------
    >>> df = simulate_bgnbd(r=0.25, alpha=4.0, a=0.8, b=2.5, durations=[39.0] * 1000, seed=0)
    >>> list(df.columns), bool((df["recency"] <= df["T"]).all())
    (['frequency', 'recency', 'T'], True)
    """
    t = _durations(durations)
    rng = np.random.default_rng(seed)
    n = len(t)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    arrivals = rng.poisson(lam * t)
    before_dropout = rng.geometric(np.maximum(p, 1e-300))
    x = np.minimum(arrivals, before_dropout)
    xs = np.maximum(x, 1)
    tx = t * rng.beta(xs, np.maximum(arrivals - xs + 1, 1))
    out = _frame(x.astype(np.int64), tx, t, resolution, rng)
    length = _holdout_length(holdout)
    if length is not None:
        # alive at T when the dropout purchase was not among the calibration arrivals
        later = rng.poisson(lam * length)
        out["frequency_holdout"] = np.where(arrivals < before_dropout, np.minimum(later, before_dropout - arrivals), 0)
    return out


def simulate_paretonbd(
    *,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    durations: npt.ArrayLike,
    seed: int | None = None,
    resolution: float | None = None,
    holdout: float | None = None,
) -> pd.DataFrame:
    """Simulate Pareto/NBD customers, each observed for one of ``durations`` (their T).

    Examples
    --------
    >>> df = simulate_paretonbd(r=0.55, alpha=10.6, s=0.6, beta=11.7, durations=[39.0] * 1000, seed=0)
    >>> bool((df["frequency"] >= 0).all() and (df["recency"] <= df["T"]).all())
    True
    """
    t = _durations(durations)
    rng = np.random.default_rng(seed)
    n = len(t)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    with np.errstate(divide="ignore"):
        tau = rng.exponential(1.0 / np.maximum(mu, 1e-300))
    active = np.minimum(tau, t)
    x = rng.poisson(lam * active)
    tx = active * rng.beta(np.maximum(x, 1), 1.0)
    out = _frame(x.astype(np.int64), tx, t, resolution, rng)
    length = _holdout_length(holdout)
    if length is not None:
        out["frequency_holdout"] = rng.poisson(lam * np.clip(tau - t, 0.0, length))
    return out


def simulate_spend(
    *, p: float, q: float, gamma: float, frequency: npt.ArrayLike, seed: int | None = None
) -> npt.NDArray[np.float64]:
    """Mean transaction value of customers with ``frequency`` transactions under the Gamma-Gamma model.

    Each customer's rate ν ~ Gamma(q, γ); each transaction value ~ Gamma(p, ν), so the mean of x
    values is Gamma(px, xν). Customers with frequency 0 get 0.

    Examples
    --------
    >>> simulate_spend(p=6.0, q=4.0, gamma=15.0, frequency=[0, 3], seed=0)[0]
    np.float64(0.0)
    """
    x = np.asarray(frequency, dtype=np.float64).reshape(-1)
    if np.any(x < 0) or not np.all(np.isfinite(x)):
        raise ConfigError("frequency must be finite and >= 0")
    rng = np.random.default_rng(seed)
    nu = rng.gamma(q, 1.0 / gamma, len(x))
    xs = np.maximum(x, 1.0)
    mean = rng.gamma(p * xs, 1.0 / (xs * nu))
    return np.asarray(np.where(x > 0, mean, 0.0), dtype=np.float64)
