"""ReorderModel and evaluate_pairs on the planted pattern; no leakage across the train/test targets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from growthkit.config import Settings
from growthkit.errors import NotFittedError
from growthkit.models.reorder import PairTable, ReorderError, ReorderModel, build_pair_features, evaluate_pairs
from growthkit.store import Store, open_store

FAST = {"n_estimators": 60, "n_jobs": 1}


@pytest.fixture(scope="module")
def planted_tables(planted_store: Store) -> tuple[PairTable, PairTable]:
    """Kaggle protocol: train on each user's second-to-last order, test on the last."""
    return build_pair_features(planted_store, "last", offset=1), build_pair_features(planted_store, "last")


def test_the_model_learns_the_planted_pattern_and_beats_the_baselines(planted_tables) -> None:  # type: ignore[no-untyped-def]
    train, test = planted_tables
    ev = evaluate_pairs(train, test, model=ReorderModel(**FAST))
    f = ev.to_frame()
    assert list(f.index) == ["lightgbm", "logistic", "frequency", "everything"]
    # whether the item was in the last order decides; frequency cannot see it (both kinds ~ half the orders)
    assert f.loc["lightgbm", "pr_auc"] > f.loc["frequency", "pr_auc"] + 0.2
    # (frequency still tells the regular items from the one-off ones: ROC-AUC about 0.9, not 0.5)
    assert f.loc["lightgbm", "roc_auc"] > max(0.95, f.loc["frequency", "roc_auc"] + 0.05)
    # "in the last order" helps the sticky items and hurts the alternating ones: an interaction trees see
    assert f.loc["lightgbm", "pr_auc"] > f.loc["logistic", "pr_auc"] + 0.03
    assert f.loc["lightgbm", "f1_expected"] > f.loc["everything", "f1_threshold"] + 0.1
    assert f.loc["lightgbm", "f1_threshold"] > f.loc["everything", "f1_threshold"] + 0.1
    assert f.loc["lightgbm", "f1_top_n"] > f.loc["frequency", "f1_top_n"]
    assert f.loc["everything", "roc_auc"] == 0.5 and np.isnan(f.loc["everything", "f1_expected"])
    assert ev.n_test_users == 400 and ev.n_train_users == 400 and ev.protocol == "last"
    assert 0 < ev.reorder_share < 1 and ev.orders_with_reorder > 0.9
    assert {"up_orders_since_last", "up_streak", "up_last3"} & set(ev.top_features)
    d = json.loads(json.dumps(ev.to_dict()))
    assert d["metrics"][3]["f1_expected"] is None and d["f1_none"] == pytest.approx(1 - ev.orders_with_reorder)
    with pytest.raises(KeyError, match="no scorer 'x'"):
        ev.metric("x")


def test_probabilities_are_calibrated_on_held_out_users(planted_tables) -> None:  # type: ignore[no-untyped-def]
    train, test = planted_tables
    m = ReorderModel(**FAST).fit(train.x, train.y)
    assert m.calibration_method_ == "isotonic" and m.n_calibration_users_ == 80  # 20 % of 400 users
    assert m.describe_calibration().startswith("isotonic")
    p = m.predict_proba(test.x)[:, 1]
    assert test.y is not None
    assert abs(p.mean() - test.y.mean()) < 0.03  # calibrated on average
    baskets = m.predict_baskets(test.x)
    assert list(baskets.columns) == ["probability", "rank", "selected", "predict_none"]
    ranks = baskets.groupby(level="user_id")["rank"]
    assert (ranks.min() == 1).all() and (ranks.max() == ranks.size()).all()
    assert 0.1 < m.threshold_ < 0.9 and m.predict(test.x).sum() > 0


def test_the_training_target_never_sees_the_test_target(planted_store: Store, insert, make_planted) -> None:  # type: ignore[no-untyped-def]
    """Rewrite every user's last order (the test target): training features and labels, and the test
    features, stay the same; only the test labels move."""
    train, test = build_pair_features(planted_store, "last", offset=1), build_pair_features(planted_store, "last")
    with open_store(Settings(db=":memory:")) as other:
        other.execute("ATTACH ':memory:' AS scratch")
        rows = make_planted(400, 7)
        last = {}
        for r in rows:  # the session of each user's last order
            last[r[1]] = r[5]
        changed = [r for r in rows if r[5] != last[r[1]]]
        for r in rows:
            if r[5] == last[r[1]]:  # same order, same time, other items: one regular swapped for a stranger
                changed.append((r[0], r[1], r[2], r[3], f"z{r[4]}" if r[4].startswith("i") else r[4], r[5], r[6]))
        insert(other, changed)
        train2, test2 = build_pair_features(other, "last", offset=1), build_pair_features(other, "last")
    pd.testing.assert_frame_equal(train.x, train2.x)
    assert train.y is not None and train2.y is not None and test.y is not None and test2.y is not None
    pd.testing.assert_series_equal(train.y, train2.y)
    pd.testing.assert_frame_equal(test.x, test2.x)
    assert test2.y.sum() < test.y.sum()  # the rewritten last orders hold no regular item any more
    # and the "last" table equals the "next" table of the store without the last orders
    with open_store(Settings(db=":memory:")) as cut:
        insert(cut, [r for r in make_planted(400, 7) if r[5] != last[r[1]]])
        pd.testing.assert_frame_equal(build_pair_features(cut, "next").x, test.x)


def test_estimator_contract_and_bad_input(planted_tables) -> None:  # type: ignore[no-untyped-def]
    train, _ = planted_tables
    m = ReorderModel(model="logistic")
    assert m.get_params()["model"] == "logistic" and m.set_params(C=0.5) is m and m.C == 0.5
    with pytest.raises(ReorderError, match="unknown parameter 'depth'"):
        m.set_params(depth=3)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        m.predict_proba(train.x)
    with pytest.raises(ReorderError, match="model must be one of"):
        ReorderModel(model="forest").fit(train.x, train.y)
    with pytest.raises(ReorderError, match="calibration_fraction"):
        ReorderModel(calibration_fraction=0.9).fit(train.x, train.y)
    flat = train.x.reset_index(drop=True)
    with pytest.raises(ReorderError, match=r"index levels \['user_id', 'item_id'\]"):
        m.fit(flat, train.y.to_numpy())
    with pytest.raises(ReorderError, match="single class"):
        m.fit(train.x, pd.Series(0, index=train.x.index))
    with pytest.raises(ReorderError, match="only 0 and 1"):
        m.fit(train.x, pd.Series(2, index=train.x.index))
    bad = train.x.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ReorderError, match="NaN"):
        m.fit(bad, train.y)
    with pytest.raises(ReorderError, match="needs at least 20 of each"):
        tiny = train.subset(sorted(train.users.index)[:20])
        ReorderModel(model="logistic", calibration="sigmoid").fit(tiny.x, tiny.y)
    nxt = PairTable(x=train.x, y=None, users=train.users, target="next")
    with pytest.raises(ReorderError, match="no labels"):
        evaluate_pairs(nxt, train)
    with pytest.raises(ReorderError, match="no labels"):
        evaluate_pairs(train, nxt)
