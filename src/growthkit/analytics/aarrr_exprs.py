"""The Ibis expressions behind the AARRR overview.

Every function here builds an expression and executes nothing; the
definitions they implement are written down in :mod:`growthkit.analytics.aarrr`
and ``docs/analytics/aarrr.md``. Only portable Ibis operations are used (joins,
window ``row_number``, ``min``/``nunique``/``sum`` with ``where``, interval
arithmetic, timestamp ``delta``, :func:`~growthkit.analytics._common.json_property`), so the same code compiles
for DuckDB and PySpark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthkit.analytics._common import AnalyticsQueryError, DateRange, EventFilter, Period, json_property, truncate

USER_ACTIONS: tuple[str, ...] = (
    "view",
    "search",
    "cart",
    "purchase",
    "refund",
    "review",
    "share",
    "invite",
    "coupon_redeemed",
)
"""Event types a user does (not ``signup``, not the shop's ``coupon_received`` mailings)."""

NONE_CHANNEL = "(none)"

# Priority of the sources of a (referrer, invitee) pair, best first.
_EDGE, _SIGNUP_PROPERTY, _INVITE_PROPERTY = 0, 1, 2


@dataclass(frozen=True)
class RetentionWindow:
    """When a new user must be active again to count as retained.

    Two kinds, both measured from the user's own signup time:

    * relative days (default): active at some time in
      ``[signup + start_day days, signup + (start_day + length_days) days)``.
      ``length_days=1`` is the classic "day-N retention" in 24-hour intervals
      since signup (Amplitude's *N-day retention*); a longer window is a
      *bracket* that tolerates weekly shopping rhythms.
    * calendar periods (``period`` set): active in the calendar period that
      starts ``offset`` periods after the period of the signup (UTC; ISO weeks
      start Monday), e.g. ``RetentionWindow.calendar(Period.MONTH)`` is
      "month-1 retention".
    """

    start_day: int = 30
    length_days: int = 7
    period: Period | None = None
    offset: int = 1

    def __post_init__(self) -> None:
        if self.period is None and (self.start_day < 1 or self.length_days < 1):
            raise AnalyticsQueryError(
                f"retention window must start at day >= 1 and last >= 1 day, got start_day={self.start_day}, "
                f"length_days={self.length_days}"
            )
        if self.period is not None and self.offset < 1:
            raise AnalyticsQueryError(f"retention period offset must be >= 1, got {self.offset}")

    @classmethod
    def calendar(cls, period: Period, offset: int = 1) -> RetentionWindow:
        """Active in the calendar ``period`` ``offset`` periods after the signup's period."""
        return cls(period=Period(period), offset=offset)

    def bounds(self, signup_ts: ir.TimestampValue) -> tuple[ir.TimestampValue, ir.TimestampValue]:
        """``[start, end)`` of the window for a user who signed up at ``signup_ts``."""
        if self.period is None:
            return (
                signup_ts + ibis.interval(days=self.start_day),
                signup_ts + ibis.interval(days=self.start_day + self.length_days),
            )
        base = truncate(signup_ts, self.period)
        unit = self.period.unit
        return base + ibis.interval(self.offset, unit=unit), base + ibis.interval(self.offset + 1, unit=unit)

    def describe(self) -> str:
        if self.period is None:
            return f"active on days {self.start_day}..{self.start_day + self.length_days - 1} after signup"
        return f"active in the {self.period.value} {self.offset} after the signup {self.period.value}"


def users_with_signup(events: ir.Table, users: ir.Table) -> ir.Table:
    """One row per user known to ``users`` or ``events``: ``user_id, signup_ts, channel``.

    ``signup_ts`` is the earliest of ``users.signup_ts`` and the user's
    ``signup`` events, else their first event of any type (first seen) -- the
    ``NewUser.SIGNUP`` rule of :func:`~growthkit.analytics._common.first_seen`,
    but users without any event are kept too (acquired, never active). ``channel`` is
    ``users.channel``, else the channel of the user's first event (earliest
    ``ts``; on a tie the ``signup`` event, then the smallest ``event_id``),
    else ``"(none)"``.
    """
    per_user = events.group_by(ev_user=events.user_id).agg(
        first_signup_ts=events.ts.min(where=events.event_type == "signup"),
        first_ts=events.ts.min(),
    )
    # the first event's channel is only needed for users whose users row has none; and rank only
    # the events at each such user's first timestamp (not the whole log): same winner, far fewer rows
    known = users.filter(users.channel.notnull()).select(k_user=users.user_id)
    need = per_user.anti_join(known, per_user.ev_user == known.k_user)
    at_first = events.join(need, (events.user_id == need.ev_user) & (events.ts == need.first_ts))
    order = [(at_first.event_type != "signup"), at_first.event_id]
    ranked = at_first.select(
        at_first.user_id, at_first.channel, _rn=ibis.row_number().over(group_by=at_first.user_id, order_by=order)
    )
    first = ranked.filter(ranked._rn == 0).select(fc_user=ranked.user_id, first_channel=ranked.channel)
    u = users.select(u_user=users.user_id, u_signup=users.signup_ts, u_channel=users.channel)
    both = u.outer_join(per_user, u.u_user == per_user.ev_user)
    both = both.select(
        user_id=both.u_user.coalesce(both.ev_user),
        u_channel=both.u_channel,
        signup_ts=ibis.coalesce(ibis.least(both.u_signup, both.first_signup_ts), both.first_ts),
    )
    both = _settled(both)
    out = both.left_join(first, both.user_id == first.fc_user)
    return out.select(
        out.user_id,
        out.signup_ts,
        channel=ibis.coalesce(out.u_channel, out.first_channel, ibis.literal(NONE_CHANNEL)),
    )


def new_users(events: ir.Table, users: ir.Table, date_range: DateRange) -> ir.Table:
    """Users whose signup time lies in ``date_range``: ``user_id, signup_ts, channel``."""
    t = users_with_signup(events, users)
    return t.filter(date_range.contains(t.signup_ts))


def _settled(t: ir.Table) -> ir.Table:
    """``t`` as a plain projection, so that a projected join can take part in another join."""
    return t.select(*t.columns)


def _flag(base: ir.Table, hits: ir.Table, name: str) -> ir.Table:
    """``base`` plus a boolean column ``name``: is ``base.user_id`` among ``hits.user_id``."""
    h = hits.select(_hit=hits.user_id).distinct()
    j = base.left_join(h, base.user_id == h._hit)
    return _settled(j.mutate(**{name: j._hit.notnull()}).drop("_hit"))


def _hits_between(events: ir.Table, cohort: ir.Table, start: ir.TimestampValue, end: ir.TimestampValue) -> ir.Table:
    """User ids of ``cohort`` with an event of ``events`` in ``[start, end)`` (bounds built on ``cohort``)."""
    c = cohort.select(c_user=cohort.user_id, _start=start, _end=end)
    j = events.select(events.user_id, events.ts).join(c, events.user_id == c.c_user)
    return j.filter((j.ts >= j._start) & (j.ts < j._end)).select(j.user_id)


def activated_ids(events: ir.Table, cohort: ir.Table, activation: EventFilter, activation_days: int) -> ir.Table:
    """Ids of ``cohort`` users with an ``activation`` event in ``[signup, signup + activation_days days)``."""
    end = cohort.signup_ts + ibis.interval(days=activation_days)
    return _hits_between(activation.apply(events), cohort, cohort.signup_ts, end)


def retained_ids(events: ir.Table, cohort: ir.Table, active: EventFilter, retention: RetentionWindow) -> ir.Table:
    """Ids of ``cohort`` users with an ``active`` event inside their retention window."""
    start, end = retention.bounds(cohort.signup_ts)
    return _hits_between(active.apply(events), cohort, start, end)


def cohort_table(
    events: ir.Table,
    users: ir.Table,
    date_range: DateRange,
    activation: EventFilter,
    activation_days: int,
    active: EventFilter,
    retention: RetentionWindow,
    observed_until: ir.TimestampValue,
) -> ir.Table:
    """New users with ``activated``, ``retained`` and the two ``*_incomplete`` flags."""
    c = new_users(events, users, date_range)
    c = _flag(c, activated_ids(events, c, activation, activation_days), "activated")
    c = _flag(c, retained_ids(events, c, active, retention), "retained")
    _, r_end = retention.bounds(c.signup_ts)
    return c.mutate(
        activation_incomplete=(c.signup_ts + ibis.interval(days=activation_days)) > observed_until,
        retention_incomplete=r_end > observed_until,
    )


def in_range(events: ir.Table, date_range: DateRange) -> ir.Table:
    return events.filter(date_range.contains(events.ts))


def active_users(events: ir.Table, date_range: DateRange, active: EventFilter) -> ir.Table:
    """Distinct ids of users with an ``active`` event or a purchase in the range."""
    ev = in_range(events, date_range)
    acts = active.apply(ev).select("user_id")
    buys = ev.filter(ev.event_type == "purchase").select("user_id")
    return acts.union(buys, distinct=True)


def paying_users(events: ir.Table, date_range: DateRange) -> ir.Table:
    ev = in_range(events, date_range)
    return ev.filter(ev.event_type == "purchase").select("user_id").distinct()


def revenue_totals(events: ir.Table, date_range: DateRange, active: EventFilter) -> ir.Table:
    """One row from one scan of the range: ``gross`` (purchase amounts), ``refunds`` (refund
    amounts), ``paying`` (distinct buyers), ``active`` (distinct users with an ``active`` event
    or a purchase, as :func:`active_users`), ``sent`` (invite events), ``inviters``."""
    ev = in_range(events, date_range)
    amount = ev.amount.fill_null(0.0)
    buy, invite = ev.event_type == "purchase", ev.event_type == "invite"
    # per user first, then count users: one hash aggregation instead of three distinct sets
    per = ev.group_by("user_id").agg(
        g=amount.sum(where=buy),
        r=amount.sum(where=ev.event_type == "refund"),
        buyer=buy.any(),
        act=(active.predicate(ev) | buy).any(),
        s=ev.count(where=invite),
    )
    return per.aggregate(
        gross=per.g.sum(),
        refunds=per.r.sum(),
        paying=per.count(where=per.buyer),
        active=per.count(where=per.act),
        sent=per.s.sum(),
        inviters=per.count(where=per.s > 0),
    )


def invites(events: ir.Table, date_range: DateRange) -> ir.Table:
    ev = in_range(events, date_range)
    return ev.filter(ev.event_type == "invite")


def referral_pairs(events: ir.Table, users: ir.Table, edges: ir.Table) -> ir.Table:
    """One row per referred user: ``invitee, referrer, invitee_signup, referrer_signup``.

    Sources, best first (one referrer per invitee: best source, then earliest
    record, then smallest referrer id): a ``referral`` edge ``src -> dst``; a
    ``signup`` event with ``properties.referrer``; an ``invite`` event with
    ``properties.invitee`` sent no later than the invitee's signup. Only
    invitees with a signup time are kept; self-referrals are dropped.
    """
    e = edges.filter(edges.kind == "referral")
    from_edges = e.select(referrer=e.src_user, invitee=e.dst_user, _ts=e.ts, _src=ibis.literal(_EDGE))
    referrer, invitee = json_property(events.properties, "referrer"), json_property(events.properties, "invitee")
    sg = events.mutate(_ref=referrer).filter((events.event_type == "signup") & referrer.notnull())
    from_signups = sg.select(referrer=sg._ref, invitee=sg.user_id, _ts=sg.ts, _src=ibis.literal(_SIGNUP_PROPERTY))
    iv = events.mutate(_inv=invitee).filter((events.event_type == "invite") & invitee.notnull())
    from_invites = iv.select(referrer=iv.user_id, invitee=iv._inv, _ts=iv.ts, _src=ibis.literal(_INVITE_PROPERTY))
    pairs = from_edges.union(from_signups).union(from_invites)
    pairs = pairs.filter(pairs.referrer.notnull() & pairs.invitee.notnull() & (pairs.referrer != pairs.invitee))

    who = users_with_signup(events, users)
    inv = who.select(i_user=who.user_id, invitee_signup=who.signup_ts)
    ref = who.select(r_user=who.user_id, referrer_signup=who.signup_ts)
    j = pairs.join(inv, pairs.invitee == inv.i_user)
    j = j.filter(j.invitee_signup.notnull() & ((j._src != _INVITE_PROPERTY) | (j._ts <= j.invitee_signup)))
    ranked = j.mutate(
        _rn=ibis.row_number().over(
            group_by=j.invitee, order_by=[j._src, ibis.asc(j._ts, nulls_first=False), j.referrer]
        ),
    )
    best = ranked.filter(ranked._rn == 0).select("invitee", "referrer", "invitee_signup")
    out = best.left_join(ref, best.referrer == ref.r_user)
    return out.select(out.invitee, out.referrer, out.invitee_signup, out.referrer_signup)


def cycle_days(pairs: ir.Table) -> ir.FloatingColumn:
    """Days from the referrer's signup to the invitee's signup (microsecond resolution).

    A timestamp difference in microseconds, not ``epoch_seconds``: PySpark's
    ``unix_timestamp`` drops the fraction of a second that DuckDB's ``epoch`` keeps.
    """
    micros = pairs.invitee_signup.delta(pairs.referrer_signup, unit="microsecond")
    return micros.cast("float64") / 86_400_000_000.0


def latest_ts(events: ir.Table) -> ir.TimestampScalar:
    return events.ts.max()


def literal_ts(ts: datetime) -> ir.TimestampScalar:
    return ibis.literal(ts, type="timestamp")


def accepted(events: ir.Table, users: ir.Table, edges: ir.Table, date_range: DateRange) -> ir.Table:
    """Referral pairs whose invitee signed up in the range (*invites accepted*)."""
    pairs = referral_pairs(events, users, edges)
    return pairs.filter(date_range.contains(pairs.invitee_signup))


def observed_until(events: ir.Table, given: datetime | None) -> tuple[datetime | None, ir.TimestampScalar]:
    """The end of observation: ``given``, else the latest event time; and it as a literal (epoch when empty)."""
    observed = given
    if observed is None:
        latest = latest_ts(events).execute()
        observed = None if latest is None or pd.isna(latest) else pd.Timestamp(latest).to_pydatetime()
    return observed, literal_ts(observed or datetime(1970, 1, 1))

