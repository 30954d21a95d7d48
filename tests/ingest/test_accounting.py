"""Nothing is lost: the accounting identity, idempotency and crash safety."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from growthkit.config import Settings
from growthkit.ingest import ingest
from growthkit.store import DuckDBStore, open_store

USERS = st.sampled_from(["u1", "u2", "用户3", "", "  ", "u,4", 'u"5'])
TS = st.sampled_from(
    [
        "2024-03-01 10:00:00",
        "2024-03-01T10:00:00+08:00",
        "2023-13-45",
        "",
        "yesterday",
        "2024/03/02",
        "1709251200",
        "2099-01-01",
    ]
)
TYPES = st.sampled_from(["view", "purchase", "Add_To_Cart", "", "wishlist", "退款"])
AMOUNTS = st.sampled_from(["", "12.5", "-5", "abc", "1e3", "NaN", "0"])
TEXT = st.text(alphabet=st.sampled_from(list('ab,"\n 红色裙子;|')), max_size=8)
ROW = st.tuples(st.sampled_from(["", "e1", "e2", "e3"]), USERS, TS, TYPES, AMOUNTS, TEXT)
BROKEN = st.sampled_from(["u1,2024-03-01", "a,b,c,d,e,f,g,h", '"unterminated,2024-03-01,view,,,'])


def _csv(rows: list[tuple[str, ...]], broken: list[tuple[int, str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["event_id", "user_id", "ts", "event_type", "amount", "query"])
    lines = buf.getvalue().splitlines(keepends=True)
    for r in rows:
        b = io.StringIO()
        csv.writer(b, lineterminator="\n").writerow(r)
        lines.append(b.getvalue())
    for pos, text in broken:
        lines.insert(1 + min(pos, len(lines) - 1), text + "\n")
    return "".join(lines)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=25), broken=st.lists(st.tuples(st.integers(0, 30), BROKEN), max_size=3))
def test_every_row_is_loaded_duplicate_or_quarantined(
    tmp_path: Path, rows: list[tuple[str, ...]], broken: list[tuple[int, str]]
) -> None:
    path = tmp_path / "messy.csv"
    path.write_text(_csv(rows, broken), encoding="utf-8")
    s = Settings(db=":memory:", workspace=tmp_path / "ws")
    with open_store(s) as store:
        first = ingest(store, s, [path], kind="events")
        if not first.ok:  # only a file with no readable header may fail as a whole
            assert not rows and not broken
            return
        for rep in (first, ingest(store, s, [path], kind="events")):
            assert rep.rows_read == rep.rows_loaded + rep.rows_duplicate + rep.rows_quarantined
            assert sum(rep.reasons.values()) == rep.rows_quarantined
        second = ingest(store, s, [path], kind="events")
        assert second.rows_loaded == 0
        assert second.rows_read == first.rows_read
        assert store.scalar("select count(*) from events") == first.rows_loaded
        assert store.scalar("select count(*) from quarantine") == 3 * first.rows_quarantined


def test_same_file_twice_loads_nothing_new_for_every_table(store: DuckDBStore, settings: Settings, write) -> None:  # type: ignore[no-untyped-def]
    files = {
        "events": "user_id,ts,event_type\nu1,2024-03-01,view\nu1,2024-03-01,view\nu2,2024-03-01,cart\n",
        "users": "user_id,city\nu1,上海\nu2,Beijing\n",
        "items": "item_id,title,price\ni1,茶,5\n",
        "reviews": "user_id,item_id,rating,text\nu1,i1,5,好\n",
        "edges": "src_user,dst_user,kind\nu1,u2,friend\n",
    }
    for kind, text in files.items():
        path = write(f"{kind}.csv", text)
        a = ingest(store, settings, [path], kind=kind)
        b = ingest(store, settings, [path], kind=kind)
        assert a.rows_loaded >= 1 and b.rows_loaded == 0, kind
        assert b.rows_duplicate == b.rows_read, kind


def test_dimension_rows_update_when_content_changes(store: DuckDBStore, settings: Settings, write) -> None:  # type: ignore[no-untyped-def]
    ingest(store, settings, [write("a.csv", "item_id,title,price\ni1,Tea,5\ni2,Cup,3\n")], kind="items")
    r = ingest(store, settings, [write("b.csv", "item_id,title,price\ni1,Tea,6\ni1,Tea,7\ni2,Cup,3\n")], kind="items")
    assert (r.rows_read, r.rows_loaded, r.rows_updated, r.rows_duplicate) == (3, 2, 2, 1)
    assert store.scalar("select price from items where item_id = 'i1'") == 7.0
    assert store.scalar("select count(*) from items") == 2


CRASHING_LOAD = textwrap.dedent(
    """
    import os, signal, sys, time
    from growthkit.config import Settings
    # as in a terminal: Ctrl-C raises KeyboardInterrupt (a background job may start with SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from growthkit.store import DuckDBStore
    from growthkit.ingest import ingest
    real = DuckDBStore.execute
    def slow(self, sql, params=None):
        real(self, sql, params)
        if sql.lstrip().startswith("INSERT INTO events"):
            print("inserted", flush=True)
            time.sleep(60)
    DuckDBStore.execute = slow
    s = Settings(db=sys.argv[1], workspace=sys.argv[3])
    with DuckDBStore.open(s) as st:
        ingest(st, s, [sys.argv[2]], kind="events")
    """
)


def _crash_during_load(tmp_path: Path, sig: int) -> None:
    db, ws = tmp_path / "c.duckdb", tmp_path / "ws"
    s = Settings(db=str(db), workspace=ws)
    first = tmp_path / "first.csv"
    first.write_text("user_id,ts,event_type\nu0,2024-03-01,view\nbad,,view\n")
    with open_store(s) as st:
        ingest(st, s, [first], kind="events")
    big = tmp_path / "big.csv"
    with big.open("w") as fh:
        fh.write("user_id,ts,event_type,amount\n")
        for i in range(50_000):
            fh.write(f"u{i},2024-03-01 10:{i % 60:02d}:00,purchase,{i % 7 - 1}\n")
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_LOAD, str(db), str(big), str(ws)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "inserted"
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    with open_store(s, read_only=True) as st:
        assert st.scalar("select count(*) from events") == 1
        assert st.scalar("select count(*) from quarantine") == 1
        assert st.scalar("select count(*) from ingestions") == 1
    with open_store(s) as st:  # and the interrupted load can simply be run again
        r = ingest(st, s, [big], kind="events")
        assert r.rows_loaded + r.rows_quarantined == 50_000


def test_killed_load_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    _crash_during_load(tmp_path, signal.SIGKILL)


def test_ctrl_c_during_load_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    _crash_during_load(tmp_path, signal.SIGINT)
