"""Ranking metrics on tiny hand-computed rankings, and against a plain per-user loop on random data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from growthkit.models.recommend.metrics import (
    coverage,
    gains,
    gini,
    graded_ndcg,
    mean_popularity,
    ranking_metrics,
    standard_error,
)

LOG2_3 = math.log2(3)
LOG2_5 = math.log2(5)


def truth_of(rows: list[list[int]], n_items: int) -> sparse.csr_matrix:
    m = np.zeros((len(rows), n_items))
    for r, items in enumerate(rows):
        m[r, items] = 1.0
    return sparse.csr_matrix(m)


def test_two_relevant_items_at_ranks_one_and_three() -> None:
    # DCG = 1/log2(2) + 1/log2(4) = 1 + 0.5 = 1.5; IDCG (2 relevant) = 1 + 1/log2(3) = 1.63093; NDCG = 0.91972
    m = ranking_metrics(np.array([[0, 1, 2]]), truth_of([[0, 2]], 4), [3])
    assert m["ndcg@3"][0] == pytest.approx(1.5 / (1 + 1 / LOG2_3))
    assert m["ndcg@3"][0] == pytest.approx(0.91972, abs=1e-5)
    assert m["precision@3"][0] == pytest.approx(2 / 3)  # 2 hits in 3 slots
    assert m["recall@3"][0] == 1.0  # both relevant items found
    assert m["hit@3"][0] == 1.0
    assert m["mrr@3"][0] == 1.0  # first hit at rank 1
    assert m["map@3"][0] == pytest.approx((1 / 1 + 2 / 3) / 2)  # precision at each hit (1/1, 2/3) over R = 2


def test_hits_at_ranks_two_and_four_with_one_relevant_item_missing() -> None:
    # Relevant: items 5, 7 (recommended at ranks 2 and 4) and item 9 (not recommended): R = 3.
    top = np.array([[1, 5, 2, 7]])
    m = ranking_metrics(top, truth_of([[5, 7, 9]], 10), [1, 4])
    assert m["precision@4"][0] == 0.5  # 2 hits / 4
    assert m["recall@4"][0] == pytest.approx(2 / 3)  # 2 of 3 relevant items
    assert m["mrr@4"][0] == 0.5  # first hit at rank 2
    assert m["map@4"][0] == pytest.approx((1 / 2 + 2 / 4) / 3)  # precision@2 = 1/2, precision@4 = 2/4, over R = 3
    # DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4) (min(R, k) = 3 ideal hits)
    assert m["ndcg@4"][0] == pytest.approx((1 / LOG2_3 + 1 / LOG2_5) / (1 + 1 / LOG2_3 + 0.5))
    assert m["ndcg@4"][0] == pytest.approx(0.49819, abs=1e-5)
    for name in ("precision", "recall", "ndcg", "hit", "mrr", "map"):
        assert m[f"{name}@1"][0] == 0.0  # rank 1 is item 1, not relevant


def test_relevant_items_outside_the_item_axis_count_in_the_denominators() -> None:
    # One relevant item on the axis (found at rank 1) plus two the model cannot rank: R = 3.
    m = ranking_metrics(np.array([[0, 1]]), truth_of([[0]], 3), [2], n_relevant=np.array([3]))
    assert m["recall@2"][0] == pytest.approx(1 / 3)
    assert m["ndcg@2"][0] == pytest.approx(1 / (1 + 1 / LOG2_3))  # IDCG over min(3, 2) = 2 slots
    with pytest.raises(ValueError, match="smaller"):
        ranking_metrics(np.array([[0, 1]]), truth_of([[0, 1]], 3), [2], n_relevant=np.array([1]))


def test_empty_slots_never_hit_and_users_without_truth_are_nan() -> None:
    top = np.array([[-1, 0], [0, -1]])
    m = ranking_metrics(top, truth_of([[0], []], 2), [2])
    assert m["precision@2"][0] == 0.5 and m["mrr@2"][0] == 0.5  # the hit is at rank 2 behind an empty slot
    assert np.isnan(m["recall@2"][1]) and np.isnan(m["ndcg@2"][1])


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="rows"):
        ranking_metrics(np.array([[0]]), truth_of([[0], [0]], 2), [1])
    with pytest.raises(ValueError, match="fewer than k"):
        ranking_metrics(np.array([[0]]), truth_of([[0]], 2), [2])
    with pytest.raises(ValueError, match="users, k"):
        ranking_metrics(np.array([0, 1]), truth_of([[0]], 2), [1])


def naive(top: list[int], relevant: set[int], k: int) -> dict[str, float]:
    """Textbook definitions, one user at a time."""
    hits = [1.0 if i in relevant else 0.0 for i in top[:k]]
    r = len(relevant)
    dcg = sum(h / math.log2(j + 2) for j, h in enumerate(hits))
    idcg = sum(1 / math.log2(j + 2) for j in range(min(r, k)))
    ap = sum(sum(hits[: j + 1]) / (j + 1) for j, h in enumerate(hits) if h) / r
    first = next((j + 1 for j, h in enumerate(hits) if h), None)
    return {
        "precision": sum(hits) / k,
        "recall": sum(hits) / r,
        "ndcg": dcg / idcg,
        "hit": float(any(hits)),
        "mrr": 1 / first if first else 0.0,
        "map": ap,
    }


def test_vectorised_metrics_equal_a_per_user_loop() -> None:
    rng = np.random.default_rng(3)
    n_users, n_items, k = 40, 30, 8
    top = np.vstack([rng.permutation(n_items)[:k] for _ in range(n_users)])
    rel = [set(rng.choice(n_items, size=rng.integers(1, 10), replace=False).tolist()) for _ in range(n_users)]
    m = ranking_metrics(top, truth_of([sorted(r) for r in rel], n_items), [3, k])
    for kk in (3, k):
        for u in range(n_users):
            want = naive(top[u].tolist(), rel[u], kk)
            for name, value in want.items():
                assert m[f"{name}@{kk}"][u] == pytest.approx(value), (name, kk, u)


def test_gains_read_the_truth_values() -> None:
    truth = sparse.csr_matrix(np.array([[0.0, 2.0, 0.0], [5.0, 0.0, 0.0]]))
    assert gains(np.array([[1, 0], [0, -1]]), truth).tolist() == [[2.0, 0.0], [5.0, 0.0]]


def test_graded_ndcg_against_true_preferences() -> None:
    rel = np.array([[3.0, 2.0, 1.0, 0.0]])
    # list [1, 0]: DCG = 2 + 3/log2(3) = 3.89279; ideal [0, 1]: 3 + 2/log2(3) = 4.26186 -> 0.91340
    got = graded_ndcg(np.array([[1, 0]]), lambda rows: rel[rows], 2)
    assert got[0] == pytest.approx((2 + 3 / LOG2_3) / (3 + 2 / LOG2_3))
    # item 0 is seen: the ideal unseen list is [1, 2] (2 + 1/log2(3)), which [1, 2] achieves exactly
    seen = sparse.csr_matrix(np.array([[1, 0, 0, 0]]))
    assert graded_ndcg(np.array([[1, 2]]), lambda rows: rel[rows], 2, seen=seen)[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="non-negative"):
        graded_ndcg(np.array([[0]]), lambda rows: -rel[rows], 1)


def test_catalogue_metrics() -> None:
    top = np.array([[0, 1], [0, -1]])
    assert coverage(top, 4) == 0.5  # items 0 and 1 of 4
    # exposure counts over 4 items sorted: [0, 0, 1, 2]; G = sum (2i - 5) c_i / (4 * 3) = (1*1 + 3*2) / 12
    assert gini(top, 4) == pytest.approx(7 / 12)
    assert gini(np.array([[0], [1]]), 2) == 0.0  # equal exposure
    assert gini(np.array([[3], [3]]), 4) == pytest.approx(0.75)  # all on one of 4 items: (n - 1) / n
    assert mean_popularity(top, np.array([0.5, 0.1, 0.0, 0.0])) == pytest.approx((0.5 + 0.1 + 0.5) / 3)
    assert np.isnan(coverage(top, 0)) and np.isnan(mean_popularity(np.array([[-1]]), np.zeros(1)))


def test_standard_error_of_per_user_values() -> None:
    # values 0, 1, 0, 1: sample sd = sqrt(1/3) = 0.57735, se = sd / sqrt(4) = 0.28868; nan ignored
    assert standard_error(np.array([0.0, 1.0, 0.0, 1.0, np.nan])) == pytest.approx(math.sqrt(1 / 3) / 2)
    assert np.isnan(standard_error(np.array([1.0])))
