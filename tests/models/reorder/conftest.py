"""Order histories for the reorder tests: a tiny hand-checked timeline and a planted reorder pattern."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from growthkit.config import Settings
from growthkit.store import Store, open_store

EVENT_COLS = ("event_id", "user_id", "ts", "event_type", "item_id", "session_id", "properties")


def _order(user: str, session: str | None, ts: str, items: Sequence[str], *, cart: bool = True) -> list[tuple]:
    """One order's purchase rows; ``cart``: record ``add_to_cart_order`` (1, 2, ...) as Instacart does."""
    rows = []
    for i, item in enumerate(items, start=1):
        props = json.dumps({"add_to_cart_order": i}) if cart else None
        rows.append((f"{user}:{session or ts}:{item}", user, ts, "purchase", item, session, props))
    return rows


# The hand-checked timeline. Every expected value in test_features.py is derived from these rows.
TIMELINE: list[tuple] = [
    # ann: four weekly-ish orders; o4 (2025-01-29) is her last order
    *_order("ann", "o1", "2025-01-01 10:00:00", ["milk", "eggs"]),
    *_order("ann", "o2", "2025-01-08 10:00:00", ["milk", "bread"]),
    *_order("ann", "o3", "2025-01-15 10:00:00", ["milk", "eggs", "jam"]),
    *_order("ann", "o4", "2025-01-29 10:00:00", ["milk", "bread"]),
    ("ann:view", "ann", "2025-01-20 10:00:00", "view", "caviar", "s9", None),  # a view is no purchase
    ("ann:noitem", "ann", "2025-01-21 10:00:00", "purchase", None, "o9", None),  # no item: not an order line
    # bob: his last order (b3) holds only a new item, tea
    *_order("bob", "b1", "2025-01-05 09:00:00", ["eggs"]),
    *_order("bob", "b2", "2025-01-20 09:00:00", ["eggs", "milk"]),
    *_order("bob", "b3", "2025-02-04 09:00:00", ["tea"]),
    # cy: a single order, so no past order to predict from for "last"
    *_order("cy", "c1", "2025-01-10 00:00:00", ["milk"]),
    # dan: purchases without a session and without cart positions; the two at the same instant are one order
    *_order("dan", None, "2025-01-03 08:00:00", ["y", "x"], cart=False),
    *_order("dan", None, "2025-01-10 00:00:00", ["x"], cart=False),
]


def insert_events(store: Store, rows: Sequence[tuple]) -> None:
    """Insert event rows ``(event_id, user_id, ts, event_type, item_id, session_id, properties)``."""
    frame = pd.DataFrame(list(rows), columns=list(EVENT_COLS))
    with store.register("_rows", frame):
        store.execute(
            f"INSERT INTO events ({', '.join(EVENT_COLS)}) SELECT event_id, user_id, CAST(ts AS TIMESTAMP), "
            "event_type, item_id, session_id, CAST(properties AS JSON) FROM _rows"
        )


@pytest.fixture
def timeline_store() -> Iterator[Store]:
    st = open_store(Settings(db=":memory:"))
    insert_events(st, TIMELINE)
    yield st
    st.close()


def planted_orders(users: int, seed: int, *, orders: int = 10) -> list[tuple]:
    """Order histories where reorders follow a known pattern that frequency alone cannot see.

    Every user has 8 regular items from a 60-item catalogue: half *alternating* (in an order with
    probability 0.9 when not in the previous one, 0.1 when it was), half *sticky* (0.9 when in the
    previous order, 0.1 when not). Both kinds are bought in about half of the orders, so the share
    of orders with the item says little; whether it was in the *last* order says nearly all. Each
    order also has one or two items bought once (noise). Orders are 3 to 9 days apart.
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    start = datetime(2025, 1, 1)
    for u in range(users):
        user = f"u{seed}_{u:04d}"
        items = [f"i{j}" for j in rng.choice(60, size=8, replace=False)]
        sticky = np.array([True] * 4 + [False] * 4)
        state = rng.random(8) < 0.5
        t = start + timedelta(days=float(rng.uniform(0, 5)))
        for o in range(orders):
            stay = np.where(sticky, 0.9, 0.1)  # P(in this order | in the previous one)
            come = np.where(sticky, 0.1, 0.9)  # P(in this order | not in the previous one)
            state = rng.random(8) < np.where(state, stay, come)
            basket = [items[j] for j in np.flatnonzero(state)]
            basket += [f"n{u}_{o}_{k}" for k in range(int(rng.integers(1, 3)))]
            rows += _order(user, f"{user}-o{o}", t.strftime("%Y-%m-%d %H:%M:%S"), basket)
            t += timedelta(days=float(rng.integers(3, 10)))
    return rows


@pytest.fixture(scope="module")
def planted_store() -> Iterator[Store]:
    """400 users with the planted pattern (seed 7)."""
    st = open_store(Settings(db=":memory:"))
    insert_events(st, planted_orders(400, 7))
    yield st
    st.close()


@pytest.fixture
def insert():  # type: ignore[no-untyped-def]
    """``insert(store, rows)``: :func:`insert_events`."""
    return insert_events


@pytest.fixture(scope="session")
def make_planted():  # type: ignore[no-untyped-def]
    """``make_planted(users, seed, orders=10) -> rows``: :func:`planted_orders`."""
    return planted_orders
