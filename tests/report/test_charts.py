"""The SVG primitives: escaping, axes, negative bars, empty data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from growthkit.report import FunnelStep, Kpi, Series, Unit, bar_chart, funnel_chart, heatmap, kpi_tiles, line_chart
from growthkit.report.format import compact_number, esc, fmt_delta, fmt_range
from growthkit.report.svg import nice_ticks

EVIL = "<script>alert(\"x\")</script> & 'q'"


def parse(svg: str) -> ET.Element:
    """Parse as XML: proves the markup is well formed (and so escaped)."""
    return ET.fromstring(svg)


def texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in parse(svg).iter("text")]


def rects(svg: str) -> list[dict[str, float]]:
    out = []
    for r in parse(svg).iter("rect"):
        out.append({k: float(r.get(k, 0)) for k in ("x", "y", "width", "height")})
    return out


WEEKS = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(4)]


def test_every_text_is_escaped_in_every_primitive() -> None:
    svgs = [
        line_chart(WEEKS, [Series(EVIL, [1, 2, 3, 4])], title=EVIL, unit=Unit.count()),
        bar_chart([EVIL, "b"], [Series(EVIL, [1, -2])], title=EVIL, unit=Unit.count()),
        funnel_chart([FunnelStep(EVIL, 10), FunnelStep("b", 5)], title=EVIL),
        heatmap([EVIL], [EVIL], [[0.5]], title=EVIL, row_notes=[EVIL]),
    ]
    for svg in svgs:
        assert "<script" not in svg
        assert "&lt;script&gt;" in svg
        root = parse(svg)
        assert root.tag == "svg"
        assert root.find("title") is not None and root.find("title").text == EVIL  # type: ignore[union-attr]
        assert any(EVIL in t for t in texts(svg)) or EVIL in svg.replace("&lt;", "<")
    tiles = kpi_tiles([Kpi(EVIL, 3.0, Unit.count(), note=EVIL)])
    assert "<script" not in tiles and tiles.count("&lt;script&gt;") == 2


def test_esc_leaves_markup_alone_and_quotes_attributes() -> None:
    assert esc('a"b') == "a&quot;b"
    assert esc(esc("<")) == "&lt;"


def test_line_chart_dates_on_the_x_axis_and_units_on_the_y_axis() -> None:
    svg = line_chart(
        WEEKS,
        [Series("net revenue", [1200.0, 5400.0, None, 8000.0])],
        title="Revenue",
        unit=Unit.money("CNY"),
        x_caption="week starting",
    )
    labels = texts(svg)
    assert "6 Jan 2025" in labels and "13 Jan" in labels and "27 Jan" in labels
    assert "CNY (¥)" in labels
    assert "week starting" in labels
    ticks = [t for t in labels if t.startswith("¥")]
    assert "¥0" in ticks and any(t.endswith("k") for t in ticks)
    # the gap (None) splits the line into two paths; only one has more than one point
    assert len(parse(svg).findall("path")) == 1
    tips = [t.text for t in parse(svg).iter("title")]
    assert "net revenue · 13 Jan 2025: ¥5,400" in tips


def test_line_chart_year_is_shown_where_it_changes() -> None:
    days = [date(2024, 12, 30), date(2025, 1, 6)]
    labels = texts(line_chart(days, [Series("a", [1, 2])], title="t", unit=Unit.count()))
    assert "30 Dec 2024" in labels and "6 Jan 2025" in labels


def test_line_chart_numeric_axis_for_ltv_curves() -> None:
    svg = line_chart(
        [0, 30, 60, 90],
        [Series("Jan cohort", [10, 25, 31, 36])],
        title="LTV",
        unit=Unit.money("USD"),
        x_unit=Unit.count(" d"),
    )
    labels = texts(svg)
    assert "0 d" in labels and "80 d" in labels and "USD ($)" in labels
    assert "100 d" not in labels  # no tick beyond the data


def test_stacked_bars_put_negative_values_below_zero() -> None:
    svg = bar_chart(
        ["W1", "W2"],
        [Series("new", [10, 20]), Series("returning", [5, 5]), Series("dormant", [-8, -12])],
        title="Lifecycle",
        unit=Unit.count(),
        stacked=True,
    )
    root = parse(svg)
    zero_label = next(t for t in root.iter("text") if "".join(t.itertext()) == "0")
    zero_y = float(zero_label.get("y", 0))
    bars = {t.text: r for r in root.iter("rect") for t in r.iter("title") if t.text}
    dormant = [r for tip, r in bars.items() if tip.startswith("dormant")]
    new = [r for tip, r in bars.items() if tip.startswith("new")]
    assert len(dormant) == 2 and len(new) == 2
    for r in dormant:  # starts at the zero line and goes down
        assert float(r.get("y", 0)) == pytest.approx(zero_y, abs=0.6)
        assert float(r.get("height", 0)) > 0
    for r in new:  # ends at the zero line from above
        assert float(r.get("y", 0)) + float(r.get("height", 0)) == pytest.approx(zero_y, abs=0.6)
    # W2's dormant bar (12) is taller than W1's (8), proportionally
    h = sorted(float(r.get("height", 0)) for r in dormant)
    assert h[1] / h[0] == pytest.approx(12 / 8, rel=0.02)
    assert "dormant · W2: -12" in bars
    assert any(t.startswith("-") for t in texts(svg))  # negative tick labels


def test_grouped_bars_with_negative_values() -> None:
    svg = bar_chart(["a"], [Series("x", [-5]), Series("y", [10])], title="t", unit=Unit.count())
    heights = [r["height"] for r in rects(svg) if r["height"] > 10]
    assert len(heights) == 2 and max(heights) == pytest.approx(2 * min(heights), rel=0.05)


@pytest.mark.parametrize(
    "svg",
    [
        line_chart([], [], title="Empty", unit=Unit.count()),
        line_chart(WEEKS, [Series("a", [None] * 4)], title="Empty", unit=Unit.count()),
        bar_chart([], [Series("a", [])], title="Empty", unit=Unit.count()),
        funnel_chart([], title="Empty"),
        funnel_chart([FunnelStep("view", 0)], title="Empty"),
        heatmap([], [], [], title="Empty"),
        heatmap(["r"], ["c"], [[None]], title="Empty"),
    ],
)
def test_empty_data_gives_a_visible_placeholder(svg: str) -> None:
    root = parse(svg)
    assert "chart-empty" in root.get("class", "")
    assert any("No " in t for t in texts(svg))


def test_mismatched_lengths_are_an_error() -> None:
    with pytest.raises(ValueError, match="3 values for 4"):
        line_chart(WEEKS, [Series("a", [1, 2, 3])], title="t", unit=Unit.count())


def test_funnel_shares_and_widths() -> None:
    svg = funnel_chart([FunnelStep("view", 1000), FunnelStep("cart", 250), FunnelStep("purchase", 50)], title="F")
    labels = texts(svg)
    assert "1,000" in labels and "25.0% of view" in labels and "25.0% of previous" in labels
    assert "5.0% of view" in labels and "20.0% of previous" in labels
    bars = [r for r in parse(svg).iter("rect") if r.find("title") is not None]
    widths = [float(r.get("width", 0)) for r in bars]
    assert widths[1] / widths[0] == pytest.approx(0.25, rel=0.01)


def test_heatmap_labels_cells_and_leaves_missing_cells_blank() -> None:
    svg = heatmap(
        ["6 Jan", "13 Jan"],
        ["W0", "W1", "W2"],
        [[1.0, 0.32, 0.051], [1.0, 0.28, None]],
        title="Retention",
        row_notes=["1,204 users", "998 users"],
    )
    labels = texts(svg)
    for want in ("W0", "W2", "6 Jan", "1,204 users", "100%", "32%", "5.1%", "28%"):
        assert want in labels, want
    cells = [r for r in parse(svg).iter("rect") if r.find("title") is not None]
    assert len(cells) == 5  # the None cell is not drawn
    fills = {r.find("title").text: r.get("fill") for r in cells}  # type: ignore[union-attr]
    assert fills["6 Jan · W0: 100.0%"] != fills["6 Jan · W2: 5.1%"]


def test_kpi_tiles_show_units_and_direction() -> None:
    html = kpi_tiles(
        [
            Kpi("Net revenue", 123456.0, Unit.money("CNY"), change=0.12, spark=[1, 2, 3]),
            Kpi("Refund rate", 0.05, Unit.percent(), change=0.5, higher_is_better=False),
        ]
    )
    assert "¥123,456" in html and "+12.0%" in html and "5.0%" in html
    assert 'class="delta up"' in html and 'class="delta down"' in html
    assert html.count('class="spark"') == 1


def test_number_and_date_formats() -> None:
    assert nice_ticks(0, 93) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(-12, 30)[0] <= -12 and nice_ticks(-12, 30)[-1] >= 30
    flat = nice_ticks(5, 5)
    assert flat[0] < 5 < flat[-1] and flat == sorted(flat)
    assert compact_number(1500) == "1.5k" and compact_number(2_340_000) == "2.34M"
    assert fmt_delta(-0.04) == "−4.0%" and fmt_delta(None) == "–"
    assert fmt_range(date(2025, 1, 6), date(2025, 3, 2)) == "6 Jan – 2 Mar 2025"
    assert fmt_range(date(2024, 12, 30), date(2025, 1, 5)) == "30 Dec 2024 – 5 Jan 2025"
    assert Unit.money("EUR").format(-12.5) == "−€12.50"
    assert Unit.money("XYZ").format(3) == "XYZ 3"
    assert re.fullmatch(r"\d+(\.\d)?%", Unit.percent().format(0.333))
