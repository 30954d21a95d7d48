"""SVG building blocks shared by the charts: scales, ticks, colours, frames.

The charts are inline SVG for an HTML5 page, so they carry no XML namespace
(and therefore no ``http://`` reference at all). Sizes are in a fixed
``viewBox``; the page scales them to the card's width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from growthkit.report.format import Html, esc

PALETTE: tuple[str, ...] = (
    "#2f6fde",  # blue
    "#e8833a",  # orange
    "#2ea37a",  # green
    "#d64550",  # red
    "#8a63d2",  # violet
    "#1aa3b8",  # teal
    "#c9a227",  # ochre
    "#7a8699",  # slate
)
"""Series colours, in order; every chart uses the same sequence."""

INK = "#1f2933"
MUTED = "#66768a"
GRID = "#e3e8ef"
AXIS = "#9aa5b4"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', 'Noto Sans', 'Noto Sans CJK SC', sans-serif"


def colour(i: int) -> str:
    """The ``i``-th series colour (wraps around)."""
    return PALETTE[i % len(PALETTE)]


def num(v: float) -> str:
    """A coordinate with at most one decimal."""
    r = round(float(v), 1)
    return str(int(r)) if r.is_integer() else str(r)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]`` (1, 2, 2.5 or 5 times a power of ten).

    Examples
    --------
    >>> nice_ticks(0, 93)
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    >>> nice_ticks(-30, 50, 4)
    [-40.0, -20.0, 0.0, 20.0, 40.0, 60.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(hi) * 0.5 or 1.0
        lo, hi = (lo - pad, hi + pad) if lo != 0 else (0.0, pad)
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks: list[float] = []
    t = start
    while t < hi + step * 1e-9 or not ticks or ticks[-1] < hi:
        ticks.append(round(t, 10) + 0.0)
        t += step
        if len(ticks) > 50:  # pragma: no cover - defensive
            break
    return ticks


@dataclass(frozen=True)
class Linear:
    """Map ``[d0, d1]`` onto ``[r0, r1]`` linearly."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, v: float) -> float:
        if self.d1 == self.d0:
            return (self.r0 + self.r1) / 2
        return self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)


def text(
    x: float,
    y: float,
    content: object,
    *,
    anchor: str = "start",
    size: float = 11,
    fill: str = MUTED,
    weight: str = "normal",
    baseline: str = "auto",
    cls: str = "",
) -> Html:
    """A ``<text>`` element with escaped content."""
    extra = f' class="{esc(cls)}"' if cls else ""
    base = f' dominant-baseline="{baseline}"' if baseline != "auto" else ""
    return Html(
        f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}" font-size="{num(size)}" '
        f'fill="{fill}" font-weight="{weight}"{base}{extra}>{esc(content)}</text>'
    )


def rect(x: float, y: float, w: float, h: float, fill: str, *, tip: str = "", rx: float = 0, extra: str = "") -> Html:
    """A ``<rect>`` (never negative in size) with an optional tooltip."""
    w, h = max(w, 0.0), max(h, 0.0)
    r = f' rx="{num(rx)}"' if rx else ""
    body = f"<title>{esc(tip)}</title>" if tip else ""
    attrs = f'x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" fill="{fill}"{r}{extra}'
    return Html(f"<rect {attrs}>{body}</rect>" if body else f"<rect {attrs}/>")


def line(x1: float, y1: float, x2: float, y2: float, stroke: str = GRID, width: float = 1, dash: str = "") -> Html:
    """A ``<line>``."""
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return Html(
        f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" stroke="{stroke}" '
        f'stroke-width="{num(width)}"{d}/>'
    )


def frame(width: int, height: int, title: str, body: Sequence[Html], *, cls: str = "chart") -> Html:
    """The ``<svg>`` root: responsive, labelled for screen readers, the title as a tooltip-free ``<title>``."""
    return Html(
        f'<svg class="{esc(cls)}" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{esc(title)}" preserveAspectRatio="xMidYMid meet" font-family="{esc(FONT)}">'
        f"<title>{esc(title)}</title>" + "".join(body) + "</svg>"
    )


def empty(title: str, message: str = "No data in this period", *, width: int = 640, height: int = 120) -> Html:
    """A chart-sized placeholder that says there is nothing to show (still a valid, non-empty SVG)."""
    return frame(
        width,
        height,
        title,
        [
            rect(0.5, 0.5, width - 1, height - 1, "#f6f8fb", rx=6, extra=f' stroke="{GRID}"'),
            text(width / 2, height / 2, message, anchor="middle", size=13, baseline="middle"),
        ],
        cls="chart chart-empty",
    )


def legend(
    names: Sequence[str], colours: Sequence[str], x: float, y: float, *, max_width: float, swatch: str = "rect"
) -> tuple[Html, float]:
    """A one- or multi-line legend starting at ``(x, y)``; returns the markup and the height used."""
    parts: list[Html] = []
    cx, cy = x, y
    for name, col in zip(names, colours, strict=True):
        w = 18 + 6.6 * len(name) + 14
        if cx + w > x + max_width and cx > x:
            cx, cy = x, cy + 18
        if swatch == "line":
            parts.append(line(cx, cy - 4, cx + 14, cy - 4, col, 2.5))
        else:
            parts.append(rect(cx, cy - 9, 10, 10, col, rx=2))
        parts.append(text(cx + 18, cy, name, size=11.5, fill=INK))
        cx += w
    return Html("".join(parts)), cy - y + 18


def value_axis(
    ticks: Sequence[float], scale: Linear, left: float, right: float, labels: Sequence[str], *, zero_line: bool = True
) -> Html:
    """Horizontal grid lines with value labels on the left; zero drawn darker."""
    parts: list[Html] = []
    for t, lab in zip(ticks, labels, strict=True):
        y = scale(t)
        strong = zero_line and t == 0
        parts.append(line(left, y, right, y, AXIS if strong else GRID, 1.2 if strong else 1))
        parts.append(text(left - 8, y, lab, anchor="end", size=11, baseline="middle", cls="tick"))
    return Html("".join(parts))
