from __future__ import annotations

from datetime import datetime
from typing import Any

EVENTS = (
    "timestamp,visitorid,event,itemid,transactionid\n"
    "1433221332117,257597,view,355908,\n"
    "1433224214164,992329,addtocart,248676,\n"
    "1433224214999,992329,transaction,248676,4000\n"
    "soon,1,view,2,\n"
)


def test_retailrocket_all_files(shop: Any) -> None:
    files = [
        shop.write("events.csv", EVENTS),
        shop.write(
            "item_properties_part1.csv",
            "timestamp,itemid,property,value\n1435460400000,248676,categoryid,1338\n"
            "1435460400000,248676,available,0\n1435460400000,248676,888,1116713 960601 n277.200\n",
        ),
        shop.write(
            "item_properties_part2.csv",
            "timestamp,itemid,property,value\n1441508400000,248676,available,1\n1431226800000,248676,categoryid,9\n",
        ),
        shop.write("category_tree.csv", "categoryid,parentid\n1338,1600\n1600,250\n250,\n"),
    ]
    rep = shop.ingest(files, "retailrocket")
    ev = shop.table(rep, "events")
    assert (ev.rows_read, ev.rows_loaded, ev.rows_quarantined) == (4, 3, 1)
    assert [(r["line"], r["reason_code"]) for r in shop.quarantine()] == [(5, "ts_not_a_date")]
    rows = shop.rows("SELECT * FROM events ORDER BY ts")
    assert [r["event_type"] for r in rows] == ["view", "cart", "purchase"]
    assert rows[0]["ts"] == datetime(2015, 6, 2, 5, 2, 12, 117000)
    assert (rows[2]["user_id"], rows[2]["item_id"], rows[2]["properties"]) == (
        "992329",
        "248676",
        '{"transactionid":"4000"}',
    )
    item = shop.rows("SELECT * FROM items")[0]
    assert item["category"] == "250 > 1600 > 1338"  # the latest categoryid, with its path
    assert '"available":true' in item["attributes"] and '"888":"1116713 960601 n277.200"' in item["attributes"]
    shop.reload_adds_nothing(files, "retailrocket")


def test_retailrocket_events_alone(shop: Any) -> None:
    rep = shop.ingest([shop.write("events.csv", EVENTS)], "retailrocket")
    assert rep.ok and [t.table for t in rep.tables] == ["events"]


def test_retailrocket_tree_alone_is_not_enough(shop: Any) -> None:
    rep = shop.ingest([shop.write("category_tree.csv", "categoryid,parentid\n1,\n")], "retailrocket")
    assert "needs events.csv" in rep.failures[0].error
