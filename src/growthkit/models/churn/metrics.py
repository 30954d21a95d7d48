"""How good a score is: ranking (ROC-AUC, PR-AUC), probability (Brier, calibration table), targeting (lift).

Pure functions on labels and scores (numpy arrays), vectorised, O(n log n); they agree with
scikit-learn's ``roc_auc_score``, ``average_precision_score`` and ``brier_score_loss`` (tested).
Tied scores are handled as a random tie-break would be *on average*, so a constant score
always gets ROC-AUC 0.5 and top-decile lift 1.

References
----------
Hanley, J. A. & McNeil, B. J. (1982). The meaning and use of the area under a receiver operating
characteristic (ROC) curve. Radiology 143(1), 29-36.

Brier, G. W. (1950). Verification of forecasts expressed in terms of probability. Monthly Weather
Review 78(1), 1-3.

Niculescu-Mizil, A. & Caruana, R. (2005). Predicting good probabilities with supervised learning.
ICML 2005 (reliability diagrams by bins of predicted probability).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata

from growthkit.models.churn._validate import F64, ChurnError, check_scores

N_BINS = 10


def roc_auc(y: Any, score: Any) -> float:
    """Area under the ROC curve: P(score of a random positive > score of a random negative), ties count 1/2.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    yy, ss = check_scores(y, score)
    pos = int(yy.sum())
    neg = yy.shape[0] - pos
    if pos == 0 or neg == 0:
        return math.nan
    ranks = rankdata(ss)  # average ranks for ties (Mann-Whitney U)
    return float((ranks[yy == 1].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def average_precision(y: Any, score: Any) -> float:
    """PR-AUC as average precision: sum over thresholds of (recall step) x precision (scikit-learn's definition).

    Examples
    --------
    >>> round(average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    yy, ss = check_scores(y, score)
    pos = int(yy.sum())
    if pos == 0:
        return math.nan
    order = np.argsort(-ss, kind="stable")
    s_sorted, y_sorted = ss[order], yy[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.shape[0] - 1]  # last index of each distinct score
    tps = np.cumsum(y_sorted)[last].astype(np.float64)
    precision = tps / (last + 1.0)
    recall = tps / pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier_score(y: Any, prob: Any) -> float:
    """Mean squared difference between the predicted probability and the 0/1 outcome (lower is better).

    Examples
    --------
    >>> round(brier_score([0, 1], [0.2, 0.6]), 6)
    0.1
    """
    yy, pp = check_scores(y, prob)
    return float(np.mean((pp - yy) ** 2))


def log_loss(y: Any, prob: Any, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood of the outcomes (probabilities clipped to [eps, 1 - eps])."""
    yy, pp = check_scores(y, prob)
    p = np.clip(pp, eps, 1.0 - eps)
    return float(-np.mean(yy * np.log(p) + (1 - yy) * np.log1p(-p)))


@dataclass(frozen=True)
class CalibrationBin:
    """One bin of the calibration table: users ranked by predicted probability, cut into equal counts."""

    bin: int
    """1 = the lowest predicted probabilities, ``bins`` = the highest."""
    count: int
    mean_predicted: float
    observed_rate: float
    min_predicted: float
    max_predicted: float


def calibration_table(y: Any, prob: Any, bins: int = N_BINS) -> tuple[CalibrationBin, ...]:
    """Deciles (by default) of predicted probability: mean predicted against the observed rate, and the count.

    Users are sorted by predicted probability (ties in input order) and cut into ``bins``
    groups of (almost) equal size; a well-calibrated model has ``mean_predicted`` close to
    ``observed_rate`` in every bin.
    """
    yy, pp = check_scores(y, prob)
    if bins < 1:
        raise ChurnError(f"bins must be at least 1, not {bins}")
    n = yy.shape[0]
    order = np.argsort(pp, kind="stable")
    group = (np.arange(n) * bins) // n  # with fewer users than bins, some numbers are skipped
    out = []
    for b, g in enumerate(np.unique(group)):
        idx = order[group == g]
        p = pp[idx]
        out.append(
            CalibrationBin(
                b + 1, int(idx.shape[0]), float(p.mean()), float(yy[idx].mean()), float(p.min()), float(p.max())
            )
        )
    return tuple(out)


def expected_calibration_error(table: tuple[CalibrationBin, ...]) -> float:
    """Count-weighted mean of ``|mean_predicted - observed_rate|`` over the bins of a calibration table."""
    total = sum(b.count for b in table)
    return float(sum(b.count * abs(b.mean_predicted - b.observed_rate) for b in table) / total) if total else math.nan


def top_share_hits(y: Any, score: Any, share: float = 0.1) -> tuple[int, float]:
    """Size of the top ``share`` of users by score and the (expected) positives among them.

    Users tied with the last one taken count by their average label, as a random tie-break would.
    """
    yy, ss = check_scores(y, score)
    if not 0 < share <= 1:
        raise ChurnError(f"share must be in (0, 1], not {share}")
    n = yy.shape[0]
    k = max(1, math.ceil(share * n))
    order = np.argsort(-ss, kind="stable")
    t = ss[order[k - 1]]
    above = ss > t
    tied = ss == t
    need = k - int(above.sum())
    hits = float(yy[above].sum()) + need * float(yy[tied].mean())
    return k, hits


def lift_and_capture(y: Any, score: Any, share: float = 0.1) -> tuple[float, float]:
    """Lift (positive rate in the top ``share`` / overall rate) and capture (share of all positives in it).

    Examples
    --------
    >>> lift_and_capture([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0.9] + [0.1] * 9)
    (10.0, 1.0)
    """
    yy, _ = check_scores(y, score)
    pos = float(yy.sum())
    if pos == 0:
        return math.nan, math.nan
    k, hits = top_share_hits(y, score, share)
    return float((hits / k) / (pos / yy.shape[0])), float(hits / pos)


@dataclass(frozen=True)
class ScoreMetrics:
    """Every metric of one scorer on one labelled set (see :func:`score_metrics`)."""

    model: str
    n: int
    positives: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    brier: float
    log_loss: float
    ece: float
    lift_top_decile: float
    capture_top_decile: float
    mean_score: float
    calibration: tuple[CalibrationBin, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain values (the calibration table as a list of dicts); NaN becomes None."""
        out = asdict(self)
        out["calibration"] = [asdict(b) for b in self.calibration]
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


def score_metrics(name: str, y: Any, prob: Any, *, bins: int = N_BINS) -> ScoreMetrics:
    """ROC-AUC, PR-AUC, Brier, log loss, calibration table and error, top-decile lift and capture.

    Examples
    --------
    >>> m = score_metrics("rule", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> m.roc_auc, m.positives
    (0.75, 2)
    """
    yy, pp = check_scores(y, prob)
    table = calibration_table(yy, pp, bins)
    lift, capture = lift_and_capture(yy, pp)
    probs: F64 = np.clip(pp, 0.0, 1.0)
    return ScoreMetrics(
        model=name,
        n=int(yy.shape[0]),
        positives=int(yy.sum()),
        base_rate=float(yy.mean()),
        roc_auc=roc_auc(yy, pp),
        pr_auc=average_precision(yy, pp),
        brier=brier_score(yy, probs),
        log_loss=log_loss(yy, probs),
        ece=expected_calibration_error(table),
        lift_top_decile=lift,
        capture_top_decile=capture,
        mean_score=float(pp.mean()),
        calibration=table,
    )
