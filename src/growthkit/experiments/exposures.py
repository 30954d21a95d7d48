"""Experiment definitions and exposures in the store (tables ``experiments`` and ``exposures``, schema v2).

An *exposure* is the moment a user first saw their variation. The store keeps one row per
(experiment, user): the **first** exposure. Writing the same exposures again changes nothing;
an exposure that is earlier than the stored one replaces it (late-arriving data), and a later
one is counted as a duplicate. A user offered with another variation than the stored first
one is a *crossover*: the first one still counts, and the report counts them so they can be
investigated (they bias the analysis when frequent).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from growthkit.errors import ConfigError
from growthkit.experiments.assignment import Assignments, Experiment
from growthkit.store import Store

log = logging.getLogger(__name__)

EXPOSURE_SCHEMA = pa.schema(
    [
        ("variation", pa.string()),
        ("user_id", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("context", pa.string()),
    ]
)
"""Columns accepted by :func:`record_exposure_rows` (``context`` is a JSON object or null)."""


@dataclass(frozen=True)
class ExposureReport:
    """What a write of exposures did."""

    experiment: str
    rows_offered: int
    rows_new: int
    """Users whose first exposure was recorded now."""
    rows_earlier: int
    """Users whose stored exposure was replaced by an earlier one."""
    rows_duplicate: int
    """Rows that changed nothing (the user already had an exposure at or before this one)."""
    crossovers: int
    """Users offered with a variation other than their stored first one."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _utc_naive(ts: datetime) -> datetime:
    return ts.replace(tzinfo=None) if ts.tzinfo is None else ts.astimezone(UTC).replace(tzinfo=None)


def save_experiment(store: Store, experiment: Experiment) -> None:
    """Insert or update the definition of ``experiment`` in the ``experiments`` table."""
    now = datetime.now(UTC).replace(tzinfo=None)
    store.execute(
        "INSERT INTO experiments VALUES (?, ?, ?, ?) ON CONFLICT (experiment) DO UPDATE SET "
        "definition = excluded.definition, updated_at = excluded.updated_at",
        [experiment.key, json.dumps(experiment.to_dict()), now, now],
    )


def load_experiment(store: Store, key: str) -> Experiment | None:
    """The stored definition of experiment ``key``, or None."""
    raw = store.scalar("SELECT definition FROM experiments WHERE experiment = ?", [key])
    return None if raw is None else Experiment.from_dict(json.loads(raw))


def exposure_counts(store: Store, key: str, *, end: datetime | None = None) -> dict[str, int]:
    """Users first exposed per variation (before ``end`` when given)."""
    sql = "SELECT variation, count(*) AS n FROM exposures WHERE experiment = ?"
    params: list[Any] = [key]
    if end is not None:
        sql += " AND ts < ?"
        params.append(_utc_naive(end))
    rows = store.query(sql + " GROUP BY 1 ORDER BY 1", params).to_pylist()
    return {str(r["variation"]): int(r["n"]) for r in rows}


def record_exposures(
    store: Store,
    experiment: Experiment,
    assignments: Assignments,
    ts: datetime | pa.Array | pa.ChunkedArray | np.ndarray[Any, Any],
    *,
    context: Mapping[str, Any] | None = None,
) -> ExposureReport:
    """Record the exposures of the assigned users of ``assignments`` (idempotent).

    Parameters
    ----------
    store : Store
        A writable store at schema version 2 or later.
    experiment : Experiment
        The experiment; its definition is saved too.
    assignments : Assignments
        From :func:`~growthkit.experiments.assignment.assign`; excluded users are skipped.
    ts : datetime or array
        When the users were exposed: one time for all, or one per user of ``assignments``.
        Naive times are taken as UTC.
    context : mapping, optional
        JSON-serialisable context stored with every row (page, app version, ...).

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> from growthkit.experiments.assignment import Experiment, assign
    >>> exp = Experiment("banner", ("control", "B"))
    >>> with open_store(Settings(db=":memory:")) as st:
    ...     r = record_exposures(st, exp, assign(exp, ["u1", "u2"]), datetime(2025, 1, 1, tzinfo=UTC))
    ...     again = record_exposures(st, exp, assign(exp, ["u1", "u2"]), datetime(2025, 1, 2, tzinfo=UTC))
    >>> r.rows_new, again.rows_new, again.rows_duplicate
    (2, 0, 2)
    """
    if assignments.experiment.key != experiment.key:
        raise ConfigError(
            f"assignments are for experiment {assignments.experiment.key!r}, not {experiment.key!r}; "
            "assign users with the same experiment you record"
        )
    mask = assignments.assigned
    names = np.asarray(experiment.variations, dtype=object)[assignments.variation_index[mask]]
    if isinstance(ts, datetime):
        when = pa.array([_utc_naive(ts)] * int(mask.sum()), pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
    else:
        arr = pa.array(ts) if isinstance(ts, np.ndarray) else ts
        if len(arr) != len(assignments):
            raise ConfigError(f"got {len(arr)} exposure times for {len(assignments)} users; give one per user")
        if not pa.types.is_timestamp(arr.type):
            raise ConfigError(f"exposure times must be timestamps, got {arr.type}")
        if arr.type.tz is None:
            arr = pc.assume_timezone(arr, "UTC")
        when = pc.filter(arr, pa.array(mask)).cast(pa.timestamp("us", tz="UTC"))
    ctx = None if context is None else json.dumps(dict(context), ensure_ascii=False, default=str)
    rows = pa.table(
        {
            "variation": pa.array(names.tolist(), pa.string()),
            "user_id": pa.array(assignments.user_ids[mask].tolist(), pa.string()),
            "ts": when,
            "context": pa.array([ctx] * int(mask.sum()), pa.string()),
        },
        schema=EXPOSURE_SCHEMA,
    )
    return record_exposure_rows(store, experiment, rows)


def record_exposure_rows(store: Store, experiment: Experiment, rows: pa.Table) -> ExposureReport:
    """Record exposure rows (columns of :data:`EXPOSURE_SCHEMA`; ``context`` optional), idempotently.

    Per user, the earliest offered row counts; it replaces a stored exposure only when earlier.
    """
    missing = {"variation", "user_id", "ts"} - set(rows.column_names)
    if missing:
        raise ConfigError(f"exposure rows lack column(s) {sorted(missing)}; give variation, user_id, ts (UTC)")
    if "context" not in rows.column_names:
        rows = rows.append_column("context", pa.nulls(rows.num_rows, pa.string()))
    rows = rows.select(["variation", "user_id", "ts", "context"])
    if rows.num_rows and (rows["user_id"].null_count or rows["ts"].null_count or rows["variation"].null_count):
        raise ConfigError("exposure rows need a user_id, a variation and a ts in every row")
    unknown = set(pc.unique(rows["variation"]).to_pylist()) - set(experiment.variations)
    if unknown:
        raise ConfigError(
            f"experiment {experiment.key!r} has no variation(s) {sorted(unknown)}; "
            f"its variations are {list(experiment.variations)}"
        )
    staged = """(SELECT user_id, arg_min(variation, ts) AS variation, min(ts) AS ts, arg_min(context, ts) AS context
                 FROM gk_exposures_in GROUP BY user_id)"""
    with store.transaction(), store.register("gk_exposures_in", rows):
        save_experiment(store, experiment)
        stats = store.query(
            f"""SELECT count(*) FILTER (WHERE e.user_id IS NULL) AS new,
                       count(*) FILTER (WHERE s.ts < e.ts) AS earlier
                FROM {staged} s LEFT JOIN (SELECT * FROM exposures WHERE experiment = ?) e USING (user_id)""",
            [experiment.key],
        ).to_pylist()[0]
        crossovers = int(
            store.scalar(
                "SELECT count(DISTINCT i.user_id) FROM gk_exposures_in i LEFT JOIN "
                "(SELECT * FROM exposures WHERE experiment = ?) e USING (user_id) "
                "WHERE i.variation <> coalesce(e.variation, (SELECT s.variation FROM "
                f"{staged} s WHERE s.user_id = i.user_id))",
                [experiment.key],
            )
        )
        store.execute(
            f"""INSERT INTO exposures SELECT ?, s.variation, s.user_id, s.ts, s.context FROM {staged} s
                ON CONFLICT (experiment, user_id) DO UPDATE SET variation = excluded.variation, ts = excluded.ts,
                context = excluded.context WHERE excluded.ts < exposures.ts""",
            [experiment.key],
        )
    new, earlier = int(stats["new"]), int(stats["earlier"])
    report = ExposureReport(experiment.key, rows.num_rows, new, earlier, rows.num_rows - new - earlier, crossovers)
    if crossovers:
        log.warning(
            "experiment %s: %d user(s) were exposed to more than one variation; the first exposure counts",
            experiment.key,
            crossovers,
        )
    return report
