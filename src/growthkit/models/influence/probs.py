"""Edge influence probabilities: the standard assignments, and learning them from observed cascades.

Every model returns a new :class:`~growthkit.models.influence.graph.SocialGraph`
(through :meth:`SocialGraph.with_prob`); the input graph is never changed.

* :func:`uniform`: ``p(u, v) = p`` for every edge (Kempe, Kleinberg and Tardos,
  "Maximizing the spread of influence through a social network", KDD 2003,
  used ``p = 0.01`` and ``0.1``).
* :func:`weighted_cascade`: ``p(u, v) = 1 / in-degree(v)`` (Kempe et al. 2003,
  section 4), so every node expects one successful attempt in total.
* :func:`trivalency`: each edge draws ``p`` uniformly from ``{0.1, 0.01, 0.001}``
  (Chen, Wang and Wang, "Scalable influence maximization for prevalent viral
  marketing in large-scale social networks", KDD 2010).
* :func:`learned`: the posterior mean of a Beta prior updated with each edge's
  observed trials (Goyal, Bonchi and Lakshmanan, "Learning influence
  probabilities in social networks", WSDM 2010, Bernoulli model, smoothed):
  ``p(u, v) = (s + a) / (n + a + b)``; an edge never tried gets
  ``unexposed_scale * a / (a + b)``.

:func:`compare_with_truth` scores any of them against known probabilities (the
simulator's ``truth/edges`` table).

:func:`learned` is only as calibrated as its counts. Fed with referrals
(:func:`~.graph_sources.referral_cascades`: every earlier-joined neighbour of a new user
is a trial, the referrer the one success) it measures which neighbour gets the credit
for a signup, not how likely a neighbour is to bring anyone in, and comes out far too
small (on the simulator: mean 0.045 against a true 0.104). Calibrated probabilities
need the failed trials too, i.e. a log of who was exposed to a share and who then
adopted: :class:`~.cascade_em.CascadeEM` learns from such a log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from growthkit.errors import SchemaError
from growthkit.models.influence.graph import SocialGraph
from growthkit.models.influence.graph_sources import EdgeCounts, _node_numbers, edge_positions

__all__ = [
    "TRIVALENCY",
    "BetaPrior",
    "CalibrationBin",
    "TruthComparison",
    "compare_with_truth",
    "learned",
    "trivalency",
    "truth_probabilities",
    "uniform",
    "weighted_cascade",
]

F64 = npt.NDArray[np.float64]
TRIVALENCY: tuple[float, ...] = (0.1, 0.01, 0.001)


def uniform(graph: SocialGraph, p: float = 0.1) -> SocialGraph:
    """Every edge gets probability ``p`` (Kempe et al. 2003).

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "b"], ["b", "c"])
    >>> uniform(g, 0.2).prob.tolist()
    [0.2, 0.2]
    """
    if not 0.0 <= p <= 1.0:
        raise SchemaError(f"p must lie in [0, 1], got {p}")
    return graph.with_prob(np.full(graph.n_edges, float(p)))


def weighted_cascade(graph: SocialGraph) -> SocialGraph:
    """``p(u, v) = 1 / in-degree(v)`` (Kempe et al. 2003's weighted cascade).

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "b", "a"], ["c", "c", "b"])
    >>> weighted_cascade(g).prob.tolist()   # a->b, a->c, b->c
    [1.0, 0.5, 0.5]
    """
    indeg = graph.in_degree()
    return graph.with_prob(1.0 / indeg[graph.indices].astype(np.float64))


def trivalency(graph: SocialGraph, *, values: tuple[float, ...] = TRIVALENCY, seed: int = 0) -> SocialGraph:
    """Each edge draws its probability uniformly from ``values`` (Chen, Wang and Wang 2010); seeded.

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "b", "c"], ["b", "c", "a"])
    >>> set(trivalency(g, seed=1).prob) <= set(TRIVALENCY)
    True
    """
    if not values:
        raise SchemaError("trivalency needs at least one value")
    rng = np.random.default_rng(seed)
    return graph.with_prob(np.asarray(values, dtype=np.float64)[rng.integers(0, len(values), graph.n_edges)])


@dataclass(frozen=True)
class BetaPrior:
    """A Beta(``a``, ``b``) prior on every edge's probability."""

    a: float
    b: float

    def __post_init__(self) -> None:
        if not (self.a > 0 and self.b > 0 and np.isfinite(self.a) and np.isfinite(self.b)):
            raise SchemaError(f"Beta prior needs a > 0 and b > 0, got a={self.a}, b={self.b}")

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    @property
    def strength(self) -> float:
        """``a + b``: how many trials the prior is worth."""
        return self.a + self.b

    @classmethod
    def fit(
        cls,
        counts: EdgeCounts,
        *,
        fallback_strength: float = 10.0,
        min_strength: float = 0.5,
        max_strength: float = 1000.0,
    ) -> BetaPrior:
        """Method-of-moments fit to the exposed edges' success rates (beta-binomial).

        With ``m = sum(s) / sum(n)`` the pooled rate and ``r_i = s_i / n_i``, the
        variance of the true rates is ``tau2 = mean((r_i - m)^2) - m (1 - m) mean(1 / n_i)``
        (observed spread minus binomial noise). Then ``a + b = m (1 - m) / tau2 - 1``,
        clipped to ``[min_strength, max_strength]``. When ``tau2 <= 0`` the spread
        is no larger than binomial noise, so the heterogeneity of edges is not
        identified (always the case with one trial per edge): the prior then
        weighs ``fallback_strength`` trials. ``m`` is kept off 0 and 1 by half a trial.
        """
        n = counts.exposures[counts.exposed].astype(np.float64)
        s = counts.successes[counts.exposed].astype(np.float64)
        if n.size == 0:
            raise SchemaError("no edge was ever exposed: nothing to fit a prior to; pass prior=BetaPrior(a, b)")
        total = float(n.sum())
        m = min(max(float(s.sum()) / total, 0.5 / total), 1.0 - 0.5 / total)
        tau2 = float(np.mean((s / n - m) ** 2) - m * (1.0 - m) * np.mean(1.0 / n))
        strength = fallback_strength if tau2 <= 0 else m * (1.0 - m) / tau2 - 1.0
        strength = float(np.clip(strength, min_strength, max_strength))
        return cls(m * strength, (1.0 - m) * strength)


def learned(
    graph: SocialGraph,
    counts: EdgeCounts,
    *,
    prior: BetaPrior | None = None,
    unexposed_scale: float = 1.0,
) -> SocialGraph:
    """Posterior-mean probabilities from observed trials (Goyal et al. 2010, Beta-smoothed).

    Parameters
    ----------
    graph
        The graph whose forward edges ``counts`` is aligned with.
    counts
        Trials and successes per edge (:func:`~.graph_sources.share_cascades`,
        :func:`~.graph_sources.referral_cascades`).
    prior
        Beta prior; default :meth:`BetaPrior.fit` on the exposed edges.
    unexposed_scale
        Edges never exposed get ``unexposed_scale * prior.mean``. The prior is
        fitted on the edges people actually used, which tend to be the strong
        ties; a value below 1 says the silent ties are weaker than those.

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "a", "b"], ["b", "c", "c"])
    >>> counts = EdgeCounts(np.array([4, 0, 2]), np.array([2, 0, 0]))
    >>> learned(g, counts, prior=BetaPrior(1.0, 3.0), unexposed_scale=0.5).prob.tolist()
    [0.375, 0.125, 0.16666666666666666]
    """
    if counts.n_edges != graph.n_edges:
        raise SchemaError(f"counts cover {counts.n_edges} edges, the graph has {graph.n_edges}; build them together")
    if unexposed_scale < 0.0:
        raise SchemaError(f"unexposed_scale must be >= 0, got {unexposed_scale}")
    pr = prior if prior is not None else BetaPrior.fit(counts)
    n = counts.exposures.astype(np.float64)
    s = counts.successes.astype(np.float64)
    p = (s + pr.a) / (n + pr.a + pr.b)
    p = np.where(counts.exposed, p, min(unexposed_scale * pr.mean, 1.0))
    return graph.with_prob(p)


# --------------------------------------------------------------------------- scoring against the truth


@dataclass(frozen=True)
class CalibrationBin:
    """Edges whose predicted probability lies in ``[lo, hi]`` (an equal-count bin)."""

    lo: float
    hi: float
    edges: int
    mean_predicted: float
    mean_true: float


@dataclass(frozen=True)
class TruthComparison:
    """How close predicted edge probabilities are to the true ones.

    ``pearson`` and ``spearman`` are ``nan`` when either side is constant
    (a uniform model carries no ranking at all).
    """

    edges: int
    pearson: float
    spearman: float
    mae: float
    mean_predicted: float
    mean_true: float
    bins: tuple[CalibrationBin, ...]

    def to_frame(self) -> pd.DataFrame:
        """The calibration table, one row per bin."""
        cols = ["lo", "hi", "edges", "mean_predicted", "mean_true"]
        return pd.DataFrame([vars(b) for b in self.bins], columns=cols)


def _columns(truth: Any) -> dict[str, Any]:
    t = truth if isinstance(truth, pa.Table) else pa.Table.from_pandas(pd.DataFrame(truth), preserve_index=False)
    need = ("src_user", "dst_user", "kind", "influence_prob")
    missing = [c for c in need if c not in t.column_names]
    if missing:
        raise SchemaError(f"truth table lacks column(s) {', '.join(missing)}; need {', '.join(need)}")
    return {c: t.column(c) for c in need}


def truth_probabilities(graph: SocialGraph, truth: Any) -> F64:
    """The true probability of each forward edge of ``graph``; ``nan`` where the truth has no such edge.

    ``truth`` has the simulator's ``truth/edges`` columns (``src_user``,
    ``dst_user``, ``kind``, ``influence_prob``; Arrow or pandas): ``friend``
    rows apply in both directions, ``follow`` and ``referral`` rows from
    ``src_user`` to ``dst_user``. A pair listed twice keeps its largest value.
    """
    c = _columns(truth)
    u, v = _node_numbers(graph, c["src_user"]), _node_numbers(graph, c["dst_user"])
    p = np.asarray(c["influence_prob"].to_numpy(zero_copy_only=False), dtype=np.float64)
    und = np.asarray(c["kind"].to_numpy(zero_copy_only=False) == "friend", dtype=bool)
    a, b, q = np.concatenate([u, v[und]]), np.concatenate([v, u[und]]), np.concatenate([p, p[und]])
    pos = edge_positions(graph, a, b)
    out = np.full(graph.n_edges, -np.inf)
    keep = pos >= 0
    np.maximum.at(out, pos[keep], q[keep])
    out[np.isneginf(out)] = np.nan
    return out


def _corr(x: F64, y: F64) -> float:
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def _ranks(x: F64) -> F64:
    return np.asarray(pd.Series(x).rank(method="average").to_numpy(dtype=np.float64), dtype=np.float64)


def compare_with_truth(
    graph: SocialGraph, truth: Any, *, mask: npt.ArrayLike | None = None, bins: int = 5
) -> TruthComparison:
    """Correlation, mean absolute error and calibration of ``graph.prob`` against the true probabilities.

    Only edges that the truth knows (and that ``mask`` selects, if given) are
    scored. Calibration bins hold equal numbers of edges, ordered by predicted
    probability.

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "b", "c"], ["b", "c", "a"], [0.1, 0.2, 0.4])
    >>> truth = {"src_user": ["a", "b", "c"], "dst_user": ["b", "c", "a"], "kind": ["follow"] * 3,
    ...          "influence_prob": [0.1, 0.3, 0.5]}
    >>> r = compare_with_truth(g, truth, bins=1)
    >>> round(r.mae, 4), round(r.spearman, 4)
    (0.0667, 1.0)
    """
    if bins < 1:
        raise SchemaError(f"bins must be >= 1, got {bins}")
    true = truth_probabilities(graph, truth)
    sel = ~np.isnan(true)
    if mask is not None:
        sel &= np.asarray(mask, dtype=bool)
    pred, true = graph.prob[sel], true[sel]
    order = np.argsort(pred, kind="stable")
    out_bins = tuple(
        CalibrationBin(
            float(pred[ix].min()), float(pred[ix].max()), int(ix.size), float(pred[ix].mean()), float(true[ix].mean())
        )
        for ix in np.array_split(order, min(bins, max(order.size, 1)))
        if ix.size
    )
    nan = float("nan")
    return TruthComparison(
        edges=int(pred.size),
        pearson=_corr(pred, true),
        spearman=_corr(_ranks(pred), _ranks(true)),
        mae=float(np.abs(pred - true).mean()) if pred.size else nan,
        mean_predicted=float(pred.mean()) if pred.size else nan,
        mean_true=float(true.mean()) if pred.size else nan,
        bins=out_bins,
    )
