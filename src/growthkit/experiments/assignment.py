"""Deterministic assignment of users to experiment variations (pure, numpy).

How a user is bucketed (GrowthBook's convention, see :mod:`~growthkit.experiments.hashing`):

1. **Holdout.** With a :class:`Holdout`, users with ``hash_v2(holdout.key, user) < holdout.share``
   are kept out of every experiment (a long-term control group).
2. **Layer.** An experiment in a :class:`Layer` (GrowthBook's *namespace*) only sees users with
   ``layer.start <= hash_v1("__" + layer.name, user) < layer.end``. Experiments that own disjoint
   ranges of the same layer never share a user (mutual exclusion).
3. **Variation.** ``u = hash_v2(salt + key, user)``. The unit interval is cut into contiguous
   ranges, one per variation, of width ``weight``; only the first ``coverage`` share of each range
   is in the experiment (GrowthBook's ``getBucketRanges``). Raising coverage only adds users;
   changing weights moves only the users in the part of [0, 1) that changes hands, e.g. going
   from 50/50 to 40/60 moves the 10 % of users with ``0.4 <= u < 0.5`` from control to B.

The same (key, salt, user) always gives the same answer, on any machine and in any SDK that
follows GrowthBook's hashing. Change ``salt`` to re-randomise an experiment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from growthkit.errors import ConfigError
from growthkit.experiments.hashing import hash_v1_many, hash_v2_many


class Exclusion(IntEnum):
    """Why a user is not in an experiment (``ASSIGNED`` when they are)."""

    ASSIGNED = 0
    HOLDOUT = 1
    OUTSIDE_LAYER = 2
    OUTSIDE_COVERAGE = 3


@dataclass(frozen=True)
class Layer:
    """A range ``[start, end)`` of a mutually exclusive layer (GrowthBook namespace) ``name``."""

    name: str
    start: float = 0.0
    end: float = 1.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("a layer needs a name")
        if not 0.0 <= self.start < self.end <= 1.0:
            raise ConfigError(
                f"layer {self.name!r} range [{self.start}, {self.end}) must satisfy 0 <= start < end <= 1"
            )

    def overlaps(self, other: Layer) -> bool:
        """Whether both ranges are in the same layer and share users."""
        return self.name == other.name and self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Holdout:
    """A global holdout: ``share`` of all users, chosen by ``hash_v2(key, user)``, sees no experiment."""

    share: float
    key: str = "growthkit-holdout"

    def __post_init__(self) -> None:
        if not 0.0 <= self.share < 1.0:
            raise ConfigError(f"holdout share must be in [0, 1), got {self.share}")


@dataclass(frozen=True)
class Experiment:
    """An experiment definition.

    Parameters
    ----------
    key : str
        Unique experiment key; also the hash seed (with ``salt``).
    variations : tuple of str
        Variation names, control first.
    weights : tuple of float or None
        Traffic split, summing to 1 (default: equal). Percentages summing to 100 are accepted.
    coverage : float
        Share of eligible users that enter the experiment (traffic percentage).
    salt : str
        Prefix of the hash seed; change it to re-randomise.
    layer : Layer or None
        The range of a mutually exclusive layer this experiment owns.

    Examples
    --------
    >>> exp = Experiment("checkout-button", ("control", "B"), (0.5, 0.5))
    >>> assign_one(exp, "u0000042")
    'B'
    """

    key: str
    variations: tuple[str, ...] = ("control", "treatment")
    weights: tuple[float, ...] | None = None
    coverage: float = 1.0
    salt: str = ""
    layer: Layer | None = None

    def __post_init__(self) -> None:
        if not self.key:
            raise ConfigError("an experiment needs a key")
        variations = tuple(self.variations)
        if len(variations) < 2:
            raise ConfigError(f"experiment {self.key!r} needs at least two variations (control first)")
        if len(set(variations)) != len(variations) or any(not v for v in variations):
            raise ConfigError(f"experiment {self.key!r}: variation names must be unique and non-empty")
        object.__setattr__(self, "variations", variations)
        object.__setattr__(self, "weights", _normalise_weights(self.key, self.weights, len(variations)))
        if not 0.0 <= self.coverage <= 1.0:
            raise ConfigError(f"experiment {self.key!r}: coverage must be in [0, 1], got {self.coverage}")

    @property
    def seed(self) -> str:
        """The hash seed: ``salt + key`` (GrowthBook's default seed is the key)."""
        return f"{self.salt}{self.key}"

    @property
    def split(self) -> tuple[float, ...]:
        """The weights (never None after construction)."""
        assert self.weights is not None
        return self.weights

    def bucket_ranges(self) -> tuple[tuple[float, float], ...]:
        """``[start, end)`` of each variation in [0, 1), after coverage."""
        out, cum = [], 0.0
        for w in self.split:
            out.append((cum, cum + self.coverage * w))
            cum += w
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready definition (stored in the ``experiments`` table)."""
        d: dict[str, Any] = {
            "key": self.key,
            "variations": list(self.variations),
            "weights": list(self.split),
            "coverage": self.coverage,
            "salt": self.salt,
            "layer": None,
        }
        if self.layer is not None:
            d["layer"] = {"name": self.layer.name, "start": self.layer.start, "end": self.layer.end}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Experiment:
        """Inverse of :meth:`to_dict`."""
        layer = d.get("layer")
        return cls(
            key=str(d["key"]),
            variations=tuple(d["variations"]),
            weights=tuple(d["weights"]) if d.get("weights") is not None else None,
            coverage=float(d.get("coverage", 1.0)),
            salt=str(d.get("salt", "")),
            layer=Layer(str(layer["name"]), float(layer["start"]), float(layer["end"])) if layer else None,
        )


def _normalise_weights(key: str, weights: Sequence[float] | None, k: int) -> tuple[float, ...]:
    if weights is None:
        return tuple(1.0 / k for _ in range(k))
    w = tuple(float(x) for x in weights)
    if len(w) != k:
        raise ConfigError(f"experiment {key!r} has {k} variations but {len(w)} weights; give one weight each")
    if any(not math.isfinite(x) or x < 0 for x in w):
        raise ConfigError(f"experiment {key!r}: weights must be non-negative numbers, got {list(w)}")
    total = sum(w)
    if math.isclose(total, 100.0, rel_tol=1e-6):
        w, total = tuple(x / 100.0 for x in w), 1.0
    if not math.isclose(total, 1.0, rel_tol=1e-6):
        raise ConfigError(f"experiment {key!r}: weights must sum to 1 (or 100), got {total:g}")
    return w


@dataclass(frozen=True)
class Assignments:
    """Who got what: one entry per user id given to :func:`assign`, in order.

    ``variation_index[i]`` is the index into ``experiment.variations`` or -1;
    ``exclusion[i]`` says why a user is not in the experiment. The arrays are not copied;
    treat them as read-only.
    """

    experiment: Experiment
    user_ids: npt.NDArray[np.str_]
    variation_index: npt.NDArray[np.int64]
    exclusion: npt.NDArray[np.int8]
    units: npt.NDArray[np.float64] = field(repr=False)
    """The variation hash ``u`` of each user (useful for audits)."""

    def __len__(self) -> int:
        return int(self.user_ids.size)

    @property
    def assigned(self) -> npt.NDArray[np.bool_]:
        """Mask of users in the experiment."""
        return self.variation_index >= 0

    def variation_of(self, user_id: str) -> str | None:
        """The variation of one user id given to :func:`assign` (None when excluded)."""
        hits = np.flatnonzero(self.user_ids == user_id)
        if hits.size == 0:
            raise KeyError(f"user {user_id!r} was not part of this assignment")
        idx = int(self.variation_index[hits[0]])
        return self.experiment.variations[idx] if idx >= 0 else None

    def variation_names(self) -> npt.NDArray[np.object_]:
        """Variation name per user, None where excluded."""
        names = np.array([*self.experiment.variations, None], dtype=object)
        out: npt.NDArray[np.object_] = names[self.variation_index]  # -1 picks the trailing None
        return out

    def counts(self) -> dict[str, int]:
        """Users per variation, plus excluded users per reason."""
        k = len(self.experiment.variations)
        per_var = np.bincount(self.variation_index[self.assigned], minlength=k)
        out = {v: int(per_var[i]) for i, v in enumerate(self.experiment.variations)}
        for reason in (Exclusion.HOLDOUT, Exclusion.OUTSIDE_LAYER, Exclusion.OUTSIDE_COVERAGE):
            out[f"excluded:{reason.name.lower()}"] = int((self.exclusion == reason).sum())
        return out

    def mapping(self) -> dict[str, str]:
        """``{user_id: variation}`` for the users in the experiment."""
        names = self.experiment.variations
        return {str(u): names[int(i)] for u, i in zip(self.user_ids, self.variation_index, strict=True) if i >= 0}


def assign(
    experiment: Experiment,
    user_ids: Sequence[str] | npt.NDArray[np.str_] | Iterable[str],
    *,
    holdout: Holdout | None = None,
) -> Assignments:
    """Assign many users at once (vectorised).

    Examples
    --------
    >>> exp = Experiment("price-test", ("control", "B"), (0.5, 0.5), coverage=0.5)
    >>> a = assign(exp, [f"u{i}" for i in range(10_000)])
    >>> a.counts()["control"], a.counts()["B"], a.counts()["excluded:outside_coverage"]
    (2474, 2484, 5042)
    """
    ids = np.asarray(user_ids if isinstance(user_ids, (Sequence, np.ndarray)) else list(user_ids))
    ids = ids if ids.dtype.kind == "U" else ids.astype(np.str_)
    n = ids.size
    exclusion = np.zeros(n, dtype=np.int8)
    if holdout is not None and holdout.share > 0:
        exclusion[hash_v2_many(holdout.key, ids) < holdout.share] = Exclusion.HOLDOUT
    if experiment.layer is not None:
        lay = experiment.layer
        ns = hash_v1_many("__" + lay.name, ids)
        outside = (ns < lay.start) | (ns >= lay.end)
        exclusion[(exclusion == 0) & outside] = Exclusion.OUTSIDE_LAYER
    units = hash_v2_many(experiment.seed, ids)
    index = np.full(n, -1, dtype=np.int64)
    for i, (lo, hi) in enumerate(experiment.bucket_ranges()):
        index[(units >= lo) & (units < hi)] = i
    exclusion[(exclusion == 0) & (index < 0)] = Exclusion.OUTSIDE_COVERAGE
    index[exclusion != 0] = -1
    return Assignments(experiment, ids, index, exclusion, units)


def assign_one(experiment: Experiment, user_id: str, *, holdout: Holdout | None = None) -> str | None:
    """The variation of one user, or None when the user is not in the experiment."""
    return assign(experiment, [user_id], holdout=holdout).variation_of(user_id)


def check_exclusive(experiments: Sequence[Experiment]) -> None:
    """Raise :class:`~growthkit.errors.ConfigError` if two experiments claim overlapping layer ranges."""
    layered = [e for e in experiments if e.layer is not None]
    for i, a in enumerate(layered):
        for b in layered[i + 1 :]:
            assert a.layer is not None and b.layer is not None
            if a.layer.overlaps(b.layer):
                raise ConfigError(
                    f"experiments {a.key!r} and {b.key!r} both claim layer {a.layer.name!r} range "
                    f"[{max(a.layer.start, b.layer.start)}, {min(a.layer.end, b.layer.end)}); give them disjoint ranges"
                )
