"""The social graph, true influence probabilities and who referred whom.

Model assumptions
-----------------
* Ties follow a Chung-Lu model with Pareto(2.5) propensities (capped at
  ``3 sqrt(n)``), so degrees are heavy-tailed; 75 % of ties stay inside the
  user's community (a stochastic-block flavour), the rest go anywhere.
* A quarter of ties are ``follow`` edges pointing from the more social user
  (the followed, ``src``) to the follower (``dst``); the rest are undirected
  ``friend`` edges stored once with ``src`` < ``dst``.
* Every edge has a true influence probability (independent-cascade style):
  Beta(1, 12) scaled by 1.6 inside a community and 0.7 across, capped at 0.9.
  The observed ``weight`` of a friend tie is 1 + Poisson(25 p), a noisy signal
  of it; follow and referral edges have weight 1.
* A referral-channel user is invited by an in-neighbour who signed up at least
  an hour earlier, chosen with probability proportional to the influence
  probability (an exponential race); without such a neighbour, by an earlier
  user chosen by social propensity; the very first user falls back to organic.
  The referral edge points from referrer to invitee; when the invitee signs up
  inside the window, the referrer emits an ``invite`` event up to six hours
  before the signup.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from growthkit.sim.calendar import US_PER_DAY, US_PER_HOUR, Calendar
from growthkit.sim.config import SimConfig
from growthkit.sim.population import Skeleton

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
EDGE_KIND_NAMES: tuple[str, ...] = ("friend", "follow", "referral")


@dataclass(frozen=True)
class Graph:
    """Edges (sorted by src, dst, kind), share targets and scheduled invites."""

    src: I64
    dst: I64
    kind: npt.NDArray[np.int8]
    ts_us: I64
    weight: F64
    influence: F64
    out_ptr: I64  # CSR over users: out_nbr[out_ptr[u]:out_ptr[u+1]] receive u's shares
    out_nbr: I64
    inv_referrer: I64  # sorted; in-window invites only
    inv_invitee: I64
    inv_ts_us: I64

    @property
    def n_edges(self) -> int:
        return int(self.src.shape[0])


def _weighted_pick(cum: F64, lo: F64, hi: F64, u: F64) -> I64:
    return np.searchsorted(cum, lo + u * (hi - lo), side="right").astype(np.int64)


def _weighted_sample(cum: F64, size: int, rng: np.random.Generator) -> I64:
    """``size`` indices drawn with probability proportional to the weights behind ``cum``.

    Searches sorted uniforms (exponential spacings), which is cache friendly, then
    shuffles the result.
    """
    spacing = np.cumsum(rng.exponential(1.0, size + 1))
    u = spacing[:-1] / spacing[-1]
    idx: I64 = np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), cum.shape[0] - 1).astype(np.int64)
    out: I64 = idx[rng.permutation(size)]
    return out


def build_graph(config: SimConfig, sk: Skeleton, cal: Calendar, rng: np.random.Generator) -> Graph:
    """Draw the social graph and the referrals; updates ``sk.referrer`` and ``sk.channel`` in place."""
    n = config.users
    soc = sk.sociability
    n_ties = round(n * config.mean_degree / 2.0) if n >= 2 else 0
    cum = np.cumsum(soc)
    a = _weighted_sample(cum, n_ties, rng)
    comm_order = np.argsort(sk.community, kind="stable")
    n_comm = int(sk.community.max()) + 1 if n else 0
    bounds = np.searchsorted(sk.community[comm_order], np.arange(n_comm + 1), side="left")
    cum_c = np.cumsum(soc[comm_order])
    c = sk.community[a]
    c_start, c_end = bounds[c], bounds[c + 1]
    lo = np.where(c_start > 0, cum_c[np.maximum(c_start - 1, 0)], 0.0)
    pos = np.clip(_weighted_pick(cum_c, lo, cum_c[c_end - 1], rng.random(n_ties)), c_start, c_end - 1)
    del c, c_start, c_end, lo, cum_c
    b = comm_order[pos]
    del pos
    cross = rng.random(n_ties) >= 0.75
    b[cross] = _weighted_sample(cum, int(cross.sum()), rng)
    follow = rng.random(n_ties) < 0.25
    keep = a != b
    a, b, follow = a[keep], b[keep], follow[keep]
    lo_u, hi_u = np.minimum(a, b), np.maximum(a, b)
    _, first = np.unique(lo_u * n + hi_u, return_index=True)
    lo_u, hi_u, follow = lo_u[first], hi_u[first], follow[first]
    hi_is_src = soc[hi_u] > soc[lo_u]
    src = np.where(follow & hi_is_src, hi_u, lo_u)
    dst = np.where(follow & hi_is_src, lo_u, hi_u)
    kind = follow.astype(np.int8)
    m = src.shape[0]
    same = sk.community[src] == sk.community[dst]
    infl = np.minimum(rng.beta(1.0, 12.0, m) * np.where(same, 1.6, 0.7), 0.9)
    weight = np.where(kind == 0, 1.0 + rng.poisson(25.0 * infl), 1.0)
    later = np.maximum(sk.signup_us[src], sk.signup_us[dst])
    ts = later + (rng.exponential(20.0, m) * US_PER_DAY).astype(np.int64)
    late = ts >= cal.end_us
    ts[late] = later[late] + (rng.random(int(late.sum())) * (cal.end_us - later[late])).astype(np.int64)

    r_src, r_dst, r_infl = _referrals(sk, src, dst, kind, infl, rng)
    r_ts = sk.signup_us[r_dst]
    all_src = np.concatenate([src, r_src])
    all_dst = np.concatenate([dst, r_dst])
    all_kind = np.concatenate([kind, np.full(r_src.shape[0], 2, dtype=np.int8)])
    order = np.lexsort((all_kind, all_dst, all_src))
    all_src, all_dst, all_kind = all_src[order], all_dst[order], all_kind[order]
    all_ts = np.concatenate([ts, r_ts])[order]
    all_w = np.concatenate([weight, np.ones(r_src.shape[0])])[order]
    all_infl = np.concatenate([infl, r_infl])[order]

    undirected = all_kind != 1
    arc_src = np.concatenate([all_src, all_dst[undirected]])
    arc_dst = np.concatenate([all_dst, all_src[undirected]])
    arc_order = np.argsort(arc_src, kind="stable")
    out_nbr = arc_dst[arc_order]
    out_ptr = np.searchsorted(arc_src[arc_order], np.arange(n + 1), side="left").astype(np.int64)

    in_window = sk.signup_us[r_dst] >= cal.start_us
    inv_ref, inv_inv = r_src[in_window], r_dst[in_window]
    sign = sk.signup_us[inv_inv]
    floor = np.maximum(cal.start_us, sk.signup_us[inv_ref] + 1_000_000)
    avail = np.maximum(sign - floor, 1)
    lag = np.maximum((rng.random(inv_inv.shape[0]) * np.minimum(6 * US_PER_HOUR, avail)).astype(np.int64), 1)
    inv_ts = np.maximum(sign - lag, cal.start_us)
    inv_order = np.lexsort((inv_ts, inv_ref))
    return Graph(
        src=all_src,
        dst=all_dst,
        kind=all_kind,
        ts_us=all_ts,
        weight=all_w.astype(np.float64),
        influence=all_infl,
        out_ptr=out_ptr,
        out_nbr=out_nbr,
        inv_referrer=inv_ref[inv_order],
        inv_invitee=inv_inv[inv_order],
        inv_ts_us=inv_ts[inv_order],
    )


def _referrals(
    sk: Skeleton, src: I64, dst: I64, kind: npt.NDArray[np.int8], infl: F64, rng: np.random.Generator
) -> tuple[I64, I64, F64]:
    """Choose a referrer for every referral-channel user; returns (referrer, invitee, influence)."""
    n = sk.signup_us.shape[0]
    is_ref = sk.channel == 3
    undirected = kind == 0
    arc_src = np.concatenate([src, dst[undirected]])
    arc_dst = np.concatenate([dst, src[undirected]])
    arc_p = np.concatenate([infl, infl[undirected]])
    ok = is_ref[arc_dst] & (sk.signup_us[arc_src] < sk.signup_us[arc_dst] - US_PER_HOUR)
    arc_src, arc_dst, arc_p = arc_src[ok], arc_dst[ok], arc_p[ok]
    key = rng.exponential(1.0, arc_src.shape[0]) / arc_p
    order = np.lexsort((key, arc_dst))
    chosen_dst, first = np.unique(arc_dst[order], return_index=True)
    referrer = np.full(n, -1, dtype=np.int64)
    p_of = np.zeros(n)
    referrer[chosen_dst] = arc_src[order][first]
    p_of[chosen_dst] = arc_p[order][first]

    need = np.flatnonzero(is_ref & (referrer < 0))
    by_signup = np.argsort(sk.signup_us, kind="stable")
    signup_sorted = sk.signup_us[by_signup]
    cum_s = np.cumsum(sk.sociability[by_signup])
    k = np.searchsorted(signup_sorted, sk.signup_us[need] - US_PER_HOUR, side="left")
    has = k > 0
    u = rng.random(need.shape[0])
    p_fallback = np.minimum(rng.beta(1.0, 12.0, need.shape[0]), 0.9)
    need_k = need[has]
    kk = k[has]
    pos = np.minimum(np.searchsorted(cum_s, u[has] * cum_s[kk - 1], side="right"), kk - 1)
    referrer[need_k] = by_signup[pos]
    p_of[need_k] = p_fallback[has]
    sk.channel[need[~has]] = 0  # nobody earlier to invite them: organic after all
    sk.referrer[:] = referrer
    invitees = np.flatnonzero(referrer >= 0)
    return referrer[invitees], invitees, p_of[invitees]
