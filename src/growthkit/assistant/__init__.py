"""The customer-service assistant (layer 5b): grounded answers about products, policies and a customer's own orders.

:class:`Assistant` answers in Chinese or English, with citations (item ids, policy
``file#section``, order ids), says so when it doesn't know, and refuses questions about
other customers or with instructions to the model. Retrieval is hybrid (BM25 over words
and CJK bigrams, plus embeddings); answers are composed from records and checked by the
grounding checker of :mod:`growthkit.campaigns.copy`. See ``docs/assistant.md``.

Examples
--------
>>> from growthkit.config import Settings
>>> from growthkit.store import open_store
>>> st = open_store(Settings(db=":memory:"))
>>> bot = Assistant.from_store(st)
>>> bot.ask("How much is shipping?", user_id="u1").citations[0].ref
'shipping.en.md#how-much-does-shipping-cost'
"""

from growthkit.assistant.answer import Answer, Citation, ClaimCheck
from growthkit.assistant.assistant import MIN_STRENGTH, Assistant
from growthkit.assistant.customer import CustomerContext, Order, OrderLine, Refund
from growthkit.assistant.documents import PolicyDoc, Section, default_policy_dir, load_policy_docs, parse_markdown
from growthkit.assistant.retrieve import Hit, KnowledgeBase

__all__ = [
    "MIN_STRENGTH",
    "Answer",
    "Assistant",
    "Citation",
    "ClaimCheck",
    "CustomerContext",
    "Hit",
    "KnowledgeBase",
    "Order",
    "OrderLine",
    "PolicyDoc",
    "Refund",
    "Section",
    "default_policy_dir",
    "load_policy_docs",
    "parse_markdown",
]
