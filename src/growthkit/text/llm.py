"""Text generation behind one small protocol, with local, remote and template backends.

Every backend answers one call, :meth:`TextGenerator.generate`, with a
:class:`Generation` that says which backend and model wrote the text, how many tokens
it took and how long. Three backends:

* ``llama_cpp``: a local GGUF model through ``llama-cpp-python`` (the ``[llm]`` extra);
  :class:`LlamaCppGenerator`.
* ``openai``: any OpenAI-compatible chat-completions endpoint (OpenAI, DeepSeek,
  Qwen/DashScope, vLLM, Ollama, llama.cpp's own server); :class:`OpenAIGenerator`.
* ``template``: no model at all; deterministic text from the request's structured
  ``facts`` through a renderer registered per ``task``; every result is marked
  ``is_template=True`` and its model is ``"template"``; :class:`TemplateGenerator`.

Callers that need facts in the text (prices, segment numbers) pass them as ``facts``
and check the output; the template backend is their fallback when no model is set up.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from growthkit.config import Settings
from growthkit.errors import ConfigError, TextBackendError
from growthkit.text._http import post_json

logger = logging.getLogger(__name__)

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: Role
    content: str


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate.

    Parameters
    ----------
    messages
        The conversation for a language model.
    max_tokens, temperature, stop, seed
        Sampling controls (``seed`` where the backend supports it).
    json_schema
        When given, the answer must be one JSON object following this schema
        (grammar-constrained on ``llama_cpp``, ``response_format`` on ``openai``).
    task, facts
        A task name and its structured inputs: what the template backend renders,
        and what callers check model output against.
    """

    messages: tuple[Message, ...]
    max_tokens: int = 256
    temperature: float = 0.7
    stop: tuple[str, ...] = ()
    seed: int | None = None
    json_schema: Mapping[str, Any] | None = None
    task: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(self.messages))
        object.__setattr__(self, "stop", tuple(self.stop))
        if not self.messages and self.task is None:
            raise ValueError("a generation request needs messages (or a task for the template backend)")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"temperature must lie in [0, 2], got {self.temperature}")


@dataclass(frozen=True)
class Generation:
    """A generated text and where it came from."""

    text: str
    backend: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    finish_reason: str = "stop"
    is_template: bool = False

    def json(self) -> Any:
        """The text parsed as JSON; a :class:`TextBackendError` when it is not JSON."""
        try:
            return json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise TextBackendError(f"{self.backend}/{self.model} did not return JSON: {self.text[:120]!r}") from exc


@runtime_checkable
class TextGenerator(Protocol):
    """Anything that turns a :class:`GenerationRequest` into a :class:`Generation`."""

    backend: str
    model: str
    supports_json_schema: bool
    deterministic: bool

    def generate(self, request: GenerationRequest) -> Generation:
        """Generate one answer."""
        ...


def _approx_tokens(text: str) -> int:
    """A rough token count (4 characters per token; a CJK character counts as one)."""
    cjk = sum(1 for ch in text if "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    return cjk + max(0, (len(text) - cjk + 3) // 4)


# ---------------------------------------------------------------- template


Renderer = Callable[[Mapping[str, Any]], str]


def _generic_render(request: GenerationRequest) -> str:
    if request.json_schema is not None:
        props = request.json_schema.get("properties", {})
        keys = list(props) if isinstance(props, Mapping) else []
        return json.dumps({k: request.facts.get(k, "") for k in keys}, ensure_ascii=False, sort_keys=True)
    if request.facts:
        return "; ".join(f"{k}: {v}" for k, v in sorted(request.facts.items()))
    last = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    return last


class TemplateGenerator:
    """Deterministic text without a model: one renderer per task, from the request's facts.

    Examples
    --------
    >>> gen = TemplateGenerator({"greet": lambda f: f"Hello {f['name']}"})
    >>> out = gen.generate(GenerationRequest(messages=(), task="greet", facts={"name": "Li"}))
    >>> out.text, out.is_template, out.model
    ('Hello Li', True, 'template')
    """

    backend = "template"
    model = "template"
    supports_json_schema = True
    deterministic = True

    def __init__(self, renderers: Mapping[str, Renderer] | None = None) -> None:
        self.renderers: dict[str, Renderer] = dict(renderers or {})

    def register(self, task: str, renderer: Renderer) -> None:
        """Add or replace the renderer of ``task``."""
        self.renderers[task] = renderer

    def generate(self, request: GenerationRequest) -> Generation:
        t0 = time.perf_counter()
        renderer = self.renderers.get(request.task or "")
        text = renderer(request.facts) if renderer is not None else _generic_render(request)
        for s in request.stop:
            if s and s in text:
                text = text[: text.index(s)]
        prompt = sum(_approx_tokens(m.content) for m in request.messages)
        return Generation(
            text=text,
            backend=self.backend,
            model=self.model,
            prompt_tokens=prompt,
            completion_tokens=_approx_tokens(text),
            seconds=time.perf_counter() - t0,
            is_template=True,
        )


# ---------------------------------------------------------------- OpenAI-compatible


class OpenAIGenerator:
    """Chat completions from any OpenAI-compatible endpoint.

    Retries timeouts, connection errors, 429 and 5xx answers with exponential backoff
    (0.5 s, 1 s, 2 s, ...); other errors fail at once with the server's message.
    Only the standard library is used for HTTP.

    JSON-schema requests are sent the way ``json_mode`` says: ``"json_schema"``
    (``response_format={"type": "json_schema", ...}``: OpenAI, vLLM, Ollama),
    ``"json_object"`` (``{"type": "json_object", "schema": ...}``: DeepSeek, DashScope,
    llama-cpp-python's server, which constrains to the schema) or ``"auto"`` (the
    default): try ``json_schema`` once, and when the server refuses it with an error
    that names ``response_format``/``json_schema``, switch to ``json_object`` for this
    and every later request of the generator.
    """

    backend = "openai"
    supports_json_schema = True
    deterministic = False
    JSON_MODES = ("auto", "json_schema", "json_object")

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        json_mode: str = "auto",
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"openai_base_url must start with http:// or https://, got {base_url!r}")
        if json_mode not in self.JSON_MODES:
            raise ConfigError(f"json_mode must be one of {', '.join(self.JSON_MODES)}, not {json_mode!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.json_mode = json_mode

    def _post(self, path: str, payload: Mapping[str, Any], *, retries: int | None = None) -> dict[str, Any]:
        url = f"{self.base_url}/{path.lstrip('/')}"
        return post_json(
            url, payload, api_key=self.api_key, timeout=self.timeout,
            retries=self.retries if retries is None else retries, backoff=self.backoff, what="openai backend",
        )  # fmt: skip

    def _complete(self, payload: dict[str, Any], schema: Mapping[str, Any] | None) -> dict[str, Any]:
        """POST a chat completion, sending ``schema`` in the form the server accepts (see the class)."""
        if schema is None:
            return self._post("chat/completions", payload)
        as_object = {"type": "json_object", "schema": dict(schema)}
        if self.json_mode == "json_object":
            return self._post("chat/completions", {**payload, "response_format": as_object})
        strict = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": dict(schema), "strict": True},
        }
        if self.json_mode == "json_schema":
            return self._post("chat/completions", {**payload, "response_format": strict})
        try:  # auto: one plain attempt tells whether the server takes json_schema
            data = self._post("chat/completions", {**payload, "response_format": strict}, retries=0)
        except TextBackendError as exc:
            message = str(exc)
            if "response_format" not in message and "json_schema" not in message:
                data = self._post("chat/completions", {**payload, "response_format": strict})
                self.json_mode = "json_schema"
                return data
            logger.info("%s refuses json_schema response formats; using json_object: %s", self.base_url, message[:200])
            self.json_mode = "json_object"
            return self._post("chat/completions", {**payload, "response_format": as_object})
        self.json_mode = "json_schema"
        return data

    def generate(self, request: GenerationRequest) -> Generation:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.stop:
            payload["stop"] = list(request.stop)
        if request.seed is not None:
            payload["seed"] = request.seed
        t0 = time.perf_counter()
        data = self._complete(payload, request.json_schema)
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise TextBackendError(f"unexpected answer from {self.base_url}: {str(data)[:200]}") from exc
        usage = data.get("usage") or {}
        return Generation(
            text=text,
            backend=self.backend,
            model=str(data.get("model") or self.model),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or _approx_tokens(text)),
            seconds=time.perf_counter() - t0,
            finish_reason=str(choice.get("finish_reason") or "stop"),
        )


# ---------------------------------------------------------------- llama.cpp


class LlamaCppGenerator:
    """A local GGUF model through ``llama-cpp-python`` (install ``growthkit[llm]``).

    The model is loaded once, on first use. ``threads`` should stay at 1-2 on small
    machines: oversubscribed threads collapse throughput. JSON-schema requests are
    grammar-constrained by llama.cpp.
    """

    backend = "llama_cpp"
    supports_json_schema = True
    deterministic = True  # with a fixed seed and temperature

    def __init__(self, *, model_path: Path | str, threads: int = 2, context: int = 2048, seed: int = 0) -> None:
        self.model_path = Path(model_path)
        self.model = self.model_path.name
        self.threads = threads
        self.context = context
        self.seed = seed
        self._llm: Any = None

    def _load(self) -> Any:
        if self._llm is None:
            if not self.model_path.is_file():
                raise ConfigError(f"GGUF model file not found: {self.model_path} (set GROWTHKIT_LLM_MODEL_PATH)")
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise TextBackendError(
                    "the llama_cpp backend needs llama-cpp-python: pip install 'growthkit[llm]'"
                ) from exc
            self._llm = Llama(
                model_path=str(self.model_path),
                n_ctx=self.context,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                seed=self.seed,
                verbose=False,
            )
        return self._llm

    def generate(self, request: GenerationRequest) -> Generation:
        llm = self._load()
        kwargs: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stop": list(request.stop) or None,
            "seed": self.seed if request.seed is None else request.seed,
        }
        if request.json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": dict(request.json_schema)}
        t0 = time.perf_counter()
        out = llm.create_chat_completion(**kwargs)
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        text = choice["message"].get("content") or ""
        return Generation(
            text=text,
            backend=self.backend,
            model=self.model,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            seconds=time.perf_counter() - t0,
            finish_reason=str(choice.get("finish_reason") or "stop"),
        )


# ---------------------------------------------------------------- factory


def make_generator(settings: Settings, *, renderers: Mapping[str, Renderer] | None = None) -> TextGenerator:
    """The generator the settings ask for.

    ``llm_backend="auto"`` picks the local model when ``llm_model_path`` is set, else the
    OpenAI-compatible endpoint when ``openai_base_url`` is set, else the template backend.
    """
    choice = settings.llm_backend
    if choice == "auto":
        if settings.llm_model_path is not None:
            choice = "llama_cpp"
        elif settings.openai_base_url:
            choice = "openai"
        else:
            choice = "template"
    if choice == "template":
        return TemplateGenerator(renderers)
    if choice == "llama_cpp":
        if settings.llm_model_path is None:
            raise ConfigError("llm_backend=llama_cpp needs GROWTHKIT_LLM_MODEL_PATH (a .gguf file)")
        return LlamaCppGenerator(
            model_path=settings.llm_model_path, threads=settings.llm_threads, context=settings.llm_context
        )
    if choice == "openai":
        if not settings.openai_base_url or not settings.openai_model:
            raise ConfigError("llm_backend=openai needs GROWTHKIT_OPENAI_BASE_URL and GROWTHKIT_OPENAI_MODEL")
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAIGenerator(
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            api_key=key,
            timeout=settings.llm_timeout,
            retries=settings.llm_retries,
        )
    raise ConfigError(f"llm_backend must be auto, llama_cpp, openai or template, not {choice!r}")


def chat(system: str, user: str) -> tuple[Message, ...]:
    """A system and a user message."""
    return (Message("system", system), Message("user", user))


__all__: Sequence[str] = [
    "Generation",
    "GenerationRequest",
    "LlamaCppGenerator",
    "Message",
    "OpenAIGenerator",
    "TemplateGenerator",
    "TextGenerator",
    "chat",
    "make_generator",
]
