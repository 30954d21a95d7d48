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
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from _common import DATA_DIR, MIB, ChildRun, machine_info, markdown_table, replace_section, run_child

SECTION = "analytics"
TOOLS = ("growthkit", "sql", "pandas")
INSIGHTS = ("trends", "stickiness", "lifecycle", "aarrr", "funnel", "retention", "ltv")
PANDAS_MAX_EVENTS = 10_000_000
GOAL_SECONDS, GOAL_RSS_GB, GOAL_SPEEDUP, GOAL_OVERHEAD = 60.0, 6.0, 3.0, 1.2
GOAL_SIZE = 100_000_000

# --------------------------------------------------------------------------- the questions
YEAR_START, YEAR_END = date(2024, 1, 1), date(2024, 12, 31)  # the data covers 2024 (366 days)
START_TS, END_TS = "TIMESTAMP '2024-01-01'", "TIMESTAMP '2025-01-01'"
TREND_METRICS = ("active_users", "dau", "orders", "gross_revenue")
FUNNEL_WINDOW = timedelta(days=7)
RETENTION_PERIODS = 8
LTV_PERIODS = 12
USER_ACTIONS = ("view", "search", "cart", "purchase", "refund", "review", "share", "invite", "coupon_redeemed")

QUESTIONS = {
    "trends": f"{', '.join(TREND_METRICS)} per ISO week of 2024",
    "stickiness": "DAU/WAU/MAU and DAU/MAU per day; active days per user per week",
    "lifecycle": "new/returning/resurrecting/dormant users per week (first-event births)",
    "aarrr": "acquisition by channel, 7-day activation (purchase), day-30..36 retention, revenue, referral",
    "funnel": "view -> cart -> purchase, ordered, 7-day window, best attempt per user; medians, histograms",
    "retention": f"first signup cohorts per week, return = any event, weeks 0..{RETENTION_PERIODS}",
    "ltv": f"first-event cohorts per week, cumulative net revenue per user, weeks 0..{LTV_PERIODS}",
}


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


def store_path(events: int, seed: int) -> Path:
    return DATA_DIR / f"analytics-{events}-seed{seed}.duckdb"


def generate(events: int, seed: int, memory_limit: str, threads: int, console: Console) -> Path:
    """Write the store for ``events`` events (cached by size and seed); SQL only, spills to disk."""
    from growthkit.config import Settings
    from growthkit.store import open_store

    path = store_path(events, seed)
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
    users = max(events // 40, 1000)
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


# --------------------------------------------------------------------------- canonical answers
Answer = dict[str, float | None]
"""One insight's numbers, keyed by ``cell|field`` strings; compared across tools."""


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _day(v: Any) -> str:
    import pandas as pd

    return str(pd.Timestamp(v).date())


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


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


# --------------------------------------------------------------------------- hand-written SQL
WEEKS_SQL = f"(SELECT range AS period FROM range({START_TS}, {END_TS}, INTERVAL 7 DAY))"
"""Week starts of 2024: 2024-01-01 is a Monday, so 53 ISO weeks from 2024-01-01 to 2024-12-30."""

SQL: dict[str, str] = {
    "trends": f"""
WITH ev AS (
  SELECT user_id, ts, event_type, event_id, session_id, amount, date_trunc('week', ts) AS period
  FROM events WHERE ts >= {START_TS} AND ts < {END_TS}),
w AS (SELECT period, least(period + INTERVAL 6 DAY, TIMESTAMP '2024-12-31') AS target FROM {WEEKS_SQL}),
agg AS (
  SELECT period, count(DISTINCT user_id) AS active_users,
         count(DISTINCT CASE WHEN event_type = 'purchase'
                             THEN user_id || '|' || coalesce('s:' || session_id, 'e:' || event_id) END) AS orders,
         sum(amount) FILTER (WHERE event_type = 'purchase') AS gross_revenue
  FROM ev GROUP BY period),
dau AS (SELECT w.period, count(DISTINCT ev.user_id) AS dau FROM ev JOIN w ON date_trunc('day', ev.ts) = w.target
        GROUP BY w.period)
SELECT w.period, coalesce(active_users, 0) AS active_users, coalesce(dau, 0) AS dau, coalesce(orders, 0) AS orders,
       coalesce(gross_revenue, 0) AS gross_revenue
FROM w LEFT JOIN agg USING (period) LEFT JOIN dau USING (period) ORDER BY w.period""",
    "stickiness": f"""
WITH d AS (SELECT DISTINCT user_id, date_trunc('day', ts) AS day FROM events
           WHERE ts >= {START_TS} - INTERVAL 29 DAY AND ts < TIMESTAMP '2025-01-06'),
cal AS (SELECT range AS target FROM range({START_TS}, {END_TS}, INTERVAL 1 DAY)),
roll AS (
  SELECT cal.target, count(DISTINCT user_id) FILTER (WHERE day = cal.target) AS dau,
         count(DISTINCT user_id) FILTER (WHERE day > cal.target - INTERVAL 7 DAY) AS wau,
         count(DISTINCT user_id) AS mau
  FROM cal JOIN d ON d.day <= cal.target AND d.day > cal.target - INTERVAL 30 DAY AND d.day < {END_TS}
  GROUP BY cal.target),
per AS (SELECT date_trunc('week', day) AS period, user_id, count(*) AS days FROM d WHERE day >= {START_TS}
        GROUP BY ALL),
g AS (SELECT period, days, count(*) AS users FROM per GROUP BY ALL),
grid AS (SELECT w.period, k.days FROM {WEEKS_SQL} w, (SELECT range AS days FROM range(1, 8)) k)
SELECT 'ratio' AS part, cal.target AS period, 0 AS days, coalesce(dau, 0) AS a, coalesce(wau, 0) AS b,
       coalesce(mau, 0) AS c
FROM cal LEFT JOIN roll USING (target)
UNION ALL
SELECT 'dist', grid.period, grid.days, coalesce(users, 0), sum(coalesce(users, 0)) OVER (PARTITION BY grid.period),
       0
FROM grid LEFT JOIN g USING (period, days)""",
    "lifecycle": f"""
WITH born AS (SELECT user_id, date_trunc('week', min(ts)) AS born FROM events GROUP BY user_id),
act AS (SELECT DISTINCT user_id, date_trunc('week', ts) AS period FROM events
        WHERE ts >= TIMESTAMP '2023-12-25' AND ts < TIMESTAMP '2025-01-06'),
a AS (SELECT act.user_id, act.period, born.born,
             lag(act.period) OVER (PARTITION BY act.user_id ORDER BY act.period) AS prev,
             lead(act.period) OVER (PARTITION BY act.user_id ORDER BY act.period) AS nxt
      FROM act JOIN born USING (user_id) WHERE act.period >= born.born),
st AS (
  SELECT period, CASE WHEN period = born THEN 'new' WHEN prev = period - INTERVAL 7 DAY THEN 'returning'
                      ELSE 'resurrecting' END AS status, user_id
  FROM a WHERE period >= {START_TS} AND period <= TIMESTAMP '2024-12-30'
  UNION ALL
  SELECT period + INTERVAL 7 DAY, 'dormant', user_id FROM a
  WHERE (nxt IS NULL OR nxt <> period + INTERVAL 7 DAY)
    AND period + INTERVAL 7 DAY >= {START_TS} AND period + INTERVAL 7 DAY <= TIMESTAMP '2024-12-30'),
g AS (SELECT period, status, count(DISTINCT user_id) AS n FROM st GROUP BY ALL)
SELECT w.period, s.status, coalesce(g.n, 0) * CASE WHEN s.status = 'dormant' THEN -1 ELSE 1 END AS users
FROM {WEEKS_SQL} w CROSS JOIN (VALUES ('new'), ('returning'), ('resurrecting'), ('dormant')) s(status)
LEFT JOIN g ON g.period = w.period AND g.status = s.status""",
    "funnel": f"""
WITH ev AS (
  SELECT user_id, ts, CASE event_type WHEN 'view' THEN 0 WHEN 'cart' THEN 1 ELSE 2 END AS step,
         row_number() OVER (PARTITION BY user_id ORDER BY ts, step, event_id) AS seq
  FROM events WHERE event_type IN ('view', 'cart', 'purchase') AND ts >= {START_TS}
    AND ts < {END_TS} + INTERVAL {FUNNEL_WINDOW.days} DAY),
a AS (SELECT user_id, seq AS a_seq, ts AS t0 FROM ev WHERE step = 0 AND ts < {END_TS}),
c AS (SELECT user_id, seq, ts FROM ev WHERE step = 1),
p AS (SELECT user_id, seq, ts FROM ev WHERE step = 2),
a1 AS (SELECT a.*, CASE WHEN c.ts <= a.t0 + INTERVAL {FUNNEL_WINDOW.days} DAY THEN c.seq END AS s1,
              CASE WHEN c.ts <= a.t0 + INTERVAL {FUNNEL_WINDOW.days} DAY THEN c.ts END AS t1
       FROM a ASOF LEFT JOIN c ON a.user_id = c.user_id AND a.a_seq < c.seq),
a2 AS (SELECT a1.*, CASE WHEN p.ts <= a1.t0 + INTERVAL {FUNNEL_WINDOW.days} DAY THEN p.ts END AS t2
       FROM a1 ASOF LEFT JOIN p ON a1.user_id = p.user_id AND a1.s1 < p.seq),
best AS (
  SELECT user_id, arg_max(row(t0, t1, t2), row(CASE WHEN t2 IS NOT NULL THEN 2 WHEN t1 IS NOT NULL THEN 1 ELSE 0 END,
                                              -a_seq)) AS b
  FROM a2 GROUP BY user_id),
d AS (SELECT epoch(b[2]) - epoch(b[1]) AS df1, epoch(b[3]) - epoch(b[1]) AS df2,
             epoch(b[3]) - epoch(b[2]) AS dp2 FROM best)
SELECT count(*) AS n0, count(df1) AS n1, count(df2) AS n2, median(df1) AS mf1, median(df2) AS mf2,
       median(df1) AS mp1, median(dp2) AS mp2,
       list(least(CAST(floor(df1 / {FUNNEL_WINDOW.total_seconds() / 10}) AS INT), 9))
         FILTER (WHERE df1 IS NOT NULL) AS b1,
       list(least(CAST(floor(df2 / {FUNNEL_WINDOW.total_seconds() / 10}) AS INT), 9))
         FILTER (WHERE df2 IS NOT NULL) AS b2
FROM d""",
    "retention": f"""
WITH until AS (SELECT max(ts) + INTERVAL 1 MICROSECOND AS as_of FROM events),
first AS (
  SELECT user_id, arg_min(ts, row(ts, event_id)) AS anchor FROM events, until
  WHERE event_type = 'signup' AND ts < as_of GROUP BY user_id),
en AS (
  SELECT user_id, anchor, date_trunc('week', anchor) AS cohort,
         least(date_diff('day', date_trunc('week', anchor), date_trunc('week', as_of)) // 7 - 1,
               {RETENTION_PERIODS}) AS max_elig
  FROM first, until WHERE anchor >= {START_TS} AND anchor < {END_TS}),
ret AS (
  SELECT cohort, k, count(DISTINCT user_id) AS returned FROM (
    SELECT en.cohort, en.user_id, en.max_elig, date_diff('day', en.cohort, date_trunc('week', e.ts)) // 7 AS k
    FROM en JOIN events e ON e.user_id = en.user_id AND e.ts >= en.anchor
      AND e.ts < en.cohort + INTERVAL {7 * (RETENTION_PERIODS + 1)} DAY, until
    WHERE e.ts < until.as_of)
  WHERE k <= max_elig GROUP BY ALL),
ks AS (SELECT range AS k FROM range(0, {RETENTION_PERIODS + 1})),
cells AS (
  SELECT en.cohort, ks.k, count(*) AS cohort_size, count(*) FILTER (WHERE max_elig >= ks.k) AS eligible
  FROM en, ks GROUP BY ALL)
SELECT cohort, k, cohort_size, eligible, coalesce(returned, 0) AS returned
FROM cells LEFT JOIN ret USING (cohort, k)""",
    "ltv": f"""
WITH until AS (SELECT max(ts) + INTERVAL 1 MICROSECOND AS as_of FROM events),
first AS (SELECT user_id, min(ts) AS anchor FROM events, until WHERE ts < as_of GROUP BY user_id),
en AS (
  SELECT user_id, anchor, date_trunc('week', anchor) AS cohort,
         least(date_diff('day', date_trunc('week', anchor), date_trunc('week', as_of)) // 7 - 1, {LTV_PERIODS})
           AS max_elig
  FROM first, until WHERE anchor >= {START_TS} AND anchor < {END_TS}),
rev AS (
  SELECT en.cohort, en.max_elig, date_diff('day', en.cohort, date_trunc('week', e.ts)) // 7 AS n,
         sum(CASE WHEN e.event_type = 'refund' THEN -coalesce(e.amount, 0) ELSE coalesce(e.amount, 0) END) AS v
  FROM en JOIN events e ON e.user_id = en.user_id AND e.ts >= en.anchor, until
  WHERE e.event_type IN ('purchase', 'refund') AND e.ts < until.as_of GROUP BY ALL),
ks AS (SELECT range AS k FROM range(0, {LTV_PERIODS + 1})),
cells AS (SELECT cohort, k, count(*) AS cohort_size, count(*) FILTER (WHERE max_elig >= k) AS eligible
          FROM en, ks GROUP BY ALL),
cum AS (SELECT cohort, k, sum(v) AS revenue FROM rev JOIN ks ON rev.n <= ks.k AND rev.max_elig >= ks.k GROUP BY ALL)
SELECT cohort, k, cohort_size, eligible, coalesce(revenue, 0) AS revenue FROM cells LEFT JOIN cum USING (cohort, k)""",
}

_UA = ", ".join(f"'{t}'" for t in USER_ACTIONS)
AARRR_SQL = f"""
WITH per_user AS (
  SELECT user_id, min(ts) FILTER (WHERE event_type = 'signup') AS first_signup_ts, min(ts) AS first_ts,
         arg_min_null(channel, row(ts, event_type <> 'signup', event_id)) AS first_channel
  FROM events GROUP BY user_id),
who AS (
  SELECT coalesce(u.user_id, p.user_id) AS user_id,
         coalesce(least(u.signup_ts, p.first_signup_ts), p.first_ts) AS signup_ts,
         coalesce(u.channel, p.first_channel, '(none)') AS channel
  FROM users u FULL JOIN per_user p ON u.user_id = p.user_id),
obs AS (SELECT max(ts) AS until FROM events),
cohort AS (SELECT * FROM who WHERE signup_ts >= {START_TS} AND signup_ts < {END_TS}),
act AS (SELECT DISTINCT c.user_id FROM cohort c JOIN events e ON e.user_id = c.user_id
        WHERE e.event_type = 'purchase' AND e.ts >= c.signup_ts AND e.ts < c.signup_ts + INTERVAL 7 DAY),
ret AS (SELECT DISTINCT c.user_id FROM cohort c JOIN events e ON e.user_id = c.user_id
        WHERE e.event_type IN ({_UA}) AND e.ts >= c.signup_ts + INTERVAL 30 DAY
          AND e.ts < c.signup_ts + INTERVAL 37 DAY),
pairs AS (
  SELECT referrer, invitee, ts, src FROM (
    SELECT src_user AS referrer, dst_user AS invitee, ts, 0 AS src FROM edges WHERE kind = 'referral'
    UNION ALL
    SELECT properties->>'$.referrer', user_id, ts, 1 FROM events WHERE event_type = 'signup'
    UNION ALL
    SELECT user_id, properties->>'$.invitee', ts, 2 FROM events WHERE event_type = 'invite')
  WHERE referrer IS NOT NULL AND invitee IS NOT NULL AND referrer <> invitee),
best AS (
  SELECT p.invitee, p.referrer, w.signup_ts AS invitee_signup,
         row_number() OVER (PARTITION BY p.invitee ORDER BY p.src, p.ts ASC NULLS LAST, p.referrer) AS rn
  FROM pairs p JOIN who w ON p.invitee = w.user_id
  WHERE w.signup_ts IS NOT NULL AND (p.src <> 2 OR p.ts <= w.signup_ts)),
acc AS (
  SELECT b.invitee, (epoch(b.invitee_signup) - epoch(r.signup_ts)) / 86400.0 AS days, r.signup_ts AS ref_signup
  FROM best b LEFT JOIN who r ON b.referrer = r.user_id
  WHERE b.rn = 1 AND b.invitee_signup >= {START_TS} AND b.invitee_signup < {END_TS}),
tot AS (
  SELECT sum(coalesce(amount, 0)) FILTER (WHERE event_type = 'purchase') AS gross,
         sum(coalesce(amount, 0)) FILTER (WHERE event_type = 'refund') AS refunds,
         count(DISTINCT user_id) FILTER (WHERE event_type = 'purchase') AS paying,
         count(DISTINCT user_id) FILTER (WHERE event_type IN ({_UA})) AS active,
         count(*) FILTER (WHERE event_type = 'invite') AS sent,
         count(DISTINCT user_id) FILTER (WHERE event_type = 'invite') AS inviters
  FROM events WHERE ts >= {START_TS} AND ts < {END_TS}),
ref AS (
  SELECT count(*) AS accepted, median(days) FILTER (WHERE ref_signup IS NOT NULL AND days >= 0) AS cycle,
         count(*) FILTER (WHERE ref_signup IS NOT NULL AND days >= 0) AS cycle_pairs FROM acc)
SELECT 'channel' AS kind, c.channel, count(*) AS new, count(act.user_id) AS activated, count(ret.user_id) AS retained,
       count(*) FILTER (WHERE c.signup_ts + INTERVAL 7 DAY > obs.until) AS act_inc,
       count(*) FILTER (WHERE c.signup_ts + INTERVAL 37 DAY > obs.until) AS ret_inc,
       NULL::DOUBLE AS x1, NULL::DOUBLE AS x2, NULL::DOUBLE AS x3, NULL::DOUBLE AS x4
FROM cohort c LEFT JOIN act USING (user_id) LEFT JOIN ret USING (user_id), obs GROUP BY c.channel
UNION ALL
SELECT 'totals', NULL, paying, active, sent, inviters, accepted, gross, refunds, cycle, cycle_pairs FROM tot, ref
"""
SQL["aarrr"] = AARRR_SQL


def aarrr_answer(channels: list[tuple[str, int, int, int, int, int]], tot: dict[str, Any]) -> Answer:
    """The tidy AARRR numbers (as ``AarrrResult.to_frame()`` lays them out) from per-channel rows and totals."""
    out: Answer = {}
    rows = sorted(channels, key=lambda r: (-r[1], r[0]))
    new = sum(r[1] for r in rows)
    out["acquisition|new_users|(all)"] = float(new)
    for ch, n, *_ in rows:
        out[f"acquisition|new_users|{ch}"] = float(n)
    for stage, col in (("activation", 2), ("retention", 3)):
        per = [("(all)", sum(r[col] for r in rows), new)] + [(r[0], r[col], r[1]) for r in rows]
        for ch, num, den in per:
            out[f"{stage}|users|{ch}"] = float(num)
            out[f"{stage}|new_users|{ch}"] = float(den)
            out[f"{stage}|rate|{ch}"] = _ratio(num, den)
    out["activation|incomplete|(all)"] = float(sum(r[4] for r in rows))
    out["retention|incomplete|(all)"] = float(sum(r[5] for r in rows))
    gross, refunds = float(tot["gross"] or 0.0), float(tot["refunds"] or 0.0)
    active, paying = int(tot["active"]), int(tot["paying"])
    net = gross - refunds
    revenue = {"gross": gross, "refunds": refunds, "net": net, "active_users": active, "paying_users": paying,
               "arpu": _ratio(net, active), "arppu": _ratio(net, paying),
               "paying_share": _ratio(paying, active)}  # fmt: skip
    sent, accepted = int(tot["sent"]), int(tot["accepted"])
    referral = {"invites_sent": sent, "inviters": int(tot["inviters"]), "invites_accepted": accepted,
                "active_users": active, "invites_per_user": _ratio(sent, active),
                "acceptance_rate": _ratio(accepted, sent), "k_factor": _ratio(accepted, active),
                "viral_cycle_days": _num(tot["cycle"]), "cycle_pairs": int(tot["cycle_pairs"] or 0)}  # fmt: skip
    for stage, d in (("revenue", revenue), ("referral", referral)):
        for k, v in d.items():
            out[f"{stage}|{k}|(all)"] = _num(v)
    return out


def funnel_answer(n: list[int], mf: list[float | None], mp: list[float | None], hist: list[list[int]]) -> Answer:
    """Funnel numbers as ``FunnelResult.steps`` lays them out."""
    out: Answer = {}
    for k in range(3):
        prev = n[k - 1] if k else n[0]
        vals = {"count": n[k], "conversion_from_first": n[k] / n[0] if n[0] else 0.0,
                "conversion_from_previous": n[k] / prev if prev else 0.0, "dropped": prev - n[k],
                "median_seconds_from_first": mf[k], "median_seconds_from_previous": mp[k]}  # fmt: skip
        for f, v in vals.items():
            out[f"{k}|{f}"] = _num(v)
        for i, h in enumerate(hist[k]):
            out[f"{k}|h{i}"] = float(h)
    return out


def _bins(values: list[Any]) -> list[int]:
    counts = [0] * 10
    for b in values:
        if b is not None:
            counts[int(b)] += 1
    return counts


def sql_answer(insight: str, df: Any) -> Answer:
    """The hand-written query's result frame as an :data:`Answer` (tiny post-processing only)."""
    out: Answer = {}
    if insight == "trends":
        for r in df.itertuples(index=False):
            for m in TREND_METRICS:
                out[f"{_day(r.period)}|{m}"] = float(getattr(r, m))
    elif insight == "stickiness":
        for r in df.itertuples(index=False):
            if r.part == "ratio":
                day = _day(r.period)
                for name, v in (("dau", r.a), ("wau", r.b), ("mau", r.c)):
                    out[f"ratio|{day}|{name}"] = float(v)
                out[f"ratio|{day}|dau_mau"] = _ratio(float(r.a), float(r.c))
            else:
                out[f"dist|{_day(r.period)}|{r.days}|users"] = float(r.a)
                out[f"dist|{_day(r.period)}|{r.days}|share"] = _ratio(float(r.a), float(r.b))
    elif insight == "lifecycle":
        for r in df.itertuples(index=False):
            out[f"{_day(r.period)}|{r.status}"] = float(r.users)
    elif insight == "aarrr":
        ch = [(str(r.channel), int(r.new), int(r.activated), int(r.retained), int(r.act_inc), int(r.ret_inc))
              for r in df.itertuples(index=False) if r.kind == "channel"]  # fmt: skip
        t = next(r for r in df.itertuples(index=False) if r.kind == "totals")
        tot = {"paying": t.new, "active": t.activated, "sent": t.retained, "inviters": t.act_inc,
               "accepted": t.ret_inc, "gross": t.x1, "refunds": t.x2, "cycle": t.x3, "cycle_pairs": t.x4}  # fmt: skip
        out = aarrr_answer(ch, tot)
    elif insight == "funnel":
        r = df.iloc[0]
        n = [int(r.n0), int(r.n1), int(r.n2)]
        out = funnel_answer(n, [0.0 if n[0] else None, _num(r.mf1), _num(r.mf2)], [None, _num(r.mp1), _num(r.mp2)],
                            [[n[0]] + [0] * 9, _bins(list(r.b1)), _bins(list(r.b2))])  # fmt: skip
    elif insight in ("retention", "ltv"):
        found = {(_day(r.cohort), int(r.k)): r for r in df.itertuples(index=False)}
        periods = RETENTION_PERIODS if insight == "retention" else LTV_PERIODS
        for wk in week_starts():
            for k in range(periods + 1):
                r = found.get((wk, k))
                size, elig = (int(r.cohort_size), int(r.eligible)) if r is not None else (0, 0)
                out[f"{wk}|{k}|cohort_size"], out[f"{wk}|{k}|eligible"] = float(size), float(elig)
                if insight == "retention":
                    ret = int(r.returned) if r is not None else 0
                    out[f"{wk}|{k}|returned"], out[f"{wk}|{k}|share"] = float(ret), _ratio(ret, elig)
                else:
                    rev = float(r.revenue) if r is not None else 0.0
                    out[f"{wk}|{k}|revenue"], out[f"{wk}|{k}|ltv"] = rev, _ratio(rev, elig)
    return out


def week_starts() -> list[str]:
    d, out = YEAR_START, []
    while d <= YEAR_END:
        out.append(str(d))
        d += timedelta(days=7)
    return out


def _connect(db: Path, memory_limit: str, threads: int) -> Any:
    import duckdb

    con = duckdb.connect(str(db), read_only=True, config={"memory_limit": memory_limit, "threads": threads})
    con.execute("SET TimeZone = 'UTC'")
    return con


def child_sql(insight: str, db: Path, memory_limit: str, threads: int) -> tuple[float, Answer]:
    t0 = time.perf_counter()
    con = _connect(db, memory_limit, threads)
    df = con.sql(SQL[insight]).df()
    con.close()
    seconds = time.perf_counter() - t0
    return seconds, sql_answer(insight, df)


# --------------------------------------------------------------------------- pandas
def _week(ts: Any) -> Any:
    import pandas as pd

    d = ts.dt.normalize()
    return d - pd.to_timedelta(d.dt.weekday, unit="D")


def _read(con: Any, sql: str) -> Any:
    return con.sql(sql).df()


def pd_trends(con: Any) -> Answer:
    import numpy as np
    import pandas as pd

    df = _read(con, f"SELECT user_id, ts, event_type, event_id, session_id, amount FROM events "
                    f"WHERE ts >= {START_TS} AND ts < {END_TS}")  # fmt: skip
    df["period"] = _week(df["ts"])
    active = df.groupby("period")["user_id"].nunique()
    p = df[df["event_type"] == "purchase"]
    order = p["user_id"] + "|" + np.where(p["session_id"].isna(), "e:" + p["event_id"], "s:" + p["session_id"])
    orders = order.groupby(p["period"]).nunique()
    gross = p.groupby("period")["amount"].sum()
    target = (df["period"] + pd.Timedelta(days=6)).clip(upper=pd.Timestamp(YEAR_END))
    last = df[df["ts"].dt.normalize() == target]
    dau = last.groupby("period")["user_id"].nunique()
    out: Answer = {}
    for wk in week_starts():
        key = pd.Timestamp(wk)
        for m, s in (("active_users", active), ("dau", dau), ("orders", orders), ("gross_revenue", gross)):
            out[f"{wk}|{m}"] = float(s.get(key, 0))
    return out


def pd_stickiness(con: Any) -> Answer:
    import numpy as np
    import pandas as pd

    df = _read(con, f"SELECT user_id, ts FROM events WHERE ts >= {START_TS} AND ts < TIMESTAMP '2025-01-06'")
    days = pd.DataFrame({"user": pd.factorize(df["user_id"])[0], "day": df["ts"].dt.normalize()}).drop_duplicates()
    del df
    cal = pd.date_range(YEAR_START, YEAR_END, freq="D")
    out: Answer = {}
    counts = {}
    for name, w in (("dau", 1), ("wau", 7), ("mau", 30)):
        shifted = pd.concat([days.assign(day=days["day"] + pd.Timedelta(days=i)) for i in range(w)])
        shifted = shifted[shifted["day"] <= pd.Timestamp(YEAR_END)].drop_duplicates()
        counts[name] = shifted.groupby("day")["user"].nunique()
    for d in cal:
        v = {n: float(counts[n].get(d, 0)) for n in counts}
        for n, x in v.items():
            out[f"ratio|{d.date()}|{n}"] = x
        out[f"ratio|{d.date()}|dau_mau"] = _ratio(v["dau"], v["mau"])
    days["period"] = _week(days["day"])
    per = days.groupby(["period", "user"]).size()
    dist = per.groupby(level="period").value_counts()
    for wk in week_starts():
        key = pd.Timestamp(wk)
        users = np.array([int(dist.get((key, k), 0)) for k in range(1, 8)])
        total = users.sum()
        for k in range(1, 8):
            out[f"dist|{wk}|{k}|users"] = float(users[k - 1])
            out[f"dist|{wk}|{k}|share"] = _ratio(float(users[k - 1]), float(total))
    return out


def pd_lifecycle(con: Any) -> Answer:
    import pandas as pd

    df = _read(con, "SELECT user_id, ts FROM events")
    born = _week(df.groupby("user_id")["ts"].min()).rename("born")
    df = df[(df["ts"] >= pd.Timestamp("2023-12-25")) & (df["ts"] < pd.Timestamp("2025-01-06"))]
    a = pd.DataFrame({"user_id": df["user_id"], "period": _week(df["ts"])}).drop_duplicates()
    a = a.join(born, on="user_id")
    a = a[a["period"] >= a["born"]].sort_values(["user_id", "period"])
    g = a.groupby("user_id")["period"]
    a["prev"], a["nxt"] = g.shift(1), g.shift(-1)
    wk = pd.Timedelta(days=7)
    first, last = pd.Timestamp(YEAR_START), pd.Timestamp("2024-12-30")
    cur = a[(a["period"] >= first) & (a["period"] <= last)]
    status = pd.Series("resurrecting", index=cur.index)
    status[cur["prev"] == cur["period"] - wk] = "returning"
    status[cur["period"] == cur["born"]] = "new"
    live = cur.groupby([cur["period"], status])["user_id"].nunique()
    gone = a[a["nxt"].isna() | (a["nxt"] != a["period"] + wk)]
    nxt = gone["period"] + wk
    gone = gone[(nxt >= first) & (nxt <= last)]
    dormant = gone.groupby(gone["period"] + wk)["user_id"].nunique()
    out: Answer = {}
    for w in week_starts():
        key = pd.Timestamp(w)
        for s in ("new", "returning", "resurrecting"):
            out[f"{w}|{s}"] = float(live.get((key, s), 0))
        out[f"{w}|dormant"] = -float(dormant.get(key, 0))
    return out


def pd_aarrr(con: Any) -> Answer:
    import pandas as pd

    ev = _read(con, "SELECT user_id, ts, event_type, event_id, channel, amount, properties FROM events")
    users = _read(con, "SELECT user_id, signup_ts, channel FROM users")
    until = ev["ts"].max()
    srt = ev.assign(nsg=ev["event_type"] != "signup").sort_values(["ts", "nsg", "event_id"])
    first = srt.drop_duplicates("user_id")[["user_id", "channel"]].rename(columns={"channel": "first_channel"})
    per = ev.groupby("user_id").agg(first_ts=("ts", "min"))
    per["first_signup_ts"] = ev[ev["event_type"] == "signup"].groupby("user_id")["ts"].min()
    per = per.reset_index().merge(first, on="user_id")
    who = users.merge(per, on="user_id", how="outer", suffixes=("_u", ""))
    least = who[["signup_ts", "first_signup_ts"]].min(axis=1)
    who["signup"] = least.fillna(who["first_ts"])
    who["ch"] = who["channel"].fillna(who["first_channel"]).fillna("(none)")
    inr = (who["signup"] >= pd.Timestamp(YEAR_START)) & (who["signup"] < pd.Timestamp("2025-01-01"))
    c = who.loc[inr, ["user_id", "signup", "ch"]]

    def hits(types: tuple[str, ...], lo: int, hi: int) -> set[str]:
        e = ev.loc[ev["event_type"].isin(types), ["user_id", "ts"]].merge(c, on="user_id")
        ok = (e["ts"] >= e["signup"] + pd.Timedelta(days=lo)) & (e["ts"] < e["signup"] + pd.Timedelta(days=hi))
        return set(e.loc[ok, "user_id"])

    act, ret = hits(("purchase",), 0, 7), hits(USER_ACTIONS, 30, 37)
    c = c.assign(act=c["user_id"].isin(act), ret=c["user_id"].isin(ret),
                 ai=c["signup"] + pd.Timedelta(days=7) > until,
                 ri=c["signup"] + pd.Timedelta(days=37) > until)  # fmt: skip
    g = c.groupby("ch").agg(new=("user_id", "size"), a=("act", "sum"), r=("ret", "sum"), ai=("ai", "sum"),
                            ri=("ri", "sum"))  # fmt: skip
    channels = [(str(ch), int(r.new), int(r.a), int(r.r), int(r.ai), int(r.ri)) for ch, r in g.iterrows()]
    y = ev[(ev["ts"] >= pd.Timestamp(YEAR_START)) & (ev["ts"] < pd.Timestamp("2025-01-01"))]
    buy, inv = y[y["event_type"] == "purchase"], y[y["event_type"] == "invite"]
    tot: dict[str, Any] = {
        "gross": buy["amount"].fillna(0).sum(), "refunds": y.loc[y["event_type"] == "refund", "amount"].fillna(0).sum(),
        "paying": buy["user_id"].nunique(), "active": y.loc[y["event_type"].isin(USER_ACTIONS), "user_id"].nunique(),
        "sent": len(inv), "inviters": inv["user_id"].nunique(),
    }  # fmt: skip
    props = ev[ev["properties"].notna() & ev["event_type"].isin(["signup", "invite"])]
    parsed = props["properties"].map(json.loads)
    sg = props["event_type"] == "signup"
    ref = parsed.map(lambda d: d.get("referrer")).where(sg)
    invitee = parsed.map(lambda d: d.get("invitee")).where(~sg)
    pairs = pd.concat([
        pd.DataFrame({"referrer": ref, "invitee": props["user_id"], "ts": props["ts"], "src": 1})[sg],
        pd.DataFrame({"referrer": props["user_id"], "invitee": invitee, "ts": props["ts"], "src": 2})[~sg],
    ])  # fmt: skip
    pairs = pairs[pairs["referrer"].notna() & pairs["invitee"].notna() & (pairs["referrer"] != pairs["invitee"])]
    sign = who[["user_id", "signup"]]
    j = pairs.merge(sign.rename(columns={"user_id": "invitee", "signup": "inv_signup"}), on="invitee")
    j = j[j["inv_signup"].notna() & ((j["src"] != 2) | (j["ts"] <= j["inv_signup"]))]
    best = j.sort_values(["invitee", "src", "ts", "referrer"]).drop_duplicates("invitee")
    best = best.merge(sign.rename(columns={"user_id": "referrer", "signup": "ref_signup"}), on="referrer", how="left")
    acc = best[(best["inv_signup"] >= pd.Timestamp(YEAR_START)) & (best["inv_signup"] < pd.Timestamp("2025-01-01"))]
    days = (acc["inv_signup"] - acc["ref_signup"]).dt.total_seconds() / 86400.0
    ok = acc["ref_signup"].notna() & (days >= 0)
    tot |= {"accepted": len(acc), "cycle": days[ok].median() if ok.any() else None, "cycle_pairs": int(ok.sum())}
    return aarrr_answer(channels, tot)


def pd_funnel(con: Any) -> Answer:
    import numpy as np
    import pandas as pd

    ev = _read(con, f"SELECT user_id, ts, event_type, event_id FROM events "
                    f"WHERE event_type IN ('view', 'cart', 'purchase') AND ts >= {START_TS} "
                    f"AND ts < {END_TS} + INTERVAL {FUNNEL_WINDOW.days} DAY")  # fmt: skip
    ev["step"] = ev["event_type"].map({"view": 0, "cart": 1, "purchase": 2})
    ev = ev.sort_values(["user_id", "ts", "step", "event_id"], ignore_index=True)
    ev["seq"] = np.arange(len(ev))  # increasing within each user: the stream order
    win = pd.Timedelta(FUNNEL_WINDOW)
    a = ev[(ev["step"] == 0) & (ev["ts"] < pd.Timestamp("2025-01-01"))][["user_id", "seq", "ts"]]
    a = a.rename(columns={"seq": "a_seq", "ts": "t0"})

    def first_after(left: Any, key: str, k: int) -> Any:
        # the user's first step-k event after `key` in stream order; dropped when outside the window
        nxt = ev[ev["step"] == k][["user_id", "seq", "ts"]].rename(columns={"seq": f"s{k}", "ts": f"t{k}"})
        m = pd.merge_asof(left.sort_values(key), nxt, left_on=key, right_on=f"s{k}", by="user_id",
                          direction="forward", allow_exact_matches=False)  # fmt: skip
        ok = m[f"t{k}"] <= m["t0"] + win
        return m.assign(**{f"s{k}": m[f"s{k}"].where(ok), f"t{k}": m[f"t{k}"].where(ok)})

    a1 = first_after(a, "a_seq", 1)
    has1 = a1["s1"].notna()
    a = pd.concat([first_after(a1[has1].astype({"s1": "int64"}), "s1", 2), a1[~has1]])
    a["reached"] = np.where(a["t2"].notna(), 2, np.where(a["t1"].notna(), 1, 0))
    best = a.sort_values(["user_id", "reached", "a_seq"], ascending=[True, False, True]).drop_duplicates("user_id")
    df1 = (best["t1"] - best["t0"]).dt.total_seconds()
    df2 = (best["t2"] - best["t0"]).dt.total_seconds()
    dp2 = (best["t2"] - best["t1"]).dt.total_seconds()
    step = FUNNEL_WINDOW.total_seconds() / 10
    hist = [[len(best)] + [0] * 9] + [
        np.bincount(np.minimum(np.floor(d.dropna() / step), 9).astype(int), minlength=10).tolist() for d in (df1, df2)
    ]
    n = [len(best), int(df1.notna().sum()), int(df2.notna().sum())]
    return funnel_answer(n, [0.0 if n[0] else None, _num(df1.median()), _num(df2.median())], [None, _num(df1.median()),
                         _num(dp2.median())], hist)  # fmt: skip


def _cohort_cells(en: Any, rows: Any, periods: int, value: str) -> Answer:
    """Shared by retention and LTV: cohort sizes and eligibility from entries, plus ``value`` per cell."""
    import pandas as pd

    out: Answer = {}
    sizes = en.groupby("cohort").size()
    for wk in week_starts():
        key = pd.Timestamp(wk)
        elig_all = en.loc[en["cohort"] == key, "max_elig"].to_numpy() if key in sizes.index else []
        for k in range(periods + 1):
            elig = int((elig_all >= k).sum()) if len(elig_all) else 0
            out[f"{wk}|{k}|cohort_size"] = float(sizes.get(key, 0))
            out[f"{wk}|{k}|eligible"] = float(elig)
            v = float(rows.get((key, k), 0))
            if value == "returned":
                out[f"{wk}|{k}|returned"], out[f"{wk}|{k}|share"] = v, _ratio(v, elig)
            else:
                out[f"{wk}|{k}|revenue"], out[f"{wk}|{k}|ltv"] = v, _ratio(v, elig)
    return out


def _max_elig(en: Any, as_of: Any, periods: int) -> Any:
    import pandas as pd

    as_week = _week(pd.Series([as_of])).iloc[0]
    return (((as_week - en["cohort"]).dt.days // 7) - 1).clip(upper=periods)


def pd_retention(con: Any) -> Answer:
    import pandas as pd

    ev = _read(con, "SELECT user_id, ts, event_type, event_id FROM events")
    as_of = ev["ts"].max() + pd.Timedelta(microseconds=1)
    sg = ev[ev["event_type"] == "signup"].sort_values(["ts", "event_id"]).drop_duplicates("user_id")
    en = sg[(sg["ts"] >= pd.Timestamp(YEAR_START)) & (sg["ts"] < pd.Timestamp("2025-01-01"))][["user_id", "ts"]]
    en = en.rename(columns={"ts": "anchor"})
    en["cohort"] = _week(en["anchor"])
    en["max_elig"] = _max_elig(en, as_of, RETENTION_PERIODS)
    j = ev[["user_id", "ts"]].merge(en, on="user_id")
    j = j[j["ts"] >= j["anchor"]]
    j["k"] = (_week(j["ts"]) - j["cohort"]).dt.days // 7
    j = j[(j["k"] <= j["max_elig"]) & (j["k"] <= RETENTION_PERIODS)]
    returned = j.groupby(["cohort", "k"])["user_id"].nunique()
    return _cohort_cells(en, returned, RETENTION_PERIODS, "returned")


def pd_ltv(con: Any) -> Answer:
    import numpy as np
    import pandas as pd

    ev = _read(con, "SELECT user_id, ts, event_type, amount FROM events")
    as_of = ev["ts"].max() + pd.Timedelta(microseconds=1)
    en = ev.groupby("user_id")["ts"].min().rename("anchor").reset_index()
    en = en[(en["anchor"] >= pd.Timestamp(YEAR_START)) & (en["anchor"] < pd.Timestamp("2025-01-01"))]
    en["cohort"] = _week(en["anchor"])
    en["max_elig"] = _max_elig(en, as_of, LTV_PERIODS)
    r = ev[ev["event_type"].isin(["purchase", "refund"])]
    r = r.assign(v=np.where(r["event_type"] == "refund", -r["amount"].fillna(0), r["amount"].fillna(0)))
    j = r[["user_id", "ts", "v"]].merge(en, on="user_id")
    j = j[j["ts"] >= j["anchor"]]
    j["n"] = (_week(j["ts"]) - j["cohort"]).dt.days // 7
    revenue = {}
    for k in range(LTV_PERIODS + 1):
        sel = j[(j["n"] <= k) & (j["max_elig"] >= k)]
        for cohort, v in sel.groupby("cohort")["v"].sum().items():
            revenue[(cohort, k)] = v
    return _cohort_cells(en, revenue, LTV_PERIODS, "revenue")


PANDAS: dict[str, Callable[[Any], Answer]] = {
    "trends": pd_trends,
    "stickiness": pd_stickiness,
    "lifecycle": pd_lifecycle,
    "aarrr": pd_aarrr,
    "funnel": pd_funnel,
    "retention": pd_retention,
    "ltv": pd_ltv,
}


def child_pandas(insight: str, db: Path, memory_limit: str, threads: int) -> tuple[float, Answer]:
    t0 = time.perf_counter()
    con = _connect(db, memory_limit, threads)
    answer = PANDAS[insight](con)
    con.close()
    return time.perf_counter() - t0, answer


CHILDREN = {"growthkit": child_growthkit, "sql": child_sql, "pandas": child_pandas}


def peak_rss_bytes() -> int:
    """This process's own peak RSS: ``VmHWM`` of its address space.

    Not ``ru_maxrss``: Linux carries the *parent's* high-water mark into a child across
    fork/vfork + exec, so a child of a parent that once held 2 GB reports at least 2 GB.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


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
