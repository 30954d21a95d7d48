"""The ground truth is aligned with the tables and consistent with the behaviour in them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from conftest import Shop

START = pd.Timestamp("2025-01-01", tz="UTC")
END = START + pd.Timedelta(days=120)


def test_truth_aligned_with_tables(shop: Shop) -> None:
    assert shop.truth_users.user_id.tolist() == shop.users.user_id.tolist()
    assert shop.truth_items.item_id.tolist() == shop.items.item_id.tolist()
    cols = ["edge_id", "src_user", "dst_user", "kind"]
    assert shop.truth_edges[cols].equals(shop.edges[cols])
    prefs = np.stack(shop.truth_users.category_prefs.to_numpy())
    assert np.allclose(prefs.sum(axis=1), 1.0)
    assert {"coupon_effect", "price_sensitivity", "activity_rate", "customer_type", "churn_ts"} <= set(
        shop.truth_users.columns
    )


def test_churned_users_do_nothing_after_churn(shop: Shop) -> None:
    t = shop.truth_users
    assert t.churned.eq(t.churn_ts.notna()).all()
    churned = t[t.churned].set_index("user_id").churn_ts
    assert churned.between(START, END).all()
    signup = shop.users.set_index("user_id").signup_ts
    assert (churned > signup[churned.index]).all()
    own = shop.events[shop.events.event_type != "coupon_received"]  # the shop still mails churned users
    last = own.groupby("user_id").ts.max()
    common = churned.index.intersection(last.index)
    assert len(common) > 100
    assert (last[common] < churned[common]).all()
    # churned users are less active in the window than those who stay
    n = shop.events.groupby("user_id").size().reindex(t.user_id, fill_value=0).to_numpy()
    assert n[t.churned.to_numpy()].mean() < n[~t.churned.to_numpy()].mean()


def test_preferences_price_sensitivity_activity_show_in_behaviour(shop: Shop) -> None:
    t = shop.truth_users.set_index("user_id")
    cat_of = shop.items.set_index("item_id").category.str.split(" > ").str[0]
    buys = shop.events[shop.events.event_type == "purchase"]
    in_top3 = [
        c in t.at[u, "top_categories"].split("|")
        for u, c in zip(buys.user_id, cat_of[buys.item_id].to_numpy(), strict=True)
    ]
    assert np.mean(in_top3) > 0.5  # a random category would be in the top 3 about 3/14 of the time
    price = buys.amount / buys.quantity
    ps = t.price_sensitivity[buys.user_id].to_numpy()
    assert price[ps > 1.3].median() < price[ps < 0.4].median()
    views = shop.events[shop.events.event_type == "view"].groupby("user_id").size()
    rate = t.activity_rate[views.index]
    assert np.corrcoef(rate.rank(), views.rank())[0, 1] > 0.3


def _treated_vs_control(shop: Shop, coupon_type: str) -> tuple[float, float]:
    """Share buying within 7 days after each campaign, treated vs untreated consenting users."""
    ev, t = shop.events, shop.truth_users
    users = shop.users.set_index("user_id")
    group = set(t.loc[t.coupon_type == coupon_type, "user_id"]) & set(users.index[users.marketing_consent])
    rec = ev[ev.event_type == "coupon_received"]
    rec_day = (rec.ts - START).dt.days
    buys = ev[ev.event_type == "purchase"]
    buy_day = (buys.ts - START).dt.days
    signup_day = (users.signup_ts - START).dt.days
    hits = np.zeros((2, 2))
    for d in sorted(set(rec_day)):
        got = set(rec.user_id[rec_day == d])
        eligible = {u for u in group if signup_day[u] < d}
        bought = set(buys.user_id[(buy_day > d) & (buy_day <= d + 7)])
        for row, members in enumerate((eligible & got, eligible - got)):
            hits[row] += (len(members & bought), len(members))
    return hits[0, 0] / hits[0, 1], hits[1, 0] / hits[1, 1]


def test_coupon_response_types_show_in_randomised_campaigns(shop: Shop) -> None:
    treated, control = _treated_vs_control(shop, "persuadable")
    assert treated > 1.5 * control
    treated, control = _treated_vs_control(shop, "sleeping_dog")
    assert treated < control
    treated, control = _treated_vs_control(shop, "sure_thing")
    assert abs(treated - control) < 0.1 and control > 0.1


def test_coupons_are_received_before_they_are_redeemed(shop: Shop) -> None:
    ev = shop.events
    rec = ev[ev.event_type == "coupon_received"]
    received = {json.loads(p)["coupon_id"]: ts for p, ts in zip(rec.properties, rec.ts, strict=True)}
    red = ev[ev.event_type == "coupon_redeemed"]
    assert len(red) > 20
    for p, ts, user in zip(red.properties, red.ts, red.user_id, strict=True):
        cid = json.loads(p)["coupon_id"]
        assert cid.endswith(user) and received[cid] < ts <= received[cid] + pd.Timedelta(days=8)
    used = ev.loc[ev.event_type == "purchase", "properties"].map(lambda p: json.loads(p)["coupon_id"]).dropna()
    assert sorted(used) == sorted(json.loads(p)["coupon_id"] for p in red.properties)


def test_referrals_travel_along_the_graph(shop: Shop) -> None:
    users = shop.users.set_index("user_id")
    ref = shop.edges[shop.edges.kind == "referral"]
    referred = users.index[users.channel == "referral"]
    assert len(referred) > 100
    assert sorted(ref.dst_user) == sorted(referred)
    assert (users.signup_ts[ref.src_user].to_numpy() < users.signup_ts[ref.dst_user].to_numpy()).all()
    attr = users.attributes.map(json.loads)
    assert all(attr[d]["referrer"] == s for s, d in zip(ref.src_user, ref.dst_user, strict=True))
    social = shop.edges[shop.edges.kind != "referral"]
    pairs = set(zip(social.src_user, social.dst_user, strict=True))
    along = [(s, d) in pairs or (d, s) in pairs for s, d in zip(ref.src_user, ref.dst_user, strict=True)]
    assert np.mean(along) > 0.3
    inv = shop.events[(shop.events.event_type == "invite")]
    inv_to = inv.properties.map(lambda p: json.loads(p)["invitee"])
    sent = {(u, i): ts for u, i, ts in zip(inv.user_id, inv_to, inv.ts, strict=True) if i is not None}
    in_window = ref[users.signup_ts[ref.dst_user].to_numpy() >= START]
    assert len(in_window) > 50
    for s, d in zip(in_window.src_user, in_window.dst_user, strict=True):
        assert sent[(s, d)] <= users.signup_ts[d]


def test_signup_events_and_reviews_match_tables(shop: Shop) -> None:
    ev, users = shop.events, shop.users.set_index("user_id")
    sign = ev[ev.event_type == "signup"].set_index("user_id").ts
    new = users.index[users.signup_ts >= START]
    assert sorted(sign.index) == sorted(new)
    assert (sign[new] == users.signup_ts[new]).all()
    rev_ev = ev[ev.event_type == "review"]
    ids = rev_ev.properties.map(lambda p: json.loads(p)["review_id"])
    reviews = shop.reviews.set_index("review_id").loc[ids]
    assert (reviews.user_id.to_numpy() == rev_ev.user_id.to_numpy()).all()
    assert (reviews.item_id.to_numpy() == rev_ev.item_id.to_numpy()).all()
    assert (reviews.ts.to_numpy() == rev_ev.ts.to_numpy()).all()
    ratings = rev_ev.properties.map(lambda p: json.loads(p)["rating"]).to_numpy()
    assert (reviews.rating.to_numpy() == ratings).all()


def test_item_quality_drives_ratings_and_edge_weight_tracks_influence(shop: Shop) -> None:
    q = shop.truth_items.set_index("item_id").quality
    r = shop.reviews
    assert np.corrcoef(q[r.item_id].to_numpy(), r.rating.to_numpy())[0, 1] > 0.2
    friends = shop.truth_edges.kind == "friend"
    w = shop.edges.weight[friends].rank()
    p = shop.truth_edges.influence_prob[friends].rank()
    assert np.corrcoef(w, p)[0, 1] > 0.4
