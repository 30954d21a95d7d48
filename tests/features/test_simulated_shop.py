"""The feature table of a small simulated shop agrees with a plain pandas computation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from growthkit.config import Settings
from growthkit.features import build_user_features, describe, horizon_labels, split_by_time
from growthkit.schema import TABLES
from growthkit.sim import SimConfig
from growthkit.sim.writer import simulate
from growthkit.store import Store, open_store
from growthkit.text.embed import TfidfEmbedder

CONFIG = SimConfig(users=300, days=60, seed=5)
CUTOFF = datetime.combine(CONFIG.start, datetime.min.time()) + timedelta(days=40)


@dataclass(frozen=True)
class Sim:
    store: Store
    events: pd.DataFrame
    users: pd.DataFrame
    reviews: pd.DataFrame


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    data = simulate(CONFIG)
    store = open_store(Settings(db=":memory:"))
    for name in ("events", "users", "items", "reviews", "edges"):
        table = getattr(data, name)
        cols = ", ".join(c for c in TABLES[name].column_names if c in table.column_names)
        with store.register("sim_rows", table):
            store.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM sim_rows")

    def frame(t: object) -> pd.DataFrame:
        df: pd.DataFrame = t.to_pandas()  # type: ignore[attr-defined]
        for c in ("ts", "signup_ts"):
            if c in df:
                df[c] = pd.to_datetime(df[c], utc=True).dt.tz_localize(None)
        return df

    yield Sim(store, frame(data.events), frame(data.users), frame(data.reviews))
    store.close()


@pytest.fixture(scope="module")
def table(sim: Sim) -> pd.DataFrame:
    return build_user_features(sim.store, CUTOFF, embedder=TfidfEmbedder(dim=16))


def test_rows_and_counts_match_pandas(sim: Sim, table: pd.DataFrame) -> None:
    ev = sim.events[sim.events.ts < CUTOFF]
    signed = sim.users[sim.users.signup_ts < CUTOFF].user_id
    assert set(table.index) == set(ev.user_id) | set(signed)
    p = ev[ev.event_type == "purchase"].groupby("user_id")
    freq = p.size().reindex(table.index, fill_value=0)
    assert (table["frequency"] == freq).all()
    money = p.amount.sum().reindex(table.index, fill_value=0.0)
    np.testing.assert_allclose(table["monetary_total"], money, rtol=1e-9)
    recent = ev[(ev.event_type == "view") & (ev.ts >= CUTOFF - timedelta(days=30))]
    views = recent.groupby("user_id").size().reindex(table.index, fill_value=0)
    assert (table["view_count_30d"] == views).all()
    first = ev.groupby("user_id").ts.min()
    born = pd.concat([first, sim.users[sim.users.signup_ts < CUTOFF].set_index("user_id").signup_ts], axis=1).min(
        axis=1
    )
    tenure = (CUTOFF - born.reindex(table.index)).dt.total_seconds() / 86_400
    np.testing.assert_allclose(table["tenure_days"], tenure, rtol=1e-9)


def test_text_and_table_shape(sim: Sim, table: pd.DataFrame) -> None:
    ev = sim.events[(sim.events.ts < CUTOFF) & sim.events["query"].notna()]
    rv = sim.reviews[(sim.reviews.ts < CUTOFF) & sim.reviews.text.notna()]
    with_text = (set(ev.user_id) | set(rv.user_id)) & set(table.index)
    assert set(table.index[table["has_text"] == 1]) == with_text
    assert table.filter(like="text_pc").abs().sum().gt(0).all()  # four informative components
    assert np.isfinite(table.to_numpy(dtype="float64")).all()
    assert table.filter(like="cat_share__").sum(axis=1).between(0, 1 + 1e-9).all()
    for c in table.columns:
        describe(c)  # every column is explained by the catalogue


def test_labels_match_pandas(sim: Sim, table: pd.DataFrame) -> None:
    split = split_by_time(CUTOFF, 14, sim.store)
    assert split.complete is True
    labels = horizon_labels(sim.store, split)
    assert labels.index.equals(table.index)
    ev = sim.events
    inside = ev[(ev.ts >= split.cutoff) & (ev.ts < split.horizon_end) & (ev.event_type == "purchase")]
    bought = inside.groupby("user_id").size().reindex(labels.index, fill_value=0)
    assert (labels["purchases"] == bought).all()
    assert (labels["churned"] == (bought == 0).astype(int)).all()
    assert 0 < labels["churned"].mean() < 1
