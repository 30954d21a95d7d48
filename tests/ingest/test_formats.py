"""Readers: CSV dialects and encodings, gzip, Parquet, JSON Lines, time zones."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from growthkit.config import Settings
from growthkit.ingest import CsvOptions, ingest
from growthkit.store import DuckDBStore

Write = Callable[..., Path]


def _events(store: DuckDBStore) -> list[dict[str, object]]:
    return store.query(
        "select user_id, strftime(ts, '%Y-%m-%d %H:%M:%S') as ts, event_type, item_id, query, properties "
        "from events order by ts, user_id"
    ).to_pylist()


@pytest.mark.parametrize("delim", [",", "\t", ";", "|"])
def test_delimiters_are_detected(store: DuckDBStore, settings: Settings, write: Write, delim: str) -> None:
    rows = ["user_id", "ts", "event_type"], ["u1", "2024-03-01 10:00", "view"], ["u2", "2024-03-02", "cart"]
    path = write("e.txt", "\n".join(delim.join(r) for r in rows) + "\n")
    r = ingest(store, settings, [path], kind="events")
    assert (r.rows_read, r.rows_loaded) == (2, 2)


def test_utf8_bom_and_quoted_values(store: DuckDBStore, settings: Settings, write: Write) -> None:
    text = (
        "\ufeffuser_id,ts,event_type,query\n"
        'u1,2024-03-01,search,"红色 连衣裙, 夏季"\n'
        'u2,2024-03-01,search,"say ""hi""\nthere"\n'
    )
    r = ingest(store, settings, [write("e.csv", text)], kind="events")
    assert r.rows_loaded == 2 and r.rows_quarantined == 0
    queries = {e["user_id"]: e["query"] for e in _events(store)}
    assert queries == {"u1": "红色 连衣裙, 夏季", "u2": 'say "hi"\nthere'}


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_chinese_encodings_are_detected(store: DuckDBStore, settings: Settings, write: Write, encoding: str) -> None:
    text = "user_id,ts,event_type,query\n用户1,2024-03-01,search,手机壳\n用户2,2024-03-01,search,无线耳机\n"
    r = ingest(store, settings, [write("e.csv", text, encoding)], kind="events")
    assert r.rows_loaded == 2
    assert {e["query"] for e in _events(store)} == {"手机壳", "无线耳机"}


def test_declared_encoding_and_gzip(store: DuckDBStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "e.csv.gz"
    path.write_bytes(gzip.compress("user_id,ts,event_type,query\nu1,2024-03-01,search,茶叶\n".encode("gbk")))
    r = ingest(store, settings, [path], kind="events", csv_options=CsvOptions(encoding="gbk"))
    assert r.rows_loaded == 1 and _events(store)[0]["query"] == "茶叶"
    plain = tmp_path / "p.csv.gz"
    plain.write_bytes(gzip.compress(b"user_id,ts,event_type\nu2,2024-03-01,view\n"))
    assert ingest(store, settings, [plain], kind="events").rows_loaded == 1


def test_no_header_with_given_columns(store: DuckDBStore, settings: Settings, write: Write) -> None:
    path = write("e.csv", "u1,2024-03-01,view\nu2,2024-03-02,view\n")
    opts = CsvOptions(header=False, columns=("user_id", "ts", "event_type"))
    r = ingest(store, settings, [path], kind="events", csv_options=opts)
    assert r.rows_loaded == 2


def test_invalid_utf8_row_is_quarantined(store: DuckDBStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(b"user_id,ts,event_type\nu1,2024-03-01,view\nu\xff\xfe2,2024-03-01,view\nu3,2024-03-01,view\n" * 1)
    r = ingest(store, settings, [path], kind="events", csv_options=CsvOptions(encoding="utf-8"))
    assert r.rows_read == 3 and r.rows_loaded == 2 and r.rows_quarantined == 1
    assert "UTF-8" in store.scalar("select reason from quarantine")


def test_naive_timestamps_take_the_declared_zone(store: DuckDBStore, tmp_path: Path, write: Write) -> None:
    s = Settings(db=store.location, workspace=tmp_path / "ws", timezone="Asia/Shanghai")
    text = (
        "user_id,ts,event_type\n"
        "naive,2024-03-01 08:00:00,view\n"
        "offset,2024-03-01T08:00:00+08:00,view\n"
        "zulu,2024-03-01T00:00:00Z,view\n"
        "slash,2024/03/01 08:00,view\n"
        "epoch,1709251200,view\n"
        "epoch_ms,1709251200000,view\n"
        "chinese,2024年03月01日 08:00,view\n"
    )
    r = ingest(store, s, [write("e.csv", text)], kind="events")
    assert r.rows_loaded == 7
    assert {e["ts"] for e in _events(store)} == {"2024-03-01 00:00:00"}


def test_parquet_with_types_and_nested_columns(store: DuckDBStore, settings: Settings, tmp_path: Path) -> None:
    table = pa.table(
        {
            "user_id": ["u1", "u2", None],
            "ts": pa.array([1709251200_000000, 1709254800_000000, 1709254800_000000], pa.timestamp("us", tz="UTC")),
            "event_type": ["purchase", "view", "view"],
            "amount": [12.5, None, None],
            "quantity": pa.array([2, None, None], pa.int64()),
            "tags": [["a", "b"], [], None],
        }
    )
    path = tmp_path / "e.parquet"
    pq.write_table(table, path)
    r = ingest(store, settings, [path], kind="events")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    row = store.query(
        "select amount, quantity, properties, strftime(ts, '%H:%M') t from events where user_id='u1'"
    ).to_pylist()[0]
    assert row["amount"] == 12.5 and row["quantity"] == 2 and row["t"] == "00:00"
    assert json.loads(row["properties"]) == {"tags": '["a","b"]'}
    assert store.scalar("select line from quarantine") == 3


def test_json_lines_with_bad_and_blank_lines(store: DuckDBStore, settings: Settings, write: Write) -> None:
    text = "\n".join(
        [
            json.dumps({"user_id": "u1", "ts": "2024-03-01", "event_type": "view", "properties": {"page": 2}}),
            "",
            '{"user_id": "u2", "ts": "2024-03-01", "event_type": "view"',
            json.dumps([1, 2]),
            json.dumps({"user_id": "u3", "ts": "2024-03-01", "event_type": "cart", "price": 9.9, "ok": True}),
            json.dumps({"user_id": "", "ts": "2024-03-01", "event_type": "cart"}),
        ]
    )
    r = ingest(store, settings, [write("e.jsonl", text + "\n")], kind="events")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (5, 2, 3)
    lines = {q["line"]: q["reason_code"] for q in store.query("select line, reason_code from quarantine").to_pylist()}
    assert lines == {3: "jsonl_invalid", 4: "jsonl_not_an_object", 6: "user_id_empty"}
    props = {e["user_id"]: json.loads(e["properties"]) for e in _events(store)}
    assert props == {"u1": {"page": 2}, "u3": {"price": "9.9", "ok": "true"}}


def test_gzip_is_recognised_by_content_not_name(store: DuckDBStore, settings: Settings, tmp_path: Path) -> None:
    csv_path = tmp_path / "export_2024"
    csv_path.write_bytes(gzip.compress(b"user_id,ts,event_type\nu1,2024-03-01,view\n"))
    jsonl_path = tmp_path / "events.jsonl.gz"
    jsonl_path.write_bytes(gzip.compress(b'{"user_id": "u2", "ts": "2024-03-01", "event_type": "view"}\n'))
    r = ingest(store, settings, [csv_path, jsonl_path], kind="events")
    assert (r.rows_read, r.rows_loaded) == (2, 2)


def test_custom_quote_character(store: DuckDBStore, settings: Settings, write: Write) -> None:
    path = write("e.csv", "user_id,ts,event_type,query\nu1,2024-03-01,search,'red, long dress'\n")
    r = ingest(store, settings, [path], kind="events", csv_options=CsvOptions(quote="'"))
    assert r.rows_loaded == 1 and _events(store)[0]["query"] == "red, long dress"
