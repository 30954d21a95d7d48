"""Topics of short texts (reviews, search queries): k-means on embeddings, k chosen by silhouette.

Assumptions
-----------
* Texts about one theme lie close together in the embedder's space (cosine); vectors
  are L2-normalised, so Euclidean k-means on them is spherical k-means (Dhillon &
  Modha, 2001).
* The number of topics is the smallest k in ``k_range`` whose mean silhouette
  (Rousseeuw, 1987; cosine distance, on at most ``silhouette_sample`` texts) is within
  ``silhouette_tolerance`` of the best: near-ties go to fewer, broader topics, which
  are easier to act on. With ``n_topics`` set, no search is made.
* k-means++ with ``n_init`` seeded starts (Arthur & Vassilvitskii, 2007): a fixed
  ``random_state`` gives the same topics.

Each topic has its distinctive terms (c-TF-IDF over the topics' texts,
:mod:`growthkit.models.text.terms`), its most typical texts (closest to the
centroid) and a deterministic name from its top terms; a language model can
rename it (:mod:`growthkit.models.text.naming`). Topic 0 is the largest.

References
----------
Rousseeuw, P. J. (1987). Silhouettes: a graphical aid to the interpretation and validation of
cluster analysis. J. Comput. Appl. Math. 20, 53-65.

Dhillon, I. S. & Modha, D. S. (2001). Concept decompositions for large sparse text data using
clustering. Machine Learning 42, 143-175.

Arthur, D. & Vassilvitskii, S. (2007). k-means++: the advantages of careful seeding. SODA 2007.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from growthkit.errors import ConfigError, NotFittedError
from growthkit.models.text._common import fitted_embedder
from growthkit.models.text.terms import class_tfidf
from growthkit.text.embed import Embedder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topic:
    """One topic: its size, distinctive terms, most typical texts and a name."""

    topic_id: int
    size: int
    """Texts in the topic (weighted by their counts when fitted with weights)."""
    share: float
    terms: tuple[str, ...]
    examples: tuple[str, ...]
    """The texts closest to the centroid, most typical first."""
    name: str


def template_name(terms: Sequence[str], *, n: int = 3) -> str:
    """A deterministic topic name: its top ``n`` terms joined by `` / `` (``misc`` without terms).

    Examples
    --------
    >>> template_name(["物流", "快递", "速度", "包装"])
    '物流 / 快递 / 速度'
    """
    picked = [str(t) for t in terms[:n] if str(t).strip()]
    return " / ".join(picked) if picked else "misc"


def _unit(x: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: npt.NDArray[np.float64] = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    return out


class TopicModel:
    """Cluster texts into topics with k-means on their (normalised) embeddings.

    Parameters
    ----------
    embedder : Embedder or None
        ``None``: a character 2-4-gram TF-IDF + SVD (128 dimensions) fitted on the texts
        (without single characters, English texts do not all look alike).
    n_topics : int or None
        Fixed number of topics; ``None`` chooses it by silhouette over ``k_range``.
    k_range : tuple of int
        Smallest and largest k tried (capped at the number of distinct texts - 1).
    n_terms, n_examples : int
        Terms and typical texts kept per topic.
    n_init : int
        k-means++ starts per k.
    silhouette_sample : int
        Texts the silhouette is computed on (a seeded sample when there are more).
    silhouette_tolerance : float
        A smaller k within this much of the best silhouette wins.
    random_state : int
        Seed of k-means and of the silhouette sample.

    Attributes
    ----------
    topics_ : tuple of Topic
        By size, largest first (``topic_id`` 0).
    labels_ : ndarray of int
        Topic of each fitted text.
    centers_ : ndarray
        Unit-length centroid per topic.
    silhouettes_ : dict of int to float
        Mean silhouette of every k tried.

    Examples
    --------
    >>> texts = ["物流很快", "快递很快", "物流速度快", "质量很好", "质量不错", "做工质量好"]
    >>> tm = TopicModel(n_topics=2, random_state=0).fit(texts)
    >>> sorted(tm.labels_[:3].tolist()) == [tm.labels_[0]] * 3, len(tm.topics_)
    (True, 2)
    """

    def __init__(
        self,
        *,
        embedder: Embedder | None = None,
        n_topics: int | None = None,
        k_range: tuple[int, int] = (2, 8),
        n_terms: int = 8,
        n_examples: int = 3,
        n_init: int = 10,
        silhouette_sample: int = 2000,
        silhouette_tolerance: float = 0.01,
        random_state: int = 0,
    ) -> None:
        self.embedder = embedder
        self.n_topics = n_topics
        self.k_range = k_range
        self.n_terms = n_terms
        self.n_examples = n_examples
        self.n_init = n_init
        self.silhouette_sample = silhouette_sample
        self.silhouette_tolerance = silhouette_tolerance
        self.random_state = random_state

    def _kmeans(self, k: int) -> Any:
        from sklearn.cluster import KMeans

        return KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state)

    def _check_params(self) -> None:
        if self.n_topics is not None and (
            isinstance(self.n_topics, bool) or not isinstance(self.n_topics, int) or self.n_topics < 1
        ):
            raise ConfigError(f"n_topics must be a positive integer or None, not {self.n_topics!r}")
        lo, hi = self.k_range
        if not 2 <= lo <= hi:
            raise ConfigError(f"k_range must be (lo, hi) with 2 <= lo <= hi, not {self.k_range!r}")

    def _choose_k(self, x: npt.NDArray[np.float64], w: npt.NDArray[np.float64], distinct: int) -> int:
        if self.n_topics is not None:
            return min(self.n_topics, distinct)
        lo, hi = self.k_range
        hi = min(hi, distinct - 1)
        if hi < lo:
            return max(1, min(lo, distinct))
        from sklearn.metrics import silhouette_score

        for k in range(lo, hi + 1):
            labels = self._kmeans(k).fit_predict(x)
            if np.unique(labels).size < 2:
                continue
            self.silhouettes_[k] = float(
                silhouette_score(
                    x,
                    labels,
                    metric="cosine",
                    sample_size=min(self.silhouette_sample, x.shape[0]),
                    random_state=self.random_state,
                )
            )
        if not self.silhouettes_:
            return 1
        best = max(self.silhouettes_.values())
        return min(k for k, s in self.silhouettes_.items() if s >= best - max(self.silhouette_tolerance, 1e-12))

    def fit(self, texts: Sequence[str], weights: Sequence[float] | npt.NDArray[Any] | None = None) -> Self:
        """Find the topics of ``texts``; returns ``self``.

        ``texts`` should be distinct; ``weights`` say how often each occurs. Weights set the
        topics' sizes and their order, not their shape: the clustering sees each distinct
        text once, so a query searched a thousand times does not get topics to itself.
        """
        self._check_params()
        docs = [str(t) for t in texts]
        if len(docs) < 2:
            raise ConfigError(f"topics need at least 2 texts, got {len(docs)}")
        w = np.ones(len(docs)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(docs),) or not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ConfigError("weights must be one positive number per text")
        self.silhouettes_: dict[int, float] = {}
        self.embedder_ = fitted_embedder(
            self.embedder, docs, dim=128, ngram_range=(2, 4), random_state=self.random_state
        )
        x = _unit(self.embedder_.embed(docs))
        distinct = int(np.unique(x.round(6), axis=0).shape[0])
        k = self._choose_k(x, w, distinct)
        raw = self._kmeans(k).fit(x) if k > 1 else None
        labels = raw.labels_ if raw is not None else np.zeros(len(docs), dtype=np.int64)
        # topic 0 = the largest (weighted), ties by first appearance: ids do not depend on k-means' numbering
        sizes = {c: float(w[labels == c].sum()) for c in np.unique(labels)}
        order = sorted(sizes, key=lambda c: (-sizes[c], int(np.argmax(labels == c))))
        remap = {old: new for new, old in enumerate(order)}
        self.labels_ = np.asarray([remap[c] for c in labels], dtype=np.int64)
        members = [self.labels_ == t for t in range(len(order))]
        self.centers_ = _unit(np.vstack([x[m].mean(axis=0) for m in members]))
        groups = [[docs[i] for i in np.flatnonzero(self.labels_ == t)] for t in range(len(order))]
        group_terms = class_tfidf(groups, top=self.n_terms)
        total = float(w.sum())
        topics = []
        for t, (group, ts) in enumerate(zip(groups, group_terms, strict=True)):
            idx = np.flatnonzero(self.labels_ == t)
            closeness = x[idx] @ self.centers_[t]
            typical = [docs[i] for i in idx[np.argsort(-closeness, kind="stable")]]
            examples = tuple(dict.fromkeys(typical))[: self.n_examples]
            words = tuple(term for term, _ in ts)
            size = float(w[idx].sum())
            topics.append(Topic(t, round(size), size / total, words, examples, template_name(words)))
            log.debug("topic %d: %d texts, terms %s", t, len(group), words)
        self.topics_ = tuple(topics)
        self.k_ = len(topics)
        return self

    def predict(self, texts: Sequence[str]) -> npt.NDArray[np.int64]:
        """The topic of each text: the nearest centroid by cosine."""
        if not hasattr(self, "centers_"):
            raise NotFittedError("this TopicModel is not fitted yet: call fit(texts) first")
        docs = [str(t) for t in texts]
        if not docs:
            return np.zeros(0, dtype=np.int64)
        x = _unit(self.embedder_.embed(docs))
        return np.asarray(np.argmax(x @ self.centers_.T, axis=1), dtype=np.int64)

    def __repr__(self) -> str:
        return f"TopicModel(embedder={self.embedder!r}, n_topics={self.n_topics}, k_range={self.k_range})"
