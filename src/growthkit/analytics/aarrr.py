"""AARRR overview: acquisition, activation, retention, revenue, referral on one page.

The stages follow Dave McClure's "Startup Metrics for Pirates" (2007): five
numbers that walk a new user from arriving to paying and bringing others.
McClure names the stages, not exact formulas; growthkit's exact definitions
(all times UTC, ``date_range`` inclusive of both days) are:

* **Acquisition.** New users: users whose *signup time* lies in ``date_range``.
  Signup time is the earliest of ``users.signup_ts`` and the user's ``signup``
  events, else their first event (first seen). They are counted by ``users.channel``,
  else the channel of their first event, else ``"(none)"``.
* **Activation.** Share of new users with an ``activation`` event (default: a
  purchase) in ``[signup, signup + activation_days days)``.
* **Retention.** Share of new users with an ``active`` event (default: any of
  :data:`USER_ACTIONS`) inside the :class:`RetentionWindow` (default: days
  30..36 after signup; or calendar periods, e.g. month 1 after the signup month).
* **Revenue** (over the range, not the cohort). Net revenue = purchase amounts
  minus refund amounts of events in the range. Active users = users with an
  ``active`` event or a purchase in the range; paying users = users with a
  purchase in the range. ARPU = net / active, ARPPU = net / paying, paying
  share = paying / active.
* **Referral** (over the range). Invites sent = ``invite`` events in the range.
  Invites accepted = invitees who signed up in the range (new users with a
  referrer, from a ``referral`` edge, a ``signup`` event's
  ``properties.referrer`` or an earlier ``invite`` event's
  ``properties.invitee``). K-factor, the viral coefficient ``K = i x c``
  (invites per user ``i`` = sent / active users, acceptance rate ``c`` =
  accepted / sent), which equals accepted / active users. Viral cycle time =
  median days from the referrer's own signup to the invitee's signup, over the
  accepted invitees whose referrer's signup time is known and not later.

Windowed stages report how many new users' windows end after the last
observed event (``incomplete``): their rate is not final yet.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthkit.analytics import aarrr_exprs as x
from growthkit.analytics._common import AnalyticsQueryError, DateRange, EventFilter, sorted_ids, tables
from growthkit.analytics.aarrr_exprs import NONE_CHANNEL, USER_ACTIONS, RetentionWindow

__all__ = [
    "NONE_CHANNEL",
    "USER_ACTIONS",
    "AarrrQuery",
    "AarrrResult",
    "Acquisition",
    "Activation",
    "Rate",
    "Referral",
    "Retention",
    "RetentionWindow",
    "Revenue",
    "Stage",
    "run_aarrr",
]

log = logging.getLogger(__name__)


class Stage(StrEnum):
    """The five AARRR stages."""

    ACQUISITION = "acquisition"
    ACTIVATION = "activation"
    RETENTION = "retention"
    REVENUE = "revenue"
    REFERRAL = "referral"


@dataclass(frozen=True)
class AarrrQuery:
    """What the AARRR overview measures; see the module docstring for the definitions.

    ``observed_until`` is the end of the data for the ``incomplete`` counts
    (default: the latest event's timestamp).
    """

    date_range: DateRange
    activation: EventFilter = field(default_factory=lambda: EventFilter(("purchase",)))
    activation_days: int = 7
    retention: RetentionWindow = field(default_factory=RetentionWindow)
    active: EventFilter = field(default_factory=lambda: EventFilter(USER_ACTIONS))
    observed_until: datetime | None = None

    def __post_init__(self) -> None:
        if self.activation_days < 1:
            raise AnalyticsQueryError(f"activation_days must be >= 1, got {self.activation_days}")


@dataclass(frozen=True)
class Rate:
    """``numerator`` of ``denominator`` users; ``rate`` is ``None`` when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class Acquisition:
    new_users: int
    by_channel: tuple[tuple[str, int], ...]
    """``(channel, new users)``, most new users first, then by channel name."""


@dataclass(frozen=True)
class Activation:
    activated: Rate
    by_channel: tuple[tuple[str, Rate], ...]
    window_days: int
    incomplete: int
    """New users whose activation window ends after the last observed event."""


@dataclass(frozen=True)
class Retention:
    retained: Rate
    by_channel: tuple[tuple[str, Rate], ...]
    window: str
    incomplete: int
    """New users whose retention window ends after the last observed event."""


@dataclass(frozen=True)
class Revenue:
    gross: float
    refunds: float
    net: float
    active_users: int
    paying_users: int
    arpu: float | None
    arppu: float | None
    paying_share: float | None


@dataclass(frozen=True)
class Referral:
    invites_sent: int
    inviters: int
    invites_accepted: int
    active_users: int
    invites_per_user: float | None
    acceptance_rate: float | None
    k_factor: float | None
    viral_cycle_days: float | None
    cycle_pairs: int
    """Accepted invitees that the cycle time is the median over."""


_CELLS: dict[Stage, tuple[str, ...]] = {
    Stage.ACQUISITION: ("numerator", "denominator"),
    Stage.ACTIVATION: ("numerator", "denominator"),
    Stage.RETENTION: ("numerator", "denominator"),
    Stage.REVENUE: ("numerator", "denominator"),
    Stage.REFERRAL: ("numerator", "denominator", "inviters", "referrers"),
}


@dataclass(frozen=True)
class AarrrResult:
    """The five stages for one query; ``to_frame()`` for a tidy table, ``actors()`` for the users."""

    query: AarrrQuery
    observed_until: datetime | None
    acquisition: Acquisition
    activation: Activation
    retention: Retention
    revenue: Revenue
    referral: Referral

    def to_frame(self) -> pd.DataFrame:
        """Tidy rows ``stage, metric, channel, value`` (channel ``"(all)"`` for totals)."""
        rows: list[tuple[str, str, str, float | None]] = []
        a = self.acquisition
        rows.append(("acquisition", "new_users", "(all)", float(a.new_users)))
        rows += [("acquisition", "new_users", ch, float(n)) for ch, n in a.by_channel]
        for stage, total, per in (
            ("activation", self.activation.activated, self.activation.by_channel),
            ("retention", self.retention.retained, self.retention.by_channel),
        ):
            for ch, r in (("(all)", total), *per):
                rows += [
                    (stage, "users", ch, float(r.numerator)),
                    (stage, "new_users", ch, float(r.denominator)),
                    (stage, "rate", ch, r.rate),
                ]
        for stage, obj in (("revenue", self.revenue), ("referral", self.referral)):
            rows += [(stage, k, "(all)", None if v is None else float(v)) for k, v in vars(obj).items()]
        return pd.DataFrame(rows, columns=["stage", "metric", "channel", "value"])

    def actors(self, con: Any, stage: Stage | str, cell: str = "numerator", channel: str | None = None) -> list[str]:
        """Sorted ids of the users behind one number.

        Cells: ``numerator`` and ``denominator`` of every stage (acquisition:
        new users of ``channel`` / all new users; activation and retention:
        activated or retained / new users; revenue: paying / active users;
        referral: accepted invitees / active users), plus ``inviters`` (users
        who sent an invite in the range) and ``referrers`` (referrers of the
        accepted invitees) for referral. ``channel`` narrows the acquisition,
        activation and retention cells to one acquisition channel.
        """
        st = Stage(stage)
        if cell not in _CELLS[st]:
            raise AnalyticsQueryError(f"unknown cell {cell!r} for {st.value}; use one of {', '.join(_CELLS[st])}")
        q = self.query
        events, users = tables(con)
        if st in (Stage.ACQUISITION, Stage.ACTIVATION, Stage.RETENTION):
            return sorted_ids(self._cohort_cell(events, users, st, cell, channel))
        if channel is not None:
            raise AnalyticsQueryError(f"channel applies to acquisition, activation and retention, not {st.value}")
        if cell == "denominator":
            return sorted_ids(x.active_users(events, q.date_range, q.active))
        if st is Stage.REVENUE:
            return sorted_ids(x.paying_users(events, q.date_range))
        if cell == "inviters":
            return sorted_ids(x.invites(events, q.date_range).user_id)
        acc = x.accepted(events, users, con.table("edges"), q.date_range)
        return sorted_ids(acc.invitee if cell == "numerator" else acc.referrer)

    def _cohort_cell(self, events: ir.Table, users: ir.Table, st: Stage, cell: str, channel: str | None) -> ir.Table:
        q = self.query
        c = x.new_users(events, users, q.date_range)
        if channel is not None and not (st is Stage.ACQUISITION and cell == "denominator"):
            c = c.filter(c.channel == channel)
        if cell == "numerator" and st is Stage.ACTIVATION:
            return x.activated_ids(events, c, q.activation, q.activation_days)
        if cell == "numerator" and st is Stage.RETENTION:
            return x.retained_ids(events, c, q.active, q.retention)
        return c.select("user_id")


def _num(value: Any) -> float | None:
    """A plain float from a pandas/numpy scalar; ``None`` for NULL/NaN."""
    if value is None or value is pd.NA:
        return None
    f = float(value)
    return None if math.isnan(f) else f


def _count(value: Any) -> int:
    return int(_num(value) or 0)


def _div(a: float, b: float) -> float | None:
    return a / b if b else None


def run_aarrr(con: Any, query: AarrrQuery) -> AarrrResult:
    """Compute the AARRR overview on an Ibis backend with ``events``, ``users`` and ``edges``.

    Parameters
    ----------
    con
        Ibis backend (``store.ibis()``, a PySpark backend, or a
        :class:`~growthkit.analytics.segments.SegmentedBackend`).
    query
        Range and stage definitions; see :class:`AarrrQuery`.

    Examples
    --------
    >>> from datetime import date
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO users (user_id, signup_ts, channel) VALUES "
    ...               "('a', '2025-01-01 10:00', 'ads'), ('b', '2025-01-02 10:00', 'organic')")
    >>> store.execute("INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES "
    ...               "('e1', 'a', '2025-01-03 09:00', 'purchase', 30.0)")
    >>> r = run_aarrr(store.ibis(), AarrrQuery(DateRange(date(2025, 1, 1), date(2025, 1, 31))))
    >>> r.acquisition.new_users, r.activation.activated.rate, r.revenue.arpu
    (2, 0.5, 30.0)
    >>> r.actors(store.ibis(), "activation")
    ['a']
    """
    q = query
    events, users = tables(con)
    edges = con.table("edges")
    observed, until = x.observed_until(events, q.observed_until)

    c = x.cohort_table(events, users, q.date_range, q.activation, q.activation_days, q.active, q.retention, until)
    per_channel = (
        c.group_by("channel")
        .agg(
            new=c.count(),
            activated=c.count(where=c.activated),
            retained=c.count(where=c.retained),
            act_inc=c.count(where=c.activation_incomplete),
            ret_inc=c.count(where=c.retention_incomplete),
        )
        .execute()
    )
    rows = sorted(
        (
            (
                str(r.channel),
                _count(r.new),
                _count(r.activated),
                _count(r.retained),
                _count(r.act_inc),
                _count(r.ret_inc),
            )
            for r in per_channel.itertuples(index=False)
        ),
        key=lambda t: (-t[1], t[0]),
    )
    new_total = sum(r[1] for r in rows)
    acquisition = Acquisition(new_total, tuple((r[0], r[1]) for r in rows))
    activation = Activation(
        Rate(sum(r[2] for r in rows), new_total),
        tuple((r[0], Rate(r[2], r[1])) for r in rows),
        q.activation_days,
        sum(r[4] for r in rows),
    )
    retention = Retention(
        Rate(sum(r[3] for r in rows), new_total),
        tuple((r[0], Rate(r[3], r[1])) for r in rows),
        q.retention.describe(),
        sum(r[5] for r in rows),
    )

    row = totals_row(events, users, edges, q.date_range, q.active)
    active = _count(row["active"])
    gross, refunds, paying = _num(row["gross"]) or 0.0, _num(row["refunds"]) or 0.0, _count(row["paying"])
    net = gross - refunds
    revenue = Revenue(gross, refunds, net, active, paying, _div(net, active), _div(net, paying), _div(paying, active))
    referral = referral_from_row(row)
    log.debug("aarrr %s..%s: %d new users, %d active", q.date_range.start, q.date_range.end, new_total, active)
    return AarrrResult(q, observed, acquisition, activation, retention, revenue, referral)


def totals_row(events: ir.Table, users: ir.Table, edges: ir.Table, date_range: DateRange, active: EventFilter) -> Any:
    """The single-row totals of revenue and referral, fetched in one round trip."""
    acc = x.accepted(events, users, edges, date_range)
    days = x.cycle_days(acc)
    ok = acc.referrer_signup.notnull() & (days >= 0)
    # median of the qualifying pairs as a NULL-masked median: PySpark cannot compile median(where=)
    cycle = ibis.ifelse(ok, days, ibis.null("float64")).median()
    return (
        x.revenue_totals(events, date_range, active)
        .cross_join(acc.aggregate(accepted=acc.count(), cycle=cycle, pairs=acc.count(where=ok)))
        .execute()
        .iloc[0]
    )


def referral_from_row(row: Any) -> Referral:
    """The referral block from :func:`totals_row`."""
    active, sent, accepted = _count(row["active"]), _count(row["sent"]), _count(row["accepted"])
    return Referral(
        invites_sent=sent,
        inviters=_count(row["inviters"]),
        invites_accepted=accepted,
        active_users=active,
        invites_per_user=_div(sent, active),
        acceptance_rate=_div(accepted, sent),
        k_factor=_div(accepted, active),
        viral_cycle_days=_num(row["cycle"]),
        cycle_pairs=_count(row["pairs"]),
    )

