from __future__ import annotations

from datetime import datetime
from typing import Any

HEADER = "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n"
ROWS = (
    "2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,72d76fde\n"
    "2019-10-01 00:00:01 UTC,cart,3900821,2053013552326770905,"
    "appliances.environment.water_heater,aqua,33.20,554748717,9333\n"
    "2019-10-01 00:00:04 UTC,purchase,3900821,2053013552326770905,"
    "appliances.environment.water_heater,aqua,33.20,554748717,9333\n"
    "2019-10-01 00:00:05 UTC,remove_from_cart,3900821,2053013552326770905,,,33.20,554748717,9333\n"
    "yesterday,view,1,2,,,1.0,5,s\n"
    "2019-10-01 00:00:06 UTC,view,1,2,x.y\n"
)


def test_rees46_maps_events_and_items(shop: Any) -> None:
    f = shop.write("2019-Oct.csv", HEADER + ROWS)
    rep = shop.ingest([f], "rees46")
    ev = shop.table(rep, "events")
    assert (ev.rows_read, ev.rows_loaded, ev.rows_quarantined) == (6, 4, 2)
    rows = shop.rows("SELECT * FROM events ORDER BY ts")
    assert [r["event_type"] for r in rows] == ["view", "cart", "purchase", "remove_from_cart"]
    buy = rows[2]
    assert buy["ts"] == datetime(2019, 10, 1, 0, 0, 4)
    assert (buy["user_id"], buy["item_id"], buy["session_id"]) == ("554748717", "3900821", "9333")
    assert (buy["amount"], buy["currency"], buy["quantity"]) == (33.2, "USD", 1.0)
    assert '"category_id":"2053013552326770905"' in buy["properties"]
    assert rows[0]["amount"] is None and rows[0]["quantity"] is None
    items = {r["item_id"]: r for r in shop.rows("SELECT * FROM items")}
    assert items["3900821"]["category"] == "appliances > environment > water_heater"
    assert (items["3900821"]["brand"], items["3900821"]["price"]) == ("aqua", 33.2)
    assert items["44600062"]["brand"] == "shiseido"
    q = shop.quarantine()
    assert [(r["line"], r["reason_code"]) for r in q] == [(6, "ts_not_a_date"), (7, "malformed_missing_columns")]
    assert "'yesterday'" in q[0]["reason"]
    shop.reload_adds_nothing([f], "rees46")


def test_rees46_times_are_utc_whatever_the_ingest_zone(make_shop: Any) -> None:
    shop = make_shop(timezone="Asia/Shanghai")
    f = shop.write("2019-Oct.csv", HEADER + ROWS)
    shop.ingest([f], "rees46")
    assert shop.store.scalar("SELECT min(ts) FROM events") == datetime(2019, 10, 1, 0, 0, 0)


def test_rees46_rejects_other_files(shop: Any) -> None:
    f = shop.write("x.csv", "a,b\n1,2\n")
    rep = shop.ingest([f], "rees46")
    assert not rep.ok and "not a REES46 events file" in rep.failures[0].error
