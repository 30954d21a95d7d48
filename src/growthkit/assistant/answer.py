"""What the assistant returns: an :class:`Answer` with its citations and the claims it checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from growthkit.assistant.tokens import Language
from growthkit.campaigns.copy.claims import NUMERIC_KINDS

CitationKind = Literal["product", "policy", "order", "review"]
Intent = Literal["product", "policy", "orders", "other"]

SOURCES: dict[str, str] = {"en": "Sources", "zh": "来源"}


@dataclass(frozen=True)
class Citation:
    """One record an answer used.

    ``ref`` is what identifies it: an item id (``product``), ``file#section`` (``policy``),
    an order id (``order``) or a review id (``review``); ``label`` is for people.
    """

    kind: CitationKind
    ref: str
    label: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "ref": self.ref, "label": self.label}


@dataclass(frozen=True)
class ClaimCheck:
    """One claim found in the final answer text and whether the evidence supports it."""

    text: str
    kind: str
    supported: bool
    reason: str = ""

    @property
    def numeric(self) -> bool:
        """Whether the claim states a number (a price, an amount, a date, a count, ...)."""
        return self.kind in NUMERIC_KINDS

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "kind": self.kind, "supported": self.supported, "reason": self.reason}


@dataclass(frozen=True)
class Answer:
    """The assistant's answer to one question.

    Attributes
    ----------
    question, text : str
        What was asked and what the assistant answers (without the sources line; see :meth:`render`).
    language : {"zh", "en"}
        The question's language, which the answer is written in.
    intent : {"product", "policy", "orders", "other"}
        Where the question was routed; ``aspect`` says what about it (``price``, ``last_order``, ...).
    citations : tuple of Citation
        Every record the answer used.
    refused : bool
        The assistant declined (another customer's data, an instruction to the model, orders without a
        signed-in customer); ``refusal_reason`` says which.
    unknown : bool
        Retrieval found nothing that answers the question, and the answer says so.
    claims : tuple of ClaimCheck
        Every claim the grounding checker found in ``text``, with its verdict.
    backend, model : str
        The text generator that wrote ``text`` (``template`` when the deterministic answer was kept).
    seconds : float
        Wall time of :meth:`~growthkit.assistant.Assistant.ask`.
    fallback_reason : str or None
        Why a model's text was rejected in favour of the deterministic answer, if it was.
    strength : float or None
        How well the best evidence matched the question (0..1), when retrieval ran.
    """

    question: str
    text: str
    language: Language
    intent: Intent
    aspect: str
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    unknown: bool = False
    refusal_reason: str | None = None
    claims: tuple[ClaimCheck, ...] = ()
    backend: str = "template"
    model: str = "template"
    seconds: float = 0.0
    fallback_reason: str | None = None
    strength: float | None = None

    @property
    def grounded(self) -> bool:
        """Whether every claim in the text is supported by the cited records."""
        return all(c.supported for c in self.claims)

    @property
    def numeric_claims(self) -> int:
        return sum(c.numeric for c in self.claims)

    @property
    def supported_numeric_claims(self) -> int:
        return sum(c.numeric and c.supported for c in self.claims)

    def render(self) -> str:
        """The text followed by a line naming the sources (when there are any).

        Examples
        --------
        >>> a = Answer("q", "It costs ¥59.", "en", "product", "price", (Citation("product", "i1", "Tea"),))
        >>> a.render()
        'It costs ¥59.\\nSources: Tea [i1]'
        """
        if not self.citations:
            return self.text
        sep = "；" if self.language == "zh" else "; "
        colon = "：" if self.language == "zh" else ": "
        cited = sep.join(f"{c.label} [{c.ref}]" for c in self.citations)
        return f"{self.text}\n{SOURCES[self.language]}{colon}{cited}"

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON-able data."""
        return {
            "question": self.question,
            "text": self.text,
            "language": self.language,
            "intent": self.intent,
            "aspect": self.aspect,
            "citations": [c.to_dict() for c in self.citations],
            "refused": self.refused,
            "unknown": self.unknown,
            "refusal_reason": self.refusal_reason,
            "grounded": self.grounded,
            "claims": [c.to_dict() for c in self.claims],
            "backend": self.backend,
            "model": self.model,
            "seconds": round(self.seconds, 6),
            "fallback_reason": self.fallback_reason,
            "strength": None if self.strength is None else round(self.strength, 4),
        }
