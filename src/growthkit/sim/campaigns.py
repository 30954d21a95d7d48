"""The simulator's coupon campaigns as experiments: exposures, definitions and their true effect.

Every coupon campaign is a randomised experiment with two arms, ``control`` and
``coupon`` (weights ``1 - coupon_share`` and ``coupon_share``), keyed by its send
day, e.g. ``coupon-2025-01-15``. The experiment population is every *eligible*
user: consenting, signed up before the send day. Churned users are eligible too,
because the shop cannot see churn (they also receive coupons); an analysis of
these exposures is therefore an intention-to-treat analysis over everyone the
shop mailed or could have mailed. All eligible users are exposed at the
campaign's send time, 02:00 UTC of the send day (the start of the 10-12h China
time mailing window, before any coupon arrives), so both arms share the same
outcome windows. The coupon is valid from 00:00 UTC of the next day for
``coupon_valid_days`` days.

Three tables come out:

* ``exposures``: one row per (campaign, eligible user), in the columns of the
  store's ``exposures`` table (``experiment``, ``variation``, ``user_id``, ``ts``,
  ``context`` = ``{"campaign_id": "cmp003"}``);
* ``experiments``: one definition per campaign (what the shop knows);
* ``truth/experiments``: arm sizes and the true average effect of the coupon
  per campaign (see :data:`EXPERIMENT_TRUTH_SCHEMA`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from growthkit.sim.behaviour import CampaignDraw
from growthkit.sim.calendar import US_PER_DAY
from growthkit.sim.config import COUPON_TYPES, SimConfig

TS = pa.timestamp("us", tz="UTC")
SEND_OFFSET_US = 2 * 3_600 * 1_000_000
"""Exposure time: 02:00 UTC of the send day (coupons arrive between 02:00 and 04:00 UTC)."""
VARIATIONS: tuple[str, str] = ("control", "coupon")

EXPOSURES_SCHEMA = pa.schema(
    [
        ("experiment", pa.string()),
        ("variation", pa.string()),
        ("user_id", pa.string()),
        ("ts", TS),
        ("context", pa.string()),
    ]
)
EXPERIMENTS_SCHEMA = pa.schema(
    [
        ("experiment", pa.string()),
        ("campaign_id", pa.string()),
        ("variations", pa.list_(pa.string())),
        ("weights", pa.list_(pa.float64())),
        ("start_ts", TS),
        ("valid_from", TS),
        ("valid_until", TS),
        ("coupon_valid_days", pa.int64()),
        ("description", pa.string()),
    ]
)
EXPERIMENT_TRUTH_SCHEMA = pa.schema(
    [
        ("experiment", pa.string()),
        ("campaign_id", pa.string()),
        ("n_eligible", pa.int64()),
        ("n_coupon", pa.int64()),
        ("n_control", pa.int64()),
        ("n_coupon_alive", pa.int64()),
        ("true_att", pa.float64()),
        ("true_att_alive", pa.float64()),
        ("true_ate", pa.float64()),
        *((f"share_{t}", pa.float64()) for t in COUPON_TYPES),
    ]
)
"""Per campaign: ``n_*`` arm sizes (``n_coupon_alive``: coupon users not churned at send time);
``true_att``: mean true coupon effect (additive change of the per-session purchase probability
while the coupon is valid) over the coupon arm; ``true_att_alive``: the same over the coupon
users who had not churned (the only ones who can react); ``true_ate``: over all eligible users;
``share_<type>``: share of each coupon response type in the coupon arm."""


def campaign_key(start: date, day: int) -> str:
    """``coupon-YYYY-MM-DD`` for the campaign sent on window day ``day``."""
    return f"coupon-{(start + timedelta(days=day)).isoformat()}"


def campaign_id(k: int) -> str:
    """The ``campaign_id`` that coupon events carry (``cmp003``)."""
    return f"cmp{k:03d}"


def definitions_table(config: SimConfig, start_us: int, campaign_days: np.ndarray) -> pa.Table:
    """One row per campaign: arms and weights, send time and coupon validity."""
    days = [int(d) for d in campaign_days]
    share = float(config.coupon_share)
    send = [start_us + d * US_PER_DAY + SEND_OFFSET_US for d in days]
    valid_from = [start_us + (d + 1) * US_PER_DAY for d in days]
    valid_until = [v + config.coupon_valid_days * US_PER_DAY for v in valid_from]
    return pa.table(
        [
            pa.array([campaign_key(config.start, d) for d in days], pa.string()),
            pa.array([campaign_id(k) for k in range(len(days))], pa.string()),
            pa.array([list(VARIATIONS)] * len(days), pa.list_(pa.string())),
            pa.array([[1.0 - share, share]] * len(days), pa.list_(pa.float64())),
            pa.array(send, TS),
            pa.array(valid_from, TS),
            pa.array(valid_until, TS),
            pa.array([config.coupon_valid_days] * len(days), pa.int64()),
            pa.array(
                [
                    f"coupon campaign {campaign_id(k)}: a random {share:.0%} of eligible users get a coupon"
                    for k in range(len(days))
                ],
                pa.string(),
            ),
        ],
        schema=EXPERIMENTS_SCHEMA,
    )


def exposure_table(config: SimConfig, start_us: int, draws: list[CampaignDraw], ids: pa.Array) -> pa.Table:
    """The exposures of one chunk: per campaign (in order), its eligible users in user order."""
    parts: list[pa.Table] = []
    variations = pa.array(list(VARIATIONS), pa.string())
    for c in draws:
        n = int(c.eligible.shape[0])
        if n == 0:
            continue
        ts = start_us + c.day * US_PER_DAY + SEND_OFFSET_US
        context = '{"campaign_id":"' + campaign_id(c.campaign) + '"}'
        parts.append(
            pa.table(
                [
                    pa.array([campaign_key(config.start, c.day)] * n, pa.string()),
                    pc.take(variations, pa.array(c.treated.astype(np.int64))),
                    pc.take(ids, pa.array(c.eligible)),
                    pa.array(np.full(n, ts, dtype=np.int64), TS),
                    pa.array([context] * n, pa.string()),
                ],
                schema=EXPOSURES_SCHEMA,
            )
        )
    return pa.concat_tables(parts) if parts else EXPOSURES_SCHEMA.empty_table()


@dataclass
class CampaignTruth:
    """Running sums over chunks for ``truth/experiments`` (one slot per campaign)."""

    n_campaigns: int
    sums: np.ndarray = field(init=False)
    types: np.ndarray = field(init=False)

    # columns of ``sums``: eligible, coupon, coupon alive, effect over coupon, over coupon alive, over eligible
    def __post_init__(self) -> None:
        self.sums = np.zeros((self.n_campaigns, 6))
        self.types = np.zeros((self.n_campaigns, len(COUPON_TYPES)))

    def add(self, draws: list[CampaignDraw], effect: np.ndarray, coupon_type: np.ndarray) -> None:
        """Add one chunk (``effect`` and ``coupon_type`` indexed by local user)."""
        for c in draws:
            e = effect[c.eligible]
            t, ta = c.treated, c.treated & c.alive
            self.sums[c.campaign] += (e.size, t.sum(), ta.sum(), e[t].sum(), e[ta].sum(), e.sum())
            self.types[c.campaign] += np.bincount(coupon_type[c.eligible][t], minlength=len(COUPON_TYPES))

    def table(self, config: SimConfig, campaign_days: np.ndarray) -> pa.Table:
        """The ``truth/experiments`` rows, one per campaign (means are null for an empty arm)."""
        s = self.sums
        n_el, n_cp, n_alive = s[:, 0], s[:, 1], s[:, 2]

        def mean(total: np.ndarray, n: np.ndarray) -> pa.Array:
            return pa.array(np.where(n > 0, total / np.maximum(n, 1), 0.0), pa.float64(), mask=n == 0)

        cols: list[pa.Array] = [
            pa.array([campaign_key(config.start, int(d)) for d in campaign_days], pa.string()),
            pa.array([campaign_id(k) for k in range(self.n_campaigns)], pa.string()),
            pa.array(n_el.astype(np.int64)),
            pa.array(n_cp.astype(np.int64)),
            pa.array((n_el - n_cp).astype(np.int64)),
            pa.array(n_alive.astype(np.int64)),
            mean(s[:, 3], n_cp),
            mean(s[:, 4], n_alive),
            mean(s[:, 5], n_el),
            *(mean(self.types[:, j], n_cp) for j in range(len(COUPON_TYPES))),
        ]
        return pa.table(cols, schema=EXPERIMENT_TRUTH_SCHEMA)
