"""No leakage: rows at or after the cutoff never change the feature table (property-based)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from growthkit.config import Settings
from growthkit.features import build_user_features
from growthkit.schema import EVENT_TYPES
from growthkit.store import Store, open_store
from growthkit.text.embed import TfidfEmbedder

CUTOFF = datetime(2025, 3, 1)
USER_POOL = ["ann", "bob", "cat", "dan", "eve", "new1", "new2"]
EVENT_COLS = (
    "event_id", "user_id", "ts", "event_type", "item_id", "session_id", "quantity", "amount", "query", "channel",
    "properties",
)  # fmt: skip
PROPS = [None, '{"coupon_id": "c9"}', '{"promotion": "p"}', '{"invitee": "bob"}', '{"discount": 0.1}']


def _row(ts: datetime, draw: Any) -> tuple[Any, ...]:
    return (
        None,  # event id set by the caller
        draw(st.sampled_from(USER_POOL)),
        ts.isoformat(sep=" "),
        draw(st.sampled_from([*EVENT_TYPES, "wishlist"])),
        draw(st.sampled_from([None, "i1", "i2", "i3", "i9"])),
        draw(st.sampled_from([None, "s1", "s2", "zz"])),
        draw(st.sampled_from([None, 1, 3])),
        draw(st.sampled_from([None, 5.0, 120.5])),
        draw(st.sampled_from([None, "red shoes", "蓝色 裙子", "cheap tea"])),
        draw(st.sampled_from([None, "ads", "tiktok"])),
        draw(st.sampled_from(PROPS)),
    )


@st.composite
def event_rows(draw: Any, *, after: bool, max_size: int) -> list[tuple[Any, ...]]:
    n = draw(st.integers(0 if not after else 1, max_size))
    rows = []
    for _ in range(n):
        secs = draw(st.one_of(st.just(0), st.integers(0, 120 * 86_400)))
        ts = CUTOFF + timedelta(seconds=secs) if after else CUTOFF - timedelta(seconds=max(secs, 1))
        rows.append(_row(ts, draw))
    return rows


@st.composite
def later_rows(draw: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Rows of every table at or after the cutoff (new users only sign up then)."""

    def later() -> str:
        return (CUTOFF + timedelta(seconds=draw(st.integers(0, 60 * 86_400)))).isoformat(sep=" ")

    users = [(u, later(), draw(st.sampled_from([None, "ads", "organic"]))) for u in ("new1", "new2")]
    reviews = [
        (f"rl{i}", draw(st.sampled_from(USER_POOL)), "i1", later(), draw(st.sampled_from([1, 5])), "late text")
        for i in range(draw(st.integers(0, 3)))
    ]
    edges = [
        (f"el{i}", draw(st.sampled_from(USER_POOL)), draw(st.sampled_from(USER_POOL)), "referral", later())
        for i in range(draw(st.integers(0, 3)))
    ]
    return {"events": draw(event_rows(after=True, max_size=12)), "users": users, "reviews": reviews, "edges": edges}


def _with_ids(rows: list[tuple[Any, ...]], prefix: str) -> list[tuple[Any, ...]]:
    return [(f"{prefix}{i}", *r[1:]) for i, r in enumerate(rows)]


def _build(store: Store) -> pd.DataFrame:
    return build_user_features(store, CUTOFF, embedder=TfidfEmbedder(dim=8), text_components=3)


@settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=event_rows(after=False, max_size=12), later=later_rows())
def test_rows_at_or_after_the_cutoff_change_nothing(
    before: list[tuple[Any, ...]],
    later: dict[str, list[tuple[Any, ...]]],
    insert: Callable[..., None],
    loader: Callable[[Store], None],
) -> None:
    with open_store(Settings(db=":memory:")) as store:
        loader(store)
        insert(store, "events", EVENT_COLS, _with_ids(before, "pb"))
        first = _build(store)
        insert(store, "events", EVENT_COLS, _with_ids(later["events"], "pl"))
        insert(store, "users", ("user_id", "signup_ts", "channel"), later["users"])
        insert(store, "reviews", ("review_id", "user_id", "item_id", "ts", "rating", "text"), later["reviews"])
        insert(store, "edges", ("edge_id", "src_user", "dst_user", "kind", "ts"), later["edges"])
        second = _build(store)
    pd.testing.assert_frame_equal(first, second, check_exact=False, rtol=1e-9, atol=1e-12)
    assert np.isfinite(first.to_numpy(dtype="float64")).all()
    # the rows: the timeline's four known users plus whoever got an event before the cutoff
    known = {"ann", "bob", "dan", "eve"} | {r[1] for r in before}
    assert set(first.index) == known
