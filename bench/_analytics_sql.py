"""Hand-written DuckDB SQL answering each analytics benchmark question, for bench/analytics.py."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from _analytics_base import (
    END_TS,
    FUNNEL_WINDOW,
    LTV_PERIODS,
    RETENTION_PERIODS,
    START_TS,
    TREND_METRICS,
    USER_ACTIONS,
    Answer,
    _connect,
    _day,
    _num,
    _ratio,
    week_starts,
)

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
dd AS (SELECT day, lead(day) OVER (PARTITION BY user_id ORDER BY day) AS nxt FROM d WHERE day < {END_TS}),
-- a user is in the W-day window of day t iff t is in [a, min(next active day, a + W)) for one
-- active day a; these intervals are disjoint, so each count is a running sum of +1/-1 marks
marks AS (
  SELECT day AS md, 1 AS dau, 1 AS wau, 1 AS mau FROM dd
  UNION ALL SELECT day + INTERVAL 1 DAY, -1, 0, 0 FROM dd
  UNION ALL SELECT least(coalesce(nxt, day + INTERVAL 7 DAY), day + INTERVAL 7 DAY), 0, -1, 0 FROM dd
  UNION ALL SELECT least(coalesce(nxt, day + INTERVAL 30 DAY), day + INTERVAL 30 DAY), 0, 0, -1 FROM dd),
running AS (
  SELECT md, sum(sum(dau)) OVER w AS dau, sum(sum(wau)) OVER w AS wau, sum(sum(mau)) OVER w AS mau
  FROM marks GROUP BY md WINDOW w AS (ORDER BY md ROWS UNBOUNDED PRECEDING)),
roll AS (SELECT cal.target, running.dau, running.wau, running.mau
         FROM cal ASOF JOIN running ON cal.target >= running.md),
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


def child_sql(insight: str, db: Path, memory_limit: str, threads: int) -> tuple[float, Answer]:
    t0 = time.perf_counter()
    con = _connect(db, memory_limit, threads)
    df = con.sql(SQL[insight]).df()
    con.close()
    seconds = time.perf_counter() - t0
    return seconds, sql_answer(insight, df)
