"""Session-based next-item models: "customers who viewed this then viewed".

Both models read the raw event log (``Interactions.log``: ``user_id, item_id, ts`` and
``session_id``; events without a session id are split into sessions by 30-minute gaps, see
:mod:`._session_base`) and score items for a *current session*: for a known user the user's
last session in the training log, for :meth:`recommend_from_items` the given items in order
(most recent last).

* :class:`SessionKNN` (``"session_knn"``) — session-based k-nearest neighbours with the
  position weighting of the current session (V-SKNN), as evaluated by Ludewig & Jannach
  (2018), "Evaluation of session-based recommendation algorithms", User Modeling and
  User-Adapted Interaction 28(4-5), and introduced by Jannach & Ludewig (2017), "When
  recurrent neural networks meet the neighborhood for session-based recommendation",
  RecSys '17.
* :class:`ItemTransitions` (``"transitions"``) — decayed next-event transition counts
  within sessions, normalised per item into transition shares: the "sequential rules" of
  Ludewig & Jannach (2018), with a backward share for a symmetric co-view signal and a
  popularity back-off (linear interpolation with the items' popularity distribution, the
  Jelinek-Mercer smoothing of n-gram models: Jelinek & Mercer 1980, "Interpolated
  estimation of Markov source parameters from sparse data"; Chen & Goodman 1999, "An
  empirical study of smoothing techniques for language modeling", Computer Speech &
  Language 13(4)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from growthkit.models.recommend._session_base import (
    F32,
    I64,
    SessionEvents,
    SessionRecommender,
    csr_from_state,
    csr_to_state,
)
from growthkit.models.recommend._sparse import topk_per_row
from growthkit.models.recommend.base import RecommendError


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise RecommendError(f"{name} must be a positive integer, got {value!r}")


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)


def _row_of_entries(m: sparse.csr_matrix) -> I64:
    return np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))


def _filter_entries(m: sparse.csr_matrix, keep: NDArray[np.bool_]) -> sparse.csr_matrix:
    """``m`` with only the stored entries where ``keep`` (CSR order) is true."""
    if keep.all():
        return m
    counts = np.bincount(_row_of_entries(m)[keep], minlength=m.shape[0])
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return sparse.csr_matrix((m.data[keep], m.indices[keep], indptr), shape=m.shape)


def _keep_last(m: sparse.csr_matrix, n: int) -> sparse.csr_matrix:
    """Keep the ``n`` stored entries of largest column number in every row (indices sorted)."""
    m.sort_indices()
    rows = _row_of_entries(m)
    from_end = m.indptr[rows + 1] - np.arange(m.nnz)  # 1 for the last entry of a row
    return _filter_entries(m, from_end <= n)


class SessionKNN(SessionRecommender):
    """Session-based k-nearest neighbours (V-SKNN): items of the most similar recent sessions.

    For a current session ``s`` (distinct items ``i_1 .. i_n``, oldest first):

    1. candidates are the ``sample_size`` most recent training sessions (by their last
       event) that share at least one item with ``s``;
    2. each candidate ``c`` gets the similarity
       ``sim(s, c) = sum_{i in s and c} w(i) / sqrt(n * |c|)``, a cosine of the binary
       session vectors in which the current session's items are weighted by position,
       ``w(i_p) = p / n`` (the last item 1; ``recency_weighting=False``: all 1, plain SKNN);
    3. the ``k_neighbors`` most similar candidates vote: ``score(j) = sum_c sim(s, c) [j in c]``.

    A known user's own last session is left out of their neighbours. Sampling recent
    sessions keeps scoring fast and favours current trends (Jannach & Ludewig 2017; the
    defaults follow the 100 neighbours / 500 samples region of Ludewig & Jannach 2018).

    Parameters
    ----------
    k_neighbors
        Neighbour sessions that vote.
    sample_size
        Most recent candidate sessions compared.
    recency_weighting
        Weight the current session's items by position (V-SKNN) or not (SKNN).

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.features.interactions import Interactions
    >>> log = pd.DataFrame({"user_id": list("aabbc"), "item_id": list("xyxyz"), "session_id": list("11223"),
    ...                     "ts": pd.date_range("2026-01-01", periods=5, freq="min")})
    >>> x = Interactions.from_frame(log).with_context(log=log)
    >>> SessionKNN().fit(x).recommend_from_items(["x"], k=1).items_of("anonymous")
    ['y']
    """

    name = "session_knn"

    def __init__(self, *, k_neighbors: int = 100, sample_size: int = 500, recency_weighting: bool = True) -> None:
        self.k_neighbors = k_neighbors
        self.sample_size = sample_size
        self.recency_weighting = recency_weighting

    def _check_params(self) -> None:
        _positive_int("k_neighbors", self.k_neighbors)
        _positive_int("sample_size", self.sample_size)
        if not isinstance(self.recency_weighting, bool | np.bool_):
            raise RecommendError(f"recency_weighting must be True or False, got {self.recency_weighting!r}")

    def _position_weights(self, rank: I64, count: I64) -> F32:
        if not self.recency_weighting:
            return np.ones(len(rank), dtype=np.float32)
        return (rank / np.maximum(count, 1)).astype(np.float32)

    def _fit_sessions(self, events: SessionEvents) -> None:
        ones = np.ones(len(events.d_session), dtype=np.float32)
        shape = (events.n_sessions, len(self.item_ids_))
        b = sparse.csr_matrix((ones, (events.d_session, events.d_item)), shape=shape)
        b.sum_duplicates()
        b.data[:] = 1.0
        self._set_sessions(b)

    def _set_sessions(self, b: sparse.csr_matrix) -> None:
        self.session_items_ = b
        self.session_length_ = np.diff(b.indptr).astype(np.float32)
        bt = sparse.csr_matrix(b.T)
        bt.sort_indices()
        self._item_sessions_all = bt
        # one spare per item: a known user's own session may take a slot and is dropped later
        self._item_sessions_recent = _keep_last(bt.copy(), int(self.sample_size) + 1)

    def _score_users(self, rows: I64) -> NDArray[np.floating[Any]]:
        return self._knn(self._current(rows), self.last_session_[rows])

    def _score_profiles(self, profiles: sparse.csr_matrix) -> NDArray[np.floating[Any]]:
        return self._knn(profiles, None)

    def _knn(self, profiles: sparse.csr_matrix, exclude: I64 | None) -> NDArray[np.float32]:
        p = sparse.csr_matrix(profiles, dtype=np.float32)
        p.eliminate_zeros()
        binary = p.copy()
        binary.data[:] = 1.0
        cand = sparse.csr_matrix(binary @ self._item_sessions_recent)
        cand.sort_indices()
        if exclude is not None:
            cand = _filter_entries(cand, cand.indices != exclude[_row_of_entries(cand)])
        cand = _keep_last(cand, int(self.sample_size))
        overlap = sparse.csr_matrix(p @ self._item_sessions_all)
        sim = sparse.csr_matrix(overlap.multiply(cand > 0), dtype=np.float32)
        sim.eliminate_zeros()
        n_s = np.diff(p.indptr).astype(np.float32)
        rows = _row_of_entries(sim)
        sim.data /= np.sqrt(n_s[rows] * self.session_length_[sim.indices])
        sim = topk_per_row(sim, int(self.k_neighbors))
        return np.asarray((sim @ self.session_items_).toarray(), dtype=np.float32)

    def _state(self) -> dict[str, NDArray[Any]]:
        return {**self._session_state(), **csr_to_state(self.session_items_, "sessions")}

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self._restore_session(state)
        self._set_sessions(csr_from_state(state, "sessions"))


class ItemTransitions(SessionRecommender):
    """Item-to-item transitions within sessions: what visitors look at next.

    Within every session (consecutive repeats of one item collapsed), an event ``d`` steps
    after item ``a`` (``1 <= d <= max_distance``) adds ``decay ** (d - 1)`` to the count
    ``c[a, b]`` of its item ``b`` (never ``a -> a``). With ``backward > 0`` the reverse
    direction joins in, ``c + backward * c^T`` ("viewed before" as well as "viewed after").
    Each row is divided by its sum, so ``t[a, b]`` is the share of ``a``'s decayed successors
    that are ``b``, and only the ``k_neighbors`` largest shares per item are kept. These are
    the sequential rules of Ludewig & Jannach (2018), with a geometric in place of their
    harmonic distance weight; :meth:`similar_items` answers with ``t[a, :]``.

    A current session of distinct items ``i_1 .. i_n`` (oldest first) weighs its item ``i_p``
    ``w_p = session_decay ** (n - p)`` (``1``: every item alike; ``< 1``: the last item most)
    and scores, with ``W = sum_p w_p``, ``P(b)`` the share of the training (user, item)
    pairs that are ``b``'s (its popularity) and ``lam = popularity_share``::

        score(b) = (1 - lam) * sum_p w_p t[i_p, b] + lam * W * P(b)

    that is ``W`` times the mixture ``(1 - lam) P_trans(b | session) + lam P(b)``: sparse or
    missing transitions back off to popularity instead of leaving the list to chance, while
    well-observed transitions keep their order.

    Parameters
    ----------
    max_distance
        How many following events count as a transition.
    decay
        Weight ratio of one step further away when counting transitions, in ``(0, 1]``.
    backward
        Weight of reverse transitions (``0``: forward only).
    k_neighbors
        Successors kept per item.
    session_decay
        Weight ratio of one step back in the current session, in ``(0, 1]``. The default 1
        lets every item of the session count (on logs where a "session" is a shopping trip
        or an evening of ratings, the whole session predicts the next items far better than
        its last item); ``0.5`` is a strongly "last item first" next-click setting.
    popularity_share
        ``lam`` above, in ``[0, 1]``: ``0`` scores by transitions alone, ``1`` is plain
        popularity.

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.features.interactions import Interactions
    >>> log = pd.DataFrame({"user_id": list("aabb"), "item_id": list("xyxz"), "session_id": list("1122"),
    ...                     "ts": pd.date_range("2026-01-01", periods=4, freq="min")})
    >>> x = Interactions.from_frame(log).with_context(log=log)
    >>> ItemTransitions().fit(x).similar_items("x", k=2).scores.round(2).tolist()
    [[0.5, 0.5]]
    """

    name = "transitions"

    def __init__(
        self,
        *,
        max_distance: int = 3,
        decay: float = 0.5,
        backward: float = 0.5,
        k_neighbors: int = 100,
        session_decay: float = 1.0,
        popularity_share: float = 0.2,
    ) -> None:
        self.max_distance = max_distance
        self.decay = decay
        self.backward = backward
        self.k_neighbors = k_neighbors
        self.session_decay = session_decay
        self.popularity_share = popularity_share

    def _check_params(self) -> None:
        _positive_int("max_distance", self.max_distance)
        _positive_int("k_neighbors", self.k_neighbors)
        for key in ("decay", "session_decay"):
            v = getattr(self, key)
            if not _is_number(v) or not 0 < v <= 1:
                raise RecommendError(f"{key} must be a number in (0, 1], got {v!r}")
        if not _is_number(self.backward) or not self.backward >= 0:
            raise RecommendError(f"backward must be a number >= 0, got {self.backward!r}")
        lam = self.popularity_share
        if not _is_number(lam) or not 0 <= lam <= 1:
            raise RecommendError(
                f"popularity_share must be a number in [0, 1] (0: no popularity back-off), got {lam!r}"
            )

    def _position_weights(self, rank: I64, count: I64) -> F32:
        return np.power(float(self.session_decay), (count - rank).astype(np.float64)).astype(np.float32)

    def _fit_sessions(self, events: SessionEvents) -> None:
        s, i = events.session, events.item
        n = len(self.item_ids_)
        src, dst, val = [], [], []
        for d in range(1, int(self.max_distance) + 1):
            if d >= len(s):
                break
            ok = (s[:-d] == s[d:]) & (i[:-d] != i[d:])
            src.append(i[:-d][ok])
            dst.append(i[d:][ok])
            val.append(np.full(int(ok.sum()), float(self.decay) ** (d - 1)))
        rows = np.concatenate(src) if src else np.zeros(0, dtype=np.int64)
        cols = np.concatenate(dst) if dst else np.zeros(0, dtype=np.int64)
        vals = np.concatenate(val) if val else np.zeros(0)
        counts = sparse.csr_matrix((vals, (rows, cols)), shape=(n, n), dtype=np.float64)
        counts.sum_duplicates()
        self.transition_counts_ = sparse.csr_matrix(counts, dtype=np.float32)
        self._set_transitions(counts)

    def _set_transitions(self, counts: sparse.csr_matrix) -> None:
        both = sparse.csr_matrix(counts, dtype=np.float64)
        if self.backward:
            both = sparse.csr_matrix(both + float(self.backward) * both.T)
        total = np.asarray(both.sum(axis=1), dtype=np.float64).ravel()
        scale = np.divide(1.0, total, out=np.zeros_like(total), where=total > 0)
        shares = sparse.csr_matrix(sparse.diags(scale) @ both, dtype=np.float32)
        shares.eliminate_zeros()
        self.transitions_ = topk_per_row(shares, int(self.k_neighbors))

    def _score_profiles(self, profiles: sparse.csr_matrix) -> NDArray[np.floating[Any]]:
        p = sparse.csr_matrix(profiles, dtype=np.float32)
        scores = np.asarray((p @ self.transitions_).toarray(), dtype=np.float32)
        lam = float(self.popularity_share)
        if lam == 0:
            return scores
        pop = np.asarray(self.item_popularity_, dtype=np.float64)
        share = (pop / max(float(pop.sum()), 1e-12)).astype(np.float32)
        total = np.asarray(p.sum(axis=1), dtype=np.float32).reshape(-1, 1)
        out: NDArray[np.float32] = np.float32(1.0 - lam) * scores + np.float32(lam) * total * share[None, :]
        return out

    def _similar(self, items: I64) -> NDArray[np.floating[Any]]:
        return np.asarray(self.transitions_[items].toarray(), dtype=np.float32)

    def _state(self) -> dict[str, NDArray[Any]]:
        return {**self._session_state(), **csr_to_state(self.transition_counts_, "counts")}

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self._restore_session(state)
        self.transition_counts_ = csr_from_state(state, "counts")
        self._set_transitions(self.transition_counts_)
