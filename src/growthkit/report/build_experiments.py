"""The experiments section: per A/B test, an interval chart of the effects, the SRM check and the decision.

Takes the analyses that :func:`growthkit.workflows.report.gather_report` put in
``ReportData.experiments`` (results of ``workflows.experiments.analyze_experiment``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from growthkit.report.format import Html, Unit, esc
from growthkit.report.html import Figure, Section
from growthkit.report.intervals import Interval, interval_chart

ACTIONS: dict[str, str] = {"ship": "Ship", "dont_ship": "Don't ship", "keep_running": "Keep running"}
NO_EXPERIMENTS = (
    "No experiments with exposures in this store. Record exposures (growthkit experiment assign --record, "
    "or growthkit.experiments.record_exposures) and their results appear here."
)


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _p(v: Any) -> str:
    p = _num(v)
    if p is None:
        return "p –"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def effect_rows(analysis: dict[str, Any]) -> list[Interval]:
    """One row per (metric, non-control variation): the effect and its confidence interval."""
    rows = []
    several = len(analysis.get("variations", ())) > 2
    for m in analysis["metrics"]:
        for v in m["result"]["variations"]:
            label = f"{m['name']} · {v['name']}" if several else str(m["name"])
            status = str(v.get("status", "ok"))
            note = _p(v.get("p_value")) + ("" if status == "ok" else f" ({status})")
            rows.append(Interval(label, _num(v.get("effect")), _num(v.get("ci_low")), _num(v.get("ci_high")), note))
    return rows


def _difference(analysis: dict[str, Any]) -> str:
    for m in analysis["metrics"]:
        return str(m["result"].get("difference", "relative"))
    return "relative"


def status_block(analysis: dict[str, Any]) -> Html:
    """Users per arm, the SRM check (green/red with its p-value) and the decision with its reasons."""
    srm = analysis["srm"]
    bad = bool(srm["detected"])
    cls = "bad" if bad else "good"
    srm_text = (
        f"Sample-ratio mismatch: {_p(srm['p_value'])} (below {srm['threshold']:g}); do not trust the effects"
        if bad
        else f"Traffic split as planned (SRM check {_p(srm['p_value'])})"
    )
    arms = ", ".join(
        f"{v['name']} {int(v['users']):,} ({float(v['expected_share']):.0%} planned)" for v in analysis["variations"]
    )
    out = [
        '<div class="exp-status">',
        f'<p class="exp-arms">Users: {esc(arms)}</p>',
        f'<p><span class="badge {cls}" title="{esc(srm.get("warning", ""))}">{esc(srm_text)}</span></p>',
    ]
    for d in analysis["decisions"]:
        action = str(d["action"])
        acls = {"ship": "good", "dont_ship": "bad"}.get(action, "neutral")
        reasons = "; ".join(str(r) for r in d["reasons"])
        out.append(
            f'<p class="exp-decision">Decision for {esc(d["variation"])}: '
            f'<span class="badge {acls}">{esc(ACTIONS.get(action, action))}</span> '
            f'<span class="exp-reasons">{esc(reasons)}</span></p>'
        )
    out.append("</div>")
    return Html("".join(out))


def experiment_figure(analysis: dict[str, Any]) -> Figure:
    """The interval chart and the status block of one analysed experiment."""
    key = str(analysis["experiment"])
    relative = _difference(analysis) == "relative"
    chart = interval_chart(
        effect_rows(analysis),
        title=f"{key}: effect against control",
        unit=Unit.percent() if relative else Unit.count(),
        x_caption="change against control (treatment ÷ control − 1)" if relative else "difference against control",
    )
    metrics = "; ".join(f"{m['name']}: {m['description']}" for m in analysis["metrics"] if m.get("description"))
    cuped = any(m.get("covariate") for m in analysis["metrics"])
    caption = (
        f"Dot: estimated effect; bar: {1 - float(analysis['metrics'][0]['result'].get('alpha', 0.05)):.0%} "
        "confidence interval (green: significantly better, red: significantly worse)."
        + (" CUPED-adjusted with the same metric before exposure." if cuped else "")
        + (f" {metrics}." if metrics else "")
    )
    return Figure(key, Html(status_block(analysis) + chart), caption)


def experiments_section(analyses: Sequence[dict[str, Any]], notes: Sequence[str] = ()) -> Section:
    """One figure per experiment (most recent first); a note instead when there are none."""
    lead = (
        "A/B tests in the store with exposures, most recent first: each metric's effect per exposed user "
        "with its confidence interval, whether the traffic split held, and what to do. Metric windows that "
        "run past the last event are cut there."
    )
    if not analyses:
        return Section("experiments", "Experiments", (), lead, (NO_EXPERIMENTS, *notes), wide=True)
    return Section(
        "experiments", "Experiments", tuple(experiment_figure(a) for a in analyses), lead, tuple(notes), wide=True
    )
