"""Day-by-day behaviour of one chunk of users: sessions, purchases, follow-ups, coupons, churn.

Model assumptions
-----------------
* Each day, an alive user who has signed up starts Poisson(r) sessions with
  ``r = activity * weekday * promotion * exp(0.3 * satisfaction)``.
* A session looks at one top category (the user's Dirichlet preference, 10 %
  exploration by category popularity): optional search (35 %), 1 + Poisson
  views of popularity-weighted items, then maybe cart and purchase of the last
  viewed item, a redemption of a valid coupon, a share to a graph neighbour and
  (rarely) an invite that does not convert.
* Per-session purchase probability
  ``p = base(type) * match * exp(-price_sensitivity * relative log price)
  * exp(0.3 * satisfaction) * promotion lift``, capped at 0.6, plus the user's
  true coupon effect while a coupon is valid (capped to [0, 0.95]).
  ``match = sqrt(preference * n_categories)`` in [0.3, 2.5].
* Satisfaction falls by 0.2 after a session without purchase, by 1.0 after a
  refund and by up to 0.8 after a bad review; it rises by 0.5 after a purchase
  and decays by 3 % a day towards 0; it is kept within [-3, 3].
* Churn is permanent: daily hazard ``h0(type) * exp(-satisfaction)``, three
  times higher for sleeping dogs while a coupon is valid. A user who must still
  send a scheduled invite cannot churn before it. The true churn time is 00:00
  UTC of the first day without the user; no user-initiated event follows it.
* Purchases may be refunded (2-22 %, more for low-quality items) 1-7 days later
  and reviewed (25 %) 2-11 days later, if the user is still alive then; ratings
  follow item quality.
* Coupons are sent to a random ``coupon_share`` of consenting signed-up users
  on campaign days (churned users too: the shop does not know), valid from the
  next day for ``coupon_valid_days`` days; a purchase while valid redeems it.
  Each campaign is recorded as an experiment (:class:`CampaignDraw`): every
  eligible user (consenting, signed up before the send day; churn is invisible
  to the shop) is exposed, in arm ``coupon`` or ``control``. Recording draws no
  random numbers, so the events do not change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from growthkit.sim import population as pop
from growthkit.sim.calendar import US_PER_DAY, Calendar
from growthkit.sim.catalog import N_TOP, Catalog
from growthkit.sim.config import SimConfig
from growthkit.sim.graph import Graph

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

# event type codes = positions in schema.EVENT_TYPES
SIGNUP, VIEW, SEARCH, CART, PURCHASE, REFUND, REVIEW, SHARE, INVITE, COUPON_RECEIVED, COUPON_REDEEMED = range(11)
# property kinds
PK_REFERRER, PK_PURCHASE, PK_REFUND, PK_REVIEW, PK_SHARE, PK_INVITE, PK_COUPON, PK_REDEEM = range(8)
# channel codes = positions in config.EVENT_CHANNELS
CH_REFERRAL = 3
SESSION_CHANNEL_CODES = np.array([4, 5, 1, 2])  # direct, search, ads, social
SESSION_CHANNEL_CDF = np.cumsum([0.5, 0.2, 0.15, 0.15])
COUPON_VALUES = np.array([10, 20, 30, 50])
N_REVIEW_VARIANTS = 25  # texts per (language, rating) in text.review_texts
SECOND = 1_000_000
MISSING = -1


@dataclass
class ChunkEvents:
    """Columns of one chunk's events, sorted by (user, ts, emission order)."""

    user: I64  # local index in the chunk
    ts: I64
    etype: I64
    item: I64
    sess: I64
    qty: F64
    amount: F64
    query: I64
    chan: I64
    pk: I64
    pa: I64
    pb: I64


@dataclass(frozen=True)
class CampaignDraw:
    """Who was eligible for one coupon campaign in a chunk, and who got the coupon.

    ``eligible`` are local user indices (ascending): consenting users who signed up
    before the send day, churned or not. ``treated[i]`` and ``alive[i]`` belong to
    ``eligible[i]``: got the coupon; had not churned at send time (only they can react).
    """

    campaign: int
    day: int
    eligible: I64
    treated: B
    alive: B


@dataclass
class ChunkState:
    """Per-user outcomes of a chunk (ground truth) and its coupon campaigns."""

    churn_day: I64
    satisfaction: F64
    campaigns: list[CampaignDraw]


class _Sink:
    """Collects event columns; scalars broadcast to the length of ``user``."""

    NAMES = ("user", "ts", "etype", "item", "sess", "qty", "amount", "query", "chan", "pk", "pa", "pb")

    def __init__(self) -> None:
        self.cols: dict[str, list[npt.NDArray[np.generic]]] = {k: [] for k in self.NAMES}

    def add(self, user: I64, ts: I64, etype: int, **cols: npt.ArrayLike) -> None:
        n = user.shape[0]
        if n == 0:
            return
        self.cols["user"].append(user.astype(np.int64))
        self.cols["ts"].append(ts.astype(np.int64))
        self.cols["etype"].append(np.full(n, etype, dtype=np.int64))
        for k in self.NAMES[3:]:
            v = cols.get(k, np.nan if k in ("qty", "amount") else MISSING)
            dtype = np.float64 if k in ("qty", "amount") else np.int64
            self.cols[k].append(np.broadcast_to(np.asarray(v, dtype=dtype), (n,)))

    def finish(self) -> ChunkEvents:
        cat = {
            k: (np.concatenate(v) if v else np.zeros(0, np.float64 if k in ("qty", "amount") else np.int64))
            for k, v in self.cols.items()
        }
        seq = np.arange(cat["user"].shape[0])
        order = np.lexsort((seq, cat["ts"], cat["user"]))
        return ChunkEvents(**{k: np.ascontiguousarray(v[order]) for k, v in cat.items()})


def simulate_chunk(
    config: SimConfig,
    cal: Calendar,
    cat: Catalog,
    sk: pop.Skeleton,
    graph: Graph,
    lo: int,
    hi: int,
    traits: pop.Traits,
    rng: np.random.Generator,
) -> tuple[ChunkEvents, ChunkState]:
    """Run the day loop for users ``lo..hi-1`` (global indices)."""
    n = hi - lo
    sink = _Sink()
    signup_us = sk.signup_us[lo:hi]
    signup_day = (signup_us - cal.start_us) // US_PER_DAY
    lang = sk.lang[lo:hi].astype(np.int64)
    ctype, ctyp = traits.ctype, traits.coupon_type
    base_buy = pop.BASE_BUY[ctype] * pop.COUPON_BUY_MULT[ctyp]
    hazard0 = pop.HAZARD0[ctype]
    qty_extra = pop.QTY_EXTRA[ctype]
    view_lam = pop.VIEW_LAM[ctype]
    promo_resp = pop.PROMO_RESPONSE[ctype]
    share_p = pop.SHARE_P[ctype] * np.clip(sk.sociability[lo:hi] / 2.0, 0.5, 3.0)
    pref_cum = np.cumsum(traits.prefs, axis=1)
    cat_cdf = np.cumsum(cat.cat_weight) / cat.cat_weight.sum()
    is_dog = ctyp == 3

    # signups, and invites that bring in referred users (scheduled globally)
    new = np.flatnonzero((signup_day >= 0) & (signup_day < config.days))
    g_new = new + lo
    chan = sk.channel[g_new].astype(np.int64)
    referred = sk.referrer[g_new] >= 0
    sink.add(new, signup_us[new], SIGNUP, chan=chan, pk=np.where(referred, PK_REFERRER, MISSING),
             pa=sk.referrer[g_new])
    a, b = np.searchsorted(graph.inv_referrer, [lo, hi], side="left")
    inv_user = graph.inv_referrer[a:b] - lo
    inv_ts = graph.inv_ts_us[a:b]
    sink.add(inv_user, inv_ts, INVITE, chan=CH_REFERRAL, pk=PK_INVITE, pa=graph.inv_invitee[a:b])
    min_churn_day = np.zeros(n, dtype=np.int64)
    np.maximum.at(min_churn_day, inv_user, (inv_ts - cal.start_us) // US_PER_DAY + 1)

    alive = np.ones(n, dtype=bool)
    churn_day = np.full(n, MISSING, dtype=np.int64)
    sat = np.zeros(n)
    sess_count = np.zeros(n, dtype=np.int64)
    c_from = np.full(n, config.days + 1, dtype=np.int64)
    c_until = np.full(n, MISSING, dtype=np.int64)
    c_camp = np.full(n, MISSING, dtype=np.int64)
    rf_day = np.full(n, MISSING, dtype=np.int64)
    rf_item = np.zeros(n, dtype=np.int64)
    rf_qty = np.zeros(n)
    rf_reason = np.zeros(n, dtype=np.int64)
    rv_day = np.full(n, MISSING, dtype=np.int64)
    rv_item = np.zeros(n, dtype=np.int64)
    rv_rating = np.zeros(n, dtype=np.int64)
    campaign_of_day = {int(d): k for k, d in enumerate(cal.campaign_days)}
    campaigns: list[CampaignDraw] = []
    sat_delta_review = np.array([0.0, -0.8, -0.5, 0.0, 0.1, 0.2])

    for d in range(config.days):
        day0 = cal.start_us + d * US_PER_DAY
        day_last = day0 + US_PER_DAY - 1
        sat *= 0.97
        np.clip(sat, -3.0, 3.0, out=sat)
        # 1. churn
        idx = np.flatnonzero(alive & (signup_day < d) & (min_churn_day <= d))
        h = hazard0[idx] * np.exp(-sat[idx])
        h = np.where(is_dog[idx] & (c_from[idx] <= d) & (c_until[idx] >= d), 3.0 * h, h)
        gone = idx[rng.random(idx.shape[0]) < h]
        alive[gone] = False
        churn_day[gone] = d
        # 2. follow-ups due today
        due = np.flatnonzero((rf_day == d) & alive)
        if due.size:
            q = rf_qty[due]
            sink.add(due, day0 + cal.sample_time_of_day(rng, due.size), REFUND, item=rf_item[due], qty=q,
                     amount=cat.price[rf_item[due]] * q, pk=PK_REFUND, pa=rf_reason[due])
            sat[due] -= 1.0
        rf_day[rf_day == d] = MISSING
        due = np.flatnonzero((rv_day == d) & alive)
        if due.size:
            r = rv_rating[due]
            variant = rng.integers(0, N_REVIEW_VARIANTS, due.size)
            text_idx = (lang[due] * 5 + r - 1) * N_REVIEW_VARIANTS + variant
            sink.add(due, day0 + cal.sample_time_of_day(rng, due.size), REVIEW, item=rv_item[due], pk=PK_REVIEW,
                     pa=r, pb=text_idx)
            sat[due] += sat_delta_review[r]
        rv_day[rv_day == d] = MISSING
        # 3. coupon campaign
        if d in campaign_of_day:
            k = campaign_of_day[d]
            eligible = traits.consent & (signup_day < d)
            won = rng.random(n) < config.coupon_share
            got = np.flatnonzero(eligible & won)
            el = np.flatnonzero(eligible)
            campaigns.append(CampaignDraw(k, d, el, won[el], alive[el].copy()))
            medium = 6 + rng.integers(0, 3, got.size)
            value = COUPON_VALUES[rng.integers(0, COUPON_VALUES.size, got.size)]
            ts = day0 + 2 * 3_600 * SECOND + (rng.random(got.size) * 2 * 3_600 * SECOND).astype(np.int64)
            sink.add(got, ts, COUPON_RECEIVED, chan=medium, pk=PK_COUPON, pa=k, pb=value)
            live = got[alive[got]]
            c_from[live] = d + 1
            c_until[live] = d + config.coupon_valid_days
            c_camp[live] = k
        # 4. sessions
        ai = np.flatnonzero(alive & (signup_day <= d))
        lam = traits.activity[ai] * cal.dow_mult[d] * cal.promo_mult[d] * np.exp(0.3 * sat[ai])
        ks = rng.poisson(lam)
        has = ks > 0
        ku, kk = ai[has], ks[has]
        su = np.repeat(ku, kk)
        s = su.shape[0]
        if s == 0:
            continue
        rank = np.arange(s) - np.repeat(np.cumsum(kk) - kk, kk)
        sess_no = sess_count[su] + rank
        sess_count[ku] += kk
        _session_block(config, cal, cat, graph, sink, rng, d, day0, day_last, su, sess_no, lo, signup_day, signup_us,
                       lang, traits, pref_cum, cat_cdf, base_buy, view_lam, qty_extra, promo_resp, share_p, sat,
                       c_from, c_until, c_camp,
                       (rf_day, rf_item, rf_qty, rf_reason, rv_day, rv_item, rv_rating))
    return sink.finish(), ChunkState(churn_day=churn_day, satisfaction=sat, campaigns=campaigns)


def _session_block(
    config: SimConfig,
    cal: Calendar,
    cat: Catalog,
    graph: Graph,
    sink: _Sink,
    rng: np.random.Generator,
    d: int,
    day0: int,
    day_last: int,
    su: I64,
    sess_no: I64,
    lo: int,
    signup_day: I64,
    signup_us: I64,
    lang: I64,
    traits: pop.Traits,
    pref_cum: F64,
    cat_cdf: F64,
    base_buy: F64,
    view_lam: F64,
    qty_extra: F64,
    promo_resp: F64,
    share_p: F64,
    sat: F64,
    c_from: I64,
    c_until: I64,
    c_camp: I64,
    pending: tuple[I64, I64, F64, I64, I64, I64, I64],
) -> None:
    """Generate all sessions of one day (``su``: session owners, local indices)."""
    s = int(su.shape[0])
    n = int(sat.shape[0])
    explore = rng.random(s) < 0.1
    c_pref = (rng.random(s)[:, None] >= pref_cum[su]).sum(axis=1)
    c_any = np.searchsorted(cat_cdf, rng.random(s), side="right")
    c = np.minimum(np.where(explore, c_any, c_pref), N_TOP - 1).astype(np.int64)
    nv = 1 + rng.poisson(view_lam[su])
    v_sess = np.repeat(np.arange(s), nv)
    v_first = np.cumsum(nv) - nv
    v_item = cat.sample_in_category(c[v_sess], rng.random(v_sess.shape[0]))
    item = v_item[v_first + nv - 1]
    search = rng.random(s) < 0.35

    match = np.clip(np.sqrt(traits.prefs[su, c] * N_TOP), 0.3, 2.5)
    price_f = np.exp(-traits.price_sens[su] * cat.rel_log_price[item])
    lift = np.where(cal.promo_idx[d] >= 0, 1.3 * promo_resp[su], 1.0)
    p = np.minimum(base_buy[su] * match * price_f * np.exp(0.3 * sat[su]) * lift, 0.6)
    coupon_ok = (c_from[su] <= d) & (c_until[su] >= d)
    p = np.clip(p + np.where(coupon_ok, traits.coupon_effect[su], 0.0), 0.0, 0.95)
    p_cart = np.minimum(0.95, 3.0 * p + 0.08)
    cart = rng.random(s) < p_cart
    buy = cart & (rng.random(s) < p / p_cart)
    qty = (1 + rng.poisson(qty_extra[su])).astype(np.float64)
    cand = np.flatnonzero(buy & coupon_ok)
    _, first = np.unique(su[cand], return_index=True)
    redeem = np.zeros(s, dtype=bool)
    redeem[cand[first]] = True
    camp = np.where(redeem, c_camp[su], MISSING)
    c_until[su[redeem]] = MISSING
    share = rng.random(s) < share_p[su]
    invite = rng.random(s) < 0.004 * (1 + 10 * share_p[su])

    # timing: events at positions 0..m-1, spaced by a per-session gap, kept inside the UTC day
    m = search + nv + cart + buy + redeem + share + invite
    gap = (15 * SECOND + rng.exponential(60 * SECOND, s)).astype(np.int64)
    first_day = signup_day[su] == d
    floor = np.where(first_day, signup_us[su] + SECOND, day0)
    t0 = np.where(first_day, signup_us[su] + 30 * SECOND + rng.exponential(1200 * SECOND, s).astype(np.int64),
                  day0 + cal.sample_time_of_day(rng, s))
    over = np.maximum(t0 + m * gap - day_last, 0)
    t0 = t0 - np.minimum(over, np.maximum(t0 - floor, 0))

    def at(pos: I64, sel: I64) -> I64:
        ts: I64 = t0[sel] + ((pos + 0.9 * rng.random(int(sel.shape[0]))) * gap[sel]).astype(np.int64)
        return np.minimum(ts, day_last)

    sch = SESSION_CHANNEL_CODES[np.searchsorted(SESSION_CHANNEL_CDF, rng.random(s), side="right").clip(0, 3)]
    si = np.flatnonzero(search)
    ql = lang[su[si]]
    qc = c[si]
    query = cat.query_start[qc, ql] + (rng.random(si.size) * cat.query_count[qc, ql]).astype(np.int64)
    sink.add(su[si], at(np.zeros(si.size, np.int64), si), SEARCH, sess=sess_no[si], query=query, chan=sch[si])
    v_pos = search[v_sess].astype(np.int64) + (np.arange(v_sess.shape[0]) - v_first[v_sess])
    sink.add(su[v_sess], at(v_pos, v_sess), VIEW, item=v_item, sess=sess_no[v_sess], chan=sch[v_sess])
    pos = search + nv
    ci = np.flatnonzero(cart)
    sink.add(su[ci], at(pos[ci], ci), CART, item=item[ci], sess=sess_no[ci], qty=qty[ci], chan=sch[ci])
    pos = pos + cart
    bi = np.flatnonzero(buy)
    sink.add(su[bi], at(pos[bi], bi), PURCHASE, item=item[bi], sess=sess_no[bi], qty=qty[bi],
             amount=cat.price[item[bi]] * qty[bi], chan=sch[bi], pk=PK_PURCHASE, pa=cal.promo_idx[d], pb=camp[bi])
    pos = pos + buy
    ri = np.flatnonzero(redeem)
    sink.add(su[ri], at(pos[ri], ri), COUPON_REDEEMED, sess=sess_no[ri], chan=sch[ri], pk=PK_REDEEM, pa=camp[ri])
    pos = pos + redeem
    hi_ = np.flatnonzero(share)
    g = su[hi_] + lo
    deg = graph.out_ptr[g + 1] - graph.out_ptr[g]
    pick = graph.out_ptr[g] + (rng.random(hi_.size) * deg).astype(np.int64)
    target = np.full(hi_.size, MISSING, dtype=np.int64)
    if graph.out_nbr.size:
        target = np.where(deg > 0, graph.out_nbr[np.minimum(pick, graph.out_nbr.size - 1)], MISSING)
    platform = rng.integers(0, 4, hi_.size)
    sink.add(su[hi_], at(pos[hi_], hi_), SHARE, item=item[hi_], sess=sess_no[hi_], chan=sch[hi_], pk=PK_SHARE,
             pa=target, pb=platform)
    pos = pos + share
    ii = np.flatnonzero(invite)
    sink.add(su[ii], at(pos[ii], ii), INVITE, sess=sess_no[ii], chan=CH_REFERRAL, pk=PK_INVITE, pa=MISSING)

    # satisfaction and follow-ups
    sat += np.bincount(su, weights=np.where(buy, 0.5, -0.2), minlength=n)
    rf_day, rf_item, rf_qty, rf_reason, rv_day, rv_item, rv_rating = pending
    _, first = np.unique(su[bi], return_index=True)
    bu, bitem, bq = su[bi][first], item[bi][first], qty[bi][first]
    free = (rf_day[bu] < 0) & (rv_day[bu] < 0)
    bu, bitem, bq = bu[free], bitem[free], bq[free]
    qual = cat.quality[bitem]
    refund = rng.random(bu.size) < 0.02 + 0.2 * (1.0 - qual) ** 2
    rf_day[bu[refund]] = d + 1 + rng.integers(0, 7, int(refund.sum()))
    rf_item[bu[refund]] = bitem[refund]
    rf_qty[bu[refund]] = bq[refund]
    rf_reason[bu[refund]] = np.where(qual[refund] < 0.5, 0, rng.integers(0, 4, int(refund.sum())))
    review = rng.random(bu.size) < np.where(refund, 0.4, 0.25)
    latent = 4.2 + 3.0 * (qual - 0.71) + rng.normal(0.0, 0.9, bu.size) - np.where(refund, 2.0, 0.0)
    rating = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    rv_day[bu[review]] = d + 2 + rng.integers(0, 10, int(review.sum()))
    rv_item[bu[review]] = bitem[review]
    rv_rating[bu[review]] = rating[review]
