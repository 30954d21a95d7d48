"""Hybrid retrieval over the catalog and the policy sections: BM25 plus embeddings.

:class:`KnowledgeBase` indexes every :class:`~growthkit.assistant.corpus.Passage` twice:

* **keywords**: :class:`~growthkit.assistant.bm25.BM25Index` over
  :func:`~growthkit.assistant.tokens.tokenize` (words and CJK bigrams);
* **embeddings**: any :class:`~growthkit.text.embed.Embedder` (passages embedded once;
  the query with the embedder's ``query`` variant when it has one, as e5 models want);
  without one, a :class:`~growthkit.text.embed.TfidfEmbedder` fitted on the passages.

The two rankings are fused by a normalised score mix (``alpha`` keyword share): each
score is divided by its best value among the candidates (the top ``depth`` of either
ranking), so an exact keyword match (the product's full title) is not outvoted by a
near-duplicate that embeds a little closer, which reciprocal-rank fusion would allow.
``fusion="rrf"`` gives reciprocal-rank fusion instead (Cormack, Clarke and Büttcher,
2009, SIGIR). Each hit carries its keyword **coverage** (the IDF-weighted share of the
question's content terms it contains), the evidence strength the assistant uses to say
"I don't know".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from growthkit.assistant.bm25 import BM25Index
from growthkit.assistant.corpus import Passage, PassageKind, ProductRecord
from growthkit.assistant.tokens import Language, content_terms, coverage_terms, tokenize
from growthkit.errors import ConfigError
from growthkit.text.embed import Embedder, TfidfEmbedder

Fusion = Literal["mix", "rrf"]
RRF_K = 60
TFIDF_DIM = 64
"""Dimensions of the TF-IDF fallback embedders (one fitted per kind of passage)."""


@dataclass(frozen=True)
class Hit:
    """One retrieved passage: the fused score, both component scores and the keyword coverage."""

    passage: Passage
    score: float
    bm25: float
    dense: float
    coverage: float
    title_recall: float = 0.0

    @property
    def strength(self) -> float:
        """How well the passage answers the question (0..1): its coverage of the question's terms, or for a
        product, the share of its name the question states, whichever is larger."""
        return max(self.coverage, self.title_recall)


def query_variant(embedder: Embedder) -> Embedder:
    """The embedder to embed questions with: its ``query`` variant when it has one (e5), else itself."""
    with_kind = getattr(embedder, "with_kind", None)
    if callable(with_kind):
        out: Embedder = with_kind("query")
        return out
    inner = getattr(embedder, "inner", None)  # a CachedEmbedder around an e5 embedder
    if inner is not None and callable(getattr(inner, "with_kind", None)):
        q: Embedder = inner.with_kind("query")
        return q
    return embedder


class KnowledgeBase:
    """The searchable catalog and policy sections.

    Parameters
    ----------
    passages : sequence of Passage
        Products and policy sections (see :mod:`growthkit.assistant.corpus`).
    embedder : Embedder, optional
        Embeds the passages (e5: the ``passage`` kind). Default: a TF-IDF embedder fitted on each kind of
        passage (products, policy sections) separately.
    query_embedder : Embedder, optional
        Embeds questions; default :func:`query_variant` of ``embedder``.
    alpha : float
        Keyword share of the fused score (0: embeddings only, 1: BM25 only).
    fusion : {"mix", "rrf"}
        Normalised score mix, or reciprocal-rank fusion.
    depth : int
        Candidates taken from each ranking before fusing.

    Examples
    --------
    >>> from growthkit.assistant.documents import load_policy_docs
    >>> from growthkit.assistant.corpus import policy_passages
    >>> kb = KnowledgeBase(policy_passages(load_policy_docs()))
    >>> hit = kb.search("How long does a refund take?", kinds=("policy",), lang="en")[0]
    >>> hit.passage.ref
    'returns.en.md#how-long-does-a-refund-take'
    """

    def __init__(
        self,
        passages: Sequence[Passage],
        *,
        embedder: Embedder | None = None,
        query_embedder: Embedder | None = None,
        alpha: float = 0.6,
        fusion: Fusion = "mix",
        depth: int = 50,
    ) -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"alpha must lie in [0, 1], got {alpha}")
        if fusion not in ("mix", "rrf"):
            raise ConfigError(f"fusion must be 'mix' or 'rrf', not {fusion!r}")
        self.passages = tuple(passages)
        self.alpha, self.fusion, self.depth = alpha, fusion, depth
        texts = [p.text for p in self.passages]
        self.bm25 = BM25Index([tokenize(t) for t in texts])
        self.kinds = np.array([p.kind for p in self.passages], dtype=object)
        # one (passage, query) embedder per kind: the given one for all, or a TF-IDF fitted on each kind's texts
        # (the catalog's vocabulary would otherwise drown the few policy sections in the SVD)
        self._spaces: dict[str, tuple[Embedder, Embedder]] = {}
        self.vectors = np.zeros((len(texts), embedder.dim if embedder is not None else TFIDF_DIM), dtype=np.float32)
        for kind in dict.fromkeys(p.kind for p in self.passages):
            rows = np.flatnonzero(self.kinds == kind)
            kind_texts = [texts[i] for i in rows]
            if embedder is None:
                tfidf = TfidfEmbedder(dim=TFIDF_DIM).fit(kind_texts)
                self._spaces[kind] = (tfidf, tfidf)
            else:
                self._spaces[kind] = (embedder, query_embedder or query_variant(embedder))
            self.vectors[rows] = np.asarray(self._spaces[kind][0].embed(kind_texts), dtype=np.float32)
        first = next(iter(self._spaces.values()), None)
        self.embedder: Embedder = embedder or (first[0] if first else TfidfEmbedder(dim=TFIDF_DIM))
        self.langs = np.array([p.lang or "*" for p in self.passages], dtype=object)
        self.products: dict[str, ProductRecord] = {
            p.product.item_id: p.product for p in self.passages if p.product is not None
        }
        self._item_ids_lower = {k.lower(): k for k in self.products}
        self._titles: dict[int, list[list[int]]] = {}
        for i, p in enumerate(self.passages):
            if p.product is not None:
                parts = dict.fromkeys((p.product.title_in("zh"), p.product.title_in("en"), p.product.title))
                cols = [
                    [self.bm25.vocab[t] for t in set(content_terms(tokenize(x))) if t in self.bm25.vocab] for x in parts
                ]
                self._titles[i] = [c for c in cols if c]

    @property
    def embedder_name(self) -> str:
        return str(self.embedder.name)

    def is_item(self, token: str) -> bool:
        """Whether ``token`` is an item id of the catalog (case-insensitive)."""
        return token.lower() in self._item_ids_lower

    def product(self, item_id: str) -> ProductRecord | None:
        key = self._item_ids_lower.get(item_id.lower())
        return self.products.get(key) if key else None

    def _mask(self, kinds: Sequence[PassageKind], lang: Language | None) -> npt.NDArray[np.bool_]:
        mask = np.isin(self.kinds, list(kinds)) if len(self.kinds) else np.zeros(0, dtype=bool)
        if lang is not None:
            in_lang = mask & np.isin(self.langs, [lang, "*"])
            if in_lang.any():
                return np.asarray(in_lang, dtype=bool)
        return np.asarray(mask, dtype=bool)

    def search(
        self,
        query: str,
        *,
        kinds: Sequence[PassageKind] = ("product", "policy"),
        lang: Language | None = None,
        k: int = 5,
    ) -> list[Hit]:
        """The ``k`` best passages of ``kinds`` for ``query`` (policy sections in ``lang`` when there are any).

        Returns an empty list for an empty query or an empty index.
        """
        wanted = coverage_terms(query, self.bm25.vocab.__contains__)
        terms = [t for t in wanted if not t.startswith("?")]  # CJK segmented with the index's own vocabulary
        mask = self._mask(kinds, lang)
        if not tokenize(query) or not mask.any():
            return []
        bm = self.bm25.scores(terms)
        cov = self.bm25.coverage(wanted)
        dense = np.zeros(len(self.passages), dtype=np.float32)
        query_vectors: dict[int, npt.NDArray[np.float32]] = {}  # one embedding per distinct query embedder
        for kind, (_, q_emb) in self._spaces.items():
            rows = np.flatnonzero(mask & (self.kinds == kind))
            if rows.size:
                if id(q_emb) not in query_vectors:
                    query_vectors[id(q_emb)] = np.asarray(q_emb.embed([query]), dtype=np.float32)[0]
                dense[rows] = self.vectors[rows] @ query_vectors[id(q_emb)]
        idx = np.flatnonzero(mask)
        depth = min(self.depth, idx.size)
        by_bm = idx[np.argsort(-bm[idx], kind="stable")[:depth]]
        by_dense = idx[np.argsort(-dense[idx], kind="stable")[:depth]]
        cand = np.unique(np.concatenate([by_bm[bm[by_bm] > 0], by_dense]))
        fused = self._fuse(cand, bm, dense, by_bm, by_dense)
        order = np.lexsort((cand, -cov[cand], -fused))[:k]
        asked = {self.bm25.vocab[t] for t in content_terms(tokenize(query)) if t in self.bm25.vocab}
        return [
            Hit(
                self.passages[int(cand[i])],
                float(fused[i]),
                float(bm[cand[i]]),
                float(dense[cand[i]]),
                float(cov[cand[i]]),
                self._title_recall(int(cand[i]), asked),
            )
            for i in order
        ]

    def _title_recall(self, i: int, asked: set[int]) -> float:
        """The IDF-weighted share of the product's name (its best language part) that the question states."""
        best = 0.0
        for cols in self._titles.get(i, ()):
            total = float(self.bm25.idf[cols].sum())
            if total > 0:
                best = max(best, float(sum(self.bm25.idf[c] for c in cols if c in asked)) / total)
        return best

    def _fuse(self, cand: Any, bm: Any, dense: Any, by_bm: Any, by_dense: Any) -> npt.NDArray[np.float64]:
        if self.fusion == "rrf":
            rank_bm = {int(j): r for r, j in enumerate(by_bm) if bm[j] > 0}
            rank_d = {int(j): r for r, j in enumerate(by_dense)}
            return np.array(
                [
                    self.alpha * (1.0 / (RRF_K + rank_bm[int(j)] + 1) if int(j) in rank_bm else 0.0)
                    + (1 - self.alpha) * (1.0 / (RRF_K + rank_d[int(j)] + 1) if int(j) in rank_d else 0.0)
                    for j in cand
                ]
            )
        b = bm[cand].astype(np.float64)
        lex = b / b.max() if b.max() > 0 else np.zeros_like(b)
        d = dense[cand].astype(np.float64)
        lo, hi = float(d.min()), float(d.max())
        den = (d - lo) / (hi - lo) if hi > lo else np.zeros_like(d)
        return np.asarray(self.alpha * lex + (1.0 - self.alpha) * den, dtype=np.float64)
