"""Writing exposures: idempotent, the first exposure per user and experiment counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pytest

from growthkit.errors import ConfigError
from growthkit.experiments.assignment import Experiment, assign
from growthkit.experiments.exposures import (
    exposure_counts,
    load_experiment,
    record_exposure_rows,
    record_exposures,
)
from growthkit.store import DuckDBStore

EXP = Experiment("banner", ("control", "B"), (0.5, 0.5), coverage=0.8)
USERS = [f"u{i}" for i in range(200)]
T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)


def test_recording_twice_changes_nothing(store: DuckDBStore) -> None:
    a = assign(EXP, USERS)
    first = record_exposures(store, EXP, a, T0, context={"page": "home"})
    again = record_exposures(store, EXP, a, T0 + timedelta(days=1))
    n = int(a.assigned.sum())
    assert (first.rows_new, first.rows_duplicate) == (n, 0)
    assert (again.rows_offered, again.rows_new, again.rows_earlier, again.rows_duplicate) == (n, 0, 0, n)
    assert store.scalar("select count(*) from exposures") == n < len(USERS)  # coverage 0.8: some excluded
    assert store.scalar("select max(ts) from exposures") == datetime(2025, 3, 1, 12)  # the first one stays
    assert store.scalar("select any_value(context->>'page') from exposures") == "home"
    assert exposure_counts(store, "banner") == {k: v for k, v in a.counts().items() if ":" not in k}
    assert load_experiment(store, "banner") == EXP


def test_an_earlier_exposure_replaces_a_later_one_and_crossovers_are_counted(store: DuckDBStore) -> None:
    ts = pa.timestamp("us", tz="UTC")
    record_exposure_rows(store, EXP, pa.table({"variation": ["B"], "user_id": ["u1"], "ts": pa.array([T0], ts)}))
    rep = record_exposure_rows(
        store,
        EXP,
        pa.table(
            {
                "variation": ["control", "B", "B"],
                "user_id": ["u1", "u2", "u2"],
                "ts": pa.array([T0 - timedelta(hours=1), T0, T0 - timedelta(minutes=5)], ts),
            }
        ),
    )
    # u1: an earlier exposure to another variation -> replaces (first counts) and is a crossover;
    # u2: new, the earlier of its two rows wins; its other row is a duplicate.
    assert (rep.rows_new, rep.rows_earlier, rep.rows_duplicate, rep.crossovers) == (1, 1, 1, 1)
    rows = {r["user_id"]: r for r in store.query("select * from exposures").to_pylist()}
    assert rows["u1"]["variation"] == "control" and rows["u1"]["ts"] == datetime(2025, 3, 1, 11)
    assert rows["u2"]["ts"] == datetime(2025, 3, 1, 11, 55)


def test_times_per_user_in_any_zone_are_stored_as_utc(store: DuckDBStore) -> None:
    a = assign(EXP, USERS[:20])
    shanghai = timezone(timedelta(hours=8))
    times = pa.array([datetime(2025, 3, 1, 20, tzinfo=shanghai)] * 20, pa.timestamp("us", tz="Asia/Shanghai"))
    record_exposures(store, EXP, a, times)
    assert store.scalar("select min(ts) from exposures") == datetime(2025, 3, 1, 12)
    with pytest.raises(ConfigError, match="one per user"):
        record_exposures(store, EXP, a, times[:3])
    with pytest.raises(ConfigError, match="timestamps"):
        record_exposures(store, EXP, a, np.arange(20))


def test_bad_rows_say_what_to_fix(store: DuckDBStore) -> None:
    ts = pa.array([T0], pa.timestamp("us", tz="UTC"))
    with pytest.raises(ConfigError, match="no variation"):
        record_exposure_rows(store, EXP, pa.table({"variation": ["Z"], "user_id": ["u1"], "ts": ts}))
    with pytest.raises(ConfigError, match="lack column"):
        record_exposure_rows(store, EXP, pa.table({"user_id": ["u1"], "ts": ts}))
    with pytest.raises(ConfigError, match="same experiment"):
        record_exposures(store, EXP, assign(Experiment("other"), ["u1"]), T0)
    assert store.scalar("select count(*) from exposures") == 0
