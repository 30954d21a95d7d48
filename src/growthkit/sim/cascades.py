"""Tracked share campaigns: independent cascades on the true influence probabilities, with every exposure logged.

The events log alone cannot calibrate influence probabilities: a ``share`` names its
recipient, but the recipient does not react to it, and referrals only say *which*
neighbour brought a user in, not how likely a neighbour is to bring anyone (see
``docs/simulator.md``). This module adds the missing observation: a few campaigns in
which a piece of content spreads by the independent cascade model of Kempe,
Kleinberg and Tardos ("Maximizing the spread of influence through a social
network", KDD 2003) over the simulator's own graph and probabilities, and the shop
logs who was exposed to a share by whom and who adopted (clicked through and passed
it on).

Model assumptions
-----------------
* The arcs are those of the ``edges`` table read as a directed graph: ``friend``
  ties both ways, ``follow`` from the followed user to the follower, ``referral``
  from referrer to invitee; a pair with several edges keeps its largest true
  probability (the reading of :func:`growthkit.models.influence.probs.truth_probabilities`).
* Each campaign starts at a random moment of the window (possibly running past its
  end) with one seed, drawn by sociability, plus Poisson(``background``) users
  who adopt on their own in a random round (content found through other channels).
  Every user of the graph can take part, whatever their signup date.
* Rounds last a day. A user who adopts in round ``g`` does so in the round's first
  eighth and shares with *all* out-neighbours in its second eighth (one exposure
  row per neighbour, also to neighbours already active: the sharer cannot tell).
  Each still-inactive recipient adopts in round ``g + 1`` with the arc's true
  probability, independently (one trial per arc and campaign). So a credit window
  of one day after an exposure catches exactly the adoptions it can have caused.
* A campaign is tracked for ``rounds`` rounds of sharing; the adoptions of the last
  round are logged but no longer shared. A campaign whose exposures pass
  ``max_exposures / cascades`` stops sharing after that round, so the log stays
  small on huge graphs. ``observed_until`` (per campaign, repeated on its rows)
  lies a quarter day into the last logged round: every exposure in the log has its
  full day of follow-up before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from growthkit.sim.calendar import US_PER_DAY, Calendar
from growthkit.sim.graph import Graph
from growthkit.sim.population import Skeleton, user_ids

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
CASCADE_STREAM = 0x5CA5CADE  # spawn key of the campaigns' random stream, apart from every other stream
EVENT_NAMES: tuple[str, ...] = ("exposure", "activation")
_TS = pa.timestamp("us", tz="UTC")
CASCADES_SCHEMA = pa.schema(
    [
        ("cascade_id", pa.int64()),
        ("event", pa.string()),
        ("user_id", pa.string()),
        ("src_user", pa.string()),
        ("ts", _TS),
        ("observed_until", _TS),
    ]
)


@dataclass(frozen=True)
class CascadeParams:
    """How many share campaigns to track, for how long, and how much else goes on."""

    cascades: int = 200
    rounds: int = 7
    background: float = 2.0
    max_exposures: int = 2_000_000


@dataclass(frozen=True)
class CascadeLog:
    """Rows sorted by campaign, time; ``src`` is the sharer (``-1`` on activation rows)."""

    cascade: I64
    is_exposure: npt.NDArray[np.bool_]
    user: I64
    src: I64
    ts_us: I64
    until_us: I64  # per campaign

    @property
    def n_rows(self) -> int:
        return int(self.cascade.shape[0])


def true_arcs(graph: Graph, n: int) -> tuple[I64, I64, F64]:
    """CSR of the directed arcs with their true probabilities: ``(indptr, dst, p)``; one arc per pair (max)."""
    und = graph.kind == 0
    a = np.concatenate([graph.src, graph.dst[und]])
    b = np.concatenate([graph.dst, graph.src[und]])
    p = np.concatenate([graph.influence, graph.influence[und]])
    key = a * max(n, 1) + b
    order = np.lexsort((-p, key))
    key, p = key[order], p[order]
    first = np.ones(key.shape[0], dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, p = key[first], p[first]
    src = key // max(n, 1)
    indptr = np.searchsorted(src, np.arange(n + 1), side="left").astype(np.int64)
    return indptr, (key % max(n, 1)).astype(np.int64), p.astype(np.float64)


def _member(sorted_keys: I64, keys: I64) -> npt.NDArray[np.bool_]:
    if sorted_keys.size == 0:
        return np.zeros(keys.shape[0], dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.shape[0] - 1)
    out: npt.NDArray[np.bool_] = sorted_keys[pos] == keys
    return out


def simulate_cascades(
    graph: Graph, sk: Skeleton, cal: Calendar, rng: np.random.Generator, params: CascadeParams = CascadeParams()
) -> CascadeLog:
    """Run the tracked campaigns (all at once, round by round); see the module docstring."""
    n = int(sk.signup_us.shape[0])
    indptr, arc_dst, arc_p = true_arcs(graph, n)
    c_n = params.cascades if n >= 2 and arc_dst.size else 0
    day = US_PER_DAY
    eighth = day // 8
    start = cal.start_us + rng.integers(0, max(cal.days - 1, 1), c_n) * day + rng.integers(0, day, c_n)
    seeds = np.searchsorted(np.cumsum(sk.sociability), rng.random(c_n) * float(sk.sociability.sum()), side="right")
    seeds = np.minimum(seeds, n - 1).astype(np.int64)
    n_bg = rng.poisson(params.background, c_n)
    bg_c = np.repeat(np.arange(c_n, dtype=np.int64), n_bg)
    bg_user = rng.integers(0, max(n, 1), bg_c.shape[0])
    bg_round = rng.integers(0, max(params.rounds, 1), bg_c.shape[0])
    last = np.full(c_n, params.rounds, dtype=np.int64)  # last round whose adoptions are logged
    cap = max(params.max_exposures // max(c_n, 1), 1)
    sent = np.zeros(c_n, dtype=np.int64)
    active = np.zeros(0, dtype=np.int64)
    pending = np.arange(c_n, dtype=np.int64) * n + seeds
    rows: list[tuple[I64, npt.NDArray[np.bool_], I64, I64, I64]] = []
    for g in range(params.rounds + 1):
        keys = np.concatenate([pending, bg_c[bg_round == g] * n + bg_user[bg_round == g]])
        keys = np.setdiff1d(np.unique(keys), active, assume_unique=True)
        keys = keys[last[keys // n] >= g]
        active = np.union1d(active, keys)
        c, u = keys // n, keys % n
        t_act = start[c] + g * day + rng.integers(0, eighth, keys.shape[0])
        rows.append((c, np.zeros(c.shape[0], dtype=bool), u, np.full(c.shape[0], -1, dtype=np.int64), t_act))
        share = last[c] > g
        c, u = c[share], u[share]
        if g == params.rounds or c.size == 0:
            pending = np.zeros(0, dtype=np.int64)
            continue
        t_share = start[c] + g * day + eighth + rng.integers(0, eighth, c.shape[0])
        deg = indptr[u + 1] - indptr[u]
        arc = np.repeat(indptr[u] - (np.cumsum(deg) - deg), deg) + np.arange(int(deg.sum()), dtype=np.int64)
        ec, eu, ev = np.repeat(c, deg), np.repeat(u, deg), arc_dst[arc]
        rows.append((ec, np.ones(ec.shape[0], dtype=bool), ev, eu, np.repeat(t_share, deg)))
        hit = (rng.random(arc.shape[0]) < arc_p[arc]) & ~_member(active, ec * n + ev)
        pending = ec[hit] * n + ev[hit]
        sent += np.bincount(ec, minlength=c_n)
        last = np.where((sent > cap) & (last > g + 1), g + 1, last)
    if rows:
        cols = [np.concatenate([r[i] for r in rows]) for i in range(5)]
    else:
        cols = [np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool), *(np.zeros(0, dtype=np.int64),) * 3]
    order = np.lexsort((cols[2], ~cols[1], cols[4], cols[0]))
    until = start + last * day + 2 * eighth
    return CascadeLog(
        cascade=cols[0][order],
        is_exposure=cols[1][order],
        user=cols[2][order],
        src=cols[3][order],
        ts_us=cols[4][order],
        until_us=until.astype(np.int64),
    )


def cascade_table(log: CascadeLog, user_width: int) -> pa.Table:
    """The campaigns as a table (:data:`CASCADES_SCHEMA`): one row per exposure and per activation."""
    sharer = pc.if_else(
        pa.array(log.src >= 0), user_ids(np.maximum(log.src, 0), user_width), pa.scalar(None, pa.string())
    )
    return pa.table(
        [
            pa.array(log.cascade, pa.int64()),
            pc.take(pa.array(EVENT_NAMES, pa.string()), pa.array(np.where(log.is_exposure, 0, 1))),
            user_ids(log.user, user_width),
            sharer,
            pa.array(log.ts_us, _TS),
            pa.array(log.until_us[log.cascade], _TS),
        ],
        schema=CASCADES_SCHEMA,
    )
