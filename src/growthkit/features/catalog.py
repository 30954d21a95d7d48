"""The feature catalogue, declared as data: what every column of the user feature table means.

:data:`FEATURES` names every column :func:`~growthkit.features.build_user_features` makes
with its default windows; :data:`FAMILIES` describes the columns whose names depend on
the data or the arguments (other windows, categories, channels, text components).
:func:`describe` finds the description of any column, so documentation, reports and the
persona writer can explain a table they did not build.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from growthkit.features._base import ACTIVITY_TYPES, AMOUNT_TYPES, FeatureError
from growthkit.features.activity import TREND_DAYS

DEFAULT_WINDOWS: tuple[int, ...] = (7, 30, 90)


@dataclass(frozen=True)
class FeatureSpec:
    """One column of the feature table.

    ``window`` says which events count (``"all"``: everything before the cutoff; ``"7d"``:
    the 7 days before it); ``missing`` is the value a user without the underlying data gets.
    """

    name: str
    group: str
    description: str
    unit: str
    window: str
    missing: str


_ALL = "all"
_ZERO = "0"


def _spec(name: str, group: str, description: str, unit: str, missing: str = _ZERO, window: str = _ALL) -> FeatureSpec:
    return FeatureSpec(name, group, description, unit, window, missing)


_STATIC: tuple[FeatureSpec, ...] = (
    _spec(
        "tenure_days",
        "lifecycle",
        "Days from the user's birth (earliest of signup time and first event) to the cutoff.",
        "days",
        "never missing",
    ),
    _spec(
        "recency_days",
        "rfm",
        "Days from the last purchase to the cutoff.",
        "days",
        "tenure_days (no purchase since birth)",
    ),
    _spec(
        "days_since_last_event",
        "lifecycle",
        "Days from the last own action (any event but coupon_received) to the cutoff.",
        "days",
        "tenure_days",
    ),
    _spec("has_purchased", "rfm", "1 if the user made at least one purchase.", "flag"),
    _spec("frequency", "rfm", "Number of purchase events.", "count"),
    _spec("purchase_days", "rfm", "Number of distinct UTC days with a purchase.", "count"),
    _spec("monetary_total", "rfm", "Sum of purchase amounts (gross, before refunds).", "currency"),
    _spec("monetary_mean", "rfm", "Mean purchase amount: monetary_total / frequency.", "currency"),
    _spec("net_revenue", "rfm", "Purchase amounts minus refund amounts.", "currency"),
    _spec("events_total", "activity", "Number of own actions (every event but coupon_received).", "count"),
    _spec(
        f"trend_events_{TREND_DAYS}d",
        "trend",
        f"(a - b) / (a + b) with a = own actions in the last "
        f"{TREND_DAYS} days and b = in the {TREND_DAYS} days before; -1 stopped, +1 new.",
        "ratio in [-1, 1]",
        "0 (no actions in either window)",
        f"last {2 * TREND_DAYS}d",
    ),
    _spec(
        f"trend_revenue_{TREND_DAYS}d",
        "trend",
        f"The same trend on purchase amounts (last {TREND_DAYS} days vs the {TREND_DAYS} before).",
        "ratio in [-1, 1]",
        "0",
        f"last {2 * TREND_DAYS}d",
    ),
    _spec(
        "avg_unit_price",
        "price",
        "Price level: amount / units over cart and purchase events with an amount (units = quantity, 1 when missing).",
        "currency per unit",
        "0 (flag: has_purchased)",
    ),
    _spec("coupons_received", "coupons", "Number of coupon_received events.", "count"),
    _spec("coupons_redeemed", "coupons", "Number of coupon_redeemed events.", "count"),
    _spec(
        "coupon_redeem_rate",
        "coupons",
        "coupons_redeemed / coupons_received, at most 1.",
        "ratio in [0, 1]",
        "0 (no coupon received)",
    ),
    _spec(
        "coupon_purchase_share",
        "coupons",
        "Share of purchases whose properties name a coupon (coupon_id or coupon).",
        "ratio in [0, 1]",
        "0 (no purchase)",
    ),
    _spec(
        "promo_purchase_share",
        "coupons",
        "Share of purchases whose properties name a promotion or discount.",
        "ratio in [0, 1]",
        "0 (no purchase)",
    ),
    _spec("refunds", "refunds", "Number of refund events.", "count"),
    _spec(
        "refund_rate",
        "refunds",
        "refunds / frequency (can exceed 1 when refunds outnumber purchases).",
        "ratio",
        "0 (no purchase)",
    ),
    _spec("shares", "social", "Number of share events.", "count"),
    _spec("invites", "social", "Number of invite events.", "count"),
    _spec("invites_accepted", "social", "Invite events whose properties name the invitee.", "count"),
    _spec("sessions", "sessions", "Number of browsing sessions (session_id, else 30-minute inactivity gap).", "count"),
    _spec("events_per_session", "sessions", "Mean number of browsing events per session.", "count", "0 (no session)"),
    _spec(
        "session_minutes_mean",
        "sessions",
        "Mean time from a session's first to its last event.",
        "minutes",
        "0 (no session)",
    ),
    _spec("session_conversion", "sessions", "Share of sessions with a purchase.", "ratio in [0, 1]", "0 (no session)"),
    _spec("reviews", "reviews", "Number of reviews written (reviews table).", "count"),
    _spec(
        "review_sentiment",
        "reviews",
        "Mean review sentiment: the sentiment column when present, else (rating - 3) / 2.",
        "score in [-1, 1]",
        "0 = neutral (no rated review)",
    ),
    _spec("referrals", "social", "Referral edges from the user (users they brought in).", "count"),
    _spec(
        "social_degree", "social", "Distinct neighbours in the social graph, any edge kind, either direction.", "count"
    ),
)


def window_specs(windows: Sequence[int], activity_types: Sequence[str] = ACTIVITY_TYPES) -> tuple[FeatureSpec, ...]:
    """The per-window columns for ``windows`` (``<type>_count_<w>d``, ``<type>_amount_<w>d``, ``active_days_<w>d``)."""
    out: list[FeatureSpec] = []
    for w in windows:
        win = f"last {w}d"
        for t in activity_types:
            out.append(
                _spec(f"{t}_count_{w}d", "activity", f"Number of {t} events in the last {w} days.", "count", window=win)
            )
        for t in AMOUNT_TYPES:
            out.append(
                _spec(
                    f"{t}_amount_{w}d", "activity", f"Sum of {t} amounts in the last {w} days.", "currency", window=win
                )
            )
        out.append(
            _spec(
                f"active_days_{w}d",
                "activity",
                f"Distinct UTC days with an own action in the last {w} days.",
                "days",
                window=win,
            )
        )
    return tuple(out)


FEATURES: Mapping[str, FeatureSpec] = MappingProxyType(
    {s.name: s for s in (*_STATIC[:10], *window_specs(DEFAULT_WINDOWS), *_STATIC[10:])}
)
"""Every column of the table built with the default arguments (without text, categories, channels)."""


@dataclass(frozen=True)
class FeatureFamily:
    """Columns whose names follow a pattern (``pattern`` is a regular expression on the name)."""

    pattern: str
    group: str
    description: str
    unit: str
    window: str
    missing: str


FAMILIES: tuple[FeatureFamily, ...] = (
    FeatureFamily(
        r"(?P<type>\w+?)_count_(?P<w>\d+)d",
        "activity",
        "Number of <type> events in the last <w> days.",
        "count",
        "last <w>d",
        _ZERO,
    ),
    FeatureFamily(
        r"(?P<type>\w+?)_amount_(?P<w>\d+)d",
        "activity",
        "Sum of <type> amounts in the last <w> days.",
        "currency",
        "last <w>d",
        _ZERO,
    ),
    FeatureFamily(
        r"active_days_(?P<w>\d+)d",
        "activity",
        "Distinct UTC days with an own action in the last <w> days.",
        "days",
        "last <w>d",
        _ZERO,
    ),
    FeatureFamily(
        r"cat_share__(?P<category>\w+)",
        "categories",
        "Share of the user's categorised view, cart and "
        "purchase events in top-level category <category> (other: outside the listed categories).",
        "ratio in [0, 1]",
        _ALL,
        "0 (no categorised event)",
    ),
    FeatureFamily(
        r"channel__(?P<channel>\w+)",
        "channel",
        "1 if the acquisition channel is <channel> (users.channel, else the channel of the first event that has one).",
        "flag",
        _ALL,
        "0 in every channel column (channel unknown)",
    ),
    FeatureFamily(
        r"has_text", "text", "1 if the user has a search query or review text before the cutoff.", "flag", _ALL, _ZERO
    ),
    FeatureFamily(
        r"text_pc(?P<k>\d+)",
        "text",
        "Principal component <k> of the user's mean text embedding "
        "(search queries and reviews); PCA fitted on the users with text.",
        "score",
        _ALL,
        "0 (no text; the centre of the users with text)",
    ),
)


def describe(column: str) -> FeatureSpec:
    """The description of any column of a feature table.

    Examples
    --------
    >>> describe("recency_days").unit
    'days'
    >>> describe("purchase_count_14d").description
    'Number of purchase events in the last 14 days.'
    >>> describe("cat_share__beauty").group
    'categories'
    """
    if column in FEATURES:
        return FEATURES[column]
    for fam in FAMILIES:
        m = re.fullmatch(fam.pattern, column)
        if m is None:
            continue
        text = [fam.description, fam.unit, fam.window, fam.missing]
        for key, value in m.groupdict().items():
            text = [t.replace(f"<{key}>", value) for t in text]
        return FeatureSpec(column, fam.group, text[0], text[1], text[2], text[3])
    raise FeatureError(f"{column!r} is not a growthkit feature column; see growthkit.features.FEATURES")
