"""Helpers for the statistics-engine tests: raw data -> sufficient statistics, fast simulators."""

from __future__ import annotations

import sys
import types

import numpy as np
import numpy.typing as npt
import pytest

from growthkit.experiments.stats import RatioStats, RegressionAdjustedStats, SampleMeanStats

Arr = npt.NDArray[np.float64]


def mean_stats(x: Arr, axis: int = -1) -> SampleMeanStats:
    """Sufficient statistics of raw rows along ``axis``."""
    return SampleMeanStats(
        n=np.asarray(x.shape[axis], dtype=float), sum=x.sum(axis=axis), sum_squares=(x * x).sum(axis=axis)
    )


def ratio_stats(m: Arr, d: Arr) -> RatioStats:
    return RatioStats(
        n=float(len(m)),
        m_sum=m.sum(),
        m_sum_squares=(m * m).sum(),
        d_sum=d.sum(),
        d_sum_squares=(d * d).sum(),
        m_d_sum_of_products=(m * d).sum(),
    )


def cuped_stats(y: Arr, x: Arr, axis: int = -1) -> RegressionAdjustedStats:
    return RegressionAdjustedStats(
        n=np.asarray(y.shape[axis], dtype=float),
        post_sum=y.sum(axis=axis),
        post_sum_squares=(y * y).sum(axis=axis),
        pre_sum=x.sum(axis=axis),
        pre_sum_squares=(x * x).sum(axis=axis),
        post_pre_sum_of_products=(x * y).sum(axis=axis),
    )


def normal_batches(
    rng: np.random.Generator, sims: int, batches: int, batch: int, mu: float, sigma: float
) -> tuple[Arr, Arr, Arr]:
    """Cumulative n, sum, sum_squares after each batch of ``batch`` iid N(mu, sigma^2) units.

    Exact in distribution without drawing every unit: a batch's sum is N(b mu, b sigma^2) and its
    within-batch sum of squares about the batch mean is sigma^2 chi2(b - 1), independent of the sum.
    """
    s = rng.normal(batch * mu, sigma * np.sqrt(batch), size=(sims, batches))
    within = sigma**2 * rng.chisquare(batch - 1, size=(sims, batches))
    ss = within + s * s / batch
    n = batch * np.arange(1, batches + 1, dtype=float)
    return np.broadcast_to(n, (sims, batches)), np.cumsum(s, axis=1), np.cumsum(ss, axis=1)


def binomial_tolerance(p: float, trials: int, sds: float = 4.0) -> float:
    """``sds`` binomial standard deviations of an estimated rate (for coverage checks)."""
    return sds * float(np.sqrt(p * (1 - p) / trials))


@pytest.fixture
def sim() -> types.ModuleType:
    """These helpers as a namespace (test modules cannot import conftest under importlib mode)."""
    return sys.modules[__name__]
