"""The tracked share campaigns: independent cascades over the graph's true probabilities, every exposure logged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from growthkit.sim import SimConfig, simulate
from growthkit.sim.cascades import CASCADES_SCHEMA

if TYPE_CHECKING:
    from conftest import Shop

DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def log(shop: Shop) -> pd.DataFrame:
    return pq.read_table(shop.manifest.observation_files["share_cascades"]).to_pandas()


def _arcs(shop: Shop) -> pd.DataFrame:
    """Directed arcs of the edges table with their true probability (friend both ways; max over kinds)."""
    e = shop.truth_edges
    back = e[e.kind == "friend"].rename(columns={"src_user": "dst_user", "dst_user": "src_user"})
    both = pd.concat([e, back], ignore_index=True)
    return both.groupby(["src_user", "dst_user"], as_index=False).influence_prob.max()


def test_the_log_is_written_with_its_schema(shop: Shop, log: pd.DataFrame) -> None:
    path = shop.manifest.observation_files["share_cascades"]
    assert pq.read_schema(path).equals(CASCADES_SCHEMA)
    assert set(log.event) == {"exposure", "activation"}
    exp, act = log[log.event == "exposure"], log[log.event == "activation"]
    assert exp.src_user.notna().all() and act.src_user.isna().all()
    assert log.cascade_id.nunique() == 200 and len(exp) > 5 * len(act) > 1_000
    assert (log.ts < log.observed_until).all()
    assert not act.duplicated(["cascade_id", "user_id"]).any()  # one activation per user and campaign
    users = set(shop.users.user_id)
    assert set(log.user_id) <= users and set(exp.src_user) <= users


def test_shares_travel_along_the_graph_after_the_sharer_adopted(shop: Shop, log: pd.DataFrame) -> None:
    exp, act = log[log.event == "exposure"], log[log.event == "activation"]
    arcs = _arcs(shop)
    on_arc = exp.merge(arcs, left_on=["src_user", "user_id"], right_on=["src_user", "dst_user"], how="left")
    assert on_arc.influence_prob.notna().all()
    adopted = act.set_index(["cascade_id", "user_id"]).ts
    when = adopted.reindex(pd.MultiIndex.from_arrays([exp.cascade_id, exp.src_user])).to_numpy()
    assert (exp.ts.to_numpy() > when).all()
    # a sharer shares with every out-neighbour at once: one exposure time per sharer and campaign
    assert (exp.groupby(["cascade_id", "src_user"]).ts.nunique() == 1).all()


def test_adoptions_follow_the_true_probabilities(shop: Shop, log: pd.DataFrame) -> None:
    """Every exposure of a still-inactive user is a trial that succeeds with the arc's true probability."""
    log = log.assign(t=log.ts.astype("datetime64[ns, UTC]").astype("int64"))  # nanoseconds
    exp, act = log[log.event == "exposure"], log[log.event == "activation"]
    day = DAY.value
    t = exp.merge(_arcs(shop), left_on=["src_user", "user_id"], right_on=["src_user", "dst_user"])
    adopted = act.set_index(["cascade_id", "user_id"]).t
    a = adopted.reindex(pd.MultiIndex.from_arrays([t.cascade_id, t.user_id])).to_numpy(dtype=float, na_value=np.inf)
    s = t.t.to_numpy()
    trial = a > s
    t, a, s = t[trial], a[trial], s[trial]
    hit = (a - s) < day
    p = t.influence_prob.to_numpy()
    # several exposures of one user in one round share one outcome: count each (campaign, user, round) once
    start = act.groupby("cascade_id").t.min().reindex(t.cascade_id).to_numpy()
    key = pd.MultiIndex.from_arrays([t.cascade_id.to_numpy(), t.user_id.to_numpy(), (s - start) // day])
    fail = pd.Series(np.log1p(-p), index=key).groupby(level=[0, 1, 2]).sum()
    success = pd.Series(hit, index=key).groupby(level=[0, 1, 2]).max()
    expected = float((1 - np.exp(fail)).sum())
    observed = float(success.sum())
    assert len(success) > 5_000
    assert abs(observed - expected) < 4 * np.sqrt(expected), (observed, expected)
    # and by probability: the strong arcs succeed more often, as often as they should
    strong = pd.Series(p, index=key).groupby(level=[0, 1, 2]).max() > 0.2
    assert success[strong].mean() == pytest.approx((1 - np.exp(fail[strong])).mean(), abs=0.02)


def test_in_memory_equals_the_files_and_is_deterministic(shop: Shop) -> None:
    path = shop.manifest.observation_files["share_cascades"]
    assert simulate(shop.manifest.config).share_cascades.equals(pq.read_table(path))
    a = simulate(SimConfig(users=400, days=30, seed=2))
    b = simulate(SimConfig(users=400, days=30, seed=2))
    assert a.share_cascades.num_rows > 0 and a.share_cascades.equals(b.share_cascades)
    c = simulate(SimConfig(users=400, days=30, seed=3))
    assert not c.share_cascades.equals(a.share_cascades)
    assert simulate(SimConfig(users=1, days=30)).share_cascades.num_rows == 0  # no ties, no campaigns
