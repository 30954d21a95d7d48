"""Session statistics per user, before the cutoff.

A session is the ``session_id`` an event carries. Events without one are sessionised
per user by inactivity: a new session starts at a user's first such event and after
every gap of more than 30 minutes (:data:`~growthkit.features._base.SESSION_GAP_S`)
between consecutive events, computed in the engine with a ``lag`` window and a running
sum. Only browsing events count (not ``signup``, ``coupon_received``, ``refund``,
``review``, which happen outside a visit). A session cut by the cutoff counts with its
events before the cutoff.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthkit.features._base import NON_SESSION_TYPES, SESSION_GAP_S, seconds


def _per_session(keyed: ir.Table, key: str) -> ir.Table:
    s = keyed.group_by(["user_id", key]).aggregate(
        s_start=keyed.sec.min(),
        s_end=keyed.sec.max(),
        s_events=keyed.sec.count(),
        s_bought=(keyed.event_type == "purchase").cast("int64").max(),
    )
    return s.select("user_id", "s_start", "s_end", "s_events", "s_bought")


def session_aggregates(events: ir.Table) -> ir.Table:
    """One row per user with browsing events (``events`` already filtered to ``ts < cutoff``)."""
    e = events.filter(~events.event_type.isin(list(NON_SESSION_TYPES)))
    e = e.select("user_id", "ts", "event_type", "session_id", sec=seconds(e.ts))
    tagged = _per_session(e.filter(e.session_id.notnull()), "session_id")
    loose = e.filter(e.session_id.isnull())
    w = ibis.window(group_by="user_id", order_by="ts")
    loose = loose.mutate(prev=loose.sec.lag().over(w))
    loose = loose.mutate(new=ibis.ifelse(loose.prev.isnull() | (loose.sec - loose.prev > SESSION_GAP_S), 1, 0))
    loose = loose.mutate(
        gap_session=loose.new.sum().over(ibis.window(group_by="user_id", order_by="ts", rows=(None, 0)))
    )
    sessions = tagged.union(_per_session(loose, "gap_session"))
    return sessions.group_by("user_id").aggregate(
        s_sessions=sessions.s_start.count(),
        s_events=sessions.s_events.sum(),
        s_seconds=(sessions.s_end - sessions.s_start).sum(),
        s_converted=sessions.s_bought.sum(),
    )


def finish_sessions(raw: pd.DataFrame) -> pd.DataFrame:
    """``sessions``, ``events_per_session``, ``session_minutes_mean``, ``session_conversion`` (0 without sessions)."""
    n = raw["s_sessions"].fillna(0).to_numpy(dtype="float64")
    f = pd.DataFrame(index=raw.index)
    f["sessions"] = n.astype("int64")
    has = n > 0
    denom = n.copy()
    denom[~has] = 1.0
    f["events_per_session"] = (raw["s_events"].fillna(0).to_numpy(dtype="float64") / denom) * has
    f["session_minutes_mean"] = (raw["s_seconds"].fillna(0).to_numpy(dtype="float64") / denom / 60.0) * has
    f["session_conversion"] = (raw["s_converted"].fillna(0).to_numpy(dtype="float64") / denom) * has
    return f
