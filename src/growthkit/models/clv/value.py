"""From fitted models to money: discounted customer lifetime value, and the holdout check of a forecast.

CLV over a horizon of H periods of length Δ (in the summary's time unit) with a
per-period discount rate d::

    CLV = Σ_{k=1..H} ( E[X(kΔ)] - E[X((k-1)Δ)] ) · E[M] / (1 + d)^k

where E[X(t)] is the transaction model's conditional expectation of a customer's
purchases in the next t (so the bracket is the expected purchases in period k)
and E[M] the Gamma-Gamma conditional expected spend per transaction. Cash flows
are discounted at the end of the period they fall in. With d = 0 and H·Δ = t this
is E[X(t)] · E[M]. This is the discrete-period version of the discounted
expected residual transactions of Fader, Hardie & Lee (2005b); it is the one
``lifetimes`` uses too.

The holdout check compares, per calibration frequency (0, 1, ..., 7+), the
purchases the model expects in the holdout period with those that happened
(Fader, Hardie & Lee 2005a, figure 4 shows the averages for CDNOW).

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005a). "Counting your customers" the easy way.
Marketing Science 24(2), 275-284.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005b). RFM and CLV: using iso-value curves for
customer base analysis. Journal of Marketing Research 42(4), 415-430.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import numpy as np
import pandas as pd

from growthkit.errors import ConfigError, SchemaError
from growthkit.models.clv._optim import RFMData, as_frame
from growthkit.models.clv.gammagamma import GammaGamma
from growthkit.models.clv.summary import RFMSummary


class TransactionModel(Protocol):
    """What :func:`customer_lifetime_value` and :func:`holdout_check` need from BG/NBD or Pareto/NBD."""

    params_: dict[str, float]

    def expected_purchases(self, data: RFMData, t: float) -> pd.Series: ...

    def p_alive(self, data: RFMData) -> pd.Series: ...


def customer_lifetime_value(
    transactions: TransactionModel,
    spend: GammaGamma,
    data: RFMData,
    *,
    horizon: int,
    period: float = 1.0,
    discount_rate: float = 0.0,
) -> pd.Series:
    """Discounted expected value of each customer's purchases over the next ``horizon`` periods.

    Parameters
    ----------
    transactions
        A fitted :class:`~growthkit.models.clv.BGNBD` or :class:`~growthkit.models.clv.ParetoNBD`.
    spend
        A fitted :class:`~growthkit.models.clv.GammaGamma`.
    data
        The customers (frequency, recency, T, monetary_value), in the unit the models were fit in.
    horizon
        Number of periods.
    period
        Length of one period in the data's time unit (e.g. 52/12 for months when the unit is weeks).
    discount_rate
        Per-period discount rate (e.g. 0.01 for 1 % a month); cash flows of period k are divided
        by (1 + discount_rate)^k.

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.models.clv import BGNBD, GammaGamma, simulate_bgnbd
    >>> data = simulate_bgnbd(r=0.25, alpha=4.0, a=0.8, b=2.5, durations=[39.0] * 3000, seed=3)
    >>> data["monetary_value"] = (20.0 + data["frequency"]).where(data["frequency"] > 0, 0.0)
    >>> bg, gg = BGNBD(n_starts=1).fit(data), GammaGamma(n_starts=1).fit(data)
    >>> flat = customer_lifetime_value(bg, gg, data, horizon=12, period=52 / 12)
    >>> discounted = customer_lifetime_value(bg, gg, data, horizon=12, period=52 / 12, discount_rate=0.01)
    >>> bool((discounted <= flat).all())
    True
    """
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ConfigError(f"horizon must be a whole number of periods >= 1, got {horizon!r}")
    if not (np.isfinite(period) and period > 0):
        raise ConfigError(f"period must be a positive length, got {period!r}")
    if not (np.isfinite(discount_rate) and discount_rate > -1):
        raise ConfigError(f"discount_rate must be > -1 (0.01 = 1 % per period), got {discount_rate!r}")
    frame = as_frame(data)
    money = spend.expected_spend(frame).to_numpy()
    total = np.zeros(len(frame))
    before = np.zeros(len(frame))
    for k in range(1, int(horizon) + 1):
        upto = transactions.expected_purchases(frame, k * period).to_numpy()
        total += (upto - before) / (1.0 + discount_rate) ** k
        before = upto
    return pd.Series(total * money, index=frame.index, name="clv")


@dataclass(frozen=True)
class HoldoutBucket:
    """Customers with one calibration frequency (the last bucket: that many or more)."""

    label: str
    customers: int
    actual: float
    """Purchases (transaction days) they made in the holdout period, in total."""
    predicted: float
    """Purchases the model expected of them in the holdout period, in total."""

    @property
    def actual_mean(self) -> float:
        return self.actual / self.customers if self.customers else float("nan")

    @property
    def predicted_mean(self) -> float:
        return self.predicted / self.customers if self.customers else float("nan")


@dataclass(frozen=True)
class HoldoutCheck:
    """Predicted against actual repeat purchases in a holdout period, by calibration frequency."""

    model: str
    params: dict[str, float]
    calibration_end: date
    holdout_end: date
    duration: float
    """Holdout length in ``unit``."""
    unit: str
    buckets: tuple[HoldoutBucket, ...]

    @property
    def customers(self) -> int:
        return sum(b.customers for b in self.buckets)

    @property
    def total_actual(self) -> float:
        return float(sum(b.actual for b in self.buckets))

    @property
    def total_predicted(self) -> float:
        return float(sum(b.predicted for b in self.buckets))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the periods, totals and one entry per bucket (totals and means)."""
        return {
            "model": self.model,
            "params": dict(self.params),
            "calibration_end": self.calibration_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            "duration": self.duration,
            "unit": self.unit,
            "customers": self.customers,
            "total_actual": self.total_actual,
            "total_predicted": self.total_predicted,
            "buckets": [
                {
                    "frequency": b.label,
                    "customers": b.customers,
                    "actual": b.actual,
                    "predicted": b.predicted,
                    "actual_mean": b.actual_mean,
                    "predicted_mean": b.predicted_mean,
                }
                for b in self.buckets
            ],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per bucket: frequency, customers, actual, predicted and their means."""
        return pd.DataFrame(self.to_dict()["buckets"])


def holdout_check(model: TransactionModel, summary: RFMSummary, *, max_bucket: int = 7) -> HoldoutCheck:
    """Compare ``model``'s expected holdout purchases with the actual ones, per calibration frequency.

    Raises
    ------
    SchemaError
        The summary has no holdout period.
    """
    if summary.holdout_end is None or "frequency_holdout" not in summary.frame.columns:
        raise SchemaError("the summary has no holdout period: build it with a holdout_end")
    if max_bucket < 1:
        raise ConfigError(f"max_bucket must be at least 1, got {max_bucket}")
    duration = summary.holdout_duration
    assert duration is not None
    frame = summary.frame
    predicted = model.expected_purchases(frame, duration).to_numpy()
    actual = frame["frequency_holdout"].to_numpy(dtype=np.float64)
    bucket = np.minimum(frame["frequency"].to_numpy(dtype=np.int64), max_bucket)
    buckets = []
    for k in range(max_bucket + 1):
        sel = bucket == k
        label = f"{k}+" if k == max_bucket else str(k)
        buckets.append(HoldoutBucket(label, int(sel.sum()), float(actual[sel].sum()), float(predicted[sel].sum())))
    return HoldoutCheck(
        model=type(model).__name__,
        params=dict(model.params_),
        calibration_end=summary.calibration_end,
        holdout_end=summary.holdout_end,
        duration=float(duration),
        unit=summary.unit,
        buckets=tuple(buckets),
    )
