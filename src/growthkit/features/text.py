"""Text signals: what each user searched for and wrote in reviews before the cutoff, as numbers.

The texts are the ``query`` of the user's events and the ``text`` of the user's reviews,
both strictly before the cutoff. Each distinct text is embedded once through the
:class:`~growthkit.text.embed.Embedder` seam; a user's vector is the mean of the vectors
of their texts, weighted by how often they used each. :func:`text_features` reduces those
vectors with a PCA fitted on the users that have text to ``text_pc1..k``; users without
text get 0 in every component (the centre of the users with text) and ``has_text = 0``.

The PCA is fitted anew on every call, so ``text_pc*`` of two cutoffs are not on the same
axes; a model that is trained at one cutoff and scored at another should fit its own
reduction on :func:`user_text_embeddings`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthkit.features._base import as_cutoff, backend, id_table, restrict
from growthkit.features.context import has_table
from growthkit.text.embed import Embedder


def text_pairs(con: Any, cutoff: datetime, ids: ir.Table | None = None) -> ir.Table:
    """``(user_id, text, n)``: each user's distinct search queries and review texts before ``cutoff``."""
    ev = restrict(con.table("events"), ids)
    q = ev.filter(ev.query.notnull() & (ev.ts < ibis.literal(cutoff)))
    parts = [q.select("user_id", text=q.query.strip())]
    if has_table(con, "reviews"):
        r = restrict(con.table("reviews"), ids)
        r = r.filter(r.user_id.notnull() & r.ts.notnull() & r.text.notnull() & (r.ts < ibis.literal(cutoff)))
        parts.append(r.select("user_id", text=r.text.strip()))
    allt = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    allt = allt.filter(allt.text != "")
    return allt.group_by(["user_id", "text"]).aggregate(n=allt.text.count())


def mean_embeddings(pairs: pd.DataFrame, embedder: Embedder) -> pd.DataFrame:
    """Occurrence-weighted mean vector per user of ``pairs`` (``user_id``, ``text``, ``n``); index sorted."""
    dim = int(embedder.dim)
    if pairs.empty:
        return pd.DataFrame(np.zeros((0, dim), np.float32), index=pd.Index([], name="user_id", dtype="object"))
    from scipy import sparse

    users = np.sort(pairs["user_id"].astype(str).unique())
    texts = np.sort(pairs["text"].astype(str).unique())
    u = np.searchsorted(users, pairs["user_id"].astype(str).to_numpy())
    t = np.searchsorted(texts, pairs["text"].astype(str).to_numpy())
    w = pairs["n"].to_numpy(dtype="float64")
    m = sparse.csr_matrix((w, (u, t)), shape=(users.size, texts.size))
    m = sparse.diags(1.0 / np.asarray(m.sum(axis=1)).ravel()) @ m
    vectors = np.asarray(embedder.embed(texts.tolist()), dtype=np.float32)
    if vectors.shape != (texts.size, dim):
        raise ValueError(f"embedder {embedder.name} returned shape {vectors.shape}, expected ({texts.size}, {dim})")
    means = np.asarray(m @ vectors, dtype=np.float32)
    return pd.DataFrame(means, index=pd.Index(users, name="user_id", dtype="object"))


def user_text_embeddings(
    store: Any, cutoff: date | datetime, embedder: Embedder, *, users: Iterable[str] | None = None
) -> pd.DataFrame:
    """Mean text embedding per user (search queries and reviews before ``cutoff``), one column per dimension.

    Only users with at least one text have a row; the index is ``user_id``, sorted.

    Examples
    --------
    >>> from growthkit.config import Settings
    >>> from growthkit.store import open_store
    >>> from growthkit.text.embed import TfidfEmbedder
    >>> store = open_store(Settings(db=":memory:"))
    >>> store.execute("INSERT INTO events (event_id, user_id, ts, event_type, query) VALUES "
    ...               "('1', 'ann', '2025-03-01', 'search', 'red shoes'), "
    ...               "('2', 'bob', '2025-03-09', 'search', 'green tea')")
    >>> user_text_embeddings(store, date(2025, 3, 5), TfidfEmbedder(dim=2)).shape
    (1, 2)
    """
    con = backend(store)
    pairs = text_pairs(con, as_cutoff(cutoff), id_table(users)).execute()
    return mean_embeddings(pairs, embedder)


def text_features(means: pd.DataFrame, index: pd.Index, components: int, *, random_state: int = 0) -> pd.DataFrame:
    """``has_text`` and ``text_pc1..components`` for the users of ``index`` from their mean vectors."""
    from sklearn.decomposition import PCA

    f = pd.DataFrame(index=index)
    means = means.loc[means.index.isin(index)]
    f["has_text"] = index.isin(means.index).astype("int64")
    scores = np.zeros((len(index), components), dtype="float64")
    k = min(components, means.shape[0] - 1, means.shape[1]) if means.shape[0] > 1 else 0
    x = means.to_numpy(dtype="float64")
    if k >= 1 and float(x.var(axis=0).sum()) > 1e-12:  # all vectors equal: nothing to project on
        z = PCA(n_components=k, random_state=random_state).fit_transform(x)
        pos = index.get_indexer(means.index)
        scores[pos, :k] = z
    for i in range(components):
        f[f"text_pc{i + 1}"] = scores[:, i]
    return f
