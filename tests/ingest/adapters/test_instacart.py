from __future__ import annotations

from datetime import datetime
from typing import Any

ORDERS = (
    "order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order\n"
    "2539329,1,prior,1,2,08,\n"
    "2398795,1,prior,2,3,07,15.0\n"
    "473747,1,prior,3,3,12,21.0\n"
    "2254736,2,prior,1,4,07,\n"
)
LINES = (
    "order_id,product_id,add_to_cart_order,reordered\n"
    "2539329,196,1,0\n"
    "2398795,196,1,1\n"
    "473747,196,1,1\n"
    "473747,12427,2,0\n"
    "2254736,12427,1,0\n"
    "999999,196,1,0\n"  # an order that is not in orders.csv
)


def test_instacart_full_files(shop: Any) -> None:
    files = [
        shop.write("orders.csv", ORDERS),
        shop.write("order_products__prior.csv", LINES),
        shop.write(
            "products.csv",
            "product_id,product_name,aisle_id,department_id\n196,Soda,77,7\n12427,Original Beef Jerky,23,19\n",
        ),
        shop.write("aisles.csv", "aisle_id,aisle\n77,soft drinks\n23,popcorn jerky\n"),
        shop.write("departments.csv", "department_id,department\n7,beverages\n19,snacks\n"),
    ]
    rep = shop.ingest(files, "instacart")
    ev = shop.table(rep, "events")
    assert (ev.rows_read, ev.rows_loaded, ev.rows_quarantined) == (6, 5, 1)
    q = shop.quarantine()
    assert [(r["line"], r["reason_code"]) for r in q] == [(7, "user_id_empty")]
    ts = [r["ts"] for r in shop.rows("SELECT ts FROM events WHERE user_id = '1' AND item_id = '196' ORDER BY ts")]
    assert ts == [datetime(2017, 1, 1, 8), datetime(2017, 1, 16, 7), datetime(2017, 2, 6, 12)]
    e = shop.rows("SELECT * FROM events WHERE event_id = '473747:12427'")[0]
    assert (e["event_type"], e["session_id"], e["quantity"], e["amount"]) == ("purchase", "473747", 1.0, None)
    assert '"order_number":3' in e["properties"] and '"eval_set":"prior"' in e["properties"]
    items = {r["item_id"]: r for r in shop.rows("SELECT * FROM items")}
    assert (items["196"]["title"], items["196"]["category"]) == ("Soda", "beverages > soft drinks")
    assert shop.store.scalar("SELECT count(*) FROM users") == 2
    shop.reload_adds_nothing(files, "instacart")


def test_instacart_anchor_option_and_sample_format(shop: Any) -> None:
    f = shop.write(
        "df_sample.csv",
        ",order_id,user_id,order_number,order_dow,order_hour_of_day,days_since_prior_order,product_id,"
        "add_to_cart_order,reordered\n"
        "0,2539329,1,1,2,8,,196,1.0,0.0\n"
        "1,2398795,1,2,3,7,15.0,196,1.0,1.0\n",
    )
    rep = shop.ingest([f], "instacart", options={"anchor": "2020-03-01"})
    assert rep.ok and rep.rows_quarantined == 0
    ts = [r["ts"] for r in shop.rows("SELECT ts FROM events ORDER BY ts")]
    assert ts == [datetime(2020, 3, 1, 8), datetime(2020, 3, 16, 7)]
    assert shop.store.scalar("SELECT count(*) FROM items") == 1


def test_instacart_lines_need_orders(shop: Any) -> None:
    f = shop.write("order_products__train.csv", LINES)
    assert "need orders.csv" in shop.ingest([f], "instacart").failures[0].error
