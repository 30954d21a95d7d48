"""How well segments recover known groups: the adjusted Rand index against a ground truth.

The simulator (:mod:`growthkit.sim`) knows each user's true customer type
(``truth/users.parquet``, column ``customer_type``). The adjusted Rand index (ARI;
Hubert & Arabie 1985) compares two partitions of the same users: 1 when they are
identical up to renaming, about 0 for a partition unrelated to the truth (it is
corrected for chance), negative when worse than chance. The number of segments need
not equal the number of types.

The baseline is the ARI of the *same* segment sizes assigned at random: the segment
labels shuffled over the users, ``permutations`` times. A segmentation is informative
when its ARI is clearly above that baseline's spread.

References
----------
Hubert, L. & Arabie, P. (1985). Comparing partitions. Journal of Classification 2(1), 193-218.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from growthkit.errors import SchemaError


@dataclass(frozen=True)
class TruthScore:
    """ARI of a segmentation against the truth, with the random-labels baseline (mean and SD)."""

    ari: float
    baseline_mean: float
    baseline_sd: float
    users: int
    segments: int
    types: int
    permutations: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _aligned(labels: pd.Series, truth: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    common = labels.index.intersection(truth.index)
    if len(common) == 0:
        raise SchemaError("no user id is both in the segments and in the truth: are they from the same shop?")
    a = labels.loc[common].astype(str).to_numpy(dtype=object)
    b = truth.loc[common].astype(str).to_numpy(dtype=object)
    return a, b


def adjusted_rand(labels: pd.Series, truth: pd.Series) -> float:
    """ARI between segment ``labels`` and ``truth`` (both indexed by user id), over the users in both.

    >>> adjusted_rand(pd.Series({"a": 1, "b": 1, "c": 2}), pd.Series({"a": "x", "b": "x", "c": "y"}))
    1.0
    """
    a, b = _aligned(labels, truth)
    return float(adjusted_rand_score(b, a))


def score_against_truth(
    labels: pd.Series, truth: pd.Series, *, permutations: int = 20, random_state: int = 0
) -> TruthScore:
    """ARI of ``labels`` against ``truth`` and of ``permutations`` random relabellings of the same sizes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = pd.Series(rng.choice(["a", "b"], 500))
    >>> labels = truth.map({"a": 1, "b": 2}).where(rng.random(500) > 0.1, 3)
    >>> s = score_against_truth(labels, truth)
    >>> s.ari > 0.6 and abs(s.baseline_mean) < 0.01
    True
    """
    if permutations < 1:
        raise SchemaError(f"permutations must be at least 1, got {permutations}")
    a, b = _aligned(labels, truth)
    rng = np.random.default_rng(random_state)
    base = np.array([adjusted_rand_score(b, rng.permutation(a)) for _ in range(permutations)])
    return TruthScore(
        ari=float(adjusted_rand_score(b, a)),
        baseline_mean=float(base.mean()),
        baseline_sd=float(base.std(ddof=1)) if permutations > 1 else 0.0,
        users=len(a),
        segments=len(set(a.tolist())),
        types=len(set(b.tolist())),
        permutations=permutations,
    )
