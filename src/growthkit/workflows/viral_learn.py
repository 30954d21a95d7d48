"""Calibrated edge probabilities from a log of tracked cascades, put on the store's graph.

A shop that tracks its share links knows, per campaign, who shared with whom and who
adopted; :class:`~growthkit.models.influence.cascade_em.CascadeEM` turns that into
independent-cascade probabilities (Saito et al. 2008's EM with an empirical-Bayes prior
on tie kind, tie weight and shared community). The simulator writes such a log
(``share_cascades``); a shop can read its own from Parquet or CSV with
:func:`read_cascade_log`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from growthkit.errors import ConfigError, SourceError
from growthkit.models.influence import SocialGraph, louvain
from growthkit.models.influence.cascade_em import CascadeEM
from growthkit.models.influence.edge_prior import edge_features
from growthkit.store import Store

__all__ = ["CascadeFit", "learn_from_cascades", "read_cascade_log"]


@dataclass(frozen=True)
class CascadeFit:
    """The graph with learned probabilities, the fitted model and a one-line summary."""

    graph: SocialGraph
    model: CascadeEM
    note: str


def read_cascade_log(path: str | Path) -> pa.Table:
    """A cascade log from a ``.parquet`` or ``.csv`` file.

    Columns: see :func:`~growthkit.models.influence.cascade_log.cascade_trials`.
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"cascade log {p} does not exist; pass a .parquet or .csv file")
    try:
        return pq.read_table(p) if p.suffix.lower() == ".parquet" else pacsv.read_csv(p)
    except (OSError, pa.ArrowInvalid) as exc:
        raise SourceError(f"cannot read cascade log {p}: {exc}") from exc


def learn_from_cascades(
    store: Store,
    graph: SocialGraph,
    log: Any,
    *,
    window: timedelta = timedelta(days=1),
    communities: bool = True,
    max_iter: int = 200,
) -> CascadeFit:
    """Fit :class:`CascadeEM` on ``log`` for ``graph``'s edges, with features from the store's ``edges`` table.

    ``communities`` adds "both ends in the same Louvain community" to the prior's
    features (communities found on ``graph``, seeded).
    """
    comm = louvain(graph, seed=0) if communities and graph.n_edges else None
    feats = edge_features(store, graph, communities=comm)
    em = CascadeEM(window=window, max_iter=max_iter).fit(graph, log, feats)
    t = em.trials_
    exposed = int((t.trials > 0).sum())
    note = (
        f"learned from {t.cascades:,} cascades: {int(t.trials.sum()):,} trials on {exposed:,} of {graph.n_edges:,} "
        f"edges, {t.n_activations:,} activations credited (EM, {em.n_iter_} iterations), "
        f"{int(t.external.sum()):,} later ones from outside the shares; background {em.background_:.2g} per user and "
        f"window; prior strength {em.prior_.strength:.3g} trials"
    )
    return CascadeFit(em.graph_, em, note)
