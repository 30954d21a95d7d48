"""Per-user reasons: the features that moved a user's score most, written as sentences.

Input: each user's feature contributions to the model's log-odds (SHAP values for gradient
boosting, ``coef * standardised value`` for the logistic model; they add up to the user's
margin minus the average margin). For a user scored *above* the average the reasons are the
features with the largest positive contributions (what raises the score); for a user scored
below it, the largest negative ones (what keeps it low). Columns that say the same thing in
other words (:func:`~growthkit.models.churn.reasons.concept`: all windows of one event type,
recent activity, spend totals, channel flags) give one reason at most, the strongest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from growthkit.models.churn._validate import F64, ChurnError
from growthkit.models.churn.reasons import LANGS, concept, sentence

CONTEXT_COLUMNS: tuple[str, ...] = ("frequency", "tenure_days", "has_purchased")
"""Columns a sentence may use besides the explained one (the recency sentence compares with the user's own gap)."""

REASON_COLUMNS: tuple[str, ...] = ("user_id", "rank", "feature", "value", "typical", "contribution", "text")


def _groups(columns: Sequence[str]) -> list[npt.NDArray[np.intp]]:
    by: dict[str, list[int]] = {}
    for j, c in enumerate(columns):
        by.setdefault(concept(c), []).append(j)
    return [np.asarray(v, dtype=np.intp) for v in by.values()]


def top_reasons(
    contrib: F64, up: npt.NDArray[np.bool_], columns: Sequence[str], top: int
) -> tuple[F64, npt.NDArray[np.intp]]:
    """Per user, the ``top`` strongest features in the score's direction, one per concept.

    Returns ``(strength, column)`` arrays of shape ``(n, top)``: the signed contribution of the
    chosen columns (ordered by ``|contribution|`` in the score's direction) and their column
    numbers; a slot is ``-1`` where the user has fewer reasons than ``top``.
    """
    n = contrib.shape[0]
    signed = np.where(up[:, None], contrib, -contrib)
    groups = _groups(columns)
    best = np.empty((n, len(groups)))
    best_col = np.empty((n, len(groups)), dtype=np.intp)
    rows = np.arange(n)
    for g, cols in enumerate(groups):
        arg = np.argmax(signed[:, cols], axis=1)
        best_col[:, g] = cols[arg]
        best[:, g] = signed[rows, best_col[:, g]]
    k = min(top, len(groups))
    order = np.argsort(-best, axis=1, kind="stable")[:, :k]
    strength = np.take_along_axis(best, order, axis=1)
    chosen = np.take_along_axis(best_col, order, axis=1)
    chosen = np.where(strength > 1e-12, chosen, -1)
    return np.where(chosen >= 0, np.take_along_axis(contrib, np.maximum(chosen, 0), axis=1), 0.0), chosen


def explain_contributions(
    x: pd.DataFrame,
    contrib: F64,
    expected: float,
    typical: pd.Series,
    *,
    top: int = 3,
    lang: str = "en",
) -> pd.DataFrame:
    """The reasons table: one row per (user, rank) with the feature, values, contribution and sentence.

    Parameters
    ----------
    x : DataFrame
        The users' features (index ``user_id``), columns in the order of ``contrib``.
    contrib : ndarray of shape (n_users, n_features)
        Contributions to the log-odds margin.
    expected : float
        The average margin (the contributions' baseline): users above it are explained by
        what raises their score, users below it by what lowers it.
    typical : Series
        The typical (median) value of every feature, for "(typical: …)".
    top : int
        Reasons per user (fewer when fewer features push in the score's direction).
    lang : {"en", "zh"}
        Language of the sentences.

    Returns
    -------
    DataFrame
        Columns ``user_id, rank, feature, value, typical, contribution, text``; rank 1 is the
        strongest reason; users in the order of ``x``.
    """
    if lang not in LANGS:
        raise ChurnError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ChurnError(f"top must be a positive integer, not {top!r}")
    columns = [str(c) for c in x.columns]
    margin = contrib.sum(axis=1) + expected
    strength, chosen = top_reasons(contrib, margin >= expected, columns, top)
    values = x.to_numpy(dtype=np.float64, copy=False)
    typ = typical.reindex(columns).to_numpy(dtype=np.float64)
    ctx_idx = {c: columns.index(c) for c in CONTEXT_COLUMNS if c in columns}
    users, ranks = np.nonzero(chosen >= 0)
    cols = chosen[users, ranks]
    vals = values[users, cols]
    texts = []
    for u, j, v in zip(users.tolist(), cols.tolist(), vals.tolist(), strict=True):
        name = columns[j]
        row = {c: float(values[u, k]) for c, k in ctx_idx.items()} if name == "recency_days" else None
        texts.append(sentence(name, v, float(typ[j]), lang, row))
    return pd.DataFrame(
        {
            "user_id": x.index.to_numpy()[users].astype(str),
            "rank": (ranks + 1).astype(np.int64),
            "feature": np.asarray(columns, dtype=object)[cols],
            "value": vals,
            "typical": typ[cols],
            "contribution": strength[users, ranks],
            "text": texts,
        },
        columns=list(REASON_COLUMNS),
    )


def reasons_json(reasons: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Per user (in the order of ``index``), a JSON list ``[{"feature", "text", "contribution"}, …]``."""
    per: dict[str, list[dict[str, object]]] = {}
    for u, f, t, c in zip(
        reasons["user_id"].tolist(),
        reasons["feature"].tolist(),
        reasons["text"].tolist(),
        reasons["contribution"].tolist(),
        strict=True,
    ):
        per.setdefault(u, []).append({"feature": f, "text": t, "contribution": round(float(c), 4)})
    out = [json.dumps(per.get(str(u), []), ensure_ascii=False) for u in index]
    return pd.Series(out, index=index, name="reasons", dtype=object)


def first_reason(reasons: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Per user (in the order of ``index``), the text of the strongest reason ("" when none)."""
    first = reasons[reasons["rank"] == 1].set_index("user_id")["text"]
    return first.reindex([str(u) for u in index]).fillna("").set_axis(index).rename("top_reason")
