"""Result and query types the workflows hand to the CLI, the service and the report."""

from growthkit.analytics._common import Breakdown, DateRange, EventFilter, NewUser, Period
from growthkit.analytics.aarrr import AarrrQuery, AarrrResult
from growthkit.analytics.aarrr_exprs import RetentionWindow
from growthkit.analytics.funnel import FunnelExclusion, FunnelQuery, FunnelResult, FunnelStep
from growthkit.analytics.lifecycle import LifecycleQuery, LifecycleResult
from growthkit.analytics.retention import RetentionQuery, RetentionResult
from growthkit.analytics.retention_ltv import LtvCurveResult, LtvQuery
from growthkit.analytics.stickiness import StickinessQuery, StickinessResult
from growthkit.analytics.trends import TrendMetric, TrendsQuery, TrendsResult
from growthkit.ingest import CsvOptions, IngestReport, TableReport
from growthkit.ingest.summary import StoreSummary, TableSummary
from growthkit.sim import SimConfig, SimManifest

__all__ = [
    "AarrrQuery",
    "AarrrResult",
    "Breakdown",
    "CsvOptions",
    "DateRange",
    "EventFilter",
    "FunnelExclusion",
    "FunnelQuery",
    "FunnelResult",
    "FunnelStep",
    "IngestReport",
    "LifecycleQuery",
    "LifecycleResult",
    "LtvCurveResult",
    "LtvQuery",
    "NewUser",
    "Period",
    "RetentionQuery",
    "RetentionResult",
    "RetentionWindow",
    "SimConfig",
    "SimManifest",
    "StickinessQuery",
    "StickinessResult",
    "StoreSummary",
    "TableReport",
    "TableSummary",
    "TrendMetric",
    "TrendsQuery",
    "TrendsResult",
]
