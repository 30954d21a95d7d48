"""Sessions from the raw event log, and the base class of the session-based models (private).

A session is the ``session_id`` an event carries. Events without one are split per user by
inactivity: a new session starts at the user's first such event and after every gap of more
than 30 minutes (:data:`~growthkit.features._base.SESSION_GAP_S`, the rule of
:mod:`growthkit.features.sessions`). Sessions are numbered by the time of their last event,
oldest first, so a larger number is a more recent session.

:class:`SessionRecommender` gives every session model the same notion of "the current
session": for a known user it is the user's **last session in the training log**; for
:meth:`~SessionRecommender.recommend_from_items` it is the given items in order, most recent
last. Either way the session becomes a profile row whose values are position weights
(:meth:`SessionRecommender._position_weights`) of its distinct items ordered by their last
occurrence, so the most recent item weighs most (or all alike, as each model's parameters
say). A known user without any session in the log falls back to their interaction history
with equal weights.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from growthkit.features._base import SESSION_GAP_S
from growthkit.features.interactions import Interactions
from growthkit.models.recommend.base import Recommendations, Recommender, RecommendError

I64 = NDArray[np.int64]
F32 = NDArray[np.float32]

LOG_HINT = "pass interactions.with_context(log=interaction_log(store)) (columns user_id, item_id, ts, session_id)"


def seconds(ts: pd.Series) -> NDArray[np.float64]:
    """Seconds since the epoch (UTC) of a timestamp column; ``nan`` where missing."""
    t = pd.to_datetime(ts, utc=True)
    sec = (t - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return np.asarray(sec.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def require_log(
    interactions: Interactions, model: str, columns: Iterable[str] = ("user_id", "item_id", "ts")
) -> pd.DataFrame:
    """``interactions.log``, checked to have ``columns``; a :class:`RecommendError` with the fix otherwise."""
    frame = interactions.log
    if frame is None:
        raise RecommendError(f"{model} needs the raw event log to see sessions and order: {LOG_HINT}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RecommendError(f"{model}: the event log lacks columns {missing}; {LOG_HINT}")
    return frame


def as_str(values: pd.Series) -> NDArray[np.object_]:
    """A column as an object array of Python strings (missing values stay ``None``)."""
    missing = values.isna().to_numpy()
    out: NDArray[np.object_] = np.asarray(values.astype(str).to_numpy(dtype=object), dtype=object)
    out[missing] = None
    return out


def session_keys(user: NDArray[np.object_], sec: NDArray[np.float64], session_id: NDArray[np.object_] | None) -> I64:
    """Session code per row (rows sorted by user, then time): ``session_id`` where given, else 30-minute gaps."""
    n = len(user)
    codes = np.zeros(n, dtype=np.int64)
    tagged = np.zeros(n, dtype=bool) if session_id is None else np.asarray(pd.notna(session_id), dtype=bool)
    n_tagged = 0
    if tagged.any():
        assert session_id is not None
        keys = pd.Series(user[tagged]).astype(str) + "\x1f" + pd.Series(session_id[tagged]).astype(str)
        tag_codes, uniques = pd.factorize(keys)
        codes[tagged] = tag_codes
        n_tagged = len(uniques)
    loose = np.flatnonzero(~tagged)
    if loose.size:
        u, t = user[loose], sec[loose]
        new = np.ones(loose.size, dtype=bool)
        new[1:] = (u[1:] != u[:-1]) | (t[1:] - t[:-1] > SESSION_GAP_S)
        codes[loose] = n_tagged + np.cumsum(new) - 1
    return codes


@dataclass(frozen=True)
class SessionEvents:
    """The log's events of known items, grouped into sessions numbered oldest-ending first.

    ``session``, ``item``, ``sec`` are per event, sorted by session then time (consecutive
    repeats of one item inside a session collapsed into one step). ``d_session``, ``d_item``,
    ``d_rank``, ``d_count`` list each session's distinct items ordered by last occurrence
    (``d_rank`` 1 = the oldest, ``d_count`` = the session's number of distinct items).
    ``session_user`` is the user row of each session (``-1``: not on the model's user axis).
    """

    session: I64
    item: I64
    sec: NDArray[np.float64]
    n_sessions: int
    session_user: I64
    d_session: I64
    d_item: I64
    d_rank: I64
    d_count: I64


def session_events(log: pd.DataFrame, user_ids: NDArray[np.str_], item_ids: NDArray[np.str_]) -> SessionEvents:
    """Sessionise ``log`` and keep the events of items on the ``item_ids`` axis."""
    users = as_str(log["user_id"])
    items = np.asarray(log["item_id"].astype(str).to_numpy(), dtype=object)
    sec = seconds(log["ts"])
    sid = as_str(log["session_id"]) if "session_id" in log.columns else None
    ok = np.asarray(pd.notna(users), dtype=bool) & np.isfinite(sec)
    order = np.flatnonzero(ok)
    order = order[np.lexsort((sec[order], users[order].astype(str)))]
    users, items, sec = users[order], items[order], sec[order]
    sid = None if sid is None else sid[order]
    codes = session_keys(users, sec, sid)
    col = pd.Index(item_ids.tolist()).get_indexer(items)
    row = pd.Index(user_ids.tolist()).get_indexer(users)
    keep = col >= 0
    codes, col, row, sec = codes[keep], col[keep].astype(np.int64), row[keep].astype(np.int64), sec[keep]
    # renumber sessions by their last event (ties: first seen), oldest first
    uniq, inv = np.unique(codes, return_inverse=True)
    end = np.full(len(uniq), -np.inf)
    np.maximum.at(end, inv, sec)
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[np.lexsort((uniq, end))] = np.arange(len(uniq))
    session = rank[inv].astype(np.int64)
    o = np.lexsort((np.arange(len(session)), sec, session))
    session, col, row, sec = session[o], col[o], row[o], sec[o]
    step = np.ones(len(session), dtype=bool)
    step[1:] = (session[1:] != session[:-1]) | (col[1:] != col[:-1])
    session_user = np.full(len(uniq), -1, dtype=np.int64)
    session_user[session] = row
    # distinct items per session, ordered by last occurrence
    pos = np.arange(len(session))
    last = pd.DataFrame({"s": session, "i": col, "p": pos}).groupby(["s", "i"], sort=False)["p"].max()
    ds = last.index.get_level_values(0).to_numpy(dtype=np.int64)
    di = last.index.get_level_values(1).to_numpy(dtype=np.int64)
    o2 = np.lexsort((last.to_numpy(), ds))
    ds, di = ds[o2], di[o2]
    counts = np.bincount(ds, minlength=len(uniq)).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    d_rank = np.arange(len(ds), dtype=np.int64) - starts[ds] + 1
    return SessionEvents(
        session=session[step],
        item=col[step],
        sec=sec[step],
        n_sessions=len(uniq),
        session_user=session_user,
        d_session=ds,
        d_item=di,
        d_rank=d_rank,
        d_count=counts[ds],
    )


class SessionRecommender(Recommender):
    """Base of the session models: the current session as a position-weighted profile row.

    Learned attributes: ``current_`` (users x items CSR, the position weights of each known
    user's last session in the log) and ``last_session_`` (that session's number, ``-1``
    without one). Subclasses implement :meth:`_position_weights`, :meth:`_fit_sessions` and
    :meth:`_score_profiles`.
    """

    @abstractmethod
    def _position_weights(self, rank: I64, count: I64) -> F32:
        """Weight of the item at position ``rank`` (1 = oldest) of a session of ``count`` distinct items."""

    @abstractmethod
    def _fit_sessions(self, events: SessionEvents) -> None:
        """Learn the model's own attributes from the sessionised log."""

    def _check_params(self) -> None:
        """Validate parameters (called first in ``fit``)."""

    def _fit(self, x: sparse.csr_matrix, interactions: Interactions) -> None:
        self._check_params()
        log = require_log(interactions, type(self).__name__)
        events = session_events(log, self.user_ids_, self.item_ids_)
        if events.session.size == 0:
            raise RecommendError(f"{type(self).__name__}: no event in the log is of an item on the interaction matrix")
        n_users, n_items = x.shape
        last = np.full(n_users, -1, dtype=np.int64)
        has_user = events.session_user >= 0
        np.maximum.at(last, events.session_user[has_user], np.flatnonzero(has_user))
        self.last_session_ = last
        users_of = events.session_user[events.d_session]
        pick = (users_of >= 0) & (last[np.maximum(users_of, 0)] == events.d_session)
        w = self._position_weights(events.d_rank[pick], events.d_count[pick])
        cur = sparse.csr_matrix((w, (users_of[pick], events.d_item[pick])), shape=(n_users, n_items), dtype=np.float32)
        cur.sort_indices()
        self.current_ = cur
        self._fit_sessions(events)

    def _current(self, rows: I64) -> sparse.csr_matrix:
        """Profile rows of known users: their last session, else their history with weight 1."""
        p = sparse.csr_matrix(self.current_[rows])
        empty = np.diff(p.indptr) == 0
        if not empty.any():
            return p
        hist = sparse.csr_matrix(self.user_items_[rows], copy=True)
        hist.data[:] = 1.0
        keep = sparse.diags(empty.astype(np.float32)) @ hist
        return sparse.csr_matrix(p + keep)

    def _score_users(self, rows: I64) -> NDArray[np.floating[Any]]:
        return self._score_profiles(self._current(rows))

    def recommend_from_items(
        self,
        item_ids: Sequence[Any],
        k: int = 10,
        *,
        weights: Sequence[float] | None = None,
        exclude_seen: bool = True,
        allow_items: Iterable[Any] | None = None,
        block_items: Iterable[Any] | None = None,
    ) -> Recommendations:
        """Top-``k`` for an anonymous visitor whose current session is ``item_ids``, most recent last.

        Repeated items count once, at their last position; each distinct item's position
        weight is multiplied by its ``weights`` value (default 1). Unknown items are ignored.
        """
        self._check_fitted()
        items = [str(i) for i in item_ids]
        if weights is not None and len(weights) != len(items):
            raise RecommendError(f"weights has {len(weights)} values for {len(items)} items")
        given = np.ones(len(items)) if weights is None else np.asarray(weights, dtype=np.float64)
        known = self.item_index(items) >= 0
        last: dict[str, int] = {}
        for pos, (item, ok) in enumerate(zip(items, known.tolist(), strict=True)):
            if ok:
                last.pop(item, None)
                last[item] = pos
        ordered = list(last)
        if ordered:
            n = len(ordered)
            rank = np.arange(1, n + 1, dtype=np.int64)
            pos_w = self._position_weights(rank, np.full(n, n, dtype=np.int64)).astype(np.float64)
            w = pos_w * given[[last[i] for i in ordered]]
            return super().recommend_from_items(
                ordered,
                k,
                weights=w.tolist(),
                exclude_seen=exclude_seen,
                allow_items=allow_items,
                block_items=block_items,
            )
        return super().recommend_from_items(
            items, k, weights=weights, exclude_seen=exclude_seen, allow_items=allow_items, block_items=block_items
        )

    def _session_state(self) -> dict[str, NDArray[Any]]:
        c = self.current_
        return {
            "cur_data": c.data,
            "cur_indices": c.indices,
            "cur_indptr": c.indptr,
            "last_session": self.last_session_,
        }

    def _restore_session(self, state: dict[str, NDArray[Any]]) -> None:
        shape = (len(self.user_ids_), len(self.item_ids_))
        self.current_ = sparse.csr_matrix((state["cur_data"], state["cur_indices"], state["cur_indptr"]), shape=shape)
        self.last_session_ = np.asarray(state["last_session"], dtype=np.int64)


def csr_from_state(state: dict[str, NDArray[Any]], prefix: str) -> sparse.csr_matrix:
    """A CSR matrix saved as ``{prefix}_data/_indices/_indptr/_shape`` arrays."""
    shape = tuple(int(s) for s in state[f"{prefix}_shape"])
    return sparse.csr_matrix(
        (state[f"{prefix}_data"], state[f"{prefix}_indices"], state[f"{prefix}_indptr"]), shape=shape
    )


def csr_to_state(m: sparse.csr_matrix, prefix: str) -> dict[str, NDArray[Any]]:
    """The arrays :func:`csr_from_state` reads back."""
    return {
        f"{prefix}_data": m.data,
        f"{prefix}_indices": m.indices,
        f"{prefix}_indptr": m.indptr,
        f"{prefix}_shape": np.asarray(m.shape, dtype=np.int64),
    }
