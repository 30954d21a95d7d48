"""From slot text to a final, checked copy: fill, repair what can be repaired, reject the rest.

:func:`compose` takes a title and a body written with slots (by a model or a template)
and, sentence by sentence:

1. fills the slots from the record; a sentence with an unknown slot, or a slot the
   record has no value for, is dropped;
2. checks the filled sentence; a wrong discount or spend-and-save rule is re-filled
   from the record (``八折`` becomes ``7折`` when the offer is 30 % off), anything else
   unsupported (an invented price, a date, a superlative, a banned phrase, personal
   data) drops the sentence;
3. adds what the channel needs (the sender signature of a Chinese SMS, the opt-out
   line) and drops the least important sentences, then trailing clauses, until the
   text fits the channel's limits;
4. checks the final text once more with every rule.

A variant with nothing left to say, or one that still breaks a rule, is rejected with
the reasons. Every repair is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from growthkit.campaigns.copy.channels import ChannelRule, effective_limit, measure
from growthkit.campaigns.copy.checker import (
    CheckReport,
    check_text,
    has_content,
    opt_out_present,
    sentence_issues,
    split_sentences,
)
from growthkit.campaigns.copy.grounding import Grounding
from growthkit.campaigns.copy.policy import CompliancePolicy
from growthkit.campaigns.copy.record import CopyRecord
from growthkit.campaigns.copy.slots import fill, percent_text, zhe_text

Status = Literal["ok", "repaired", "rejected"]

FACT_SLOTS = frozenset(
    {
        "price",
        "sale_price",
        "saving",
        "discount",
        "discount_pct",
        "coupon",
        "min_spend",
        "coupon_rule",
        "valid_until",
        "code",
    }
)
"""Slots that carry the offer; sentences with them are dropped last when text must be shortened."""


@dataclass(frozen=True)
class Composed:
    """A final copy, what was repaired on the way, and the final check."""

    title: str | None
    body: str
    status: Status
    repairs: tuple[str, ...]
    slots: tuple[str, ...]
    report: CheckReport
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Piece:
    text: str
    slots: tuple[str, ...]

    @property
    def essential(self) -> bool:
        return bool(FACT_SLOTS.intersection(self.slots))


def _short(text: str) -> str:
    t = text.strip()
    return t if len(t) <= 40 else t[:39] + "…"


def _refill(text: str, record: CopyRecord, values: dict[str, str], g: Grounding) -> str | None:
    """``text`` with wrong discounts and spend-and-save rules replaced by the record's, or None."""
    out = text
    for claim in sentence_issues(text, g)[1]:
        if g.verify(claim) is None:
            continue
        if claim.text not in out:
            return None
        if claim.kind == "percent" and record.offer.zhe is not None and claim.unit in ("zhe", "%"):
            pct = record.offer.discount_percent
            assert pct is not None
            right = zhe_text(record.offer.zhe) if claim.unit == "zhe" else percent_text(pct)
            out = out.replace(claim.text, right, 1)
        elif claim.kind == "threshold" and "coupon_rule" in values and record.offer.min_spend is not None:
            out = out.replace(claim.text, values["coupon_rule"], 1)
        else:
            return None
    return out


def _clean(
    slot_text: str,
    part: str,
    record: CopyRecord,
    values: dict[str, str],
    g: Grounding,
    policy: CompliancePolicy,
    repairs: list[str],
) -> list[_Piece]:
    pieces: list[_Piece] = []
    for raw in split_sentences(slot_text):
        if not has_content(raw):
            continue
        f = fill(raw, values)
        if not f.ok:
            what = [f"unknown slot {{{n}}}" for n in f.unknown] + [f"the record has no {n}" for n in f.missing]
            repairs.append(f"dropped {part} sentence {_short(raw)!r}: {'; '.join(what)}")
            continue
        issues, _ = sentence_issues(f.text, g, policy, part=part)
        text = f.text
        if issues and all(i.rule == "claims" and i.kind in ("percent", "threshold") for i in issues):
            fixed = _refill(text, record, values, g)
            if fixed is not None and not sentence_issues(fixed, g, policy, part=part)[0]:
                repairs.append(f"re-filled {part} {_short(text)!r} from the record: {_short(fixed)!r}")
                pieces.append(_Piece(fixed, f.used))
                continue
        if issues:
            repairs.append(f"dropped {part} sentence {_short(text)!r}: {issues[0].message}")
            continue
        pieces.append(_Piece(text, f.used))
    return pieces


def _join(pieces: list[_Piece], lang: str) -> str:
    out = ""
    for p in pieces:
        t = p.text if out else p.text.lstrip()
        if out and lang == "en" and not out[-1].isspace() and not t[:1].isspace():
            out += " "
        out += t
    return out.strip()


def _decorate(body: str, rule: ChannelRule, lang: str, record: CopyRecord, policy: CompliancePolicy) -> str:
    if not policy.opt_out:
        return body
    line = rule.opt_out.get(lang)
    if line and not opt_out_present(body, rule, lang):
        if body and body[-1] not in "。！？!?.…～~":
            body += "。" if lang == "zh" else "."
        sep = "\n\n" if rule.name == "email" else ("" if lang == "zh" else " ")
        body = f"{body}{sep}{line}"
    if lang in rule.signature and record.shop and not body.lstrip().startswith("【"):
        body = f"【{record.shop}】{body}"
    if lang in rule.sender_named and record.shop and record.shop.lower() not in body.lower():
        body = f"{record.shop}: {body}"
    return body


def _clauses(piece: _Piece) -> list[str]:
    """The piece's clauses, split after commas and colons, never inside a number (¥1,000 or 10:30)."""
    out, cur = [], ""
    text = piece.text
    for i, ch in enumerate(text):
        cur += ch
        in_number = ch in ",:" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()
        if ch in "，,、：:" and not in_number:
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


def _fit(
    pieces: list[_Piece],
    part: str,
    rule: ChannelRule,
    lang: str,
    record: CopyRecord,
    policy: CompliancePolicy,
    repairs: list[str],
) -> tuple[list[_Piece], str]:
    """Drop sentences (least important, last first), then trailing clauses, until the body fits.

    A title is not cut (half a title reads badly); :func:`compose` replaces a title that
    does not fit by the product's name.
    """

    def render(ps: list[_Piece]) -> str:
        text = _join(ps, lang)
        return _decorate(text, rule, lang, record, policy) if part == "body" else text

    pieces = list(pieces)
    text = render(pieces)
    while part == "body" and pieces and measure(text, rule, lang) > effective_limit(text, rule, part, lang):
        if len(pieces) > 1:
            optional = [i for i, p in enumerate(pieces) if not p.essential]
            drop = optional[-1] if optional else len(pieces) - 1
            repairs.append(f"dropped {part} sentence {_short(pieces[drop].text)!r} to fit the {rule.name} limit")
            del pieces[drop]
        else:
            clauses = _clauses(pieces[0])
            if len(clauses) < 2:
                break
            kept = "".join(clauses[:-1]).rstrip("，,、：: ")
            kept += "。" if lang == "zh" else "."
            repairs.append(f"cut {part} clause {_short(clauses[-1])!r} to fit the {rule.name} limit")
            pieces = [_Piece(kept, pieces[0].slots)]
        text = render(pieces)
    return pieces, text


def compose(
    title: str | None,
    body: str,
    record: CopyRecord,
    rule: ChannelRule,
    lang: str,
    policy: CompliancePolicy,
    *,
    values: dict[str, str],
    grounding: Grounding | None = None,
) -> Composed:
    """Fill, repair and check one variant (see the module docstring)."""
    g = grounding or Grounding.of(record)
    repairs: list[str] = []
    body_pieces = _clean(body or "", "body", record, values, g, policy, repairs)
    title_pieces: list[_Piece] = []
    if rule.has_title:
        title_pieces = _clean(title or "", "title", record, values, g, policy, repairs)
        if not title_pieces:
            repairs.append("title replaced by the product name")
            title_pieces = [_Piece(values["product"], ("product",))]
    reasons: list[str] = []
    if not body_pieces:
        reasons.append("nothing is left of the body after removing what the record does not support")
    body_pieces, final_body = _fit(body_pieces, "body", rule, lang, record, policy, repairs)
    if not body_pieces:
        final_body = ""
    final_title: str | None = None
    if rule.has_title:
        title_pieces, final_title = _fit(title_pieces, "title", rule, lang, record, policy, repairs)
        if measure(final_title, rule, lang) > rule.limit("title", lang):
            repairs.append("title replaced by the product name (too long)")
            title_pieces = [_Piece(values["product"], ("product",))]
            final_title = values["product"]
    report = check_text(final_body, record, title=final_title, channel=rule, lang=lang, policy=policy, grounding=g)
    reasons += [f"{i.rule}: {i.message}" for i in report.issues]
    if reasons:
        reasons += [r for r in repairs if r.startswith("dropped") and "limit" not in r]
    status: Status = "rejected" if reasons else ("repaired" if repairs else "ok")
    slots = tuple(dict.fromkeys(s for p in title_pieces + body_pieces for s in p.slots))
    return Composed(final_title, final_body, status, tuple(repairs), slots, report, tuple(reasons))
