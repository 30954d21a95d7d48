"""Session-based models: item transitions and session-kNN, on hand-checked session logs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from growthkit.features.interactions import Interactions
from growthkit.models.recommend import ItemTransitions, Recommender, RecommendError, SessionKNN
from growthkit.models.recommend._session_base import session_events

from .known_answer import assert_known_answer, taste_groups

T0 = pd.Timestamp("2026-03-01 10:00")


def session_log(sessions: Sequence[tuple[str, str | None, Sequence[str]]], gap_min: float = 1.0) -> Interactions:
    """``(user, session_id, items)`` per session, in time order, one event a minute apart."""
    rows = []
    t = 0.0
    for user, sid, items in sessions:
        for item in items:
            rows.append((user, item, T0 + pd.Timedelta(minutes=t), "view", sid))
            t += gap_min
        t += 60  # an hour between sessions
    log = pd.DataFrame(rows, columns=["user_id", "item_id", "ts", "event_type", "session_id"])
    return Interactions.from_frame(log).with_context(log=log)


# ---- transitions ---------------------------------------------------------------------
#
# s1 (u1): x y z       d=1: x->y 1, y->z 1;  d=2: x->z 0.5
# s2 (u2): x z         d=1: x->z 1
# s3 (u3): y y x       repeats collapse to y x;  d=1: y->x 1
# counts: x->y 1, x->z 1.5, y->z 1, y->x 1; row sums x 2.5, y 2 ->
# shares: x->y 0.4, x->z 0.6, y->z 0.5, y->x 0.5; z has no successor.
TRANSITION_SESSIONS = [("u1", "s1", "xyz"), ("u2", "s2", "xz"), ("u3", "s3", "yyx")]
FORWARD_ONLY: dict[str, Any] = {"backward": 0.0, "session_decay": 0.5, "popularity_share": 0.0}
"""The plain sequential rules (the defaults before the back-off): forward only, last item first."""


def test_transition_shares_by_hand() -> None:
    model = ItemTransitions(max_distance=2, decay=0.5, **FORWARD_ONLY).fit(session_log(TRANSITION_SESSIONS))
    counts = model.transition_counts_.toarray()
    ix = dict(zip(model.item_ids_.tolist(), range(3), strict=True))
    assert counts[ix["x"], ix["z"]] == pytest.approx(1.5) and counts[ix["y"], ix["x"]] == pytest.approx(1.0)
    assert counts[ix["z"]].sum() == 0 and np.trace(counts) == 0
    sims = model.similar_items(["x", "y"], k=2)
    assert sims.items_of("x") == ["z", "y"]
    np.testing.assert_allclose(sims.scores[0], [0.6, 0.4], rtol=1e-6)
    np.testing.assert_allclose(sims.scores[1], [0.5, 0.5], rtol=1e-6)


def test_current_session_is_position_weighted() -> None:
    model = ItemTransitions(max_distance=2, decay=0.5, **FORWARD_ONLY).fit(session_log(TRANSITION_SESSIONS))
    # u1's current session is s1 = x y z: weights z 1, y 0.5, x 0.25.
    # y = 0.25 * 0.4 = 0.1;  z = 0.25 * 0.6 + 0.5 * 0.5 = 0.4;  x = 0.5 * 0.5 = 0.25
    recs = model.recommend("u1", k=3, exclude_seen=False)
    assert recs.items_of("u1") == ["z", "x", "y"]
    np.testing.assert_allclose(recs.scores[0], [0.4, 0.25, 0.1], rtol=1e-6)
    # an anonymous visitor who saw y then x: weights x 1, y 0.5 -> z = 0.6 + 0.5 * 0.5 = 0.85
    folded = model.recommend_from_items(["y", "x"], k=1)
    assert folded.items_of("anonymous") == ["z"]
    np.testing.assert_allclose(folded.scores[0, 0], 0.85, rtol=1e-6)
    # the order matters: x then y gives weights y 1, x 0.5 -> z = 0.5 + 0.5 * 0.6 = 0.8
    np.testing.assert_allclose(model.recommend_from_items(["x", "y"], k=1).scores[0, 0], 0.8, rtol=1e-6)
    # a repeated item counts once, at its last position: x y x == y x
    np.testing.assert_allclose(model.recommend_from_items(["x", "y", "x"], k=1).scores[0, 0], 0.85, rtol=1e-6)


def test_backward_transitions() -> None:
    model = ItemTransitions(max_distance=2, decay=0.5, backward=1.0).fit(session_log(TRANSITION_SESSIONS))
    # counts + counts^T: z->x 1.5, z->y 1 -> shares 0.6, 0.4 (forward only, z has none)
    sims = model.similar_items("z", k=2)
    assert sims.items_of("z") == ["x", "y"]
    np.testing.assert_allclose(sims.scores[0], [0.6, 0.4], rtol=1e-6)


def test_k_neighbors_prunes_transitions() -> None:
    model = ItemTransitions(max_distance=2, decay=0.5, k_neighbors=1, backward=0.0).fit(
        session_log(TRANSITION_SESSIONS)
    )
    np.testing.assert_allclose(model.similar_items("x", k=2).scores[0], [0.6, 0.0], rtol=1e-6)


def test_sessions_split_by_thirty_minute_gaps() -> None:
    log = pd.DataFrame(
        {
            "user_id": ["u", "u", "u", "v", "v"],
            "item_id": ["a", "b", "c", "c", "a"],
            "ts": pd.to_datetime(
                ["2026-01-01 10:00", "2026-01-01 10:20", "2026-01-01 11:00", "2026-01-01 10:00", "2026-01-01 10:05"]
            ),
            "session_id": [None, None, None, "web-1", "web-1"],
        }
    )
    x = Interactions.from_frame(log).with_context(log=log)
    events = session_events(log, x.user_ids, x.item_ids)
    # u: a, b (20 min apart) then c (40 min later): two sessions; v: one tagged session
    assert events.n_sessions == 3
    model = ItemTransitions(**FORWARD_ONLY).fit(x)
    assert model.similar_items("a", k=1).items_of("a") == ["b"]
    np.testing.assert_allclose(model.similar_items("b", k=1).scores[0, 0], 0.0)  # b -> c crosses the gap
    # u's current session is the last one, {c}: c -> a comes from v's session
    assert model.recommend("u", k=1, exclude_seen=False).items_of("u") == ["a"]
    # without session ids at all, the same gaps apply
    no_ids = log.drop(columns="session_id")
    assert session_events(no_ids, x.user_ids, x.item_ids).n_sessions == 3


def test_session_decay_one_weighs_the_whole_session_alike() -> None:
    model = ItemTransitions(max_distance=2, decay=0.5, backward=0.0, popularity_share=0.0).fit(
        session_log(TRANSITION_SESSIONS)
    )
    # u1's current session x y z, weights 1 each: y = 0.4, z = 0.6 + 0.5 = 1.1, x = 0.5
    recs = model.recommend("u1", k=3, exclude_seen=False)
    assert recs.items_of("u1") == ["z", "x", "y"]
    np.testing.assert_allclose(recs.scores[0], [1.1, 0.5, 0.4], rtol=1e-6)
    # the order of a visitor's items no longer matters
    a, b = model.recommend_from_items(["y", "x"], k=3), model.recommend_from_items(["x", "y"], k=3)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6)


# Popularity (users) of x, y, z: 3 (u1, u2, u3), 2 (u1, u3), 2 (u1, u2) -> P = 3/7, 2/7, 2/7.
@pytest.mark.parametrize("lam", [0.0, 0.2, 0.5, 1.0])
def test_popularity_share_mixes_in_the_popularity_distribution(lam: float) -> None:
    x = session_log(TRANSITION_SESSIONS)
    plain = ItemTransitions(max_distance=2, decay=0.5, **FORWARD_ONLY).fit(x)
    model = ItemTransitions(max_distance=2, decay=0.5, **{**FORWARD_ONLY, "popularity_share": lam}).fit(x)
    share = np.zeros(3)
    share[model.item_index(["x", "y", "z"])] = np.asarray([3, 2, 2]) / 7.0
    rows = model.user_index(["u1", "u2", "u3"])
    total = np.asarray(plain.current_[rows].sum(axis=1)).ravel()  # u1: 1.75, u2: 1.5, u3: 1.5
    expected = (1 - lam) * plain._score_users(rows) + lam * total[:, None] * share[None, :]
    np.testing.assert_allclose(model._score_users(rows), expected, rtol=1e-6, atol=1e-7)
    if lam == 0:  # exactly the scores of the plain rules (0.4, 0.25, 0.1 worked out above)
        np.testing.assert_array_equal(model._score_users(rows), plain._score_users(rows))
    if lam == 1:  # plain popularity: x first for everyone
        assert {model.recommend(u, k=1, exclude_seen=False).items_of(u)[0] for u in ("u1", "u2", "u3")} == {"x"}
    # a visitor who saw y then x (weights x 1, y 0.5, total 1.5): the same mixture
    folded = model.recommend_from_items(["y", "x"], k=3, exclude_seen=False)
    base = plain.recommend_from_items(["y", "x"], k=3, exclude_seen=False)
    cols = model.item_index(folded.items_of("anonymous"))
    base_scores = dict(zip(base.items_of("anonymous"), base.scores[0].tolist(), strict=True))
    want = [
        (1 - lam) * base_scores.get(i, 0.0) + lam * 1.5 * share[c]
        for i, c in zip(folded.items_of("anonymous"), cols, strict=True)
    ]
    np.testing.assert_allclose(folded.scores[0], want, rtol=1e-6, atol=1e-7)
    # similar items are the transition shares whatever the share of popularity
    np.testing.assert_allclose(model.similar_items("x", k=2).scores, plain.similar_items("x", k=2).scores)


def test_larger_popularity_shares_move_the_ranking_towards_popularity() -> None:
    # "r" follows "s" in two sessions but is rare otherwise; "hot" is touched by many users
    sessions = [("u1", "s1", ["s", "r"]), ("u2", "s2", ["s", "r"]), ("u3", "s3", ["s", "o"])]
    sessions += [(f"h{i}", f"h{i}", ["hot"]) for i in range(6)] + [("me", "m", ["s"])]
    x = session_log(sessions)
    first = {}
    for lam in (0.0, 0.3, 0.7, 0.95):
        first[lam] = ItemTransitions(popularity_share=lam).fit(x).recommend("me", k=3).items_of("me")
    assert first[0.0][:2] == ["r", "o"]
    assert first[0.95][0] == "hot"
    where_hot = [first[lam].index("hot") if "hot" in first[lam] else 3 for lam in (0.0, 0.3, 0.7, 0.95)]
    assert where_hot == sorted(where_hot, reverse=True)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"backward": 1.0},
        {"popularity_share": 0.0},
        {"popularity_share": 0.5},
        {"session_decay": 0.5},
        {"session_decay": 0.5, "popularity_share": 0.5},
    ],
    ids=str,
)
def test_known_answer_holds_for_the_back_off_settings(params: dict[str, float]) -> None:
    assert_known_answer(ItemTransitions(**params).fit(taste_groups()))  # type: ignore[arg-type]


# ---- session-kNN ---------------------------------------------------------------------
#
# Sessions, oldest first: S0 (u0) a b c | S1 (u1) a d | S2 (u2) b d e | S3 (u3) a b.
# Current session [a, b] (b last): V-SKNN weights a 1/2, b 2/2, n = 2.
# sim = sum of weights of shared items / sqrt(2 * |S|):
#   S0: 1.5 / sqrt(6) = 0.612372   S1: 0.5 / 2 = 0.25   S2: 1 / sqrt(6) = 0.408248   S3: 1.5 / 2 = 0.75
# scores: c = 0.612372 (S0);  d = 0.25 + 0.408248 = 0.658248 (S1, S2);  e = 0.408248 (S2)
KNN_SESSIONS = [("u0", "S0", "abc"), ("u1", "S1", "ad"), ("u2", "S2", "bde"), ("u3", "S3", "ab")]


def test_session_knn_scores_by_hand() -> None:
    model = SessionKNN().fit(session_log(KNN_SESSIONS))
    recs = model.recommend_from_items(["a", "b"], k=3)
    assert recs.items_of("anonymous") == ["d", "c", "e"]
    np.testing.assert_allclose(recs.scores[0], [0.658248, 0.612372, 0.408248], rtol=1e-5)
    # u3's current session is S3 = a b; their own session is not a neighbour (it adds only a, b)
    own = model.recommend("u3", k=3)
    np.testing.assert_allclose(own.scores[0], [0.658248, 0.612372, 0.408248], rtol=1e-5)
    with_self = model.recommend("u3", k=2, exclude_seen=False)
    # a and b: S0 0.612372 + S1 0.25 (a) and S0 + S2 0.408248 (b); S3's 0.75 left out
    assert with_self.items_of("u3")[0] == "b"
    np.testing.assert_allclose(with_self.scores[0, 0], 0.612372 + 0.408248, rtol=1e-5)


def test_session_knn_neighbours_and_sample() -> None:
    x = session_log(KNN_SESSIONS)
    # k_neighbors=2 keeps S3 (0.75) and S0 (0.612): only c gets a vote
    top2 = SessionKNN(k_neighbors=2).fit(x).recommend_from_items(["a", "b"], k=3)
    np.testing.assert_allclose(top2.scores[0][0], 0.612372, rtol=1e-5)
    assert top2.items_of("anonymous")[0] == "c" and np.all(top2.scores[0][1:] == 0)
    # sample_size=2 compares only the two most recent candidates, S3 and S2: d and e tie, c gets 0
    recent = SessionKNN(sample_size=2).fit(x).score(["u3"] * 3, ["c", "d", "e"])
    # u3 excludes S3 itself, so the sample is S2 and S1 (next most recent):
    # d = 0.408248 + 0.25, e = 0.408248, c = 0
    np.testing.assert_allclose(recent, [0.0, 0.658248, 0.408248], rtol=1e-5)
    anon = SessionKNN(sample_size=2).fit(x).recommend_from_items(["a", "b"], k=3)
    np.testing.assert_allclose(np.sort(anon.scores[0])[::-1], [0.408248, 0.408248, 0.0], rtol=1e-5)
    # plain SKNN: weights 1, 1 -> S0 2/sqrt(6), S1 1/2, S2 1/sqrt(6); d = 0.5 + 0.408248 = 0.908248
    plain = SessionKNN(recency_weighting=False).fit(x).recommend_from_items(["a", "b"], k=1)
    np.testing.assert_allclose(plain.scores[0, 0], 0.908248, rtol=1e-5)


@pytest.mark.parametrize("model", [SessionKNN(), ItemTransitions(backward=0.3)], ids=["knn", "transitions"])
def test_save_and_load(model: Recommender, tmp_path: Path) -> None:
    x = session_log(KNN_SESSIONS + TRANSITION_SESSIONS)
    model.fit(x)
    again = Recommender.load(model.save(tmp_path / "m"))
    for user in ("u0", "u3", "nobody"):
        a, b = model.recommend(user, k=4), again.recommend(user, k=4)
        assert a.item_ids.tolist() == b.item_ids.tolist()
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6)
    np.testing.assert_allclose(
        model.recommend_from_items(["a", "x"], k=3).scores, again.recommend_from_items(["a", "x"], k=3).scores
    )


def test_user_without_a_logged_session_uses_history() -> None:
    x = session_log(KNN_SESSIONS)
    log = x.log
    assert log is not None
    only_some = x.with_context(log=log[log["user_id"] != "u1"])
    model = SessionKNN().fit(only_some)
    assert model.last_session_[model.user_index(["u1"])[0]] == -1
    # u1's history (a, d) as an unordered session, weights 1: S0 shares a (1/sqrt(6)),
    # S2 shares d (1/sqrt(6)), S3 shares a (1/2): b = 2/sqrt(6) + 1/2 = 1.316497 leads
    recs = model.recommend("u1", k=1)
    assert recs.items_of("u1") == ["b"]
    np.testing.assert_allclose(recs.scores[0, 0], 2 / 6**0.5 + 0.5, rtol=1e-5)
    assert not model.recommend("u1", k=1).fallback[0]


def test_session_models_need_the_log() -> None:
    x = Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": ["a"]}))
    for model in (SessionKNN(), ItemTransitions()):
        with pytest.raises(RecommendError, match="interaction_log"):
            model.fit(x)
        with pytest.raises(RecommendError, match="ts"):
            model.fit(x.with_context(log=pd.DataFrame({"user_id": ["u"], "item_id": ["a"]})))
    with pytest.raises(RecommendError, match="decay"):
        ItemTransitions(decay=1.5).fit(session_log(KNN_SESSIONS))
    for bad in (0.0, 1.5, True, "1"):
        with pytest.raises(RecommendError, match=r"session_decay must be a number in \(0, 1\]"):
            ItemTransitions(session_decay=bad).fit(session_log(KNN_SESSIONS))  # type: ignore[arg-type]
    for bad_share in (-0.1, 1.5, float("nan"), True, None):
        with pytest.raises(RecommendError, match=r"popularity_share must be a number in \[0, 1\]"):
            ItemTransitions(popularity_share=bad_share).fit(session_log(KNN_SESSIONS))  # type: ignore[arg-type]
    with pytest.raises(RecommendError, match="k_neighbors"):
        SessionKNN(k_neighbors=0).fit(session_log(KNN_SESSIONS))
    log = pd.DataFrame({"user_id": ["u"], "item_id": ["elsewhere"], "ts": [T0]})
    with pytest.raises(RecommendError, match="no event"):
        SessionKNN().fit(x.with_context(log=log))
