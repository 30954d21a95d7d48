"""Frequently bought together: support, confidence and lift on a basket log counted by hand."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from growthkit.features.interactions import Interactions
from growthkit.models.recommend import FrequentlyBoughtTogether, Recommender, RecommendError

from .known_answer import assert_known_answer, taste_groups

# Five orders, N = 5:
#   o1 (u1, day 1): A B C    o2 (u2, day 1): A B    o3 (u3, day 2): A C
#   o4 (u4, day 2): B D      o5 (u1, day 3): D
# n(A) = 3, n(B) = 3, n(C) = 2, n(D) = 2;  n(A,B) = 2, n(A,C) = 2, n(B,C) = 1, n(B,D) = 1.
ORDERS = [
    ("u1", "o1", "2026-01-01 09:00", "ABC"),
    ("u2", "o2", "2026-01-01 12:00", "AB"),
    ("u3", "o3", "2026-01-02 09:00", "AC"),
    ("u4", "o4", "2026-01-02 12:00", "BD"),
    ("u1", "o5", "2026-01-03 09:00", "D"),
]

# rule: (count, support = n(a,b)/5, confidence = n(a,b)/n(a), lift = n(a,b)*5/(n(a) n(b)))
HAND = {
    ("A", "B"): (2, 2 / 5, 2 / 3, 2 * 5 / (3 * 3)),
    ("B", "A"): (2, 2 / 5, 2 / 3, 2 * 5 / (3 * 3)),
    ("A", "C"): (2, 2 / 5, 2 / 3, 2 * 5 / (3 * 2)),
    ("C", "A"): (2, 2 / 5, 2 / 2, 2 * 5 / (2 * 3)),
    ("B", "C"): (1, 1 / 5, 1 / 3, 1 * 5 / (3 * 2)),
    ("C", "B"): (1, 1 / 5, 1 / 2, 1 * 5 / (2 * 3)),
    ("B", "D"): (1, 1 / 5, 1 / 3, 1 * 5 / (3 * 2)),
    ("D", "B"): (1, 1 / 5, 1 / 2, 1 * 5 / (2 * 3)),
}


def order_log(
    orders: list[tuple[str, str, str, str]] = ORDERS, *, event_type: str = "purchase", with_orders: bool = True
) -> pd.DataFrame:
    rows = []
    for user, order, ts, items in orders:
        for k, item in enumerate(items):
            rows.append((user, item, pd.Timestamp(ts) + pd.Timedelta(seconds=k), event_type, None, order))
    log = pd.DataFrame(rows, columns=["user_id", "item_id", "ts", "event_type", "session_id", "order_id"])
    return log if with_orders else log.drop(columns="order_id")


def interactions(log: pd.DataFrame) -> Interactions:
    return Interactions.from_frame(log).with_context(log=log)


def test_rules_match_the_hand_counts() -> None:
    model = FrequentlyBoughtTogether(min_count=1, metric="lift").fit(interactions(order_log()))
    assert model.n_baskets_ == 5
    rules = model.rules()
    got = {
        (r.antecedent, r.consequent): (r.count, r.support, r.confidence, r.lift) for r in rules.itertuples(index=False)
    }
    assert set(got) == set(HAND)
    for pair, expected in HAND.items():
        np.testing.assert_allclose(got[pair], expected, rtol=1e-9, err_msg=str(pair))
    # sorted by lift: A<->C (5/3) first, then A<->B (10/9), then the 5/6 pairs
    assert [tuple(p) for p in rules[["antecedent", "consequent"]].head(2).to_numpy()] == [("A", "C"), ("C", "A")]
    assert len(model.rules(top=3)) == 3
    # the default metric is confidence: C->A (1.0) first
    by_conf = FrequentlyBoughtTogether(min_count=1).fit(interactions(order_log())).rules()
    assert tuple(by_conf[["antecedent", "consequent"]].iloc[0]) == ("C", "A")


def test_min_count_and_min_support_drop_rare_pairs() -> None:
    x = interactions(order_log())
    for model in (FrequentlyBoughtTogether(min_count=2), FrequentlyBoughtTogether(min_count=1, min_support=0.3)):
        # both keep only pairs in at least 2 of 5 baskets (0.3 * 5 = 1.5): A-B and A-C
        kept = set(map(tuple, model.fit(x).rules()[["antecedent", "consequent"]].to_numpy()))
        assert kept == {("A", "B"), ("B", "A"), ("A", "C"), ("C", "A")}


def test_similar_items_rank_by_the_chosen_metric() -> None:
    x = interactions(order_log())
    lift = FrequentlyBoughtTogether(min_count=1, metric="lift").fit(x).similar_items("A", k=2)
    assert lift.items_of("A") == ["C", "B"]
    np.testing.assert_allclose(lift.scores[0], [5 / 3, 10 / 9], rtol=1e-6)
    conf = FrequentlyBoughtTogether(min_count=1, metric="confidence").fit(x).similar_items("C", k=2)
    assert conf.items_of("C") == ["A", "B"]
    np.testing.assert_allclose(conf.scores[0], [1.0, 0.5], rtol=1e-6)
    count = FrequentlyBoughtTogether(min_count=1, metric="count").fit(x).similar_items("B", k=3)
    np.testing.assert_allclose(count.scores[0], [2, 1, 1], rtol=1e-6)


def test_user_scores_come_from_recent_baskets() -> None:
    x = interactions(order_log())
    # u1's baskets: o1 (A B C) then o5 (D). With the last basket only, the profile is {D}:
    # B scores lift(D->B) = 5/6 and nothing else scores.
    last = FrequentlyBoughtTogether(min_count=1, metric="lift", recent_baskets=1).fit(x)
    recs = last.recommend("u1", k=1, exclude_seen=False)
    assert recs.items_of("u1") == ["B"]
    np.testing.assert_allclose(recs.scores[0, 0], 5 / 6, rtol=1e-6)
    # with both baskets, {A, B, C, D}: B = lift(A->B) + lift(C->B) + lift(D->B) = 10/9 + 5/6 + 5/6
    both = FrequentlyBoughtTogether(min_count=1, metric="lift", recent_baskets=2, popularity_backoff=False).fit(x)
    np.testing.assert_allclose(both.score(["u1"], ["B"]), [10 / 9 + 5 / 6 + 5 / 6], rtol=1e-6)
    # u3 bought A and C: D (never with A or C) is left with 0, B gets lift(A->B) + lift(C->B)
    recs3 = both.recommend("u3", k=2)
    assert recs3.items_of("u3") == ["B", "D"]
    np.testing.assert_allclose(recs3.scores[0], [10 / 9 + 5 / 6, 0.0], rtol=1e-6)
    # an anonymous cart with C: A (5/3) before B (5/6)
    assert both.recommend_from_items(["C"], k=2).items_of("anonymous") == ["A", "B"]


def test_baskets_fall_back_to_sessions_days_and_all_events(caplog: pytest.LogCaptureFixture) -> None:
    # without order ids and sessions, baskets are (user, day): u1's o1 (day 1) and o5 (day 3)
    # stay apart and every basket is as before
    no_orders = order_log(with_orders=False)
    by_day = FrequentlyBoughtTogether(min_count=1).fit(interactions(no_orders))
    assert by_day.n_baskets_ == 5
    pd.testing.assert_frame_equal(
        by_day.rules(), FrequentlyBoughtTogether(min_count=1).fit(interactions(order_log())).rules()
    )
    # one session id for all of u1's purchases merges o1 and o5 into one basket: A B C D
    one_session = no_orders.assign(session_id=np.where(no_orders["user_id"] == "u1", "s-u1", None))
    merged = FrequentlyBoughtTogether(min_count=1).fit(interactions(one_session))
    assert merged.n_baskets_ == 4
    assert ("C", "D") in set(map(tuple, merged.rules()[["antecedent", "consequent"]].to_numpy()))
    # views only: a warning, and the views make the baskets
    views = order_log(event_type="view")
    with caplog.at_level(logging.WARNING, logger="growthkit.models.recommend.fbt"):
        viewed = FrequentlyBoughtTogether(min_count=1).fit(interactions(views))
    assert "no purchase" in caplog.text
    assert viewed.n_baskets_ == 5
    # purchases present: views are ignored
    mixed = pd.concat([order_log(), order_log([("u9", "v1", "2026-01-04 09:00", "CD")], event_type="view")])
    assert FrequentlyBoughtTogether(min_count=1).fit(interactions(mixed)).n_baskets_ == 5


def test_big_baskets_are_left_out() -> None:
    model = FrequentlyBoughtTogether(min_count=1, max_basket_size=2).fit(interactions(order_log()))
    # o1 (3 items) is dropped: N = 4, n(A,B) = 1, n(A) = 2, n(B) = 2 -> lift = 1 * 4 / 4 = 1
    assert model.n_baskets_ == 4
    rule = model.rules().set_index(["antecedent", "consequent"]).loc[("A", "B")]
    assert rule["count"] == 1 and rule["lift"] == pytest.approx(1.0)


def test_save_and_load(tmp_path: Path) -> None:
    model = FrequentlyBoughtTogether(min_count=1, metric="confidence").fit(interactions(order_log()))
    again = Recommender.load(model.save(tmp_path / "fbt"))
    assert isinstance(again, FrequentlyBoughtTogether)
    pd.testing.assert_frame_equal(model.rules(), again.rules())
    for user in ("u1", "u3"):
        assert model.recommend(user, k=3).item_ids.tolist() == again.recommend(user, k=3).item_ids.tolist()


def test_bad_input_is_explained() -> None:
    x = interactions(order_log())
    with pytest.raises(RecommendError, match="interaction_log"):
        FrequentlyBoughtTogether().fit(Interactions.from_frame(order_log()))
    with pytest.raises(RecommendError, match="metric"):
        FrequentlyBoughtTogether(metric="leverage").fit(x)
    with pytest.raises(RecommendError, match="min_support"):
        FrequentlyBoughtTogether(min_support=2.0).fit(x)
    with pytest.raises(RecommendError, match="max_basket_size"):
        FrequentlyBoughtTogether(max_basket_size=1).fit(x)
    with pytest.raises(RecommendError, match="top"):
        FrequentlyBoughtTogether().fit(x).rules(top=0)
    for bad in (1, "yes", None):
        with pytest.raises(RecommendError, match="popularity_backoff must be True or False"):
            FrequentlyBoughtTogether(popularity_backoff=bad).fit(x)  # type: ignore[arg-type]


# ---- the popularity back-off ---------------------------------------------------------
#
# Popularity (users): A 3 (u1, u2, u3), B 3 (u1, u2, u4), C 2, D 2 (u1, u4) -> / 3.
def test_popularity_backoff_fills_below_every_rule() -> None:
    x = interactions(order_log())
    plain = FrequentlyBoughtTogether(min_count=2, popularity_backoff=False).fit(x)
    model = FrequentlyBoughtTogether(min_count=2).fit(x)
    # min_count 2 keeps A<->B and A<->C only. u4 (B, D) has the rule B->A (2/3); C and D have
    # no rule from B or D and are filled in by popularity: score popularity / 3 - 1.
    recs = model.recommend("u4", k=4, exclude_seen=False)
    assert recs.items_of("u4")[:2] == ["A", "B"] and set(recs.items_of("u4")[2:]) == {"C", "D"}
    scores = dict(zip(recs.items_of("u4"), recs.scores[0].tolist(), strict=True))
    assert scores["A"] == pytest.approx(2 / 3)
    assert scores["C"] == pytest.approx(2 / 3 - 1) and scores["D"] == pytest.approx(2 / 3 - 1)
    assert scores["B"] == pytest.approx(0.0)  # the most popular item without a rule: 3 / 3 - 1
    # where a rule applies, the score is the rule's, exactly as without the back-off
    rows = model.user_index(["u1", "u2", "u3", "u4"])
    a, b = model._score_users(rows), plain._score_users(rows)
    np.testing.assert_array_equal(a[b > 0], b[b > 0])
    assert np.all(a[b == 0] <= 0) and np.all(a[b == 0] >= -1)
    # a visitor with an item without rules gets popularity, not an arbitrary order
    folded = model.recommend_from_items(["D"], k=3)
    assert set(folded.items_of("anonymous")[:2]) == {"A", "B"} and not folded.fallback[0]
    # similar items and the rules never include fill-ups
    assert np.all(model.similar_items("D", k=3).scores[0] == 0)  # D has no rule: zeros, as before
    np.testing.assert_array_equal(model.similar_items("A", k=3).scores, plain.similar_items("A", k=3).scores)
    pd.testing.assert_frame_equal(model.rules(), plain.rules())


def test_backoff_off_keeps_the_old_scores() -> None:
    x = interactions(order_log())
    for metric in ("confidence", "lift"):
        plain = FrequentlyBoughtTogether(min_count=1, metric=metric, popularity_backoff=False).fit(x)
        rows = plain.user_index(["u1", "u2", "u3", "u4"])
        profiles = plain.current_[rows]
        np.testing.assert_array_equal(plain._score_users(rows), (profiles @ plain.scores_).toarray())


@pytest.mark.parametrize(
    "params",
    [{}, {"popularity_backoff": False}, {"metric": "lift"}, {"min_count": 1}, {"recent_baskets": 10}],
    ids=str,
)
def test_known_answer_holds_for_the_defaults_and_back_off(params: dict[str, object]) -> None:
    assert_known_answer(FrequentlyBoughtTogether(**params).fit(taste_groups()))  # type: ignore[arg-type]
