"""What a record supports: the values each kind of claim may take, and the verdict on a claim.

:meth:`Grounding.of` derives, from a :class:`~growthkit.campaigns.copy.record.CopyRecord`,
every value a copy may state (list price, sale price, saving, discount, coupon, minimum
spend, offer dates and length, spec and title numbers), and :meth:`Grounding.verify`
says why a :class:`~growthkit.campaigns.copy.claims.Claim` is not supported, or
``None`` when it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from growthkit.campaigns.copy.claims import Claim, normalize
from growthkit.campaigns.copy.record import CopyRecord
from growthkit.campaigns.copy.slots import short_title

_TOL = 0.005
_DOLLARS = ("USD", "HKD", "SGD", "AUD", "CAD", "TWD", "NZD")
_YEN = ("CNY", "RMB", "JPY")


def _near(a: float, values: tuple[float, ...]) -> bool:
    return any(abs(a - v) < _TOL for v in values)


def _fmt(values: tuple[float, ...]) -> str:
    return ", ".join(f"{v:g}" for v in values) or "none"


def _numbers_in(texts: tuple[str, ...]) -> tuple[float, ...]:
    out: list[float] = []
    for t in texts:
        for m in re.finditer(r"[0-9]+(?:\.[0-9]+)?", normalize(t)):
            out.append(float(m.group(0)))
    return tuple(out)


@dataclass(frozen=True)
class Grounding:
    """The values a record supports, by claim kind."""

    money: tuple[float, ...]
    percents: tuple[float, ...]
    thresholds: tuple[tuple[float, float], ...]
    dates: tuple[date, ...]
    durations: tuple[float, ...]
    numbers: tuple[float, ...]
    currency: str | None
    free_shipping: bool
    limited_time: bool
    literals: tuple[str, ...]

    @classmethod
    def of(cls, record: CopyRecord) -> Grounding:
        """Everything ``record`` supports."""
        p, o = record.product, record.offer
        money = tuple(
            v
            for v in (p.price, record.sale_price, record.saving, o.discount_amount, o.coupon_value, o.min_spend)
            if v is not None
        )
        percents = (o.discount_percent,) if o.discount_percent is not None else ()
        thresholds = ((o.min_spend, o.coupon_value),) if o.min_spend is not None and o.coupon_value else ()
        dates = tuple(d for d in (o.valid_from, o.valid_until) if d is not None)
        durations: tuple[float, ...] = ()
        if o.valid_from and o.valid_until:
            days = float((o.valid_until - o.valid_from).days + 1)
            durations = (days, days - 1) if days > 1 else (days,)
        literals = tuple(
            s
            for s in (
                p.title,
                short_title(record, "zh"),
                short_title(record, "en"),
                p.brand,
                p.category,
                p.category_leaf,
                record.shop,
                o.code,
                o.link,
                *(v for _, v in p.short_titles),
                *(v for _, v in p.specs),
                *(f"{k}：{v}" for k, v in p.specs),
                *(f"{k}: {v}" for k, v in p.specs),
            )
            if s
        )
        zhe = (o.zhe,) if o.zhe is not None else ()
        date_parts = tuple(float(x) for d in dates for x in (d.year, d.month, d.day))
        numbers = (
            money
            + percents
            + zhe
            + date_parts
            + durations
            + tuple(h * 24 for h in durations)
            + _numbers_in(literals)
            + tuple(x for t in thresholds for x in t)
        )
        return cls(
            money=money,
            percents=percents,
            thresholds=thresholds,
            dates=dates,
            durations=durations,
            numbers=tuple(sorted(set(numbers))),
            currency=p.currency.upper() if p.currency else None,
            free_shipping=o.free_shipping,
            limited_time=o.valid_until is not None,
            literals=literals,
        )

    def _currency_ok(self, unit: str) -> bool:
        if not unit or self.currency is None:
            return True
        if unit == "$":
            return self.currency in _DOLLARS
        if unit == "¥":
            return self.currency in _YEN
        return unit == self.currency or (unit == "CNY" and self.currency == "RMB")

    def _date_ok(self, values: tuple[float, ...], ambiguous: bool) -> bool:
        year, month, day = (int(v) for v in values)
        readings = [(month, day), (day, month)] if ambiguous else [(month, day)]
        for d in self.dates:
            for m, dd in readings:
                if d.month == m and (dd == 0 or d.day == dd) and (year == 0 or d.year == year):
                    return True
        return False

    def verify(self, claim: Claim) -> str | None:
        """Why ``claim`` is not supported by the record, or None when it is."""
        k, v, t = claim.kind, claim.values, claim.text
        if k == "money":
            if not _near(v[0], self.money):
                have = _fmt(self.money)
                return f"{t!r}: {v[0]:g} is not a price, saving, coupon or minimum spend of the record ({have})"
            if not self._currency_ok(claim.unit):
                return f"{t!r}: the record's currency is {self.currency}"
            return None
        if k == "percent":
            if _near(v[0], self.percents):
                return None
            off = f"{self.percents[0]:g}% off" if self.percents else "no percentage discount"
            return f"{t!r} claims {v[0]:g}% off but the offer gives {off}"
        if k == "threshold":
            if any(abs(v[0] - a) < _TOL and abs(v[1] - b) < _TOL for a, b in self.thresholds):
                return None
            have = ", ".join(f"spend {a:g} save {b:g}" for a, b in self.thresholds) or "no spend-and-save rule"
            return f"{t!r} claims spend {v[0]:g} save {v[1]:g} but the offer has {have}"
        if k == "date":
            if self._date_ok(v, claim.unit == "ambiguous"):
                return None
            have = ", ".join(d.isoformat() for d in self.dates) or "no dates"
            return f"{t!r} is not a date of the offer ({have})"
        if k == "time":
            return f"{t!r}: the offer record has no time of day; state the day with {{valid_until}}"
        if k == "duration":
            if _near(v[0], self.durations):
                return None
            return f"{t!r} is not the length of the offer ({_fmt(self.durations)} days)"
        if k == "number":
            if _near(v[0], self.numbers):
                return None
            return f"{t!r} is not a number of the record"
        if k == "limited_time":
            return None if self.limited_time else f"{t!r} needs an end date (valid_until) in the offer"
        if k == "free_shipping":
            return None if self.free_shipping else f"{t!r}: free shipping is not part of the offer"
        if k == "bundle":
            return f"{t!r}: the offer has no bundle deal"
        if k == "relative_date":
            return f"{t!r}: the send day is unknown to the record; state the day with {{valid_until}}"
        if k == "link":
            return f"{t!r} is not the offer's link"
        if k == "pii":
            return f"{t!r} looks like personal data ({claim.unit}); copy must not contain any"
        return f"{t!r}: unknown claim kind {k}"
