"""Evidence records and the grounding check of an answer against them.

Every answer is composed from :class:`Evidence`: the retrieved product, policy section or
the customer's own orders, each with the values it supports (prices, amounts, dates,
counts) and the strings that are names rather than claims (titles, brands, ids).
:func:`check_answer` then reads the *final* text with the grounding checker of grounded
marketing copy (:func:`growthkit.campaigns.copy.claims.extract_claims` finds every
amount, percentage, date, time, duration and number; :class:`~growthkit.campaigns.copy.grounding.Grounding`
says whether the records support it) and adds one rule of its own: every id-like token
(``i000123``, ``u0000004-s12``) must be an id of the cited records. Superlative and
banned-phrase rules of marketing copy do not apply to answers that quote the shop's own
documents.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from growthkit.assistant.answer import Citation, ClaimCheck
from growthkit.campaigns.copy.checker import split_sentences
from growthkit.campaigns.copy.claims import Claim, extract_claims, normalize
from growthkit.campaigns.copy.grounding import Grounding

EXTRA_KINDS: tuple[str, ...] = ("time", "bundle", "relative_date", "link")
"""Claim kinds the copy grounding rejects outright (an offer has no time of day); here they are supported when a
cited record states the same thing."""

ID_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,4}[0-9]{3,}(?:-[A-Za-z]*[0-9]+)*(?![A-Za-z0-9])")
"""Id-like tokens (item, user, order and event ids): letters then at least three digits."""
_FREE_SHIPPING = re.compile(r"\bshipping\s+is\s+free\b|\bdelivery\s+is\s+free\b", re.IGNORECASE)
"""Free shipping worded the other way round (the claim patterns find "free shipping")."""


@dataclass(frozen=True)
class Evidence:
    """One record an answer may draw facts from.

    Parameters
    ----------
    citations
        What the answer cites when it uses this record.
    text
        Free text of the record (a policy section, a product description); every claim in it
        is supported.
    money, numbers, dates
        Structured values the record supports (a price, an order total, a count, an order day).
    literals
        Names that are not claims even when they contain digits (titles, brands, ids).
    record
        The record as JSON-able data: what a language model is shown, as quoted data.
    """

    citations: tuple[Citation, ...]
    text: str = ""
    money: tuple[float, ...] = ()
    numbers: tuple[float, ...] = ()
    dates: tuple[date, ...] = ()
    literals: tuple[str, ...] = ()
    record: Mapping[str, Any] = field(default_factory=dict)


def _ids_in(texts: Iterable[str]) -> set[str]:
    return {m.group(0).lower() for t in texts for m in ID_RE.finditer(normalize(t))}


def _close(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return len(a) == len(b) and all(abs(x - y) < 0.005 for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class EvidenceGrounding:
    """What a set of evidence supports: a copy :class:`Grounding`, the extra claims stated in the
    records' texts (times, links, ...) and the ids they contain."""

    grounding: Grounding
    extra: tuple[Claim, ...]
    ids: frozenset[str]

    @classmethod
    def of(cls, evidence: Sequence[Evidence], currency: str | None) -> EvidenceGrounding:
        """Everything ``evidence`` supports (``currency``: the shop's, for amounts with a symbol)."""
        literals: list[str] = []
        for ev in evidence:
            literals.extend(s for s in ev.literals if s and s.strip())
            for cite in ev.citations:
                literals.extend(s for s in (cite.ref, cite.label) if s)
        money = [v for ev in evidence for v in ev.money]
        numbers = [v for ev in evidence for v in (*ev.numbers, *ev.money)]
        dates = [d for ev in evidence for d in ev.dates]
        numbers += [float(x) for d in dates for x in (d.year, d.month, d.day)]
        percents: list[float] = []
        thresholds: list[tuple[float, float]] = []
        durations: list[float] = []
        extra: list[Claim] = []
        free_shipping = limited = False
        for ev in evidence:
            if not ev.text:
                continue
            for c in extract_claims(ev.text, literals):
                numbers.extend(c.values)
                if c.kind == "money":
                    money.append(c.values[0])
                elif c.kind == "percent":
                    percents.append(c.values[0])
                elif c.kind == "threshold":
                    thresholds.append((c.values[0], c.values[1]))
                    money.extend(c.values)
                elif c.kind == "date" and c.values[1] >= 1 and c.values[2] >= 1:
                    year, month, day = (int(v) for v in c.values)
                    with contextlib.suppress(ValueError):  # 2月30日: no such day
                        dates.append(date(year or 2000, month, day))
                elif c.kind == "duration":
                    durations.append(c.values[0])
                elif c.kind == "free_shipping":
                    free_shipping = True
                elif c.kind == "limited_time":
                    limited = True
                elif c.kind in ("pii", "link"):
                    literals.append(c.text)  # the shop's own hotline, address or link, stated in its records
                if c.kind in EXTRA_KINDS:
                    extra.append(c)
        names = ID_RE.sub(" ", normalize(" ".join(literals)))  # an id's digits are not a number it supports
        for m in re.finditer(r"[0-9]+(?:\.[0-9]+)?", names):
            numbers.append(float(m.group(0)))
        free_shipping = free_shipping or any(_FREE_SHIPPING.search(ev.text) for ev in evidence)
        texts = [ev.text for ev in evidence] + literals
        grounding = Grounding(
            money=tuple(sorted(set(money))),
            percents=tuple(sorted(set(percents))),
            thresholds=tuple(sorted(set(thresholds))),
            dates=tuple(sorted(set(dates))),
            durations=tuple(sorted(set(durations))),
            numbers=tuple(sorted(set(numbers))),
            currency=currency.upper() if currency else None,
            free_shipping=free_shipping,
            limited_time=limited,
            literals=tuple(dict.fromkeys(literals)),
        )
        return cls(grounding, tuple(extra), frozenset(_ids_in(texts)))

    def verify(self, claim: Claim) -> str | None:
        """Why ``claim`` is not supported by the evidence, or None when it is."""
        if claim.kind in EXTRA_KINDS:
            for e in self.extra:
                if e.kind != claim.kind:
                    continue
                if claim.values and _close(e.values, claim.values):
                    return None
                if not claim.values and normalize(e.text).lower() == normalize(claim.text).lower():
                    return None
            return f"{claim.text!r} is not stated by the cited records"
        return self.grounding.verify(claim)


def check_answer(text: str, grounding: EvidenceGrounding) -> tuple[ClaimCheck, ...]:
    """Every claim in ``text`` and whether the evidence supports it.

    Examples
    --------
    >>> ev = Evidence((Citation("product", "i000001", "Oolong tea"),), money=(59.0,), literals=("Oolong tea",))
    >>> g = EvidenceGrounding.of([ev], "CNY")
    >>> [(c.text, c.supported) for c in check_answer("Oolong tea (i000001) costs ¥59.", g)]
    [('¥59', True)]
    >>> [(c.kind, c.supported) for c in check_answer("Oolong tea costs ¥49, see i000002.", g)]
    [('money', False), ('id', False)]
    """
    out: list[ClaimCheck] = []
    for sentence in split_sentences(text):
        ids = [m.group(0) for m in ID_RE.finditer(normalize(sentence))]  # ids are checked below, not as numbers
        for c in extract_claims(sentence, (*grounding.grounding.literals, *ids)):
            why = grounding.verify(c)
            out.append(ClaimCheck(c.text, c.kind, why is None, why or ""))
    for m in ID_RE.finditer(normalize(text)):
        if m.group(0).lower() not in grounding.ids:
            out.append(ClaimCheck(m.group(0), "id", False, f"{m.group(0)!r} is not an id of the cited records"))
    return tuple(out)
