"""Behavioural clustering: k selection shown as a table, the estimator contract, and segment ids that survive refits."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score

from growthkit.errors import ConfigError, NotFittedError, SchemaError
from growthkit.models.segment import (
    DEFAULT_FEATURES,
    K_SELECTION_COLUMNS,
    BehaviourClusters,
    SegmentReference,
    default_log_features,
    kmeans_bic,
    match_ids,
)

CENTRES = ((0.0, 0.0), (6.0, 0.0), (0.0, 6.0))
PLAIN = {"features": ["frequency", "recency_days"], "log_features": ()}


def test_k_selection_table_has_silhouette_and_bic_for_every_k_and_finds_three_blobs(make_blobs) -> None:  # type: ignore[no-untyped-def]
    x = make_blobs((300, 200, 100), CENTRES, seed=0)
    model = BehaviourClusters(k_range=(2, 6), **PLAIN).fit(x)  # type: ignore[arg-type]
    t = model.k_selection_
    assert tuple(t.columns) == K_SELECTION_COLUMNS and t["k"].tolist() == [2, 3, 4, 5, 6]
    assert model.k_ == 3 and t.loc[t["chosen"], "k"].tolist() == [3]
    assert t["silhouette"].idxmax() == t.index[t["k"] == 3][0]
    z = model.transform(x).to_numpy()
    row = t[t["k"] == 3].iloc[0]
    assert row["silhouette"] == pytest.approx(silhouette_score(z, model.labels_.to_numpy()), abs=1e-12)
    assert row["smallest_share"] == pytest.approx(100 / 600)
    # ids by size: the largest blob is 1
    assert model.labels_.iloc[:300].eq(1).all() and model.labels_.iloc[300:500].eq(2).all()
    assert model.labels_.iloc[500:].eq(3).all()
    assert model.predict(x).equals(model.labels_)


def test_gmm_chooses_k_by_bic(make_blobs) -> None:  # type: ignore[no-untyped-def]
    x = make_blobs((300, 200, 100), CENTRES, seed=1)
    model = BehaviourClusters(method="gmm", k_range=(2, 5), **PLAIN).fit(x)  # type: ignore[arg-type]
    t = model.k_selection_
    assert model.criterion_ == "bic" and model.k_ == int(t.loc[t["bic"].idxmin(), "k"]) == 3
    assert sorted(model.labels_.value_counts().tolist()) == [100, 200, 300]


def test_kmeans_bic_is_the_spherical_gaussian_formula() -> None:
    z = np.array([[0.0, 1.0], [1.0, 1.0], [5.0, 5.0], [6.0, 5.0], [5.0, 6.0]])
    labels = np.array([0, 0, 1, 1, 1])
    centers = np.array([[0.5, 1.0], [16 / 3, 16 / 3]])
    n, d, k = 5, 2, 2
    sse = ((z - centers[labels]) ** 2).sum()
    var = sse / (n * d)
    loglik = 2 * math.log(2 / 5) + 3 * math.log(3 / 5) - n * d / 2 * math.log(2 * math.pi * var) - n * d / 2
    want = -2 * loglik + (k * d + (k - 1) + 1) * math.log(n)
    assert kmeans_bic(z, labels, centers) == pytest.approx(want, rel=1e-12)


def test_fixed_k_gives_a_one_row_table_and_log_transform_is_applied(sim_shop) -> None:  # type: ignore[no-untyped-def]
    x = sim_shop.features
    model = BehaviourClusters(k=4).fit(x)
    assert model.k_ == 4 and len(model.k_selection_) == 1 and bool(model.k_selection_["chosen"].iloc[0])
    assert model.features_ == DEFAULT_FEATURES
    assert set(model.log_features_) == {"frequency", "monetary_total", "monetary_mean", "sessions", "avg_unit_price"}
    assert model.mean_[1] == pytest.approx(np.log1p(x["frequency"]).mean())
    assert sorted(model.labels_.unique().tolist()) == [1, 2, 3, 4]
    assert list(model.centers_.index) == [1, 2, 3, 4] and list(model.centers_.columns) == list(DEFAULT_FEATURES)
    sizes = model.labels_.value_counts()
    assert sizes.loc[1] == sizes.max()


def test_default_log_features_follow_the_catalog_units() -> None:
    assert default_log_features(["recency_days", "sessions", "avg_unit_price", "cat_share__books", "nope"]) == (
        "sessions",
        "avg_unit_price",
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "dbscan"}, "method must be one of kmeans, gmm"),
        ({"k": 0}, "k must be 'auto' or a positive integer"),
        ({"k_range": (1, 4)}, "k_range must be two integers"),
        ({"criterion": "aic"}, "criterion must be silhouette or bic"),
        ({"features": ["frequency", "frequency"]}, "distinct column names"),
        ({"features": ["frequency"], "log_features": ["sessions"]}, "not among the features"),
        ({"n_init": 0}, "n_init must be a positive integer"),
    ],
)
def test_bad_options_fail_in_fit(kwargs: dict[str, object], match: str, make_blobs) -> None:  # type: ignore[no-untyped-def]
    model = BehaviourClusters(**kwargs)  # type: ignore[arg-type]
    assert all(model.get_params()[k] == v for k, v in kwargs.items())  # __init__ only stores
    with pytest.raises(ConfigError, match=match):
        model.fit(make_blobs((30, 30), CENTRES[:2], seed=0))


def test_contract_and_input_errors(make_blobs) -> None:  # type: ignore[no-untyped-def]
    x = make_blobs((40, 40), CENTRES[:2], seed=0)
    model = BehaviourClusters(k=2, **PLAIN)  # type: ignore[arg-type]
    for call in (lambda: model.predict(x), model.reference, lambda: model.transform(x)):
        with pytest.raises(NotFittedError, match="not fitted"):
            call()
    assert model.fit(x) is model and not hasattr(BehaviourClusters(), "labels_")
    assert "previous" not in repr(model) and "method='kmeans'" in repr(model)
    with pytest.raises(SchemaError, match=r"no column 'monetary_total', .*'sessions'"):
        BehaviourClusters().fit(x)
    with pytest.raises(SchemaError, match="nothing to cluster"):
        BehaviourClusters(k=2, **PLAIN).fit(x.assign(frequency=1.0, recency_days=2.0))  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="at least that many distinct users"):
        BehaviourClusters(k=5, **PLAIN).fit(x.iloc[:3])  # type: ignore[arg-type]


# ---------------------------------------------------------------- stable ids


def test_ids_follow_the_groups_when_their_sizes_change_order(make_blobs) -> None:  # type: ignore[no-untyped-def]
    first = BehaviourClusters(k=3, **PLAIN).fit(make_blobs((300, 200, 100), CENTRES, seed=0))  # type: ignore[arg-type]
    # the smallest blob is now the largest: numbering by size alone would swap the ids
    later = make_blobs((100, 200, 300), CENTRES, seed=5, prefix="v")
    fresh = BehaviourClusters(k=3, **PLAIN).fit(later)  # type: ignore[arg-type]
    assert fresh.labels_.iloc[-1] == 1  # the big blob at (0, 6) is 1 without matching
    kept = BehaviourClusters(k=3, previous=first, **PLAIN).fit(later)  # type: ignore[arg-type]
    assert kept.labels_.iloc[:100].eq(1).all() and kept.labels_.iloc[100:300].eq(2).all()
    assert kept.labels_.iloc[300:].eq(3).all()
    assert kept.id_match_ is not None and kept.id_match_.kept == 3 and kept.id_match_.retired == ()
    assert kept.next_id_ == 4


def test_a_new_group_gets_a_fresh_id_and_retired_ids_are_not_reused(make_blobs) -> None:  # type: ignore[no-untyped-def]
    first = BehaviourClusters(k=3, **PLAIN).fit(make_blobs((300, 200, 100), CENTRES, seed=0))  # type: ignore[arg-type]
    four = make_blobs((300, 200, 100, 150), (*CENTRES, (6.0, 6.0)), seed=2)
    second = BehaviourClusters(k=4, previous=first, **PLAIN).fit(four)  # type: ignore[arg-type]
    assert second.labels_.iloc[:300].eq(1).all() and second.labels_.iloc[600:].eq(4).all()
    assert second.id_match_ is not None and second.id_match_.previous.count(None) == 1
    # the blob of id 3 disappears, a new one appears: it gets 5, not the retired 3
    again = make_blobs((300, 200, 150, 120), (CENTRES[0], CENTRES[1], (6.0, 6.0), (-6.0, 0.0)), seed=3)
    third = BehaviourClusters(k=4, previous=second, **PLAIN).fit(again)  # type: ignore[arg-type]
    assert third.id_match_ is not None and third.id_match_.retired == (3,)
    assert third.labels_.iloc[500:650].eq(4).all() and third.labels_.iloc[650:].eq(5).all()
    assert sorted(third.labels_.unique().tolist()) == [1, 2, 4, 5] and third.next_id_ == 6


def test_ids_survive_a_bootstrap_refit_on_the_simulated_shop(sim_shop) -> None:  # type: ignore[no-untyped-def]
    x = sim_shop.features
    first = BehaviourClusters(k=4).fit(x)
    rng = np.random.default_rng(7)
    boot = x.iloc[np.unique(rng.integers(0, len(x), len(x)))]  # a bootstrap sample's distinct users
    noisy = boot.assign(recency_days=boot["recency_days"] * rng.uniform(0.9, 1.1, len(boot)))
    for sample in (boot, noisy):
        second = BehaviourClusters(k=4, previous=first, random_state=11).fit(sample)
        same = first.labels_.loc[sample.index]
        agree = (second.labels_ == same).mean()
        assert agree > 0.9, agree
        # each old segment maps mostly onto the new segment with the same id
        crosstab = pd.crosstab(same, second.labels_)
        assert all(crosstab.loc[i].idxmax() == i for i in crosstab.index)
        assert second.id_match_ is not None and second.id_match_.kept == 4


def test_reference_round_trip_and_feature_mismatch(make_blobs) -> None:  # type: ignore[no-untyped-def]
    x = make_blobs((300, 200, 100), CENTRES, seed=0)
    first = BehaviourClusters(k=3, **PLAIN).fit(x)  # type: ignore[arg-type]
    ref = first.reference()
    assert ref.ids == (1, 2, 3) and ref.next_id == 4 and ref.features == ("frequency", "recency_days")
    assert BehaviourClusters(k=3, previous=ref, **PLAIN).fit(x).labels_.equals(first.labels_)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="other features"):
        BehaviourClusters(k=3, previous=ref, features=["recency_days", "frequency"], log_features=()).fit(x)


def test_match_ids_limits() -> None:
    ref = SegmentReference(
        features=("a", "b"),
        ids=(4, 7),
        centers=np.array([[0.0, 0.0], [4.0, 0.0]]),
        mean=np.zeros(2),
        scale=np.ones(2),
        next_id=9,
    )
    m = match_ids(ref, np.array([[3.9, 0.1], [1.9, 0.0]]))  # limit = 0.5 * 4 = 2: 1.9 is still in
    assert m.ids == (7, 4) and m.limits == (2.0, 2.0)
    m = match_ids(ref, np.array([[3.9, 0.1], [-2.5, 0.0]]))  # 2.5 from id 4: too far, fresh id
    assert m.ids == (7, 9) and m.retired == (4,) and m.next_id == 10 and m.distances[1] == pytest.approx(2.5)
    assert [r["previous_id"] for r in m.to_rows()] == [7, None]
    with pytest.raises(ConfigError, match="next_id 2 must exceed"):
        SegmentReference(
            features=("a",), ids=(1, 2), centers=np.zeros((2, 1)), mean=np.zeros(1), scale=np.ones(1), next_id=2
        )
    with pytest.raises(ConfigError, match="shape"):
        match_ids(ref, np.zeros((2, 3)))
