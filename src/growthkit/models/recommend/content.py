"""Content-based recommenders: items are similar when their texts are.

Both models read each item's title, description, category, brand and attributes (the
catalogue's JSON facts as ``key: value`` text: all genres and the year of a film, a garment's
colour and material; ``Interactions.items``, from
:func:`~growthkit.features.interactions.item_attributes`),
turn them into L2-normalised vectors, and then answer everything by cosine similarity
(shared code in :mod:`._content_base`): similar items are the nearest vectors, a user's
affinities are the cosines with the weighted mean of the vectors of their history (optionally
weighted towards their most recent items), and an anonymous visitor is folded in from the
items just viewed. Recommendations multiply the affinity by a popularity prior,
``((n + 1) / (n_max + 1)) ** popularity_exponent`` (``n``: training users of the item;
default exponent 1, i.e. "popular among the items that fit the taste"; 0 turns it off).
Neither model needs any interaction to score an item, so items nobody touched yet (cold
items) are recommendable as soon as they have a text — build the interactions on the whole
catalogue (``build_interactions(store, item_ids=catalogue_ids)``) so they have a column, and
use ``popularity_exponent=0`` (or a small value) where new items must surface.

* :class:`ContentTfidf` (``"content_tfidf"``) — TF-IDF over character n-grams inside word
  boundaries (scikit-learn's ``char_wb`` analyzer), so Chinese, Japanese and mixed-language
  titles work without a tokenizer; one vocabulary per field, fields weighted.
* :class:`~growthkit.models.recommend.content_embedding.ContentEmbedding`
  (``"content_embedding"``, its own module, re-exported here) — multilingual sentence
  embeddings of the same text through the :class:`~growthkit.text.embed.Embedder` seam (local
  multilingual-e5-small by default).

References: Salton & Buckley (1988), "Term-weighting approaches in automatic text
retrieval", Information Processing & Management 24(5) (TF-IDF); Steck (2011), "Item
popularity and recommendation accuracy", RecSys '11 (the popularity prior); Deerwester et al. (1990),
"Indexing by latent semantic analysis", JASIS 41(6) (the truncated SVD used for large
catalogues); Wang et al. (2024), "Multilingual E5 text embeddings: a technical report",
arXiv:2402.05672.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from growthkit.features.interactions import ATTRIBUTE_KEY_SEP, ATTRIBUTE_SEP, Interactions
from growthkit.models.recommend._content_base import (
    AUTO_COMPONENTS,
    AUTO_MAX_DENSE_VALUES,
    AUTO_MAX_SPARSE_VALUES,
    TEXT_FIELDS,
    ContentRecommender,
    Vectors,
    item_texts,
)
from growthkit.models.recommend.base import RecommendError
from growthkit.models.recommend.content_embedding import EMBED_BACKENDS, ContentEmbedding

__all__ = [
    "AUTO_COMPONENTS",
    "AUTO_MAX_DENSE_VALUES",
    "AUTO_MAX_SPARSE_VALUES",
    "DEFAULT_FIELD_WEIGHTS",
    "EMBED_BACKENDS",
    "ContentEmbedding",
    "ContentTfidf",
]

log = logging.getLogger(__name__)

DEFAULT_FIELD_WEIGHTS: Mapping[str, float] = {
    "title": 1.0,
    "description": 0.5,
    "category": 0.5,
    "brand": 0.5,
    "attributes": 1.0,
}
"""Weight of each field's TF-IDF block when ``ContentTfidf(field_weights=None)``."""

MAX_ATTRIBUTE_BLOCKS = 32
"""``ContentTfidf`` gives at most this many attribute keys a TF-IDF block of their own."""


class ContentTfidf(ContentRecommender):
    """Content-based recommender on character n-gram TF-IDF of the item texts.

    Each field (title, description, category, brand, attributes) gets its own TF-IDF over character
    n-grams of ``min_n`` to ``max_n`` characters taken inside word boundaries (sublinear
    term frequency, smoothed IDF: the weighting of scikit-learn's ``TfidfVectorizer(analyzer=
    "char_wb", sublinear_tf=True)``, with n-grams of padding spaces only dropped and the
    n-grams of each distinct text counted once). Each field's rows are unit length;
    the blocks are multiplied by their field weight, stacked side by side and the rows scaled
    to unit length again, so the cosine of two items is the field-weight-squared weighted
    mean of their per-field cosines. Characters need no tokenizer, so two Chinese titles that
    share characters are close whatever the language. The attributes (``key: value; ...``)
    are split by key and every common key is a field of its own, its block scaled by
    ``1/sqrt(number of keys)`` so that all keys together weigh the ``attributes`` weight
    (:data:`MAX_ATTRIBUTE_BLOCKS`; rare keys and bare flags share one block): a film's year
    then counts as much as its genres. On ML-100K this lifted nDCG@10 from 0.247 to 0.295
    (popularity 0.248); one block for all attributes gave 0.281, keys kept as text 0.276.

    Scale: scoring one user costs one pass over the stored values of the item matrix. Large
    catalogues (``n_components="auto"`` and more than
    :data:`AUTO_MAX_SPARSE_VALUES` stored values, about 3k items with descriptions) are
    therefore reduced by a truncated SVD to :data:`AUTO_COMPONENTS` dense dimensions (latent
    semantic analysis, Deerwester et al. 1990), which keeps single-user scoring around a
    millisecond at 50k items; the reduction approximates the cosines (near-duplicates stay
    nearest, fine ties may reorder: on the simulator's 50k-item bilingual catalogue the
    reduced top-10 neighbours of an item have 97% of the exact cosine of its exact top-10
    on average, 90% at worst over 100 sampled items).

    Parameters
    ----------
    field_weights
        Weight per field, e.g. ``{"title": 1.0, "category": 0.5}``; fields left out are not
        used. ``None``: :data:`DEFAULT_FIELD_WEIGHTS` (attributes weigh as much as the title).
    min_n, max_n
        Shortest and longest character n-gram (1-3: single Chinese characters carry meaning).
    n_components
        ``None``: always the exact sparse TF-IDF; an integer: reduce to that many dimensions
        by a truncated SVD; ``"auto"``: exact for small catalogues, reduced for large ones.
    recency_half_life_days
        With a value, an item in a user's history counts ``0.5 ** (age / half_life)`` times
        its interaction weight, ``age`` measured back from the user's last event in
        ``Interactions.log`` (needed then). ``None``: interaction weights only.
    popularity_exponent
        ``beta`` of the popularity prior: a user's or visitor's score of an item is
        ``max(cosine, 0) * ((n + 1) / (n_max + 1)) ** beta``, ``n`` the item's training users.
        ``0``: the plain cosine (cold items compete on text alone); larger values move the
        ranking towards popularity. ``similar_items`` is always the plain cosine.
    random_state
        Seed of the randomised SVD.

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.features.interactions import Interactions
    >>> x = Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": ["i1"]}), item_ids=["i1", "i2", "i3"])
    >>> titles = pd.DataFrame({"item_id": ["i1", "i2", "i3"], "title": ["绿茶 green tea", "绿茶礼盒", "跑鞋"]})
    >>> x = x.with_context(items=titles)
    >>> ContentTfidf().fit(x).similar_items("i1", k=1).items_of("i1")
    ['i2']
    """

    name = "content_tfidf"

    def __init__(
        self,
        *,
        field_weights: Mapping[str, float] | None = None,
        min_n: int = 1,
        max_n: int = 3,
        n_components: int | str | None = "auto",
        recency_half_life_days: float | None = None,
        popularity_exponent: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.field_weights = field_weights
        self.min_n = min_n
        self.max_n = max_n
        self.n_components = n_components
        self.recency_half_life_days = recency_half_life_days
        self.popularity_exponent = popularity_exponent
        self.random_state = random_state

    def _weights(self) -> dict[str, float]:
        weights = dict(DEFAULT_FIELD_WEIGHTS if self.field_weights is None else self.field_weights)
        if not weights:
            raise RecommendError("field_weights is empty: give at least one field, e.g. {'title': 1.0}")
        unknown = sorted(set(weights) - set(TEXT_FIELDS))
        if unknown:
            raise RecommendError(f"field_weights names unknown fields {unknown}; use some of {list(TEXT_FIELDS)}")
        bad = {k: v for k, v in weights.items() if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0}
        if bad:
            raise RecommendError(f"field weights must be positive numbers, got {bad}")
        return {k: float(v) for k, v in weights.items()}

    def _check_params(self) -> None:
        for key in ("min_n", "max_n"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise RecommendError(f"{key} must be a positive integer, got {v!r}")
        if self.min_n > self.max_n:
            raise RecommendError(f"min_n ({self.min_n}) must not exceed max_n ({self.max_n})")

    def _item_vectors(self, interactions: Interactions) -> Vectors:
        self._check_params()
        weights = self._weights()
        texts = item_texts(interactions, self.item_ids_, list(weights), type(self).__name__)
        blocks = []
        for field in texts.columns:
            values = np.asarray(texts[field].to_numpy(), dtype=str)
            if field == "attributes":
                block = _attribute_block(values, self.min_n, self.max_n)
            else:
                block = _tfidf_block(values, self.min_n, self.max_n)
            if block is not None:
                blocks.append(block * np.float32(weights[field]))
        if not blocks:
            raise RecommendError(f"ContentTfidf: no item has any text in the fields {list(texts.columns)}")
        stacked = sparse.csr_matrix(sparse.hstack(blocks, format="csr"), dtype=np.float32)
        return stacked


def _tfidf_block(
    texts: NDArray[np.str_], min_n: int, max_n: int, rows: NDArray[np.int64] | None = None, n_rows: int = 0
) -> sparse.csr_matrix | None:
    """Unit-length TF-IDF rows of ``texts``; ``None`` when no text has an n-gram.

    With ``rows``, ``texts[j]`` is the text of row ``rows[j]`` of an ``n_rows``-row block
    whose other rows are empty (and count as documents without the n-gram in the IDF).
    """
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    uniq, inverse = np.unique(texts, return_inverse=True)
    grams = CountVectorizer(analyzer="char_wb", ngram_range=(min_n, max_n), lowercase=True).build_analyzer()

    def analyzer(doc: str) -> list[str]:  # char_wb pads words with spaces; a gram of spaces only says nothing
        return [g for g in grams(doc) if not g.isspace()]

    vec = CountVectorizer(analyzer=analyzer, dtype=np.float32)
    try:
        counts_u = vec.fit_transform(uniq.tolist())
    except ValueError:  # empty vocabulary: every text of this field is empty
        return None
    counts = sparse.csr_matrix(counts_u)[inverse.ravel()]
    if rows is not None:
        place = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, np.arange(len(rows)))), shape=(n_rows, len(rows))
        )
        counts = sparse.csr_matrix(place @ counts)
    # IDF over the items (not over the distinct texts): identical to TfidfVectorizer on all rows.
    tfidf = TfidfTransformer(sublinear_tf=True, norm="l2").fit_transform(counts)
    return sparse.csr_matrix(tfidf, dtype=np.float32)


def _attribute_block(texts: NDArray[np.str_], min_n: int, max_n: int) -> sparse.csr_matrix | None:
    """TF-IDF of attribute texts (``key: value; ...``): one block per key, each scaled by ``1/sqrt(blocks)``.

    Every key is a field of its own (its own vocabulary, unit-length rows), so a film's year
    weighs as much as its list of genres and a garment's colour as much as its material,
    however many n-grams each has. Keys of fewer than two items, keys beyond the
    :data:`MAX_ATTRIBUTE_BLOCKS` - 1 most common and bare entries (flags, text without a key)
    share one block. With all ``K`` blocks present an item's attribute part has length 1.
    """
    entries = pd.Series(texts, dtype=object).str.split(ATTRIBUTE_SEP, regex=False).explode()
    entries = entries[entries.notna() & (entries.str.strip() != "")]
    if entries.empty:
        return None
    parts = entries.str.partition(ATTRIBUTE_KEY_SEP)
    keyed = (parts[1] != "").to_numpy()
    key = np.where(keyed, parts[0].to_numpy(dtype=object), "")
    value = np.where(keyed, parts[2].to_numpy(dtype=object), parts[0].to_numpy(dtype=object))
    owner = entries.index.to_numpy(dtype=np.int64)
    n_items = pd.Series(owner).groupby(key).nunique().drop("", errors="ignore")
    own = n_items[n_items >= 2].sort_values(ascending=False, kind="stable").index[: MAX_ATTRIBUTE_BLOCKS - 1]
    codes = pd.Index(own).get_indexer(key)  # -1: the shared block
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(-1, len(own) + 1))
    blocks = []
    for lo, hi in itertools.pairwise(bounds):
        sel = order[lo:hi]  # an item with several entries of one key gets their n-grams summed
        if len(sel) == 0:  # no bare entries and no rare keys: the shared block is empty
            continue
        block = _tfidf_block(np.asarray(value[sel], dtype=str), min_n, max_n, owner[sel], len(texts))
        if block is not None:
            blocks.append(block)
    if not blocks:
        return None
    scale = np.float32(1.0 / np.sqrt(len(blocks)))
    return sparse.csr_matrix(sparse.hstack(blocks, format="csr") * scale, dtype=np.float32)
