"""End-to-end check of seeding on the simulator, whose true influence probabilities are known.

The claim under test: *seeding by IMM reaches more users than seeding by degree or at
random, by the margin the model predicts.* :func:`simulator_check`

1. simulates a shop (:func:`growthkit.sim.writer.simulate`) and loads ``events``,
   ``users`` and ``edges`` into an in-memory store;
2. builds the graph from the store's edges (all kinds) and gives it estimated
   probabilities, as a shop would: ``learned`` from the simulator's tracked share
   campaigns (``share_cascades``: every exposure and activation) by
   :class:`~growthkit.models.influence.cascade_em.CascadeEM` (Saito et al. 2008's EM
   with an empirical-Bayes prior on tie kind, weight and community);
   ``learned-referrals`` from who referred whom (Goyal et al. 2010's Bernoulli counts,
   which see only successful referrals and therefore come out far too small: kept as
   the cautionary example); ``weighted-cascade`` (``1 / in-degree``); ``truth`` (the
   simulator's own probabilities, ``truth/edges``) is the oracle that shows what a
   perfect model gives;
3. chooses ``k`` seeds on each estimated graph with IMM, by out-degree and at random;
4. evaluates every seed set by Monte Carlo twice: on the estimated graph (the
   *predicted* spread) and on the graph with the true probabilities (the *realised*
   spread, the ground truth). All seed sets share the same simulated worlds on each
   graph, so the margins IMM - degree and IMM - random are paired differences with
   tight normal intervals.

Predicted and realised margins agree when the probability model is right (the
``truth`` rows); the gap between them on the other rows is what estimating the
probabilities costs. For ``learned``, a Bayesian bootstrap over the observed cascades
measures that cost in advance (:class:`Uncertainty`: every refit re-runs IMM and
predicts what the fitted model realises). The criteria (:meth:`ModelCheck.calibrated`):

* every margin's prediction agrees with its realisation, ``|predicted - realised| <=
  1.96 sqrt(se_p^2 + se_r^2 + rmse_est^2)`` (:attr:`Margin.agrees`): the Monte-Carlo
  errors of both runs plus the bootstrap's estimation error. For ``truth`` (no
  estimation) this is the plain two-sample test of two independent Monte-Carlo means;
  the same test without ``rmse_est`` is reported as :attr:`Margin.z_mc` (it fails for
  learned probabilities once the Monte-Carlo intervals are tighter than the estimation
  error, see ``docs/viral.md``);
* every seed set's predicted spread lies within ``tolerance`` (15 %) of its realised
  spread.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.models.influence import IMM, DegreeSeeds, RandomSeeds, SocialGraph, SpreadEstimate, graph_from_store
from growthkit.models.influence import weighted_cascade as wc_probs
from growthkit.models.influence.cascade_em import CascadeEM
from growthkit.models.influence.probs import TruthComparison, compare_with_truth, truth_probabilities
from growthkit.schema import EDGE_KINDS, TABLES
from growthkit.sim import SimConfig
from growthkit.sim.writer import simulate
from growthkit.store import Store, open_store
from growthkit.workflows.viral_graph import (
    Progress,
    learned_probabilities,
    no_progress,
    spread_of,
    to_jsonable,
    world_counts,
)
from growthkit.workflows.viral_learn import learn_from_cascades

CHECK_MODELS: tuple[str, ...] = ("learned", "learned-referrals", "weighted-cascade", "truth")
Z95 = 1.959963984540054
METHODS: tuple[str, ...] = ("imm", "degree", "random")


@dataclass(frozen=True)
class Uncertainty:
    """Estimation error of a prediction, from a bootstrap over the observed cascades (:meth:`CascadeEM.bootstrap`).

    In the bootstrap world the fitted model plays the truth and each refit plays the
    estimate (Efron and Tibshirani, "An introduction to the bootstrap", 1993, ch. 10):
    ``bias`` and ``stderr`` are the mean and the standard deviation of the refits'
    prediction errors, ``rmse`` their root mean square. The check does not subtract the
    bias (its own estimate is noisy, and correcting with it made the agreement worse on
    the simulator); it widens the prediction's interval by ``rmse`` instead.
    """

    draws: int
    bias: float
    stderr: float

    @property
    def rmse(self) -> float:
        return math.hypot(self.bias, self.stderr)


@dataclass(frozen=True)
class MethodSpread:
    """One seed set: its predicted (estimated graph) and realised (true graph) spread."""

    method: str
    seeds: tuple[str, ...]
    predicted: SpreadEstimate
    realised: SpreadEstimate
    fit_seconds: float
    estimation: Uncertainty | None = None

    @property
    def relative_error(self) -> float | None:
        """Predicted / realised spread - 1 (None when nothing was realised)."""
        return self.predicted.mean / self.realised.mean - 1.0 if self.realised.mean else None


@dataclass(frozen=True)
class Margin:
    """IMM's extra reach over a baseline, predicted and realised (paired differences over shared worlds)."""

    versus: str
    predicted: SpreadEstimate
    realised: SpreadEstimate
    estimation: Uncertainty | None = None

    @property
    def realised_share(self) -> float | None:
        """Realised margin / predicted margin (None when nothing was predicted)."""
        return self.realised.mean / self.predicted.mean if self.predicted.mean else None

    @property
    def z_mc(self) -> float:
        """(predicted - realised) / sqrt(se_p^2 + se_r^2): Monte-Carlo error only, as if the model were exact."""
        return _z(self.predicted.mean - self.realised.mean, self.predicted.stderr, self.realised.stderr)

    @property
    def estimation_error(self) -> float:
        """The bootstrap's root-mean-square estimation error of the predicted margin (0 without a bootstrap)."""
        return self.estimation.rmse if self.estimation else 0.0

    @property
    def z(self) -> float:
        """(predicted - realised) / sqrt(se_p^2 + se_r^2 + rmse_est^2): Monte-Carlo and estimation error."""
        diff = self.predicted.mean - self.realised.mean
        return _z(diff, self.predicted.stderr, self.realised.stderr, self.estimation_error)

    @property
    def agrees(self) -> bool:
        """The prediction is consistent with the realisation: ``|z| <= 1.96`` (5 % two-sided)."""
        return abs(self.z) <= Z95

    @property
    def within_realised_ci(self) -> bool:
        """The predicted margin lies inside the realised margin's 95 % interval (the strictest reading)."""
        return self.realised.ci_low <= self.predicted.mean <= self.realised.ci_high


def _z(diff: float, *stderrs: float) -> float:
    se = math.sqrt(sum(s * s for s in stderrs))
    return diff / se if se > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))


@dataclass(frozen=True)
class ModelCheck:
    """The check for one estimated probability model."""

    prob: str
    mean_prob: float
    guarantee: float
    methods: tuple[MethodSpread, ...]
    margins: tuple[Margin, ...]
    calibration: TruthComparison | None = None
    note: str = ""

    def method(self, name: str) -> MethodSpread:
        return next(m for m in self.methods if m.method == name)

    def margin(self, versus: str) -> Margin:
        return next(m for m in self.margins if m.versus == versus)

    def calibrated(self, tolerance: float = 0.15) -> bool:
        """Every margin :attr:`Margin.agrees` and every predicted spread is within ``tolerance`` of the realised one."""
        spreads_ok = all(m.relative_error is not None and abs(m.relative_error) <= tolerance for m in self.methods)
        return spreads_ok and all(g.agrees for g in self.margins)


@dataclass(frozen=True)
class SimulatorCheck:
    """Predicted against realised spreads and margins, per probability model."""

    config: SimConfig
    k: int
    model: str
    epsilon: float
    eval_sims: int
    n_nodes: int
    n_edges: int
    true_mean_prob: float
    checks: tuple[ModelCheck, ...]
    seconds: dict[str, float]

    def __getitem__(self, prob: str) -> ModelCheck:
        for c in self.checks:
            if c.prob == prob:
                return c
        raise KeyError(f"no check for {prob!r}; have {', '.join(c.prob for c in self.checks)}")

    def spreads_frame(self) -> pd.DataFrame:
        """``prob, method, predicted, predicted_ci, realised, realised_ci`` (CI as half-widths)."""
        rows = [
            (c.prob, m.method, m.predicted.mean, _half(m.predicted), m.realised.mean, _half(m.realised))
            for c in self.checks
            for m in c.methods
        ]
        return pd.DataFrame(rows, columns=["prob", "method", "predicted", "predicted_ci", "realised", "realised_ci"])

    def margins_frame(self) -> pd.DataFrame:
        """IMM's margins: ``prob, versus, predicted(_ci), realised(_ci), realised_share``, then
        ``estimation_error`` (bootstrap RMSE), ``z_mc`` (Monte-Carlo error only), ``z`` and ``agrees``."""
        rows = [
            (
                c.prob,
                g.versus,
                g.predicted.mean,
                _half(g.predicted),
                g.realised.mean,
                _half(g.realised),
                g.realised_share,
                g.estimation_error,
                g.z_mc,
                g.z,
                g.agrees,
            )
            for c in self.checks
            for g in c.margins
        ]
        cols = ["prob", "versus", "predicted", "predicted_ci", "realised", "realised_ci", "realised_share"]
        cols += ["estimation_error", "z_mc", "z", "agrees"]
        return pd.DataFrame(rows, columns=cols)

    def calibration_frame(self) -> pd.DataFrame:
        """``prob, lo, hi, edges, mean_predicted, mean_true``: equal-count bins of edges by estimated probability."""
        frames = [c.calibration.to_frame().assign(prob=c.prob) for c in self.checks if c.calibration is not None]
        if not frames:
            return pd.DataFrame(columns=["prob", "lo", "hi", "edges", "mean_predicted", "mean_true"])
        out = pd.concat(frames, ignore_index=True)
        return out[["prob", "lo", "hi", "edges", "mean_predicted", "mean_true"]]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        out: dict[str, Any] = to_jsonable(dataclasses.asdict(self))
        out["config"] = self.config.to_dict()
        for c, raw in zip(self.checks, out["checks"], strict=True):
            raw["calibrated"] = c.calibrated()
            for g, graw in zip(c.margins, raw["margins"], strict=True):
                graw.update(
                    estimation_error=g.estimation_error, z_mc=to_jsonable(g.z_mc), z=to_jsonable(g.z), agrees=g.agrees,
                    within_realised_ci=g.within_realised_ci,
                )  # fmt: skip
        return out


def _half(e: SpreadEstimate) -> float:
    return (e.ci_high - e.ci_low) / 2.0


def load_simulation(store: Store, config: SimConfig) -> Any:
    """Simulate ``config`` in memory and insert ``events``, ``users`` and ``edges`` into ``store``; returns the data."""
    data = simulate(config)
    for name in ("users", "events", "edges"):
        t = getattr(data, name)
        cols = [c for c in TABLES[name].column_names if c in t.column_names]
        with store.register("_gk_sim", t.select(cols)):
            store.execute(f"INSERT INTO {name} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _gk_sim")
    return data


def simulator_check(
    settings: Settings,
    config: SimConfig,
    *,
    k: int = 50,
    probs: tuple[str, ...] = CHECK_MODELS,
    epsilon: float = 0.3,
    eval_sims: int = 2_000,
    bootstrap: int = 20,
    bootstrap_sims: int = 500,
    random_state: int = 0,
    progress: Progress = no_progress,
) -> SimulatorCheck:
    """Seed a simulated shop with IMM, by degree and at random; compare predicted and realised reach.

    Everything runs in an in-memory store (``settings`` gives the threads and the
    memory limit; ``settings.db`` is not touched). The diffusion model is independent
    cascade, the model the simulator's probabilities are defined for. For ``learned``,
    ``bootstrap`` refits on reweighted cascades (``bootstrap_sims`` worlds each) give
    the predictions' estimation error and bias (:class:`Uncertainty`); 0 skips them.

    Examples
    --------
    >>> r = simulator_check(Settings(db=":memory:"), SimConfig(users=600, days=30, seed=1), k=5,
    ...                     probs=("truth",), eval_sims=500)
    >>> r["truth"].method("imm").realised.mean > r["truth"].method("random").realised.mean
    True
    """
    bad = sorted(set(probs) - set(CHECK_MODELS))
    if bad or not probs:
        raise ConfigError(f"probability models must be among {', '.join(CHECK_MODELS)}; got {list(probs)}")
    if bootstrap < 0 or (bootstrap and (bootstrap < 2 or bootstrap_sims < 2)):
        raise ConfigError(f"bootstrap needs 0 (off) or >= 2 draws of >= 2 worlds; got {bootstrap} x {bootstrap_sims}")
    t0 = time.perf_counter()
    jobs = settings.threads
    progress(f"simulating {config.users:,} customers", 0.0)
    with open_store(settings.model_copy(update={"db": ":memory:"})) as store:
        data = load_simulation(store, config)
        progress("building the graph", 0.1)
        graph = graph_from_store(store, EDGE_KINDS)
        truth = truth_probabilities(graph, data.truth["edges"])
        true_graph = graph.with_prob(np.nan_to_num(truth, nan=0.0))
        estimated: dict[str, SocialGraph] = {}
        notes: dict[str, str] = {}
        models: dict[str, CascadeEM] = {}
        for prob in probs:
            if prob == "learned":
                progress("learning probabilities from the tracked share campaigns", 0.15)
                fit = learn_from_cascades(store, graph, data.share_cascades)
                estimated[prob], notes[prob], models[prob] = fit.graph, fit.note, fit.model
            elif prob == "learned-referrals":
                found: list[str] = []
                estimated[prob] = learned_probabilities(store, graph, EDGE_KINDS, found)
                notes[prob] = "; ".join(found)
            elif prob == "weighted-cascade":
                estimated[prob] = wc_probs(graph)
            else:
                estimated[prob] = true_graph
    seconds = {"simulate_and_load": time.perf_counter() - t0}
    realised_cache: dict[tuple[str, ...], SpreadEstimate] = {}
    checks: list[ModelCheck] = []
    for i, (prob, g) in enumerate(estimated.items()):
        frac = 0.2 + 0.8 * i / len(estimated)
        progress(f"{prob}: choosing seeds", frac)
        imm = IMM(k=k, epsilon=epsilon, random_state=random_state, n_jobs=jobs).fit(g)
        selectors = {
            "imm": imm,
            "degree": DegreeSeeds(k=k).fit(g),
            "random": RandomSeeds(k=k, random_state=random_state).fit(g),
        }
        progress(f"{prob}: predicted and realised spread", frac + 0.4 / len(estimated))
        pred_counts = {
            m: world_counts(g, s.seeds_, n_sims=eval_sims, random_state=random_state + 1, n_jobs=jobs)
            for m, s in selectors.items()
        }
        real_counts = {
            m: world_counts(true_graph, s.seeds_, n_sims=eval_sims, random_state=random_state + 2, n_jobs=jobs)
            for m, s in selectors.items()
        }
        est: dict[str, Uncertainty] = {}
        if prob in models and bootstrap:
            progress(f"{prob}: bootstrap over the observed cascades", frac + 0.6 / len(estimated))
            seeds = {m: list(s.seeds_) for m, s in selectors.items()}
            est = _bootstrap(models[prob], g, seeds, imm, bootstrap, bootstrap_sims, random_state + 3, jobs)
        runs = []
        for m, s in selectors.items():
            real = realised_cache.setdefault(tuple(s.seeds_), spread_of(real_counts[m]))
            runs.append(
                MethodSpread(m, tuple(s.seeds_), spread_of(pred_counts[m]), real, float(s.fit_seconds_), est.get(m))
            )
        margins = tuple(
            Margin(
                versus,
                spread_of(pred_counts["imm"] - pred_counts[versus]),
                spread_of(real_counts["imm"] - real_counts[versus]),
                est.get("imm-" + versus),
            )
            for versus in ("degree", "random")
        )
        mean_prob = float(g.prob.mean()) if g.n_edges else 0.0
        known = ~np.isnan(truth)
        calibration = compare_with_truth(g, data.truth["edges"], bins=10) if known.any() else None
        checks.append(
            ModelCheck(
                prob, mean_prob, float(imm.guarantee_.ratio), tuple(runs), margins, calibration, notes.get(prob, "")
            )
        )
    seconds["seeding_and_evaluation"] = time.perf_counter() - t0 - seconds["simulate_and_load"]
    progress("done", 1.0)
    return SimulatorCheck(
        config=config,
        k=k,
        model="ic",
        epsilon=epsilon,
        eval_sims=eval_sims,
        n_nodes=graph.n_nodes,
        n_edges=graph.n_edges,
        true_mean_prob=float(true_graph.prob.mean()) if graph.n_edges else 0.0,
        checks=tuple(checks),
        seconds={key: round(v, 3) for key, v in seconds.items()},
    )


def _bootstrap(
    em: CascadeEM,
    graph: SocialGraph,
    seeds: dict[str, list[str]],
    imm: IMM,
    draws: int,
    sims: int,
    random_state: int,
    jobs: int,
) -> dict[str, Uncertainty]:
    """Errors of the predictions in the bootstrap world, where the fitted model plays the truth.

    Each refit ``b`` (probabilities ``p_b``) re-runs IMM (seeds ``S_b``) and predicts on
    ``p_b`` what the fitted probabilities then realise: the error of IMM's spread is
    ``sigma_b(S_b) - sigma_fit(S_b)`` (so the optimism of choosing seeds on noisy
    probabilities is counted), the baselines' ``sigma_b(S) - sigma_fit(S)``, and a margin's
    error is the difference of the two. All on the same ``sims`` worlds.
    """

    def spread(g: SocialGraph, s: list[str]) -> float:
        return float(world_counts(g, s, n_sims=sims, random_state=random_state, n_jobs=jobs).mean())

    base = {m: spread(graph, s) for m, s in seeds.items() if m != "imm"}
    errors: dict[str, list[float]] = {key: [] for key in (*seeds, *(f"imm-{b}" for b in base))}
    for p in em.bootstrap(draws, random_state=random_state, tol=1e-4):
        gb = graph.with_prob(p)
        chosen = _refit(imm, gb)
        est = {m: spread(gb, s) for m, s in seeds.items() if m != "imm"}
        est_imm, true_imm = spread(gb, chosen), spread(graph, chosen)
        errors["imm"].append(est_imm - true_imm)
        for m in base:
            errors[m].append(est[m] - base[m])
            errors[f"imm-{m}"].append((est_imm - est[m]) - (true_imm - base[m]))
    out: dict[str, Uncertainty] = {}
    for key, vals in errors.items():
        arr = np.asarray(vals, dtype=np.float64)
        out[key] = Uncertainty(draws, float(arr.mean()), float(arr.std(ddof=1)))
    return out


def _refit(imm: IMM, graph: SocialGraph) -> list[str]:
    """IMM with the same settings on another graph."""
    again = IMM(k=imm.k, epsilon=imm.epsilon, model=imm.model, random_state=imm.random_state, n_jobs=imm.n_jobs)
    return list(again.fit(graph).seeds_)
