"""Retailrocket recommender system dataset (Kaggle).

Files, told apart by their headers; any subset may be given, ``events.csv``
alone is enough:

* ``events.csv``: ``timestamp`` (Unix ms), ``visitorid``, ``event`` (view,
  addtocart, transaction), ``itemid``, ``transactionid``;
* ``item_properties_part1.csv`` / ``part2.csv``: ``timestamp, itemid,
  property, value`` — a log of property values over time. ``categoryid`` and
  ``available`` are readable, all other properties and values are hashed;
* ``category_tree.csv``: ``categoryid, parentid``.

Mapping
-------
* events: one per row, ``addtocart`` -> ``cart``, ``transaction`` ->
  ``purchase`` (no amounts: prices are hashed), ``transactionid`` in
  ``properties``.
* items: one per item of the property files, from the latest value of each
  property (over all part files): ``category`` is the category path from the
  tree (root first, category ids, `` > ``-separated; the category id alone
  without the tree), ``attributes`` holds ``categoryid``, ``available``
  (true/false) and ``properties`` (the other latest values, hashed as
  published). Items are derived from many rows of several files, so they
  carry no line number; the raw row in quarantine is the derived JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from growthkit.errors import SchemaError
from growthkit.ingest.adapters._common import (
    classify,
    col,
    header_columns,
    json_object_sql,
    rejects_only,
    require,
    select_sql,
    stage,
)
from growthkit.ingest.mapping import MappedTable
from growthkit.ingest.sources import StagedSource
from growthkit.schema import EVENTS, ITEMS

if TYPE_CHECKING:
    from growthkit.ingest.api import AdapterContext

MAX_TREE_DEPTH = 32


def _has(p: Path, *cols: str) -> bool:
    return set(cols) <= set(header_columns(p, ","))


ROLES = {
    "events": lambda p: _has(p, "timestamp", "visitorid", "event", "itemid"),
    "properties": lambda p: _has(p, "timestamp", "itemid", "property", "value"),
    "tree": lambda p: _has(p, "categoryid", "parentid"),
}


def _category_paths(tree: StagedSource) -> str:
    """SQL relation (leaf, path): each category's path of ids from the root, cycles cut at MAX_TREE_DEPTH."""
    return f"""(WITH RECURSIVE t AS (
          SELECT {col("categoryid")} AS cid, {col("parentid")} AS pid
          FROM {tree.table} WHERE {col("categoryid")} IS NOT NULL
        ), walk(leaf, node, path, depth) AS (
          SELECT cid, pid, cid, 0 FROM t
          UNION ALL
          SELECT w.leaf, t.pid, t.cid || ' > ' || w.path, w.depth + 1
          FROM walk w JOIN t ON t.cid = w.node WHERE w.depth < {MAX_TREE_DEPTH}
        ) SELECT leaf, arg_max(path, depth) AS path FROM walk GROUP BY leaf)"""


class RetailrocketAdapter:
    """Adapter for the Retailrocket events, item properties and category tree files."""

    name: str = "retailrocket"
    title: str = "Retailrocket recommender system dataset"
    tables: tuple[str, ...] = ("events", "items")

    def map(self, ctx: AdapterContext, paths: Sequence[Path]) -> list[MappedTable]:
        """Map events.csv to events and the item property log to items.

        Raises
        ------
        SchemaError
            A file of no Retailrocket layout, or neither events nor item properties given.
        """
        roles = classify(paths, ROLES, adapter="retailrocket")
        if not roles["events"] and not roles["properties"]:
            raise SchemaError(
                "Retailrocket needs events.csv and/or item_properties_part1.csv/part2.csv; "
                f"given {', '.join(p.name for p in paths)}"
            )
        out: list[MappedTable] = []
        for p in roles["events"]:
            s = stage(ctx, p)
            require(s, ["timestamp", "visitorid", "event", "itemid"], "Retailrocket events.csv")
            out.append(MappedTable(EVENTS, self._events_sql(s), s, count_rejects=True))
        props = [stage(ctx, p) for p in roles["properties"]]
        trees = [stage(ctx, p) for p in roles["tree"]]
        for s in props:
            require(s, ["timestamp", "itemid", "property", "value"], "a Retailrocket item_properties file")
        if props:
            out.append(MappedTable(ITEMS, self._items_sql(props, trees[:1]), None))
        out += [m for s in props + trees if (m := rejects_only(ITEMS, s)) is not None]
        return out

    @staticmethod
    def _events_sql(s: StagedSource) -> str:
        ev = f"lower({col('event')})"
        tid = col("transactionid") if "transactionid" in s.columns else "NULL"
        exprs = {
            "user_id": col("visitorid"),
            "ts": col("timestamp"),
            "event_type": f"CASE {ev} WHEN 'addtocart' THEN 'cart' WHEN 'transaction' THEN 'purchase' ELSE {ev} END",
            "item_id": col("itemid"),
            "properties": json_object_sql({"transactionid": tid}),
        }
        return select_sql(EVENTS, exprs, s.table)

    @staticmethod
    def _items_sql(props: list[StagedSource], trees: list[StagedSource]) -> str:
        log_rows = " UNION ALL ".join(
            f"SELECT {col('itemid')} AS item, {col('property')} AS prop, {col('value')} AS value, "
            f"try_cast({col('timestamp')} AS BIGINT) AS ts, {i} AS src, rowid AS rid FROM {s.table}"
            for i, s in enumerate(props)
        )
        latest = f"""(SELECT item, prop, arg_max(value, (ts, src, rid)) AS value FROM ({log_rows}) l
                      WHERE item IS NOT NULL AND prop IS NOT NULL GROUP BY 1, 2)"""
        per_item = f"""(SELECT item,
              any_value(value) FILTER (WHERE prop = 'categoryid') AS cat,
              any_value(value) FILTER (WHERE prop = 'available') AS avail
            FROM {latest} GROUP BY 1)
            LEFT JOIN (SELECT item, json_group_object(prop, value) AS other FROM {latest}
                       WHERE prop NOT IN ('categoryid', 'available') GROUP BY 1) USING (item)"""
        per_item = f"(SELECT * FROM {per_item})"
        if trees:
            rel = f"(SELECT i.*, c.path FROM {per_item} i LEFT JOIN {_category_paths(trees[0])} c ON c.leaf = i.cat) x"
            category = "coalesce(path, cat)"
        else:
            rel = f"{per_item} x"
            category = "cat"
        attrs = json_object_sql(
            {
                "categoryid": "cat",
                "available": (
                    "CASE avail WHEN '1' THEN 'true'::JSON WHEN '0' THEN 'false'::JSON ELSE to_json(avail) END"
                ),
                "properties": "other",
            }
        )
        raw = json_object_sql({"itemid": "item", "categoryid": "cat", "available": "avail", "properties": "other"})
        return select_sql(
            ITEMS, {"item_id": "item", "category": category, "attributes": attrs}, rel, idx="NULL::BIGINT", raw=raw
        )
