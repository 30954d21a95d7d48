"""Per-user aggregates of the event log before the cutoff: RFM, windows, trend, price, coupons, social.

One ``group_by(user_id)`` over the events with ``ts < cutoff``; every feature is a
conditional aggregate (``count(where=...)``, ``sum(where=...)``), so the whole family
is a single scan. :func:`finish_activity` turns the raw aggregates into the documented
features (ratios, days, missing-value rules) on the executed frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthkit.features._base import AMOUNT_TYPES, DAY_S, SHOP_EVENTS, epoch_s, json_property, seconds

TREND_DAYS = 30
"""Length of the two windows compared by the ``trend_*`` features (last 30 vs the 30 before)."""

COUPON_KEYS: tuple[str, ...] = ("coupon_id", "coupon")
"""Event properties that mark a purchase as made with a coupon."""

PROMO_KEYS: tuple[str, ...] = ("promotion", "discount")
"""Event properties that mark a purchase as made in a promotion or at a discount."""


def _any_property(props: ir.Value, keys: Sequence[str]) -> ir.BooleanValue:
    flag: ir.BooleanValue = ibis.literal(False)
    for k in keys:
        flag = flag | json_property(props, k).notnull()
    return flag


def _bucket(ts: ir.TimestampValue, cutoff: datetime, bounds: Sequence[int]) -> ir.IntegerValue:
    """Age bucket: the smallest ``k`` with ``ts >= cutoff - bounds[k] days``, else ``len(bounds)``."""
    cases = [(ts >= ibis.literal(cutoff - timedelta(days=d)), k) for k, d in enumerate(bounds)]
    out: ir.IntegerValue = ibis.cases(*cases, else_=len(bounds))
    return out


def activity_aggregates(
    events: ir.Table,
    cutoff: datetime,
    windows: Sequence[int],
    activity_types: Sequence[str],
) -> ir.Table:
    """One row per user with events before ``cutoff`` (``events`` must already be filtered to ``ts < cutoff``).

    Columns are raw aggregates prefixed ``a_`` (epoch seconds, counts, sums) and the window
    columns; see :func:`finish_activity` for the features made from them.

    Two levels keep the many conditional aggregates cheap: the events are first grouped by
    user, event type and age bucket (the buckets are cut at every window and trend boundary),
    and the per-user columns are conditional sums over those groups; distinct days come from
    a second grouping by user and UTC day.
    """
    bounds = sorted({*windows, TREND_DAYS, 2 * TREND_DAYS})
    upto = {d: k for k, d in enumerate(bounds)}  # "in the last d days" <=> bucket <= upto[d]
    e = events
    props = e.properties
    qty = ibis.ifelse(e.quantity.notnull() & (e.quantity > 0), e.quantity, 1.0)
    g = e.group_by(["user_id", "event_type", _bucket(e.ts, cutoff, bounds).name("bucket")]).aggregate(
        n=e.event_type.count(),
        amount=e.amount.sum(),
        units=qty.sum(where=e.amount.notnull()),
        first_s=seconds(e.ts).min(),
        last_s=seconds(e.ts).max(),
        coupon=e.event_type.count(where=_any_property(props, COUPON_KEYS)),
        promo=e.event_type.count(where=_any_property(props, PROMO_KEYS)),
        invitee=e.event_type.count(where=json_property(props, "invitee").notnull()),
    )
    t, b = g.event_type, g.bucket
    is_p, acts = t == "purchase", ~t.isin(list(SHOP_EVENTS))
    priced = t.isin(["cart", "purchase"])
    last, prev = b <= upto[TREND_DAYS], (b > upto[TREND_DAYS]) & (b <= upto[2 * TREND_DAYS])
    aggs: dict[str, ir.Value] = {
        "a_first_s": g.first_s.min(),
        "a_last_s": g.last_s.max(where=acts),
        "a_last_purchase_s": g.last_s.max(where=is_p),
        "a_events": g.n.sum(where=acts),
        "a_purchases": g.n.sum(where=is_p),
        "a_purchase_amount": g.amount.sum(where=is_p),
        "a_refunds": g.n.sum(where=t == "refund"),
        "a_refund_amount": g.amount.sum(where=t == "refund"),
        "a_priced_amount": g.amount.sum(where=priced),
        "a_priced_units": g.units.sum(where=priced),
        "a_events_last": g.n.sum(where=acts & last),
        "a_events_prev": g.n.sum(where=acts & prev),
        "a_revenue_last": g.amount.sum(where=is_p & last),
        "a_revenue_prev": g.amount.sum(where=is_p & prev),
        "a_coupons_received": g.n.sum(where=t == "coupon_received"),
        "a_coupons_redeemed": g.n.sum(where=t == "coupon_redeemed"),
        "a_coupon_purchases": g.coupon.sum(where=is_p),
        "a_promo_purchases": g.promo.sum(where=is_p),
        "a_shares": g.n.sum(where=t == "share"),
        "a_invites": g.n.sum(where=t == "invite"),
        "a_invites_accepted": g.invitee.sum(where=t == "invite"),
    }
    for w in windows:
        inside = b <= upto[w]
        for typ in activity_types:
            aggs[f"{typ}_count_{w}d"] = g.n.sum(where=inside & (t == typ))
        for typ in AMOUNT_TYPES:
            aggs[f"{typ}_amount_{w}d"] = g.amount.sum(where=inside & (t == typ))
    per_user = g.group_by("user_id").aggregate(**aggs)

    own = e.filter(~e.event_type.isin(list(SHOP_EVENTS)))
    days = own.group_by(["user_id", own.ts.date().name("day")]).aggregate(
        d_last=own.ts.max(), d_purchases=own.event_type.count(where=own.event_type == "purchase")
    )
    day_aggs: dict[str, ir.Value] = {"a_purchase_days": days.day.count(where=days.d_purchases > 0)}
    for w in windows:
        day_aggs[f"active_days_{w}d"] = days.day.count(where=days.d_last >= ibis.literal(cutoff - timedelta(days=w)))
    per_day = days.group_by("user_id").aggregate(**day_aggs)
    j = per_user.left_join(per_day, per_user.user_id == per_day.user_id)
    return j.select(per_user, *[per_day[c] for c in day_aggs])


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """``num / den``, 0 where ``den`` is 0."""
    n = num.to_numpy(dtype="float64")
    d = den.to_numpy(dtype="float64")
    out = np.divide(n, d, out=np.zeros_like(n), where=d != 0)
    return pd.Series(out, index=num.index)


def _trend(last: pd.Series, prev: pd.Series) -> pd.Series:
    """``(last - prev) / (last + prev)`` in [-1, 1]; 0 when both are 0 (no change)."""
    return _ratio(last - prev, last + prev)


def finish_activity(
    raw: pd.DataFrame, cutoff: datetime, windows: Sequence[int], activity_types: Sequence[str]
) -> pd.DataFrame:
    """The activity features from the raw aggregates joined to the population.

    ``raw`` has one row per user (index ``user_id``) with ``born_s`` (epoch seconds) and the
    ``a_*`` and window columns of :func:`activity_aggregates` (NaN for users without events).
    """
    c = epoch_s(cutoff)
    f = pd.DataFrame(index=raw.index)

    def z(name: str) -> pd.Series:
        return raw[name].fillna(0)

    tenure = (c - raw["born_s"]) / DAY_S
    f["tenure_days"] = tenure
    f["recency_days"] = ((c - raw["a_last_purchase_s"]) / DAY_S).fillna(tenure)
    f["days_since_last_event"] = ((c - raw["a_last_s"]) / DAY_S).fillna(tenure)
    f["has_purchased"] = (z("a_purchases") > 0).astype("int64")
    f["frequency"] = z("a_purchases").astype("int64")
    f["purchase_days"] = z("a_purchase_days").astype("int64")
    f["monetary_total"] = z("a_purchase_amount").astype("float64")
    f["monetary_mean"] = _ratio(z("a_purchase_amount"), z("a_purchases"))
    f["net_revenue"] = (z("a_purchase_amount") - z("a_refund_amount")).astype("float64")
    f["events_total"] = z("a_events").astype("int64")
    for w in windows:
        for t in activity_types:
            f[f"{t}_count_{w}d"] = raw[f"{t}_count_{w}d"].fillna(0).astype("int64")
        for t in AMOUNT_TYPES:
            f[f"{t}_amount_{w}d"] = raw[f"{t}_amount_{w}d"].fillna(0.0).astype("float64")
        f[f"active_days_{w}d"] = raw[f"active_days_{w}d"].fillna(0).astype("int64")
    f[f"trend_events_{TREND_DAYS}d"] = _trend(z("a_events_last"), z("a_events_prev"))
    f[f"trend_revenue_{TREND_DAYS}d"] = _trend(z("a_revenue_last"), z("a_revenue_prev"))
    f["avg_unit_price"] = _ratio(z("a_priced_amount"), z("a_priced_units"))
    f["coupons_received"] = z("a_coupons_received").astype("int64")
    f["coupons_redeemed"] = z("a_coupons_redeemed").astype("int64")
    f["coupon_redeem_rate"] = _ratio(z("a_coupons_redeemed"), z("a_coupons_received")).clip(upper=1.0)
    f["coupon_purchase_share"] = _ratio(z("a_coupon_purchases"), z("a_purchases"))
    f["promo_purchase_share"] = _ratio(z("a_promo_purchases"), z("a_purchases"))
    f["refunds"] = z("a_refunds").astype("int64")
    f["refund_rate"] = _ratio(z("a_refunds"), z("a_purchases"))
    f["shares"] = z("a_shares").astype("int64")
    f["invites"] = z("a_invites").astype("int64")
    f["invites_accepted"] = z("a_invites_accepted").astype("int64")
    return f
