"""CLV with discounting, and the holdout check's buckets."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from growthkit.errors import ConfigError, SchemaError
from growthkit.models.clv import (
    BGNBD,
    GammaGamma,
    ParetoNBD,
    RFMSummary,
    customer_lifetime_value,
    holdout_check,
    simulate_bgnbd,
)


@pytest.fixture(scope="module")
def fitted() -> tuple[BGNBD, GammaGamma, pd.DataFrame]:
    data = simulate_bgnbd(r=0.3, alpha=5.0, a=0.8, b=2.5, durations=np.linspace(20, 39, 3000), seed=21)
    data["monetary_value"] = np.where(data["frequency"] > 0, 20.0 + 3.0 * (data.index % 7), 0.0)
    return BGNBD(n_starts=1).fit(data), GammaGamma(n_starts=1).fit(data), data


def test_undiscounted_clv_is_expected_purchases_times_spend(fitted: tuple[BGNBD, GammaGamma, pd.DataFrame]) -> None:
    bg, gg, data = fitted
    clv = customer_lifetime_value(bg, gg, data, horizon=12, period=52 / 12)
    want = bg.expected_purchases(data, 52.0) * gg.expected_spend(data)
    np.testing.assert_allclose(clv.to_numpy(), want.to_numpy(), rtol=1e-9)
    assert clv.name == "clv" and clv.index.equals(data.index)


def test_discounting_by_period(fitted: tuple[BGNBD, GammaGamma, pd.DataFrame]) -> None:
    bg, gg, data = fitted
    one = data.iloc[[5]]
    d = 0.05
    clv = customer_lifetime_value(bg, gg, one, horizon=3, period=4.0, discount_rate=d).iloc[0]
    cum = [0.0] + [bg.expected_purchases(one, 4.0 * k).iloc[0] for k in (1, 2, 3)]
    by_hand = sum((cum[k] - cum[k - 1]) / (1 + d) ** k for k in (1, 2, 3)) * gg.expected_spend(one).iloc[0]
    assert clv == pytest.approx(by_hand, rel=1e-12)
    flat = customer_lifetime_value(bg, gg, one, horizon=3, period=4.0).iloc[0]
    assert by_hand < flat
    with pytest.raises(ConfigError, match="horizon"):
        customer_lifetime_value(bg, gg, one, horizon=0)
    with pytest.raises(ConfigError, match="discount_rate"):
        customer_lifetime_value(bg, gg, one, horizon=1, discount_rate=-1.0)


def test_holdout_check_buckets_add_up() -> None:
    data = simulate_bgnbd(r=0.3, alpha=5.0, a=0.8, b=2.5, durations=np.full(2000, 30.0), seed=3, holdout=20.0)
    data.index = data.index.astype(str)
    summary = RFMSummary(data, date(2025, 1, 31), date(2025, 6, 20), "W")  # 140 days: 20 weeks
    model = ParetoNBD(n_starts=1).fit(summary)
    check = holdout_check(model, summary, max_bucket=3)
    assert [b.label for b in check.buckets] == ["0", "1", "2", "3+"]
    assert check.customers == 2000 and check.total_actual == data["frequency_holdout"].sum()
    assert check.total_predicted == pytest.approx(model.expected_purchases(data, 20.0).sum())
    assert check.duration == 20.0 and check.model == "ParetoNBD"
    d = check.to_dict()
    assert d["buckets"][3]["frequency"] == "3+" and d["total_actual"] == check.total_actual
    assert list(check.to_frame().columns)[:4] == ["frequency", "customers", "actual", "predicted"]
    with pytest.raises(SchemaError, match="no holdout"):
        holdout_check(model, RFMSummary(data, date(2025, 1, 31), None, "W"))
