"""Against the simulator's true customer types: segments recover them clearly better than random labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from growthkit.errors import SchemaError
from growthkit.models.segment import BehaviourClusters, RFMSegmenter, adjusted_rand, score_against_truth


def random_baseline(labels: pd.Series, truth: pd.Series, n: int = 50) -> tuple[float, float]:
    """Mean and SD of the ARI of the same segment sizes shuffled over the users (computed here, independently)."""
    t = truth.loc[labels.index].to_numpy()
    rng = np.random.default_rng(123)
    scores = [adjusted_rand_score(t, rng.permutation(labels.to_numpy())) for _ in range(n)]
    return float(np.mean(scores)), float(np.std(scores, ddof=1))


@pytest.mark.parametrize("method", ["kmeans", "gmm", "rfm"])
def test_segments_recover_the_true_types_better_than_chance(sim_shop, method: str) -> None:  # type: ignore[no-untyped-def]
    x, truth = sim_shop.features, sim_shop.truth
    labels = RFMSegmenter().fit(x).labels_ if method == "rfm" else BehaviourClusters(method=method).fit(x).labels_
    base_mean, base_sd = random_baseline(labels, truth)
    ari = adjusted_rand(labels, truth)
    assert abs(base_mean) < 0.01 and base_sd < 0.01
    assert ari > 0.07 and ari > base_mean + 8 * base_sd, (ari, base_mean, base_sd)
    score = score_against_truth(labels, truth, permutations=10)
    assert score.ari == pytest.approx(ari) and score.users == len(x) and score.types == 4
    assert abs(score.baseline_mean) < 0.01


def test_ari_uses_the_users_in_both_and_says_when_there_are_none() -> None:
    truth = pd.Series({"a": "x", "b": "x", "c": "y", "z": "y"})
    assert adjusted_rand(pd.Series({"a": 1, "b": 1, "c": 2, "q": 2}), truth) == 1.0
    with pytest.raises(SchemaError, match="same shop"):
        adjusted_rand(pd.Series({"q": 1}), truth)
    with pytest.raises(SchemaError, match="permutations"):
        score_against_truth(pd.Series({"a": 1}), truth, permutations=0)
