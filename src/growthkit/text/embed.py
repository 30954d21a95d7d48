"""The embedding seam: turn texts into fixed-length vectors.

Everything above this layer that needs text as numbers (user text signals in
:mod:`growthkit.features`, semantic search, clustering of reviews) talks to an
:class:`Embedder`, never to a model library. The protocol is deliberately tiny:

* ``name`` — a stable identifier of the backend and its settings (goes into
  caches and reports);
* ``dim`` — the length of every vector it returns;
* ``embed(texts)`` — a ``float32`` array of shape ``(len(texts), dim)``, one row
  per text in the same order; an empty input gives shape ``(0, dim)``; equal texts
  give equal rows; the result does not depend on the other texts in the batch once
  the backend is fitted (a pretrained model is always "fitted").

Backends import their heavy dependencies lazily. :class:`TfidfEmbedder` is the
always-available baseline (scikit-learn only): character n-grams, so Chinese and
other languages without spaces work without a tokenizer, reduced with a truncated
SVD (latent semantic analysis). Better multilingual backends (e5 and friends) are
added beside it and must pass the same conformance tests
(``tests/text/test_embed.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from growthkit.errors import ConfigError

log = logging.getLogger(__name__)

FloatMatrix = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Something that maps texts to ``float32`` vectors of length :attr:`dim`.

    Examples
    --------
    >>> emb = TfidfEmbedder(dim=4).fit(["red shoes", "blue shoes", "红色 鞋子"])
    >>> isinstance(emb, Embedder)
    True
    >>> emb.embed(["red shoes", "红色 鞋子"]).shape
    (2, 4)
    """

    @property
    def name(self) -> str:
        """Stable identifier of the backend and its settings."""

    @property
    def dim(self) -> int:
        """Length of every vector :meth:`embed` returns."""

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """One ``float32`` row of length :attr:`dim` per text, in input order."""


class TfidfEmbedder:
    """Character n-gram TF-IDF reduced by a truncated SVD to ``dim`` dimensions.

    A deterministic, model-free baseline (latent semantic analysis; Deerwester et
    al., 1990, "Indexing by latent semantic analysis", JASIS 41(6)). Character
    n-grams (1 to 3 by default) need no tokenizer, so Chinese, Japanese and mixed
    text work as well as English. Rows are L2-normalised; texts without any known
    n-gram (or empty texts) get the zero vector.

    The vocabulary and the SVD are learned by :meth:`fit`. :meth:`embed` on an
    unfitted embedder first fits it on the texts it is given (so the vectors of
    one call are comparable with each other; call :meth:`fit` once on a
    reference corpus to make later calls comparable too). When the corpus has
    fewer distinct n-grams or texts than ``dim``, the trailing dimensions are zero.

    Parameters
    ----------
    dim : int
        Output dimension (the number of SVD components kept).
    ngram_range : tuple of int
        Smallest and largest character n-gram.
    max_features : int or None
        Keep only this many most frequent n-grams (bounds memory on large corpora).
    random_state : int
        Seed of the randomised SVD; fixed seed, same corpus -> same vectors.

    Examples
    --------
    >>> emb = TfidfEmbedder(dim=3, random_state=0)
    >>> v = emb.fit(["good value", "great value", "bad quality", "质量很好"]).embed(["good value"])
    >>> v.shape, v.dtype, emb.name
    ((1, 3), dtype('float32'), 'tfidf-char1-3-svd3')
    >>> bool(abs(float((v**2).sum()) - 1.0) < 1e-5)
    True
    """

    def __init__(
        self,
        dim: int = 64,
        *,
        ngram_range: tuple[int, int] = (1, 3),
        max_features: int | None = 100_000,
        random_state: int = 0,
    ) -> None:
        self._dim = dim
        self.ngram_range = ngram_range
        self.max_features = max_features
        self.random_state = random_state
        self.vectorizer_: Any = None
        self.svd_: Any = None
        self.fitted_ = False

    @property
    def name(self) -> str:
        lo, hi = self.ngram_range
        return f"tfidf-char{lo}-{hi}-svd{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _check_params(self) -> None:
        if isinstance(self._dim, bool) or not isinstance(self._dim, int) or self._dim < 1:
            raise ConfigError(f"TfidfEmbedder dim must be a positive integer, not {self._dim!r}")
        lo, hi = self.ngram_range
        if not 1 <= lo <= hi:
            raise ConfigError(f"ngram_range must be (lo, hi) with 1 <= lo <= hi, not {self.ngram_range!r}")

    def fit(self, texts: Sequence[str]) -> TfidfEmbedder:
        """Learn the n-gram vocabulary, IDF weights and the SVD from ``texts``; returns ``self``."""
        self._check_params()
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs = [str(t) for t in texts]
        self.vectorizer_, self.svd_ = None, None
        self.fitted_ = True
        if not any(docs):
            log.debug("TfidfEmbedder fitted on no text: every vector will be zero")
            return self
        vec = TfidfVectorizer(
            analyzer="char",
            ngram_range=self.ngram_range,
            max_features=self.max_features,
            lowercase=True,
            dtype=np.float64,
        )
        x = vec.fit_transform(docs)
        self.vectorizer_ = vec
        k = min(self._dim, x.shape[1] - 1, x.shape[0] - 1)
        if k >= 1:
            self.svd_ = TruncatedSVD(n_components=k, algorithm="randomized", n_iter=7, random_state=self.random_state)
            self.svd_.fit(x)
        return self

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Vectors of ``texts`` (fitting on them first when :meth:`fit` was never called)."""
        docs = [str(t) for t in texts]
        if not self.fitted_:
            self.fit(docs)
        out = np.zeros((len(docs), self._dim), dtype=np.float64)
        if not docs or self.vectorizer_ is None:
            return out.astype(np.float32)
        x = self.vectorizer_.transform(docs)
        if self.svd_ is not None:
            z = np.asarray(self.svd_.transform(x), dtype=np.float64)
        else:  # a corpus too small for an SVD: the raw TF-IDF columns, truncated or zero-padded
            z = np.asarray(x[:, : self._dim].toarray(), dtype=np.float64)
        out[:, : z.shape[1]] = z
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out.astype(np.float32)

    def __repr__(self) -> str:
        return f"TfidfEmbedder(dim={self._dim}, ngram_range={self.ngram_range}, random_state={self.random_state})"
