"""From a log of tracked cascades (who was exposed by whom, who activated) to independent-cascade trials.

The independent cascade (IC) model gives every active user one chance to activate each
inactive out-neighbour. A log that records the *exposures* (user ``u`` shared with
``v`` at time ``s``) as well as the *activations* (``v`` adopted at time ``a``) shows
every such chance, failed or not, which is what calibrated probabilities need: counting
only the successful propagations (or only the users who joined) leaves the denominator
unknown.

Reading of one exposure ``u -> v`` at ``s`` in cascade ``c``, with ``v``'s first
activation in ``c`` at ``a`` (``+inf`` when ``v`` never activated) and a credit window ``W``:

* ``a <= s``: no trial (``v`` was already active);
* ``s < a < s + W``: a trial in ``v``'s *credit set*, the exposures that may have
  caused the activation; which of them did is unknown, so the EM of Saito, Nakano and
  Kimura ("Prediction of information diffusion probabilities for independent cascade
  model", KES 2008) shares the credit (:class:`~.cascade_em.CascadeEM`);
* ``a >= s + W``: a failed trial;
* never activated: a failed trial if the cascade was watched until ``s + W``
  (``observed_until``), otherwise censored and dropped (its outcome is unknown).

Each edge counts once per cascade (its earliest exposure), as in the IC model.
Activations with an empty credit set came from outside the observed shares: those at
the cascade's first moment are its seeds; later ones came through other channels and
set the background rate. Neither carries information about edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from growthkit.errors import SchemaError
from growthkit.models.influence.graph import SocialGraph
from growthkit.models.influence.graph_sources import EdgeCounts, _node_numbers, edge_positions

__all__ = ["CASCADE_LOG_COLUMNS", "CascadeTrials", "cascade_trials"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
CASCADE_LOG_COLUMNS: tuple[str, ...] = ("cascade_id", "event", "user_id", "src_user", "ts")
_INF = np.iinfo(np.int64).max


@dataclass(frozen=True)
class CascadeTrials:
    """IC trials of a graph's forward edges, read from a cascade log.

    Cascades are numbered ``0..cascades-1`` (in the order of their sorted ids), so that
    they can be reweighted (:meth:`weighted`, a bootstrap over cascades).

    Attributes
    ----------
    n_edges:
        Edges of the graph.
    fail_edge, fail_cascade:
        One entry per failed trial (the target did not activate within the window):
        its edge and its cascade.
    credit_ptr, credit_edge:
        Credit sets as compressed rows: activation ``k`` may have been caused by the
        edges ``credit_edge[credit_ptr[k]:credit_ptr[k + 1]]`` (each set non-empty).
    credit_cascade:
        The cascade of each activation with a credit set.
    seeds:
        Per cascade: activations at its very first moment (the users it started from).
    external:
        Per cascade: later activations with no exposure in their window (other channels,
        the evidence for a background rate).
    user_windows:
        Per cascade: users times credit windows watched, the exposure of the population
        to background activation.
    censored:
        Exposures dropped because their window ran past ``observed_until``.
    unmatched:
        Exposures along pairs that are not edges of the graph (ignored).
    """

    n_edges: int
    fail_edge: I64
    fail_cascade: I64
    credit_ptr: I64
    credit_edge: I64
    credit_cascade: I64
    seeds: I64
    external: I64
    user_windows: F64
    censored: int
    unmatched: int

    @property
    def cascades(self) -> int:
        """Number of cascades in the log."""
        return int(self.external.shape[0])

    @property
    def failures(self) -> I64:
        """Per edge: failed trials."""
        return np.bincount(self.fail_edge, minlength=self.n_edges).astype(np.int64)

    @property
    def n_activations(self) -> int:
        """Activations that have a credit set."""
        return int(self.credit_ptr.shape[0] - 1)

    @property
    def positives(self) -> I64:
        """Per edge: trials that fell in some activation's credit set."""
        return np.bincount(self.credit_edge, minlength=self.n_edges).astype(np.int64)

    @property
    def trials(self) -> I64:
        """Per edge: all trials (positive and failed)."""
        return self.failures + self.positives

    def hard_counts(self) -> EdgeCounts:
        """Trials and successes with the credit of each activation given in full to every edge in its set.

        This is Goyal et al.'s (WSDM 2010) Bernoulli counting without credit splitting: it
        over-credits edges whose target had several exposures. :class:`~.cascade_em.CascadeEM`
        splits the credit instead.
        """
        return EdgeCounts(self.trials, self.positives)

    def weighted(self, weights: npt.ArrayLike) -> tuple[F64, F64]:
        """Per-edge failures and per-activation weights when cascade ``c`` counts ``weights[c]`` times."""
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (self.cascades,) or (w < 0).any():
            raise SchemaError(f"need one non-negative weight per cascade ({self.cascades}), got shape {w.shape}")
        fails = np.bincount(self.fail_edge, weights=w[self.fail_cascade], minlength=self.n_edges)
        return fails.astype(np.float64), w[self.credit_cascade]


def _table(log: Any) -> pa.Table:
    t = log if isinstance(log, pa.Table) else pa.Table.from_pandas(pd.DataFrame(log), preserve_index=False)
    missing = [c for c in CASCADE_LOG_COLUMNS if c not in t.column_names]
    if missing:
        raise SchemaError(
            f"cascade log lacks column(s) {', '.join(missing)}; need {', '.join(CASCADE_LOG_COLUMNS)} "
            "(event is 'exposure' with src_user the sharer, or 'activation'), optionally observed_until"
        )
    return t


def _micros(col: pa.ChunkedArray) -> I64:
    if pa.types.is_integer(col.type):
        return np.asarray(pc.fill_null(col, _INF).to_numpy(zero_copy_only=False), dtype=np.int64)
    arr = pc.cast(pc.cast(col, pa.timestamp("us", tz="UTC") if col.type.tz else pa.timestamp("us")), pa.int64())
    return np.asarray(pc.fill_null(arr, _INF).to_numpy(zero_copy_only=False), dtype=np.int64)


def cascade_trials(graph: SocialGraph, log: Any, *, window: timedelta = timedelta(days=1)) -> CascadeTrials:
    """Read a cascade log into IC trials of ``graph``'s edges (see the module docstring).

    Parameters
    ----------
    graph
        The social graph; exposures along pairs that are not its edges are counted
        in ``unmatched`` and ignored.
    log
        Arrow table or pandas-compatible frame with ``cascade_id``, ``event``
        (``exposure`` or ``activation``), ``user_id`` (the exposed or activated
        user), ``src_user`` (the sharer, on exposures) and ``ts``; optionally
        ``observed_until`` (per cascade, the end of observation; default the cascade's
        last row). ``ts`` may be timestamps or integer microseconds. The simulator
        writes such a log (``share_cascades``, :mod:`growthkit.sim.cascades`).
    window
        How long after an exposure an activation can still be caused by it.

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "a", "b"], ["b", "c", "c"])
    >>> log = {"cascade_id": [1] * 6,
    ...        "event": ["activation", "exposure", "exposure", "activation", "exposure", "activation"],
    ...        "user_id": ["a", "b", "c", "b", "c", "c"], "src_user": [None, "a", "a", None, "b", None],
    ...        "ts": [0, 10, 10, 20, 30, 35], "observed_until": [100] * 6}
    >>> t = cascade_trials(g, log, window=timedelta(microseconds=30))
    >>> t.failures.tolist(), t.credit_edge.tolist(), t.seeds.tolist()   # c: two exposures in its window
    ([0, 0, 0], [0, 1, 2], [1])
    """
    if window <= timedelta(0):
        raise SchemaError(f"window must be positive, got {window}")
    w_us = int(window / timedelta(microseconds=1))
    t = _table(log)
    cid = np.asarray(pc.cast(t.column("cascade_id"), pa.string()).to_numpy(zero_copy_only=False), dtype=object)
    if t.num_rows and pd.isna(cid).any():
        raise SchemaError("cascade_id must not be null")
    c_ids, c_inv = np.unique(cid.astype(str), return_inverse=True)
    c = np.asarray(c_inv, dtype=np.int64).reshape(-1)
    n_c = int(c_ids.shape[0])
    event = np.asarray(pc.cast(t.column("event"), pa.string()).to_numpy(zero_copy_only=False), dtype=object)
    is_exp, is_act = event == "exposure", event == "activation"
    if not (is_exp | is_act).all():
        raise SchemaError("event must be 'exposure' or 'activation' on every row")
    ts = _micros(t.column("ts"))
    if (ts == _INF).any():
        raise SchemaError("ts must not be null")
    user = _node_numbers(graph, t.column("user_id"))
    src = _node_numbers(graph, t.column("src_user"))
    first_ts = np.full(n_c, _INF, dtype=np.int64)
    np.minimum.at(first_ts, c, ts)
    until = np.full(n_c, -1, dtype=np.int64)
    np.maximum.at(until, c, ts)
    if "observed_until" in t.column_names:
        given = np.full(n_c, _INF, dtype=np.int64)
        np.minimum.at(given, c, _micros(t.column("observed_until")))
        until = np.where(given < _INF, given, until)
    n = max(graph.n_nodes, 1)

    # first activation of each (cascade, user)
    act = is_act & (user >= 0)
    a_key, a_ts = c[act] * n + user[act], ts[act]
    order = np.lexsort((a_ts, a_key))
    a_key, a_ts = a_key[order], a_ts[order]
    keep = np.ones(a_key.shape[0], dtype=bool)
    keep[1:] = a_key[1:] != a_key[:-1]
    a_key, a_ts = a_key[keep], a_ts[keep]

    # exposures along edges, the earliest per (cascade, edge)
    e_c, e_s = c[is_exp], ts[is_exp]
    pos = edge_positions(graph, src[is_exp], user[is_exp])
    unmatched = int((pos < 0).sum())
    e_c, e_s, pos = e_c[pos >= 0], e_s[pos >= 0], pos[pos >= 0]
    order = np.lexsort((e_s, pos, e_c))
    e_c, e_s, pos = e_c[order], e_s[order], pos[order]
    keep = np.ones(pos.shape[0], dtype=bool)
    keep[1:] = (pos[1:] != pos[:-1]) | (e_c[1:] != e_c[:-1])
    e_c, e_s, pos = e_c[keep], e_s[keep], pos[keep]

    target = e_c * n + graph.indices[pos].astype(np.int64)
    k = np.searchsorted(a_key, target)
    k_ok = k < a_key.shape[0]
    k_ok[k_ok] = a_key[k[k_ok]] == target[k_ok]
    a = np.full(target.shape[0], _INF, dtype=np.int64)
    a[k_ok] = a_ts[k[k_ok]]
    credit = (a > e_s) & (a - e_s < w_us)
    failed = (a > e_s) & (a - e_s >= w_us) & (a < _INF)
    watched = e_s + w_us <= until[e_c]
    failed |= (a == _INF) & watched
    censored = int(((a == _INF) & ~watched).sum())

    k_cr, e_cr = k[credit], pos[credit]
    order = np.argsort(k_cr, kind="stable")
    k_cr, e_cr = k_cr[order], e_cr[order]
    with_credit, starts = np.unique(k_cr, return_index=True)
    credit_ptr = np.append(starts, k_cr.shape[0]).astype(np.int64)
    has_credit = np.zeros(a_key.shape[0], dtype=bool)
    has_credit[with_credit] = True
    outside = ~has_credit
    at_start = a_ts == first_ts[a_key // n]
    seeds = np.bincount(a_key[outside & at_start] // n, minlength=n_c).astype(np.int64)
    external = np.bincount(a_key[outside & ~at_start] // n, minlength=n_c).astype(np.int64)
    span = np.maximum(until - first_ts, 0).astype(np.float64)
    return CascadeTrials(
        n_edges=graph.n_edges,
        fail_edge=pos[failed].astype(np.int64),
        fail_cascade=e_c[failed].astype(np.int64),
        credit_ptr=credit_ptr,
        credit_edge=e_cr.astype(np.int64),
        credit_cascade=(a_key[with_credit] // n).astype(np.int64),
        seeds=seeds,
        external=external,
        user_windows=graph.n_nodes * span / w_us,
        censored=censored,
        unmatched=unmatched,
    )
