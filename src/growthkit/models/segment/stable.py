"""Segment ids that survive a refit: match new centroids to the previous model's with the Hungarian algorithm.

Clustering algorithms number their clusters arbitrarily: refit k-means on next
week's data and "segment 2" may now be last week's "segment 4". Campaigns, saved
segments and dashboards that refer to a segment id must not silently change
meaning, so a refit keeps the ids of the segments it recognises:

1. Both sets of centroids are put on one scale: the *previous* model's
   standardisation (its feature means and standard deviations), so distances are
   in units of the previous population's standard deviations.
2. The cost of giving new cluster ``j`` the id of old cluster ``i`` is the
   Euclidean distance between their centroids; the assignment with the least
   total cost is found by the Hungarian algorithm (Kuhn 1955;
   :func:`scipy.optimize.linear_sum_assignment`, which also handles a different
   number of old and new clusters).
3. A matched pair keeps the old id only when the new centroid lies within
   ``radius`` times the distance from the old centroid to its nearest old
   neighbour (``radius=0.5``: closer to it than to the midpoint between it and any
   other old centroid). Otherwise the cluster is new: it gets a fresh id, never
   used before (ids only grow, so a retired id is not recycled for a different
   group).

References
----------
Kuhn, H. W. (1955). The Hungarian method for the assignment problem. Naval Research
Logistics Quarterly 2(1-2), 83-97.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from growthkit.errors import ConfigError

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SegmentReference:
    """What a later refit needs to keep a model's segment ids.

    ``centers`` are the cluster centres in the model's prepared feature space (after
    ``log1p``, before standardising), one row per id; ``mean`` and ``scale`` are the
    model's standardisation; ``next_id`` is the first id never handed out.
    """

    features: tuple[str, ...]
    ids: tuple[int, ...]
    centers: Array
    mean: Array
    scale: Array
    next_id: int
    log_features: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        k, d = len(self.ids), len(self.features)
        for name, arr, shape in (
            ("centers", self.centers, (k, d)),
            ("mean", self.mean, (d,)),
            ("scale", self.scale, (d,)),
        ):
            a = np.asarray(arr, dtype=np.float64)
            if a.shape != shape:
                raise ConfigError(f"segment reference: {name} has shape {a.shape}, expected {shape}")
            object.__setattr__(self, name, a)
        if len(set(self.ids)) != k:
            raise ConfigError(f"segment reference: ids must be distinct, got {list(self.ids)}")
        if k and self.next_id <= max(self.ids):
            raise ConfigError(f"segment reference: next_id {self.next_id} must exceed every id {max(self.ids)}")

    def standardise(self, centers: Any) -> Array:
        """``centers`` (prepared space) in this reference's standard units."""
        scale = np.where(self.scale > 0, self.scale, 1.0)
        out: Array = (np.asarray(centers, dtype=np.float64) - self.mean) / scale
        return out


@dataclass(frozen=True)
class IdMatch:
    """How the clusters of a refit got their ids.

    ``ids[j]`` is the id of new cluster ``j``; ``previous[j]`` the old id it kept (None
    for a fresh id) and ``distances[j]`` the distance to the old centroid it was
    paired with (None when unpaired); ``limits[j]`` the largest distance that would have
    kept the id. ``retired`` lists the old ids no new cluster kept.
    """

    ids: tuple[int, ...]
    previous: tuple[int | None, ...]
    distances: tuple[float | None, ...]
    limits: tuple[float | None, ...]
    retired: tuple[int, ...]
    next_id: int

    @property
    def kept(self) -> int:
        """How many new clusters kept an old id."""
        return sum(p is not None for p in self.previous)

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per new cluster: ``segment_id``, ``previous_id``, ``distance``, ``limit``."""
        return [
            {"segment_id": i, "previous_id": p, "distance": d, "limit": lim}
            for i, p, d, lim in zip(self.ids, self.previous, self.distances, self.limits, strict=True)
        ]


def match_limits(std_centers: Array, radius: float) -> Array:
    """Per old centroid: ``radius`` times the distance to its nearest other old centroid (inf when alone)."""
    k = std_centers.shape[0]
    if k < 2:
        return np.full(k, np.inf)
    dist = cdist(std_centers, std_centers)
    np.fill_diagonal(dist, np.inf)
    out: Array = radius * dist.min(axis=1)
    return out


def match_ids(reference: SegmentReference, centers: Any, *, radius: float = 0.5) -> IdMatch:
    """Ids for new clusters with centres ``centers`` (prepared space), keeping the reference's where they match.

    Parameters
    ----------
    reference
        The previous model (:meth:`BehaviourClusters.reference`).
    centers
        Array ``(k_new, d)`` of the new cluster centres, same features and transform.
    radius
        A new centroid keeps an old id when it is within ``radius`` times the distance
        from that old centroid to its nearest old neighbour (see the module docstring).

    Examples
    --------
    >>> ref = SegmentReference(features=("x",), ids=(1, 2), centers=np.array([[0.0], [10.0]]),
    ...                        mean=np.array([5.0]), scale=np.array([5.0]), next_id=3)
    >>> m = match_ids(ref, np.array([[9.5], [0.4], [30.0]]))
    >>> m.ids, m.previous, m.retired
    ((2, 1, 3), (2, 1, None), ())
    """
    if not radius > 0:
        raise ConfigError(f"radius must be positive, got {radius!r}")
    arr = np.asarray(centers, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != len(reference.features):
        raise ConfigError(f"new centres have shape {arr.shape}; the reference has {len(reference.features)} features")
    new = reference.standardise(arr)
    old = reference.standardise(reference.centers)
    limits = match_limits(old, radius)
    k_new = new.shape[0]
    ids: list[int | None] = [None] * k_new
    previous: list[int | None] = [None] * k_new
    distances: list[float | None] = [None] * k_new
    lims: list[float | None] = [None] * k_new
    if len(reference.ids) and k_new:
        cost = cdist(new, old)
        rows, cols = linear_sum_assignment(cost)
        for j, i in zip(rows.tolist(), cols.tolist(), strict=True):
            distances[j] = float(cost[j, i])
            lims[j] = float(limits[i])
            if cost[j, i] <= limits[i]:
                ids[j] = previous[j] = reference.ids[i]
    next_id = reference.next_id
    out: list[int] = []
    for j in range(k_new):
        got = ids[j]
        if got is None:
            got, next_id = next_id, next_id + 1
        out.append(got)
    retired = tuple(sorted(set(reference.ids) - {p for p in previous if p is not None}))
    return IdMatch(tuple(out), tuple(previous), tuple(distances), tuple(lims), retired, next_id)


def fresh_ids(sizes: Sequence[int]) -> tuple[int, ...]:
    """Ids 1..k for clusters of these sizes: the largest cluster gets 1 (ties: lower index first).

    >>> fresh_ids([5, 20, 5])
    (2, 1, 3)
    """
    order = sorted(range(len(sizes)), key=lambda j: (-sizes[j], j))
    ids = [0] * len(sizes)
    for rank, j in enumerate(order, start=1):
        ids[j] = rank
    return tuple(ids)
