"""Hybrid recall-and-rank: the ranker learns what its recalls cannot, and the bookkeeping is right."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from growthkit.features.interactions import Interactions
from growthkit.models.recommend import Hybrid, Popularity, Recommender, RecommendError
from growthkit.models.recommend._hybrid_ranker import TrainingRows, fit_ranker
from growthkit.models.recommend._hybrid_split import pair_stats, repeat_share, split_for_ranker, split_for_repeats
from growthkit.models.recommend.base import registered_models
from growthkit.models.recommend.ranker_features import (
    REPEAT_FEATURES,
    ItemTable,
    candidates,
    feature_names,
    features,
    item_table,
    repeat_features,
)

POP = ("popularity", {})
POP_CAT = ("popularity", {"by": "category"})
T0 = pd.Timestamp("2026-03-01")


# ---- a shop whose users buy in their favourite category AND price band -----------------------
def taste_shop(seed: int = 0, n_users: int = 300) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users buy mostly (80 %) in one category and one of three price bands (~10, ~100, ~1000).

    Item popularity is heavy-tailed (Pareto) and shared by all users. Popularity by category
    finds the category but mixes the three bands; only a model that compares an item's price
    with the user's usual price can also find the band.
    """
    rng = np.random.default_rng(seed)
    n_cat, n_band, per = 6, 3, 10
    n_items = n_cat * n_band * per
    cat = np.repeat(np.arange(n_cat), n_band * per)
    band = np.tile(np.repeat(np.arange(n_band), per), n_cat)
    price = np.round(10.0 ** (1 + band) * rng.uniform(0.7, 1.4, n_items), 2)
    pop = rng.pareto(1.5, n_items) + 0.2
    rows = []
    for u in range(n_users):
        taste = np.flatnonzero((cat == rng.integers(n_cat)) & (band == rng.integers(n_band)))
        seen: list[int] = []
        t = T0 + pd.Timedelta(minutes=int(rng.integers(0, 10_000)))
        while len(seen) < 8:
            pool = taste if rng.random() < 0.8 else np.arange(n_items)
            w = pop[pool] * ~np.isin(pool, seen)
            if w.sum() == 0:
                continue
            seen.append(int(rng.choice(pool, p=w / w.sum())))
            t += pd.Timedelta(minutes=int(rng.integers(1, 600)))
            rows.append((f"u{u}", f"i{seen[-1]}", t, "purchase", f"s{u}"))
    log = pd.DataFrame(rows, columns=["user_id", "item_id", "ts", "event_type", "session_id"])
    items = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(n_items)],
            "title": [f"item {i}" for i in range(n_items)],
            "category": [f"cat{c}" for c in cat],
            "price": price,
        }
    )
    return log, items


def ndcg_at_10(model: Recommender, test: pd.DataFrame) -> float:
    """Mean NDCG@10 with one relevant item per user: 1 / log2(rank + 1), 0 beyond rank 10."""
    recs = model.recommend(test["user_id"].tolist(), k=10)
    gains = []
    for user, target in zip(test["user_id"], test["item_id"], strict=True):
        got = recs.items_of(user)
        gains.append(1.0 / np.log2(got.index(target) + 2) if target in got else 0.0)
    return float(np.mean(gains))


@pytest.fixture(scope="module")
def shop_split() -> tuple[Interactions, pd.DataFrame]:
    log, items = taste_shop(seed=0)
    log = log.sort_values(["user_id", "ts"]).reset_index(drop=True)
    test = log.groupby("user_id").tail(1)  # each user's last purchase is held out
    train = log.drop(test.index)
    x = Interactions.from_frame(train, item_ids=items["item_id"]).with_context(log=train, items=items)
    return x, test


def small_hybrid(**kw: object) -> Hybrid:
    params: dict[str, object] = {"recalls": (POP, POP_CAT), "n_estimators": 50, "n_candidates": 50}
    params.update(kw)
    return Hybrid(**params)  # type: ignore[arg-type]


def test_ranker_beats_both_recalls_on_held_out_ndcg(shop_split: tuple[Interactions, pd.DataFrame]) -> None:
    x, test = shop_split
    pop = ndcg_at_10(Popularity().fit(x), test)
    pop_cat = ndcg_at_10(Popularity(by="category").fit(x), test)
    hybrid = small_hybrid().fit(x)
    ndcg = ndcg_at_10(hybrid, test)
    # Measured with seed 0: popularity 0.079, popularity by category 0.151, hybrid 0.555 (seeds
    # 1-4 of the same shop: hybrid 0.50-0.53 against at most 0.132 for either recall). The price
    # band is the part of the taste that popularity by category cannot see, so the ranker must
    # gain clearly; a margin of 0.1 fails if it merely reproduces its best recall.
    assert ndcg > max(pop, pop_cat) + 0.1
    # ... and it gains through the price features, which no recall has
    gain = dict(zip(hybrid.feature_names_, hybrid.ranker_.feature_importance("gain"), strict=True))
    assert gain["log_price_ratio"] > 0
    # the candidates (top 50 of 180 items from each recall) hold most of the labels
    assert 0.5 < hybrid.candidate_recall_ <= 1.0
    assert np.all(hybrid.recall_candidate_recall_ <= hybrid.candidate_recall_ + 1e-12)


def test_save_load_roundtrip(shop_split: tuple[Interactions, pd.DataFrame], tmp_path: Path) -> None:
    x, _ = shop_split
    model = small_hybrid(n_estimators=20).fit(x)
    again = Recommender.load(model.save(tmp_path / "hybrid.npz"))
    assert isinstance(again, Hybrid)
    assert again.get_params() == model.get_params()
    assert [type(r) for r in again.recalls_] == [type(r) for r in model.recalls_]
    assert [r.get_params() for r in again.recalls_] == [r.get_params() for r in model.recalls_]
    assert again.candidate_recall_ == model.candidate_recall_
    assert again.feature_names_ == model.feature_names_
    assert again.ranker_check_ == model.ranker_check_ and again.scale_free_
    users = [*x.user_ids[:25].tolist(), "stranger"]
    a, b = model.recommend(users, k=10), again.recommend(users, k=10)
    assert a.item_ids.tolist() == b.item_ids.tolist()
    np.testing.assert_array_equal(a.scores, b.scores)
    fa = model.recommend_from_items(["i3", "i4"], k=10)
    fb = again.recommend_from_items(["i3", "i4"], k=10)
    assert fa.item_ids.tolist() == fb.item_ids.tolist()
    np.testing.assert_array_equal(fa.scores, fb.scores)


# ---- the time split -------------------------------------------------------------------------
def timeline(rows: list[tuple[str, str, int]]) -> Interactions:
    """Interactions from ``(user, item, minute)`` rows, with the log."""
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "minute"])
    frame["ts"] = T0 + pd.to_timedelta(frame["minute"], unit="min")
    frame["event_type"] = "view"
    frame["session_id"] = frame["user_id"]
    return Interactions.from_frame(frame).with_context(log=frame.drop(columns="minute"))


def pairs(x: Interactions, m: sparse.csr_matrix) -> set[tuple[str, str]]:
    coo = m.tocoo()
    return {(str(x.user_ids[r]), str(x.item_ids[c])) for r, c in zip(coo.row, coo.col, strict=True)}


def test_last_holdout_takes_each_users_last_new_items() -> None:
    x = timeline(
        [
            ("a", "x", 1), ("a", "y", 2), ("a", "z", 3),  # z is a's last new item
            ("b", "x", 1), ("b", "y", 1),  # one timestamp: no earlier part, no label
            ("c", "p", 1), ("c", "q", 2), ("c", "r", 3), ("c", "q", 4),  # q again at 4: r is still the last new item
            ("d", "x", 5), ("d", "y", 6), ("d", "w", 6),  # a basket of two at 6
        ]
    )  # fmt: skip
    split = split_for_ranker(x.matrix, x, "last", np.random.default_rng(0))
    assert split.how == "last"
    assert pairs(x, split.labels) == {("a", "z"), ("c", "r"), ("d", "y"), ("d", "w")}
    assert pairs(x, split.train) == {("a", "x"), ("a", "y"), ("b", "x"), ("b", "y"), ("c", "p"), ("c", "q"), ("d", "x")}
    # the earlier log stops before each user's cut: c keeps p@1, q@2 (not q@4); b keeps everything
    assert split.log is not None
    kept = sorted(zip(split.log["user_id"], split.log["item_id"], split.log["ts"].dt.minute, strict=True))
    assert kept == [
        ("a", "x", 1),
        ("a", "y", 2),
        ("b", "x", 1),
        ("b", "y", 1),
        ("c", "p", 1),
        ("c", "q", 2),
        ("d", "x", 5),
    ]


def test_fraction_holdout_is_one_time_cutoff() -> None:
    x = timeline([("a", "x", 0), ("a", "y", 10), ("b", "x", 20), ("b", "z", 30), ("c", "w", 40)])
    # first touches 0, 10, 20, 30, 40: the 0.6 quantile (holdout 0.4) is 24, so z@30 and w@40 are labels
    split = split_for_ranker(x.matrix, x, 0.4, np.random.default_rng(0))
    assert split.how == "time"
    assert pairs(x, split.labels) == {("b", "z"), ("c", "w")}
    assert pairs(x, split.train) == {("a", "x"), ("a", "y"), ("b", "x")}
    assert split.log is not None and split.log["ts"].max() < T0 + pd.Timedelta(minutes=24)


def test_random_holdout_takes_a_fifth_of_each_users_items_whenever_touched() -> None:
    rows = [(u, f"i{j}", j) for u, n in (("a", 10), ("b", 4), ("c", 1)) for j in range(n)]
    x = timeline([*rows, ("a", "i0", 50)])  # a touches i0 again at the end
    split = split_for_ranker(x.matrix, x, "random", np.random.default_rng(0))
    assert split.how == "random"
    assert np.diff(split.labels.indptr).tolist() == [2, 1, 0]  # round(0.2 n), at least 1, c keeps its only item
    assert split.train.nnz + split.labels.nnz == x.nnz and split.train.multiply(split.labels).nnz == 0
    # the earlier log loses every row of the held-out pairs (whenever they happened) and nothing else
    assert split.log is not None
    held = pairs(x, split.labels)
    kept = set(zip(split.log["user_id"], split.log["item_id"], strict=True))
    assert not kept & held and len(split.log) == 16 - sum(3 if p == ("a", "i0") else 1 for p in held)


def test_without_a_log_a_random_item_per_user_is_held_out(caplog: pytest.LogCaptureFixture) -> None:
    frame = pd.DataFrame({"user_id": list("aaabbc"), "item_id": list("xyzxyx")})
    x = Interactions.from_frame(frame)
    with caplog.at_level(logging.WARNING):
        split = split_for_ranker(x.matrix, x, "last", np.random.default_rng(0))
    assert split.how == "random" and "random share" in caplog.text
    per_user = np.diff(split.labels.indptr)
    assert per_user.tolist() == [1, 1, 0]  # c has one item: nothing to hold out
    assert split.train.nnz + split.labels.nnz == x.nnz
    assert split.train.multiply(split.labels).nnz == 0


# ---- candidates, labels and features ---------------------------------------------------------
def test_candidates_are_the_union_of_each_recalls_unseen_top_n() -> None:
    # two users, five items; user 0 has seen item 0, user 1 item 4
    seen = sparse.csr_matrix(np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 1]], dtype=np.float32))
    first = np.array([[9, 8, 7, 1, 0], [0, 1, 2, 3, 9]], dtype=np.float32)
    second = np.array([[0, 1, 5, 6, 0], [5, 0, 0, 0, 4]], dtype=np.float32)
    c = candidates([first, second], seen, 2, include_seen=False)
    # user 0: first -> 1, 2 (0 is seen); second -> 3, 2. user 1: first -> 3, 2 (4 seen); second -> 0, then
    # items 1, 2, 3 tie at 0 and the lowest column (1) wins
    assert list(zip(c.rows.tolist(), c.cols.tolist(), strict=True)) == [
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 0),
        (1, 1),
        (1, 2),
        (1, 3),
    ]
    expected = [[1, np.nan], [2, 2], [np.nan, 1], [np.nan, 1], [np.nan, 2], [2, np.nan], [1, np.nan]]
    np.testing.assert_array_equal(c.ranks, np.asarray(expected, dtype=np.float32))
    with_seen = candidates([first, second], seen, 2, include_seen=True)
    assert (0, 0) in set(zip(with_seen.rows.tolist(), with_seen.cols.tolist(), strict=True))


def bookkeeping_data() -> Interactions:
    return timeline(
        [
            ("u1", "a", 1), ("u1", "b", 2),  # label b
            ("u2", "a", 1), ("u2", "b", 2),  # label b
            ("u3", "a", 1), ("u3", "c", 2),  # label c
            ("u4", "b", 1), ("u4", "a", 2),  # label a
            ("u5", "c", 1),  # one item: no label
        ]
    )  # fmt: skip


def test_labels_count_only_when_a_recall_proposes_them() -> None:
    # Without the labels, popularity (users per item) is a: 3 (u1, u2, u3), b: 1 (u4), c: 1 (u5).
    # With one candidate per user: u1 and u2 get b (ties with c, lower column) = their label;
    # u3 gets b too but wanted c; u4 gets a = its label. Recall@1 of the candidates: 3 / 4.
    one = Hybrid(recalls=(POP,), n_candidates=1, min_child_samples=1, holdout="last").fit(bookkeeping_data())
    assert one.candidate_recall_ == pytest.approx(0.75)
    assert (one.n_ranker_queries_, one.n_ranker_rows_) == (3, 3)  # u3's group has no positive and is dropped
    # with two candidates every user's two unseen items are proposed: recall 1, 4 groups of 2
    two = Hybrid(recalls=(POP,), n_candidates=2, min_child_samples=1, holdout="last").fit(bookkeeping_data())
    assert two.candidate_recall_ == pytest.approx(1.0)
    assert (two.n_ranker_queries_, two.n_ranker_rows_) == (4, 8)


def test_serving_ranks_only_the_candidates() -> None:
    x = bookkeeping_data()
    model = Hybrid(recalls=(POP,), n_candidates=1, min_child_samples=1).fit(x)
    # served on all data: popularity a 4, b 3, c 2; u5 (seen c) gets a single candidate, a
    assert model.recommend("u5", k=3).items_of("u5") == ["a"]
    assert model.recommend("u5", k=3, exclude_seen=False).items_of("u5") == ["a", "c"]  # seen items are scored too
    assert model.recommend("u5", k=3, block_items=["a"]).items_of("u5") == []  # nothing else was a candidate
    scores = model.score(["u5", "u5"], ["a", "b"])
    assert np.isfinite(scores[0]) and scores[1] == -np.inf


def test_features_known_answer() -> None:
    # three items: 0 (cat 0, price 10), 1 (cat 1, price 1000), 2 (cat 0, price 100, no category known for 3)
    items = ItemTable(
        popularity=np.log1p(np.array([4.0, 2.0, 1.0, 0.0])),
        recent=np.array([np.nan] * 4),
        log_price=np.log(np.array([10.0, 1000.0, 100.0, np.nan])),
        category=np.array([0, 1, 0, -1]),
        n_categories=2,
    )
    profile = sparse.csr_matrix(np.array([[2.0, 3.0, 0.0, 0.0]], dtype=np.float32))  # the user touched 0 and 1
    block = np.array([[0.5, 0.4, 0.3, 0.2]], dtype=np.float32)
    cands = candidates([block], profile, 2, include_seen=False)  # items 2, 3
    matrix = features(cands, [block], profile, np.array([[7.0, 2.0, 1.0]]), items)
    f = dict(zip(feature_names(1), matrix.T, strict=True))
    np.testing.assert_allclose(f["recall0_score"], [1.0, 0.2 / 0.3], rtol=1e-6)  # relative to the first candidate
    raw = features(cands, [block], profile, np.array([[7.0, 2.0, 1.0]]), items, relative=False)
    np.testing.assert_allclose(raw[:, 0], [0.3, 0.2], rtol=1e-6)
    np.testing.assert_array_equal(f["recall0_rank"], [1, 2])
    # typical price: geometric mean of 10 and 1000 = 100, so item 2 (100) sits exactly at it
    np.testing.assert_allclose(f["user_log_price"], [np.log(100.0)] * 2, rtol=1e-6)
    np.testing.assert_allclose(f["log_price_ratio"][0], 0.0, atol=1e-6)
    assert np.isnan(f["log_price_ratio"][1])  # item 3 has no price
    np.testing.assert_allclose(f["category_share"][0], 0.5)  # half of the history is in category 0
    assert np.isnan(f["category_share"][1])
    np.testing.assert_array_equal(f["user_n_items"], [2, 2])
    np.testing.assert_array_equal(f["user_weight"], [5, 5])
    np.testing.assert_array_equal(f["user_n_events"], [7, 7])
    np.testing.assert_allclose(f["item_popularity"], np.log1p([1.0, 0.0]), rtol=1e-6)


# ---- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"recalls": ()}, "non-empty sequence"),
        ({"recalls": "itemknn"}, "non-empty sequence"),
        ({"recalls": (("nope", {}),)}, "unknown recall model 'nope'"),
        ({"recalls": (("popularity",),)}, "pair"),
        ({"recalls": (("popularity", "by=global"),)}, "must be a dict"),
        ({"recalls": (("popularity", {"by": object()}),)}, "JSON-able"),
        ({"recalls": (("hybrid", {}),)}, "cannot use another Hybrid"),
        ({"holdout": "first"}, "holdout"),
        ({"holdout": 1.5}, "holdout"),
        ({"holdout": True}, "holdout"),
        ({"n_candidates": 0}, "n_candidates"),
        ({"n_candidates": 10_001}, "at most 10000 rows per query"),
        ({"learning_rate": -0.1}, "learning_rate"),
        ({"max_ranker_users": 0}, "max_ranker_users"),
        ({"repeats": "yes"}, "repeats"),
    ],
)
def test_bad_parameters_are_refused_at_fit(params: dict[str, object], match: str) -> None:
    model = Hybrid(**{"recalls": (POP,), **params})  # type: ignore[arg-type]
    with pytest.raises(RecommendError, match=match):
        model.fit(bookkeeping_data())


def test_data_without_anything_to_hold_out_is_refused() -> None:
    x = timeline([("a", "x", 1), ("b", "y", 2)])  # one item per user
    with pytest.raises(RecommendError, match="at least two"):
        Hybrid(recalls=(POP,)).fit(x)


def test_recall_errors_say_what_to_fix() -> None:
    with pytest.raises(RecommendError, match="item categories"):
        Hybrid(recalls=(POP_CAT,)).fit(bookkeeping_data())  # no catalogue given


# ---- a ranker must not fall far below its own best recall ----------------------------------
def cluster_shop(seed: int = 0, n_users: int = 300) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users draw 85 % of 12 items from one of 10 item clusters; timestamps are random order.

    Item-kNN finds the cluster; popularity does not. The ranker's labels (each user's last
    item) carry no time signal, the regime where a ranker learns little beyond its recalls.
    """
    rng = np.random.default_rng(seed)
    n_cl, per = 10, 20
    n_items = n_cl * per
    pop = rng.pareto(1.5, n_items) + 0.2
    rows = []
    for u in range(n_users):
        taste = np.arange(per) + per * int(rng.integers(n_cl))
        seen: list[int] = []
        while len(seen) < 12:
            pool = taste if rng.random() < 0.85 else np.arange(n_items)
            w = pop[pool] * ~np.isin(pool, seen)
            if w.sum() == 0:
                continue
            seen.append(int(rng.choice(pool, p=w / w.sum())))
        minutes = rng.permutation(len(seen)) * 10 + int(rng.integers(0, 10_000))
        rows += [(f"u{u}", f"i{i}", T0 + pd.Timedelta(minutes=int(m))) for i, m in zip(seen, minutes, strict=True)]
    log = pd.DataFrame(rows, columns=["user_id", "item_id", "ts"])
    log["event_type"], log["session_id"] = "view", log["user_id"]
    test = log.groupby("user_id").sample(n=2, random_state=seed)  # random items, not the last ones
    return log.drop(test.index), test.groupby("user_id").head(1)


def test_ranker_stays_close_to_its_best_recall() -> None:
    train, test = cluster_shop()
    x = Interactions.from_frame(train).with_context(log=train)
    knn = ndcg_at_10(registered_models()["itemknn"]().fit(x), test)
    pop = ndcg_at_10(Popularity().fit(x), test)
    hybrid = Hybrid(recalls=(("itemknn", {}), POP), n_candidates=50).fit(x)
    ndcg = ndcg_at_10(hybrid, test)
    # Measured with seed 0: item-kNN 0.520, popularity 0.061, hybrid 0.519; before the ranker
    # boosted from its best recall with early stopping, the hybrid fell to 0.440 (0.85 x kNN).
    assert knn > pop + 0.1
    assert ndcg >= 0.95 * knn


def signup_shop(seed: int = 0, n_users: int = 300) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users take 85 % of 16 items from one of 10 clusters; each user's famous items come first.

    As on MovieLens (users rate well-known films at sign-up): a user's *last* items are the
    obscure ones. The truth is four random items per user, not the last ones, so "what comes
    last" is the wrong question; item-kNN finds the cluster and is nearly perfect.
    """
    rng = np.random.default_rng(seed)
    n_cl, per = 10, 20
    pop = rng.pareto(1.5, n_cl * per) + 0.2
    rows: list[tuple[str, str, pd.Timestamp]] = []
    test: list[tuple[str, str, pd.Timestamp]] = []
    for u in range(n_users):
        taste = np.arange(per) + per * int(rng.integers(n_cl))
        seen: list[int] = []
        while len(seen) < 16:
            pool = taste if rng.random() < 0.85 else np.arange(n_cl * per)
            w = pop[pool] * ~np.isin(pool, seen)
            if w.sum() > 0:
                seen.append(int(rng.choice(pool, p=w / w.sum())))
        start, held = int(rng.integers(0, 10_000)), set(rng.choice(16, size=4, replace=False).tolist())
        for k, j in enumerate(np.argsort(-pop[seen])):  # the famous items first
            (test if j in held else rows).append((f"u{u}", f"i{seen[j]}", T0 + pd.Timedelta(minutes=start + 10 * k)))
    log = pd.DataFrame(rows, columns=["user_id", "item_id", "ts"])
    log["event_type"], log["session_id"] = "view", log["user_id"]
    return log, pd.DataFrame(test, columns=["user_id", "item_id", "ts"])


def ndcg_of_sets(model: Recommender, test: pd.DataFrame, k: int = 10) -> float:
    """Mean NDCG@k with binary gains over each user's held-out set."""
    truth = test.groupby("user_id")["item_id"].apply(set)
    recs = model.recommend(truth.index.tolist(), k=k)
    out = []
    for user, wanted in truth.items():
        dcg = sum(1.0 / np.log2(r + 2) for r, item in enumerate(recs.items_of(user)) if item in wanted)
        out.append(dcg / sum(1.0 / np.log2(r + 2) for r in range(min(len(wanted), k))))
    return float(np.mean(out))


def test_the_hybrid_does_not_rank_below_a_near_perfect_recall() -> None:
    train, test = signup_shop()
    x = Interactions.from_frame(train).with_context(log=train)
    knn = ndcg_of_sets(registered_models()["itemknn"]().fit(x), test)
    hybrid = Hybrid(recalls=(("itemknn", {}), POP), n_candidates=50).fit(x)
    # Measured with seed 0: item-kNN 0.778, hybrid 0.775 (random_state 1, 2: 0.777, 0.772; shop
    # seed 1: kNN 0.748, hybrid 0.750-0.753). Before, with each user's last item as the label,
    # the ranker learned "obscure items come last" and fell to 0.466-0.497 (seed 1: 0.478-0.533),
    # the MovieLens failure (hybrid 0.32-0.38 against item-kNN 0.387).
    assert knn > 0.7
    assert ndcg_of_sets(hybrid, test) >= 0.98 * knn
    assert hybrid.split_ == "random"


def test_trees_that_do_not_beat_the_starting_order_are_not_served() -> None:
    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    n_groups, size = 60, 20
    group = np.full(n_groups, size, dtype=np.int64)
    y = np.tile(np.r_[1.0, np.zeros(size - 1)], n_groups).astype(np.float32)
    data = TrainingRows(
        x=rng.normal(size=(n_groups * size, 3)).astype(np.float32), y=y, group=group,
        user=np.arange(n_groups, dtype=np.int64), new_view=np.ones(n_groups, dtype=bool),
        candidate_recall=1.0, recall_candidate_recall=np.ones(1),
    )  # fmt: skip
    perfect = -np.log(np.tile(np.arange(1.0, size + 1), n_groups))  # the label first, then the rest
    params = {"min_child_samples": 1, "num_threads": 1, "seed": 0, "verbose": -1}
    _, check = fit_ranker(lightgbm, data, perfect, params, 20, np.random.default_rng(0))
    assert check.n_groups == n_groups // 5 and check.base_ndcg == 1.0
    assert check.ranker_ndcg <= 1.0 and not check.used  # nothing to gain: the starting order is served


def test_without_its_trees_the_hybrid_serves_its_base_recalls_order(
    shop_split: tuple[Interactions, pd.DataFrame],
) -> None:
    x, _ = shop_split
    model = small_hybrid(n_estimators=20).fit(x)
    model.ranker_check_ = dataclasses.replace(model.ranker_check_, used=False)
    users = x.user_ids[:30].tolist()
    recall = model.recalls_[model.base_recall_]
    base, served = recall.recommend(users, k=10), model.recommend(users, k=10)
    for user in users:  # the recall's own top 10, in its order (items with equal scores in any order)
        got = recall.score([user] * 10, served.items_of(user))
        np.testing.assert_allclose(got, base.scores[base.query_ids.tolist().index(user)], rtol=1e-6)


# ---- repeats: when a user's own items may be recommended again -------------------------------
def staple_shop(seed: int = 0, n_users: int = 200, n_baskets: int = 6) -> pd.DataFrame:
    """Each user buys three personal staples (of items 100-299) in 90 % of weekly baskets, plus four
    fillers of items 0-99 drawn by a skewed global popularity (each filler in at most about a
    tenth of the baskets). The next basket is mostly the staples: only a model that ranks the
    user's own items (by how often they came back) finds them; popularity and item-to-item
    recalls propose the fillers."""
    rng = np.random.default_rng(seed)
    n_items = 300
    pop = np.where(np.arange(n_items) < 100, rng.pareto(3.0, n_items) + 0.1, 0.0)
    pop /= pop.sum()
    rows = []
    for u in range(n_users):
        staples = rng.choice(np.arange(100, n_items), size=3, replace=False)
        t = T0 + pd.Timedelta(hours=int(rng.integers(0, 24 * 30)))
        for b in range(n_baskets):
            basket = {int(s) for s in staples if rng.random() < 0.9} | {int(i) for i in rng.choice(n_items, 4, p=pop)}
            rows += [
                (f"u{u}", f"i{i}", t, "purchase", f"o{u}-{b}", f"i{i}" in {f"i{s}" for s in staples}) for i in basket
            ]
            t += pd.Timedelta(days=7)
    return pd.DataFrame(rows, columns=["user_id", "item_id", "ts", "event_type", "order_id", "staple"])


@pytest.fixture(scope="module")
def staples() -> tuple[Interactions, pd.DataFrame]:
    log = staple_shop()
    last = log.groupby("user_id")["ts"].transform("max") == log["ts"]
    train = log[~last].drop(columns="staple")
    x = Interactions.from_frame(train).with_context(log=train)
    return x, log[last]


def staple_hits(model: Recommender, test: pd.DataFrame) -> float:
    """Share of the next basket's staples among each user's top 3 with seen items allowed."""
    users = sorted(set(test["user_id"]))
    recs = model.recommend(users, k=3, exclude_seen=False)
    wanted = test[test["staple"]].groupby("user_id")["item_id"].apply(set)
    return float(np.mean([len(set(recs.items_of(u)) & wanted.get(u, set())) / max(len(wanted.get(u, ())), 1)
                          for u in users]))  # fmt: skip


def test_with_repeats_the_ranker_puts_a_users_staples_first(staples: tuple[Interactions, pd.DataFrame]) -> None:
    x, test = staples
    model = Hybrid(recalls=(("itemknn", {}), POP), n_candidates=50).fit(x)
    # "auto": most of each user's last basket was bought before, so the ranker learns repeats
    assert model.repeats_ and model.split_ == "basket" and model.repeat_share_ > 0.5
    assert model.feature_names_[-len(REPEAT_FEATURES) :] == list(REPEAT_FEATURES)
    hits = staple_hits(model, test)
    # Measured with seed 0: 0.97 with repeats (seeds 1, 2: 0.94, 0.99; the repeat baseline 0.96,
    # 0.85, 0.97); 0.00 for the ranker that learns new items only (the behaviour before repeats:
    # it demoted every user's own items below the recalls' fillers).
    assert hits > 0.9
    assert staple_hits(Hybrid(recalls=(("itemknn", {}), POP), n_candidates=50, repeats=False).fit(x), test) < 0.3
    # with seen items excluded the same model still serves only unseen items
    seen = set(x.item_ids[x.matrix[x.user_index(["u0"])[0]].indices])
    assert not seen & set(model.recommend("u0", k=20).items_of("u0"))


def test_repeats_auto_stays_off_without_repeat_business() -> None:
    # every (user, item) pair occurs once (as in MovieLens): nothing was bought again
    model = Hybrid(recalls=(POP,), min_child_samples=1).fit(bookkeeping_data())
    assert not model.repeats_ and model.split_ == "random"  # holdout "auto" without repeats
    assert model.feature_names_ == feature_names(1)
    assert model.pair_stats_ is None


def test_repeats_true_without_a_log_falls_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    frame = pd.DataFrame({"user_id": list("aaabbbccc"), "item_id": list("xyzxyzxyw")})
    with caplog.at_level(logging.WARNING):
        model = Hybrid(recalls=(POP,), repeats=True, min_child_samples=1).fit(Interactions.from_frame(frame))
    assert not model.repeats_ and "repeats=True" in caplog.text


def baskets(rows: list[tuple[str, str, int]]) -> Interactions:
    """Interactions from ``(user, item, minute)`` purchase rows; one basket per user and minute."""
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "minute"])
    frame["ts"] = T0 + pd.to_timedelta(frame["minute"], unit="min")
    frame["event_type"] = "purchase"
    frame["session_id"] = frame["user_id"] + "-" + frame["minute"].astype(str)
    return Interactions.from_frame(frame).with_context(log=frame.drop(columns="minute"))


def test_repeat_split_labels_the_whole_last_basket_and_cuts_weights() -> None:
    x = baskets(
        [
            ("a", "x", 1), ("a", "y", 1), ("a", "x", 2), ("a", "x", 3), ("a", "z", 3),  # last basket: x (again), z
            ("b", "x", 1), ("b", "y", 1),  # one basket: no earlier part, no label
            ("c", "p", 1), ("c", "q", 2), ("c", "p", 3),  # last basket: p, bought before
        ]
    )  # fmt: skip
    split = split_for_repeats(x.matrix, x, "last")
    assert split is not None and split.how == "basket"
    assert pairs(x, split.labels) == {("a", "x"), ("a", "z"), ("c", "p")}
    # earlier weights count only the events before the cut: a-x 2 of 3, c-p 1 of 2
    train = pd.Series(split.train.toarray()[x.user_index(["a", "c"])].ravel(),
                      index=pd.MultiIndex.from_product([["a", "c"], x.item_ids]))  # fmt: skip
    assert train[("a", "x")] == 2 and train[("a", "y")] == 1 and train[("a", "z")] == 0
    assert train[("c", "p")] == 1 and train[("c", "q")] == 1
    assert repeat_share(split) == pytest.approx(2 / 3)  # x and p were bought before, z was not
    assert split.log is not None and sorted(split.log.groupby("user_id")["ts"].max().dt.minute) == [1, 2, 2]
    by_time = split_for_repeats(x.matrix, x, 0.4)
    assert by_time is not None and by_time.how == "events"
    assert split_for_repeats(x.matrix, Interactions.from_frame(x.to_frame()), "last") is None


def test_pair_stats_known_answer() -> None:
    x = baskets([("a", "x", 1), ("a", "y", 1), ("a", "x", 2), ("a", "x", 4), ("a", "z", 4), ("b", "x", 3)])
    stats = pair_stats(x.log, x.user_ids, x.item_ids)
    a, b = x.user_index(["a", "b"])
    np.testing.assert_array_equal(stats.user_baskets[[a, b]], [3, 1])
    # a's occurrences: x in 3 baskets, y and z in one: 5 occurrences of 3 items
    np.testing.assert_allclose(stats.user_repeat[[a, b]], [1 - 3 / 5, 0.0])
    np.testing.assert_allclose(stats.item_repeat[x.item_index(["x", "y"])], [0.5, 0.0])  # a came back to x, b did not
    span = slice(stats.indptr[a], stats.indptr[a + 1])
    values = zip(stats.baskets[span], stats.since[span], stats.days[span], strict=True)
    got = dict(zip(x.item_ids[stats.indices[span]], values, strict=True))
    assert got["x"] == (3, 0, 0) and got["z"] == (1, 0, 0)
    assert got["y"][:2] == (1, 2) and got["y"][2] == pytest.approx(3 / 1440)


def test_repeat_features_known_answer() -> None:
    x = baskets([("a", "x", 1), ("a", "y", 1), ("a", "x", 2), ("b", "y", 1), ("b", "z", 1)])
    stats = pair_stats(x.log, x.user_ids, x.item_ids)
    items = item_table(x.matrix, x.item_ids, items=None, log=x.log, recent_days=14.0)
    rows = x.user_index(["a"])
    block = np.zeros((1, len(x.item_ids)), dtype=np.float32)
    profile = x.matrix[rows]
    cands = candidates([block], profile, 5, include_seen=True)  # x, y (seen) and z
    f = dict(zip(REPEAT_FEATURES, repeat_features(cands, profile, items, stats, rows).T, strict=True))
    order = list(x.item_ids[cands.cols])
    assert order == ["x", "y", "z"]
    np.testing.assert_array_equal(f["pair_weight"], [2, 1, 0])
    np.testing.assert_array_equal(f["pair_history_rank"][:2], [1, 2])  # most bought first
    np.testing.assert_array_equal(f["pair_n_baskets"], [2, 1, 0])
    np.testing.assert_array_equal(f["pair_basket_share"], [1, 0.5, 0])
    np.testing.assert_array_equal(f["pair_baskets_since"][:2], [0, 1])
    assert np.isnan(f["pair_history_rank"][2]) and np.isnan(f["pair_baskets_since"][2])
    np.testing.assert_array_equal(f["user_n_baskets"], [2, 2, 2])
    # a visitor's given items are one basket, just now
    visitor = repeat_features(cands, profile, items, stats, None)
    np.testing.assert_array_equal(visitor[:, REPEAT_FEATURES.index("pair_n_baskets")], [1, 1, 0])


def test_save_load_roundtrip_with_repeats(staples: tuple[Interactions, pd.DataFrame], tmp_path: Path) -> None:
    x, _ = staples
    model = Hybrid(recalls=(POP,), n_candidates=20, n_estimators=20).fit(x)
    assert model.repeats_
    again = Recommender.load(model.save(tmp_path / "hybrid.npz"))
    assert isinstance(again, Hybrid) and again.repeats_ and again.repeat_share_ == model.repeat_share_
    users = [*x.user_ids[:25].tolist(), "stranger"]
    for exclude in (True, False):
        a, b = model.recommend(users, k=10, exclude_seen=exclude), again.recommend(users, k=10, exclude_seen=exclude)
        assert a.item_ids.tolist() == b.item_ids.tolist()
        np.testing.assert_array_equal(a.scores, b.scores)
    fa = model.recommend_from_items(["i3", "i4"], k=10, exclude_seen=False)
    fb = again.recommend_from_items(["i3", "i4"], k=10, exclude_seen=False)
    assert fa.item_ids.tolist() == fb.item_ids.tolist()
