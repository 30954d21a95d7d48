"""The RFM summary on tiny hand-checked timelines: same-day purchases, period boundaries, holdout, amounts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from growthkit.errors import SchemaError
from growthkit.models.clv import rfm_summary


def _tx(rows: list[tuple[str, str, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"user_id": [r[0] for r in rows], "ts": pd.to_datetime([r[1] for r in rows]), "amount": [r[2] for r in rows]}
    )


TIMELINE = _tx(
    [
        ("a", "2025-01-01 09:00", 10.0),  # first purchase day: two orders, one transaction
        ("a", "2025-01-01 23:59", 5.0),
        ("a", "2025-01-08 10:00", 20.0),  # repeat, week 1
        ("a", "2025-01-15 00:00", 30.0),  # repeat on the calibration end day: inside (inclusive)
        ("a", "2025-01-16 00:00", 7.0),  # holdout
        ("a", "2025-01-16 08:00", 3.0),  # same holdout day
        ("a", "2025-02-01 00:00", 99.0),  # after the holdout end: ignored
        ("b", "2025-01-15 12:00", 8.0),  # first purchase on the last calibration day: T = 0
        ("c", "2025-01-16 12:00", 8.0),  # first purchase after calibration: not in the summary
        ("d", "2025-01-02 00:00", None),  # no amounts
        ("d", "2025-01-03 00:00", None),
    ]
)


def test_timeline_by_hand() -> None:
    s = rfm_summary(TIMELINE, calibration_end=date(2025, 1, 15), holdout_end="2025-01-29", unit="D")
    f = s.frame
    assert list(f.index) == ["a", "b", "d"] and f.index.name == "user_id"
    assert f.loc["a"].to_dict() == {
        "frequency": 2, "recency": 14.0, "T": 14.0, "monetary_value": 25.0,
        "frequency_holdout": 1, "monetary_value_holdout": 10.0,
    }  # fmt: skip
    assert f.loc["b", ["frequency", "recency", "T", "monetary_value", "frequency_holdout"]].tolist() == [0, 0, 0, 0, 0]
    assert f.loc["d", "frequency"] == 1 and np.isnan(f.loc["d", "monetary_value"])
    assert s.holdout_duration == 14.0 and s.unit_days == 1 and len(s) == 3
    weeks = rfm_summary(TIMELINE, calibration_end="2025-01-15", unit="W")
    assert weeks.frame.loc["a", "recency"] == pytest.approx(2.0) and "frequency_holdout" not in weeks.frame
    assert weeks.holdout_duration is None


def test_time_zones_and_arrow_input() -> None:
    tx = pd.DataFrame(
        {
            "uid": ["u", "u"],
            "when": pd.to_datetime(["2025-01-01 23:30", "2025-01-02 00:30"]).tz_localize("Asia/Shanghai"),
            "value": [1.0, 2.0],
        }
    )
    s = rfm_summary(
        pa.Table.from_pandas(tx), calibration_end="2025-01-10", user_col="uid", ts_col="when", amount_col="value"
    )
    # 23:30 and 00:30 in Shanghai are 15:30 and 16:30 UTC on 1 January: one purchase day
    assert s.frame.loc["u", "frequency"] == 0 and s.frame.loc["u", "T"] == pytest.approx(9 / 7)


def test_errors_name_what_to_fix() -> None:
    with pytest.raises(SchemaError, match="lack column"):
        rfm_summary(TIMELINE.drop(columns="amount"), calibration_end="2025-01-15")
    with pytest.raises(SchemaError, match="must be after"):
        rfm_summary(TIMELINE, calibration_end="2025-01-15", holdout_end="2025-01-15")
    with pytest.raises(SchemaError, match="unit"):
        rfm_summary(TIMELINE, calibration_end="2025-01-15", unit="M")  # type: ignore[arg-type]
    no_amounts = rfm_summary(TIMELINE.drop(columns="amount"), calibration_end="2025-01-15", amount_col=None)
    assert np.isnan(no_amounts.frame.loc["a", "monetary_value"])
