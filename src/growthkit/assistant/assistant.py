"""The customer-service assistant: route, retrieve, compose, check, (reword, check again), answer.

:class:`Assistant` answers one customer's question at a time with :meth:`Assistant.ask`.
Security is structural: the customer's orders are read by
:meth:`~growthkit.assistant.customer.CustomerContext.load` with the authenticated user id
bound in the SQL, and only for own-order questions; questions about anyone else or with
instruction-like text are refused before anything is read or generated; retrieved text is
neutralised and passed to a model only as quoted data; every final text passes the
grounding checker against the records it cites.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from growthkit.assistant.answer import Answer, Intent
from growthkit.assistant.compose import Draft, policy_draft, product_draft, refusal_draft, unknown_draft
from growthkit.assistant.corpus import load_products, policy_passages, product_passages
from growthkit.assistant.customer import CustomerContext
from growthkit.assistant.documents import PolicyDoc, load_policy_docs
from growthkit.assistant.evidence import EvidenceGrounding, check_answer
from growthkit.assistant.intent import route
from growthkit.assistant.messages import msg
from growthkit.assistant.orders import order_draft
from growthkit.assistant.rephrase import rewrite
from growthkit.assistant.retrieve import Fusion, KnowledgeBase
from growthkit.assistant.tokens import Language, detect_language
from growthkit.errors import ConfigError
from growthkit.store import Store
from growthkit.text.embed import Embedder
from growthkit.text.llm import TextGenerator

log = logging.getLogger(__name__)

MIN_STRENGTH = 0.5
"""Default evidence strength (keyword coverage of the best passage) below which the assistant says it doesn't know."""
MIN_PRODUCT_STRENGTH = 0.75
"""The same for a question about one product: a partial match of its name is another product."""
MIN_POLICY_STRENGTH = 0.3
"""The same for a question the router sent to the policies (it names a policy topic, so the bar is lower)."""
_GREETING = re.compile(r"^\s*(?:hi|hello|hey|good\s+(?:morning|afternoon|evening)|你好|您好|在吗|哈喽)\W*$", re.I)


class Assistant:
    """Answers customers' questions about products, shop policies and their own orders.

    Parameters
    ----------
    store : Store
        The shop's store (read: ``items``, ``reviews``; ``events`` only through
        :class:`~growthkit.assistant.customer.CustomerContext`).
    knowledge : KnowledgeBase
        The indexed catalog and policy sections (see :meth:`from_store`).
    generator : TextGenerator, optional
        A model that may reword the grounded answers; None or the template backend keeps them.
    currency : str, optional
        The shop's currency (default: the catalog's most common one).
    min_strength : float
        Evidence strength below which the answer is "I don't know".
    shop : str, optional
        The shop's name, for the model's instructions.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> st = open_store(Settings(db=":memory:"))
    >>> st.execute("INSERT INTO items (item_id, title, brand, price, currency) VALUES "
    ...            "('i1', '绿茶 Green Tea', '茶语 TeaTalk', 59.9, 'CNY')")
    >>> bot = Assistant.from_store(st)
    >>> bot.ask("How much is the Green Tea?", user_id="u1").text
    'Green Tea (i1) costs ¥59.90.'
    >>> bot.ask("退货要几天？", user_id="u1").citations[0].ref
    'returns.zh.md#收到商品后几天内可以退货'
    >>> bot.ask("Show me the orders of user u2", user_id="u1").refused
    True
    """

    def __init__(
        self,
        store: Store,
        knowledge: KnowledgeBase,
        *,
        generator: TextGenerator | None = None,
        currency: str | None = None,
        min_strength: float = MIN_STRENGTH,
        min_product_strength: float = MIN_PRODUCT_STRENGTH,
        min_policy_strength: float = MIN_POLICY_STRENGTH,
        shop: str | None = None,
    ) -> None:
        for name, v in (
            ("min_strength", min_strength),
            ("min_product_strength", min_product_strength),
            ("min_policy_strength", min_policy_strength),
        ):
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"{name} must lie in [0, 1], got {v}")
        self.min_product_strength = min_product_strength
        self.min_policy_strength = min_policy_strength
        self.store = store
        self.knowledge = knowledge
        self.generator = generator
        self.min_strength = min_strength
        self.shop = shop
        if currency is None:
            found = [p.currency for p in knowledge.products.values() if p.currency]
            currency = max(set(found), key=found.count) if found else None
        self.currency = currency

    @classmethod
    def from_store(
        cls,
        store: Store,
        *,
        docs: Sequence[PolicyDoc] | Path | str | None = None,
        embedder: Embedder | None = None,
        query_embedder: Embedder | None = None,
        generator: TextGenerator | None = None,
        alpha: float = 0.6,
        fusion: Fusion = "mix",
        min_strength: float = MIN_STRENGTH,
        min_product_strength: float = MIN_PRODUCT_STRENGTH,
        min_policy_strength: float = MIN_POLICY_STRENGTH,
        shop: str | None = None,
    ) -> Assistant:
        """Index the store's catalog and the policy documents (a folder, parsed documents, or the packaged
        defaults when None) and build the assistant."""
        if docs is None or isinstance(docs, Path | str):
            docs = load_policy_docs(docs)
        passages = product_passages(load_products(store)) + policy_passages(docs)
        kb = KnowledgeBase(passages, embedder=embedder, query_embedder=query_embedder, alpha=alpha, fusion=fusion)
        return cls(
            store, kb, generator=generator, min_strength=min_strength, min_product_strength=min_product_strength,
            min_policy_strength=min_policy_strength, shop=shop,
        )  # fmt: skip

    @property
    def backend(self) -> str:
        return "template" if self.generator is None else str(self.generator.backend)

    def ask(self, question: str, *, user_id: str | None) -> Answer:
        """Answer ``question`` for the authenticated customer ``user_id`` (None: nobody is signed in).

        Never raises for a question: a backend failure falls back to the grounded answer.
        """
        t0 = time.perf_counter()
        q = " ".join(str(question).split())
        lang: Language = detect_language(q)
        if not q or _GREETING.match(q):
            text = msg("greeting" if q else "unknown", lang)
            return Answer(q, text, lang, "other", "greeting", unknown=not q, seconds=time.perf_counter() - t0)
        r = route(q, user_id=user_id, is_item=self.knowledge.is_item)
        intent: Intent = r.intent
        if r.refusal is not None:
            draft = refusal_draft(r.refusal, lang)
        elif r.intent == "orders":
            assert user_id is not None  # route() refuses own-order questions without a user
            ctx = CustomerContext.load(self.store, user_id)
            if ctx.currency is None:  # events without a currency are in the shop's
                ctx = replace(ctx, currency=self.currency)
            hits = self.knowledge.search(r.query, kinds=("product",), k=5) if r.aspect == "bought_item" else []
            draft = order_draft(
                ctx, r.aspect, lang, order_ref=r.order_ref, product_hits=hits, min_strength=self.min_product_strength
            )
        elif r.intent == "policy":
            hits = self.knowledge.search(r.query or q, kinds=("policy",), lang=lang, k=3)
            draft = policy_draft(hits, lang, min_strength=self.min_policy_strength)
        elif r.intent == "product":
            hits = self.knowledge.search(r.query or q, kinds=("product",), k=5)
            bar = self.min_strength if r.aspect == "find" else self.min_product_strength
            draft = product_draft(hits, r.aspect, lang, min_strength=bar)
        else:
            draft, intent = self._other(r.query or q, lang)
        return self._finish(q, lang, intent, draft.aspect or r.aspect, draft, t0)

    def _other(self, query: str, lang: Language) -> tuple[Draft, Intent]:
        hits = self.knowledge.search(query, kinds=("product", "policy"), lang=lang, k=5)
        best = max(hits, key=lambda h: h.strength) if hits else None
        if best is None or best.strength < self.min_strength:
            return unknown_draft("unknown", lang, best.strength if best else 0.0), "other"
        if best.passage.kind == "policy":
            return policy_draft(hits, lang, min_strength=self.min_strength), "policy"
        draft = product_draft(hits, "general", lang, min_strength=self.min_product_strength)
        return replace(draft, aspect="general"), "product"

    def _finish(self, q: str, lang: Language, intent: Intent, aspect: str, draft: Draft, t0: float) -> Answer:
        base = Answer(
            question=q,
            text=draft.text,
            language=lang,
            intent=intent,
            aspect=aspect,
            citations=draft.citations,
            refused=draft.refusal is not None,
            unknown=draft.unknown,
            refusal_reason=draft.refusal,
            strength=draft.strength,
        )
        if draft.refusal is not None or not draft.evidence:
            return replace(base, seconds=time.perf_counter() - t0)
        grounding = EvidenceGrounding.of(draft.evidence, self.currency)
        claims = check_answer(draft.text, grounding)
        if not all(c.supported for c in claims):  # a bug in a template, never the customer's fault: say so loudly
            log.warning("grounded draft failed its own check: %s", [c for c in claims if not c.supported])
        answer = replace(base, claims=claims)
        gen = self.generator
        if gen is not None and gen.backend != "template" and not draft.unknown:
            rw = rewrite(gen, q, draft.text, draft.evidence, grounding, lang, self.shop, claims)
            if rw.accepted:
                answer = replace(answer, text=rw.text, claims=rw.claims, backend=rw.backend, model=rw.model)
            else:
                log.info("kept the grounded answer: %s", rw.reason)
                answer = replace(answer, fallback_reason=rw.reason)
        return replace(answer, seconds=time.perf_counter() - t0)
