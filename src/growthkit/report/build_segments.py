"""The segments section: how big each customer segment is, how much revenue it brings, and its persona.

Takes the segmentations that ``growthkit segment rfm|cluster`` saved in the store
(``segment_profiles``, read into ``ReportData.segments``); the report shows the section
only when there is one. Per segmentation: a horizontal bar chart of each segment's share
of users and share of revenue (segment names on the left, so long persona names stay
readable), and a table with the personas and where their text came from.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from growthkit.report.format import Html, fmt_date
from growthkit.report.html import Figure, Section, table
from growthkit.report.svg import AXIS, GRID, PALETTE, Linear, frame, legend, line, nice_ticks, rect, text
from growthkit.workflows.segments import SavedSegmentation

WIDTH = 560
ROW = 30
METHOD_TITLES: dict[str, str] = {"rfm": "RFM segments", "cluster": "Behavioural clusters"}
MAX_LABEL = 26


def chart_title(saved: SavedSegmentation) -> str:
    """The chart's title (also its accessible name)."""
    return f"{METHOD_TITLES.get(saved.method, saved.method)}: share of users and of revenue"


def _width(label: str) -> float:
    """Approximate rendered width at 11.5 px: wide (CJK) characters count double."""
    return sum(12.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 6.6 for ch in label)


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def share_bars(labels: Sequence[str], users: Sequence[float], revenue: Sequence[float], *, title: str) -> Html:
    """Horizontal paired bars per segment: share of users and share of revenue, in percent of the total.

    >>> svg = share_bars(["Champions", "Lost"], [0.1, 0.9], [0.8, 0.2], title="t")
    >>> svg.count("<rect") >= 4
    True
    """
    names = [_short(lab) for lab in labels]
    left = min(max(60.0, 14.0 + max((_width(n) for n in names), default=0.0)), WIDTH * 0.45)
    right = WIDTH - 48
    leg, leg_h = legend(
        ["Share of users", "Share of revenue"], [PALETTE[0], PALETTE[1]], left, 16, max_width=right - left
    )
    top = 16 + leg_h + 4
    height = int(top + ROW * len(names) + 30)
    hi = max([*users, *revenue, 0.01])
    ticks = nice_ticks(0.0, hi * 100, 4)
    xs = Linear(0.0, ticks[-1], left, right)
    parts: list[Html] = [leg]
    bottom = top + ROW * len(names)
    for t in ticks:
        x = xs(t)
        parts.append(line(x, top - 2, x, bottom, AXIS if t == 0 else GRID, 1))
        parts.append(text(x, bottom + 16, f"{t:g}%", anchor="middle", size=10.5, cls="tick"))
    bar = (ROW - 10) / 2
    for i, (name, full, u, r) in enumerate(zip(names, labels, users, revenue, strict=True)):
        y = top + ROW * i + 4
        parts.append(text(left - 8, y + bar, name, anchor="end", size=11.5, baseline="middle", cls="tick"))
        parts.append(rect(left, y, xs(u * 100) - left, bar, PALETTE[0], tip=f"{full} · users: {u:.1%}", rx=1.5))
        parts.append(
            rect(left, y + bar + 1, xs(r * 100) - left, bar, PALETTE[1], tip=f"{full} · revenue: {r:.1%}", rx=1.5)
        )
        parts.append(text(xs(max(u, r) * 100) + 4, y + bar, f"{u:.0%} / {r:.0%}", size=10, baseline="middle"))
    return frame(WIDTH, height, title, parts)


def _label(row: dict[str, Any]) -> str:
    name = str(row.get("segment_name") or row.get("segment_id"))
    return name if row.get("method") == "rfm" else f"{row.get('segment_id')} · {name}"


def segments_figure(saved: SavedSegmentation) -> Figure:
    """The share-of-users and share-of-revenue bars of one segmentation."""
    rows = saved.segments
    svg = share_bars(
        [_label(r) for r in rows],
        [float(r["share_users"] or 0.0) for r in rows],
        [float(r["share_revenue"] or 0.0) for r in rows],
        title=chart_title(saved),
    )
    how = "k-means" if saved.algorithm == "kmeans" else "a Gaussian mixture" if saved.algorithm == "gmm" else ""
    caption = (
        f"Users known before {fmt_date(saved.cutoff)}, segmented {('by ' + how) if how else 'by RFM score'}. "
        "Revenue is each segment's gross purchases before the cutoff, as a share of all users' purchases."
    )
    return Figure(chart_title(saved), svg, caption)


def personas_figure(saved: SavedSegmentation) -> Figure:
    """A table: each segment's size, shares, what sets it apart, and its persona with its source."""
    rows = []
    for r in saved.segments:
        source = "template" if r.get("is_template") else f"{r.get('backend')}/{r.get('model')}"
        if not r.get("checks_passed"):
            source += " (failed the grounding check)"
        rows.append(
            [
                f"{_label(r)}: {r.get('description') or ''}",
                f"{int(r['users']):,}",
                f"{float(r['share_users']):.1%}",
                f"{float(r['share_revenue']):.1%}",
                source,
            ]
        )
    body = table(["segment and persona", "users", "users %", "revenue %", "written by"], rows)
    caption = (
        "Personas are written from the segment's numbers only; a language model's text is used only when every "
        "number in it matches the profile and it makes no claim the profile does not support (see docs/segments.md)."
    )
    return Figure(f"{METHOD_TITLES.get(saved.method, saved.method)}: personas", Html(body), caption, wide=True)


def segments_section(saved: Sequence[SavedSegmentation]) -> Section:
    """All saved segmentations: per method the bar chart and the persona table."""
    figures: list[Figure] = []
    for s in saved:
        figures += [segments_figure(s), personas_figure(s)]
    lead = (
        "Who the customers are: segments saved by growthkit segment rfm|cluster, each with its share of users and of "
        "revenue, and a short persona."
    )
    return Section("segments", "Customer segments", tuple(figures), lead, wide=True)
