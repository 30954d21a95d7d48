"""Calibration / holdout splits by time, and the labels of the holdout horizon.

A :class:`TimeSplit` cuts time at ``cutoff``: features come from the *calibration*
period (everything strictly before the cutoff, :func:`~growthkit.features.build_user_features`),
labels from the *horizon* ``[cutoff, cutoff + horizon)``. Churn and propensity models are
trained on one split and checked on a later one (:meth:`TimeSplit.shifted`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthkit.features._base import SHOP_EVENTS, FeatureError, as_cutoff, backend, id_table, restrict
from growthkit.features.users import known_users

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimeSplit:
    """Calibration ``ts < cutoff`` and horizon ``cutoff <= ts < horizon_end`` (naive UTC).

    ``observed_until`` is the exclusive end of the data when the split was made from a store
    (just after its latest event), else None.

    Examples
    --------
    >>> s = split_by_time(date(2025, 3, 1), 30)
    >>> s.horizon_end, s.horizon.days, s.complete
    (datetime.datetime(2025, 3, 31, 0, 0), 30, None)
    >>> s.shifted(-30).cutoff
    datetime.datetime(2025, 1, 30, 0, 0)
    """

    cutoff: datetime
    horizon_end: datetime
    observed_until: datetime | None = None

    def __post_init__(self) -> None:
        if self.horizon_end <= self.cutoff:
            raise FeatureError(f"the horizon must end after the cutoff ({self.horizon_end} <= {self.cutoff})")

    @property
    def horizon(self) -> timedelta:
        """Length of the horizon."""
        return self.horizon_end - self.cutoff

    @property
    def complete(self) -> bool | None:
        """Whether the data covers the whole horizon (None when unknown)."""
        return None if self.observed_until is None else self.horizon_end <= self.observed_until

    def calibration(self, table: ir.Table, ts: str = "ts") -> ir.Table:
        """Rows of ``table`` strictly before the cutoff."""
        return table.filter(table[ts] < ibis.literal(self.cutoff))

    def holdout(self, table: ir.Table, ts: str = "ts") -> ir.Table:
        """Rows of ``table`` inside the horizon ``[cutoff, horizon_end)``."""
        t = table[ts]
        return table.filter((t >= ibis.literal(self.cutoff)) & (t < ibis.literal(self.horizon_end)))

    def shifted(self, days: float) -> TimeSplit:
        """The same horizon moved by ``days`` (negative: earlier), e.g. for a backtest."""
        d = timedelta(days=days)
        return replace(self, cutoff=self.cutoff + d, horizon_end=self.horizon_end + d)


def _as_horizon(horizon: int | float | timedelta) -> timedelta:
    if isinstance(horizon, timedelta):
        h = horizon
    elif isinstance(horizon, int | float) and not isinstance(horizon, bool):
        h = timedelta(days=horizon)
    else:
        raise FeatureError(f"horizon must be a number of days or a timedelta, not {horizon!r}")
    if h <= timedelta(0):
        raise FeatureError(f"horizon must be positive, not {horizon!r}")
    return h


def split_by_time(cutoff: date | datetime, horizon: int | float | timedelta, store: Any | None = None) -> TimeSplit:
    """A :class:`TimeSplit` at ``cutoff`` with a horizon of ``horizon`` days (or a timedelta).

    With a ``store`` (or Ibis backend) the split records ``observed_until``, the end of the
    event data, and logs a warning when the horizon runs past it (labels would be censored).
    """
    cut = as_cutoff(cutoff)
    end = cut + _as_horizon(horizon)
    observed: datetime | None = None
    if store is not None:
        events = backend(store).table("events")
        latest = events.ts.max().execute()
        if latest is not None and latest == latest:  # not None, not NaT
            value = latest.to_pydatetime() if hasattr(latest, "to_pydatetime") else latest
            observed = as_cutoff(value) + timedelta(microseconds=1)
        else:
            observed = cut
    split = TimeSplit(cut, end, observed)
    if split.complete is False:
        log.warning("the horizon ends %s but the data ends %s: labels near the end are censored", end, observed)
    return split


def horizon_labels(
    store: Any,
    split: TimeSplit,
    *,
    users: Iterable[str] | None = None,
    churn_events: Sequence[str] | None = ("purchase",),
) -> pd.DataFrame:
    """Per-user outcomes in the horizon of ``split``, for the users known before its cutoff.

    Columns: ``purchases`` (purchase events), ``revenue`` (their amounts, gross),
    ``active_events`` (own actions: every event but ``coupon_received``), ``active`` (1 if
    ``active_events > 0``) and ``churned`` (1 if the user did none of ``churn_events`` in the
    horizon; ``churn_events=None`` means no own action at all). The rows are the users of
    :func:`~growthkit.features.build_user_features` at the same cutoff, so the two tables
    align on their index.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES "
    ...               "('1', 'ann', '2025-03-01', 'purchase', 10.0), ('2', 'bob', '2025-03-02', 'view', NULL), "
    ...               "('3', 'ann', '2025-03-20', 'purchase', 25.0), ('4', 'bob', '2025-03-21', 'view', NULL)")
    >>> horizon_labels(store, split_by_time(date(2025, 3, 10), 30))
             purchases  revenue  active_events  active  churned
    user_id
    ann              1     25.0              1       1        0
    bob              0      0.0              1       1        1
    """
    if churn_events is not None and not churn_events:
        raise FeatureError("churn_events must name at least one event type (or be None for any own action)")
    con = backend(store)
    ids = id_table(users)
    ev = split.holdout(restrict(con.table("events"), ids))
    et = ev.event_type
    own = ~et.isin(list(SHOP_EVENTS))
    keep = own if churn_events is None else et.isin(list(churn_events))
    agg = ev.group_by("user_id").aggregate(
        h_purchases=et.count(where=et == "purchase"),
        h_revenue=ev.amount.sum(where=et == "purchase"),
        h_active=et.count(where=own),
        h_keep=et.count(where=keep),
    )
    base = known_users(con, split.cutoff, ids)
    j = base.left_join(agg, base.user_id == agg.user_id)
    raw = j.select(base.user_id, agg.h_purchases, agg.h_revenue, agg.h_active, agg.h_keep).execute()
    raw = raw.assign(user_id=raw["user_id"].astype(str)).set_index("user_id").sort_index()
    out = pd.DataFrame(index=raw.index)
    out["purchases"] = raw["h_purchases"].fillna(0).astype("int64")
    out["revenue"] = raw["h_revenue"].fillna(0.0).astype("float64")
    out["active_events"] = raw["h_active"].fillna(0).astype("int64")
    out["active"] = (out["active_events"] > 0).astype("int64")
    out["churned"] = (raw["h_keep"].fillna(0) == 0).astype("int64")
    out.index.name = "user_id"
    return out
