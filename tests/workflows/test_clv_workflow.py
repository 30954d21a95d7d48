"""CLV use cases on small stores: the database summary, fitting, scoring into the store, the report section."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.models.clv import rfm_summary
from growthkit.report import build_sections, render_report
from growthkit.report.build_clv import CHART_TITLE
from growthkit.store import open_store
from growthkit.workflows.clv import (
    HOLDOUT_TABLE,
    SCORES_TABLE,
    dataset_summary,
    fit_clv,
    read_holdout,
    score_clv,
    store_summary,
)
from growthkit.workflows.report import gather_report

START = datetime(2024, 1, 1)


def purchases(n: int = 400, days: int = 300, seed: int = 0) -> pd.DataFrame:
    """BG/NBD-like purchase events: first purchases in the first 60 days, then Poisson repeats at a
    gamma-distributed daily rate, dropping out after each repeat with a beta-distributed probability;
    some customers order twice on a day, and some orders have no amount."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        t = float(rng.integers(0, 60)) + rng.uniform(0, 0.9)
        rate, p = rng.gamma(0.8, 1 / 25), rng.beta(1.0, 5.0)
        while t < days:
            ts = START + timedelta(days=t)
            rows.append((f"c{i:04d}", ts, round(float(rng.lognormal(3, 0.5)), 2)))
            if rng.uniform() < 0.05:
                rows.append((f"c{i:04d}", ts + timedelta(minutes=5), None))
            t += rng.exponential(1 / max(rate, 1e-9))
            if t < days and rng.uniform() < p:
                break
    return pd.DataFrame(rows, columns=["user_id", "ts", "amount"])


def fill(settings: Settings, tx: pd.DataFrame) -> None:
    table = pa.table(
        {
            "event_id": [f"e{i}" for i in range(len(tx))],
            "user_id": tx["user_id"].tolist(),
            "ts": pa.array(tx["ts"].tolist(), pa.timestamp("us")),
            "event_type": ["purchase"] * len(tx),
            "amount": pa.array(tx["amount"], pa.float64(), from_pandas=True),  # NaN -> NULL, as ingestion stores it
            "currency": ["USD"] * len(tx),
        }
    )
    with open_store(settings) as st, st.register("tx_in", table):
        st.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, amount, currency) "
            "SELECT event_id, user_id, ts, event_type, amount, currency FROM tx_in"
        )
        st.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES "
            "('v1', 'c0000', '2024-02-01 10:00', 'view', 999.0), ('r1', 'c0001', '2024-02-01', 'refund', 50.0)"
        )


@pytest.fixture
def shop(settings: Settings) -> Settings:
    fill(settings, purchases())
    return settings


def test_database_summary_equals_the_dataframe_summary(shop: Settings) -> None:
    tx = purchases()
    for cal, hold in ((date(2024, 6, 30), date(2024, 10, 26)), (date(2024, 2, 10), None)):
        with open_store(shop, read_only=True) as st:
            got = store_summary(st, calibration_end=cal, holdout_end=hold, unit="W")
        want = rfm_summary(tx, calibration_end=cal, holdout_end=hold, unit="W")
        pd.testing.assert_frame_equal(got.frame, want.frame)
    assert got.frame["frequency"].sum() > 0 and len(got) < 400  # later first purchases are left out


def test_fit_on_the_store_with_a_holdout(shop: Settings) -> None:
    res = fit_clv(shop, model="paretonbd", calibration_end=date(2024, 6, 30), holdout_end=date(2024, 10, 26))
    assert set(res.params) == {"r", "alpha", "s", "beta"} and res.converged
    assert res.holdout is not None and res.holdout.total_actual > 0
    assert res.customers == 400 and res.distinct <= 400
    assert json.loads(json.dumps(res.to_dict()))["holdout"]["unit"] == "W"
    gg = fit_clv(shop, model="gammagamma")
    assert gg.holdout is None and dict(gg.extra)["mean_spend"] > 0
    with pytest.raises(ConfigError, match="unknown CLV model"):
        fit_clv(shop, model="nope")


def test_score_writes_and_replaces_the_tables(shop: Settings) -> None:
    res = score_clv(shop, horizon=6, period="month", discount_rate=0.01, holdout_days=91)
    assert res.table == SCORES_TABLE and res.customers == 400 and res.total_clv is not None
    assert res.holdout is not None and res.holdout.holdout_end == date(2024, 10, 26)
    json.dumps(res.to_dict())
    with open_store(shop, read_only=True) as st:
        scores = st.query(f"SELECT * FROM {SCORES_TABLE}").to_pandas()
        saved = read_holdout(st)
    assert list(scores.columns) == [
        "user_id", "frequency", "recency", "T", "monetary_value", "p_alive", "expected_purchases",
        "expected_spend", "clv", "model", "calibration_end", "scored_at",
    ]  # fmt: skip
    assert len(scores) == 400 and scores["user_id"].is_unique
    assert scores["p_alive"].between(0, 1).all() and (scores["clv"] >= 0).all()
    assert scores["clv"].sum() == pytest.approx(res.total_clv)
    assert saved is not None and saved.buckets == res.holdout.buckets
    again = score_clv(shop, model="paretonbd", horizon=3)
    with open_store(shop, read_only=True) as st:
        assert st.scalar(f"SELECT count(*) FROM {SCORES_TABLE}") == 400  # replaced, not appended
        assert st.scalar(f"SELECT any_value(model) FROM {SCORES_TABLE}") == "paretonbd"
        assert HOLDOUT_TABLE not in st.tables() and read_holdout(st) is None
    assert again.holdout is None


def test_report_shows_the_holdout_chart_only_when_there_is_one(shop: Settings) -> None:
    data = gather_report(shop)
    assert data.clv is None and "clv" not in [s.key for s in build_sections(data)]
    score_clv(shop, horizon=3, holdout_days=91)
    data = gather_report(shop)
    sections = build_sections(data)
    assert data.clv is not None and sections[-1].key == "clv"
    page = render_report(data)
    body = page[page.index('id="clv"') :]
    assert CHART_TITLE in body and "Predicted" in body and "7+" in body
    assert f"{data.clv.total_actual:,.0f}" in body


def test_errors_say_what_to_do(settings: Settings) -> None:
    with open_store(settings) as st:
        st.execute("INSERT INTO events (event_id, user_id, ts, event_type) VALUES ('v', 'u', '2024-01-01', 'view')")
    with pytest.raises(ConfigError, match="no purchase events"):
        score_clv(settings)
    fill(settings, purchases(n=50))
    with pytest.raises(ConfigError, match="transaction model"):
        score_clv(settings, model="gammagamma")
    with pytest.raises(ConfigError, match="shorten --holdout-days"):
        score_clv(settings, holdout_days=400)


@pytest.mark.integration
def test_cdnow_through_the_store_equals_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(db=str(tmp_path / "x.duckdb"), workspace=tmp_path / "ws", cache_dir=tmp_path / "cache")
    summary = dataset_summary(settings, "cdnow-sample")
    raw = pd.read_csv(
        settings.cache_dir / "cdnow-sample" / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype={0: str, 2: str}
    )
    tx = pd.DataFrame({"user_id": raw[0], "ts": pd.to_datetime(raw[2], format="%Y%m%d"), "amount": raw[4]})
    want = rfm_summary(tx, calibration_end="1997-09-30", holdout_end="1998-06-30")
    pd.testing.assert_frame_equal(summary.frame, want.frame)


def test_without_amounts_the_scores_have_no_money(settings: Settings) -> None:
    tx = purchases(n=120, seed=4)
    tx["amount"] = None
    fill(settings, tx)
    res = score_clv(settings, horizon=2)
    assert res.total_clv is None and res.spend_params is None
    assert res.notes and "no spend model" in res.notes[0] and "amounts" in res.notes[0]
    with open_store(settings, read_only=True) as st:
        sql = f"SELECT count(*) AS n, count(clv) AS money, count(p_alive) AS p FROM {SCORES_TABLE}"
        row = st.query(sql).to_pylist()
    assert row == [{"n": 120, "money": 0, "p": 120}]  # clv is NULL, not NaN
