"""Hybrid retrieval: BM25 and embeddings fused, policy language preference, evidence strength."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from growthkit.assistant.corpus import Passage, ProductRecord, policy_passages, product_passages
from growthkit.assistant.documents import load_policy_docs
from growthkit.assistant.retrieve import KnowledgeBase, query_variant
from growthkit.errors import ConfigError
from growthkit.text.embed import Embedder, FloatMatrix, TfidfEmbedder


def product(item_id: str, title: str, price: float = 10.0, **kw: object) -> ProductRecord:
    return ProductRecord(item_id, title, kw.pop("description", ""), kw.pop("category", None), None,  # type: ignore[arg-type]
                         kw.pop("brand", None), price, "CNY")  # type: ignore[arg-type]  # fmt: skip


CATALOG = [
    product("i1", "高端便携音箱 灰色 Premium Portable Speaker Grey"),
    product("i2", "高端便携音箱 黑色 Premium Portable Speaker Black"),
    product("i3", "经典款绿茶 礼盒装 Classic Green Tea Gift Box"),
    product("i4", "迷你跑步鞋 白色 Mini Running Shoes White"),
]


class KeywordEmbedder:
    """A fake embedder: one dimension per group of synonyms (how often any of them occurs), L2-normalised."""

    name = "keywords"
    backend = "fake"

    def __init__(self, groups: Sequence[Sequence[str]]) -> None:
        self.groups = [[w.lower() for w in g] for g in groups]
        self.calls: list[list[str]] = []

    @property
    def dim(self) -> int:
        return len(self.groups)

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        self.calls.append(list(texts))
        out = np.array([[sum(t.lower().count(w) for w in g) for g in self.groups] for t in texts], dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase(product_passages(CATALOG) + policy_passages(load_policy_docs()))


def test_an_exact_name_beats_its_near_twin(kb: KnowledgeBase) -> None:
    hits = kb.search("How much is the Premium Portable Speaker Grey?", kinds=("product",))
    assert hits[0].passage.ref == "i1" and hits[1].passage.ref == "i2"
    assert hits[0].title_recall == pytest.approx(1.0) and hits[1].title_recall < 0.9
    zh = kb.search("高端便携音箱 黑色多少钱", kinds=("product",))
    assert zh[0].passage.ref == "i2" and zh[0].strength == pytest.approx(1.0)


def test_policy_sections_in_the_questions_language(kb: KnowledgeBase) -> None:
    en = kb.search("How long does a refund take?", kinds=("policy",), lang="en")[0]
    zh = kb.search("退款多久到账？", kinds=("policy",), lang="zh")[0]
    assert en.passage.ref == "returns.en.md#how-long-does-a-refund-take"
    assert zh.passage.ref == "returns.zh.md#退款多久到账"
    assert {h.passage.lang for h in kb.search("refund", kinds=("policy",), lang="zh", k=20)} == {"zh"}


def test_off_topic_questions_have_no_strength(kb: KnowledgeBase) -> None:
    for q in ("What will the weather be in Paris tomorrow?", "明天北京天气怎么样", "Who won the World Cup?"):
        hits = kb.search(q, lang="en")
        assert max(h.strength for h in hits) < 0.3, q


def test_kinds_and_empty_queries(kb: KnowledgeBase) -> None:
    assert {h.passage.kind for h in kb.search("green tea refund", kinds=("product",), k=10)} == {"product"}
    assert kb.search("", kinds=("product",)) == []
    assert kb.search("？！", kinds=("product",)) == []
    assert KnowledgeBase([]).search("anything") == []


def test_embeddings_contribute_through_the_seam() -> None:
    """A match without a shared word is found through the embedder (ranking), but gives no keyword strength."""
    passages = [
        Passage("policy", "a", "en", "Parcels arrive within four days."),
        Passage("policy", "b", "en", "Coupons expire after one week."),
    ]
    emb = KeywordEmbedder([["parcel", "delivery"], ["coupon", "voucher"]])
    kb = KnowledgeBase(passages, embedder=emb)
    assert emb.calls == [[p.text for p in passages], ["voucher"]][:1]  # passages embedded once, at build
    hit = kb.search("voucher", k=1)[0]
    assert hit.passage.ref == "b" and hit.bm25 == 0.0 and hit.dense > 0.9 and hit.strength == 0.0
    assert kb.search("delivery", k=1)[0].passage.ref == "a"
    # keywords only: the same question finds nothing to prefer, and both passages score zero
    assert [h.score for h in KnowledgeBase(passages, embedder=emb, alpha=1.0).search("voucher")] == [0.0, 0.0]


@pytest.mark.parametrize("fusion", ["mix", "rrf"])
def test_both_fusions_rank_the_exact_match_first(fusion: str) -> None:
    kb = KnowledgeBase(product_passages(CATALOG), fusion=fusion)  # type: ignore[arg-type]
    assert kb.search("Classic Green Tea Gift Box", k=1)[0].passage.ref == "i3"


def test_default_embedder_is_tfidf_fitted_on_the_passages() -> None:
    kb = KnowledgeBase(product_passages(CATALOG))
    assert isinstance(kb.embedder, TfidfEmbedder) and kb.embedder.fitted_
    assert kb.vectors.shape == (len(CATALOG), kb.embedder.dim)


def test_query_variant_uses_the_query_kind_when_there_is_one() -> None:
    class Twin:
        name, dim = "twin", 2

        def __init__(self, kind: str = "passage") -> None:
            self.kind = kind

        def with_kind(self, kind: str) -> Twin:
            return Twin(kind)

        def embed(self, texts: Sequence[str]) -> FloatMatrix:
            return np.ones((len(texts), 2), dtype=np.float32)

    q = query_variant(Twin())  # type: ignore[arg-type]
    assert isinstance(q, Twin) and q.kind == "query"
    plain: Embedder = KeywordEmbedder([["a"]])
    assert query_variant(plain) is plain


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ConfigError, match="alpha"):
        KnowledgeBase([], alpha=2.0)
    with pytest.raises(ConfigError, match="fusion"):
        KnowledgeBase([], fusion="max")  # type: ignore[arg-type]
