"""evaluate_frames: the model next to its baselines on the same users, as a table and as JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from growthkit.models.churn import BaseRate, ChurnError, ChurnModel, RecencyRule, evaluate_frames, make_labels

Data = tuple[pd.DataFrame, pd.Series]


@pytest.fixture(scope="module")
def evaluation(train: Data, holdout: Data):  # type: ignore[no-untyped-def]
    (x, y), (xt, yt) = train, holdout
    truth = pd.Series((xt.recency_days > 45).astype(float), index=xt.index)  # the planted rule itself
    return evaluate_frames(x, y, xt, yt, model=ChurnModel(n_estimators=40, n_jobs=1), extra_scores={"oracle": truth})


def test_every_baseline_is_scored_on_the_same_users(evaluation, holdout: Data) -> None:  # type: ignore[no-untyped-def]
    xt, yt = holdout
    f = evaluation.to_frame()
    assert list(f.index) == ["lightgbm", "lightgbm_uncalibrated", "logistic", "recency", "base_rate", "oracle"]
    assert (f["n"] == len(xt)).all() and (f["positives"] == yt.sum()).all()
    assert f.loc["base_rate", "roc_auc"] == 0.5 and f.loc["base_rate", "lift_top_decile"] == pytest.approx(1.0)
    # the recency rule ranks exactly by recency
    assert f.loc["recency", "roc_auc"] == pytest.approx(roc_auc_score(yt, xt.recency_days))
    # the planted rule is the best possible ranking; the model gets close and beats the base rate
    assert f.loc["oracle", "roc_auc"] >= f.loc["lightgbm", "roc_auc"] - 0.01
    assert f.loc["lightgbm", "roc_auc"] > 0.85 and f.loc["lightgbm", "brier"] < f.loc["base_rate", "brier"]
    assert evaluation.metric("lightgbm").calibration[0].bin == 1
    cal = evaluation.calibration_frame()
    assert set(cal["model"]) == set(f.index) and cal.groupby("model")["count"].sum().eq(len(xt)).all()
    assert evaluation.n_train == 3000 and evaluation.test_rate == pytest.approx(yt.mean())
    with pytest.raises(KeyError, match="no scorer 'x'"):
        evaluation.metric("x")


def test_to_dict_is_json(evaluation) -> None:  # type: ignore[no-untyped-def]
    d = json.loads(json.dumps(evaluation.to_dict()))
    assert d["target"] == "churn" and d["metrics"][0]["model"] == "lightgbm"
    assert d["calibration"].startswith("sigmoid") and d["label_events"] == ["purchase"]


def test_a_logistic_model_is_not_compared_with_itself(train: Data, holdout: Data) -> None:
    (x, y), (xt, yt) = train, holdout
    ev = evaluate_frames(x, y, xt, yt, model=ChurnModel(model="logistic", calibration=None))
    assert list(ev.to_frame().index) == ["logistic", "recency", "base_rate"]


def test_single_class_test_labels_give_nan_ranking_metrics(train: Data, holdout: Data) -> None:
    (x, y), (xt, _) = train, holdout
    ev = evaluate_frames(x, y, xt, pd.Series(0, index=xt.index), model=ChurnModel(model="logistic"))
    assert np.isnan(ev.metric("logistic").roc_auc) and ev.metric("logistic").brier >= 0


def test_extra_scores_must_cover_the_test_users(train: Data, holdout: Data) -> None:
    (x, y), (xt, yt) = train, holdout
    with pytest.raises(ChurnError, match="extra score 'oracle'"):
        evaluate_frames(x, y, xt, yt, model=ChurnModel(model="logistic"), extra_scores={"oracle": [0.5]})


def test_baselines_and_labels() -> None:
    x = pd.DataFrame({"recency_days": [1.0, 2, 50, 80], "x": [0.0, 1, 0, 1]}, index=list("abcd"))
    rule = RecencyRule().fit(x, [0, 0, 1, 1])
    assert rule.coef_ > 0 and list(np.argsort(rule.predict_proba(x)[:, 1])) == [0, 1, 2, 3]
    with pytest.raises(ChurnError, match="needs the column 'recency_days'"):
        RecencyRule().fit(x.drop(columns="recency_days"), [0, 0, 1, 1])
    assert BaseRate().fit(x, [0, 1, 1, 1]).predict_proba(x)[0, 1] == 0.75
    out = pd.DataFrame({"churned": [1, 0, 1]}, index=list("abc"))
    assert make_labels(out, "churn").tolist() == [1, 0, 1] and make_labels(out, "purchase").name == "purchase"
    with pytest.raises(ChurnError, match="target must be one of"):
        make_labels(out, "stay")
