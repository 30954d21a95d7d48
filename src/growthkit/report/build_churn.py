"""The churn section: who is likely to stop buying, how much revenue they hold, and why.

Takes the :class:`~growthkit.workflows.churn_report.ChurnReport` of every target that
``growthkit predict churn`` / ``growthkit predict purchase`` wrote to the ``scores`` table
(``ReportData.churn``); the report shows the section only when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence

from growthkit.report.charts import Series, bar_chart
from growthkit.report.format import Html, Unit, fmt_date
from growthkit.report.html import Figure, Section, table
from growthkit.report.svg import PALETTE
from growthkit.workflows.churn_report import AT_RISK_DECILES, ChurnReport

WORDS: dict[str, tuple[str, str]] = {
    # target: (what the score is the probability of, who is scored)
    "churn": ("no purchase", "customers"),
    "purchase": ("at least one purchase", "users"),
}
SCORER_NAMES: dict[str, str] = {
    "lightgbm": "gradient boosting (calibrated)",
    "lightgbm_uncalibrated": "gradient boosting (uncalibrated)",
    "logistic": "logistic regression",
    "recency": "recency rule",
    "base_rate": "base rate",
}


def _what(r: ChurnReport) -> str:
    event, _ = WORDS.get(r.target, (r.target, "users"))
    return f"{event} in the {r.horizon_days} days after {fmt_date(r.cutoff.date())}"


def distribution_figure(r: ChurnReport) -> Figure:
    """Users per band of predicted probability (a histogram of the scores)."""
    _, who = WORDS.get(r.target, (r.target, "users"))
    title = f"{'Churn risk' if r.target == 'churn' else 'Purchase propensity'}: {who} by predicted probability"
    svg = bar_chart(
        [label for label, _ in r.histogram],
        [Series(who.capitalize(), [float(n) for _, n in r.histogram], PALETTE[0 if r.target == "churn" else 1])],
        title=title,
        unit=Unit.count(),
        x_caption=f"predicted probability of {_what(r)}",
    )
    caption = (
        f"{r.users:,} {who} scored by {r.model} (mean probability {r.mean_score:.1%}). A band's probability "
        "is what to expect for its users when the scores are well calibrated (see the backtest's Brier score)."
    )
    return Figure(title, svg, caption)


def revenue_figure(r: ChurnReport, money: Unit) -> Figure:
    """Revenue to date per risk decile (1 = the highest churn risk)."""
    title = "Revenue to date by churn-risk decile"
    svg = bar_chart(
        [str(d.decile) for d in r.deciles],
        [Series("Revenue to date", [d.revenue for d in r.deciles], PALETTE[2])],
        title=title,
        unit=money,
        x_caption="risk decile (1 = the 10% most likely to churn)",
    )
    share = r.at_risk_revenue / r.total_revenue if r.total_revenue else 0.0
    caption = (
        f"Customers in the {AT_RISK_DECILES} riskiest deciles ({r.at_risk_users:,}) bought "
        f"{money.format(r.at_risk_revenue)} so far, {share:.1%} of all scored customers' revenue "
        f"({money.format(r.total_revenue)}): the revenue at stake if they leave."
    )
    return Figure(title, svg, caption)


def at_risk_figure(r: ChurnReport, money: Unit) -> Figure:
    """The most valuable customers in the riskiest deciles, with the strongest reason behind each score."""
    rows: list[list[object]] = [
        [c.user_id, f"{c.score:.0%}", money.format(c.revenue), c.reason] for c in r.top_customers
    ]
    body = table(["customer", "P(churn)", "revenue to date", "main reason"], rows) if rows else Html("")
    caption = (
        f"The {len(rows)} customers with the most revenue to date among the {AT_RISK_DECILES} riskiest deciles; "
        "the reason is the feature that raised the score most, against the typical customer."
    )
    return Figure("Top at-risk customers", body, caption, wide=True)


def _num(v: object, fmt: str) -> str:
    return "–" if v is None else format(float(v), fmt)  # type: ignore[arg-type]


def evaluation_figure(r: ChurnReport) -> Figure:
    """The backtest: the model against its baselines on the last complete horizon."""
    rows: list[list[object]] = [
        [
            SCORER_NAMES.get(str(e["model"]), str(e["model"])),
            _num(e.get("roc_auc"), ".3f"),
            _num(e.get("pr_auc"), ".3f"),
            _num(e.get("brier"), ".4f"),
            _num(e.get("lift_top_decile"), ".2f") + "x",
        ]
        for e in r.evaluation
    ]
    first = r.evaluation[0]
    caption = (
        f"Trained on features at {fmt_date(first['train_cutoff'].date())}, tested on "
        f"{int(first['n']):,} users at {fmt_date(first['test_cutoff'].date())} "
        f"({float(first['base_rate']):.1%} positive). ROC-AUC and PR-AUC: ranking (higher is better); Brier: "
        "probability error (lower is better); lift: positive rate in the top 10% against the average."
    )
    title = f"How good are the {r.target} scores? Backtest against baselines"
    return Figure(title, table(["scorer", "ROC-AUC", "PR-AUC", "Brier", "top-decile lift"], rows), caption, wide=True)


def churn_section(reports: Sequence[ChurnReport], money: Unit) -> Section:
    """Risk distribution, revenue at risk, the top at-risk customers and the backtest of every scored target."""
    figures: list[Figure] = []
    for r in reports:
        figures.append(distribution_figure(r))
        if r.target == "churn":
            figures.append(revenue_figure(r, money))
            figures.append(at_risk_figure(r, money))
        if r.evaluation:
            figures.append(evaluation_figure(r))
    churn = next((r for r in reports if r.target == "churn"), reports[0])
    lead = (
        f"Each {'customer' if churn.target == 'churn' else 'user'} scored with the probability of "
        f"{_what(churn)} by a gradient-boosted model trained on the horizon before, with the reasons behind "
        "each score (growthkit predict; see docs/churn.md)."
    )
    return Section("churn", "Churn risk", tuple(figures), lead, wide=True)
