"""The model's side: the prompt, the JSON schema of the answer, and reading the answer.

The model is shown the product's name, brand and category, the persona, the channel
with its limits and the tone, and the *names* of the slots the record has values for
with what each means, but never the values themselves: it has no number to copy, and
every fact is filled in afterwards from the record. The answer's JSON schema fixes the
number of variants and caps every string, so a grammar-constrained local model stops
as soon as the answer is complete. Bump
:data:`PROMPT_VERSION` whenever the prompt changes; it is part of every variant's
provenance and of the cache key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from growthkit.campaigns.copy.channels import ChannelRule, Counting, measure
from growthkit.campaigns.copy.record import CopyRecord
from growthkit.campaigns.copy.slots import SLOT_MEANING
from growthkit.text.llm import Message, chat

PROMPT_VERSION = "marketing_copy/2"
"""Version of the prompt and the template phrasings; part of provenance and of the cache key."""

TONE_GUIDE: dict[str, str] = {
    "friendly": "warm and helpful, like a shop assistant who knows the customer",
    "urgent": "energetic and time-aware; create urgency only from the offer's end date slot",
    "premium": "calm, refined and understated; no exclamation marks",
    "playful": "light and fun, a little cheeky; an emoji is fine where the channel allows",
}
LANGUAGE_NAME = {"zh": "Simplified Chinese (简体中文)", "en": "English"}

# The system message is the same for every request (no language, channel or product in it), so a
# local model keeps it in its KV cache and only reads the short request that follows: llama.cpp
# reuses the longest common token prefix of consecutive prompts. The two worked examples teach a
# small model the format and the use of slots better than rules alone do; they contain no digits.
_RULES = """You write short marketing copy for an online shop.
Rules:
1. Never write a number yourself: no digits, number words, prices, percentages, discounts, dates
   or quantities. Write a slot from the request instead, in curly braces, e.g. {price}; slots are
   replaced by the real values later. Use only the slots the request lists.
2. No superlatives or absolute claims (best, cheapest, #1, guaranteed, 最, 第一, 唯一, 顶级, 国家级,
   最佳) and no promises the slots do not state (free shipping, gifts, stock, rankings).
3. No personal data, phone numbers, links, opt-out lines or signatures.
4. Write real copy for customers in the requested language and tone, within the length limits.
   Never repeat these instructions or describe the slots.
5. Answer with JSON only: {"variants": [{"title": "...", "body": "..."}]}."""

_EXAMPLES: tuple[tuple[tuple[str, ...], dict[str, str]], ...] = (
    (
        (
            "language: English",
            "channel: push (title at most 40, body at most 120 characters)",
            "tone: friendly",
            "product: Ceramic pour-over set (brand Kiln; category Kitchen > Coffee)",
            "slots: {product} the product's name; {discount} the discount; {sale_price} the price after the discount",
        ),
        {
            "title": "Your morning coffee, upgraded",
            "body": "{product} is now {discount}: just {sale_price}. Brew a better cup at home.",
        },
    ),
    (
        (
            "language: Simplified Chinese (简体中文)",
            "channel: push (title at most 20, body at most 60 Chinese characters)",
            "tone: friendly",
            "product: 桂花乌龙 (brand 茶里; category 茶叶 > 乌龙茶)",
            "slots: {product} the product's name; {coupon_rule} the coupon with its minimum spend; "
            "{valid_until} the last day of the offer",
        ),
        {
            "title": "秋日茶香到了",
            "body": "{product}花香清甜，领券{coupon_rule}，{valid_until}前有效，给自己泡一杯好茶。",
        },
    ),
)

SYSTEM = "\n\n".join(
    [_RULES]
    + [
        "Example request:\n"
        + "\n".join(request)
        + "\nExample answer:\n"
        + json.dumps({"variants": [answer]}, ensure_ascii=False)
        for request, answer in _EXAMPLES
    ]
)
"""The system message: the rules and two worked examples (one English, one Chinese)."""

_EXAMPLE_TEXTS = frozenset(re.sub(r"\W+", "", t).lower() for _, answer in _EXAMPLES for t in answer.values())


def copies_example(title: str, body: str) -> bool:
    """Whether a title or body is one of the system message's example texts (small models copy them).

    Examples
    --------
    >>> copies_example("Your morning coffee, upgraded!", "Fresh tea for you.")
    True
    >>> copies_example("Warm up", "Fresh tea for you.")
    False
    """
    return any(re.sub(r"\W+", "", t).lower() in _EXAMPLE_TEXTS for t in (title, body) if t.strip())


FIELD_SLACK = 20
"""Characters a title or body may run over its limit in the model's answer (slot names are longer
or shorter than their values); the grammar stops the string there, and the checker judges the
filled-in text against the real limit."""


def field_caps(rule: ChannelRule, lang: str) -> dict[str, int]:
    """The most characters the answer schema lets each field have (``maxLength``).

    Without a cap a small model can run a string on to the token limit, which costs seconds
    and yields nothing usable.
    """
    caps = {"body": rule.limit("body", lang) + FIELD_SLACK}
    if rule.has_title:
        caps["title"] = rule.limit("title", lang) + FIELD_SLACK
    return caps


def answer_schema(has_title: bool, count: int | None = None, caps: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The JSON schema of the model's answer (strict-mode compatible: every property required).

    ``count`` fixes the number of variants (``minItems``/``maxItems``) and ``caps`` the longest
    string per field (``maxLength``), so a grammar-constrained model stops when the answer is
    complete.
    """
    names = ["title", "body"] if has_title else ["body"]
    item_props: dict[str, Any] = {}
    for name in names:
        prop: dict[str, Any] = {"type": "string"}
        if caps and name in caps:
            prop["maxLength"] = int(caps[name])
        item_props[name] = prop
    variants: dict[str, Any] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": item_props,
            "required": list(item_props),
            "additionalProperties": False,
        },
    }
    if count is not None:
        variants["minItems"] = variants["maxItems"] = int(count)
    return {
        "type": "object",
        "properties": {"variants": variants},
        "required": ["variants"],
        "additionalProperties": False,
    }


def build_messages(
    record: CopyRecord,
    rule: ChannelRule,
    *,
    lang: str,
    tone: str,
    persona: str,
    count: int,
    values: Mapping[str, str],
) -> tuple[Message, ...]:
    """The system and user messages asking for ``count`` variants.

    The user message is a few short ``key: value`` lines (what the examples in the system
    message show): channel and limits, language, tone, audience, the product and the slots
    with what each means.
    """
    p = record.product

    def size(text: str) -> int:
        return measure(text, rule, lang)

    reserved = 0
    if rule.opt_out.get(lang):
        reserved += size(rule.opt_out[lang]) + 1
    if lang in rule.signature and record.shop:
        reserved += size(f"【{record.shop}】")
    if lang in rule.sender_named and record.shop:
        reserved += size(f"{record.shop}: ")
    if rule.counting is Counting.SMS:
        unit = "characters, every character counts"
    elif lang == "zh":
        unit = "Chinese characters"
    else:
        unit = "characters"
    body = rule.limit("body", lang) - reserved
    limits = (
        f"title at most {rule.limit('title', lang)}, body at most {body} {unit}"
        if rule.has_title
        else (f"body only, no title; at most {body} {unit}")
    )
    about = "; ".join(
        part for part in (f"brand {p.brand}" if p.brand else "", f"category {p.category}" if p.category else "") if part
    )
    slots = "; ".join("{" + name + "} " + SLOT_MEANING[name] for name in values if name in SLOT_MEANING)
    lines = [
        f"language: {LANGUAGE_NAME.get(lang, lang)}",
        f"channel: {rule.name}, {rule.description} ({limits})",
        f"tone: {tone}, {TONE_GUIDE.get(tone, tone)}",
        f"audience: {persona or 'all customers'}",
        f"product: {p.title}" + (f" ({about})" if about else ""),
        f"slots: {slots}",
    ]
    if count > 1:
        lines.append(f"Write {count} clearly different variants (vary the angle: benefit, value, occasion, urgency).")
    return chat(SYSTEM, "\n".join(lines))


def _json_object(text: str) -> Any:
    t = text.strip()
    fence = re.match(r"^```(?:json)?\s*(.*?)\s*```$", t, re.S)
    if fence:
        t = fence.group(1)
    try:
        return json.loads(t)
    except json.JSONDecodeError:
        start, end = t.find("{"), t.rfind("}")
        if 0 <= start < end:
            return json.loads(t[start : end + 1])
        raise


def parse_variants(text: str, count: int, has_title: bool) -> list[tuple[dict[str, str] | None, str]]:
    """The model's variants: ``(variant, "")`` or ``(None, why it cannot be used)``, ``count`` entries.

    Examples
    --------
    >>> parse_variants('{"variants": [{"title": "T", "body": "B"}, {"title": 3}]}', 3, True)[1:]
    [(None, 'variant 2 has no text body'), (None, 'the model returned 2 of 3 variants')]
    """
    try:
        data = _json_object(text)
    except json.JSONDecodeError:
        why = f"the model's answer is not JSON: {text.strip()[:60]!r}"
        return [(None, why)] * count
    items = data.get("variants") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return [(None, "the model's JSON has no 'variants' list")] * count
    out: list[tuple[dict[str, str] | None, str]] = []
    for i in range(count):
        if i >= len(items):
            out.append((None, f"the model returned {len(items)} of {count} variants"))
            continue
        item = items[i]
        body = item.get("body") if isinstance(item, dict) else None
        title = item.get("title", "") if isinstance(item, dict) else None
        if not isinstance(body, str) or not body.strip():
            out.append((None, f"variant {i + 1} has no text body"))
        elif has_title and not isinstance(title, str):
            out.append((None, f"variant {i + 1} has a title that is not text"))
        else:
            out.append(({"title": str(title or ""), "body": body}, ""))
    return out
