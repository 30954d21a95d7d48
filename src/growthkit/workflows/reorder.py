"""Use cases for reorder prediction: evaluate a protocol on a store, score every user's next basket.

Protocols (each user's *target* order; features only from that user's orders before it)::

    protocol="last", train_on="previous"   (the Instacart competition's split, per user)
        train: target = each user's second-to-last order     test: target = the last order
    protocol="last", train_on="users"
        a seeded ``test_fraction`` of the users is tested on its last orders, the others train on theirs
    protocol="cutoff", train_on="previous"  (calendar time, cutoff c, window W)
        train: the first order in [c - W, c), history before c - W
        test:  the first order in [c, c + W), history before c
    protocol="cutoff", train_on="users": test targets of both sides in [c, c + W), users split

    score_reorder(settings)   (as of ``cutoff``: only purchases before it; default all)
        fit on every user's last order as the target, score the order after it (``next``)
        -> ``reorder_scores`` (user_id, item_id, probability, rank, selected, ...)

``reorder_scores`` is a derived table (not part of the data contract), replaced as a whole by
``CREATE OR REPLACE`` inside a transaction: readers see the old or the new scores, never a mix.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from growthkit.config import MEMORY_DB, Settings
from growthkit.datasets import load as load_dataset
from growthkit.errors import ConfigError
from growthkit.features._base import as_cutoff
from growthkit.models.reorder import PairTable, ReorderError, ReorderEvaluation, ReorderModel, evaluate_pairs
from growthkit.models.reorder import build_pair_features as pairs
from growthkit.sim import SimConfig
from growthkit.store import Store, open_store
from growthkit.workflows.churn_eval import load_simulation

log = logging.getLogger(__name__)

REORDER_TABLE = "reorder_scores"
PROTOCOLS: tuple[str, ...] = ("last", "cutoff")
TRAIN_ON: tuple[str, ...] = ("previous", "users")
DATASET_CUTOFFS: dict[str, date] = {"instacart-sample": date(2017, 5, 1)}
"""Test cutoffs of the ``cutoff`` protocol: Instacart four months after the synthetic anchor."""
NO_PRODUCTS: tuple[str, ...] = ("cdnow", "cdnow-sample")
"""Datasets without product ids: reorder prediction does not apply."""


def _check(protocol: str, train_on: str, window_days: int, test_fraction: float) -> None:
    if protocol not in PROTOCOLS:
        raise ConfigError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    if train_on not in TRAIN_ON:
        raise ConfigError(f"train_on must be one of {', '.join(TRAIN_ON)}, not {train_on!r}")
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise ConfigError(f"window_days must be a positive whole number of days, not {window_days!r}")
    if not 0.05 <= test_fraction <= 0.8:
        raise ConfigError(f"test_fraction must be in [0.05, 0.8], not {test_fraction!r}")


def split_users(table: PairTable, test_fraction: float, seed: int) -> tuple[PairTable, PairTable]:
    """``(train, test)``: a seeded random ``test_fraction`` of the users tests, the others train."""
    users = np.asarray(sorted(table.users.index.astype(str)), dtype=object)
    rng = np.random.default_rng(seed)
    test = set(users[rng.permutation(users.shape[0])[: round(test_fraction * users.shape[0])]])
    if not test or len(test) == users.shape[0]:
        raise ConfigError(f"{users.shape[0]} users cannot be split into training and test users; use more users")
    return table.subset([u for u in users if u not in test]), table.subset(test)


def reorder_tables(
    store: Store,
    protocol: str = "last",
    train_on: str = "previous",
    *,
    cutoff: date | datetime | None = None,
    window_days: int = 30,
    before: date | datetime | None = None,
    test_fraction: float = 0.3,
    seed: int = 0,
) -> tuple[PairTable, PairTable]:
    """The training and test pair tables of a protocol (see the module docstring).

    ``before`` drops every purchase at or after it first (evaluate "as of" a day); ``cutoff``
    is the test cutoff of the ``cutoff`` protocol.
    """
    _check(protocol, train_on, window_days, test_fraction)
    w = timedelta(days=window_days)
    try:
        if protocol == "last":
            if train_on == "previous":
                return pairs(store, "last", offset=1, before=before), pairs(store, "last", before=before)
            return split_users(pairs(store, "last", before=before), test_fraction, seed)
        if cutoff is None:
            raise ConfigError(
                "the 'cutoff' protocol needs a test cutoff (orders in [cutoff, cutoff + window) are tested)"
            )
        cut = as_cutoff(cutoff)
        test = pairs(store, "cutoff", cutoff=cut, until=cut + w, before=before)
        if train_on == "users":
            return split_users(test, test_fraction, seed)
        return pairs(store, "cutoff", cutoff=cut - w, until=cut, before=before), test
    except ReorderError as exc:
        raise ConfigError(str(exc)) from exc


def _model(model: str, params: Mapping[str, Any] | None) -> ReorderModel:
    try:
        return ReorderModel(model=model, **dict(params or {}))
    except TypeError as exc:
        raise ConfigError(f"bad reorder model parameters {dict(params or {})}: {exc}") from exc


def evaluate_reorder(
    store: Store,
    protocol: str = "last",
    train_on: str = "previous",
    *,
    cutoff: date | datetime | None = None,
    window_days: int = 30,
    before: date | datetime | None = None,
    test_fraction: float = 0.3,
    model: str = "lightgbm",
    params: Mapping[str, Any] | None = None,
) -> ReorderEvaluation:
    """Fit on the protocol's training targets, test on its test targets, with the baselines.

    Examples
    --------
    >>> with open_store(Settings(db="shop.duckdb"), read_only=True) as st:  # doctest: +SKIP
    ...     ev = evaluate_reorder(st, "last", "previous", params={"n_jobs": 2})
    >>> ev.to_frame()[["pr_auc", "f1_expected", "f1_top_n"]]  # doctest: +SKIP
    """
    est = _model(model, params)
    train, test = reorder_tables(
        store, protocol, train_on, cutoff=cutoff, window_days=window_days, before=before,
        test_fraction=test_fraction, seed=int(est.random_state),
    )  # fmt: skip
    try:
        ev = evaluate_pairs(train, test, model=est)
    except ReorderError as exc:
        raise ConfigError(str(exc)) from exc
    return replace(ev, protocol=protocol, train_on=train_on)


@dataclass(frozen=True)
class ReorderScores:
    """What :func:`score_reorder` wrote: the table, totals of the predicted baskets, and the evaluation."""

    table: str
    model: str
    as_of: datetime
    users: int
    pairs: int
    selected: int
    users_predict_none: int
    mean_basket: float
    calibration: str
    threshold: float
    evaluation: ReorderEvaluation | None
    seconds: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO strings, the evaluation as a dict)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "evaluation"}
        out["as_of"], out["notes"], out["seconds"] = self.as_of.isoformat(), list(self.notes), round(self.seconds, 3)
        out["evaluation"] = self.evaluation.to_dict() if self.evaluation is not None else None
        return out


def _as_of(store: Store, cutoff: date | datetime | None) -> datetime:
    if cutoff is not None:
        return as_cutoff(cutoff)
    last = store.scalar("SELECT max(ts) FROM events WHERE event_type = 'purchase' AND item_id IS NOT NULL")
    if last is None:
        raise ConfigError(
            f"the store {store.location} has no purchase events with an item_id: reorder prediction needs the "
            "products of past orders (load orders first: growthkit ingest, datasets load or demo)"
        )
    end = as_cutoff(last if isinstance(last, datetime) else datetime.fromisoformat(str(last)))
    return datetime.combine(end.date() + timedelta(days=1), datetime.min.time())


def score_reorder(
    settings: Settings,
    *,
    cutoff: date | datetime | None = None,
    model: str = "lightgbm",
    params: Mapping[str, Any] | None = None,
    evaluate: bool = True,
    protocol: str = "last",
    train_on: str = "previous",
    window_days: int = 30,
) -> ReorderScores:
    """Fit on every user's last order, score each candidate of the next order into ``reorder_scores``.

    ``cutoff``: use only purchases before it (default: all). ``evaluate`` runs
    :func:`evaluate_reorder` first on the same data (``protocol="cutoff"`` tests the orders of the
    last ``window_days`` days before the cutoff).

    Examples
    --------
    >>> res = score_reorder(Settings(db="shop.duckdb"), params={"n_jobs": 2})  # doctest: +SKIP
    >>> res.table, res.evaluation.metric("lightgbm").f1_expected  # doctest: +SKIP
    ('reorder_scores', 0.40)
    """
    t0 = time.perf_counter()
    _check(protocol, train_on, window_days, 0.3)
    params = {"n_jobs": settings.threads, **dict(params or {})}
    est = _model(model, params)
    notes: list[str] = []
    with open_store(settings) as store:
        as_of = _as_of(store, cutoff)
        evaluation = None
        if evaluate:
            test_cut = as_of - timedelta(days=window_days) if protocol == "cutoff" else None
            evaluation = evaluate_reorder(
                store, protocol, train_on, cutoff=test_cut, window_days=window_days, before=as_of,
                model=model, params=params,
            )  # fmt: skip
        try:
            train = pairs(store, "last", before=as_of)
            now = pairs(store, "next", before=as_of)
            est.fit(train.x, train.y)
        except ReorderError as exc:
            raise ConfigError(str(exc)) from exc
        baskets = est.predict_baskets(now.x)
        frame = _frame(baskets, est.model, as_of)
        with store.transaction(), store.register("_reorder_in", pa.Table.from_pandas(frame, preserve_index=False)):
            store.execute(f"CREATE OR REPLACE TABLE {REORDER_TABLE} AS SELECT * FROM _reorder_in")
    per_user = frame.groupby("user_id")["selected"].sum()
    none = frame.groupby("user_id")["predict_none"].first()
    if est.calibrator_ is None:
        notes.append("too few held-out pairs to calibrate: probabilities are the learner's own")
    return ReorderScores(
        table=REORDER_TABLE,
        model=est.model,
        as_of=as_of,
        users=int(per_user.shape[0]),
        pairs=len(frame),
        selected=int(per_user.sum()),
        users_predict_none=int(none.sum()),
        mean_basket=float(per_user.mean()),
        calibration=est.describe_calibration(),
        threshold=float(est.threshold_),
        evaluation=evaluation,
        seconds=time.perf_counter() - t0,
        notes=tuple(notes),
    )


def _frame(baskets: pd.DataFrame, model: str, as_of: datetime) -> pd.DataFrame:
    """The ``reorder_scores`` rows: ids, probability, rank, the chosen basket, the run."""
    idx = baskets.index
    return pd.DataFrame(
        {
            "user_id": idx.get_level_values("user_id").astype(str),
            "item_id": idx.get_level_values("item_id").astype(str),
            "probability": baskets["probability"].to_numpy(np.float64),
            "rank": baskets["rank"].to_numpy(np.int64),
            "selected": baskets["selected"].to_numpy(bool),
            "predict_none": baskets["predict_none"].to_numpy(bool),
            "model": model,
            "as_of": as_of,
            "scored_at": datetime.now(UTC).replace(tzinfo=None),
        }
    )


def evaluate_reorder_dataset(
    settings: Settings,
    name: str,
    protocol: str = "last",
    train_on: str = "previous",
    *,
    cutoff: date | None = None,
    window_days: int = 30,
    model: str = "lightgbm",
    params: Mapping[str, Any] | None = None,
) -> ReorderEvaluation:
    """Load sample dataset ``name`` into a temporary store and evaluate a protocol on it.

    Examples
    --------
    >>> ev = evaluate_reorder_dataset(Settings(), "instacart-sample", params={"n_jobs": 2})  # doctest: +SKIP
    """
    if name in NO_PRODUCTS:
        raise ConfigError(
            f"{name} records no product ids (only amounts per purchase): reorder prediction does not apply"
        )
    cut = cutoff or (DATASET_CUTOFFS.get(name) if protocol == "cutoff" else None)
    if protocol == "cutoff" and cut is None:
        raise ConfigError(f"give a cutoff for dataset {name!r} (defaults exist for {', '.join(DATASET_CUTOFFS)})")
    with tempfile.TemporaryDirectory(prefix="growthkit-reorder-") as tmp:
        mem = settings.model_copy(update={"db": MEMORY_DB, "workspace": Path(tmp)})
        with open_store(mem) as store:
            load_dataset(name, store, mem)
            return evaluate_reorder(
                store, protocol, train_on, cutoff=cut, window_days=window_days, model=model, params=params
            )


def evaluate_reorder_simulated(
    settings: Settings,
    config: SimConfig,
    protocol: str = "last",
    train_on: str = "previous",
    *,
    cutoff_day: int | None = None,
    window_days: int = 30,
    model: str = "lightgbm",
    params: Mapping[str, Any] | None = None,
) -> ReorderEvaluation:
    """Evaluate a protocol on a simulated shop (``cutoff_day`` days after ``config.start`` for ``cutoff``)."""
    cut = None
    if protocol == "cutoff":
        day = cutoff_day if cutoff_day is not None else config.days - window_days
        cut = datetime.combine(config.start, datetime.min.time()) + timedelta(days=day)
    with open_store(settings.model_copy(update={"db": MEMORY_DB})) as store:
        load_simulation(store, config)
        return evaluate_reorder(
            store, protocol, train_on, cutoff=cut, window_days=window_days, model=model, params=params
        )
