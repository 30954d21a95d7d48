"""Holm / Benjamini-Hochberg, adjusted intervals, and the SRM check."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from growthkit.experiments.stats import (
    StatsInputError,
    adjust_p_values,
    adjusted_interval,
    benjamini_hochberg,
    holm,
    srm_p_value,
    srm_test,
)

P = [0.01, 0.04, 0.03, 0.005]


def test_holm_and_bh_hand_checked() -> None:
    # sorted: 0.005, 0.01, 0.03, 0.04 -> Holm x4,x3,x2,x1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.06
    assert holm(P).tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH m/j: 0.02, 0.02, 0.04, 0.04 -> running min from the top
    assert benjamini_hochberg(P).tolist() == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust_p_values([0.9, 0.9], "holm").tolist() == [1.0, 1.0]


def test_matches_statsmodels_multipletests() -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(41)
    for _ in range(50):
        p = rng.uniform(0, 0.2, size=int(rng.integers(1, 30))) ** 2
        assert holm(p) == pytest.approx(multitest.multipletests(p, method="holm")[1], rel=1e-12)
        assert benjamini_hochberg(p) == pytest.approx(multitest.multipletests(p, method="fdr_bh")[1], rel=1e-12)
    batch = rng.uniform(size=(7, 5))
    assert holm(batch)[3] == pytest.approx(holm(batch[3]))


def test_adjusted_interval_excludes_zero_iff_adjusted_p_below_alpha() -> None:
    effect = np.array([0.1, 0.1, -0.2, 0.0, 0.3])
    p_adj = np.array([0.01, 0.2, 0.049, 0.5, 1.0])
    lo, hi = adjusted_interval(effect, p_adj, alpha=0.05)
    excludes = (lo > 0) | (hi < 0)
    assert excludes.tolist() == [True, False, True, False, False]
    assert np.isinf(lo[3]) and np.isinf(hi[4])
    # unadjusted p gives back the ordinary normal interval
    se = 0.05
    p = 2 * stats.norm.sf(0.1 / se)
    lo1, hi1 = adjusted_interval(0.1, p)
    assert (float(lo1), float(hi1)) == pytest.approx((0.1 - 1.959964 * se, 0.1 + 1.959964 * se), rel=1e-5)


def test_p_values_out_of_range_are_rejected() -> None:
    with pytest.raises(StatsInputError):
        holm([0.1, 1.2])
    with pytest.raises(StatsInputError):
        adjust_p_values([0.1], "bonferroni-ish")


def test_srm_matches_scipy_chisquare() -> None:
    counts, weights = [1050, 980, 2070], [1, 1, 2]
    total = sum(counts)
    ref = stats.chisquare(counts, [total / 4, total / 4, total / 2])
    r = srm_test(counts, weights)
    assert float(r.chi2) == pytest.approx(ref.statistic) and float(r.p_value) == pytest.approx(ref.pvalue)
    assert float(srm_p_value([5000, 5000])) == pytest.approx(1.0)


def test_srm_flags_loudly_under_the_threshold() -> None:
    r = srm_test([5000, 5400])
    assert bool(r.srm_detected) and "SAMPLE RATIO MISMATCH" in r.warning
    assert not bool(srm_test([5000, 5050]).srm_detected) and srm_test([5000, 5050]).warning == ""
    batch = srm_test(np.array([[5000, 5400], [5000, 5010]]))
    assert batch.srm_detected.tolist() == [True, False]


def test_srm_degenerate_and_invalid() -> None:
    assert float(srm_test([0, 0]).p_value) == 1.0
    with pytest.raises(StatsInputError):
        srm_test([10])
    with pytest.raises(StatsInputError):
        srm_test([10, -1])
    with pytest.raises(StatsInputError):
        srm_test([10, 10], [1, 0])
