"""``growthkit viral ...`` (and ``growthkit analytics referral``) on a small simulated shop."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from growthkit.cli import cli
from growthkit.config import Settings
from growthkit.sim import SimConfig, simulate
from growthkit.store import open_store
from growthkit.workflows.viral_check import load_simulation


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("viral-cli") / "shop.duckdb"
    with open_store(Settings(db=str(path))) as store:
        load_simulation(store, SimConfig(users=800, days=60, seed=11))
    return str(path)


def _run(args: list[str], code: int = 0) -> str:
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == code, res.output
    return res.output


def _json(args: list[str]) -> Any:
    return json.loads(_run([*args, "--json"]))


def test_seeds_json_has_seeds_spread_guarantee_and_time(db: str) -> None:
    r = _json(["viral", "seeds", "--db", db, "--k", "5", "--model", "ic", "--prob", "weighted-cascade",
               "--eval-sims", "500", "--gain-sets", "5000"])  # fmt: skip
    assert [s["rank"] for s in r["seeds"]] == [1, 2, 3, 4, 5] and len({s["user_id"] for s in r["seeds"]}) == 5
    assert all(s["gain"] > 0 for s in r["seeds"])
    sp = r["spread"]
    assert sp["ci_low"] < sp["mean"] < sp["ci_high"] and sp["n_sims"] == 500
    g = r["guarantee"]
    assert g["epsilon"] == 0.5 and 0 < g["failure_probability"] < 0.01 and g["ratio"] == pytest.approx(0.1321, abs=1e-4)
    assert r["seconds"]["total"] > 0 and r["graph"]["source"].startswith("store edges")


def test_seeds_for_people_and_as_csv(db: str) -> None:
    text = _run(
        ["viral", "seeds", "--db", db, "--k", "3", "--model", "lt", "--eval-sims", "200", "--gain-sets", "2000"]
    )
    assert "Seeds: IMM under LT" in text and "expected spread" in text and "guarantee" in text and "run time" in text
    rows = list(csv.DictReader(io.StringIO(_run(["viral", "seeds", "--db", db, "--k", "3", "--algorithm", "degree",
                                                  "--eval-sims", "0", "--gain-sets", "0", "--csv"]))))  # fmt: skip
    assert [r["rank"] for r in rows] == ["1", "2", "3"] and set(rows[0]) == {"rank", "user_id", "gain", "cumulative",
                                                                            "cost"}  # fmt: skip


def test_seeds_with_a_budget_costs_and_consent(db: str, tmp_path: Path) -> None:
    with open_store(Settings(db=db), read_only=True) as st:
        users = st.query("SELECT user_id FROM users WHERE marketing_consent ORDER BY user_id LIMIT 60").column(0)
    costs = tmp_path / "costs.csv"
    costs.write_text("user_id,cost\n" + "".join(f"{u},{1 + i % 3}\n" for i, u in enumerate(users.to_pylist())))
    r = _json(["viral", "seeds", "--db", db, "--budget", "6", "--costs", str(costs), "--consented",
               "--algorithm", "imm", "--epsilon", "0.2", "--eval-sims", "300", "--gain-sets", "2000"])  # fmt: skip
    assert 0 < r["total_cost"] <= 6 and r["budget"] == 6 and r["guarantee"]["base_ratio"] == pytest.approx(0.316, 1e-3)
    assert {s["user_id"] for s in r["seeds"]} <= set(users.to_pylist())


def test_seeds_on_an_edge_list_file(tmp_path: Path) -> None:
    f = tmp_path / "g.txt"
    f.write_text("src,dst,prob\nhub,a,0.9\nhub,b,0.9\nx,y,0.5\n")
    r = _json(["viral", "seeds", "--graph", str(f), "--prob", "file", "--k", "1", "--algorithm", "celf",
               "--celf-sims", "300", "--eval-sims", "1000"])  # fmt: skip
    assert [s["user_id"] for s in r["seeds"]] == ["hub"] and r["spread"]["mean"] == pytest.approx(2.8, abs=0.1)
    assert "sampled worlds" in r["guarantee"]["statement"]


def test_mistakes_end_with_a_message_and_status_1(db: str, tmp_path: Path) -> None:
    f = tmp_path / "g.txt"
    f.write_text("a b\n")
    assert "costs need a budget" in _run(["viral", "seeds", "--db", db, "--cost", "2"], code=1)
    assert "cannot be used with --graph" in _run(["viral", "seeds", "--graph", str(f), "--prob", "learned"], code=1)
    assert "no segments table" in _run(["viral", "seeds", "--db", db, "--segment", "vip"], code=1)


def test_analyze(db: str) -> None:
    a = _json(["viral", "analyze", "--db", db, "--top", "3"])
    assert a["communities"]["count"] > 1 and 0 < a["communities"]["modularity"] < 1
    assert len(a["top_pagerank"]) == 3 and len(a["spreaders"]) == 3 and a["by_segment"] is None
    assert {d["direction"] for d in a["degrees"]} == {"out", "in"}
    text = _run(["viral", "analyze", "--db", db, "--top", "3"])
    assert "Top spreaders by PageRank" in text and "communities (Louvain)" in text and "no segments table" in text


def test_referral_in_both_places(db: str) -> None:
    args = ["--db", db, "--start", "2025-01-01", "--end", "2025-03-01", "--period", "month"]
    rows = _json(["viral", "referral", *args])
    assert {r["section"] for r in rows} >= {"totals", "cohort", "period", "trees"}
    assert rows == _json(["analytics", "referral", *args])
    text = _run(["viral", "referral", *args])
    assert "K-factor" in text and "referral trees" in text and "2025-02-01" in text
    k = next(r["value"] for r in rows if r["metric"] == "referred_users" and r["section"] == "cohort")
    ids = _json(["viral", "referral", *args, "--actors", "cell=referred"])
    assert len(ids) == k


def test_check_against_the_simulator() -> None:
    r = _json(["viral", "check", "--users", "600", "--days", "30", "--k", "5", "--eval-sims", "300",
               "--prob", "truth"])  # fmt: skip
    assert [c["prob"] for c in r["checks"]] == ["truth"]
    assert {m["versus"] for m in r["checks"][0]["margins"]} == {"degree", "random"}
    text = _run(["viral", "check", "--users", "600", "--days", "30", "--k", "5", "--eval-sims", "300",
                 "--prob", "weighted-cascade"])  # fmt: skip
    assert "IMM's margin over each baseline" in text and "realised" in text


def test_check_learned_shows_calibration_and_the_criterion() -> None:
    args = ["viral", "check", "--users", "600", "--days", "30", "--k", "5", "--eval-sims", "300",
            "--probs", "learned", "--bootstrap", "3", "--bootstrap-sims", "100"]  # fmt: skip
    r = _json(args)
    (c,) = r["checks"]
    assert c["prob"] == "learned" and isinstance(c["calibrated"], bool) and "cascades" in c["note"]
    assert c["calibration"]["pearson"] > 0.3 and len(c["calibration"]["bins"]) == 10
    for g in c["margins"]:
        assert g["estimation"]["draws"] == 3 and g["estimation_error"] > 0 and "z_mc" in g and "agrees" in g
    text = _run(args)
    assert "edge probabilities against the truth" in text and "mean estimated" in text
    assert "criterion: a model is calibrated when" in text and "learned:" in text
    assert "bootstrap needs" in _run([*args[:-4], "--bootstrap", "1"], code=1)


def test_seeds_with_probabilities_learned_from_a_cascade_log(db: str, tmp_path: Path) -> None:
    log = tmp_path / "cascades.parquet"
    pq.write_table(simulate(SimConfig(users=800, days=60, seed=11)).share_cascades, log)  # the db's shop
    r = _json(["viral", "seeds", "--db", db, "--k", "5", "--prob", "cascades", "--cascades", str(log),
               "--eval-sims", "300", "--gain-sets", "2000"])  # fmt: skip
    assert len(r["seeds"]) == 5 and r["graph"]["prob"] == "cascades"
    assert 0.05 < r["graph"]["mean_prob"] < 0.2  # the simulator's true mean is about 0.1
    assert any("learned from 200 cascades" in n for n in r["notes"])
    out = _run(["viral", "seeds", "--db", db, "--k", "5", "--prob", "cascades"], code=1)
    assert "give --cascades FILE" in out
