"""The engine seam: a small protocol every store backend implements."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa


@runtime_checkable
class Store(Protocol):
    """Where the canonical tables live.

    Layers above ``store`` never open a database connection themselves; they
    go through this protocol (SQL for loading, Ibis for analytics).
    """

    location: str
    read_only: bool

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement that returns nothing of interest."""

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run a query and return its result as an Arrow table."""

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Run a query and return the first column of its first row."""

    def transaction(self) -> AbstractContextManager[None]:
        """All statements inside commit together or not at all."""

    def register(self, name: str, data: Any) -> AbstractContextManager[None]:
        """Expose an Arrow table/reader or DataFrame as a view for the block's duration."""

    def progress(self) -> float | None:
        """How far the statement running now is (0..1), or None; may be called from another thread."""

    def tables(self) -> list[str]:
        """Names of the tables in the store."""

    def schema_version(self) -> int:
        """The schema version the store is at."""

    def ibis(self) -> Any:
        """An Ibis backend on this store, for analytics expressions."""

    def iter_batches(self, sql: str, batch_size: int = 100_000) -> Iterator[pa.RecordBatch]:
        """Stream a query's result in Arrow batches."""

    def close(self) -> None:
        """Release the connection (and the file lock)."""

    def __enter__(self) -> Store:
        """Use the store in a ``with`` block; it closes at the end."""

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
