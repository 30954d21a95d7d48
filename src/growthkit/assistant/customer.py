"""The signed-in customer's own orders, read with the user id bound in the SQL.

This is the only place the assistant reads ``events``. :meth:`CustomerContext.load`
runs one parameterised query, ``... WHERE e.user_id = ?``, with the authenticated user
id as the parameter, so rows of other customers never leave the database: not into
Python, not into a prompt, not into an answer. Nothing else in the assistant takes a
user id from the question.

Orders follow the data contract's convention (see the ``instacart`` and
``online_retail`` adapters): the ``purchase`` events of one order share a
``session_id``; ``properties.order_id`` names the order when the source has one; a
purchase without either is an order of its own (its ``event_id``). ``refund`` events are
linked to the customer's latest earlier order of the same item.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from growthkit.store import Store

ORDER_SQL = """
SELECT e.event_id, e.ts, e.event_type, e.item_id, e.session_id, e.quantity, e.amount, e.currency,
       json_extract_string(e.properties, '$.order_id') AS order_prop,
       json_extract_string(e.properties, '$.reason') AS reason,
       i.title
FROM events e LEFT JOIN items i ON i.item_id = e.item_id
WHERE e.user_id = ? AND e.event_type IN ('purchase', 'refund')
ORDER BY e.ts, e.event_id
"""
"""The one query for a customer's orders and refunds: the user id is its only parameter."""


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


@dataclass(frozen=True)
class OrderLine:
    """One purchased item of an order."""

    item_id: str | None
    title: str | None
    quantity: float | None
    amount: float | None


@dataclass(frozen=True)
class Order:
    """One order of the customer: its id, time (UTC), lines and currency."""

    order_id: str
    ts: datetime
    lines: tuple[OrderLine, ...]
    currency: str | None

    @property
    def day(self) -> date:
        """The UTC day the order was placed."""
        return self.ts.date()

    @property
    def total(self) -> float:
        """Sum of the lines' amounts (cents, half up)."""
        return round(sum(line.amount or 0.0 for line in self.lines) + 1e-9, 2)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(line.item_id for line in self.lines if line.item_id)


@dataclass(frozen=True)
class Refund:
    """One refund of the customer, with the order it most likely belongs to."""

    ts: datetime
    item_id: str | None
    title: str | None
    quantity: float | None
    amount: float | None
    reason: str | None
    order_id: str | None

    @property
    def day(self) -> date:
        return self.ts.date()


@dataclass(frozen=True)
class CustomerContext:
    """Everything the assistant may know about one customer: their orders and refunds, oldest first.

    Build it only with :meth:`load`.
    """

    user_id: str
    orders: tuple[Order, ...]
    refunds: tuple[Refund, ...]
    currency: str | None = None

    @classmethod
    def load(cls, store: Store, user_id: str) -> CustomerContext:
        """The orders and refunds of ``user_id``, read with the id as the query's only parameter.

        Examples
        --------
        >>> from growthkit.config import Settings
        >>> from growthkit.store import open_store
        >>> st = open_store(Settings(db=":memory:"))
        >>> st.execute("INSERT INTO events (event_id, user_id, ts, event_type, item_id, session_id, amount) VALUES "
        ...            "('e1', 'ann', '2025-01-02 10:00', 'purchase', 'i1', 's1', 20), "
        ...            "('e2', 'ann', '2025-01-02 10:00', 'purchase', 'i2', 's1', 5.5), "
        ...            "('e3', 'bob', '2025-01-03 10:00', 'purchase', 'i1', 's9', 99)")
        >>> ctx = CustomerContext.load(st, "ann")
        >>> [(o.order_id, o.total, o.item_ids) for o in ctx.orders]
        [('s1', 25.5, ('i1', 'i2'))]
        """
        rows = store.query(ORDER_SQL, [user_id]).to_pylist()
        orders: dict[str, list[dict[str, Any]]] = {}
        refunds: list[dict[str, Any]] = []
        currency: str | None = None
        for r in rows:
            currency = currency or r.get("currency")
            if r["event_type"] == "purchase":
                oid = str(r.get("order_prop") or r.get("session_id") or r["event_id"])
                orders.setdefault(oid, []).append(r)
            else:
                refunds.append(r)
        built = [
            Order(
                order_id=oid,
                ts=_naive(lines[0]["ts"]),
                lines=tuple(
                    OrderLine(x.get("item_id"), x.get("title"), _num(x.get("quantity")), _num(x.get("amount")))
                    for x in lines
                ),
                currency=next((x["currency"] for x in lines if x.get("currency")), None),
            )
            for oid, lines in orders.items()
        ]
        built.sort(key=lambda o: (o.ts, o.order_id))
        refs = tuple(
            Refund(
                ts=_naive(r["ts"]),
                item_id=r.get("item_id"),
                title=r.get("title"),
                quantity=_num(r.get("quantity")),
                amount=_num(r.get("amount")),
                reason=r.get("reason"),
                order_id=_order_of(built, r.get("item_id"), _naive(r["ts"])),
            )
            for r in refunds
        )
        return cls(user_id=user_id, orders=tuple(built), refunds=refs, currency=currency)

    @property
    def last_order(self) -> Order | None:
        return self.orders[-1] if self.orders else None

    @property
    def total_spent(self) -> float:
        """Sum of all order totals (before refunds)."""
        return round(sum(o.total for o in self.orders) + 1e-9, 2)

    @property
    def total_refunded(self) -> float:
        return round(sum(r.amount or 0.0 for r in self.refunds) + 1e-9, 2)

    def order(self, order_id: str) -> Order | None:
        """The customer's order ``order_id`` (case-insensitive), or None when it is not theirs."""
        want = order_id.strip().lower()
        return next((o for o in self.orders if o.order_id.lower() == want), None)

    def orders_with(self, item_id: str) -> tuple[Order, ...]:
        """The customer's orders that contain ``item_id``, oldest first."""
        return tuple(o for o in self.orders if item_id in o.item_ids)


def _naive(ts: Any) -> datetime:
    if isinstance(ts, datetime):
        return ts.replace(tzinfo=None) if ts.tzinfo is not None else ts
    return datetime.fromisoformat(str(ts))


def _order_of(orders: list[Order], item_id: str | None, ts: datetime) -> str | None:
    if not item_id:
        return None
    before = [o for o in orders if o.ts <= ts and item_id in o.item_ids]
    return before[-1].order_id if before else None
