"""Okapi BM25 over pre-tokenized documents, as one sparse matrix.

Scores follow Robertson and Zaragoza (2009), "The probabilistic relevance framework:
BM25 and beyond", Foundations and Trends in IR 3(4), with the non-negative IDF of
Lucene, ``log(1 + (N - df + 0.5) / (df + 0.5))``. Every document's term weights
``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))`` are computed once into a
``scipy.sparse`` matrix, so a query is one sparse matrix-vector product.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse

from growthkit.errors import ConfigError

FloatArray = npt.NDArray[np.float64]


class BM25Index:
    """A BM25 index of ``docs`` (each a list of terms).

    Parameters
    ----------
    docs : sequence of sequence of str
        The documents' terms (see :func:`growthkit.assistant.tokens.tokenize`).
    k1, b : float
        Term-frequency saturation and length normalisation (the usual 1.2 and 0.75).

    Examples
    --------
    >>> idx = BM25Index([["red", "shoe"], ["blue", "shoe"], ["green", "tea"]])
    >>> [round(float(s), 3) for s in idx.scores(["red", "shoe"])]
    [1.451, 0.47, 0.0]
    >>> [round(float(c), 3) for c in idx.coverage(["red", "shoe"])]
    [1.0, 0.324, 0.0]
    """

    def __init__(self, docs: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ConfigError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1, self.b = k1, b
        self.vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                j = self.vocab.setdefault(term, len(self.vocab))
                rows.append(i)
                cols.append(j)
                vals.append(float(tf))
        n, m = len(docs), max(len(self.vocab), 1)
        tf_m = sparse.csr_matrix((vals, (rows, cols)), shape=(n, m), dtype=np.float64)
        self.n_docs = n
        dl = np.asarray(tf_m.sum(axis=1)).ravel()
        avgdl = float(dl.mean()) if n and dl.mean() > 0 else 1.0
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=m).astype(np.float64)
        self.idf: FloatArray = np.log1p((n - df + 0.5) / (df + 0.5))
        self.unseen_idf = math.log1p((n + 0.5) / 0.5)
        norm = k1 * (1.0 - b + b * dl / avgdl)
        coo = tf_m.tocoo()
        w = self.idf[coo.col] * coo.data * (k1 + 1.0) / (coo.data + norm[coo.row])
        self.weights = sparse.csc_matrix((w, (coo.row, coo.col)), shape=(n, m))
        self.presence = sparse.csc_matrix((np.ones_like(coo.data), (coo.row, coo.col)), shape=(n, m))

    def _query(self, terms: Sequence[str]) -> tuple[list[int], FloatArray, float]:
        counts = Counter(terms)
        cols = [self.vocab[t] for t in counts if t in self.vocab]
        qtf = np.array([counts[t] for t in counts if t in self.vocab], dtype=np.float64)
        unseen = sum(self.unseen_idf for t in counts if t not in self.vocab)
        return cols, qtf, unseen

    def scores(self, terms: Sequence[str]) -> FloatArray:
        """The BM25 score of every document for a query (repeated query terms count again)."""
        cols, qtf, _ = self._query(terms)
        if not cols:
            return np.zeros(self.n_docs)
        return np.asarray(self.weights[:, cols] @ qtf, dtype=np.float64).ravel()

    def coverage(self, terms: Sequence[str]) -> FloatArray:
        """For every document, the IDF-weighted share of the query's distinct terms it contains (0..1).

        A term the index has never seen weighs as much as the rarest possible term, so a query
        about something the corpus does not mention has low coverage everywhere.
        """
        distinct = list(dict.fromkeys(terms))
        cols = [self.vocab[t] for t in distinct if t in self.vocab]
        total = sum(float(self.idf[c]) for c in cols) + sum(self.unseen_idf for t in distinct if t not in self.vocab)
        if not cols or total <= 0:
            return np.zeros(self.n_docs)
        hit = np.asarray(self.presence[:, cols] @ self.idf[cols], dtype=np.float64).ravel()
        return hit / total
