"""Straightforward pandas implementations of each analytics benchmark question, for bench/analytics.py."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _analytics_base import (
    END_TS,
    FUNNEL_WINDOW,
    LTV_PERIODS,
    RETENTION_PERIODS,
    START_TS,
    USER_ACTIONS,
    YEAR_END,
    YEAR_START,
    Answer,
    _connect,
    _num,
    _ratio,
    week_starts,
)
from _analytics_sql import aarrr_answer, funnel_answer


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
