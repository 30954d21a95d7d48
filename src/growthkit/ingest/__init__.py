"""Getting data in (layer 2): readers, adapters, validation, quarantine, idempotent loads."""

from growthkit.ingest.api import Adapter, AdapterContext, IngestReport, available_formats, ingest
from growthkit.ingest.load import TableReport
from growthkit.ingest.mapping import MappedTable, canonical_mapping, parse_column_map
from growthkit.ingest.sources import CsvOptions, StagedSource, Stager

__all__ = [
    "Adapter",
    "AdapterContext",
    "CsvOptions",
    "IngestReport",
    "MappedTable",
    "StagedSource",
    "Stager",
    "TableReport",
    "available_formats",
    "canonical_mapping",
    "ingest",
    "parse_column_map",
]
