"""Where a :class:`~growthkit.models.influence.graph.SocialGraph` comes from.

Four sources. The store's go through Ibis (any engine): user ids are numbered in
the engine (distinct ids ranked with ``row_number`` and joined back), only
integer columns come back as Arrow arrays, and the graph is built by
:meth:`SocialGraph.from_index_arrays`, so millions of edges never cost a Python
loop per edge:

* :func:`graph_from_store`: the ``edges`` table. ``friend`` ties are undirected
  (both directions), ``follow`` edges point from the followed user to the
  follower, ``referral`` edges from the referrer to the invitee (the data
  contract's ``src_user -> dst_user``). Repeated pairs become one edge.
* :func:`share_cascades`: observed share chains in ``events``. A ``share`` event
  of ``u`` naming a recipient ``v`` (``properties.to``) is one *exposure* of the
  edge ``u -> v``; it is a *success* when ``v`` responds (a ``view``,
  ``signup`` or ``purchase`` by default) within ``window`` after the share, on
  the shared item when both events name one. Every share that precedes the
  response is credited (no credit splitting), as in the Bernoulli model of
  Goyal, Bonchi and Lakshmanan, "Learning influence probabilities in social
  networks", WSDM 2010.
* :func:`referral_cascades`: joining the shop as the propagated action (the
  Bernoulli model of Goyal et al.). Every user ``v`` who signed up exposes each
  in-neighbour ``u`` who signed up earlier; the edge from ``v``'s referrer (one
  referrer per invitee, the AARRR definition of
  :func:`growthkit.analytics.aarrr_exprs.referral_pairs`) is the success. With
  ``referred_only=True`` only referred users are trials: the rates then say
  which neighbour gets the credit for a referral, not how likely one is.
* :func:`read_edge_list`: a text file of ``src dst [prob]`` lines.

The per-edge counts live in :class:`EdgeCounts`, aligned with the graph's
forward edges (``graph.indices``), ready for
:func:`growthkit.models.influence.probs.learned`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from growthkit.analytics._common import json_property
from growthkit.analytics.aarrr_exprs import referral_pairs, users_with_signup
from growthkit.errors import SchemaError, SourceError
from growthkit.models.influence.graph import SocialGraph
from growthkit.schema import EDGE_KINDS
from growthkit.store import Store

__all__ = [
    "Cascades",
    "EdgeCounts",
    "EdgeListError",
    "edge_positions",
    "graph_from_store",
    "read_edge_list",
    "referral_cascades",
    "share_cascades",
]

I64 = npt.NDArray[np.int64]
DEFAULT_RESPONSES: tuple[str, ...] = ("view", "signup", "purchase")
_NO_TIME = np.iinfo(np.int64).max


class EdgeListError(SchemaError):
    """An edge-list file has lines that are not ``src dst [prob]``; ``problems`` lists them."""

    def __init__(self, path: str, problems: Sequence[tuple[int, str]]) -> None:
        self.path = path
        self.problems = tuple(problems)
        shown = "; ".join(f"line {n}: {msg}" for n, msg in self.problems[:10])
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        super().__init__(
            f"{path}: {len(self.problems)} bad line(s): {shown}{more}. "
            "Each line must be 'src dst' or 'src dst prob' (spaces, tabs or commas; prob in [0, 1]; "
            "'#' starts a comment)"
        )


@dataclass(frozen=True)
class EdgeCounts:
    """How often each forward edge was tried and how often it worked (aligned with ``graph.indices``).

    Attributes
    ----------
    exposures:
        Trials of edge ``u -> v``: shares sent, or times ``u`` could have brought ``v`` in.
    successes:
        Trials that were followed by ``v``'s response; never more than ``exposures``.
    """

    exposures: I64
    successes: I64

    def __post_init__(self) -> None:
        e, s = np.asarray(self.exposures), np.asarray(self.successes)
        if e.shape != s.shape or e.ndim != 1:
            raise SchemaError(f"exposures and successes must be 1-d and aligned, got {e.shape} and {s.shape}")
        if e.size and (e.min() < 0 or s.min() < 0 or (s > e).any()):
            raise SchemaError("counts must satisfy 0 <= successes <= exposures on every edge")

    @property
    def n_edges(self) -> int:
        return int(self.exposures.shape[0])

    @property
    def exposed(self) -> npt.NDArray[np.bool_]:
        """Edges with at least one exposure."""
        out: npt.NDArray[np.bool_] = self.exposures > 0
        return out


@dataclass(frozen=True)
class Cascades:
    """A graph with the observed trials of its edges; ``unmatched`` successes had no edge."""

    graph: SocialGraph
    counts: EdgeCounts
    unmatched: int = 0


def _backend(source: Any) -> Any:
    return source.ibis() if isinstance(source, Store) else source


def _strings(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    arr = col if isinstance(col, pa.ChunkedArray) else pa.chunked_array([col])
    return pc.cast(arr, pa.string())


def _numbered(pairs: ir.Table, extra: ir.Table | None = None) -> tuple[npt.NDArray[np.object_], pa.Table]:
    """Number the ids of ``pairs`` (``src``, ``dst``, ...) in the engine: sorted ids, and ``pairs`` as numbers.

    The distinct ids (plus ``extra.user_id``) are ranked by id with ``row_number``
    and joined back, so the engine (multi-threaded, hash joins) does the string
    work; both queries rank the same way, so the numbers agree.
    """
    ids = pairs.select(user_id=pairs.src).union(pairs.select(user_id=pairs.dst))
    if extra is not None:
        ids = ids.union(extra.select("user_id"))
    ids = ids.distinct()
    ranked = ids.mutate(idx=ibis.row_number().over(order_by=ids.user_id))
    nodes = ranked.order_by("idx").select("user_id").to_pyarrow().column(0)
    s_rank = ranked.select(s_id=ranked.user_id, u=ranked.idx)
    d_rank = ranked.select(d_id=ranked.user_id, v=ranked.idx)
    j = pairs.join(s_rank, pairs.src == s_rank.s_id).join(d_rank, pairs.dst == d_rank.d_id)
    rest = [c for c in pairs.columns if c not in ("src", "dst")]
    numbered = j.select("u", "v", *rest).to_pyarrow()
    return np.asarray(_strings(nodes).to_numpy(zero_copy_only=False), dtype=object), numbered


def _ints(t: pa.Table, name: str) -> I64:
    return np.asarray(t.column(name).to_numpy(zero_copy_only=False), dtype=np.int64)


def _node_numbers(graph: SocialGraph, ids: pa.ChunkedArray | pa.Array) -> I64:
    """Node number of each id in ``ids``, ``-1`` where it is not a node (or null)."""
    value_set = pa.array(graph.node_ids, pa.string())
    found = pc.fill_null(pc.index_in(_strings(ids), value_set=value_set), -1)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)


def edge_positions(graph: SocialGraph, u: npt.ArrayLike, v: npt.ArrayLike) -> I64:
    """Position in ``graph.indices`` of each edge ``u[i] -> v[i]`` (node numbers), ``-1`` where absent."""
    a, b = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    n = max(graph.n_nodes, 1)
    gkey = graph.edge_sources().astype(np.int64) * n + graph.indices
    key = a * n + b
    pos = np.searchsorted(gkey, key)
    ok = (a >= 0) & (b >= 0) & (pos < gkey.shape[0])
    ok[ok] = gkey[pos[ok]] == key[ok]
    return np.where(ok, pos, -1).astype(np.int64)


def graph_from_store(
    source: Any,
    kinds: Sequence[str] = EDGE_KINDS,
    *,
    include_users: bool = False,
    duplicates: str = "max",
) -> SocialGraph:
    """The social graph of the ``edges`` table, edge probabilities all 0 (set them with :mod:`.probs`).

    Parameters
    ----------
    source
        A :class:`~growthkit.store.Store` or an Ibis backend with the canonical tables.
    kinds
        Edge kinds to take: ``friend`` (both directions), ``follow`` (followed ->
        follower) and ``referral`` (referrer -> invitee). Pairs that repeat
        (a friend who also referred) become one edge; self-loops are dropped.
    include_users
        Also make every row of ``users`` a node (isolated when it has no edge).
    duplicates
        Passed to :meth:`SocialGraph.from_index_arrays` (matters once edges carry probabilities).

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO edges (edge_id, src_user, dst_user, kind) VALUES "
    ...               "('e1', 'a', 'b', 'friend'), ('e2', 'a', 'c', 'follow'), ('e3', 'c', 'b', 'referral')")
    >>> g = graph_from_store(store)
    >>> list(g.node_ids), g.n_edges
    (['a', 'b', 'c'], 4)
    """
    bad = sorted(set(kinds) - set(EDGE_KINDS))
    if bad or not kinds:
        raise SchemaError(f"edge kinds must be among {', '.join(EDGE_KINDS)}; got {list(kinds)}")
    con = _backend(source)
    e = con.table("edges")
    e = e.filter(e.kind.isin(list(kinds)) & e.src_user.notnull() & e.dst_user.notnull())
    pairs = e.select(src=e.src_user, dst=e.dst_user, und=e.kind == "friend")
    extra = None
    if include_users:
        users = con.table("users")
        extra = users.filter(users.user_id.notnull()).select("user_id")
    ids, t = _numbered(pairs, extra)
    u, v = _ints(t, "u"), _ints(t, "v")
    und = t.column("und").to_numpy(zero_copy_only=False).astype(bool)
    a, b = np.concatenate([u, v[und]]), np.concatenate([v, u[und]])
    return SocialGraph.from_index_arrays(a, b, np.zeros(a.shape[0]), node_ids=ids, duplicates=duplicates)


def share_cascades(
    source: Any,
    *,
    responses: Sequence[str] = DEFAULT_RESPONSES,
    window: timedelta = timedelta(days=7),
    same_item: bool = True,
    recipient_key: str = "to",
) -> Cascades:
    """Edges ``sharer -> recipient`` from ``share`` events, with shares and successful shares per edge.

    A share is a ``share`` event whose ``properties.<recipient_key>`` names
    another user. It succeeds when the recipient has a ``responses`` event in
    ``(share time, share time + window]``; when ``same_item`` is set and both
    the share and the response name an item, the items must match (a
    ``signup`` has no item, so it always matches). Several shares before one
    response are all credited.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO events (event_id, user_id, ts, event_type, item_id, properties) VALUES "
    ...               "('1', 'a', '2025-01-01 10:00', 'share', 'i1', '{\\"to\\": \\"b\\"}'), "
    ...               "('2', 'b', '2025-01-02 09:00', 'view', 'i1', NULL), "
    ...               "('3', 'a', '2025-01-05 10:00', 'share', 'i2', '{\\"to\\": \\"b\\"}')")
    >>> c = share_cascades(store)
    >>> list(c.graph.node_ids), c.counts.exposures.tolist(), c.counts.successes.tolist()
    (['a', 'b'], [2], [1])
    """
    if window <= timedelta(0):
        raise SchemaError(f"window must be positive, got {window}")
    con = _backend(source)
    ev = con.table("events")
    to = json_property(ev.properties, recipient_key)
    sh = ev.filter((ev.event_type == "share") & to.notnull())
    sh = sh.select(s_id=sh.event_id, sharer=sh.user_id, recipient=to, s_ts=sh.ts, s_item=sh.item_id)
    sh = sh.filter(sh.sharer.notnull() & (sh.sharer != sh.recipient))
    rs = ev.filter(ev.event_type.isin(list(responses)))
    rs = rs.select(r_user=rs.user_id, r_ts=rs.ts, r_item=rs.item_id)
    j = sh.join(rs, sh.recipient == rs.r_user)
    ok = (j.r_ts > j.s_ts) & (j.r_ts <= j.s_ts + ibis.interval(seconds=int(window.total_seconds())))
    if same_item:
        ok = ok & (j.s_item.isnull() | j.r_item.isnull() | (j.s_item == j.r_item))
    hits = j.filter(ok).select(h_id=j.s_id).distinct()
    f = sh.left_join(hits, sh.s_id == hits.h_id)
    agg = f.group_by(src=f.sharer, dst=f.recipient).agg(n=f.count(), s=f.count(where=f.h_id.notnull()))
    ids, t = _numbered(agg)
    u, v, n, s = _ints(t, "u"), _ints(t, "v"), _ints(t, "n"), _ints(t, "s")
    graph = SocialGraph.from_index_arrays(u, v, np.zeros(u.shape[0]), node_ids=ids)
    pos = edge_positions(graph, u, v)
    exposures = np.zeros(graph.n_edges, dtype=np.int64)
    successes = np.zeros(graph.n_edges, dtype=np.int64)
    np.add.at(exposures, pos, n)
    np.add.at(successes, pos, s)
    return Cascades(graph, EdgeCounts(exposures, successes))


def referral_cascades(
    source: Any,
    graph: SocialGraph,
    *,
    referred_only: bool = False,
    min_lead: timedelta = timedelta(0),
) -> Cascades:
    """Trials and successes of ``graph``'s edges when joining the shop is the action that spreads.

    For every target user ``v`` (every user with a signup time, or with
    ``referred_only=True`` only the referred users), each in-neighbour ``u``
    of ``v`` in ``graph`` whose signup time is at least ``min_lead`` (and at
    least a microsecond) before ``v``'s is one exposure of ``u -> v``; it is a
    success when ``u`` is ``v``'s referrer. Signup times and the referrer of each invitee follow the
    AARRR definitions (:func:`~growthkit.analytics.aarrr_exprs.users_with_signup`,
    :func:`~growthkit.analytics.aarrr_exprs.referral_pairs`). Referrers who are
    not earlier in-neighbours in ``graph`` are counted in ``unmatched``.

    Use a graph without ``referral`` edges (``kinds=("friend", "follow")``):
    referral edges exist only where a referral happened, which would make
    every one of them a certain success.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO users (user_id, signup_ts) VALUES ('a', '2025-01-01'), ('b', '2025-01-02'), "
    ...               "('c', '2025-01-03')")
    >>> store.execute("INSERT INTO edges (edge_id, src_user, dst_user, kind) VALUES ('1', 'a', 'c', 'friend'), "
    ...               "('2', 'b', 'c', 'friend'), ('3', 'b', 'c', 'referral')")
    >>> g = graph_from_store(store, ("friend",))
    >>> c = referral_cascades(store, g)   # c's signup exposes a -> c and b -> c; b referred c
    >>> c.counts.exposures.tolist(), c.counts.successes.tolist()   # a->c, b->c, c->a, c->b
    ([1, 1, 0, 0], [0, 1, 0, 0])
    """
    con = _backend(source)
    events, users = con.table("events"), con.table("users")
    who = users_with_signup(events, users).select("user_id", "signup_ts").to_pyarrow()
    pairs = referral_pairs(events, users, con.table("edges")).select("invitee", "referrer").to_pyarrow()
    n = graph.n_nodes
    signup = np.full(n, _NO_TIME, dtype=np.int64)
    node = _node_numbers(graph, who.column("user_id"))
    micros = pc.cast(pc.cast(who.column("signup_ts"), pa.timestamp("us")), pa.int64())
    ts = np.asarray(pc.fill_null(micros, _NO_TIME).to_numpy(zero_copy_only=False), dtype=np.int64)
    keep = node >= 0
    signup[node[keep]] = ts[keep]
    referrer = np.full(n, -1, dtype=np.int64)
    inv = _node_numbers(graph, pairs.column("invitee"))
    ref = _node_numbers(graph, pairs.column("referrer"))
    referrer[inv[inv >= 0]] = ref[inv >= 0]
    n_pairs = int(pairs.num_rows)

    targets = np.flatnonzero(referrer >= 0 if referred_only else signup < _NO_TIME)
    deg = graph.in_degree()[targets]
    total = int(deg.sum())
    first = np.repeat(graph.rev_indptr[targets] - (np.cumsum(deg) - deg), deg)
    slots = first + np.arange(total, dtype=np.int64)
    v = np.repeat(targets, deg)
    u = graph.rev_indices[slots].astype(np.int64)
    lead = int(min_lead.total_seconds() * 1_000_000)
    exposed = (signup[u] < _NO_TIME) & (signup[v] < _NO_TIME) & (signup[u] <= signup[v] - max(lead, 1))
    success = exposed & (u == referrer[v])
    edges = graph.rev_edge[slots]
    exposures = np.bincount(edges[exposed], minlength=graph.n_edges).astype(np.int64)
    successes = np.bincount(edges[success], minlength=graph.n_edges).astype(np.int64)
    unmatched = n_pairs - int(successes.sum())
    return Cascades(graph, EdgeCounts(exposures, successes), unmatched)


def _parse_prob(text: str) -> float | None:
    try:
        p = float(text)
    except ValueError:
        return None
    return p if 0.0 <= p <= 1.0 else None


def read_edge_list(
    path: str | Path,
    *,
    undirected: bool = False,
    default_prob: float = 0.0,
    duplicates: str = "max",
) -> SocialGraph:
    """A graph from a text file with one edge per line: ``src dst`` or ``src dst prob``.

    Fields are separated by commas, tabs or spaces; ``#`` starts a comment;
    blank lines are skipped; a first line ``src,dst[,prob]`` (or
    ``source target``, ``from to``) is a header. Edges without ``prob`` get
    ``default_prob``. Every bad line is reported by number in one
    :class:`EdgeListError`; an unreadable file raises
    :class:`~growthkit.errors.SourceError`.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "g.txt")
    >>> _ = open(f, "w").write("# who influences whom\\na b 0.5\\nb,c,0.25\\n")
    >>> g = read_edge_list(f)
    >>> list(g.node_ids), g.prob.tolist()
    (['a', 'b', 'c'], [0.5, 0.25])
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read edge list {p}: {exc}") from exc
    src: list[str] = []
    dst: list[str] = []
    prob: list[float] = []
    problems: list[tuple[int, str]] = []
    header_seen = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.replace(",", " ").split()
        if not header_seen:
            header_seen = True
            if len(fields) >= 2 and fields[0].lower() in _HEAD_SRC and fields[1].lower() in _HEAD_DST:
                continue
        if len(fields) not in (2, 3):
            problems.append((number, f"expected 2 or 3 fields, got {len(fields)}: {raw.strip()!r}"))
            continue
        if len(fields) == 3:
            value = _parse_prob(fields[2])
            if value is None:
                problems.append((number, f"probability {fields[2]!r} is not a number in [0, 1]"))
                continue
        else:
            value = default_prob
        src.append(fields[0])
        dst.append(fields[1])
        prob.append(value)
    if problems:
        raise EdgeListError(str(p), problems)
    return SocialGraph.from_edges(
        src, dst, np.asarray(prob, dtype=np.float64), undirected=undirected, duplicates=duplicates
    )


_HEAD_SRC = frozenset({"src", "source", "from", "u", "src_user"})
_HEAD_DST = frozenset({"dst", "target", "to", "v", "dst_user"})
