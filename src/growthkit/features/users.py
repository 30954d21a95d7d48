"""The point-in-time user feature table: :func:`build_user_features`.

Who is in the table
    Every user *known before the cutoff*: a ``users`` row with ``signup_ts < cutoff``, or
    at least one event with ``ts < cutoff``. A user whose signup is at or after the cutoff
    and who has no earlier event is not in the table; nor is a ``users`` row without a
    signup time and without events (nothing places it before the cutoff).

What may be used
    Only rows strictly before the cutoff: events and reviews with ``ts < cutoff``, edges
    made before it, ``users`` rows with ``signup_ts < cutoff``. Appending any row at or after
    the cutoff leaves the table unchanged (tested). Two exceptions, both dimension attributes
    without a time: ``users.channel`` of a users row without ``signup_ts``, and
    ``items.category``.

How it runs
    The per-user aggregates are Ibis expressions (one scan per family) joined on
    ``user_id`` into one expression that the engine executes once; the optional category
    list and the text pairs are one small query each. Only cheap per-row arithmetic
    (ratios, fill rules, one-hot channels) happens in pandas, vectorised.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthkit.features._base import (
    ACTIVITY_TYPES,
    FeatureError,
    as_cutoff,
    backend,
    check_windows,
    id_table,
    restrict,
    seconds,
)
from growthkit.features.activity import activity_aggregates, finish_activity
from growthkit.features.context import (
    category_aggregates,
    channel_aggregates,
    finish_categories,
    finish_channels,
    finish_context,
    graph_aggregates,
    review_aggregates,
    top_categories,
)
from growthkit.features.sessions import finish_sessions, session_aggregates
from growthkit.features.text import mean_embeddings, text_features, text_pairs
from growthkit.text.embed import Embedder

log = logging.getLogger(__name__)


def known_users(con: Any, cutoff: datetime, ids: ir.Table | None = None) -> ir.Table:
    """``(user_id, p_signup_s)``: the users known before ``cutoff`` (see the module docstring).

    ``p_signup_s`` is the earliest ``users.signup_ts`` before the cutoff in epoch seconds (NULL
    when the user is known only from events).
    """
    cut = ibis.literal(cutoff)
    ev = restrict(con.table("events"), ids)
    us = restrict(con.table("users"), ids)
    us = us.filter(us.signup_ts.notnull() & (us.signup_ts.cast("timestamp") < cut))
    sig = us.group_by("user_id").aggregate(p_signup_s=seconds(us.signup_ts.cast("timestamp")).min())
    seen = ev.filter(ev.ts < cut).select("user_id")
    everyone = sig.select("user_id").union(seen, distinct=True)
    j = everyone.left_join(sig, "user_id")
    return j.select(everyone.user_id, sig.p_signup_s)


def _join_all(base: ir.Table, parts: Sequence[ir.Table]) -> ir.Table:
    out = base
    for p in parts:
        cols = [c for c in p.columns if c != "user_id"]
        j = out.left_join(p, out.user_id == p.user_id)
        out = j.select(*[j[c] for c in out.columns], *[p[c] for c in cols])
    return out


def build_user_features(
    store: Any,
    cutoff: date | datetime,
    *,
    windows: Sequence[int] = (7, 30, 90),
    users: Iterable[str] | None = None,
    embedder: Embedder | None = None,
    text_components: int = 4,
    activity_types: Sequence[str] = ACTIVITY_TYPES,
    categories: Sequence[str] | None = None,
    max_categories: int = 10,
    channels: Sequence[str] | None = None,
    max_channels: int = 10,
) -> pd.DataFrame:
    """The user feature table as of ``cutoff``, built only from data strictly before it.

    Every column is documented in :data:`growthkit.features.FEATURES` and
    ``docs/features.md``. Every value is finite (no NaN, no infinity): the missing-value
    rule of each column is part of its definition, so gradient boosting and k-means (after
    scaling) both take the table as it is.

    Parameters
    ----------
    store : Store or Ibis backend
        Where the canonical tables live (``store.ibis()`` is used for a growthkit store).
    cutoff : date or datetime
        The point in time; a date means its midnight, naive datetimes are UTC.
    windows : sequence of int
        Day windows ``[cutoff - w days, cutoff)`` of the activity counts and amounts.
    users : iterable of str, optional
        Only these users (those of them known before the cutoff).
    embedder : Embedder, optional
        Adds ``has_text`` and ``text_pc1..text_components`` (see :mod:`growthkit.features.text`);
        without one the table has no text columns.
    text_components : int
        Number of principal components of the users' mean text embeddings.
    activity_types : sequence of str
        Event types counted per window.
    categories : sequence of str, optional
        Top-level categories for ``cat_share__*``; default: the ``max_categories`` most
        viewed, carted or bought before the cutoff. Pass the list to get the same columns
        at another cutoff.
    max_categories : int
        How many categories to pick when ``categories`` is not given.
    channels : sequence of str, optional
        Acquisition channels for ``channel__*``; default: the ``max_channels`` most common.
    max_channels : int
        How many channels to pick when ``channels`` is not given.

    Returns
    -------
    pandas.DataFrame
        One row per user known before the cutoff, index ``user_id`` (sorted), int64 counts and
        flags, float64 everything else.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES "
    ...               "('1', 'ann', '2025-03-01 10:00', 'signup', NULL), "
    ...               "('2', 'ann', '2025-03-08 10:00', 'purchase', 30.0), "
    ...               "('3', 'ann', '2025-03-20 10:00', 'purchase', 99.0)")
    >>> f = build_user_features(store, date(2025, 3, 10))
    >>> f.loc["ann", ["tenure_days", "recency_days", "frequency", "monetary_total"]].tolist()
    [8.583333333333334, 1.5833333333333333, 1.0, 30.0]
    """
    cut = as_cutoff(cutoff)
    wins = check_windows(windows)
    if isinstance(text_components, bool) or not isinstance(text_components, int) or text_components < 1:
        raise FeatureError(f"text_components must be a positive integer, not {text_components!r}")
    con = backend(store)
    ids = id_table(users)
    ev = restrict(con.table("events"), ids)
    ev = ev.filter(ev.ts < ibis.literal(cut))
    cats = list(categories) if categories is not None else top_categories(con, ev, max_categories)

    base = known_users(con, cut, ids)
    parts: list[ir.Table] = [activity_aggregates(ev, cut, wins, activity_types), session_aggregates(ev)]
    parts.extend(p for p in (review_aggregates(con, cut), graph_aggregates(con, cut)) if p is not None)
    cat_part = category_aggregates(con, ev, cats)
    if cat_part is not None:
        parts.append(cat_part)
    parts.extend(channel_aggregates(con, ev, restrict(con.table("users"), ids), cut))
    arrow = _join_all(base, parts).to_pyarrow()
    raw = arrow.to_pandas(split_blocks=True, self_destruct=True)  # numbers as float64 with NaN for NULL
    del arrow
    raw = raw.set_index(raw["user_id"].astype(str).rename("user_id")).drop(columns="user_id").sort_index()
    raw["born_s"] = np.fmin(raw["p_signup_s"].astype("float64"), raw["a_first_s"].astype("float64"))

    blocks = [
        finish_activity(raw, cut, wins, activity_types),
        finish_sessions(raw),
        finish_context(raw),
        finish_categories(raw, cats),
        finish_channels(raw["u_channel"].fillna(raw["e_channel"]), channels, max_channels),
    ]
    if embedder is not None:
        pairs = text_pairs(con, cut, ids).execute()
        blocks.append(text_features(mean_embeddings(pairs, embedder), raw.index, text_components))
    out = pd.concat(blocks, axis=1)
    out.index.name = "user_id"
    log.info("built %d features for %d users as of %s", out.shape[1], out.shape[0], cut.isoformat())
    return out
