"""Generating variants: templates, a scripted model (invented numbers, malformed JSON), provenance, cache."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from growthkit.campaigns.copy import (
    CHANNELS,
    LANGUAGES,
    PROMPT_VERSION,
    TONES,
    CopyRecord,
    CopyVariant,
    MemoryCopyCache,
    Offer,
    Product,
    check_text,
    generate_copy,
    get_channel,
    slot_values,
    variant_id,
)
from growthkit.campaigns.copy.phrases import PHRASES
from growthkit.campaigns.copy.prompt import FIELD_SLACK
from growthkit.campaigns.copy.slots import fill
from growthkit.errors import ConfigError
from growthkit.text.llm import TemplateGenerator


def _reply(*variants: dict[str, str]) -> str:
    return json.dumps({"variants": list(variants)}, ensure_ascii=False)


# ---------------------------------------------------------------- templates


@pytest.mark.parametrize("channel", list(CHANNELS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_template_variants_pass_every_check_and_differ(tea: CopyRecord, channel: str, lang: str) -> None:
    rec = tea if lang == "zh" else CopyRecord(tea.product, tea.offer, "Tea Corner")
    for tone in TONES:
        batch = generate_copy(rec, channel=channel, lang=lang, tone=tone, n=4)
        texts = [v.text for v in batch.variants]
        assert len(set(texts)) == 4, texts
        for v in batch.variants:
            assert v.status in ("ok", "repaired"), (v.text, v.reasons)
            assert all(c.passed for c in v.provenance.checks)
            assert v.body_length <= v.body_limit
            assert v.provenance.source == "template" and v.provenance.backend == "template"
            rep = check_text(v.body, rec, title=v.title, channel=get_channel(channel), lang=lang)
            assert rep.passed, rep.reasons()


def test_first_variants_differ_in_every_sentence(tea: CopyRecord) -> None:
    batch = generate_copy(tea, channel="social", lang="zh", tone="friendly", n=3)
    sentences = [set(re.split(r"(?<=[。！？])", v.body)) - {""} for v in batch.variants]
    assert not (sentences[0] & sentences[1]) and not (sentences[1] & sentences[2])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_template_phrase_is_grounded(tea: CopyRecord, lang: str) -> None:
    tea = replace(tea, offer=replace(tea.offer, free_shipping=True))  # the shipping phrases need it
    values = slot_values(tea, lang)
    for role, pools in PHRASES[lang].items():
        for phrase in (p for pool in pools.values() for p in pool):
            filled = fill(phrase, values)
            assert filled.ok, (role, phrase)
            rep = check_text(filled.text, tea)
            assert rep.passed, (role, phrase, rep.reasons())


def test_templates_work_without_an_offer_or_a_price() -> None:
    rec = CopyRecord(Product("x1", "手工陶杯"), shop="小满")
    for channel in CHANNELS:
        batch = generate_copy(rec, channel=channel, lang="zh", n=2)
        assert all(v.accepted for v in batch.variants), [v.reasons for v in batch.variants]
        assert not re.search(r"[0-9]", "".join(v.text for v in batch.variants))


def test_template_renderer_is_registered_for_the_task(tea: CopyRecord) -> None:
    from growthkit.campaigns.copy import TASK, render_marketing_copy
    from growthkit.text.llm import GenerationRequest

    gen = TemplateGenerator({TASK: render_marketing_copy})
    facts = {"channel": "push", "lang": "en", "tone": "urgent", "slots": ["product", "discount"], "count": 2}
    out = gen.generate(GenerationRequest(messages=(), task=TASK, facts=facts)).json()
    assert len(out["variants"]) == 2 and all("{" in v["title"] + v["body"] for v in out["variants"])
    batch = generate_copy(tea, channel="push", lang="zh", n=2, generator=gen)
    assert batch.generator_calls == 2 and batch.backend == "template"


def test_bad_requests_say_what_to_fix(tea: CopyRecord) -> None:
    with pytest.raises(ConfigError, match="unknown tone"):
        generate_copy(tea, channel="push", tone="angry")
    with pytest.raises(ConfigError, match="unknown language"):
        generate_copy(tea, channel="push", lang="fr")
    with pytest.raises(ConfigError, match="between 1 and 50"):
        generate_copy(tea, channel="push", n=0)
    with pytest.raises(ConfigError, match="pass the shop name"):
        generate_copy(replace(tea, shop=None), channel="sms", lang="zh")


# ---------------------------------------------------------------- a scripted model


def test_the_model_sees_slot_names_never_the_numbers(tea: CopyRecord, scripted: Any) -> None:
    gen = scripted([_reply({"title": "{product}", "body": "{product}现{discount}。"})])
    generate_copy(tea, channel="push", lang="zh", n=1, generator=gen)
    req = gen.requests[0]
    prompt = "\n".join(m.content for m in req.messages)
    assert "{sale_price}" in prompt and "{coupon_rule}" in prompt and "铁观音" in prompt
    for value in ("199", "139.30", "7折", "300", "11月11日", "TEA30"):
        assert value not in prompt
    assert req.json_schema is not None and req.json_schema["required"] == ["variants"]
    assert req.task == "marketing_copy"


def test_an_invented_number_is_dropped_and_recorded(tea: CopyRecord, scripted: Any) -> None:
    body = "{product}现{discount}，到手价{sale_price}。下单再送¥20红包！"
    gen = scripted([_reply({"title": "{product}好价", "body": body})])
    v = generate_copy(tea, channel="push", lang="zh", n=1, generator=gen).variants[0]
    assert v.status == "repaired" and v.provenance.source == "model"
    assert "20" not in v.body and "¥139.30" in v.body
    assert any("'¥20'" in r for r in v.provenance.repairs)
    assert v.provenance.backend == "fake" and v.provenance.model == "fake-1"


def test_a_wrong_discount_is_refilled_from_the_record(tea: CopyRecord, scripted: Any) -> None:
    gen = scripted([_reply({"title": "好价", "body": "{product}限时八折，到手价{sale_price}。"})])
    v = generate_copy(tea, channel="push", lang="zh", n=1, generator=gen).variants[0]
    assert "限时7折" in v.body and "八折" not in v.body
    assert v.status == "repaired" and any(r.startswith("re-filled") for r in v.provenance.repairs)


def test_a_variant_with_nothing_true_left_falls_back_to_a_template(tea: CopyRecord, scripted: Any) -> None:
    gen = scripted([_reply({"title": "全网最低", "body": "全网最低价¥9.9！仅限今天！"})])
    v = generate_copy(tea, channel="push", lang="zh", n=1, generator=gen).variants[0]
    assert v.accepted and v.provenance.source == "template_fallback"
    why = v.provenance.fallback_reason
    assert why.startswith("the model's variant was rejected") and "nothing is left" in why
    assert "9.9" not in v.body and "最低" not in v.body


@pytest.mark.parametrize(
    ("lang", "title", "body", "rule"),
    [
        ("zh", "{product}", "Mini-Cup of Mochi-Rice, a treat for you.", "language"),  # English for a zh request
        ("en", "Warm and soft", "茶香清甜，给自己泡一杯。", "language"),  # Chinese for an en request
        ("en", "Treat yourself", "Mini-Bread with a Japanese-inspired cherry compote.", "on_topic"),
        ("zh", "新品", "新的桌上景印，欢迎选购。", "on_topic"),
        ("zh", "{product}", "{product}", "wording"),  # nothing but the product's name
        ("en", "Your mug, upgraded", "Your mug, upgraded", "wording"),  # the title repeats the body
    ],
)
def test_copy_in_the_wrong_language_or_off_topic_is_not_accepted(
    tea: CopyRecord, mug: CopyRecord, scripted: Any, lang: str, title: str, body: str, rule: str
) -> None:
    record = tea if lang == "zh" else mug
    gen = scripted([_reply({"title": title, "body": body})])
    v = generate_copy(record, channel="push", lang=lang, n=1, generator=gen).variants[0]
    assert v.provenance.source == "template_fallback" and v.accepted
    assert f"{rule}:" in v.provenance.fallback_reason
    report = check_text(body, record, title=title, channel=get_channel("push"), lang=lang)
    assert rule in {i.rule for i in report.issues}


def test_a_product_name_in_another_script_is_not_the_wrong_language(tea: CopyRecord, scripted: Any) -> None:
    tea = replace(tea, product=replace(tea.product, title="铁观音"))  # a Chinese name only
    gen = scripted([_reply({"title": "Autumn tea time", "body": "{product} is now {discount}. Brew a cup tonight."})])
    v = generate_copy(tea, channel="push", lang="en", n=1, generator=gen).variants[0]
    assert v.provenance.source == "model" and v.accepted, v.reasons
    assert "铁观音" in v.body


def test_unknown_slots_are_not_guessed(mug: CopyRecord, scripted: Any) -> None:
    gen = scripted([_reply({"title": "{product}", "body": "Was {old_price}. Now {discount}. Ends {valid_from}."})])
    v = generate_copy(mug, channel="push", lang="en", n=1, generator=gen).variants[0]
    assert v.body == "Now 20% off."
    assert any("unknown slot {old_price}" in r for r in v.provenance.repairs)
    assert any("the record has no valid_from" in r for r in v.provenance.repairs)


def test_malformed_json_falls_back_to_templates_and_says_why(tea: CopyRecord, scripted: Any) -> None:
    gen = scripted(["Sure! Here are your variants: 1. Buy now"])
    batch = generate_copy(tea, channel="sms", lang="zh", n=3, generator=gen)
    assert gen.calls == 1 and batch.backend == "fake"
    for v in batch.variants:
        assert v.accepted and v.provenance.source == "template_fallback"
        assert v.provenance.backend == "template" and v.provenance.requested == "fake/fake-1"
        assert "not JSON" in v.provenance.fallback_reason


def test_missing_or_empty_variants_fall_back_one_by_one(tea: CopyRecord, scripted: Any) -> None:
    gen = scripted([_reply({"title": "好价", "body": "{product}现{discount}。"}, {"title": "x", "body": ""})])
    batch = generate_copy(tea, channel="push", lang="zh", n=3, generator=gen)
    sources = [v.provenance.source for v in batch.variants]
    assert sources == ["model", "template_fallback", "template_fallback"]
    assert batch.variants[1].provenance.fallback_reason == "variant 2 has no text body"
    assert batch.variants[2].provenance.fallback_reason == "the model returned 2 of 3 variants"


def test_a_failing_backend_falls_back(tea: CopyRecord, scripted: Any, backend_down: Exception) -> None:
    batch = generate_copy(tea, channel="push", lang="en", n=2, generator=scripted([backend_down]))
    assert all("fake backend failed" in v.provenance.fallback_reason for v in batch.variants)
    assert all(v.accepted for v in batch.variants)


def test_duplicate_model_variants_are_replaced(tea: CopyRecord, scripted: Any) -> None:
    same = {"title": "好价", "body": "{product}现{discount}。"}
    batch = generate_copy(tea, channel="push", lang="zh", n=2, generator=scripted([_reply(same, same)]))
    assert batch.variants[0].provenance.source == "model"
    assert batch.variants[1].provenance.fallback_reason == "duplicate of variant 0"
    assert batch.variants[0].text != batch.variants[1].text


# ---------------------------------------------------------------- provenance and ids


def test_provenance_and_stable_ids(tea: CopyRecord) -> None:
    a = generate_copy(tea, channel="push", lang="zh", tone="urgent", persona="VIP", n=3)
    b = generate_copy(tea, channel="push", lang="zh", tone="urgent", persona="VIP", n=3)
    assert [v.variant_id for v in a.variants] == [v.variant_id for v in b.variants]
    assert len({v.variant_id for v in a.variants}) == 3
    c = generate_copy(tea, channel="push", lang="zh", tone="urgent", persona="new customers", n=3)
    assert not {v.variant_id for v in a.variants} & {v.variant_id for v in c.variants}
    v = a.variants[0]
    p = v.provenance
    assert (p.backend, p.model, p.prompt_version, p.channel, p.lang, p.tone) == (
        "template",
        "template",
        PROMPT_VERSION,
        "push",
        "zh",
        "urgent",
    )
    assert {"price", "discount_percent", "title"} <= set(p.record_fields) and "discount_amount" not in p.record_fields
    assert [c.rule for c in p.checks] == [
        "slots",
        "claims",
        "superlatives",
        "banned_phrases",
        "personal_data",
        "length",
        "opt_out",
        "sender",
        "language",
        "wording",
        "on_topic",
    ]
    assert v.variant_id == variant_id(v.title, v.body, p)
    again = CopyVariant.from_dict(json.loads(json.dumps(v.to_dict())))
    assert again == v


# ---------------------------------------------------------------- cache


def test_cache_skips_the_generator(tea: CopyRecord, scripted: Any) -> None:
    def answer(req: Any) -> str:
        n = int(req.facts["count"])
        return _reply(
            *(
                {"title": f"好价{{product}}{'！' * k}", "body": "{product}现{discount}。" + "快来！" * k}
                for k in range(1, n + 1)
            )
        )

    gen = scripted(answer)
    cache = MemoryCopyCache()
    first = generate_copy(tea, channel="push", lang="zh", n=3, generator=gen, cache=cache)
    assert gen.calls == 1 and first.cache_hits == 0 and len(cache.data) == 3
    second = generate_copy(tea, channel="push", lang="zh", n=3, generator=gen, cache=cache)
    assert gen.calls == 1 and second.cache_hits == 3 and second.generator_calls == 0
    assert [v.variant_id for v in second.variants] == [v.variant_id for v in first.variants]
    more = generate_copy(tea, channel="push", lang="zh", n=5, generator=gen, cache=cache)
    assert gen.calls == 2 and more.cache_hits == 3 and gen.requests[-1].facts["count"] == 2
    assert len({v.text for v in more.variants}) == 5
    generate_copy(tea, channel="push", lang="zh", tone="premium", n=1, generator=gen, cache=cache)
    assert gen.calls == 3  # another tone is another key
    generate_copy(
        tea.__class__(tea.product, Offer(discount_percent=10), tea.shop),
        channel="push",
        n=1,
        generator=gen,
        cache=cache,
    )
    assert gen.calls == 4  # another offer is another key


def test_a_clause_cut_never_splits_a_number() -> None:
    from growthkit.campaigns.copy.policy import DEFAULT_POLICY
    from growthkit.campaigns.copy.repair import compose

    product = Product("p1", "铁观音 特级 Tieguanyin Oolong Tea", price=1000.0, currency="CNY")
    rec = CopyRecord(product, Offer(), "小满茶铺")
    values = slot_values(rec, "en")
    c = compose("", "Bring home {product} for {price}. Take a look.", rec, get_channel("sms"), "en", DEFAULT_POLICY,
                values=values)  # fmt: skip
    assert "¥1,000" in c.body, c.body  # it used to cut "000." as a clause, leaving a false "¥1"
    assert all(r.startswith("length:") for r in c.reasons), c.reasons  # too long is the only honest verdict


def test_the_answer_schema_bounds_what_a_local_model_can_write(tea: CopyRecord, scripted: Any) -> None:
    gen = scripted([_reply({"title": "{product}好价", "body": "{product}现{discount}。"})] * 2)
    generate_copy(tea, channel="push", lang="zh", n=3, generator=gen)
    generate_copy(tea, channel="sms", lang="en", n=1, generator=gen)
    push, sms = (r.json_schema for r in gen.requests)
    assert push is not None and sms is not None
    variants = push["properties"]["variants"]
    assert variants["minItems"] == variants["maxItems"] == 3  # the grammar stops after three
    props = variants["items"]["properties"]
    rule = get_channel("push")
    assert props["title"]["maxLength"] == rule.limit("title", "zh") + FIELD_SLACK
    assert props["body"]["maxLength"] == rule.limit("body", "zh") + FIELD_SLACK
    assert list(sms["properties"]["variants"]["items"]["properties"]) == ["body"]  # no title on SMS
    # the instructions are the same for every request, so a local model keeps them in its KV cache
    assert gen.requests[0].messages[0] == gen.requests[1].messages[0]
    assert "铁观音" not in gen.requests[0].messages[0].content


def test_a_body_cut_off_by_the_cap_keeps_its_complete_sentences(mug: CopyRecord, scripted: Any) -> None:
    cap = get_channel("push").limit("body", "en") + FIELD_SLACK
    first = "{product} is now {discount}. "
    cut = first + "Warm " + "and cosy " * 40
    gen = scripted([_reply({"title": "Warm up", "body": cut[:cap]})])
    v = generate_copy(mug, channel="push", lang="en", n=1, generator=gen).variants[0]
    assert v.provenance.source == "model" and v.body == "Ceramic Mug 350ml is now 20% off."
    gen = scripted([_reply({"title": "Warm up", "body": ("cosy " * 60)[:cap]})])  # no sentence ends
    v = generate_copy(mug, channel="push", lang="en", n=1, generator=gen).variants[0]
    assert v.provenance.source == "template_fallback"
    assert "ran over the length limit" in v.provenance.fallback_reason


def test_a_copied_prompt_example_is_not_used(mug: CopyRecord, scripted: Any) -> None:
    gen = scripted([_reply({"title": "Your morning coffee, upgraded", "body": "{product} is now {discount}."})])
    v = generate_copy(mug, channel="push", lang="en", n=1, generator=gen).variants[0]
    assert v.provenance.source == "template_fallback" and "example" in v.provenance.fallback_reason
