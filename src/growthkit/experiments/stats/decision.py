"""Decision rules: ship, don't ship, or keep running, with the reasons.

Each metric is a **success** metric (the experiment should move it) or a **guardrail** (it
must not get worse). A metric's interval (confidence interval, confidence sequence or
credible interval, already adjusted for multiple testing if you want that) decides whether it
is significantly better, significantly worse, or inconclusive, given its direction.

Rules, first match wins:

1. a sample-ratio mismatch -> **dont_ship** (the data cannot be trusted);
2. a guardrail significantly worse -> **dont_ship**;
3. a success metric significantly worse -> **dont_ship**;
4. a success metric significantly better -> **ship**;
5. otherwise -> **keep_running**, or **dont_ship** if the planned sample size has been reached
   (no improvement was found in the planned time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from growthkit.experiments.stats.errors import StatsInputError
from growthkit.experiments.stats.srm import DEFAULT_SRM_THRESHOLD

Action = Literal["ship", "dont_ship", "keep_running"]
Role = Literal["success", "guardrail"]


@dataclass(frozen=True)
class MetricOutcome:
    """One metric's result for one variation, as the decision rule sees it.

    Parameters
    ----------
    name : str
        Metric name (for the reasons).
    role : {"success", "guardrail"}
        What the metric is for.
    effect, ci_low, ci_high : float
        Point estimate and interval of treatment minus control.
    higher_is_better : bool
        Direction of improvement.
    status : str
        The engine's status; anything but ``"ok"`` counts as inconclusive.
    """

    name: str
    role: Role
    effect: float
    ci_low: float
    ci_high: float
    higher_is_better: bool = True
    status: str = "ok"

    def __post_init__(self) -> None:
        if self.role not in ("success", "guardrail"):
            raise StatsInputError(f"metric {self.name!r}: role must be 'success' or 'guardrail', got {self.role!r}")
        if math.isnan(self.ci_low) or math.isnan(self.ci_high) or self.ci_low > self.ci_high:
            raise StatsInputError(f"metric {self.name!r}: need ci_low <= ci_high, got [{self.ci_low}, {self.ci_high}]")

    @property
    def verdict(self) -> Literal["better", "worse", "inconclusive"]:
        """Whether the interval lies entirely on the good or the bad side of 0."""
        if self.status != "ok":
            return "inconclusive"
        if self.ci_low > 0:
            return "better" if self.higher_is_better else "worse"
        if self.ci_high < 0:
            return "worse" if self.higher_is_better else "better"
        return "inconclusive"


@dataclass(frozen=True)
class Decision:
    """What to do with a variation, and why."""

    action: Action
    reasons: tuple[str, ...]


def _describe(o: MetricOutcome) -> str:
    interval = f"[{o.ci_low:.4g}, {o.ci_high:.4g}]"
    return f"{o.role} metric {o.name!r} is significantly {o.verdict} (effect {o.effect:+.4g}, interval {interval})"


def decide(
    outcomes: Sequence[MetricOutcome],
    *,
    srm_p_value: float | None = None,
    srm_threshold: float = DEFAULT_SRM_THRESHOLD,
    reached_planned_sample: bool = False,
) -> Decision:
    """Apply the decision rules to one variation's metric outcomes.

    Parameters
    ----------
    outcomes : sequence of MetricOutcome
        At least one success metric; guardrails optional.
    srm_p_value : float, optional
        The experiment's SRM p-value.
    srm_threshold : float
        SRM threshold (default 0.001).
    reached_planned_sample : bool
        Whether the planned sample size or duration has been reached.

    Returns
    -------
    Decision

    Examples
    --------
    >>> d = decide([MetricOutcome("revenue", "success", 0.04, 0.01, 0.07),
    ...             MetricOutcome("refund_rate", "guardrail", 0.0, -0.01, 0.01, higher_is_better=False)])
    >>> d.action
    'ship'
    """
    if not any(o.role == "success" for o in outcomes):
        raise StatsInputError("decide() needs at least one success metric")
    if srm_p_value is not None and srm_p_value < srm_threshold:
        return Decision(
            "dont_ship",
            (f"sample ratio mismatch (p = {srm_p_value:.2g} < {srm_threshold:g}): fix assignment before deciding",),
        )
    notes = tuple(f"metric {o.name!r} is inconclusive: status {o.status!r}" for o in outcomes if o.status != "ok")
    bad_guard = [o for o in outcomes if o.role == "guardrail" and o.verdict == "worse"]
    if bad_guard:
        return Decision("dont_ship", tuple(_describe(o) for o in bad_guard) + notes)
    bad_success = [o for o in outcomes if o.role == "success" and o.verdict == "worse"]
    if bad_success:
        return Decision("dont_ship", tuple(_describe(o) for o in bad_success) + notes)
    wins = [o for o in outcomes if o.role == "success" and o.verdict == "better"]
    if wins:
        guards = [o.name for o in outcomes if o.role == "guardrail"]
        tail = (f"no guardrail is significantly worse ({', '.join(map(repr, guards))})",) if guards else ()
        return Decision("ship", tuple(_describe(o) for o in wins) + tail + notes)
    if reached_planned_sample:
        return Decision(
            "dont_ship", ("planned sample reached without a significant improvement in any success metric", *notes)
        )
    return Decision("keep_running", ("no success metric is significantly better or worse yet", *notes))
