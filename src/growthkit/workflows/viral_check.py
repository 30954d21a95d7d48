"""End-to-end check of seeding on the simulator, whose true influence probabilities are known.

The claim under test: *seeding by IMM reaches more users than seeding by degree or at
random, by the margin the model predicts.* :func:`simulator_check`

1. simulates a shop (:func:`growthkit.sim.writer.simulate`) and loads ``events``,
   ``users`` and ``edges`` into an in-memory store;
2. builds the graph from the store's edges (all kinds) and gives it estimated
   probabilities, as a shop would: ``learned`` from who referred whom (Goyal et al.
   2010), or ``weighted-cascade`` (``1 / in-degree``); ``truth`` (the simulator's own
   probabilities, ``truth/edges``) is the oracle that shows what a perfect model gives;
3. chooses ``k`` seeds on each estimated graph with IMM, by out-degree and at random;
4. evaluates every seed set by Monte Carlo twice: on the estimated graph (the
   *predicted* spread) and on the graph with the true probabilities (the *realised*
   spread, the ground truth). All seed sets share the same simulated worlds on each
   graph, so the margins IMM - degree and IMM - random are paired differences with
   tight normal intervals.

Predicted and realised margins agree when the probability model is right (the
``truth`` rows); the gap between them on the ``learned`` and ``weighted-cascade`` rows is
what estimating the probabilities costs.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.models.influence import IMM, DegreeSeeds, RandomSeeds, SocialGraph, SpreadEstimate, graph_from_store
from growthkit.models.influence import weighted_cascade as wc_probs
from growthkit.models.influence.probs import truth_probabilities
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

CHECK_MODELS: tuple[str, ...] = ("learned", "weighted-cascade", "truth")
METHODS: tuple[str, ...] = ("imm", "degree", "random")


@dataclass(frozen=True)
class MethodSpread:
    """One seed set: its predicted (estimated graph) and realised (true graph) spread."""

    method: str
    seeds: tuple[str, ...]
    predicted: SpreadEstimate
    realised: SpreadEstimate
    fit_seconds: float


@dataclass(frozen=True)
class Margin:
    """IMM's extra reach over a baseline, predicted and realised (paired differences over shared worlds)."""

    versus: str
    predicted: SpreadEstimate
    realised: SpreadEstimate

    @property
    def realised_share(self) -> float | None:
        """Realised margin / predicted margin (None when nothing was predicted)."""
        return self.realised.mean / self.predicted.mean if self.predicted.mean else None


@dataclass(frozen=True)
class ModelCheck:
    """The check for one estimated probability model."""

    prob: str
    mean_prob: float
    guarantee: float
    methods: tuple[MethodSpread, ...]
    margins: tuple[Margin, ...]

    def method(self, name: str) -> MethodSpread:
        return next(m for m in self.methods if m.method == name)

    def margin(self, versus: str) -> Margin:
        return next(m for m in self.margins if m.versus == versus)


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
        """``prob, versus, predicted, predicted_ci, realised, realised_ci, realised_share`` for IMM's margins."""
        rows = [
            (
                c.prob,
                g.versus,
                g.predicted.mean,
                _half(g.predicted),
                g.realised.mean,
                _half(g.realised),
                g.realised_share,
            )
            for c in self.checks
            for g in c.margins
        ]
        cols = ["prob", "versus", "predicted", "predicted_ci", "realised", "realised_ci", "realised_share"]
        return pd.DataFrame(rows, columns=cols)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        out: dict[str, Any] = to_jsonable(dataclasses.asdict(self))
        out["config"] = self.config.to_dict()
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
    random_state: int = 0,
    progress: Progress = no_progress,
) -> SimulatorCheck:
    """Seed a simulated shop with IMM, by degree and at random; compare predicted and realised reach.

    Everything runs in an in-memory store (``settings`` gives the threads and the
    memory limit; ``settings.db`` is not touched). The diffusion model is independent
    cascade, the model the simulator's probabilities are defined for.

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
        for prob in probs:
            if prob == "learned":
                estimated[prob] = learned_probabilities(store, graph, EDGE_KINDS, [])
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
        runs = []
        for m, s in selectors.items():
            real = realised_cache.setdefault(tuple(s.seeds_), spread_of(real_counts[m]))
            runs.append(MethodSpread(m, tuple(s.seeds_), spread_of(pred_counts[m]), real, float(s.fit_seconds_)))
        margins = tuple(
            Margin(
                versus,
                spread_of(pred_counts["imm"] - pred_counts[versus]),
                spread_of(real_counts["imm"] - real_counts[versus]),
            )
            for versus in ("degree", "random")
        )
        mean_prob = float(g.prob.mean()) if g.n_edges else 0.0
        checks.append(ModelCheck(prob, mean_prob, float(imm.guarantee_.ratio), tuple(runs), margins))
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
