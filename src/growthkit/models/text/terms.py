"""Distinctive terms of groups of texts (class-based TF-IDF), in Chinese and English alike.

Terms are English (and other Latin-script) words without common stop words, and
character 2- to 5-grams of CJK runs without function characters (Chinese needs no
word segmenter for this: "物流", "质量", "客服" are bigrams, "扫地机器人" a 5-gram).
A group's terms are ranked by c-TF-IDF (Grootendorst, 2022, "BERTopic: neural topic modeling with a
class-based TF-IDF procedure", arXiv:2203.05794): the term's frequency in the
group, normalised by the group's length, times ``log(1 + A / f_t)`` with ``A`` the
average number of terms per group and ``f_t`` the term's frequency over all groups.
Each chosen CJK term is shown in its fullest form: the longest n-gram that extends
it and occurs nearly as often (:data:`ABSORB` of its count), so "扫地机器人" stands
for "地机" and "扫地"; a term inside an already chosen one is skipped.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_LATIN = re.compile(r"[a-z][a-z0-9']+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

_STOP_EN_WORDS = """
a about after again all also am an and any are as at be been before being but by can could did do does doing don't
even for from get got had has have having he her here him his how i i'd i'll i'm i've if in into is it it's its just
many me more most much my no nor not of off on once one only or other our out over own really same she should so some
still such than that the their them then there these they this those through to too under until up very was we well
were what when where which while who why will with would you your
"""
STOP_EN: frozenset[str] = frozenset(_STOP_EN_WORDS.split())
STOP_ZH_CHARS: frozenset[str] = frozenset(
    "的了是我你他她它们这那也都就还很太非常有在和与吧吗啊呢个一不没就要会说得着过给"
)


ABSORB = 0.7
MAX_CJK_GRAM = 5


def terms(text: str) -> list[str]:
    """The terms of one text: lower-cased Latin words (no stop words) and CJK character 2- to 5-grams.

    Examples
    --------
    >>> terms("Fast delivery, 物流很快！")
    ['fast', 'delivery', '物流']
    >>> terms("扫地机")
    ['扫地', '地机', '扫地机']
    """
    low = text.lower()
    out = [w for w in _LATIN.findall(low) if w not in STOP_EN]
    for run in _CJK.findall(low):
        for piece in re.split(f"[{''.join(sorted(STOP_ZH_CHARS))}]+", run):
            for n in range(2, min(MAX_CJK_GRAM, len(piece)) + 1):
                out.extend(piece[i : i + n] for i in range(len(piece) - n + 1))
    return out


def _fullest(term: str, counts: Counter[str], parents: dict[str, list[str]]) -> str:
    """The longest n-gram that extends ``term`` and occurs at least :data:`ABSORB` as often."""
    best, frontier, floor = term, [term], ABSORB * counts[term]
    while frontier:
        frontier = sorted({u for t in frontier for u in parents.get(t, ()) if counts[u] >= floor})
        if frontier:
            best = max(frontier, key=lambda u: (counts[u], u))
    return best


def _select(scored: list[tuple[str, float]], counts: Counter[str], top: int) -> list[tuple[str, float]]:
    """Best-first terms, each in its fullest form; no term inside another chosen one (see the module notes)."""
    parents: dict[str, list[str]] = {}
    for u in counts:
        if len(u) >= 3 and not u.isascii():
            parents.setdefault(u[1:], []).append(u)
            parents.setdefault(u[:-1], []).append(u)
    chosen: list[tuple[str, float]] = []
    for term, score in scored:
        if len(chosen) >= top:
            break
        full = _fullest(term, counts, parents) if not term.isascii() else term
        if any(full in c for c, _ in chosen):
            continue
        chosen = [(c, s) for c, s in chosen if not (c in full and counts[full] >= ABSORB * counts[c])]
        chosen.append((full, score))
    return chosen


def class_tfidf(groups: Sequence[Sequence[str]], *, top: int = 8, min_count: int = 2) -> list[list[tuple[str, float]]]:
    """The ``top`` most distinctive terms of each group of texts, with their c-TF-IDF scores.

    A term must occur at least ``min_count`` times in a group to be one of its terms
    (one-off words do not name a topic); ties break alphabetically.

    Examples
    --------
    >>> g = [["fast delivery", "delivery was fast"], ["poor quality", "quality is poor"]]
    >>> [[t for t, _ in ts] for ts in class_tfidf(g, top=2)]
    [['delivery', 'fast'], ['poor', 'quality']]
    """
    counts = [Counter(t for text in group for t in terms(str(text))) for group in groups]
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    sizes = [sum(c.values()) for c in counts]
    avg = sum(sizes) / max(len(groups), 1)
    out: list[list[tuple[str, float]]] = []
    for c, size in zip(counts, sizes, strict=True):
        scored = [
            (term, (n / size) * math.log(1.0 + avg / total[term]))
            for term, n in c.items()
            if n >= min_count and size > 0
        ]
        scored.sort(key=lambda ts: (-ts[1], ts[0]))
        out.append(_select(scored, c, top))
    return out
