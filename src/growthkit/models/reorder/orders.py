"""Orders from purchase events, numbered per user, and the target order of every user.

An *order* is the set of items a user bought together: the ``purchase`` events (with an
``item_id``) of one ``(user_id, session_id)``; a purchase without a session is an order of its
own timestamp (every purchase at that instant). The Instacart adapter puts the order id in
``session_id``; the simulator's sessions hold at most one purchase, so there an order is one
item. Orders are numbered ``seq = 1, 2, ...`` per user by their first purchase time (ties by
the order key); the position of an item in its order's cart is ``properties.add_to_cart_order``
when the source has it (Instacart), else the rank of its first event time in the order (ties by
item id).

A *target* is one order per user: everything the features see is in that user's orders with
``seq < target_seq`` (:func:`target_orders` lists the protocols). All of it is Ibis, so it runs
where the store runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from growthkit.features._base import as_cutoff, backend, id_table, restrict
from growthkit.models.reorder._base import ReorderError
from growthkit.store.expr import json_property

TARGETS: tuple[str, ...] = ("last", "cutoff", "next")
"""``last``: each user's last order (minus ``offset``); ``cutoff``: the first order at or after a
time; ``next``: the order after the last one (scoring; no label)."""


def order_lines(
    store: Any, *, before: date | datetime | None = None, users: Iterable[str] | None = None
) -> tuple[ir.Table, ir.Table]:
    """``(orders, lines)`` of the purchases strictly before ``before`` (all when None).

    ``orders``: ``user_id, order_key, order_ts, basket, seq`` (``basket`` = distinct items).
    ``lines``: ``user_id, item_id, seq, order_ts, basket, pos`` (one row per item of an order,
    ``pos`` its cart position, 1 = first).
    """
    con = backend(store)
    ev = restrict(con.table("events"), id_table(users))
    keep = (ev.event_type == "purchase") & ev.item_id.notnull() & ev.user_id.notnull() & ev.ts.notnull()
    if before is not None:
        keep = keep & (ev.ts < ibis.literal(as_cutoff(before)))
    ev = ev.filter(keep)
    ev = ev.mutate(
        order_key=ev.session_id.fill_null(ev.ts.cast("string")),
        cart=json_property(ev.properties, "add_to_cart_order", error=ReorderError).try_cast("float64"),
    )
    orders = ev.group_by(["user_id", "order_key"]).aggregate(order_ts=ev.ts.min(), basket=ev.item_id.nunique())
    by_time = ibis.window(group_by="user_id", order_by=[orders.order_ts, orders.order_key])
    orders = orders.mutate(seq=ibis.row_number().over(by_time) + 1)
    items = ev.group_by(["user_id", "order_key", "item_id"]).aggregate(cart=ev.cart.min(), first_ts=ev.ts.min())
    in_order = ibis.window(group_by=["user_id", "order_key"], order_by=[items.first_ts, items.item_id])
    items = items.mutate(rank=ibis.row_number().over(in_order) + 1)
    j = items.join(orders, [items.user_id == orders.user_id, items.order_key == orders.order_key])
    lines = j.select(
        user_id=items.user_id,
        item_id=items.item_id,
        seq=orders.seq,
        order_ts=orders.order_ts,
        basket=orders.basket,
        pos=items.cart.fill_null(items.rank.cast("float64")),
    )
    return orders, lines


def target_orders(
    orders: ir.Table,
    how: str = "last",
    *,
    offset: int = 0,
    cutoff: date | datetime | None = None,
    until: date | datetime | None = None,
) -> ir.Table:
    """``(user_id, target_seq)``: the target order of every user who has one and at least one order before it.

    Parameters
    ----------
    orders
        The ``orders`` of :func:`order_lines`.
    how : {"last", "cutoff", "next"}
        ``last``: order ``n - offset`` of a user with ``n`` orders (``offset=1``: the
        second-to-last, the training target of the Kaggle protocol); ``cutoff``: the user's first
        order at or after ``cutoff`` (and before ``until`` when given), so the history is exactly
        the orders before ``cutoff``; ``next``: ``n + 1``, the order not placed yet (scoring).
    """
    if how not in TARGETS:
        raise ReorderError(f"the target must be one of {', '.join(TARGETS)}, not {how!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ReorderError(f"offset must be a whole number >= 0, not {offset!r}")
    if how == "cutoff":
        if cutoff is None:
            raise ReorderError("the 'cutoff' target needs a cutoff (the first order at or after it is the target)")
        cut = as_cutoff(cutoff)
        keep = orders.order_ts >= ibis.literal(cut)
        if until is not None:
            end = as_cutoff(until)
            if end <= cut:
                raise ReorderError(f"until ({end}) must be after the cutoff ({cut})")
            keep = keep & (orders.order_ts < ibis.literal(end))
        after = orders.filter(keep)
        t = after.group_by("user_id").aggregate(target_seq=after.seq.min())
    else:
        if cutoff is not None or until is not None:
            raise ReorderError(f"cutoff and until apply to the 'cutoff' target only, not to {how!r}")
        n = orders.group_by("user_id").aggregate(n=orders.seq.max())
        shift = 1 if how == "next" else -offset
        t = n.select(n.user_id, target_seq=(n.n + shift).cast("int64"))
    return t.filter(t.target_seq >= 2)
