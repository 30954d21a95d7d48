"""Use cases of the customer-service assistant: answer one question, evaluate on a shop.

* :func:`build_assistant` — the assistant of a store with the configured embedder
  (cached in the store's ``embedding_cache`` when it is writable; the TF-IDF baseline
  when ``embed_backend`` resolves to ``tfidf``) and the configured text generator.
* :func:`ask_assistant` — open the store, build the assistant, answer one question for
  one authenticated customer.
* :func:`evaluate_shop_assistant` — build the evaluation set over a simulated shop (or
  the store's own data) and score the assistant on it (``docs/assistant.md``).
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from growthkit.assistant import Answer, Assistant
from growthkit.assistant.evalset import build_eval_set
from growthkit.assistant.evaluate import AssistantEvaluation, evaluate_assistant
from growthkit.assistant.retrieve import query_variant
from growthkit.config import MEMORY_DB, Settings
from growthkit.errors import ConfigError
from growthkit.features.text_cache import CachedEmbedder
from growthkit.schema import TABLES
from growthkit.sim import SimConfig
from growthkit.sim.writer import simulate
from growthkit.store import Store, open_store
from growthkit.text.embed import Embedder, TfidfEmbedder, make_embedder
from growthkit.text.llm import make_generator

log = logging.getLogger(__name__)

EVAL_SHOP = SimConfig(users=500, days=60, seed=7)
"""The simulated shop the evaluation runs on by default (200 bilingual items, 521 orders)."""
SIM_TABLES = ("items", "users", "events", "reviews", "edges")


def assistant_embedders(settings: Settings, store: Store) -> tuple[Embedder | None, Embedder | None]:
    """The passage and query embedders of ``settings`` (None, None for the TF-IDF baseline: the assistant fits its
    own on the catalog); passage vectors are cached in ``store`` when it is writable."""
    emb = make_embedder(settings, kind="passage")
    if isinstance(emb, TfidfEmbedder):
        return None, None
    query = query_variant(emb)
    if not store.read_only:
        emb = CachedEmbedder(emb, store)
    return emb, query


def build_assistant(
    settings: Settings, store: Store, *, docs: Path | str | None = None, shop: str | None = None
) -> Assistant:
    """The assistant of ``store``: its catalog and the policy documents in ``docs`` (default: the packaged ones)."""
    if "items" not in store.tables():
        raise ConfigError(f"the store {store.location} has no items table; load the catalog first (growthkit ingest)")
    passage, query = assistant_embedders(settings, store)
    return Assistant.from_store(
        store, docs=docs, embedder=passage, query_embedder=query, generator=make_generator(settings), shop=shop
    )


def ask_assistant(
    settings: Settings, question: str, *, user_id: str | None, docs: Path | str | None = None, shop: str | None = None
) -> Answer:
    """Answer ``question`` for the authenticated customer ``user_id`` from the store in ``settings``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> s = Settings(db=str(d / "shop.duckdb"), embed_backend="tfidf", llm_backend="template")
    >>> with open_store(s) as st:
    ...     st.execute("INSERT INTO items (item_id, title, price, currency) VALUES ('i1', 'Green Tea', 59, 'CNY')")
    >>> ask_assistant(s, "How much is the Green Tea?", user_id="u1").text
    'Green Tea (i1) costs ¥59.'
    """
    with open_store(settings) as store:
        return build_assistant(settings, store, docs=docs, shop=shop).ask(question, user_id=user_id)


def load_simulated_shop(store: Store, config: SimConfig) -> None:
    """Simulate ``config`` in memory and insert its canonical tables into ``store``."""
    data = simulate(config)
    for name in SIM_TABLES:
        table = getattr(data, name)
        cols = ", ".join(c for c in TABLES[name].column_names if c in table.column_names)
        with store.register("_gk_assistant_sim", table):
            store.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM _gk_assistant_sim")


@dataclass(frozen=True)
class ShopEvaluation:
    """An evaluation run and what it ran on."""

    evaluation: AssistantEvaluation
    shop: str
    items: int
    orders: int
    build_seconds: float
    eval_seconds: float

    def to_dict(self, *, cases: bool = False) -> dict[str, object]:
        return {
            "shop": self.shop,
            "items": self.items,
            "orders": self.orders,
            "build_seconds": round(self.build_seconds, 3),
            "eval_seconds": round(self.eval_seconds, 3),
            **self.evaluation.to_dict(cases=cases),
        }


def evaluate_shop_assistant(
    settings: Settings,
    *,
    sim: SimConfig | None = None,
    use_store: bool = False,
    docs: Path | str | None = None,
    seed: int = 0,
) -> ShopEvaluation:
    """Score the assistant on the evaluation set of a shop.

    Parameters
    ----------
    settings
        Embedder and text generator settings; the store when ``use_store``.
    sim
        The simulated shop to evaluate on (default :data:`EVAL_SHOP`), built in memory.
    use_store
        Evaluate on the store in ``settings`` instead of a simulated shop.
    docs
        The shop's policy folder; the policy questions of the evaluation set hold only for the
        packaged documents, so they are left out when ``docs`` is given.
    seed
        Which items and customers the evaluation set samples.
    """
    with tempfile.TemporaryDirectory(prefix="growthkit-assistant-") as tmp:
        if use_store:
            store = open_store(settings)
            name = store.location
        else:
            config = sim or EVAL_SHOP
            store = open_store(settings.model_copy(update={"db": MEMORY_DB, "workspace": Path(tmp)}))
            load_simulated_shop(store, config)
            name = f"simulated: {config.users} users, {config.days} days, seed {config.seed}"
        with store:
            t0 = time.perf_counter()
            bot = build_assistant(settings, store, docs=docs)
            built = time.perf_counter() - t0
            cases = build_eval_set(store, seed=seed, policy=docs is None)
            t1 = time.perf_counter()
            ev = evaluate_assistant(
                lambda q, u: bot.ask(q, user_id=u),
                cases,
                store=store,
                embedder=bot.knowledge.embedder_name,
                backend=bot.backend,
            )
            spent = time.perf_counter() - t1
            if docs is not None:
                ev = replace(ev, notes=(*ev.notes, "own policy documents: the packaged policy questions were left out"))
            items = int(store.scalar("SELECT count(*) FROM items") or 0)
            orders = int(
                store.scalar(
                    "SELECT count(DISTINCT coalesce(session_id, event_id)) FROM events WHERE event_type = 'purchase'"
                )
                or 0
            )
    return ShopEvaluation(ev, name, items, orders, built, spent)
