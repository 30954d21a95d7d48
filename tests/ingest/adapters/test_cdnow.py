from __future__ import annotations

from datetime import datetime
from typing import Any

MASTER_HEADER = " customer_id  date number_of_cds  dollar_value\r\n"
MASTER = (
    " 00001 19970101  1   11.77\r\n"
    " 00002 19970112  1   12.00\r\n"
    " 00002 19970112  1   12.00\r\n"  # a second, identical purchase on the same day
    " 00003 19970231  2   20.76\r\n"  # no such date
    " 00004 19970101  2\r\n"  # a field missing
)


def test_cdnow_master_with_header(shop: Any) -> None:
    f = shop.write("CDNOW_master.txt", MASTER_HEADER + MASTER)
    rep = shop.ingest([f], "cdnow")
    ev = shop.table(rep, "events")
    assert (ev.rows_read, ev.rows_loaded, ev.rows_duplicate, ev.rows_quarantined) == (5, 3, 0, 2)
    rows = shop.rows("SELECT * FROM events ORDER BY user_id, event_id")
    assert [r["user_id"] for r in rows] == ["00001", "00002", "00002"]
    first = rows[0]
    assert first["ts"] == datetime(1997, 1, 1)
    assert (first["event_type"], first["quantity"], first["amount"], first["currency"]) == (
        "purchase",
        1.0,
        11.77,
        "USD",
    )
    assert {r["event_id"] for r in rows[1:]} == {"cdnow:00002:19970112:1", "cdnow:00002:19970112:2"}
    q = shop.quarantine()
    assert [(r["line"], r["reason_code"]) for r in q] == [(5, "ts_not_a_date"), (6, "user_id_empty")]
    assert "19970231" in q[0]["reason"]
    assert shop.store.scalar("SELECT count(*) FROM users") == 3
    shop.reload_adds_nothing([f], "cdnow")


def test_cdnow_master_without_header_and_sample_agree(shop: Any) -> None:
    master = shop.write("CDNOW_master.txt", MASTER)
    sample = shop.write("CDNOW_sample.txt", " 00002 0001 19970112  1   12.00\n 00002 0001 19970112  1   12.00\n")
    rep = shop.ingest([master], "cdnow")
    assert shop.table(rep, "events").rows_loaded == 3
    rep = shop.ingest([sample], "cdnow")
    ev = shop.table(rep, "events")
    assert (ev.rows_read, ev.rows_loaded, ev.rows_duplicate) == (2, 0, 2)  # the same purchases as in the master
    users = shop.table(rep, "users")
    assert users.rows_updated == 1  # the sample adds the sample id to customer 00002
    assert shop.rows("SELECT attributes FROM users WHERE user_id = '00002'")[0]["attributes"] == '{"sample_id":"0001"}'


def test_cdnow_unknown_layout(shop: Any) -> None:
    f = shop.write("x.txt", "a b c\n")
    rep = shop.ingest([f], "cdnow")
    assert "not a CDNOW file" in rep.failures[0].error
