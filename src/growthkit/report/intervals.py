"""The interval (forest) chart: point estimates with their confidence intervals against a zero line.

Same rules as :mod:`growthkit.report.charts`: escaped text, native tooltips,
a placeholder instead of a blank box when there is nothing to draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from growthkit.report.format import Html, Unit, esc
from growthkit.report.svg import AXIS, GRID, INK, MUTED, Linear, empty, frame, line, nice_ticks, num, text

GOOD = "#1f8f5f"
BAD = "#c93c46"
NEUTRAL = "#2f6fde"


@dataclass(frozen=True)
class Interval:
    """One row of an interval chart: a label, the estimate and its interval (``None``: unknown or unbounded).

    ``note`` is written after the interval (e.g. ``p = 0.03``).
    """

    label: str
    estimate: float | None
    low: float | None
    high: float | None
    note: str = ""


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def signed(unit: Unit, value: float | None, *, digits: int | None = None) -> str:
    """``value`` in ``unit`` with an explicit sign (``+4.2%``, ``−1.0%``); an en dash when unknown.

    Examples
    --------
    >>> signed(Unit.percent(), 0.042), signed(Unit.percent(), -0.01)
    ('+4.2%', '−1.0%')
    """
    if not _finite(value):
        return "–"
    assert value is not None
    s = unit.format(abs(value), digits=digits)
    return ("+" if value > 0 else "−" if value < 0 else "±") + s


def _colour(r: Interval, higher_is_better: bool) -> str:
    if _finite(r.low) and r.low is not None and r.low > 0:
        return GOOD if higher_is_better else BAD
    if _finite(r.high) and r.high is not None and r.high < 0:
        return BAD if higher_is_better else GOOD
    return NEUTRAL


def interval_chart(
    rows: Sequence[Interval],
    *,
    title: str,
    unit: Unit,
    x_caption: str = "",
    higher_is_better: bool = True,
    width: int = 560,
) -> Html:
    """Horizontal confidence intervals with a dot at the estimate, one row each, and a zero line.

    An interval entirely above zero is green (red when ``higher_is_better`` is False), entirely
    below red, otherwise blue. Unbounded or unknown interval ends run to the edge of the chart.
    Each row is labelled on the left and gets its estimate, interval and note on the right.

    Examples
    --------
    >>> svg = interval_chart([Interval("conversion", 0.05, 0.01, 0.09, "p = 0.02")],
    ...                      title="Effects", unit=Unit.percent())
    >>> "+5.0% [+1.0%, +9.0%]" in svg and "p = 0.02" in svg
    True
    """
    values = [float(v) for r in rows for v in (r.estimate, r.low, r.high) if v is not None and math.isfinite(v)]
    if not rows or not values:
        return empty(title, "No estimates to show")
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values), 5)
    label_w = min(190.0, 16 + 6.8 * max(len(r.label) for r in rows))
    texts = [f"{signed(unit, r.estimate)} [{signed(unit, r.low)}, {signed(unit, r.high)}]" for r in rows]
    value_w = min(260.0, 20 + 7.6 * max(len(t) for t in texts))
    left, right = label_w, width - value_w
    row_h, top = 34.0, 8.0
    plot_bottom = top + row_h * len(rows)
    height = int(plot_bottom + (44 if x_caption else 26))
    x = Linear(ticks[0], ticks[-1], left + 6, right - 6)
    parts: list[Html] = []
    for t in ticks:
        strong = t == 0
        parts.append(line(x(t), top - 2, x(t), plot_bottom, AXIS if strong else GRID, 1.6 if strong else 1))
        whole = unit.kind == "percent" and float(round(t * 100, 6)).is_integer()
        lab = signed(unit, t, digits=0 if whole else None) if t else unit.format(0.0, digits=0)
        parts.append(text(x(t), plot_bottom + 15, lab, anchor="middle", size=10.5, cls="tick"))
    if x_caption:
        parts.append(text((left + right) / 2, plot_bottom + 34, x_caption, anchor="middle", size=11))
    for i, (r, value_text) in enumerate(zip(rows, texts, strict=True)):
        cy = top + row_h * (i + 0.5)
        col = _colour(r, higher_is_better)
        lo = x(r.low) if _finite(r.low) and r.low is not None else left + 6
        hi = x(r.high) if _finite(r.high) and r.high is not None else right - 6
        tip = f"{r.label}: {value_text}" + (f", {r.note}" if r.note else "")
        parts.append(text(left - 10, cy, r.label, anchor="end", size=12, fill=INK, baseline="middle"))
        parts.append(
            Html(
                f'<line x1="{num(lo)}" y1="{num(cy)}" x2="{num(hi)}" y2="{num(cy)}" stroke="{col}" '
                f'stroke-width="3" stroke-linecap="round"><title>{esc(tip)}</title></line>'
            )
        )
        for end in (lo, hi):
            parts.append(line(end, cy - 6, end, cy + 6, col, 2))
        if _finite(r.estimate) and r.estimate is not None:
            parts.append(
                Html(
                    f'<circle cx="{num(x(r.estimate))}" cy="{num(cy)}" r="5.5" fill="{col}" stroke="#ffffff" '
                    f'stroke-width="1.5"><title>{esc(tip)}</title></circle>'
                )
            )
        parts.append(
            text(
                right + 10, cy - (5 if r.note else 0), value_text, size=11.5, fill=INK, baseline="middle", weight="600"
            )
        )
        if r.note:
            parts.append(text(right + 10, cy + 9, r.note, size=10, fill=MUTED, baseline="middle"))
    return frame(width, height, title, parts)
