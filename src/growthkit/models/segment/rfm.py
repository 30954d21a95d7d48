"""RFM segmentation: recency, frequency and monetary scores 1-5 and the usual named segments.

How it works:

1. **Scores.** Among the customers (users with at least one purchase before the cutoff),
   the 20/40/60/80 % quantiles of ``recency_days``, ``frequency`` and ``monetary_total``
   are the thresholds (``thresholds_``, learned by ``fit``; fixed thresholds may be given
   instead). A value's F or M score is 1 plus the number of thresholds it exceeds; the R
   score is 5 minus the number of recency thresholds it exceeds (recent = high). Values
   equal to a threshold get the lower score, so with heavy ties (most customers bought
   once) some scores stay empty: one-time buyers all get F = 1.
2. **FM score.** The mean of F and M, rounded half up: ``(F + M + 1) // 2``.
3. **Segment.** The first rule of the rule table whose R range and FM range contain the
   customer's scores. Users who never bought are ``Prospects`` (no scores).

The rule table (:data:`RFM_SEGMENTS`) is the segment map that marketing tools and guides
commonly use — e.g. Putler's "RFM analysis" guide, which names the 11 segments on an R by
FM grid, and the RFM groups of Klaviyo and Shopify (which also call customers without an
order "prospects") — written here as non-overlapping ranges that cover all 25 (R, FM)
cells. It is data: pass ``rules=`` to use another map; ``fit`` checks that every cell is
covered. The RFM idea itself goes back to direct marketing (Hughes 1994).

References
----------
Hughes, A. M. (1994). Strategic Database Marketing. Probus, Chicago.

Putler. RFM analysis for successful customer segmentation. https://www.putler.com/rfm-analysis/

Shopify. CustomerRfmGroup (Admin GraphQL API).
https://shopify.dev/docs/api/admin-graphql/latest/enums/customerrfmgroup
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from growthkit.errors import ConfigError
from growthkit.models.segment._base import Estimator, check_frame

SCORES: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class RFMRule:
    """One segment of the RFM map: the R scores and FM scores (inclusive ranges) it covers.

    >>> RFMRule("new", "New customers", "新客户", r=(5, 5), fm=(1, 1)).covers(5, 1)
    True
    """

    segment_id: str
    name: str
    name_zh: str
    r: tuple[int, int]
    fm: tuple[int, int]
    description: str = ""

    def covers(self, r: int, fm: int) -> bool:
        return self.r[0] <= r <= self.r[1] and self.fm[0] <= fm <= self.fm[1]


RFM_SEGMENTS: tuple[RFMRule, ...] = (
    RFMRule("champions", "Champions", "冠军客户", (4, 5), (4, 5), "bought recently, often and for a lot"),
    RFMRule("loyal", "Loyal", "忠诚客户", (3, 5), (3, 5), "buy regularly and spend well, not quite the top"),
    RFMRule("potential_loyalists", "Potential loyalists", "潜在忠诚客户", (4, 5), (2, 2), "recent, some repeat"),
    RFMRule("new", "New", "新客户", (5, 5), (1, 1), "bought very recently, once and for little"),
    RFMRule("promising", "Promising", "有潜力客户", (4, 4), (1, 1), "bought recently, once and for little"),
    RFMRule("need_attention", "Need attention", "需要关注", (3, 3), (2, 2), "middling on all three"),
    RFMRule("about_to_sleep", "About to sleep", "即将沉睡", (3, 3), (1, 1), "middling recency, low value"),
    RFMRule("cant_lose_them", "Can't lose them", "不能失去的客户", (1, 1), (4, 5), "were top customers, long gone"),
    RFMRule("at_risk", "At risk", "流失风险客户", (1, 2), (3, 5), "good customers who have not bought for a while"),
    RFMRule("hibernating", "Hibernating", "休眠客户", (2, 2), (1, 2), "low value, not bought for a while"),
    RFMRule("lost", "Lost", "已流失客户", (1, 1), (1, 2), "low value, not bought for the longest"),
)
"""The default RFM segment map, first match wins (the order matters: Champions before Loyal).

With R the recency score and FM the rounded mean of the frequency and monetary scores::

    R\\FM   1               2                     3               4               5
    5      New             Potential loyalists   Loyal           Champions       Champions
    4      Promising       Potential loyalists   Loyal           Champions       Champions
    3      About to sleep  Need attention        Loyal           Loyal           Loyal
    2      Hibernating     Hibernating           At risk         At risk         At risk
    1      Lost            Lost                  At risk         Can't lose them Can't lose them
"""

PROSPECTS = RFMRule("prospects", "Prospects", "潜在客户", (0, 0), (0, 0), "known users who have not bought yet")
"""The segment of users without a purchase (they have no RFM scores)."""


def check_rules(rules: Sequence[RFMRule]) -> None:
    """A ConfigError unless every (R, FM) cell 1..5 x 1..5 is covered and ids and names are distinct."""
    if not rules:
        raise ConfigError("the RFM rule table is empty")
    for rule in rules:
        for lo, hi in (rule.r, rule.fm):
            if not (1 <= lo <= hi <= 5):
                raise ConfigError(
                    f"RFM rule {rule.segment_id!r}: score ranges must lie in 1..5, got {rule.r}/{rule.fm}"
                )
    ids = [r.segment_id for r in rules] + [PROSPECTS.segment_id]
    names = [r.name for r in rules] + [PROSPECTS.name]
    for what, values in (("ids", ids), ("names", names)):
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ConfigError(f"RFM segment {what} must be distinct (and not {PROSPECTS.name!r}); repeated: {dupes}")
    gaps = [(r, fm) for r in SCORES for fm in SCORES if not any(rule.covers(r, fm) for rule in rules)]
    if gaps:
        raise ConfigError(f"the RFM rule table leaves these (R, FM) cells without a segment: {gaps}")


def segment_grid(rules: Sequence[RFMRule] = RFM_SEGMENTS) -> pd.DataFrame:
    """The map as a 5 x 5 table of segment names: rows R = 5..1, columns FM = 1..5.

    >>> segment_grid().loc[5, 1]
    'New'
    """
    check_rules(rules)
    cells = {fm: [next(rule.name for rule in rules if rule.covers(r, fm)) for r in reversed(SCORES)] for fm in SCORES}
    out = pd.DataFrame(cells, index=pd.Index(list(reversed(SCORES)), name="R"))
    out.columns.name = "FM"
    return out


def _checked_edges(name: str, values: Sequence[float]) -> npt.NDArray[np.float64]:
    edges = np.asarray(values, dtype=np.float64)
    if edges.shape != (4,) or not np.isfinite(edges).all() or (np.diff(edges) < 0).any():
        raise ConfigError(f"thresholds[{name!r}] must be 4 finite, non-decreasing numbers, got {list(values)}")
    return edges


class RFMSegmenter(Estimator):
    """RFM scores and named segments for the users of a feature table.

    Parameters
    ----------
    rules : sequence of RFMRule
        The segment map (first match wins); default :data:`RFM_SEGMENTS`.
    quantiles : sequence of 4 floats
        Where the score thresholds lie among the customers.
    thresholds : mapping, optional
        Fixed thresholds instead of quantiles: ``{"R": [...], "F": [...], "M": [...]}``,
        4 non-decreasing numbers each (any key left out is learned from quantiles).
    recency, frequency, monetary : str
        The feature-table columns to score.

    Attributes
    ----------
    thresholds_ : dict of str to ndarray
        The 4 thresholds of R (on recency days), F and M.
    labels_ : pandas.Series
        Segment id of every user of the training table (index: user id).
    scores_ : pandas.DataFrame
        ``R, F, M, FM, segment_id, segment`` of the training table (0 scores for prospects).
    segment_names_ : dict of str to str
        Segment id to name, in rule order, ``prospects`` last.
    customers_ : int
        Users with a purchase in the training table.

    Examples
    --------
    >>> frame = pd.DataFrame({"recency_days": [1.0, 5, 40, 90, 3, 60], "frequency": [9, 1, 4, 1, 0, 2],
    ...                   "monetary_total": [900.0, 20, 300, 15, 0, 80]},
    ...                  index=["ann", "bob", "cat", "dan", "eve", "fay"])
    >>> RFMSegmenter().fit(frame).labels_.to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'ann': 'champions', 'bob': 'potential_loyalists', 'cat': 'loyal', 'dan': 'lost', 'eve': 'prospects',
     'fay': 'at_risk'}
    """

    def __init__(
        self,
        *,
        rules: Sequence[RFMRule] = RFM_SEGMENTS,
        quantiles: Sequence[float] = (0.2, 0.4, 0.6, 0.8),
        thresholds: Mapping[str, Sequence[float]] | None = None,
        recency: str = "recency_days",
        frequency: str = "frequency",
        monetary: str = "monetary_total",
    ) -> None:
        self.rules = rules
        self.quantiles = quantiles
        self.thresholds = thresholds
        self.recency = recency
        self.frequency = frequency
        self.monetary = monetary

    def _columns(self) -> dict[str, str]:
        return {"R": self.recency, "F": self.frequency, "M": self.monetary}

    def fit(self, frame: pd.DataFrame, y: Any = None) -> Self:
        """Learn the score thresholds from the customers of ``frame`` and label every user; ``y`` is ignored."""
        rules = tuple(self.rules)
        check_rules(rules)
        qs = np.asarray(self.quantiles, dtype=np.float64)
        if qs.shape != (4,) or not ((qs > 0) & (qs < 1)).all() or (np.diff(qs) <= 0).any():
            raise ConfigError(f"quantiles must be 4 increasing numbers in (0, 1), got {list(self.quantiles)}")
        given = dict(self.thresholds or {})
        unknown = sorted(set(given) - {"R", "F", "M"})
        if unknown:
            raise ConfigError(f"thresholds keys must be R, F and M, not {unknown}")
        cols = self._columns()
        frame = check_frame(frame, list(cols.values()), type(self).__name__)
        buyers = frame[self.frequency].to_numpy(dtype=np.float64) > 0
        edges: dict[str, npt.NDArray[np.float64]] = {}
        for key, col in cols.items():
            if key in given:
                edges[key] = _checked_edges(key, given[key])
            elif buyers.any():
                edges[key] = np.quantile(frame.loc[buyers, col].to_numpy(dtype=np.float64), qs)
            else:
                edges[key] = np.zeros(4)
        self.rules_ = rules
        self.thresholds_ = edges
        self.customers_ = int(buyers.sum())
        self.segment_names_ = {r.segment_id: r.name for r in rules} | {PROSPECTS.segment_id: PROSPECTS.name}
        self.scores_ = self.scores(frame)
        self.labels_ = self.scores_["segment_id"].rename("segment_id")
        return self

    def scores(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``R, F, M, FM`` scores (0 for users without a purchase), ``segment_id`` and ``segment`` name."""
        if not hasattr(self, "thresholds_"):
            self._check_fitted()
        frame = check_frame(frame, list(self._columns().values()), type(self).__name__)
        t = self.thresholds_

        def count_above(col: str, key: str) -> npt.NDArray[np.int64]:
            v = frame[col].to_numpy(dtype=np.float64)
            return np.searchsorted(t[key], v, side="left").astype(np.int64)

        buyer = frame[self.frequency].to_numpy(dtype=np.float64) > 0
        r = np.where(buyer, 5 - count_above(self.recency, "R"), 0)
        f = np.where(buyer, 1 + count_above(self.frequency, "F"), 0)
        m = np.where(buyer, 1 + count_above(self.monetary, "M"), 0)
        fm = np.where(buyer, (f + m + 1) // 2, 0)
        ids = np.full(len(frame), PROSPECTS.segment_id, dtype=object)
        todo = buyer.copy()
        for rule in self.rules_:
            hit = todo & (r >= rule.r[0]) & (r <= rule.r[1]) & (fm >= rule.fm[0]) & (fm <= rule.fm[1])
            ids[hit] = rule.segment_id
            todo &= ~hit
        index = frame.index.rename("user_id")
        out = pd.DataFrame({"R": r, "F": f, "M": m, "FM": fm, "segment_id": ids}, index=index)
        out["segment"] = out["segment_id"].map(self.segment_names_)
        return out

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """The segment id of each user of ``frame``, with the thresholds learned in ``fit``."""
        self._check_fitted()
        return self.scores(frame)["segment_id"].rename("segment_id")

    def rule_table(self) -> pd.DataFrame:
        """The rules in use, one row per segment: id, name, Chinese name, R and FM ranges, description."""
        rules = self.rules_ if hasattr(self, "rules_") else tuple(self.rules)
        rows = [
            (r.segment_id, r.name, r.name_zh, f"{r.r[0]}-{r.r[1]}", f"{r.fm[0]}-{r.fm[1]}", r.description)
            for r in rules
        ]
        rows.append((PROSPECTS.segment_id, PROSPECTS.name, PROSPECTS.name_zh, "-", "-", PROSPECTS.description))
        return pd.DataFrame(rows, columns=["segment_id", "name", "name_zh", "R", "FM", "description"])
