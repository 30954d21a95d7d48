"""A profile per segment: size, share of users and revenue, feature means, what sets it apart, categories.

What distinguishes a segment is ranked by the **standardised mean difference**
``SMD = (segment mean - population mean) / population standard deviation`` (Cohen's d
against the whole population): it is defined for every feature, including those
that can be zero or negative on average (trends, sentiment), and it puts counts,
amounts and shares on one scale. Each feature also carries its **lift**
``segment mean / population mean`` (None when the population mean is not positive),
which is easier to read ("buys 2.8x as often") and is what personas quote.

Top categories are the segment's mean ``cat_share__*`` columns (the share of its
users' viewed, carted and bought items in each top-level category), highest first,
with their lift against the population; ``cat_share__other`` (everything outside the
feature table's category list) is left out.

References
----------
Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences (2nd ed.), section 2.2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from growthkit.errors import SchemaError
from growthkit.models.segment._base import check_frame

PROFILE_FEATURES: tuple[str, ...] = (
    "has_purchased",
    "recency_days",
    "frequency",
    "monetary_total",
    "monetary_mean",
    "tenure_days",
    "days_since_last_event",
    "sessions",
    "events_per_session",
    "session_conversion",
    "avg_unit_price",
    "coupon_redeem_rate",
    "promo_purchase_share",
    "refund_rate",
    "shares",
    "reviews",
)
"""Feature-table columns described in every profile (those present), besides the clustering features."""

CATEGORY_PREFIX = "cat_share__"
OTHER_CATEGORY = "other"
"""``cat_share__other`` (categories outside the feature table's list) is not a category: never a top one."""


@dataclass(frozen=True)
class FeatureStat:
    """One feature in one segment: its mean there and in the population, the lift and the SMD."""

    feature: str
    mean: float
    population_mean: float
    lift: float | None
    smd: float


@dataclass(frozen=True)
class CategoryStat:
    """One top-level category: the segment's mean share of it, the population's, and the lift."""

    category: str
    share: float
    population_share: float
    lift: float | None


@dataclass(frozen=True)
class SegmentProfile:
    """What a segment looks like, in numbers (every number a persona may quote is here).

    ``ranks`` maps ``users``, ``share_revenue`` and each feature to the segment's rank among
    the ``n_segments`` segments by that number (1 = highest).
    """

    segment_id: str
    name: str
    method: str
    users: int
    share_users: float
    revenue: float
    share_revenue: float
    features: tuple[FeatureStat, ...]
    distinguishing: tuple[str, ...]
    categories: tuple[CategoryStat, ...]
    n_segments: int
    ranks: Mapping[str, int] = field(default_factory=dict)

    def feature(self, name: str) -> FeatureStat:
        """The statistics of feature ``name`` (a KeyError naming the profiled features otherwise)."""
        for f in self.features:
            if f.feature == name:
                return f
        raise KeyError(f"feature {name!r} is not in the profile; it has {', '.join(f.feature for f in self.features)}")

    def has(self, name: str) -> bool:
        return any(f.feature == name for f in self.features)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = asdict(self)
        out["ranks"] = dict(self.ranks)
        return out


def _rank_desc(values: Sequence[float]) -> list[int]:
    """1 = highest; ties share the best rank."""
    return [1 + sum(1 for w in values if w > v) for v in values]


def profile_segments(
    frame: pd.DataFrame,
    labels: pd.Series,
    *,
    names: Mapping[Any, str] | None = None,
    method: str = "cluster",
    features: Sequence[str] | None = None,
    revenue: str = "monetary_total",
    top_features: int = 5,
    top_categories: int = 3,
) -> tuple[SegmentProfile, ...]:
    """One :class:`SegmentProfile` per segment present in ``labels``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The feature table the segments were made from (index: user id).
    labels : pandas.Series
        Segment id per user; users of ``frame`` without a label (and labels of unknown users)
        are left out of every number, the population included.
    names : mapping, optional
        Segment id to display name (default ``"Segment <id>"``); its order is the profiles' order
        (default: sorted ids).
    method : str
        Recorded in each profile (``"rfm"`` or ``"cluster"``).
    features : sequence of str, optional
        Columns to describe; default :data:`PROFILE_FEATURES` (those present).
    revenue : str
        The column whose sum is the segment's revenue.
    top_features, top_categories : int
        How many distinguishing features and categories to keep.

    Examples
    --------
    >>> frame = pd.DataFrame({"frequency": [1.0, 1, 6, 8], "monetary_total": [10.0, 20, 300, 370],
    ...                   "cat_share__books": [0.5, 0.7, 0.1, 0.1]}, index=["a", "b", "c", "d"])
    >>> p = profile_segments(frame, pd.Series({"a": 1, "b": 1, "c": 2, "d": 2}))
    >>> [(q.segment_id, q.users, q.share_revenue, q.feature("frequency").lift) for q in p]
    [('1', 2, 0.04285714285714286, 0.25), ('2', 2, 0.9571428571428572, 1.75)]
    >>> p[0].categories[0].category, p[0].distinguishing[0]
    ('books', 'monetary_total')
    """
    wanted = [c for c in (features if features is not None else PROFILE_FEATURES) if c in frame.columns]
    if features is not None and len(wanted) != len(features):
        missing = [c for c in features if c not in frame.columns]
        raise SchemaError(f"profile: the feature table has no column {missing}")
    cats = [c for c in frame.columns if str(c).startswith(CATEGORY_PREFIX)]
    if revenue not in frame.columns:
        raise SchemaError(f"profile: the feature table has no revenue column {revenue!r}")
    cols = list(dict.fromkeys([*wanted, revenue, *cats]))
    frame = check_frame(frame, cols, "profile")
    lab = labels[labels.index.isin(frame.index)].dropna()
    if lab.empty:
        raise SchemaError("profile: no labelled user is in the feature table")
    data = frame.loc[lab.index, cols].astype(np.float64)
    present = pd.unique(lab).tolist()
    order: list[Any] = [s for s in (names or {}) if s in set(present)]
    order += sorted((s for s in present if s not in order), key=lambda v: (type(v).__name__, v))
    key = {s: str(s) for s in order}
    if len(set(key.values())) != len(key):
        raise SchemaError("profile: segment ids must stay distinct as text (e.g. not both 1 and '1')")
    lab = lab.map(key)
    pop_mean = dict(zip(cols, data.mean().to_numpy(np.float64).tolist(), strict=True))
    pop_sd = dict(zip(cols, data.std(ddof=0).to_numpy(np.float64).tolist(), strict=True))
    nonneg = dict(zip(cols, (data.min() >= 0).to_numpy(bool).tolist(), strict=True))
    n_all = len(data)
    groups = data.groupby(lab.to_numpy(dtype=object), sort=False)
    ids = [key[s] for s in order]
    means = groups.mean().loc[ids]
    seg_mean = {
        s: dict(zip(cols, row, strict=True)) for s, row in zip(ids, means.to_numpy(np.float64).tolist(), strict=True)
    }
    sizes = dict(zip(ids, groups.size().loc[ids].to_numpy(np.int64).tolist(), strict=True))
    revs = {s: seg_mean[s][revenue] * sizes[s] for s in ids}
    total_rev = sum(revs.values())

    ranks: dict[str, dict[str, int]] = {s: {} for s in ids}
    for metric, values in (
        ("users", [float(sizes[s]) for s in ids]),
        ("share_revenue", [revs[s] for s in ids]),
        *((f, [seg_mean[s][f] for s in ids]) for f in wanted),
    ):
        for s, r in zip(ids, _rank_desc(values), strict=True):
            ranks[s][metric] = r

    out: list[SegmentProfile] = []
    for original, s in zip(order, ids, strict=True):
        m = seg_mean[s]
        stats = []
        for f in wanted:
            pm, sd = pop_mean[f], pop_sd[f]
            lift = m[f] / pm if pm > 0 and nonneg[f] else None
            smd = (m[f] - pm) / sd if sd > 0 else 0.0
            stats.append(FeatureStat(f, m[f], pm, lift, smd))
        top = sorted(stats, key=lambda st: (-abs(st.smd), st.feature))[: max(top_features, 0)]
        cstats = [
            CategoryStat(
                c[len(CATEGORY_PREFIX) :],
                m[c],
                pop_mean[c],
                m[c] / pop_mean[c] if pop_mean[c] > 0 else None,
            )
            for c in cats
        ]
        named = (c for c in cstats if c.share > 0 and c.category != OTHER_CATEGORY)
        cstats = sorted(named, key=lambda c: (-c.share, c.category))[:top_categories]
        rev = revs[s]
        out.append(
            SegmentProfile(
                segment_id=str(s),
                name=(names or {}).get(original, f"Segment {s}"),
                method=method,
                users=int(sizes[s]),
                share_users=int(sizes[s]) / n_all,
                revenue=rev,
                share_revenue=rev / total_rev if total_rev > 0 else 0.0,
                features=tuple(stats),
                distinguishing=tuple(st.feature for st in top if st.smd != 0),
                categories=tuple(cstats),
                n_segments=len(order),
                ranks=ranks[s],
            )
        )
    return tuple(out)


def profiles_frame(profiles: Sequence[SegmentProfile]) -> pd.DataFrame:
    """A table: one row per segment with its size, shares, feature means and top categories."""
    rows = []
    for p in profiles:
        row: dict[str, Any] = {
            "segment_id": p.segment_id,
            "name": p.name,
            "users": p.users,
            "share_users": p.share_users,
            "revenue": p.revenue,
            "share_revenue": p.share_revenue,
            "distinguishing": ", ".join(p.distinguishing),
            "top_categories": ", ".join(c.category for c in p.categories),
        }
        row.update({f"mean__{f.feature}": f.mean for f in p.features})
        rows.append(row)
    return pd.DataFrame(rows)
