"""Text embeddings cached in the store, keyed by a hash of the text.

Embedding is the slow part of every text feature (a CPU model embeds tens to
hundreds of texts a second), and shops see the same search queries and review
texts again and again. :class:`CachedEmbedder` wraps any
:class:`~growthkit.text.embed.Embedder`: a text whose vector is already in the
store's ``embedding_cache`` table is not embedded again.

Why here: the store and the text seam are both layer 1 and may not import each
other; this is the lowest layer that may use both, and the cache is a derived
artifact of the store's texts like the other features.

The table (created on first use with ``CREATE TABLE IF NOT EXISTS``; a derived
table, not part of the data contract, safe to drop)::

    embedding_cache(text_hash VARCHAR, backend VARCHAR, model VARCHAR, dim INTEGER,
                    vector FLOAT[], created_at TIMESTAMP,
                    PRIMARY KEY (backend, model, text_hash))

``text_hash`` is the hex SHA-256 of the text's UTF-8 bytes (texts themselves are
not stored: a review can hold personal data). ``backend`` is the embedder's
``backend`` attribute (its class name when it has none) and ``model`` its
``cache_key`` when it has one, else its ``name``: everything that changes the
vectors must be in that key. A read-only store is read but not written.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from growthkit.errors import TextBackendError
from growthkit.store.base import Store
from growthkit.text.embed import Embedder, FloatMatrix

log = logging.getLogger(__name__)

TABLE = "embedding_cache"
DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    text_hash VARCHAR NOT NULL,
    backend VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    dim INTEGER NOT NULL,
    vector FLOAT[] NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (backend, model, text_hash)
)"""
_KEYS_VIEW = "_growthkit_embed_keys"
_NEW_VIEW = "_growthkit_embed_new"


def text_hash(text: str) -> str:
    """Hex SHA-256 of the text's UTF-8 bytes: the cache key of one text.

    Examples
    --------
    >>> text_hash("质量很好")[:12]
    'adc3137300c6'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """An :class:`~growthkit.text.embed.Embedder` that remembers vectors in the store.

    Parameters
    ----------
    inner : Embedder
        The embedder that computes missing vectors. Its vectors must depend only on
        the text and on its ``cache_key`` (or ``name``): fit a TF-IDF embedder first.
    store : Store
        Where the ``embedding_cache`` table lives.

    Attributes
    ----------
    hits_, misses_ : int
        Distinct texts found in the cache and embedded by ``inner``, over all calls.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> from growthkit.text.embed import TfidfEmbedder
    >>> store = open_store(Settings(db=":memory:"))
    >>> emb = CachedEmbedder(TfidfEmbedder(dim=2).fit(["red shoes", "green tea", "red tea"]), store)
    >>> _ = emb.embed(["red shoes", "green tea"]); _ = emb.embed(["red shoes"])
    >>> emb.hits_, emb.misses_
    (1, 2)
    """

    def __init__(self, inner: Embedder, store: Store) -> None:
        self.inner = inner
        self.store = store
        self.hits_ = 0
        self.misses_ = 0
        self._ready = False

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def backend(self) -> str:
        """The ``backend`` column: the inner embedder's ``backend`` attribute or class name."""
        return str(getattr(self.inner, "backend", type(self.inner).__name__))

    @property
    def model(self) -> str:
        """The ``model`` column: the inner embedder's ``cache_key`` when it has one, else its ``name``."""
        return str(getattr(self.inner, "cache_key", None) or self.inner.name)

    def _table_ready(self) -> bool:
        if not self._ready:
            if not self.store.read_only:
                self.store.execute(DDL)
            self._ready = TABLE in self.store.tables()
        return self._ready

    def _lookup(self, hashes: list[str], dim: int, model: str) -> dict[str, FloatMatrix]:
        if not hashes or not self._table_ready():
            return {}
        keys = pa.table({"text_hash": pa.array(hashes, pa.string())})
        with self.store.register(_KEYS_VIEW, keys):
            found = self.store.query(
                f"SELECT c.text_hash, c.vector FROM {TABLE} c JOIN {_KEYS_VIEW} k ON c.text_hash = k.text_hash "
                "WHERE c.backend = ? AND c.model = ? AND c.dim = ?",
                [self.backend, model, dim],
            )
        if found.num_rows == 0:
            return {}
        vectors = found.column("vector").combine_chunks()
        flat = np.asarray(vectors.flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
        if flat.size != found.num_rows * dim:
            raise TextBackendError(f"{TABLE} holds vectors of the wrong length for {model}; drop the table")
        rows = flat.reshape(found.num_rows, dim)
        return {h: rows[i] for i, h in enumerate(found.column("text_hash").to_pylist())}

    def _save(self, hashes: list[str], vectors: FloatMatrix, model: str) -> None:
        if self.store.read_only or not hashes:
            return
        n, dim = vectors.shape
        offsets = pa.array(np.arange(0, n * dim + 1, dim, dtype=np.int32))
        values = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel(), pa.float32())
        new = pa.table(
            {"text_hash": pa.array(hashes, pa.string()), "vector": pa.ListArray.from_arrays(offsets, values)}
        )
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.store.transaction(), self.store.register(_NEW_VIEW, new):
            self.store.execute(
                f"INSERT INTO {TABLE} (text_hash, backend, model, dim, vector, created_at) "
                f"SELECT n.text_hash, ?, ?, ?, CAST(n.vector AS FLOAT[]), ? FROM {_NEW_VIEW} n "
                f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} c WHERE c.backend = ? AND c.model = ? "
                "AND c.text_hash = n.text_hash)",
                [self.backend, model, dim, now, self.backend, model],
            )

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Vectors of ``texts``: from the cache where present, else from ``inner`` (and then cached)."""
        docs = [str(t) for t in texts]
        dim, model = int(self.inner.dim), self.model
        out = np.zeros((len(docs), dim), dtype=np.float32)
        if not docs:
            return out
        hashes = [text_hash(d) for d in docs]
        first: dict[str, int] = {}
        for i, h in enumerate(hashes):
            first.setdefault(h, i)
        cached = self._lookup(list(first), dim, model)
        todo = [h for h in first if h not in cached]
        self.hits_ += len(cached)
        self.misses_ += len(todo)
        if todo:
            fresh = np.asarray(self.inner.embed([docs[first[h]] for h in todo]), dtype=np.float32)
            if fresh.shape != (len(todo), dim):
                raise TextBackendError(f"{self.name} returned shape {fresh.shape}, expected ({len(todo)}, {dim})")
            self._save(todo, fresh, model)
            cached.update({h: fresh[j] for j, h in enumerate(todo)})
        for i, h in enumerate(hashes):
            out[i] = cached[h]
        log.debug("embedding cache %s: %d hit(s), %d miss(es)", model, len(first) - len(todo), len(todo))
        return out

    def __repr__(self) -> str:
        return f"CachedEmbedder({self.inner!r}, store={self.store!r})"
