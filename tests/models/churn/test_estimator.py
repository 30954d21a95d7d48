"""ChurnModel: the planted signal is found, probabilities are calibrated, results reproduce, bad input is refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import brier_score_loss, roc_auc_score

from growthkit.errors import GrowthkitError, NotFittedError
from growthkit.models.churn import ChurnError, ChurnModel, calibration_table
from growthkit.models.churn.metrics import expected_calibration_error

FAST = {"n_estimators": 40, "n_jobs": 1}
Data = tuple[pd.DataFrame, pd.Series]


@pytest.mark.parametrize("model", ["lightgbm", "logistic"])
def test_the_planted_recency_signal_is_found(model: str, train: Data, holdout: Data) -> None:
    (x, y), (xt, yt) = train, holdout
    m = ChurnModel(model=model, **FAST).fit(x, y)
    p = m.predict_proba(xt)
    assert p.shape == (len(xt), 2) and np.allclose(p.sum(axis=1), 1.0)
    auc = roc_auc_score(yt, p[:, 1])
    # labels are flipped for 10 % of users: the best possible AUC is about 0.9
    assert auc > (0.85 if model == "lightgbm" else 0.8)
    if model == "lightgbm":
        assert m.feature_importance().index[0] == "recency_days"
    assert m.predict_score(xt).index.equals(xt.index) and m.predict_score(xt).name == "p_churn"
    assert set(np.unique(m.predict(xt))) <= {0, 1}


def test_fit_returns_self_and_sets_learned_attributes(train: Data) -> None:
    x, y = train
    m = ChurnModel(**FAST)
    assert not hasattr(m, "booster_")
    assert m.fit(x, y) is m
    assert m.feature_names_in_ == list(x.columns) and m.n_features_in_ == x.shape[1]
    assert m.base_rate_ == pytest.approx(y.mean())
    assert m.typical_["recency_days"] == pytest.approx(x["recency_days"].median())
    assert m.n_train_ + m.n_calibration_ == len(x) and m.n_calibration_ == pytest.approx(0.2 * len(x), abs=2)
    assert m.calibration_method_ == "sigmoid"  # 600 held out: too few for isotonic
    assert m.describe_calibration().startswith("sigmoid a=")


def test_auto_calibration_picks_by_the_size_of_the_fold() -> None:
    from growthkit.models.churn.calibration import resolve_method

    assert resolve_method("auto", np.r_[np.ones(200), np.zeros(1000)].astype(np.int64)) == "isotonic"
    assert resolve_method("auto", np.r_[np.ones(99), np.zeros(1000)].astype(np.int64)) == "sigmoid"
    assert resolve_method("auto", np.r_[np.ones(500), np.zeros(400)].astype(np.int64)) == "sigmoid"
    assert resolve_method("isotonic", np.ones(3, dtype=np.int64)) == "isotonic"


def test_same_seed_same_scores_other_seed_other_scores(train: Data, holdout: Data) -> None:
    (x, y), (xt, _) = train, holdout
    a = ChurnModel(random_state=7, **FAST).fit(x, y).predict_proba(xt)
    b = ChurnModel(random_state=7, **FAST).fit(x, y).predict_proba(xt)
    c = ChurnModel(random_state=8, **FAST).fit(x, y).predict_proba(xt)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_calibration_improves_brier_of_an_overconfident_model(make_planted: Any) -> None:
    """Deep trees on few users with a high learning rate are overconfident; a held-out fold fixes the probabilities."""
    x, y = make_planted(1500, 5, noise=0.25)
    xt, yt = make_planted(4000, 6, noise=0.25)
    greedy = {"n_estimators": 150, "learning_rate": 0.3, "num_leaves": 63, "min_child_samples": 2, "n_jobs": 1}
    raw = ChurnModel(calibration=None, **greedy).fit(x, y).predict_proba(xt)[:, 1]
    iso_model = ChurnModel(calibration="isotonic", **greedy).fit(x, y)
    iso = iso_model.predict_proba(xt)[:, 1]
    platt = ChurnModel(calibration="sigmoid", **greedy).fit(x, y).predict_proba(xt)[:, 1]
    b_raw, b_iso, b_platt = (brier_score_loss(yt, p) for p in (raw, iso, platt))
    assert b_iso < b_raw - 0.02 and b_platt < b_raw - 0.02
    # calibration is monotone (isotonic ties are broken by the raw score): the ranking does not change
    assert roc_auc_score(yt, iso) == pytest.approx(roc_auc_score(yt, iso_model.decision_function(xt)), abs=1e-12)
    assert len(np.unique(iso)) == len(np.unique(iso_model.decision_function(xt)))
    # the calibration table (deciles of predicted probability) agrees with what happened
    e_raw, e_iso, e_platt = (expected_calibration_error(calibration_table(yt.to_numpy(), p)) for p in (raw, iso, platt))
    assert e_raw > 0.15 and e_iso < 0.06 and e_platt < 0.07


@pytest.mark.parametrize("model", ["lightgbm", "logistic"])
def test_contributions_add_up_to_the_margin(model: str, train: Data, holdout: Data) -> None:
    (x, y), (xt, _) = train, holdout
    m = ChurnModel(model=model, calibration=None, **FAST).fit(x, y)
    c = m.contributions(xt.iloc[:200])
    assert list(c.columns) == [*x.columns, "bias"]
    np.testing.assert_allclose(c.sum(axis=1).to_numpy(), m.decision_function(xt.iloc[:200]), atol=1e-6)
    # without calibration the probability is the sigmoid of the margin
    p = 1 / (1 + np.exp(-m.decision_function(xt.iloc[:5])))
    np.testing.assert_allclose(m.predict_proba(xt.iloc[:5])[:, 1], p)


def test_columns_are_matched_by_name_at_prediction(train: Data) -> None:
    x, y = train
    m = ChurnModel(**FAST).fit(x, y)
    shuffled = x.iloc[:50][list(reversed(x.columns))].assign(extra=1.0)
    np.testing.assert_allclose(m.predict_proba(shuffled), m.predict_proba(x.iloc[:50]))
    with pytest.raises(ChurnError, match=r"lacks 1 columns.*recency_days"):
        m.predict_proba(x.drop(columns="recency_days"))


def test_not_fitted() -> None:
    x = pd.DataFrame({"recency_days": [1.0]})
    for call in (ChurnModel().predict_proba, ChurnModel().explain, ChurnModel().decision_function):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call(x)
    assert issubclass(NotFittedError, GrowthkitError)


def test_logistic_does_not_extrapolate_a_feature_that_was_constant_in_training() -> None:
    """Tenure is the same for everyone at a cutoff when all users start together (Instacart's synthetic times)."""
    rng = np.random.default_rng(0)
    n = 400
    rec = rng.exponential(30, n)
    x = pd.DataFrame({"recency_days": rec, "tenure_days": 90.0 + rng.uniform(0, 1e-7, n)})
    y = (rec > 30).astype(int)
    m = ChurnModel(model="logistic").fit(x, y)
    later = x.assign(tenure_days=120.0)  # 30 days later everyone is older
    np.testing.assert_allclose(m.predict_proba(later), m.predict_proba(x.assign(tenure_days=x.tenure_days.max())))


def test_clone_and_params_follow_the_sklearn_contract() -> None:
    m = ChurnModel(target="purchase", n_estimators=10, calibration="sigmoid")
    assert clone(m).get_params() == m.get_params()
    assert m.set_params(num_leaves=7).num_leaves == 7
    with pytest.raises(ChurnError, match="unknown parameter 'leaves'"):
        m.set_params(leaves=3)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": "xgboost"}, "model must be one of"),
        ({"target": "stay"}, "target must be one of"),
        ({"calibration": "beta"}, "calibration must be one of"),
        ({"n_estimators": 0}, "n_estimators must be an integer"),
        ({"learning_rate": -1.0}, "learning_rate must be a positive"),
        ({"subsample": 1.5}, r"subsample must be in \(0, 1\]"),
        ({"calibration_fraction": 0.9}, "calibration_fraction"),
    ],
)
def test_bad_parameters_fail_in_fit(params: dict[str, object], message: str, train: Data) -> None:
    x, y = train
    m = ChurnModel(**params)  # the constructor only stores
    with pytest.raises(ChurnError, match=message):
        m.fit(x, y)


def test_bad_inputs_get_clear_messages(train: Data) -> None:
    x, y = train
    m = ChurnModel(**FAST)
    with pytest.raises(ChurnError, match="single class"):
        m.fit(x, pd.Series(0, index=x.index))
    with pytest.raises(ChurnError, match="single class"):
        m.fit(x, pd.Series(1, index=x.index))
    with pytest.raises(ChurnError, match=r"NaN or infinite values in columns \['noise'\] \(1 rows\)"):
        m.fit(x.assign(noise=x.noise.where(x.index != x.index[3])), y)
    with pytest.raises(ChurnError, match="non-numeric columns"):
        m.fit(x.assign(channel="ads"), y)
    with pytest.raises(ChurnError, match="pandas DataFrame"):
        m.fit(x.to_numpy(), y)
    with pytest.raises(ChurnError, match="no label for 1 users"):
        m.fit(x, y.iloc[1:])
    with pytest.raises(ChurnError, match="only 0 and 1"):
        m.fit(x, y * 2)
    with pytest.raises(ChurnError, match="one label per row"):
        m.fit(x, y.to_numpy()[:-1])
    with pytest.raises(ChurnError, match="duplicate index"):
        m.fit(pd.concat([x, x.iloc[:1]]), np.r_[y.to_numpy(), 0])
    with pytest.raises(ChurnError, match="empty"):
        m.fit(x.iloc[:0], y.iloc[:0])
    assert issubclass(ChurnError, ValueError)


def test_too_few_users_for_a_calibration_fold(train: Data) -> None:
    x, y = train
    few = y.copy()
    few[:] = 0
    few.iloc[:12] = 1  # 12 positives: 2 in a 20 % fold
    auto = ChurnModel(**FAST).fit(x, few)
    assert auto.calibration_method_ is None and auto.n_calibration_ == 0
    with pytest.raises(ChurnError, match="calibration fold has 2 positive"):
        ChurnModel(calibration="isotonic", **FAST).fit(x, few)
