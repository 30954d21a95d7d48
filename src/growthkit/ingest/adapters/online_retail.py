"""UCI Online Retail (2010-2011) and Online Retail II (2009-2011), saved as CSV.

* Online Retail: ``InvoiceNo, StockCode, Description, Quantity, InvoiceDate
  (12/1/2010 8:26, month/day/year), UnitPrice, CustomerID, Country``.
* Online Retail II: ``Invoice, StockCode, Description, Quantity,
  InvoiceDate (2009-12-01 07:45:00), Price, Customer ID, Country``.

The layout is told from the header. The originals are Excel workbooks: save
each sheet as CSV (UTF-8) first.

Mapping
-------
* events: one per invoice line. Invoices starting with ``C`` are
  cancellations and become ``refund`` events with positive ``quantity`` and
  ``amount``; all others are ``purchase`` with ``amount = quantity * price``
  in GBP. A non-cancellation line with a negative quantity (stock write-offs)
  is quarantined by the core (``quantity ... is negative``), as it is not a
  sale. ``session_id`` is the invoice. ``event_id`` is left empty so the core
  derives it from the content: the line position within an invoice is not
  stable across the two dataset versions.
* Lines without a customer id (about a quarter of the data) are kept and
  quarantined by the core with ``user_id is empty`` — by default, because a
  guest purchase cannot be attributed to a customer and inventing one per
  invoice would inflate customer counts and distort retention and CLV.
  Pass ``options={"guests": "invoice"}`` to load them under a pseudo user
  ``guest:<invoice>`` instead (one per invoice; marked ``guest: true``).
  InvoiceDate is UK local time with no zone: it is read in
  ``Settings.timezone`` (default UTC; use Europe/London for exact instants).
* items: distinct ``StockCode`` with the latest non-empty description (as
  ``title``) and the latest unit price.
* users: distinct customer with the latest country.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from growthkit.errors import SchemaError
from growthkit.ingest.adapters._common import (
    col,
    header_columns,
    int_text,
    json_object_sql,
    require,
    select_sql,
    stage,
    ts_sql,
)
from growthkit.ingest.mapping import MappedTable
from growthkit.schema import EVENTS, ITEMS, USERS

if TYPE_CHECKING:
    from growthkit.ingest.api import AdapterContext

V1 = {"invoice": "invoiceno", "price": "unitprice", "customer": "customerid"}
V2 = {"invoice": "invoice", "price": "price", "customer": "customer_id"}
COMMON = ("stockcode", "description", "quantity", "invoicedate", "country")


def _layout(path: Path) -> dict[str, str]:
    if path.suffix.lower() in (".xlsx", ".xls"):
        raise SchemaError(
            f"{path}: the Online Retail workbooks must be saved as CSV first, one file per sheet "
            "(File > Save As > CSV UTF-8), then ingested with --format online-retail"
        )
    cols = set(header_columns(path))
    for layout in (V1, V2):
        if set(layout.values()) | set(COMMON) <= cols:
            return layout
    raise SchemaError(
        f"{path}: not an Online Retail CSV; expected the header InvoiceNo,StockCode,Description,Quantity,"
        f"InvoiceDate,UnitPrice,CustomerID,Country (or Online Retail II's Invoice,...,Price,Customer ID,Country); "
        f"found {', '.join(sorted(cols))}"
    )


class OnlineRetailAdapter:
    """Adapter for the UCI Online Retail and Online Retail II CSV files."""

    name: str = "online-retail"
    title: str = "UCI Online Retail / Online Retail II"
    tables: tuple[str, ...] = ("events", "items", "users")

    def map(self, ctx: AdapterContext, paths: Sequence[Path]) -> list[MappedTable]:
        """Map each CSV file to events, items and users.

        Raises
        ------
        SchemaError
            A file is a workbook or not in either layout; ``guests`` has an unknown value.
        """
        guests = ctx.options.get("guests", "quarantine")
        if guests not in ("quarantine", "invoice"):
            raise SchemaError(f"option guests={guests!r}: use 'quarantine' (default) or 'invoice'")
        out: list[MappedTable] = []
        for p in paths:
            lay = _layout(p)
            s = stage(ctx, p)
            require(s, [*lay.values(), *COMMON], "an Online Retail file")
            inv, price, cust = col(lay["invoice"]), col(lay["price"]), int_text(col(lay["customer"]))
            qty = col("quantity")
            # 12/1/2010 8:26 (v1) or 2009-12-01 07:45:00 (v2): both naive UK local time
            ts = ts_sql(col("invoicedate"), "%m/%d/%Y %H:%M", utc=False) if lay is V1 else col("invoicedate")
            cancel = f"coalesce(upper({inv}) LIKE 'C%', false)"
            user = cust if guests == "quarantine" else f"coalesce({cust}, 'guest:' || {inv})"
            abs_q = f"CASE WHEN {cancel} THEN CAST(abs(try_cast({qty} AS DOUBLE)) AS VARCHAR) ELSE {qty} END"
            amount = f"CAST(round(abs(try_cast({qty} AS DOUBLE)) * try_cast({price} AS DOUBLE), 4) AS VARCHAR)"
            events = {
                "user_id": user,
                "ts": ts,
                "event_type": f"CASE WHEN {cancel} THEN 'refund' ELSE 'purchase' END",
                "item_id": col("stockcode"),
                "session_id": inv,
                # keep unparseable text so the reason quotes it
                "quantity": f"coalesce({abs_q}, {qty})",
                "amount": (
                    f"coalesce(CASE WHEN {cancel} THEN {amount} "
                    f"ELSE CAST(round(try_cast({qty} AS DOUBLE) * try_cast({price} AS DOUBLE), 4) AS VARCHAR) END, "
                    f"CASE WHEN try_cast({price} AS DOUBLE) IS NULL THEN {price} END)"
                ),
                "currency": "'GBP'",
                "properties": json_object_sql(
                    {
                        "invoice": inv,
                        "unit_price": price,
                        "guest": f"CASE WHEN {cust} IS NULL AND {lit_bool(guests == 'invoice')} THEN true END",
                    }
                ),
            }
            out.append(MappedTable(EVENTS, select_sql(EVENTS, events, s.table), s, count_rejects=True))

            order = f"(try_cast({ts} AS TIMESTAMP), rowid)"
            items = f"""(SELECT {col("stockcode")} AS sku, arg_max(rowid, {order}) AS last_idx,
                    arg_max({col("description")}, {order}) FILTER (WHERE {col("description")} IS NOT NULL) AS title,
                    arg_max({price}, {order}) FILTER (WHERE {price} IS NOT NULL AND NOT {cancel}) AS price
                FROM {s.table} WHERE {col("stockcode")} IS NOT NULL GROUP BY 1) i"""
            item_cols = {
                "item_id": "sku",
                "title": "title",
                "price": "price",
                "currency": "CASE WHEN price IS NOT NULL THEN 'GBP' END",
            }
            raw_item = json_object_sql({"stockcode": "sku", "description": "title", "price": "price"})
            out.append(
                MappedTable(
                    ITEMS, select_sql(ITEMS, item_cols, items, idx="last_idx", raw=raw_item), s, count_rejects=False
                )
            )

            users = f"""(SELECT {cust} AS uid, arg_max(rowid, {order}) AS last_idx,
                    arg_max({col("country")}, {order}) FILTER (WHERE {col("country")} IS NOT NULL) AS country
                FROM {s.table} WHERE {cust} IS NOT NULL GROUP BY 1) u"""
            raw_user = json_object_sql({"customer_id": "uid", "country": "country"})
            out.append(
                MappedTable(
                    USERS,
                    select_sql(USERS, {"user_id": "uid", "country": "country"}, users, idx="last_idx", raw=raw_user),
                    s,
                    count_rejects=False,
                )
            )
        return out


def lit_bool(value: bool) -> str:
    """SQL boolean literal."""
    return "true" if value else "false"
