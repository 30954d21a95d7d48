"""Segmentation use cases on a small simulated store: the tables written, saved segments, stable ids, the truth."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from growthkit.analytics.segments import Segment, SegmentedBackend, saved_segment_names
from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.schema import TABLES
from growthkit.sim import SimConfig
from growthkit.sim.writer import simulate
from growthkit.store import open_store
from growthkit.workflows.segments import (
    CENTERS_TABLE,
    PROFILES_TABLE,
    SEGMENT_COLUMNS,
    default_cutoff,
    read_reference,
    read_segment_profiles,
    read_truth,
    segment_users,
)

SIM = SimConfig(users=1200, days=90, seed=4)


def load(settings: Settings, config: SimConfig, truth_dir: Path) -> Path:
    """The simulated shop in the store; its true user types as ``truth_dir/users.parquet``."""
    data = simulate(config)
    with open_store(settings) as store:
        for name in ("events", "users", "items", "reviews", "edges"):
            table = getattr(data, name)
            cols = ", ".join(c for c in TABLES[name].column_names if c in table.column_names)
            with store.register("sim_rows", table):
                store.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM sim_rows")
    truth_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(data.truth["users"], truth_dir / "users.parquet")
    return truth_dir / "users.parquet"


@pytest.fixture
def shop(settings: Settings, tmp_path: Path) -> tuple[Settings, Path]:
    return settings, load(settings, SIM, tmp_path / "truth")


def count(settings: Settings, sql: str) -> int:
    with open_store(settings, read_only=True) as st:
        return int(st.scalar(sql))


def test_rfm_writes_saved_segments_that_any_insight_can_use(shop: tuple[Settings, Path]) -> None:
    settings, truth_path = shop
    run = segment_users(settings, method="rfm", truth=read_truth(truth_path))
    assert run.tables == ("segments", PROFILES_TABLE) and run.cutoff == SIM.start + timedelta(days=SIM.days)
    assert run.users == count(settings, "SELECT count(*) FROM segments")
    assert sum(p.users for p in run.profiles) == run.users and run.profiles[-1].segment_id == "prospects"
    assert run.truth is not None and run.truth.ari > 0.05 and run.truth.types == 4
    assert set(run.thresholds) == {"R", "F", "M"} and run.k_selection == ()
    with open_store(settings, read_only=True) as st:
        con = st.ibis()
        names = saved_segment_names(con)
        assert "rfm: Champions" in names and "rfm: Prospects" in names
        champions = next(p for p in run.profiles if p.segment_id == "champions")
        members = SegmentedBackend(con, Segment("rfm: Champions")).table("users").count().execute()
        assert members == champions.users
        row = st.query("SELECT * FROM segments WHERE segment_id = 'champions' LIMIT 1").to_pylist()[0]
    assert set(row) == set(SEGMENT_COLUMNS)
    assert (row["segment_name"], row["method"], row["cutoff"].date()) == ("Champions", "rfm", run.cutoff)
    assert row["created_at"] == row["fitted_at"] == run.fitted_at


def test_cluster_runs_keep_ids_and_replace_only_their_own_rows(shop: tuple[Settings, Path]) -> None:
    settings, _ = shop
    with open_store(settings) as st:  # a segment saved by hand, in the analytics module's shape
        st.execute("CREATE TABLE segments (name VARCHAR, user_id VARCHAR, created_at TIMESTAMP)")
        st.execute("INSERT INTO segments VALUES ('vip', 'u1', TIMESTAMP '2025-01-01')")
    rfm = segment_users(settings, method="rfm")
    cut = SIM.start + timedelta(days=75)
    first = segment_users(settings, method="cluster", k=4, cutoff=cut)
    assert first.tables == ("segments", PROFILES_TABLE, CENTERS_TABLE) and first.id_matches == ()
    assert [p.segment_id for p in first.profiles] == ["1", "2", "3", "4"]
    assert [r["k"] for r in first.k_selection] == [4] and first.criterion == "silhouette"
    second = segment_users(settings, method="cluster", k=4)  # 15 more days of data
    assert [r["previous_id"] for r in second.id_matches] == [r["segment_id"] for r in second.id_matches]
    with open_store(settings, read_only=True) as st:
        by_method = {
            r["m"]: r["n"]
            for r in st.query(
                "SELECT coalesce(method, 'hand') AS m, count(*) AS n FROM segments GROUP BY 1"
            ).to_pylist()
        }
    assert by_method == {"hand": 1, "rfm": rfm.users, "cluster": second.users}
    with open_store(settings, read_only=True) as st:
        ref = read_reference(st)
    assert ref is not None and ref.ids == (1, 2, 3, 4) and ref.next_id == 5


def test_ids_of_a_refit_match_the_same_users(shop: tuple[Settings, Path]) -> None:
    settings, _ = shop
    first = segment_users(settings, method="cluster", k=4, cutoff=SIM.start + timedelta(days=80), save=True)
    with open_store(settings, read_only=True) as st:
        before = {
            r["user_id"]: r["segment_id"]
            for r in st.query("SELECT user_id, segment_id FROM segments WHERE method = 'cluster'").to_pylist()
        }
    segment_users(settings, method="cluster", k=4)
    with open_store(settings, read_only=True) as st:
        after = {
            r["user_id"]: r["segment_id"]
            for r in st.query("SELECT user_id, segment_id FROM segments WHERE method = 'cluster'").to_pylist()
        }
    common = [u for u in before if u in after]
    agree = sum(before[u] == after[u] for u in common) / len(common)
    assert agree > 0.85, agree
    assert first.k == 4


def test_profiles_for_the_report_and_nothing_written_without_save(shop: tuple[Settings, Path]) -> None:
    settings, _ = shop
    run = segment_users(settings, method="cluster", algorithm="gmm", k=3, lang="zh", save=False)
    assert run.tables == () and all(p.lang == "zh" and p.checks_passed for p in run.personas)
    with open_store(settings, read_only=True) as st:
        assert read_segment_profiles(st) == () and PROFILES_TABLE not in st.tables()
    segment_users(settings, method="cluster", k=3)
    rfm = segment_users(settings, method="rfm")
    with open_store(settings, read_only=True) as st:
        saved = read_segment_profiles(st)
        assert default_cutoff(st) == rfm.cutoff
    assert [s.method for s in saved] == ["rfm", "cluster"] and saved[1].algorithm == "kmeans"
    rows = saved[0].segments
    assert [r["segment_id"] for r in rows] == [p.segment_id for p in rfm.profiles]
    assert rows[0]["segment_name"] == "Champions" and rows[0]["description"] == rfm.personas[0].description
    assert abs(sum(r["share_users"] for r in rows) - 1) < 1e-9 and rows[0]["is_template"] and rows[0]["checks_passed"]
    d = rfm.to_dict()
    assert d["k"] == len(rows) and d["profiles"][0]["segment_id"] == "champions" and d["personas"][0]["is_template"]


def test_errors_say_what_to_do(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="method must be one of rfm, cluster"):
        segment_users(settings, method="kmeans")
    with pytest.raises(ConfigError, match="algorithm must be one of kmeans, gmm"):
        segment_users(settings, method="cluster", algorithm="dbscan")
    with pytest.raises(ConfigError, match="no events"):
        segment_users(settings)
    with pytest.raises(ConfigError, match="truth file not found"):
        read_truth(tmp_path / "nope.parquet")
    (tmp_path / "t.csv").write_text("user_id,kind\nu1,a\n", encoding="utf-8")
    with pytest.raises(Exception, match="needs columns user_id and customer_type"):
        read_truth(tmp_path / "t.csv")
    assert read_truth(tmp_path / "t.csv", column="kind").to_dict() == {"u1": "a"}
    load(settings, SimConfig(users=50, days=10, seed=1), tmp_path / "t2")
    with pytest.raises(ConfigError, match="no user is known before"):
        segment_users(settings, cutoff=date(2020, 1, 1))
