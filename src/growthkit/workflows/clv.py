"""Use cases for customer lifetime value: summarise purchases, fit, check on a holdout, score into the store.

The per-customer summary is aggregated in the database (an Ibis expression over
``events``, so it runs on any engine the store offers), one row per customer;
:func:`growthkit.models.clv.rfm_from_aggregates` turns it into the models' input.
The sample datasets (``--dataset cdnow-sample``) are loaded into a temporary
in-memory store first and summarised by the same query.

``score_clv`` writes ``clv_scores`` (one row per customer) and, with a holdout
check, ``clv_holdout`` (one row per calibration-frequency bucket). Both are
derived tables, replaced as a whole inside one transaction each time (a reader
sees the old or the new table, never a mix); they are not part of the data
contract and need no migration. The HTML report shows ``clv_holdout`` when present.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from growthkit.config import MEMORY_DB, Settings
from growthkit.datasets import load as load_dataset
from growthkit.errors import ConfigError
from growthkit.models.clv import (
    BGNBD,
    GammaGamma,
    HoldoutBucket,
    HoldoutCheck,
    ParetoNBD,
    RFMSummary,
    customer_lifetime_value,
    holdout_check,
    rfm_from_aggregates,
)
from growthkit.models.clv.summary import Unit, epoch_day
from growthkit.store import Store, open_store

log = logging.getLogger(__name__)

MODELS: tuple[str, ...] = ("bgnbd", "paretonbd", "gammagamma")
TRANSACTION_MODELS: dict[str, type[BGNBD] | type[ParetoNBD]] = {"bgnbd": BGNBD, "paretonbd": ParetoNBD}
DATASET_PERIODS: dict[str, tuple[date, date]] = {
    "cdnow": (date(1997, 9, 30), date(1998, 6, 30)),
    "cdnow-sample": (date(1997, 9, 30), date(1998, 6, 30)),
}
"""Calibration and holdout ends of the papers' CDNOW analyses (39 + 39 weeks from 1997-01-01)."""

PERIOD_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
SCORES_TABLE = "clv_scores"
HOLDOUT_TABLE = "clv_holdout"


def store_summary(
    store: Store, *, calibration_end: date, holdout_end: date | None = None, unit: Unit = "W"
) -> RFMSummary:
    """The RFM summary of the store's ``purchase`` events, aggregated by the database.

    Purchase days are UTC days; a day with several purchases is one transaction whose
    spend is the sum of their ``amount`` (see :mod:`growthkit.models.clv.summary`).

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> with open_store(Settings(db=":memory:")) as st:
    ...     st.execute("INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES "
    ...                "('e1', 'u1', '2025-01-01 09:00', 'purchase', 10), "
    ...                "('e2', 'u1', '2025-01-01 18:00', 'purchase', 5), "
    ...                "('e3', 'u1', '2025-01-15 10:00', 'purchase', 30)")
    ...     s = store_summary(st, calibration_end=date(2025, 1, 28))
    >>> s.frame.loc["u1", ["frequency", "recency", "monetary_value"]].tolist()
    [1.0, 2.0, 30.0]
    """
    last = holdout_end or calibration_end
    cal = epoch_day(calibration_end)
    con = store.ibis()
    ev = con.table("events")
    end_ts = datetime.combine(last + timedelta(days=1), datetime.min.time())
    ev = ev.filter((ev.event_type == "purchase") & ev.user_id.notnull() & (ev.ts < ibis.literal(end_ts)))
    daily = ev.group_by(user_id=ev.user_id, day=ev.ts.date().epoch_days()).aggregate(spend=ev.amount.sum())
    daily = daily.mutate(first=daily.day.min().over(ibis.window(group_by=daily.user_id)))
    in_cal = daily.day <= cal
    repeat = in_cal & (daily.day > daily.first)
    hold = daily.day > cal
    agg = (
        daily.filter(daily.first <= cal)
        .group_by("user_id")
        .aggregate(
            first_day=daily.first.min(),
            last_day=daily.day.max(where=in_cal),
            cal_days=daily.day.count(where=in_cal),
            repeat_spend=daily.spend.sum(where=repeat),
            repeat_spend_days=daily.spend.count(where=repeat),
            hold_days=daily.day.count(where=hold),
            hold_spend=daily.spend.sum(where=hold),
            hold_spend_days=daily.spend.count(where=hold),
        )
    )
    frame = agg.to_pyarrow().to_pandas()
    return rfm_from_aggregates(frame, calibration_end=calibration_end, holdout_end=holdout_end, unit=unit)


def last_purchase_day(store: Store) -> date:
    """The UTC day of the store's latest purchase; a ConfigError when there is none."""
    last = store.scalar("SELECT max(ts) FROM events WHERE event_type = 'purchase'")
    if last is None:
        raise ConfigError(f"the store {store.location} has no purchase events: CLV models need purchases")
    return last.date() if isinstance(last, datetime) else date.fromisoformat(str(last)[:10])


def dataset_summary(
    settings: Settings,
    name: str,
    *,
    calibration_end: date | None = None,
    holdout_end: date | None = None,
    unit: Unit = "W",
) -> RFMSummary:
    """Fetch sample dataset ``name`` (cached), load it into a temporary store and summarise it.

    Calibration and holdout ends default to the papers' periods for the CDNOW datasets.
    """
    cal_default, hold_default = DATASET_PERIODS.get(name, (None, None))
    with tempfile.TemporaryDirectory(prefix="growthkit-clv-") as tmp:
        mem = settings.model_copy(update={"db": MEMORY_DB, "workspace": Path(tmp)})
        with open_store(mem) as store:
            load_dataset(name, store, mem)
            cal = calibration_end or cal_default or last_purchase_day(store)
            hold = holdout_end if holdout_end is not None or calibration_end is not None else hold_default
            return store_summary(store, calibration_end=cal, holdout_end=hold, unit=unit)


def summarise(
    settings: Settings,
    *,
    dataset: str | None = None,
    calibration_end: date | None = None,
    holdout_end: date | None = None,
    unit: Unit = "W",
) -> RFMSummary:
    """The summary of a sample dataset, or of the store named in ``settings`` (read-only; the
    calibration ends by default on the last purchase day)."""
    if dataset is not None:
        return dataset_summary(settings, dataset, calibration_end=calibration_end, holdout_end=holdout_end, unit=unit)
    with open_store(settings, read_only=not settings.is_memory) as store:
        cal = calibration_end or last_purchase_day(store)
        return store_summary(store, calibration_end=cal, holdout_end=holdout_end, unit=unit)


@dataclass(frozen=True)
class ClvFit:
    """A fitted CLV model: its parameters, log-likelihood, the data it saw and, with a holdout, the check."""

    model: str
    params: dict[str, float]
    log_likelihood: float
    customers: float
    distinct: int
    """Distinct (frequency, recency, T) triplets (or (frequency, spend) pairs) the fit ran on."""
    starts: int
    agreeing_starts: int
    converged: bool
    seconds: float
    calibration_end: date
    holdout_end: date | None
    unit: str
    holdout: HoldoutCheck | None = None
    extra: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO strings, the holdout check as a dict, ``extra`` merged in)."""
        out = _jsonable(self, skip=("extra",))
        return out | {"seconds": round(self.seconds, 4), **dict(self.extra)}


def _jsonable(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A result dataclass's fields as JSON-ready values."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        v = getattr(obj, f.name)
        if f.name in skip:
            continue
        if isinstance(v, HoldoutCheck):
            v = v.to_dict()
        elif isinstance(v, date):
            v = v.isoformat()
        elif isinstance(v, dict):
            v = dict(v)
        out[f.name] = v
    return out


def _check_model(model: str) -> None:
    if model not in MODELS:
        raise ConfigError(f"unknown CLV model {model!r}: use one of {', '.join(MODELS)}")


def fit_summary(summary: RFMSummary, model: str = "bgnbd", *, n_starts: int = 3) -> ClvFit:
    """Fit ``model`` (bgnbd, paretonbd or gammagamma) on a summary; with a holdout, check the forecast."""
    _check_model(model)
    est: BGNBD | ParetoNBD | GammaGamma
    extra: tuple[tuple[str, float], ...] = ()
    holdout = None
    if model == "gammagamma":
        est = GammaGamma(n_starts=n_starts).fit(summary)
        extra = (("mean_spend", est.mean_spend_), ("frequency_spend_corr", est.frequency_spend_corr_))
    else:
        est = TRANSACTION_MODELS[model](n_starts=n_starts).fit(summary)
        if summary.holdout_end is not None:
            holdout = holdout_check(est, summary)
    rep = est.fit_report_
    return ClvFit(
        model=model,
        params=dict(est.params_),
        log_likelihood=est.log_likelihood_,
        customers=est.n_customers_,
        distinct=rep.n_unique,
        starts=len(rep.starts),
        agreeing_starts=rep.agreeing_starts,
        converged=rep.converged,
        seconds=rep.seconds,
        calibration_end=summary.calibration_end,
        holdout_end=summary.holdout_end,
        unit=summary.unit,
        holdout=holdout,
        extra=extra,
    )


def fit_clv(
    settings: Settings,
    *,
    model: str = "bgnbd",
    dataset: str | None = None,
    calibration_end: date | None = None,
    holdout_end: date | None = None,
    unit: Unit = "W",
    n_starts: int = 3,
) -> ClvFit:
    """Fit a CLV model on a sample dataset or on the store named in ``settings``.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> fit = fit_clv(Settings(), model="bgnbd", dataset="cdnow-sample")  # doctest: +SKIP
    >>> {k: round(v, 3) for k, v in fit.params.items()}  # doctest: +SKIP
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    """
    _check_model(model)
    summary = summarise(settings, dataset=dataset, calibration_end=calibration_end, holdout_end=holdout_end, unit=unit)
    return fit_summary(summary, model, n_starts=n_starts)


@dataclass(frozen=True)
class ClvScores:
    """What :func:`score_clv` wrote: the table, the models' parameters, the horizon and the totals."""

    table: str
    customers: int
    model: str
    params: dict[str, float]
    spend_params: dict[str, float] | None
    calibration_end: date
    unit: str
    horizon: int
    period_days: float
    discount_rate: float
    expected_purchases: float
    total_clv: float | None
    mean_p_alive: float
    holdout: HoldoutCheck | None
    seconds: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO strings, the holdout check as a dict)."""
        return _jsonable(self) | {"seconds": round(self.seconds, 3), "notes": list(self.notes)}


def score_frame(
    summary: RFMSummary,
    transactions: BGNBD | ParetoNBD,
    spend: GammaGamma | None,
    *,
    horizon: int,
    period_days: float,
    discount_rate: float,
) -> pd.DataFrame:
    """Per customer: the summary, P(alive), expected purchases over the horizon, expected spend and CLV.

    Without a spend model (no amounts recorded) ``expected_spend`` and ``clv`` are NaN.
    """
    period = period_days / summary.unit_days
    f = summary.frame
    out = pd.DataFrame(
        {
            "user_id": f.index.astype(str),
            "frequency": f["frequency"].to_numpy(np.int64),
            "recency": f["recency"].to_numpy(np.float64),
            "T": f["T"].to_numpy(np.float64),
            "monetary_value": f["monetary_value"].to_numpy(np.float64),
            "p_alive": transactions.p_alive(f).to_numpy(),
            "expected_purchases": transactions.expected_purchases(f, horizon * period).to_numpy(),
        }
    )
    if spend is None:
        out["expected_spend"] = np.nan
        out["clv"] = np.nan
    else:
        out["expected_spend"] = spend.expected_spend(f).to_numpy()
        clv = customer_lifetime_value(
            transactions, spend, f, horizon=horizon, period=period, discount_rate=discount_rate
        )
        out["clv"] = clv.to_numpy()
    return out


def _replace_table(store: Store, name: str, table: pa.Table) -> None:
    """Replace table ``name`` by ``table`` in one transaction (readers see the old or the new one)."""
    view = f"_{name}_in"
    with store.transaction(), store.register(view, table):
        store.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {view}")


def _holdout_rows(check: HoldoutCheck, created: datetime) -> pa.Table:
    n = len(check.buckets)
    return pa.table(
        {
            "frequency": [b.label for b in check.buckets],
            "customers": pa.array([b.customers for b in check.buckets], pa.int64()),
            "actual": [b.actual for b in check.buckets],
            "predicted": [b.predicted for b in check.buckets],
            "model": [check.model] * n,
            "params": [", ".join(f"{k}={v:.6g}" for k, v in check.params.items())] * n,
            "calibration_end": [check.calibration_end] * n,
            "holdout_end": [check.holdout_end] * n,
            "duration": [check.duration] * n,
            "unit": [check.unit] * n,
            "created_at": pa.array([created] * n, pa.timestamp("us")),
        }
    )


def read_holdout(store: Store) -> HoldoutCheck | None:
    """The holdout check saved by :func:`score_clv` (``clv_holdout``), or None when there is none."""
    if HOLDOUT_TABLE not in store.tables():
        return None
    rows = store.query(f"SELECT * FROM {HOLDOUT_TABLE}").to_pylist()
    if not rows:
        return None
    first = rows[0]
    params: dict[str, float] = {}
    for part in str(first["params"] or "").split(", "):
        if "=" in part:
            k, v = part.split("=", 1)
            params[k] = float(v)
    return HoldoutCheck(
        model=str(first["model"]),
        params=params,
        calibration_end=first["calibration_end"],
        holdout_end=first["holdout_end"],
        duration=float(first["duration"]),
        unit=str(first["unit"]),
        buckets=tuple(
            HoldoutBucket(str(r["frequency"]), int(r["customers"]), float(r["actual"]), float(r["predicted"]))
            for r in rows
        ),
    )


def _fit_spend(summary: RFMSummary, n_starts: int, notes: list[str]) -> GammaGamma | None:
    try:
        return GammaGamma(n_starts=n_starts).fit(summary)
    except ConfigError as exc:
        notes.append(f"no spend model, so no CLV in money: {exc}")
        return None


def score_clv(
    settings: Settings,
    *,
    model: str = "bgnbd",
    horizon: int = 12,
    period: str = "month",
    discount_rate: float = 0.01,
    calibration_end: date | None = None,
    holdout_days: int | None = None,
    unit: Unit = "W",
    n_starts: int = 3,
) -> ClvScores:
    """Fit a transaction model and Gamma-Gamma on the store's purchases and write ``clv_scores``.

    Parameters
    ----------
    model
        ``bgnbd`` or ``paretonbd``.
    horizon, period, discount_rate
        CLV over ``horizon`` periods (``day``, ``week`` or ``month``), discounted at
        ``discount_rate`` per period (see :func:`growthkit.models.clv.customer_lifetime_value`).
    calibration_end
        Last day of data used (default: the last purchase day).
    holdout_days
        Also check the model: refit it on the data up to ``holdout_days`` before
        ``calibration_end``, compare its forecast with the purchases of those last days and
        save the comparison as ``clv_holdout`` (shown by the HTML report). Without it, an earlier
        ``clv_holdout`` is dropped, so that the scores and the check always come from one run.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> res = score_clv(Settings(db="shop.duckdb"), horizon=12, holdout_days=91)  # doctest: +SKIP
    >>> res.table, res.holdout.total_predicted > 0  # doctest: +SKIP
    ('clv_scores', True)
    """
    t0 = time.perf_counter()
    if model not in TRANSACTION_MODELS:
        raise ConfigError(f"score with a transaction model: {', '.join(TRANSACTION_MODELS)} (got {model!r})")
    if period not in PERIOD_DAYS:
        raise ConfigError(f"period must be one of {', '.join(PERIOD_DAYS)}, got {period!r}")
    if holdout_days is not None and holdout_days < 1:
        raise ConfigError(f"holdout_days must be at least 1, got {holdout_days}")
    if horizon < 1 or not discount_rate > -1:
        raise ConfigError(f"need horizon >= 1 and discount_rate > -1, got {horizon} and {discount_rate}")
    notes: list[str] = []
    with open_store(settings) as store:
        cal = calibration_end or last_purchase_day(store)
        summary = store_summary(store, calibration_end=cal, unit=unit)
        if len(summary) == 0:
            raise ConfigError(f"no customer bought on or before {cal}: nothing to score")
        tx = TRANSACTION_MODELS[model](n_starts=n_starts).fit(summary)
        spend = _fit_spend(summary, n_starts, notes)
        frame = score_frame(
            summary, tx, spend, horizon=horizon, period_days=PERIOD_DAYS[period], discount_rate=discount_rate
        )
        created = datetime.now(UTC).replace(tzinfo=None)
        frame["model"] = model
        frame["calibration_end"] = cal
        frame["scored_at"] = created
        check = None
        if holdout_days is not None:
            split = cal - timedelta(days=holdout_days)
            past = store_summary(store, calibration_end=split, holdout_end=cal, unit=unit)
            if len(past) == 0:
                raise ConfigError(f"no customer bought on or before {split}: shorten --holdout-days")
            check = holdout_check(TRANSACTION_MODELS[model](n_starts=n_starts).fit(past), past)
        with store.transaction():  # the scores and the check always come from the same run
            _replace_table(store, SCORES_TABLE, pa.Table.from_pandas(frame, preserve_index=False))
            if check is not None:
                _replace_table(store, HOLDOUT_TABLE, _holdout_rows(check, created))
            else:
                store.execute(f"DROP TABLE IF EXISTS {HOLDOUT_TABLE}")
    clv = frame["clv"].to_numpy(np.float64)
    return ClvScores(
        table=SCORES_TABLE,
        customers=len(frame),
        model=model,
        params=dict(tx.params_),
        spend_params=dict(spend.params_) if spend else None,
        calibration_end=cal,
        unit=unit,
        horizon=horizon,
        period_days=PERIOD_DAYS[period],
        discount_rate=discount_rate,
        expected_purchases=float(frame["expected_purchases"].sum()),
        total_clv=float(np.nansum(clv)) if spend else None,
        mean_p_alive=float(frame["p_alive"].mean()),
        holdout=check,
        seconds=time.perf_counter() - t0,
        notes=tuple(notes),
    )
