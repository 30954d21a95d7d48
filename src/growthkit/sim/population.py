"""Who the customers are: signup, geography, latent traits and fake personal data.

Model assumptions
-----------------
* A share ``pre_existing_share`` of users signed up uniformly in the 365 days
  before the window; the rest sign up inside it, more on weekends and promotion
  days, mostly in the (China-local) evening.
* 92 % live in China; cities are real, drawn by size, with a conventional tier
  1-4; members of a social community tend to share a home city.
* Each user has a latent customer type (``config.CUSTOMER_TYPES``); new
  explorers are only found among users who sign up inside the window. The type
  sets the distributions of price sensitivity, activity, preference
  concentration, basket size and churn hazard, so behaviour separates the types.
* Each user has a true coupon response type drawn from a type-dependent mixture
  (persuadable, sure thing, lost cause, sleeping dog) with a true additive effect
  of a valid coupon on the per-session purchase probability.
* Category preferences are Dirichlet around the catalog's category weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from growthkit.sim import text
from growthkit.sim.calendar import Calendar
from growthkit.sim.catalog import N_TOP, TOP_WEIGHTS
from growthkit.sim.config import SimConfig

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000

# One row per customer type: bargain hunter, loyal big spender, casual browser, new explorer.
ACTIVITY_MEAN = np.array([0.16, 0.22, 0.06, 0.13])  # sessions per day
PRICE_SENS = np.array([[1.3, 2.3], [0.0, 0.4], [0.5, 1.4], [0.4, 1.2]])  # uniform range
BASE_BUY = np.array([0.06, 0.15, 0.035, 0.06])  # per-session purchase probability at a neutral state
DIRICHLET_SCALE = np.array([6.0, 2.5, 10.0, 30.0])  # preference concentration (low = focused)
QTY_EXTRA = np.array([0.25, 0.6, 0.05, 0.15])  # Poisson mean of units beyond the first
HAZARD0 = np.array([0.004, 0.0015, 0.007, 0.005])  # daily churn hazard at neutral satisfaction
SHARE_P = np.array([0.03, 0.05, 0.01, 0.04])  # per-session share probability
VIEW_LAM = np.array([2.5, 1.8, 1.6, 2.8])  # Poisson mean of views beyond the first
CONSENT_P = np.array([0.75, 0.65, 0.45, 0.6])
PROMO_RESPONSE = np.array([1.6, 1.0, 1.1, 1.2])  # extra purchase lift on promotion days
# Coupon type mixture per customer type: persuadable, sure thing, lost cause, sleeping dog.
COUPON_MIX = np.array(
    [[0.55, 0.10, 0.20, 0.15], [0.15, 0.60, 0.0, 0.25], [0.25, 0.15, 0.45, 0.15], [0.35, 0.20, 0.30, 0.15]]
)
COUPON_BUY_MULT = np.array([0.8, 1.7, 0.0, 1.0])  # base purchase multiplier per coupon type

CN_SHARE = 0.92
GEO_COUNTRY: tuple[str, ...] = tuple(["CN"] * len(text.CN_CITIES) + [c[0] for c in text.OTHER_CITIES])
GEO_CITY: tuple[str, ...] = tuple([c[0] for c in text.CN_CITIES] + [c[1] for c in text.OTHER_CITIES])
GEO_CITY_EN: tuple[str, ...] = tuple([c[1] for c in text.CN_CITIES] + [c[1] for c in text.OTHER_CITIES])
GEO_TIER: tuple[str | None, ...] = tuple([str(c[2]) for c in text.CN_CITIES] + [None] * len(text.OTHER_CITIES))
GEO_PHONE: tuple[str, ...] = tuple(["+86 138"] * len(text.CN_CITIES) + [c[2] for c in text.OTHER_CITIES])
_GEO_W = np.array(
    [c[3] / sum(x[3] for x in text.CN_CITIES) * CN_SHARE for c in text.CN_CITIES]
    + [c[3] / sum(x[3] for x in text.OTHER_CITIES) * (1 - CN_SHARE) for c in text.OTHER_CITIES]
)
GEO_P = _GEO_W / _GEO_W.sum()


@dataclass
class Skeleton:
    """Global per-user arrays that cross chunks (cheap: a few bytes per user)."""

    signup_us: I64
    geo: npt.NDArray[np.int16]
    lang: npt.NDArray[np.int8]  # 0 = zh, 1 = en
    community: npt.NDArray[np.int32]
    sociability: F64
    channel: npt.NDArray[np.int8]  # index into ACQUISITION_CHANNELS; referral may fall back to organic
    referrer: I64  # -1 unless referred


def build_skeleton(config: SimConfig, cal: Calendar, rng: np.random.Generator) -> Skeleton:
    """Draw signup times, geography, language, community, sociability and channels."""
    n = config.users
    pre = rng.random(n) < config.pre_existing_share
    day = np.empty(n, dtype=np.int64)
    day[pre] = -rng.integers(1, 366, int(pre.sum()))
    w = cal.dow_mult * cal.promo_mult
    day[~pre] = rng.choice(config.days, size=int((~pre).sum()), p=w / w.sum())
    signup_us = cal.start_us + day * US_PER_DAY + cal.sample_time_of_day(rng, n)

    n_comm = max(1, n // 150)
    comm_size = rng.lognormal(0.0, 0.8, n_comm)
    community = rng.choice(n_comm, size=n, p=comm_size / comm_size.sum()).astype(np.int32)
    home = rng.choice(len(GEO_P), size=n_comm, p=GEO_P)
    geo = np.where(rng.random(n) < 0.6, home[community], rng.choice(len(GEO_P), size=n, p=GEO_P)).astype(np.int16)
    is_cn = np.array([c == "CN" for c in GEO_COUNTRY])[geo]
    lang = np.where(rng.random(n) < np.where(is_cn, config.zh_share, 0.05), 0, 1).astype(np.int8)

    alpha = 2.5  # Pareto tail of the tie propensity (Chung-Lu weights)
    soc = (1.0 - rng.random(n)) ** (-1.0 / (alpha - 1.0))
    soc = np.minimum(soc, 3.0 * np.sqrt(n) + 1.0)

    other = (1.0 - config.referral_share) * np.array([0.45, 0.35, 0.20])
    p_chan = np.array([other[0], other[1], other[2], config.referral_share])
    channel = rng.choice(4, size=n, p=p_chan / p_chan.sum()).astype(np.int8)
    return Skeleton(
        signup_us=signup_us,
        geo=geo,
        lang=lang,
        community=community,
        sociability=soc,
        channel=channel,
        referrer=np.full(n, -1, dtype=np.int64),
    )


@dataclass
class Traits:
    """Latent per-user traits of one chunk (ground truth)."""

    ctype: I64
    coupon_type: I64
    coupon_effect: F64
    price_sens: F64
    activity: F64
    prefs: F64  # (n, N_TOP), rows sum to 1
    consent: npt.NDArray[np.bool_]


def draw_traits(in_window: npt.NDArray[np.bool_], rng: np.random.Generator) -> Traits:
    """Draw the latent traits of a chunk of users.

    Parameters
    ----------
    in_window : numpy.ndarray of bool
        Whether each user signs up inside the window (only those can be new explorers).
    rng : numpy.random.Generator
        The chunk's random stream.
    """
    n = int(in_window.shape[0])
    p_old = np.array([0.33, 0.2, 0.47, 0.0])
    p_new = np.array([0.2, 0.08, 0.32, 0.4])
    u = rng.random(n)
    ctype = np.where(
        in_window,
        np.searchsorted(np.cumsum(p_new), u, side="right"),
        np.searchsorted(np.cumsum(p_old), u, side="right"),
    )
    ctype = np.minimum(ctype, 3).astype(np.int64)
    cum_mix = np.cumsum(COUPON_MIX, axis=1)[ctype]
    coupon_type = np.minimum((rng.random(n)[:, None] >= cum_mix).sum(axis=1), 3).astype(np.int64)
    effect = np.zeros(n)
    pers = coupon_type == 0
    effect[pers] = rng.uniform(0.08, 0.25, int(pers.sum()))
    dog = coupon_type == 3
    effect[dog] = -rng.uniform(0.04, 0.10, int(dog.sum()))
    lo, hi = PRICE_SENS[ctype, 0], PRICE_SENS[ctype, 1]
    price_sens = lo + (hi - lo) * rng.random(n)
    activity = rng.gamma(0.9, ACTIVITY_MEAN[ctype] / 0.9)
    base = TOP_WEIGHTS / TOP_WEIGHTS.sum()
    g = rng.gamma(base[None, :] * DIRICHLET_SCALE[ctype][:, None] + 1e-3)
    prefs = g / g.sum(axis=1, keepdims=True)
    consent = rng.random(n) < CONSENT_P[ctype]
    return Traits(
        ctype=ctype,
        coupon_type=coupon_type,
        coupon_effect=effect,
        price_sens=price_sens,
        activity=activity,
        prefs=prefs,
        consent=consent,
    )


def user_ids(idx: I64, width: int) -> pa.Array:
    """``u`` + zero-padded global user index, as an Arrow string array."""
    digits = pc.utf8_lpad(pc.cast(pa.array(idx, pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise("u", digits, "")


def users_table(
    idx: I64, ids: pa.Array, sk: Skeleton, traits: Traits, all_ids_of: pa.Array, rng: np.random.Generator
) -> pa.Table:
    """The raw ``users`` rows of a chunk, with fake PII columns ``name``, ``email``, ``phone``.

    ``all_ids_of`` holds the id strings of the chunk's referrers (null where none).
    """
    geo = sk.geo[idx]
    lang = sk.lang[idx]
    m = int(idx.shape[0])
    s1 = rng.integers(0, len(text.SURNAMES_ZH), m)
    s2 = rng.integers(0, len(text.GIVEN_ZH), m)
    e1 = rng.integers(0, len(text.FIRST_EN), m)
    e2 = rng.integers(0, len(text.LAST_EN), m)
    cols: list[list[int]] = [s1.tolist(), s2.tolist(), e1.tolist(), e2.tolist(), lang.tolist()]
    names = [
        text.SURNAMES_ZH[a] + text.GIVEN_ZH[b] if g == 0 else f"{text.FIRST_EN[c]} {text.LAST_EN[d]}"
        for a, b, c, d, g in zip(*cols, strict=True)
    ]
    digits = pc.cast(pa.array(idx, pa.int64()), pa.string())
    email = pc.binary_join_element_wise("user", digits, "@example.com", "")
    prefix = pc.take(pa.array(GEO_PHONE, pa.string()), pa.array(geo.astype(np.int64)))
    width = np.where(np.array(GEO_PHONE)[geo] == "+86 138", 8, 7)
    phone_digits = [f"{i:0{w}d}"[-w:] for i, w in zip(idx.tolist(), width.tolist(), strict=True)]
    phone = pc.binary_join_element_wise(prefix, pa.array(phone_digits, pa.string()), "")
    refs = all_ids_of.to_pylist()
    attrs = [
        json.dumps(
            {"language": "zh" if lg == 0 else "en", "city_en": GEO_CITY_EN[g]}
            | ({"referrer": r} if r is not None else {}),
            ensure_ascii=False,
        )
        for lg, g, r in zip(lang.tolist(), geo.tolist(), refs, strict=True)
    ]
    chan = np.array(["organic", "ads", "social", "referral"])[sk.channel[idx]]
    return pa.table(
        {
            "user_id": ids,
            "signup_ts": pa.array(sk.signup_us[idx], pa.timestamp("us", tz="UTC")),
            "channel": pa.array(chan.tolist(), pa.string()),
            "country": pc.take(pa.array(GEO_COUNTRY, pa.string()), pa.array(geo.astype(np.int64))),
            "city": pc.take(pa.array(GEO_CITY, pa.string()), pa.array(geo.astype(np.int64))),
            "city_tier": pc.take(pa.array(GEO_TIER, pa.string()), pa.array(geo.astype(np.int64))),
            "marketing_consent": pa.array(traits.consent, pa.bool_()),
            "name": pa.array(names, pa.string()),
            "email": email,
            "phone": phone,
            "attributes": pa.array(attrs, pa.string()),
        }
    )


def top_categories(prefs: F64, k: int = 3) -> list[str]:
    """The ``k`` most preferred top categories per user, joined with ``|``."""
    from growthkit.sim.catalog import TOP_NAMES

    order = np.argsort(-prefs, axis=1, kind="stable")[:, :k]
    return ["|".join(TOP_NAMES[j] for j in row) for row in order.tolist()]


__all__ = ["N_TOP", "Skeleton", "Traits", "build_skeleton", "draw_traits", "top_categories", "users_table"]
