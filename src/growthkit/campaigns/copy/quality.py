"""Is a final text copy at all? The language it is written in, and whether it is about the product.

The claim rules say a text states nothing false; these two say it is usable. A small local
model can answer a Chinese request in English, in another script, or with a sentence about
something else entirely ("Mini-Bread with a cherry compote" for a wool scarf); such a text
states nothing false, so without these rules it would pass.

``language``
    Judged on the text with the record's own values taken out (product name, brand, shop,
    category, specs, prices, coupon code: a Chinese product keeps its Chinese name in English
    copy). Chinese copy may not have more Latin words than Chinese characters; English copy may
    not contain Chinese characters. Kana and Hangul are foreign to both.
``wording``
    The body says something besides the record's values (a Chinese character, or an English
    word, once the product name, prices and the like are taken out), and a title does not
    merely repeat the body.
``on_topic``
    The body names the product (a word of its name, brand or category) or states the offer (a
    price, discount, coupon or code of the record) or names the shop, as every template does. A
    title alone naming the product is not enough: the title is replaced by the product's name
    whenever it does not fit, so it would vouch for any body.
"""

from __future__ import annotations

import re

from growthkit.campaigns.copy.record import CopyRecord
from growthkit.campaigns.copy.slots import slot_values

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(_CJK.pattern + "+")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af\u1100-\u11ff]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")
_TOPIC_SLOTS = (
    "product", "brand", "category", "price", "sale_price", "saving", "discount", "discount_pct", "coupon",
    "coupon_rule", "code",
)  # fmt: skip
_LANGUAGE = {"zh": "Chinese", "en": "English"}


def _record_strings(record: CopyRecord, lang: str) -> list[str]:
    """Every literal the record puts into a text (longest first, so a name is removed whole)."""
    values = set(slot_values(record, lang).values())
    p = record.product
    values |= {s for s in (p.title, p.brand, record.shop, p.category) if s}
    values |= {part.strip() for part in (p.category or "").split(">") if part.strip()}
    return sorted((v for v in values if v), key=len, reverse=True)


def _without(text: str, literals: list[str]) -> str:
    for lit in literals:
        text = text.replace(lit, " ")
    return text


Found = tuple[str, str]
"""``(part, message)`` of one issue; the checker makes it an ``Issue`` of its rule."""


def language_issues(title: str | None, body: str, record: CopyRecord, lang: str) -> list[Found]:
    """``(part, message)`` for each part not written in ``lang`` (``zh`` or ``en``).

    Examples
    --------
    >>> from growthkit.campaigns.copy.record import CopyRecord, Product
    >>> rec = CopyRecord(Product("i1", "铁观音", price=199.0, currency="CNY"))
    >>> language_issues(None, "Fresh 铁观音 tea for you.", rec, "en")
    []
    >>> language_issues(None, "Fresh tea for you.", rec, "zh")
    [('body', 'body is not written in Chinese: write the copy in the requested language')]
    """
    if lang not in _LANGUAGE:
        return []
    literals = _record_strings(record, lang)
    issues: list[Found] = []
    for part, text in (("title", title), ("body", body)):
        if not text or not text.strip():
            continue  # an empty part is the length rule's issue
        rest = _without(text, literals)
        cjk = len(_CJK.findall(rest))
        words = len(_LATIN_WORD.findall(rest))
        foreign = bool(_KANA_HANGUL.search(rest))
        wrong = foreign or (words > cjk if lang == "zh" else cjk > 0)
        if wrong:
            issues.append(
                (part, f"{part} is not written in {_LANGUAGE[lang]}: write the copy in the requested language")
            )
    return issues


def _topic_terms(record: CopyRecord) -> tuple[set[str], set[str]]:
    """Latin words (lower case, a final ``s`` dropped) and Chinese bigrams of the product's names."""
    p = record.product
    texts = [t for t in (p.title, p.brand, p.category_leaf, *(s for _, s in p.short_titles)) if t]
    words: set[str] = set()
    bigrams: set[str] = set()
    for t in texts:
        words |= {_stem(w) for w in _LATIN_WORD.findall(t) if len(w) >= 3}
        for run in _CJK_RUN.findall(t):
            bigrams |= {run} if len(run) < 2 else {run[i : i + 2] for i in range(len(run) - 1)}
    return words, bigrams


def _stem(word: str) -> str:
    w = word.lower()
    return w[:-1] if len(w) > 3 and w.endswith("s") else w


def topic_issues(body: str, record: CopyRecord, lang: str) -> list[Found]:
    """``("body", message)`` when ``body`` names neither the product nor the offer.

    The product counts as named by any word (three letters or more) or any two consecutive
    Chinese characters of its title, short titles, brand or category; the offer by any of the
    record's prices, discounts, coupon or code as the slots write them; the sender by the shop's
    name (a teaser such as "Shop: something for you" is the shop's own message).

    Examples
    --------
    >>> from growthkit.campaigns.copy.record import CopyRecord, Offer, Product
    >>> rec = CopyRecord(Product("i1", "Merino wool scarf", brand="Nord", price=40.0, currency="USD"),
    ...                  Offer(discount_percent=25))
    >>> topic_issues("Wool that keeps you warm.", rec, "en"), topic_issues("Just $30 this week.", rec, "en")
    ([], [])
    >>> topic_issues("Bread with cherry compote.", rec, "en")[0][0]
    'body'
    """
    if not body.strip():
        return []
    values = slot_values(record, lang)
    literals = [values[s] for s in _TOPIC_SLOTS if values.get(s)] + [record.shop or ""]
    low = body.lower()
    if any(v and v.lower() in low for v in literals):
        return []
    words, bigrams = _topic_terms(record)
    if words & {_stem(w) for w in _LATIN_WORD.findall(body)} or any(b in body for b in bigrams):
        return []
    return [("body", "body names neither the product nor the offer: mention {product} or an offer slot")]


def _bare(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text).lower()


def wording_issues(title: str | None, body: str, record: CopyRecord, lang: str) -> list[Found]:
    """``(part, message)`` when the body is only the record's values, or title and body are the same.

    Examples
    --------
    >>> from growthkit.campaigns.copy.record import CopyRecord, Product
    >>> rec = CopyRecord(Product("i1", "真丝围巾", price=329.0, currency="CNY"))
    >>> [part for part, _ in wording_issues("真丝围巾", "真丝围巾", rec, "zh")]
    ['body', 'title']
    >>> wording_issues("秋冬必备", "真丝围巾，柔软亲肤。", rec, "zh")
    []
    """
    if not body.strip():
        return []
    issues: list[Found] = []
    rest = _without(body, _record_strings(record, lang))
    enough = bool(_CJK.search(rest)) if lang == "zh" else bool(re.search(r"[A-Za-z]{2}", rest))
    if not enough:
        issues.append(("body", "body says nothing but the record's values: write a sentence around them"))
    if title and _bare(title) and _bare(title) == _bare(body):
        issues.append(("title", "title and body are the same text: the title should add to the body"))
    return issues
