"""Event ingestion benchmark: growthkit ``ingest()`` against a plain pandas read-and-validate baseline.

For every size and format this generates (once, cached under ``bench/data/``) a
canonical ``events`` file with realistic content and ~0.1% bad rows, then runs
each tool in its own fresh subprocess and records wall seconds, rows/s and
peak RSS. Results go to a rich table on the terminal and to a section of
``bench/RESULTS.md``.

Usage::

    python bench/ingest.py                      # 1M and 10M rows, CSV and Parquet
    python bench/ingest.py --quick              # 100k rows, smoke run (RESULTS.md untouched)
    python bench/ingest.py --sizes 1000000 --formats csv --out bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from _common import DATA_DIR, MIB, ChildRun, machine_info, markdown_table, peak_rss_bytes, replace_section, run_child

COLUMNS = (
    "event_id", "user_id", "ts", "event_type", "item_id", "session_id",
    "quantity", "amount", "currency", "query", "channel", "properties",
)  # fmt: skip
SCHEMA = pa.schema([(c, pa.string()) for c in COLUMNS])
CHUNK_ROWS = 250_000
BAD_SHARE = 0.00025
"""Share of rows per kind of bad row (bad date, empty user, negative purchase, malformed line): 0.1% in all."""
DUP_SHARE = 0.0005
"""Share of rows that repeat an earlier row exactly (same event_id)."""
TOOLS = ("growthkit", "pandas", "duckdb-copy")
SECTION = "ingest"
GOAL_SPEEDUP = 5.0
GOAL_FLAT_RATIO = 1.5

EVENT_TYPES = np.array(["view", "search", "cart", "purchase", "refund", "share", "coupon_received", "signup"])
EVENT_P = np.array([0.55, 0.15, 0.12, 0.08, 0.01, 0.03, 0.03, 0.03])
WITH_ITEM = ("view", "cart", "purchase", "refund", "share")
WITH_MONEY = ("cart", "purchase", "refund")
CHANNELS = np.array(["organic", "ads", "social", "referral", "email"])
CURRENCIES = np.array(["CNY", "CNY", "CNY", "USD", "EUR"])
QUERIES = np.array(
    ["running shoes", "连衣裙", "phone case, clear", "蓝牙耳机", "gift for mom", "wool socks", "羽绒服 女"]
)
PROPERTIES = np.array([
    '{"device":"ios","app_version":"5.2.1"}',
    '{"device":"android","app_version":"5.1.0"}',
    '{"device":"web","referrer":"https://example.com/a?b=1"}',
    '{"device":"mini_program","scene":1047}',
    '{"device":"web","utm":{"source":"newsletter","campaign":"spring, sale"}}',
])  # fmt: skip
BAD_DATES = np.array(["2024-13-45 25:61:00", "yesterday", "2024-02-30 10:00:00", "31/12/2024 10:00"])
TS_START = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)
TS_SPAN = 365 * 24 * 3600


# --------------------------------------------------------------------------- data generation
def _prefixed(prefix: str, values: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pa.array(values).cast(pa.string()), "")


def _pick(options: np.ndarray, rng: np.random.Generator, n: int, p: np.ndarray | None = None) -> pa.Array:
    return pa.array(options).take(pa.array(rng.choice(len(options), size=n, p=p)))


def _where(mask: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` where ``mask`` holds, else null (an empty cell)."""
    return pc.if_else(pa.array(mask), values, pa.nulls(len(values), pa.string()))


def _clean_chunk(start: int, n: int, total: int, rng: np.random.Generator) -> pa.Table:
    """``n`` well-formed event rows starting at row ``start`` of a ``total``-row file."""
    idx = np.arange(start, start + n)
    kinds = EVENT_TYPES[rng.choice(len(EVENT_TYPES), size=n, p=EVENT_P)]
    has_item, has_money = np.isin(kinds, WITH_ITEM), np.isin(kinds, WITH_MONEY)
    users = np.minimum(rng.zipf(1.3, size=n), max(total // 10, 1000))
    seconds = TS_START + idx * (TS_SPAN // max(total, 1)) + rng.integers(0, 600, size=n)
    amount = np.round(rng.lognormal(4.0, 1.0, size=n), 2)
    cols = {
        "event_id": _prefixed("e", idx),
        "user_id": _prefixed("u", users),
        "ts": pa.array(seconds.astype("datetime64[s]")).cast(pa.string()),
        "event_type": pa.array(kinds),
        "item_id": _where(has_item, _prefixed("i", rng.integers(1, 50_000, size=n))),
        "session_id": _where(rng.random(n) > 0.05, _prefixed("s", idx // 8)),
        "quantity": _where(has_money, pa.array(rng.integers(1, 6, size=n)).cast(pa.string())),
        "amount": _where(has_money, pa.array(amount).cast(pa.string())),
        "currency": _where(has_money, _pick(CURRENCIES, rng, n)),
        "query": _where(kinds == "search", _pick(QUERIES, rng, n)),
        "channel": _where(rng.random(n) > 0.1, _pick(CHANNELS, rng, n)),
        "properties": _where(rng.random(n) < 0.3, _pick(PROPERTIES, rng, n)),
    }
    return pa.table(cols, schema=SCHEMA)


@dataclass(frozen=True)
class BadRows:
    """Row positions (in one chunk) that get each kind of defect; disjoint."""

    bad_date: np.ndarray
    empty_user: np.ndarray
    negative_purchase: np.ndarray
    malformed: np.ndarray


def _bad_positions(n: int, rng: np.random.Generator) -> BadRows:
    k = max(round(n * BAD_SHARE), 1)
    pos = rng.choice(n, size=4 * k, replace=False)
    return BadRows(*(np.sort(pos[i * k : (i + 1) * k]) for i in range(4)))


def _with_duplicates(t: pa.Table, rng: np.random.Generator) -> pa.Table:
    """Some rows replaced by an exact copy of a row shortly before them."""
    n = t.num_rows
    take = np.arange(n)
    dups = rng.choice(np.arange(64, n), size=max(round(n * DUP_SHARE), 1), replace=False)
    take[dups] = dups - rng.integers(1, 64, size=len(dups))
    return t.take(pa.array(take))


def _set(t: pa.Table, name: str, positions: np.ndarray, values: pa.Array | str) -> pa.Table:
    mask = np.zeros(t.num_rows, dtype=bool)
    mask[positions] = True
    col = pc.if_else(pa.array(mask), values, t.column(name))
    return t.set_column(t.schema.get_field_index(name), name, col)


def _dirty_chunk(start: int, n: int, total: int, seed: int) -> tuple[pa.Table, np.ndarray]:
    """One chunk with duplicates and bad rows; also the positions of rows to write as malformed lines."""
    rng = np.random.default_rng([seed, start])
    t = _with_duplicates(_clean_chunk(start, n, total, rng), rng)
    bad = _bad_positions(n, rng)
    t = _set(t, "ts", bad.bad_date, _pick(BAD_DATES, rng, n))
    t = _set(t, "user_id", bad.empty_user, pa.nulls(n, pa.string()))
    for name, value in (("event_type", "purchase"), ("amount", "-19.9"), ("quantity", "1"), ("currency", "CNY")):
        t = _set(t, name, bad.negative_purchase, value)
    return t, bad.malformed


def _malformed_lines(rows: pa.Table) -> bytes:
    """The rows as CSV lines with the ``user_id`` field missing (11 fields under a 12-column header)."""
    sink = pa.BufferOutputStream()
    pacsv.write_csv(rows.drop_columns(["user_id"]), sink, pacsv.WriteOptions(include_header=False))
    return bytes(sink.getvalue())


def _parquet_malformed(t: pa.Table, malformed: np.ndarray) -> pa.Table:
    """Parquet cannot hold a short line: store what a shifted line looks like (ts holds the event type)."""
    return _set(t, "ts", malformed, t.column("event_type"))


def _chunks(rows: int, seed: int) -> Iterator[tuple[pa.Table, np.ndarray]]:
    for start in range(0, rows, CHUNK_ROWS):
        yield _dirty_chunk(start, min(CHUNK_ROWS, rows - start), rows, seed)


def data_path(rows: int, seed: int, fmt: str) -> Path:
    return DATA_DIR / f"events-{rows}-seed{seed}.{fmt}"


def generate(rows: int, seed: int, formats: list[str]) -> None:
    """Write the missing ``formats`` of the ``rows``-row file in one bounded-memory pass."""
    todo = [f for f in formats if not data_path(rows, seed, f).exists()]
    if not todo:
        return
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = {f: data_path(rows, seed, f).with_suffix(f".{f}.partial") for f in todo}
    csv_sink = pa.OSFile(str(tmp["csv"]), "wb") if "csv" in tmp else None
    csv_writer = pacsv.CSVWriter(csv_sink, SCHEMA) if csv_sink is not None else None
    pq_writer = pq.ParquetWriter(str(tmp["parquet"]), SCHEMA) if "parquet" in tmp else None
    for t, malformed in _chunks(rows, seed):
        if csv_writer is not None and csv_sink is not None:
            keep = np.ones(t.num_rows, dtype=bool)
            keep[malformed] = False
            csv_writer.write_table(t.filter(pa.array(keep)))
            csv_sink.write(_malformed_lines(t.take(pa.array(malformed))))
        if pq_writer is not None:
            pq_writer.write_table(_parquet_malformed(t, malformed))
    if csv_writer is not None and csv_sink is not None:
        csv_writer.close()
        csv_sink.close()
    if pq_writer is not None:
        pq_writer.close()
    for f, p in tmp.items():
        p.rename(data_path(rows, seed, f))


# --------------------------------------------------------------------------- the measured children
def child_growthkit(path: Path, workdir: Path, memory_limit: str, threads: int) -> dict[str, Any]:
    """growthkit ``ingest()`` of one file into a fresh DuckDB store."""
    from growthkit.config import Settings
    from growthkit.ingest.api import ingest
    from growthkit.store import open_store

    settings = Settings(db=str(workdir / "gk.duckdb"), workspace=workdir, memory_limit=memory_limit, threads=threads)
    t0 = time.perf_counter()
    with open_store(settings) as store:
        rep = ingest(store, settings, [path], kind="events")
        stored = int(store.scalar("SELECT count(*) FROM events"))
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "rows_read": rep.rows_read,
        "loaded": rep.rows_loaded,
        "duplicate": rep.rows_duplicate,
        "quarantined": rep.rows_quarantined,
        "stored": stored,
        "identity": rep.rows_read == rep.rows_loaded + rep.rows_duplicate + rep.rows_quarantined,
        "reasons": rep.reasons,
        "failures": [f.error for f in rep.failures],
    }


def validate_pandas(df: Any) -> Any:
    """The checks a careful notebook would write, mirroring growthkit's rules for this data."""
    import pandas as pd

    ts = pd.to_datetime(df["ts"], errors="coerce", utc=True, format="ISO8601")
    qty = pd.to_numeric(df["quantity"], errors="coerce")
    amt = pd.to_numeric(df["amount"], errors="coerce")
    horizon = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)
    bad = (
        df["user_id"].isna()
        | df["event_type"].isna()
        | ts.isna()
        | (ts > horizon)
        | (df["quantity"].notna() & qty.isna())
        | (qty < 0)
        | (df["amount"].notna() & amt.isna())
        | np.isinf(amt)
        | ((df["event_type"] == "purchase") & (amt < 0))
        | (df["currency"].notna() & ~df["currency"].str.fullmatch("[A-Z]{3}", na=False))
    )
    ok = ~bad
    valid = df.loc[ok].assign(ts=ts[ok], quantity=qty[ok], amount=amt[ok])
    return valid.drop_duplicates(subset="event_id", keep="first")


def child_pandas(path: Path, workdir: Path) -> dict[str, Any]:
    """pandas read (all text) + validate + dedupe, valid rows written to a fresh DuckDB table."""
    import duckdb
    import pandas as pd

    t0 = time.perf_counter()
    df = pd.read_csv(path, dtype=str) if path.suffix == ".csv" else pd.read_parquet(path)
    rows_read = len(df)
    valid = validate_pandas(df)
    del df
    con = duckdb.connect(str(workdir / "pd.duckdb"))
    con.register("valid_df", valid)
    con.execute("CREATE TABLE events AS SELECT * FROM valid_df")
    stored = int(con.execute("SELECT count(*) FROM events").fetchall()[0][0])
    con.close()
    return {"seconds": time.perf_counter() - t0, "rows_read": rows_read, "loaded": len(valid), "stored": stored}


def child_duckdb_copy(path: Path, workdir: Path, memory_limit: str, threads: int) -> dict[str, Any]:
    """The floor: DuckDB reads the file as text and writes it to a table, with no checks at all."""
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect(str(workdir / "copy.duckdb"), config={"memory_limit": memory_limit, "threads": threads})
    reader = (
        f"read_csv('{path}', all_varchar = true, ignore_errors = true)"
        if path.suffix == ".csv"
        else f"read_parquet('{path}')"
    )
    con.execute(f"CREATE TABLE events AS SELECT * FROM {reader}")
    stored = int(con.execute("SELECT count(*) FROM events").fetchall()[0][0])
    con.execute("CHECKPOINT")
    con.close()
    return {"seconds": time.perf_counter() - t0, "rows_read": stored, "loaded": stored, "stored": stored}


def child_pandas_tool(path: Path, workdir: Path, memory_limit: str, threads: int) -> dict[str, Any]:
    """:func:`child_pandas` with the growthkit-only settings ignored (pandas runs with its defaults)."""
    return child_pandas(path, workdir)


def child_main(tool: str, path: Path, workdir: Path, memory_limit: str, threads: int) -> None:
    run = {"growthkit": child_growthkit, "duckdb-copy": child_duckdb_copy}.get(tool, child_pandas_tool)
    out = run(path, workdir, memory_limit, threads)
    out["peak_rss"] = peak_rss_bytes()
    print(json.dumps(out))


# --------------------------------------------------------------------------- orchestration
@dataclass
class Result:
    fmt: str
    rows: int
    tool: str
    run: ChildRun
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.answer)

    @property
    def status(self) -> str:
        if self.run.timed_out:
            return "timed out"
        return "ok" if self.ok else f"failed (exit {self.run.returncode})"

    @property
    def seconds(self) -> float:
        return float(self.answer["seconds"]) if self.ok else self.run.wall_seconds

    @property
    def rows_per_s(self) -> float | None:
        return self.rows / self.seconds if self.ok and self.seconds > 0 else None

    @property
    def peak_rss(self) -> int:
        """Peak RSS in bytes: the child's own VmHWM, else the polled peak (timeouts, crashes)."""
        return int(self.answer["peak_rss"]) if self.ok else self.run.polled_peak_rss


def measure(tool: str, path: Path, rows: int, fmt: str, args: argparse.Namespace) -> Result:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"run-{tool}-", dir=DATA_DIR))
    try:
        child_args = [str(Path(__file__).resolve()), "--child", tool, str(path.resolve()), str(workdir)]
        child_args += ["--memory-limit", args.memory_limit, "--threads", str(args.threads)]
        run = run_child(child_args, workdir=workdir, timeout=args.timeout)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if run.answer is None and not run.timed_out:
        print(f"[{tool} {fmt} {rows}] failed:\n{run.stderr_tail}", file=sys.stderr)
    return Result(fmt, rows, tool, run, run.answer or {})


def speedup(results: list[Result], r: Result) -> float | None:
    """growthkit rows/s over pandas rows/s for the same file (a timed-out pandas run gives a lower bound)."""
    if r.tool != "growthkit" or r.rows_per_s is None:
        return None
    base = next((b for b in results if b.tool == "pandas" and b.fmt == r.fmt and b.rows == r.rows), None)
    if base is None:
        return None
    return r.rows_per_s / (base.rows_per_s or base.rows / base.seconds)


def _speedup_text(results: list[Result], r: Result) -> str:
    s = speedup(results, r)
    if s is None:
        return {"growthkit": "—", "pandas": "1.00x (baseline)"}.get(r.tool, "floor (no checks)")
    base = next(b for b in results if b.tool == "pandas" and b.fmt == r.fmt and b.rows == r.rows)
    return f"{'>=' if base.run.timed_out else ''}{s:.2f}x"


def table_rows(results: list[Result]) -> list[list[str]]:
    rows = []
    for r in results:
        rps = f"{r.rows_per_s:,.0f}" if r.rows_per_s else r.status
        secs = f"{r.seconds:.1f}" if r.ok else f"{r.status} after {r.run.wall_seconds:.0f}"
        loaded = f"{r.answer['loaded']:,}" if r.ok else "—"
        rows.append([r.fmt, f"{r.rows:,}", r.tool, secs, rps, f"{r.peak_rss / MIB:,.0f}", _speedup_text(results, r),
                     loaded])  # fmt: skip
    return rows


HEADERS = ["format", "rows", "tool", "seconds", "rows/s", "peak RSS MiB", "speedup vs pandas", "rows loaded"]
RIGHT = {1, 3, 4, 5, 6, 7}


def print_table(results: list[Result], console: Console) -> None:
    t = Table(title="event ingestion: growthkit vs pandas")
    for i, h in enumerate(HEADERS):
        t.add_column(h, justify="right" if i in RIGHT else "left")
    for row in table_rows(results):
        t.add_row(*row)
    console.print(t)


def check_lines(results: list[Result]) -> list[str]:
    """Accounting identity of each growthkit run and loaded-count agreement with pandas."""
    lines = []
    for r in results:
        if r.tool != "growthkit" or not r.ok:
            continue
        a = r.answer
        ident = "holds" if a["identity"] else "BROKEN"
        lines.append(
            f"{r.fmt} {r.rows:,}: growthkit read {a['rows_read']:,} = loaded {a['loaded']:,} + duplicate "
            f"{a['duplicate']:,} + quarantined {a['quarantined']:,} (identity {ident}; reasons {a['reasons']})"
        )
        base = next((b for b in results if b.tool == "pandas" and b.fmt == r.fmt and b.rows == r.rows), None)
        if base is not None and base.ok:
            agree = "agree" if base.answer["loaded"] == a["loaded"] else "DISAGREE"
            lines.append(
                f"{r.fmt} {r.rows:,}: loaded rows growthkit {a['loaded']:,} vs pandas {base.answer['loaded']:,} "
                f"({agree}; pandas read {base.answer['rows_read']:,})"
            )
    return lines


def goal_speed(results: list[Result]) -> str:
    speeds = [s for r in results if (s := speedup(results, r)) is not None]
    if not speeds:
        return "5x throughput goal: not measured"
    met = all(s >= GOAL_SPEEDUP for s in speeds)
    line = f"5x throughput goal: {'MET' if met else 'NOT met'} (speedups {min(speeds):.2f}x to {max(speeds):.2f}x)"
    floors = []
    for f in results:
        base = next((b for b in results if b.tool == "pandas" and b.fmt == f.fmt and b.rows == f.rows), None)
        if f.tool == "duckdb-copy" and f.rows_per_s and base is not None and base.rows_per_s:
            floors.append(f.rows_per_s / base.rows_per_s)
    if floors:
        line += (
            f". For scale: DuckDB merely copying the same files into a table, with no checks, runs at "
            f"{min(floors):.2f}x to {max(floors):.2f}x pandas on this machine"
        )
    return line


def goal_memory(results: list[Result]) -> str:
    parts, met = [], True
    for fmt in sorted({r.fmt for r in results}):
        runs = sorted((r for r in results if r.tool == "growthkit" and r.fmt == fmt and r.ok), key=lambda r: r.rows)
        if len(runs) < 2:
            continue
        ratio = runs[-1].peak_rss / runs[0].peak_rss
        met &= ratio <= GOAL_FLAT_RATIO
        parts.append(f"{fmt} {runs[-1].rows:,} vs {runs[0].rows:,} rows: {ratio:.2f}x")
    if not parts:
        return "flat-memory goal: not measured (needs two sizes)"
    verdict = "MET" if met else "NOT met"
    line = f"flat-memory goal (growthkit peak RSS ratio <= {GOAL_FLAT_RATIO}): {verdict} ({'; '.join(parts)})"
    largest = max((r.rows for r in results), default=0)
    big = [r for r in results if r.rows == largest and r.ok]
    gk = [r.peak_rss for r in big if r.tool == "growthkit"]
    pd_ = [r.peak_rss for r in big if r.tool == "pandas"]
    if gk and pd_:
        line += (
            f". At {largest:,} rows growthkit peaks at {max(gk) / 2**20:,.0f} MiB (bounded by DuckDB's memory_limit "
            f"plus the interpreter), pandas at {max(pd_) / 2**20:,.0f} MiB ({max(pd_) / max(gk):.1f}x more)"
        )
    return line


def markdown(results: list[Result], args: argparse.Namespace, command: str, info: dict[str, str]) -> str:
    facts = "\n".join(f"- {k}: {v}" for k, v in info.items())
    checks = "\n".join(f"- {line}" for line in check_lines(results))
    return f"""## Event ingestion (`bench/ingest.py`)

Command: `{command}`; growthkit settings: memory_limit={args.memory_limit}, threads={args.threads};
per-run timeout {args.timeout:.0f} s; data seed {args.seed}. Each run is a fresh process; seconds cover
open store/connection → read → validate → dedupe → write → close; peak RSS is the child's own `VmHWM`.

{facts}

{markdown_table(HEADERS, table_rows(results), right=RIGHT)}

**Goals:** {goal_speed(results)}. {goal_memory(results)}.

Checks:

{checks}
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000000,10000000", help="comma-separated row counts")
    p.add_argument("--formats", default="csv,parquet", help="comma-separated: csv, parquet")
    p.add_argument("--out", type=Path, default=None, help="results file (default bench/RESULTS.md; none with --quick)")
    p.add_argument("--quick", action="store_true", help="smoke run: 100k rows only, RESULTS.md untouched")
    p.add_argument("--tools", default=",".join(TOOLS), help="comma-separated: growthkit, pandas, duckdb-copy")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--timeout", type=float, default=1200.0, help="seconds per measured run before it is killed")
    p.add_argument("--memory-limit", default="1GB", help="growthkit/DuckDB memory limit")
    p.add_argument("--threads", type=int, default=2, help="growthkit/DuckDB threads")
    p.add_argument("--child", nargs=3, metavar=("TOOL", "PATH", "WORKDIR"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        tool, path, workdir = args.child
        child_main(tool, Path(path), Path(workdir), args.memory_limit, args.threads)
        return 0
    sizes = [100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    formats = [f.strip() for f in args.formats.split(",")]
    tools = [t.strip() for t in args.tools.split(",")]
    out = args.out or (None if args.quick else Path(__file__).resolve().parent / "RESULTS.md")
    console = Console() if sys.stdout.isatty() else Console(width=150)
    info = machine_info()  # before the runs: the load average says whether the machine was busy
    results: list[Result] = []
    for rows in sizes:
        with console.status(f"generating {rows:,} rows (cached in {DATA_DIR})"):
            generate(rows, args.seed, formats)
        for fmt in formats:
            for tool in tools:
                console.log(f"{tool}: {fmt} {rows:,} rows ...")
                results.append(measure(tool, data_path(rows, args.seed, fmt), rows, fmt, args))
                r = results[-1]
                console.log(f"  {r.status}: {r.seconds:.1f} s, peak RSS {r.peak_rss / MIB:,.0f} MiB")
    print_table(results, console)
    for line in [*check_lines(results), goal_speed(results), goal_memory(results)]:
        console.print(line)
    if out is not None:
        command = "python bench/ingest.py " + " ".join(argv if argv is not None else sys.argv[1:])
        replace_section(out, SECTION, markdown(results, args, command.strip(), info))
        console.print(f"wrote {out}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
