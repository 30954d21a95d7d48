"""The simulated shop honours the data contract and has the intended statistical shape.

Bounds are deliberately loose (they hold across seeds) but each one fails if the
mechanism behind it is removed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from growthkit.schema import EDGE_KINDS, EDGES, EVENT_TYPES, EVENTS, ITEMS, REVIEWS, USERS
from growthkit.sim import COUPON_TYPES, CUSTOMER_TYPES, SimConfig
from growthkit.sim.text import (
    NEGATIVE_MARKERS_EN,
    NEGATIVE_MARKERS_ZH,
    POSITIVE_MARKERS_EN,
    POSITIVE_MARKERS_ZH,
)

if TYPE_CHECKING:
    from conftest import Shop

SHOP_CONFIG = SimConfig(users=3_000, days=120, seed=11, chunk_users=1_000)  # same as conftest.SHOP_CONFIG
START = pd.Timestamp(SHOP_CONFIG.start.isoformat(), tz="UTC")
END = START + pd.Timedelta(days=SHOP_CONFIG.days)
TS_TYPE = pa.timestamp("us", tz="UTC")


def _day(ts: pd.Series) -> pd.Series:
    return (ts - START).dt.days


# --- contract -----------------------------------------------------------------------------------


def test_columns_are_contract_names(shop: Shop) -> None:
    assert shop.manifest.config == SHOP_CONFIG
    files = shop.manifest.files
    assert pq.read_schema(files["events"]).names == list(EVENTS.column_names)
    assert pq.read_schema(files["items"]).names == list(ITEMS.column_names)
    assert pq.read_schema(files["reviews"]).names == list(REVIEWS.column_names)
    assert pq.read_schema(files["edges"]).names == list(EDGES.column_names)
    user_cols = pq.read_schema(files["users"]).names
    assert set(user_cols) <= set(USERS.column_names) | {"name", "email", "phone"}
    assert {"user_id", "signup_ts", "channel", "country", "city", "city_tier", "name", "email", "phone"} <= set(
        user_cols
    )


def test_timestamps_are_utc_microseconds_and_ids_strings(shop: Shop) -> None:
    for name, cols in {"events": ["ts"], "users": ["signup_ts"], "reviews": ["ts"], "edges": ["ts"]}.items():
        schema = pq.read_schema(shop.manifest.files[name])
        for col in cols:
            assert schema.field(col).type == TS_TYPE, (name, col)
    for name, col in [("events", "event_id"), ("events", "user_id"), ("events", "item_id"), ("users", "user_id"),
                      ("items", "item_id"), ("reviews", "review_id"), ("edges", "src_user")]:
        assert pq.read_schema(shop.manifest.files[name]).field(col).type == pa.string(), (name, col)


def test_keys_unique_and_references_exist(shop: Shop) -> None:
    ev, users, items = shop.events, shop.users, shop.items
    assert ev.event_id.is_unique and users.user_id.is_unique and items.item_id.is_unique
    assert shop.reviews.review_id.is_unique
    assert ev.user_id.isin(users.user_id).all()
    assert ev.item_id.dropna().isin(items.item_id).all()
    assert shop.reviews.user_id.isin(users.user_id).all() and shop.reviews.item_id.isin(items.item_id).all()
    assert shop.edges.src_user.isin(users.user_id).all() and shop.edges.dst_user.isin(users.user_id).all()
    assert (shop.edges.src_user != shop.edges.dst_user).all()
    assert set(shop.edges.kind) == set(EDGE_KINDS)


def test_event_vocabulary_and_window(shop: Shop) -> None:
    ev = shop.events
    assert set(ev.event_type) == set(EVENT_TYPES)  # every type occurs, no other type
    assert ev.ts.min() >= START and ev.ts.max() < END
    assert shop.reviews.ts.min() >= START and shop.reviews.ts.max() < END
    assert (shop.edges.ts < END).all()


def test_purchases_refunds_amounts(shop: Shop) -> None:
    ev = shop.events.merge(shop.items[["item_id", "price"]], on="item_id", how="left")
    money = ev[ev.event_type.isin(["purchase", "refund"])]
    assert len(money) > 100
    assert np.allclose(money.amount, money.price * money.quantity)
    assert (money.quantity >= 1).all() and (money.currency == "CNY").all()
    assert ev.loc[~ev.event_type.isin(["purchase", "refund"]), "amount"].isna().all()
    assert shop.items.currency.eq("CNY").all() and (shop.items.price > 0).all()


def test_events_carry_session_query_channel_properties(shop: Shop) -> None:
    ev = shop.events
    sess = ev[ev.event_type.isin(["view", "search", "cart", "purchase"])]
    assert sess.session_id.notna().all()
    assert ev.loc[ev.event_type == "search", "query"].notna().all()
    assert ev.loc[ev.event_type != "search", "query"].isna().all()
    follow_up = ev.event_type.isin(["refund", "review"])  # not tied to a session or campaign
    assert ev.loc[~follow_up, "channel"].notna().all() and ev.loc[follow_up, "channel"].isna().all()
    for raw in ev.properties.dropna().sample(500, random_state=0):
        assert isinstance(json.loads(raw), dict)
    props = ev.loc[ev.event_type == "purchase", "properties"].map(json.loads)
    assert {"promotion", "coupon_id"} <= set(props.iloc[0])


def test_pii_columns_are_obviously_fake(shop: Shop) -> None:
    u = shop.users
    assert u.email.str.fullmatch(r"user\d+@example\.com").all()
    cn = u[u.country == "CN"]
    assert cn.phone.str.fullmatch(r"\+86 138\d{8}").all()
    assert u.name.notna().all()
    assert (u.country == "CN").mean() > 0.7 and u.country.nunique() > 2
    assert "上海" in set(u.city) and set(cn.city_tier) == {"1", "2", "3", "4"}
    assert set(u.channel) == {"organic", "ads", "social", "referral"}


def test_catalog_is_bilingual_with_category_paths(shop: Shop) -> None:
    items = shop.items
    assert items.title.str.contains(r"[\u4e00-\u9fff]").all() and items.title.str.contains(r"[A-Za-z]").all()
    assert items.description.str.contains(r"[\u4e00-\u9fff]").all()
    assert items.category.str.contains(" > ").all()
    assert 10 <= items.category.str.split(" > ").str[0].nunique() <= 20
    assert items.brand.nunique() > 10


def test_both_languages_in_text(shop: Shop) -> None:
    for col in (shop.reviews.text, shop.events["query"].dropna()):
        assert col.str.contains(r"[\u4e00-\u9fff]").any()
        assert col.str.fullmatch(r"[A-Za-z .,'\-]+").any()
    assert set(shop.reviews.language) == {"zh", "en"}


# --- statistical shape --------------------------------------------------------------------------


def test_review_sentiment_matches_rating(shop: Shop) -> None:
    r = shop.reviews
    assert set(r.rating) <= {1.0, 2.0, 3.0, 4.0, 5.0} and r.rating.nunique() == 5

    def has(text: str, markers: tuple[str, ...]) -> bool:
        return any(m in text.lower() for m in markers)

    for text, rating, lang in zip(r.text, r.rating, r.language, strict=True):
        neg = NEGATIVE_MARKERS_ZH if lang == "zh" else NEGATIVE_MARKERS_EN
        pos = POSITIVE_MARKERS_ZH if lang == "zh" else POSITIVE_MARKERS_EN
        if rating >= 4:
            assert has(text, pos) and not has(text, neg), (text, rating)
        elif rating <= 2:
            assert has(text, neg), (text, rating)
    assert 3.3 < r.rating.mean() < 4.6


def test_churn_and_repeat_purchase_shares(shop: Shop) -> None:
    churned = shop.truth_users.churned.mean()
    assert 0.15 < churned < 0.7
    buys = shop.events[shop.events.event_type == "purchase"].groupby("user_id").size()
    assert 0.1 < len(buys) / len(shop.users) < 0.7
    assert 0.3 < (buys >= 2).mean() < 0.95
    per_active = shop.events.groupby("user_id").size()
    assert 10 < per_active.mean() < 100


def test_promotion_day_and_weekend_uplift(shop: Shop) -> None:
    ev = shop.events
    days = np.arange(SHOP_CONFIG.days)
    promo = (pd.Timestamp("2025-03-08", tz="UTC") - START).days  # women_day, inside the 120-day window
    buys = _day(ev.loc[ev.event_type == "purchase", "ts"]).value_counts().reindex(days, fill_value=0)
    normal = buys.drop([promo - 2, promo - 1, promo])
    assert buys[promo] > 1.5 * normal.mean()
    per_day = _day(ev.ts).value_counts().reindex(days, fill_value=0).to_numpy()
    weekday = (START + pd.to_timedelta(days, "D")).day_of_week.to_numpy()
    calm = np.abs(days - promo) > 2
    assert per_day[(weekday >= 5) & calm].mean() > 1.1 * per_day[(weekday < 5) & calm].mean()
    hours = ev.loc[ev.event_type == "view", "ts"].dt.hour  # UTC; China evening = 10-15 UTC
    assert (hours.between(10, 15)).mean() > 2 * (hours.between(18, 23)).mean()


def test_degree_distribution_is_heavy_tailed(shop: Shop) -> None:
    social = shop.edges[shop.edges.kind != "referral"]
    deg = pd.concat([social.src_user, social.dst_user]).value_counts()
    assert deg.max() > 10 * deg.median()
    assert 0.3 < (shop.truth_edges.influence_prob > 0).mean() <= 1.0
    assert shop.truth_edges.influence_prob.between(0, 1).all()


def test_coupon_types_and_effects(shop: Shop) -> None:
    t = shop.truth_users
    assert set(t.coupon_type) == set(COUPON_TYPES) and set(t.customer_type) == set(CUSTOMER_TYPES)
    eff = t.groupby("coupon_type").coupon_effect
    assert (t.loc[t.coupon_type == "persuadable", "coupon_effect"] > 0).all()
    assert (t.loc[t.coupon_type == "sleeping_dog", "coupon_effect"] < 0).all()
    assert eff.apply(lambda s: s.abs().max())[["sure_thing", "lost_cause"]].max() < 1e-12
    assert eff.mean()["persuadable"] > 0.05


def test_lost_causes_never_buy_and_customer_types_behave_differently(shop: Shop) -> None:
    t = shop.truth_users.set_index("user_id")
    buyers = set(shop.events.loc[shop.events.event_type == "purchase", "user_id"])
    assert not buyers & set(t.index[t.coupon_type == "lost_cause"])
    n_ev = shop.events.groupby("user_id").size().reindex(t.index, fill_value=0)
    by_type = n_ev.groupby(t.customer_type).mean()
    assert by_type["loyal_big_spender"] > 1.5 * by_type["casual_browser"]
    assert (t.loc[t.customer_type == "new_explorer", "customer_type"].index.isin(
        shop.users.loc[shop.users.signup_ts >= START, "user_id"])).all()
