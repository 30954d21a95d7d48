"""The evaluation harness on tiny logs whose results are worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from growthkit.features.interactions import InteractionWeights
from growthkit.models.recommend import Popularity, RecommendError
from growthkit.models.recommend.evaluate import MS_RECOMMENDERS_ML100K, evaluate
from growthkit.models.recommend.splits import make_split

T0 = pd.Timestamp("2025-01-01")
VIEW = InteractionWeights(event_weights={"view": 1.0}, binary=True)


def leave_last_split():  # type: ignore[no-untyped-def]
    """a: x y z, b: x y w, c: x z, d: y x (in time order); the last item of each is the test.

    Training: a {x, y}, b {x, y}, c {x}, d {y}; popularity x = 3, y = 3, w = z = 0. Item columns are
    sorted (w, x, y, z), and popularity breaks ties by the lower column: x before y, w before z.
    """
    rows = [("a", "x"), ("a", "y"), ("a", "z"), ("b", "x"), ("b", "y"), ("b", "w"), ("c", "x"), ("c", "z"),
            ("d", "y"), ("d", "x")]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["user_id", "item_id"])
    frame = frame.assign(ts=T0 + pd.to_timedelta(np.arange(len(frame)), unit="h"), event_type="view")
    return make_split("leave-last", frame, weights=VIEW)


def test_popularity_known_answer_on_leave_last_out() -> None:
    split = leave_last_split()
    assert dict(zip(split.test["user_id"], split.test["item_id"], strict=True)) == {
        "a": "z", "b": "w", "c": "z", "d": "x"
    }  # fmt: skip
    report = evaluate(split, ["popularity"], ks=(2,))
    per = report.per_user["popularity"]
    # unseen lists at k=2: a [w, z] (hit at 2), b [w, z] (hit at 1), c [y, w] (miss), d [x, w] (hit at 1)
    assert per["recall@2"].to_dict() == {"a": 1.0, "b": 1.0, "c": 0.0, "d": 1.0}
    assert per.loc["a", "ndcg@2"] == pytest.approx(1 / math.log2(3))
    row = report.table.loc["popularity"]
    assert row["recall@2"] == pytest.approx(0.75)
    assert row["ndcg@2"] == pytest.approx((1 / math.log2(3) + 1 + 0 + 1) / 4)
    assert row["mrr@2"] == pytest.approx((0.5 + 1 + 0 + 1) / 4)
    assert row["coverage@2"] == 1.0  # w, x, y, z all shown to someone
    # exposure counts w 4, z 2, x 1, y 1 over 4 items: sorted [1, 1, 2, 4], G = (-3 - 1 + 2 + 12) / (4 * 8)
    assert row["gini@2"] == pytest.approx(10 / 32)
    # shown items' share of the 4 training users: w 0 (x4), z 0 (x2), x 3/4, y 3/4 -> (0.75 + 0.75) / 8
    assert row["avg_pop@2"] == pytest.approx(1.5 / 8)
    se = report.errors.loc["popularity", "recall@2"]
    assert se == pytest.approx(np.std([1, 1, 0, 1], ddof=1) / 2)
    assert report.protocol.users == 4 and report.protocol.split == "leave-last"


def test_oracle_and_true_ndcg_from_known_preferences() -> None:
    split = leave_last_split()
    items = list(split.train.item_ids)
    liked = {"a": "z", "b": "w", "c": "z", "d": "x"}

    def truth(users: np.ndarray) -> np.ndarray:  # each user truly prefers their held-out item
        out = np.full((len(users), len(items)), 0.1)
        for r, u in enumerate(users):
            out[r, items.index(liked[str(u)])] = 1.0
        return out

    report = evaluate(split, ["popularity"], ks=(1,), baselines=["oracle"], true_scores=truth)
    assert report.table.loc["oracle", "recall@1"] == 1.0
    assert report.table.loc["oracle", "true_ndcg@1"] == 1.0
    # popularity's first item is the preferred one for b and d only; otherwise gain 0.1 of the ideal 1.0
    assert report.table.loc["popularity", "true_ndcg@1"] == pytest.approx((0.1 + 1 + 0.1 + 1) / 4)
    assert report.best("recall@1") == "popularity"  # baselines are not candidates


def test_repeat_baseline_on_next_basket() -> None:
    rows = [("a", "milk", "o1", 0), ("a", "bread", "o1", 0), ("a", "milk", "o2", 5), ("a", "eggs", "o2", 5),
            ("a", "milk", "o3", 9), ("a", "jam", "o3", 9), ("a", "bread", "o3", 9),
            ("b", "milk", "o4", 1), ("b", "tea", "o5", 3), ("c", "eggs", "o6", 2)]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "session_id", "day"])
    frame = frame.assign(ts=T0 + pd.to_timedelta(frame.pop("day"), unit="D"), event_type="purchase")
    split = make_split("next-basket", frame, weights=InteractionWeights(event_weights={"purchase": 1.0}))
    report = evaluate(split, ["popularity"], ks=(3,), baselines=["repeat"])
    per = report.per_user["repeat"]
    # a bought milk twice, bread and eggs once; eggs has more buyers (a, c) than bread (a): milk, eggs, bread.
    # Truth {milk, jam, bread}: hits at ranks 1 and 3 -> recall 2/3. b's tea was never bought before: a miss.
    assert per.loc["a", "recall@3"] == pytest.approx(2 / 3)
    assert per.loc["a", "precision@3"] == pytest.approx(2 / 3)
    assert per.loc["b", "recall@3"] == 0.0
    assert report.table.loc["repeat", "fit_s"] == 0.0


def test_slices_comparisons_and_json() -> None:
    split = leave_last_split()
    segments = pd.Series({"a": "tea lovers", "b": "tea lovers", "c": "others", "d": "others"})
    report = evaluate(split, ["popularity", Popularity(count="weight")], ks=(2,), segments=segments)
    slices = report.slices.set_index(["model", "slice"])
    assert slices.loc[("popularity", "cold users (<= 2 training items)"), "users"] == 4  # everyone has <= 2
    assert slices.loc[("popularity", "warm users (> 2 training items)"), "users"] == 0
    assert slices.loc[("popularity", "segment: tea lovers"), "recall@2"] == 1.0  # a and b both hit
    assert slices.loc[("popularity", "segment: others"), "recall@2"] == 0.5  # c misses, d hits
    # z and w have no training users: cold items. a, b, c hold cold items out; d's x is not cold.
    assert slices.loc[("popularity", "cold items (<= 2 training users)"), "users"] == 3
    diff, se = report.compare("popularity", "popularity", "recall@2")
    assert diff == 0.0 and se == 0.0
    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["protocol"]["split"] == "leave-last"
    assert [r["model"] for r in payload["table"]] == ["popularity", "popularity (2)"]  # a model given twice


def test_a_failing_model_is_noted_and_the_rest_evaluated() -> None:
    split = leave_last_split()  # no catalogue: popularity by category cannot be fitted
    report = evaluate(split, ["popularity", Popularity(by="category")], ks=(2,))
    assert list(report.table.index) == ["popularity"]
    assert len(report.notes) == 1 and report.notes[0].startswith("popularity (2) was not evaluated")
    assert "categor" in report.notes[0]


def test_bad_requests_are_refused() -> None:
    split = leave_last_split()
    with pytest.raises(RecommendError, match="oracle"):
        evaluate(split, ["popularity"], baselines=["oracle"])
    with pytest.raises(RecommendError, match="baseline"):
        evaluate(split, ["popularity"], baselines=["random"])
    with pytest.raises(RecommendError, match="nothing to evaluate"):
        evaluate(split, [])
    with pytest.raises(RecommendError, match="ks"):
        evaluate(split, ["popularity"], ks=(0,))


def test_published_reference_is_the_ms_recommenders_table() -> None:
    best = max(MS_RECOMMENDERS_ML100K.rows.items(), key=lambda kv: kv[1]["ndcg@10"])
    assert best[0] == "BiVAE" and best[1]["ndcg@10"] == pytest.approx(0.475077)
