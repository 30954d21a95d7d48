"""Churn use cases: labels and population on a hand-made store, the backtest on a simulated shop against
the simulator's oracle, scoring into ``scores`` (atomic, per target), the report's reading, a real dataset."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.features import build_user_features
from growthkit.sim import SimConfig
from growthkit.store import Store, open_store
from growthkit.workflows.churn import (
    EVALUATION_TABLE,
    SCORES_TABLE,
    evaluate_churn,
    feature_lists,
    labelled_features,
    risk_deciles,
    score_churn,
)
from growthkit.workflows.churn_eval import evaluate_dataset, evaluate_simulated, load_simulation, oracle_scores
from growthkit.workflows.churn_report import read_churn_report

FAST = {"n_estimators": 40, "n_jobs": 1}
SHOP = SimConfig(users=1500, days=110, seed=4)

# ----------------------------------------------------------------- a hand-made store
# cutoff 2025-03-01, horizon 30 days: ann buys again in the horizon, bob does not, cat never bought (views only),
# dan bought before but only views in the horizon, eve appears only after the cutoff.
EVENTS = [
    ("a1", "ann", "2025-01-05 10:00", "purchase", 20.0),
    ("a2", "ann", "2025-03-10 10:00", "purchase", 30.0),
    ("b1", "bob", "2025-02-01 10:00", "purchase", 50.0),
    ("c1", "cat", "2025-02-10 10:00", "view", None),
    ("c2", "cat", "2025-03-05 10:00", "purchase", 15.0),
    ("d1", "dan", "2025-01-20 10:00", "purchase", 10.0),
    ("d2", "dan", "2025-03-20 10:00", "view", None),
    ("e1", "eve", "2025-03-02 10:00", "purchase", 10.0),
    ("z1", "zed", "2025-04-02 10:00", "view", None),  # the data runs past the horizon
]


@pytest.fixture
def tiny(settings: Settings) -> Iterator[Store]:
    with open_store(settings) as st:
        values = ", ".join(
            f"('{e}', '{u}', TIMESTAMP '{t}', '{k}', {a if a is not None else 'NULL'})" for e, u, t, k, a in EVENTS
        )
        st.execute(f"INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES {values}")
        yield st


def test_labels_and_population(tiny: Store) -> None:
    cut = date(2025, 3, 1)
    x, y = labelled_features(tiny, cut, 30, target="churn", population="customers")
    assert y is not None and list(x.index) == ["ann", "bob", "dan"]  # customers: a purchase before the cutoff
    assert y.to_dict() == {"ann": 0, "bob": 1, "dan": 1}
    x, y = labelled_features(tiny, cut, 30, target="purchase", population="all")
    assert y is not None and y.to_dict() == {"ann": 1, "bob": 0, "cat": 1, "dan": 0}
    _, y = labelled_features(tiny, cut, 30, target="churn", label_events=None, population="all")
    assert y is not None and y.to_dict() == {"ann": 0, "bob": 1, "cat": 0, "dan": 0}  # any action keeps dan
    with pytest.raises(ConfigError, match="population must be one of"):
        labelled_features(tiny, cut, 30, population="vip")


def test_a_censored_test_horizon_is_refused(tiny: Store) -> None:
    with pytest.raises(ConfigError, match="labels would be censored"):
        evaluate_churn(tiny, date(2025, 3, 20), 30)
    with pytest.raises(ConfigError, match="horizon_days must be a positive integer"):
        evaluate_churn(tiny, date(2025, 3, 1), 0)


def test_risk_deciles_break_ties_by_margin_then_id() -> None:
    import numpy as np

    score = np.array([0.5] * 10 + [0.1] * 10)
    margin = np.arange(20, dtype=float)
    dec = risk_deciles(score, margin, [f"u{i:02d}" for i in range(20)])
    assert dec.tolist()[:10] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1] and sorted(dec) == sorted([*range(1, 11)] * 2)


# ----------------------------------------------------------------- a simulated shop
@pytest.fixture(scope="module")
def sim_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """A 1,500-user, 110-day simulated shop in a store file, and its ground truth."""
    d = tmp_path_factory.mktemp("churn-sim")
    settings = Settings(db=str(d / "shop.duckdb"), workspace=d / "ws")
    with open_store(settings) as st:
        truth = load_simulation(st, SHOP)
    return Path(settings.db), truth


@pytest.fixture
def shop(sim_db: tuple[Path, object], tmp_path: Path) -> Settings:
    """A private copy of the simulated store (tests write to it)."""
    db = tmp_path / "shop.duckdb"
    shutil.copyfile(sim_db[0], db)
    return Settings(db=str(db), workspace=tmp_path / "ws")


def test_backtest_on_the_simulator_against_the_oracle(settings: Settings) -> None:
    ev = evaluate_simulated(settings, SimConfig(users=2000, days=100, seed=3), cutoff_day=70, params=FAST)
    f = ev.to_frame()
    assert list(f.index) == ["lightgbm", "logistic", "recency", "base_rate", "oracle", "oracle_hindsight"]
    assert ev.population == "customers" and ev.train_cutoff == datetime(2025, 2, 10)
    # ranking: base rate < model < oracle (the oracle knows who is still alive)
    assert 0.75 < f.loc["lightgbm", "roc_auc"] < f.loc["oracle", "roc_auc"]
    assert f.loc["lightgbm", "roc_auc"] > f.loc["recency", "roc_auc"] and f.loc["oracle", "roc_auc"] > 0.85
    assert f.loc["lightgbm", "brier"] < f.loc["base_rate", "brier"]
    assert f.loc["oracle_hindsight", "brier"] <= f.loc["oracle", "brier"] + 0.01


def test_oracle_scores_follow_the_truth(sim_db: tuple[Path, object]) -> None:
    truth = sim_db[1]
    cut = datetime(2025, 3, 1)
    o = oracle_scores(truth, cut, 30, "churn")  # type: ignore[arg-type]
    gone = truth["churn_ts"].notna() & (truth["churn_ts"].dt.tz_localize(None) <= cut)  # type: ignore[index]
    ids = truth.loc[gone, "user_id"]  # type: ignore[attr-defined]
    assert (o["oracle"][ids] == 1.0).all() and (o["oracle_hindsight"][ids] == 1.0).all()
    assert o["oracle"].between(0, 1).all() and o["oracle"].drop(ids).lt(1).mean() > 0.5  # lost causes never buy
    p = oracle_scores(truth, cut, 30, "purchase")  # type: ignore[arg-type]
    assert (p["oracle"] + o["oracle"]).round(12).eq(1).all()


def test_feature_lists_give_the_same_columns_at_every_cutoff(shop: Settings) -> None:
    with open_store(shop, read_only=True) as st:
        cats, chans = feature_lists(st, date(2025, 2, 1))
        a = build_user_features(st, date(2025, 2, 1), categories=cats, channels=chans)
        b = build_user_features(st, date(2025, 4, 1), categories=cats, channels=chans)
    assert list(a.columns) == list(b.columns) and any(c.startswith("cat_share__") for c in a.columns)


def test_score_churn_writes_scores_per_target(shop: Settings) -> None:
    res = score_churn(shop, target="churn", horizon_days=30, params=FAST)
    assert res.table == SCORES_TABLE and res.cutoff == datetime(2025, 4, 21) and res.population == "customers"
    assert res.evaluation is not None and res.evaluation.test_cutoff == res.train_cutoff
    json.dumps(res.to_dict())
    with open_store(shop, read_only=True) as st:
        rows = st.query(f"SELECT * FROM {SCORES_TABLE}").to_pandas()
        ev_rows = st.query(f"SELECT * FROM {EVALUATION_TABLE}").to_pandas()
    assert list(rows.columns) == [
        "user_id", "model", "target", "horizon_days", "cutoff", "score", "risk_decile", "reasons", "top_reason",
        "monetary_total", "scored_at",
    ]  # fmt: skip
    assert len(rows) == res.users and rows.user_id.is_unique and rows.score.between(0, 1).all()
    assert sorted(rows.risk_decile.unique()) == list(range(1, 11))
    assert rows.groupby("risk_decile").score.mean().is_monotonic_decreasing
    reasons = json.loads(rows.reasons.iloc[0])
    assert 1 <= len(reasons) <= 3 and reasons[0]["text"] == rows.top_reason.iloc[0]
    assert list(ev_rows.model)[:2] == ["lightgbm", "lightgbm_uncalibrated"] or ev_rows.model.iloc[0] == "lightgbm"

    # a second target is added; scoring churn again replaces only the churn rows
    score_churn(shop, target="purchase", horizon_days=14, params=FAST, evaluate=False, lang="zh")
    score_churn(shop, target="churn", horizon_days=30, params=FAST, evaluate=False)
    with open_store(shop, read_only=True) as st:
        counts = dict(st.query(f"SELECT target, count(*) FROM {SCORES_TABLE} GROUP BY 1").to_pylist()[i].values()
                      for i in range(2))  # fmt: skip
        zh = st.scalar(f"SELECT top_reason FROM {SCORES_TABLE} WHERE target = 'purchase' LIMIT 1")
        left = st.query(f"SELECT DISTINCT target FROM {EVALUATION_TABLE}").to_pylist()
    assert counts["churn"] == res.users and counts["purchase"] > res.users  # every user, not only customers
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert left == []  # the churn backtest belonged to the replaced run

    reports = read_churn_report(open_store(shop, read_only=True))
    assert [r.target for r in reports] == ["churn", "purchase"]
    r = reports[0]
    assert sum(n for _, n in r.histogram) == r.users == res.users
    assert r.at_risk_users == sum(d.users for d in r.deciles if d.decile <= 2)
    assert r.top_customers and all(c.reason for c in r.top_customers)
    assert r.top_customers[0].revenue >= r.top_customers[-1].revenue


def test_score_rejects_bad_arguments(shop: Settings) -> None:
    with pytest.raises(ConfigError, match="target must be one of"):
        score_churn(shop, target="stay")
    with pytest.raises(ConfigError, match="labels would be censored"):
        score_churn(shop, cutoff=date(2026, 1, 1))


@pytest.mark.integration
def test_cdnow_sample_churn_backtest(tmp_path: Path) -> None:
    settings = Settings(db=str(tmp_path / "unused.duckdb"), workspace=tmp_path / "ws", cache_dir=tmp_path / "cache")
    ev = evaluate_dataset(settings, "cdnow-sample", horizon_days=90, params=FAST)
    f = ev.to_frame()
    assert ev.n_test == 2357 and ev.population == "customers" and 0.7 < ev.test_rate < 0.9
    assert f.loc["lightgbm", "roc_auc"] > 0.7 and f.loc["recency", "roc_auc"] > 0.7
    assert f.loc["lightgbm", "brier"] < f.loc["base_rate", "brier"]
