"""Labelled texts and the fixed, seeded held-out split."""

from __future__ import annotations

import doctest

import pytest

from growthkit.errors import ConfigError
from growthkit.models.text import corpus
from growthkit.models.text.corpus import LabelledTexts, fixed_split, labels_from_ratings, split_key


def test_pairs_are_deduplicated_and_conflicts_dropped() -> None:
    data = LabelledTexts.from_pairs([(" 好评 ", 1), ("差评", 0), ("好评", 1), ("一般", 1), ("一般", 0), ("", 1)])
    assert data.texts == ("好评", "差评") and data.labels == (1, 0)
    assert data.dropped_conflicts == 1 and data.positives == 1 and len(data) == 2
    with pytest.raises(ConfigError, match=r"0 \(negative\) or 1"):
        LabelledTexts(("a",), (2,))
    with pytest.raises(ConfigError, match="1 texts but 2 labels"):
        LabelledTexts(("a",), (1, 0))


def test_labels_from_ratings() -> None:
    got = labels_from_ratings(["a", "b", "c", "d", "e", "f"], [5, 4, 3, 2.5, 1, float("nan")])
    assert got.texts == ("a", "b", "e") and got.labels == (1, 1, 0)
    assert labels_from_ratings(["a", "b"], [3, 1], positive_from=3, negative_to=1).labels == (1, 0)
    with pytest.raises(ConfigError, match="below"):
        labels_from_ratings(["a"], [1], positive_from=2, negative_to=2)


def test_split_is_fixed_order_free_and_stable_under_additions() -> None:
    data = LabelledTexts.from_pairs([(f"text {i}", i % 2) for i in range(2000)])
    train, test = fixed_split(data)
    assert len(train) + len(test) == 2000 and not set(train.texts) & set(test.texts)
    assert 0.17 < len(test) / 2000 < 0.23
    shuffled = LabelledTexts(tuple(reversed(data.texts)), tuple(reversed(data.labels)))
    assert fixed_split(shuffled) == (train, test)  # the order of the input does not matter
    more = LabelledTexts.from_pairs([(f"text {i}", i % 2) for i in range(3000)])
    assert set(test.texts) <= set(fixed_split(more)[1].texts)  # adding texts moves none
    other = fixed_split(data, seed=1)[1]
    assert set(other.texts) != set(test.texts)
    assert [split_key(t) for t in test.texts] == sorted(split_key(t) for t in test.texts)  # hash order
    assert split_key("质量很好") == pytest.approx(split_key("质量很好")) and 0 <= split_key("x") < 1


def test_split_head_and_bad_fraction() -> None:
    data = LabelledTexts.from_pairs([(f"t{i}", i % 2) for i in range(50)])
    train, _ = fixed_split(data, test_fraction=0.5)
    assert train.head(3).texts == train.texts[:3]
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ConfigError, match="test_fraction"):
            fixed_split(data, test_fraction=bad)


def test_docstring_examples() -> None:
    failed, attempted = doctest.testmod(corpus)[:2]
    assert attempted > 0 and failed == 0
