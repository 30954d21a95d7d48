"""Running the simulator: chunked generation streamed to Parquet, or collected in memory."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from growthkit.sim import population as pop
from growthkit.sim.behaviour import simulate_chunk
from growthkit.sim.calendar import US_PER_DAY, build_calendar
from growthkit.sim.campaigns import (
    EXPERIMENT_TRUTH_SCHEMA,
    EXPERIMENTS_SCHEMA,
    EXPOSURES_SCHEMA,
    CampaignTruth,
    definitions_table,
    exposure_table,
)
from growthkit.sim.cascades import CASCADE_STREAM, CASCADES_SCHEMA, cascade_table, simulate_cascades
from growthkit.sim.catalog import N_TOP, TOP_NAMES, build_catalog, id_width
from growthkit.sim.config import COUPON_TYPES, CUSTOMER_TYPES, SimConfig
from growthkit.sim.frames import TS, chunk_tables, edge_tables, review_text_bank, take_or_null
from growthkit.sim.graph import build_graph
from growthkit.sim.text import CATEGORIES

logger = logging.getLogger(__name__)

TABLE_NAMES: tuple[str, ...] = ("events", "users", "items", "reviews", "edges")
TRUTH_NAMES: tuple[str, ...] = ("users", "edges", "items", "categories", "experiments")
EXPERIMENT_NAMES: tuple[str, ...] = ("exposures", "experiments")
OBSERVATION_NAMES: tuple[str, ...] = ("share_cascades",)
EDGE_SLICE = 1_000_000
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SimManifest:
    """What :func:`write_simulation` wrote.

    Attributes
    ----------
    out_dir : pathlib.Path
        The output folder.
    files : dict
        Canonical tables (``events``, ``users``, ``items``, ``reviews``, ``edges``) to Parquet paths.
    truth_files : dict
        Ground truth (``users``, ``edges``, ``items``, ``categories``, ``experiments``) to Parquet
        paths under ``truth/``.
    rows : dict
        Row counts of the canonical tables.
    config : SimConfig
        The config that produced them.
    seconds : float
        Wall time of the run.
    experiment_files : dict
        The coupon campaigns as experiments: ``exposures`` (rows for the store's ``exposures``
        table) and ``experiments`` (one definition per campaign) to Parquet paths.
    observation_files : dict
        Observations outside the canonical tables: ``share_cascades`` (tracked share
        campaigns, every exposure and activation; :mod:`growthkit.sim.cascades`).
    """

    out_dir: Path
    files: dict[str, Path]
    truth_files: dict[str, Path]
    rows: dict[str, int]
    config: SimConfig
    seconds: float
    experiment_files: dict[str, Path] = field(default_factory=dict)
    observation_files: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class SimData:
    """An in-memory simulation: the canonical tables plus the ground truth (all :class:`pyarrow.Table`).

    ``exposures`` and ``experiments`` are the coupon campaigns as experiments
    (see :mod:`growthkit.sim.campaigns`); ``share_cascades`` logs the tracked share
    campaigns, spread by the true influence probabilities (:mod:`growthkit.sim.cascades`).
    """

    config: SimConfig
    events: pa.Table
    users: pa.Table
    items: pa.Table
    reviews: pa.Table
    edges: pa.Table
    truth: dict[str, pa.Table] = field(default_factory=dict)
    exposures: pa.Table = field(default_factory=EXPOSURES_SCHEMA.empty_table)
    experiments: pa.Table = field(default_factory=EXPERIMENTS_SCHEMA.empty_table)
    share_cascades: pa.Table = field(default_factory=CASCADES_SCHEMA.empty_table)

    @property
    def tables(self) -> dict[str, pa.Table]:
        """The canonical tables by name."""
        return {name: getattr(self, name) for name in TABLE_NAMES}


def _truth_users(
    ids: pa.Array, traits: pop.Traits, churn_day: np.ndarray, sat: np.ndarray, sk: pop.Skeleton, lo: int, hi: int,
    start_us: int,
) -> pa.Table:
    churned = churn_day >= 0
    churn_us = start_us + np.maximum(churn_day, 0) * US_PER_DAY
    prefs = traits.prefs
    flat = pa.array(prefs.reshape(-1), pa.float64())
    offsets = pa.array(np.arange(0, prefs.size + 1, N_TOP, dtype=np.int32))
    tops = pop.top_categories(prefs, 3)
    return pa.table(
        {
            "user_id": ids,
            "customer_type": pc.take(pa.array(CUSTOMER_TYPES), pa.array(traits.ctype)),
            "coupon_type": pc.take(pa.array(COUPON_TYPES), pa.array(traits.coupon_type)),
            "coupon_effect": pa.array(traits.coupon_effect, pa.float64()),
            "price_sensitivity": pa.array(traits.price_sens, pa.float64()),
            "activity_rate": pa.array(traits.activity, pa.float64()),
            "churned": pa.array(churned, pa.bool_()),
            "churn_ts": pa.array(churn_us, TS, mask=~churned),
            "top_category": pa.array([t.split("|", 1)[0] for t in tops], pa.string()),
            "top_categories": pa.array(tops, pa.string()),
            "category_prefs": pa.ListArray.from_arrays(offsets, flat),
            "community": pa.array(sk.community[lo:hi].astype(np.int64), pa.int64()),
            "sociability": pa.array(sk.sociability[lo:hi], pa.float64()),
            "final_satisfaction": pa.array(sat, pa.float64()),
        }
    )


def _categories_table() -> pa.Table:
    return pa.table(
        {
            "index": pa.array(np.arange(N_TOP, dtype=np.int64)),
            "category": pa.array(list(TOP_NAMES), pa.string()),
            "category_zh": pa.array([c[0] for c in CATEGORIES], pa.string()),
        }
    )


def _generate(config: SimConfig, progress: Progress | None) -> Iterator[tuple[str, pa.Table]]:
    """Yield ``(name, table piece)`` in a fixed order; ``truth/x`` names are ground truth."""
    children = np.random.SeedSequence(config.seed).spawn(3 + config.n_chunks)
    cal = build_calendar(config)
    sk = pop.build_skeleton(config, cal, np.random.default_rng(children[0]))
    cat = build_catalog(config.resolved_items, np.random.default_rng(children[1]))
    graph = build_graph(config, sk, cal, np.random.default_rng(children[2]))
    logger.info("simulator: %d users, %d items, %d edges", config.users, cat.n, graph.n_edges)
    yield "items", cat.table
    yield "truth/items", cat.truth
    yield "truth/categories", _categories_table()
    yield "experiments", definitions_table(config, cal.start_us, cal.campaign_days)
    campaign_truth = CampaignTruth(int(cal.campaign_days.shape[0]))
    width = id_width(config.users, 7)
    for lo in range(0, graph.n_edges, EDGE_SLICE):
        edges, truth = edge_tables(graph, lo, min(lo + EDGE_SLICE, graph.n_edges), width)
        yield "edges", edges
        yield "truth/edges", truth
    cascade_rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(CASCADE_STREAM,)))
    yield "share_cascades", cascade_table(simulate_cascades(graph, sk, cal, cascade_rng), width)
    texts = review_text_bank()
    n_events = n_reviews = 0
    for k in range(config.n_chunks):
        lo, hi = k * config.chunk_users, min(config.users, (k + 1) * config.chunk_users)
        rng = np.random.default_rng(children[3 + k])
        idx = np.arange(lo, hi, dtype=np.int64)
        ids = pop.user_ids(idx, width)
        traits = pop.draw_traits(sk.signup_us[lo:hi] >= cal.start_us, rng)
        refs = sk.referrer[lo:hi]
        ref_ids = take_or_null(pop.user_ids(np.maximum(refs, 0), width), np.where(refs >= 0, np.arange(hi - lo), -1))
        yield "users", pop.users_table(idx, ids, sk, traits, ref_ids, rng)
        ev, state = simulate_chunk(config, cal, cat, sk, graph, lo, hi, traits, rng)
        events, reviews = chunk_tables(
            ev, ids, width, cat, sk.lang[lo:hi], n_events, n_reviews, cal.promo_names, texts
        )
        n_events += events.num_rows
        n_reviews += reviews.num_rows
        yield "events", events
        yield "reviews", reviews
        yield "truth/users", _truth_users(ids, traits, state.churn_day, state.satisfaction, sk, lo, hi, cal.start_us)
        exposures = exposure_table(config, cal.start_us, state.campaigns, ids)
        if exposures.num_rows:
            yield "exposures", exposures
        campaign_truth.add(state.campaigns, traits.coupon_effect, traits.coupon_type)
        logger.debug("simulator: chunk %d/%d done (%d events so far)", k + 1, config.n_chunks, n_events)
        if progress is not None:
            progress(hi, config.users)
    yield "truth/experiments", campaign_truth.table(config, cal.campaign_days)


def write_simulation(config: SimConfig, out_dir: Path, *, progress: Progress | None = None) -> SimManifest:
    """Simulate a shop and stream it to Parquet, chunk by chunk.

    Writes ``events``, ``users``, ``items``, ``reviews`` and ``edges`` ``.parquet``
    files (contract column names; ``users`` also carries the raw fake PII columns
    ``name``, ``email``, ``phone``), the coupon campaigns as experiments
    (``exposures.parquet``, ``experiments.parquet``), the tracked share campaigns
    (``share_cascades.parquet``), the ground truth under
    ``truth/`` and ``manifest.json``. The same config gives byte-identical Parquet files.

    Parameters
    ----------
    config : SimConfig
        What to simulate.
    out_dir : pathlib.Path
        Output folder (created; existing files of the same names are replaced).
    progress : callable, optional
        Called as ``progress(done_users, total_users)`` after each chunk.

    Returns
    -------
    SimManifest

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> m = write_simulation(SimConfig(users=200, days=30), Path(tempfile.mkdtemp()))
    >>> m.rows["users"]
    200
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    files = {name: out_dir / f"{name}.parquet" for name in TABLE_NAMES}
    truth_files = {name: out_dir / "truth" / f"{name}.parquet" for name in TRUTH_NAMES}
    experiment_files = {name: out_dir / f"{name}.parquet" for name in EXPERIMENT_NAMES}
    observation_files = {name: out_dir / f"{name}.parquet" for name in OBSERVATION_NAMES}
    writers: dict[str, pq.ParquetWriter] = {}
    rows: dict[str, int] = dict.fromkeys(TABLE_NAMES, 0)
    try:
        for name, table in _generate(config, progress):
            if name not in writers:
                plain = {**files, **experiment_files, **observation_files}
                path = truth_files[name[6:]] if name.startswith("truth/") else plain[name]
                writers[name] = pq.ParquetWriter(path, table.schema, compression="zstd")
            writers[name].write_table(table, row_group_size=1_000_000)
            if name in rows:
                rows[name] += table.num_rows
        for name, path in (
            *files.items(),
            *experiment_files.items(),
            *observation_files.items(),
            *(("truth/" + k, v) for k, v in truth_files.items()),
        ):
            if name not in writers:  # e.g. no edges at all: still write an empty file with the schema
                pq.write_table(_empty_table(name), path, compression="zstd")
    finally:
        for w in writers.values():
            w.close()
    seconds = time.perf_counter() - t0
    manifest = SimManifest(
        out_dir=out_dir,
        files=files,
        truth_files=truth_files,
        rows=rows,
        config=config,
        seconds=seconds,
        experiment_files=experiment_files,
        observation_files=observation_files,
    )
    payload = {
        "config": config.to_dict(),
        "rows": rows,
        "files": {k: v.name for k, v in files.items()},
        "truth_files": {k: f"truth/{v.name}" for k, v in truth_files.items()},
        "experiment_files": {k: v.name for k, v in experiment_files.items()},
        "observation_files": {k: v.name for k, v in observation_files.items()},
        "seconds": round(seconds, 3),
    }
    (out_dir / "manifest.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    logger.info("simulator: wrote %s in %.1f s (%s)", out_dir, seconds, rows)
    return manifest


def _empty_table(name: str) -> pa.Table:
    """An empty table with the schema a piece named ``name`` would have."""
    from growthkit.sim.frames import EDGE_TRUTH_SCHEMA, EDGES_SCHEMA, EVENTS_SCHEMA, REVIEWS_SCHEMA

    schemas = {"edges": EDGES_SCHEMA, "truth/edges": EDGE_TRUTH_SCHEMA, "events": EVENTS_SCHEMA,
               "reviews": REVIEWS_SCHEMA, "exposures": EXPOSURES_SCHEMA, "experiments": EXPERIMENTS_SCHEMA,
               "truth/experiments": EXPERIMENT_TRUTH_SCHEMA, "share_cascades": CASCADES_SCHEMA}
    if name not in schemas:
        raise RuntimeError(f"simulator produced no {name!r} table; this is a bug, please report it")
    return schemas[name].empty_table()


def simulate(config: SimConfig) -> SimData:
    """Simulate a (small) shop in memory.

    Same tables as :func:`write_simulation`, as :class:`pyarrow.Table`; keep
    ``config.users`` modest (the whole event log is held in memory).

    Examples
    --------
    >>> data = simulate(SimConfig(users=200, days=30, seed=1))
    >>> data.users.num_rows, sorted(data.truth)
    (200, ['categories', 'edges', 'experiments', 'items', 'users'])
    """
    pieces: dict[str, list[pa.Table]] = {}
    for name, table in _generate(config, None):
        pieces.setdefault(name, []).append(table)

    def get(name: str) -> pa.Table:
        if name not in pieces:
            return _empty_table(name)
        return pa.concat_tables(pieces[name])

    return SimData(
        config=config,
        events=get("events"),
        users=get("users"),
        items=get("items"),
        reviews=get("reviews"),
        edges=get("edges"),
        truth={name: get("truth/" + name) for name in TRUTH_NAMES},
        exposures=get("exposures"),
        experiments=get("experiments"),
        share_cascades=get("share_cascades"),
    )
