"""The model's side: the prompt, the JSON schema of the answer, and reading the answer.

The model is shown the product's name, brand and category, the persona, the channel
with its limits and the tone, and the *names* of the slots the record has values for,
with how long each value is, but never the values themselves: it has no number to
copy, and every fact is filled in afterwards from the record. Bump
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

PROMPT_VERSION = "marketing_copy/1"
"""Version of the prompt and the template phrasings; part of provenance and of the cache key."""

TONE_GUIDE: dict[str, str] = {
    "friendly": "warm and helpful, like a shop assistant who knows the customer",
    "urgent": "energetic and time-aware; create urgency only from the offer's end date slot",
    "premium": "calm, refined and understated; no exclamation marks",
    "playful": "light and fun, a little cheeky; an emoji is fine where the channel allows",
}
LANGUAGE_NAME = {"zh": "Simplified Chinese (简体中文)", "en": "English"}

SYSTEM = """You write marketing copy for an online shop. Follow these rules exactly.
1. Never write a number yourself: no digits, no Chinese numerals, no number words, no prices,
   percentages, discounts, dates, times, durations or quantities. Write the named slot instead,
   e.g. {price} or {valid_until}; slots are replaced by the real values later. Use only the slots
   listed in the request, spelled exactly, in curly braces.
2. No superlatives or absolute claims (best, cheapest, lowest, #1, number one, guaranteed, 100%,
   最, 第一, 唯一, 顶级, 国家级, 最佳, 极品, 万能 and the like) and no promises the slots do not
   state (free shipping, gifts, stock levels, deadlines, rankings, reviews).
3. No personal data, phone numbers, e-mail addresses or links.
4. Do not add an opt-out line, an unsubscribe line or a signature; they are added for you.
5. Write in {language}, in the requested tone, within the length limits.
6. Answer with one JSON object only: {"variants": [{"title": "...", "body": "..."}]}."""


def answer_schema(has_title: bool) -> dict[str, Any]:
    """The JSON schema of the model's answer (strict-mode compatible: every property required)."""
    item_props: dict[str, Any] = {"body": {"type": "string"}}
    if has_title:
        item_props = {"title": {"type": "string"}, **item_props}
    return {
        "type": "object",
        "properties": {
            "variants": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": item_props,
                    "required": list(item_props),
                    "additionalProperties": False,
                },
            }
        },
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
    """The system and user messages asking for ``count`` variants."""
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
    limits = {"body": rule.limit("body", lang) - reserved}
    if rule.has_title:
        limits["title"] = rule.limit("title", lang)
    if rule.counting is Counting.SMS:
        unit = "characters (every character counts: letters, digits, punctuation, spaces)"
    elif lang == "zh":
        unit = "Chinese characters (two Latin letters or digits count as one)"
    else:
        unit = "characters (a Chinese character or an emoji counts as two)"
    short_unit = unit.split(" (")[0]
    slots = {
        "{" + name + "}": f"{SLOT_MEANING[name]} (about {size(value)} {short_unit})"
        for name, value in values.items()
        if name in SLOT_MEANING
    }
    request = {
        "channel": f"{rule.name}: {rule.description}",
        "language": LANGUAGE_NAME.get(lang, lang),
        "tone": f"{tone}: {TONE_GUIDE.get(tone, tone)}",
        "audience": persona or "all customers",
        "product": {"name": p.title, "brand": p.brand, "category": p.category},
        "limits": {k: f"at most {v} {unit}, slots counted as filled in" for k, v in limits.items()},
        "slots": slots,
        "variants": count,
    }
    if not rule.has_title:
        request["note"] = 'this channel has no title: give each variant only a "body"'
    user = (
        f"Write {count} clearly different variants (vary the angle: benefit, value, occasion, urgency).\n"
        + json.dumps(request, ensure_ascii=False, indent=1)
    )
    return chat(SYSTEM.replace("{language}", LANGUAGE_NAME.get(lang, lang)), user)


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
