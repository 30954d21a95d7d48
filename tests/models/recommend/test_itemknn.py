"""Item-kNN: similarities computed by hand on tiny matrices, pruning, blocking and the sparse helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import growthkit.models.recommend.itemknn as itemknn_module
from growthkit.features.interactions import Interactions
from growthkit.models.recommend import ItemKNN, Recommender, RecommendError
from growthkit.models.recommend._sparse import descending_bits, row_blocks, topk_per_row
from growthkit.models.recommend.itemknn import item_similarity, weight_matrix

# X1 (users x items):      i0 i1 i2
#                     u0 [ 2, 1, 0 ]
#                     u1 [ 1, 0, 1 ]
#                     u2 [ 0, 1, 1 ]
# columns i0 = (2,1,0), i1 = (1,0,1), i2 = (0,1,1); |i0| = sqrt 5, |i1| = |i2| = sqrt 2
# cos(i0,i1) = 2 / sqrt 10 = 0.63246, cos(i0,i2) = 1 / sqrt 10 = 0.31623, cos(i1,i2) = 1 / 2
X1 = [[2, 1, 0], [1, 0, 1], [0, 1, 1]]
COS01, COS02, COS12 = 2 / np.sqrt(10), 1 / np.sqrt(10), 0.5


def interactions(rows: list[list[float]]) -> Interactions:
    m = sparse.csr_matrix(np.asarray(rows, dtype=np.float32))
    return Interactions(
        matrix=m,
        user_ids=np.asarray([f"u{i}" for i in range(m.shape[0])]),
        item_ids=np.asarray([f"i{j}" for j in range(m.shape[1])]),
    )


def test_cosine_similarity_by_hand() -> None:
    s = ItemKNN().fit(interactions(X1)).similarity_.toarray()
    expected = np.array([[0, COS01, COS02], [COS01, 0, COS12], [COS02, COS12, 0]])
    np.testing.assert_allclose(s, expected, rtol=1e-6)


def test_shrink_damps_the_cosine() -> None:
    # shrink 1: 2 / (sqrt 10 + 1) = 0.48051, 1 / (sqrt 10 + 1) = 0.24025, 1 / (2 + 1) = 1/3
    s = ItemKNN(shrink=1.0).fit(interactions(X1)).similarity_.toarray()
    a, b = 2 / (np.sqrt(10) + 1), 1 / (np.sqrt(10) + 1)
    np.testing.assert_allclose(s, [[0, a, b], [a, 0, 1 / 3], [b, 1 / 3, 0]], rtol=1e-6)


def test_pruning_keeps_each_items_nearest_neighbours() -> None:
    # with one neighbour: i0 -> i1 (0.632), i1 -> i0 (0.632 > 0.5), i2 -> i1 (0.5 > 0.316)
    model = ItemKNN(k_neighbors=1).fit(interactions(X1))
    s = model.similarity_.toarray()
    np.testing.assert_allclose(s, [[0, COS01, 0], [COS01, 0, 0], [0, COS12, 0]], rtol=1e-6)
    # similar items are the kept neighbours only, not filler with score 0
    assert model.similar_items(["i0", "i2"], k=2).items_of("i0") == ["i1"]
    assert model.similar_items(["i0", "i2"], k=2).items_of("i2") == ["i1"]


def test_scores_are_the_profile_times_the_similarities() -> None:
    model = ItemKNN().fit(interactions(X1))
    # u0 = (2, 1, 0): score of i2 = 2 cos(i0,i2) + 1 cos(i1,i2) = 2 * 0.31623 + 0.5 = 1.13246
    recs = model.recommend("u0", k=1)
    assert recs.items_of("u0") == ["i2"]
    assert recs.scores[0, 0] == pytest.approx(2 * COS02 + COS12, rel=1e-6)
    # an anonymous visitor who saw i1 twice: i0 = 2 * 0.63246, i2 = 2 * 0.5
    anon = model.recommend_from_items(["i1"], k=2, weights=[2.0])
    assert anon.items_of("anonymous") == ["i0", "i2"]
    np.testing.assert_allclose(anon.scores[0], [2 * COS01, 2 * COS12], rtol=1e-6)


def test_normalize_makes_each_items_similarities_sum_to_one() -> None:
    s = ItemKNN(normalize=True).fit(interactions(X1)).similarity_.toarray()
    row0 = np.array([0, COS01, COS02]) / (COS01 + COS02)  # i0's row: 0.667, 0.333
    np.testing.assert_allclose(s[0], row0, rtol=1e-6)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-6)


# X2:       i0 i1 i2
#      u0 [ 2, 1, 0 ]   2 items
#      u1 [ 1, 0, 1 ]   2 items
#      u2 [ 0, 0, 1 ]   1 item
# BM25 with items as documents and users as terms, N = 3 items, k1 = 1.2, b = 0.75:
#   idf(u0) = idf(u1) = log(1 + (3 - 2 + 0.5) / (2 + 0.5)) = log 1.6
#   idf(u2)           = log(1 + (3 - 1 + 0.5) / (1 + 0.5)) = log(8 / 3)
#   item lengths L = (3, 1, 2), mean 2, so 1 - b + b L / 2 = (1.375, 0.625, 1.0)
#   w = idf * x * 2.2 / (x + 1.2 * norm)
X2 = [[2, 1, 0], [1, 0, 1], [0, 0, 1]]


def test_bm25_weights_by_hand() -> None:
    w = weight_matrix(sparse.csr_matrix(np.asarray(X2, dtype=np.float32)), "bm25", k1=1.2, b=0.75).toarray()
    l16, l83 = np.log(1.6), np.log(8 / 3)
    expected = [
        [l16 * 2 * 2.2 / (2 + 1.2 * 1.375), l16 * 1 * 2.2 / (1 + 1.2 * 0.625), 0],
        [l16 * 1 * 2.2 / (1 + 1.2 * 1.375), 0, l16 * 1 * 2.2 / (1 + 1.2 * 1.0)],
        [0, 0, l83 * 1 * 2.2 / (1 + 1.2 * 1.0)],
    ]
    np.testing.assert_allclose(w, expected, rtol=1e-6)
    # the similarity is the plain dot product of the weighted columns (no cosine)
    s = ItemKNN(similarity="bm25").fit(interactions(X2)).similarity_.toarray()
    np.testing.assert_allclose(s[0, 2], w[1, 0] * w[1, 2], rtol=1e-6)  # only u1 has both i0 and i2
    np.testing.assert_allclose(s, s.T, rtol=1e-6)


def test_bm25_saturates_repeated_interactions() -> None:
    # one user with items (x, 1): N = 2, n_u = 2, idf = log(1 + 0.5 / 2.5) = log 1.2; the weight
    # idf * x * 2.2 / (x + 1.2 * norm) grows with x but never beyond idf * (k1 + 1) = 2.2 log 1.2
    ceiling = 2.2 * np.log(1.2)
    vals = [
        weight_matrix(sparse.csr_matrix([[x, 1.0]], dtype=np.float32), "bm25").toarray()[0, 0] for x in (1, 10, 1e4)
    ]
    assert vals[0] < vals[1] < vals[2] < ceiling
    assert vals[2] > 0.999 * ceiling


def test_tfidf_ignores_a_user_who_touched_everything() -> None:
    # idf = log(3 items / 3 items) = 0 for such a user, so the similarities are those without them
    with_all = ItemKNN(similarity="tfidf").fit(interactions([*X1, [5, 5, 5]])).similarity_.toarray()
    without = ItemKNN(similarity="tfidf").fit(interactions(X1)).similarity_.toarray()
    np.testing.assert_allclose(with_all, without, rtol=1e-6)
    # every user of X1 has 2 of 3 items: equal idf, so tf-idf cosine equals plain cosine
    plain = ItemKNN().fit(interactions(X1)).similarity_.toarray()
    np.testing.assert_allclose(without, plain, rtol=1e-6)


def test_blocked_computation_equals_a_dense_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    x = sparse.random(200, 60, density=0.08, format="csr", random_state=rng, dtype=np.float32)
    x.data = np.ceil(x.data * 3).astype(np.float32)
    dense = x.toarray().astype(np.float64)
    norms = np.linalg.norm(dense, axis=0)
    cos = (dense.T @ dense) / (np.outer(norms, norms) + 2.0)
    np.fill_diagonal(cos, 0)
    k = 5
    ref = np.zeros_like(cos)
    for i in range(cos.shape[0]):
        nz = np.flatnonzero(cos[i] > 0)
        top = nz[np.lexsort((nz, -cos[i, nz]))][:k]
        ref[i, top] = cos[i, top]
    monkeypatch.setattr(itemknn_module, "_BLOCK_COST", 50.0)  # many small blocks
    got = item_similarity(x, k=k, cosine=True, shrink=2.0).toarray()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)
    assert (np.count_nonzero(got, axis=1) <= k).all()


def test_topk_per_row_matches_brute_force_with_ties() -> None:
    rng = np.random.default_rng(3)
    for trial in range(30):
        m = sparse.random(25, 40, density=rng.uniform(0.05, 0.9), format="csr", random_state=trial, dtype=np.float32)
        m.data = np.round(m.data * 3).astype(np.float32) - 1  # ties, negatives and zeros-as-values
        k = int(rng.integers(1, 8))
        got = topk_per_row(m, k)
        d = m.toarray()
        for i in range(d.shape[0]):
            stored = m.indices[m.indptr[i] : m.indptr[i + 1]]
            keep = stored[np.lexsort((stored, -d[i, stored]))][:k]  # ties: lower column first
            assert sorted(got.indices[got.indptr[i] : got.indptr[i + 1]].tolist()) == sorted(keep.tolist())
        assert got.has_sorted_indices


def test_descending_bits_order_floats() -> None:
    v = np.array([0.5, -2.0, np.inf, 0.0, -np.inf, 3.0, 1e-30, -1e-30], dtype=np.float32)
    assert v[np.argsort(descending_bits(v), kind="stable")].tolist() == sorted(v.tolist(), reverse=True)


def test_row_blocks_cover_every_row_once() -> None:
    cost = np.array([5, 1, 1, 10, 1, 1, 1])
    blocks = list(row_blocks(cost, budget=3))
    assert blocks[0] == (0, 1) and (3, 4) in blocks  # an expensive row is a block of its own
    covered = [i for a, b in blocks for i in range(a, b)]
    assert covered == list(range(len(cost)))
    assert list(row_blocks(np.zeros(0), 3)) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"similarity": "jaccard"}, "similarity must be one of"),
        ({"k_neighbors": 0}, "k_neighbors"),
        ({"k_neighbors": 2.5}, "k_neighbors"),
        ({"shrink": -1.0}, "shrink"),
        ({"bm25_k1": 0.0}, "bm25_k1"),
        ({"bm25_b": 1.5}, "bm25_b"),
    ],
)
def test_bad_parameters_are_refused_at_fit(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    model = ItemKNN(**kwargs)  # construction only stores
    with pytest.raises(RecommendError, match=match):
        model.fit(interactions(X1))


def test_save_and_load_keep_the_similarities(tmp_path) -> None:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame({"user_id": list("aabbbc"), "item_id": ["x", "y", "x", "y", "z", "z"]})
    model = ItemKNN(similarity="bm25", k_neighbors=1).fit(Interactions.from_frame(frame))
    again = Recommender.load(model.save(tmp_path / "knn"))
    assert isinstance(again, ItemKNN)
    assert (again.similarity_ != model.similarity_).nnz == 0
    assert again.get_params() == model.get_params()
