"""The RFM summary the CLV models are fit on: (frequency, recency, T, monetary value) per customer.

Definitions (Fader, Hardie & Lee 2005a, section 4; the CDNOW analyses use them):

* Time is counted in whole UTC days; a day with one or more purchases is **one
  transaction**, its spend the sum of that day's purchase amounts.
* A customer belongs to the summary when their first purchase day is on or
  before ``calibration_end`` (both ends of the calibration period are
  inclusive days).
* ``frequency`` (x): the number of *repeat* transaction days in the calibration
  period (purchase days after the first one).
* ``recency`` (t_x): days from the first purchase day to the last calibration
  purchase day, divided by the unit (7 for weeks); 0 when ``frequency`` is 0.
* ``T``: days from the first purchase day to ``calibration_end``, divided by the unit.
* ``monetary_value``: mean spend of the repeat transaction days (the first
  purchase excluded, as in Fader, Hardie & Lee 2005b); 0 when ``frequency`` is 0
  and NaN when the repeat purchases carry no amounts.
* With a holdout (``holdout_end``): ``frequency_holdout`` is the number of
  purchase days in ``(calibration_end, holdout_end]`` and
  ``monetary_value_holdout`` their mean spend (0 when none).

The same arithmetic serves the in-memory builder (:func:`rfm_summary`, for a
DataFrame or Arrow table of transactions) and the store query in
:mod:`growthkit.workflows.clv`, which aggregates in the database and hands over
one row per customer (:func:`rfm_from_aggregates`).

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005a). "Counting your customers" the
easy way: an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005b). RFM and CLV: using iso-value
curves for customer base analysis. Journal of Marketing Research 42(4), 415-430.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from growthkit.errors import SchemaError

Unit = Literal["D", "W"]
UNIT_DAYS: dict[str, int] = {"D": 1, "W": 7}
"""Days per model time unit."""

AGGREGATE_COLUMNS: tuple[str, ...] = (
    "user_id",
    "first_day",
    "last_day",
    "cal_days",
    "repeat_spend",
    "repeat_spend_days",
    "hold_days",
    "hold_spend",
    "hold_spend_days",
)
"""One row per customer, as the store query returns it: days are integers (days since 1970-01-01);
``last_day`` is the last calibration purchase day, ``cal_days`` the number of calibration purchase
days, ``repeat_spend``/``repeat_spend_days`` the summed spend and the number of repeat calibration
days with a known amount, ``hold_*`` the same for the holdout days."""

RFM_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T", "monetary_value")
HOLDOUT_COLUMNS: tuple[str, ...] = ("frequency_holdout", "monetary_value_holdout")


@dataclass(frozen=True)
class RFMSummary:
    """Per-customer RFM summary (index: the shop's user ids) and the periods it describes.

    Attributes
    ----------
    frame
        Columns ``frequency`` (int), ``recency``, ``T``, ``monetary_value`` and, with a
        holdout, ``frequency_holdout`` (int) and ``monetary_value_holdout``; index ``user_id``.
    calibration_end, holdout_end
        Last days (inclusive) of the calibration and holdout periods.
    unit
        ``"W"`` (weeks: days / 7) or ``"D"`` (days): the time unit of recency, T and of
        every model fitted on this summary.
    """

    frame: pd.DataFrame
    calibration_end: date
    holdout_end: date | None
    unit: Unit

    @property
    def unit_days(self) -> int:
        """Days per time unit."""
        return UNIT_DAYS[self.unit]

    @property
    def holdout_duration(self) -> float | None:
        """Length of the holdout period in the summary's unit (``None`` without a holdout)."""
        if self.holdout_end is None:
            return None
        return (self.holdout_end - self.calibration_end).days / self.unit_days

    def __len__(self) -> int:
        return len(self.frame)


def _check_dates(calibration_end: date, holdout_end: date | None, unit: str) -> None:
    if unit not in UNIT_DAYS:
        raise SchemaError(f"unit must be 'D' (days) or 'W' (weeks), got {unit!r}")
    if holdout_end is not None and holdout_end <= calibration_end:
        raise SchemaError(f"holdout_end ({holdout_end}) must be after calibration_end ({calibration_end})")


def epoch_day(d: date) -> int:
    """Days since 1970-01-01 of a calendar day."""
    return (d - date(1970, 1, 1)).days


def rfm_from_aggregates(
    agg: pd.DataFrame,
    *,
    calibration_end: date,
    holdout_end: date | None = None,
    unit: Unit = "W",
) -> RFMSummary:
    """Turn one aggregate row per customer (:data:`AGGREGATE_COLUMNS`) into an :class:`RFMSummary`.

    Rows whose ``first_day`` is after ``calibration_end`` are dropped. The result is sorted by user id.

    Raises
    ------
    SchemaError
        A column is missing, the unit is unknown or the holdout ends before the calibration.
    """
    _check_dates(calibration_end, holdout_end, unit)
    missing = [c for c in AGGREGATE_COLUMNS if c not in agg.columns]
    if missing:
        raise SchemaError(f"customer aggregates lack column(s) {', '.join(missing)}")
    cal = epoch_day(calibration_end)
    agg = agg[agg["first_day"].to_numpy(dtype=np.int64) <= cal]
    per = float(UNIT_DAYS[unit])
    first = agg["first_day"].to_numpy(dtype=np.int64)
    n_cal = agg["cal_days"].to_numpy(dtype=np.int64)
    last = agg["last_day"].to_numpy(dtype=np.float64)
    freq = n_cal - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        rep_days = agg["repeat_spend_days"].to_numpy(dtype=np.float64)
        rep_spend = agg["repeat_spend"].to_numpy(dtype=np.float64)
        money = np.where(freq > 0, rep_spend / rep_days, 0.0)
    cols: dict[str, Any] = {
        "frequency": freq,
        "recency": np.where(freq > 0, (last - first) / per, 0.0),
        "T": (cal - first) / per,
        "monetary_value": money,
    }
    if holdout_end is not None:
        hold = agg["hold_days"].fillna(0).to_numpy(dtype=np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            hs = agg["hold_spend"].to_numpy(dtype=np.float64) / agg["hold_spend_days"].to_numpy(dtype=np.float64)
        cols["frequency_holdout"] = hold
        cols["monetary_value_holdout"] = np.where(hold > 0, hs, 0.0)
    frame = pd.DataFrame(cols, index=pd.Index(agg["user_id"].astype(str).to_numpy(), name="user_id"))
    frame = frame.sort_index(kind="stable")
    return RFMSummary(frame, calibration_end, holdout_end, unit)


def _as_day(v: date | datetime | str) -> date:
    if isinstance(v, datetime):
        return v.astimezone(UTC).date() if v.tzinfo else v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def rfm_summary(
    transactions: pd.DataFrame | pa.Table,
    *,
    calibration_end: date | datetime | str,
    holdout_end: date | datetime | str | None = None,
    unit: Unit = "W",
    user_col: str = "user_id",
    ts_col: str = "ts",
    amount_col: str | None = "amount",
) -> RFMSummary:
    """Build the RFM summary from a table of purchases (one row per purchase or order line).

    Parameters
    ----------
    transactions
        Purchases only (filter refunds and other events out first): ``user_col``, ``ts_col``
        (timestamps or dates; time-zone aware values are taken in UTC) and, optionally,
        ``amount_col``.
    calibration_end, holdout_end
        Last days of the calibration and (optional) holdout periods, inclusive.
    unit
        ``"W"``: recency and T in weeks (days / 7), as in the CDNOW papers; ``"D"``: in days.

    Returns
    -------
    RFMSummary
        See the module docstring for the definitions.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"user_id": ["a", "a", "a", "b"],
    ...                    "ts": pd.to_datetime(["2025-01-01 09:00", "2025-01-01 18:00", "2025-01-15 10:00",
    ...                                          "2025-01-08 12:00"]),
    ...                    "amount": [10.0, 5.0, 30.0, 8.0]})
    >>> s = rfm_summary(tx, calibration_end="2025-01-28")
    >>> s.frame[["frequency", "recency", "T", "monetary_value"]].round(2).to_dict("index")
    {'a': {'frequency': 1, 'recency': 2.0, 'T': 3.86, 'monetary_value': 30.0}, \
'b': {'frequency': 0, 'recency': 0.0, 'T': 2.86, 'monetary_value': 0.0}}
    """
    df = transactions.to_pandas() if isinstance(transactions, pa.Table) else transactions
    cal, hold = _as_day(calibration_end), (None if holdout_end is None else _as_day(holdout_end))
    _check_dates(cal, hold, unit)
    need = [user_col, ts_col] + ([amount_col] if amount_col else [])
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise SchemaError(f"transactions lack column(s) {', '.join(missing)}; have {', '.join(map(str, df.columns))}")
    ts = pd.to_datetime(df[ts_col], utc=True)
    days = ((ts - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64)
    amount = df[amount_col].to_numpy(dtype=np.float64) if amount_col else np.full(len(df), np.nan)
    last_day = epoch_day(hold or cal)
    keep = days <= last_day
    tx = pd.DataFrame({"user_id": df[user_col].astype(str).to_numpy()[keep], "day": days[keep], "amount": amount[keep]})
    daily = tx.groupby(["user_id", "day"], sort=False)["amount"].sum(min_count=1).rename("spend").reset_index()
    daily["first"] = daily.groupby("user_id")["day"].transform("min")
    c = epoch_day(cal)
    in_cal = daily["day"] <= c
    repeat = in_cal & (daily["day"] > daily["first"])
    in_hold = daily["day"] > c
    known = daily["spend"].notna()

    def by_user(mask: pd.Series, column: str, how: str) -> pd.Series:
        return daily.loc[mask].groupby("user_id")[column].agg(how)

    agg = pd.DataFrame({"first_day": daily.groupby("user_id")["first"].min()})
    agg["last_day"] = by_user(in_cal, "day", "max")
    agg["cal_days"] = by_user(in_cal, "day", "count")
    agg["repeat_spend"] = by_user(repeat & known, "spend", "sum")
    agg["repeat_spend_days"] = by_user(repeat & known, "spend", "count")
    agg["hold_days"] = by_user(in_hold, "day", "count")
    agg["hold_spend"] = by_user(in_hold & known, "spend", "sum")
    agg["hold_spend_days"] = by_user(in_hold & known, "spend", "count")
    agg = agg[agg["first_day"] <= c].fillna({"cal_days": 0, "hold_days": 0, "repeat_spend_days": 0})
    agg = agg.reset_index()
    return rfm_from_aggregates(agg, calibration_end=cal, holdout_end=hold, unit=unit)
