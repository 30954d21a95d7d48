"""Slot filling, length counting per channel and language, opt-out lines and sender names."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from growthkit.campaigns.copy import CHANNELS, CopyRecord, Offer, Product, compose, fill, get_channel, slot_values
from growthkit.campaigns.copy.channels import display_length, effective_limit, sms_length
from growthkit.campaigns.copy.policy import DEFAULT_POLICY
from growthkit.campaigns.copy.slots import short_title
from growthkit.errors import ConfigError

# ---------------------------------------------------------------- slots


def test_slot_values_are_formatted_per_language(tea: CopyRecord, mug: CopyRecord) -> None:
    zh = slot_values(tea, "zh")
    assert zh["price"] == "¥199" and zh["sale_price"] == "¥139.30" and zh["saving"] == "¥59.70"
    assert zh["discount"] == "7折" and zh["discount_pct"] == "30%"
    assert zh["coupon_rule"] == "满300减50" and zh["coupon"] == "¥50" and zh["min_spend"] == "¥300"
    assert zh["valid_from"] == "11月1日" and zh["valid_until"] == "11月11日"
    assert zh["shop"] == "小满茶铺" and zh["code"] == "TEA30" and zh["specs"] == "净含量：250g"
    en = slot_values(mug, "en")
    assert en["price"] == "$12.50" and en["sale_price"] == "$10" and en["discount"] == "20% off"
    assert en["valid_until"] == "Nov 30"
    assert "coupon" not in en and "valid_from" not in en  # the record has none: no slot, no guess


def test_amount_discounts_coupons_without_minimum_and_thousands() -> None:
    p = Product("tv", "Smart TV 55 inch", price=1299.0, currency="USD")
    rec = CopyRecord(p, Offer(discount_amount=100, coupon_value=20))
    en = slot_values(rec, "en")
    assert en["price"] == "$1,299" and en["sale_price"] == "$1,199" and en["discount"] == "$100 off"
    assert en["coupon_rule"] == "$20 off your order"
    zh = slot_values(rec, "zh")
    assert zh["discount"] == "立减$100" and zh["coupon_rule"] == "无门槛立减$20"
    assert zh["price"] == "$1299"


def test_fill_reports_unknown_and_missing_slots() -> None:
    values = {"product": "铁观音", "price": "¥199", "discount": "20% off"}
    r = fill("{product}只要{price}元，{old_price}，截止{valid_until}", values)
    assert r.text == "铁观音只要¥199，{old_price}，截止{valid_until}"  # 元 after a money slot is dropped
    assert r.used == ("product", "price") and r.unknown == ("old_price",) and r.missing == ("valid_until",)
    assert not r.ok
    assert fill("Now {{discount}} off!", values).text == "Now 20% off!"  # doubled braces, doubled "off"


def test_bilingual_titles_give_each_language_its_part(tea: CopyRecord) -> None:
    assert short_title(tea, "zh") == "铁观音 特级"
    assert short_title(tea, "en") == "Tieguanyin Oolong Tea"
    mixed = replace(tea, product=replace(tea.product, title="Apple iPhone 15 Pro 黑色"))
    assert short_title(mixed, "zh") == "Apple iPhone 15 Pro 黑色"  # one brand name, not two languages
    named = replace(tea, product=replace(tea.product, short_titles=(("zh", "特级铁观音"),)))
    assert short_title(named, "zh") == "特级铁观音"


def test_offer_validation_says_what_to_fix() -> None:
    with pytest.raises(ConfigError, match="between 0 and 100"):
        Offer(discount_percent=120)
    with pytest.raises(ConfigError, match="not both"):
        Offer(discount_percent=10, discount_amount=5)
    with pytest.raises(ConfigError, match="give coupon_value too"):
        Offer(min_spend=100)
    with pytest.raises(ConfigError, match="after valid_until"):
        Offer(valid_from=date(2026, 2, 1), valid_until=date(2026, 1, 1))
    with pytest.raises(ConfigError, match="not below the price"):
        CopyRecord(Product("x", "X", price=10.0), Offer(discount_amount=10))
    with pytest.raises(ConfigError, match="no title"):
        Product("x", " ")


# ---------------------------------------------------------------- length


def test_display_length_counts_wide_characters_per_language() -> None:
    assert display_length("限时7折", "zh") == 4  # three wide characters and half of one narrow
    assert display_length("限时7折", "en") == 7
    assert display_length("Hello", "zh") == 3 and display_length("Hello", "en") == 5
    assert display_length("🎉", "en") == 2


def test_sms_length_follows_the_carrier_encoding() -> None:
    assert sms_length("Reply STOP to opt out") == (21, 160)
    assert sms_length("Price: €5 [today]") == (20, 160)  # €, [ and ] take two septets each
    assert sms_length("【小满】回T退订") == (8, 70)  # any Chinese character: UCS-2, 70 per message
    assert sms_length("Hi 🎉") == (5, 70)  # an emoji is two UTF-16 units
    sms = CHANNELS["sms"]
    assert effective_limit("Hello", sms, "body", "en") == 160
    assert effective_limit("Hello 小满", sms, "body", "en") == 70


def test_channel_rules_are_data() -> None:
    assert CHANNELS["sms"].limit("body", "zh") == 70 and CHANNELS["sms"].limit("body", "en") == 160
    assert CHANNELS["push"].limit("title", "zh") * 2 == CHANNELS["push"].limit("title", "en")
    assert CHANNELS["email"].limit("title", "en") == 50 and CHANNELS["email"].limit("title", "zh") == 25
    assert CHANNELS["social"].has_title is False and CHANNELS["push"].has_title is True
    with pytest.raises(ConfigError, match="use one of: push, sms"):
        get_channel("fax")


def _compose(rec: CopyRecord, channel: str, lang: str, body: str, title: str | None = None):  # type: ignore[no-untyped-def]
    rule = get_channel(channel)
    return compose(title, body, rec, rule, lang, DEFAULT_POLICY, values=slot_values(rec, lang))


def test_chinese_sms_gets_signature_and_opt_out_within_70(tea: CopyRecord) -> None:
    c = _compose(tea, "sms", "zh", "{product}现{discount}，到手价{sale_price}。")
    assert c.body == "【小满茶铺】铁观音 特级现7折，到手价¥139.30。回T退订"
    assert c.status == "ok" and c.report.passed
    long = "{product}现{discount}，到手价{sale_price}。" + "满{min_spend}可用{coupon}券。" * 3 + "欢迎选购。"
    c = _compose(tea, "sms", "zh", long)
    assert sms_length(c.body)[0] <= 70 and c.body.endswith("回T退订") and c.status == "repaired"
    assert any("to fit the sms limit" in r for r in c.repairs)
    assert "到手价¥139.30" in c.body  # sentences with facts are dropped last


def test_english_sms_names_the_shop_and_says_stop(mug: CopyRecord) -> None:
    c = _compose(mug, "sms", "en", "{product} is now {discount}.")
    assert c.body == "Clay & Co: Ceramic Mug 350ml is now 20% off. Reply STOP to opt out"
    assert c.report.passed


def test_email_body_gets_an_unsubscribe_line_and_push_gets_none(mug: CopyRecord) -> None:
    c = _compose(mug, "email", "en", "Hi,\n{product} is {discount}.", title="{discount} on {product}")
    assert (
        c.body.endswith("click Unsubscribe at the bottom of this message.")
        and c.title == "20% off on Ceramic Mug 350ml"
    )
    push = _compose(mug, "push", "en", "{product} is {discount}.", title="Deal")
    assert "STOP" not in push.body and "Unsubscribe" not in push.body


def test_an_existing_opt_out_line_is_not_repeated(tea: CopyRecord) -> None:
    c = _compose(tea, "sms", "zh", "{product}现{discount}。退订回T")
    assert c.body.count("退订") == 1


def test_a_title_that_does_not_fit_becomes_the_product_name(mug: CopyRecord) -> None:
    c = _compose(mug, "push", "en", "{product} is {discount}.", title="A very long title about {product} and its story")
    assert c.title == "Ceramic Mug 350ml" and c.status == "repaired"


def test_a_single_sentence_that_cannot_fit_is_rejected(mug: CopyRecord) -> None:
    body = "A long sentence about {product} that goes on and on without any pause to break it up " * 2
    c = _compose(mug, "push", "en", body, title="Hi")
    assert c.status == "rejected" and any(r.startswith("length:") for r in c.reasons)
