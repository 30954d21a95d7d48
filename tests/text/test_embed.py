"""The Embedder seam: one conformance suite every backend passes, and the TF-IDF baseline's specifics."""

from __future__ import annotations

import doctest
from collections.abc import Callable

import numpy as np
import pytest

from growthkit.errors import ConfigError
from growthkit.text import embed as embed_module
from growthkit.text.embed import Embedder, TfidfEmbedder

CORPUS = [
    "red running shoes",
    "blue running shoes",
    "green tea leaves",
    "jasmine green tea",
    "红色连衣裙",
    "红色的连衣裙 很好看",
    "运动鞋 跑步",
    "质量很好，物流很快",
    "",
]

# Every Embedder backend adds a factory here (a fitted / loaded instance).
BACKENDS: dict[str, Callable[[], Embedder]] = {
    "tfidf": lambda: TfidfEmbedder(dim=8, random_state=0).fit(CORPUS),
}


@pytest.fixture(params=sorted(BACKENDS))
def embedder(request: pytest.FixtureRequest) -> Embedder:
    return BACKENDS[request.param]()


def test_conformance_protocol_and_shape(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder)
    assert isinstance(embedder.name, str) and embedder.name
    assert isinstance(embedder.dim, int) and embedder.dim > 0
    v = embedder.embed(["red shoes", "绿茶", ""])
    assert v.dtype == np.float32 and v.shape == (3, embedder.dim)
    assert np.isfinite(v).all()
    assert embedder.embed([]).shape == (0, embedder.dim)


def test_conformance_rows_do_not_depend_on_the_batch(embedder: Embedder) -> None:
    a = embedder.embed(["green tea", "red shoes", "green tea"])
    b = embedder.embed(["red shoes", "green tea"])
    np.testing.assert_allclose(a[0], a[2], rtol=1e-6)
    np.testing.assert_allclose(a[0], b[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a[1], b[0], rtol=1e-5, atol=1e-6)


def test_conformance_similar_texts_are_closer(embedder: Embedder) -> None:
    v = embedder.embed(["red running shoes", "blue running shoes", "jasmine green tea", "红色连衣裙", "红色的连衣裙"])
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert v[3] @ v[4] > v[3] @ v[2]


def test_tfidf_is_deterministic_and_unit_length() -> None:
    a = TfidfEmbedder(dim=5, random_state=3).fit(CORPUS).embed(CORPUS)
    b = TfidfEmbedder(dim=5, random_state=3).fit(CORPUS).embed(CORPUS)
    np.testing.assert_array_equal(a, b)
    norms = np.linalg.norm(a, axis=1)
    np.testing.assert_allclose(norms[:-1], 1.0, rtol=1e-5)
    assert norms[-1] == 0.0  # the empty text


def test_tfidf_fits_on_its_first_batch_when_not_fitted() -> None:
    emb = TfidfEmbedder(dim=4)
    assert not emb.fitted_
    first = emb.embed(["red shoes", "green tea", "red tea"])
    assert emb.fitted_ and first.shape == (3, 4)
    np.testing.assert_allclose(emb.embed(["red shoes"])[0], first[0], rtol=1e-5, atol=1e-6)


def test_tfidf_small_and_empty_corpora() -> None:
    tiny = TfidfEmbedder(dim=16).fit(["ab", "ba"])  # 2 texts: a 1-component SVD, 15 zero columns
    v = tiny.embed(["ab", "zz"])
    assert v.shape == (2, 16) and not v[:, 1:].any()
    assert not v[1].any()  # no known n-gram
    one = TfidfEmbedder(dim=3).fit(["abc"])  # 1 text: no SVD, the raw TF-IDF columns
    assert one.embed(["abc"]).shape == (1, 3)
    none = TfidfEmbedder(dim=3).fit(["", ""])
    assert not none.embed(["anything"]).any()


@pytest.mark.parametrize("kwargs", [{"dim": 0}, {"dim": 2.5}, {"ngram_range": (3, 1)}, {"ngram_range": (0, 2)}])
def test_tfidf_bad_parameters_raise_at_fit(kwargs: dict[str, object]) -> None:
    emb = TfidfEmbedder(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        emb.fit(CORPUS)


def test_tfidf_name_and_repr() -> None:
    emb = TfidfEmbedder(dim=12, ngram_range=(2, 4))
    assert emb.name == "tfidf-char2-4-svd12" and emb.dim == 12
    assert "dim=12" in repr(emb)


def test_docstring_examples() -> None:
    failed, attempted = doctest.testmod(embed_module, optionflags=doctest.NORMALIZE_WHITESPACE)[:2]
    assert attempted > 0 and failed == 0
