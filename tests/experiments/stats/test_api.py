"""The JSON entry point ``analyze``: agreement with the functions, validation, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from growthkit.errors import GrowthkitError
from growthkit.experiments.stats import (
    GaussianPrior,
    ProportionStats,
    RatioStats,
    RegressionAdjustedStats,
    SampleMeanStats,
    StatsInputError,
    analyze,
    bayesian_test,
    holm,
    hybrid_test,
    sequential_test,
    srm_p_value,
    ttest,
)

MEAN = [
    {"name": "control", "n": 1000, "sum": 10_000.0, "sum_squares": 130_000.0},
    {"name": "B", "n": 1010, "sum": 10_600.0, "sum_squares": 142_000.0},
    {"name": "C", "n": 990, "sum": 9_800.0, "sum_squares": 126_000.0},
]


def _spec(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"engine": "frequentist", "difference": "relative", "alpha": 0.05,
                               "metric_type": "mean", "sequential": False, "variations": MEAN}  # fmt: skip
    return base | kw


def test_frequentist_mean_matches_ttest_and_is_json() -> None:
    out = analyze(_spec(correction="holm"))
    assert json.loads(json.dumps(out, allow_nan=False)) == out
    c = SampleMeanStats(1000, 10_000.0, 130_000.0)
    for row, v in zip(out["variations"], MEAN[1:], strict=True):
        r = ttest(c, SampleMeanStats(v["n"], v["sum"], v["sum_squares"]))
        assert row["effect"] == pytest.approx(float(r.effect)) and row["p_value"] == pytest.approx(float(r.p_value))
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((float(r.ci_low), float(r.ci_high)))
    adj = holm([row["p_value"] for row in out["variations"]])
    assert [row["p_value_adjusted"] for row in out["variations"]] == pytest.approx(adj.tolist())
    assert out["srm_p_value"] == pytest.approx(float(srm_p_value([1000, 1010, 990])))
    assert out["control"] == {"name": "control", "n": 1000, "mean": 10.0}


def test_bayesian_proportion_with_prior() -> None:
    vs = [{"name": "a", "n": 5000, "sum": 500}, {"name": "b", "n": 5000, "sum": 560}]
    prior = {"mean": 0.0, "variance": 0.01, "proper": True}
    out = analyze({"engine": "bayesian", "metric_type": "proportion", "variations": vs, "prior": prior})
    r = bayesian_test(ProportionStats(5000, 500), ProportionStats(5000, 560), prior=GaussianPrior(0.0, 0.01, True))
    row = out["variations"][0]
    assert row["chance_to_win"] == pytest.approx(float(r.chance_to_win))
    assert row["risk"] == pytest.approx(float(r.risk_treatment)) and "p_value" not in row


def test_ratio_and_cuped_keys() -> None:
    ratio = [
        {"name": "c", "n": 800, "sum": 4000.0, "sum_squares": 60_000.0, "denominator_sum": 1600.0,
         "denominator_sum_squares": 4000.0, "main_denominator_sum_product": 13_000.0},
        {"name": "t", "n": 820, "sum": 4300.0, "sum_squares": 66_000.0, "denominator_sum": 1630.0,
         "denominator_sum_squares": 4100.0, "main_denominator_sum_product": 14_000.0},
    ]  # fmt: skip
    out = analyze(_spec(metric_type="ratio", variations=ratio, difference="absolute"))
    r = ttest(RatioStats(800, 4000.0, 60_000.0, 1600.0, 4000.0, 13_000.0),
              RatioStats(820, 4300.0, 66_000.0, 1630.0, 4100.0, 14_000.0), difference="absolute")  # fmt: skip
    assert out["variations"][0]["p_value"] == pytest.approx(float(r.p_value))
    cov = {"covariate_sum": 9000.0, "covariate_sum_squares": 110_000.0, "main_covariate_sum_product": 115_000.0}
    cuped = [MEAN[0] | cov, MEAN[1] | cov]
    out = analyze(_spec(variations=cuped))
    r = ttest(RegressionAdjustedStats(1000, 10_000.0, 130_000.0, 9000.0, 110_000.0, 115_000.0),
              RegressionAdjustedStats(1010, 10_600.0, 142_000.0, 9000.0, 110_000.0, 115_000.0))  # fmt: skip
    assert out["cuped"] and out["variations"][0]["p_value"] == pytest.approx(float(r.p_value))
    multi = {"covariate_sum": [9000.0, 50.0], "covariate_sum_squares": [[110_000.0, 500.0], [500.0, 40.0]],
             "main_covariate_sum_product": [115_000.0, 520.0]}  # fmt: skip
    out = analyze(_spec(variations=[MEAN[0] | multi, MEAN[1] | multi]))
    assert out["variations"][0]["status"] == "ok"


def test_sequential_and_hybrid() -> None:
    out = analyze(_spec(sequential=True, sequential_tuning_parameter=3000))
    c = SampleMeanStats(1000, 10_000.0, 130_000.0)
    t = SampleMeanStats(1010, 10_600.0, 142_000.0)
    assert out["method"] == "sequential"
    assert out["variations"][0]["p_value"] == pytest.approx(float(sequential_test(c, t, tuning_parameter=3000).p_value))
    assert out["variations"][0]["df"] is None  # infinite -> null
    out = analyze(_spec(sequential=True, planned_sample_size=4000))
    assert out["variations"][0]["p_value"] == pytest.approx(float(hybrid_test(c, t, planned_n=4000).p_value))


def test_srm_warning_and_one_sided_nulls() -> None:
    vs = [{"name": "a", "n": 5000, "sum": 500}, {"name": "b", "n": 5600, "sum": 560}]
    out = analyze({"metric_type": "proportion", "variations": vs, "alternative": "greater"})
    assert out["srm_detected"] and any("SAMPLE RATIO MISMATCH" in w for w in out["warnings"])
    assert out["variations"][0]["ci_high"] is None
    weighted = analyze({"metric_type": "proportion", "variations": vs, "weights": [0.47, 0.53]})
    assert not weighted["srm_detected"]


def test_degenerate_variation_is_reported_not_raised() -> None:
    vs = [{"name": "a", "n": 100, "sum": 0}, {"name": "b", "n": 100, "sum": 3}]
    out = analyze({"metric_type": "proportion", "variations": vs})
    row = out["variations"][0]
    assert row["status"] == "baseline_zero" and row["p_value"] == 1.0 and out["warnings"]


@pytest.mark.parametrize(
    "bad",
    [
        {"engine": "magic"},
        {"difference": "percent"},
        {"alpha": 0},
        {"metric_type": "quantile"},
        {"variations": []},
        {"variations": [MEAN[0], MEAN[0]]},
        {"variations": [MEAN[0], {"name": "B", "n": 10}]},
        {"variations": [MEAN[0], MEAN[1] | {"n": -1}]},
        {"variations": [MEAN[0], MEAN[1] | {"sum": "12"}]},
        {"variations": [MEAN[0], MEAN[1] | {"sumsquares": 1}]},
        {"variations": [MEAN[0], MEAN[1] | {"covariate_sum": 1.0}]},
        {"engnie": "frequentist"},
        {"correction": "bonferroni"},
        {"engine": "bayesian", "sequential": True},
        {"sequential": "yes"},
        {"weights": [1, 1]},
        {"sequential": True, "planned_sample_size": "soon"},
        {"sequential": True, "sequential_tuning_parameter": -5},
        {"sequential": True, "planned_sample_size": 100, "sequential_share": 1.5},
        {"srm_threshold": 2},
        {"engine": "bayesian", "prior": {"mean": "zero"}},
        {"engine": "bayesian", "prior": {"scale": "log"}},
    ],
)
def test_bad_specs_raise_clear_errors(bad: dict[str, object]) -> None:
    with pytest.raises(StatsInputError) as info:
        analyze(_spec(**bad))
    assert isinstance(info.value, GrowthkitError) and isinstance(info.value, ValueError)
    assert str(info.value)


def test_not_a_dict() -> None:
    with pytest.raises(StatsInputError):
        analyze([1, 2])  # type: ignore[arg-type]
    assert np.isfinite(analyze(_spec())["variations"][1]["p_value"])
