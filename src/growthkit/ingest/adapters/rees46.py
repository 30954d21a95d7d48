"""REES46 "eCommerce behavior data from multi category store" (Kaggle, monthly CSV files).

Columns: ``event_time`` (``2019-10-01 00:00:00 UTC``), ``event_type`` (view,
cart, remove_from_cart, purchase), ``product_id``, ``category_id``,
``category_code`` (``electronics.smartphone``), ``brand``, ``price``,
``user_id``, ``user_session``.

Mapping
-------
* events: one per row. ``remove_from_cart`` is kept as its own type. For
  purchases ``amount`` is the price and ``currency`` USD; cart, removal and
  purchase carry ``quantity`` 1 (the data has one row per unit).
  ``session_id`` is ``user_session``; ``category_id`` (and the price of
  non-purchase events) go to ``properties``.
* items: the distinct ``product_id`` of each file, with the latest non-empty
  ``category_code`` (dots become `` > ``), ``brand`` and ``price`` and
  ``category_id`` in ``attributes``. Each is derived from several rows, so
  its raw row in quarantine is a JSON summary, its line the latest event.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from growthkit.errors import SchemaError
from growthkit.ingest.adapters._common import col, header_columns, json_object_sql, require, select_sql, stage
from growthkit.ingest.mapping import MappedTable
from growthkit.schema import EVENTS, ITEMS

if TYPE_CHECKING:
    from growthkit.ingest.api import AdapterContext

COLUMNS = (
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
)


def _ts(expr: str) -> str:
    """``2019-10-01 00:00:00 UTC`` -> ``2019-10-01 00:00:00+00`` (other text passes through to validation)."""
    return f"regexp_replace({expr}, '\\s*UTC$', '+00')"


class Rees46Adapter:
    """Adapter for the REES46 multi-category store event files (one or more months)."""

    name: str = "rees46"
    title: str = "REES46 eCommerce behavior data (multi category store)"
    tables: tuple[str, ...] = ("events", "items")

    def map(self, ctx: AdapterContext, paths: Sequence[Path]) -> list[MappedTable]:
        """Stage each monthly file; map it to events and to the items it mentions.

        Raises
        ------
        SchemaError
            A file lacks the REES46 columns.
        """
        out: list[MappedTable] = []
        for p in paths:
            if "event_type" not in header_columns(p) or "user_session" not in header_columns(p):
                raise SchemaError(f"{p}: not a REES46 events file; expected the header {','.join(COLUMNS)}")
            s = stage(ctx, p)
            require(s, COLUMNS, "a REES46 events file")
            out.append(MappedTable(EVENTS, self._events_sql(s.table), s, count_rejects=True))
            out.append(MappedTable(ITEMS, self._items_sql(s.table), s, count_rejects=False))
        return out

    @staticmethod
    def _events_sql(table: str) -> str:
        etype = f"lower({col('event_type')})"
        is_purchase = f"{etype} = 'purchase'"
        exprs = {
            "user_id": col("user_id"),
            "ts": _ts(col("event_time")),
            "event_type": etype,
            "item_id": col("product_id"),
            "session_id": col("user_session"),
            "quantity": f"CASE WHEN {etype} IN ('purchase', 'cart', 'remove_from_cart') THEN '1' END",
            "amount": f"CASE WHEN {is_purchase} THEN {col('price')} END",
            "currency": f"CASE WHEN {is_purchase} AND {col('price')} IS NOT NULL THEN 'USD' END",
            "properties": json_object_sql(
                {
                    "category_id": col("category_id"),
                    "price": f"CASE WHEN NOT coalesce({is_purchase}, false) THEN {col('price')} END",
                }
            ),
        }
        return select_sql(EVENTS, exprs, table)

    @staticmethod
    def _items_sql(table: str) -> str:
        order = f"(try_cast(regexp_replace({col('event_time')}, '\\s*UTC$', '') AS TIMESTAMP), rowid)"

        def latest(c: str) -> str:
            return f"arg_max({col(c)}, {order}) FILTER (WHERE {col(c)} IS NOT NULL)"

        grouped = f"""(SELECT {col("product_id")} AS pid, arg_max(rowid, {order}) AS last_idx, count(*) AS n,
                   {latest("category_code")} AS code, {latest("brand")} AS brand,
                   {latest("price")} AS price, {latest("category_id")} AS category_id
            FROM {table} WHERE {col("product_id")} IS NOT NULL GROUP BY 1) g"""
        exprs = {
            "item_id": "pid",
            "category": "replace(code, '.', ' > ')",
            "brand": "brand",
            "price": "price",
            "currency": "CASE WHEN price IS NOT NULL THEN 'USD' END",
            "attributes": json_object_sql({"category_id": "category_id", "category_code": "code"}),
        }
        raw = json_object_sql(
            {
                "product_id": "pid",
                "category_code": "code",
                "brand": "brand",
                "price": "price",
                "category_id": "category_id",
                "derived_from_events": "n",
            }
        )
        return select_sql(ITEMS, exprs, grouped, idx="last_idx", raw=raw)
