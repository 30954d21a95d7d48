"""Point-in-time features of (user, item) pairs: will the user buy this item again in the target order?

The candidates of a user are the items bought in the user's *history*: the orders before the
target order (:func:`~growthkit.models.reorder.orders.target_orders`). Every feature is built from
the history lines only, for every user up to that user's own target; the target order itself
gives only the label (1 = the item is in it). Product-level features pool the history lines of
all users in the table, so no user's target order enters any feature (tested by changing the
target orders: the features do not move).

The aggregates are Ibis expressions (one scan of the purchase events, window functions for the
order numbers and the runs), executed once; only per-row arithmetic happens in pandas. Every
value is finite: each column states its rule for the undefined case.

Instacart's competition features (Kaggle 2017) are the inspiration: how often and how
recently the user bought the item, how popular and how often reordered the item is, how
regular the user is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthkit.features._base import DAY_S, seconds
from growthkit.models.reorder._base import ITEM, USER, ReorderError
from growthkit.models.reorder.orders import order_lines, target_orders

log = logging.getLogger(__name__)

FEATURES: dict[str, str] = {
    "up_orders": "history orders containing the item (times bought)",
    "up_order_share": "up_orders / u_orders: share of the user's history orders with the item",
    "up_share_since_first": "up_orders / history orders since (and with) the first one with the item",
    "up_orders_since_first": "history orders since (and with) the first one with the item",
    "up_orders_since_last": "history orders after the last one with the item (0: it is in the last order)",
    "up_days_since_last": "days from the last order with the item to the user's last history order",
    "up_streak": "consecutive most recent history orders with the item (0: not in the last order)",
    "up_last3": "how many of the last 3 history orders have the item",
    "up_mean_gap_orders": "mean orders between two purchases of the item (0 when bought once)",
    "up_mean_gap_days": "mean days between two purchases of the item (0 when bought once)",
    "up_mean_cart_pos": "mean position of the item in its orders' carts (1 = added first)",
    "up_mean_cart_share": "mean cart position / basket size (near 0: added early)",
    "u_orders": "the user's history orders",
    "u_items": "distinct items in the user's history (the candidates)",
    "u_mean_basket": "mean distinct items per history order",
    "u_last_basket": "distinct items in the last history order",
    "u_reorder_rate": "share of the user's history lines that repeat an item bought in an earlier order",
    "u_mean_gap_days": "mean days between the user's history orders (0 with one order)",
    "u_last_gap_days": "days between the last two history orders (0 with one order)",
    "p_lines": "history lines of the item over all users of the table (popularity)",
    "p_users": "users of the table who bought the item in their history",
    "p_reorder_rate": "share of the item's history lines that are repeats: (p_lines - p_users) / p_lines",
    "p_repeat_share": "share of the item's buyers who bought it in two or more history orders",
    "p_mean_cart_share": "mean cart position / basket size of the item over all history lines",
}
"""Every column of :attr:`PairTable.x`, in order, with its meaning and its rule for the undefined case."""

FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)


@dataclass(frozen=True)
class PairTable:
    """Candidate pairs of one target per user: features, labels and the users' targets.

    ``x``: :data:`FEATURES` indexed by ``(user_id, item_id)``, sorted. ``y``: 1 when the item is
    in the user's target order (None for the ``next`` target, which has not happened).
    ``users``: per user (index ``user_id``) ``target_seq``, ``history_orders``, ``mean_basket``
    and, with labels, ``target_size`` (distinct items of the target order) and
    ``target_reorders`` (those of them bought before: the positives).
    """

    x: pd.DataFrame
    y: pd.Series | None
    users: pd.DataFrame
    target: str

    @property
    def n_pairs(self) -> int:
        """Number of candidate pairs."""
        return len(self.x)

    def subset(self, users: Iterable[str]) -> PairTable:
        """The pairs of ``users`` only (their order kept)."""
        keep = pd.Index([str(u) for u in users])
        mask = self.x.index.get_level_values(USER).isin(keep)
        y = self.y[mask] if self.y is not None else None
        return replace(self, x=self.x[mask], y=y, users=self.users[self.users.index.isin(keep)])


def _history(lines: ir.Table, orders: ir.Table, targets: ir.Table) -> tuple[ir.Table, ir.Table]:
    """History lines and history orders: ``seq < target_seq`` of their user."""
    hl = lines.join(targets, "user_id")
    ho = orders.join(targets, "user_id")
    return hl.filter(hl.seq < hl.target_seq), ho.filter(ho.seq < ho.target_seq)


def _pair_expr(hist: ir.Table) -> ir.Table:
    """Per (user, item): counts, first/last order, last times, cart position, streak."""
    h = hist.mutate(sec=seconds(hist.order_ts), share=hist.pos / hist.basket)
    pairs = h.group_by(["user_id", "item_id"]).aggregate(
        n=h.count(),
        first_seq=h.seq.min(),
        last_seq=h.seq.max(),
        first_s=h.sec.min(),
        last_s=h.sec.max(),
        pos=h.pos.mean(),
        share=h.share.mean(),
        last3=h.count(where=h.seq >= h.target_seq - 3),
    )
    # runs of consecutive orders: seq - (rank among the pair's orders) is constant inside a run
    run = ibis.window(group_by=["user_id", "item_id"], order_by=h.seq)
    r = h.mutate(grp=h.seq - ibis.row_number().over(run))
    runs = r.group_by(["user_id", "item_id", "grp"]).aggregate(
        length=r.count(), end=r.seq.max(), target_seq=r.target_seq.max()
    )
    last_run = runs.filter(runs.end == runs.target_seq - 1).select("user_id", "item_id", streak=runs.length)
    j = pairs.left_join(last_run, [pairs.user_id == last_run.user_id, pairs.item_id == last_run.item_id])
    return j.select(*[pairs[c] for c in pairs.columns], streak=last_run.streak.fill_null(0))


def _user_expr(ho: ir.Table) -> ir.Table:
    last = ho.seq == ho.target_seq - 1
    before_last = ho.seq == ho.target_seq - 2
    sec = seconds(ho.order_ts)
    return ho.group_by("user_id").aggregate(
        target_seq=ho.target_seq.max(),
        u_orders=ho.count(),
        u_lines=ho.basket.sum(),
        u_mean_basket=ho.basket.mean(),
        u_last_basket=ho.basket.max(where=last),
        u_first_s=sec.min(),
        u_last_s=sec.max(where=last),
        u_prev_s=sec.max(where=before_last),
    )


def _product_expr(hist: ir.Table, pairs: ir.Table) -> ir.Table:
    a = hist.group_by("item_id").aggregate(p_lines=hist.count(), p_share=(hist.pos / hist.basket).mean())
    b = pairs.group_by("item_id").aggregate(p_users=pairs.count(), p_repeaters=pairs.count(where=pairs.n >= 2))
    j = a.join(b, "item_id")
    return j.select("item_id", "p_lines", "p_share", "p_users", "p_repeaters")


def _target_expr(lines: ir.Table, targets: ir.Table) -> ir.Table:
    tl = lines.join(targets, "user_id")
    return tl.filter(tl.seq == tl.target_seq).select("user_id", "item_id")


def build_pair_features(
    store: Any,
    target: str = "last",
    *,
    offset: int = 0,
    cutoff: date | datetime | None = None,
    until: date | datetime | None = None,
    before: date | datetime | None = None,
    users: Iterable[str] | None = None,
) -> PairTable:
    """The candidate pairs of every user's target order, with their point-in-time features and labels.

    Parameters
    ----------
    store : Store or Ibis backend
        The shop (purchase events with an ``item_id``).
    target, offset, cutoff, until
        Which order of each user is the target (:func:`~growthkit.models.reorder.orders.target_orders`):
        ``last`` (``offset=1``: the second-to-last), ``cutoff`` (the first order at or after
        ``cutoff``, before ``until``), ``next`` (not placed yet: no labels).
    before : date or datetime, optional
        Ignore every purchase at or after this time (score or evaluate "as of" a day).
    users : iterable of str, optional
        Only these users (product features then pool only their histories).

    Returns
    -------
    PairTable

    Raises
    ------
    ReorderError
        A bad target, or no user with an order before the target (nothing to predict).

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO events (event_id, user_id, ts, event_type, item_id, session_id) VALUES "
    ...               "('1', 'ann', '2025-03-01', 'purchase', 'milk', 'o1'), "
    ...               "('2', 'ann', '2025-03-01', 'purchase', 'eggs', 'o1'), "
    ...               "('3', 'ann', '2025-03-08', 'purchase', 'milk', 'o2')")
    >>> t = build_pair_features(store)
    >>> t.x["up_orders"].to_dict()
    {('ann', 'eggs'): 1, ('ann', 'milk'): 1}
    >>> t.y.tolist()  # milk is in ann's last order, eggs not
    [0, 1]
    """
    orders, lines = order_lines(store, before=before, users=users)
    targets = target_orders(orders, target, offset=offset, cutoff=cutoff, until=until)
    hist, ho = _history(lines, orders, targets)
    pairs = _pair_expr(hist)
    prod = _product_expr(hist, pairs)
    user = _user_expr(ho)
    j = pairs.join(prod, "item_id")
    expr = j.join(user, "user_id")
    labelled = target != "next"
    if labelled:
        tgt = _target_expr(lines, targets).mutate(label=ibis.literal(1, type="int64"))
        jj = expr.left_join(tgt, [expr.user_id == tgt.user_id, expr.item_id == tgt.item_id])
        expr = jj.select(*[expr[c] for c in expr.columns], label=tgt.label.fill_null(0))
    raw = expr.execute()
    if raw.empty:
        raise ReorderError(_why_empty(orders, target))
    raw[USER], raw[ITEM] = raw[USER].astype(str), raw[ITEM].astype(str)
    raw = raw.set_index([USER, ITEM]).sort_index()
    x = _finish(raw)
    users_frame = _users_frame(raw, x, labelled, _target_sizes(lines, targets) if labelled else None)
    y = raw["label"].astype("int64").rename("label") if labelled else None
    log.info("built %d candidate pairs of %d users (target %s)", len(x), len(users_frame), target)
    return PairTable(x=x, y=y, users=users_frame, target=target)


def _why_empty(orders: ir.Table, target: str) -> str:
    """The message for an empty pair table: no purchases with items at all, or no user with a history."""
    if int(orders.count().execute()) == 0:
        return (
            "the store has no purchase events with an item_id (before the given time): reorder prediction needs "
            "product ids in the orders (CDNOW, for one, records only amounts)"
        )
    return (
        f"no user has an order before the {target!r} target order, so there is nothing to predict: 'last' needs "
        "users with two orders or more (three for offset=1), 'cutoff' users with orders before and after the cutoff"
    )


def _finish(raw: pd.DataFrame) -> pd.DataFrame:
    """The feature columns from the raw aggregates (vectorised; every undefined case filled)."""
    f = pd.DataFrame(index=raw.index)
    num = raw.astype({c: "float64" for c in raw.columns if c != "label"})
    u_orders = num["u_orders"]
    n = num["n"]
    since_first = u_orders - num["first_seq"] + 1.0
    once = n <= 1
    f["up_orders"] = raw["n"].astype("int64")
    f["up_order_share"] = n / u_orders
    f["up_share_since_first"] = n / since_first
    f["up_orders_since_first"] = since_first
    f["up_orders_since_last"] = u_orders - num["last_seq"]
    f["up_days_since_last"] = (num["u_last_s"] - num["last_s"]) / DAY_S
    f["up_streak"] = raw["streak"].astype("int64")
    f["up_last3"] = raw["last3"].astype("int64")
    f["up_mean_gap_orders"] = np.where(once, 0.0, (num["last_seq"] - num["first_seq"]) / (n - 1.0).clip(lower=1.0))
    f["up_mean_gap_days"] = np.where(once, 0.0, (num["last_s"] - num["first_s"]) / DAY_S / (n - 1.0).clip(lower=1.0))
    f["up_mean_cart_pos"] = num["pos"]
    f["up_mean_cart_share"] = num["share"]
    users = raw.groupby(level=USER, sort=False)["n"].transform("size").astype("int64")
    f["u_orders"] = raw["u_orders"].astype("int64")
    f["u_items"] = users
    f["u_mean_basket"] = num["u_mean_basket"]
    f["u_last_basket"] = num["u_last_basket"].fillna(0.0)
    f["u_reorder_rate"] = (num["u_lines"] - users) / num["u_lines"]
    multi = u_orders > 1
    f["u_mean_gap_days"] = np.where(
        multi, (num["u_last_s"] - num["u_first_s"]) / DAY_S / (u_orders - 1.0).clip(lower=1.0), 0.0
    )
    f["u_last_gap_days"] = np.where(multi, (num["u_last_s"] - num["u_prev_s"].fillna(num["u_last_s"])) / DAY_S, 0.0)
    f["p_lines"] = raw["p_lines"].astype("int64")
    f["p_users"] = raw["p_users"].astype("int64")
    f["p_reorder_rate"] = (num["p_lines"] - num["p_users"]) / num["p_lines"]
    f["p_repeat_share"] = num["p_repeaters"] / num["p_users"]
    f["p_mean_cart_share"] = num["p_share"]
    return f[list(FEATURE_NAMES)]


def _target_sizes(lines: ir.Table, targets: ir.Table) -> pd.DataFrame:
    t = _target_expr(lines, targets)
    out: pd.DataFrame = t.group_by("user_id").aggregate(target_size=t.count()).execute()
    return out.assign(user_id=out["user_id"].astype(str)).set_index("user_id")


def _users_frame(raw: pd.DataFrame, x: pd.DataFrame, labelled: bool, sizes: pd.DataFrame | None) -> pd.DataFrame:
    g = raw.groupby(level=USER, sort=True)
    out = pd.DataFrame(
        {
            "target_seq": g["target_seq"].first().astype("int64"),
            "history_orders": g["u_orders"].first().astype("int64"),
            "mean_basket": g["u_mean_basket"].first().astype("float64"),
            "candidates": g.size().astype("int64"),
        }
    )
    if labelled and sizes is not None:
        out["target_size"] = sizes["target_size"].reindex(out.index).fillna(0).astype("int64")
        out["target_reorders"] = g["label"].sum().astype("int64")
    out.index.name = USER
    return out
