"""Golden tests on the real CDNOW 1/10 sample: the papers' estimates to their published precision.

Published values: BG/NBD and Pareto/NBD from Fader, Hardie & Lee (2005a), table 1 and text
(log-likelihoods -9582.4 and -9595.0); Gamma-Gamma from Fader, Hardie & Lee (2005b), on the 946
customers with repeat purchases. "To their precision" means the rounded fit equals the published
number: |ours - published| <= half a unit in the last published digit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from growthkit.models.clv import BGNBD, GammaGamma, ParetoNBD, RFMSummary, holdout_check

pytestmark = pytest.mark.integration


def _matches(fitted: dict[str, float], published: dict[str, float], decimals: int) -> None:
    for k, v in published.items():
        assert abs(fitted[k] - v) <= 0.5 * 10**-decimals + 1e-12, (k, fitted[k], v)
        assert round(fitted[k], decimals) == v, (k, fitted[k], v)


def test_summary_is_the_papers_data(cdnow: RFMSummary) -> None:
    f = cdnow.frame
    assert len(f) == 2357 and cdnow.unit == "W" and cdnow.holdout_duration == 39.0
    assert int(f["frequency"].sum()) == 2457  # repeat transactions in the 39 calibration weeks (FHL 2005a)
    assert int((f["frequency"] > 0).sum()) == 946
    assert f["T"].max() == pytest.approx(272 / 7) and f["T"].min() == pytest.approx((272 - 83) / 7)
    assert int(f["frequency_holdout"].sum()) == 1882  # distinct purchase days in 1997-10-01 .. 1998-06-30
    assert f.loc["00004", ["frequency", "recency"]].tolist() == pytest.approx([2, 213 / 7])


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow: RFMSummary) -> None:
    model = BGNBD().fit(cdnow)
    _matches(model.params_, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, 3)
    assert round(model.log_likelihood_, 1) == -9582.4
    assert model.fit_report_.converged and model.fit_report_.agreeing_starts == 3
    assert model.log_likelihood(cdnow).sum() == pytest.approx(model.log_likelihood_, abs=1e-6)


def test_paretonbd_reproduces_the_published_estimates(cdnow: RFMSummary) -> None:
    model = ParetoNBD().fit(cdnow)
    _matches(model.params_, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, 3)
    assert round(model.log_likelihood_, 1) == -9595.0
    assert model.fit_report_.converged and model.fit_report_.agreeing_starts == 3
    assert model.log_likelihood(cdnow).sum() == pytest.approx(model.log_likelihood_, abs=1e-6)


def test_gammagamma_reproduces_fader_hardie_lee_2005b(cdnow: RFMSummary) -> None:
    model = GammaGamma().fit(cdnow)
    assert model.n_customers_ == 946
    _matches(model.params_, {"p": 6.25, "q": 3.74, "gamma": 15.44}, 2)
    # spend per repeat transaction averages the day totals: a customer's two orders on one day are one transaction
    assert cdnow.frame.loc[cdnow.frame["frequency"] > 0, "monetary_value"].mean() == pytest.approx(35.0778, abs=1e-4)


def test_holdout_check_per_frequency_bucket(cdnow: RFMSummary) -> None:
    bg = holdout_check(BGNBD().fit(cdnow), cdnow)
    assert [b.label for b in bg.buckets] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert [b.customers for b in bg.buckets] == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert [b.actual for b in bg.buckets] == [334, 306, 298, 156, 157, 112, 112, 407]
    assert bg.total_actual == 1882 and bg.customers == 2357
    assert bg.total_predicted == pytest.approx(1653.4, abs=0.05)
    # the forecast rises with calibration frequency, like the actual purchases (FHL 2005a, figure 4)
    assert np.all(np.diff([b.predicted_mean for b in bg.buckets]) > 0)
    pnbd = holdout_check(ParetoNBD().fit(cdnow), cdnow)
    assert pnbd.total_predicted == pytest.approx(1665.5, abs=0.05)
    assert pd.DataFrame(bg.to_dict()["buckets"])["actual"].sum() == 1882
