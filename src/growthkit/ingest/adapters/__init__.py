"""Adapters from public e-commerce data formats to the data contract.

One module per format; each adapter follows the
:class:`~growthkit.ingest.api.Adapter` protocol and is registered here by
the name ``growthkit ingest --format NAME`` uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from growthkit.ingest.adapters.rees46 import Rees46Adapter

if TYPE_CHECKING:
    from growthkit.ingest.api import Adapter

ADAPTERS: dict[str, Adapter] = {a.name: a for a in (Rees46Adapter(),)}
"""Registered adapters by name (the ``--format`` value)."""

__all__ = ["ADAPTERS"]
