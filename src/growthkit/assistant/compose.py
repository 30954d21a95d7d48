"""Grounded answers about products and policies, composed from the retrieved records.

Extractive and deterministic: every fact in the text is a field of a record (a price, a
brand, a rating) or a sentence of a policy section, written into a fixed sentence of
:mod:`~growthkit.assistant.messages`. A :class:`Draft` carries the text and the
:class:`~growthkit.assistant.evidence.Evidence` it was built from; the assistant checks
one against the other before answering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from growthkit.assistant.answer import Citation
from growthkit.assistant.corpus import ProductRecord
from growthkit.assistant.documents import Section
from growthkit.assistant.evidence import Evidence
from growthkit.assistant.messages import SEPARATOR, msg
from growthkit.assistant.retrieve import Hit
from growthkit.assistant.tokens import Language
from growthkit.campaigns.copy.slots import money_text

TIES = 3
"""Most products named in one answer when several match the question equally well."""
TIE_SCORE = 0.9
"""A product ties with the best one when it covers as much of the question and scores at least this share of it."""
PRODUCT_ASPECTS: tuple[str, ...] = ("price", "brand", "category", "rating", "description", "general", "find")
"""Product aspects with an answer (``unsupported`` asks for something the catalog does not hold)."""


@dataclass(frozen=True)
class Draft:
    """A composed answer and the evidence it was composed from."""

    text: str
    evidence: tuple[Evidence, ...] = ()
    unknown: bool = False
    refusal: str | None = None
    strength: float | None = None
    aspect: str | None = None

    @property
    def citations(self) -> tuple[Citation, ...]:
        """The evidence's citations, each once, in order."""
        return tuple(dict.fromkeys(c for ev in self.evidence for c in ev.citations))


def unknown_draft(key: str, lang: Language, strength: float | None = None) -> Draft:
    return Draft(msg(key, lang), unknown=True, strength=strength)


def refusal_draft(reason: str, lang: Language) -> Draft:
    return Draft(msg(f"refuse_{reason}", lang), refusal=reason)


def _end(text: str, lang: Language) -> str:
    text = text.strip()
    if text and text[-1] not in ".!?。！？":
        text += "。" if lang == "zh" else "."
    return text


def _price(p: ProductRecord, lang: Language) -> str:
    return money_text(p.price, p.currency, lang) if p.price is not None else ""


def _category(p: ProductRecord, lang: Language) -> str:
    if lang == "zh" and p.category_zh and p.category:
        return f"{p.category_zh}（{p.category}）"
    return p.category or p.category_zh or ""


def _mean(p: ProductRecord) -> float | None:
    return None if p.mean_rating is None else round(p.mean_rating, 1)


def product_evidence(p: ProductRecord, lang: Language, *, reviews: bool = False) -> Evidence:
    """What a product supports: its price, review count and mean rating (and 5, the top of the scale), its
    description (and its quoted reviews when ``reviews``); titles, brand and category are names."""
    quoted = [r for r in p.reviews if r.text] if reviews else []
    cites = (
        Citation("product", p.item_id, p.title_in(lang)),
        *(Citation("review", r.review_id, f"{p.title_in(lang)} · {r.review_id}") for r in quoted[:2]),
    )
    mean = _mean(p)
    text = " ".join([p.description, *(r.text for r in quoted[:2])])
    return Evidence(
        citations=cites,
        text=text,
        money=(p.price,) if p.price is not None else (),
        numbers=tuple(x for x in (float(p.n_reviews), mean, 5.0) if x is not None),
        literals=p.literals,
        record={
            "item_id": p.item_id,
            "title": p.title,
            "brand": p.brand,
            "category": p.category,
            "price": p.price,
            "currency": p.currency,
            "description": p.description,
            "reviews": p.n_reviews,
            "mean_rating": mean,
            "review_texts": [r.text for r in quoted[:2]],
        },
    )


def policy_evidence(section: Section) -> Evidence:
    """A policy section supports every claim in its text."""
    return Evidence(
        citations=(Citation("policy", section.ref, section.label),),
        text=section.text,
        literals=(section.doc_title, section.heading),
        record={"document": section.doc_title, "section": section.heading, "text": section.text},
    )


def _aspect_sentence(p: ProductRecord, aspect: str, lang: Language) -> str:
    f = {"title": p.title_in(lang), "item_id": p.item_id}
    if aspect == "price":
        return msg("price", lang, price=_price(p, lang), **f) if p.price is not None else msg("no_price", lang, **f)
    if aspect == "brand":
        return msg("brand", lang, brand=p.brand, **f) if p.brand else msg("no_brand", lang, **f)
    if aspect == "category" and (p.category or p.category_zh):
        return msg("category", lang, category=_category(p, lang), **f)
    if aspect == "rating":
        if not p.n_reviews or p.mean_rating is None:
            return msg("no_reviews", lang, **f)
        out = msg("rating", lang, n=p.n_reviews, mean=f"{_mean(p):.1f}", **f)
        quotes = [f"“{r.text}”" for r in p.reviews[:2] if r.text]
        if quotes:
            out += msg("recent_reviews", lang, quotes=SEPARATOR[lang].join(quotes))
        return out
    return _summary(p, lang)


def _summary(p: ProductRecord, lang: Language) -> str:
    zh = lang == "zh"
    head = f"{p.title_in(lang)}（{p.item_id}）：" if zh else f"{p.title_in(lang)} ({p.item_id}): "
    parts = [_end(p.description_in(lang), lang)] if p.description else []
    for label_en, label_zh, value in (
        ("Brand", "品牌", p.brand or ""),
        ("Category", "类目", _category(p, lang)),
        ("Price", "价格", _price(p, lang)),
    ):
        if value:
            parts.append(f"{label_zh}：{value}。" if zh else f"{label_en}: {value}.")
    return head + ("" if zh else " ").join(parts)


def product_draft(hits: Sequence[Hit], aspect: str, lang: Language, *, min_strength: float) -> Draft:
    """The answer about the best-matching product (every product of the same name when several share it)."""
    good = [h for h in hits if h.passage.product is not None and h.strength >= min_strength]
    good.sort(key=lambda h: -h.strength)  # stable: fused order among equally strong matches
    strength = good[0].strength if good else (hits[0].strength if hits else 0.0)
    if not good:
        return unknown_draft("unknown_product", lang, strength)
    top = good[0].passage.product
    assert top is not None
    if aspect == "unsupported":
        ev = product_evidence(top, lang)
        text = msg("unknown_aspect", lang, title=top.title_in(lang), item_id=top.item_id)
        return Draft(text, (ev,), unknown=True, strength=strength)
    if aspect == "find":
        items = []
        for h in good[:3]:
            p = h.passage.product
            assert p is not None
            price = f", {_price(p, lang)}" if p.price is not None and lang == "en" else ""
            price = f"，{_price(p, lang)}" if p.price is not None and lang == "zh" else price
            items.append(
                f"{p.title_in(lang)}（{p.item_id}）{price}"
                if lang == "zh"
                else f"{p.title_in(lang)} ({p.item_id}){price}"
            )
        evidence = tuple(product_evidence(h.passage.product, lang) for h in good[:3] if h.passage.product)
        return Draft(msg("matches", lang, items=SEPARATOR[lang].join(items)), evidence, strength=strength)
    best = good[0]
    tied = [
        h.passage.product
        for h in good[:TIES]
        if h.passage.product is not None and h.strength >= best.strength - 1e-9 and h.score >= TIE_SCORE * best.score
    ]
    products = [p for p in tied if p is not None] or [top]
    sentences = [_aspect_sentence(p, aspect, lang) for p in products]
    text = (" " if lang == "en" else "").join(sentences)
    if len(products) > 1:
        same = len({p.title_in(lang).lower() for p in products}) == 1
        key = "several" if same else "several_match"
        text = msg(key, lang, n=len(products), title=top.title_in(lang)) + text
    evidence = tuple(product_evidence(p, lang, reviews=aspect == "rating") for p in products)
    if len(products) > 1:  # the count stated in the text
        evidence += (Evidence((), numbers=(float(len(products)),), record={"matching_products": len(products)}),)
    return Draft(text, evidence, strength=strength)


def policy_draft(hits: Sequence[Hit], lang: Language, *, min_strength: float) -> Draft:
    """The best-matching policy section, quoted whole (sections are short and one topic each)."""
    good = [h for h in hits if h.passage.section is not None]
    strength = good[0].coverage if good else 0.0
    if not good or strength < min_strength:
        return unknown_draft("unknown_policy", lang, strength)
    section = good[0].passage.section
    assert section is not None
    body = " ".join(section.text.split()) if section.lang == "en" else "".join(section.text.split("\n"))
    text = msg("policy", lang, doc=section.doc_title, section=section.heading.rstrip("?？"), text=body)
    return Draft(text, (policy_evidence(section),), strength=strength)
