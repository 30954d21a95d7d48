"""ALS and BPR: planted structure is recovered, fold-in matches its formula, results are reproducible."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from threadpoolctl import threadpool_limits

from growthkit.features.interactions import Interactions
from growthkit.models.recommend import ALS, BPR, Popularity, Recommender, RecommendError
from growthkit.models.recommend.als import gpu_available

pytest.importorskip("implicit")

GROUPS, USERS_PER_GROUP, ITEMS_PER_GROUP = 3, 25, 8


def planted(seed: int = 0) -> tuple[Interactions, dict[str, str], dict[str, int]]:
    """Three taste groups: each user touches 6 of their group's 8 items plus one random item.

    One of the 6 group items is held out per user. Returns the training interactions, the
    held-out item of every user and every item's group.
    """
    rng = np.random.default_rng(seed)
    rows, held = [], {}
    n_items = GROUPS * ITEMS_PER_GROUP
    for g in range(GROUPS):
        for u in range(USERS_PER_GROUP):
            user = f"g{g}u{u}"
            own = rng.choice(ITEMS_PER_GROUP, 6, replace=False) + g * ITEMS_PER_GROUP
            held[user] = f"i{own[0]}"
            noise = rng.integers(n_items)
            rows += [(user, f"i{i}") for i in {*own[1:].tolist(), int(noise)}]
    users = sorted({u for u, _ in rows})
    items = [f"i{i}" for i in range(n_items)]
    m = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), ([users.index(u) for u, _ in rows], [int(i[1:]) for _, i in rows])),
        shape=(len(users), n_items),
    )
    group_of = {f"i{i}": i // ITEMS_PER_GROUP for i in range(n_items)}
    return Interactions(matrix=m, user_ids=np.asarray(users), item_ids=np.asarray(items)), held, group_of


def hit_rate(model: Recommender, held: dict[str, str], k: int = 3) -> float:
    users = sorted(held)
    recs = model.recommend(users, k=k)
    return float(np.mean([held[u] in recs.items_of(u) for u in users]))


@pytest.fixture(scope="module")
def data() -> tuple[Interactions, dict[str, str], dict[str, int]]:
    return planted()


@pytest.fixture(scope="module")
def als(data: tuple[Interactions, dict[str, str], dict[str, int]]) -> ALS:
    return ALS(factors=3, regularization=1.0, alpha=10.0, iterations=20, use_gpu=False).fit(data[0])


def test_als_recovers_the_planted_groups(data, als: ALS) -> None:  # type: ignore[no-untyped-def]
    x, held, group_of = data
    # each user has 3 unseen items of their group (2 never touched + the held-out one), so a
    # model that learned the groups puts the held-out item in its top 3
    assert hit_rate(als, held) >= 0.9  # 0.93 over seeds 0-4
    assert hit_rate(Popularity().fit(x), held) < 0.2  # the case is not easy: popularity gets 0.09
    for item in ("i0", "i9", "i20"):
        sims = als.similar_items(item, k=4).items_of(item)
        assert [group_of[i] for i in sims] == [group_of[item]] * 4


def test_als_scores_are_dot_products_of_float32_factors(als: ALS) -> None:
    assert als.user_factors_.dtype == np.float32 and als.item_factors_.dtype == np.float32
    assert als.user_factors_.shape == (GROUPS * USERS_PER_GROUP, 3)
    u = als.user_index(["g1u4"])[0]
    expected = als.user_factors_[u].astype(np.float64) @ als.item_factors_.T.astype(np.float64)
    got = als.score(["g1u4"] * 5, [f"i{j}" for j in range(5)])
    np.testing.assert_allclose(got, expected[:5], rtol=1e-5)


def test_similar_items_are_the_cosine_of_item_factors(als: ALS) -> None:
    v = als.item_factors_.astype(np.float64)
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    recs = als.similar_items("i3", k=5)
    cos = unit @ unit[3]
    np.testing.assert_allclose(recs.scores[0], [cos[int(i[1:])] for i in recs.items_of("i3")], rtol=1e-5)


def test_als_fold_in_is_the_weighted_least_squares_solution(als: ALS) -> None:
    # Hu et al. (2008): minimise sum_i c_i (p_i - x.y_i)^2 + lambda |x|^2 over ALL items, with
    # c_i = 1 + alpha w_i and p_i = 1 on the profile, c_i = 1 and p_i = 0 elsewhere. Solved here
    # with the full diagonal confidence matrix, independently of the model's shortcut.
    y = als.item_factors_.astype(np.float64)
    w = np.zeros(y.shape[0])
    w[[1, 4, 6]] = [1.0, 3.0, 0.5]
    c = 1.0 + 10.0 * w
    p = (w > 0).astype(float)
    x_ref = np.linalg.solve(y.T @ (c[:, None] * y) + 1.0 * np.eye(3), y.T @ (c * p))
    profile = sparse.csr_matrix(w[None, :].astype(np.float32))
    np.testing.assert_allclose(als.fold_in(profile)[0], x_ref, rtol=1e-4, atol=1e-6)
    anon = als.recommend_from_items(["i1", "i4", "i6"], k=3, weights=[1.0, 3.0, 0.5])
    scores = y @ x_ref
    scores[[1, 4, 6]] = -np.inf
    np.testing.assert_allclose(anon.scores[0], np.sort(scores)[::-1][:3], rtol=1e-4)
    assert als.fold_in(sparse.csr_matrix((1, y.shape[0]), dtype=np.float32)).tolist() == [[0.0, 0.0, 0.0]]


def test_als_confidence_is_one_plus_alpha_times_weight(monkeypatch: pytest.MonkeyPatch) -> None:
    import implicit.cpu.als

    seen: list[sparse.csr_matrix] = []
    original = implicit.cpu.als.AlternatingLeastSquares.fit

    def spy(self, user_items, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(user_items.copy())
        assert self.alpha == 1.0  # implicit would scale the matrix again otherwise
        return original(self, user_items, *args, **kwargs)

    monkeypatch.setattr(implicit.cpu.als.AlternatingLeastSquares, "fit", spy)
    x = Interactions.from_frame(
        pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": ["i", "j", "i"], "weight": [1, 4, 2]})
    )
    ALS(factors=2, alpha=7.0, iterations=1, use_gpu=False).fit(x)
    assert sorted(seen[0].data.tolist()) == [1 + 7 * 1, 1 + 7 * 2, 1 + 7 * 4]


def test_fits_are_reproducible_for_a_seed(data) -> None:  # type: ignore[no-untyped-def]
    x = data[0]
    for cls in (ALS, BPR):
        a = cls(factors=4, iterations=5, random_state=3, use_gpu=False).fit(x)
        b = cls(factors=4, iterations=5, random_state=3, use_gpu=False).fit(x)
        c = cls(factors=4, iterations=5, random_state=4, use_gpu=False).fit(x)
        np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
        np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
        assert not np.allclose(a.item_factors_, c.item_factors_)


def test_bpr_recovers_the_planted_groups(data) -> None:  # type: ignore[no-untyped-def]
    x, held, _ = data
    bpr = BPR(factors=4, learning_rate=0.05, regularization=0.05, iterations=150, use_gpu=False).fit(x)
    assert hit_rate(bpr, held) >= 0.85  # 0.88 to 0.96 over seeds 0-4; popularity gets 0.09
    # implicit's BPR keeps an item bias: one extra item column, and a constant 1 for users
    assert bpr.item_factors_.shape == (GROUPS * ITEMS_PER_GROUP, 5)
    assert np.all(bpr.user_factors_[:, -1] == 1.0)


def test_bpr_fold_in_is_the_mean_of_user_centroids(data) -> None:  # type: ignore[no-untyped-def]
    x = data[0]
    bpr = BPR(factors=4, iterations=10, use_gpu=False).fit(x)
    users_of = {j: x.matrix[:, j].nonzero()[0] for j in (2, 5)}
    centroid = {j: bpr.user_factors_[rows].astype(np.float64).mean(axis=0) for j, rows in users_of.items()}
    profile = sparse.csr_matrix(([3.0, 1.0], ([0, 0], [2, 5])), shape=(1, x.n_items), dtype=np.float32)
    expected = (3 * centroid[2] + 1 * centroid[5]) / 4
    np.testing.assert_allclose(bpr.fold_in(profile)[0], expected, rtol=1e-5, atol=1e-7)
    assert bpr.fold_in(profile)[0, -1] == pytest.approx(1.0)  # the bias slot stays 1


def test_saved_models_need_neither_implicit_nor_a_gpu(als: ALS, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = als.save(tmp_path / "als")
    monkeypatch.setitem(sys.modules, "implicit", None)  # any import of implicit now fails
    again = Recommender.load(path)
    assert isinstance(again, ALS)
    np.testing.assert_array_equal(again.item_factors_, als.item_factors_)
    users = ["g0u1", "g2u3"]
    assert again.recommend(users, k=4).item_ids.tolist() == als.recommend(users, k=4).item_ids.tolist()
    a = again.recommend_from_items(["i1", "i2"], k=3).item_ids.tolist()
    assert a == als.recommend_from_items(["i1", "i2"], k=3).item_ids.tolist()
    with pytest.raises(RecommendError, match="pip install"):
        ALS(factors=2, use_gpu=False).fit(Interactions.from_frame(pd.DataFrame({"user_id": ["a"], "item_id": ["b"]})))


def test_blas_threads_are_limited_while_training(data) -> None:  # type: ignore[no-untyped-def]
    import implicit.utils

    checked = implicit.utils._checked_blas_config
    implicit.utils._checked_blas_config = False  # let implicit check (and warn) again
    try:
        with threadpool_limits(2, "blas"), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ALS(factors=2, iterations=1, use_gpu=False).fit(data[0])
            BPR(factors=2, iterations=1, use_gpu=False).fit(data[0])
    finally:
        implicit.utils._checked_blas_config = checked
    assert not [w for w in caught if "threads" in str(w.message)]


@pytest.mark.skipif(gpu_available(), reason="a usable CUDA build of implicit is installed")
def test_use_gpu_true_without_cuda_says_what_to_do(data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RecommendError, match="use_gpu"):
        ALS(factors=2, use_gpu=True).fit(data[0])
    # "auto" falls back to the CPU
    assert ALS(factors=2, iterations=1, use_gpu="auto").fit(data[0]).fitted_on_gpu_ is False


class _CudaStandIn:
    """Stands in for implicit's CUDA model class: trains with the CPU class, hands it back from ``to_cpu``."""

    made: ClassVar[list[dict[str, object]]] = []

    def __init__(self, cpu_cls: type, **kwargs: object) -> None:
        type(self).made.append(kwargs)
        self._cpu = cpu_cls(num_threads=1, **kwargs)

    def fit(self, x: sparse.csr_matrix, show_progress: bool = False) -> None:
        self.fit_matrix = x
        self._cpu.fit(x, show_progress=show_progress)

    def to_cpu(self) -> object:
        return self._cpu


def test_a_gpu_is_used_when_implicit_has_cuda(data, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # the CUDA kernels are implicit's; this checks our side: the choice, the arguments, and the copy back
    import implicit.cpu.als
    import implicit.cpu.bpr
    import implicit.gpu
    import implicit.gpu.als
    import implicit.gpu.bpr

    from growthkit.models.recommend import als as als_module

    _CudaStandIn.made = []
    monkeypatch.setattr(implicit.gpu, "HAS_CUDA", True)
    cpu_als, cpu_bpr = implicit.cpu.als.AlternatingLeastSquares, implicit.cpu.bpr.BayesianPersonalizedRanking
    monkeypatch.setattr(implicit.gpu.als, "AlternatingLeastSquares", lambda **kw: _CudaStandIn(cpu_als, **kw))
    monkeypatch.setattr(implicit.gpu.bpr, "BayesianPersonalizedRanking", lambda **kw: _CudaStandIn(cpu_bpr, **kw))
    assert als_module.gpu_available()
    on_gpu = ALS(factors=3, regularization=1.0, alpha=10.0, iterations=20, random_state=0).fit(data[0])
    on_cpu = ALS(factors=3, regularization=1.0, alpha=10.0, iterations=20, random_state=0, use_gpu=False).fit(data[0])
    assert on_gpu.fitted_on_gpu_ is True and on_cpu.fitted_on_gpu_ is False
    want = {"factors": 3, "regularization": 1.0, "alpha": 1.0, "iterations": 20, "random_state": 0}
    assert _CudaStandIn.made[0] == want
    np.testing.assert_allclose(on_gpu.item_factors_, on_cpu.item_factors_, rtol=1e-4, atol=1e-5)
    users = data[0].user_ids[:3]
    assert on_gpu.recommend(users, k=2).item_ids.tolist() == on_cpu.recommend(users, k=2).item_ids.tolist()
    bpr = BPR(factors=3, iterations=5, use_gpu=True).fit(data[0])
    assert bpr.fitted_on_gpu_ is True and len(_CudaStandIn.made) == 2
    assert bpr.item_factors_.shape[0] == data[0].n_items and np.isfinite(bpr.item_factors_).all()


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (ALS, {"factors": 0}, "factors"),
        (ALS, {"iterations": 2.5}, "iterations"),
        (ALS, {"regularization": -1.0}, "regularization"),
        (ALS, {"alpha": float("nan")}, "alpha"),
        (ALS, {"use_gpu": "yes"}, "use_gpu"),
        (ALS, {"random_state": 1.5}, "random_state"),
        (ALS, {"num_threads": 0}, "num_threads"),
        (BPR, {"learning_rate": 0.0}, "learning_rate"),
        (BPR, {"factors": True}, "factors"),
    ],
)
def test_bad_parameters_are_refused_at_fit(cls, kwargs, match, data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RecommendError, match=match):
        cls(**kwargs).fit(data[0])
