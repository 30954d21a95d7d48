"""The LTV curve on a hand-checked timeline, and the portability of every retention expression.

All timestamps are naive UTC; dates in comments are 2025-03-DD.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ibis
import pytest

from growthkit.analytics._common import AnalyticsQueryError, Breakdown, DateRange, EventFilter, Period
from growthkit.analytics.retention import RetentionQuery, _cells_table
from growthkit.analytics.retention_core import build_frame, resolve_as_of
from growthkit.analytics.retention_ltv import REVENUE_EVENTS, LtvQuery, _points_table, run_ltv_curve
from growthkit.config import Settings
from growthkit.store import Store, open_store


def d(day: int) -> date:
    return date(2025, 3, day)


def t(day: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(2025, 3, day, hh, mm)


# ann: first seen with a 100 purchase on the 3rd 10:00; 50 purchase and 20 refund on the 4th (net 30)
# bob: 40 purchase on the 3rd 12:00, 10 on the 5th
# cy:  only a view on the 3rd 08:00 (a cohort user who never pays)
# dee: first seen on the 2nd, before the range: in no cohort, her 999 never counts
# eve: first seen with a 30 purchase on the 5th
EVENTS = [
    ("ann", t(3, 10), "purchase", 100.0),
    ("ann", t(4, 10), "purchase", 50.0),
    ("ann", t(4, 11), "refund", 20.0),
    ("bob", t(3, 12), "purchase", 40.0),
    ("bob", t(5, 10), "purchase", 10.0),
    ("cy", t(3, 8), "view", None),
    ("dee", t(2, 9), "view", None),
    ("dee", t(3, 9), "purchase", 999.0),
    ("eve", t(5, 9), "purchase", 30.0),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(Settings(db=":memory:", workspace=tmp_path))
    for i, (user, ts, kind, amount) in enumerate(EVENTS):
        st.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES (?, ?, ?, ?, ?)",
            [f"e{i}", user, ts, kind, amount],
        )
    for user, channel in [("ann", "ads"), ("bob", "seo"), ("cy", "ads"), ("eve", "ads")]:
        st.execute("INSERT INTO users (user_id, channel) VALUES (?, ?)", [user, channel])
    yield st
    st.close()


def q(**kw: Any) -> LtvQuery:
    base: dict[str, Any] = {"date_range": DateRange(d(3), d(5)), "periods": 2, "as_of": t(6)}
    return LtvQuery(**{**base, **kw})


def rows(res: Any, cohort: date, bd: str | None = None) -> list[tuple[int, float, float | None]]:
    return [(p.eligible, p.revenue, p.ltv) for p in res.points if p.cohort == cohort and p.breakdown == bd]


def test_calendar_ltv_curve(store: Store) -> None:
    con = store.ibis()
    res = run_ltv_curve(con, q())
    # cohort 3rd (first seen): ann, bob, cy. Cumulative: P0 100+40 = 140, P1 +30 = 170, P2 +10 = 180;
    # all three days are over at as_of 6th 00:00
    assert rows(res, d(3)) == [(3, 140.0, 140 / 3), (3, 170.0, 170 / 3), (3, 180.0, 60.0)]
    # cohort 4th: empty; cohort 5th: eve, P0 over (ends 6th 00:00), P1 and P2 not
    assert rows(res, d(4)) == [(0, 0.0, None)] * 3
    assert rows(res, d(5)) == [(1, 30.0, 30.0), (0, 0.0, None), (0, 0.0, None)]
    # pooled: P0 (140 + 30) / (3 + 1); P2 only cohort 3rd
    assert [(p.eligible, p.ltv) for p in res.curve()] == [(4, 42.5), (3, 170 / 3), (3, 60.0)]
    assert res.actors(con, d(3), 2) == ["ann", "bob", "cy"]
    assert res.actors(con, d(5), 1) == []
    assert res.matrix().loc[d(3)].tolist() == [140 / 3, 170 / 3, 60.0]


def test_ltv_cohort_by_first_purchase(store: Store) -> None:
    res = run_ltv_curve(store.ibis(), q(start_event=EventFilter(("purchase",))))
    # cohort 3rd = ann, bob and dee: dee was first *seen* on the 2nd, but her first *purchase* is on the 3rd,
    # so she is a new buyer; cy never buys. P0: 100 + 40 + 999 = 1139; P1: +30 (ann); P2: +10 (bob)
    assert rows(res, d(3)) == [(3, 1139.0, 1139 / 3), (3, 1169.0, 1169 / 3), (3, 1179.0, 393.0)]


def test_rolling_ltv_counts_each_user_only_once_their_window_is_over(store: Store) -> None:
    con = store.ibis()
    res = run_ltv_curve(con, q(windows="rolling", as_of=t(5, 11), date_range=DateRange(d(3), d(3))))
    # anchors: cy 3rd 08:00, ann 3rd 10:00, bob 3rd 12:00. ann's 4th 10:00 purchase is exactly anchor + 24 h: P1.
    # P0: all windows over by 4th 12:00 -> ann 100 + bob 40 = 140 over 3
    # P1 ends 5th 08:00 (cy), 10:00 (ann) - over at 11:00 - and 12:00 (bob) - not over; cum ann 130, cy 0 -> 65
    # P2: nobody's window is over
    assert rows(res, d(3)) == [(3, 140.0, 140 / 3), (2, 130.0, 65.0), (0, 0.0, None)]
    assert res.actors(con, d(3), 1) == ["ann", "cy"]


def test_ltv_breakdown_and_serialisation(store: Store) -> None:
    con = store.ibis()
    res = run_ltv_curve(con, q(breakdown=Breakdown("user.channel")))
    # ads: ann + cy (+ eve on the 5th); seo: bob
    assert rows(res, d(3), "ads") == [(2, 100.0, 50.0), (2, 130.0, 65.0), (2, 130.0, 65.0)]
    assert rows(res, d(3), "seo") == [(1, 40.0, 40.0), (1, 40.0, 40.0), (1, 50.0, 50.0)]
    assert res.actors(con, d(3), 0, breakdown="ads") == ["ann", "cy"]
    payload = json.loads(json.dumps(res.to_dict()))
    assert payload["query"]["start_event"] == {"event_types": [], "where": []}
    assert len(res.to_frame()) == 2 * 3 * 3  # breakdown values x cohorts x periods


def test_ltv_same_instant_purchase_and_refund(tmp_path: Path) -> None:
    st = open_store(Settings(db=":memory:", workspace=tmp_path))
    st.execute(
        "INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES "
        "('a', 'ann', '2025-03-03 10:00', 'purchase', 25), ('b', 'ann', '2025-03-03 10:00', 'refund', 25)"
    )
    # both at the cohort instant: both in P0, net 0
    res = run_ltv_curve(st.ibis(), q(date_range=DateRange(d(3), d(3)), periods=0))
    assert rows(res, d(3)) == [(1, 0.0, 0.0)]
    st.close()


def test_bad_ltv_queries() -> None:
    with pytest.raises(AnalyticsQueryError, match="periods must be"):
        q(periods=-2)
    with pytest.raises(AnalyticsQueryError, match="windows must be"):
        q(windows="hourly")


class _SparkOptions(ibis.config.Config):
    treat_nan_as_null: bool = False


@pytest.mark.parametrize(
    ("period", "windows", "cohort", "mode"),
    [
        # every operation used appears at least once: day/week arithmetic, month arithmetic, rolling CASE windows,
        # first-ever and per-period anchors, exact (with revenue) and unbounded cells
        (Period.DAY, "rolling", "first", "exact"),
        (Period.WEEK, "calendar", "recurring", "unbounded"),
        (Period.MONTH, "calendar", "first", "unbounded"),
        (Period.MONTH, "rolling", "recurring", "exact"),
    ],
)
def test_every_expression_compiles_for_pyspark(
    store: Store, monkeypatch: pytest.MonkeyPatch, period: Period, windows: Any, cohort: Any, mode: Any
) -> None:
    """Portability: the PySpark compiler translates every expression (it raises on unsupported ops)."""
    monkeypatch.setattr(ibis.options, "pyspark", _SparkOptions())  # registered only when pyspark is installed
    con = store.ibis()
    as_of = resolve_as_of(con, None)
    rq = RetentionQuery(
        EventFilter(("purchase",)),
        REVENUE_EVENTS,
        DateRange(d(3), d(5)),
        period,
        periods=2,
        cohort=cohort,
        mode=mode,
        windows=windows,
        measure="revenue" if mode == "exact" else "users",
        breakdown=Breakdown("user.channel"),
    )
    frame = build_frame(con, rq.spec(), rq.return_event, as_of)
    sql = ibis.to_sql(_cells_table(frame, rq, range(3)), dialect="pyspark")
    assert "UNIX_TIMESTAMP" in sql or "EXTRACT(month" in sql  # Spark's own functions, no DuckDB EPOCH()
    assert "EPOCH(" not in sql.upper()
    lq = q(period=period, windows=windows)
    ltv = _points_table(build_frame(con, lq.spec(), REVENUE_EVENTS, as_of), lq.periods)
    assert "SELECT" in ibis.to_sql(ltv, dialect="pyspark")
