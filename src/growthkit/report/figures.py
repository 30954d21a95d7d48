"""Funnel bars, the cohort heatmap and KPI tiles.

Same rules as :mod:`growthkit.report.charts`: escaped text, native tooltips,
a placeholder instead of a blank box when there is no data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from growthkit.report.format import Html, Unit, esc, fmt_delta
from growthkit.report.svg import INK, MUTED, colour, empty, frame, line, num, rect, text

HEAT_LOW = (237, 243, 252)
HEAT_HIGH = (22, 70, 160)


@dataclass(frozen=True)
class FunnelStep:
    """One step of a funnel: its name and how many entered it."""

    name: str
    count: float


def funnel_chart(steps: Sequence[FunnelStep], *, title: str, unit: Unit | None = None, width: int = 560) -> Html:
    """Horizontal bars, widths relative to the first step; each row says its share of the start and of the step before.

    Examples
    --------
    >>> svg = funnel_chart([FunnelStep("view", 100), FunnelStep("buy", 7)], title="Funnel")
    >>> "7.0% of view" in svg and "7.0% of previous" in svg
    True
    """
    if not steps or steps[0].count <= 0:
        return empty(title, "No one entered the funnel in this period")
    unit = unit or Unit.count()
    name_w = min(170.0, 16 + 6.8 * max(len(s.name) for s in steps))
    left, right = name_w, width - 130
    row, top = 52, 8
    height = int(top + row * len(steps) + 8)
    first = steps[0].count
    parts: list[Html] = []
    for i, step in enumerate(steps):
        y = top + i * row
        share = step.count / first if first else 0.0
        w = max((right - left) * share, 2.0)
        prev = steps[i - 1].count if i else step.count
        conv = step.count / prev if prev else 0.0
        tip = f"{step.name}: {unit.format(step.count)} ({share:.1%} of {steps[0].name})"
        parts.append(rect(left, y, right - left, 40, "#f0f3f8", rx=4))
        parts.append(rect(left, y, w, 40, colour(0), tip=tip, rx=4, extra=f' fill-opacity="{num(1 - 0.09 * i)}"'))
        parts.append(text(left - 10, y + 20, step.name, anchor="end", size=12.5, fill=INK, baseline="middle"))
        parts.append(text(right + 12, y + 12, unit.format(step.count), size=13, fill=INK, weight="600"))
        if i:
            parts.append(text(right + 12, y + 26, f"{share:.1%} of {steps[0].name}", size=10.5, fill=MUTED))
            parts.append(text(right + 12, y + 39, f"{conv:.1%} of previous", size=10.5, fill=MUTED))
        else:
            parts.append(text(right + 12, y + 26, "entered the funnel", size=10.5, fill=MUTED))
    return frame(width, height, title, parts)


def heat_colour(t: float) -> str:
    """Sequential blue scale: 0 -> pale, 1 -> deep blue (gamma-lifted so small rates stay visible)."""
    t = min(max(t, 0.0), 1.0) ** 0.6
    rgb = (round(a + (b - a) * t) for a, b in zip(HEAT_LOW, HEAT_HIGH, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    unit: Unit | None = None,
    row_notes: Sequence[str] | None = None,
    vmax: float | None = None,
    row_caption: str = "",
    col_caption: str = "",
    width: int = 560,
) -> Html:
    """A matrix of cells coloured on one scale, each labelled with its value; ``None`` cells stay blank.

    ``row_notes`` (e.g. cohort sizes) are written beside the row labels. The
    colour scale runs from 0 to ``vmax`` (default: the largest value) and is
    drawn as a key under the grid.

    Examples
    --------
    >>> svg = heatmap(["Jan 6"], ["W0", "W1"], [[1.0, 0.25]], title="Retention", unit=Unit.percent())
    >>> "25%" in svg and "W1" in svg
    True
    """
    unit = unit or Unit.percent()
    flat = [float(v) for r in values for v in r if v is not None and not math.isnan(v)]
    if not rows or not cols or not flat:
        return empty(title)
    if len(values) != len(rows) or any(len(r) != len(cols) for r in values):
        raise ValueError(f"heatmap needs {len(rows)} rows of {len(cols)} values")
    notes = list(row_notes) if row_notes is not None else [""] * len(rows)
    top_v = vmax if vmax is not None else max(max(flat), 1e-12)
    label_w = 14 + 6.6 * max(len(r) for r in rows)
    note_w = (10 + 6.2 * max(len(n) for n in notes)) if any(notes) else 0.0
    left = label_w + note_w
    cell_w = min(64.0, (width - left - 12) / len(cols))
    cell_h = 24.0
    top = 34.0 if col_caption else 22.0
    height = int(top + cell_h * len(rows) + 56)
    parts: list[Html] = []
    if col_caption:
        parts.append(text(left, 12, col_caption, size=11))
    if row_caption:
        parts.append(text(6, top - 8, row_caption, size=11))
    for j, c in enumerate(cols):
        parts.append(text(left + cell_w * (j + 0.5), top - 8, c, anchor="middle", size=11, cls="tick"))
    small = "percent" if unit.kind == "percent" else ""
    for i, (rname, note, rvals) in enumerate(zip(rows, notes, values, strict=True)):
        y = top + i * cell_h
        parts.append(text(6, y + cell_h / 2, rname, size=11.5, fill=INK, baseline="middle"))
        if note:
            parts.append(text(left - 8, y + cell_h / 2, note, anchor="end", size=10.5, baseline="middle"))
        for j, v in enumerate(rvals):
            if v is None or math.isnan(v):
                continue
            t = float(v) / top_v if top_v else 0.0
            fill = heat_colour(t)
            x = left + j * cell_w
            tip = f"{rname} · {cols[j]}: {unit.format(float(v))}"
            parts.append(rect(x + 1, y + 1, cell_w - 2, cell_h - 2, fill, tip=tip, rx=2))
            lab = unit.format(float(v), digits=0 if small and float(v) >= 0.1 else 1)
            ink = "#ffffff" if t**0.6 > 0.5 else INK
            parts.append(
                text(x + cell_w / 2, y + cell_h / 2 + 0.5, lab, anchor="middle", size=10.5, fill=ink, baseline="middle")
            )
    # colour key
    ky = top + cell_h * len(rows) + 20
    steps = 10
    kw = min(220.0, cell_w * len(cols))
    for k in range(steps):
        parts.append(rect(left + k * kw / steps, ky, kw / steps + 0.5, 10, heat_colour((k + 0.5) / steps)))
    parts.append(text(left, ky + 24, unit.format(0.0, digits=0), size=10.5))
    parts.append(text(left + kw, ky + 24, unit.format(top_v, digits=0), anchor="end", size=10.5))
    parts.append(line(left, ky + 10, left + kw, ky + 10, MUTED, 0.6))
    return frame(width, height, title, parts)


@dataclass(frozen=True)
class Kpi:
    """A headline number: label, value in a unit, change against the previous period, an optional sparkline."""

    label: str
    value: float | None
    unit: Unit
    change: float | None = None
    note: str = ""
    spark: Sequence[float] = ()
    higher_is_better: bool = True


def sparkline(values: Sequence[float], *, stroke: str = "#2f6fde", width: int = 160, height: int = 30) -> Html:
    """A tiny unlabelled trend line for a KPI tile (empty markup for fewer than two values)."""
    vals = [float(v) for v in values if v is not None and not math.isnan(v)]
    if len(vals) < 2:
        return Html("")
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    pts = " ".join(
        f"{num(2 + i * (width - 4) / (len(vals) - 1))},{num(height - 3 - (v - lo) / span * (height - 6))}"
        for i, v in enumerate(vals)
    )
    return Html(
        f'<svg class="spark" viewBox="0 0 {width} {height}" preserveAspectRatio="none" aria-hidden="true">'
        f'<polyline points="{pts}" fill="none" stroke="{stroke}" stroke-width="1.8" stroke-linejoin="round" '
        'vector-effect="non-scaling-stroke"/></svg>'
    )


def kpi_tiles(tiles: Sequence[Kpi]) -> Html:
    """A row of KPI tiles (HTML) with the value, its change (green when good, red when bad) and a sparkline."""
    if not tiles:
        return Html('<p class="note">No headline numbers for this period.</p>')
    out: list[str] = ['<div class="kpis">']
    for k in tiles:
        delta = ""
        if k.change is not None and math.isfinite(k.change):
            good = (k.change >= 0) == k.higher_is_better
            cls = "flat" if abs(k.change) < 0.0005 else ("up" if good else "down")
            arrow = "▲" if k.change > 0 else ("▼" if k.change < 0 else "■")
            delta = f'<span class="delta {cls}">{arrow} {esc(fmt_delta(k.change))}</span>'
        note = f'<div class="kpi-note">{esc(k.note)}</div>' if k.note else ""
        out.append(
            '<div class="kpi">'
            f'<div class="kpi-label">{esc(k.label)}</div>'
            f'<div class="kpi-value">{esc(k.unit.format(k.value))}</div>'
            f'<div class="kpi-foot">{delta}</div>{sparkline(k.spark)}{note}</div>'
        )
    out.append("</div>")
    return Html("".join(out))
