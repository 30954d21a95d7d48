"""The A/B statistics engine: pure, vectorised functions on sufficient statistics.

Inputs are frozen dataclasses of per-arm sufficient statistics (:mod:`.inputs`); every field
may be a number or a numpy array, and arrays broadcast, so thousands of comparisons are one
call. Results are frozen dataclasses of arrays with a ``status`` code per comparison:
degenerate data (too few units, zero variance, zero baseline) never raises and never yields an
unexplained NaN. Conventions follow GrowthBook's gbstats; formulas and references are in
``docs/experiments.md``.

Modules
-------
inputs        SampleMeanStats, ProportionStats, RatioStats, RegressionAdjustedStats, MultiRegressionAdjustedStats
moments       effect_moments: effect, standard error, Welch df (absolute/relative, ratio, CUPED)
frequentist   ttest: Welch t-test, two- or one-sided, confidence intervals
sequential    sequential_test (anytime-valid confidence sequence), hybrid_test
bayesian      bayesian_test: normal posterior, chance to win, credible interval, risk
poststrat     post_stratified_ttest
multiple      holm, benjamini_hochberg, adjusted_interval
decision      decide: ship / dont_ship / keep_running with reasons
srm           srm_test, srm_p_value
power         sample_size, minimum_detectable_effect, duration_days, plan_experiment
api           analyze(spec) -> dict, the JSON entry point for the CLI

Examples
--------
>>> from growthkit.experiments.stats import ProportionStats, ttest
>>> r = ttest(ProportionStats(n=[1000, 1000], sum=[100, 100]), ProportionStats(n=[1000, 1000], sum=[130, 90]))
>>> r.effect.round(2).tolist()
[0.3, -0.1]
"""

from growthkit.experiments.stats._arrays import MESSAGES
from growthkit.experiments.stats.api import analyze
from growthkit.experiments.stats.bayesian import BayesianResult, GaussianPrior, bayesian_from_moments, bayesian_test
from growthkit.experiments.stats.decision import Decision, MetricOutcome, decide
from growthkit.experiments.stats.errors import StatsInputError
from growthkit.experiments.stats.frequentist import FrequentistResult, ttest, ttest_from_moments
from growthkit.experiments.stats.inputs import (
    ArmStats,
    MultiRegressionAdjustedStats,
    ProportionStats,
    RatioStats,
    RegressionAdjustedStats,
    SampleMeanStats,
)
from growthkit.experiments.stats.moments import EffectMoments, effect_moments, welch_df
from growthkit.experiments.stats.multiple import adjust_p_values, adjusted_interval, benjamini_hochberg, holm
from growthkit.experiments.stats.poststrat import post_stratified_moments, post_stratified_ttest
from growthkit.experiments.stats.power import (
    PowerPlan,
    duration_days,
    minimum_detectable_effect,
    plan_experiment,
    sample_size,
)
from growthkit.experiments.stats.sequential import hybrid_test, sequential_from_moments, sequential_rho, sequential_test
from growthkit.experiments.stats.srm import SRMResult, srm_p_value, srm_test

__all__ = [
    "MESSAGES",
    "ArmStats",
    "BayesianResult",
    "Decision",
    "EffectMoments",
    "FrequentistResult",
    "GaussianPrior",
    "MetricOutcome",
    "MultiRegressionAdjustedStats",
    "PowerPlan",
    "ProportionStats",
    "RatioStats",
    "RegressionAdjustedStats",
    "SRMResult",
    "SampleMeanStats",
    "StatsInputError",
    "adjust_p_values",
    "adjusted_interval",
    "analyze",
    "bayesian_from_moments",
    "bayesian_test",
    "benjamini_hochberg",
    "decide",
    "duration_days",
    "effect_moments",
    "holm",
    "hybrid_test",
    "minimum_detectable_effect",
    "plan_experiment",
    "post_stratified_moments",
    "post_stratified_ttest",
    "sample_size",
    "sequential_from_moments",
    "sequential_rho",
    "sequential_test",
    "srm_p_value",
    "srm_test",
    "ttest",
    "ttest_from_moments",
    "welch_df",
]
