"""Use case for viral marketing: choose the users to seed, and check the choice independently.

* :func:`select_seeds`: the ``k`` users (or the users a budget buys) whose activation is
  expected to reach the most others, by IMM, OPIM-C, CELF or a baseline
  (:mod:`growthkit.models.influence`), on the store's ``edges`` or an edge-list file,
  optionally restricted to candidates (a file, a saved segment, users with
  ``marketing_consent``). The chosen seeds are then checked independently: each seed's
  marginal gain on fresh reverse-reachable sets, and the whole set's expected spread by
  a Monte-Carlo run on new random worlds (with a confidence interval).

Describing the graph and the referral numbers are :mod:`growthkit.workflows.viral_analyze`;
the end-to-end check against the simulator's true influence probabilities is
:mod:`growthkit.workflows.viral_check`; the inputs (graph, candidates, costs, Monte-Carlo
check) are :mod:`growthkit.workflows.viral_graph`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.models.influence import (
    CELF,
    IMM,
    OPIMC,
    DegreeDiscountSeeds,
    DegreeSeeds,
    PageRankSeeds,
    RandomSeeds,
    SpreadEstimate,
)
from growthkit.models.influence.budget import BUDGETED_RATIO, GREEDY_RATIO, Costs, SeedSelector
from growthkit.models.influence.graph import SocialGraph
from growthkit.workflows.viral_graph import (
    GraphInfo,
    GraphSpec,
    Progress,
    as_model,
    candidate_ids,
    load_graph,
    no_progress,
    read_costs,
    restrict_costs,
    rr_marginal_gains,
    spread_of,
    store_if,
    to_jsonable,
    world_counts,
)

log = logging.getLogger(__name__)

ALGORITHMS: tuple[str, ...] = ("imm", "opimc", "celf", "degree", "pagerank", "degree-discount", "random")
DEFAULT_K = 50


@dataclass(frozen=True)
class SeedRequest:
    """What to seed and how to check it.

    Attributes
    ----------
    k : int or None
        Seeds to choose; with ``budget`` a cap on the count. Neither given: 50.
    algorithm : str
        One of :data:`ALGORITHMS`.
    model : str
        ``ic`` (independent cascade) or ``lt`` (linear threshold).
    epsilon, ell : float
        IMM's slack and confidence (``1 - 1/e - epsilon`` with probability ``1 - n^-ell``);
        OPIM-C stops at the same target with failure probability ``n^-ell``.
    budget : float or None
        Money for seeding; each user costs ``cost``, their ``costs_file`` entry, or 1.
    cost, costs_file :
        One cost for every user, or a ``user_id,cost`` file (not both).
    candidates_file, segment, consented :
        Who may be seeded: ids in a file, a saved segment, users with marketing consent
        (their intersection when several are given).
    eval_sims : int
        Simulations of the independent Monte-Carlo check (0: skip it).
    celf_sims : int
        Worlds CELF averages over.
    gain_sets : int
        Fresh RR sets for the seeds' marginal gains (0: skip them).
    random_state : int
    """

    k: int | None = None
    algorithm: str = "imm"
    model: str = "ic"
    epsilon: float = 0.5
    ell: float = 1.0
    budget: float | None = None
    cost: float | None = None
    costs_file: Path | None = None
    candidates_file: Path | None = None
    segment: str | None = None
    consented: bool = False
    eval_sims: int = 10_000
    celf_sims: int = 1_000
    gain_sets: int = 100_000
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(f"algorithm must be one of {', '.join(ALGORITHMS)}; got {self.algorithm!r}")
        as_model(self.model)
        if self.cost is not None and self.costs_file is not None:
            raise ConfigError("give one cost for everyone (--cost) or a costs file (--costs), not both")
        if (self.cost is not None or self.costs_file is not None) and self.budget is None:
            raise ConfigError("costs need a budget: add --budget (in the same money unit as the costs)")
        if self.cost is not None and not (math.isfinite(self.cost) and self.cost > 0):
            raise ConfigError(f"--cost must be a positive number, got {self.cost}")
        if self.eval_sims != 0 and self.eval_sims < 2:
            raise ConfigError(f"eval_sims must be 0 (no check) or at least 2, got {self.eval_sims}")
        if self.gain_sets < 0:
            raise ConfigError(f"gain_sets must be >= 0, got {self.gain_sets}")
        if self.k is None and self.budget is None:
            object.__setattr__(self, "k", DEFAULT_K)


@dataclass(frozen=True)
class Seed:
    """One chosen user: selection order, marginal gain (expected extra users reached), cost."""

    rank: int
    user_id: str
    gain: float | None
    cumulative: float | None
    cost: float


@dataclass(frozen=True)
class GuaranteeInfo:
    """What the algorithm promises: ``spread >= ratio x OPT`` with probability ``1 - failure_probability``."""

    ratio: float | None
    target: float | None
    base_ratio: float | None
    epsilon: float | None
    failure_probability: float | None
    instance_ratio: float | None
    statement: str


@dataclass(frozen=True)
class SeedResult:
    """The seeds, their independent check, the guarantee and the time each step took."""

    algorithm: str
    model: str
    graph: GraphInfo
    candidates: int
    k: int | None
    budget: float | None
    total_cost: float
    seeds: tuple[Seed, ...]
    spread: SpreadEstimate | None
    selection_spread: float | None
    guarantee: GuaranteeInfo
    seconds: dict[str, float]
    notes: tuple[str, ...]

    @property
    def seed_ids(self) -> list[str]:
        return [s.user_id for s in self.seeds]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (``nan`` as None)."""
        out: dict[str, Any] = to_jsonable(dataclasses.asdict(self))
        return out


def make_selector(
    request: SeedRequest,
    n_nodes: int,
    *,
    costs: Costs | None,
    candidates: list[str] | None,
    n_jobs: int,
) -> SeedSelector:
    """The seed selector ``request`` names, with its constraints."""
    r = request
    common: dict[str, Any] = {"k": r.k, "budget": r.budget, "costs": costs, "candidates": candidates}
    model = as_model(r.model)
    if r.algorithm == "imm":
        return IMM(**common, epsilon=r.epsilon, ell=r.ell, model=model, random_state=r.random_state, n_jobs=n_jobs)
    if r.algorithm == "opimc":
        delta = min(max(float(n_nodes), 2.0) ** -float(r.ell), 0.5)
        return OPIMC(**common, epsilon=r.epsilon, delta=delta, model=model, random_state=r.random_state, n_jobs=n_jobs)
    if r.algorithm == "celf":
        return CELF(**common, n_sims=r.celf_sims, model=model, random_state=r.random_state, n_jobs=n_jobs)
    if r.algorithm == "degree":
        return DegreeSeeds(**common)
    if r.algorithm == "pagerank":
        return PageRankSeeds(**common)
    if r.algorithm == "degree-discount":
        return DegreeDiscountSeeds(**common)
    return RandomSeeds(**common, random_state=r.random_state)


def guarantee_of(selector: SeedSelector, request: SeedRequest, budgeted: bool) -> GuaranteeInfo:
    """The selector's guarantee in words and numbers."""
    g = getattr(selector, "guarantee_", None) if isinstance(selector, IMM | OPIMC) else None
    if g is not None:
        what = "the best feasible seed set" if budgeted else f"the best {len(selector.seeds_)} seeds"
        extra = f"; this run proved {g.instance_ratio:.3f} (OPIM-C's instance bound)" if g.instance_ratio else ""
        return GuaranteeInfo(
            g.ratio,
            g.target,
            g.base_ratio,
            g.epsilon,
            g.failure_probability,
            g.instance_ratio,
            f"with probability >= 1 - {g.failure_probability:.2g}, expected spread >= {g.ratio:.3f} x that of "
            f"{what} ({g.base_ratio:.3f} - epsilon {g.epsilon:g}){extra}",
        )
    if isinstance(selector, CELF):
        base = BUDGETED_RATIO if budgeted else GREEDY_RATIO
        return GuaranteeInfo(
            base,
            base,
            base,
            None,
            None,
            None,
            f"greedy on {request.celf_sims:,} sampled worlds: within {base:.3f} of the best seeds on those worlds "
            "(no bound holds with a stated probability for the true expectation)",
        )
    return GuaranteeInfo(None, None, None, None, None, None, "none: a baseline heuristic")


def select_seeds(
    settings: Settings, request: SeedRequest, spec: GraphSpec, *, progress: Progress = no_progress
) -> SeedResult:
    """Choose seeds on the store's graph (or ``spec.graph_file``) and check them independently.

    Parameters
    ----------
    settings : Settings
        The store (``settings.db``) and the threads used (``settings.threads``).
    request : SeedRequest
    spec : GraphSpec
        Graph source and probability model.
    progress : callable
        ``progress(what, fraction)`` while it runs.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "g.txt"
    >>> _ = f.write_text("hub a 0.9\\nhub b 0.9\\nhub c 0.9\\nx y 0.5\\n")
    >>> r = select_seeds(Settings(db=":memory:"), SeedRequest(k=1, eval_sims=2000),
    ...                  GraphSpec(graph_file=f, prob="file"))
    >>> r.seed_ids, round(r.spread.mean, 1)
    (['hub'], 3.7)
    """
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    jobs = settings.threads
    progress("reading the graph", 0.0)
    needs_store = spec.graph_file is None or request.segment is not None or request.consented
    with store_if(settings, needs_store) as store:
        graph, notes = load_graph(store, spec, random_state=request.random_state)
        cands = candidate_ids(
            graph,
            store,
            candidates_file=request.candidates_file,
            segment=request.segment,
            consented=request.consented,
        )
    notes += cands.notes
    seconds["graph"] = time.perf_counter() - t0
    candidates = cands.ids
    costs: Costs | None = None
    if request.costs_file is not None:
        costs, candidates = restrict_costs(graph, read_costs(request.costs_file), candidates, notes)
    elif request.cost is not None:
        costs = np.full(graph.n_nodes, float(request.cost))
    selector = make_selector(request, graph.n_nodes, costs=costs, candidates=candidates, n_jobs=jobs)
    progress(f"selecting seeds ({request.algorithm}, {request.model.upper()})", 0.15)
    selector.fit(graph)
    seconds["selection"] = float(selector.fit_seconds_)
    seeds = selector.seeds_
    gains: list[float | None] = [None] * len(seeds)
    if request.gain_sets and seeds:
        progress("marginal gains on fresh RR sets", 0.5)
        t = time.perf_counter()
        rr = rr_marginal_gains(
            graph, seeds, model=request.model, n_sets=request.gain_sets,
            random_state=request.random_state + 54321, n_jobs=jobs,
        )  # fmt: skip
        gains = [float(x) for x in rr]
        seconds["gains"] = time.perf_counter() - t
    spread = None
    if request.eval_sims:
        t = time.perf_counter()
        counts = world_counts(
            graph, seeds, model=request.model, n_sims=request.eval_sims, random_state=request.random_state + 12345,
            n_jobs=jobs, progress=lambda what, f: progress(what, 0.6 + 0.4 * f),
        )  # fmt: skip
        spread = spread_of(counts)
        seconds["evaluation"] = time.perf_counter() - t
    progress("done", 1.0)
    seconds["total"] = time.perf_counter() - t0
    cost_of = _cost_lookup(graph, costs)
    cum = np.cumsum([g or 0.0 for g in gains]) if seeds else np.zeros(0)
    rows = tuple(
        Seed(i + 1, u, _round(gains[i]), _round(float(cum[i])) if gains[i] is not None else None, cost_of(u))
        for i, u in enumerate(seeds)
    )
    budgeted = costs is not None and request.budget is not None and _unequal(costs)
    return SeedResult(
        algorithm=request.algorithm,
        model=request.model,
        graph=GraphInfo.of(graph, spec),
        candidates=len(candidates) if candidates is not None else graph.n_nodes,
        k=request.k,
        budget=request.budget,
        total_cost=float(selector.total_cost_),
        seeds=rows,
        spread=spread,
        selection_spread=_selection_spread(selector),
        guarantee=guarantee_of(selector, request, budgeted),
        seconds={k: round(v, 4) for k, v in seconds.items()},
        notes=tuple(notes),
    )


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _selection_spread(selector: SeedSelector) -> float | None:
    value = getattr(selector, "spread_", None) if isinstance(selector, IMM | OPIMC | CELF) else None
    return None if value is None else float(value)


def _unequal(costs: Costs) -> bool:
    values = np.asarray(list(costs.values()) if isinstance(costs, dict) else costs, dtype=np.float64)
    return bool(values.size) and bool(values.max() > values.min())


def _cost_lookup(graph: SocialGraph, costs: Costs | None) -> Any:
    if costs is None:
        return lambda u: 1.0
    if isinstance(costs, dict):
        return lambda u: float(costs[u])
    arr = np.asarray(costs, dtype=np.float64)
    return lambda u: float(arr[int(graph.node_index([u])[0])])
