"""EASE: the closed form against a direct solve, a 2-item case by hand, and the max_items block."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from growthkit.features.interactions import Interactions
from growthkit.models.recommend import EASE, Recommender, RecommendError
from growthkit.models.recommend.ease import ease_weights


def interactions(m: sparse.csr_matrix | np.ndarray) -> Interactions:
    m = sparse.csr_matrix(m, dtype=np.float32)
    return Interactions(
        matrix=m,
        user_ids=np.asarray([f"u{i}" for i in range(m.shape[0])]),
        item_ids=np.asarray([f"i{j}" for j in range(m.shape[1])]),
    )


def reference_b(x: np.ndarray, l2: float) -> np.ndarray:
    """Steck (2019), eq. 8, in float64 with a plain matrix inverse."""
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    b = np.eye(x.shape[1]) - p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)  # exactly zero (the formula gives 1 - 1 = 0 up to rounding)
    return b


def random_matrix(n_users: int, n_items: int, seed: int) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    m = sparse.random(n_users, n_items, density=0.15, format="csr", random_state=rng, dtype=np.float32)
    m.data = np.ceil(m.data * 4).astype(np.float32)  # weights 1..4
    return m


def test_two_items_by_hand() -> None:
    # users: (1,1), (1,0), (1,1): G = X^T X = [[3, 2], [2, 2]]; with l2 = 1 the constrained
    # regression of one item on the other is a ridge on a single column:
    #   B_01 = x0.x1 / (x0.x0 + l2) = 2 / 4 = 0.5,   B_10 = x1.x0 / (x1.x1 + l2) = 2 / 3
    model = EASE(l2=1.0).fit(interactions(np.array([[1, 1], [1, 0], [1, 1]])))
    np.testing.assert_allclose(model.weights_, [[0.0, 0.5], [2 / 3, 0.0]], rtol=1e-6)


def test_weights_match_a_direct_float64_solve() -> None:
    x = random_matrix(80, 30, seed=1)
    for l2 in (0.5, 10.0, 500.0):
        b = ease_weights(x, l2)
        assert b.dtype == np.float32 and b.flags.c_contiguous
        np.testing.assert_allclose(b, reference_b(x.toarray().astype(np.float64), l2), rtol=1e-4, atol=1e-6)
        assert np.all(np.diag(b) == 0.0)


def test_scores_are_the_profile_times_b() -> None:
    x = random_matrix(40, 12, seed=2)
    model = EASE(l2=5.0).fit(interactions(x))
    b = reference_b(x.toarray().astype(np.float64), 5.0)
    expected = x[3].toarray().ravel() @ b
    np.testing.assert_allclose(model.score(["u3"] * 12, [f"i{j}" for j in range(12)]), expected, rtol=1e-4, atol=1e-5)
    # fold-in is the same product for any profile: no user parameters to solve for
    anon = model.recommend_from_items(["i0", "i5"], k=12, weights=[2.0, 1.0], exclude_seen=False)
    profile = np.zeros(12)
    profile[[0, 5]] = [2.0, 1.0]
    ranked = [f"i{j}" for j in np.lexsort((np.arange(12), -(profile @ b)))]
    assert anon.items_of("anonymous") == ranked


def test_max_items_learns_the_most_popular_block(caplog: pytest.LogCaptureFixture) -> None:
    # item popularity (users): i0 4, i1 3, i2 3, i3 1, i4 2 -> with max_items 3 the block is
    # {i0, i1, i2} (ties between i1 and i2 do not matter, both are in); i3 and i4 are outside
    x = np.array(
        [
            [1, 1, 0, 0, 1],
            [1, 1, 1, 0, 0],
            [1, 0, 1, 1, 0],
            [1, 1, 1, 0, 1],
        ],
        dtype=np.float32,
    )
    with caplog.at_level(logging.WARNING, logger="growthkit.models.recommend.ease"):
        model = EASE(l2=2.0, max_items=3).fit(interactions(x))
    assert "max_items=3" in caplog.text and "score 0" in caplog.text
    assert model.block_items_.tolist() == [0, 1, 2]
    # 10 of the 13 interactions fall in the block
    assert model.coverage_ == pytest.approx(10 / 13)
    np.testing.assert_allclose(model.weights_, reference_b(x[:, :3].astype(np.float64), 2.0), rtol=1e-5, atol=1e-6)
    # every score of an item outside the block is exactly 0, and such items inform nothing
    s = model.score(["u0", "u1", "u2"], ["i3", "i4", "i4"])
    assert s.tolist() == [0.0, 0.0, 0.0]
    only_tail = model.recommend_from_items(["i3", "i4"], k=5, exclude_seen=False)
    assert np.all(only_tail.scores[0] == 0.0)
    assert model.similar_items(["i3", "i0"], k=4).items_of("i3") == []
    assert set(model.similar_items(["i0"], k=4).items_of("i0")) == {"i1", "i2"}


def test_no_warning_when_everything_fits(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="growthkit.models.recommend.ease"):
        model = EASE(l2=1.0).fit(interactions(random_matrix(20, 8, seed=3)))
    assert caplog.text == "" and model.coverage_ == 1.0 and len(model.block_items_) == 8


def test_save_and_load_keep_the_block(tmp_path: Path) -> None:
    x = random_matrix(30, 10, seed=4)
    model = EASE(l2=3.0, max_items=6).fit(interactions(x))
    again = Recommender.load(model.save(tmp_path / "ease.npz"))
    assert isinstance(again, EASE)
    assert again.block_items_.tolist() == model.block_items_.tolist()
    np.testing.assert_array_equal(again.weights_, model.weights_)
    assert again.coverage_ == model.coverage_
    users = [f"u{i}" for i in range(30)]
    assert again.recommend(users, k=3).item_ids.tolist() == model.recommend(users, k=3).item_ids.tolist()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"l2": 0.0}, "l2 must be a positive"),
        ({"l2": -5.0}, "l2 must be a positive"),
        ({"l2": float("nan")}, "l2 must be a positive"),
        ({"max_items": 0}, "max_items"),
        ({"max_items": 1.5}, "max_items"),
        ({"num_threads": 0}, "num_threads"),
    ],
)
def test_bad_parameters_are_refused_at_fit(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(RecommendError, match=match):
        EASE(**kwargs).fit(interactions(np.eye(3)))
