"""What recommenders return: :class:`Recommendations` (top-k per query) and :func:`top_k`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

I64 = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Recommendations:
    """Top-k answers for a batch of queries (users or items).

    Attributes
    ----------
    query_ids
        The user (or item) ids asked about, in the order asked.
    item_ids
        ``(n, k)`` object array of recommended item ids, best first; ``None`` pads rows that
        have fewer than ``k`` eligible items.
    scores
        ``(n, k)`` float array of the model's scores; ``nan`` where padded.
    fallback
        ``(n,)`` bool: the row was answered by popularity because the query was unknown.
    """

    query_ids: NDArray[np.str_]
    item_ids: NDArray[np.object_]
    scores: NDArray[np.float64]
    fallback: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.query_ids)

    def items_of(self, query_id: Any) -> list[str]:
        """The recommended item ids of one query, best first, without padding."""
        hits = np.flatnonzero(self.query_ids == str(query_id))
        if hits.size == 0:
            raise KeyError(f"{query_id!r} was not among the queries")
        return [i for i in self.item_ids[hits[0]].tolist() if i is not None]

    def to_frame(self) -> pd.DataFrame:
        """Long format ``query_id, rank, item_id, score, fallback`` (rank starts at 1), padding dropped."""
        n, k = self.item_ids.shape
        frame = pd.DataFrame(
            {
                "query_id": np.repeat(self.query_ids, k),
                "rank": np.tile(np.arange(1, k + 1), n),
                "item_id": self.item_ids.ravel(),
                "score": self.scores.ravel(),
                "fallback": np.repeat(self.fallback, k),
            }
        )
        return frame[frame["item_id"].notna()].reset_index(drop=True)


def top_k(scores: NDArray[np.floating[Any]], k: int) -> tuple[I64, NDArray[np.float64]]:
    """Column numbers and values of the ``k`` largest finite scores per row, best first.

    Ties are broken by the lower column number. Entries that are ``-inf`` or ``nan`` are
    never returned: their column is ``-1`` and value ``nan``.
    """
    s = np.where(np.isnan(scores), -np.inf, scores)
    n, m = s.shape
    kk = min(k, m)
    if kk == 0:
        return np.full((n, k), -1, dtype=np.int64), np.full((n, k), np.nan)
    part = np.argpartition(-s, kk - 1, axis=1)[:, :kk] if kk < m else np.tile(np.arange(m), (n, 1))
    vals = np.take_along_axis(s, part, axis=1)
    order = np.lexsort((part, -vals), axis=-1)
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
    vals = np.take_along_axis(vals, order, axis=1).astype(np.float64)
    bad = ~np.isfinite(vals)
    idx[bad] = -1
    vals[bad] = np.nan
    if kk < k:
        idx = np.hstack([idx, np.full((n, k - kk), -1, dtype=np.int64)])
        vals = np.hstack([vals, np.full((n, k - kk), np.nan)])
    return idx, vals
