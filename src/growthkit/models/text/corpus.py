"""Labelled texts for sentiment models, and the fixed, seeded held-out split.

Labels are ``1`` (positive) and ``0`` (negative). A shop's star ratings become
labels by :func:`labels_from_ratings` (4-5 stars positive, 1-2 negative, 3 and
unrated left out). Every corpus is deduplicated by text first: a text seen with
both labels is contradictory and dropped, a text seen twice with one label counts
once, so no text can be in both parts of a split.

:func:`fixed_split` puts a text in the test part when a hash of ``seed`` and the
text falls below ``test_fraction``: the split depends only on the texts (not on
their order, the platform or a library version), every later run reproduces it,
and adding texts never moves an existing one between the parts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from growthkit.errors import ConfigError

SPLIT_SEED = 0
"""The seed of the documented held-out split (``docs/text.md``)."""
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class LabelledTexts:
    """Distinct texts with a 0/1 sentiment label each, in a fixed order.

    Examples
    --------
    >>> data = LabelledTexts.from_pairs([("好评", 1), ("差评", 0), ("好评", 1), ("一般", 1), ("一般", 0)])
    >>> data.texts, data.labels, data.dropped_conflicts
    (('好评', '差评'), (1, 0), 1)
    """

    texts: tuple[str, ...]
    labels: tuple[int, ...]
    dropped_conflicts: int = 0
    """Distinct texts left out because they came with both labels."""

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ConfigError(f"{len(self.texts)} texts but {len(self.labels)} labels")
        bad = sorted({int(v) for v in self.labels} - {0, 1})
        if bad:
            raise ConfigError(f"sentiment labels must be 0 (negative) or 1 (positive), got {bad}")

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, int]]) -> LabelledTexts:
        """Deduplicate ``(text, label)`` pairs: first-seen order, blank texts and conflicting texts dropped."""
        seen: dict[str, set[int]] = {}
        for text, label in pairs:
            t = str(text).strip()
            if t:
                seen.setdefault(t, set()).add(int(label))
        keep = [(t, next(iter(ls))) for t, ls in seen.items() if len(ls) == 1]
        return cls(
            tuple(t for t, _ in keep),
            tuple(lab for _, lab in keep),
            dropped_conflicts=sum(len(ls) > 1 for ls in seen.values()),
        )

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def positives(self) -> int:
        """Number of positive texts."""
        return sum(self.labels)

    def head(self, n: int) -> LabelledTexts:
        """The first ``n`` texts (after :func:`fixed_split`, a seeded random sample)."""
        return LabelledTexts(self.texts[:n], self.labels[:n], self.dropped_conflicts)


def labels_from_ratings(
    texts: Sequence[str], ratings: Sequence[float | None], *, positive_from: float = 4.0, negative_to: float = 2.0
) -> LabelledTexts:
    """Sentiment labels from star ratings: ``>= positive_from`` positive, ``<= negative_to`` negative, others out.

    Examples
    --------
    >>> labels_from_ratings(["great", "meh", "bad", "ok"], [5, 3, 1, None]).labels
    (1, 0)
    """
    if not negative_to < positive_from:
        raise ConfigError(f"negative_to ({negative_to}) must be below positive_from ({positive_from})")
    pairs: list[tuple[str, int]] = []
    for text, rating in zip(texts, ratings, strict=True):
        if rating is None or rating != rating:  # None or NaN
            continue
        if rating >= positive_from:
            pairs.append((text, 1))
        elif rating <= negative_to:
            pairs.append((text, 0))
    return LabelledTexts.from_pairs(pairs)


def split_key(text: str, seed: int = SPLIT_SEED) -> float:
    """Where ``text`` falls in [0, 1) for the split of ``seed`` (the first 64 bits of a SHA-256)."""
    digest = hashlib.sha256(f"{seed}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def fixed_split(
    data: LabelledTexts, *, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED
) -> tuple[LabelledTexts, LabelledTexts]:
    """The seeded held-out split: ``(train, test)``, each ordered by the hash (a seeded shuffle).

    Examples
    --------
    >>> data = LabelledTexts.from_pairs([(f"review {i}", i % 2) for i in range(1000)])
    >>> train, test = fixed_split(data)
    >>> len(train) + len(test), 150 < len(test) < 250, set(train.texts) & set(test.texts)
    (1000, True, set())
    """
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    keyed = sorted((split_key(t, seed), t, lab) for t, lab in zip(data.texts, data.labels, strict=True))
    train = [(t, lab) for k, t, lab in keyed if k >= test_fraction]
    test = [(t, lab) for k, t, lab in keyed if k < test_fraction]

    def part(rows: list[tuple[str, int]]) -> LabelledTexts:
        return LabelledTexts(tuple(t for t, _ in rows), tuple(lab for _, lab in rows))

    return part(train), part(test)
