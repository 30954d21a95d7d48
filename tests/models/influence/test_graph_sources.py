"""Building social graphs from the store's edges, from share chains, from referrals and from edge-list files."""

from __future__ import annotations

import doctest
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from growthkit.config import Settings
from growthkit.errors import SchemaError, SourceError
from growthkit.models.influence import analysis, communities, graph_sources, paths, probs
from growthkit.models.influence.graph import SocialGraph
from growthkit.models.influence.graph_sources import (
    EdgeCounts,
    EdgeListError,
    edge_positions,
    graph_from_store,
    read_edge_list,
    referral_cascades,
    share_cascades,
)
from growthkit.store import Store, open_store


@pytest.fixture
def st() -> Iterator[Store]:
    s = open_store(Settings(db=":memory:"))
    yield s
    s.close()


def edges_of(g: SocialGraph) -> set[tuple[str, str]]:
    src = g.node_ids[g.edge_sources()]
    return {(str(a), str(b)) for a, b in zip(src, g.node_ids[g.indices], strict=True)}


def add_edges(st: Store, rows: list[tuple[str, str, str]]) -> None:
    for i, (a, b, kind) in enumerate(rows):
        st.execute("INSERT INTO edges (edge_id, src_user, dst_user, kind) VALUES (?, ?, ?, ?)", [f"x{i}", a, b, kind])


def add_events(st: Store, rows: list[tuple[str, str, str, str | None, dict[str, str] | None]]) -> None:
    """Rows ``(user, ts, event_type, item_id, properties)``."""
    for i, (user, ts, etype, item, props) in enumerate(rows):
        st.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, item_id, properties) VALUES (?, ?, ?, ?, ?, ?)",
            [f"e{i:03d}", user, ts, etype, item, None if props is None else json.dumps(props)],
        )


# ----------------------------------------------------------------- the edges table


def test_edge_kinds_have_their_directions_and_duplicates_merge(st: Store) -> None:
    add_edges(
        st,
        [
            ("a", "b", "friend"),  # a<->b
            ("c", "a", "follow"),  # c is followed by a: c->a only
            ("a", "b", "referral"),  # a referred b: already a->b from the friendship, merged
            ("d", "d", "friend"),  # self-loop: dropped (d stays a node: it was seen)
            ("b", "e", "referral"),
        ],
    )
    g = graph_from_store(st)
    assert list(g.node_ids) == ["a", "b", "c", "d", "e"]
    assert edges_of(g) == {("a", "b"), ("b", "a"), ("c", "a"), ("b", "e")}
    assert g.n_edges == 4 and np.all(g.prob == 0.0)


def test_kinds_can_be_selected_and_users_added_as_isolated_nodes(st: Store) -> None:
    add_edges(st, [("a", "b", "friend"), ("c", "a", "follow"), ("b", "e", "referral")])
    st.execute("INSERT INTO users (user_id) VALUES ('z'), ('a')")
    g = graph_from_store(st, ("follow", "referral"), include_users=True)
    assert list(g.node_ids) == ["a", "b", "c", "e", "z"]  # friend-only b is still seen through b->e
    assert edges_of(g) == {("c", "a"), ("b", "e")}
    assert g.out_degree()[4] == 0 and g.in_degree()[4] == 0  # z: isolated
    with pytest.raises(SchemaError, match="edge kinds"):
        graph_from_store(st, ("friend", "colleague"))


def test_the_store_path_equals_from_edges_on_many_random_edges(st: Store) -> None:
    m = 40_000
    st.execute(
        "INSERT INTO edges (edge_id, src_user, dst_user, kind) "
        "SELECT 'r' || i, 'u' || (hash(i) % 3000), 'u' || (hash(i + 7) % 3000), "
        "CASE i % 3 WHEN 0 THEN 'friend' WHEN 1 THEN 'follow' ELSE 'referral' END FROM range(40000) t(i)"
    )
    t = st.query("SELECT src_user, dst_user, kind FROM edges")
    src, dst, kind = (t.column(c).to_pylist() for c in ("src_user", "dst_user", "kind"))
    ref = SocialGraph.from_edges(src, dst, undirected=np.array(kind) == "friend")
    g = graph_from_store(st)
    assert list(g.node_ids) == list(ref.node_ids)
    assert np.array_equal(g.indptr, ref.indptr) and np.array_equal(g.indices, ref.indices)
    assert np.array_equal(g.rev_indices, ref.rev_indices)
    assert g.n_edges > m  # friends count twice; only a few self-loops and repeats are lost


def test_edge_positions_find_edges_and_flag_the_rest() -> None:
    g = SocialGraph.from_edges(["a", "a", "b"], ["b", "c", "c"])
    # a->b is edge 0, a->c edge 1, b->c edge 2; c->a does not exist, -1 is no node
    assert edge_positions(g, [0, 0, 1, 2, -1], [1, 2, 2, 0, 1]).tolist() == [0, 1, 2, -1, -1]


# ----------------------------------------------------------------- share chains

SHARES: list[tuple[str, str, str, str | None, dict[str, str] | None]] = [
    # a shares item i1 to b twice; b views i1 a day after the first share -> both shares succeed? no:
    ("a", "2025-01-01 10:00:00", "share", "i1", {"to": "b"}),  # s1: b views i1 on 01-02 (inside 7 d): success
    ("a", "2025-01-09 10:00:00", "share", "i1", {"to": "b"}),  # s2: b's next i1 view is 01-16 10:00:01 (7 d + 1 s)
    ("b", "2025-01-02 09:00:00", "view", "i1", None),
    ("b", "2025-01-16 10:00:01", "view", "i1", None),
    # a shares i2 to c; c views another item, then signs up (no item): the signup counts
    ("a", "2025-01-03 10:00:00", "share", "i2", {"to": "c"}),
    ("c", "2025-01-03 11:00:00", "view", "i9", None),
    ("c", "2025-01-10 10:00:00", "signup", None, None),  # exactly share + 7 d: inside (closed end)
    # c shares to d, d had bought before: a response must come after the share
    ("d", "2025-01-04 10:00:00", "purchase", "i3", None),
    ("c", "2025-01-04 12:00:00", "share", "i3", {"to": "d"}),
    # a share naming nobody, and one to oneself: not edges
    ("d", "2025-01-05 10:00:00", "share", "i3", {"platform": "wechat"}),
    ("d", "2025-01-05 10:00:00", "share", "i3", {"to": "d"}),
]


def test_share_cascades_count_shares_and_successes(st: Store) -> None:
    add_events(st, SHARES)
    c = share_cascades(st)
    g = c.graph
    assert list(g.node_ids) == ["a", "b", "c", "d"]
    stats = {e: (int(n), int(s)) for e, n, s in zip(_edge_list(g), c.counts.exposures, c.counts.successes, strict=True)}
    # a->b: 2 shares, the first answered by the 01-02 view, the second's window ends 1 s before the next view
    # a->c: the i9 view is another item, but the signup has no item and lands on the window's last instant
    # c->d: d's purchase came before the share
    assert stats == {("a", "b"): (2, 1), ("a", "c"): (1, 1), ("c", "d"): (1, 0)}
    assert c.unmatched == 0


def test_share_cascades_options(st: Store) -> None:
    add_events(st, SHARES)
    any_item = share_cascades(st, same_item=False)
    stats = dict(zip(_edge_list(any_item.graph), any_item.counts.successes.tolist(), strict=True))
    assert stats[("a", "c")] == 1  # the i9 view (1 h after) now counts too; still one success per share
    only_views = share_cascades(st, responses=("view",))
    stats = dict(zip(_edge_list(only_views.graph), only_views.counts.successes.tolist(), strict=True))
    assert stats == {("a", "b"): 1, ("a", "c"): 0, ("c", "d"): 0}  # the signup no longer answers a->c
    from datetime import timedelta

    wide = share_cascades(st, window=timedelta(days=7, seconds=1))
    stats = dict(zip(_edge_list(wide.graph), wide.counts.successes.tolist(), strict=True))
    assert stats[("a", "b")] == 2  # now the 01-16 10:00:01 view answers the second share
    with pytest.raises(SchemaError, match="window"):
        share_cascades(st, window=timedelta(0))


def _edge_list(g: SocialGraph) -> list[tuple[str, str]]:
    return [(str(a), str(b)) for a, b in zip(g.node_ids[g.edge_sources()], g.node_ids[g.indices], strict=True)]


# ----------------------------------------------------------------- referrals as cascades


def test_referral_cascades_expose_earlier_in_neighbours(st: Store) -> None:
    st.execute(
        "INSERT INTO users (user_id, signup_ts, channel) VALUES "
        "('a', '2025-01-01', 'organic'), ('b', '2025-01-02', 'organic'), ('c', '2025-01-05', 'referral'), "
        "('d', '2025-01-06', 'organic'), ('e', '2025-01-07', 'referral'), ('f', '2025-01-03', 'ads')"
    )
    # social graph: a-c, b-c, d-c friends; f follows... f->e is a follow (f followed by e)
    add_edges(st, [("a", "c", "friend"), ("b", "c", "friend"), ("c", "d", "friend"), ("f", "e", "follow")])
    # who referred whom: b referred c (edge), a referred e (signup property): a is no neighbour of e
    st.execute("INSERT INTO edges (edge_id, src_user, dst_user, kind) VALUES ('r1', 'b', 'c', 'referral')")
    add_events(st, [("e", "2025-01-07 00:00:00", "signup", None, {"referrer": "a"})])
    g = graph_from_store(st, ("friend", "follow"))
    c = referral_cascades(st, g, referred_only=True)
    got = {
        e: (int(n), int(s))
        for e, n, s in zip(_edge_list(g), c.counts.exposures, c.counts.successes, strict=True)
        if n > 0
    }
    # c (referred, signup 01-05): in-neighbours a, b (earlier) exposed, b succeeds; d signed up later: not exposed
    # e (referred, 01-07): in-neighbour f (01-03) exposed, no success (a referred e, but a is no neighbour)
    assert got == {("a", "c"): (1, 0), ("b", "c"): (1, 1), ("f", "e"): (1, 0)}
    assert c.unmatched == 1
    every = referral_cascades(st, g)  # the default: every signup is a trial
    got_all = {e: int(n) for e, n in zip(_edge_list(g), every.counts.exposures, strict=True) if n > 0}
    # every signup is a trial now: also d (01-06) exposes its earlier neighbour c (01-05), and c exposes... a, b
    assert got_all == {("a", "c"): 1, ("b", "c"): 1, ("c", "d"): 1, ("f", "e"): 1}
    from datetime import timedelta

    # min_lead is "at least": b (01-02) is exactly 3 days before c (01-05)
    exact = referral_cascades(st, g, referred_only=True, min_lead=timedelta(days=3))
    assert {e for e, n in zip(_edge_list(g), exact.counts.exposures, strict=True) if n} == {
        ("a", "c"),
        ("b", "c"),
        ("f", "e"),
    }
    later = referral_cascades(st, g, referred_only=True, min_lead=timedelta(days=3, seconds=1))
    assert {e for e, n in zip(_edge_list(g), later.counts.exposures, strict=True) if n} == {("a", "c"), ("f", "e")}
    assert later.unmatched == 2  # now b's referral of c is not a possible trial either


def test_edge_counts_validate() -> None:
    with pytest.raises(SchemaError, match="successes <= exposures"):
        EdgeCounts(np.array([1, 2]), np.array([2, 0]))
    with pytest.raises(SchemaError, match="aligned"):
        EdgeCounts(np.array([1, 2]), np.array([1]))


# ----------------------------------------------------------------- edge-list files


def test_read_edge_list_accepts_spaces_tabs_commas_comments_and_a_header(tmp_path: Path) -> None:
    f = tmp_path / "g.csv"
    f.write_text("src,dst,prob\n# a comment line\na,b,0.5\nb\tc\t0.25  # trailing comment\n\nc  a\n", encoding="utf-8")
    g = read_edge_list(f, default_prob=0.1)
    assert list(g.node_ids) == ["a", "b", "c"]
    assert dict(zip(_edge_list(g), g.prob.tolist(), strict=True)) == {
        ("a", "b"): 0.5,
        ("b", "c"): 0.25,
        ("c", "a"): 0.1,
    }
    und = read_edge_list(f, undirected=True)
    assert und.n_edges == 6


def test_read_edge_list_reports_every_bad_line_by_number(tmp_path: Path) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("a b 0.5\nlonely\nb c high\nc d 1.5\n# ok\nd e 0.1 extra\ne f\n", encoding="utf-8")
    with pytest.raises(EdgeListError) as info:
        read_edge_list(f)
    assert [n for n, _ in info.value.problems] == [2, 3, 4, 6]
    msg = str(info.value)
    assert "line 2: expected 2 or 3 fields, got 1" in msg
    assert "line 3: probability 'high'" in msg and "line 4: probability '1.5'" in msg
    assert isinstance(info.value, ValueError)
    with pytest.raises(SourceError, match="cannot read"):
        read_edge_list(tmp_path / "missing.txt")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("module", [graph_sources, probs, analysis, communities, paths], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: object) -> None:
    failed, attempted = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)  # type: ignore[arg-type]
    assert attempted > 0 and failed == 0
