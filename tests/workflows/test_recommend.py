"""Recommendation use cases end to end on a tiny simulated store: evaluate, train, ask, demo step, report."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.report.build_recommend import recommend_section
from growthkit.report.html import ReportMeta, render_page
from growthkit.schema import TABLES
from growthkit.sim import SimConfig
from growthkit.sim.writer import simulate
from growthkit.store import open_store
from growthkit.workflows.recommend import (
    EVALUATION_TABLE,
    RECOMMENDATIONS_TABLE,
    evaluate_recommenders,
    model_path,
    read_recommend_report,
    recommend_demo,
    recommend_for_user,
    similar_to_item,
    train_recommendations,
)
from growthkit.workflows.recommend_data import load_source, true_scores

COLUMNS = ["user_id", "rank", "item_id", "score", "reason", "model", "created_at"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """A 400-customer simulated shop in a store file, and its truth folder."""
    folder = tmp_path_factory.mktemp("recommend")
    data = simulate(SimConfig(users=400, days=60, seed=5))
    settings = Settings(db=str(folder / "shop.duckdb"), workspace=folder / "ws")
    with open_store(settings) as store:
        for name in ("items", "users", "events"):
            table = getattr(data, name)
            cols = ", ".join(c for c in TABLES[name].column_names if c in table.column_names)
            with store.register("sim_rows", table):
                store.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM sim_rows")
    truth = folder / "truth"
    truth.mkdir()
    for name in ("users", "items", "categories"):
        pq.write_table(data.truth[name], truth / f"{name}.parquet")
    return settings, truth


def history_items(settings: Settings, user: str) -> set[str]:
    with open_store(settings, read_only=True) as store:
        rows = store.query(
            "SELECT DISTINCT item_id FROM events WHERE user_id = ? AND item_id IS NOT NULL "
            "AND event_type IN ('view', 'cart', 'purchase', 'review')",
            [user],
        ).to_pylist()
    return {str(r["item_id"]) for r in rows}


def test_evaluate_the_store_by_time_with_the_oracle(shop: tuple[Settings, Path]) -> None:
    settings, truth = shop
    report = evaluate_recommenders(settings, split="temporal", models=["popularity", "itemknn"], truth_dir=truth)
    assert report.protocol.dataset == "store" and report.protocol.split == "temporal"
    assert list(report.table.index) == ["oracle", "popularity", "itemknn"]
    assert report.table.loc["oracle", "true_ndcg@10"] == pytest.approx(1.0)
    # knowing the true preferences must beat guessing them on held-out interactions
    assert report.table.loc["oracle", "ndcg@10"] > report.table.loc["popularity", "ndcg@10"]
    assert 0 < report.table.loc["popularity", "true_ndcg@10"] < 1


def test_sim_truth_scores_are_the_session_view_probabilities(shop: tuple[Settings, Path]) -> None:
    settings, truth = shop
    source = load_source(settings, None, truth_dir=truth)
    assert source.truth is not None
    scores = true_scores(source.truth, source.truth.item_ids)(source.truth.user_ids[:5])
    # every user's probabilities over the whole catalogue sum to 1 (one view of one item per draw)
    assert scores.sum(axis=1) == pytest.approx([1.0] * 5)


def test_train_writes_top_k_per_user_and_replaces_it(shop: tuple[Settings, Path]) -> None:
    settings, _ = shop
    run = train_recommendations(settings, model="popularity", k=5)
    assert run.k == 5 and run.model_path == model_path(settings) and run.model_path.exists()
    with open_store(settings, read_only=True) as store:
        frame = store.query(f"SELECT * FROM {RECOMMENDATIONS_TABLE}").to_pandas()
    assert list(frame.columns) == COLUMNS
    assert len(frame) == run.rows and frame["user_id"].nunique() == run.users
    assert frame.groupby("user_id")["rank"].max().max() == 5
    assert set(frame["model"]) == {"popularity"}
    assert run.explained_users == run.users and frame["reason"].notna().all()  # every item has a reason
    user = str(frame["user_id"].iloc[0])
    assert set(frame.loc[frame["user_id"] == user, "item_id"]).isdisjoint(history_items(settings, user))
    again = train_recommendations(settings, model="ease", k=3, reasons="none")
    with open_store(settings, read_only=True) as store:
        n = store.scalar(f"SELECT count(*) FROM {RECOMMENDATIONS_TABLE}")
        models = store.query(f"SELECT DISTINCT model FROM {RECOMMENDATIONS_TABLE}").to_pylist()
    assert n == again.rows and models == [{"model": "ease"}]  # replaced, not appended
    assert again.explained_users == 0


def test_for_a_user_and_similar_items(shop: tuple[Settings, Path]) -> None:
    settings, _ = shop
    run = train_recommendations(settings, model="itemknn", k=5)
    with open_store(settings, read_only=True) as store:
        user = str(store.scalar(f"SELECT min(user_id) FROM {RECOMMENDATIONS_TABLE}"))
    ex = recommend_for_user(settings, user, k=4)
    assert len(ex.recommendations) == 4 and not ex.fallback
    assert all(s.title and s.title != s.item_id for s in ex.recommendations)  # catalogue titles
    assert ex.history and {s.item_id for s in ex.history} <= history_items(settings, user)
    assert recommend_for_user(settings, "nobody-at-all", k=3).fallback
    item = ex.recommendations[0].item_id
    sims = similar_to_item(settings, item, k=3)
    assert list(sims.columns) == ["rank", "item_id", "score", "title"] and len(sims) == 3
    assert item not in set(sims["item_id"])
    with pytest.raises(ConfigError, match="not in the trained model"):
        similar_to_item(settings, "no-such-item")
    assert run.model == "itemknn"


def test_demo_step_and_report_section(shop: tuple[Settings, Path]) -> None:
    settings, _ = shop
    result = recommend_demo(settings, models=("popularity", "ease"), k=10)
    assert result["chosen"] == result["evaluation"].best("ndcg@10")
    with open_store(settings, read_only=True) as store:
        assert store.scalar(f"SELECT count(*) FROM {EVALUATION_TABLE}") == 2
        rec = read_recommend_report(store, examples=3)
    assert rec is not None and rec.model == result["chosen"] and rec.k == 10
    assert rec.evaluation[0]["model"] == result["chosen"]  # sorted by NDCG@10, best first
    assert len(rec.examples) == 3 and all(ex.history and ex.recommendations for ex in rec.examples)
    # the demo gives reasons to the customers the report shows (4 by default), not to everyone
    assert result["train"].explained_users == 4
    assert all(s.detail for ex in rec.examples for s in ex.recommendations)
    section = recommend_section(rec)
    meta = ReportMeta("shop", rec.created_at.date(), rec.created_at.date(), rec.created_at)
    page = render_page(meta, [section])
    assert 'id="recommendations"' in page and 'class="chart"' in page
    title = rec.examples[0].recommendations[0].title
    assert title.split()[0] in page  # the catalogue's own title (Chinese first word in the simulator)


def test_report_has_no_section_without_recommendations(tmp_path: Path) -> None:
    with open_store(Settings(db=str(tmp_path / "empty.duckdb"), workspace=tmp_path / "ws")) as store:
        assert read_recommend_report(store) is None


def test_errors_say_what_to_do(tmp_path: Path) -> None:
    empty = Settings(db=str(tmp_path / "e.duckdb"), workspace=tmp_path / "ws")
    with pytest.raises(ConfigError, match="recommend train"):
        recommend_for_user(empty, "u1")
    with pytest.raises(ConfigError, match="unknown dataset"):
        evaluate_recommenders(empty, dataset="netflix")


def test_evaluate_a_simulated_shop_in_memory() -> None:
    report = evaluate_recommenders(
        Settings(db=":memory:"), dataset="sim", models=["popularity"], sim_users=300, sim_days=45, ks=(5,)
    )
    assert report.protocol.dataset == "sim" and "oracle" in report.table.index
    segments = {s for s in report.slices["slice"] if s.startswith("segment: ")}
    assert segments and segments <= {f"segment: {t}" for t in ("bargain_hunter", "loyal_big_spender",
                                                               "casual_browser", "new_explorer")}  # fmt: skip


@pytest.mark.integration
def test_ml100k_published_protocol_best_model_beats_the_best_published(tmp_path: Path) -> None:
    """MovieLens-100K, Microsoft Recommenders' protocol: EASE beats BiVAE's NDCG@10 and popularity."""
    settings = Settings(db=str(tmp_path / "x.duckdb"), workspace=tmp_path / "ws")
    report = evaluate_recommenders(settings, dataset="ml-100k", models=["popularity", "ease"], ks=(10,))
    assert report.published is not None and report.protocol.split == "stratified"
    assert report.table.loc["ease", "ndcg@10"] > report.published.rows["BiVAE"]["ndcg@10"]
    assert report.table.loc["ease", "ndcg@10"] > report.table.loc["popularity", "ndcg@10"]
