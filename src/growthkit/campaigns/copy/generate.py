"""Generate grounded copy variants: ask the model (or the templates) for slot text, fill, check, repair.

:func:`generate_copy` is the entry point. With a model it sends one request for all
variants not in the cache and asks for JSON; a variant whose answer is unusable (not
JSON, missing, empty, a duplicate) falls back to the template writer, and the reason is
recorded. Every variant then goes through :func:`~growthkit.campaigns.copy.repair.compose`;
a model variant that is still rejected after repair (an unsupported claim in every sentence,
the wrong language, not about the product) is replaced by a template variant, with the
model's reasons kept as the fallback reason.

Caching: pass any object with ``get(key)`` and ``put(key, value)``
(:class:`MemoryCopyCache`, or the store-backed cache of
:mod:`growthkit.workflows.copy`). The key (:func:`cache_key`) hashes the record's facts,
channel, language, tone, persona, variant index, backend, model, prompt version and the
compliance policy, so a change to any of them makes new copy.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from growthkit.campaigns.copy.channels import LANGUAGES, TONES, ChannelRule, effective_limit, get_channel, measure
from growthkit.campaigns.copy.grounding import Grounding
from growthkit.campaigns.copy.policy import DEFAULT_POLICY, CompliancePolicy
from growthkit.campaigns.copy.prompt import (
    PROMPT_VERSION,
    answer_schema,
    build_messages,
    copies_example,
    field_caps,
    parse_variants,
)
from growthkit.campaigns.copy.record import CopyRecord
from growthkit.campaigns.copy.repair import compose
from growthkit.campaigns.copy.slots import fields_used, slot_values
from growthkit.campaigns.copy.templates import TASK, template_generator
from growthkit.campaigns.copy.variant import CopyBatch, CopyVariant, Provenance, Source, variant_id
from growthkit.errors import ConfigError, TextBackendError
from growthkit.text.llm import GenerationRequest, TemplateGenerator, TextGenerator

log = logging.getLogger(__name__)

MAX_VARIANTS = 50
RETRIES = 12
"""Other template phrasings tried for a duplicate or a template variant that does not fit."""


class CopyCache(Protocol):
    """Where generated variants are kept between runs."""

    def get(self, key: str) -> Mapping[str, Any] | None:
        """The stored variant of ``key``, or None."""

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        """Store a variant (``CopyVariant.to_dict()``) under ``key``."""


class MemoryCopyCache:
    """A cache in a dict (for one process; tests and notebooks)."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> Mapping[str, Any] | None:
        return self.data.get(key)

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        self.data[key] = dict(value)


def cache_key(
    record: CopyRecord,
    *,
    channel: ChannelRule,
    lang: str,
    tone: str,
    persona: str,
    index: int,
    backend: str,
    model: str,
    policy: CompliancePolicy,
) -> str:
    """The cache key of one variant (SHA-256 hex of everything that shapes it)."""
    payload = {
        "facts": record.facts(),
        "channel": [channel.name, dict(channel.body_max), dict(channel.title_max), dict(channel.opt_out)],
        "lang": lang,
        "tone": tone,
        "persona": persona,
        "index": index,
        "backend": backend,
        "model": model,
        "prompt_version": PROMPT_VERSION,
        "policy": policy.fingerprint(),
    }
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class _Draft:
    title: str
    body: str
    source: Source
    backend: str
    model: str
    fallback_reason: str = ""
    template_index: int | None = None


def _validate(record: CopyRecord, rule: ChannelRule, lang: str, tone: str, n: int, policy: CompliancePolicy) -> None:
    if lang not in LANGUAGES:
        raise ConfigError(f"unknown language {lang!r}; use one of: {', '.join(LANGUAGES)}")
    if tone not in TONES:
        raise ConfigError(f"unknown tone {tone!r}; use one of: {', '.join(TONES)}")
    if not 1 <= n <= MAX_VARIANTS:
        raise ConfigError(f"variants must be between 1 and {MAX_VARIANTS}, got {n}")
    rule.limit("body", lang)
    if policy.opt_out and (lang in rule.signature or lang in rule.sender_named) and not record.shop:
        raise ConfigError(f"{rule.name} in {lang} must carry the sender's name: pass the shop name (--shop NAME)")


class _Writer:
    """Turns variant indexes into drafts, from the model or the templates."""

    def __init__(self, gen: TextGenerator, facts: dict[str, Any]) -> None:
        self.gen = gen
        self.facts = facts
        if isinstance(gen, TemplateGenerator) and TASK in gen.renderers:
            self.templates = gen
        else:
            self.templates = template_generator()
        self.calls = 0

    @property
    def uses_model(self) -> bool:
        return self.gen.backend != "template"

    def template(self, index: int, reason: str = "", template_index: int | None = None) -> _Draft:
        t_index = index if template_index is None else template_index
        req = GenerationRequest(messages=(), task=TASK, facts={**self.facts, "first": t_index, "count": 1})
        if self.templates is self.gen:
            self.calls += 1
        out = self.templates.generate(req)
        (v, _), *_ = parse_variants(out.text, 1, True)
        assert v is not None, out.text
        source: Source = "template_fallback" if self.uses_model else "template"
        return _Draft(v["title"], v["body"], source, out.backend, out.model, reason, t_index)

    def model(self, request: GenerationRequest, indexes: list[int], has_title: bool, cap: int) -> dict[int, _Draft]:
        self.calls += 1
        try:
            out = self.gen.generate(request)
        except TextBackendError as exc:
            log.warning("copy: %s/%s failed, using templates: %s", self.gen.backend, self.gen.model, exc)
            return {i: self.template(i, f"the {self.gen.backend} backend failed: {exc}") for i in indexes}
        drafts = {}
        for i, (v, why) in zip(indexes, parse_variants(out.text, len(indexes), has_title), strict=True):
            body = _complete_sentences(v["body"], cap) if v is not None else ""
            if v is None:
                drafts[i] = self.template(i, why)
            elif not body:
                drafts[i] = self.template(i, f"variant {i + 1} ran over the length limit mid-sentence")
            elif copies_example(v["title"], body):
                drafts[i] = self.template(i, f"variant {i + 1} copies the prompt's example")
            else:
                drafts[i] = _Draft(v["title"], body, "model", out.backend, out.model)
        return drafts


_SENTENCE_END = "。！？!?；;…."


def _complete_sentences(body: str, cap: int) -> str:
    """``body``, or only its complete sentences when the answer schema's cap cut it off.

    A string that reaches ``maxLength`` was stopped by the grammar, most likely mid-sentence:
    keep what ends with sentence punctuation, drop the cut-off rest ("" when nothing is complete).

    Examples
    --------
    >>> _complete_sentences("Fresh tea. Brew a cup of", 24)
    'Fresh tea.'
    >>> _complete_sentences("Fresh tea. Brew", 40)
    'Fresh tea. Brew'
    """
    if len(body) < cap:
        return body
    end = max(body.rfind(ch) for ch in _SENTENCE_END)
    return body[: end + 1].rstrip() if end > 0 else ""


def generate_copy(
    record: CopyRecord,
    *,
    channel: str,
    lang: str = "zh",
    tone: str = "friendly",
    persona: str = "",
    n: int = 3,
    generator: TextGenerator | None = None,
    policy: CompliancePolicy = DEFAULT_POLICY,
    rules: Mapping[str, ChannelRule] | None = None,
    cache: CopyCache | None = None,
    temperature: float = 0.8,
    seed: int | None = 0,
) -> CopyBatch:
    """Write ``n`` checked copy variants for ``record`` on ``channel`` in ``lang``.

    Parameters
    ----------
    record
        The product, offer and shop every fact comes from.
    channel, lang, tone, persona
        Where the copy goes (see :data:`~growthkit.campaigns.copy.channels.CHANNELS`),
        ``zh`` or ``en``, one of ``friendly``, ``urgent``, ``premium``, ``playful``, and
        who it is for (a segment's name or description).
    n
        Number of variants (1 to 50).
    generator
        A :class:`~growthkit.text.llm.TextGenerator`; default: the template writer.
    policy, rules
        Compliance policy and channel rules (defaults: the built-in ones).
    cache
        Where variants are kept between calls; a hit skips the generator.

    Returns
    -------
    CopyBatch
        ``n`` variants, each accepted (``ok`` or ``repaired``) or ``rejected`` with reasons.

    Examples
    --------
    >>> from growthkit.campaigns.copy.record import Offer, Product
    >>> rec = CopyRecord(Product("i1", "铁观音", price=199.0, currency="CNY"), Offer(discount_percent=20), "小满茶铺")
    >>> batch = generate_copy(rec, channel="sms", lang="zh", n=2)
    >>> [v.status for v in batch.variants]
    ['ok', 'ok']
    >>> batch.variants[0].body
    '【小满茶铺】铁观音现8折，到手价¥159.20。喜欢就带走吧。回T退订'
    """
    rule = get_channel(channel, rules)
    _validate(record, rule, lang, tone, n, policy)
    gen: TextGenerator = generator or template_generator()
    values = slot_values(record, lang)
    grounding = Grounding.of(record)
    facts = {
        "channel": rule.name,
        "lang": lang,
        "tone": tone,
        "persona": persona,
        "slots": sorted(values),
        "free_shipping": record.offer.free_shipping,
    }
    writer = _Writer(gen, facts)
    keys = {
        i: cache_key(
            record,
            channel=rule,
            lang=lang,
            tone=tone,
            persona=persona,
            index=i,
            backend=gen.backend,
            model=gen.model,
            policy=policy,
        )
        for i in range(n)
    }
    done: dict[int, CopyVariant] = {}
    for i, key in keys.items():
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            done[i] = CopyVariant.from_dict(hit)
    hits = len(done)
    missing = [i for i in range(n) if i not in done]
    drafts: dict[int, _Draft] = {}
    if missing and writer.uses_model:
        budget = sum(rule.limit(p, lang) for p in ("title", "body") if p == "body" or rule.has_title)
        caps = field_caps(rule, lang)
        request = GenerationRequest(
            messages=build_messages(
                record, rule, lang=lang, tone=tone, persona=persona, count=len(missing), values=values
            ),
            max_tokens=min(4096, 200 + 3 * budget * len(missing)),
            temperature=temperature,
            seed=seed,
            json_schema=answer_schema(rule.has_title, len(missing), caps),
            task=TASK,
            facts={**facts, "first": missing[0], "count": len(missing)},
        )
        drafts = writer.model(request, missing, rule.has_title, caps["body"])
    else:
        drafts = {i: writer.template(i) for i in missing}
    seen = {v.text: v.index for v in done.values() if v.accepted}
    requested = f"{gen.backend}/{gen.model}"
    for i in missing:
        draft = drafts[i]
        variant = _finish(draft, i, record, rule, lang, tone, persona, policy, values, grounding, requested)
        if draft.source == "model" and not variant.accepted:
            # the model's text broke a rule that no repair fixes: the customer gets a template variant
            draft = writer.template(i, f"the model's variant was rejected ({'; '.join(variant.reasons[:2])})")
            variant = _finish(draft, i, record, rule, lang, tone, persona, policy, values, grounding, requested)
        tries = 0
        # a duplicate, or a template variant that cannot be made to fit: try other template phrasings
        while tries < RETRIES and (
            (variant.accepted and variant.text in seen) or (not variant.accepted and draft.source != "model")
        ):
            tries += 1
            dup = variant.accepted and variant.text in seen
            why = f"duplicate of variant {seen[variant.text]}" if dup else draft.fallback_reason
            t_index = n + RETRIES * i + tries - 1  # indexes no first-choice variant uses
            draft = writer.template(i, why if writer.uses_model else "", t_index)
            variant = _finish(draft, i, record, rule, lang, tone, persona, policy, values, grounding, requested)
        if variant.accepted and variant.text in seen:
            variant = _reject(variant, f"duplicate of variant {seen[variant.text]}: no other phrasing fits")
        if variant.accepted:
            seen.setdefault(variant.text, i)
        done[i] = variant
        if cache is not None:
            cache.put(keys[i], variant.to_dict())
    return CopyBatch(
        item_id=record.product.item_id,
        channel=rule.name,
        lang=lang,
        tone=tone,
        persona=persona,
        backend=gen.backend,
        model=gen.model,
        variants=tuple(done[i] for i in range(n)),
        record=record.facts(),
        generator_calls=writer.calls,
        cache_hits=hits,
    )


def _reject(variant: CopyVariant, reason: str) -> CopyVariant:
    prov = variant.provenance
    return replace(
        variant,
        status="rejected",
        reasons=(*variant.reasons, reason),
        variant_id=variant_id(variant.title, variant.body, prov),
    )


def _finish(
    draft: _Draft,
    index: int,
    record: CopyRecord,
    rule: ChannelRule,
    lang: str,
    tone: str,
    persona: str,
    policy: CompliancePolicy,
    values: dict[str, str],
    grounding: Grounding,
    requested: str,
) -> CopyVariant:
    c = compose(draft.title, draft.body, record, rule, lang, policy, values=values, grounding=grounding)
    facts = record.facts()
    prov = Provenance(
        backend=draft.backend,
        model=draft.model,
        prompt_version=PROMPT_VERSION,
        source=draft.source,
        channel=rule.name,
        lang=lang,
        tone=tone,
        persona=persona,
        item_id=record.product.item_id,
        variant_index=index,
        record_fields=tuple(f for f in fields_used(list(c.slots)) if facts.get(f) not in (None, False, "", [])),
        slots=c.slots,
        checks=c.report.outcomes(),
        repairs=c.repairs,
        fallback_reason=draft.fallback_reason,
        template_index=draft.template_index,
        requested=requested,
        policy=policy.fingerprint(),
    )
    return CopyVariant(
        variant_id=variant_id(c.title, c.body, prov),
        index=index,
        title=c.title,
        body=c.body,
        status=c.status,
        body_length=measure(c.body, rule, lang),
        body_limit=effective_limit(c.body, rule, "body", lang),
        title_length=measure(c.title, rule, lang) if c.title is not None else None,
        title_limit=rule.limit("title", lang) if rule.has_title else None,
        reasons=c.reasons,
        provenance=prov,
    )
