"""Re-ranking for :mod:`growthkit.models.recommend.rules`: relevance, popularity penalty and MMR.

Pure numpy on one user's candidate list at a time (tens to hundreds of items).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

SCORE_FLOOR = 0.01
"""Lowest relevance given to a candidate when model scores are not all positive."""


def relevance(scores: F64, popularity: F64, beta: float) -> F64:
    """Model scores of one candidate list as relevance in (0, 1], with the popularity penalty.

    Positive scores are divided by their maximum (ratios are kept, so ``score / pop**beta``
    is the published form of the penalty). Lists with a zero or negative score (e.g. ranker
    margins) are first mapped linearly onto ``[SCORE_FLOOR, 1]``. With ``beta > 0`` each
    relevance is divided by ``max(popularity, 1) ** beta`` (Abdollahpouri et al. 2019) and
    rescaled to a maximum of 1.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0:
        return s
    if np.all(s > 0):
        rel = s / s.max()
    else:
        lo, hi = float(s.min()), float(s.max())
        rel = SCORE_FLOOR + (1.0 - SCORE_FLOOR) * (s - lo) / (hi - lo) if hi > lo else np.ones_like(s)
    if beta > 0:
        rel = rel / np.maximum(np.asarray(popularity, dtype=np.float64), 1.0) ** beta
        rel = rel / rel.max()
    out: F64 = rel
    return out


def mmr(
    rel: F64,
    similarity: F64 | None,
    diversity: float,
    k: int,
    *,
    categories: I64 | None = None,
    max_per_category: int | None = None,
) -> list[int]:
    """Positions of ``k`` candidates chosen greedily by maximal marginal relevance.

    Step by step, pick the candidate maximising ``(1 - diversity) * rel - diversity * max_sim``
    where ``max_sim`` is its largest similarity to the items already picked (Carbonell &
    Goldstein 1998, "The use of MMR, diversity-based reranking for reordering documents and
    producing summaries", SIGIR; their ``lambda`` is ``1 - diversity``). Ties go to the
    earlier candidate, so ``diversity=0`` keeps the relevance order. With
    ``max_per_category``, a category (code ``>= 0``) that already has that many picks is
    closed; fewer than ``k`` positions come back when the rules leave too few candidates.
    """
    n = len(rel)
    eligible = np.ones(n, dtype=bool)
    redundancy = np.zeros(n)
    picked: list[int] = []
    taken: dict[int, int] = {}
    for _ in range(min(k, n)):
        objective = (1.0 - diversity) * rel - diversity * redundancy
        objective = np.where(eligible, objective, -np.inf)
        j = int(np.argmax(objective))
        if not np.isfinite(objective[j]):
            break
        picked.append(j)
        eligible[j] = False
        if similarity is not None and diversity > 0:
            redundancy = np.maximum(redundancy, similarity[j])
        if max_per_category is not None and categories is not None and categories[j] >= 0:
            c = int(categories[j])
            taken[c] = taken.get(c, 0) + 1
            if taken[c] >= max_per_category:
                eligible &= categories != c
    return picked


def category_similarity(categories: I64) -> F64:
    """1 for two candidates of the same known category, else 0."""
    same: F64 = ((categories[:, None] == categories[None, :]) & (categories[:, None] >= 0)).astype(np.float64)
    return same


def cooccurrence_similarity(binary_csc: sparse.csc_matrix, popularity: F64, cols: I64) -> F64:
    """Cosine of the candidates' user sets: ``|U_i & U_j| / sqrt(|U_i| |U_j|)``."""
    sub = binary_csc[:, cols]
    inter = np.asarray((sub.T @ sub).todense(), dtype=np.float64)
    norm = np.sqrt(np.maximum(popularity[cols], 1.0))
    sim: F64 = inter / norm[:, None] / norm[None, :]
    return sim
