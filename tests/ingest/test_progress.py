"""Long loads report what they are doing and how far they are."""

from __future__ import annotations

from pathlib import Path

from growthkit.config import Settings
from growthkit.ingest import ingest
from growthkit.store import DuckDBStore


def test_progress_goes_through_every_phase_and_ends_at_one(
    store: DuckDBStore, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "e.csv"
    with path.open("w") as fh:
        fh.write("user_id,ts,event_type\n")
        for i in range(20_000):
            fh.write(f"u{i % 97},2024-03-01 10:{i % 60:02d}:00,view\n")
    seen: list[tuple[str, float]] = []
    ingest(store, settings, [path, path], kind="events", progress=lambda what, f: seen.append((what, f)))
    phases = [w.split(" ")[0] for w, _ in seen]
    assert {"reading", "checking", "writing", "done"} <= set(phases)
    fractions = [f for _, f in seen]
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions[-1] == 1.0
    assert fractions == sorted(fractions)  # the bar never moves backwards
    assert store.progress() is None  # nothing running now
