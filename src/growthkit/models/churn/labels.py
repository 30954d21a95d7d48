"""Labels of a churn or propensity model from the horizon outcomes of :func:`growthkit.features.horizon_labels`."""

from __future__ import annotations

import pandas as pd

from growthkit.models.churn._validate import TARGETS, ChurnError


def make_labels(outcomes: pd.DataFrame, target: str = "churn") -> pd.Series:
    """0/1 labels per user: ``churn`` = ``outcomes.churned``; ``purchase`` = ``1 - churned``.

    ``outcomes`` is :func:`growthkit.features.horizon_labels` with ``churn_events`` set to the
    label events: ``churned`` is 1 when the user did none of them in the horizon, so the
    propensity label is "did at least one" (with the default ``("purchase",)``: bought).

    Examples
    --------
    >>> out = pd.DataFrame({"churned": [1, 0]}, index=pd.Index(["ann", "bob"], name="user_id"))
    >>> make_labels(out, "purchase").tolist()
    [0, 1]
    """
    if target not in TARGETS:
        raise ChurnError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    if "churned" not in outcomes.columns:
        raise ChurnError("outcomes need a 'churned' column (growthkit.features.horizon_labels)")
    churned = outcomes["churned"].astype("int64")
    y = churned if target == "churn" else 1 - churned
    return y.rename(target)
