"""Fixtures for the CLV model tests: the real CDNOW sample (fetched once per session) and a Hessian helper."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from growthkit.config import Settings
from growthkit.models.clv import RFMSummary
from growthkit.workflows.clv import dataset_summary


@pytest.fixture(scope="session")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> RFMSummary:
    """The CDNOW 1/10 sample as the papers use it: 39-week calibration to 1997-09-30, holdout to 1998-06-30.

    Fetched from the pinned ``lifetimes`` wheel with pip into a temporary cache (tests marked integration).
    """
    tmp = tmp_path_factory.mktemp("cdnow")
    settings = Settings(db=str(tmp / "unused.duckdb"), workspace=tmp / "ws", cache_dir=tmp / "cache")
    return dataset_summary(settings, "cdnow-sample")


def standard_errors(nll: Callable[[npt.NDArray[np.float64]], float], at: npt.NDArray[np.float64]) -> np.ndarray:
    """Asymptotic standard errors from a central-difference Hessian of the total negative log-likelihood
    ``nll`` in natural parameters at the estimate ``at`` (relative steps of 1e-4)."""
    k = len(at)
    h = 1e-4 * np.abs(at)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (nll(at + ei + ej) - nll(at + ei - ej) - nll(at - ei + ej) + nll(at - ei - ej)) / (
                4 * h[i] * h[j]
            )
    return np.sqrt(np.diag(np.linalg.inv(hess)))
