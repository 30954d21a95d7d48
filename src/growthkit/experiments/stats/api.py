"""JSON-friendly entry point: ``analyze(spec) -> dict`` for one metric of one experiment.

The spec and the output are plain dicts of str, numbers, lists, bools and None, so they
round-trip through JSON. Every key is documented in ``docs/experiments.md``; a malformed spec
raises :class:`StatsInputError` naming the key and what to do about it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from growthkit.experiments.stats._arrays import FloatArray, check_alpha, check_alternative, check_difference
from growthkit.experiments.stats.bayesian import GaussianPrior, bayesian_from_moments
from growthkit.experiments.stats.errors import StatsInputError
from growthkit.experiments.stats.frequentist import FrequentistResult, ttest_from_moments
from growthkit.experiments.stats.inputs import (
    ArmStats,
    MultiRegressionAdjustedStats,
    ProportionStats,
    RatioStats,
    RegressionAdjustedStats,
    SampleMeanStats,
)
from growthkit.experiments.stats.moments import effect_moments
from growthkit.experiments.stats.multiple import adjust_p_values, adjusted_interval
from growthkit.experiments.stats.sequential import DEFAULT_TUNING_PARAMETER, hybrid_test, sequential_from_moments
from growthkit.experiments.stats.srm import DEFAULT_SRM_THRESHOLD, srm_test

TOP_KEYS = frozenset(
    {
        "engine",
        "difference",
        "alpha",
        "metric_type",
        "sequential",
        "variations",
        "weights",
        "alternative",
        "sequential_tuning_parameter",
        "planned_sample_size",
        "sequential_share",
        "prior",
        "inverse",
        "correction",
        "srm_threshold",
    }
)
CUPED_KEYS = ("covariate_sum", "covariate_sum_squares", "main_covariate_sum_product")
RATIO_KEYS = ("denominator_sum", "denominator_sum_squares", "main_denominator_sum_product")
VARIATION_KEYS = frozenset({"name", "n", "sum", "sum_squares", *CUPED_KEYS, *RATIO_KEYS})


def _choice(spec: Mapping[str, Any], key: str, options: tuple[str, ...], default: str) -> str:
    value = spec.get(key, default)
    if value not in options:
        raise StatsInputError(f"spec[{key!r}] must be one of {list(options)}, got {value!r}")
    return str(value)


def _number(v: dict[str, Any], key: str, where: str) -> float:
    if key not in v:
        raise StatsInputError(f"{where} is missing {key!r}")
    x = v[key]
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        raise StatsInputError(f"{where}[{key!r}] must be a finite number, got {x!r}")
    return float(x)


def _array(v: dict[str, Any], key: str, where: str, ndim: int) -> FloatArray:
    try:
        a = np.asarray(v[key], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsInputError(f"{where}[{key!r}] must be numbers, got {v[key]!r}") from exc
    if a.ndim != ndim or not np.all(np.isfinite(a)):
        raise StatsInputError(f"{where}[{key!r}] must be a finite {'list' if ndim == 1 else 'k x k matrix'}")
    return a


def _variations(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    vs = spec.get("variations")
    if not isinstance(vs, list) or len(vs) < 2 or not all(isinstance(v, dict) for v in vs):
        raise StatsInputError("spec['variations'] must be a list of at least two objects; the first is control")
    names = [v.get("name") for v in vs]
    if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        raise StatsInputError(f"every variation needs a unique non-empty 'name', got {names!r}")
    for v in vs:
        unknown = set(v) - VARIATION_KEYS
        if unknown:
            raise StatsInputError(
                f"variation {v['name']!r} has unknown keys {sorted(unknown)}; allowed: {sorted(VARIATION_KEYS)}"
            )
        n = _number(v, "n", f"variation {v['name']!r}")
        if n < 0 or n != int(n):
            raise StatsInputError(f"variation {v['name']!r}: 'n' must be a non-negative whole number, got {v['n']!r}")
    return vs


def _arm(v: dict[str, Any], metric_type: str, cuped: bool) -> ArmStats:
    w = f"variation {v['name']!r}"
    n, s = _number(v, "n", w), _number(v, "sum", w)
    if metric_type == "ratio":
        if cuped:
            raise StatsInputError("CUPED (covariate_* keys) is not supported for ratio metrics")
        return RatioStats(
            n,
            s,
            _number(v, "sum_squares", w),
            _number(v, "denominator_sum", w),
            _number(v, "denominator_sum_squares", w),
            _number(v, "main_denominator_sum_product", w),
        )
    proportion = metric_type == "proportion"
    ss = s if proportion else _number(v, "sum_squares", w)
    if not cuped:
        return ProportionStats(n, s) if proportion else SampleMeanStats(n, s, ss)
    if isinstance(v.get("covariate_sum"), list):
        xsv = _array(v, "covariate_sum", w, 1)
        xx = _array(v, "covariate_sum_squares", w, 2)
        xy = _array(v, "main_covariate_sum_product", w, 1)
        k = xsv.shape[0]
        if xx.shape != (k, k) or xy.shape != (k,):
            raise StatsInputError(
                f"{w}: with {k} covariates, covariate_sum_squares must be {k}x{k} and "
                f"main_covariate_sum_product a list of {k}"
            )
        return MultiRegressionAdjustedStats(n, s, ss, xsv, xx, xy)
    xs = _number(v, "covariate_sum", w)
    xss = xs if proportion and "covariate_sum_squares" not in v else _number(v, "covariate_sum_squares", w)
    return RegressionAdjustedStats(
        n, s, ss, xs, xss, _number(v, "main_covariate_sum_product", w), proportion=proportion
    )


def _stack(arms: list[ArmStats]) -> ArmStats:
    """Stack same-class arms into one batched object (fields become arrays along a new first axis)."""
    first = arms[0]
    fields = {
        name: np.stack([np.asarray(getattr(a, name), dtype=np.float64) for a in arms]) for name in _FIELDS[type(first)]
    }
    if isinstance(first, RegressionAdjustedStats):
        return RegressionAdjustedStats(**fields, proportion=first.proportion)
    return type(first)(**fields)


_FIELDS: dict[type, tuple[str, ...]] = {
    SampleMeanStats: ("n", "sum", "sum_squares"),
    ProportionStats: ("n", "sum"),
    RatioStats: ("n", "m_sum", "m_sum_squares", "d_sum", "d_sum_squares", "m_d_sum_of_products"),
    RegressionAdjustedStats: (
        "n",
        "post_sum",
        "post_sum_squares",
        "pre_sum",
        "pre_sum_squares",
        "post_pre_sum_of_products",
    ),
    MultiRegressionAdjustedStats: (
        "n",
        "post_sum",
        "post_sum_squares",
        "pre_sum",
        "pre_sum_squares",
        "post_pre_sum_of_products",
    ),
}


def _json(x: Any) -> float | None:
    f = float(x)
    return f if math.isfinite(f) else None


def _prior(spec: Mapping[str, Any]) -> GaussianPrior | None:
    p = spec.get("prior")
    if p is None:
        return None
    if not isinstance(p, dict) or set(p) - {"mean", "variance", "proper", "scale"}:
        raise StatsInputError("spec['prior'] must be an object with keys mean, variance, proper, scale")
    for key in ("mean", "variance"):
        if key in p and (isinstance(p[key], bool) or not isinstance(p[key], int | float)):
            raise StatsInputError(f"spec['prior'][{key!r}] must be a number, got {p[key]!r}")
    if p.get("scale") not in (None, "relative", "absolute"):
        raise StatsInputError("spec['prior']['scale'] must be 'relative' or 'absolute'")
    return GaussianPrior(
        mean=float(p.get("mean", 0.0)),
        variance=float(p.get("variance", 1.0)),
        proper=bool(p.get("proper", True)),
        scale=p.get("scale"),
    )


def _option(
    spec: Mapping[str, Any], key: str, default: float | None, *, low: float = 0.0, high: float = math.inf
) -> float | None:
    """A numeric option in the open interval (low, high), or ``default`` when absent."""
    if key not in spec or spec[key] is None:
        return default
    x = spec[key]
    if isinstance(x, bool) or not isinstance(x, int | float) or not low < float(x) < high:
        raise StatsInputError(f"spec[{key!r}] must be a number in ({low:g}, {high:g}), got {x!r}")
    return float(x)


def _frequentist(
    spec: Mapping[str, Any], control: ArmStats, treatment: ArmStats, difference: str, alpha: float, alternative: str
) -> FrequentistResult:
    tuning = _option(spec, "sequential_tuning_parameter", None)
    planned = _option(spec, "planned_sample_size", None)
    share = _option(spec, "sequential_share", 0.2, high=1.0)
    if not spec.get("sequential", False):
        m = effect_moments(control, treatment, difference=difference)
        return ttest_from_moments(m, alpha=alpha, alternative=alternative)
    if planned is not None:
        return hybrid_test(
            control, treatment, planned_n=planned, difference=difference, alpha=alpha, alternative=alternative,
            sequential_share=float(share or 0.2), tuning_parameter=tuning,
        )  # fmt: skip
    m = effect_moments(control, treatment, difference=difference)
    n_star = DEFAULT_TUNING_PARAMETER if tuning is None else tuning
    return sequential_from_moments(m, alpha=alpha, alternative=alternative, tuning_parameter=n_star)


def analyze(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Analyse one metric of one experiment described by a JSON-friendly ``spec``.

    The first variation is control; every other one is compared with it. See
    ``docs/experiments.md`` for all keys.

    Parameters
    ----------
    spec : mapping
        ``engine`` ("frequentist" | "bayesian"), ``difference`` ("relative" | "absolute"),
        ``alpha``, ``metric_type`` ("mean" | "proportion" | "ratio"), ``sequential`` (bool),
        ``variations`` (list of sufficient statistics with a ``name``), optional ``weights``.

    Returns
    -------
    dict
        ``srm_p_value``, ``srm_detected``, ``warnings``, ``control`` and per non-control
        variation ``effect``, ``ci_low``, ``ci_high`` and ``p_value`` (frequentist) or
        ``chance_to_win`` and ``risk`` (Bayesian). Infinite bounds are ``None``.

    Examples
    --------
    >>> out = analyze({"engine": "frequentist", "difference": "relative", "alpha": 0.05,
    ...                "metric_type": "proportion", "sequential": False,
    ...                "variations": [{"name": "control", "n": 1000, "sum": 100},
    ...                               {"name": "B", "n": 1000, "sum": 130}]})
    >>> round(out["variations"][0]["effect"], 3), out["srm_detected"]
    (0.3, False)
    """
    if not isinstance(spec, Mapping):
        raise StatsInputError(f"spec must be a JSON object (dict), got {type(spec).__name__}")
    unknown = set(spec) - TOP_KEYS
    if unknown:
        raise StatsInputError(f"spec has unknown keys {sorted(unknown)}; allowed: {sorted(TOP_KEYS)}")
    engine = _choice(spec, "engine", ("frequentist", "bayesian"), "frequentist")
    difference = _choice(spec, "difference", ("relative", "absolute"), "relative")
    check_difference(difference)
    metric_type = _choice(spec, "metric_type", ("mean", "proportion", "ratio"), "mean")
    alpha = check_alpha(spec.get("alpha", 0.05))
    alternative = check_alternative(spec.get("alternative", "two-sided"))
    correction = spec.get("correction")
    if correction not in (None, "holm", "bh"):
        raise StatsInputError(f"spec['correction'] must be null, 'holm' or 'bh', got {correction!r}")
    if not isinstance(spec.get("sequential", False), bool):
        raise StatsInputError("spec['sequential'] must be true or false")
    if engine == "bayesian" and (spec.get("sequential") or correction):
        raise StatsInputError("'sequential' and 'correction' apply to the frequentist engine only")
    vs = _variations(spec)
    cuped_flags = {any(k in v for k in CUPED_KEYS) for v in vs}
    if len(cuped_flags) != 1:
        raise StatsInputError("give covariate_* keys for every variation or for none")
    cuped = cuped_flags.pop()
    arms = [_arm(v, metric_type, cuped) for v in vs]
    if len({type(a) for a in arms}) != 1:
        raise StatsInputError("all variations must have the same covariate structure (scalar or list)")
    control, treatment = arms[0], _stack(arms[1:])
    counts = [v["n"] for v in vs]
    threshold = float(_option(spec, "srm_threshold", DEFAULT_SRM_THRESHOLD, high=1.0) or DEFAULT_SRM_THRESHOLD)
    srm = srm_test(counts, spec.get("weights"), threshold=threshold)
    warnings = [srm.warning] if srm.warning else []
    rows: list[dict[str, Any]] = []
    if engine == "frequentist":
        r = _frequentist(spec, control, treatment, difference, alpha, alternative)
        adj = adjust_p_values(r.p_value, correction) if correction else None
        for i in range(len(vs) - 1):
            row = {"p_value": _json(r.p_value[i]), "df": _json(r.df[i])}
            if adj is not None:
                lo, hi = adjusted_interval(r.effect[i], adj[i], alpha)
                row |= {"p_value_adjusted": _json(adj[i]), "ci_low_adjusted": _json(lo), "ci_high_adjusted": _json(hi)}
            rows.append(row)
        res: Any = r
    else:
        m = effect_moments(control, treatment, difference=difference)
        res = bayesian_from_moments(m, alpha=alpha, prior=_prior(spec), inverse=bool(spec.get("inverse", False)))
        rows = [
            {
                "chance_to_win": _json(res.chance_to_win[i]),
                "risk": _json(res.risk_treatment[i]),
                "risk_control": _json(res.risk_control[i]),
            }
            for i in range(len(vs) - 1)
        ]
    messages = res.message
    out_rows = []
    for i, (v, extra) in enumerate(zip(vs[1:], rows, strict=True)):
        status = str(res.status[i])
        if status != "ok":
            warnings.append(f"{v['name']}: {messages[i]}")
        out_rows.append(
            {
                "name": v["name"],
                "n": int(v["n"]),
                "mean": _json(res.treatment_mean[i]),
                "effect": _json(res.effect[i]),
                "se": _json(res.se[i]),
                "ci_low": _json(res.ci_low[i]),
                "ci_high": _json(res.ci_high[i]),
                **extra,
                "status": status,
                "message": str(messages[i]),
            }
        )
    return {
        "engine": engine,
        "difference": difference,
        "metric_type": metric_type,
        "alpha": alpha,
        "alternative": alternative,
        "method": getattr(res, "method", "bayesian"),
        "cuped": cuped,
        "srm_p_value": _json(srm.p_value),
        "srm_detected": bool(srm.srm_detected),
        "warnings": warnings,
        "control": {"name": vs[0]["name"], "n": int(vs[0]["n"]), "mean": _json(res.control_mean[0])},
        "variations": out_rows,
    }
