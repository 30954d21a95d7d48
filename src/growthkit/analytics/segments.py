"""Segment comparison: run any insight for a few user segments side by side.

An insight only ever reads its tables through ``con.table(name)``. A
:class:`SegmentedBackend` wraps an Ibis backend and hands out the same tables
restricted to one segment's users, so every insight (trends, funnels, AARRR,
...) can be split by segment without changing its code:

* tables with a ``user_id`` column (``events``, ``users``, ``reviews``, ...)
  keep the rows of the segment's users (a semi-join);
* ``edges`` keeps the edges that touch the segment (``src_user`` or
  ``dst_user`` is a member), so a member's referrer or invitee stays visible;
* other tables (``items``, ...) are unchanged.

A :class:`Segment` is either an explicit list of user ids (sent to the engine
as an ``ibis.memtable``) or the name of a saved segment: the rows of the store
table ``segments(name, user_id, created_at)`` with that name, read inside the
engine. :func:`compare` runs one insight for "all users" and each segment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, TypeVar

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.common.exceptions import TableNotFound

from growthkit.analytics._common import AnalyticsQueryError
from growthkit.errors import GrowthkitError

__all__ = [
    "ALL_USERS",
    "SEGMENTS_TABLE",
    "Segment",
    "SegmentComparison",
    "SegmentedBackend",
    "UnknownSegmentError",
    "compare",
    "saved_segment_names",
]

log = logging.getLogger(__name__)

ALL_USERS = "all users"
"""Name of the unsegmented row of a :class:`SegmentComparison`."""

SEGMENTS_TABLE = "segments"
"""Store table of saved segments: ``name VARCHAR, user_id VARCHAR, created_at TIMESTAMP``."""

Q = TypeVar("Q")
R = TypeVar("R")


class UnknownSegmentError(GrowthkitError, LookupError):
    """A saved segment name that the store does not have."""


@dataclass(frozen=True)
class Segment:
    """A named set of users: explicit ``user_ids``, or the saved segment ``saved`` (default: ``name``).

    Examples
    --------
    >>> Segment("vip", user_ids=("u1", "u2")).is_saved
    False
    >>> Segment("churn-risk").saved_name
    'churn-risk'
    """

    name: str
    user_ids: tuple[str, ...] | None = None
    saved: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise AnalyticsQueryError("a segment needs a name")
        if self.user_ids is not None and self.saved is not None:
            raise AnalyticsQueryError(f"segment {self.name!r}: give user_ids or a saved name, not both")
        if self.user_ids is not None:
            object.__setattr__(self, "user_ids", tuple(str(u) for u in self.user_ids))

    @classmethod
    def of(cls, name: str, user_ids: Sequence[str]) -> Segment:
        """A segment of explicit user ids (any sequence)."""
        return cls(name, user_ids=tuple(user_ids))

    @property
    def is_saved(self) -> bool:
        return self.user_ids is None

    @property
    def saved_name(self) -> str:
        return self.saved or self.name

    def members(self, con: Any) -> ir.Table:
        """A one-column table ``user_id`` of the segment's users (may repeat ids)."""
        if self.user_ids is not None:
            return ibis.memtable({"user_id": list(self.user_ids)}, schema={"user_id": "string"})
        name = self.saved_name
        available = saved_segment_names(con)
        if name not in available:
            have = ", ".join(available) if available else "none"
            raise UnknownSegmentError(f"no saved segment named {name!r}; saved segments: {have}")
        t = con.table(SEGMENTS_TABLE)
        return t.filter(t.name == name).select(user_id=t.user_id.cast("string"))


def _segments_table(con: Any) -> ir.Table | None:
    try:
        return con.table(SEGMENTS_TABLE)
    except TableNotFound:
        return None


def saved_segment_names(con: Any) -> list[str]:
    """Sorted names of the saved segments (empty when the store has no ``segments`` table)."""
    t = _segments_table(con)
    if t is None:
        return []
    names = t.select("name").distinct().execute()["name"]
    return sorted(str(n) for n in names.tolist() if n is not None)


class SegmentedBackend:
    """An Ibis backend whose tables only hold one segment's users.

    Pass it wherever an insight takes ``con``. Attributes other than
    :meth:`table` are those of the wrapped backend.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO events (event_id, user_id, ts, event_type) VALUES "
    ...               "('e1', 'a', '2025-01-01', 'view'), ('e2', 'b', '2025-01-01', 'view')")
    >>> seg = SegmentedBackend(store.ibis(), Segment.of("just a", ["a"]))
    >>> seg.table("events").count().execute()
    1
    """

    def __init__(self, con: Any, segment: Segment) -> None:
        self.con = con
        self.segment = segment
        self._members = segment.members(con)  # resolves (and checks) a saved name now

    def table(self, name: str, /, **kwargs: Any) -> ir.Table:
        t: ir.Table = self.con.table(name, **kwargs)
        m = self._members
        if name == "edges" and {"src_user", "dst_user"} <= set(t.columns):
            ids = m.select(_member=m.user_id).distinct()
            src = t.semi_join(ids, t.src_user == ids._member)
            dst = t.semi_join(ids, t.dst_user == ids._member)
            return src.union(dst, distinct=True)
        if "user_id" in t.columns and name != SEGMENTS_TABLE:
            ids = m.select(_member=m.user_id)
            return t.semi_join(ids, t.user_id == ids._member)
        return t

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.con, attr)

    def __repr__(self) -> str:
        return f"SegmentedBackend({self.segment.name!r})"


@dataclass(frozen=True)
class SegmentComparison:
    """One insight result per segment, ``"all users"`` first."""

    results: tuple[tuple[str, Any], ...]
    segments: tuple[Segment, ...]

    def __getitem__(self, name: str) -> Any:
        for n, r in self.results:
            if n == name:
                return r
        raise KeyError(f"no segment {name!r}; have {', '.join(n for n, _ in self.results)}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.results)

    def backend(self, con: Any, name: str) -> Any:
        """``con`` restricted to segment ``name`` (``con`` itself for ``"all users"``)."""
        if name == ALL_USERS:
            return con
        for s in self.segments:
            if s.name == name:
                return SegmentedBackend(con, s)
        raise KeyError(f"no segment {name!r}; have {', '.join(self.names)}")

    def actors(self, con: Any, name: str, *args: Any, **kwargs: Any) -> list[str]:
        """``result.actors(...)`` of segment ``name``, evaluated inside that segment."""
        ids: list[str] = self[name].actors(self.backend(con, name), *args, **kwargs)
        return ids

    def frame(self) -> pd.DataFrame:
        """Tidy frame: a ``segment`` column, then each result's ``to_frame()`` columns.

        Results without ``to_frame()`` are flattened: every number in the
        (nested) result dataclass becomes a row ``metric, value`` with the
        field path as the metric (``revenue.arpu``).
        """
        parts = []
        for name, result in self.results:
            df = result.to_frame() if hasattr(result, "to_frame") else _flatten(result)
            parts.append(df.assign(segment=name)[["segment", *df.columns]])
        out: pd.DataFrame = pd.concat(parts, ignore_index=True)
        return out


def _flatten(result: Any) -> pd.DataFrame:
    rows: list[tuple[str, float | None]] = []

    def walk(prefix: str, obj: Any) -> None:
        if is_dataclass(obj) and not isinstance(obj, type):
            for f in fields(obj):
                walk(f"{prefix}.{f.name}" if prefix else f.name, getattr(obj, f.name))
        elif isinstance(obj, int | float):  # bool is an int
            rows.append((prefix, float(obj)))

    walk("", result)
    return pd.DataFrame(rows, columns=["metric", "value"])


def compare(con: Any, run_fn: Callable[[Any, Q], R], query: Q, segments: Sequence[Segment]) -> SegmentComparison:
    """Run ``run_fn(con, query)`` for all users and for each segment.

    Parameters
    ----------
    con
        Ibis backend with the canonical tables.
    run_fn
        Any insight runner ``run_<insight>(con, query)``.
    query
        The insight's query, the same for every segment.
    segments
        Segments with distinct names (not ``"all users"``).

    Raises
    ------
    UnknownSegmentError
        A saved segment is not in the store; the message lists the saved ones.

    Examples
    --------
    >>> from datetime import date
    >>> from growthkit.analytics._common import DateRange
    >>> from growthkit.analytics.aarrr import AarrrQuery, run_aarrr
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO users (user_id, signup_ts, channel) VALUES "
    ...               "('a', '2025-01-01', 'ads'), ('b', '2025-01-02', 'organic')")
    >>> cmp = compare(store.ibis(), run_aarrr, AarrrQuery(DateRange(date(2025, 1, 1), date(2025, 1, 31))),
    ...               [Segment.of("ads only", ["a"])])
    >>> [(n, r.acquisition.new_users) for n, r in cmp.results]
    [('all users', 2), ('ads only', 1)]
    """
    names = [s.name for s in segments]
    if ALL_USERS in names:
        raise AnalyticsQueryError(f"{ALL_USERS!r} is reserved for the unsegmented result; rename that segment")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise AnalyticsQueryError(f"segment names must be distinct; repeated: {', '.join(dupes)}")
    backends = [SegmentedBackend(con, s) for s in segments]  # unknown saved names fail before any work
    results: list[tuple[str, Any]] = [(ALL_USERS, run_fn(con, query))]
    for s, b in zip(segments, backends, strict=True):
        log.debug("segment %s", s.name)
        results.append((s.name, run_fn(b, query)))
    return SegmentComparison(tuple(results), tuple(segments))
