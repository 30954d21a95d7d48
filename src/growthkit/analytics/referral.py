"""Referral analytics: the viral loop in numbers, per period, per campaign and as referral trees.

All times UTC, ``date_range`` inclusive of both days. The referral totals use
the AARRR overview's definitions unchanged (:mod:`growthkit.analytics.aarrr`):
referral pairs from ``referral`` edges, ``signup`` events'
``properties.referrer`` and ``invite`` events' ``properties.invitee`` (one
referrer per invitee); invites sent, invites accepted, ``K = i x c`` (= accepted
/ active users) and the viral cycle time (median days from the referrer's
signup to the invitee's). On top of them:

* **New and referred users.** New users = signup time in the range (AARRR's
  acquisition). A new user is *referred* when they have a referral pair or
  their acquisition channel is ``referral``; share referred = referred / new.
* **Revenue by cohort.** For every new user, net revenue (purchase minus refund
  ``amount``) in ``[signup, signup + revenue_days days)``, summed over the
  referred and the other new users; per-user revenue divides by all cohort
  users, buyers or not. Users whose window ends after ``observed_until`` are
  counted in ``incomplete`` (their revenue is not final).
* **Per period** (days, ISO weeks or months of the range): new and referred
  users and their revenue by signup period; invites sent by the invite's time;
  invites accepted and cycle time by the invitee's signup; active users per
  period; ``K`` per period = accepted / active users of that period.
* **Per campaign**, only when ``campaign_key`` names a property of ``invite``
  events (the data contract has none, and the simulator writes none): invites
  sent per campaign, and referred new users credited to the campaign of the
  latest invite from their referrer naming them, sent no later than their
  signup (else the property on their own ``signup`` event, else ``"(none)"``).
* **Referral trees** as of the end of the range: the forest of referral pairs
  whose invitee signed up before the range ends. Depth 0 are roots (referrers
  nobody referred), depth ``d`` users are ``d`` referrals away from their root;
  breadth is the most users on one level of one tree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthkit.analytics import aarrr_exprs as x
from growthkit.analytics import referral_exprs as rx
from growthkit.analytics._common import (
    AnalyticsQueryError,
    DateRange,
    EventFilter,
    Period,
    json_property,
    period_starts,
    sorted_ids,
    tables,
    truncate,
)
from growthkit.analytics.aarrr import Referral, referral_from_row, totals_row
from growthkit.analytics.aarrr_exprs import USER_ACTIONS
from growthkit.analytics.referral_exprs import ReferralTrees

__all__ = [
    "CohortRevenue",
    "ReferralCampaign",
    "ReferralPeriod",
    "ReferralQuery",
    "ReferralResult",
    "ReferralTrees",
    "run_referral",
]

log = logging.getLogger(__name__)


def _num(value: Any) -> float | None:
    """A plain float from a pandas/numpy scalar; ``None`` for NULL/NaN."""
    if value is None or value is pd.NA or pd.isna(value):
        return None
    return float(value)


def _count(value: Any) -> int:
    return int(_num(value) or 0)


def _div(a: float, b: float) -> float | None:
    return a / b if b else None


CELLS = ("new", "referred", "not_referred", "invitees", "referrers", "inviters", "active", "depth")


@dataclass(frozen=True)
class ReferralQuery:
    """What the referral insight measures; see the module docstring for the definitions."""

    date_range: DateRange
    period: Period = Period.WEEK
    revenue_days: int = 30
    active: EventFilter = field(default_factory=lambda: EventFilter(USER_ACTIONS))
    campaign_key: str | None = None
    observed_until: datetime | None = None

    def __post_init__(self) -> None:
        if self.revenue_days < 1:
            raise AnalyticsQueryError(f"revenue_days must be >= 1, got {self.revenue_days}")
        object.__setattr__(self, "period", Period(self.period))


@dataclass(frozen=True)
class CohortRevenue:
    """Net revenue of a cohort's first ``revenue_days`` days."""

    users: int
    paying: int
    revenue: float
    incomplete: int

    @property
    def per_user(self) -> float | None:
        return _div(self.revenue, self.users)

    @property
    def paying_share(self) -> float | None:
        return _div(self.paying, self.users)


_NO_REVENUE = CohortRevenue(0, 0, 0.0, 0)


@dataclass(frozen=True)
class ReferralPeriod:
    """One period of the range (``period`` is its first day)."""

    period: date
    new_users: int
    referred_users: int
    invites_sent: int
    invites_accepted: int
    active_users: int
    viral_cycle_days: float | None
    referred_revenue: CohortRevenue
    other_revenue: CohortRevenue

    @property
    def share_referred(self) -> float | None:
        return _div(self.referred_users, self.new_users)

    @property
    def k_factor(self) -> float | None:
        return _div(self.invites_accepted, self.active_users)


@dataclass(frozen=True)
class ReferralCampaign:
    campaign: str
    invites_sent: int
    referred_users: int
    revenue: CohortRevenue


@dataclass(frozen=True)
class ReferralResult:
    """Referral totals (as in AARRR), cohorts, periods, campaigns and trees; ``actors()`` names the users."""

    query: ReferralQuery
    observed_until: datetime | None
    totals: Referral
    new_users: int
    referred_users: int
    referred_revenue: CohortRevenue
    other_revenue: CohortRevenue
    periods: tuple[ReferralPeriod, ...]
    campaigns: tuple[ReferralCampaign, ...]
    trees: ReferralTrees

    @property
    def share_referred(self) -> float | None:
        return _div(self.referred_users, self.new_users)

    def to_frame(self) -> pd.DataFrame:
        """Tidy rows ``section, key, metric, value`` (key: ``(all)``, a period start, a campaign or a depth)."""
        rows: list[tuple[str, str, str, float | None]] = []
        rows += [("totals", "(all)", k, None if v is None else float(v)) for k, v in vars(self.totals).items()]
        rows += [
            ("cohort", "(all)", "new_users", float(self.new_users)),
            ("cohort", "(all)", "referred_users", float(self.referred_users)),
            ("cohort", "(all)", "share_referred", self.share_referred),
        ]
        rows += _revenue_rows("cohort", "(all)", self.referred_revenue, self.other_revenue)
        for p in self.periods:
            key = p.period.isoformat()
            for name in ("new_users", "referred_users", "invites_sent", "invites_accepted", "active_users"):
                rows.append(("period", key, name, float(getattr(p, name))))
            rows += [
                ("period", key, "share_referred", p.share_referred),
                ("period", key, "k_factor", p.k_factor),
                ("period", key, "viral_cycle_days", p.viral_cycle_days),
            ]
            rows += _revenue_rows("period", key, p.referred_revenue, p.other_revenue)
        for c in self.campaigns:
            rows += [
                ("campaign", c.campaign, "invites_sent", float(c.invites_sent)),
                ("campaign", c.campaign, "referred_users", float(c.referred_users)),
                ("campaign", c.campaign, "revenue", c.revenue.revenue),
                ("campaign", c.campaign, "revenue_per_user", c.revenue.per_user),
            ]
        t = self.trees
        rows += [
            ("trees", "(all)", "referred_users", float(t.referred_users)),
            ("trees", "(all)", "trees", float(t.trees)),
            ("trees", "(all)", "max_depth", float(t.max_depth)),
            ("trees", "(all)", "max_breadth", float(t.max_breadth)),
            ("trees", "(all)", "mean_direct", t.mean_direct),
        ]
        rows += [("trees", str(d), "users", float(n)) for d, n in t.by_depth]
        return pd.DataFrame(rows, columns=["section", "key", "metric", "value"])

    def actors(
        self,
        con: Any,
        cell: str,
        *,
        period: date | None = None,
        campaign: str | None = None,
        depth: int | None = None,
    ) -> list[str]:
        """Sorted ids of the users behind one number.

        Cells: ``new``, ``referred``, ``not_referred`` (new users of the range,
        or of the signup ``period``; ``referred`` also by ``campaign``),
        ``invitees`` and ``referrers`` (accepted invitees and their referrers,
        by the invitee's signup ``period``), ``inviters`` (senders of invites),
        ``active`` (active users), and ``depth`` (users at ``depth`` of the
        referral forest as of the end of the range; 0 = roots).
        """
        if cell not in CELLS:
            raise AnalyticsQueryError(f"unknown cell {cell!r}; use one of {', '.join(CELLS)}")
        if (depth is not None) != (cell == "depth"):
            raise AnalyticsQueryError("depth= goes with the 'depth' cell, and the 'depth' cell needs it")
        if campaign is not None and cell != "referred":
            raise AnalyticsQueryError("campaign= narrows the 'referred' cell only")
        q = self.query
        events, users = tables(con)
        edges = con.table("edges")
        if cell == "depth":
            forest = rx.forest_as_of(events, users, edges, q.date_range)
            return sorted(str(u) for u in forest.user_ids[forest.depth == depth])
        dr = _period_range(q, period)
        if cell in ("new", "referred", "not_referred"):
            c = rx.cohort(events, users, edges, dr)
            if cell != "new":
                c = c.filter(c.referred if cell == "referred" else ~c.referred)
            if campaign is not None:
                if q.campaign_key is None:
                    raise AnalyticsQueryError("this query has no campaign_key, so there are no campaigns")
                camp = rx.invite_campaigns(events, c, q.campaign_key)
                return sorted_ids(camp.filter(camp.campaign == campaign).user_id)
            return sorted_ids(c.user_id)
        if cell in ("invitees", "referrers"):
            acc = x.accepted(events, users, edges, dr)
            return sorted_ids(acc.invitee if cell == "invitees" else acc.referrer)
        if cell == "inviters":
            return sorted_ids(x.invites(events, dr).user_id)
        return sorted_ids(x.active_users(events, dr, q.active))


def _revenue_rows(section: str, key: str, ref: CohortRevenue, other: CohortRevenue) -> list[tuple[str, str, str, Any]]:
    rows: list[tuple[str, str, str, Any]] = []
    for name, r in (("referred", ref), ("other", other)):
        rows += [
            (section, key, f"{name}_revenue", r.revenue),
            (section, key, f"{name}_revenue_per_user", r.per_user),
            (section, key, f"{name}_paying", float(r.paying)),
            (section, key, f"{name}_incomplete", float(r.incomplete)),
        ]
    return rows


def _period_range(q: ReferralQuery, period: date | None) -> DateRange:
    """The query's range, or one of its periods clipped to it."""
    if period is None:
        return q.date_range
    starts = period_starts(q.date_range, q.period)
    if period not in starts:
        raise AnalyticsQueryError(f"{period} is not the start of a {q.period.value} of the range; use one of {starts}")
    i = starts.index(period)
    end = starts[i + 1] if i + 1 < len(starts) else None
    last = q.date_range.end if end is None else min(q.date_range.end, date.fromordinal(end.toordinal() - 1))
    return DateRange(max(period, q.date_range.start), last)


def _revenue(df: pd.DataFrame) -> CohortRevenue:
    if df.empty:
        return _NO_REVENUE
    return CohortRevenue(
        users=_count(df["users"].sum()),
        paying=_count(df["paying"].sum()),
        revenue=_num(df["revenue"].sum()) or 0.0,
        incomplete=_count(df["incomplete"].sum()),
    )


def _day(v: Any) -> date:
    return pd.Timestamp(v).date()


def _by_period(expr: ir.Table) -> dict[date, Any]:
    df = expr.execute()
    return {_day(r["period"]): r for _, r in df.iterrows()}


def run_referral(con: Any, query: ReferralQuery) -> ReferralResult:
    """Compute the referral insight on an Ibis backend with ``events``, ``users`` and ``edges``.

    Examples
    --------
    >>> from datetime import date
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO users (user_id, signup_ts, channel) VALUES "
    ...               "('a', '2025-01-01 10:00', 'ads'), ('b', '2025-01-03 10:00', 'referral')")
    >>> store.execute("INSERT INTO edges (edge_id, src_user, dst_user, kind) VALUES ('r1', 'a', 'b', 'referral')")
    >>> store.execute("INSERT INTO events (event_id, user_id, ts, event_type, amount, properties) VALUES "
    ...               "('e1', 'a', '2025-01-02 09:00', 'invite', NULL, '{\\"invitee\\": \\"b\\"}'), "
    ...               "('e2', 'b', '2025-01-04 09:00', 'purchase', 30.0, NULL)")
    >>> r = run_referral(store.ibis(), ReferralQuery(DateRange(date(2025, 1, 1), date(2025, 1, 31))))
    >>> r.totals.k_factor, r.share_referred, r.referred_revenue.per_user, r.trees.by_depth
    (0.5, 0.5, 30.0, ((0, 1), (1, 1)))
    >>> r.actors(store.ibis(), "referred")
    ['b']
    """
    q = query
    events, users = tables(con)
    edges = con.table("edges")
    observed, until = x.observed_until(events, q.observed_until)

    # totals: the AARRR referral block, from the same query
    totals = referral_from_row(totals_row(events, users, edges, q.date_range, q.active))
    inv = x.invites(events, q.date_range)
    acc = x.accepted(events, users, edges, q.date_range)
    days = x.cycle_days(acc)
    ok = acc.referrer_signup.notnull() & (days >= 0)

    # cohorts by signup period and referred flag
    c = rx.with_revenue(events, rx.cohort(events, users, edges, q.date_range), q.revenue_days, until)
    c = c.mutate(period=truncate(c.signup_ts, q.period))
    groups = (
        c.group_by(["period", "referred"])
        .agg(
            users=c.count(),
            paying=c.count(where=c.paid),
            revenue=c.revenue.sum(),
            incomplete=c.count(where=c.incomplete),
        )
        .execute()
    )
    groups["period"] = groups["period"].map(_day)
    groups["referred"] = groups["referred"].astype(bool)
    referred_revenue, other_revenue = _revenue(groups[groups.referred]), _revenue(groups[~groups.referred])

    # per period: invites by send time, acceptances by invitee signup, active users
    inv_p = inv.mutate(period=truncate(inv.ts, q.period))
    sent_p = _by_period(inv_p.group_by("period").agg(sent=inv_p.count()))
    acc_p = acc.mutate(period=truncate(acc.invitee_signup, q.period), _days=days, _ok=ok)
    acc_by = _by_period(
        acc_p.group_by("period").agg(
            accepted=acc_p.count(), cycle=ibis.ifelse(acc_p._ok, acc_p._days, ibis.null("float64")).median()
        )
    )
    ap = rx.period_active(events, q.date_range, q.active, q.period)
    act_by = _by_period(ap.group_by("period").agg(active=ap.user_id.nunique()))
    periods = []
    for start in period_starts(q.date_range, q.period):
        g = groups[groups.period == start]
        ref, oth = _revenue(g[g.referred]), _revenue(g[~g.referred])
        a = acc_by.get(start)
        periods.append(
            ReferralPeriod(
                period=start,
                new_users=ref.users + oth.users,
                referred_users=ref.users,
                invites_sent=_count(sent_p[start]["sent"]) if start in sent_p else 0,
                invites_accepted=_count(a["accepted"]) if a is not None else 0,
                active_users=_count(act_by[start]["active"]) if start in act_by else 0,
                viral_cycle_days=_num(a["cycle"]) if a is not None else None,
                referred_revenue=ref,
                other_revenue=oth,
            )
        )

    campaigns = _campaigns(events, c, inv, q.campaign_key) if q.campaign_key else ()
    trees = rx.summarize_forest(rx.forest_as_of(events, users, edges, q.date_range))
    log.debug(
        "referral %s..%s: %d new users, %d referred",
        q.date_range.start,
        q.date_range.end,
        referred_revenue.users + other_revenue.users,
        referred_revenue.users,
    )
    return ReferralResult(
        query=q,
        observed_until=observed,
        totals=totals,
        new_users=referred_revenue.users + other_revenue.users,
        referred_users=referred_revenue.users,
        referred_revenue=referred_revenue,
        other_revenue=other_revenue,
        periods=tuple(periods),
        campaigns=campaigns,
        trees=trees,
    )


def _campaigns(events: ir.Table, c: ir.Table, inv: ir.Table, key: str) -> tuple[ReferralCampaign, ...]:
    """Invites sent and referred users' revenue per campaign (``properties.<key>``)."""
    sent_t = inv.mutate(campaign=json_property(inv.properties, key).fill_null(rx.NO_CAMPAIGN))
    sent = sent_t.group_by("campaign").agg(sent=sent_t.count()).execute()
    camp = rx.invite_campaigns(events, c, key)
    j = c.join(camp, c.user_id == camp.user_id)
    got = (
        j.group_by(j.campaign)
        .agg(
            users=j.count(),
            paying=j.count(where=j.paid),
            revenue=j.revenue.sum(),
            incomplete=j.count(where=j.incomplete),
        )
        .execute()
    )
    sent_by = {str(r.campaign): _count(r.sent) for r in sent.itertuples(index=False)}
    got_by = {str(r["campaign"]): _revenue(pd.DataFrame([r])) for _, r in got.iterrows()}
    names = sorted(set(sent_by) | set(got_by))
    return tuple(
        ReferralCampaign(n, sent_by.get(n, 0), got_by.get(n, _NO_REVENUE).users, got_by.get(n, _NO_REVENUE))
        for n in names
    )
