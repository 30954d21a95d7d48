"""Copy variants with their provenance, a stable id, and the batch they come in.

A variant's id is a hash of its final text and its provenance (backend, model, prompt
version, source, channel, language, tone, persona, item, record fields used, checks and
repairs), so the same copy made the same way always has the same id, and an A/B test
can tell variants apart and trace each back to how it was written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from growthkit.campaigns.copy.checker import CheckOutcome
from growthkit.campaigns.copy.repair import Status

Source = Literal["model", "template", "template_fallback"]


@dataclass(frozen=True)
class Provenance:
    """How a variant was made.

    Parameters
    ----------
    backend, model
        What wrote the slot text (``template``/``template`` for the template writer).
    prompt_version
        :data:`~growthkit.campaigns.copy.prompt.PROMPT_VERSION` at the time.
    source
        ``model``, ``template`` (no model configured) or ``template_fallback`` (a model
        was asked but its answer for this variant was unusable; see ``fallback_reason``).
    requested
        ``backend/model`` of the generator that was asked.
    record_fields
        The record fields the final text states (through its slots).
    checks
        Every rule's verdict on the final text.
    repairs
        What was dropped or re-filled on the way.
    """

    backend: str
    model: str
    prompt_version: str
    source: Source
    channel: str
    lang: str
    tone: str
    persona: str
    item_id: str
    variant_index: int
    record_fields: tuple[str, ...] = ()
    slots: tuple[str, ...] = ()
    checks: tuple[CheckOutcome, ...] = ()
    repairs: tuple[str, ...] = ()
    fallback_reason: str = ""
    template_index: int | None = None
    requested: str = ""
    policy: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["checks"] = [asdict(c) for c in self.checks]
        for k in ("record_fields", "slots", "repairs"):
            d[k] = list(d[k])
        for c in d["checks"]:
            c["reasons"] = list(c["reasons"])
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Provenance:
        data = dict(d)
        data["checks"] = tuple(
            CheckOutcome(c["rule"], bool(c["passed"]), tuple(c["reasons"])) for c in data.get("checks", ())
        )
        for k in ("record_fields", "slots", "repairs"):
            data[k] = tuple(data.get(k, ()))
        return cls(**data)


@dataclass(frozen=True)
class CopyVariant:
    """One final copy: title (for channels that have one), body, verdict and provenance."""

    variant_id: str
    index: int
    title: str | None
    body: str
    status: Status
    body_length: int
    body_limit: int
    provenance: Provenance
    title_length: int | None = None
    title_limit: int | None = None
    reasons: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        """Whether the variant passed every check (possibly after repairs)."""
        return self.status != "rejected"

    @property
    def text(self) -> str:
        """Title and body, one per line."""
        return f"{self.title}\n{self.body}" if self.title else self.body

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["provenance"] = self.provenance.to_dict()
        d["reasons"] = list(self.reasons)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CopyVariant:
        data = dict(d)
        data["provenance"] = Provenance.from_dict(data["provenance"])
        data["reasons"] = tuple(data.get("reasons", ()))
        return cls(**data)


def variant_id(title: str | None, body: str, provenance: Provenance) -> str:
    """``cv_`` + 16 hex digits of the SHA-256 of the final text and the provenance."""
    payload = json.dumps(
        {"title": title, "body": body, "provenance": provenance.to_dict()}, ensure_ascii=False, sort_keys=True
    )
    return "cv_" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class CopyBatch:
    """The variants of one request (item x persona x channel x language x tone)."""

    item_id: str
    channel: str
    lang: str
    tone: str
    persona: str
    backend: str
    model: str
    variants: tuple[CopyVariant, ...]
    record: Mapping[str, Any] = field(default_factory=dict)
    generator_calls: int = 0
    cache_hits: int = 0

    @property
    def accepted(self) -> tuple[CopyVariant, ...]:
        return tuple(v for v in self.variants if v.accepted)

    @property
    def rejected(self) -> tuple[CopyVariant, ...]:
        return tuple(v for v in self.variants if not v.accepted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "channel": self.channel,
            "lang": self.lang,
            "tone": self.tone,
            "persona": self.persona,
            "backend": self.backend,
            "model": self.model,
            "record": dict(self.record),
            "generator_calls": self.generator_calls,
            "cache_hits": self.cache_hits,
            "variants": [v.to_dict() for v in self.variants],
        }
