"""Use cases for the language model: which generator the settings ask for, the default model, a prompt.

The text layer (:mod:`growthkit.text.llm`) builds a generator from a model *path*; the
model registry (:mod:`growthkit.datasets.models`) fetches pinned GGUF files. This module
joins the two, so every workflow that writes text gets the same generator:

* ``llm_backend=llama_cpp`` without ``llm_model_path`` uses the registry's default model
  (SmolLM2-135M-Instruct Q4_1), fetched and verified on first use (``fetch=True``) or
  taken from the cache only (``fetch=False``; a :class:`ConfigError` says to run
  ``growthkit llm fetch`` when it is not there);
* ``llm_backend=auto`` keeps its meaning: the local model when ``llm_model_path`` is
  set, else the OpenAI-compatible endpoint when ``openai_base_url`` is set, else the
  template backend. It never downloads a model and never picks the cached default
  model by itself, so a machine without configuration stays deterministic and offline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from growthkit.config import Settings
from growthkit.datasets.fetch import ProgressFn
from growthkit.datasets.models import DEFAULT_MODEL, MODELS, Model, cached_model, fetch_model, model_path
from growthkit.errors import ConfigError
from growthkit.text.llm import Generation, GenerationRequest, Message, Renderer, TextGenerator, make_generator

log = logging.getLogger(__name__)


def list_models() -> list[Model]:
    """The registered local models, by name."""
    return [MODELS[k] for k in sorted(MODELS)]


def fetch_llm(settings: Settings, name: str = DEFAULT_MODEL, *, progress: ProgressFn | None = None) -> Path:
    """Download (or reuse the verified cached copy of) model ``name``; returns the GGUF file."""
    return fetch_model(name, settings, progress=progress)


def resolve_backend(settings: Settings) -> str:
    """The backend :func:`generator_from_settings` builds: ``llama_cpp``, ``openai`` or ``template``."""
    choice = settings.llm_backend
    if choice != "auto":
        return choice
    if settings.llm_model_path is not None:
        return "llama_cpp"
    if settings.openai_base_url:
        return "openai"
    return "template"


def local_model_path(settings: Settings, *, fetch: bool = True, progress: ProgressFn | None = None) -> Path:
    """The GGUF file of the ``llama_cpp`` backend: ``llm_model_path``, else the default model.

    Raises
    ------
    ConfigError
        ``fetch=False`` and the default model is not in the cache (or fails its checksum).
    DatasetError
        ``fetch=True`` and the download or the verification failed.
    """
    if settings.llm_model_path is not None:
        return settings.llm_model_path
    if fetch:
        return fetch_model(DEFAULT_MODEL, settings, progress=progress)
    path = cached_model(DEFAULT_MODEL, settings)
    if path is None:
        raise ConfigError(
            f"the default model {DEFAULT_MODEL} is not in {model_path(DEFAULT_MODEL, settings).parent}: "
            "run 'growthkit llm fetch', or set GROWTHKIT_LLM_MODEL_PATH to a .gguf file"
        )
    return path


def generator_from_settings(
    settings: Settings,
    *,
    renderers: Mapping[str, Renderer] | None = None,
    fetch: bool = True,
    progress: ProgressFn | None = None,
) -> TextGenerator:
    """The text generator the settings ask for, with the default local model filled in.

    Parameters
    ----------
    settings
        ``llm_backend`` and the backend's settings (see :func:`growthkit.text.llm.make_generator`).
    renderers
        Template renderers by task, for the template backend.
    fetch
        With ``llm_backend=llama_cpp`` and no ``llm_model_path``: download the default model
        when it is not cached (``True``), or require the cached copy (``False``).
    progress
        ``progress(what, fraction)`` while a model is fetched.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> generator_from_settings(Settings(db=":memory:", llm_backend="template")).backend
    'template'
    >>> gen = generator_from_settings(Settings(llm_backend="llama_cpp", llm_threads=1))  # doctest: +SKIP
    >>> gen.model  # doctest: +SKIP
    'SmolLM2-135M-Instruct.Q4_1.gguf'
    """
    if resolve_backend(settings) == "llama_cpp" and settings.llm_model_path is None:
        path = local_model_path(settings, fetch=fetch, progress=progress)
        log.info("llama_cpp backend: default model %s at %s", DEFAULT_MODEL, path)
        settings = settings.model_copy(update={"llm_model_path": path})
    return make_generator(settings, renderers=renderers)


@dataclass(frozen=True)
class LLMInfo:
    """What the settings select, and the state of the registered models."""

    backend: str
    requested: str
    model: str | None
    model_path: str | None
    model_ready: bool | None
    """The local model file is there (and, for a registered model, verified); ``None`` for other backends."""
    model_source: str | None
    """``settings`` (``llm_model_path``), ``registry`` (the default model) or ``None`` (not a local model)."""
    threads: int
    context: int
    openai_base_url: str | None
    models: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "requested": self.requested,
            "model": self.model,
            "model_path": self.model_path,
            "model_ready": self.model_ready,
            "model_source": self.model_source,
            "threads": self.threads,
            "context": self.context,
            "openai_base_url": self.openai_base_url,
            "models": list(self.models),
        }


def llm_info(settings: Settings) -> LLMInfo:
    """Which backend and model the settings select, whether the model is ready, and the registry.

    Nothing is downloaded; checking the cached default model hashes it (about 0.2 s).
    """
    backend = resolve_backend(settings)
    model: str | None = None
    path: Path | None = None
    ready: bool | None = None
    source: str | None = None
    if backend == "llama_cpp":
        if settings.llm_model_path is not None:
            path, source = settings.llm_model_path, "settings"
            ready = path.is_file()
        else:
            found = cached_model(DEFAULT_MODEL, settings)
            path, source = found or model_path(DEFAULT_MODEL, settings), "registry"
            ready = found is not None
        model = path.name
    elif backend == "openai":
        model = settings.openai_model
    elif backend == "template":
        model = "template"
    models = tuple(
        {
            "name": m.name,
            "source": m.requirement,
            "file": m.filename,
            "sha256": m.member.sha256,
            "parameters": m.parameters,
            "quantisation": m.quantisation,
            "languages": m.languages,
            "licence": m.licence,
            "size": m.size,
            "default": m.name == DEFAULT_MODEL,
            "cached": str(model_path(m, settings)) if cached_model(m, settings) is not None else None,
        }
        for m in list_models()
    )
    return LLMInfo(
        backend=backend,
        requested=settings.llm_backend,
        model=model,
        model_path=str(path) if path is not None else None,
        model_ready=ready,
        model_source=source,
        threads=settings.llm_threads,
        context=settings.llm_context,
        openai_base_url=settings.openai_base_url if backend == "openai" else None,
        models=models,
    )


def generate_text(
    settings: Settings,
    prompt: str,
    *,
    system: str = "You are a helpful assistant. Answer briefly.",
    max_tokens: int = 128,
    temperature: float = 0.7,
    seed: int | None = 0,
    fetch: bool = True,
) -> Generation:
    """Answer one prompt with the configured generator (the template backend echoes the prompt)."""
    if not prompt.strip():
        raise ConfigError("the prompt is empty: pass some text to generate from")
    gen = generator_from_settings(settings, fetch=fetch)
    messages = (Message("system", system), Message("user", prompt)) if system else (Message("user", prompt),)
    return gen.generate(GenerationRequest(messages=messages, max_tokens=max_tokens, temperature=temperature, seed=seed))


__all__ = [
    "DEFAULT_MODEL",
    "LLMInfo",
    "fetch_llm",
    "generate_text",
    "generator_from_settings",
    "list_models",
    "llm_info",
    "local_model_path",
    "resolve_backend",
]
