"""House rules that are checked mechanically (ARCHITECTURE.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "growthkit"


def test_layering_contract_holds() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.fail("lint-imports (import-linter) is not installed; it is in the [dev] extra")
    res = subprocess.run([exe], cwd=SRC.parents[1], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "KEPT" in res.stdout


def test_layering_contract_catches_a_violation(tmp_path: Path) -> None:
    """The contract is not vacuous: a lower layer importing a higher one breaks it."""
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    shutil.copytree(SRC, tmp_path / "src" / "growthkit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(SRC.parents[1] / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / "growthkit" / "schema" / "_bad.py").write_text("from growthkit.store import open_store\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    res = subprocess.run([exe, "--no-cache"], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode != 0, res.stdout
    assert "growthkit.schema is not allowed to import growthkit.store" in res.stdout


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_modules_stay_small(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= 500, f"{path.name} has {lines} lines; split it by concern (house rule 9)"


def test_nothing_happens_at_import_time(tmp_path: Path) -> None:
    code = (
        "import os, sys; os.chdir(sys.argv[1]); "
        "import growthkit, growthkit.cli, growthkit.workflows, growthkit.ingest, growthkit.store; "
        "print(sorted(os.listdir('.')))"
    )
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
