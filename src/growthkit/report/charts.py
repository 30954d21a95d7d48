"""Line and bar charts as inline SVG, in pure Python.

Both take a shared x axis (dates, numbers or category labels) and a list of
:class:`Series`; values may be ``None`` (a gap). Every text is escaped, every
point and bar carries a native tooltip (``<title>``), and an empty input gives
a placeholder that says so instead of a blank box.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from growthkit.report.format import Html, Unit, esc, fmt_date
from growthkit.report.svg import (
    AXIS,
    INK,
    MUTED,
    Linear,
    colour,
    empty,
    frame,
    legend,
    line,
    nice_ticks,
    num,
    rect,
    text,
    value_axis,
)

WIDTH = 560
HEIGHT = 270


@dataclass(frozen=True)
class Series:
    """One named line or bar series; ``values[i]`` belongs to the chart's ``x[i]``."""

    name: str
    values: Sequence[float | None]
    colour: str | None = None


def _colours(series: Sequence[Series]) -> list[str]:
    return [s.colour or colour(i) for i, s in enumerate(series)]


def _finite(series: Sequence[Series]) -> list[float]:
    return [float(v) for s in series for v in s.values if v is not None and v == v]


def _left_margin(labels: Sequence[str]) -> float:
    return max(40.0, 12.0 + 6.6 * max((len(lab) for lab in labels), default=1))


def _thin(n: int, room: float, label_width: float) -> int:
    """Show every k-th label so that labels do not overlap."""
    per = room / max(n, 1)
    return max(1, int(-(-label_width // per)))


def date_labels(days: Sequence[date]) -> list[str]:
    """``6 Jan`` per date, with the year where it first appears or changes."""
    out: list[str] = []
    prev_year: int | None = None
    for d in days:
        out.append(fmt_date(d, year=d.year != prev_year))
        prev_year = d.year
    return out


def line_chart(
    x: Sequence[date] | Sequence[float],
    series: Sequence[Series],
    *,
    title: str,
    unit: Unit,
    x_caption: str = "",
    x_unit: Unit | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    y_from_zero: bool = True,
) -> Html:
    """Lines over dates (``x`` of :class:`datetime.date`) or numbers, with a legend, grid and axis captions.

    Examples
    --------
    >>> from datetime import date
    >>> svg = line_chart([date(2025, 1, 6), date(2025, 1, 13)], [Series("orders", [3, 5])],
    ...                  title="Orders", unit=Unit.count())
    >>> svg.startswith("<svg") and "13 Jan" in svg
    True
    """
    values = _finite(series)
    if not x or not series or not values:
        return empty(title)
    for s in series:
        if len(s.values) != len(x):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(x)} x positions")
    is_dates = isinstance(x[0], date)
    xs = [float(v.toordinal()) if isinstance(v, date) else float(v) for v in x]
    lo, hi = min(values), max(values)
    if y_from_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    ticks = nice_ticks(lo, hi, 5)
    tick_labels = [unit.format(t, compact=True, digits=0) for t in ticks]
    cols = _colours(series)

    left, right = _left_margin(tick_labels), width - 18
    leg, leg_h = legend([s.name for s in series], cols, left, 16, max_width=right - left, swatch="line")
    top, bottom = 16 + leg_h, height - (46 if x_caption else 30)
    ys = Linear(ticks[0], ticks[-1], bottom, top)
    xmin, xmax = min(xs), max(xs)
    xscale = Linear(xmin, xmax, left + 6, right - 6) if xmax > xmin else Linear(xmin - 1, xmin + 1, left, right)

    parts: list[Html] = [leg, value_axis(ticks, ys, left, right, tick_labels)]
    if unit.label and unit.kind != "percent":
        parts.append(text(left - 8, top - 8 if leg_h < 20 else 12, unit.label, anchor="end", size=10.5))
    # x axis: dates -> some of the data points; numbers -> nice ticks
    if is_dates:
        days = [v for v in x if isinstance(v, date)]
        labels = date_labels(days)
        step = _thin(len(xs), right - left, 58)
        for i in range(0, len(xs), step):
            parts.append(line(xscale(xs[i]), bottom, xscale(xs[i]), bottom + 4, AXIS))
            parts.append(text(xscale(xs[i]), bottom + 17, labels[i], anchor="middle", size=11, cls="tick"))
        point_labels = [fmt_date(d) for d in days]
    else:
        fmt = x_unit or Unit.count()
        for t in nice_ticks(xmin, xmax, 6):
            if xmin - 1e-9 <= t <= xmax + 1e-9:
                parts.append(line(xscale(t), bottom, xscale(t), bottom + 4, AXIS))
                parts.append(text(xscale(t), bottom + 17, fmt.format(t, compact=True), anchor="middle", cls="tick"))
        point_labels = [fmt.format(v) for v in xs]
    parts.append(line(left, bottom, right, bottom, AXIS, 1.2))
    if x_caption:
        parts.append(text((left + right) / 2, height - 8, x_caption, anchor="middle", size=11, fill=MUTED))

    markers = len(xs) <= 45
    for s, col in zip(series, cols, strict=True):
        runs: list[list[tuple[float, float]]] = [[]]
        for xv, v in zip(xs, s.values, strict=True):
            if v is None or v != v:
                runs.append([])
            else:
                runs[-1].append((xscale(xv), ys(float(v))))
        for run in runs:
            if len(run) > 1:
                d = "M" + " L".join(f"{num(px)},{num(py)}" for px, py in run)
                parts.append(
                    Html(
                        f'<path d="{d}" fill="none" stroke="{col}" stroke-width="2.2" '
                        'stroke-linejoin="round" stroke-linecap="round"/>'
                    )
                )
        for xv, v, lab in zip(xs, s.values, point_labels, strict=True):
            if v is None or v != v:
                continue
            r = 3 if markers else 1.6
            tip = esc(f"{s.name} · {lab}: {unit.format(float(v))}")
            parts.append(
                Html(
                    f'<circle cx="{num(xscale(xv))}" cy="{num(ys(float(v)))}" r="{r}" fill="#fff" '
                    f'stroke="{col}" stroke-width="1.6"><title>{tip}</title></circle>'
                )
            )
    return frame(width, height, title, parts)


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: Unit,
    stacked: bool = False,
    x_caption: str = "",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Html:
    """Grouped or stacked vertical bars; negative values go below a marked zero line.

    In a stacked chart positive values stack upwards from zero and negative
    values downwards, so a series such as "dormant users" (negative) sits
    under the axis.

    Examples
    --------
    >>> svg = bar_chart(["W1", "W2"], [Series("new", [5, 3]), Series("dormant", [-2, -4])],
    ...                 title="Lifecycle", unit=Unit.count(), stacked=True)
    >>> svg.count("<rect") >= 4
    True
    """
    values = _finite(series)
    if not categories or not series or not values:
        return empty(title)
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(categories)} categories")
    n = len(categories)
    if stacked:
        pos = [sum(max(float(s.values[i] or 0), 0.0) for s in series) for i in range(n)]
        neg = [sum(min(float(s.values[i] or 0), 0.0) for s in series) for i in range(n)]
        lo, hi = min([*neg, 0.0]), max([*pos, 0.0])
    else:
        lo, hi = min([*values, 0.0]), max([*values, 0.0])
    ticks = nice_ticks(lo, hi, 5)
    tick_labels = [unit.format(t, compact=True, digits=0) for t in ticks]
    cols = _colours(series)
    left, right = _left_margin(tick_labels), width - 18
    leg, leg_h = legend([s.name for s in series], cols, left, 16, max_width=right - left)
    top, bottom = 16 + leg_h, height - (46 if x_caption else 30)
    ys = Linear(ticks[0], ticks[-1], bottom, top)
    band = (right - left) / n
    gap = band * (0.28 if n > 1 else 0.5)
    inner = band - gap

    parts: list[Html] = [leg, value_axis(ticks, ys, left, right, tick_labels)]
    if unit.label and unit.kind != "percent":
        parts.append(text(left - 8, top - 8 if leg_h < 20 else 12, unit.label, anchor="end", size=10.5))
    step = _thin(n, right - left, max(6.4 * max(len(c) for c in categories) + 8, 24))
    for i, cat in enumerate(categories):
        if i % step == 0:
            parts.append(text(left + band * (i + 0.5), bottom + 17, cat, anchor="middle", cls="tick"))
    for i, cat in enumerate(categories):
        x0 = left + band * i + gap / 2
        up, down = 0.0, 0.0
        for j, (s, col) in enumerate(zip(series, cols, strict=True)):
            raw = s.values[i]
            if raw is None or raw != raw:
                continue
            v = float(raw)
            tip = f"{s.name} · {cat}: {unit.format(v)}"
            if stacked:
                base = up if v >= 0 else down
                y1, y2 = ys(base), ys(base + v)
                if v >= 0:
                    up += v
                else:
                    down += v
                parts.append(rect(x0, min(y1, y2), inner, abs(y2 - y1), col, tip=tip))
            else:
                w = inner / len(series)
                y0, yv = ys(0.0), ys(v)
                parts.append(rect(x0 + j * w, min(y0, yv), max(w - 1.5, 1.0), abs(y0 - yv), col, tip=tip, rx=1.5))
    zero = ys(0.0)
    parts.append(line(left, zero, right, zero, INK if lo < 0 else AXIS, 1.2))
    if x_caption:
        parts.append(text((left + right) / 2, height - 8, x_caption, anchor="middle", size=11))
    return frame(width, height, title, parts)
