"""The catalogue explains every column, the documentation names every feature, the examples run."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

from growthkit.features import ACTIVITY_TYPES, FAMILIES, FEATURES, FeatureError, describe
from growthkit.features.catalog import window_specs

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "features.md"


def test_catalogue_is_consistent() -> None:
    assert all(name == spec.name for name, spec in FEATURES.items())
    for spec in FEATURES.values():
        assert spec.description and spec.unit and spec.window and spec.missing, spec
    assert {s.name for s in window_specs((7, 30, 90))} <= set(FEATURES)
    assert len(FAMILIES) == 7


@pytest.mark.parametrize(
    ("column", "group", "window"),
    [
        ("view_count_14d", "activity", "last 14d"),
        ("refund_amount_365d", "activity", "last 365d"),
        ("active_days_3d", "activity", "last 3d"),
        ("coupon_received_count_7d", "activity", "last 7d"),
        ("cat_share__home_living", "categories", "all"),
        ("channel__other", "channel", "all"),
        ("text_pc12", "text", "all"),
        ("has_text", "text", "all"),
        ("recency_days", "rfm", "all"),
    ],
)
def test_describe_resolves_every_kind_of_column(column: str, group: str, window: str) -> None:
    spec = describe(column)
    assert (spec.name, spec.group, spec.window) == (column, group, window)
    assert "<" not in spec.description  # placeholders filled in


def test_describe_refuses_unknown_columns() -> None:
    with pytest.raises(FeatureError, match="FEATURES"):
        describe("favourite_colour")


def test_the_documentation_names_every_feature() -> None:
    doc = DOC.read_text(encoding="utf-8")
    windowed = {s.name for s in window_specs((7, 30, 90))}
    for name in FEATURES:
        if name not in windowed:
            assert f"| `{name}` |" in doc, name
    for pattern in ("<t>_count_<w>d", "<t>_amount_<w>d", "active_days_<w>d", "cat_share__<category>",
                    "channel__<channel>", "text_pc1"):  # fmt: skip
        assert f"`{pattern}`" in doc, pattern
    for t in ACTIVITY_TYPES:
        assert f"`{t}`" in doc, t
    for label in ("purchases", "revenue", "active_events", "active", "churned"):
        assert f"| `{label}` |" in doc, label


def test_the_documentation_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = DOC.read_text(encoding="utf-8").split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(DOC), "exec"), {"__name__": "features_doc_example"})


@pytest.mark.parametrize(
    "module",
    [
        "growthkit.features.users",
        "growthkit.features.split",
        "growthkit.features.text",
        "growthkit.features.catalog",
    ],
)
def test_docstring_examples(module: str) -> None:
    mod = importlib.import_module(module)
    failed, attempted = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)[:2]
    assert attempted > 0 and failed == 0
