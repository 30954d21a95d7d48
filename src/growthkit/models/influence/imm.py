"""IMM: influence maximization with reverse-reachable sets and a martingale sample bound.

Tang, Shi and Xiao (2015), "Influence Maximization in Near-Linear Time: A Martingale
Approach", SIGMOD. IMM estimates a lower bound ``LB`` of the optimal spread by a doubling
search over RR-set sample sizes (phase 1), then samples ``theta = lambda* / LB`` RR sets
and runs greedy max coverage on them (phase 2). With ``epsilon`` and ``ell`` the returned
seeds satisfy ``sigma(S) >= (1 - 1/e - epsilon) * OPT`` with probability at least
``1 - 1/n^ell`` (``n`` nodes, ``OPT`` the best spread of ``k`` candidate seeds).

Following Chen (2018), "An Issue in the Martingale Analysis of the Influence
Maximization Algorithm IMM" (CSoNet), phase 2 samples *fresh* RR sets instead of reusing
phase 1's, which restores the independence the proof needs.

With unequal costs and a budget the greedy is replaced by the better of the
cost-effective and unit-cost greedies (:mod:`.budget`), whose coverage ratio is
``rho = (1 - 1/e) / 2``; IMM's analysis then goes through with ``rho`` in place of
``1 - 1/e`` and the union bound taken over all affordable seed sets, so the guarantee is
``(rho - epsilon) * OPT_budget`` with the same probability.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from growthkit.errors import ConfigError
from growthkit.models.influence.budget import Costs, SeedingProblem, SeedSelector
from growthkit.models.influence.diffusion import DiffusionModel, prepare, resolve_n_jobs, stream_base
from growthkit.models.influence.graph import I64, SocialGraph

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Guarantee:
    """What an RR-set seed selection promises about its seeds.

    With probability at least ``1 - failure_probability``,
    ``sigma(seeds) >= ratio * OPT``, where ``OPT`` is the best spread of any feasible
    seed set (same candidates, count and budget) under the chosen diffusion model.

    Attributes
    ----------
    ratio : float
        The approximation ratio that holds (never below 0).
    target : float
        The ratio the parameters ask for: ``base_ratio - epsilon``.
    base_ratio : float
        The greedy's ratio: ``1 - 1/e``, or ``(1 - 1/e) / 2`` under a budget with unequal costs.
    epsilon : float
        The epsilon asked for. ``ratio < target`` when the memory cap stopped IMM short of
        the RR sets it needed; OPIM-C's ``ratio`` may exceed ``target``.
    failure_probability : float
        ``1 / n^ell`` for IMM, ``delta`` for OPIM-C.
    instance_ratio : float or None
        OPIM-C's instance-specific lower bound ``sigma_lower(S) / sigma_upper(OPT)``;
        None for IMM.
    """

    ratio: float
    target: float
    base_ratio: float
    epsilon: float
    failure_probability: float
    instance_ratio: float | None = None


def memory_cap_sets(memory_limit_mb: float, n_nodes: int, mean_size: float, n_collections: int = 1) -> int:
    """How many RR sets fit in ``memory_limit_mb`` (sets, inverted index, greedy state)."""
    from growthkit.models.influence.rrsets import bytes_per_set

    free = memory_limit_mb * 2**20 - 48.0 * n_nodes
    return max(1, int(free / (n_collections * bytes_per_set(mean_size))))


def check_common(epsilon: float, memory_limit_mb: float) -> None:
    """Validate the parameters IMM and OPIM-C share."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) or not 0.0 < epsilon < 1.0:
        raise ConfigError(f"epsilon must lie in (0, 1), got {epsilon!r}")
    if isinstance(memory_limit_mb, bool) or not isinstance(memory_limit_mb, int | float) or not memory_limit_mb > 0:
        raise ConfigError(f"memory_limit_mb must be a positive number, got {memory_limit_mb!r}")


def check_probability(name: str, value: float) -> float:
    """Validate a probability in ``(0, 1)``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value < 1.0:
        raise ConfigError(f"{name} must lie in (0, 1), got {value!r}")
    return float(value)


class RRSetSelector(SeedSelector):
    """What IMM and OPIM-C share: the RR-set attributes they learn (internal base class)."""

    spread_: float
    n_rr_sets_: int
    n_rr_entries_: int
    rr_memory_mb_: float
    guarantee_: Guarantee

    def _no_seeds(self, guarantee: Guarantee) -> I64:
        """The result when no seed is feasible: nothing sampled, ``guarantee`` held trivially."""
        self.spread_ = 0.0
        self.n_rr_sets_ = 0
        self.n_rr_entries_ = 0
        self.rr_memory_mb_ = 0.0
        self.guarantee_ = guarantee
        return np.empty(0, dtype=np.int64)


class IMM(RRSetSelector):
    """Seed selection by IMM (Tang, Shi and Xiao 2015) with a ``1 - 1/e - epsilon`` guarantee.

    Parameters
    ----------
    k : int or None
        Number of seeds; with ``budget`` an optional cap on the count.
    budget : float or None
        Money available for seeding; needs ``costs`` unless every user costs 1.
    costs : mapping or array-like, optional
        ``user_id -> cost`` or costs aligned with ``graph.node_ids`` (see :mod:`.budget`).
    candidates : iterable of str, optional
        User ids that may be seeded (default: every node).
    epsilon : float
        Approximation slack in ``(0, 1)``; RR-set count grows as ``1 / epsilon^2``. Under a
        budget with unequal costs the base ratio is ``0.316``, so pick ``epsilon`` below it.
    ell : float
        Confidence: the guarantee fails with probability at most ``1 / n^ell``.
    model : {"ic", "lt"}
        Diffusion model (see :mod:`.diffusion`).
    random_state : int or None
        Seed; results are identical for every ``n_jobs``.
    n_jobs : int
        Threads for RR-set sampling (-1: all cores).
    memory_limit_mb : float
        Cap on RR-set memory. When the bound needs more sets, IMM samples what fits and
        reports the larger epsilon it achieved in ``guarantee_`` (a warning is logged).

    Attributes
    ----------
    seeds_ : list of str
        Seed user ids in selection order.
    spread_ : float
        Spread of the seeds estimated on the RR sets they were selected on (slightly
        optimistic; use :meth:`evaluate` for an independent estimate).
    n_rr_sets_ : int
        RR sets sampled in both phases.
    n_rr_entries_ : int
        Their total size (node entries): the work done, about ``n_rr_sets_ * E[|RR set|]``.
    rr_memory_mb_ : float
        Memory of the largest RR-set collection held.
    guarantee_ : Guarantee
    total_cost_ : float
    fit_seconds_ : float

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "a", "b", "c"], ["b", "c", "d", "d"], [0.9, 0.9, 0.5, 0.5])
    >>> imm = IMM(k=1, epsilon=0.5, random_state=0, n_jobs=1).fit(g)
    >>> imm.seeds_
    ['a']
    >>> round(imm.guarantee_.target, 3)
    0.132
    """

    def __init__(
        self,
        *,
        k: int | None = None,
        budget: float | None = None,
        costs: Costs | None = None,
        candidates: Iterable[str] | None = None,
        epsilon: float = 0.5,
        ell: float = 1.0,
        model: DiffusionModel = "ic",
        random_state: int | None = 0,
        n_jobs: int = -1,
        memory_limit_mb: float = 4096.0,
    ) -> None:
        super().__init__(k=k, budget=budget, costs=costs, candidates=candidates)
        self.epsilon = epsilon
        self.ell = ell
        self.model = model
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.memory_limit_mb = memory_limit_mb

    def _select(self, graph: SocialGraph, problem: SeedingProblem) -> I64:
        from growthkit.models.influence.maxcover import max_cover
        from growthkit.models.influence.rrsets import RRSets, bytes_per_set

        check_common(self.epsilon, self.memory_limit_mb)
        if isinstance(self.ell, bool) or not isinstance(self.ell, int | float) or not self.ell > 0:
            raise ConfigError(f"ell must be a positive number, got {self.ell!r}")
        prep = prepare(graph, self.model)
        jobs = resolve_n_jobs(self.n_jobs)
        n = graph.n_nodes
        eps, rho = float(self.epsilon), problem.base_ratio
        fail = float(n) ** -float(self.ell) if n > 1 else 1.0
        if rho - eps <= 0.0:
            log.warning("IMM: epsilon=%.3g leaves no guarantee (base ratio %.3f); lower epsilon", eps, rho)
        if problem.max_seeds == 0:
            return self._no_seeds(Guarantee(1.0, rho - eps, rho, eps, fail))
        log_n = math.log(n) if n > 1 else 0.0
        ell = float(self.ell) * (1.0 + math.log(2.0) / log_n) if n > 1 else float(self.ell)
        log_sets = problem.log_n_solutions()
        # phase 1: a lower bound LB of OPT by a doubling search (Algorithm 2 of the paper)
        eps1 = math.sqrt(2.0) * eps
        lam1 = (2.0 + 2.0 / 3.0 * eps1) * (log_sets + ell * log_n + math.log(max(math.log2(n), 1.0))) * n / eps1**2
        lower = float(problem.max_seeds)  # every seed activates itself
        phase1 = RRSets(prep, stream_base(self.random_state, 1), jobs)
        for i in range(1, max(int(math.log2(n)), 1)):
            x = n / 2.0**i
            theta_i = math.ceil(lam1 / x)
            if theta_i > memory_cap_sets(self.memory_limit_mb, n, phase1.mean_size):
                break
            phase1.grow_to(theta_i)
            cover = max_cover(phase1, problem)
            est = n * cover.covered / phase1.n_sets
            if est >= (1.0 + eps1) * x:
                lower = max(lower, est / (1.0 + eps1))
                break
        sampled, entries = phase1.n_sets, phase1.n_entries
        mean_size = phase1.mean_size
        del phase1
        # phase 2: theta = lambda* / LB fresh RR sets, greedy on them (Chen 2018's fix)
        alpha = math.sqrt(ell * log_n + math.log(2.0))
        beta = math.sqrt(rho * (log_sets + ell * log_n + math.log(2.0)))
        lam_star = 2.0 * n * (rho * alpha + beta) ** 2 / eps**2
        theta = math.ceil(lam_star / lower)
        cap = memory_cap_sets(self.memory_limit_mb, n, mean_size)
        if theta > cap:
            theta = cap
            eps = math.sqrt(2.0 * n * (rho * alpha + beta) ** 2 / (theta * lower))
            log.warning("IMM: memory_limit_mb allows %d RR sets; the guarantee weakens to epsilon=%.3g", theta, eps)
        rr = RRSets(prep, stream_base(self.random_state, 2), jobs)
        rr.grow_to(theta)
        cover = max_cover(rr, problem)
        self.spread_ = n * cover.covered / rr.n_sets
        self.n_rr_sets_ = sampled + rr.n_sets
        self.n_rr_entries_ = entries + rr.n_entries
        self.rr_memory_mb_ = rr.n_sets * bytes_per_set(rr.mean_size) / 2**20
        self.guarantee_ = Guarantee(max(0.0, rho - eps), rho - float(self.epsilon), rho, float(self.epsilon), fail)
        return cover.seeds
