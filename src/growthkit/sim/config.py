"""Configuration of the shop simulator and its fixed vocabularies."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

DEFAULT_PROMOTIONS: tuple[tuple[int, int, str], ...] = (
    (3, 8, "women_day"),
    (5, 20, "520"),
    (6, 18, "618"),
    (9, 9, "99"),
    (11, 11, "double11"),
    (12, 12, "double12"),
)
"""Promotion days as (month, day, name), in the style of Chinese shopping festivals."""

ACQUISITION_CHANNELS: tuple[str, ...] = ("organic", "ads", "social", "referral")
SESSION_CHANNELS: tuple[str, ...] = ("direct", "search", "ads", "social")
COUPON_MEDIA: tuple[str, ...] = ("email", "sms", "push")
EVENT_CHANNELS: tuple[str, ...] = (*ACQUISITION_CHANNELS, "direct", "search", *COUPON_MEDIA)
"""All channel strings events use (acquisition channels, session sources, coupon media)."""

CUSTOMER_TYPES: tuple[str, ...] = ("bargain_hunter", "loyal_big_spender", "casual_browser", "new_explorer")
COUPON_TYPES: tuple[str, ...] = ("persuadable", "sure_thing", "lost_cause", "sleeping_dog")


@dataclass(frozen=True, kw_only=True)
class SimConfig:
    """Everything that determines a simulated shop; same config, same bytes.

    Parameters
    ----------
    users : int
        Number of customers (some signed up before the window).
    days : int
        Length of the simulated window in days, starting at ``start`` (UTC).
    seed : int
        Root seed; every random stream is a child of ``SeedSequence(seed)``.
    start : datetime.date
        First day of the window (00:00 UTC).
    items : int or None
        Catalog size; default ``min(50_000, max(200, users // 20))``.
    chunk_users : int
        Users simulated per chunk (fixed boundaries; memory scales with it).
    pre_existing_share : float
        Share of users who signed up in the year before ``start``.
    referral_share : float
        Share of users acquired by referral (invited by an earlier user).
    zh_share : float
        Share of users in China who write in Chinese (others write English).
    coupon_share : float
        Share of consenting users in each coupon campaign (random assignment).
    coupon_every_days : int
        Days between coupon campaigns (the first is on day ``coupon_every_days // 2``).
    coupon_valid_days : int
        Days a coupon can be redeemed, starting the day after it is received.
    promotions : tuple of (month, day, name)
        Yearly promotion days; those inside the window boost sessions and purchases.
    promo_boost : float
        Session-rate multiplier on a promotion day (the two days before get half the lift).
    mean_degree : float
        Mean number of friend/follow ties per user in the social graph.

    Examples
    --------
    >>> SimConfig(users=100, days=30).resolved_items
    200
    """

    users: int = 10_000
    days: int = 180
    seed: int = 7
    start: date = date(2025, 1, 1)
    items: int | None = None
    chunk_users: int = 10_000
    pre_existing_share: float = 0.4
    referral_share: float = 0.15
    zh_share: float = 0.85
    coupon_share: float = 0.3
    coupon_every_days: int = 14
    coupon_valid_days: int = 7
    promotions: tuple[tuple[int, int, str], ...] = field(default=DEFAULT_PROMOTIONS)
    promo_boost: float = 2.0
    mean_degree: float = 8.0

    def __post_init__(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ValueError(message)

        for name in ("users", "days", "seed", "chunk_users", "coupon_every_days", "coupon_valid_days"):
            value = getattr(self, name)
            need(isinstance(value, int) and not isinstance(value, bool), f"{name} must be an int, got {value!r}")
        need(self.users >= 1, f"users must be >= 1, got {self.users}")
        need(1 <= self.days <= 3660, f"days must be between 1 and 3660, got {self.days}")
        need(self.seed >= 0, f"seed must be >= 0, got {self.seed}")
        need(
            isinstance(self.start, date) and not isinstance(self.start, datetime),
            f"start must be a datetime.date (not a datetime), got {self.start!r}",
        )
        if self.items is not None:
            need(
                isinstance(self.items, int) and self.items >= 1, f"items must be >= 1 or None, got {self.items!r}"
            )
        need(self.chunk_users >= 1, f"chunk_users must be >= 1, got {self.chunk_users}")
        for name in ("pre_existing_share", "referral_share", "zh_share", "coupon_share"):
            value = float(getattr(self, name))
            need(0.0 <= value <= 1.0, f"{name} must be between 0 and 1, got {value}")
        need(self.coupon_every_days >= 1, f"coupon_every_days must be >= 1, got {self.coupon_every_days}")
        need(self.coupon_valid_days >= 1, f"coupon_valid_days must be >= 1, got {self.coupon_valid_days}")
        need(self.promo_boost >= 1.0, f"promo_boost must be >= 1, got {self.promo_boost}")
        need(0.0 <= self.mean_degree <= 1000.0, f"mean_degree must be between 0 and 1000, got {self.mean_degree}")
        for promo in self.promotions:
            ok = (
                isinstance(promo, tuple)
                and len(promo) == 3
                and isinstance(promo[2], str)
                and re.fullmatch(r"[A-Za-z0-9_\-]+", promo[2]) is not None
            )
            need(ok, f"each promotion must be (month, day, name) with a name of letters, digits, _ or -; got {promo!r}")
            try:
                date(2024, int(promo[0]), int(promo[1]))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"promotion {promo!r} is not a valid (month, day, name)") from exc

    @property
    def resolved_items(self) -> int:
        """Catalog size actually used."""
        if self.items is not None:
            return self.items
        return min(50_000, max(200, self.users // 20))

    @property
    def n_chunks(self) -> int:
        """Number of user chunks (boundaries depend only on ``users`` and ``chunk_users``)."""
        return -(-self.users // self.chunk_users)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the config (dates as ISO strings)."""
        out = dataclasses.asdict(self)
        out["start"] = self.start.isoformat()
        out["promotions"] = [list(p) for p in self.promotions]
        out["items"] = self.resolved_items
        return out
