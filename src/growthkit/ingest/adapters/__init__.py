"""Adapters from public e-commerce data formats to the data contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from growthkit.ingest.api import Adapter

ADAPTERS: dict[str, Adapter] = {}
"""Registered adapters by name (the ``--format`` value)."""
