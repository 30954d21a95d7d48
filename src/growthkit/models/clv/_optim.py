"""Shared fitting machinery: input checks, collapsing identical customers, multi-start optimisation.

Every CLV model here is fit by maximum likelihood over its parameters in log
space (so they stay positive without constraints) with L-BFGS-B from several
starting points. Customers with identical (frequency, recency, T) contribute
identical likelihood terms, so the data are collapsed to the distinct
triplets with a count each: a million customers measured in whole days have
only some ten thousands of distinct triplets.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import minimize

from growthkit.errors import ConfigError, NotFittedError, SchemaError
from growthkit.models.clv.summary import RFMSummary

log = logging.getLogger(__name__)

Array = npt.NDArray[np.float64]
RFMData = pd.DataFrame | RFMSummary
"""What the models take: an :class:`RFMSummary` or a DataFrame with its columns (index: user ids)."""

LOG_BOUND = 15.0
"""Parameters are kept within ``exp(±LOG_BOUND)`` (3e-7 .. 3e6) during the search."""


def as_frame(data: RFMData) -> pd.DataFrame:
    """The customer frame of ``data`` (an :class:`RFMSummary` or a DataFrame)."""
    if isinstance(data, RFMSummary):
        return data.frame
    if isinstance(data, pd.DataFrame):
        return data
    raise SchemaError(f"expected an RFMSummary or a pandas DataFrame, got {type(data).__name__}")


def column(frame: pd.DataFrame, name: str) -> Array:
    """A numeric column as float64; a SchemaError naming it when missing or not finite."""
    if name not in frame.columns:
        raise SchemaError(f"the data lack column {name!r} (have {', '.join(map(str, frame.columns))})")
    values = frame[name].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise SchemaError(f"column {name!r} has missing or infinite values")
    return values


@dataclass(frozen=True)
class RFMArrays:
    """Validated frequency, recency and T (one entry per customer) and the customer ids."""

    frequency: Array
    recency: Array
    T: Array
    ids: pd.Index

    @classmethod
    def from_data(cls, data: RFMData) -> RFMArrays:
        """Check the ranges: integer frequency >= 0, 0 <= recency <= T, recency 0 without repeats.

        Raises
        ------
        SchemaError
            A column is missing or a value is out of range; the message says which and how many.
        """
        frame = as_frame(data)
        x, tx, t = column(frame, "frequency"), column(frame, "recency"), column(frame, "T")
        problems = {
            "frequency is negative or not a whole number": (x < 0) | (x != np.round(x)),
            "recency is negative": tx < 0,
            "recency exceeds T": tx > t * (1 + 1e-12) + 1e-12,
            "recency is not 0 for a customer without repeat purchases": (x == 0) & (tx != 0),
        }
        for what, bad in problems.items():
            if bad.any():
                first = frame.index[int(np.argmax(bad))]
                raise SchemaError(f"{int(bad.sum()):,} customer(s) where {what} (first: {first!r})")
        return cls(x, np.minimum(tx, t), t, frame.index)


def dot(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    """Sum of ``a * b`` for two 1-d arrays, without BLAS (whose threads stall on small vectors
    when the cores are busy)."""
    return float(np.sum(a * b))


def logaddexp(a: Array, b: Array) -> Array:
    """log(exp(a) + exp(b)) elementwise, ``a`` finite, ``b`` possibly -inf (faster than numpy's for -inf)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(np.maximum(a, b) + np.log1p(np.exp(-np.abs(a - b))), dtype=np.float64)


def sample_weights(weights: npt.ArrayLike | None, n: int) -> Array:
    """``weights`` as a float array of length ``n`` (ones when None); non-negative and finite."""
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(w) != n or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise SchemaError(f"sample_weight must be {n:,} finite non-negative numbers")
    return w


@dataclass(frozen=True)
class Collapsed:
    """The distinct (x, t_x, T) triplets with their summed weights."""

    x: Array
    tx: Array
    T: Array
    w: Array

    @property
    def n_customers(self) -> float:
        return float(self.w.sum())

    def __len__(self) -> int:
        return len(self.x)


def collapse(x: Array, tx: Array, t: Array, w: Array) -> Collapsed:
    """Merge customers with identical (frequency, recency, T), summing their weights."""
    keep = w > 0
    df = pd.DataFrame({"x": x[keep], "tx": tx[keep], "T": t[keep], "w": w[keep]})
    g = df.groupby(["x", "tx", "T"], sort=False)["w"].sum().reset_index()
    return Collapsed(
        g["x"].to_numpy(np.float64), g["tx"].to_numpy(np.float64), g["T"].to_numpy(np.float64), g["w"].to_numpy()
    )


@dataclass(frozen=True)
class StartResult:
    """One optimisation run: where it started and ended (natural scale) and how it went."""

    start: tuple[float, ...]
    params: tuple[float, ...]
    log_likelihood: float
    converged: bool
    iterations: int
    message: str


@dataclass(frozen=True)
class FitReport:
    """How a fit went: every start's result, the best one, the data size and the time taken."""

    starts: tuple[StartResult, ...]
    best: int
    n_customers: float
    n_unique: int
    seconds: float

    @property
    def converged(self) -> bool:
        return self.starts[self.best].converged

    @property
    def agreeing_starts(self) -> int:
        """How many starts ended within 1e-4 log-likelihood units of the best one."""
        top = self.starts[self.best].log_likelihood
        return sum(1 for s in self.starts if abs(s.log_likelihood - top) < 1e-4)


Objective = Callable[[Array], tuple[float, Array]] | Callable[[Array], float]


def multistart(
    objective: Objective,
    starts: Sequence[Array],
    *,
    jac: bool | str,
    max_iter: int,
    tol: float,
    scale: float,
) -> tuple[Array, list[StartResult]]:
    """Minimise ``objective(log_params)`` (a negative log-likelihood divided by ``scale``) from each start.

    ``jac``: True when the objective returns its gradient too, else a finite-difference scheme
    (``"3-point"``: central differences, accurate enough to converge on flat ridges).
    Returns the best log parameters and one :class:`StartResult` per start (log-likelihoods
    unscaled, parameters on the natural scale). A start whose objective is not finite is skipped.
    A start counts as converged when L-BFGS-B says so, or when its line search stalled (finite-
    difference noise) at the best optimum found.
    """
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(starts[0])
    results: list[StartResult] = []
    best_x: Array | None = None
    best_f = np.inf
    for x0 in starts:
        x0 = np.clip(np.asarray(x0, dtype=np.float64), -LOG_BOUND + 1, LOG_BOUND - 1)
        first = objective(x0)
        f0 = first[0] if isinstance(first, tuple) else first
        if not np.isfinite(f0):
            log.debug("start %s: objective not finite, skipped", np.exp(x0))
            continue
        res = minimize(
            objective,
            x0,
            jac=jac,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-9, "maxcor": 20},
        )
        inside = bool(np.all(np.abs(res.x) < LOG_BOUND - 1e-6))
        results.append(
            StartResult(
                tuple(float(v) for v in np.exp(x0)),
                tuple(float(v) for v in np.exp(res.x)),
                float(-res.fun * scale),
                bool(res.success) and inside,
                int(res.nit),
                str(res.message),
            )
        )
        if res.fun < best_f:
            best_f, best_x = float(res.fun), np.asarray(res.x, dtype=np.float64)
    if best_x is None:
        raise SchemaError("the likelihood is not finite at any starting point; check the data for extreme values")
    top = -best_f * scale
    stalled = [
        replace(s, converged=True)
        if not s.converged
        and "ABNORMAL" in s.message
        and abs(s.log_likelihood - top) <= 1e-9 * max(1.0, abs(top))
        and all(abs(np.log(p)) < LOG_BOUND - 1e-6 for p in s.params)
        else s
        for s in results
    ]
    return best_x, stalled


def spread_starts(base: Array, n: int, seed: int | None) -> list[Array]:
    """``base`` (log parameters), all-zero (every parameter 1) and random points around ``base``."""
    rng = np.random.default_rng(seed)
    out = [np.asarray(base, dtype=np.float64), np.zeros(len(base))]
    while len(out) < n:
        out.append(base + rng.normal(0.0, 1.0, len(base)))
    return out[:n]


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Keep BLAS single-threaded while optimising: the problems are tiny (4 parameters) and BLAS
    threads spinning on them cost more than the likelihood itself when the cores are busy."""
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def run_fit(
    objective: Objective,
    starts: Sequence[Array],
    data: Collapsed,
    *,
    jac: bool | str,
    max_iter: int,
    tol: float,
    t0: float,
) -> tuple[Array, FitReport]:
    """Multi-start minimisation of a mean negative log-likelihood; the best log parameters and the report."""
    with _one_blas_thread():
        best, results = multistart(objective, starts, jac=jac, max_iter=max_iter, tol=tol, scale=data.n_customers)
    top = int(np.argmax([r.log_likelihood for r in results]))
    report = FitReport(tuple(results), top, data.n_customers, len(data), time.perf_counter() - t0)
    if not report.converged:
        log.warning("CLV fit: the best start did not converge (%s)", results[top].message)
    if report.agreeing_starts < min(2, len(results)):
        log.info("CLV fit: only the best of %d starts reached the optimum", len(results))
    return best, report


class Estimator:
    """The scikit-learn estimator plumbing (``get_params``/``set_params``, fitted checks, repr)
    and the maximum-likelihood fit the models share (options, multi-start search, fitted attributes).

    A model's ``fit`` prepares its data and calls :meth:`_fit_params`, which sets one
    attribute ``<name>_`` per parameter plus ``params_``, ``log_likelihood_``,
    ``n_customers_`` and ``fit_report_``.
    """

    log_likelihood_: float
    n_customers_: float
    fit_report_: FitReport

    def __init__(self, *, n_starts: int = 3, max_iter: int = 1000, tol: float = 1e-12, random_state: int | None = 0):
        self.n_starts = n_starts
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, by name."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params: Any) -> Self:
        """Set constructor arguments (takes effect at the next ``fit``)."""
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise ConfigError(f"{type(self).__name__} has no parameter {k!r}; it has {', '.join(valid)}")
            setattr(self, k, v)
        return self

    def _check_options(self) -> None:
        n_starts, max_iter, tol = (getattr(self, k) for k in ("n_starts", "max_iter", "tol"))
        if not isinstance(n_starts, int) or n_starts < 1:
            raise ConfigError(f"n_starts must be a positive integer, got {n_starts!r}")
        if not isinstance(max_iter, int) or max_iter < 1:
            raise ConfigError(f"max_iter must be a positive integer, got {max_iter!r}")
        if not (isinstance(tol, float | int) and tol > 0):
            raise ConfigError(f"tol must be a positive number, got {tol!r}")

    def _collapse_rfm(self, data: RFMData, sample_weight: npt.ArrayLike | None, model: str) -> Collapsed:
        """Check the options, validate ``data`` and collapse its customers (``model`` names it in the error)."""
        self._check_options()
        arr = RFMArrays.from_data(data)
        w = sample_weights(sample_weight, len(arr.frequency))
        c = collapse(arr.frequency, arr.recency, arr.T, w)
        if c.n_customers <= 0:
            raise ConfigError(f"no customers to fit the {model} model on")
        return c

    def _fit_params(
        self, names: tuple[str, ...], objective: Objective, base: Array, data: Collapsed, *, jac: bool | str, t0: float
    ) -> None:
        """Multi-start fit from ``base`` (log parameters); sets ``<name>_`` for each of ``names`` and the rest."""
        starts = spread_starts(base, self.n_starts, self.random_state)
        theta, report = run_fit(objective, starts, data, jac=jac, max_iter=self.max_iter, tol=self.tol, t0=t0)
        values = tuple(float(v) for v in np.exp(theta))
        for name, value in zip(names, values, strict=True):
            setattr(self, f"{name}_", value)
        self.params_ = dict(zip(names, values, strict=True))
        self.log_likelihood_ = report.starts[report.best].log_likelihood
        self.n_customers_ = data.n_customers
        self.fit_report_ = report

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(...) first")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
