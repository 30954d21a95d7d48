"""A reorder model on held-out target orders, always next to its baselines in the same run.

:func:`evaluate_pairs` fits the model (and the logistic-regression baseline) on one
:class:`~growthkit.models.reorder.PairTable` and scores every scorer on another:

* ranking of the pairs: ROC-AUC and PR-AUC (average precision), and the Brier score of the
  probabilities (:mod:`growthkit.models.churn.metrics`);
* baskets, as mean per-order F1 with the competition's ``None`` convention
  (:mod:`~growthkit.models.reorder.f1`): with a global threshold (tuned on held-out training
  users for the models, on the training pairs for the frequency rule), with per-user
  expected-F1 maximisation, and as the top ``N`` (``N`` = the user's mean basket size);
* precision and recall of each user's top ``k`` items, ``k`` = the size of the target order
  (known only afterwards: a fair ranking comparison, not a deployable rule);
* the ceiling: the share of the target orders' items that were bought before at all.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from growthkit.models.churn.metrics import average_precision, brier_score, roc_auc
from growthkit.models.reorder._base import F64, I64, ReorderError, check_pair_labels, check_pairs, user_codes
from growthkit.models.reorder.baselines import frequency_score, per_user, usual_basket_size
from growthkit.models.reorder.estimator import ReorderModel
from growthkit.models.reorder.f1 import at_basket_size, best_threshold, expected_f1_sets, order_f1, top_k
from growthkit.models.reorder.features import PairTable

METRIC_COLUMNS: tuple[str, ...] = (
    "model", "roc_auc", "pr_auc", "brier", "precision_at_basket", "recall_at_basket", "threshold", "f1_threshold",
    "f1_expected", "f1_top_n",
)  # fmt: skip


@dataclass(frozen=True)
class ReorderMetrics:
    """Every metric of one scorer on the test pairs (NaN where it does not apply)."""

    model: str
    roc_auc: float
    pr_auc: float
    brier: float
    precision_at_basket: float
    recall_at_basket: float
    threshold: float
    """The global threshold used for ``f1_threshold``."""
    f1_threshold: float
    f1_expected: float
    """Mean F1 of per-user expected-F1 maximisation (scorers whose score is a probability)."""
    f1_top_n: float
    """Mean F1 of each user's top N, N = the user's mean basket size."""

    def to_dict(self) -> dict[str, Any]:
        """Plain values, NaN as None."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ReorderEvaluation:
    """A reorder model and its baselines on the same test orders.

    ``metrics``: the model first, then ``logistic`` (when the model is not itself logistic),
    ``frequency`` and ``everything``. ``reorder_share`` is the ceiling: the share of the
    target orders' items bought before (no reorder model can predict the rest);
    ``orders_with_reorder`` the share of target orders with at least one reorder
    (``1 - orders_with_reorder`` is the F1 of always predicting ``None``).
    """

    model: str
    protocol: str
    train_on: str
    n_train_users: int
    n_test_users: int
    n_train_pairs: int
    n_test_pairs: int
    train_rate: float
    test_rate: float
    reorder_share: float
    orders_with_reorder: float
    mean_target_size: float
    calibration: str
    metrics: tuple[ReorderMetrics, ...]
    top_features: tuple[str, ...]
    fit_seconds: float
    seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def f1_none(self) -> float:
        """Mean F1 of always predicting ``None`` (no reorder): the share of target orders without one."""
        return 1.0 - self.orders_with_reorder

    def metric(self, name: str) -> ReorderMetrics:
        """The metrics of scorer ``name`` (``lightgbm``, ``logistic``, ``frequency``, ``everything``)."""
        for m in self.metrics:
            if m.model == name:
                return m
        raise KeyError(f"no scorer {name!r}; have {', '.join(m.model for m in self.metrics)}")

    def to_frame(self) -> pd.DataFrame:
        """One row per scorer."""
        rows = [{k: getattr(m, k) for k in METRIC_COLUMNS} for m in self.metrics]
        return pd.DataFrame(rows, columns=list(METRIC_COLUMNS)).set_index("model")

    def to_markdown(self, digits: int = 3) -> str:
        """The metrics table as Markdown (for docs and benchmark output; ``-`` where a metric does not apply)."""
        head = "| scorer | ROC-AUC | PR-AUC | Brier | P@size | R@size | F1 threshold | F1 expected | F1 top-N |"
        lines = [head, "|---|" + "---:|" * 8]
        for m in self.metrics:
            vals = [getattr(m, c) for c in METRIC_COLUMNS[1:] if c != "threshold"]
            cells = ["-" if math.isnan(v) else f"{v:.{4 if c == 2 else digits}f}" for c, v in enumerate(vals)]
            lines.append(f"| {m.model} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as None)."""
        out: dict[str, Any] = {
            k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("metrics", "notes", "top_features")
        }
        out = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}
        out["fit_seconds"], out["seconds"] = round(self.fit_seconds, 3), round(self.seconds, 3)
        out["f1_none"] = self.f1_none
        out["metrics"] = [m.to_dict() for m in self.metrics]
        out["top_features"] = list(self.top_features)
        out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True)
class _Test:
    codes: I64
    n_users: int
    y: I64
    size: I64
    top_n: I64


def _test_frame(test: PairTable) -> _Test:
    if test.y is None:
        raise ReorderError("the test pairs have no labels (target 'next'); evaluate on a past target order")
    x = check_pairs(test.x, "the test pairs")
    y = check_pair_labels(test.y, x.index)
    codes, users = user_codes(x.index)  # type: ignore[arg-type]
    if "target_size" not in test.users.columns:
        raise ReorderError("the test users lack target_size; build the test pairs with build_pair_features")
    size = test.users["target_size"].reindex(users).fillna(0).to_numpy(dtype=np.int64)
    top_n = per_user(codes, len(users), usual_basket_size(x))
    return _Test(codes, len(users), y, size, top_n)


def _scorer(
    name: str, t: _Test, score: F64, threshold: float, *, probability: bool, tiebreak: F64 | None = None
) -> ReorderMetrics:
    prec, rec = at_basket_size(t.codes, t.n_users, score, t.y, t.size)
    f1_t = float(order_f1(t.codes, t.n_users, score >= threshold, t.y).mean())
    f1_e = math.nan
    if probability:
        sel, none, _ = expected_f1_sets(t.codes, t.n_users, score)
        f1_e = float(order_f1(t.codes, t.n_users, sel, t.y, none).mean())
    f1_n = float(order_f1(t.codes, t.n_users, top_k(t.codes, score, t.top_n, tiebreak), t.y).mean())
    return ReorderMetrics(
        model=name,
        roc_auc=roc_auc(t.y, score),
        pr_auc=average_precision(t.y, score),
        brier=brier_score(t.y, np.clip(score, 0.0, 1.0)) if probability else math.nan,
        precision_at_basket=prec,
        recall_at_basket=rec,
        threshold=threshold,
        f1_threshold=f1_t,
        f1_expected=f1_e,
        f1_top_n=f1_n,
    )


def evaluate_pairs(
    train: PairTable, test: PairTable, *, model: ReorderModel | None = None, with_logistic: bool = True
) -> ReorderEvaluation:
    """Fit ``model`` (default ``ReorderModel()``) and the logistic baseline on ``train``; score all on ``test``.

    The ``frequency`` rule's threshold is tuned on the training pairs; ``everything`` predicts
    every candidate (its F1 is in ``f1_threshold``).

    Examples
    --------
    >>> from growthkit.models.reorder import build_pair_features
    >>> ev = evaluate_pairs(build_pair_features(store, offset=1), build_pair_features(store))  # doctest: +SKIP
    >>> ev.to_frame()[["pr_auc", "f1_expected"]]  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    est = model if model is not None else ReorderModel()
    if train.y is None:
        raise ReorderError("the training pairs have no labels (target 'next'); train on a past target order")
    t = _test_frame(test)
    t1 = time.perf_counter()
    est.fit(train.x, train.y)
    fit_seconds = time.perf_counter() - t1
    x_test = test.x
    metrics = [_scorer(est.model, t, est.predict_proba(x_test)[:, 1], est.threshold_, probability=True)]
    if with_logistic and est.model != "logistic":
        logit = ReorderModel(**(est.get_params() | {"model": "logistic"})).fit(train.x, train.y)
        p = logit.predict_proba(x_test)[:, 1]
        metrics.append(_scorer("logistic", t, p, logit.threshold_, probability=True))
    ytr = check_pair_labels(train.y, train.x.index)
    tr_codes, tr_users = user_codes(train.x.index)  # type: ignore[arg-type]
    freq_train, _ = frequency_score(train.x)
    freq_t, _ = best_threshold(tr_codes, len(tr_users), freq_train, ytr)
    freq, recent = frequency_score(x_test)
    metrics.append(_scorer("frequency", t, freq, freq_t, probability=True, tiebreak=recent))
    ones = np.ones(len(x_test))
    metrics.append(_scorer("everything", t, ones, 1.0, probability=False))
    metrics[-1] = _drop_ranking(metrics[-1])
    size = test.users["target_size"].to_numpy(dtype=np.float64)
    reorders = test.users["target_reorders"].to_numpy(dtype=np.float64)
    notes = []
    if est.calibrator_ is None and est.calibration is not None:
        notes.append("too few held-out pairs to calibrate: the model's probabilities are uncalibrated")
    return ReorderEvaluation(
        model=est.model,
        protocol=test.target,
        train_on="",
        n_train_users=train.users.shape[0],
        n_test_users=t.n_users,
        n_train_pairs=train.n_pairs,
        n_test_pairs=test.n_pairs,
        train_rate=float(ytr.mean()),
        test_rate=float(t.y.mean()),
        reorder_share=float(reorders.sum() / size.sum()) if size.sum() > 0 else math.nan,
        orders_with_reorder=float((reorders > 0).mean()),
        mean_target_size=float(size.mean()),
        calibration=est.describe_calibration(),
        metrics=tuple(metrics),
        top_features=tuple(str(f) for f in est.feature_importance().index[:5]),
        fit_seconds=fit_seconds,
        seconds=time.perf_counter() - t0,
        notes=tuple(notes),
    )


def _drop_ranking(m: ReorderMetrics) -> ReorderMetrics:
    """``everything`` ranks nothing: its top-k baskets would be arbitrary items, so they are not reported."""
    nan = math.nan
    return ReorderMetrics(**(asdict(m) | {"f1_top_n": nan, "precision_at_basket": nan, "recall_at_basket": nan}))
