"""Segment comparison: any insight, split by user lists or saved segments, on hand-checked data."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from growthkit.analytics import segments as segments_module
from growthkit.analytics._common import AnalyticsQueryError, DateRange, sorted_ids, tables
from growthkit.analytics.aarrr import AarrrQuery, Rate, run_aarrr
from growthkit.analytics.segments import (
    ALL_USERS,
    Segment,
    SegmentedBackend,
    UnknownSegmentError,
    compare,
    saved_segment_names,
)
from growthkit.config import Settings
from growthkit.errors import GrowthkitError
from growthkit.store import Store, open_store

JAN = DateRange(date(2025, 1, 1), date(2025, 1, 31))


@pytest.fixture
def shop() -> Iterator[Store]:
    """a, c: ads; b: organic; all three sign up in January. a and b buy within a week; c never does.
    b referred c (edge b -> c). d signed up in 2024 and is a friend of a. One item, one review by a."""
    st = open_store(Settings(db=":memory:"))
    st.execute(
        "INSERT INTO users (user_id, signup_ts, channel) VALUES "
        "('a', '2025-01-01 09:00', 'ads'), ('b', '2025-01-02 09:00', 'organic'), "
        "('c', '2025-01-03 09:00', 'ads'), ('d', '2024-05-01 09:00', 'organic')"
    )
    st.execute(
        "INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES "
        "('e1', 'a', '2025-01-02 10:00', 'purchase', 40.0), "
        "('e2', 'b', '2025-01-04 10:00', 'purchase', 60.0), "
        "('e3', 'c', '2025-01-05 10:00', 'view', NULL), "
        "('e4', 'd', '2025-01-06 10:00', 'purchase', 20.0)"
    )
    st.execute(
        "INSERT INTO edges (edge_id, src_user, dst_user, kind, ts) VALUES "
        "('x1', 'b', 'c', 'referral', '2025-01-03 09:00'), ('x2', 'a', 'd', 'friend', '2024-06-01 00:00'), "
        "('x3', 'b', 'd', 'friend', '2024-06-01 00:00')"
    )
    st.execute("INSERT INTO items (item_id, title) VALUES ('i1', 'Tea')")
    st.execute("INSERT INTO reviews (review_id, user_id, item_id, rating) VALUES ('r1', 'a', 'i1', 5.0)")
    yield st
    st.close()


def _save(store: Store, rows: list[tuple[str, str]]) -> None:
    """The saved-segments table another migration will add; created here by hand."""
    store.execute("CREATE TABLE segments (name VARCHAR, user_id VARCHAR, created_at TIMESTAMP)")
    for name, user in rows:
        store.execute("INSERT INTO segments VALUES (?, ?, TIMESTAMP '2025-02-01 00:00')", [name, user])


@dataclass(frozen=True)
class BuyQuery:
    date_range: DateRange


@dataclass(frozen=True)
class BuyResult:
    buyers: int
    revenue: float

    def actors(self, con: Any) -> list[str]:
        events, _ = tables(con)
        return sorted_ids(events.filter(events.event_type == "purchase").user_id)


def run_buyers(con: Any, query: BuyQuery) -> BuyResult:
    """A tiny insight of our own: buyers and revenue in the range."""
    events, _ = tables(con)
    p = events.filter((events.event_type == "purchase") & query.date_range.contains(events.ts))
    row = p.aggregate(n=p.user_id.nunique(), rev=p.amount.sum().fill_null(0.0)).execute().iloc[0]
    return BuyResult(int(row["n"]), float(row["rev"]))


def test_backend_restricts_user_tables_and_keeps_the_rest(shop: Store) -> None:
    seg = SegmentedBackend(shop.ibis(), Segment.of("a and c", ["a", "c", "c"]))
    assert sorted_ids(seg.table("events").user_id) == ["a", "c"]
    assert sorted_ids(seg.table("users").user_id) == ["a", "c"]
    assert seg.table("events").count().execute() == 2  # e1, e3: the repeated id does not duplicate rows
    assert seg.table("reviews").count().execute() == 1  # a's review
    assert seg.table("items").count().execute() == 1  # not user data: unchanged
    # edges touching a or c: b->c (referral) and a->d (friend); b->d touches neither
    edges = seg.table("edges").execute()
    assert sorted(edges.edge_id) == ["x1", "x2"]
    assert "SegmentedBackend('a and c')" in repr(seg)


def test_compare_a_tiny_insight_of_our_own(shop: Store) -> None:
    con = shop.ibis()
    cmp = compare(con, run_buyers, BuyQuery(JAN), [Segment.of("ads", ["a", "c"]), Segment.of("nobody", [])])
    assert cmp.names == (ALL_USERS, "ads", "nobody")
    assert cmp[ALL_USERS] == BuyResult(3, 120.0)  # a 40 + b 60 + d 20
    assert cmp["ads"] == BuyResult(1, 40.0)  # only a buys among a and c
    assert cmp["nobody"] == BuyResult(0, 0.0)  # an empty segment is empty, not an error
    df = cmp.frame()  # no to_frame(): the dataclass numbers are flattened
    assert list(df.columns) == ["segment", "metric", "value"]
    assert df[(df.segment == "ads") & (df.metric == "revenue")].value.item() == 40.0
    assert len(df) == 6
    assert cmp.actors(con, "ads") == ["a"]  # evaluated inside the segment
    assert cmp.actors(con, ALL_USERS) == ["a", "b", "d"]
    with pytest.raises(KeyError, match="all users, ads, nobody"):
        cmp["vip"]


def test_compare_aarrr_by_segment(shop: Store) -> None:
    con = shop.ibis()
    cmp = compare(con, run_aarrr, AarrrQuery(JAN), [Segment.of("ads", ["a", "c"])])
    everyone, ads = cmp[ALL_USERS], cmp["ads"]
    # all users: a, b, c new; a (01-02) and b (01-04) buy within 7 days -> 2/3
    assert everyone.activation.activated == Rate(2, 3)
    # ads segment: a and c new; only a activates -> 1/2
    assert ads.acquisition.by_channel == (("ads", 2),)
    assert ads.activation.activated == Rate(1, 2)
    # revenue: all = 120 net over a, b, c, d active (c's view counts) = 30; ads = 40 over a, c = 20
    assert everyone.revenue.arpu == pytest.approx(30.0)
    assert ads.revenue.arpu == pytest.approx(20.0)
    # c was referred by b: the edge touches c so c stays accepted inside the segment, but b's signup
    # is outside the segment, so the cycle time has no pair there (1 day for all users).
    assert everyone.referral.invites_accepted == 1 and everyone.referral.viral_cycle_days == pytest.approx(1.0)
    assert ads.referral.invites_accepted == 1 and ads.referral.cycle_pairs == 0
    assert cmp.actors(con, "ads", "activation") == ["a"]
    assert cmp.actors(con, "ads", "activation", "denominator") == ["a", "c"]
    df = cmp.frame()
    assert list(df.columns) == ["segment", "stage", "metric", "channel", "value"]
    rate = df[(df.stage == "activation") & (df.metric == "rate") & (df.channel == "(all)")]
    assert dict(zip(rate.segment, rate.value, strict=True)) == {ALL_USERS: pytest.approx(2 / 3), "ads": 0.5}


def test_saved_segments_are_read_from_the_store(shop: Store) -> None:
    _save(shop, [("vip", "b"), ("vip", "d"), ("ads", "a"), ("ads", "c")])
    con = shop.ibis()
    assert saved_segment_names(con) == ["ads", "vip"]
    cmp = compare(con, run_buyers, BuyQuery(JAN), [Segment("vip"), Segment("paid", saved="ads")])
    assert cmp["vip"] == BuyResult(2, 80.0)  # b 60 + d 20
    assert cmp["paid"] == BuyResult(1, 40.0)  # saved "ads" = a, c; only a buys
    # the segments table itself is not filtered by the segment
    assert SegmentedBackend(con, Segment("vip")).table("segments").count().execute() == 4


def test_unknown_saved_segment_names_the_available_ones(shop: Store) -> None:
    con = shop.ibis()
    with pytest.raises(UnknownSegmentError, match="saved segments: none"):
        compare(con, run_buyers, BuyQuery(JAN), [Segment("vip")])
    _save(shop, [("vip", "b"), ("ads", "a")])
    with pytest.raises(UnknownSegmentError, match=r"no saved segment named 'whales'; saved segments: ads, vip"):
        compare(con, run_buyers, BuyQuery(JAN), [Segment("whales")])
    err = UnknownSegmentError("x")
    assert isinstance(err, GrowthkitError) and isinstance(err, LookupError)


def test_segment_definitions_are_checked() -> None:
    with pytest.raises(AnalyticsQueryError, match="not both"):
        Segment("x", user_ids=("a",), saved="y")
    with pytest.raises(AnalyticsQueryError, match="needs a name"):
        Segment("")
    assert Segment.of("ints", [1, 2]).user_ids == ("1", "2")  # type: ignore[list-item]


def test_compare_rejects_reserved_and_repeated_names(shop: Store) -> None:
    con = shop.ibis()
    with pytest.raises(AnalyticsQueryError, match="reserved"):
        compare(con, run_buyers, BuyQuery(JAN), [Segment.of(ALL_USERS, ["a"])])
    with pytest.raises(AnalyticsQueryError, match="repeated: s"):
        compare(con, run_buyers, BuyQuery(JAN), [Segment.of("s", ["a"]), Segment.of("s", ["b"])])


def test_docstring_examples_run() -> None:
    failed, _ = doctest.testmod(segments_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failed == 0
