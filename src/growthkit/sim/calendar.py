"""The simulated calendar: weekly seasonality, evening peaks, promotion and campaign days.

Model assumptions
-----------------
* Sessions follow a China-local (UTC+8) hourly profile that peaks at 20-22h
  local time; timestamps are stored in UTC, and a session always stays inside
  its UTC day (so every timestamp lies in ``[start, start + days)``).
* Weekends get about 30 % more sessions than weekdays.
* A promotion day multiplies the session rate by ``promo_boost`` (the two days
  before get half of the lift) and raises purchase probability further.
* Coupon campaigns go out every ``coupon_every_days`` days at 10-12h local.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from growthkit.sim.config import SimConfig

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000

LOCAL_HOUR_WEIGHTS = np.array(
    [1.0, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2.0, 2.5, 3.0, 3.2, 3.5, 3.0, 2.8, 2.8, 3.0, 3.2, 3.5, 4.5, 5.5, 6.0,
     5.0, 2.5]
)
"""Relative activity per China-local hour (0-23)."""
UTC_OFFSET_HOURS = 8
DOW_MULT = np.array([0.92, 0.9, 0.92, 0.95, 1.05, 1.3, 1.25])
"""Session multiplier by weekday (Monday first)."""


@dataclass(frozen=True)
class Calendar:
    """Per-day multipliers and markers of the window."""

    start_us: int
    days: int
    dow_mult: F64
    promo_mult: F64
    promo_idx: I64  # index into promo_names on the promotion day itself, else -1
    promo_names: tuple[str, ...]
    campaign_days: I64
    hour_cdf: F64

    @property
    def end_us(self) -> int:
        return self.start_us + self.days * US_PER_DAY

    def sample_time_of_day(self, rng: np.random.Generator, n: int) -> I64:
        """Microseconds after UTC midnight, drawn from the evening-peaked profile."""
        hour = np.searchsorted(self.hour_cdf, rng.random(n), side="right")
        return (np.minimum(hour, 23) * US_PER_HOUR + (rng.random(n) * US_PER_HOUR).astype(np.int64)).astype(np.int64)


def build_calendar(config: SimConfig) -> Calendar:
    """Derive the calendar of a config (no randomness)."""
    start = datetime(config.start.year, config.start.month, config.start.day, tzinfo=UTC)
    start_us = int(start.timestamp()) * 1_000_000
    dates = [config.start + timedelta(days=d) for d in range(config.days)]
    dow_mult = DOW_MULT[[d.weekday() for d in dates]].astype(np.float64)
    promo_mult = np.ones(config.days)
    promo_idx = np.full(config.days, -1, dtype=np.int64)
    names: list[str] = []
    lead = 1.0 + (config.promo_boost - 1.0) / 2.0
    for year in range(config.start.year, dates[-1].year + 1):
        for month, day, name in config.promotions:
            try:
                when = date(year, month, day)
            except ValueError:
                continue  # 29 February in a common year
            d = (when - config.start).days
            for lag in (1, 2):
                if 0 <= d - lag < config.days:
                    promo_mult[d - lag] = max(promo_mult[d - lag], lead)
            if 0 <= d < config.days:
                promo_mult[d] = config.promo_boost
                promo_idx[d] = len(names)
                names.append(name)
    local = np.roll(LOCAL_HOUR_WEIGHTS, -UTC_OFFSET_HOURS)  # index = UTC hour
    hour_cdf = np.cumsum(local) / local.sum()
    campaign_days = np.arange(config.coupon_every_days // 2, config.days, config.coupon_every_days, dtype=np.int64)
    return Calendar(
        start_us=start_us,
        days=config.days,
        dow_mult=dow_mult,
        promo_mult=promo_mult,
        promo_idx=promo_idx,
        promo_names=tuple(names),
        campaign_days=campaign_days,
        hour_cdf=hour_cdf,
    )
