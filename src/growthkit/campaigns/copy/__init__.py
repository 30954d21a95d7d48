"""Grounded marketing copy: every fact from the records, every text checked.

Generate copy variants for a product (and an offer) for a channel, a language, a tone
and a persona. The model (or the deterministic template writer) writes text with named
slots such as ``{price}`` or ``{valid_until}``; the slots are filled from the catalog
and offer records; a checker reads the final text for every number, percentage, amount,
date, promise, superlative, banned phrase and piece of personal data, and repairs or
rejects what the records do not support. See ``docs/copy.md``.

Examples
--------
>>> from growthkit.campaigns.copy import CopyRecord, Offer, Product, generate_copy
>>> rec = CopyRecord(Product("i1", "Oolong tea", price=20.0, currency="USD"), Offer(discount_percent=25), "Tea Corner")
>>> batch = generate_copy(rec, channel="push", lang="en", tone="urgent", n=2)
>>> v = batch.variants[0]
>>> v.title, v.body
('Oolong tea: 25% off now', "Oolong tea is now 25% off, just $15. Don't miss out!")
"""

from growthkit.campaigns.copy.channels import CHANNELS, LANGUAGES, TONES, ChannelRule, Counting, get_channel
from growthkit.campaigns.copy.checker import (
    RULES,
    CheckOutcome,
    CheckReport,
    CopyCheckStats,
    Issue,
    check_copies,
    check_text,
)
from growthkit.campaigns.copy.claims import Claim, extract_claims
from growthkit.campaigns.copy.generate import CopyCache, MemoryCopyCache, cache_key, generate_copy
from growthkit.campaigns.copy.grounding import Grounding
from growthkit.campaigns.copy.policy import BANNED_EN, BANNED_ZH, DEFAULT_POLICY, CompliancePolicy
from growthkit.campaigns.copy.prompt import PROMPT_VERSION
from growthkit.campaigns.copy.record import CopyRecord, Offer, Product
from growthkit.campaigns.copy.repair import Composed, compose
from growthkit.campaigns.copy.slots import SLOT_FIELDS, fill, slot_values
from growthkit.campaigns.copy.templates import TASK, render_marketing_copy, template_generator
from growthkit.campaigns.copy.variant import CopyBatch, CopyVariant, Provenance, variant_id

__all__ = [
    "BANNED_EN",
    "BANNED_ZH",
    "CHANNELS",
    "DEFAULT_POLICY",
    "LANGUAGES",
    "PROMPT_VERSION",
    "RULES",
    "SLOT_FIELDS",
    "TASK",
    "TONES",
    "ChannelRule",
    "CheckOutcome",
    "CheckReport",
    "Claim",
    "CompliancePolicy",
    "Composed",
    "CopyBatch",
    "CopyCache",
    "CopyCheckStats",
    "CopyRecord",
    "CopyVariant",
    "Counting",
    "Grounding",
    "Issue",
    "MemoryCopyCache",
    "Offer",
    "Product",
    "Provenance",
    "cache_key",
    "check_copies",
    "check_text",
    "compose",
    "extract_claims",
    "fill",
    "generate_copy",
    "get_channel",
    "render_marketing_copy",
    "slot_values",
    "template_generator",
    "variant_id",
]
