from __future__ import annotations

from datetime import datetime
from typing import Any

V1 = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom\n"
    "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,12/1/2010 9:41,2.65,17850,United Kingdom\n"
    "536414,22139,,56,12/1/2010 11:52,0,,United Kingdom\n"
    "536415,22139,RETROSPOT TEA SET,2,13/45/2010 11:52,4.95,14001,France\n"
)
V2 = (
    "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
    "489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085,United Kingdom\n"
)


def test_online_retail_v1(shop: Any) -> None:
    f = shop.write("Online Retail.csv", V1)
    rep = shop.ingest([f], "online-retail")
    ev = shop.table(rep, "events")
    assert (ev.rows_read, ev.rows_loaded, ev.rows_quarantined) == (5, 3, 2)
    rows = shop.rows("SELECT * FROM events ORDER BY ts, item_id DESC")
    buy = rows[0]
    assert (buy["ts"], buy["event_type"], buy["user_id"]) == (datetime(2010, 12, 1, 8, 26), "purchase", "17850")
    assert (buy["quantity"], buy["amount"], buy["currency"], buy["session_id"]) == (6.0, 15.3, "GBP", "536365")
    assert rows[1]["user_id"] == "17850"  # 17850.0 as pandas writes it
    refund = rows[2]
    assert (refund["event_type"], refund["quantity"], refund["amount"]) == ("refund", 2.0, 5.3)
    assert refund["event_id"] and len(refund["event_id"]) == 32  # content hash
    q = shop.quarantine()
    assert [(r["kind"], r["line"], r["reason_code"]) for r in q] == [
        ("events", 5, "user_id_empty"),
        ("events", 6, "ts_not_a_date"),
    ]
    items = {r["item_id"]: r for r in shop.rows("SELECT * FROM items")}
    assert items["85123A"]["title"] == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert items["85123A"]["price"] == 2.55  # the latest sale's price, not the cancellation's
    assert {r["user_id"]: r["country"] for r in shop.rows("SELECT * FROM users")} == {
        "17850": "United Kingdom",
        "14001": "France",
    }
    shop.reload_adds_nothing([f], "online-retail")


def test_online_retail_v2_and_guests(shop: Any) -> None:
    f = shop.write("online_retail_II.csv", V2 + "489435,22350,CAT BOWL,12,2009-12-01 07:46:00,2.55,,United Kingdom\n")
    rep = shop.ingest([f], "online-retail", options={"guests": "invoice"})
    assert rep.rows_quarantined == 0
    rows = {r["user_id"]: r for r in shop.rows("SELECT * FROM events")}
    assert rows["13085"]["amount"] == 83.4 and rows["13085"]["ts"] == datetime(2009, 12, 1, 7, 45)
    assert '"guest":true' in rows["guest:489435"]["properties"]


def test_online_retail_workbook_says_save_as_csv(shop: Any) -> None:
    f = shop.write("Online Retail.xlsx", "PK")
    assert "saved as CSV" in shop.ingest([f], "online-retail").failures[0].error
