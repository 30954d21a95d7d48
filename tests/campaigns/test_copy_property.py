"""Property: for any record and any template variant, the final text states no number the record does not give.

The numbers a record gives are computed here independently of the package (list price,
price after the discount, the saving, the discount in percent and in 折, coupon and
minimum spend, the offer's dates); every Arabic number in the final text, outside the
record's own strings (product name, brand, shop, code), must be one of them.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from growthkit.campaigns.copy import CHANNELS, LANGUAGES, TONES, CopyRecord, Offer, Product, check_text, get_channel
from growthkit.campaigns.copy.claims import mask_literals, normalize
from growthkit.campaigns.copy.policy import DEFAULT_POLICY
from growthkit.campaigns.copy.repair import compose
from growthkit.campaigns.copy.slots import short_title, slot_values
from growthkit.campaigns.copy.templates import render_variant

TITLES = [
    "铁观音 特级 Tieguanyin Oolong Tea",
    "iPhone 15 Pro 256GB",
    "3M 口罩 N95 50只装",
    "Ceramic Mug 350ml",
    "纯棉T恤",
    "Nike Air Max 90",
]
SHOPS = ["小满茶铺", "Tea Corner", "7-Eleven Shop", "Clay & Co", None]


def _cents(x: float) -> float:
    return float(Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@st.composite
def records(draw: st.DrawFn) -> CopyRecord:
    price = draw(st.one_of(st.none(), st.integers(1, 999_999).map(lambda c: c / 100)))
    currency = draw(st.sampled_from(["CNY", "USD", "EUR", None]))
    kind = draw(st.sampled_from(["none", "percent", "amount"]))
    pct = float(draw(st.integers(1, 95))) if kind == "percent" else None
    amount = None
    if kind == "amount" and price is not None and price > 1:
        amount = float(draw(st.integers(1, int(price))))
        amount = amount if amount < price else None
    coupon = draw(st.one_of(st.none(), st.integers(1, 500).map(float)))
    min_spend = draw(st.one_of(st.none(), st.integers(1, 5000).map(float))) if coupon else None
    start = draw(st.one_of(st.none(), st.dates(date(2025, 1, 1), date(2027, 12, 1))))
    length = draw(st.integers(0, 40))
    until = draw(st.one_of(st.none(), st.just(start + timedelta(days=length)) if start else st.dates()))
    if until is not None and until.year < 2000:
        until = None
    code = draw(st.one_of(st.none(), st.from_regex(r"[A-Z]{2,5}[0-9]{0,3}", fullmatch=True)))
    offer = Offer(
        discount_percent=pct,
        discount_amount=amount,
        coupon_value=coupon,
        min_spend=min_spend,
        valid_from=start if until is not None else None,
        valid_until=until,
        code=code,
        free_shipping=draw(st.booleans()),
    )
    product = Product("p1", draw(st.sampled_from(TITLES)), price=price, currency=currency, brand="Acme 2000")
    return CopyRecord(product, offer, draw(st.sampled_from(SHOPS)))


def allowed_numbers(rec: CopyRecord) -> set[float]:
    p, o = rec.product, rec.offer
    out: set[float] = set()
    if p.price is not None:
        out.add(p.price)
        if o.discount_percent is not None:
            sale = _cents(p.price * (100 - o.discount_percent) / 100)
            out |= {sale, _cents(p.price - sale)}
        if o.discount_amount is not None:
            out |= {_cents(p.price - o.discount_amount), o.discount_amount}
    if o.discount_percent is not None:
        out |= {o.discount_percent, (100 - o.discount_percent) / 10}
    out |= {v for v in (o.discount_amount, o.coupon_value, o.min_spend) if v is not None}
    for d in (o.valid_from, o.valid_until):
        if d is not None:
            out |= {float(d.year), float(d.month), float(d.day)}
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rec=records(),
    channel=st.sampled_from(list(CHANNELS)),
    lang=st.sampled_from(LANGUAGES),
    tone=st.sampled_from(TONES),
    index=st.integers(0, 60),
)
def test_template_copy_states_only_numbers_from_the_record(
    rec: CopyRecord, channel: str, lang: str, tone: str, index: int
) -> None:
    rule = get_channel(channel)
    if (lang in rule.signature or lang in rule.sender_named) and not rec.shop:
        return  # refused up front (tested elsewhere)
    values = slot_values(rec, lang)
    facts = {
        "channel": channel,
        "lang": lang,
        "tone": tone,
        "slots": sorted(values),
        "free_shipping": rec.offer.free_shipping,
    }
    draft = render_variant(facts, index)
    v = compose(draft["title"], draft["body"], rec, rule, lang, DEFAULT_POLICY, values=values)
    literals = [rec.product.title, short_title(rec, "zh"), short_title(rec, "en"), "Acme 2000"]
    literals += [s for s in (rec.shop, rec.offer.code) if s]
    full = f"{v.title}\n{v.body}" if v.title else v.body
    text = mask_literals(normalize(full), literals)
    allowed = allowed_numbers(rec)
    for m in re.finditer(r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?", text):
        value = float(m.group(0).replace(",", ""))
        assert any(abs(value - a) < 0.005 for a in allowed), (m.group(0), full, sorted(allowed))
    if v.status != "rejected":
        assert check_text(v.body, rec, title=v.title, channel=rule, lang=lang).passed
    else:  # only a channel limit may defeat a template, never an unsupported claim
        assert all(r.startswith(("length:", "nothing is left")) for r in v.reasons), v.reasons
