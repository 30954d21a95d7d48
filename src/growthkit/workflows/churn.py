"""Use cases for churn and purchase propensity: evaluate on a backtest, score every user into ``scores``.

Time-based protocol (no user is ever scored on features that saw its label)::

    evaluate_churn(store, cutoff=c, horizon_days=H)
        train: features at c - H, labels in [c - H, c)
        test:  features at c,     labels in [c, c + H)     (needs data up to c + H)

    score_churn(settings, cutoff=s, horizon_days=H)        (s: by default the day after the last event)
        backtest: evaluate_churn at c = s - H (train at s - 2H), when the data reaches back that far
        fit:      features at s - H, labels in [s - H, s)
        score:    features at s -> the ``scores`` table

Every feature table of one run is built with the same category and channel lists (taken at
the earliest cutoff), so the columns agree across cutoffs. The population is every customer
(a purchase before the cutoff) for purchase churn, and every known user otherwise
(``population="customers"`` or ``"all"`` overrides it).

``scores`` holds one row per (user, target): scoring a target replaces that target's rows and
keeps the others, in one ``CREATE OR REPLACE`` inside a transaction (readers see the old or the
new table, never a mix), as :mod:`growthkit.workflows.clv` does for ``clv_scores``. The
backtest goes to ``churn_evaluation`` the same way. Both are derived tables, not part of the
data contract; the HTML report shows them when present (:func:`read_churn_report`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.features import build_user_features, horizon_labels, split_by_time
from growthkit.features._base import as_cutoff
from growthkit.features.context import top_categories
from growthkit.models.churn import (
    TARGETS,
    ChurnEvaluation,
    ChurnModel,
    evaluate_frames,
    first_reason,
    make_labels,
    reasons_json,
)
from growthkit.store import Store, open_store

log = logging.getLogger(__name__)

SCORES_TABLE = "scores"
EVALUATION_TABLE = "churn_evaluation"
POPULATIONS: tuple[str, ...] = ("customers", "all")
MAX_CATEGORIES = 10
MAX_CHANNELS = 10
DAY = timedelta(days=1)


def default_population(target: str, label_events: Sequence[str] | None) -> str:
    """``customers`` for "no purchase" churn, ``all`` for propensity and "no activity" churn."""
    purchase_churn = target == "churn" and label_events is not None and "purchase" in label_events
    return "customers" if purchase_churn else "all"


def feature_lists(store: Store, cutoff: date | datetime) -> tuple[list[str], list[str]]:
    """The top categories and channels before ``cutoff``, to build every table of a run with the same columns."""
    cut = as_cutoff(cutoff)
    con = store.ibis()
    ev = con.table("events")
    cats = top_categories(con, ev.filter(ev.ts < ibis.literal(cut)), MAX_CATEGORIES)
    rows = store.query(
        "SELECT channel, count(DISTINCT user_id) AS n FROM ("
        " SELECT user_id, channel FROM users WHERE channel IS NOT NULL AND signup_ts < ?"
        " UNION ALL SELECT user_id, channel FROM events WHERE channel IS NOT NULL AND ts < ?"
        ") GROUP BY 1 ORDER BY n DESC, channel LIMIT ?",
        [cut, cut, MAX_CHANNELS],
    ).to_pylist()
    return cats, [str(r["channel"]) for r in rows]


def data_end(store: Store) -> datetime:
    """The time of the store's latest event; a ConfigError when there is none."""
    last = store.scalar("SELECT max(ts) FROM events")
    if last is None:
        raise ConfigError(f"the store {store.location} has no events; load some first (growthkit ingest or demo)")
    return as_cutoff(last if isinstance(last, datetime) else datetime.fromisoformat(str(last)))


def _check_horizon(end: datetime, horizon_end: datetime, what: str) -> None:
    if end < horizon_end - DAY:  # the data may stop a few hours before midnight
        raise ConfigError(
            f"the {what} horizon runs to {horizon_end:%Y-%m-%d} but the data ends {end:%Y-%m-%d %H:%M}: "
            "labels would be censored; choose an earlier cutoff or a shorter horizon"
        )


def labelled_features(
    store: Store,
    cutoff: date | datetime,
    horizon_days: int,
    *,
    target: str = "churn",
    label_events: Sequence[str] | None = ("purchase",),
    population: str = "customers",
    lists: tuple[list[str], list[str]] | None = None,
    with_labels: bool = True,
) -> tuple[pd.DataFrame, pd.Series | None]:
    """Features at ``cutoff`` (the population's users) and, with labels, their 0/1 target in the horizon."""
    if population not in POPULATIONS:
        raise ConfigError(f"population must be one of {', '.join(POPULATIONS)}, not {population!r}")
    cats, chans = lists if lists is not None else feature_lists(store, cutoff)
    x = build_user_features(store, cutoff, categories=cats, channels=chans)
    if population == "customers":
        x = x[x["has_purchased"] == 1]
    if not with_labels:
        return x, None
    events = tuple(label_events) if label_events is not None else None
    outcomes = horizon_labels(store, split_by_time(cutoff, horizon_days), churn_events=events)
    return x, make_labels(outcomes, target).reindex(x.index).fillna(0).astype("int64")


def _model(
    target: str, horizon_days: int, label_events: Sequence[str] | None, model: str, params: Mapping[str, Any]
) -> ChurnModel:
    events = tuple(label_events) if label_events is not None else None
    return ChurnModel(target=target, horizon_days=horizon_days, label_events=events, model=model, **dict(params))


def evaluate_churn(
    store: Store,
    cutoff: date | datetime,
    horizon_days: int = 30,
    *,
    target: str = "churn",
    label_events: Sequence[str] | None = ("purchase",),
    population: str | None = None,
    model: str = "lightgbm",
    params: Mapping[str, Any] | None = None,
    extra_scores: Mapping[str, Any] | None = None,
) -> ChurnEvaluation:
    """Backtest at ``cutoff``: train on features at ``cutoff - H`` (labels in ``[cutoff - H, cutoff)``),
    test on features at ``cutoff`` (labels in ``[cutoff, cutoff + H)``), with the baselines.

    Parameters
    ----------
    store
        The shop (any growthkit store); needs events up to ``cutoff + horizon_days``.
    cutoff, horizon_days
        The test cutoff and the label horizon in days.
    target, label_events
        ``churn`` (none of ``label_events`` in the horizon; None: no own action) or ``purchase``
        (at least one).
    population
        ``customers`` (bought before the cutoff) or ``all``; default :func:`default_population`.
    model, params
        ``lightgbm`` or ``logistic`` and further :class:`~growthkit.models.churn.ChurnModel` arguments.
    extra_scores
        Further scorers of the test users (e.g. a simulator oracle), by name.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> with open_store(Settings(db="shop.duckdb"), read_only=True) as st:  # doctest: +SKIP
    ...     ev = evaluate_churn(st, date(2025, 5, 1), 30)
    >>> ev.to_frame()[["roc_auc", "brier", "lift_top_decile"]]  # doctest: +SKIP
    """
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise ConfigError(f"horizon_days must be a positive integer, not {horizon_days!r}")
    pop = population or default_population(target, label_events)
    test_cut = as_cutoff(cutoff)
    train_cut = test_cut - timedelta(days=horizon_days)
    _check_horizon(data_end(store), test_cut + timedelta(days=horizon_days), "test")
    lists = feature_lists(store, train_cut)
    kw: dict[str, Any] = {"target": target, "label_events": label_events, "population": pop, "lists": lists}
    x_train, y_train = labelled_features(store, train_cut, horizon_days, **kw)
    x_test, y_test = labelled_features(store, test_cut, horizon_days, **kw)
    if len(x_train) == 0 or len(x_test) == 0:
        raise ConfigError(f"no {pop} before {train_cut:%Y-%m-%d} or {test_cut:%Y-%m-%d}: choose a later cutoff")
    est = _model(target, horizon_days, label_events, model, params or {})
    ev = evaluate_frames(x_train, y_train, x_test, y_test, model=est, extra_scores=extra_scores)
    return replace(ev, train_cutoff=train_cut, test_cutoff=test_cut, population=pop)


@dataclass(frozen=True)
class ChurnScores:
    """What :func:`score_churn` wrote: the table, the run's settings, totals, and the backtest."""

    table: str
    target: str
    model: str
    horizon_days: int
    cutoff: datetime
    train_cutoff: datetime
    population: str
    users: int
    mean_score: float
    top_decile_mean: float
    at_risk_users: int
    at_risk_revenue: float
    total_revenue: float
    calibration: str
    evaluation: ChurnEvaluation | None
    seconds: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO strings, the backtest as a dict)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "evaluation"}
        out["cutoff"], out["train_cutoff"] = self.cutoff.isoformat(), self.train_cutoff.isoformat()
        out["notes"] = list(self.notes)
        out["seconds"] = round(self.seconds, 3)
        out["evaluation"] = self.evaluation.to_dict() if self.evaluation is not None else None
        return out


def risk_deciles(score: np.ndarray, margin: np.ndarray, ids: Sequence[str]) -> np.ndarray:
    """1 = the 10 % highest scores, ..., 10 = the lowest; ties broken by the raw margin, then user id."""
    n = len(score)
    order = np.lexsort((np.asarray(ids, dtype=object).astype(str), -margin, -score))
    dec = np.empty(n, dtype=np.int64)
    dec[order] = (np.arange(n) * 10) // max(n, 1) + 1
    return dec


def score_frame(est: ChurnModel, x: pd.DataFrame, cutoff: datetime, *, lang: str = "en", top: int = 3) -> pd.DataFrame:
    """The ``scores`` rows of the users of ``x``: score, risk decile, reasons (JSON) and the strongest reason."""
    score = est.predict_proba(x)[:, 1]
    margin = est.decision_function(x)
    reasons = est.explain(x, top=top, lang=lang)
    ids = [str(u) for u in x.index]
    money = x["monetary_total"].to_numpy(np.float64) if "monetary_total" in x else np.zeros(len(x))
    return pd.DataFrame(
        {
            "user_id": ids,
            "model": est.model,
            "target": est.target,
            "horizon_days": np.int64(est.horizon_days),
            "cutoff": cutoff,
            "score": score,
            "risk_decile": risk_deciles(score, margin, ids),
            "reasons": reasons_json(reasons, x.index).to_numpy(),
            "top_reason": first_reason(reasons, x.index).to_numpy(),
            "monetary_total": money,
        }
    )


def _replace_rows(store: Store, name: str, frame: pd.DataFrame, target: str) -> None:
    """Replace the rows of ``target`` in table ``name`` by ``frame`` (other targets kept), atomically."""
    view = f"_{name}_in"
    table = pa.Table.from_pandas(frame, preserve_index=False)
    keep = ""
    if name in store.tables():
        have = [str(r["column_name"]) for r in store.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [name]
        ).to_pylist()]  # fmt: skip
        if have == list(frame.columns):
            keep = f"SELECT * FROM {name} WHERE target <> '{target}' UNION ALL BY NAME "
    with store.transaction(), store.register(view, table):
        store.execute(f"CREATE OR REPLACE TABLE {name} AS {keep}SELECT * FROM {view}")


def _evaluation_rows(ev: ChurnEvaluation, created: datetime) -> pd.DataFrame:
    f = ev.to_frame().reset_index()
    f.insert(0, "target", ev.target)
    f["horizon_days"] = ev.horizon_days
    f["train_cutoff"] = ev.train_cutoff
    f["test_cutoff"] = ev.test_cutoff
    f["calibration"] = ev.calibration
    f["created_at"] = created
    return f


def score_churn(
    settings: Settings,
    *,
    target: str = "churn",
    horizon_days: int = 30,
    cutoff: date | datetime | None = None,
    label_events: Sequence[str] | None = ("purchase",),
    population: str | None = None,
    model: str = "lightgbm",
    params: Mapping[str, Any] | None = None,
    evaluate: bool = True,
    lang: str = "en",
    top: int = 3,
) -> ChurnScores:
    """Fit on the last complete horizon before ``cutoff`` and write every user's score to ``scores``.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> res = score_churn(Settings(db="shop.duckdb"), target="churn", horizon_days=30)  # doctest: +SKIP
    >>> ev = res.evaluation  # doctest: +SKIP
    >>> res.table, ev.metric("lightgbm").roc_auc > ev.metric("recency").roc_auc  # doctest: +SKIP
    ('scores', True)
    """
    t0 = time.perf_counter()
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise ConfigError(f"horizon_days must be a positive integer, not {horizon_days!r}")
    if target not in TARGETS:
        raise ConfigError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    pop = population or default_population(target, label_events)
    h = timedelta(days=horizon_days)
    notes: list[str] = []
    with open_store(settings) as store:
        end = data_end(store)
        cut = as_cutoff(cutoff) if cutoff is not None else datetime.combine(end.date() + DAY, datetime.min.time())
        train_cut = cut - h
        _check_horizon(end, cut, "training")
        first = store.scalar("SELECT min(ts) FROM events")
        evaluation = None
        if evaluate and as_cutoff(first) < train_cut - h:
            evaluation = evaluate_churn(
                store, train_cut, horizon_days, target=target, label_events=label_events, population=pop,
                model=model, params=params,
            )  # fmt: skip
        elif evaluate:
            notes.append(f"no backtest: the data starts {as_cutoff(first):%Y-%m-%d}, less than two horizons before")
        lists = feature_lists(store, train_cut)
        kw: dict[str, Any] = {"target": target, "label_events": label_events, "population": pop, "lists": lists}
        x_train, y_train = labelled_features(store, train_cut, horizon_days, **kw)
        x_now, _ = labelled_features(store, cut, horizon_days, **kw, with_labels=False)
        if len(x_train) == 0 or len(x_now) == 0:
            raise ConfigError(f"no {pop} before {train_cut:%Y-%m-%d}: nothing to learn from; choose a later cutoff")
        est = _model(target, horizon_days, label_events, model, params or {}).fit(x_train, y_train)
        frame = score_frame(est, x_now, cut, lang=lang, top=top)
        created = datetime.now(UTC).replace(tzinfo=None)
        frame["scored_at"] = created
        with store.transaction():  # the scores and their backtest always come from the same run
            _replace_rows(store, SCORES_TABLE, frame, target)
            if evaluation is not None:
                _replace_rows(store, EVALUATION_TABLE, _evaluation_rows(evaluation, created), target)
            elif EVALUATION_TABLE in store.tables():
                store.execute(f"DELETE FROM {EVALUATION_TABLE} WHERE target = ?", [target])
    risky = frame["risk_decile"] <= 2
    return ChurnScores(
        table=SCORES_TABLE,
        target=target,
        model=model,
        horizon_days=horizon_days,
        cutoff=cut,
        train_cutoff=train_cut,
        population=pop,
        users=len(frame),
        mean_score=float(frame["score"].mean()),
        top_decile_mean=float(frame.loc[frame["risk_decile"] == 1, "score"].mean()),
        at_risk_users=int(risky.sum()),
        at_risk_revenue=float(frame.loc[risky, "monetary_total"].sum()),
        total_revenue=float(frame["monetary_total"].sum()),
        calibration=est.describe_calibration(),
        evaluation=evaluation,
        seconds=time.perf_counter() - t0,
        notes=tuple(notes),
    )
