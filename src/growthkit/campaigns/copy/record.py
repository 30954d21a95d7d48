"""The records copy is grounded in: a product from the catalog, an optional offer, the shop.

Every fact a copy may state (a price, a discount, a date, a spec, the shop's name) is a
field of these records. The model never writes a fact itself; it writes named slots that
:mod:`~growthkit.campaigns.copy.slots` fills from here, and the checker accepts no claim
that these records do not support.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from growthkit.errors import ConfigError

_SPEC_SKIP = ("title", "short_title", "category", "description")


def money(value: float) -> float:
    """``value`` rounded to cents, half up (as a till rounds)."""
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Product:
    """One catalog item (a row of the ``items`` table).

    ``specs`` are ``(name, value)`` pairs stated as they are (``("容量", "500ml")``);
    ``short_titles`` are ``(language, title)`` pairs for channels too short for the
    full title.

    Examples
    --------
    >>> p = Product.from_row({"item_id": "i1", "title": "Oolong tea 500g", "price": 59.0,
    ...                       "currency": "CNY", "attributes": '{"specs": {"weight": "500g"}}'})
    >>> p.specs, p.price
    ((('weight', '500g'),), 59.0)
    """

    item_id: str
    title: str
    price: float | None = None
    currency: str | None = None
    brand: str | None = None
    category: str | None = None
    specs: tuple[tuple[str, str], ...] = ()
    short_titles: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not str(self.item_id).strip():
            raise ConfigError("a product needs an item_id")
        if not str(self.title or "").strip():
            raise ConfigError(f"item {self.item_id!r} has no title; copy needs the product's name")
        if self.price is not None and (not math.isfinite(self.price) or self.price < 0):
            raise ConfigError(f"item {self.item_id!r}: price must be a non-negative number, got {self.price}")
        object.__setattr__(self, "title", " ".join(str(self.title).split()))
        object.__setattr__(self, "specs", tuple((str(k), str(v)) for k, v in self.specs))
        object.__setattr__(self, "short_titles", tuple((str(k), str(v)) for k, v in self.short_titles))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Product:
        """A product from an ``items`` row (``attributes`` may be a JSON string or a mapping).

        Specs come from ``attributes["specs"]`` when it is an object, else from the other
        scalar attributes (at most three); ``attributes["short_title"]`` or
        ``attributes["title_zh"]`` / ``["title_en"]`` give short titles.
        """
        attrs: Any = row.get("attributes") or {}
        if isinstance(attrs, str):
            try:
                attrs = json.loads(attrs)
            except json.JSONDecodeError:
                attrs = {}
        if not isinstance(attrs, Mapping):
            attrs = {}
        raw_specs = attrs.get("specs")
        if isinstance(raw_specs, Mapping):
            pairs = [(k, v) for k, v in raw_specs.items() if isinstance(v, str | int | float)]
        else:
            pairs = [
                (k, v)
                for k, v in attrs.items()
                if isinstance(v, str | int | float) and not isinstance(v, bool) and not k.startswith(_SPEC_SKIP)
            ]
        shorts = [(lang, str(attrs[f"title_{lang}"])) for lang in ("zh", "en") if attrs.get(f"title_{lang}")]
        if attrs.get("short_title"):
            shorts.append(("*", str(attrs["short_title"])))
        price = row.get("price")
        return cls(
            item_id=str(row["item_id"]),
            title=str(row.get("title") or ""),
            price=None if price is None or (isinstance(price, float) and math.isnan(price)) else float(price),
            currency=str(row["currency"]).upper() if row.get("currency") else None,
            brand=str(row["brand"]) if row.get("brand") else None,
            category=str(row["category"]) if row.get("category") else None,
            specs=tuple((str(k), str(v)) for k, v in pairs[:3]),
            short_titles=tuple(shorts),
        )

    @property
    def category_leaf(self) -> str | None:
        """The last level of the category path (``"Tea > Oolong"`` -> ``"Oolong"``)."""
        if not self.category:
            return None
        return self.category.split(">")[-1].strip() or None


@dataclass(frozen=True)
class Offer:
    """An optional promotion attached to the product.

    Give at most one of ``discount_percent`` (20 = 20 % off = 八折) and ``discount_amount``
    (money off the list price); a ``coupon_value`` may have a ``min_spend`` (满300减50).

    Examples
    --------
    >>> Offer(discount_percent=15).zhe
    8.5
    """

    discount_percent: float | None = None
    discount_amount: float | None = None
    coupon_value: float | None = None
    min_spend: float | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    code: str | None = None
    free_shipping: bool = False
    link: str | None = None

    def __post_init__(self) -> None:
        pct = self.discount_percent
        if pct is not None and not 0 < pct < 100:
            raise ConfigError(f"discount_percent must lie strictly between 0 and 100 (20 = 20% off), got {pct}")
        if pct is not None and self.discount_amount is not None:
            raise ConfigError("give a discount as a percent or as an amount, not both")
        for name in ("discount_amount", "coupon_value", "min_spend"):
            v = getattr(self, name)
            if v is not None and (not math.isfinite(v) or v <= 0):
                raise ConfigError(f"{name} must be a positive amount, got {v}")
        if self.min_spend is not None and self.coupon_value is None:
            raise ConfigError("min_spend belongs to a coupon: give coupon_value too")
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise ConfigError(f"valid_from {self.valid_from} is after valid_until {self.valid_until}")
        if self.code is not None and (not self.code.strip() or any(ch.isspace() for ch in self.code)):
            raise ConfigError(f"a coupon code is one word without spaces, got {self.code!r}")

    @property
    def zhe(self) -> float | None:
        """The discount in 折 (the share paid, in tenths): 20 % off is 8折, 15 % off is 8.5折."""
        if self.discount_percent is None:
            return None
        return round((100.0 - self.discount_percent) / 10.0, 4)

    @property
    def is_empty(self) -> bool:
        return self == Offer()


@dataclass(frozen=True)
class CopyRecord:
    """Everything a copy may state: the product, the offer and the shop's name."""

    product: Product
    offer: Offer = field(default_factory=Offer)
    shop: str | None = None

    def __post_init__(self) -> None:
        if self.shop is not None:
            name = " ".join(self.shop.split())
            object.__setattr__(self, "shop", name or None)
        amount, price = self.offer.discount_amount, self.product.price
        if amount is not None and price is not None and amount >= price:
            raise ConfigError(
                f"discount_amount {amount} is not below the price {price} of item {self.product.item_id!r}"
            )

    @property
    def sale_price(self) -> float | None:
        """The price after the discount (cents, half up), or None without a price or a discount."""
        p, o = self.product.price, self.offer
        if p is None:
            return None
        if o.discount_percent is not None:
            return money(p * (100.0 - o.discount_percent) / 100.0)
        if o.discount_amount is not None:
            return money(p - o.discount_amount)
        return None

    @property
    def saving(self) -> float | None:
        """List price minus sale price."""
        if self.sale_price is None or self.product.price is None:
            return None
        return money(self.product.price - self.sale_price)

    def facts(self) -> dict[str, Any]:
        """The record as plain JSON-able facts (what the cache key and provenance hash)."""
        p, o = self.product, self.offer
        return {
            "item_id": p.item_id,
            "title": p.title,
            "price": p.price,
            "currency": p.currency,
            "brand": p.brand,
            "category": p.category,
            "specs": [list(s) for s in p.specs],
            "short_titles": [list(s) for s in p.short_titles],
            "discount_percent": o.discount_percent,
            "discount_amount": o.discount_amount,
            "coupon_value": o.coupon_value,
            "min_spend": o.min_spend,
            "valid_from": o.valid_from.isoformat() if o.valid_from else None,
            "valid_until": o.valid_until.isoformat() if o.valid_until else None,
            "code": o.code,
            "free_shipping": o.free_shipping,
            "link": o.link,
            "shop": self.shop,
        }
