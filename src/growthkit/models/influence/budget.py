"""What may be seeded: a seed count, a money budget with per-user costs, a candidate segment.

Every seed selector takes the same keyword arguments:

* ``k``: the number of seeds; with a ``budget`` it is an optional cap on the count;
* ``budget`` and ``costs``: a budget in money and each user's cost (a mapping
  ``user_id -> cost`` or an array aligned with ``graph.node_ids``); without ``costs``
  every user costs 1;
* ``candidates``: the user ids that may be seeded (a segment, the users who consented).
  A costs *mapping* restricts the candidates to its keys unless ``candidates`` is given,
  in which case every candidate needs a cost.

With unequal costs the problem is a budgeted (knapsack-constrained) maximisation of a
monotone submodular function. Plain greedy can be arbitrarily bad there; the better of
the cost-effective greedy (largest marginal gain per unit cost) and the unit-cost greedy
(largest marginal gain; its first pick is the best affordable single node) is within
``(1 - 1/e) / 2`` of the optimum (Khuller, Moss and Naor 1999, "The budgeted maximum
coverage problem"; Leskovec et al. 2007, "Cost-effective outbreak detection in
networks"). With equal costs the budget is a seed count and greedy keeps ``1 - 1/e``
(Nemhauser, Wolsey and Fisher 1978).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from growthkit.errors import ConfigError, NotFittedError, SchemaError
from growthkit.models.influence.diffusion import DiffusionModel, SpreadEstimate, estimate_spread, seed_indices
from growthkit.models.influence.graph import F64, I64, SocialGraph

log = logging.getLogger(__name__)

GREEDY_RATIO = 1.0 - 1.0 / math.e
BUDGETED_RATIO = GREEDY_RATIO / 2.0
Costs = Mapping[str, float] | npt.ArrayLike
_REL_TOL = 1e-9


@dataclass(frozen=True)
class SeedingProblem:
    """A resolved seeding constraint over node numbers (internal).

    Attributes
    ----------
    candidates : ndarray of bool
        Which nodes may be seeded.
    costs : ndarray of float
        Cost of every node (1.0 when no costs are given).
    budget : float
        Money available (``inf`` without a budget).
    max_count : int
        Cap on the number of seeds (``k``, or the number of candidates).
    max_seeds : int
        Largest number of seeds any feasible set can have (``<= max_count``).
    budgeted : bool
        True when unequal costs make it a knapsack problem.
    """

    candidates: npt.NDArray[np.bool_]
    costs: F64
    budget: float
    max_count: int
    max_seeds: int
    budgeted: bool

    @property
    def n_candidates(self) -> int:
        """Number of candidate nodes."""
        return int(self.candidates.sum())

    @property
    def base_ratio(self) -> float:
        """The greedy's approximation ratio on a fixed coverage instance."""
        return BUDGETED_RATIO if self.budgeted else GREEDY_RATIO

    @property
    def budget_slack(self) -> float:
        """The budget plus a relative tolerance for sums of float costs."""
        return self.budget + _REL_TOL * max(1.0, self.budget) if math.isfinite(self.budget) else math.inf

    def log_n_solutions(self) -> float:
        """Log of the number of sets the selection can output (the union bound of IMM/OPIM-C).

        ``log C(n_c, max_seeds)`` for a seed count; ``log sum_{i <= max_seeds} C(n_c, i)``
        when a budget lets the output size vary.
        """
        n_c, k = self.n_candidates, self.max_seeds
        if not self.budgeted:
            return _log_comb(n_c, k)
        i = np.arange(k + 1, dtype=np.float64)
        terms = math.lgamma(n_c + 1) - _lgamma(i + 1) - _lgamma(n_c - i + 1)
        top = float(terms.max())
        return top + math.log(float(np.exp(terms - top).sum()))


def _lgamma(x: F64) -> F64:
    from scipy.special import gammaln

    return np.asarray(gammaln(x), dtype=np.float64)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _check_int(name: str, value: Any, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ConfigError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def resolve_problem(
    graph: SocialGraph,
    *,
    k: int | None,
    budget: float | None,
    costs: Costs | None,
    candidates: Iterable[str] | None,
) -> SeedingProblem:
    """Validate the seeding arguments against ``graph`` (see the module docstring)."""
    n = graph.n_nodes
    k_val = _check_int("k", k, allow_none=True)
    if budget is not None:
        if isinstance(budget, bool) or not isinstance(budget, int | float | np.number) or not budget >= 0:
            raise ConfigError(f"budget must be a non-negative number, got {budget!r}")
        if not math.isfinite(float(budget)):
            raise ConfigError("budget must be finite; use k for a seed count without costs")
    if k_val is None and budget is None:
        raise ConfigError("give k (the number of seeds) or a budget (with per-user costs)")
    if costs is not None and budget is None:
        raise ConfigError("costs need a budget: pass budget= (in the same money unit as the costs)")
    cand = np.ones(n, dtype=bool)
    cost_arr = np.ones(n)
    if isinstance(costs, Mapping):
        cost_arr = np.full(n, np.nan)
        try:
            idx = graph.node_index(costs.keys())
        except KeyError as exc:
            raise SchemaError(f"cost ids must be nodes of the graph: {exc.args[0]}") from exc
        values = np.asarray(list(costs.values()), dtype=np.float64)
        if np.isnan(values).any():
            raise SchemaError("costs must be finite and non-negative; fix or drop the offending users")
        cost_arr[idx] = values
        cand = ~np.isnan(cost_arr)
    elif costs is not None:
        cost_arr = np.asarray(costs, dtype=np.float64)
        if cost_arr.shape != (n,):
            raise SchemaError(f"costs must be a mapping user_id -> cost or an array of {n} costs aligned with node_ids")
    if candidates is not None:
        mask = np.zeros(n, dtype=bool)
        mask[seed_indices(graph, candidates, what="candidate")] = True
        if isinstance(costs, Mapping) and (missing := mask & ~cand).any():
            shown = ", ".join(str(u) for u in graph.node_ids[missing][:5])
            raise SchemaError(
                f"{int(missing.sum())} candidate(s) have no cost, e.g. {shown}; give every candidate a cost"
            )
        cand = mask
    used = cost_arr[cand]
    if used.size and (not np.isfinite(used).all() or used.min() < 0.0):
        raise SchemaError("costs must be finite and non-negative; fix or drop the offending users")
    n_c = int(cand.sum())
    if budget is None:
        assert k_val is not None
        if k_val > n_c:
            raise ConfigError(f"k={k_val} exceeds the {n_c} candidate node(s); lower k or widen the candidates")
        return SeedingProblem(cand, cost_arr, math.inf, k_val, k_val, False)
    b = float(budget)
    max_count = n_c if k_val is None else min(k_val, n_c)
    sorted_costs = np.sort(used)
    slack = b + _REL_TOL * max(1.0, b)
    max_seeds = min(max_count, int(np.searchsorted(np.cumsum(sorted_costs), slack, side="right")))
    if n_c and max_seeds == 0 and max_count > 0:
        log.warning("the budget %.6g is below every candidate's cost (cheapest %.6g): no seeds", b, sorted_costs[0])
    budgeted = bool(used.size) and bool(used.max() > used.min())
    return SeedingProblem(cand, cost_arr, b, max_count, max_seeds, budgeted)


def pick_by_score(score: F64, problem: SeedingProblem) -> I64:
    """Highest ``score`` first (ties: lower node number) while the count and budget allow.

    Used by the heuristics: with a budget the score is divided by the cost and candidates
    that no longer fit are skipped.
    """
    idx = np.flatnonzero(problem.candidates)
    s = score[idx]
    if problem.budgeted:
        s = s / np.maximum(problem.costs[idx], 1e-12)
    return take_in_order(idx[np.lexsort((idx, -s))].astype(np.int64), problem)


def take_in_order(order: I64, problem: SeedingProblem) -> I64:
    """Candidates in ``order`` while the count allows, skipping those the budget left can't pay."""
    if not math.isfinite(problem.budget):
        return order[: problem.max_count].astype(np.int64)
    picked: list[int] = []
    left = problem.budget_slack
    for v in order:
        if len(picked) >= problem.max_count:
            break
        c = float(problem.costs[v])
        if c <= left:
            picked.append(int(v))
            left -= c
    return np.asarray(picked, dtype=np.int64)


class SeedSelector:
    """Shared behaviour of the seed selectors (internal base class).

    Subclasses store their own arguments in ``__init__`` after the four shared ones
    (``super().__init__``) and implement :meth:`_select`; :meth:`fit` resolves the
    problem, times the selection and sets ``seeds_``, ``total_cost_`` and
    ``fit_seconds_``. Reading a learned attribute (name ending in ``_``) before ``fit``
    raises :class:`~growthkit.errors.NotFittedError`.
    """

    k: int | None
    budget: float | None
    costs: Costs | None
    candidates: Iterable[str] | None
    seeds_: list[str]
    total_cost_: float
    fit_seconds_: float

    def __init__(
        self,
        *,
        k: int | None = None,
        budget: float | None = None,
        costs: Costs | None = None,
        candidates: Iterable[str] | None = None,
    ) -> None:
        self.k = k
        self.budget = budget
        self.costs = costs
        self.candidates = candidates

    def __getattr__(self, name: str) -> Any:
        if name.endswith("_") and not name.startswith("__"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(graph) before reading {name}")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({args})"

    def _problem(self, graph: SocialGraph) -> SeedingProblem:
        if not isinstance(graph, SocialGraph):
            raise ConfigError(f"fit needs a SocialGraph, got {type(graph).__name__}")
        return resolve_problem(graph, k=self.k, budget=self.budget, costs=self.costs, candidates=self.candidates)

    def fit(self, graph: SocialGraph) -> Self:
        """Select the seeds of ``graph``; returns ``self``."""
        started = time.perf_counter()
        problem = self._problem(graph)
        seeds = self._select(graph, problem)
        self.seeds_ = [str(graph.node_ids[i]) for i in seeds]
        self.total_cost_ = float(problem.costs[seeds].sum()) if seeds.size else 0.0
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _select(self, graph: SocialGraph, problem: SeedingProblem) -> I64:
        """The seeds' node numbers in selection order; may set the selector's own learned attributes."""
        raise NotImplementedError

    def evaluate(
        self,
        graph: SocialGraph,
        *,
        model: DiffusionModel | None = None,
        n_sims: int = 10_000,
        random_state: int | None = 12345,
        n_jobs: int = -1,
    ) -> SpreadEstimate:
        """Independent Monte-Carlo estimate of the fitted seeds' spread (see :func:`estimate_spread`).

        ``model`` defaults to the selector's own model (``"ic"`` for the heuristics).
        """
        seeds = self.seeds_
        chosen: DiffusionModel = model if model is not None else getattr(self, "model", "ic")
        return estimate_spread(graph, seeds, model=chosen, n_sims=n_sims, random_state=random_state, n_jobs=n_jobs)
