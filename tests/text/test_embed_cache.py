"""Embeddings cached in the store by text hash (:mod:`growthkit.features.text_cache`)."""

from __future__ import annotations

import doctest
from collections.abc import Sequence

import numpy as np
import pytest

from growthkit.config import Settings
from growthkit.errors import ConfigError, TextBackendError
from growthkit.features import text_cache
from growthkit.features.text_cache import TABLE, CachedEmbedder, text_hash
from growthkit.store import Store, open_store
from growthkit.text.embed import FloatMatrix, TfidfEmbedder

from .fake_embeddings import hashed_bigrams


class CountingEmbedder:
    """Records every text it is asked to embed."""

    backend = "counting"

    def __init__(self, dim: int = 16, name: str = "counting-v1") -> None:
        self._dim, self._name = dim, name
        self.calls: list[list[str]] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        self.calls.append(list(texts))
        return hashed_bigrams(list(texts), self._dim)


def test_the_inner_embedder_never_sees_a_text_twice(store: Store) -> None:
    inner = CountingEmbedder()
    emb = CachedEmbedder(inner, store)
    a = emb.embed(["物流很快", "fast delivery", "物流很快"])
    b = emb.embed(["fast delivery", "质量很好", "物流很快"])
    assert inner.calls == [["物流很快", "fast delivery"], ["质量很好"]]
    assert (emb.hits_, emb.misses_) == (2, 3)
    np.testing.assert_array_equal(a, hashed_bigrams(["物流很快", "fast delivery", "物流很快"], 16))
    np.testing.assert_array_equal(b, hashed_bigrams(["fast delivery", "质量很好", "物流很快"], 16))  # exact float32
    assert emb.embed([]).shape == (0, 16) and len(inner.calls) == 2
    emb.embed(["fast delivery"])
    assert len(inner.calls) == 2  # all hits: no call at all


def test_the_cache_outlives_the_process(settings: Settings) -> None:
    with open_store(settings) as st:
        CachedEmbedder(CountingEmbedder(), st).embed(["红色连衣裙", "green tea"])
    inner = CountingEmbedder()
    with open_store(settings) as st:  # "the next run"
        v = CachedEmbedder(inner, st).embed(["green tea", "红色连衣裙"])
        rows = st.query(f"SELECT text_hash, backend, model, dim, created_at FROM {TABLE} ORDER BY text_hash")
    assert inner.calls == []
    np.testing.assert_array_equal(v, hashed_bigrams(["green tea", "红色连衣裙"], 16))
    assert sorted(rows.column("text_hash").to_pylist()) == sorted([text_hash("green tea"), text_hash("红色连衣裙")])
    assert set(rows.column("backend").to_pylist()) == {"counting"}
    assert set(rows.column("model").to_pylist()) == {"counting-v1"} and set(rows.column("dim").to_pylist()) == {16}


def test_models_and_dimensions_do_not_share_vectors(store: Store) -> None:
    CachedEmbedder(CountingEmbedder(16, "v1"), store).embed(["x"])
    other = CountingEmbedder(16, "v2")
    CachedEmbedder(other, store).embed(["x"])
    wider = CountingEmbedder(32, "v1")
    assert CachedEmbedder(wider, store).embed(["x"]).shape == (1, 32)
    assert other.calls == [["x"]] and wider.calls == [["x"]]


def test_tfidf_is_cached_per_fit(store: Store) -> None:
    with pytest.raises(ConfigError, match="fit the TF-IDF embedder"):
        CachedEmbedder(TfidfEmbedder(dim=2), store).embed(["a"])
    one = CachedEmbedder(TfidfEmbedder(dim=2).fit(["red shoes", "green tea", "red tea"]), store)
    two = CachedEmbedder(TfidfEmbedder(dim=2).fit(["blue sky", "green tea", "tea time"]), store)
    np.testing.assert_array_equal(one.embed(["green tea"]), one.inner.embed(["green tea"]))
    np.testing.assert_array_equal(two.embed(["green tea"]), two.inner.embed(["green tea"]))
    assert one.model != two.model and two.misses_ == 1


def test_a_read_only_store_is_read_but_not_written(settings: Settings) -> None:
    with open_store(settings) as st:
        CachedEmbedder(CountingEmbedder(), st).embed(["cached"])
    inner = CountingEmbedder()
    with open_store(settings, read_only=True) as ro:
        emb = CachedEmbedder(inner, ro)
        assert emb.embed(["cached", "new"]).shape == (2, 16)
        assert ro.scalar(f"SELECT count(*) FROM {TABLE}") == 1
    assert inner.calls == [["new"]]
    fresh = Settings(db=str(settings.workspace_dir.parent / "empty.duckdb"), workspace=settings.workspace)
    open_store(fresh).close()
    with open_store(fresh, read_only=True) as ro:  # no table at all: everything is computed
        assert CachedEmbedder(CountingEmbedder(), ro).embed(["a"]).shape == (1, 16)
        assert TABLE not in ro.tables()


def test_a_wrong_inner_shape_is_refused(store: Store) -> None:
    class Broken(CountingEmbedder):
        def embed(self, texts: Sequence[str]) -> FloatMatrix:
            return np.zeros((len(texts), 3), dtype=np.float32)

    with pytest.raises(TextBackendError, match="expected"):
        CachedEmbedder(Broken(), store).embed(["x"])
    assert store.scalar(f"SELECT count(*) FROM {TABLE}") == 0


def test_docstring_examples() -> None:
    failed, attempted = doctest.testmod(text_cache, optionflags=doctest.NORMALIZE_WHITESPACE)[:2]
    assert attempted > 0 and failed == 0
