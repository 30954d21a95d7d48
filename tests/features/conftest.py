"""Fixtures for the feature tests: insert rows into the canonical tables of an in-memory store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from growthkit.config import Settings
from growthkit.store import Store, open_store

Loader = Callable[[Store, str, Sequence[str], Sequence[Sequence[Any]]], None]


def _sql(v: object) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        return repr(float(v))
    return "'" + str(v).replace("'", "''") + "'"


def insert_rows(store: Store, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """``INSERT INTO table (columns) VALUES rows`` (nothing when ``rows`` is empty)."""
    if not rows:
        return
    values = ", ".join("(" + ", ".join(_sql(v) for v in r) + ")" for r in rows)
    store.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}")


@pytest.fixture
def insert() -> Loader:
    """``insert(store, table, columns, rows)``."""
    return insert_rows


@pytest.fixture
def mem_store() -> Iterator[Store]:
    st = open_store(Settings(db=":memory:"))
    yield st
    st.close()


# ----------------------------------------------------------------- the hand-checked timeline
# Cutoff 2025-03-01 00:00 UTC. Every expected value in test_users.py is derived from these rows.

USERS_COLS = ("user_id", "signup_ts", "channel")
USERS = [
    ("ann", "2025-01-01 00:00:00", "ads"),
    ("bob", None, None),  # known from events only; channel from the earliest event with one
    ("cat", "2025-03-01 00:00:00", "ads"),  # signs up exactly at the cutoff, one event at it: not known
    ("dan", "2025-02-20 12:00:00", "organic"),  # no events at all
    ("eve", "2025-04-01 00:00:00", "social"),  # signup after the cutoff, but an event before it
    ("gus", None, "ads"),  # no signup time, no events: nothing places gus before the cutoff
]

EVENT_COLS = (
    "event_id", "user_id", "ts", "event_type", "item_id", "session_id", "quantity", "amount", "query", "channel",
    "properties",
)  # fmt: skip
EVENTS = [
    ("a1", "ann", "2025-01-01 00:00:00", "signup", None, None, None, None, None, "ads", None),
    ("a2", "ann", "2025-01-10 10:00:00", "view", "i1", "s1", None, None, None, None, None),
    ("a3", "ann", "2025-01-10 10:05:00", "purchase", "i1", "s1", 2, 100.0, None, None, '{"coupon_id": "c1"}'),
    ("a4", "ann", "2025-01-20 00:00:00", "refund", "i1", None, 1, 40.0, None, None, None),
    ("a5", "ann", "2025-02-10 12:00:00", "search", None, "s2", None, None, "red shoes", None, None),
    ("a6", "ann", "2025-02-10 12:10:00", "cart", "i2", "s2", 1, 30.0, None, None, None),
    (
        "a7",
        "ann",
        "2025-02-22 00:00:00",
        "coupon_received",
        None,
        None,
        None,
        None,
        None,
        "email",
        '{"coupon_id": "c2"}',
    ),
    ("a8", "ann", "2025-02-25 00:00:00", "purchase", "i2", "s3", None, 30.0, None, None, '{"promotion": "spring"}'),
    ("a12", "ann", "2025-02-28 10:00:00", "view", "i3", "s4", None, None, None, None, None),
    ("a9", "ann", "2025-02-28 23:59:59", "share", "i3", None, None, None, None, None, '{"to": "bob"}'),
    ("a10", "ann", "2025-03-01 00:00:00", "purchase", "i1", "s5", 1, 500.0, None, None, None),  # at the cutoff
    ("a11", "ann", "2025-03-05 00:00:00", "view", "i1", "s6", None, None, None, None, None),
    ("b1", "bob", "2025-02-01 08:00:00", "view", "i9", None, None, None, None, None, None),
    ("b2", "bob", "2025-02-01 08:20:00", "view", None, None, None, None, None, "social", None),
    ("b4", "bob", "2025-02-01 08:20:00", "search", None, None, None, None, "Running Shoes", "ads", None),
    ("b3", "bob", "2025-02-01 09:00:00", "view", None, None, None, None, None, "email", None),
    ("b5", "bob", "2025-03-02 00:00:00", "purchase", "i1", None, 1, 10.0, None, None, None),
    ("c1", "cat", "2025-03-01 00:00:00", "view", "i1", None, None, None, None, "ads", None),
    ("e1", "eve", "2025-02-27 00:00:00", "view", "i3", "e-s1", None, None, None, None, None),
    ("e2", "eve", "2025-03-10 00:00:00", "purchase", "i3", "e-s2", 1, 20.0, None, None, None),
]

ITEMS_COLS = ("item_id", "category", "price")
ITEMS = [
    ("i1", "Shoes > Running", 50.0),
    ("i2", "Shoes > Casual", 30.0),
    ("i3", "Beauty", 10.0),
]

REVIEW_COLS = ("review_id", "user_id", "item_id", "ts", "rating", "text")
REVIEWS = [
    ("r1", "ann", "i1", "2025-02-01 00:00:00", 5, "很好 quality"),
    ("r2", "ann", "i2", "2025-03-02 00:00:00", 1, "terrible"),  # after the cutoff
    ("r3", "bob", "i9", "2025-02-15 00:00:00", 2, "too small"),
    ("r4", "bob", "i9", "2025-02-16 00:00:00", None, "ok"),  # no rating: counted, not in the mean
]

EDGE_COLS = ("edge_id", "src_user", "dst_user", "kind", "ts")
EDGES = [
    ("x1", "ann", "bob", "referral", "2025-01-15 00:00:00"),
    ("x2", "ann", "dan", "friend", "2025-03-01 00:00:00"),  # at the cutoff
    ("x3", "ann", "eve", "follow", None),  # no time: cannot be placed before the cutoff
]


def load_timeline(store: Store) -> None:
    insert_rows(store, "users", USERS_COLS, USERS)
    insert_rows(store, "events", EVENT_COLS, EVENTS)
    insert_rows(store, "items", ITEMS_COLS, ITEMS)
    insert_rows(store, "reviews", REVIEW_COLS, REVIEWS)
    insert_rows(store, "edges", EDGE_COLS, EDGES)


@pytest.fixture
def shop(mem_store: Store) -> Store:
    """The hand-checked timeline in an in-memory store."""
    load_timeline(mem_store)
    return mem_store


@pytest.fixture
def loader() -> Callable[[Store], None]:
    """``loader(store)`` loads the hand-checked timeline (for tests that make their own stores)."""
    return load_timeline
