"""Business rules after ranking: availability, MMR diversity, popularity penalty, caps and reasons."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from growthkit.features.interactions import Interactions
from growthkit.models.recommend import FrequentlyBoughtTogether, ItemKNN, Popularity, RecommendError
from growthkit.models.recommend._rules_rerank import mmr, relevance
from growthkit.models.recommend.rules import BusinessRules, RuledRecommendations, apply_rules


# ---- four items with known popularity ---------------------------------------------------------
def four_items() -> tuple[Popularity, pd.DataFrame]:
    """i1..i4 touched by 10, 9, 6 and 5 users; user "u" touched only z.

    Global popularity therefore scores i1..i4 for u as 10/10, 9/10, 6/10, 5/10 = 1.0, 0.9, 0.6,
    0.5. Categories: i1, i2, i4 are shoes, i3 is tea.
    """
    rows = [(f"p{n}", "i1") for n in range(10)]
    rows += [(f"p{n}", "i2") for n in range(9)]
    rows += [(f"p{n}", "i3") for n in range(6)]
    rows += [(f"p{n}", "i4") for n in range(5)]
    rows += [("u", "z")]
    x = Interactions.from_frame(pd.DataFrame(rows, columns=["user_id", "item_id"]))
    items = pd.DataFrame(
        {
            "item_id": ["i1", "i2", "i3", "i4", "z"],
            "title": ["Red shoe", "Blue shoe", "Green tea", "Grey shoe", "Socks"],
            "category": ["Shoes", "Shoes", "Tea", "Shoes", "Socks"],
            "in_stock": [True, True, True, False, True],
        }
    )
    return Popularity().fit(x), items


def test_mmr_order_computed_by_hand() -> None:
    model, items = four_items()
    # MMR with diversity 0.5 (lambda = 0.5), redundancy 1 within a category, relevance 1.0, 0.9, 0.6, 0.5:
    #   step 1, nothing picked:      i1 0.5*1.0 = 0.50, i2 0.45, i3 0.30, i4 0.25           -> i1
    #   step 2, picked {i1 (shoe)}:  i2 0.45-0.5 = -0.05, i3 0.30-0 = 0.30, i4 0.25-0.5 = -0.25 -> i3
    #   step 3, picked {i1, i3}:     i2 -0.05, i4 -0.25                                     -> i2
    #   step 4:                                                                            -> i4
    # so the tea moves from third to second place; relevance order is i1, i2, i3, i4.
    plain = apply_rules(model, "u", k=4, items=items)
    assert plain.items_of("u") == ["i1", "i2", "i3", "i4"]
    diverse = apply_rules(model, "u", k=4, rules=BusinessRules(diversity=0.5), items=items)
    assert diverse.items_of("u") == ["i1", "i3", "i2", "i4"]
    np.testing.assert_allclose(diverse.scores[0], [1.0, 0.6, 0.9, 0.5])  # relevance, unchanged by MMR
    np.testing.assert_allclose(diverse.model_scores[0], [1.0, 0.6, 0.9, 0.5])
    # with diversity 1 redundancy alone decides: after i1, i3 (0) beats the shoes (-1), then i2 by order
    assert apply_rules(model, "u", k=4, rules=BusinessRules(diversity=1.0), items=items).items_of("u")[:2] == [
        "i1",
        "i3",
    ]


def test_mmr_function_directly() -> None:
    rel = np.array([1.0, 0.9, 0.6, 0.5])
    same = np.array([[1, 1, 0, 1], [1, 1, 0, 1], [0, 0, 1, 0], [1, 1, 0, 1]], dtype=float)
    assert mmr(rel, same, 0.5, 4) == [0, 2, 1, 3]
    assert mmr(rel, same, 0.0, 4) == [0, 1, 2, 3]
    assert mmr(rel, None, 0.5, 2) == [0, 1]


def test_max_per_category_caps_and_shortens() -> None:
    model, items = four_items()
    got = apply_rules(model, "u", k=4, rules=BusinessRules(max_per_category=1), items=items)
    assert got.items_of("u") == ["i1", "i3"]  # one shoe, one tea; nothing else is left
    two = apply_rules(model, "u", k=4, rules=BusinessRules(max_per_category=2), items=items)
    assert two.items_of("u") == ["i1", "i2", "i3"]


def test_popularity_penalty_by_hand() -> None:
    model, items = four_items()
    # beta 0.5: relevance (pop/10) / pop**0.5 = sqrt(pop)/10, rescaled to max 1: sqrt(pop / 10)
    half = apply_rules(model, "u", k=4, rules=BusinessRules(popularity_penalty=0.5), items=items)
    assert half.items_of("u") == ["i1", "i2", "i3", "i4"]
    np.testing.assert_allclose(half.scores[0], np.sqrt(np.array([10, 9, 6, 5]) / 10))
    # beta 2: (pop/10) / pop**2 ~ 1/pop, so the least popular item comes first: 1, 5/6, 5/9, 1/2
    two = apply_rules(model, "u", k=4, rules=BusinessRules(popularity_penalty=2.0), items=items)
    assert two.items_of("u") == ["i4", "i3", "i2", "i1"]
    np.testing.assert_allclose(two.scores[0], [1.0, 5 / 6, 5 / 9, 0.5])


def test_popularity_penalty_lowers_the_popularity_of_what_is_shown() -> None:
    rng = np.random.default_rng(3)
    n_users, n_items = 200, 60
    weights = 1.0 / np.arange(1, n_items + 1)  # a long tail
    rows = {(f"u{u}", f"i{i}") for u in range(n_users) for i in rng.choice(n_items, 6, p=weights / weights.sum())}
    x = Interactions.from_frame(pd.DataFrame(sorted(rows), columns=["user_id", "item_id"]))
    model = ItemKNN().fit(x)
    pop = dict(zip(model.item_ids_.tolist(), model.item_popularity_.tolist(), strict=True))
    users = [f"u{u}" for u in range(50)]
    mean_pop = []
    for beta in (0.0, 0.5, 1.0, 2.0):
        frame = apply_rules(model, users, k=5, rules=BusinessRules(popularity_penalty=beta)).to_frame()
        mean_pop.append(float(frame["item_id"].map(pop).mean()))
    assert all(a > b for a, b in itertools.pairwise(mean_pop)), mean_pop


def test_availability_and_blocks() -> None:
    model, items = four_items()
    in_stock = apply_rules(model, "u", k=4, rules=BusinessRules(available_column="in_stock"), items=items)
    assert in_stock.items_of("u") == ["i1", "i2", "i3"]  # i4 is out of stock
    listed = apply_rules(model, "u", k=4, rules=BusinessRules(available_items=["i2", "i4", "nope"]))
    assert listed.items_of("u") == ["i2", "i4"]
    both = BusinessRules(available_items=["i2", "i4"], available_column="in_stock", blocked_items=["i2"])
    assert apply_rules(model, "u", k=4, rules=both, items=items).items_of("u") == []
    blocked = apply_rules(model, "u", k=4, rules=BusinessRules(blocked_items={"i1"}))
    assert blocked.items_of("u") == ["i2", "i3", "i4"]
    with pytest.raises(RecommendError, match="available_column"):
        apply_rules(model, "u", k=2, rules=BusinessRules(available_column="in_stock"))  # no catalogue


# ---- reasons ---------------------------------------------------------------------------------
def reason_shop() -> tuple[Interactions, pd.DataFrame, pd.DataFrame]:
    """v viewed a (minute 1) and bought b (minute 2).

    Other users: q1, q2 touched b and c (c co-occurs with b only); q3 touched a and d (d with
    a only); q4 touched e (tea like a, no shared user); q5..q9 touched f (the most popular
    item, a shoe); q10 touched g (a hat, touched once).
    """
    rows = [
        ("v", "a", 1, "view"),
        ("v", "b", 2, "purchase"),
        ("q1", "b", 1, "purchase"),
        ("q1", "c", 1, "purchase"),
        ("q2", "b", 1, "purchase"),
        ("q2", "c", 1, "purchase"),
        ("q3", "a", 1, "view"),
        ("q3", "d", 1, "view"),
        ("q4", "e", 1, "view"),
        ("q10", "g", 1, "view"),
    ] + [(f"q{n}", "f", 1, "view") for n in range(5, 10)]
    log = pd.DataFrame(rows, columns=["user_id", "item_id", "minute", "event_type"])
    log["ts"] = pd.Timestamp("2026-02-01") + pd.to_timedelta(log["minute"], unit="min")
    log["order_id"] = log["user_id"]
    log = log.drop(columns="minute")
    items = pd.DataFrame(
        {
            "item_id": list("abcdefg"),
            "title": ["Oolong", "Teapot", "Cups", "Kettle", "Green tea", "Sneaker", "Hat"],
            "category": ["Tea", "Ware", "Ware", "Ware", "Tea", "Shoes", "Hats"],
        }
    )
    users = pd.DataFrame({"user_id": ["v", "q5", "q6", "newbie", "q3"], "city_tier": [2, 1, 1, "1", None]})
    return Interactions.from_frame(log).with_context(log=log, items=items), items, users


def reasons_by_item(got: RuledRecommendations, user: str) -> dict[str, str]:
    return dict(zip(got.items_of(user), got.reasons_of(user), strict=True))


def test_reasons_in_english() -> None:
    x, items, users = reason_shop()
    model = Popularity().fit(x)
    got = apply_rules(model, "v", k=5, history=x.log, users=users, items=items, rules=BusinessRules(popular_top=1))
    assert reasons_by_item(got, "v") == {
        "f": "Popular right now",  # no shared user, another category, but the most popular item
        "c": "Because you bought Teapot",  # c shares users with b only, and v bought b
        "d": "Because you viewed Oolong",  # d shares a user with a, which v only viewed
        "e": "Because you viewed Oolong",  # no shared user, but the same category as a
        "g": "Recommended for you",  # nothing above holds (popular_top=1, and v's tier 2 never touched g)
    }
    frame = got.to_frame()
    assert list(frame.columns) == [
        "user_id",
        "rank",
        "item_id",
        "score",
        "model_score",
        "reason",
        "reason_kind",
        "because_item_id",
        "fallback",
    ]
    kinds = dict(zip(frame["item_id"], frame["reason_kind"], strict=True))
    assert kinds == {"f": "popular", "c": "history", "d": "history", "e": "history", "g": "personal"}
    assert dict(zip(frame["item_id"], frame["because_item_id"], strict=True))["c"] == "b"
    # with the default popular_top (100) every touched item counts as popular
    popular = apply_rules(model, "v", k=5, history=x.log, items=items)
    assert reasons_by_item(popular, "v")["g"] == "Popular right now"


def test_reasons_in_chinese() -> None:
    x, items, users = reason_shop()
    model = Popularity().fit(x)
    got = apply_rules(model, "v", k=4, rules=BusinessRules(lang="zh"), history=x.log, users=users, items=items)
    reasons = reasons_by_item(got, "v")
    assert reasons["c"] == "因为您购买过「Teapot」"
    assert reasons["d"] == "因为您浏览过「Oolong」"
    assert reasons["f"] == "近期热销"


def test_without_history_the_training_matrix_explains_as_viewed() -> None:
    x, items, _ = reason_shop()
    got = apply_rules(Popularity().fit(x), "v", k=4, items=items)
    assert reasons_by_item(got, "v")["c"] == "Because you viewed Teapot"


def test_fallback_users_get_their_city_tiers_popular_items() -> None:
    x, items, users = reason_shop()
    model = Popularity().fit(x)
    # tier 1 users q5 and q6 touched only f; overall, b and f lead (3 and 5 users)
    got = apply_rules(model, ["newbie", "nobody"], k=2, users=users, items=items)
    assert got.fallback.tolist() == [True, True]
    assert got.items_of("newbie")[0] == "f"
    assert got.reasons_of("newbie")[0] == "Popular in your city tier 1"
    assert got.reasons_of("nobody") == ["Popular right now", "Popular right now"]
    zh = apply_rules(model, "newbie", k=1, rules=BusinessRules(lang="zh"), users=users, items=items)
    assert zh.reasons_of("newbie") == ["在您所在的一线城市热销"]


def test_bought_together_reason_with_an_fbt_model() -> None:
    x, items, _ = reason_shop()
    fbt = FrequentlyBoughtTogether(min_count=2).fit(x)  # b and c are in two orders together (q1, q2)
    got = apply_rules(Popularity().fit(x), "v", k=4, history=x.log, items=items, fbt=fbt)
    reasons = reasons_by_item(got, "v")
    assert reasons["c"] == "Often bought together with Teapot"
    assert reasons["d"] == "Because you viewed Oolong"  # no rule: falls through to the history
    zh = apply_rules(Popularity().fit(x), "v", k=4, rules=BusinessRules(lang="zh"), history=x.log, fbt=fbt, items=items)
    assert reasons_by_item(zh, "v")["c"] == "与「Teapot」经常一起购买"


# ---- config and errors -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"diversity": 1.5}, "diversity"),
        ({"similarity": "cosine"}, "similarity"),
        ({"popularity_penalty": -1.0}, "popularity_penalty"),
        ({"max_per_category": 0}, "max_per_category"),
        ({"candidate_multiplier": 0}, "candidate_multiplier"),
        ({"lang": "fr"}, "lang"),
    ],
)
def test_bad_rules_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(RecommendError, match=match):
        BusinessRules(**kwargs)  # type: ignore[arg-type]


def test_rules_are_frozen_and_hashable() -> None:
    rules = BusinessRules(available_items=["a", "b"], blocked_items=["c"])
    assert rules.available_items == frozenset({"a", "b"})
    assert hash(rules) == hash(BusinessRules(available_items={"b", "a"}, blocked_items=("c",)))
    with pytest.raises(AttributeError):
        rules.diversity = 0.3  # type: ignore[misc]


def test_category_rules_need_the_catalogue() -> None:
    model, _ = four_items()
    with pytest.raises(RecommendError, match="category"):
        apply_rules(model, "u", k=2, rules=BusinessRules(diversity=0.3))
    with pytest.raises(RecommendError, match="category"):
        apply_rules(model, "u", k=2, rules=BusinessRules(max_per_category=1))
    # co-occurrence redundancy works without it
    assert len(apply_rules(model, "u", k=2, rules=BusinessRules(diversity=0.3, similarity="cooccurrence"))) == 1


def test_relevance_of_scores_that_are_not_all_positive() -> None:
    # ranker margins: mapped linearly onto [0.01, 1] before the penalty
    np.testing.assert_allclose(relevance(np.array([2.0, 0.0, -2.0]), np.ones(3), 0.0), [1.0, 0.505, 0.01])
