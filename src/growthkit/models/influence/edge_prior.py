"""A prior for edge influence probabilities that depends on what the shop knows about each tie.

Every edge gets a Beta prior whose mean is logistic in the edge's features and whose
strength ``kappa`` (how many trials the prior is worth) is shared:

    p_e ~ Beta(kappa * mu_e, kappa * (1 - mu_e)),    logit(mu_e) = b0 + x_e . b

The coefficients and ``kappa`` are chosen by empirical Bayes: they maximise the
beta-binomial marginal likelihood of the observed (possibly fractional) successes and
trials of the exposed edges, so the data decide how much the prior smooths rather than
a fixed pseudo-count. Edges never exposed get their prior mean ``mu_e``, which is what
makes the learned graph usable beyond the edges a few cascades happened to try. This
is the hierarchical smoothing of rates of Kass and Steffey ("Approximate Bayesian
inference in conditionally independent hierarchical models", JASA 1989) with the mean
regressed on covariates, as in beta-binomial regression (Williams, "Extra-binomial
variation in logistic linear models", Applied Statistics 1982).

:func:`edge_features` builds the covariates from the store's ``edges`` table: the kind
of each tie, its logged weight (friend ties: interaction strength) and, given
communities, whether both ends are in the same one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit

from growthkit.errors import SchemaError
from growthkit.models.influence.communities import Communities
from growthkit.models.influence.graph import SocialGraph
from growthkit.models.influence.graph_sources import _backend, _node_numbers, edge_positions

__all__ = ["EdgeFeatures", "LogisticBetaPrior", "edge_features", "fit_logistic_beta"]

logger = logging.getLogger(__name__)
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class EdgeFeatures:
    """Covariates of a graph's forward edges: ``values[e, j]`` is feature ``names[j]`` of edge ``e``."""

    names: tuple[str, ...]
    values: F64

    def __post_init__(self) -> None:
        v = np.asarray(self.values)
        if v.ndim != 2 or v.shape[1] != len(self.names):
            raise SchemaError(f"feature values must be (edges, {len(self.names)}), got shape {v.shape}")
        if v.size and not np.isfinite(v).all():
            raise SchemaError("edge features must be finite; fill missing values before fitting")

    @property
    def n_edges(self) -> int:
        return int(self.values.shape[0])


def edge_features(
    source: Any, graph: SocialGraph, *, communities: Communities | npt.ArrayLike | None = None
) -> EdgeFeatures:
    """``friend``, ``follow``, ``referral`` (0/1), ``log_weight`` and maybe ``same_community`` per edge.

    Read from the ``edges`` table (a :class:`~growthkit.store.Store` or an Ibis backend):
    a ``friend`` row describes both directions, ``follow`` and ``referral`` rows the
    ``src_user -> dst_user`` direction, as in
    :func:`~growthkit.models.influence.graph_sources.graph_from_store`. ``log_weight``
    is the log of the largest ``weight`` of the pair's friend rows (0 without one or
    without a weight). ``communities`` (a :class:`~.communities.Communities` of this
    graph, or one label per node) adds ``same_community``.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.models.influence.graph_sources import graph_from_store
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO edges (edge_id, src_user, dst_user, kind, weight) VALUES "
    ...               "('1', 'a', 'b', 'friend', 4.0), ('2', 'a', 'c', 'follow', 1.0)")
    >>> g = graph_from_store(store)
    >>> f = edge_features(store, g)
    >>> f.names
    ('friend', 'follow', 'referral', 'log_weight')
    >>> f.values.round(3).tolist()   # a->b, a->c, b->a
    [[1.0, 0.0, 0.0, 1.386], [0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.386]]
    """
    con = _backend(source)
    e = con.table("edges")
    e = e.filter(e.src_user.notnull() & e.dst_user.notnull())
    t = e.select("src_user", "dst_user", "kind", "weight").to_pyarrow()
    u, v = _node_numbers(graph, t.column("src_user")), _node_numbers(graph, t.column("dst_user"))
    kind = np.asarray(pc.cast(t.column("kind"), pa.string()).to_numpy(zero_copy_only=False), dtype=object)
    weight = np.asarray(pc.fill_null(pc.cast(t.column("weight"), pa.float64()), 1.0).to_numpy(), dtype=np.float64)
    log_w = np.log(np.maximum(weight, 1.0))
    friend = kind == "friend"
    a, b = np.concatenate([u, v[friend]]), np.concatenate([v, u[friend]])
    k = np.concatenate([kind, kind[friend]])
    lw = np.concatenate([log_w, log_w[friend]])
    pos = edge_positions(graph, a, b)
    ok = pos >= 0
    names = ["friend", "follow", "referral", "log_weight"]
    x = np.zeros((graph.n_edges, len(names) + (communities is not None)))
    for j, name in enumerate(names[:3]):
        sel = ok & (k == name)
        x[pos[sel], j] = 1.0
    sel = ok & (k == "friend")
    np.maximum.at(x[:, 3], pos[sel], lw[sel])
    if communities is not None:
        labels = communities.labels.to_numpy() if isinstance(communities, Communities) else np.asarray(communities)
        if labels.shape[0] != graph.n_nodes:
            raise SchemaError(f"need one community label per node ({graph.n_nodes}), got {labels.shape[0]}")
        src = graph.edge_sources().astype(np.int64)
        x[:, 4] = (labels[src] == labels[graph.indices]).astype(np.float64)
        names.append("same_community")
    return EdgeFeatures(tuple(names), x)


@dataclass(frozen=True)
class LogisticBetaPrior:
    """``p_e ~ Beta(kappa mu_e, kappa (1 - mu_e))`` with ``logit(mu_e) = intercept + x_e . coef``.

    ``coef`` is in the features' own units; ``strength`` is ``kappa``.
    """

    names: tuple[str, ...]
    intercept: float
    coef: F64
    strength: float

    def mean(self, features: EdgeFeatures | None, n_edges: int) -> F64:
        """Prior mean of each edge (``n_edges`` of them when there are no features)."""
        if features is None or not self.names:
            return np.full(n_edges, float(expit(self.intercept)))
        if features.names != self.names:
            raise SchemaError(f"prior was fitted on features {self.names}, got {features.names}")
        out: F64 = expit(self.intercept + features.values @ self.coef)
        return out

    def as_dict(self) -> dict[str, float]:
        """``intercept``, one coefficient per feature, and ``strength``."""
        return {"intercept": self.intercept, **dict(zip(self.names, map(float, self.coef), strict=True)),
                "strength": self.strength}  # fmt: skip


def _standardise(x: F64) -> tuple[F64, F64, F64]:
    center = x.mean(axis=0) if x.shape[0] else np.zeros(x.shape[1])
    scale = x.std(axis=0) if x.shape[0] else np.ones(x.shape[1])
    scale = np.where(scale > 1e-12, scale, 1.0)
    return (x - center) / scale, center, scale


def fit_logistic_beta(
    successes: npt.ArrayLike,
    trials: npt.ArrayLike,
    features: EdgeFeatures | None = None,
    *,
    ridge: float = 1e-2,
    min_strength: float = 0.5,
    max_strength: float = 1e4,
    start: LogisticBetaPrior | None = None,
) -> LogisticBetaPrior:
    """Empirical-Bayes fit of the prior to edges with ``trials > 0`` (beta-binomial regression).

    Maximises ``sum_e [lnB(s_e + kappa mu_e, n_e - s_e + kappa (1 - mu_e)) - lnB(kappa mu_e,
    kappa (1 - mu_e))]`` over the coefficients and ``log kappa`` (L-BFGS-B, analytic
    gradient; features standardised; a small ``ridge`` on the slopes keeps collinear or
    constant features harmless). ``successes`` may be fractional (expected successes from
    :class:`~.cascade_em.CascadeEM`'s E-step). With one trial per edge ``kappa`` is not
    identified and ends at a bound; the mean still is.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 2, 4000).astype(float)
    >>> p = rng.beta(4 * np.where(x == 1, 0.3, 0.1), 4 * np.where(x == 1, 0.7, 0.9))
    >>> n = np.full(4000, 20)
    >>> prior = fit_logistic_beta(rng.binomial(n, p), n, EdgeFeatures(("x",), x[:, None]))
    >>> round(float(expit(prior.intercept)), 2), round(float(expit(prior.intercept + prior.coef[0])), 2)
    (0.1, 0.3)
    """
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if s.shape != n.shape or s.ndim != 1:
        raise SchemaError(f"successes and trials must be aligned 1-d arrays, got {s.shape} and {n.shape}")
    if features is not None and features.n_edges != s.shape[0]:
        raise SchemaError(f"features cover {features.n_edges} edges, the counts {s.shape[0]}")
    sel = n > 0
    if not sel.any():
        raise SchemaError("no edge has a trial: nothing to fit a prior to; observe some cascades first")
    if (s < 0).any() or (s > n + 1e-9).any():
        raise SchemaError("need 0 <= successes <= trials on every edge")
    s, n = np.minimum(s[sel], n[sel]), n[sel]
    names = features.names if features is not None else ()
    xs, center, scale = _standardise(features.values[sel] if features is not None else np.zeros((s.shape[0], 0)))
    d = xs.shape[1]
    pooled = float(np.clip(s.sum() / n.sum(), 1e-6, 1 - 1e-6))
    theta0 = np.zeros(d + 2)
    theta0[0], theta0[-1] = np.log(pooled / (1 - pooled)), np.log(10.0)
    if start is not None and start.names == names:
        slopes = start.coef * scale
        theta0[0] = start.intercept + float(start.coef @ center)
        theta0[1 : d + 1] = slopes
        theta0[-1] = np.log(np.clip(start.strength, min_strength, max_strength))

    def objective(theta: F64) -> tuple[float, F64]:
        eta = theta[0] + xs @ theta[1 : d + 1]
        mu = np.clip(expit(eta), 1e-9, 1 - 1e-9)
        kappa = float(np.exp(theta[-1]))
        al, be = kappa * mu, kappa * (1 - mu)
        ll = betaln(s + al, n - s + be) - betaln(al, be)
        common = digamma(kappa) - digamma(n + kappa)
        d_al = digamma(s + al) - digamma(al) + common
        d_be = digamma(n - s + be) - digamma(be) + common
        d_eta = kappa * mu * (1 - mu) * (d_al - d_be)
        grad = np.empty_like(theta)
        grad[0] = d_eta.sum()
        grad[1 : d + 1] = xs.T @ d_eta - 2 * ridge * theta[1 : d + 1]
        grad[-1] = float((al * d_al + be * d_be).sum())
        value = float(ll.sum()) - ridge * float(theta[1 : d + 1] @ theta[1 : d + 1])
        return -value, -grad

    bounds = [(None, None)] * (d + 1) + [(np.log(min_strength), np.log(max_strength))]
    res = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds)
    if not res.success:
        logger.debug("logistic-Beta prior: optimiser stopped early (%s)", res.message)
    th = res.x
    coef = th[1 : d + 1] / scale
    return LogisticBetaPrior(
        names=names,
        intercept=float(th[0] - coef @ center),
        coef=np.asarray(coef, dtype=np.float64),
        strength=float(np.exp(th[-1])),
    )
