"""Measurement (layer 4): deterministic assignment, exposures and metrics for A/B tests.

The statistics engine is :mod:`growthkit.experiments.stats`; this package feeds it:
:mod:`.assignment` buckets users (GrowthBook-compatible hashing), :mod:`.exposures` records
first exposures in the store, :mod:`.metrics` computes per-variation sufficient statistics in SQL.

Examples
--------
>>> from growthkit.experiments import Experiment, assign
>>> a = assign(Experiment("banner", ("control", "B")), ["u1", "u2", "u3"])
>>> sorted(a.mapping())
['u1', 'u2', 'u3']
"""

from growthkit.experiments.assignment import (
    Assignments,
    Exclusion,
    Experiment,
    Holdout,
    Layer,
    assign,
    assign_one,
    check_exclusive,
)
from growthkit.experiments.exposures import (
    ExposureReport,
    exposure_counts,
    load_experiment,
    record_exposure_rows,
    record_exposures,
    save_experiment,
)
from growthkit.experiments.hashing import hash_v1, hash_v1_many, hash_v2, hash_v2_many
from growthkit.experiments.metrics import (
    METRICS,
    Measure,
    MetricDefinition,
    MetricSums,
    VariationSums,
    compute_metric,
    retention,
)

__all__ = [
    "METRICS",
    "Assignments",
    "Exclusion",
    "Experiment",
    "ExposureReport",
    "Holdout",
    "Layer",
    "Measure",
    "MetricDefinition",
    "MetricSums",
    "VariationSums",
    "assign",
    "assign_one",
    "check_exclusive",
    "compute_metric",
    "exposure_counts",
    "hash_v1",
    "hash_v1_many",
    "hash_v2",
    "hash_v2_many",
    "load_experiment",
    "record_exposure_rows",
    "record_exposures",
    "retention",
    "save_experiment",
]
