"""An optional embedder on any sentence-transformers model (needs PyTorch).

``sentence-transformers`` pulls in PyTorch (install the CPU build first:
``pip install torch --index-url https://download.pytorch.org/whl/cpu``, then
``pip install sentence-transformers``). A model is a Hugging Face hub name (downloaded
once into the hub cache; needs network on first use) or a local folder (no network).
Nothing is imported until the first embedding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from growthkit.errors import ConfigError, TextBackendError
from growthkit.text.embed import FloatMatrix

DEFAULT_MODEL = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"
"""Multilingual (50+ languages incl. Chinese), 384 dimensions, no prefix needed."""

INSTALL_HINT = (
    "the sentence_transformers embedder needs PyTorch and sentence-transformers: "
    "pip install torch --index-url https://download.pytorch.org/whl/cpu && pip install sentence-transformers"
)


class SentenceTransformerEmbedder:
    """Vectors from a sentence-transformers model, on the CPU by default.

    Parameters
    ----------
    model : str
        Hub name or local folder of the model.
    prefix : str
        Put before every text; e5 models want ``"query: "`` or ``"passage: "``.
    device : str
        ``cpu``, ``cuda``, ``mps``.
    batch_size : int
        Texts per forward pass.
    normalize : bool
        L2-normalise the vectors (cosine similarity becomes a dot product).

    Examples
    --------
    >>> emb = SentenceTransformerEmbedder("intfloat/multilingual-e5-small", prefix="query: ")  # doctest: +SKIP
    >>> emb.embed(["物流很快", "fast delivery"]).shape  # doctest: +SKIP
    (2, 384)
    """

    backend = "sentence_transformers"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        prefix: str = "",
        device: str = "cpu",
        batch_size: int = 32,
        normalize: bool = True,
    ) -> None:
        self.model_name = model
        self.prefix = prefix
        self.device = device
        self.batch_size = batch_size
        self.normalize = normalize
        self._model: Any = None
        self._dim: int | None = None

    @property
    def name(self) -> str:
        tag = f"-{self.prefix.strip().rstrip(':')}" if self.prefix.strip() else ""
        norm = "" if self.normalize else "-raw"
        return f"st-{self.model_name}{tag}{norm}"

    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loaded on the first call)."""
        if self._model is None:
            if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
                raise ConfigError(f"batch_size must be a positive integer, not {self.batch_size!r}")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise TextBackendError(INSTALL_HINT) from exc
            try:
                self._model = SentenceTransformer(self.model_name, device=self.device)
            except OSError as exc:  # unknown name, no network for a hub model, bad folder
                raise TextBackendError(
                    f"cannot load sentence-transformers model {self.model_name!r}: {exc}. Give a local folder "
                    "or a hub name reachable from here."
                ) from exc
            self._dim = int(self._model.get_sentence_embedding_dimension())
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.model()
        assert self._dim is not None
        return self._dim

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """One ``float32`` row per text, in input order."""
        model = self.model()
        docs = [self.prefix + str(t) for t in texts]
        if not docs:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = model.encode(
            docs,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=self.normalize,
            show_progress_bar=False,
        )
        vectors = np.asarray(out, dtype=np.float32).reshape(len(docs), -1)
        if vectors.shape[1] != self.dim:
            raise TextBackendError(f"{self.name} returned {vectors.shape[1]} dimensions, expected {self.dim}")
        return vectors

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.model_name!r}, prefix={self.prefix!r}, device={self.device!r})"
