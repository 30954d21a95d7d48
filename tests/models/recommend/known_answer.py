"""The recommender known-answer case, shared by the conformance suite and the per-model tests.

Two disjoint taste groups of ten users; each user misses exactly one item of their group's six,
and two extra users make b0 and b1 the most popular items overall, so a model that ignores the
user answers a-users with b items and fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from growthkit.features.interactions import Interactions

GROUP = 6


def taste_groups() -> Interactions:
    """The case with a catalogue (for content models) and a log where each user is one session and one order."""
    rows = []
    for g in ("a", "b"):
        for u in range(10):
            skip = u % GROUP  # each user misses exactly one item of the group
            rows += [(f"{g}user{u}", f"{g}{i}") for i in range(GROUP) if i != skip]
    # Per group, items 0-3 are missed by two users (8 users each), items 4-5 by one (9).
    # Two extra users with b0 and b1 lift those to 10: the most popular items overall.
    rows += [("loner", "b0"), ("loner", "b1"), ("loner2", "b0"), ("loner2", "b1")]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id"])
    items = pd.DataFrame(
        {
            "item_id": [f"{g}{i}" for g in "ab" for i in range(GROUP)],
            "title": [f"{'tea' if g == 'a' else 'shoe'} {i}" for g in "ab" for i in range(GROUP)],
            "description": [
                f"{'green tea leaves' if g == 'a' else 'running shoe'}" for g in "ab" for _ in range(GROUP)
            ],
            "category": [f"{'Food > Tea' if g == 'a' else 'Sports > Shoes'}" for g in "ab" for _ in range(GROUP)],
            "brand": ["leafco" if g == "a" else "runco" for g in "ab" for _ in range(GROUP)],
            "price": [10.0] * (2 * GROUP),
        }
    )
    log = frame.assign(
        ts=pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(len(frame)), unit="min"),
        event_type="purchase",
        session_id=frame["user_id"],
        order_id=frame["user_id"],
    )
    return Interactions.from_frame(frame).with_context(log=log, items=items)


def assert_known_answer(model: Any) -> None:
    """Each user's missing item first; a visitor with a0, a1 gets the rest of group a; a0's neighbours are a items."""
    for g in "ab":
        for u in range(10):
            assert model.recommend(f"{g}user{u}", k=1).items_of(f"{g}user{u}") == [f"{g}{u % GROUP}"]
    assert set(model.recommend_from_items(["a0", "a1"], k=4).items_of("anonymous")) == {"a2", "a3", "a4", "a5"}
    assert all(i.startswith("a") for i in model.similar_items("a0", k=3).items_of("a0"))
