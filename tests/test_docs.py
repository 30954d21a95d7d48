"""The documents promise what the code does."""

from __future__ import annotations

from pathlib import Path

from growthkit.schema import EVENT_TYPES, TABLES

ROOT = Path(__file__).resolve().parents[1]


def test_data_contract_doc_names_every_table_and_column() -> None:
    doc = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    for t in TABLES.values():
        assert f"### `{t.name}`" in doc
        for c in t.columns:
            assert f"| `{c.name}` | {c.type.value}" in doc, (t.name, c.name)
    for e in EVENT_TYPES:
        assert f"`{e}`" in doc


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def test_readme_python_example_runs(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROWTHKIT_DB", raising=False)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    assert (tmp_path / "shop.duckdb").exists()
