"""Instacart Market Basket Analysis (2017), and its pre-joined sample ``df_sample.csv``.

Files, told apart by their headers:

* ``orders.csv``: ``order_id, user_id, eval_set, order_number, order_dow,
  order_hour_of_day, days_since_prior_order``;
* ``order_products__prior.csv`` / ``__train.csv``: ``order_id, product_id,
  add_to_cart_order, reordered``;
* optional ``products.csv`` (``product_id, product_name, aisle_id,
  department_id``), ``aisles.csv``, ``departments.csv``;
* or the joined sample ``df_sample.csv`` (a leading unnamed index column, then
  the order columns and the order-line columns).

Synthetic timestamps
--------------------
Instacart publishes no dates, only each user's order sequence, the gap in
days to the previous order, the weekday and the hour. growthkit places each
user's first order on an anchor date (``options["anchor"]``, default
``2017-01-01``), each later one ``days_since_prior_order`` days after the
previous (cumulative, in ``order_number`` order), at ``order_hour_of_day``,
UTC. Intervals between a user's orders are therefore exact and calendar
dates are not: the weekday will not match ``order_dow`` (kept in
``properties``), and users are not aligned with each other in time. A user
whose earlier orders are missing from the files gets gaps counted from the
orders present.

Mapping
-------
* events: one ``purchase`` per order line, ``quantity`` 1, no amount (prices
  are not published), ``session_id`` = order id, ``event_id`` =
  ``<order_id>:<product_id>`` (stable across files), order details in
  ``properties``. Order lines whose order is not in ``orders.csv`` are
  quarantined (no user, no time).
* items: ``products.csv`` (name as ``title``, ``department > aisle`` as
  ``category`` when those files are given), otherwise the distinct products
  seen in the order lines.
* users: the distinct users of ``orders.csv`` (or of the sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from growthkit.errors import SchemaError
from growthkit.ingest.adapters._common import (
    classify,
    col,
    header_columns,
    int_text,
    json_object_sql,
    rejects_only,
    require,
    select_sql,
    stage,
)
from growthkit.ingest.mapping import MappedTable
from growthkit.ingest.sources import StagedSource
from growthkit.ingest.validate import lit
from growthkit.schema import EVENTS, ITEMS, USERS

if TYPE_CHECKING:
    from growthkit.ingest.api import AdapterContext

ORDER_COLS = ("order_id", "user_id", "order_number", "order_hour_of_day", "days_since_prior_order")
LINE_COLS = ("order_id", "product_id", "add_to_cart_order", "reordered")


def _has(p: Path, *cols: str) -> bool:
    return set(cols) <= set(header_columns(p, ","))


ROLES = {
    "sample": lambda p: _has(p, *ORDER_COLS, "product_id"),
    "orders": lambda p: _has(p, *ORDER_COLS),
    "lines": lambda p: _has(p, *LINE_COLS),
    "products": lambda p: _has(p, "product_id", "product_name"),
    "aisles": lambda p: _has(p, "aisle_id", "aisle"),
    "departments": lambda p: _has(p, "department_id", "department"),
}


def _orders_ts(orders_sql: str, anchor: str) -> str:
    """Per order: its synthetic ts text, from the cumulative days since each user's first order."""
    return f"""(SELECT *, strftime(DATE {lit(anchor)}
              + to_days(CAST(sum(coalesce(try_cast(days AS DOUBLE), 0)) OVER w AS INTEGER))
              + to_hours(coalesce(try_cast(hour AS INTEGER), 0)), '%Y-%m-%d %H:%M:%S') || '+00' AS ts
            FROM {orders_sql}
            WINDOW w AS (PARTITION BY uid ORDER BY try_cast(onum AS INTEGER) ROWS UNBOUNDED PRECEDING))"""


def _order_fields(alias: str = "") -> str:
    def c(n: str) -> str:
        return col(n, alias)

    return (
        f"{c('order_id')} AS oid, {c('user_id')} AS uid, {int_text(c('order_number'))} AS onum, "
        f"{c('order_dow')} AS dow, {int_text(c('order_hour_of_day'))} AS hour, "
        f"{c('days_since_prior_order')} AS days"
    )


def _event_exprs() -> dict[str, str]:
    return {
        "event_id": "oid || ':' || pid",
        "user_id": "uid",
        "ts": "ts",
        "event_type": "'purchase'",
        "item_id": "pid",
        "session_id": "oid",
        "quantity": "'1'",
        "properties": json_object_sql(
            {
                "order_number": "try_cast(onum AS INTEGER)",
                "order_dow": "try_cast(dow AS INTEGER)",
                "order_hour_of_day": "try_cast(hour AS INTEGER)",
                "days_since_prior_order": "try_cast(days AS DOUBLE)",
                "add_to_cart_order": f"try_cast({int_text('cart')} AS INTEGER)",
                "reordered": f"try_cast({int_text('re')} AS INTEGER)",
                "eval_set": "eval_set",
            }
        ),
    }


class InstacartAdapter:
    """Adapter for the Instacart Market Basket files and the joined ``df_sample.csv``."""

    name: str = "instacart"
    title: str = "Instacart Market Basket Analysis"
    tables: tuple[str, ...] = ("events", "items", "users")

    def map(self, ctx: AdapterContext, paths: Sequence[Path]) -> list[MappedTable]:
        """Map order lines to purchase events with synthetic timestamps, plus items and users.

        Raises
        ------
        SchemaError
            Order lines without ``orders.csv`` (or the reverse), or an unknown file.
        """
        anchor = ctx.options.get("anchor", "2017-01-01")
        try:
            date.fromisoformat(anchor)
        except ValueError as exc:
            raise SchemaError(f"option anchor={anchor!r} is not a date like 2017-01-01") from exc
        roles = classify(paths, ROLES, adapter="instacart")
        if roles["lines"] and not roles["orders"]:
            raise SchemaError(
                "Instacart order lines (order_products__*.csv) need orders.csv for the user and time of each order"
            )
        if not roles["sample"] and not roles["lines"]:
            raise SchemaError(
                "Instacart needs order lines: order_products__prior.csv / __train.csv with orders.csv, "
                f"or the joined df_sample.csv; given {', '.join(p.name for p in paths)}"
            )
        out: list[MappedTable] = []
        products = [stage(ctx, p) for p in roles["products"]]
        for s in products:
            require(s, ["product_id", "product_name"], "products.csv")
        for p in roles["sample"]:
            out += self._sample(ctx, p, anchor, with_items=not products)
        if roles["lines"]:
            out += self._full(ctx, roles["orders"], roles["lines"], anchor, with_items=not products)
        if products:
            aisles = [stage(ctx, p) for p in roles["aisles"]]
            depts = [stage(ctx, p) for p in roles["departments"]]
            out += [self._products(s, aisles[:1], depts[:1]) for s in products]
            out += [m for s in aisles + depts if (m := rejects_only(ITEMS, s)) is not None]
        return out

    def _sample(self, ctx: AdapterContext, path: Path, anchor: str, *, with_items: bool) -> list[MappedTable]:
        s = stage(ctx, path)
        require(s, [*ORDER_COLS, *LINE_COLS], "df_sample.csv")
        rows = f"""(SELECT rowid AS _rid, {_order_fields()}, {col("product_id")} AS pid,
                    {col("add_to_cart_order")} AS cart, {col("reordered")} AS re, NULL AS eval_set FROM {s.table})"""
        orders = (
            f"(SELECT oid, any_value(uid) AS uid, any_value(onum) AS onum, any_value(hour) AS hour, "
            f"any_value(days) AS days FROM {rows} GROUP BY oid) o"
        )
        timed = f"(SELECT r.*, t.ts FROM {rows} r LEFT JOIN {_orders_ts(orders, anchor)} t USING (oid)) e"
        out = [MappedTable(EVENTS, select_sql(EVENTS, _event_exprs(), timed, idx="_rid"), s, count_rejects=True)]
        out.append(self._users(s, s.table, count_rejects=False))
        if with_items:
            out.append(self._seen_items(s))
        return out

    def _full(
        self, ctx: AdapterContext, order_files: list[Path], line_files: list[Path], anchor: str, *, with_items: bool
    ) -> list[MappedTable]:
        orders = [stage(ctx, p) for p in order_files]
        for o in orders:
            require(o, [*ORDER_COLS, "eval_set"], "orders.csv")
        union = " UNION ALL ".join(
            f"SELECT {_order_fields()}, {col('eval_set')} AS eval_set FROM {o.table}" for o in orders
        )
        timed = f"(SELECT * FROM {_orders_ts(f'({union}) u', anchor)})"
        out: list[MappedTable] = [self._users(o, o.table, count_rejects=True) for o in orders]
        for p in line_files:
            s = stage(ctx, p)
            require(s, list(LINE_COLS), "an order_products file")
            rows = f"""(SELECT l.rowid AS _rid, {col("order_id", "l")} AS oid, {col("product_id", "l")} AS pid,
                       {col("add_to_cart_order", "l")} AS cart, {col("reordered", "l")} AS re,
                       t.uid, t.onum, t.dow, t.hour, t.days, t.eval_set, t.ts
                FROM {s.table} l LEFT JOIN {timed} t ON t.oid = {col("order_id", "l")}) e"""
            out.append(MappedTable(EVENTS, select_sql(EVENTS, _event_exprs(), rows, idx="_rid"), s, count_rejects=True))
            if with_items:
                out.append(self._seen_items(s))
        return out

    @staticmethod
    def _users(s: StagedSource, table: str, *, count_rejects: bool) -> MappedTable:
        users = f"(SELECT {col('user_id')} AS uid, min(rowid) AS first_idx FROM {table} GROUP BY 1) u"
        return MappedTable(
            USERS, select_sql(USERS, {"user_id": "uid"}, users, idx="first_idx"), s, count_rejects=count_rejects
        )

    @staticmethod
    def _seen_items(s: StagedSource) -> MappedTable:
        items = f"(SELECT {col('product_id')} AS pid, min(rowid) AS first_idx FROM {s.table} GROUP BY 1) i"
        return MappedTable(ITEMS, select_sql(ITEMS, {"item_id": "pid"}, items, idx="first_idx"), s, count_rejects=False)

    @staticmethod
    def _products(s: StagedSource, aisles: list[StagedSource], depts: list[StagedSource]) -> MappedTable:
        joins, aisle, dept = "", "NULL", "NULL"
        if aisles and "aisle_id" in s.columns:
            joins += f" LEFT JOIN {aisles[0].table} a ON {col('aisle_id', 'a')} = {col('aisle_id', 'p')}"
            aisle = col("aisle", "a")
        if depts and "department_id" in s.columns:
            joins += f" LEFT JOIN {depts[0].table} d ON {col('department_id', 'd')} = {col('department_id', 'p')}"
            dept = col("department", "d")
        attrs: dict[str, str] = {c: col(c, "p") for c in ("aisle_id", "department_id") if c in s.columns}
        exprs = {
            "item_id": col("product_id", "p"),
            "title": col("product_name", "p"),
            "category": f"nullif(concat_ws(' > ', {dept}, {aisle}), '')",
            "attributes": json_object_sql(attrs),
        }
        return MappedTable(ITEMS, select_sql(ITEMS, exprs, f"{s.table} p{joins}", idx="p.rowid"), s)
