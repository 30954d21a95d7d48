"""Named slots: how copy refers to facts without writing them.

A model (or a template) writes ``限时{discount}，到手价{sale_price}`` and
:func:`fill` replaces each slot with the value formatted from the record for the
language: ``限时8折，到手价¥159.20``. A slot the record has no value for, or a slot name
that does not exist, is reported, never guessed.

=================  ==============================  ==========================  ===================
slot               record fields                   zh                          en
=================  ==============================  ==========================  ===================
``{shop}``         shop                            小满茶铺                    Tea Corner
``{product}``      title / short titles            铁观音                      Oolong tea
``{brand}``        brand                           as stored                   as stored
``{category}``     category (last level)           as stored                   as stored
``{specs}``        attributes.specs                净含量：500g                weight: 500g
``{price}``        price, currency                 ¥199                        $199
``{sale_price}``   price, discount                 ¥159.20                     $159.20
``{saving}``       price, discount                 ¥39.80                      $39.80
``{discount}``     discount_percent / _amount      8折 / 立减¥30               20% off / $30 off
``{discount_pct}`` discount_percent                20%                         20%
``{coupon}``       coupon_value                    ¥50                         $50
``{min_spend}``    min_spend                       ¥300                        $300
``{coupon_rule}``  coupon_value, min_spend         满300减50                   $50 off orders of $300+
``{valid_from}``   valid_from                      11月1日                     Nov 1
``{valid_until}``  valid_until                     11月30日                    Nov 30
``{code}``         code                            SAVE20                      SAVE20
``{link}``         link                            as stored                   as stored
=================  ==============================  ==========================  ===================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from growthkit.campaigns.copy.channels import display_length
from growthkit.campaigns.copy.record import CopyRecord

SLOT_FIELDS: dict[str, tuple[str, ...]] = {
    "shop": ("shop",),
    "product": ("title",),
    "brand": ("brand",),
    "category": ("category",),
    "specs": ("specs",),
    "price": ("price", "currency"),
    "sale_price": ("price", "currency", "discount_percent", "discount_amount"),
    "saving": ("price", "currency", "discount_percent", "discount_amount"),
    "discount": ("discount_percent", "discount_amount", "currency"),
    "discount_pct": ("discount_percent",),
    "coupon": ("coupon_value", "currency"),
    "min_spend": ("min_spend", "currency"),
    "coupon_rule": ("coupon_value", "min_spend", "currency"),
    "valid_from": ("valid_from",),
    "valid_until": ("valid_until",),
    "code": ("code",),
    "link": ("link",),
}
"""Every slot and the record fields its value comes from (what provenance lists)."""

SLOT_MEANING: dict[str, str] = {
    "shop": "the shop's name",
    "product": "the product's name",
    "brand": "the brand",
    "category": "the product category",
    "specs": "the product's specifications",
    "price": "the list price with currency",
    "sale_price": "the price after the discount",
    "saving": "how much money the discount saves",
    "discount": "the discount (written the way the language writes discounts)",
    "discount_pct": "the discount as a percentage",
    "coupon": "the coupon's value",
    "min_spend": "the minimum spend for the coupon",
    "coupon_rule": "the coupon with its minimum spend",
    "valid_from": "the first day of the offer",
    "valid_until": "the last day of the offer",
    "code": "the coupon code to enter at checkout",
    "link": "the landing page link",
}

SYMBOLS: dict[str, str] = {"CNY": "¥", "RMB": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SLOT_RE = re.compile(r"\{\{?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}?\}")
_MONEY_SLOTS = ("price", "sale_price", "saving", "coupon", "min_spend")
PRODUCT_MAX: dict[str, int] = {"zh": 12, "en": 28}
"""Longest ``{product}`` (display units) before the title is shortened."""


def number_text(value: float, lang: str = "zh") -> str:
    """``199`` for whole numbers, else two decimals; English groups thousands (``1,299``)."""
    whole = float(value).is_integer()
    if lang == "en":
        return f"{value:,.0f}" if whole else f"{value:,.2f}"
    return f"{value:.0f}" if whole else f"{value:.2f}"


def money_text(value: float, currency: str | None, lang: str) -> str:
    """A money amount with the currency's symbol (``¥199``, ``$19.99``, ``CHF 20``); bare without a currency."""
    num = number_text(value, lang)
    if not currency:
        return num
    symbol = SYMBOLS.get(currency.upper())
    return f"{symbol}{num}" if symbol else f"{currency.upper()} {num}"


def percent_text(value: float) -> str:
    return f"{value:g}%"


def zhe_text(zhe: float) -> str:
    """``8折``, ``8.5折``."""
    return f"{zhe:g}折"


def date_text(day: date, lang: str) -> str:
    """``11月30日`` or ``Nov 30``."""
    if lang == "zh":
        return f"{day.month}月{day.day}日"
    return f"{_MONTHS[day.month - 1]} {day.day}"


def _has_cjk(token: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in token)


def short_title(record: CopyRecord, lang: str) -> str:
    """The product's name for copy: a short title in ``lang`` when the catalog has one, else
    the title's part in that language (for bilingual titles), shortened at a word boundary."""
    p = record.product
    for key in (lang, "*"):
        for k, v in p.short_titles:
            if k == key and v.strip():
                return v.strip()
    tokens = p.title.split()
    cjk = [_has_cjk(t) for t in tokens]
    # bilingual "中文名 ... English name ..." (or the other way round): keep the language's run
    if tokens and any(cjk) and not all(cjk):
        cut = next(i for i in range(1, len(tokens) + 1) if i == len(tokens) or cjk[i] != cjk[0])
        first, second = tokens[:cut], tokens[cut:]
        if len(first) >= 2 and len(second) >= 2 and all(cjk[i] != cjk[0] for i in range(cut, len(tokens))):
            tokens = first if (cjk[0] == (lang == "zh")) else second
    limit = PRODUCT_MAX.get(lang, 28)
    out: list[str] = []
    for t in tokens:
        if out and display_length(" ".join([*out, t]), lang) > limit:
            break
        out.append(t)
    text = " ".join(out)
    while display_length(text, lang) > limit and len(text) > 1:
        text = text[:-1]
    return text.strip()


def slot_values(record: CopyRecord, lang: str) -> dict[str, str]:
    """Every slot the record has a value for, formatted for ``lang``.

    Examples
    --------
    >>> from growthkit.campaigns.copy.record import Offer, Product
    >>> rec = CopyRecord(Product("i1", "铁观音", price=199.0, currency="CNY"), Offer(discount_percent=20), "小满茶铺")
    >>> v = slot_values(rec, "zh")
    >>> v["discount"], v["sale_price"], v["shop"]
    ('8折', '¥159.20', '小满茶铺')
    """
    p, o = record.product, record.offer
    cur = p.currency
    v: dict[str, str] = {"product": short_title(record, lang)}
    if record.shop:
        v["shop"] = record.shop
    if p.brand:
        v["brand"] = p.brand
    if p.category_leaf:
        v["category"] = p.category_leaf
    if p.specs:
        sep, colon = ("，", "：") if lang == "zh" else (", ", ": ")
        v["specs"] = sep.join(f"{k}{colon}{val}" for k, val in p.specs)
    if p.price is not None:
        v["price"] = money_text(p.price, cur, lang)
    if record.sale_price is not None and record.saving is not None:
        v["sale_price"] = money_text(record.sale_price, cur, lang)
        v["saving"] = money_text(record.saving, cur, lang)
    if o.discount_percent is not None and o.zhe is not None:
        v["discount_pct"] = percent_text(o.discount_percent)
        v["discount"] = zhe_text(o.zhe) if lang == "zh" else f"{percent_text(o.discount_percent)} off"
    elif o.discount_amount is not None:
        amount = money_text(o.discount_amount, cur, lang)
        v["discount"] = f"立减{amount}" if lang == "zh" else f"{amount} off"
    if o.coupon_value is not None:
        coupon = money_text(o.coupon_value, cur, lang)
        v["coupon"] = coupon
        if o.min_spend is not None:
            v["min_spend"] = money_text(o.min_spend, cur, lang)
            if lang == "zh":
                v["coupon_rule"] = f"满{number_text(o.min_spend)}减{number_text(o.coupon_value)}"
            else:
                v["coupon_rule"] = f"{coupon} off orders of {v['min_spend']}+"
        else:
            v["coupon_rule"] = f"无门槛立减{coupon}" if lang == "zh" else f"{coupon} off your order"
    if o.valid_from is not None:
        v["valid_from"] = date_text(o.valid_from, lang)
    if o.valid_until is not None:
        v["valid_until"] = date_text(o.valid_until, lang)
    if o.code:
        v["code"] = o.code
    if o.link:
        v["link"] = o.link
    return v


@dataclass(frozen=True)
class FillResult:
    """A text with its slots filled, and what went wrong."""

    text: str
    used: tuple[str, ...]
    unknown: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.unknown and not self.missing


def slots_in(text: str) -> tuple[str, ...]:
    """Slot names in ``text``, in order of appearance, without repeats."""
    return tuple(dict.fromkeys(m.group(1) for m in _SLOT_RE.finditer(text)))


def fill(text: str, values: dict[str, str]) -> FillResult:
    """Replace every ``{slot}`` (also ``{{slot}}``) in ``text`` with its value.

    Unknown slot names and slots without a value in the record stay in the text and are
    reported (the checker drops such sentences). A currency word the writer put after a
    money slot is removed (``{price}元`` -> ``¥199``), as is a doubled ``off``.

    Examples
    --------
    >>> r = fill("Now {discount} off, ends {valid_until}", {"discount": "20% off"})
    >>> r.text, r.missing
    ('Now 20% off, ends {valid_until}', ('valid_until',))
    """
    used: list[str] = []
    unknown: list[str] = []
    missing: list[str] = []

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in SLOT_FIELDS:
            unknown.append(name)
            return "{" + name + "}"
        if name not in values:
            missing.append(name)
            return "{" + name + "}"
        used.append(name)
        value = values[name]
        if (name in _MONEY_SLOTS and value[:1] in "¥$€£") or name in ("discount", "coupon_rule"):
            return value + "\ue001"  # marks the end of a filled value for the clean-up below
        return value

    out = _SLOT_RE.sub(sub, text)
    out = re.sub("\ue001\\s*(?:元|块钱|块|RMB|CNY|dollars?)", "", out)
    out = re.sub("off\ue001\\s*off\\b", "off", out)
    out = out.replace("折\ue001折", "折")
    out = out.replace("\ue001", "")
    return FillResult(out, tuple(dict.fromkeys(used)), tuple(dict.fromkeys(unknown)), tuple(dict.fromkeys(missing)))


def fields_used(slots: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The record fields behind ``slots`` (sorted, without repeats)."""
    return tuple(sorted({f for s in slots for f in SLOT_FIELDS.get(s, ())}))
