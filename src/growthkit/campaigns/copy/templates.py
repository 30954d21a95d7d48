"""The deterministic template writer for task ``"marketing_copy"`` (used when no model is set up).

:func:`render_marketing_copy` is a renderer for
:class:`~growthkit.text.llm.TemplateGenerator`: from the request's facts (channel,
language, tone, persona, which slots the record has, the variant index) it writes the
same JSON a model is asked for, ``{"variants": [{"title": ..., "body": ...}]}``, with
slots in place of facts. Variant ``i`` picks phrase ``i`` (modulo the pool size) from
each pool for the first :data:`DIAGONAL` variants, so they differ in every sentence
where the pools allow; later variants pick by a hash of role and index, which reaches
the other combinations deterministically.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from growthkit.campaigns.copy.channels import get_channel
from growthkit.campaigns.copy.phrases import PERSONA_KEYWORDS, PHRASES
from growthkit.campaigns.copy.slots import slots_in
from growthkit.text.llm import TemplateGenerator

TASK = "marketing_copy"
"""The task name of the copy request (the template renderer is registered under it)."""

DIAGONAL = 4
"""Variants below this index take phrase ``index`` of every pool (so each sentence differs);
later ones pick by a hash of role and index, which reaches the other combinations."""

_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u200d]")


def persona_kind(persona: str) -> str:
    """``new``, ``vip``, ``lapsed`` or ``general``, from keywords in the persona text.

    Examples
    --------
    >>> persona_kind("高价值老客"), persona_kind("churn risk"), persona_kind("students")
    ('vip', 'lapsed', 'general')
    """
    low = persona.lower()
    for kind, words in PERSONA_KEYWORDS.items():
        if any(w in low for w in words):
            return kind
    return "general"


class _Picker:
    def __init__(self, lang: str, tone: str, slots: set[str], index: int, emoji: bool) -> None:
        self.table = PHRASES[lang]
        self.tone, self.slots, self.index, self.emoji = tone, slots, index, emoji

    def __call__(self, role: str, salt: int = 0) -> str | None:
        pools = self.table.get(role, {})
        pool = pools.get(self.tone) or pools.get("*") or ()
        usable = [p for p in pool if set(slots_in(p)) <= self.slots]
        if not usable:
            return None
        if self.index < DIAGONAL:
            k = (self.index + salt) % len(usable)
        else:
            digest = hashlib.sha256(f"{role}|{salt}|{self.index}".encode()).hexdigest()
            k = int(digest[:8], 16) % len(usable)
        text = usable[k]
        if not self.emoji:
            text = _EMOJI.sub("", text).rstrip()
        return text


def _offer(pick: _Picker, slots: set[str], free_shipping: bool, named: bool = False) -> list[str | None]:
    """The offer's sentences; ``named``: an earlier sentence names the product, so say "it"."""
    it = "_it" if named else ""
    lines: list[str | None] = []
    if "sale_price" in slots:
        lines.append(pick("offer_discount" + it))
    elif "price" in slots:
        lines.append(pick("offer_price" + it, 1))
    elif "coupon" not in slots:
        lines.append(pick("offer_plain"))
    if "coupon" in slots:
        lines.append(pick("offer_coupon", 2))
    if "valid_until" in slots:
        role = "deadline_range" if "valid_from" in slots and pick.index % 2 else "deadline"
        lines.append(pick(role, 1))
    if free_shipping:
        lines.append(pick("shipping"))
    return lines


def render_variant(facts: Mapping[str, Any], index: int) -> dict[str, str]:
    """Title and body (with slots) of template variant ``index`` for ``facts`` (see :func:`render_marketing_copy`)."""
    lang = str(facts.get("lang", "zh"))
    tone = str(facts.get("tone", "friendly"))
    channel = get_channel(str(facts.get("channel", "push")))
    slots = set(facts.get("slots") or ()) | {"product"}
    free_shipping = bool(facts.get("free_shipping"))
    pick = _Picker(lang, tone, slots, index, channel.emoji)
    sep = "" if lang == "zh" else " "
    title: str | None = None
    parts: list[str | None]
    if channel.name == "push":
        title = pick("title")
        parts = [*_offer(pick, slots, free_shipping), pick("cta", 3)]
        if "sale_price" not in slots and "coupon" not in slots:
            parts.insert(0, pick("hook"))
    elif channel.name == "sms":
        parts = [*_offer(pick, slots, free_shipping), pick("code"), pick("cta", 3)]
    elif channel.name == "email_subject":
        parts = [pick("subject")]
    elif channel.name == "email":
        title = pick("subject")
        greeting = pick("greeting:" + persona_kind(str(facts.get("persona", ""))))
        body = [pick("hook"), *_offer(pick, slots, free_shipping, named=True), pick("specs"), pick("code")]
        text = sep.join(p for p in body if p)
        cta = pick("cta", 3) or ""
        return {"title": title or "", "body": f"{greeting or ''}\n{text}\n{cta}".strip()}
    elif channel.name == "social":
        parts = [pick("hook"), *_offer(pick, slots, free_shipping, named=True), pick("cta", 3), pick("hashtag", 1)]
    elif channel.name == "referral":
        parts = [pick("ref_hook"), pick("ref_offer") if "sale_price" in slots else None]
        if "code" in slots:
            parts.append(pick("ref_code", 1))
    else:
        parts = [pick("hook"), *_offer(pick, slots, free_shipping), pick("cta", 3)]
    body_text = sep.join(p for p in parts if p)
    return {"title": title or "", "body": body_text}


def render_marketing_copy(facts: Mapping[str, Any]) -> str:
    """The renderer of task ``"marketing_copy"``: JSON ``{"variants": [...]}`` with slots.

    Facts: ``channel``, ``lang``, ``tone``, ``persona``, ``slots`` (names the record has
    values for), ``free_shipping``, ``first`` (index of the first variant) and ``count``.

    Examples
    --------
    >>> out = json.loads(render_marketing_copy({"channel": "sms", "lang": "zh", "tone": "urgent",
    ...     "slots": ["product", "price", "sale_price", "saving", "discount", "valid_until"], "count": 1}))
    >>> out["variants"][0]["body"]
    '{product}现{discount}，到手价{sale_price}。优惠{valid_until}结束。赶快行动！'
    """
    first = int(facts.get("first", 0))
    count = int(facts.get("count", 1))
    return json.dumps({"variants": [render_variant(facts, i) for i in range(first, first + count)]}, ensure_ascii=False)


def template_generator() -> TemplateGenerator:
    """A :class:`~growthkit.text.llm.TemplateGenerator` with the copy renderer registered."""
    gen = TemplateGenerator()
    gen.register(TASK, render_marketing_copy)
    return gen
