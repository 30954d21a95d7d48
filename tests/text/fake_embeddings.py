"""Stand-ins for embedding models in tests: hashed character bigrams, an OpenAI-compatible server, a fake
``sentence_transformers`` module."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
import types
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import numpy as np
import pytest


def hashed_bigrams(texts: Sequence[str], dim: int = 64) -> np.ndarray:
    """One unit-length float32 row per text: its character bigrams hashed into ``dim`` buckets (zero for '')."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        t = f" {text.lower()} "
        for j in range(len(t) - 1):
            h = int.from_bytes(hashlib.blake2b(t[j : j + 2].encode(), digest_size=8).digest(), "big")
            out[i, h % dim] += 1.0 if (h >> 32) & 1 else -1.0
        n = np.linalg.norm(out[i])
        if n > 0:
            out[i] /= n
    return out


class EmbeddingsHandler(BaseHTTPRequestHandler):
    """``POST /v1/embeddings``: hashed-bigram vectors; scripted failures first; records every request."""

    fail_first: ClassVar[list[int]] = []
    seen: ClassVar[list[dict[str, Any]]] = []
    dim: ClassVar[int] = 64
    as_base64: ClassVar[bool] = False

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        cls.seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if cls.fail_first:
            code = cls.fail_first.pop(0)
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "scripted failure"}}')
            return
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if any(t == "" for t in texts):  # like OpenAI: empty strings are invalid input
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "input cannot be an empty string"}}')
            return
        vectors = hashed_bigrams(texts, body.get("dimensions") or cls.dim)
        items = []
        for i, v in enumerate(vectors):
            emb: Any = base64.b64encode(v.astype("<f4").tobytes()).decode() if cls.as_base64 else v.tolist()
            items.append({"object": "embedding", "index": i, "embedding": emb})
        data = json.dumps({"object": "list", "data": items[::-1], "model": body["model"]}).encode()  # any order
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def embeddings_server() -> Iterator[str]:
    """A tiny OpenAI-compatible embeddings server on 127.0.0.1; yields its base URL."""
    EmbeddingsHandler.fail_first, EmbeddingsHandler.seen = [], []
    EmbeddingsHandler.dim, EmbeddingsHandler.as_base64 = 64, False
    srv = ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingsHandler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    finally:
        srv.shutdown()
        srv.server_close()


class FakeSentenceTransformer:
    """The part of ``sentence_transformers.SentenceTransformer`` the backend uses."""

    def __init__(self, name: str, device: str = "cpu") -> None:
        self.name, self.device, self.calls = name, device, 0

    def get_sentence_embedding_dimension(self) -> int:
        return 32

    def encode(self, docs: list[str], **kw: Any) -> np.ndarray:
        self.calls += 1
        assert kw["convert_to_numpy"] and not kw["show_progress_bar"]
        return hashed_bigrams(docs, 32).astype(np.float64)  # the backend must return float32


def fake_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    mod = types.ModuleType("sentence_transformers")
    mod.SentenceTransformer = FakeSentenceTransformer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", mod)
