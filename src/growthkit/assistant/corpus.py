"""What the assistant can retrieve: catalog products (with their reviews) and policy sections.

Everything here is public shop content: the ``items`` table, review texts and ratings
(never who wrote them) and the shop's Markdown documents. Every text is passed through
:func:`~growthkit.assistant.sanitize.neutralize` before it is indexed or quoted, and
phone numbers, e-mail addresses and ID-like numbers are removed from product and review
texts (a review is not the place for anyone's contact data).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from growthkit.assistant.documents import PolicyDoc, Section
from growthkit.assistant.sanitize import neutralize
from growthkit.assistant.tokens import Language, language_part
from growthkit.campaigns.copy.claims import extract_claims, normalize
from growthkit.store import Store

PassageKind = Literal["product", "policy"]
REVIEWS_PER_ITEM = 3
"""Most recent review texts kept per product (quoted in answers about reviews)."""

_PRODUCTS_SQL = (
    "SELECT item_id, title, description, category, brand, price, currency, CAST(attributes AS VARCHAR) AS attributes "
    "FROM items ORDER BY item_id"
)
_RATINGS_SQL = (
    "SELECT item_id, count(rating) AS n, avg(rating) AS mean FROM reviews "
    "WHERE item_id IS NOT NULL AND rating IS NOT NULL GROUP BY item_id"
)
_SNIPPETS_SQL = f"""
SELECT item_id, review_id, rating, text, language FROM (
  SELECT item_id, review_id, rating, trim(text) AS text, language,
         row_number() OVER (PARTITION BY item_id ORDER BY ts DESC NULLS LAST, review_id) AS rn
  FROM reviews WHERE item_id IS NOT NULL AND text IS NOT NULL AND trim(text) <> ''
) WHERE rn <= {REVIEWS_PER_ITEM} ORDER BY item_id, rn
"""


def redact_personal_data(text: str) -> str:
    """``text`` with phone numbers, e-mail addresses and ID-like numbers replaced by ``[…]``.

    Examples
    --------
    >>> redact_personal_data("Call me on 13800138000 or mail a@b.com")
    'Call me on […] or mail […]'
    """
    norm = normalize(text)
    spans = [(c.start, c.end) for c in extract_claims(norm) if c.kind == "pii"]
    for start, end in sorted(spans, reverse=True):
        norm = norm[:start] + "[…]" + norm[end:]
    return norm


def _clean(text: Any, lang: str = "en") -> tuple[str, int]:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return "", 0
    cleaned, removed = neutralize(redact_personal_data(" ".join(str(text).split())), lang)
    return cleaned, removed


@dataclass(frozen=True)
class ReviewSnippet:
    """One review text of a product (the reviewer is not kept)."""

    review_id: str
    rating: float | None
    text: str
    language: str | None


@dataclass(frozen=True)
class ProductRecord:
    """One catalog item as the assistant sees it (texts already neutralised)."""

    item_id: str
    title: str
    description: str
    category: str | None
    category_zh: str | None
    brand: str | None
    price: float | None
    currency: str | None
    n_reviews: int = 0
    mean_rating: float | None = None
    reviews: tuple[ReviewSnippet, ...] = ()
    removed: int = 0
    """How many instruction-like sentences were removed from its texts."""

    def title_in(self, lang: Language) -> str:
        """The title's part in ``lang`` (bilingual titles), else the whole title."""
        return language_part(self.title, lang) or self.item_id

    def description_in(self, lang: Language) -> str:
        return language_part(self.description, lang)

    @property
    def literals(self) -> tuple[str, ...]:
        """Names that are not claims: titles, brand, category, id."""
        parts = (self.title, self.title_in("zh"), self.title_in("en"), self.brand, self.category, self.category_zh)
        return tuple(dict.fromkeys(p for p in (*parts, self.item_id) if p))

    def index_text(self) -> str:
        """What retrieval sees: the title twice (it matters most), brand, category and description."""
        parts = (self.title, self.title, self.brand, self.category, self.category_zh, self.description)
        return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class Passage:
    """One retrievable unit: a product or a policy section."""

    kind: PassageKind
    ref: str
    lang: Language | None
    text: str
    product: ProductRecord | None = None
    section: Section | None = None


def _attrs(raw: Any) -> Mapping[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, Mapping) else {}


def load_products(store: Store) -> list[ProductRecord]:
    """Every item of the catalog with its review count, mean rating and latest review texts."""
    tables = store.tables()
    if "items" not in tables:
        return []
    ratings: dict[str, tuple[int, float | None]] = {}
    snippets: dict[str, list[ReviewSnippet]] = {}
    removed: dict[str, int] = {}
    if "reviews" in tables:
        for r in store.query(_RATINGS_SQL).to_pylist():
            ratings[str(r["item_id"])] = (int(r["n"]), None if r["mean"] is None else float(r["mean"]))
        for r in store.query(_SNIPPETS_SQL).to_pylist():
            text, n_removed = _clean(r["text"], str(r.get("language") or "en"))
            removed[str(r["item_id"])] = removed.get(str(r["item_id"]), 0) + n_removed
            rating = None if r["rating"] is None else float(r["rating"])
            snippets.setdefault(str(r["item_id"]), []).append(
                ReviewSnippet(str(r["review_id"]), rating, text, r.get("language"))
            )
    out: list[ProductRecord] = []
    for row in store.query(_PRODUCTS_SQL).to_pylist():
        item_id = str(row["item_id"])
        title, n1 = _clean(row.get("title"))
        desc, n2 = _clean(row.get("description"))
        attrs = _attrs(row.get("attributes"))
        cat_zh = attrs.get("category_zh")
        n, mean = ratings.get(item_id, (0, None))
        price = row.get("price")
        reviews = tuple(snippets.get(item_id, ()))
        out.append(
            ProductRecord(
                item_id=item_id,
                title=title or item_id,
                description=desc,
                category=row.get("category"),
                category_zh=str(cat_zh) if cat_zh else None,
                brand=row.get("brand"),
                price=None if price is None or math.isnan(float(price)) else float(price),
                currency=str(row["currency"]).upper() if row.get("currency") else None,
                n_reviews=n,
                mean_rating=mean,
                reviews=reviews,
                removed=n1 + n2 + removed.get(item_id, 0),
            )
        )
    return out


def product_passages(products: Sequence[ProductRecord]) -> list[Passage]:
    return [Passage("product", p.item_id, None, p.index_text(), product=p) for p in products]


def policy_passages(docs: Sequence[PolicyDoc]) -> list[Passage]:
    """One passage per section, its text neutralised; the document title and heading are indexed with it."""
    out: list[Passage] = []
    for doc in docs:
        for s in doc.sections:
            body, _ = neutralize(s.text, s.lang)
            heading, _ = neutralize(s.heading, s.lang)
            clean = Section(s.doc, s.doc_title, heading, body, s.lang, s.slug)
            out.append(Passage("policy", s.ref, s.lang, f"{s.doc_title} {heading} {heading} {body}", section=clean))
    return out
