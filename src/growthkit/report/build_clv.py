"""The CLV section: how well the purchase model's forecast held up in a holdout period.

Takes the :class:`~growthkit.models.clv.HoldoutCheck` that ``growthkit clv score --holdout-days N``
saved in the store (``ReportData.clv``); the report shows the section only when there is one.
"""

from __future__ import annotations

from growthkit.models.clv import HoldoutCheck
from growthkit.report.charts import Series, bar_chart
from growthkit.report.format import Html, Unit, fmt_date
from growthkit.report.html import Figure, Section, table
from growthkit.report.svg import PALETTE

CHART_TITLE = "CLV holdout: predicted vs actual repeat purchases by calibration frequency"
MODEL_NAMES: dict[str, str] = {"BGNBD": "BG/NBD", "ParetoNBD": "Pareto/NBD"}


def _unit(check: HoldoutCheck) -> str:
    return {"W": "weeks", "D": "days"}.get(check.unit, check.unit)


def holdout_figure(check: HoldoutCheck) -> Figure:
    """Bars per calibration frequency (0, 1, ..., 7+): mean actual and mean predicted holdout purchases."""
    labels = [b.label for b in check.buckets]
    svg = bar_chart(
        labels,
        [
            Series("Actual", [b.actual_mean if b.customers else None for b in check.buckets], PALETTE[0]),
            Series("Predicted", [b.predicted_mean if b.customers else None for b in check.buckets], PALETTE[1]),
        ],
        title=CHART_TITLE,
        unit=Unit.count(),
        x_caption="repeat purchases in the calibration period",
    )
    caption = (
        f"Average repeat purchases per customer in the holdout ({fmt_date(check.calibration_end)} to "
        f"{fmt_date(check.holdout_end)}, {check.duration:g} {_unit(check)}), against the model's conditional "
        "expectation, for the customers grouped by how often they bought again before it. "
        "A purchase is a day with at least one order."
    )
    return Figure(CHART_TITLE, svg, caption)


def totals_figure(check: HoldoutCheck) -> Figure:
    """A small table: customers, actual and predicted purchases per bucket and in total."""
    rows: list[list[object]] = [
        [b.label, f"{b.customers:,}", f"{b.actual:,.0f}", f"{b.predicted:,.1f}"] for b in check.buckets
    ]
    gap = check.total_predicted / check.total_actual - 1.0 if check.total_actual else None
    rows.append(["total", f"{check.customers:,}", f"{check.total_actual:,.0f}", f"{check.total_predicted:,.1f}"])
    body = table(["calibration frequency", "customers", "actual", "predicted"], rows)
    params = ", ".join(f"{k} = {v:.3g}" for k, v in check.params.items())
    model = MODEL_NAMES.get(check.model, check.model)
    caption = f"{model} fitted on the data up to {fmt_date(check.calibration_end)}"
    caption += f" ({params})." if params else "."
    if gap is not None:
        caption += f" Total forecast {gap:+.1%} against what happened."
    return Figure("Holdout purchases in total", Html(body), caption)


def clv_section(check: HoldoutCheck) -> Section:
    """The CLV holdout check: the chart and the totals table."""
    lead = (
        "Before trusting customer lifetime values, check the purchase model on data it has not seen: "
        "it was fitted on the purchases before the holdout period and forecast each customer's repeat purchases in it."
    )
    return Section("clv", "Customer lifetime value", (holdout_figure(check), totals_figure(check)), lead, wide=True)
