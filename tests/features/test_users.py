"""The user feature table on the hand-checked timeline of conftest.py (cutoff 2025-03-01 00:00 UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from growthkit.features import FEATURES, FeatureError, build_user_features, user_text_embeddings
from growthkit.store import Store
from growthkit.text.embed import TfidfEmbedder

CUTOFF = datetime(2025, 3, 1)
SECOND = 1 / 86_400


@pytest.fixture
def table(shop: Store) -> pd.DataFrame:
    return build_user_features(shop, CUTOFF)


def test_rows_are_the_users_known_before_the_cutoff(table: pd.DataFrame) -> None:
    # ann, bob (events only), dan (signup only), eve (event before, signup after);
    # not cat (signup and only event exactly at the cutoff), not gus (no time at all).
    assert table.index.tolist() == ["ann", "bob", "dan", "eve"]
    assert table.index.name == "user_id"


def test_rfm_and_lifecycle_of_ann(table: pd.DataFrame) -> None:
    a = table.loc["ann"]
    assert a["tenure_days"] == 59.0  # born 01-01 00:00 (signup = first event), 31 + 28 days
    assert a["recency_days"] == 4.0  # last purchase a8 on 02-25; a10 at the cutoff does not count
    assert a["days_since_last_event"] == pytest.approx(SECOND)  # a9 at 23:59:59
    assert a["has_purchased"] == 1
    assert a["frequency"] == 2 and a["purchase_days"] == 2
    assert a["monetary_total"] == 130.0 and a["monetary_mean"] == 65.0
    assert a["net_revenue"] == 90.0  # minus the 40.0 refund
    assert a["events_total"] == 9  # every event before the cutoff but the coupon mailing a7


def test_windows_are_half_open_and_end_at_the_cutoff(table: pd.DataFrame) -> None:
    a = table.loc["ann"]
    # 7d = [02-22 00:00, 03-01): a7 exactly at the start counts, so do a8, a12, a9
    assert a["coupon_received_count_7d"] == 1
    assert (a["purchase_count_7d"], a["purchase_amount_7d"]) == (1, 30.0)
    assert (a["view_count_7d"], a["share_count_7d"]) == (1, 1)
    assert a["search_count_7d"] == 0 and a["cart_amount_7d"] == 0.0
    assert a["active_days_7d"] == 2  # 02-25, 02-28 (the coupon day is not the user's action)
    # 30d = [01-30, 03-01)
    assert (a["search_count_30d"], a["cart_count_30d"], a["cart_amount_30d"]) == (1, 1, 30.0)
    assert a["active_days_30d"] == 3  # 02-10, 02-25, 02-28
    # 90d: everything
    assert (a["view_count_90d"], a["purchase_count_90d"], a["purchase_amount_90d"]) == (2, 2, 130.0)
    assert (a["refund_count_90d"], a["refund_amount_90d"]) == (1, 40.0)
    assert a["active_days_90d"] == 6  # 01-01, 01-10, 01-20, 02-10, 02-25, 02-28
    assert table.loc["bob", "view_count_30d"] == 3 and table.loc["bob", "view_count_7d"] == 0


def test_trend_price_coupons_and_refunds(table: pd.DataFrame) -> None:
    a = table.loc["ann"]
    # own actions: last 30 days a5 a6 a8 a12 a9 = 5, the 30 before a1 a2 a3 a4 = 4
    assert a["trend_events_30d"] == pytest.approx(1 / 9)
    assert a["trend_revenue_30d"] == pytest.approx((30 - 100) / 130)
    assert table.loc["bob", "trend_events_30d"] == 1.0  # new
    assert a["avg_unit_price"] == 40.0  # (100 + 30 + 30) / (2 + 1 + 1): a8 has no quantity -> 1 unit
    assert (a["coupons_received"], a["coupons_redeemed"], a["coupon_redeem_rate"]) == (1, 0, 0.0)
    assert a["coupon_purchase_share"] == 0.5  # a3 names a coupon
    assert a["promo_purchase_share"] == 0.5  # a8 names a promotion
    assert (a["refunds"], a["refund_rate"]) == (1, 0.5)
    assert (a["shares"], a["invites"], a["invites_accepted"]) == (1, 0, 0)


def test_sessions_by_id_and_by_inactivity_gap(table: pd.DataFrame) -> None:
    a = table.loc["ann"]
    # s1 (a2, a3: 5 min, bought), s2 (a5, a6: 10 min), s3 (a8: bought), s4 (a12), and a9 without id alone;
    # a1 signup, a4 refund and a7 coupon are outside sessions
    assert a["sessions"] == 5
    assert a["events_per_session"] == pytest.approx(7 / 5)
    assert a["session_minutes_mean"] == pytest.approx(15 / 5)
    assert a["session_conversion"] == pytest.approx(2 / 5)
    b = table.loc["bob"]
    # no ids: 08:00, 08:20, 08:20 (gaps 20 and 0 min) then 09:00 after 40 min -> 2 sessions
    assert (b["sessions"], b["events_per_session"], b["session_minutes_mean"]) == (2, 2.0, 10.0)
    assert b["session_conversion"] == 0.0
    assert (table.loc["eve", "sessions"], table.loc["eve", "session_minutes_mean"]) == (1, 0.0)


def test_reviews_social_graph_and_categories(table: pd.DataFrame) -> None:
    a, b = table.loc["ann"], table.loc["bob"]
    assert (a["reviews"], a["review_sentiment"]) == (1, 1.0)  # r1: 5 stars; r2 is after the cutoff
    assert (b["reviews"], b["review_sentiment"]) == (2, -0.5)  # r3: 2 stars; r4 has no rating
    assert (a["referrals"], a["social_degree"]) == (1, 1)  # bob; dan's edge is at the cutoff, eve's has no time
    assert (b["referrals"], b["social_degree"]) == (0, 1)
    assert table.loc["eve", "social_degree"] == 0
    # categorised events before the cutoff: Shoes 4 (a2 a3 a6 a8), Beauty 2 (a12, e1); bob's i9 is unknown
    shares = [c for c in table.columns if c.startswith("cat_share__")]
    assert shares == ["cat_share__shoes", "cat_share__beauty", "cat_share__other"]
    assert table.loc["ann", shares].tolist() == [0.8, 0.2, 0.0]
    assert table.loc["eve", shares].tolist() == [0.0, 1.0, 0.0]
    assert table.loc["bob", shares].tolist() == [0.0, 0.0, 0.0]


def test_channels_from_users_table_else_earliest_event(table: pd.DataFrame) -> None:
    cols = [c for c in table.columns if c.startswith("channel__")]
    assert cols == ["channel__ads", "channel__organic"]  # ads: ann and bob, organic: dan
    # bob: no users.channel; earliest events with a channel tie at 08:20 (social, ads): the first by name
    assert table.loc["bob", cols].tolist() == [1, 0]
    # eve's users row is dated after the cutoff (written later): its channel is not used, and eve's
    # events name none, so eve's channel is unknown
    assert table.loc["eve", cols].tolist() == [0, 0]


def test_users_without_activity_get_the_documented_fill_values(table: pd.DataFrame) -> None:
    d = table.loc["dan"]
    assert d["tenure_days"] == 8.5  # signup 02-20 12:00
    assert d["recency_days"] == 8.5 and d["days_since_last_event"] == 8.5  # no purchase, no event: tenure
    assert table.loc["bob", "recency_days"] == pytest.approx(27 + 16 / 24)  # born 02-01 08:00
    assert table.loc["bob", "days_since_last_event"] == pytest.approx(27.625)
    assert table.loc["eve", "tenure_days"] == 2.0  # born at its first event; the late signup is ignored
    rest = d.drop(["tenure_days", "recency_days", "days_since_last_event", "channel__organic"])
    assert (rest == 0).all(), rest[rest != 0]


def test_every_value_is_finite_and_typed(table: pd.DataFrame) -> None:
    assert np.isfinite(table.to_numpy(dtype="float64")).all()
    assert set(table.dtypes.astype(str)) == {"int64", "float64"}
    assert table["frequency"].dtype == "int64" and table["monetary_total"].dtype == "float64"


def test_columns_follow_the_catalogue(shop: Store) -> None:
    t = build_user_features(shop, CUTOFF, categories=[], channels=[])
    assert [c for c in t.columns if c != "channel__other"] == list(FEATURES)


def test_cutoff_forms_agree(shop: Store) -> None:
    a = build_user_features(shop, date(2025, 3, 1))
    b = build_user_features(shop, datetime(2025, 3, 1, 8, tzinfo=timezone(timedelta(hours=8))))
    pd.testing.assert_frame_equal(a, b)
    c = build_user_features(shop, datetime(2025, 3, 1, tzinfo=UTC))
    pd.testing.assert_frame_equal(a, c)


def test_options_windows_users_and_explicit_lists(shop: Store) -> None:
    t = build_user_features(
        shop, CUTOFF, windows=(14,), users=["bob", "cat", "zed", "eve"], categories=["Beauty"], channels=["ads"]
    )
    assert t.index.tolist() == ["bob", "eve"]  # cat and zed are not known before the cutoff
    assert "view_count_14d" in t.columns and "view_count_7d" not in t.columns
    assert t.loc["eve", ["cat_share__beauty", "cat_share__other"]].tolist() == [1.0, 0.0]
    assert t.loc["eve", ["channel__ads", "channel__other"]].tolist() == [0, 0]
    assert t.loc["bob", "channel__ads"] == 1
    # restricting the users changes nothing about the users kept
    full = build_user_features(shop, CUTOFF, windows=(14,), categories=["Beauty"], channels=["ads"])
    pd.testing.assert_frame_equal(t, full.loc[["bob", "eve"]])


def test_an_early_cutoff_gives_an_empty_but_well_formed_table(shop: Store) -> None:
    t = build_user_features(shop, date(2024, 1, 1), embedder=TfidfEmbedder(dim=4))
    assert t.empty and t.index.name == "user_id"
    assert "recency_days" in t.columns and "text_pc4" in t.columns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"windows": ()}, "windows"),
        ({"windows": (0, 7)}, "windows"),
        ({"text_components": 0}, "text_components"),
    ],
)
def test_bad_arguments_say_what_to_fix(shop: Store, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(FeatureError, match=message):
        build_user_features(shop, CUTOFF, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(FeatureError, match="cutoff"):
        build_user_features(shop, "2025-03-01")  # type: ignore[arg-type]


def test_text_signals_through_the_embedder_seam(shop: Store) -> None:
    plain = build_user_features(shop, CUTOFF)
    assert not any(c.startswith("text_") or c == "has_text" for c in plain.columns)
    t = build_user_features(shop, CUTOFF, embedder=TfidfEmbedder(dim=8), text_components=3)
    assert t["has_text"].tolist() == [1, 1, 0, 0]  # ann: query + review, bob: query + 2 reviews
    pcs = t[["text_pc1", "text_pc2", "text_pc3"]]
    # two users with text: one component, the two users on either side of their centre
    assert pcs.loc["ann", "text_pc1"] == pytest.approx(-pcs.loc["bob", "text_pc1"])
    assert pcs.loc["ann", "text_pc1"] != 0
    assert (pcs[["text_pc2", "text_pc3"]] == 0).all().all() and (pcs.loc[["dan", "eve"]] == 0).all().all()
    pd.testing.assert_frame_equal(t[plain.columns], plain)


def test_user_text_embeddings_are_weighted_means_of_texts_before_the_cutoff(shop: Store) -> None:
    emb = TfidfEmbedder(dim=6).fit(["red shoes", "很好 quality", "Running Shoes", "too small", "ok", "terrible"])
    m = user_text_embeddings(shop, CUTOFF, emb)
    assert m.index.tolist() == ["ann", "bob"] and m.shape == (2, 6)
    expected = emb.embed(["red shoes", "很好 quality"]).mean(axis=0)  # not r2, written after the cutoff
    np.testing.assert_allclose(m.loc["ann"].to_numpy(), expected, rtol=1e-5, atol=1e-6)
    only_bob = user_text_embeddings(shop, CUTOFF, emb, users=["bob"])
    np.testing.assert_allclose(only_bob.loc["bob"].to_numpy(), m.loc["bob"].to_numpy())
