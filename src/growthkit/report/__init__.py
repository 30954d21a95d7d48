"""The self-contained HTML growth report: pure-Python SVG charts and page assembly.

An adapter at the top layer, beside the CLI: :func:`growthkit.workflows.report.gather_report`
computes the insights from a store; :func:`write_report` turns them into one file
with no database access of its own. ``growthkit report`` and ``growthkit demo`` use both.
"""

from growthkit.report.charts import Series, bar_chart, line_chart
from growthkit.report.figures import FunnelStep, Kpi, funnel_chart, heatmap, kpi_tiles
from growthkit.report.format import Html, Unit, esc
from growthkit.report.html import Figure, ReportMeta, Section, render_page, table
from growthkit.report.intervals import Interval, interval_chart
from growthkit.report.page import ReportResult, build_sections, render_report, write_report

__all__ = [
    "Figure",
    "FunnelStep",
    "Html",
    "Interval",
    "Kpi",
    "ReportMeta",
    "ReportResult",
    "Section",
    "Series",
    "Unit",
    "bar_chart",
    "build_sections",
    "esc",
    "funnel_chart",
    "heatmap",
    "interval_chart",
    "kpi_tiles",
    "line_chart",
    "render_page",
    "render_report",
    "table",
    "write_report",
]
