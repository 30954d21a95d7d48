"""The checker on a corpus of good and bad Chinese and English sentences, one per kind of claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

from growthkit.campaigns.copy import CompliancePolicy, CopyRecord, check_copies, check_text, extract_claims
from growthkit.campaigns.copy.numerals import parse_zh, parse_zhe

# tea: ¥199, 30% off = 7折 -> ¥139.30 (saves ¥59.70), 满300减50, 2026-11-01 .. 2026-11-11 (11 days), TEA30
ZH_GOOD = [
    "铁观音现7折，到手价¥139.30。",
    "铁观音七折优惠，立省¥59.70！",
    "７折好价，满300减50。",  # full-width digit
    "满三百减五十，11月11日截止。",  # Chinese numerals
    "活动时间：2026-11-01至2026-11-11。",
    "原价199元，现价139.3元。",
    "百分之三十的优惠，十一天有效。",
    "双11前结束，下单输入TEA30。",
    "限时优惠，快来小满茶铺。",
    "最近天气转凉，来杯铁观音 特级吧。",  # 最近 ("recently") is exempt
    "第一次下单也能用券。",  # 第一次 ("the first time") is exempt
    "美好的一天，从一杯茶开始。",  # 一天 after 的 is not a duration
    "净含量：250g，小满出品。",  # spec from the record
    "￥１３９．３０到手。",  # full-width currency and digits
]

# (sentence, rule, claim kind for rule "claims")
ZH_BAD = [
    ("铁观音八折！", "claims", "percent"),  # the record says 7折
    ("全场五折。", "claims", "percent"),
    ("５折特价。", "claims", "percent"),  # full-width
    ("百分之五十的优惠。", "claims", "percent"),
    ("半价抢购。", "claims", "percent"),
    ("到手价¥99。", "claims", "money"),
    ("再减10元。", "claims", "money"),
    ("只要八十八块。", "claims", "money"),
    ("满200减30。", "claims", "threshold"),
    ("12月12日截止。", "claims", "date"),
    ("2026-12-01开始。", "claims", "date"),
    ("618大促。", "claims", "date"),
    ("仅剩三天！", "claims", "duration"),
    ("48小时后恢复原价。", "claims", "duration"),
    ("今晚8点开抢。", "claims", "time"),
    ("零点截止。", "claims", "time"),
    ("买一送一。", "claims", "bundle"),
    ("全场包邮。", "claims", "free_shipping"),
    ("仅限今天！", "claims", "relative_date"),
    ("访问 xiaoman.com 抢购。", "claims", "link"),
    ("前100名有礼。", "claims", "number"),
    ("全网最低价。", "superlatives", ""),
    ("销量第一的好茶。", "superlatives", ""),
    ("国家级非遗工艺。", "banned_phrases", ""),
    ("顶级口感。", "banned_phrases", ""),
    ("万能好茶。", "banned_phrases", ""),
    ("100%正品。", "banned_phrases", ""),
    ("咨询电话13812345678。", "personal_data", ""),
    ("咨询电话 138-1234-5678。", "personal_data", ""),
    ("联系 tea@shop.com 领券。", "personal_data", ""),
    ("身份证号110105199001011234。", "personal_data", ""),
]

# mug: $12.50, 20% off -> $10 (saves $2.50), until 2026-11-30, no coupon, no start date
EN_GOOD = [
    "Ceramic Mug 350ml is now 20% off, just $10.",  # 350 is part of the product's name
    "Was $12.50, now $10.00.",
    "Save $2.50 on your new mug.",
    "Offer ends Nov 30.",
    "Valid until 2026-11-30.",
    "Ends November 30th, so take a look.",
    "Twenty percent off at Clay & Co.",
    "Limited time: ends 30 Nov.",
    "A mug you will reach for every morning.",
]

EN_BAD = [
    ("Now 25% off!", "claims", "percent"),
    ("Half price this week!", "claims", "percent"),
    ("Just $9.99!", "claims", "money"),
    ("Save 5 dollars.", "claims", "money"),
    ("Only ¥10!", "claims", "money"),  # the record's currency is USD
    ("$5 off orders of $40+.", "claims", "threshold"),
    ("Ends Dec 1.", "claims", "date"),
    ("Sale ends 12/24.", "claims", "date"),
    ("Only 3 days left!", "claims", "duration"),
    ("Sale ends at midnight.", "claims", "time"),
    ("Ends 11:59pm tonight.", "claims", "time"),
    ("Buy one get one free.", "claims", "bundle"),
    ("Free shipping on all orders.", "claims", "free_shipping"),
    ("Today only!", "claims", "relative_date"),
    ("Over 10,000 happy customers.", "claims", "number"),
    ("Best mug ever.", "superlatives", ""),
    ("The cheapest mug in town.", "superlatives", ""),
    ("The #1 mug in town.", "banned_phrases", ""),
    ("Satisfaction guaranteed.", "banned_phrases", ""),
    ("Call (555) 123-4567.", "personal_data", ""),
    ("Email me at jane.doe@example.com today.", "personal_data", ""),
    ("Text +1 415 555 0100 for a code.", "personal_data", ""),
]


@pytest.mark.parametrize("text", ZH_GOOD)
def test_supported_chinese_sentences_pass(tea: CopyRecord, text: str) -> None:
    rep = check_text(text, tea)
    assert rep.passed, rep.reasons()


@pytest.mark.parametrize("text", EN_GOOD)
def test_supported_english_sentences_pass(mug: CopyRecord, text: str) -> None:
    rep = check_text(text, mug)
    assert rep.passed, rep.reasons()


@pytest.mark.parametrize(("text", "rule", "kind"), ZH_BAD)
def test_unsupported_chinese_claims_are_caught(tea: CopyRecord, text: str, rule: str, kind: str) -> None:
    rep = check_text(text, tea)
    assert not rep.passed
    assert any(i.rule == rule and (not kind or i.kind == kind) for i in rep.issues), rep.reasons()


@pytest.mark.parametrize(("text", "rule", "kind"), EN_BAD)
def test_unsupported_english_claims_are_caught(mug: CopyRecord, text: str, rule: str, kind: str) -> None:
    rep = check_text(text, mug)
    assert not rep.passed
    assert any(i.rule == rule and (not kind or i.kind == kind) for i in rep.issues), rep.reasons()


def test_messages_say_what_the_record_has(tea: CopyRecord) -> None:
    rep = check_text("铁观音八折，12月12日截止。", tea)
    msgs = " | ".join(rep.reasons())
    assert "'八折' claims 20% off but the offer gives 30% off" in msgs
    assert "2026-11-01, 2026-11-11" in msgs


def test_claim_extraction_reads_every_notation() -> None:
    got = [(c.kind, c.values) for c in extract_claims("满300减50，八五折，百分之二十，双11，三天，¥1,299.50，Nov 1st")]
    assert got == [
        ("threshold", (300.0, 50.0)),
        ("percent", (15.0,)),
        ("percent", (20.0,)),
        ("date", (0.0, 11.0, 11.0)),
        ("duration", (3.0,)),
        ("money", (1299.5,)),
        ("date", (0.0, 11.0, 1.0)),
    ]


def test_record_strings_are_not_claims() -> None:
    claims = extract_claims("iPhone 15 Pro 256GB only $999", literals=["iPhone 15 Pro 256GB"])
    assert [(c.kind, c.text) for c in claims] == [("money", "$999")]


@pytest.mark.parametrize(
    ("text", "value"),
    [("五", 5), ("十五", 15), ("二十", 20), ("三百", 300), ("两百五十", 250), ("一百零五", 105), ("一万二", 12000)],
)
def test_chinese_numerals(text: str, value: int) -> None:
    assert parse_zh(text) == value


@pytest.mark.parametrize(("text", "zhe"), [("八", 8), ("八五", 8.5), ("85", 8.5), ("7.5", 7.5), ("9", 9)])
def test_zhe_notation(text: str, zhe: float) -> None:
    assert parse_zhe(text) == zhe


def test_banned_list_is_configurable(tea: CopyRecord) -> None:
    assert check_text("爆款好茶。", tea).passed
    policy = CompliancePolicy().with_banned(["爆款"])
    rep = check_text("爆款好茶。", tea, policy=policy)
    assert [i.rule for i in rep.issues] == ["banned_phrases"]
    only_mine = CompliancePolicy(banned=("爆款",), superlatives=False)
    assert check_text("顶级好茶。", tea, policy=only_mine).passed


def test_record_names_with_banned_words_are_set_aside(tea: CopyRecord) -> None:
    from dataclasses import replace

    rec = replace(tea, shop="最生活")  # a real towel brand: its name is not a claim
    assert check_text("最生活上新。", rec).passed
    assert not check_text("最好的毛巾。", rec).passed


def test_check_copies_counts_unsupported_numeric_claims(tea: CopyRecord) -> None:
    texts = ZH_GOOD + [t for t, _, _ in ZH_BAD]
    stats = check_copies(texts, tea)
    assert stats.texts == len(texts)
    assert stats.texts_passed == len(ZH_GOOD)
    not_numeric = ("bundle", "free_shipping", "link", "relative_date")
    numeric_bad = [t for t, rule, kind in ZH_BAD if rule == "claims" and kind not in not_numeric]
    numeric_bad.append("100%正品。")  # banned, and also an unsupported percentage
    assert stats.texts_with_unsupported_numeric == len(numeric_bad)
    assert stats.unsupported_numeric_claims >= len(numeric_bad)
    assert 0 < stats.unsupported_rate < 1
    assert stats.issues_by_rule["personal_data"] == 4
    assert len(stats.examples) == 10


@pytest.mark.parametrize(
    "module",
    ["channels", "checker", "claims", "numerals", "policy", "record", "slots", "templates", "prompt", "generate"],
)
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(f"growthkit.campaigns.copy.{module}")
    res = doctest.testmod(mod)
    assert res.failed == 0
    pkg = importlib.import_module("growthkit.campaigns.copy")
    assert doctest.testmod(pkg).failed == 0
