"""Loading a sample dataset into a store through the ingest adapters."""

from __future__ import annotations

import logging

from growthkit.config import Settings
from growthkit.datasets.fetch import Downloader, ProgressFn, fetch, resolve
from growthkit.datasets.registry import Dataset
from growthkit.ingest import IngestReport, ingest
from growthkit.store import Store

log = logging.getLogger(__name__)


def load(
    dataset: str | Dataset,
    store: Store,
    settings: Settings,
    *,
    progress: ProgressFn | None = None,
    downloader: Downloader | None = None,
) -> IngestReport:
    """Fetch a sample dataset (or use the cached copy) and ingest it with its adapter.

    Loading twice loads nothing new: the ingest core recognises every row.

    Parameters
    ----------
    dataset
        A name from :data:`~growthkit.datasets.DATASETS`.
    store
        A writable store.
    settings
        Gives ``cache_dir``, the time zone and the PII key.

    Returns
    -------
    IngestReport
        The row accounting per table.

    Raises
    ------
    DatasetError
        The dataset cannot be fetched or verified.

    Examples
    --------
    >>> from growthkit.store import open_store
    >>> s = Settings(db=":memory:")
    >>> with open_store(s) as st:  # doctest: +SKIP
    ...     load("cdnow-sample", st, s).rows_loaded
    9276
    """
    ds = resolve(dataset)
    folder = fetch(ds, settings, progress=progress, downloader=downloader)
    files = [folder / m.filename for m in ds.members]
    report = ingest(store, settings, files, fmt=ds.adapter, options=dict(ds.options), progress=progress)
    log.info("dataset %s: %d rows loaded, %d quarantined", ds.name, report.rows_loaded, report.rows_quarantined)
    return report
