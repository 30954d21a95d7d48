"""Analytics benchmark: every growthkit insight on 10M/100M-event stores, against hand-written SQL and pandas.

For every size this generates (once, cached under ``bench/data/``) a growthkit DuckDB store
with a year of synthetic shop events written by DuckDB SQL alone (``range()`` plus
hash-based pseudo-random columns, bounded memory), then times each insight three ways,
each run in a fresh subprocess on the store opened read-only:

* ``growthkit``: ``run_<insight>(store.ibis(), query)``;
* ``sql``: one hand-written DuckDB query answering the same question;
* ``pandas`` (up to 10M events): the needed columns read with DuckDB into pandas, then
  plain pandas ``groupby``/``merge``.

Every ``sql`` and ``pandas`` answer is compared number by number with growthkit's.
Results go to a rich table and to the ``analytics`` section of ``bench/RESULTS.md``.

Usage::

    python bench/analytics.py                               # 10M events, all tools
    python bench/analytics.py --sizes 10000000,100000000    # 100M: growthkit and sql only
    python bench/analytics.py --quick                       # 1M events, smoke run (RESULTS.md untouched)
    python bench/analytics.py --insights trends,funnel --tools growthkit,sql
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from _analytics_base import (
    FUNNEL_WINDOW,
    LTV_PERIODS,
    QUESTIONS,
    RETENTION_PERIODS,
    TREND_METRICS,
    YEAR_END,
    YEAR_START,
    Answer,
    _day,
    _num,
)
from _analytics_pandas import child_pandas
from _analytics_sql import child_sql
from _common import DATA_DIR, MIB, ChildRun, machine_info, markdown_table, peak_rss_bytes, replace_section, run_child

SECTION = "analytics"
TOOLS = ("growthkit", "sql", "pandas")
INSIGHTS = ("trends", "stickiness", "lifecycle", "aarrr", "funnel", "retention", "ltv")
PANDAS_MAX_EVENTS = 10_000_000
GOAL_SECONDS, GOAL_RSS_GB, GOAL_SPEEDUP, GOAL_OVERHEAD = 60.0, 6.0, 3.0, 1.2
GOAL_SIZE = 100_000_000


# --------------------------------------------------------------------------- data generation
GEN_SQL = """
CREATE OR REPLACE TEMP MACRO rnd(a, b, c) AS (hash(a, b, c, {seed}) >> 11)::DOUBLE / 9007199254740992.0;
CREATE OR REPLACE TEMP TABLE gu0 AS
SELECT j, signup_ts, uchannel, city_tier, rem,
       least(pow(1.0 - rnd(j, 0, 3), -1.0 / 1.2), 300.0) * rem / {span} AS w
FROM (
  SELECT j, s AS signup_ts, {span} - date_diff('second', TIMESTAMP '2024-01-01', s) AS rem,
         CASE WHEN rnd(j, 0, 4) < 0.08 THEN NULL
              ELSE ['organic', 'ads', 'social', 'referral', 'email'][1 + CAST(floor(rnd(j, 0, 5) * 5) AS INT)] END
           AS uchannel,
         ['1', '2', '3', '4'][1 + CAST(floor(rnd(j, 0, 6) * 4) AS INT)] AS city_tier
  FROM (SELECT range AS j,
               TIMESTAMP '2024-01-01' + to_seconds(CAST(floor({span} * sqrt((range + rnd(range, 0, 1)) / {users}))
                                                   AS BIGINT)) AS s
        FROM range({users}))
);
CREATE OR REPLACE TEMP TABLE gu AS
SELECT *, CASE WHEN j = {users} - 1 THEN {events} ELSE floor(cw * {events} / tot) END
          - coalesce(floor(lag(cw) OVER (ORDER BY j) * {events} / tot), 0) AS n
FROM (SELECT *, sum(w) OVER (ORDER BY j ROWS UNBOUNDED PRECEDING) AS cw, sum(w) OVER () AS tot FROM gu0);
INSERT INTO users (user_id, signup_ts, channel, country, city, city_tier, marketing_consent)
SELECT 'u' || j, signup_ts, uchannel, 'CN', 'city' || (j % 300), city_tier, rnd(j, 0, 7) < 0.6 FROM gu;
INSERT INTO events (event_id, user_id, ts, event_type, item_id, session_id, quantity, amount, currency, query,
                    channel, properties)
WITH x AS (
  SELECT j, signup_ts, uchannel, rem, n, 4 + j % 5 AS ss, unnest(range(CAST(n AS BIGINT))) AS pos
  FROM gu WHERE n > 0
), y AS (
  SELECT *, pos // ss AS sess, pos % ss AS k, ceil(n / ss) AS ns, rnd(j, pos, 11) AS r,
         CASE WHEN pos = 0 THEN (CASE WHEN rnd(j, 0, 8) < 0.92 THEN 'signup' ELSE 'view' END)
              WHEN rnd(j, pos, 11) < 0.600 THEN 'view'     WHEN rnd(j, pos, 11) < 0.730 THEN 'search'
              WHEN rnd(j, pos, 11) < 0.850 THEN 'cart'     WHEN rnd(j, pos, 11) < 0.910 THEN 'purchase'
              WHEN rnd(j, pos, 11) < 0.916 THEN 'refund'   WHEN rnd(j, pos, 11) < 0.931 THEN 'invite'
              WHEN rnd(j, pos, 11) < 0.951 THEN 'share'    WHEN rnd(j, pos, 11) < 0.971 THEN 'coupon_received'
              WHEN rnd(j, pos, 11) < 0.980 THEN 'review'   ELSE 'view' END AS et
  FROM x
)
SELECT 'e' || j || '-' || pos,
       'u' || j,
       signup_ts + to_seconds(CAST(floor(rem * pow((sess + CASE WHEN sess = 0 THEN 0 ELSE rnd(j, sess, 12) END) / ns,
                                                    1.7)) AS BIGINT)
                              + CASE WHEN k = 0 THEN 0 ELSE k * 75 + CAST(floor(rnd(j, pos, 13) * 60) AS BIGINT) END),
       et,
       CASE WHEN et IN ('view', 'cart', 'purchase', 'refund', 'review', 'share')
            THEN 'i' || (hash(j, pos, 14, {seed}) % 50000) END,
       CASE WHEN rnd(j, sess, 15) < 0.03 THEN NULL ELSE 'u' || j || '-s' || sess END,
       CASE WHEN et IN ('cart', 'purchase', 'refund') THEN 1 + hash(j, pos, 16, {seed}) % 3 END,
       CASE WHEN et IN ('cart', 'purchase', 'refund')
            THEN round(8 + 40 * pow(-ln(1.0 - rnd(j, pos, 17)), 1.3), 2) END,
       CASE WHEN et IN ('cart', 'purchase', 'refund') THEN 'CNY' END,
       CASE WHEN et = 'search' THEN ['running shoes', '连衣裙', 'phone case', '蓝牙耳机', 'gift for mom',
                                    'wool socks', '羽绒服 女'][1 + CAST(floor(rnd(j, pos, 18) * 7) AS INT)] END,
       CASE WHEN rnd(j, pos, 19) < 0.05 THEN NULL WHEN rnd(j, pos, 19) < 0.85 THEN uchannel
            ELSE ['organic', 'ads', 'social', 'referral', 'email'][1 + CAST(floor(rnd(j, pos, 20) * 5) AS INT)] END,
       CASE WHEN et = 'signup' AND j > 0 AND rnd(j, 0, 21) < 0.12
              THEN json_object('referrer', 'u' || CAST(floor(j * rnd(j, 0, 22)) AS BIGINT))
            WHEN et = 'invite' AND rnd(j, pos, 23) < 0.4 AND j + 1 + hash(j, pos, 24, {seed}) % 2000 < {users}
              THEN json_object('invitee', 'u' || (j + 1 + hash(j, pos, 24, {seed}) % 2000)) END
FROM y
ORDER BY 3;
"""
SPAN_SECONDS = 366 * 86400 - 3600
"""Signups and events fall in 2024 (leap year), ending an hour before midnight so sessions fit."""


def store_path(events: int, seed: int, users: int | None = None) -> Path:
    tag = "" if users is None or users == default_users(events) else f"-u{users}"
    return DATA_DIR / f"analytics-{events}{tag}-seed{seed}.duckdb"


def default_users(events: int) -> int:
    """Users of a generated store: one per 40 events (at least 1,000)."""
    return max(events // 40, 1000)


def generate(
    events: int, seed: int, memory_limit: str, threads: int, console: Console, users: int | None = None
) -> Path:
    """Write the store for ``events`` events of ``users`` users (cached by size and seed); SQL only, spills to disk."""
    from growthkit.config import Settings
    from growthkit.store import open_store

    path = store_path(events, seed, users)
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.duckdb")
    for p in (partial, partial.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    free = shutil.disk_usage(DATA_DIR).free
    need = events * 120  # ~24 bytes/event stored, plus up to ~80 bytes/event of spill for the final sort
    if free < need:
        raise SystemExit(
            f"{events:,} events need about {need / 1e9:.0f} GB free in {DATA_DIR}; {free / 1e9:.0f} GB are"
        )
    t0 = time.perf_counter()
    settings = Settings(db=str(partial), workspace=DATA_DIR, memory_limit=memory_limit, threads=threads)
    users = default_users(events) if users is None else users
    with open_store(settings) as store:
        store.execute(f"SET temp_directory = '{DATA_DIR / 'spill'}'")
        for stmt in GEN_SQL.format(seed=seed, span=SPAN_SECONDS, users=users, events=events).split(";\n"):
            if stmt.strip():
                store.execute(stmt)
        store.execute("CHECKPOINT")
        n = int(store.scalar("SELECT count(*) FROM events"))
    if n != events:
        raise SystemExit(f"generated {n:,} events, expected {events:,}")
    partial.rename(path)
    console.log(f"generated {path.name}: {n:,} events, {users:,} users in {time.perf_counter() - t0:.0f} s, "
                f"{path.stat().st_size / 1e9:.2f} GB")  # fmt: skip
    return path


# --------------------------------------------------------------------------- growthkit
def gk_queries() -> dict[str, Any]:
    from growthkit.analytics._common import DateRange, EventFilter, Period
    from growthkit.analytics.aarrr import AarrrQuery
    from growthkit.analytics.funnel import FunnelQuery, FunnelStep
    from growthkit.analytics.lifecycle import LifecycleQuery
    from growthkit.analytics.retention import RetentionQuery
    from growthkit.analytics.retention_ltv import LtvQuery
    from growthkit.analytics.stickiness import StickinessQuery
    from growthkit.analytics.trends import TrendsQuery

    year = DateRange(YEAR_START, YEAR_END)
    steps = (FunnelStep("view"), FunnelStep("cart"), FunnelStep("purchase"))
    return {
        "trends": TrendsQuery(TREND_METRICS, year, period=Period.WEEK),
        "stickiness": StickinessQuery(year, period=Period.WEEK),
        "lifecycle": LifecycleQuery(year, period=Period.WEEK),
        "aarrr": AarrrQuery(year),
        "funnel": FunnelQuery(steps=steps, date_range=year, window=FUNNEL_WINDOW),
        "retention": RetentionQuery(
            EventFilter(("signup",)), EventFilter(), year, period=Period.WEEK, periods=RETENTION_PERIODS
        ),
        "ltv": LtvQuery(year, period=Period.WEEK, periods=LTV_PERIODS),
    }


def gk_run(insight: str, con: Any, query: Any) -> Any:
    from growthkit.analytics.aarrr import run_aarrr
    from growthkit.analytics.funnel import run_funnel
    from growthkit.analytics.lifecycle import run_lifecycle
    from growthkit.analytics.retention import run_retention
    from growthkit.analytics.retention_ltv import run_ltv_curve
    from growthkit.analytics.stickiness import run_stickiness
    from growthkit.analytics.trends import run_trends

    runners: dict[str, Callable[[Any, Any], Any]] = {
        "trends": run_trends,
        "stickiness": run_stickiness,
        "lifecycle": run_lifecycle,
        "aarrr": run_aarrr,
        "funnel": run_funnel,
        "retention": run_retention,
        "ltv": run_ltv_curve,
    }
    return runners[insight](con, query)


def gk_answer(insight: str, res: Any) -> Answer:
    """growthkit's result object as an :data:`Answer`."""
    out: Answer = {}
    if insight == "trends":
        for r in res.frame.itertuples(index=False):
            out[f"{_day(r.period)}|{r.metric}"] = _num(r.value)
    elif insight == "stickiness":
        for r in res.ratio.itertuples(index=False):
            for c in ("dau", "wau", "mau", "dau_mau"):
                out[f"ratio|{_day(r.day)}|{c}"] = _num(getattr(r, c))
        for r in res.distribution.itertuples(index=False):
            out[f"dist|{_day(r.period)}|{r.days}|users"] = _num(r.users)
            out[f"dist|{_day(r.period)}|{r.days}|share"] = _num(r.share)
    elif insight == "lifecycle":
        for r in res.frame.itertuples(index=False):
            out[f"{_day(r.period)}|{r.status}"] = _num(r.users)
    elif insight == "aarrr":
        for r in res.to_frame().itertuples(index=False):
            out[f"{r.stage}|{r.metric}|{r.channel}"] = _num(r.value)
        out["activation|incomplete|(all)"] = float(res.activation.incomplete)
        out["retention|incomplete|(all)"] = float(res.retention.incomplete)
    elif insight == "funnel":
        for s in res.steps:
            for f in ("count", "conversion_from_first", "conversion_from_previous", "dropped",
                      "median_seconds_from_first", "median_seconds_from_previous"):  # fmt: skip
                out[f"{s.step}|{f}"] = _num(getattr(s, f))
            for i, h in enumerate(s.time_histogram):
                out[f"{s.step}|h{i}"] = float(h)
    elif insight == "retention":
        for c in res.cells:
            for f in ("cohort_size", "eligible", "returned", "share"):
                out[f"{c.cohort}|{c.period}|{f}"] = _num(getattr(c, f))
    elif insight == "ltv":
        for p in res.points:
            for f in ("cohort_size", "eligible", "revenue", "ltv"):
                out[f"{p.cohort}|{p.period}|{f}"] = _num(getattr(p, f))
    return out


def child_growthkit(insight: str, db: Path, memory_limit: str, threads: int) -> tuple[float, Answer]:
    from growthkit.config import Settings
    from growthkit.store import open_store

    query = gk_queries()[insight]
    settings = Settings(db=str(db), workspace=db.parent, memory_limit=memory_limit, threads=threads)
    t0 = time.perf_counter()
    with open_store(settings, read_only=True) as store:
        res = gk_run(insight, store.ibis(), query)
        seconds = time.perf_counter() - t0
        return seconds, gk_answer(insight, res)


CHILDREN = {"growthkit": child_growthkit, "sql": child_sql, "pandas": child_pandas}


def child_main(tool: str, insight: str, db: Path, out: Path, memory_limit: str, threads: int) -> None:
    seconds, answer = CHILDREN[tool](insight, db, memory_limit, threads)
    peak = peak_rss_bytes()
    out.write_text(json.dumps(answer))
    print(json.dumps({"seconds": seconds, "peak_rss": peak, "cells": len(answer)}))


# --------------------------------------------------------------------------- comparison
def compare(ref: Answer, got: Answer) -> tuple[bool, str]:
    """Same keys and numbers (relative 1e-9, absolute 1e-6; ``None`` only matches ``None``)."""
    diffs = []
    for k in sorted(set(ref) | set(got)):
        a, b = ref.get(k, "missing"), got.get(k, "missing")
        same = a == b or (
            isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
        )
        if not same:
            diffs.append(f"{k}: growthkit {a} vs {b}")
    if not diffs:
        return True, f"all {len(ref)} numbers equal"
    return False, f"{len(diffs)} of {len(ref)} numbers differ, e.g. " + "; ".join(diffs[:4])


# --------------------------------------------------------------------------- orchestration
@dataclass
class Result:
    insight: str
    events: int
    tool: str
    runs: list[ChildRun] = field(default_factory=list)
    answer: Answer | None = None
    check: str = ""

    @property
    def ok_runs(self) -> list[ChildRun]:
        return [r for r in self.runs if r.answer is not None]

    @property
    def ok(self) -> bool:
        return bool(self.ok_runs)

    @property
    def seconds(self) -> float:
        if self.ok:
            return min(float(r.answer["seconds"]) for r in self.ok_runs if r.answer is not None)
        return max(r.wall_seconds for r in self.runs)

    @property
    def peak_rss(self) -> int:
        if self.ok:
            return max(int(r.answer["peak_rss"]) for r in self.ok_runs if r.answer is not None)
        return max(r.polled_peak_rss for r in self.runs)

    @property
    def status(self) -> str:
        if self.ok:
            return "ok"
        last = self.runs[-1]
        return "timed out" if last.timed_out else f"failed (exit {last.returncode})"


def measure(tool: str, insight: str, db: Path, events: int, args: argparse.Namespace, console: Console) -> Result:
    res = Result(insight, events, tool)
    repeat = 1 if events > PANDAS_MAX_EVENTS else args.repeat
    for _ in range(repeat):
        workdir = Path(tempfile.mkdtemp(prefix=f"an-{tool}-", dir=DATA_DIR))
        try:
            out = workdir / "answer.json"
            child = [str(Path(__file__).resolve()), "--child", tool, insight, str(db), str(out)]
            child += ["--memory-limit", args.memory_limit, "--threads", str(args.threads)]
            run = run_child(child, workdir=workdir, timeout=args.timeout)
            if run.answer is not None and res.answer is None:
                res.answer = json.loads(out.read_text())
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        res.runs.append(run)
        if run.answer is None:
            console.log(f"[red]{tool} {insight} {events:,}: {res.status}[/red]\n{run.stderr_tail}")
            break
    return res


def ratio_vs_sql(results: list[Result], r: Result) -> float | None:
    base = next((b for b in results if b.tool == "sql" and b.insight == r.insight and b.events == r.events), None)
    if base is None or not base.ok or not r.ok or r.tool == "sql":
        return None
    return r.seconds / base.seconds


def speedup_vs_pandas(results: list[Result], r: Result) -> float | None:
    base = next((b for b in results if b.tool == "pandas" and b.insight == r.insight and b.events == r.events), None)
    if base is None or not r.ok or r.tool == "pandas":
        return None
    return base.seconds / r.seconds  # a failed/timed-out pandas run gives a lower bound


def table_rows(results: list[Result]) -> list[list[str]]:
    rows = []
    for r in results:
        secs = f"{r.seconds:.1f}" if r.ok else f"{r.status} after {r.seconds:.0f}"
        rv = ratio_vs_sql(results, r)
        sp = speedup_vs_pandas(results, r)
        pd_base = next((b for b in results if b.tool == "pandas" and b.insight == r.insight and b.events == r.events),
                       None)  # fmt: skip
        sp_txt = "—" if sp is None else f"{'>=' if pd_base is not None and not pd_base.ok else ''}{sp:.1f}x"
        rows.append([r.insight, f"{r.events:,}", r.tool, secs, f"{r.peak_rss / MIB:,.0f}",
                     "—" if rv is None else f"{rv:.2f}x", sp_txt, r.check or "—"])  # fmt: skip
    return rows


HEADERS = ["insight", "events", "tool", "seconds", "peak RSS MiB", "ratio vs SQL", "speedup vs pandas", "answer"]
RIGHT = {1, 3, 4, 5, 6}


def print_table(results: list[Result], console: Console) -> None:
    t = Table(title="analytics: growthkit vs hand-written SQL vs pandas")
    for i, h in enumerate(HEADERS):
        t.add_column(h, justify="right" if i in RIGHT else "left", overflow="fold")
    for row in table_rows(results):
        t.add_row(*row)
    console.print(t)


def goal_lines(results: list[Result]) -> list[str]:
    gk = [r for r in results if r.tool == "growthkit"]
    lines = []
    big = [r for r in gk if r.events == GOAL_SIZE]
    if big:
        slow = [f"{r.insight} {r.seconds:.0f} s" for r in big if not r.ok or r.seconds > GOAL_SECONDS]
        fat = [f"{r.insight} {r.peak_rss / 2**30:.1f} GiB" for r in big if r.peak_rss > GOAL_RSS_GB * 2**30]
        worst = max(big, key=lambda r: r.seconds)
        lines.append(
            f"100M events, every insight under {GOAL_SECONDS:.0f} s: {'NOT met' if slow else 'MET'} "
            f"(slowest {worst.insight} {worst.seconds:.1f} s{'; over: ' + ', '.join(slow) if slow else ''})"
        )
        top = max(big, key=lambda r: r.peak_rss)
        lines.append(
            f"100M events, peak memory under {GOAL_RSS_GB:.0f} GB: {'NOT met' if fat else 'MET'} "
            f"(largest {top.insight} {top.peak_rss / 2**30:.2f} GiB"
            f"{'; runs that did not finish count with their peak when killed' if any(not r.ok for r in big) else ''})"
        )
        missing = sorted(set(INSIGHTS) - {r.insight for r in big})
        if missing:
            lines.append(f"100M events: not measured for {', '.join(missing)}")
    else:
        lines.append("100M-event goals (60 s, 6 GB): not measured in this run")
    sps = [(r, s) for r in gk if (s := speedup_vs_pandas(results, r)) is not None]
    if sps:
        low = [f"{r.insight} {s:.1f}x" for r, s in sps if s < GOAL_SPEEDUP]
        lines.append(
            f"at least {GOAL_SPEEDUP:.0f}x faster than pandas at 10M: {'NOT met' if low else 'MET'} "
            f"({min(s for _, s in sps):.1f}x to {max(s for _, s in sps):.1f}x"
            f"{'; below: ' + ', '.join(low) if low else ''})"
        )
    else:
        lines.append(f"{GOAL_SPEEDUP:.0f}x faster than pandas: not measured in this run")
    rvs = [(r, v) for r in gk if (v := ratio_vs_sql(results, r)) is not None]
    if rvs:
        over = [f"{r.insight} {r.events // 1_000_000}M {v:.2f}x" for r, v in rvs if v > GOAL_OVERHEAD]
        lines.append(
            f"growthkit (Ibis) at most {GOAL_OVERHEAD}x the hand-written SQL: {'NOT met' if over else 'MET'} "
            f"({min(v for _, v in rvs):.2f}x to {max(v for _, v in rvs):.2f}x"
            f"{'; over: ' + ', '.join(over) if over else ''})"
        )
    wrong = [f"{r.insight} {r.events // 1_000_000}M {r.tool}" for r in results if r.check.startswith("DIFFER")]
    lines.append(
        "same numbers from all tools: "
        + ("NO, differences in " + ", ".join(wrong) if wrong else "yes, every answer checked equal")
    )
    return lines


def markdown(results: list[Result], args: argparse.Namespace, command: str, info: dict[str, str],
             sizes: dict[int, str]) -> str:  # fmt: skip
    facts = "\n".join(f"- {k}: {v}" for k, v in info.items())
    data = "\n".join(f"- {n:,} events: {desc}" for n, desc in sizes.items())
    questions = "\n".join(f"- **{k}**: {v}" for k, v in QUESTIONS.items())
    goals = "\n".join(f"- {line}" for line in goal_lines(results))
    diffs = "\n".join(
        f"- {r.insight} {r.events:,} {r.tool}: {r.check}" for r in results if r.check.startswith("DIFFER")
    )
    return f"""## Analytics insights (`bench/analytics.py`)

Command: `{command}`; every run is a fresh process on the store opened read-only with DuckDB
memory_limit={args.memory_limit}, threads={args.threads}; seconds = best of {args.repeat} run(s) at 10M and below,
one run above; they cover open → query → result in Python (imports excluded); peak RSS is the child's own
`VmHWM` (not `ru_maxrss`, which inherits the parent's high-water mark).
pandas reads the needed columns with DuckDB, then works in pandas (10M events at most).
"ratio vs SQL" = growthkit seconds / hand-written SQL seconds; "speedup vs pandas" = pandas seconds / tool seconds.
The "answer" column says whether the tool's numbers equal growthkit's (relative tolerance 1e-9).

{facts}

Data (synthetic, generated with DuckDB SQL, one year, 2024; seed {args.seed}):

{data}

Questions:

{questions}

{markdown_table(HEADERS, table_rows(results), right=RIGHT)}

**Goals:**

{goals}
{chr(10) + "Differences:" + chr(10) + chr(10) + diffs if diffs else ""}
"""


def describe_store(db: Path) -> str:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    n_users, n_active = con.sql("SELECT (SELECT count(*) FROM users), count(DISTINCT user_id) FROM events").fetchall()[
        0
    ]
    mix = con.sql(
        "SELECT event_type, count(*) * 100.0 / sum(count(*)) OVER () FROM events GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    top = con.sql(
        "SELECT max(c), quantile_cont(c, 0.5) FROM (SELECT count(*) c FROM events GROUP BY user_id)"
    ).fetchall()[0]
    con.close()
    types = ", ".join(f"{t} {p:.1f}%" for t, p in mix)
    return (
        f"{n_users:,} users ({n_active:,} with events; events per user median {top[1]:.0f}, max {top[0]:,}); "
        f"{types}; store file {db.stat().st_size / 1e9:.2f} GB"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000000", help="comma-separated event counts")
    p.add_argument("--insights", default=",".join(INSIGHTS), help=f"comma-separated: {', '.join(INSIGHTS)}")
    p.add_argument("--tools", default=",".join(TOOLS), help="comma-separated: growthkit, sql, pandas")
    p.add_argument("--quick", action="store_true", help="smoke run: 1M events, one run each, RESULTS.md untouched")
    p.add_argument("--out", type=Path, default=None, help="results file (default bench/RESULTS.md; none with --quick)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=2, help="runs per measurement at 10M and below (best is kept)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per run before it is killed")
    p.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit of every run (and of generation)")
    p.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    p.add_argument("--child", nargs=4, metavar=("TOOL", "INSIGHT", "DB", "OUT"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        tool, insight, db, out = args.child
        child_main(tool, insight, Path(db), Path(out), args.memory_limit, args.threads)
        return 0
    if args.quick:
        args.repeat = 1
    sizes = [1_000_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    insights = [i.strip() for i in args.insights.split(",")]
    tools = [t.strip() for t in args.tools.split(",")]
    out = args.out or (None if args.quick else Path(__file__).resolve().parent / "RESULTS.md")
    console = Console() if sys.stdout.isatty() else Console(width=160)
    info = machine_info()
    info["disk free at start"] = f"{shutil.disk_usage(DATA_DIR.parent).free / 1e9:.0f} GB"
    results: list[Result] = []
    described: dict[int, str] = {}
    for events in sizes:
        with console.status(f"generating {events:,} events (cached in {DATA_DIR})"):
            db = generate(events, args.seed, args.memory_limit, args.threads, console)
        described[events] = describe_store(db)
        console.log(f"{events:,} events: {described[events]}")
        for insight in insights:
            ref: Answer | None = None
            for tool in tools:
                if tool == "pandas" and events > PANDAS_MAX_EVENTS:
                    continue
                console.log(f"{insight} {events:,} {tool} ... (load {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
                r = measure(tool, insight, db, events, args, console)
                if tool == "growthkit":
                    ref = r.answer
                elif r.answer is not None and ref is not None:
                    same, msg = compare(ref, r.answer)
                    r.check = msg if same else "DIFFERS: " + msg
                elif r.answer is not None:
                    r.check = "not checked (no growthkit answer)"
                results.append(r)
                console.log(f"  {r.status}: {r.seconds:.1f} s, peak RSS {r.peak_rss / MIB:,.0f} MiB {r.check}")
        for r in results:
            if r.tool == "growthkit" and r.ok and not r.check:
                r.check = "reference"
        if out is not None:  # after every size, so a long 100M run leaves the 10M table behind
            command = "python bench/analytics.py " + " ".join(argv if argv is not None else sys.argv[1:])
            replace_section(out, SECTION, markdown(results, args, command.strip(), info, described))
    print_table(results, console)
    for line in goal_lines(results):
        console.print(line)
    if out is not None:
        console.print(f"wrote {out}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
