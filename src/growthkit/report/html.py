"""Page assembly: one self-contained HTML file with inline CSS and inline SVG.

No scripts, no web fonts, no external references of any kind: the file opens
offline and prints cleanly. Every piece of text is escaped here or in the
chart functions (which return :class:`~growthkit.report.format.Html`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from growthkit.report.format import Html, Unit, esc, fmt_datetime, fmt_range
from growthkit.report.svg import FONT


@dataclass(frozen=True)
class Figure:
    """One chart (or tile row) with its heading and a caption under it (units, definitions).

    In a wide section figures sit two abreast; a ``wide`` figure takes the whole row.
    """

    title: str
    body: Html
    caption: str = ""
    wide: bool = False


@dataclass(frozen=True)
class Section:
    """A titled part of the report. ``notes`` are shown in a visible box (e.g. a missing insight)."""

    key: str
    title: str
    figures: tuple[Figure, ...] = ()
    lead: str = ""
    notes: tuple[str, ...] = ()
    wide: bool = False


@dataclass(frozen=True)
class ReportMeta:
    """What the header says: which store, which days, when it was made, in which currency."""

    store: str
    start: date
    end: date
    generated: datetime
    currency: str = ""
    title: str = "Growth report"
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)


CSS = """
:root{--ink:#1f2933;--muted:#66768a;--line:#e3e8ef;--bg:#f4f6fa;--card:#fff;--accent:#2f6fde;
--good:#1f8f5f;--bad:#c93c46}
*{box-sizing:border-box}
html{font-family:FONT_STACK;color:var(--ink);background:var(--bg);font-size:15px;line-height:1.45;
-webkit-text-size-adjust:100%}
body{margin:0}
header.top{background:#16233a;color:#fff;padding:26px 0 22px}
.wrap{max-width:1180px;margin:0 auto;padding:0 24px}
header.top .brand{font-size:12px;letter-spacing:.12em;text-transform:uppercase;color:#9fb3d1;font-weight:600}
header.top h1{margin:4px 0 12px;font-size:28px;font-weight:650;letter-spacing:-.01em}
dl.meta{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0}
dl.meta div{min-width:0}
dl.meta dt{font-size:11px;text-transform:uppercase;letter-spacing:.08em;color:#9fb3d1}
dl.meta dd{margin:1px 0 0;font-size:14px;font-weight:500;overflow-wrap:anywhere}
nav.toc{margin:14px 0 0;display:flex;flex-wrap:wrap;gap:6px}
nav.toc a{color:#dbe6f7;text-decoration:none;font-size:12.5px;padding:3px 10px;border:1px solid #33476a;
border-radius:999px}
nav.toc a:hover{background:#22365a}
main{padding:22px 0 40px}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px}
section.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px 14px;
box-shadow:0 1px 2px rgba(16,24,40,.04);min-width:0}
section.card.wide{grid-column:1/-1}
section.card h2{margin:0 0 2px;font-size:17px;font-weight:650}
section.card p.lead{margin:0 0 10px;color:var(--muted);font-size:13px}
.figs{display:grid;grid-template-columns:minmax(0,1fr);gap:8px 28px}
section.wide .figs{grid-template-columns:repeat(2,minmax(0,1fr))}
.figs figure.wide{grid-column:1/-1}
figure{margin:10px 0 6px;min-width:0}
figure h3{margin:0 0 6px;font-size:13.5px;font-weight:600;color:var(--ink)}
figure svg.chart{display:block;width:100%;height:auto;overflow:visible}
figcaption{color:var(--muted);font-size:12px;margin-top:4px}
.note{background:#fff8e6;border:1px solid #f3d18a;color:#6b4e00;border-radius:8px;padding:8px 12px;
font-size:13px;margin:8px 0}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}
.kpi{border:1px solid var(--line);border-radius:9px;padding:12px 14px 10px;background:#fbfcfe;min-width:0}
.kpi-label{font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.05em}
.kpi-value{font-size:23px;font-weight:680;margin:3px 0 2px;font-variant-numeric:tabular-nums;white-space:nowrap}
.kpi-foot{min-height:20px}
.kpi-note{font-size:11.5px;color:var(--muted);margin-top:2px}
.delta{font-size:12.5px;font-weight:600;white-space:nowrap}
.delta.up{color:var(--good)}.delta.down{color:var(--bad)}.delta.flat{color:var(--muted)}
svg.spark{display:block;width:100%;height:30px;margin:6px 0 2px}
table.data{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
table.data th,table.data td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right}
table.data th:first-child,table.data td:first-child{text-align:left}
table.data th{color:var(--muted);font-weight:600;font-size:12px}
footer{color:var(--muted);font-size:12px;padding:0 0 30px}
.exp-status p{margin:4px 0;font-size:13px}
.exp-arms{color:var(--muted)}
.badge{display:inline-block;padding:2px 9px;border-radius:999px;font-size:12.5px;font-weight:600;border:1px solid}
.badge.good{color:var(--good);background:#e8f6ef;border-color:#a9dcc3}
.badge.bad{color:var(--bad);background:#fdecee;border-color:#f0b4ba}
.badge.neutral{color:var(--muted);background:#f0f3f8;border-color:var(--line)}
.exp-reasons{color:var(--muted);font-size:12.5px}
@media (max-width:880px){.grid,section.wide .figs{grid-template-columns:minmax(0,1fr)}}
@media print{html{background:#fff}header.top{background:#fff;color:var(--ink);border-bottom:2px solid var(--ink)}
header.top .brand,dl.meta dt{color:var(--muted)}nav.toc{display:none}section.card{break-inside:avoid;box-shadow:none}}
""".replace("FONT_STACK", FONT)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> Html:
    """A small data table; every cell escaped."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return Html(f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


def _figure(f: Figure) -> str:
    cap = f"<figcaption>{esc(f.caption)}</figcaption>" if f.caption else ""
    head = f"<h3>{esc(f.title)}</h3>" if f.title else ""
    cls = "figure wide" if f.wide else "figure"
    return f'<figure class="{cls}">{head}{esc(f.body)}{cap}</figure>'


def _section(s: Section) -> str:
    cls = "card wide" if s.wide else "card"
    lead = f'<p class="lead">{esc(s.lead)}</p>' if s.lead else ""
    notes = "".join(f'<p class="note" role="note">{esc(n)}</p>' for n in s.notes)
    figs = f'<div class="figs">{"".join(_figure(f) for f in s.figures)}</div>' if s.figures else ""
    return f'<section class="{cls}" id="{esc(s.key)}"><h2>{esc(s.title)}</h2>{lead}{notes}{figs}</section>'


def render_page(meta: ReportMeta, sections: Sequence[Section]) -> str:
    """The whole report as one HTML document (a string).

    Examples
    --------
    >>> from datetime import date, datetime
    >>> meta = ReportMeta("shop.duckdb", date(2025, 1, 6), date(2025, 3, 2), datetime(2025, 3, 3, 9, 0))
    >>> page = render_page(meta, [Section("x", "Trends <new>")])
    >>> "Trends &lt;new&gt;" in page and "http" not in page
    True
    """
    days = (meta.end - meta.start).days + 1
    facts: list[tuple[str, str]] = [
        ("Store", meta.store),
        ("Period", f"{fmt_range(meta.start, meta.end)} ({days} days)"),
        ("Generated", fmt_datetime(meta.generated)),
    ]
    if meta.currency:
        facts.append(("Currency", Unit.money(meta.currency).label))
    facts.extend(meta.extra)
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts)
    toc = "".join(f'<a href="#{esc(s.key)}">{esc(s.title)}</a>' for s in sections)
    body = "".join(_section(s) for s in sections)
    title = f"{meta.title} · {meta.store} · {fmt_range(meta.start, meta.end)}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="growthkit">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><div class="wrap"><div class="brand">growthkit</div>'
        f'<h1>{esc(meta.title)}</h1><dl class="meta">{dl}</dl><nav class="toc">{toc}</nav></div></header>'
        f'<main class="wrap"><div class="grid">{body}</div></main>'
        f'<footer class="wrap">Made by growthkit from the store {esc(meta.store)}. All times UTC; '
        "weeks start on Monday. Hover a point, bar or cell for its exact value.</footer>"
        "</body></html>\n"
    )
