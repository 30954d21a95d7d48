"""Result types the workflows hand to the CLI, the service and the report."""

from growthkit.ingest import CsvOptions, IngestReport, TableReport
from growthkit.ingest.summary import StoreSummary, TableSummary
from growthkit.sim import SimConfig, SimManifest

__all__ = ["CsvOptions", "IngestReport", "SimConfig", "SimManifest", "StoreSummary", "TableReport", "TableSummary"]
