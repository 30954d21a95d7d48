"""The Ibis expressions and the referral-forest arithmetic behind :mod:`growthkit.analytics.referral`.

The expressions execute nothing and use only the portable operations the AARRR
overview uses (joins, ``row_number``, counts and sums with ``where``, interval
arithmetic, ``date_trunc``, :func:`~growthkit.analytics._common.json_property`),
so they compile for DuckDB and PySpark. Who referred whom comes from
:func:`~growthkit.analytics.aarrr_exprs.referral_pairs`, so both insights agree.

The referral forest (depth, breadth, descendants) is computed in numpy from the
pairs, one row per referred user: the engine aggregates, plain arrays do the
tree walking (no recursive queries, which Ibis cannot express portably).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt

from growthkit.analytics._common import DateRange, EventFilter, Period, json_property, truncate
from growthkit.analytics.aarrr_exprs import in_range, new_users, referral_pairs

I64 = npt.NDArray[np.int64]
REFERRAL_CHANNEL = "referral"
NO_CAMPAIGN = "(none)"


def cohort(events: ir.Table, users: ir.Table, edges: ir.Table, date_range: DateRange) -> ir.Table:
    """New users of the range with ``referrer`` (or NULL) and ``referred``.

    Columns ``user_id, signup_ts, channel, referrer, referred``. A new user is
    *referred* when they have a referrer (a referral pair) or their acquisition
    channel is ``referral``.
    """
    nu = new_users(events, users, date_range)
    pairs = referral_pairs(events, users, edges).select(p_inv="invitee", referrer="referrer")
    j = nu.left_join(pairs, nu.user_id == pairs.p_inv)
    return j.select(
        j.user_id,
        j.signup_ts,
        j.channel,
        j.referrer,
        referred=j.referrer.notnull() | (j.channel == REFERRAL_CHANNEL),
    )


def with_revenue(events: ir.Table, c: ir.Table, days: int, until: ir.TimestampValue) -> ir.Table:
    """``c`` plus ``revenue`` (purchases minus refunds in ``[signup, signup + days)``), ``paid``, ``incomplete``."""
    w = c.select(w_user=c.user_id, w_start=c.signup_ts, w_end=c.signup_ts + ibis.interval(days=days))
    ev = events.filter(events.event_type.isin(["purchase", "refund"]))
    ev = ev.select(ev.user_id, ev.ts, ev.event_type, amount=ev.amount.fill_null(0.0))
    j = ev.join(w, ev.user_id == w.w_user)
    j = j.filter((j.ts >= j.w_start) & (j.ts < j.w_end))
    money = j.group_by(r_user=j.user_id).agg(
        revenue=ibis.ifelse(j.event_type == "purchase", j.amount, -j.amount).sum(),
        buys=j.count(where=j.event_type == "purchase"),
    )
    out = c.left_join(money, c.user_id == money.r_user)
    return out.select(
        *[out[col] for col in c.columns],
        revenue=out.revenue.fill_null(0.0),
        paid=out.buys.fill_null(0) > 0,
        incomplete=(out.signup_ts + ibis.interval(days=days)) > until,
    )


def invite_campaigns(events: ir.Table, c: ir.Table, key: str) -> ir.Table:
    """Referred cohort users with ``campaign``: ``properties.<key>`` of the invite that brought them.

    That invite is the latest ``invite`` event by the user's referrer naming
    them (``properties.invitee``) at or before their signup; without one, the
    ``properties.<key>`` of their own ``signup`` event; else ``"(none)"``.
    """
    inv = events.filter(events.event_type == "invite")
    inv = inv.select(
        i_from=inv.user_id,
        i_to=json_property(inv.properties, "invitee"),
        i_ts=inv.ts,
        i_id=inv.event_id,
        i_camp=json_property(inv.properties, key),
    )
    ref = c.filter(c.referred).select(c_user=c.user_id, c_signup=c.signup_ts, c_ref=c.referrer)
    j = ref.join(inv, (ref.c_user == inv.i_to) & (ref.c_ref == inv.i_from) & (inv.i_ts <= ref.c_signup))
    ranked = j.mutate(_rn=ibis.row_number().over(group_by=j.c_user, order_by=[ibis.desc(j.i_ts), ibis.desc(j.i_id)]))
    best = ranked.filter(ranked._rn == 0).select(b_user=ranked.c_user, b_camp=ranked.i_camp)
    sg = events.filter(events.event_type == "signup")
    sg = sg.select(s_user=sg.user_id, s_camp=json_property(sg.properties, key)).filter(lambda t: t.s_camp.notnull())
    sg = sg.group_by("s_user").agg(s_camp=sg.s_camp.min())
    out = ref.left_join(best, ref.c_user == best.b_user)
    out = out.select(out.c_user, b_camp=out.b_camp)
    out = out.left_join(sg, out.c_user == sg.s_user)
    return out.select(user_id=out.c_user, campaign=ibis.coalesce(out.b_camp, out.s_camp, ibis.literal(NO_CAMPAIGN)))


def period_active(events: ir.Table, date_range: DateRange, active: EventFilter, period: Period) -> ir.Table:
    """``user_id, period`` of active users per period of the range (AARRR's rule: an ``active`` event or a purchase)."""
    ev = in_range(events, date_range)
    acts = active.apply(ev).select("user_id", "ts")
    buys = ev.filter(ev.event_type == "purchase").select("user_id", "ts")
    both = acts.union(buys)
    return both.select(both.user_id, period=truncate(both.ts, period))


# --------------------------------------------------------------------------- the referral forest


@dataclass(frozen=True)
class ReferralForest:
    """Who referred whom as a forest over every user in a referral pair.

    Attributes
    ----------
    user_ids:
        Every referrer and invitee, sorted.
    parent:
        Index of the referrer in ``user_ids``; ``-1`` for roots (referrers
        nobody referred). A cycle in inconsistent data is cut at its smallest id.
    depth:
        Hops from the root: 0 for roots, 1 for their invitees, ...
    root:
        Index of each user's root.
    direct:
        Invitees of each user.
    descendants:
        Users below each user in its tree (invitees, their invitees, ...).
    """

    user_ids: npt.NDArray[np.object_]
    parent: I64
    depth: I64
    root: I64
    direct: I64
    descendants: I64

    @property
    def max_depth(self) -> int:
        return int(self.depth.max()) if self.depth.size else 0

    def by_depth(self) -> tuple[tuple[int, int], ...]:
        """``(depth, users)`` for every depth from 0 (roots) to the deepest."""
        counts = np.bincount(self.depth) if self.depth.size else np.zeros(0, dtype=np.int64)
        return tuple((d, int(n)) for d, n in enumerate(counts))

    def max_breadth(self) -> int:
        """Most users on one level of one tree."""
        if not self.depth.size:
            return 0
        key = self.root * (self.max_depth + 1) + self.depth
        return int(np.unique(key[self.depth > 0], return_counts=True)[1].max(initial=0))


def _jump_closure(nxt: I64, rounds: int) -> I64:
    out = nxt.copy()
    for _ in range(rounds):
        out = out[out]
    return out


def referral_forest(invitee: Sequence[str] | npt.ArrayLike, referrer: Sequence[str] | npt.ArrayLike) -> ReferralForest:
    """Build the forest of referral pairs (one row per invitee; later rows for the same invitee are ignored).

    Pointer doubling, so a forest of millions of users costs ``O(n log n)``
    array operations; self-referrals are dropped.

    Examples
    --------
    >>> f = referral_forest(["b", "c", "d"], ["a", "a", "b"])
    >>> list(f.user_ids), f.depth.tolist(), f.descendants.tolist()
    (['a', 'b', 'c', 'd'], [0, 1, 1, 2], [3, 1, 0, 0])
    """
    inv = np.asarray(invitee, dtype=object).astype(str)
    ref = np.asarray(referrer, dtype=object).astype(str)
    keep = inv != ref
    inv, ref = inv[keep], ref[keep]
    ids = np.unique(np.concatenate([inv, ref])) if inv.size else np.array([], dtype=str)
    n = ids.shape[0]
    i, r = np.searchsorted(ids, inv), np.searchsorted(ids, ref)
    _, first = np.unique(i, return_index=True)
    parent = np.full(n, -1, dtype=np.int64)
    parent[i[first]] = r[first]
    rounds = max(1, int(np.ceil(np.log2(max(n, 2)))) + 1)
    self_idx = np.arange(n, dtype=np.int64)
    while True:
        nxt = np.where(parent >= 0, parent, self_idx)
        top = _jump_closure(nxt, rounds)
        stuck = parent[top] >= 0  # never reached a root: on or below a cycle
        if not stuck.any():
            break
        low, jump = self_idx.copy(), nxt.copy()
        for _ in range(rounds):
            low = np.minimum(low, low[jump])
            jump = jump[jump]
        on_cycle = np.unique(top[stuck])
        parent[on_cycle[low[on_cycle] == on_cycle]] = -1
    depth = (parent >= 0).astype(np.int64)
    hop = np.where(parent >= 0, parent, self_idx)
    for _ in range(rounds):
        depth = depth + depth[hop]
        hop = hop[hop]
    direct = np.bincount(parent[parent >= 0], minlength=n).astype(np.int64)
    descendants = np.zeros(n, dtype=np.int64)
    for d in range(int(depth.max(initial=0)), 0, -1):
        at = np.flatnonzero(depth == d)
        np.add.at(descendants, parent[at], 1 + descendants[at])
    return ReferralForest(np.asarray(ids, dtype=object), parent, depth, top, direct, descendants)


@dataclass(frozen=True)
class ReferralTrees:
    """The referral forest, summed up."""

    referred_users: int
    trees: int
    max_depth: int
    by_depth: tuple[tuple[int, int], ...]
    """``(depth, users)``, depth 0 being the roots."""
    max_breadth: int
    mean_direct: float | None
    """Mean invitees per referrer."""
    top_referrers: tuple[tuple[str, int, int], ...]
    """``(user_id, direct invitees, all descendants)`` of the ten users with the most descendants
    (ties: more direct invitees first, then by id)."""


def forest_as_of(events: ir.Table, users: ir.Table, edges: ir.Table, date_range: DateRange) -> ReferralForest:
    """The forest of the referral pairs whose invitee signed up before the range ends."""
    pairs = referral_pairs(events, users, edges)
    pairs = pairs.filter(pairs.invitee_signup < ibis.literal(date_range.end_ts))
    df = pairs.select("invitee", "referrer").execute()
    return referral_forest(df["invitee"].astype(str).to_numpy(), df["referrer"].astype(str).to_numpy())


def summarize_forest(forest: ReferralForest) -> ReferralTrees:
    """Counts, depth profile, breadth and the biggest referrers of a forest."""
    referrers = forest.direct > 0
    order = np.lexsort((forest.user_ids.astype(str), -forest.direct, -forest.descendants))[:10]
    top = tuple(
        (str(forest.user_ids[i]), int(forest.direct[i]), int(forest.descendants[i]))
        for i in order
        if forest.descendants[i] > 0
    )
    return ReferralTrees(
        referred_users=int((forest.parent >= 0).sum()),
        trees=int((forest.parent < 0).sum()),
        max_depth=forest.max_depth,
        by_depth=forest.by_depth(),
        max_breadth=forest.max_breadth(),
        mean_direct=float(forest.direct[referrers].mean()) if referrers.any() else None,
        top_referrers=top,
    )
