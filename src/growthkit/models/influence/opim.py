"""OPIM-C: online processing influence maximization with an instance-specific guarantee.

Tang, Tang, Xiao and Yuan (2018), "Online Processing Algorithms for Influence
Maximization", SIGMOD. Two independent RR-set collections of equal size: greedy picks
seeds ``S`` on ``R1``, which also yields an upper bound on the optimum's coverage
(:mod:`.maxcover`); ``R2`` gives an unbiased estimate of ``sigma(S)``. Martingale
concentration bounds turn both into ``sigma_lower(S)`` and ``sigma_upper(OPT)``, which
hold together with probability ``1 - delta``; their ratio is the approximation this run
*achieved*. The sizes double until that ratio reaches ``1 - 1/e - epsilon`` or until the
worst-case bound ``theta_max`` (IMM-style) is reached, where the target holds anyway.

Under a budget with unequal costs ``1 - 1/e`` becomes ``rho = (1 - 1/e) / 2`` (see
:mod:`.budget`) in the target and in ``theta_max``; the instance bound needs no change.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

from growthkit.models.influence.budget import Costs, SeedingProblem
from growthkit.models.influence.diffusion import DiffusionModel, prepare, resolve_n_jobs, stream_base
from growthkit.models.influence.graph import I64, SocialGraph
from growthkit.models.influence.imm import Guarantee, RRSetSelector, check_common, check_probability, memory_cap_sets

log = logging.getLogger(__name__)


def lower_spread(covered: int, theta: int, n: int, a: float) -> float:
    """``sigma_lower``: spread of a set covering ``covered`` of ``theta`` independent RR sets."""
    lo = (math.sqrt(covered + 2.0 * a / 9.0) - math.sqrt(a / 2.0)) ** 2 - a / 18.0
    return max(lo, 0.0) * n / theta


def upper_spread(covered_upper: float, theta: int, n: int, a: float) -> float:
    """``sigma_upper``: spread bound of the optimum from an upper bound on its coverage."""
    return (math.sqrt(covered_upper + a / 2.0) + math.sqrt(a / 2.0)) ** 2 * n / theta


class OPIMC(RRSetSelector):
    """Seed selection by OPIM-C (Tang et al. 2018), reporting the approximation it achieved.

    Parameters
    ----------
    k, budget, costs, candidates :
        What may be seeded (see :class:`~growthkit.models.influence.imm.IMM`).
    epsilon : float
        Stop once the achieved ratio is at least ``1 - 1/e - epsilon``. OPIM-C stops as
        soon as that is proven, so a loose target (``epsilon = 0.5`` asks for 0.13) buys
        speed with seed quality; 0.1 or less is the useful range.
    delta : float or None
        Failure probability of the reported bounds, in ``(0, 1)``; default ``1 / n``
        (IMM's ``ell = 1``).
    model : {"ic", "lt"}
    random_state : int or None
    n_jobs : int
    memory_limit_mb : float
        Cap on RR-set memory (both collections); when reached, sampling stops and
        ``guarantee_.ratio`` is the instance bound achieved so far (a warning is logged).

    Attributes
    ----------
    seeds_ : list of str
    spread_ : float
        Unbiased RR-set estimate of the seeds' spread (from ``R2``, independent of the choice).
    spread_upper_ : float
        ``sigma_upper(OPT)``: with probability ``1 - delta`` no feasible set spreads further.
    n_rr_sets_ : int
        RR sets in both collections.
    n_rr_entries_ : int
        Their total size (node entries).
    rr_memory_mb_ : float
    guarantee_ : Guarantee
        ``instance_ratio`` is ``sigma_lower(S) / sigma_upper(OPT)``.
    total_cost_ : float
    fit_seconds_ : float

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "a", "b", "c"], ["b", "c", "d", "d"], [0.9, 0.9, 0.5, 0.5])
    >>> opim = OPIMC(k=1, epsilon=0.3, delta=0.01, random_state=0, n_jobs=1).fit(g)
    >>> opim.seeds_, opim.guarantee_.ratio >= opim.guarantee_.target
    (['a'], True)
    """

    def __init__(
        self,
        *,
        k: int | None = None,
        budget: float | None = None,
        costs: Costs | None = None,
        candidates: Iterable[str] | None = None,
        epsilon: float = 0.1,
        delta: float | None = None,
        model: DiffusionModel = "ic",
        random_state: int | None = 0,
        n_jobs: int = -1,
        memory_limit_mb: float = 4096.0,
    ) -> None:
        super().__init__(k=k, budget=budget, costs=costs, candidates=candidates)
        self.epsilon = epsilon
        self.delta = delta
        self.model = model
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.memory_limit_mb = memory_limit_mb

    def _select(self, graph: SocialGraph, problem: SeedingProblem) -> I64:
        from growthkit.models.influence.maxcover import max_cover
        from growthkit.models.influence.rrsets import RRSets, bytes_per_set

        check_common(self.epsilon, self.memory_limit_mb)
        n = graph.n_nodes
        delta = check_probability("delta", self.delta) if self.delta is not None else 1.0 / max(n, 2)
        prep = prepare(graph, self.model)
        jobs = resolve_n_jobs(self.n_jobs)
        eps, rho = float(self.epsilon), problem.base_ratio
        target = rho - eps
        if target <= 0.0:
            log.warning("OPIM-C: epsilon=%.3g leaves no guarantee (base ratio %.3f); lower epsilon", eps, rho)
        self.spread_upper_ = 0.0
        if problem.max_seeds == 0:
            return self._no_seeds(Guarantee(1.0, target, rho, eps, delta, 1.0))
        k = problem.max_seeds
        alpha = math.sqrt(math.log(6.0 / delta))
        beta = math.sqrt(rho * (problem.log_n_solutions() + math.log(6.0 / delta)))
        theta0 = max(1, math.ceil(2.0 * (rho * alpha + beta) ** 2))
        theta_max = 2.0 * n * (rho * alpha + beta) ** 2 / (eps**2 * k)
        # one more doubling than the paper's i_max so that the last round reaches theta_max
        i_max = max(1, math.ceil(math.log2(max(theta_max / theta0, 1.0)))) + 1
        a = math.log(3.0 * i_max / delta)
        r1 = RRSets(prep, stream_base(self.random_state, 3), jobs)
        r2 = RRSets(prep, stream_base(self.random_state, 4), jobs)
        theta = theta0
        ratio = ratio_held = high = 0.0
        cov2 = 0
        for i in range(1, i_max + 1):
            r1.grow_to(theta)
            r2.grow_to(theta)
            cover = max_cover(r1, problem, want_bound=True)
            cov2 = r2.covered(cover.seeds)
            low = lower_spread(cov2, theta, n, a)
            high = upper_spread(cover.upper, theta, n, a)
            ratio = min(low / high, 1.0) if high > 0 else 1.0
            if ratio >= target or i == i_max:
                ratio_held = max(ratio, target) if i == i_max and theta >= theta_max else ratio
                break
            if 2 * theta > memory_cap_sets(self.memory_limit_mb, n, 0.5 * (r1.mean_size + r2.mean_size), 2):
                log.warning("OPIM-C: memory_limit_mb reached at %d RR sets; achieved ratio %.3g", 2 * theta, ratio)
                ratio_held = ratio
                break
            theta *= 2
        self.spread_ = n * cov2 / theta
        self.spread_upper_ = high
        self.n_rr_sets_ = r1.n_sets + r2.n_sets
        self.n_rr_entries_ = r1.n_entries + r2.n_entries
        self.rr_memory_mb_ = (r1.n_sets + r2.n_sets) * bytes_per_set(0.5 * (r1.mean_size + r2.mean_size)) / 2**20
        self.guarantee_ = Guarantee(max(0.0, ratio_held), target, rho, eps, delta, ratio)
        return cover.seeds
