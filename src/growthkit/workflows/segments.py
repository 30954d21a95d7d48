"""Use cases for segmentation: fit RFM segments or behavioural clusters on a store, profile them,
write personas, and save the result as saved segments.

``segment_users`` builds the point-in-time feature table at the cutoff (by default the
day after the last event, so all data counts), fits :class:`~growthkit.models.segment.RFMSegmenter`
or :class:`~growthkit.models.segment.BehaviourClusters`, profiles every segment and writes a
persona per segment. With ``save=True`` it writes three derived tables, each in one
transaction (a reader sees the old or the new segmentation, never a mix):

``segments``
    One row per user and segment: ``name, user_id, created_at`` (the saved-segment
    contract of :mod:`growthkit.analytics.segments`, so ``Segment("rfm: Champions")`` works
    in any insight) plus ``segment_id, segment_name, method, fitted_at, cutoff``. The rows
    of the same method are replaced; rows of the other method and segments saved by hand
    (``method`` NULL) are kept. A ``segments`` table without the extra columns gets them.
``segment_profiles``
    One row per segment: size, shares of users and revenue, distinguishing features, top
    categories, the persona and its provenance. The HTML report shows it. Rows of the same
    method are replaced.
``segment_centers``
    The clustering's centres and standardisation (cluster method only, replaced as a whole),
    so that the next ``segment cluster`` run keeps the segment ids it recognises.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from growthkit.analytics.segments import SEGMENTS_TABLE
from growthkit.config import Settings
from growthkit.errors import ConfigError, SchemaError
from growthkit.features import build_user_features
from growthkit.models.segment import (
    PERSONA_RENDERERS,
    BehaviourClusters,
    Persona,
    RFMSegmenter,
    SegmentProfile,
    SegmentReference,
    TruthScore,
    profile_segments,
    score_against_truth,
    write_personas,
)
from growthkit.store import Store, open_store
from growthkit.text.llm import TextGenerator
from growthkit.workflows.data import last_event_day
from growthkit.workflows.llm import generator_from_settings

log = logging.getLogger(__name__)

METHODS: tuple[str, ...] = ("rfm", "cluster")
ALGORITHMS: tuple[str, ...] = ("kmeans", "gmm")
PROFILES_TABLE = "segment_profiles"
CENTERS_TABLE = "segment_centers"
SEGMENT_COLUMNS: dict[str, str] = {
    "name": "VARCHAR",
    "user_id": "VARCHAR",
    "created_at": "TIMESTAMP",
    "segment_id": "VARCHAR",
    "segment_name": "VARCHAR",
    "method": "VARCHAR",
    "fitted_at": "TIMESTAMP",
    "cutoff": "TIMESTAMP",
}
"""Columns of the ``segments`` table (the first three are the saved-segment contract)."""


@dataclass(frozen=True)
class SegmentRun:
    """What :func:`segment_users` fitted, found and wrote."""

    method: str
    algorithm: str | None
    cutoff: date
    fitted_at: datetime
    users: int
    profiles: tuple[SegmentProfile, ...]
    personas: tuple[Persona, ...]
    k_selection: tuple[dict[str, Any], ...] = ()
    criterion: str | None = None
    id_matches: tuple[dict[str, Any], ...] = ()
    thresholds: dict[str, list[float]] = field(default_factory=dict)
    truth: TruthScore | None = None
    tables: tuple[str, ...] = ()
    seconds: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        """Number of segments with users."""
        return len(self.profiles)

    def segment_names(self) -> dict[str, str]:
        """Segment id to the name shown: the RFM name, or the persona's name for clusters."""
        if self.method == "rfm":
            return {p.segment_id: p.name for p in self.profiles}
        return {p.segment_id: p.name for p in self.personas}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "method": self.method,
            "algorithm": self.algorithm,
            "cutoff": self.cutoff.isoformat(),
            "fitted_at": self.fitted_at.isoformat(),
            "users": self.users,
            "k": self.k,
            "criterion": self.criterion,
            "k_selection": [dict(r) for r in self.k_selection],
            "id_matches": [dict(r) for r in self.id_matches],
            "thresholds": self.thresholds,
            "profiles": [p.to_dict() for p in self.profiles],
            "personas": [p.to_dict() for p in self.personas],
            "truth": self.truth.to_dict() if self.truth else None,
            "tables": list(self.tables),
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
        }


def default_cutoff(store: Store) -> date:
    """The day after the store's last event: the features then use every event."""
    return last_event_day(store) + timedelta(days=1)


def read_truth(path: Path | str, column: str = "customer_type") -> pd.Series:
    """The true group of each user from a Parquet or CSV file with ``user_id`` and ``column``
    (the simulator writes ``truth/users.parquet``)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"truth file not found: {p} (the simulator writes <out>/truth/users.parquet)")
    frame = pq.read_table(p).to_pandas() if p.suffix == ".parquet" else pd.read_csv(p, dtype=str)
    if "user_id" not in frame or column not in frame:
        raise SchemaError(f"{p} needs columns user_id and {column}; it has {', '.join(map(str, frame.columns))}")
    return pd.Series(frame[column].astype(str).to_numpy(), index=frame["user_id"].astype(str), name=column)


# ---------------------------------------------------------------- store I/O


def _table_columns(store: Store, name: str) -> list[str] | None:
    if name not in store.tables():
        return None
    return [str(r["column_name"]) for r in store.query(f"DESCRIBE {name}").to_pylist()]


def _replace_method_rows(store: Store, name: str, columns: Mapping[str, str], method: str, rows: pa.Table) -> None:
    """Inside the caller's transaction: create ``name`` if needed, add missing columns, replace ``method``'s rows."""
    have = _table_columns(store, name)
    if have is None:
        store.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
    else:
        for c, t in columns.items():
            if c not in have:
                store.execute(f"ALTER TABLE {name} ADD COLUMN {c} {t}")
    store.execute(f"DELETE FROM {name} WHERE method = ?", [method])
    view = f"_{name}_in"
    cols = ", ".join(rows.column_names)
    with store.register(view, rows):
        store.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {view}")


def _segment_rows(labels: pd.Series, run: SegmentRun) -> pa.Table:
    names = run.segment_names()
    ids = labels.astype(str)
    seg_names = ids.map(names).fillna(ids)
    prefix = ids.map(lambda s: f"cluster {s}: ") if run.method == "cluster" else pd.Series("rfm: ", index=ids.index)
    n = len(ids)
    ts = pa.array([run.fitted_at] * n, pa.timestamp("us"))
    return pa.table(
        {
            "name": (prefix + seg_names).tolist(),
            "user_id": ids.index.astype(str).tolist(),
            "created_at": ts,
            "segment_id": ids.tolist(),
            "segment_name": seg_names.tolist(),
            "method": [run.method] * n,
            "fitted_at": ts,
            "cutoff": pa.array([datetime.combine(run.cutoff, datetime.min.time())] * n, pa.timestamp("us")),
        }
    )


PROFILE_COLUMNS: dict[str, str] = {
    "method": "VARCHAR",
    "position": "INTEGER",
    "segment_id": "VARCHAR",
    "segment_name": "VARCHAR",
    "description": "VARCHAR",
    "users": "BIGINT",
    "share_users": "DOUBLE",
    "revenue": "DOUBLE",
    "share_revenue": "DOUBLE",
    "distinguishing": "VARCHAR",
    "top_categories": "VARCHAR",
    "lang": "VARCHAR",
    "backend": "VARCHAR",
    "model": "VARCHAR",
    "is_template": "BOOLEAN",
    "checks_passed": "BOOLEAN",
    "fallback_reason": "VARCHAR",
    "algorithm": "VARCHAR",
    "fitted_at": "TIMESTAMP",
    "cutoff": "TIMESTAMP",
}


def _profile_rows(run: SegmentRun) -> pa.Table:
    names = run.segment_names()
    rows = []
    for i, (p, persona) in enumerate(zip(run.profiles, run.personas, strict=True)):
        lifts = []
        for f in p.distinguishing:
            st = p.feature(f)
            lifts.append(f"{f} ×{st.lift:.2f}" if st.lift is not None else f"{f} (SMD {st.smd:+.2f})")
        rows.append(
            {
                "method": run.method,
                "position": i,
                "segment_id": p.segment_id,
                "segment_name": names[p.segment_id],
                "description": persona.description,
                "users": p.users,
                "share_users": p.share_users,
                "revenue": p.revenue,
                "share_revenue": p.share_revenue,
                "distinguishing": ", ".join(lifts),
                "top_categories": ", ".join(f"{c.category} {c.share:.1%}" for c in p.categories),
                "lang": persona.lang,
                "backend": persona.backend,
                "model": persona.model,
                "is_template": persona.is_template,
                "checks_passed": persona.checks_passed,
                "fallback_reason": persona.fallback_reason,
                "algorithm": run.algorithm,
                "fitted_at": run.fitted_at,
                "cutoff": datetime.combine(run.cutoff, datetime.min.time()),
            }
        )
    schema = pa.schema([(c, _ARROW[t]) for c, t in PROFILE_COLUMNS.items()])
    return pa.Table.from_pylist(rows, schema=schema)


_ARROW: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
}


def _center_rows(model: BehaviourClusters, fitted_at: datetime) -> pa.Table:
    ref = model.reference()
    k, d = len(ref.ids), len(ref.features)
    return pa.table(
        {
            "segment_id": pa.array(np.repeat(ref.ids, d), pa.int64()),
            "feature": list(ref.features) * k,
            "center": pa.array(ref.centers.reshape(-1), pa.float64()),
            "mean": pa.array(np.tile(ref.mean, k), pa.float64()),
            "scale": pa.array(np.tile(ref.scale, k), pa.float64()),
            "logged": [f in ref.log_features for f in ref.features] * k,
            "position": pa.array(np.tile(np.arange(d), k), pa.int64()),
            "next_id": pa.array([ref.next_id] * (k * d), pa.int64()),
            "algorithm": [str(model.method)] * (k * d),
            "fitted_at": pa.array([fitted_at] * (k * d), pa.timestamp("us")),
        }
    )


def read_reference(store: Store) -> SegmentReference | None:
    """The last clustering saved in ``segment_centers`` (None when there is none)."""
    if CENTERS_TABLE not in store.tables():
        return None
    f = store.query(f"SELECT * FROM {CENTERS_TABLE} ORDER BY segment_id, position").to_pandas()
    if f.empty:
        return None
    ids = sorted(int(i) for i in f["segment_id"].unique())
    first = f[f["segment_id"] == ids[0]]
    features = tuple(str(x) for x in first["feature"])
    centers = np.vstack([f.loc[f["segment_id"] == i, "center"].to_numpy(np.float64) for i in ids])
    return SegmentReference(
        features=features,
        ids=tuple(ids),
        centers=centers,
        mean=first["mean"].to_numpy(np.float64),
        scale=first["scale"].to_numpy(np.float64),
        next_id=int(f["next_id"].max()),
        log_features=tuple(str(x) for x, lg in zip(first["feature"], first["logged"], strict=True) if lg),
    )


def _save(store: Store, run: SegmentRun, labels: pd.Series, model: BehaviourClusters | None) -> tuple[str, ...]:
    with store.transaction():
        _replace_method_rows(store, SEGMENTS_TABLE, SEGMENT_COLUMNS, run.method, _segment_rows(labels, run))
        _replace_method_rows(store, PROFILES_TABLE, PROFILE_COLUMNS, run.method, _profile_rows(run))
        if model is None:
            return (SEGMENTS_TABLE, PROFILES_TABLE)
        with store.register("_segment_centers_in", _center_rows(model, run.fitted_at)):
            store.execute(f"CREATE OR REPLACE TABLE {CENTERS_TABLE} AS SELECT * FROM _segment_centers_in")
    return (SEGMENTS_TABLE, PROFILES_TABLE, CENTERS_TABLE)


# ---------------------------------------------------------------- the use case


def _fit_cluster(
    frame: pd.DataFrame, store: Store, *, algorithm: str, k: int | str, features: list[str] | None, keep_ids: bool,
    notes: list[str],
) -> BehaviourClusters:  # fmt: skip
    ref = read_reference(store) if keep_ids else None
    if ref is not None:
        try:
            return BehaviourClusters(method=algorithm, k=k, features=features, previous=ref).fit(frame)
        except ConfigError as exc:
            notes.append(f"segment ids start afresh: {exc}")
    return BehaviourClusters(method=algorithm, k=k, features=features).fit(frame)


def segment_users(
    settings: Settings,
    *,
    method: str = "rfm",
    cutoff: date | None = None,
    algorithm: str = "kmeans",
    k: int | str = "auto",
    features: list[str] | None = None,
    lang: str = "en",
    generator: TextGenerator | None = None,
    truth: pd.Series | None = None,
    keep_ids: bool = True,
    save: bool = True,
) -> SegmentRun:
    """Segment the users of the store named in ``settings`` and (with ``save``) write the segment tables.

    Parameters
    ----------
    method
        ``rfm`` (named RFM segments) or ``cluster`` (behavioural clusters).
    cutoff
        Features from data strictly before this day (default: the day after the last event).
    algorithm, k, features
        For ``cluster``: ``kmeans`` or ``gmm``, ``"auto"`` or a number, the feature columns.
    lang, generator
        Persona language (``en``/``zh``) and writer (default: ``make_generator(settings)``,
        the template backend unless a model is configured).
    truth
        True group per user id (e.g. :func:`read_truth`): adds the adjusted Rand index.
    keep_ids
        For ``cluster``: keep the segment ids of the last saved clustering where they match.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> run = segment_users(Settings(db="shop.duckdb"), method="cluster", k="auto")  # doctest: +SKIP
    >>> run.k_selection[0]["k"], run.tables  # doctest: +SKIP
    (3, ('segments', 'segment_profiles', 'segment_centers'))
    """
    t0 = time.perf_counter()
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}")
    gen = generator if generator is not None else generator_from_settings(settings, renderers=PERSONA_RENDERERS)
    notes: list[str] = []
    with open_store(settings, read_only=not save and not settings.is_memory) as store:
        cut = cutoff or default_cutoff(store)
        frame = build_user_features(store, cut)
        if frame.empty:
            raise ConfigError(f"no user is known before {cut}: load data first or choose a later --cutoff")
        cluster_model: BehaviourClusters | None = None
        extra: dict[str, Any] = {}
        if method == "rfm":
            rfm = RFMSegmenter().fit(frame)
            labels = rfm.labels_
            profiles = profile_segments(frame, labels, names=rfm.segment_names_, method="rfm")
            extra["thresholds"] = {key: [float(v) for v in edges] for key, edges in rfm.thresholds_.items()}
        else:
            cluster_model = _fit_cluster(
                frame, store, algorithm=algorithm, k=k, features=features, keep_ids=keep_ids, notes=notes
            )
            labels = cluster_model.labels_
            profiles = profile_segments(frame, labels, method="cluster")
            extra["k_selection"] = tuple(cluster_model.k_selection_.to_dict("records"))
            extra["criterion"] = cluster_model.criterion_
            if cluster_model.id_match_ is not None:
                extra["id_matches"] = tuple(cluster_model.id_match_.to_rows())
        personas = write_personas(profiles, gen, lang=lang)
        run = SegmentRun(
            method=method,
            algorithm=algorithm if method == "cluster" else None,
            cutoff=cut,
            fitted_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            users=len(frame),
            profiles=profiles,
            personas=personas,
            truth=score_against_truth(labels, truth) if truth is not None else None,
            notes=tuple(notes),
            **extra,
        )
        tables = _save(store, run, labels, cluster_model) if save else ()
    log.info("segmented %d users into %d %s segments", run.users, run.k, method)
    return replace(run, tables=tables, seconds=time.perf_counter() - t0)


# ---------------------------------------------------------------- for the report


@dataclass(frozen=True)
class SavedSegmentation:
    """One method's saved segment profiles (``segment_profiles``), for the HTML report."""

    method: str
    algorithm: str | None
    cutoff: date
    fitted_at: datetime
    segments: tuple[dict[str, Any], ...]


def read_segment_profiles(store: Store) -> tuple[SavedSegmentation, ...]:
    """The saved segmentations, RFM first (empty when ``segment_profiles`` does not exist)."""
    if PROFILES_TABLE not in store.tables():
        return ()
    rows = store.query(f"SELECT * FROM {PROFILES_TABLE} ORDER BY method DESC, position").to_pylist()
    out = []
    for method in [m for m in METHODS if any(r["method"] == m for r in rows)]:
        mine = [r for r in rows if r["method"] == method]
        first = mine[0]
        cut = first["cutoff"]
        out.append(
            SavedSegmentation(
                method=method,
                algorithm=first.get("algorithm"),
                cutoff=cut.date() if isinstance(cut, datetime) else cut,
                fitted_at=first["fitted_at"],
                segments=tuple(mine),
            )
        )
    return tuple(out)
