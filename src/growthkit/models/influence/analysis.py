"""Describing the social graph: degrees and their power-law tail, PageRank, and who spreads the word.

* :func:`degree_distribution`: nodes per in- or out-degree, a log-binned
  summary (bins ``[2^k, 2^(k+1))``) and the tail exponent of a discrete power
  law ``P(k) = k^-alpha / zeta(alpha, k_min)`` for ``k >= k_min``, fitted by
  maximum likelihood with ``k_min`` given or chosen to minimise the
  Kolmogorov-Smirnov distance (:func:`fit_power_law`; Clauset, Shalizi and
  Newman, "Power-law distributions in empirical data", SIAM Review 2009).
* :func:`pagerank`: power iteration on the (optionally reversed, optionally
  probability-weighted) graph (Brin and Page 1998), dangling mass spread by the
  personalization vector as in networkx. Influence flows along edges
  ``u -> v``, so ``reverse=True`` scores *spreaders*: a user ranks high when
  they reach users who themselves reach many.
* :func:`referral_reach`: the observed referral trees: for each user, the
  users they referred directly and all their descendants (AARRR's referral
  pairs, one referrer per invitee).
* :func:`spreaders`: the top spreaders by observed referrals, with their graph
  position (degree, spreader PageRank, community) and, when a mapping user ->
  segment is given, the same summed per segment.

Communities live in :mod:`growthkit.models.influence.communities`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import zeta

from growthkit.analytics.aarrr_exprs import referral_pairs
from growthkit.analytics.referral_exprs import referral_forest
from growthkit.errors import SchemaError
from growthkit.models.influence.communities import Communities
from growthkit.models.influence.graph import SocialGraph
from growthkit.store import Store

__all__ = [
    "DegreeDistribution",
    "LogBin",
    "PowerLawFit",
    "Spreaders",
    "degree_distribution",
    "fit_power_law",
    "pagerank",
    "pagerank_scores",
    "referral_reach",
    "spreaders",
]

log = logging.getLogger(__name__)
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PowerLawFit:
    """A discrete power law fitted to the values ``>= xmin``.

    ``sigma`` is the standard error ``(alpha - 1) / sqrt(n_tail)`` (CSN 2009,
    eq. 3.2, its large-``n`` form); ``ks`` the Kolmogorov-Smirnov distance of
    the fit to the tail.
    """

    alpha: float
    xmin: int
    n_tail: int
    ks: float
    sigma: float


def _alpha_mle(tail_log_sum: float, n: int, xmin: int) -> float:
    def nll(a: float) -> float:
        return float(n * np.log(zeta(a, xmin)) + a * tail_log_sum)

    res = minimize_scalar(nll, bounds=(1.0 + 1e-6, 20.0), method="bounded", options={"xatol": 1e-7})
    return float(res.x)


def _ks(values: I64, counts: I64, alpha: float, xmin: int) -> float:
    """KS distance between the tail's empirical CDF and the fitted CDF, checked at both ends of every step."""
    emp = np.cumsum(counts) / counts.sum()
    z0 = zeta(alpha, xmin)
    at = 1.0 - zeta(alpha, values + 1.0) / z0  # model CDF at each observed value
    before = np.where(values > xmin, 1.0 - zeta(alpha, values.astype(np.float64)) / z0, 0.0)  # at value - 1
    prev = np.concatenate([[0.0], emp[:-1]])
    return float(max(np.abs(emp - at).max(), np.abs(prev - before).max()))


def fit_power_law(
    values: npt.ArrayLike, *, xmin: int | None = None, min_tail: int = 10, max_candidates: int = 200
) -> PowerLawFit | None:
    """Fit a discrete power law to the tail of positive integers (Clauset, Shalizi and Newman 2009).

    For a given ``xmin``, ``alpha`` maximises ``-n log zeta(alpha, xmin) -
    alpha sum(log x)`` (Hurwitz zeta). Without ``xmin``, every distinct value
    leaving at least ``min_tail`` observations (at most ``max_candidates`` of
    them, evenly spread) is tried and the one with the smallest KS distance
    wins. Returns ``None`` when fewer than ``min_tail`` values are ``>= xmin``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.floor((5 - 0.5) * (1 - rng.random(20000)) ** (-1 / 1.5) + 0.5).astype(int)
    >>> fit = fit_power_law(x, xmin=5)
    >>> round(fit.alpha, 1), fit.n_tail
    (2.5, 20000)
    """
    x = np.asarray(values, dtype=np.int64)
    x = x[x >= 1]
    if xmin is not None and xmin < 1:
        raise SchemaError(f"xmin must be >= 1, got {xmin}")
    uniq, counts = np.unique(x, return_counts=True)
    tail_n = np.cumsum(counts[::-1])[::-1]  # values >= uniq[i]
    logs = np.log(uniq.astype(np.float64)) * counts
    tail_log = np.cumsum(logs[::-1])[::-1]
    if xmin is not None:
        i = int(np.searchsorted(uniq, xmin))
        if i >= uniq.size or tail_n[i] < min_tail:
            return None
        cands = np.array([i])
    else:
        ok = np.flatnonzero(tail_n >= min_tail)
        if ok.size == 0:
            return None
        cands = (
            ok if ok.size <= max_candidates else ok[np.unique(np.linspace(0, ok.size - 1, max_candidates).astype(int))]
        )
    best: PowerLawFit | None = None
    for i in cands:
        lo = int(uniq[i]) if xmin is None else int(xmin)
        n = int(tail_n[i])
        alpha = _alpha_mle(float(tail_log[i]), n, lo)
        d = _ks(uniq[i:], counts[i:], alpha, lo)
        if best is None or d < best.ks:
            best = PowerLawFit(alpha, lo, n, d, float((alpha - 1.0) / np.sqrt(n)))
    return best


@dataclass(frozen=True)
class LogBin:
    """Nodes with degree in ``[lo, hi)``; ``density`` = nodes / (bin width x all nodes)."""

    lo: int
    hi: int
    nodes: int
    density: float


@dataclass(frozen=True)
class DegreeDistribution:
    """How many nodes have each in- or out-degree."""

    direction: str
    degree: I64
    nodes: I64
    log_bins: tuple[LogBin, ...]
    zero: int
    mean: float
    max: int
    power_law: PowerLawFit | None

    def to_frame(self) -> pd.DataFrame:
        """``degree, nodes`` for every degree that occurs (0 included)."""
        return pd.DataFrame({"degree": self.degree, "nodes": self.nodes})


def degree_distribution(
    graph: SocialGraph, direction: str = "out", *, fit: bool = True, xmin: int | None = None
) -> DegreeDistribution:
    """Counts per degree, log bins and (with ``fit``) a power-law tail fit; ``direction`` is ``out`` or ``in``.

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "a", "a", "b"], ["b", "c", "d", "c"])
    >>> d = degree_distribution(g, "out", fit=False)
    >>> d.degree.tolist(), d.nodes.tolist(), [(b.lo, b.hi, b.nodes) for b in d.log_bins]
    ([0, 1, 3], [2, 1, 1], [(1, 2, 1), (2, 4, 1)])
    """
    if direction not in ("out", "in"):
        raise SchemaError(f"direction must be 'out' or 'in', got {direction!r}")
    deg = graph.out_degree() if direction == "out" else graph.in_degree()
    degree, nodes = np.unique(deg, return_counts=True)
    bins: list[LogBin] = []
    top = int(deg.max()) if deg.size else 0
    lo = 1
    total = max(int(deg.size), 1)
    while lo <= top:
        hi = lo * 2
        k = int(((deg >= lo) & (deg < hi)).sum())
        bins.append(LogBin(lo, hi, k, k / ((hi - lo) * total)))
        lo = hi
    return DegreeDistribution(
        direction=direction,
        degree=degree.astype(np.int64),
        nodes=nodes.astype(np.int64),
        log_bins=tuple(bins),
        zero=int((deg == 0).sum()),
        mean=float(deg.mean()) if deg.size else 0.0,
        max=top,
        power_law=fit_power_law(deg, xmin=xmin) if fit else None,
    )


def pagerank_scores(
    graph: SocialGraph,
    *,
    damping: float = 0.85,
    weighted: bool = False,
    reverse: bool = False,
    personalization: F64 | None = None,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> F64:
    """PageRank as an array aligned with ``graph.node_ids`` (the computation behind :func:`pagerank`).

    Power iteration ``x <- d (M^T x + dangling mass * v) + (1 - d) v`` with ``M`` the
    row-normalised adjacency (weights 1, or the edge probabilities with ``weighted``)
    and ``v`` the jump distribution (``personalization``, already normalised; default
    uniform). ``M^T x`` is one product with the graph's other CSR (the reverse CSR
    holds ``A^T``), so nothing is transposed. Stops when the L1 change of one step is
    below ``tol``; after ``max_iter`` steps the last iterate is returned and a warning
    logged. The result sums to 1. Arguments are not validated: :func:`pagerank` does that.
    """
    n = graph.n_nodes
    if n == 0:
        return np.zeros(0)
    fwd = (graph.indptr, graph.indices, graph.prob)
    rev = (graph.rev_indptr, graph.rev_indices, graph.rev_prob)
    # the walk's rows are one CSR and their transpose is the other (walking in-edges: rows are the reverse CSR)
    (indptr, _, w_rows), (t_ptr, t_idx, t_w) = (rev, fwd) if reverse else (fwd, rev)
    rows_w = w_rows if weighted else np.ones(w_rows.shape[0])
    out_w = np.bincount(np.repeat(np.arange(n), np.diff(indptr)), weights=rows_w, minlength=n)
    dangling = out_w <= 0.0
    inv = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out_w))
    at = sp.csr_matrix((t_w if weighted else np.ones(t_idx.shape[0]), t_idx, t_ptr), shape=(n, n))
    p = np.full(n, 1.0 / n) if personalization is None else np.asarray(personalization, dtype=np.float64)
    x = p.copy()
    for _ in range(max_iter):
        nxt = damping * (at @ (x * inv) + x[dangling].sum() * p) + (1.0 - damping) * p
        done = float(np.abs(nxt - x).sum()) < tol
        x = nxt
        if done:
            break
    else:
        log.warning("PageRank did not converge to tol=%.3g in %d iterations; returning the last iterate", tol, max_iter)
    out: F64 = x / x.sum()
    return out


def pagerank(
    graph: SocialGraph,
    *,
    damping: float = 0.85,
    weighted: bool = False,
    reverse: bool = False,
    personalization: Mapping[str, float] | None = None,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> pd.Series:
    """PageRank of every user by power iteration (scipy sparse); a Series indexed by user id, summing to 1.

    Parameters
    ----------
    damping
        Probability of following an edge rather than jumping.
    weighted
        Follow edges in proportion to their probability instead of uniformly.
    reverse
        Walk edges backwards: ranks spreaders (who reaches whom) instead of
        receivers.
    personalization
        Jump (and dangling-node) distribution over user ids; default uniform.
    tol
        Stop when the L1 change of one step is below ``tol``.

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "b", "c"], ["b", "c", "a"])
    >>> pagerank(g).round(4).tolist()
    [0.3333, 0.3333, 0.3333]
    """
    if not 0.0 <= damping < 1.0:
        raise SchemaError(f"damping must lie in [0, 1), got {damping}")
    n = graph.n_nodes
    p = None
    if personalization is not None and n:
        p = np.zeros(n)
        idx = graph.node_index(personalization.keys())
        p[idx] = np.fromiter(personalization.values(), dtype=np.float64, count=idx.size)
        if p.min() < 0 or p.sum() <= 0:
            raise SchemaError("personalization weights must be >= 0 and not all 0")
        p /= p.sum()
    x = pagerank_scores(
        graph, damping=damping, weighted=weighted, reverse=reverse, personalization=p, tol=tol, max_iter=max_iter
    )
    return pd.Series(x, index=pd.Index(graph.node_ids, name="user_id"), name="pagerank", dtype=np.float64)


def referral_reach(source: Any, *, until: datetime | None = None) -> pd.DataFrame:
    """Observed referral trees: ``user_id, direct, total, depth, root`` per user, most descendants first.

    ``direct`` counts the users they referred, ``total`` all their descendants
    (invitees, invitees' invitees, ...), ``depth`` their distance from their
    tree's root. Pairs are AARRR's (:func:`~growthkit.analytics.aarrr_exprs.referral_pairs`);
    with ``until``, only invitees who signed up before it count.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO users (user_id, signup_ts) VALUES ('a', '2025-01-01'), ('b', '2025-01-02'), "
    ...               "('c', '2025-01-03')")
    >>> store.execute("INSERT INTO edges (edge_id, src_user, dst_user, kind) VALUES ('1', 'a', 'b', 'referral'), "
    ...               "('2', 'b', 'c', 'referral')")
    >>> referral_reach(store).values.tolist()
    [['a', 1, 2, 0, 'a'], ['b', 1, 1, 1, 'a'], ['c', 0, 0, 2, 'a']]
    """
    con = source.ibis() if isinstance(source, Store) else source
    pairs = referral_pairs(con.table("events"), con.table("users"), con.table("edges"))
    if until is not None:
        pairs = pairs.filter(pairs.invitee_signup < ibis.literal(until, type="timestamp"))
    t = pairs.select("invitee", "referrer").to_pyarrow()
    f = referral_forest(
        t.column("invitee").to_numpy(zero_copy_only=False), t.column("referrer").to_numpy(zero_copy_only=False)
    )
    df = pd.DataFrame(
        {
            "user_id": f.user_ids.astype(str),
            "direct": f.direct,
            "total": f.descendants,
            "depth": f.depth,
            "root": f.user_ids[f.root].astype(str),
        }
    )
    return df.sort_values(["total", "direct", "user_id"], ascending=[False, False, True], ignore_index=True)


@dataclass(frozen=True)
class Spreaders:
    """The users who spread the word, and (with segments) where they sit.

    Attributes
    ----------
    table:
        The ``top`` users by observed referrals (``total``, then ``direct``,
        then spreader PageRank): ``user_id, direct, total, depth, out_degree,
        in_degree, pagerank, pagerank_rank`` (1 = highest), and ``community``
        and ``segment`` when given.
    by_segment:
        Per segment over all users (``None`` without segments): ``users``,
        ``referrers`` (users who referred someone), ``direct``, ``total``,
        ``share_of_referrals`` (of all direct referrals) and ``mean_pagerank``.
    """

    table: pd.DataFrame
    by_segment: pd.DataFrame | None

    def describe(self, k: int = 10) -> list[str]:
        """One readable sentence per top spreader."""
        lines = []
        for i, r in enumerate(self.table.head(k).itertuples(index=False), start=1):
            seg = f" (segment {r.segment})" if "segment" in self.table.columns else ""
            lines.append(
                f"{i}. {r.user_id}{seg}: referred {r.direct} directly and {r.total} in all; "
                f"{r.out_degree} out-ties; spreader PageRank rank {r.pagerank_rank}"
            )
        return lines


def spreaders(
    graph: SocialGraph,
    reach: pd.DataFrame,
    *,
    segments: Mapping[str, str] | pd.Series | None = None,
    communities: Communities | None = None,
    top: int = 20,
    damping: float = 0.85,
) -> Spreaders:
    """Rank users by observed referrals and describe them by graph position and segment.

    Parameters
    ----------
    graph
        The social graph (its spreader PageRank, ``reverse=True``, and degrees).
    reach
        :func:`referral_reach`'s frame.
    segments
        Optional user id -> segment label; users without one show as ``"(none)"``.
    communities
        Optional :func:`~growthkit.models.influence.communities.louvain` result.

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "a", "b"], ["b", "c", "d"])
    >>> reach = pd.DataFrame({"user_id": ["a", "b", "c", "d"], "direct": [2, 1, 0, 0], "total": [3, 1, 0, 0],
    ...                       "depth": [0, 1, 1, 2], "root": ["a"] * 4})
    >>> s = spreaders(g, reach, segments={"a": "vip"}, top=2)
    >>> s.describe()[0]
    '1. a (segment vip): referred 2 directly and 3 in all; 2 out-ties; spreader PageRank rank 1'
    >>> s.by_segment[["segment", "users", "direct"]].values.tolist()
    [['vip', 1, 2], ['(none)', 3, 1]]
    """
    pr = pagerank(graph, damping=damping, reverse=True)
    base = pd.DataFrame(
        {
            "user_id": graph.node_ids.astype(str),
            "out_degree": graph.out_degree(),
            "in_degree": graph.in_degree(),
            "pagerank": pr.to_numpy(),
        }
    )
    cols = ["user_id", "direct", "total", "depth"]
    df = base.merge(reach[cols], on="user_id", how="outer")
    df[["direct", "total", "depth", "out_degree", "in_degree"]] = (
        df[["direct", "total", "depth", "out_degree", "in_degree"]].fillna(0).astype(np.int64)
    )
    df["pagerank"] = df["pagerank"].fillna(0.0)
    df["pagerank_rank"] = df["pagerank"].rank(method="min", ascending=False).astype(np.int64)
    if communities is not None:
        df["community"] = df["user_id"].map(communities.labels).astype("Int64")
    by_segment = None
    if segments is not None:
        seg = pd.Series(segments, dtype=object) if not isinstance(segments, pd.Series) else segments
        df["segment"] = df["user_id"].map(seg).fillna("(none)").astype(str)
        g = df.groupby("segment", sort=False)
        by_segment = g.agg(
            users=("user_id", "size"),
            referrers=("direct", lambda s: int((s > 0).sum())),
            direct=("direct", "sum"),
            total=("total", "sum"),
            mean_pagerank=("pagerank", "mean"),
        ).reset_index()
        all_direct = int(df["direct"].sum())
        by_segment.insert(5, "share_of_referrals", by_segment["direct"] / all_direct if all_direct else np.nan)
        by_segment = by_segment.sort_values(["direct", "segment"], ascending=[False, True], ignore_index=True)
    df = df.sort_values(["total", "direct", "pagerank", "user_id"], ascending=[False, False, False, True])
    return Spreaders(df.head(top).reset_index(drop=True), by_segment)
