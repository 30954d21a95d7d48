"""Behavioural clustering of users: k-means or a Gaussian mixture on standardised features.

Assumptions and choices:

* **Features.** By default :data:`DEFAULT_FEATURES` of the point-in-time feature table
  (:func:`growthkit.features.build_user_features`): recency, frequency, total and mean
  spend, tenure, sessions, session conversion and price level. Any numeric columns
  may be given instead.
* **Transform.** Counts and amounts are heavy-tailed (a few users buy 100 times), and
  k-means on raw amounts would spend its clusters on the tail; columns whose unit in
  the feature catalog is a count or an amount (``count``, ``currency``, ``currency per
  unit``) are therefore taken as ``log1p`` (negative values clipped to 0). Then every
  column is standardised (mean 0, standard deviation 1), so each feature weighs the same.
* **Algorithms.** ``kmeans`` (Lloyd's algorithm, k-means++ starts; MacQueen 1967) finds
  compact, roughly spherical groups. ``gmm`` fits a Gaussian mixture with full
  covariances by EM (Dempster, Laird & Rubin 1977) and assigns each user to the most
  probable component; ``reg_covar`` (default 0.1 on the standardised scale) is added to
  every covariance's diagonal, because the features have point masses (all non-buyers
  have frequency 0) on which an unregularised component collapses to infinite density
  and the BIC then always prefers more components.
* **Number of clusters.** With ``k="auto"`` every k in ``k_range`` is fitted and scored by
  silhouette and BIC (:mod:`growthkit.models.segment.kselect`); the table is kept as
  ``k_selection_``.
* **Ids.** Segment ids are integers. A first fit numbers the clusters by size (1 = the
  largest). A refit given ``previous=`` keeps the previous ids of the clusters it
  recognises and gives new clusters fresh ids (:mod:`growthkit.models.segment.stable`).

References
----------
MacQueen, J. (1967). Some methods for classification and analysis of multivariate observations.
Proceedings of the 5th Berkeley Symposium 1, 281-297.

Arthur, D. & Vassilvitskii, S. (2007). k-means++: the advantages of careful seeding. SODA 2007.

Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data
via the EM algorithm. Journal of the Royal Statistical Society B 39(1), 1-38.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from threadpoolctl import threadpool_limits

from growthkit.errors import ConfigError, SchemaError
from growthkit.features import describe
from growthkit.models.segment._base import Estimator, check_frame
from growthkit.models.segment.kselect import (
    Candidate,
    Criterion,
    Method,
    candidate_ks,
    choose,
    fit_candidate,
    selection_table,
)
from growthkit.models.segment.stable import IdMatch, SegmentReference, fresh_ids, match_ids

log = logging.getLogger(__name__)

Array = npt.NDArray[np.float64]

DEFAULT_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary_total",
    "monetary_mean",
    "tenure_days",
    "sessions",
    "session_conversion",
    "avg_unit_price",
)
"""Clustering features used when none are given (columns of ``build_user_features``)."""

LOG_UNITS: frozenset[str] = frozenset({"count", "currency", "currency per unit"})
"""Catalog units taken as ``log1p`` by default: counts and amounts."""

METHODS: tuple[str, ...] = ("kmeans", "gmm")


def default_log_features(features: Sequence[str]) -> tuple[str, ...]:
    """The columns of ``features`` whose catalog unit is a count or an amount (see :data:`LOG_UNITS`).

    >>> default_log_features(["recency_days", "frequency", "monetary_total", "session_conversion"])
    ('frequency', 'monetary_total')
    """
    out = []
    for f in features:
        try:
            unit = describe(f).unit
        except (KeyError, ValueError):
            continue
        if unit in LOG_UNITS:
            out.append(f)
    return tuple(out)


def prepare(frame: pd.DataFrame, features: Sequence[str], log_features: Sequence[str]) -> Array:
    """The feature matrix before standardising: ``log1p`` of ``log_features`` (clipped at 0), others as they are."""
    raw = frame.loc[:, list(features)].to_numpy(dtype=np.float64, na_value=np.nan).copy()
    for j, f in enumerate(features):
        if f in log_features:
            raw[:, j] = np.log1p(np.clip(raw[:, j], 0.0, None))
    return raw


class BehaviourClusters(Estimator):
    """Segments of users with similar behaviour, by k-means or a Gaussian mixture.

    Parameters
    ----------
    method : {"kmeans", "gmm"}
        The clustering algorithm.
    k : "auto" or int
        Number of clusters, or ``"auto"`` to choose it in ``k_range`` by ``criterion``.
    k_range : (int, int)
        Smallest and largest k tried with ``k="auto"`` (inclusive). It starts at 3 because on
        shop data k = 2 nearly always just splits buyers from users who never bought (which
        the RFM segmentation already shows as ``Prospects``) and wins on silhouette.
    criterion : {"silhouette", "bic"}, optional
        How ``k="auto"`` chooses; default silhouette for k-means, BIC for the mixture.
    features : sequence of str, optional
        Feature-table columns to cluster on; default :data:`DEFAULT_FEATURES`.
    log_features : sequence of str, optional
        Columns taken as ``log1p`` first; default the counts and amounts among ``features``.
    n_init : int
        Restarts per fit (best kept).
    reg_covar : float
        Added to the mixture's covariance diagonals (standardised units).
    silhouette_sample : int
        Users sampled for the silhouette (it is quadratic in the users).
    match_radius : float
        How close a new centroid must be to keep a previous id (see :func:`match_ids`).
    previous : BehaviourClusters or SegmentReference, optional
        An earlier model whose segment ids a refit keeps.
    random_state : int
        Seed of the starts and of the silhouette sample.
    threads : int, optional
        BLAS/OpenMP threads while fitting (default 1: the matrices are small, and more
        threads than cores make k-means many times slower); None keeps the libraries' default.

    Attributes
    ----------
    features_, log_features_ : tuple of str
        The columns used, and those taken as ``log1p``.
    mean_, scale_ : ndarray
        The standardisation (in the prepared, log space).
    k_ : int
        Number of clusters.
    k_selection_ : pandas.DataFrame
        ``k, silhouette, bic, smallest_share, chosen`` per candidate k.
    segment_ids_ : tuple of int
        The id of each cluster, in the order of the underlying model's components.
    centers_ : pandas.DataFrame
        Cluster centres (prepared space), index segment id.
    labels_ : pandas.Series
        Segment id of each user of the training table (index: user id).
    id_match_ : IdMatch or None
        How the ids were matched to ``previous`` (None without it).
    model_ : sklearn.cluster.KMeans or sklearn.mixture.GaussianMixture
        The fitted clustering, on standardised features.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"frequency": np.r_[rng.poisson(1, 60), rng.poisson(20, 40)],
    ...                   "recency_days": np.r_[rng.uniform(60, 90, 60), rng.uniform(0, 10, 40)]},
    ...                  index=[f"u{i}" for i in range(100)])
    >>> model = BehaviourClusters(features=["frequency", "recency_days"], k_range=(2, 4)).fit(frame)
    >>> model.k_, model.labels_.loc[["u0", "u99"]].tolist()
    (2, [1, 2])
    """

    def __init__(
        self,
        *,
        method: str = "kmeans",
        k: int | str = "auto",
        k_range: tuple[int, int] = (3, 8),
        criterion: str | None = None,
        features: Sequence[str] | None = None,
        log_features: Sequence[str] | None = None,
        n_init: int = 4,
        reg_covar: float = 0.1,
        silhouette_sample: int = 2000,
        match_radius: float = 0.5,
        previous: BehaviourClusters | SegmentReference | None = None,
        random_state: int = 0,
        threads: int | None = 1,
    ) -> None:
        self.method = method
        self.k = k
        self.k_range = k_range
        self.criterion = criterion
        self.features = features
        self.log_features = log_features
        self.n_init = n_init
        self.reg_covar = reg_covar
        self.silhouette_sample = silhouette_sample
        self.match_radius = match_radius
        self.previous = previous
        self.random_state = random_state
        self.threads = threads

    # ------------------------------------------------------------------ validation

    def _options(self) -> tuple[Method, Criterion, tuple[str, ...], tuple[str, ...]]:
        if self.method not in METHODS:
            raise ConfigError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        method: Method = "kmeans" if self.method == "kmeans" else "gmm"
        crit = self.criterion or ("silhouette" if method == "kmeans" else "bic")
        if crit not in ("silhouette", "bic"):
            raise ConfigError(f"criterion must be silhouette or bic, not {self.criterion!r}")
        criterion: Criterion = "silhouette" if crit == "silhouette" else "bic"
        k = self.k
        if k != "auto" and (isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1):
            raise ConfigError(f"k must be 'auto' or a positive integer, not {k!r}")
        lo, hi = self.k_range
        if not (isinstance(lo, int) and isinstance(hi, int) and 2 <= lo <= hi):
            raise ConfigError(f"k_range must be two integers 2 <= lo <= hi, not {self.k_range!r}")
        for name in ("n_init", "silhouette_sample"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{name} must be a positive integer, not {v!r}")
        if not self.reg_covar >= 0:
            raise ConfigError(f"reg_covar must be >= 0, not {self.reg_covar!r}")
        feats = tuple(self.features) if self.features is not None else DEFAULT_FEATURES
        if not feats or len(set(feats)) != len(feats):
            raise ConfigError(f"features must be distinct column names, got {list(feats)}")
        logs = tuple(self.log_features) if self.log_features is not None else default_log_features(feats)
        unknown = [f for f in logs if f not in feats]
        if unknown:
            raise ConfigError(f"log_features {unknown} are not among the features {list(feats)}")
        return method, criterion, feats, logs

    def _reference(self, feats: tuple[str, ...], logs: tuple[str, ...]) -> SegmentReference | None:
        prev = self.previous
        if prev is None:
            return None
        ref = prev.reference() if isinstance(prev, BehaviourClusters) else prev
        if ref.features != feats or set(ref.log_features) != set(logs):
            raise ConfigError(
                "previous model used other features or transforms "
                f"({list(ref.features)}, log {list(ref.log_features)}); ids can only be kept across refits on "
                "the same features: refit without previous= to start new ids"
            )
        return ref

    # ------------------------------------------------------------------ fitting

    def fit(self, frame: pd.DataFrame, y: Any = None) -> Self:
        """Cluster the users of feature table ``frame`` (index: user id); ``y`` is ignored."""
        t0 = time.perf_counter()
        method, criterion, feats, logs = self._options()
        frame = check_frame(frame, feats, type(self).__name__)
        ref = self._reference(feats, logs)
        raw = prepare(frame, feats, logs)
        mean = raw.mean(axis=0)
        scale = raw.std(axis=0)
        z = (raw - mean) / np.where(scale > 0, scale, 1.0)
        n_distinct = len(np.unique(z, axis=0)) if len(z) <= 200_000 else len(z)
        if n_distinct < 2:
            raise SchemaError("all users have the same features: there is nothing to cluster")
        ks = candidate_ks(self.k, self.k_range, n_distinct)
        if max(ks) > n_distinct:
            raise SchemaError(f"k = {max(ks)} needs at least that many distinct users; there are {n_distinct}")
        candidates: list[Candidate] = []
        with threadpool_limits(limits=self.threads):
            for k in ks:
                c = fit_candidate(
                    z,
                    k,
                    method,
                    n_init=self.n_init,
                    reg_covar=self.reg_covar,
                    random_state=self.random_state,
                    silhouette_sample=self.silhouette_sample,
                )
                log.info("k=%d: silhouette %.4f, BIC %.1f", k, c.silhouette, c.bic)
                candidates.append(c)
        best = choose(candidates, criterion)
        centers = best.centers * np.where(scale > 0, scale, 1.0) + mean  # back to the prepared space
        sizes = np.bincount(best.labels, minlength=best.k).tolist()
        match: IdMatch | None = None
        if ref is None:
            ids = fresh_ids(sizes)
            next_id = best.k + 1
        else:
            match = match_ids(ref, centers, radius=self.match_radius)
            ids, next_id = match.ids, match.next_id
        self.features_ = feats
        self.log_features_ = logs
        self.mean_ = mean
        self.scale_ = scale
        self.model_ = best.model
        self.k_ = best.k
        self.criterion_ = criterion
        self.k_selection_ = selection_table(candidates, best.k)
        self.segment_ids_ = tuple(int(i) for i in ids)
        self.next_id_ = int(next_id)
        order = sorted(range(best.k), key=lambda j: ids[j])
        self.centers_ = pd.DataFrame(
            centers[order], index=pd.Index([ids[j] for j in order], name="segment_id"), columns=list(feats)
        )
        self.id_match_ = match
        self.labels_ = self._to_ids(best.labels, frame.index)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _to_ids(self, components: npt.NDArray[np.int64], index: pd.Index) -> pd.Series:
        lookup = np.asarray(self.segment_ids_, dtype=np.int64)
        return pd.Series(lookup[components], index=index.rename("user_id"), name="segment_id")

    # ------------------------------------------------------------------ using the fit

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The standardised features the model sees (same index as ``frame``)."""
        self._check_fitted()
        frame = check_frame(frame, self.features_, type(self).__name__)
        z = (prepare(frame, self.features_, self.log_features_) - self.mean_) / np.where(
            self.scale_ > 0, self.scale_, 1.0
        )
        return pd.DataFrame(z, index=frame.index, columns=list(self.features_))

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """The segment id of each user in ``frame`` (nearest centre, or most probable component)."""
        z = self.transform(frame).to_numpy()
        with threadpool_limits(limits=self.threads):
            comp = np.asarray(self.model_.predict(z), dtype=np.int64)
        return self._to_ids(comp, frame.index)

    def reference(self) -> SegmentReference:
        """What a later refit needs to keep these ids (pass this model, or this, as ``previous=``)."""
        self._check_fitted()
        return SegmentReference(
            features=self.features_,
            ids=tuple(int(i) for i in self.centers_.index),
            centers=self.centers_.to_numpy(dtype=np.float64),
            mean=self.mean_,
            scale=self.scale_,
            next_id=self.next_id_,
            log_features=self.log_features_,
        )
