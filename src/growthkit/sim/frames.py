"""Turning the simulator's numeric arrays into Arrow tables with the contract's column names.

String columns (ids, JSON properties) are built with Arrow compute kernels, not
Python loops, so millions of rows convert in about a second.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from growthkit.schema import EVENT_TYPES
from growthkit.sim import behaviour as bh
from growthkit.sim import text
from growthkit.sim.catalog import Catalog
from growthkit.sim.config import EVENT_CHANNELS
from growthkit.sim.graph import EDGE_KIND_NAMES, Graph
from growthkit.sim.population import user_ids

I64 = npt.NDArray[np.int64]
TS = pa.timestamp("us", tz="UTC")
EVENT_ID_WIDTH = 12
REVIEW_ID_WIDTH = 10

EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()), ("user_id", pa.string()), ("ts", TS), ("event_type", pa.string()),
        ("item_id", pa.string()), ("session_id", pa.string()), ("quantity", pa.float64()),
        ("amount", pa.float64()), ("currency", pa.string()), ("query", pa.string()), ("channel", pa.string()),
        ("properties", pa.string()),
    ]
)
REVIEWS_SCHEMA = pa.schema(
    [
        ("review_id", pa.string()), ("user_id", pa.string()), ("item_id", pa.string()), ("ts", TS),
        ("rating", pa.float64()), ("text", pa.string()), ("language", pa.string()),
    ]
)
EDGES_SCHEMA = pa.schema(
    [
        ("edge_id", pa.string()), ("src_user", pa.string()), ("dst_user", pa.string()), ("kind", pa.string()),
        ("ts", TS), ("weight", pa.float64()),
    ]
)
EDGE_TRUTH_SCHEMA = pa.schema(
    [("edge_id", pa.string()), ("src_user", pa.string()), ("dst_user", pa.string()), ("kind", pa.string()),
     ("influence_prob", pa.float64())]
)


def review_text_bank() -> pa.Array:
    """Flat review texts: index ``(lang * 5 + rating - 1) * 25 + variant`` (lang 0 = zh, 1 = en)."""
    out: list[str] = []
    for lang in ("zh", "en"):
        for texts in text.review_texts(lang):
            if len(texts) != bh.N_REVIEW_VARIANTS:
                raise RuntimeError(f"review phrase bank has {len(texts)} texts per rating, expected 25; fix text.py")
            out.extend(texts)
    return pa.array(out, pa.string())


def take_or_null(values: pa.Array, idx: I64) -> pa.Array:
    """``values[idx]`` with null where ``idx < 0``."""
    return pc.take(values, pa.array(idx, pa.int64(), mask=idx < 0))


def prefixed_ids(prefix: str, idx: I64, width: int) -> pa.Array:
    """``prefix`` + zero-padded integers."""
    digits = pc.utf8_lpad(pc.cast(pa.array(idx, pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _quoted(values: pa.Array) -> pa.Array:
    """JSON string literal for each value, ``null`` for nulls (values contain no quotes)."""
    q = pc.binary_join_element_wise('"', values, '"', "")
    return pc.fill_null(q, "null")


def _num(values: I64) -> pa.Array:
    return pc.cast(pa.array(values, pa.int64()), pa.string())


def _properties(ev: bh.ChunkEvents, uid_of_local: pa.Array, user_width: int, review_ids: pa.Array,
                promo_names: tuple[str, ...]) -> pa.Array:
    """Build the JSON ``properties`` column from the property kind and its two integer arguments."""
    n = ev.user.shape[0]
    parts: list[pa.Array] = []
    take_idx = np.full(n, -1, dtype=np.int64)
    offset = 0

    def gid(idx: I64) -> pa.Array:
        ids = user_ids(np.maximum(idx, 0), user_width)
        return _quoted(pc.if_else(pa.array(idx >= 0), ids, pa.scalar(None, pa.string())))

    def coupon(camp: I64, owner: pa.Array) -> pa.Array:
        cid = pc.binary_join_element_wise("cp", pc.utf8_lpad(_num(np.maximum(camp, 0)), width=3, padding="0"), "-",
                                          owner, "")
        return _quoted(pc.if_else(pa.array(camp >= 0), cid, pa.scalar(None, pa.string())))

    def campaign(camp: I64) -> pa.Array:
        return pc.binary_join_element_wise("cmp", pc.utf8_lpad(_num(camp), width=3, padding="0"), "")

    for kind in range(8):
        sel = np.flatnonzero(ev.pk == kind)
        if sel.size == 0:
            continue
        a, b = ev.pa[sel], ev.pb[sel]
        owner = pc.take(uid_of_local, pa.array(ev.user[sel]))
        if kind == bh.PK_REFERRER:
            s = pc.binary_join_element_wise('{"referrer":', gid(a), "}", "")
        elif kind == bh.PK_PURCHASE:
            promo = _quoted(take_or_null(pa.array(list(promo_names) or [""], pa.string()), a))
            s = pc.binary_join_element_wise('{"promotion":', promo, ',"coupon_id":', coupon(b, owner), "}", "")
        elif kind == bh.PK_REFUND:
            s = pc.binary_join_element_wise('{"reason":', _quoted(pc.take(pa.array(text.REFUND_REASONS), a)), "}", "")
        elif kind == bh.PK_REVIEW:
            rid = _quoted(review_ids)  # review events are exactly the PK_REVIEW rows, in the same order
            s = pc.binary_join_element_wise('{"review_id":', rid, ',"rating":', _num(a), "}", "")
        elif kind == bh.PK_SHARE:
            plat = _quoted(pc.take(pa.array(text.SHARE_PLATFORMS), b))
            s = pc.binary_join_element_wise('{"platform":', plat, ',"to":', gid(a), "}", "")
        elif kind == bh.PK_INVITE:
            s = pc.binary_join_element_wise('{"invitee":', gid(a), "}", "")
        elif kind == bh.PK_COUPON:
            s = pc.binary_join_element_wise('{"campaign_id":"', campaign(a), '","coupon_id":', coupon(a, owner),
                                            ',"value":', _num(b), "}", "")
        else:
            s = pc.binary_join_element_wise('{"campaign_id":"', campaign(a), '","coupon_id":', coupon(a, owner), "}",
                                            "")
        parts.append(s)
        take_idx[sel] = offset + np.arange(sel.size)
        offset += sel.size
    if not parts:
        return pa.nulls(n, pa.string())
    return take_or_null(pa.concat_arrays(parts), take_idx)


def chunk_tables(
    ev: bh.ChunkEvents,
    uid_of_local: pa.Array,
    user_width: int,
    cat: Catalog,
    lang_of_local: npt.NDArray[np.int8],
    event_offset: int,
    review_offset: int,
    promo_names: tuple[str, ...],
    texts: pa.Array,
) -> tuple[pa.Table, pa.Table]:
    """The ``events`` and ``reviews`` rows of one chunk."""
    n = ev.user.shape[0]
    user = pc.take(uid_of_local, pa.array(ev.user))
    item = take_or_null(cat.item_ids, ev.item)
    ts = pa.array(ev.ts, TS)
    is_review = ev.etype == bh.REVIEW
    n_rev = int(is_review.sum())
    review_ids = prefixed_ids("r", review_offset + np.arange(n_rev), REVIEW_ID_WIDTH)
    sess_no = pc.cast(pa.array(ev.sess, pa.int64(), mask=ev.sess < 0), pa.string())
    sess = pc.binary_join_element_wise(user, sess_no, "-s")
    amount_mask = np.isnan(ev.amount)
    events = pa.table(
        [
            prefixed_ids("e", event_offset + np.arange(n), EVENT_ID_WIDTH),
            user,
            ts,
            pc.take(pa.array(EVENT_TYPES, pa.string()), pa.array(ev.etype)),
            item,
            sess,
            pa.array(ev.qty, pa.float64(), mask=np.isnan(ev.qty)),
            pa.array(ev.amount, pa.float64(), mask=amount_mask),
            pc.if_else(pa.array(~amount_mask), "CNY", pa.scalar(None, pa.string())),
            take_or_null(cat.queries, ev.query),
            take_or_null(pa.array(EVENT_CHANNELS, pa.string()), ev.chan),
            _properties(ev, uid_of_local, user_width, review_ids, promo_names),
        ],
        schema=EVENTS_SCHEMA,
    )
    rsel = np.flatnonzero(is_review)
    rlang = lang_of_local[ev.user[rsel]]
    reviews = pa.table(
        [
            review_ids,
            pc.take(user, pa.array(rsel)),
            pc.take(item, pa.array(rsel)),
            pc.take(ts, pa.array(rsel)),
            pa.array(ev.pa[rsel].astype(np.float64), pa.float64()),
            pc.take(texts, pa.array(ev.pb[rsel])),
            pa.array(np.where(rlang == 0, "zh", "en").tolist(), pa.string()),
        ],
        schema=REVIEWS_SCHEMA,
    )
    return events, reviews


def edge_tables(graph: Graph, lo: int, hi: int, user_width: int) -> tuple[pa.Table, pa.Table]:
    """Rows ``lo..hi-1`` of the ``edges`` table and of the edge ground truth."""
    edge_id = prefixed_ids("ed", np.arange(lo, hi), max(8, len(str(graph.n_edges))))
    src = user_ids(graph.src[lo:hi], user_width)
    dst = user_ids(graph.dst[lo:hi], user_width)
    kind = pc.take(pa.array(EDGE_KIND_NAMES, pa.string()), pa.array(graph.kind[lo:hi].astype(np.int64)))
    edges = pa.table(
        [edge_id, src, dst, kind, pa.array(graph.ts_us[lo:hi], TS), pa.array(graph.weight[lo:hi], pa.float64())],
        schema=EDGES_SCHEMA,
    )
    truth = pa.table(
        [edge_id, src, dst, kind, pa.array(graph.influence[lo:hi], pa.float64())], schema=EDGE_TRUTH_SCHEMA
    )
    return edges, truth
