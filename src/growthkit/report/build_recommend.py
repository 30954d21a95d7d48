"""The recommendations section: how the models compared, and what a few customers are shown.

Takes what ``growthkit recommend train`` (or the demo's recommendation step) saved in the store
(``recommendations`` and ``recommendation_evaluation``, read into ``ReportData.recommend``);
the report shows the section only when there are stored recommendations. It has a bar chart of
NDCG@10 and Recall@10 per model, the evaluation table (with the standard error of NDCG over
users, and catalogue coverage and popularity of what each model shows), and example customers
with their recent history and their recommendations, in the catalogue's own titles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from growthkit.report.charts import Series, bar_chart
from growthkit.report.format import Html, Unit, esc, fmt_datetime
from growthkit.report.html import Figure, Section, table
from growthkit.report.svg import PALETTE
from growthkit.workflows.recommend import RecommendReport
from growthkit.workflows.recommend_data import ExampleUser

CHART_TITLE = "Recommenders compared: NDCG@10 and Recall@10 on held-out interactions"
CELL_STYLE = "text-align:left;vertical-align:top"
LIST_STYLE = "margin:0;padding-left:18px"
EVENT_WORDS: dict[str, str] = {"view": "viewed", "cart": "carted", "purchase": "bought", "review": "reviewed"}


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def comparison_figure(rows: Sequence[dict[str, Any]]) -> Figure:
    """Bars per model: NDCG@10 and Recall@10 (in percent)."""
    names = [str(r["model"]) + (" ✓" if r.get("chosen") else "") for r in rows]
    svg = bar_chart(
        names,
        [
            Series("NDCG@10", [_num(r.get("ndcg_at_10")) for r in rows], PALETTE[0]),
            Series("Recall@10", [_num(r.get("recall_at_10")) for r in rows], PALETTE[1]),
        ],
        title=CHART_TITLE,
        unit=Unit.percent(),
        x_caption="model (✓ = the one serving recommendations)",
    )
    caption = (
        "Every model ranks the whole catalogue for each test customer, leaving out what they already touched; "
        "NDCG@10 rewards relevant items near the top, Recall@10 is the share of a customer's held-out items "
        "found in their top 10."
    )
    return Figure(CHART_TITLE, svg, caption)


def evaluation_figure(rows: Sequence[dict[str, Any]], protocol: str) -> Figure:
    """The evaluation table: per model NDCG@10 ± standard error, recall, hit rate, coverage, popularity."""

    def pct(v: Any) -> str:
        x = _num(v)
        return "–" if x is None else f"{x:.1%}"

    body = table(
        ["model", "NDCG@10", "± s.e.", "Recall@10", "hit rate@10", "catalogue coverage", "avg popularity"],
        [
            [
                str(r["model"]) + (" (serving)" if r.get("chosen") else ""),
                f"{_num(r.get('ndcg_at_10')) or 0.0:.4f}",
                f"{_num(r.get('ndcg_se')) or 0.0:.4f}",
                pct(r.get("recall_at_10")),
                pct(r.get("hit_at_10")),
                pct(r.get("coverage_at_10")),
                pct(r.get("avg_pop_at_10")),
            ]
            for r in rows
        ],
    )
    users = next((int(r["users"]) for r in rows if r.get("users")), 0)
    caption = (
        f"{protocol}. {users:,} test customers. ± s.e. is the standard error of the mean over customers: "
        "differences smaller than about twice it may be noise. Coverage is the share of the catalogue shown to "
        "anyone; avg popularity is the mean share of customers who had touched a recommended item."
    )
    return Figure("Evaluation", Html(body), caption, wide=True)


def _items(shown: Sequence[Any], limit: int, *, history: bool) -> Html:
    parts = []
    for s in shown[:limit]:
        detail = EVENT_WORDS.get(s.detail, s.detail) if history else s.detail
        suffix = f' <span class="exp-reasons">· {esc(detail)}</span>' if detail else ""
        parts.append(f"<li>{esc(s.title)}{suffix}</li>")
    return Html(f'<ol style="{LIST_STYLE}">' + "".join(parts) + "</ol>" if parts else "–")


def examples_figure(examples: Sequence[ExampleUser], k: int = 5) -> Figure:
    """Example customers: their latest items and their top recommendations, with titles."""
    head = "".join(f'<th style="{CELL_STYLE}">{h}</th>' for h in ("customer", "recently", "recommended"))
    head = f"<tr>{head}</tr>"
    rows = "".join(
        f'<tr><td style="{CELL_STYLE}">{esc(ex.user_id)}</td>'
        f'<td style="{CELL_STYLE}">{_items(ex.history, k, history=True)}</td>'
        f'<td style="{CELL_STYLE}">{_items(ex.recommendations, k, history=False)}</td></tr>'
        for ex in examples
    )
    body = Html(f'<table class="data"><thead>{head}</thead><tbody>{rows}</tbody></table>')
    caption = (
        "A few customers picked at random (with at least three items in their history): their latest items, "
        "newest first, and their top recommendations, as titled in the catalogue."
    )
    return Figure("Example customers", body, caption, wide=True)


def recommend_section(rec: RecommendReport) -> Section:
    """The whole section: comparison chart, evaluation table, example customers."""
    figures: list[Figure] = []
    notes: list[str] = []
    if rec.evaluation:
        figures += [comparison_figure(rec.evaluation), evaluation_figure(rec.evaluation, rec.protocol)]
    else:
        notes.append("No evaluation is stored: run `growthkit recommend evaluate` to compare the models.")
    if rec.examples:
        figures.append(examples_figure(rec.examples))
    lead = (
        f"Top-{rec.k} recommendations for {rec.users:,} customers from {rec.model}, computed "
        f"{fmt_datetime(rec.created_at)}; the model was chosen by how well each candidate predicted what "
        "customers touched later."
    )
    return Section("recommendations", "Recommendations", tuple(figures), lead, tuple(notes), wide=True)
