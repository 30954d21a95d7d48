"""Every insight gives the same answer on PySpark (local mode) as on DuckDB.

One simulated shop (400 users x 60 days, loaded through ``ingest_files``) plus a
few hand-made timelines for the edge cases (events at the same instant, on
period and range boundaries, sub-second gaps, users without a signup time or
without a ``users`` row, numeric JSON properties, NULL channels) live in one
DuckDB store, mirrored to Spark once. Each test runs an insight with several
option combinations on both engines and compares the results: frames equal
after normalising dtypes and timezones (floats to 1e-9 relative), and the
users behind a few cells.

Spark is slow to start, so the whole file shares one session and one mirror.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pandas.testing as pdt
import pytest

from growthkit.analytics._common import Breakdown, DateRange, EventFilter, NewUser, Period
from growthkit.analytics.aarrr import AarrrQuery, RetentionWindow, Stage, run_aarrr
from growthkit.analytics.funnel import FunnelExclusion, FunnelQuery, FunnelStep, run_funnel
from growthkit.analytics.lifecycle import LifecycleQuery, LifecycleStatus, run_lifecycle
from growthkit.analytics.retention import RetentionQuery, run_retention
from growthkit.analytics.retention_ltv import LtvQuery, run_ltv_curve
from growthkit.analytics.retention_trend import run_retention_trend
from growthkit.analytics.segments import ALL_USERS, Segment, compare
from growthkit.analytics.stickiness import StickinessQuery, run_stickiness
from growthkit.analytics.trends import TrendMetric, TrendsQuery, run_trends
from growthkit.config import Settings
from growthkit.sim import SimConfig, write_simulation
from growthkit.store import Store, open_store
from growthkit.workflows import ingest_files

pytest.importorskip("pyspark", reason="the [spark] extra is not installed")
from growthkit.store.spark import mirror_store, spark_backend, spark_session

pytestmark = pytest.mark.spark

SHOP = SimConfig(users=400, days=60, seed=7)  # 2025-01-01 .. 2025-03-01, about 8,500 events
RANGE = DateRange(date(2025, 1, 8), date(2025, 2, 19))  # Wednesday to Wednesday: partial first and last weeks
MONTHS = DateRange(date(2025, 1, 1), date(2025, 2, 28))
DAYS = DateRange(date(2025, 1, 27), date(2025, 2, 9))
VIEW, PURCHASE = EventFilter(("view",)), EventFilter(("purchase",))
MONEY = EventFilter(("purchase", "refund"))
RTOL = 1e-9

# Hand-made timelines (users "x-..."): (event_id, user_id, ts, event_type, amount, session_id, channel, properties)
_T = datetime
EDGE_EVENTS: list[tuple[str, str, datetime, str, float | None, str | None, str | None, str | None]] = [
    # everything at one instant, on a Monday midnight (a week boundary); ids out of funnel order
    ("x-e03", "x-tie", _T(2025, 1, 13), "view", None, None, "ads", None),
    ("x-e02", "x-tie", _T(2025, 1, 13), "cart", None, None, "ads", None),
    ("x-e01", "x-tie", _T(2025, 1, 13), "purchase", 10.0, None, "ads", '{"coupon_id": "cp-x"}'),
    ("x-e00", "x-tie", _T(2025, 1, 13), "purchase", 5.0, None, "organic", None),
    ("x-e04", "x-tie", _T(2025, 1, 15, 12), "invite", None, None, "ads", '{"invitee": "x-ghost"}'),
    ("x-e05", "x-tie", _T(2025, 1, 20), "view", None, None, None, None),
    # range and month boundaries, to the microsecond
    ("x-e10", "x-edge", _T(2025, 1, 8), "signup", None, None, "social", None),
    ("x-e11", "x-edge", _T(2025, 1, 8), "view", None, None, "social", None),
    ("x-e12", "x-edge", _T(2025, 1, 31, 23, 59, 59, 999_999), "purchase", 40.0, "s-x1", "social", None),
    ("x-e13", "x-edge", _T(2025, 1, 31, 23, 59, 59, 999_999), "purchase", 2.5, "s-x1", "social", None),
    ("x-e14", "x-edge", _T(2025, 2, 1), "refund", 12.5, None, None, '{"reason": "broken"}'),
    ("x-e15", "x-edge", _T(2025, 2, 19, 23, 59, 59, 999_999), "view", None, None, "social", None),
    ("x-e16", "x-edge", _T(2025, 2, 20), "view", None, None, "social", None),
    # no signup time anywhere, NULL channel, sub-second funnel gaps, a numeric JSON property
    ("x-e20", "x-nosignup", _T(2025, 1, 20, 10, 0, 0, 500_000), "view", None, None, None, None),
    ("x-e21", "x-nosignup", _T(2025, 1, 20, 10, 0, 1, 250_000), "cart", None, None, None, None),
    ("x-e22", "x-nosignup", _T(2025, 1, 20, 10, 0, 1, 900_000), "purchase", 7.0, None, None, '{"coupon_id": 123}'),
    ("x-e23", "x-nosignup", _T(2025, 1, 27, 10, 0, 0, 400_000), "view", None, None, None, None),
    # no users row; referred by x-tie through a signup property a microsecond after the invite
    ("x-e30", "x-ghost", _T(2025, 1, 15, 12, 0, 0, 1), "signup", None, None, "referral", '{"referrer": "x-tie"}'),
    ("x-e31", "x-ghost", _T(2025, 1, 15, 12, 0, 0, 1), "view", None, None, "referral", None),
    ("x-e32", "x-ghost", _T(2025, 2, 16, 8), "view", None, None, "referral", None),
]
EDGE_USERS: list[tuple[str, datetime | None, str | None, str | None]] = [
    ("x-tie", _T(2025, 1, 13), "ads", "1"),
    ("x-edge", None, "social", None),
    ("x-nosignup", None, None, None),
    ("x-late", _T(2025, 2, 19, 23, 59, 59), "ads", "2"),  # acquired, never active
]


@dataclass(frozen=True)
class Engines:
    duck: Any
    spark: Any


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_session(app="growthkit-parity", shuffle_partitions=1)
    # tiny data: code generation and adaptive planning cost more than they save
    session.conf.set("spark.sql.codegen.wholeStage", "false")
    session.conf.set("spark.sql.adaptive.enabled", "false")
    yield session
    session.stop()


def _add_edge_cases(store: Store) -> None:
    for row in EDGE_EVENTS:
        store.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, amount, session_id, channel, properties) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            list(row),
        )
    for user in EDGE_USERS:
        store.execute("INSERT INTO users (user_id, signup_ts, channel, city_tier) VALUES (?, ?, ?, ?)", list(user))


@pytest.fixture(scope="module")
def engines(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    tmp = tmp_path_factory.mktemp("parity")
    manifest = write_simulation(SHOP, tmp / "sim")
    settings = Settings(db=str(tmp / "shop.duckdb"), workspace=tmp)
    for name in ("users", "items", "events", "edges", "reviews"):
        report = ingest_files(settings, [manifest.files[name]], kind=name)
        assert report.rows_quarantined == 0 and report.rows_loaded == manifest.rows[name], name
    with open_store(settings) as store:
        _add_edge_cases(store)
        con = spark_backend(spark)
        (tmp / "parquet").mkdir()
        mirror_store(store, con, workdir=tmp / "parquet")
        yield Engines(store.ibis(), con)


# ----------------------------------------------------------------- comparing


def _norm_value(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return tuple(_norm_value(x) for x in v)
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, datetime | date):
        return pd.Timestamp(v)
    return v


def _norm(df: pd.DataFrame) -> pd.DataFrame:
    """Same values, engine-neutral dtypes: float64 numbers, naive ns timestamps, Python objects."""
    out = {}
    for col in df.columns:
        s = df[col].reset_index(drop=True)
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            s = s.astype("datetime64[ns]")
        elif pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            s = s.astype("float64")
        else:
            s = pd.Series([_norm_value(v) for v in s], dtype=object)
        out[col] = s
    return pd.DataFrame(out)


def assert_same(duck: pd.DataFrame, spark: pd.DataFrame, what: str = "") -> None:
    """Equal frames (rows in the insight's own order), floats to ``RTOL`` relative."""
    a, b = _norm(duck), _norm(spark)
    assert list(a.columns) == list(b.columns), what
    pdt.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=RTOL, atol=1e-12, obj=what or "frame")


def both(engines: Engines, fn: Callable[[Any], Any]) -> tuple[Any, Any]:
    return fn(engines.duck), fn(engines.spark)


def same_actors(engines: Engines, fn: Callable[[Any], list[str]]) -> list[str]:
    duck, spark = both(engines, fn)
    assert duck == spark
    return duck


# ----------------------------------------------------------------- trends

ALL_METRICS = tuple(TrendMetric)


@pytest.mark.parametrize(
    ("period", "breakdown", "metrics", "filters", "new_user"),
    [
        pytest.param(Period.DAY, None, ALL_METRICS, None, NewUser.FIRST_EVENT, id="day-every-metric"),
        pytest.param(Period.MONTH, None, ALL_METRICS, None, NewUser.SIGNUP, id="month-every-metric-signup"),
        pytest.param(
            Period.WEEK,
            Breakdown("channel"),
            ("new_users", "active_users", "wau", "orders", "net_revenue", "aov", "conversion"),
            None,
            NewUser.FIRST_EVENT,
            id="week-event-column",
        ),
        pytest.param(
            Period.MONTH,
            Breakdown("user.city_tier"),
            ("new_users", "purchasers", "gross_revenue", "mau"),
            None,
            NewUser.SIGNUP,
            id="month-user-column",
        ),
        pytest.param(
            Period.WEEK,
            Breakdown("item.category"),
            ("active_users", "orders", "gross_revenue"),
            EventFilter(("view", "cart", "purchase"), where=(("channel", "ads"),)),
            NewUser.FIRST_EVENT,
            id="week-item-column-channel-filter",
        ),
        pytest.param(
            Period.WEEK,
            Breakdown("properties.coupon_id"),
            ("active_users", "orders", "gross_revenue", "dau"),
            PURCHASE,
            NewUser.FIRST_EVENT,
            id="week-json-property",
        ),
    ],
)
def test_trends(
    engines: Engines,
    period: Period,
    breakdown: Breakdown | None,
    metrics: tuple[str, ...],
    filters: EventFilter | None,
    new_user: NewUser,
) -> None:
    dr = {Period.DAY: DAYS, Period.WEEK: RANGE, Period.MONTH: MONTHS}[period]
    q = TrendsQuery(tuple(metrics), dr, period, breakdown=breakdown, filters=filters, new_user=new_user)
    duck, spark = both(engines, lambda con: run_trends(con, q))
    assert_same(duck.frame, spark.frame)
    assert duck.frame["value"].fillna(0).abs().sum() > 0
    if breakdown is not None:
        assert duck.frame["breakdown"].nunique() > 1


def test_trends_actors(engines: Engines) -> None:
    q = TrendsQuery(("new_users", "wau", "orders"), RANGE, Period.WEEK, breakdown=Breakdown("channel"))
    res = run_trends(engines.duck, q)
    monday = date(2025, 1, 13)
    for metric, bd in (("new_users", None), ("wau", "ads"), ("orders", "organic")):
        ids = same_actors(engines, lambda con, m=metric, b=bd: res.actors(con, monday, m, b))
        assert ids, metric
    prop = TrendsQuery(("active_users",), RANGE, Period.WEEK, breakdown=Breakdown("properties.coupon_id"))
    res = run_trends(engines.duck, prop)
    # the numeric JSON property reads as text, on both engines
    assert same_actors(engines, lambda con: res.actors(con, date(2025, 1, 20), "active_users", "123")) == ["x-nosignup"]


# ----------------------------------------------------------------- stickiness and lifecycle


@pytest.mark.parametrize("period", [Period.WEEK, Period.MONTH])
def test_stickiness(engines: Engines, period: Period) -> None:
    filters = None if period is Period.WEEK else EventFilter(("view", "purchase"))
    q = StickinessQuery(RANGE, period, filters=filters)
    duck, spark = both(engines, lambda con: run_stickiness(con, q))
    assert_same(duck.ratio, spark.ratio, "ratio")
    assert_same(duck.distribution, spark.distribution, "distribution")
    assert duck.distribution["users"].sum() > 0
    start = duck.distribution["period"].iloc[0]
    assert same_actors(engines, lambda con: duck.actors(con, start, days=1))
    same_actors(engines, lambda con: duck.actors(con, start))


@pytest.mark.parametrize(
    ("period", "new_user", "filters"),
    [
        (Period.WEEK, NewUser.FIRST_EVENT, None),
        (Period.MONTH, NewUser.SIGNUP, None),
        (Period.DAY, NewUser.SIGNUP, PURCHASE),
    ],
    ids=["week-first-event", "month-signup", "day-signup-purchases"],
)
def test_lifecycle(engines: Engines, period: Period, new_user: NewUser, filters: EventFilter | None) -> None:
    dr = MONTHS if period is Period.MONTH else RANGE
    if period is Period.DAY:
        dr = DAYS
    q = LifecycleQuery(dr, period, new_user=new_user, filters=filters)
    duck, spark = both(engines, lambda con: run_lifecycle(con, q))
    assert_same(duck.frame, spark.frame)
    assert (duck.frame["users"] != 0).sum() > 4
    if period is Period.WEEK:
        for status in LifecycleStatus:
            assert same_actors(engines, lambda con, s=status: duck.actors(con, date(2025, 1, 20), s)), status


# ----------------------------------------------------------------- AARRR and segments

AARRR_QUERIES = {
    "default": AarrrQuery(DateRange(date(2025, 1, 1), date(2025, 1, 31))),
    "calendar-retention": AarrrQuery(
        DateRange(date(2025, 1, 6), date(2025, 2, 2)),
        activation=EventFilter(("cart", "purchase")),
        activation_days=3,
        retention=RetentionWindow.calendar(Period.WEEK, offset=2),
    ),
}


@pytest.mark.parametrize("name", list(AARRR_QUERIES))
def test_aarrr(engines: Engines, name: str) -> None:
    q = AARRR_QUERIES[name]
    duck, spark = both(engines, lambda con: run_aarrr(con, q))
    assert duck.observed_until == spark.observed_until
    assert_same(duck.to_frame(), spark.to_frame())
    assert duck.retention.retained.numerator > 0 and duck.referral.invites_accepted > 0
    if name != "default":
        return
    for stage, cell, channel in (
        (Stage.ACQUISITION, "numerator", "ads"),
        (Stage.ACTIVATION, "numerator", None),
        (Stage.RETENTION, "denominator", "organic"),
        (Stage.REFERRAL, "numerator", None),
        (Stage.REFERRAL, "referrers", None),
    ):
        assert same_actors(engines, lambda con, s=stage, c=cell, ch=channel: duck.actors(con, s, c, ch)), (stage, cell)


def test_segments_compare(engines: Engines) -> None:
    """Each segment is an id list sent to the engine as a memtable; edges touching it are kept."""
    ids = sorted({f"u{i:07d}" for i in range(0, 400, 3)} | {"x-tie", "x-ghost", "x-nosignup"})
    segments = [Segment.of("every third and the edge cases", ids)]
    q = AARRR_QUERIES["default"]
    duck, spark = both(engines, lambda con: compare(con, run_aarrr, q, segments))
    assert duck.names == spark.names == (ALL_USERS, segments[0].name)
    assert_same(duck.frame(), spark.frame())
    assert 0 < duck[segments[0].name].acquisition.new_users < duck[ALL_USERS].acquisition.new_users
    got = same_actors(engines, lambda con: duck.actors(con, segments[0].name, Stage.REFERRAL, "numerator"))
    assert "x-ghost" in got


# ----------------------------------------------------------------- funnels

STEPS = (FunnelStep("view"), FunnelStep("cart"), FunnelStep("purchase"))
COUPON_STEPS = (
    FunnelStep("coupon_received", where=(("properties.campaign_id", "cmp001"),)),
    FunnelStep("view"),
    FunnelStep("purchase"),
)
FUNNELS = {
    "ordered-channel-first-touch": FunnelQuery(STEPS, RANGE, timedelta(days=3), breakdown=Breakdown("channel")),
    "ordered-last-touch-step-windows": FunnelQuery(
        STEPS,
        RANGE,
        timedelta(days=7),
        step_windows=(timedelta(hours=2), None),
        breakdown=Breakdown("channel"),
        attribution="last_touch",
        time_bins=(timedelta(seconds=1), timedelta(minutes=5), timedelta(hours=1), timedelta(days=1)),
    ),
    "strict-user-column": FunnelQuery(
        STEPS, RANGE, timedelta(days=1), order="strict", breakdown=Breakdown("user.city_tier")
    ),
    "unordered-exclusion": FunnelQuery(
        STEPS,
        RANGE,
        timedelta(days=2),
        order="unordered",
        exclusions=(FunnelExclusion(FunnelStep("search"), 0, 1),),
    ),
    "ordered-json-step-exclusion": FunnelQuery(
        COUPON_STEPS,
        MONTHS,
        timedelta(days=14),
        exclusions=(FunnelExclusion(FunnelStep("refund"), 1),),
        breakdown=Breakdown("properties.coupon_id"),
    ),
}


@pytest.mark.parametrize("name", list(FUNNELS))
def test_funnel(engines: Engines, name: str) -> None:
    q = FUNNELS[name]
    duck, spark = both(engines, lambda con: run_funnel(con, q))
    assert_same(duck.to_frame(), spark.to_frame())
    assert duck.counts[-1] > 0
    assert same_actors(engines, lambda con: duck.actors(con, q.last_step))
    if q.breakdown is not None and q.attribution == "first_touch":
        same_actors(engines, lambda con: duck.actors(con, 1, dropped=True))
        top = duck.breakdowns[0].breakdown
        assert same_actors(engines, lambda con: duck.actors(con, 0, breakdown=top))


def test_funnel_same_instant_and_sub_second_gaps(engines: Engines) -> None:
    """x-tie does view, cart, purchase at one instant (ids out of order); x-nosignup 0.75 s and 0.65 s apart."""
    q = FunnelQuery(STEPS, DateRange(date(2025, 1, 13), date(2025, 1, 20)), timedelta(hours=1), order="strict")
    duck, spark = both(engines, lambda con: run_funnel(con, q))
    assert_same(duck.to_frame(), spark.to_frame())
    done = same_actors(engines, lambda con: duck.actors(con, 2))
    assert {"x-tie", "x-nosignup"} <= set(done)


# ----------------------------------------------------------------- retention and LTV

RETENTION = {
    "first-exact-calendar-day": RetentionQuery(VIEW, PURCHASE, RANGE, Period.DAY, 10),
    "recurring-unbounded-rolling-week": RetentionQuery(
        EventFilter(), VIEW, RANGE, Period.WEEK, 4, cohort="recurring", mode="unbounded", windows="rolling"
    ),
    "first-exact-rolling-day-breakdown": RetentionQuery(
        EventFilter(), EventFilter(), RANGE, Period.DAY, 7, windows="rolling", breakdown=Breakdown("user.channel")
    ),
    "revenue-calendar-week-as-of": RetentionQuery(
        PURCHASE,
        MONEY,
        MONTHS,
        Period.WEEK,
        6,
        measure="revenue",
        breakdown=Breakdown("channel"),
        as_of=datetime(2025, 2, 24, 12),
    ),
    "recurring-exact-calendar-month": RetentionQuery(
        EventFilter(), EventFilter(), MONTHS, Period.MONTH, 1, cohort="recurring"
    ),
}


@pytest.mark.parametrize("name", list(RETENTION))
def test_retention(engines: Engines, name: str) -> None:
    q = RETENTION[name]
    duck, spark = both(engines, lambda con: run_retention(con, q))
    assert duck.as_of == spark.as_of
    assert_same(duck.to_frame(), spark.to_frame())
    bd = duck.breakdowns[0]
    assert [c.returned for c in duck.curve(bd)] == [c.returned for c in spark.curve(bd)]
    cell = max((c for c in duck.cells if c.period == 1), key=lambda c: c.returned)
    assert cell.returned > 0
    back = same_actors(engines, lambda con: duck.actors(con, cell.cohort, 1, breakdown=cell.breakdown))
    assert len(back) == cell.returned
    if q.cohort == "recurring":
        lost = same_actors(engines, lambda con: duck.actors(con, cell.cohort, 1, False, cell.breakdown))
        assert len(lost) == cell.eligible - cell.returned


@pytest.mark.parametrize(
    "query",
    [
        LtvQuery(RANGE, period=Period.WEEK, periods=5),
        LtvQuery(
            MONTHS, start_event=VIEW, period=Period.DAY, periods=14, windows="rolling", breakdown=Breakdown("channel")
        ),
    ],
    ids=["week-calendar", "day-rolling-breakdown"],
)
def test_ltv_curve(engines: Engines, query: LtvQuery) -> None:
    duck, spark = both(engines, lambda con: run_ltv_curve(con, query))
    assert duck.as_of == spark.as_of
    assert_same(duck.to_frame(), spark.to_frame())
    assert duck.to_frame()["revenue"].abs().sum() > 0
    point = max(duck.points, key=lambda p: p.revenue)
    got = same_actors(engines, lambda con: duck.actors(con, point.cohort, point.period, point.breakdown))
    assert len(got) == point.eligible


@pytest.mark.parametrize("day_n", [1, 7])
def test_retention_trend(engines: Engines, day_n: int) -> None:
    q = RetentionQuery(EventFilter(), EventFilter(("view", "cart")), RANGE, Period.DAY, mode="unbounded")
    duck, spark = both(engines, lambda con: run_retention_trend(con, q, day_n))
    assert duck.as_of == spark.as_of
    assert_same(duck.to_frame(), spark.to_frame())
    point = max(duck.points, key=lambda p: p.returned)
    assert point.returned > 0
    assert len(same_actors(engines, lambda con: duck.actors(con, point.cohort))) == point.returned


def test_the_mirror_is_lossless(engines: Engines) -> None:
    """The mirror itself: same rows, same microseconds, same JSON documents."""
    cols = ["event_id", "user_id", "ts", "event_type", "amount", "session_id", "channel", "properties"]

    def edge_rows(con: Any) -> pd.DataFrame:
        ev = con.table("events")
        df = ev.filter(ev.user_id.startswith("x-")).select(*cols).execute()
        df["properties"] = df["properties"].map(lambda v: json.loads(v) if isinstance(v, str) else v)
        return df.sort_values("event_id").reset_index(drop=True)

    duck, spark = both(engines, edge_rows)
    assert_same(duck, spark)
    assert len(duck) == len(EDGE_EVENTS)


# ----------------------------------------------------------------- referral


def test_referral(engines: Engines) -> None:
    from growthkit.analytics.referral import ReferralQuery, run_referral

    q = ReferralQuery(MONTHS, period=Period.WEEK, revenue_days=14, campaign_key="platform")
    duck, spark = both(engines, lambda con: run_referral(con, q))
    assert duck.observed_until == spark.observed_until
    assert_same(duck.to_frame(), spark.to_frame())
    assert duck.referred_users > 0 and duck.totals.invites_accepted > 0 and duck.trees.max_depth >= 1
    week = duck.periods[2].period
    for cell, period in (("referred", None), ("referred", week), ("referrers", None), ("inviters", week)):
        assert same_actors(engines, lambda con, c=cell, p=period: duck.actors(con, c, period=p)), cell
    assert same_actors(engines, lambda con: duck.actors(con, "depth", depth=1))
