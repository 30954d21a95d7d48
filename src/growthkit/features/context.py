"""Per-user context before the cutoff: category shares, acquisition channel, reviews, social graph.

Each function returns an Ibis expression with one row per user (or, for
:func:`top_categories`, the small list the category columns are made of).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthkit.features._base import unique_slugs

CATEGORY_EVENTS: tuple[str, ...] = ("view", "cart", "purchase")
"""Event types whose item's category counts towards the category shares."""

CATEGORY_SEP = " > "
"""Level separator of ``items.category`` (the data contract's category path)."""

OTHER = "other"


def has_table(con: Any, name: str) -> bool:
    """Whether the backend has the table ``name`` (a Spark session may hold only some)."""
    from ibis.common.exceptions import TableNotFound

    try:
        con.table(name)
    except TableNotFound:
        return False
    return True


def _categorised(con: Any, events: ir.Table) -> ir.Table:
    items = con.table("items")
    top = items.category.split(CATEGORY_SEP)[0].strip()
    cats = items.filter(items.category.notnull()).select(c_item=items.item_id, c_top=top)
    cats = cats.filter(cats.c_top != "")
    e = events.filter(events.event_type.isin(list(CATEGORY_EVENTS)) & events.item_id.notnull())
    j = e.inner_join(cats, e.item_id == cats.c_item)
    return j.select("user_id", "c_top")


def top_categories(con: Any, events: ir.Table, limit: int) -> list[str]:
    """The ``limit`` top-level categories with most view/cart/purchase events before the cutoff.

    Ties are broken by name; executes one small query.
    """
    if limit <= 0 or not has_table(con, "items"):
        return []
    j = _categorised(con, events)
    counts = j.group_by("c_top").aggregate(n=j.c_top.count())
    rows = counts.order_by([ibis.desc("n"), "c_top"]).limit(limit).execute()
    return [str(c) for c in rows["c_top"].tolist()]


def category_aggregates(con: Any, events: ir.Table, categories: Sequence[str]) -> ir.Table | None:
    """Per user: ``k_total`` categorised events and ``k_<i>`` those in ``categories[i]``."""
    if not categories or not has_table(con, "items"):
        return None
    j = _categorised(con, events)
    aggs: dict[str, ir.Value] = {"k_total": j.c_top.count()}
    for i, c in enumerate(categories):
        aggs[f"k_{i}"] = j.c_top.count(where=j.c_top == c)
    return j.group_by("user_id").aggregate(**aggs)


def finish_categories(raw: pd.DataFrame, categories: Sequence[str]) -> pd.DataFrame:
    """``cat_share__<slug>`` per category and ``cat_share__other``; all 0 without categorised events."""
    f = pd.DataFrame(index=raw.index)
    if not categories:
        return f
    total = raw["k_total"].fillna(0).to_numpy(dtype="float64")
    denom = np.where(total > 0, total, 1.0)
    named = np.zeros_like(total)
    for i, (_, s) in enumerate(unique_slugs(categories).items()):
        k = raw[f"k_{i}"].fillna(0).to_numpy(dtype="float64")
        named += k
        f[f"cat_share__{s}"] = k / denom
    f[f"cat_share__{OTHER}"] = np.clip((total - named) / denom, 0.0, 1.0)
    return f


def channel_aggregates(con: Any, events: ir.Table, users: ir.Table, cutoff: datetime) -> tuple[ir.Table, ir.Table]:
    """``(user_id, u_channel)`` from the users table and ``(user_id, e_channel)``: the channel of
    the user's earliest event that has one (ties: the alphabetically first).

    A users row counts only when its ``signup_ts`` is before the cutoff or missing (a row
    dated at or after the cutoff was written later, even if the user was active before).
    """
    dated = users.signup_ts.isnull() | (users.signup_ts.cast("timestamp") < ibis.literal(cutoff))
    u = users.filter(users.channel.notnull() & (users.channel != "") & dated)
    uch = u.group_by("user_id").aggregate(u_channel=u.channel.min())
    e = events.filter(events.channel.notnull() & (events.channel != "")).select("user_id", "ts", "channel")
    first = e.group_by("user_id").aggregate(f_ts=e.ts.min()).rename(f_user="user_id")
    j = e.inner_join(first, (e.user_id == first.f_user) & (e.ts == first.f_ts))
    ech = j.group_by("user_id").aggregate(e_channel=j.channel.min())
    return uch, ech


def finish_channels(channel: pd.Series, channels: Sequence[str] | None, limit: int) -> pd.DataFrame:
    """One-hot ``channel__<slug>`` columns; channels beyond the list go to ``channel__other``.

    Without an explicit list, the ``limit`` channels with most users are kept (ties by name);
    ``channel__other`` exists only when some user has a channel outside the list. A user with
    no known channel has 0 in every column.
    """
    f = pd.DataFrame(index=channel.index)
    known = channel.dropna().astype(str)
    if channels is None:
        counts = known.value_counts()
        order = sorted(counts.index, key=lambda c: (-int(counts[c]), c))
        chosen = order[: max(limit, 0)]
    else:
        chosen = list(dict.fromkeys(str(c) for c in channels))
    for c, s in unique_slugs(chosen).items():
        f[f"channel__{s}"] = (channel == c).fillna(False).astype("int64")
    rest = channel.notna() & ~channel.isin(chosen)
    if channels is not None or bool(rest.any()):
        f[f"channel__{OTHER}"] = rest.astype("int64")
    return f


def review_aggregates(con: Any, cutoff: datetime) -> ir.Table | None:
    """Per author: ``r_reviews`` written before the cutoff and the sentiment sum and count.

    Sentiment is the ``sentiment`` column in [-1, 1] when the reviews table has one, else
    the star rating mapped linearly, ``(rating - 3) / 2`` clipped to [-1, 1] (1 star -> -1,
    3 -> 0, 5 -> +1). Reviews without a time are left out (they cannot be placed before
    the cutoff).
    """
    if not has_table(con, "reviews"):
        return None
    r = con.table("reviews")
    r = r.filter(r.user_id.notnull() & r.ts.notnull() & (r.ts < ibis.literal(cutoff)))
    if "sentiment" in r.columns:
        score = r.sentiment.cast("float64")
    else:
        score = ((r.rating.cast("float64") - 3.0) / 2.0).clip(lower=-1.0, upper=1.0)
    return r.group_by("user_id").aggregate(r_reviews=r.user_id.count(), r_sent_sum=score.sum(), r_sent_n=score.count())


def graph_aggregates(con: Any, cutoff: datetime) -> ir.Table | None:
    """Per user: ``g_referrals`` (referral edges from the user) and ``g_degree`` (distinct
    neighbours over all edge kinds, either direction), counting edges made before the cutoff."""
    if not has_table(con, "edges"):
        return None
    ed = con.table("edges")
    ed = ed.filter(ed.ts.notnull() & (ed.ts < ibis.literal(cutoff)) & (ed.src_user != ed.dst_user))
    pairs = ed.select(user_id=ed.src_user, other=ed.dst_user).union(
        ed.select(user_id=ed.dst_user, other=ed.src_user), distinct=True
    )
    deg = pairs.group_by("user_id").aggregate(g_degree=pairs.other.count())
    ref = ed.filter(ed.kind == "referral")
    refs = ref.group_by(ref.src_user.name("user_id")).aggregate(g_referrals=ref.dst_user.count())
    return deg.left_join(refs, "user_id").select(deg.user_id, deg.g_degree, g_referrals=refs.g_referrals)


def finish_context(raw: pd.DataFrame) -> pd.DataFrame:
    """``reviews``, ``review_sentiment`` (0 = neutral without rated reviews), ``referrals``, ``social_degree``."""
    f = pd.DataFrame(index=raw.index)
    f["reviews"] = raw.get("r_reviews", pd.Series(0, index=raw.index)).fillna(0).astype("int64")
    n = raw.get("r_sent_n", pd.Series(0, index=raw.index)).fillna(0).to_numpy(dtype="float64")
    s = raw.get("r_sent_sum", pd.Series(0.0, index=raw.index)).fillna(0).to_numpy(dtype="float64")
    f["review_sentiment"] = np.divide(s, n, out=np.zeros_like(s), where=n > 0)
    f["referrals"] = raw.get("g_referrals", pd.Series(0, index=raw.index)).fillna(0).astype("int64")
    f["social_degree"] = raw.get("g_degree", pd.Series(0, index=raw.index)).fillna(0).astype("int64")
    return f
