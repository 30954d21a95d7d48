"""Use cases that describe the social graph and the referral loop.

* :func:`analyze_graph`: degree distribution and power-law tail, top PageRank spreaders,
  Louvain communities, and the top spreaders by observed referrals, per segment when
  the store has a ``segments`` table;
* :func:`referral_insight`: the referral analytics
  (:func:`growthkit.analytics.referral.run_referral`) on a store.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from growthkit.analytics.referral import ReferralQuery, ReferralResult, run_referral
from growthkit.config import Settings
from growthkit.models.influence import degree_distribution, louvain, pagerank, referral_reach, spreaders
from growthkit.models.influence.graph import SocialGraph
from growthkit.store import open_store
from growthkit.workflows.viral_graph import (
    GraphInfo,
    GraphSpec,
    Progress,
    load_graph,
    no_progress,
    segment_labels,
    store_if,
    to_jsonable,
)


@dataclass(frozen=True)
class DegreeSummary:
    """One direction's degree distribution in brief, with the power-law tail fit (None: too few values)."""

    direction: str
    mean: float
    max: int
    zero: int
    log_bins: tuple[tuple[int, int, int], ...]
    alpha: float | None
    alpha_sigma: float | None
    xmin: int | None
    n_tail: int | None
    ks: float | None


@dataclass(frozen=True)
class GraphAnalysis:
    """What :func:`analyze_graph` found."""

    graph: GraphInfo
    degrees: tuple[DegreeSummary, ...]
    top_pagerank: pd.DataFrame
    communities: int
    modularity: float
    community_sizes: tuple[int, ...]
    spreaders: pd.DataFrame | None
    by_segment: pd.DataFrame | None
    notes: tuple[str, ...]
    seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; frames as lists of records."""

        def records(df: pd.DataFrame | None) -> list[dict[str, Any]] | None:
            return None if df is None else to_jsonable(df.to_dict(orient="records"))

        return {
            "graph": to_jsonable(dataclasses.asdict(self.graph)),
            "degrees": [to_jsonable(dataclasses.asdict(d)) for d in self.degrees],
            "top_pagerank": records(self.top_pagerank),
            "communities": {
                "count": self.communities,
                "modularity": self.modularity,
                "largest": list(self.community_sizes[:10]),
            },
            "spreaders": records(self.spreaders),
            "by_segment": records(self.by_segment),
            "notes": list(self.notes),
            "seconds": self.seconds,
        }


def _degree_summary(graph: SocialGraph, direction: str) -> DegreeSummary:
    d = degree_distribution(graph, direction)
    fit = d.power_law
    return DegreeSummary(
        direction=direction,
        mean=d.mean,
        max=d.max,
        zero=d.zero,
        log_bins=tuple((b.lo, b.hi, b.nodes) for b in d.log_bins),
        alpha=fit.alpha if fit else None,
        alpha_sigma=fit.sigma if fit else None,
        xmin=fit.xmin if fit else None,
        n_tail=fit.n_tail if fit else None,
        ks=fit.ks if fit else None,
    )


def analyze_graph(
    settings: Settings,
    spec: GraphSpec,
    *,
    top: int = 10,
    random_state: int = 0,
    progress: Progress = no_progress,
) -> GraphAnalysis:
    """Degrees and their power-law tail, spreader PageRank, communities and the top referrers.

    The spreader PageRank walks edges backwards (a user ranks high when they reach users
    who reach many). Referrals need the store; users are labelled with their segment(s)
    when the store has a ``segments`` table (``user_id, segment_id, segment_name``, or
    the saved segments' ``name, user_id``); without one, the segment columns are left out.
    """
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    with store_if(settings, spec.graph_file is None) as store:
        progress("reading the graph", 0.0)
        graph, notes = load_graph(store, spec, random_state=random_state)
        seconds["graph"] = time.perf_counter() - t0
        progress("degrees and power-law fits", 0.2)
        degrees = tuple(_degree_summary(graph, d) for d in ("out", "in"))
        progress("PageRank", 0.35)
        pr = pagerank(graph, reverse=True)
        best = pr.nlargest(top)
        idx = graph.node_index(best.index)
        top_pr = pd.DataFrame(
            {
                "user_id": best.index.astype(str),
                "pagerank": best.to_numpy(),
                "out_degree": graph.out_degree()[idx],
                "in_degree": graph.in_degree()[idx],
            }
        )
        progress("communities (Louvain)", 0.45)
        t = time.perf_counter()
        comms = louvain(graph, seed=random_state)
        seconds["communities"] = time.perf_counter() - t
        table = by_segment = None
        if store is not None:
            progress("referral trees and spreaders", 0.85)
            labels = segment_labels(store)
            if labels is None:
                notes.append("no segments table in the store: spreaders are not broken down by segment")
            s = spreaders(graph, referral_reach(store), segments=labels, communities=comms, top=top)
            table, by_segment = s.table, s.by_segment
        else:
            notes.append("graph from a file: referral spreaders need the store (--db without --graph)")
    seconds["total"] = time.perf_counter() - t0
    progress("done", 1.0)
    return GraphAnalysis(
        graph=GraphInfo.of(graph, spec),
        degrees=degrees,
        top_pagerank=top_pr,
        communities=len(comms.sizes),
        modularity=float(comms.modularity),
        community_sizes=comms.sizes,
        spreaders=table,
        by_segment=by_segment,
        notes=tuple(notes),
        seconds={k: round(v, 4) for k, v in seconds.items()},
    )


# --------------------------------------------------------------------------- referral analytics


def referral_insight(settings: Settings, query: ReferralQuery) -> ReferralResult:
    """The referral analytics on the store named in ``settings``, opened read-only.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from datetime import date
    >>> from growthkit.analytics._common import DateRange
    >>> s = Settings(db=str(pathlib.Path(tempfile.mkdtemp()) / "shop.duckdb"))
    >>> with open_store(s) as st:
    ...     st.execute("INSERT INTO users (user_id, signup_ts) VALUES ('a', '2025-01-01'), ('b', '2025-01-02')")
    ...     st.execute("INSERT INTO edges (edge_id, src_user, dst_user, kind) VALUES ('r', 'a', 'b', 'referral')")
    >>> referral_insight(s, ReferralQuery(DateRange(date(2025, 1, 1), date(2025, 1, 31)))).share_referred
    0.5
    """
    with open_store(settings, read_only=not settings.is_memory) as store:
        return run_referral(store.ibis(), query)
