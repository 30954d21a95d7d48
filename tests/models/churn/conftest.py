"""Hand-made feature tables with a planted answer: churn is driven by recency (and nothing else)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def planted(n: int, seed: int, *, threshold: float = 45.0, noise: float = 0.1) -> tuple[pd.DataFrame, pd.Series]:
    """Users who have not bought for more than ``threshold`` days churn (labels flipped with prob. ``noise``).

    The other columns look like features but carry no signal.
    """
    rng = np.random.default_rng(seed)
    index = pd.Index([f"user{seed}_{i:05d}" for i in range(n)], name="user_id")
    recency = rng.exponential(40.0, n)
    x = pd.DataFrame(
        {
            "tenure_days": recency + rng.uniform(10, 300, n),
            "recency_days": recency,
            "has_purchased": np.ones(n, dtype=np.int64),
            "frequency": rng.poisson(3, n) + 1,
            "monetary_total": rng.gamma(2.0, 60.0, n),
            "view_count_30d": rng.poisson(4, n),
            "noise": rng.normal(size=n),
        },
        index=index,
    )
    churned = recency > threshold
    flip = rng.random(n) < noise
    y = pd.Series(np.where(flip, ~churned, churned).astype(np.int64), index=index, name="churn")
    return x, y


@pytest.fixture(scope="session")
def train() -> tuple[pd.DataFrame, pd.Series]:
    return planted(3000, 1)


@pytest.fixture(scope="session")
def holdout() -> tuple[pd.DataFrame, pd.Series]:
    return planted(3000, 2)


@pytest.fixture(scope="session")
def make_planted():  # type: ignore[no-untyped-def]
    """``make_planted(n, seed, threshold=45, noise=0.1) -> (x, y)``."""
    return planted
