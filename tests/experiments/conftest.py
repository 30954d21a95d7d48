"""A tiny, hand-checked experiment timeline in a real DuckDB store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pyarrow as pa
import pytest

from growthkit.config import Settings
from growthkit.experiments.assignment import Experiment
from growthkit.experiments.exposures import record_exposure_rows
from growthkit.store import DuckDBStore, open_store

EXP = Experiment("exp", ("control", "B"))

# Exposures (first exposure t0 per user). u5 has events but was never exposed.
EXPOSURES = [
    ("control", "u1", datetime(2025, 1, 10)),
    ("control", "u2", datetime(2025, 1, 11, 12)),
    ("B", "u3", datetime(2025, 1, 10)),
    ("B", "u4", datetime(2025, 1, 20)),
]

# (event_id, user, ts, type, amount, session). Why each row matters, with the 14-day window
# [t0, t0 + 14 d) and the 14-day covariate window [t0 - 14 d, t0):
EVENTS = [
    ("e1", "u1", datetime(2025, 1, 5, 10), "purchase", 100.0, "u1-a"),  # pre-period: covariate only
    ("e2", "u1", datetime(2025, 1, 10), "purchase", 30.0, "u1-b"),  # exactly at t0: counts
    ("e3", "u1", datetime(2025, 1, 10), "view", None, "u1-b"),  # at t0, same session
    ("e4", "u1", datetime(2025, 1, 12, 9), "refund", 10.0, None),  # refund: -10, no session
    ("e5", "u1", datetime(2025, 1, 17, 8), "view", None, "u1-c"),  # day 7 after t0: retained
    ("e6", "u1", datetime(2025, 1, 24), "purchase", 50.0, "u1-d"),  # exactly at window end: excluded
    ("e7", "u3", datetime(2024, 12, 26, 23), "purchase", 25.0, "u3-0"),  # before t0 - 14 d: nowhere
    ("e8", "u3", datetime(2025, 1, 15), "view", None, "u3-a"),
    ("e9", "u3", datetime(2025, 1, 15, 0, 5), "purchase", 60.0, "u3-a"),
    ("e10", "u3", datetime(2025, 1, 23, 23, 59, 59), "purchase", 40.0, "u3-b"),  # last second of window
    ("e11", "u4", datetime(2025, 1, 19, 12), "purchase", 10.0, "u4-a"),  # pre-period of u4
    ("e12", "u4", datetime(2025, 1, 21), "purchase", 5.0, "u4-b"),
    ("e13", "u4", datetime(2025, 1, 27, 23, 59, 59), "view", None, "u4-c"),  # day 7 of u4
    ("e14", "u5", datetime(2025, 1, 15), "purchase", 1000.0, "u5-a"),  # never exposed: ignored
]


def load_events(store: DuckDBStore, events: list[tuple[object, ...]]) -> None:
    for row in events:
        store.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, amount, session_id) VALUES (?, ?, ?, ?, ?, ?)",
            list(row),
        )


@pytest.fixture
def timeline(settings: Settings) -> Iterator[DuckDBStore]:
    st = open_store(settings)
    assert isinstance(st, DuckDBStore)
    load_events(st, EVENTS)
    rows = pa.table(
        {
            "variation": [v for v, _, _ in EXPOSURES],
            "user_id": [u for _, u, _ in EXPOSURES],
            "ts": pa.array([t for _, _, t in EXPOSURES], pa.timestamp("us")),
        }
    )
    record_exposure_rows(st, EXP, rows)
    yield st
    st.close()
