"""The whole report: gathered insight results in, one self-contained HTML file out."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from growthkit.report.build import Periods, kpi_section, lifecycle_section, stickiness_figure
from growthkit.report.build import trends_section as build_trends
from growthkit.report.build_churn import churn_section
from growthkit.report.build_clv import clv_section
from growthkit.report.build_cohorts import aarrr_section, funnel_section, ltv_section, retention_section
from growthkit.report.build_experiments import experiments_section
from growthkit.report.build_recommend import recommend_section
from growthkit.report.build_segments import segments_section
from growthkit.report.format import Unit
from growthkit.report.html import ReportMeta, Section, render_page
from growthkit.workflows.report import ReportData


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` wrote: the file, the range, which sections, and what was left out."""

    path: Path
    start: str
    end: str
    sections: tuple[str, ...]
    skipped: tuple[str, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "start": self.start,
            "end": self.end,
            "sections": list(self.sections),
            "skipped": list(self.skipped),
            "seconds": round(self.seconds, 3),
        }


def build_sections(data: ReportData) -> list[Section]:
    """The report's sections, in order, from the gathered insight results."""
    periods = Periods(data.current, data.previous)
    money = Unit.money(data.currency)
    trends = build_trends(data.daily, data.current, money)
    sticky = stickiness_figure(data.stickiness, data.current)
    sections = [
        kpi_section(data.daily, periods, money, list(data.notes)),
        Section(trends.key, trends.title, (*trends.figures, sticky), trends.lead, trends.notes, trends.wide),
        aarrr_section(data.aarrr, money),
        funnel_section(data.funnel),
        retention_section(data.retention),
        ltv_section(data.ltv, money),
        lifecycle_section(data.lifecycle),
        experiments_section(data.experiments, data.experiment_notes),
    ]
    sections += [churn_section(data.churn, money)] if data.churn else []
    sections += [segments_section(data.segments)] if data.segments else []
    sections += [recommend_section(data.recommend)] if data.recommend is not None else []
    return sections + ([clv_section(data.clv)] if data.clv is not None else [])


def _meta(data: ReportData) -> ReportMeta:
    return ReportMeta(
        store=data.store,
        start=data.current.start,
        end=data.current.end,
        generated=data.generated,
        currency=data.currency,
    )


def render_report(data: ReportData) -> str:
    """The report page as one HTML string (inline CSS and SVG, no scripts, no external references)."""
    return render_page(_meta(data), build_sections(data))


def write_report(data: ReportData, out: Path) -> ReportResult:
    """Write the report of ``data`` to ``out`` (folders created; replaced atomically)."""
    t0 = time.perf_counter()
    sections = build_sections(data)
    page = render_page(_meta(data), sections)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    skipped = tuple(s.key for s in sections if s.notes and not s.figures)
    return ReportResult(
        out,
        data.current.start.isoformat(),
        data.current.end.isoformat(),
        tuple(s.key for s in sections),
        skipped,
        time.perf_counter() - t0,
    )
