"""Use cases for grounded marketing copy: read the item and the segment from the store, generate, cache.

The copy engine itself (:mod:`growthkit.campaigns.copy`) needs no store; this module
reads the product from ``items``, the persona from ``segments`` (when the store has
that table) and keeps generated variants in the store table ``copy_cache``.

The cache lives in the store, not on disk under ``settings.cache_dir``: copy is
shop data (it names the shop's products and offers), so it travels, is backed up and is
deleted with the store it belongs to, and one store file never serves another shop's
copy. The table is created on first use (``CREATE TABLE IF NOT EXISTS``); it is
derived data and needs no migration. A read-only store is read from but not written to.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from growthkit.campaigns.copy import (
    TASK,
    CheckReport,
    CompliancePolicy,
    CopyBatch,
    CopyRecord,
    Offer,
    Product,
    check_text,
    generate_copy,
    get_channel,
    render_marketing_copy,
)
from growthkit.campaigns.copy.policy import DEFAULT_POLICY
from growthkit.config import Settings
from growthkit.errors import ConfigError, GrowthkitError
from growthkit.store import Store, open_store
from growthkit.text.llm import TextGenerator
from growthkit.workflows.llm import generator_from_settings

log = logging.getLogger(__name__)

CACHE_TABLE = "copy_cache"
SEGMENTS_TABLE = "segments"
Progress = Callable[[str, float], None]

_CACHE_DDL = f"""CREATE TABLE IF NOT EXISTS {CACHE_TABLE} (
  cache_key VARCHAR PRIMARY KEY,
  item_id VARCHAR,
  channel VARCHAR,
  lang VARCHAR,
  variant_id VARCHAR,
  status VARCHAR,
  variant JSON,
  created_at TIMESTAMP
)"""


class StoreCopyCache:
    """The copy cache in the store table ``copy_cache`` (one row per variant)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ready = CACHE_TABLE in store.tables()
        if not self._ready and not store.read_only:
            store.execute(_CACHE_DDL)
            self._ready = True

    def get(self, key: str) -> Mapping[str, Any] | None:
        if not self._ready:
            return None
        raw = self.store.scalar(f"SELECT CAST(variant AS VARCHAR) FROM {CACHE_TABLE} WHERE cache_key = ?", [key])
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        if self.store.read_only or not self._ready:
            return
        prov = value.get("provenance", {})
        self.store.execute(
            f"INSERT OR REPLACE INTO {CACHE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                key,
                prov.get("item_id"),
                prov.get("channel"),
                prov.get("lang"),
                value.get("variant_id"),
                value.get("status"),
                json.dumps(value, ensure_ascii=False),
                datetime.now(UTC).replace(tzinfo=None),
            ],
        )


@dataclass(frozen=True)
class Persona:
    """Who the copy is for: a saved segment of the store, or a description given as text."""

    name: str
    description: str = ""
    segment_id: str | None = None
    users: int | None = None
    source: str = "text"

    @property
    def text(self) -> str:
        """What the generator is told about the audience."""
        return f"{self.name}: {self.description}" if self.description else self.name


def load_product(store: Store, item_id: str) -> Product:
    """The product ``item_id`` from the store's ``items`` table."""
    if "items" not in store.tables():
        raise ConfigError(f"the store {store.location} has no items table; ingest the catalog first")
    rows = store.query("SELECT * FROM items WHERE item_id = ?", [item_id]).to_pylist()
    if not rows:
        raise ConfigError(f"no item {item_id!r} in the items table of {store.location}; check the item id")
    return Product.from_row(rows[0])


def _first(row: Mapping[str, Any], *names: str) -> Any:
    return next((row[n] for n in names if row.get(n) not in (None, "")), None)


def resolve_persona(store: Store, segment: str | None) -> Persona:
    """The persona of ``segment``: a segment id or name in the ``segments`` table, else the text itself.

    Both layouts of ``segments`` are read: ``(user_id, segment_id, segment_name, ...)`` and
    the saved segments of :mod:`growthkit.analytics.segments` ``(name, user_id, created_at)``;
    an optional ``description`` column is used when present.
    """
    if not segment or not segment.strip():
        return Persona("all customers", source="none")
    seg = segment.strip()
    if SEGMENTS_TABLE not in store.tables():
        return Persona(seg)
    cols = set(store.query(f"SELECT * FROM {SEGMENTS_TABLE} LIMIT 0").column_names)
    keys = [c for c in ("segment_id", "segment_name", "name") if c in cols]
    if not keys:
        return Persona(seg)
    where = " OR ".join(f"CAST({c} AS VARCHAR) = ?" for c in keys)
    extra = [c for c in ("segment_id", "segment_name", "name", "description", "segment_description") if c in cols]
    users = "count(DISTINCT user_id)" if "user_id" in cols else "count(*)"
    sql = f"SELECT {', '.join(extra)}, {users} AS users FROM {SEGMENTS_TABLE} WHERE {where} GROUP BY ALL LIMIT 1"
    rows = store.query(sql, [seg] * len(keys)).to_pylist()
    if not rows:
        return Persona(seg)
    row = rows[0]
    name = str(_first(row, "segment_name", "name", "segment_id"))
    seg_id = _first(row, "segment_id", "name")
    desc = _first(row, "description", "segment_description")
    return Persona(name, str(desc or ""), str(seg_id) if seg_id is not None else None, int(row["users"]), "table")


def list_segments(store: Store) -> list[str]:
    """Ids (or names) of the segments in the store, sorted; empty without a ``segments`` table."""
    if SEGMENTS_TABLE not in store.tables():
        return []
    cols = set(store.query(f"SELECT * FROM {SEGMENTS_TABLE} LIMIT 0").column_names)
    key = next((c for c in ("segment_id", "name", "segment_name") if c in cols), None)
    if key is None:
        return []
    rows = store.query(f"SELECT DISTINCT CAST({key} AS VARCHAR) AS k FROM {SEGMENTS_TABLE} ORDER BY 1").to_pylist()
    return [str(r["k"]) for r in rows if r["k"] is not None]


def copy_generator(settings: Settings) -> TextGenerator:
    """The generator the settings ask for, with the copy template registered for the template backend."""
    return generator_from_settings(settings, renderers={TASK: render_marketing_copy})


def _open(settings: Settings, use_cache: bool) -> Store:
    if not settings.is_memory and not Path(settings.db).exists():
        raise ConfigError(f"no store at {settings.db}: create one with 'growthkit demo' or 'growthkit ingest'")
    return open_store(settings, read_only=not use_cache and not settings.is_memory)


def generate_item_copy(
    settings: Settings,
    item_id: str,
    *,
    channel: str,
    lang: str = "zh",
    segment: str | None = None,
    tone: str = "friendly",
    n: int = 3,
    offer: Offer | None = None,
    shop: str | None = None,
    policy: CompliancePolicy = DEFAULT_POLICY,
    use_cache: bool = True,
    generator: TextGenerator | None = None,
) -> CopyBatch:
    """Copy variants for one item of the store and one segment (id, name or a description).

    Examples
    --------
    >>> s = Settings(db=":memory:")
    >>> with open_store(s) as st:  # doctest: +SKIP
    ...     st.execute("INSERT INTO items (item_id, title, price, currency) VALUES ('i1', '铁观音', 199, 'CNY')")
    >>> batch = generate_item_copy(s, "i1", channel="push", lang="zh", shop="小满茶铺")  # doctest: +SKIP
    """
    get_channel(channel)
    gen = generator or copy_generator(settings)
    with _open(settings, use_cache) as store:
        product = load_product(store, item_id)
        persona = resolve_persona(store, segment)
        record = CopyRecord(product, offer or Offer(), shop)
        return generate_copy(
            record,
            channel=channel,
            lang=lang,
            tone=tone,
            persona=persona.text,
            n=n,
            generator=gen,
            policy=policy,
            cache=StoreCopyCache(store) if use_cache else None,
        )


@dataclass(frozen=True)
class AudienceFailure:
    """One item x segment pair that could not be written, and why."""

    item_id: str
    segment: str | None
    reason: str


@dataclass(frozen=True)
class AudienceCopy:
    """Copy for every item x segment pair of an audience, and the pairs that failed."""

    batches: tuple[CopyBatch, ...]
    failures: tuple[AudienceFailure, ...]

    @property
    def generator_calls(self) -> int:
        return sum(b.generator_calls for b in self.batches)

    @property
    def cache_hits(self) -> int:
        return sum(b.cache_hits for b in self.batches)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batches": [b.to_dict() for b in self.batches],
            "failures": [f.__dict__ for f in self.failures],
            "generator_calls": self.generator_calls,
            "cache_hits": self.cache_hits,
        }


def generate_for_audience(
    settings: Settings,
    *,
    channel: str,
    items: Sequence[str] | None = None,
    segments: Sequence[str] | None = None,
    lang: str = "zh",
    tone: str = "friendly",
    n: int = 3,
    offer: Offer | None = None,
    shop: str | None = None,
    policy: CompliancePolicy = DEFAULT_POLICY,
    use_cache: bool = True,
    max_items: int = 100,
    generator: TextGenerator | None = None,
    progress: Progress | None = None,
) -> AudienceCopy:
    """Copy for every pair of ``items`` x ``segments`` (batch work: a failing pair is recorded, not raised).

    ``items`` default to the first ``max_items`` items of the catalog; ``segments`` to every
    segment in the ``segments`` table, or one audience of all customers without one.
    ``progress(what, fraction)`` is called after each pair.
    """
    get_channel(channel)
    gen = generator or copy_generator(settings)
    with _open(settings, use_cache) as store:
        if items is None:
            if "items" not in store.tables():
                raise ConfigError(f"the store {store.location} has no items table; ingest the catalog first")
            rows = store.query("SELECT item_id FROM items ORDER BY item_id LIMIT ?", [max_items]).to_pylist()
            items = [str(r["item_id"]) for r in rows]
        segs: list[str | None] = list(segments) if segments else list(list_segments(store)) or [None]
        cache = StoreCopyCache(store) if use_cache else None
        pairs = [(i, s) for i in items for s in segs]
        batches: list[CopyBatch] = []
        failures: list[AudienceFailure] = []
        for k, (item_id, seg) in enumerate(pairs, start=1):
            try:
                record = CopyRecord(load_product(store, item_id), offer or Offer(), shop)
                persona = resolve_persona(store, seg)
                batches.append(
                    generate_copy(
                        record,
                        channel=channel,
                        lang=lang,
                        tone=tone,
                        persona=persona.text,
                        n=n,
                        generator=gen,
                        policy=policy,
                        cache=cache,
                    )
                )
            except GrowthkitError as exc:
                log.warning("copy for item %s, segment %s failed: %s", item_id, seg, exc)
                failures.append(AudienceFailure(item_id, seg, str(exc)))
            if progress is not None:
                progress(f"copy {k}/{len(pairs)}", k / len(pairs))
        return AudienceCopy(tuple(batches), tuple(failures))


def check_item_copy(
    settings: Settings,
    item_id: str,
    body: str,
    *,
    title: str | None = None,
    channel: str | None = None,
    lang: str = "zh",
    offer: Offer | None = None,
    shop: str | None = None,
    policy: CompliancePolicy = DEFAULT_POLICY,
) -> CheckReport:
    """Check a copy someone wrote against item ``item_id`` of the store (and ``channel``'s rules)."""
    rule = get_channel(channel) if channel else None
    with _open(settings, use_cache=False) as store:
        record = CopyRecord(load_product(store, item_id), offer or Offer(), shop)
    return check_text(body, record, title=title, channel=rule, lang=lang, policy=policy)
