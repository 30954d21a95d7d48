"""Every quarantine reason, each on a tiny hand-made file with known line numbers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from growthkit.config import Settings
from growthkit.ingest import ingest
from growthkit.store import DuckDBStore

Write = Callable[..., Path]

GOOD_EVENT = "u1,2024-03-01 10:00:00,view,i1,,"
HEAD = "user_id,ts,event_type,item_id,amount,currency"

CASES = [
    # (kind, header, bad row, reason_code, words in the reason)
    ("events", HEAD, ",2024-03-01,view,i1,,", "user_id_empty", "user_id is empty"),
    ("events", HEAD, "u1,2023-13-45,view,i1,,", "ts_not_a_date", "ts '2023-13-45' is not a date"),
    ("events", HEAD, "u1,,view,i1,,", "ts_empty", "ts is empty"),
    ("events", HEAD, "u1,2099-01-01,view,i1,,", "ts_in_future", "in the future"),
    ("events", HEAD, "u1,2024-03-01,,i1,,", "event_type_empty", "event_type is empty"),
    (
        "events",
        HEAD,
        "u1,2024-03-01,purchase,i1,-5,CNY",
        "amount_negative_purchase",
        "amount -5 is negative for a purchase",
    ),
    ("events", HEAD, "u1,2024-03-01,purchase,i1,abc,CNY", "amount_not_a_number", "amount 'abc' is not a number"),
    ("events", HEAD, "u1,2024-03-01,purchase,i1,inf,CNY", "amount_not_finite", "not a finite number"),
    ("events", HEAD, "u1,2024-03-01,purchase,i1,5,EURO", "currency_invalid", "currency 'EURO' is not an ISO 4217"),
    (
        "events",
        "user_id,ts,event_type,quantity",
        "u1,2024-03-01,cart,-2",
        "quantity_negative",
        "quantity -2 is negative",
    ),
    (
        "events",
        "user_id,ts,event_type,properties",
        'u1,2024-03-01,view,"[1,2]"',
        "properties_not_json",
        "properties is not a JSON object",
    ),
    ("events", HEAD, "u1,2024-03-01,view", "malformed_missing_columns", "fewer fields than the header's 6"),
    ("events", HEAD, "u1,2024-03-01,view,i1,,,extra", "malformed_too_many_columns", "more fields"),
    (
        "users",
        "user_id,signup_ts,marketing_consent",
        "u1,2024-01-01,maybe",
        "marketing_consent_not_a_boolean",
        "'maybe' is not true/false",
    ),
    ("items", "item_id,title,price", "i1,Tea,-3", "price_negative", "price -3 is negative"),
    ("items", "item_id,title,price", ",Tea,3", "item_id_empty", "item_id is empty"),
    ("reviews", "user_id,item_id,rating,text", "u1,i1,7,great", "rating_out_of_range", "rating 7 is outside 1-5"),
    ("reviews", "user_id,item_id,rating,text", "u1,i1,,", "review_empty", "neither a rating nor a text"),
    ("edges", "src_user,dst_user,kind", "u1,u2,enemy", "kind_unknown", "kind 'enemy' is not one of friend"),
    ("edges", "src_user,dst_user,kind", "u1,u1,friend", "self_loop", "to themselves"),
    ("edges", "src_user,dst_user,kind,weight", "u1,u2,friend,-1", "weight_negative", "weight -1 is negative"),
]

GOOD = {
    "events": {
        HEAD: GOOD_EVENT,
        "user_id,ts,event_type,quantity": "u1,2024-03-01,cart,2",
        "user_id,ts,event_type,properties": 'u1,2024-03-01,view,"{""a"": 1}"',
    },
    "users": {"user_id,signup_ts,marketing_consent": "u2,2024-01-01,yes"},
    "items": {"item_id,title,price": "i2,Coffee,3"},
    "reviews": {"user_id,item_id,rating,text": "u1,i2,5,好"},
    "edges": {"src_user,dst_user,kind": "u1,u3,follow", "src_user,dst_user,kind,weight": "u1,u3,friend,2"},
}


@pytest.mark.parametrize(("kind", "header", "bad", "code", "words"), CASES, ids=[c[3] for c in CASES])
def test_reason(
    store: DuckDBStore, settings: Settings, write: Write, kind: str, header: str, bad: str, code: str, words: str
) -> None:
    good = GOOD[kind][header]
    path = write(f"{kind}.csv", f"{header}\n{good}\n{bad}\n{good}\n")
    report = ingest(store, settings, [path], kind=kind)
    assert report.rows_read == 3
    assert report.rows_loaded == 1 and report.rows_duplicate == 1 and report.rows_quarantined == 1
    assert report.reasons == {code: 1}
    q = store.query("select source, line, raw, reason_code, reason, kind from quarantine").to_pylist()
    assert len(q) == 1
    assert q[0]["reason_code"] == code
    assert words in q[0]["reason"]
    assert q[0]["line"] == 3  # header is line 1
    assert q[0]["source"] == str(path)
    assert q[0]["kind"] == kind
    assert q[0]["raw"]  # the raw row is kept for a person to fix


def test_several_problems_are_all_named(store: DuckDBStore, settings: Settings, write: Write) -> None:
    path = write("e.csv", f"{HEAD}\n,2023-13-45,purchase,i1,-5,CNY\n")
    ingest(store, settings, [path], kind="events")
    reason = store.scalar("select reason from quarantine")
    assert "user_id is empty" in reason and "is not a date" in reason and "negative for a purchase" in reason


def test_conflicting_ids_are_quarantined_not_overwritten(store: DuckDBStore, settings: Settings, write: Write) -> None:
    a = write("a.csv", "event_id,user_id,ts,event_type\ne1,u1,2024-03-01,view\ne1,u1,2024-03-02,view\n")
    r = ingest(store, settings, [a], kind="events")
    assert r.reasons == {"key_conflict_in_input": 1}
    assert "appears earlier in this input (line 2)" in store.scalar("select reason from quarantine")
    b = write("b.csv", "event_id,user_id,ts,event_type\ne1,u9,2024-03-05,view\n")
    r = ingest(store, settings, [b], kind="events")
    assert r.reasons == {"key_conflict": 1} and r.rows_loaded == 0
    assert store.scalar("select user_id from events where event_id = 'e1'") == "u1"


def test_missing_required_column_is_a_file_error_that_names_the_fix(
    store: DuckDBStore, settings: Settings, write: Write
) -> None:
    path = write("e.csv", "customer,ts,event_type\nu1,2024-03-01,view\n")
    report = ingest(store, settings, [path], kind="events")
    assert not report.ok and report.rows_read == 0
    assert "user_id" in report.failures[0].error and "--map" in report.failures[0].error
    report = ingest(store, settings, [path], kind="events", column_map={"customer": "user_id"})
    assert report.ok and report.rows_loaded == 1


def test_missing_file_is_reported(store: DuckDBStore, settings: Settings, tmp_path: Path) -> None:
    report = ingest(store, settings, [tmp_path / "nope.csv"], kind="events")
    assert not report.ok and "no such file" in report.failures[0].error
