"""The growthkit error tree.

Every error growthkit raises on purpose derives from :class:`GrowthkitError`
and from the builtin exception it refines, so callers can catch either. Each
message says what went wrong *and what to do about it*.
"""

from __future__ import annotations


class GrowthkitError(Exception):
    """Root of all growthkit errors."""


class ConfigError(GrowthkitError, ValueError):
    """A setting is missing or invalid."""


class SchemaError(GrowthkitError, ValueError):
    """Input does not fit the data contract as a whole (not a single bad row)."""


class SourceError(GrowthkitError, OSError):
    """An input file is missing or cannot be read at all."""


class StoreError(GrowthkitError, RuntimeError):
    """The store cannot be opened or used."""


class StoreBusyError(StoreError):
    """Another process holds the store's write lock."""


class MigrationError(StoreError):
    """The store's schema version cannot be brought up to date here."""


class DatasetError(GrowthkitError, RuntimeError):
    """A sample dataset cannot be fetched or verified."""


class NotFittedError(GrowthkitError, ValueError, AttributeError):
    """An estimator was used before ``fit``."""


class TextBackendError(GrowthkitError, RuntimeError):
    """A text generator or embedder backend failed or is not available."""
