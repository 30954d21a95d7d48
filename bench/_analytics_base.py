"""The benchmark's questions and the shape of an answer (shared by bench/analytics.py and its references)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

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
