"""Choosing the number of clusters: silhouette and BIC for every candidate k, kept as a table.

For each k in the range the clustering is fitted and scored twice:

* **silhouette** (Rousseeuw 1987): for each user, ``(b - a) / max(a, b)`` with ``a`` the
  mean distance to the own cluster and ``b`` to the nearest other cluster, averaged;
  in [-1, 1], higher is better. Computed on a fixed random sample of users (all of
  them up to ``sample``), because it costs O(n²).
* **BIC** (Schwarz 1978), ``-2 log L + p log n``, lower is better. For a Gaussian
  mixture it is the mixture's own (:meth:`sklearn.mixture.GaussianMixture.bic`). For
  k-means it is the BIC of the model k-means implicitly fits, a mixture of spherical
  Gaussians with one shared variance and hard assignments, as in frame-means (Pelleg &
  Moore 2000): with ``n_j`` users in cluster j, ``d`` features and the pooled maximum
  likelihood variance ``σ² = SSE / (n d)``::

      log L = Σ_j n_j log(n_j / n) - (n d / 2) log(2 π σ²) - n d / 2
      p     = k d + (k - 1) + 1

The chosen k maximises the silhouette (default for k-means) or minimises the BIC
(default for the Gaussian mixture); ties go to the smaller k.

References
----------
Rousseeuw, P. J. (1987). Silhouettes: a graphical aid to the interpretation and validation
of cluster analysis. Journal of Computational and Applied Mathematics 20, 53-65.

Schwarz, G. (1978). Estimating the dimension of a model. Annals of Statistics 6(2), 461-464.

Pelleg, D. & Moore, A. (2000). frame-means: extending k-means with efficient estimation of the
number of clusters. Proceedings of ICML 2000, 727-734.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture

log = logging.getLogger(__name__)

Array = npt.NDArray[np.float64]
Method = Literal["kmeans", "gmm"]
Criterion = Literal["silhouette", "bic"]
K_SELECTION_COLUMNS: tuple[str, ...] = ("k", "silhouette", "bic", "smallest_share", "chosen")
"""Columns of the ``k_selection_`` table."""


@dataclass(frozen=True)
class Candidate:
    """One fitted candidate: its model, hard labels (component index per row) and scores."""

    k: int
    model: Any
    labels: npt.NDArray[np.int64]
    centers: Array
    silhouette: float
    bic: float
    smallest_share: float


def kmeans_bic(z: Array, labels: npt.NDArray[np.int64], centers: Array) -> float:
    """BIC of k-means as a spherical Gaussian mixture with a shared variance (see the module docstring).

    >>> z = np.array([[0.0], [0.2], [10.0], [10.2]])
    >>> kmeans_bic(z, np.array([0, 0, 1, 1]), np.array([[0.1], [10.1]])) < kmeans_bic(
    ...     z, np.array([0, 0, 0, 0]), np.array([[5.1]]))
    True
    """
    n, d = z.shape
    k = centers.shape[0]
    sse = float(((z - centers[labels]) ** 2).sum())
    var = max(sse / (n * d), 1e-12)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    counts = counts[counts > 0]
    loglik = float((counts * np.log(counts / n)).sum()) - n * d / 2 * math.log(2 * math.pi * var) - n * d / 2
    params = k * d + (k - 1) + 1
    return float(-2.0 * loglik + params * math.log(n))


def _silhouette(z: Array, labels: npt.NDArray[np.int64], sample: int, random_state: int) -> float:
    if len(np.unique(labels)) < 2:
        return float("nan")
    size = min(sample, z.shape[0])
    rng = np.random.default_rng(random_state)
    idx = np.sort(rng.choice(z.shape[0], size=size, replace=False)) if size < z.shape[0] else np.arange(size)
    sub = labels[idx]
    if len(np.unique(sub)) < 2:
        return float("nan")
    return float(silhouette_score(z[idx], sub))


def fit_candidate(
    z: Array,
    k: int,
    method: Method,
    *,
    n_init: int,
    reg_covar: float,
    random_state: int,
    silhouette_sample: int,
) -> Candidate:
    """Fit one clustering with ``k`` clusters and score it."""
    model: KMeans | GaussianMixture
    if method == "kmeans":
        model = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(z)
        labels = model.labels_.astype(np.int64)
        centers = np.asarray(model.cluster_centers_, dtype=np.float64)
        bic = kmeans_bic(z, labels, centers)
    else:
        model = GaussianMixture(
            n_components=k, covariance_type="full", reg_covar=reg_covar, n_init=n_init, random_state=random_state
        ).fit(z)
        labels = model.predict(z).astype(np.int64)
        centers = np.asarray(model.means_, dtype=np.float64)
        bic = float(model.bic(z))
    counts = np.bincount(labels, minlength=k)
    return Candidate(
        k=k,
        model=model,
        labels=labels,
        centers=centers,
        silhouette=_silhouette(z, labels, silhouette_sample, random_state),
        bic=bic,
        smallest_share=float(counts.min() / len(labels)),
    )


def choose(candidates: Sequence[Candidate], criterion: Criterion) -> Candidate:
    """The best candidate by ``criterion`` (silhouette: highest; bic: lowest); ties and NaN: smaller k."""

    def key(c: Candidate) -> tuple[float, int]:
        v = c.silhouette if criterion == "silhouette" else -c.bic
        return (-v if v == v else math.inf, c.k)

    return min(candidates, key=key)


def selection_table(candidates: Sequence[Candidate], chosen: int) -> pd.DataFrame:
    """The ``k_selection_`` table: one row per candidate k (columns :data:`K_SELECTION_COLUMNS`)."""
    return pd.DataFrame(
        {
            "k": [c.k for c in candidates],
            "silhouette": [c.silhouette for c in candidates],
            "bic": [c.bic for c in candidates],
            "smallest_share": [c.smallest_share for c in candidates],
            "chosen": [c.k == chosen for c in candidates],
        },
        columns=list(K_SELECTION_COLUMNS),
    )


def candidate_ks(k: int | str, k_range: tuple[int, int], n_distinct: int) -> list[int]:
    """The k values to try: ``[k]`` for a fixed k, else ``k_range`` (inclusive) capped by the distinct rows."""
    if k != "auto":
        return [int(k)]
    lo, hi = k_range
    hi = min(hi, n_distinct)
    if hi < lo:
        log.info("only %d distinct users: trying k = %d", n_distinct, min(lo, n_distinct))
        return [min(lo, n_distinct)]
    return list(range(lo, hi + 1))
