"""The coupon campaigns as experiments: exposures, definitions and true effects line up with the events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from growthkit.sim import SimConfig, simulate, write_simulation

if TYPE_CHECKING:
    from conftest import Shop

SMALL = SimConfig(users=900, days=45, seed=3, chunk_users=400)


@pytest.fixture(scope="module")
def exposures(shop: Shop) -> pd.DataFrame:
    return pq.read_table(shop.manifest.experiment_files["exposures"]).to_pandas()


@pytest.fixture(scope="module")
def coupons(shop: Shop) -> pd.DataFrame:
    """coupon_received events with their campaign id, one row per (campaign, user)."""
    ev = shop.events[shop.events["event_type"] == "coupon_received"].copy()
    ev["campaign_id"] = [json.loads(p)["campaign_id"] for p in ev["properties"]]
    return ev


@pytest.fixture(scope="module")
def definitions(shop: Shop) -> pd.DataFrame:
    return pq.read_table(shop.manifest.experiment_files["experiments"]).to_pandas()


def _campaign_of(exposures: pd.DataFrame) -> pd.Series:
    return pd.Series([json.loads(c)["campaign_id"] for c in exposures["context"]], index=exposures.index)


def test_every_coupon_receiver_is_in_the_coupon_arm_of_that_campaign(
    exposures: pd.DataFrame, coupons: pd.DataFrame
) -> None:
    exp = exposures.assign(campaign_id=_campaign_of(exposures))
    arms = exp.set_index(["campaign_id", "user_id"])["variation"]
    assert not arms.index.duplicated().any()  # one exposure per (campaign, user)
    got = arms.reindex(pd.MultiIndex.from_frame(coupons[["campaign_id", "user_id"]]))
    assert len(coupons) > 1000
    assert got.notna().all(), "a coupon receiver was not exposed"
    assert (got == "coupon").all()
    # and the other way round: the coupon arm is exactly the receivers
    treated = set(map(tuple, exp.loc[exp["variation"] == "coupon", ["campaign_id", "user_id"]].to_numpy()))
    assert treated == set(map(tuple, coupons[["campaign_id", "user_id"]].to_numpy()))


def test_control_users_received_no_coupon_that_day(exposures: pd.DataFrame, coupons: pd.DataFrame) -> None:
    control = exposures[exposures["variation"] == "control"]
    day = control["ts"].dt.floor("D")
    received = set(zip(coupons["user_id"], coupons["ts"].dt.floor("D"), strict=True))
    assert len(control) > 1000
    assert not any((u, d) in received for u, d in zip(control["user_id"], day, strict=True))


def test_arm_shares_match_coupon_share(shop: Shop, exposures: pd.DataFrame, definitions: pd.DataFrame) -> None:
    share = shop.manifest.config.coupon_share
    per = exposures.groupby("experiment")["variation"].agg(lambda v: (v == "coupon").mean())
    n = exposures.groupby("experiment").size()
    assert set(per.index) == set(definitions["experiment"])
    assert (abs(per - share) < 4 * np.sqrt(share * (1 - share) / n)).all(), per
    assert abs((exposures["variation"] == "coupon").mean() - share) < 0.015
    assert all(list(w) == pytest.approx([1 - share, share]) for w in definitions["weights"])
    assert all(list(v) == ["control", "coupon"] for v in definitions["variations"])


def test_eligible_users_are_consenting_and_signed_up_before_the_send_day(
    shop: Shop, exposures: pd.DataFrame, definitions: pd.DataFrame
) -> None:
    users = shop.users.set_index("user_id")
    for row in definitions.itertuples():
        send = row.start_ts
        assert send == send.floor("D") + pd.Timedelta(hours=2)
        exposed = exposures[exposures["experiment"] == row.experiment]
        assert (exposed["ts"] == send).all()
        eligible = users[users["marketing_consent"] & (users["signup_ts"] < send.floor("D"))]
        assert sorted(exposed["user_id"]) == sorted(eligible.index), row.experiment
        assert row.valid_from == send.floor("D") + pd.Timedelta(days=1)
        assert row.valid_until == row.valid_from + pd.Timedelta(days=shop.manifest.config.coupon_valid_days)


def test_exposure_precedes_the_coupon(exposures: pd.DataFrame, coupons: pd.DataFrame) -> None:
    exp = exposures.assign(campaign_id=_campaign_of(exposures))
    m = coupons.merge(exp, on=["campaign_id", "user_id"], suffixes=("_coupon", "_exposure"))
    assert len(m) == len(coupons)
    assert (m["ts_exposure"] <= m["ts_coupon"]).all()
    assert (m["ts_coupon"] - m["ts_exposure"] < pd.Timedelta(hours=2)).all()


def test_truth_is_the_mean_true_effect_over_the_coupon_arm(shop: Shop, exposures: pd.DataFrame) -> None:
    truth = pq.read_table(shop.manifest.truth_files["experiments"]).to_pandas().set_index("experiment")
    effect = shop.truth_users.set_index("user_id")
    churn = effect["churn_ts"]
    for key, group in exposures.groupby("experiment"):
        t = truth.loc[key]
        coupon = group[group["variation"] == "coupon"]
        assert t["n_eligible"] == len(group) and t["n_coupon"] == len(coupon)
        assert t["n_control"] == len(group) - len(coupon)
        assert t["true_att"] == pytest.approx(effect.loc[coupon["user_id"], "coupon_effect"].mean())
        assert t["true_ate"] == pytest.approx(effect.loc[group["user_id"], "coupon_effect"].mean())
        alive = coupon[~(churn.loc[coupon["user_id"]].to_numpy() <= coupon["ts"].dt.floor("D").to_numpy())]
        assert t["n_coupon_alive"] == len(alive)
        assert t["true_att_alive"] == pytest.approx(effect.loc[alive["user_id"], "coupon_effect"].mean())
        types = effect.loc[coupon["user_id"], "coupon_type"].value_counts(normalize=True)
        assert t["share_persuadable"] == pytest.approx(types.get("persuadable", 0.0))
    assert (truth["true_att"] > 0.02).all()  # persuadables outweigh sleeping dogs


def test_campaign_files_are_deterministic_and_match_memory(tmp_path: Path) -> None:
    a = write_simulation(SMALL, tmp_path / "a")
    b = write_simulation(SMALL, tmp_path / "b")
    assert set(a.experiment_files) == {"exposures", "experiments"}
    for name, path in a.experiment_files.items():
        assert path.read_bytes() == b.experiment_files[name].read_bytes(), name
    assert a.truth_files["experiments"].read_bytes() == b.truth_files["experiments"].read_bytes()
    data = simulate(SMALL)
    assert data.exposures.equals(pq.read_table(a.experiment_files["exposures"]))
    assert data.experiments.equals(pq.read_table(a.experiment_files["experiments"]))
    saved = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    assert saved["experiment_files"] == {"exposures": "exposures.parquet", "experiments": "experiments.parquet"}


def test_no_campaign_still_writes_empty_files(tmp_path: Path) -> None:
    m = write_simulation(SimConfig(users=50, days=3, seed=1, coupon_every_days=30), tmp_path / "none")
    assert pq.read_metadata(m.experiment_files["exposures"]).num_rows == 0
    assert pq.read_metadata(m.experiment_files["experiments"]).num_rows == 0
    assert pq.read_metadata(m.truth_files["experiments"]).num_rows == 0
