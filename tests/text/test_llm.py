"""The text-generation seam: one conformance suite for every backend, plus backend specifics.

The ``openai`` backend is exercised here against a small OpenAI-compatible HTTP server on
127.0.0.1 written in the test (a fake for the unit tier); the integration tier runs it
against llama.cpp's own server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from growthkit.config import Settings
from growthkit.errors import ConfigError, TextBackendError
from growthkit.text.llm import (
    Generation,
    GenerationRequest,
    LlamaCppGenerator,
    Message,
    OpenAIGenerator,
    TemplateGenerator,
    TextGenerator,
    chat,
    make_generator,
)

from .llm_conformance import TextGeneratorConformance


class _Handler(BaseHTTPRequestHandler):
    """Answers chat completions by echoing the last user message; scripted failures first."""

    fail_first: ClassVar[list[int]] = []
    seen: ClassVar[list[dict[str, Any]]] = []
    refuse_json_schema: ClassVar[bool] = False

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if type(self).fail_first:
            code = type(self).fail_first.pop(0)
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "scripted failure"}}')
            return
        if type(self).refuse_json_schema and body.get("response_format", {}).get("type") == "json_schema":
            self.send_response(500)  # what llama-cpp-python's server answers
            self.end_headers()
            self.wfile.write(
                b'{"error": {"message": "loc: (body, response_format, type): expected text or json_object"}}'
            )
            return
        last = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        text = json.dumps({"echo": last}) if "response_format" in body else f"echo: {last}"
        out = {
            "model": body["model"],
            "choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3},
        }
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.fail_first = []
    _Handler.seen = []
    _Handler.refuse_json_schema = False
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture(params=["template", "openai"])
def generator(request: pytest.FixtureRequest, server: str) -> TextGenerator:
    if request.param == "template":
        return TemplateGenerator()
    return OpenAIGenerator(base_url=server, model="tiny", api_key="k", retries=0)


# ---------------------------------------------------------------- conformance


class TestConformance(TextGeneratorConformance):
    """The shared suite (``llm_conformance.py``) on the template backend and on ``openai`` against the fake."""


def test_json_answers_carry_the_facts_or_the_echo(generator: TextGenerator) -> None:
    schema = {"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"]}
    req = GenerationRequest(messages=chat("json only", "hi"), json_schema=schema, facts={"echo": "hi"})
    assert generator.generate(req).json() == {"echo": "hi"}


# ---------------------------------------------------------------- request validation


def test_request_validation() -> None:
    with pytest.raises(ValueError, match="needs messages"):
        GenerationRequest(messages=())
    with pytest.raises(ValueError, match="max_tokens"):
        GenerationRequest(messages=(Message("user", "x"),), max_tokens=0)
    with pytest.raises(ValueError, match="temperature"):
        GenerationRequest(messages=(Message("user", "x"),), temperature=3.0)


# ---------------------------------------------------------------- template


def test_template_renders_registered_task_and_honours_stop() -> None:
    gen = TemplateGenerator()
    gen.register("price", lambda f: f"{f['name']} costs {f['price']:.2f}. Buy now!")
    out = gen.generate(GenerationRequest(messages=(), task="price", facts={"name": "Tea", "price": 9.5}, stop=(".",)))
    assert out.text == "Tea costs 9"  # cut at the first stop string
    assert out.is_template and out.model == "template"


def test_template_without_renderer_lists_facts_or_echoes() -> None:
    gen = TemplateGenerator()
    r = gen.generate(GenerationRequest(messages=(), task="unknown", facts={"b": 2, "a": 1}))
    assert r.text == "a: 1; b: 2"
    assert gen.generate(GenerationRequest(messages=chat("s", "你好"))).text == "你好"


def test_template_json_with_missing_facts_leaves_visible_gaps() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    r = TemplateGenerator().generate(GenerationRequest(messages=chat("s", "u"), json_schema=schema))
    assert r.json() == {"name": ""}  # deterministic, labelled, and the caller sees the gap
    with pytest.raises(TextBackendError, match="did not return JSON"):
        Generation("not json", "x", "m", 0, 0, 0.0).json()


# ---------------------------------------------------------------- openai


def test_openai_sends_the_standard_payload(server: str) -> None:
    gen = OpenAIGenerator(base_url=server + "/", model="m1", api_key="secret", retries=0)
    req = GenerationRequest(messages=chat("sys", "q"), max_tokens=5, temperature=0.2, stop=("\n",), seed=3)
    out = gen.generate(req)
    assert out.text == "echo: q" and out.model == "m1"
    assert (out.prompt_tokens, out.completion_tokens) == (7, 3)
    seen = _Handler.seen[-1]
    assert seen["path"] == "/v1/chat/completions"
    assert seen["auth"] == "Bearer secret"
    assert seen["body"]["max_tokens"] == 5 and seen["body"]["stop"] == ["\n"] and seen["body"]["seed"] == 3
    assert seen["body"]["messages"][0] == {"role": "system", "content": "sys"}


def test_openai_retries_transient_errors(server: str) -> None:
    _Handler.fail_first = [503, 429]
    gen = OpenAIGenerator(base_url=server, model="m", retries=2, backoff=0.01)
    assert gen.generate(GenerationRequest(messages=chat("s", "x"))).text == "echo: x"
    assert len(_Handler.seen) == 3


def test_openai_gives_up_with_a_clear_error(server: str) -> None:
    _Handler.fail_first = [500, 500, 500]
    gen = OpenAIGenerator(base_url=server, model="m", retries=1, backoff=0.01)
    with pytest.raises(TextBackendError, match="gave up after 2 attempts"):
        gen.generate(GenerationRequest(messages=chat("s", "x")))


def test_openai_auth_errors_fail_at_once(server: str) -> None:
    _Handler.fail_first = [401]
    gen = OpenAIGenerator(base_url=server, model="m", retries=3, backoff=0.01)
    with pytest.raises(TextBackendError, match="openai_api_key"):
        gen.generate(GenerationRequest(messages=chat("s", "x")))
    assert len(_Handler.seen) == 1


def test_openai_json_mode_falls_back_to_json_object_once(server: str) -> None:
    _Handler.refuse_json_schema = True
    schema = {"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"]}
    gen = OpenAIGenerator(base_url=server, model="m", retries=2, backoff=0.01)
    req = GenerationRequest(messages=chat("json", "q"), json_schema=schema)
    assert gen.generate(req).json() == {"echo": "q"}
    assert gen.json_mode == "json_object"
    formats = [r["body"]["response_format"] for r in _Handler.seen]
    assert [f["type"] for f in formats] == ["json_schema", "json_object"]  # one probe, not three retries
    assert formats[1]["schema"] == schema
    gen.generate(req)
    assert [r["body"]["response_format"]["type"] for r in _Handler.seen[2:]] == ["json_object"]  # remembered
    plain = gen.generate(GenerationRequest(messages=chat("s", "x")))
    assert plain.text == "echo: x" and "response_format" not in _Handler.seen[-1]["body"]


def test_openai_json_mode_keeps_json_schema_and_retries_other_errors(server: str) -> None:
    schema = {"type": "object", "properties": {"echo": {"type": "string"}}}
    _Handler.fail_first = [503]
    gen = OpenAIGenerator(base_url=server, model="m", retries=2, backoff=0.01)
    assert gen.generate(GenerationRequest(messages=chat("s", "x"), json_schema=schema)).json() == {"echo": "x"}
    assert gen.json_mode == "json_schema"
    assert [r["body"]["response_format"]["type"] for r in _Handler.seen] == ["json_schema", "json_schema"]
    forced = OpenAIGenerator(base_url=server, model="m", json_mode="json_object")
    forced.generate(GenerationRequest(messages=chat("s", "x"), json_schema=schema))
    assert _Handler.seen[-1]["body"]["response_format"] == {"type": "json_object", "schema": schema}
    with pytest.raises(ConfigError, match="json_mode"):
        OpenAIGenerator(base_url=server, model="m", json_mode="grammar")


def test_openai_unreachable_endpoint() -> None:
    gen = OpenAIGenerator(base_url="http://127.0.0.1:9/v1", model="m", retries=0, timeout=2)
    with pytest.raises(TextBackendError, match="cannot reach"):
        gen.generate(GenerationRequest(messages=chat("s", "x")))
    with pytest.raises(ConfigError, match="http"):
        OpenAIGenerator(base_url="ftp://x", model="m")


# ---------------------------------------------------------------- factory and llama.cpp


def test_make_generator_follows_settings(tmp_path: Path) -> None:
    assert isinstance(make_generator(Settings(db=":memory:")), TemplateGenerator)
    s = Settings(db=":memory:", openai_base_url="http://127.0.0.1:1/v1", openai_model="m")
    assert isinstance(make_generator(s), OpenAIGenerator)
    s = Settings(db=":memory:", llm_model_path=tmp_path / "m.gguf")
    assert isinstance(make_generator(s), LlamaCppGenerator)
    with pytest.raises(ConfigError, match="OPENAI_BASE_URL"):
        make_generator(Settings(db=":memory:", llm_backend="openai"))
    with pytest.raises(ConfigError, match="llm_backend must be"):
        make_generator(Settings(db=":memory:", llm_backend="gpt"))


def test_llama_cpp_missing_model_file_says_what_to_set(tmp_path: Path) -> None:
    gen = LlamaCppGenerator(model_path=tmp_path / "missing.gguf")
    with pytest.raises(ConfigError, match="GROWTHKIT_LLM_MODEL_PATH"):
        gen.generate(GenerationRequest(messages=chat("s", "x")))
