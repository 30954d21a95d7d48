"""Same config and seed give byte-identical files; other seeds differ; memory and disk agree."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from growthkit.sim import SimConfig, simulate, write_simulation

SMALL = SimConfig(users=1_200, days=60, seed=5, chunk_users=500)


def _bytes(manifest_files: dict[str, Path]) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in manifest_files.items()}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = write_simulation(SMALL, tmp_path / "a")
    b = write_simulation(SMALL, tmp_path / "b")
    assert _bytes(a.files) == _bytes(b.files)
    assert _bytes(a.truth_files) == _bytes(b.truth_files)
    assert a.rows == b.rows


def test_other_seed_differs(tmp_path: Path) -> None:
    a = write_simulation(SMALL, tmp_path / "a")
    c = write_simulation(SimConfig(users=1_200, days=60, seed=6, chunk_users=500), tmp_path / "c")
    for name in ("events", "users", "edges", "reviews", "items"):
        assert a.files[name].read_bytes() != c.files[name].read_bytes(), name
    assert not pq.read_table(a.files["events"]).equals(pq.read_table(c.files["events"]))


def test_simulate_in_memory_matches_files(tmp_path: Path) -> None:
    m = write_simulation(SMALL, tmp_path / "a")
    data = simulate(SMALL)
    for name, table in data.tables.items():
        assert table.equals(pq.read_table(m.files[name])), name
    for name, table in data.truth.items():
        assert table.equals(pq.read_table(m.truth_files[name])), name


def test_manifest_and_progress(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    m = write_simulation(SMALL, tmp_path / "out", progress=lambda done, total: calls.append((done, total)))
    assert calls == [(500, 1_200), (1_000, 1_200), (1_200, 1_200)]
    assert set(m.files) == {"events", "users", "items", "reviews", "edges"}
    assert set(m.truth_files) >= {"users", "edges"}
    assert all(p.exists() for p in (*m.files.values(), *m.truth_files.values()))
    assert {k: pq.read_metadata(p).num_rows for k, p in m.files.items()} == m.rows
    saved = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert saved["rows"] == m.rows
    assert saved["config"]["seed"] == 5 and saved["config"]["users"] == 1_200
    assert m.config == SMALL and m.seconds > 0


def test_tiny_configs_work(tmp_path: Path) -> None:
    one = simulate(SimConfig(users=1, days=1, seed=0))
    assert one.users.num_rows == 1 and one.edges.num_rows == 0
    m = write_simulation(SimConfig(users=3, days=2, mean_degree=0.0), tmp_path / "tiny")
    assert m.rows["edges"] == 0
    assert pq.read_table(m.files["edges"]).column_names == ["edge_id", "src_user", "dst_user", "kind", "ts", "weight"]
