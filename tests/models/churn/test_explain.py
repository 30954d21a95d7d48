"""Per-user reasons: the planted feature is named, sentences are plain, deterministic, English and Chinese."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from growthkit.features import FEATURES
from growthkit.models.churn import ChurnError, ChurnModel, explain_contributions, first_reason, reasons_json, sentence
from growthkit.models.churn.reasons import concept

Data = tuple[pd.DataFrame, pd.Series]


@pytest.fixture(scope="module")
def fitted(train: Data) -> ChurnModel:
    x, y = train
    return ChurnModel(n_estimators=40, n_jobs=1).fit(x, y)


@pytest.mark.parametrize("model", ["lightgbm", "logistic"])
def test_high_risk_users_are_explained_by_the_planted_feature(model: str, train: Data, holdout: Data) -> None:
    (x, y), (xt, _) = train, holdout
    m = ChurnModel(model=model, n_estimators=40, n_jobs=1).fit(x, y)
    risky = xt[xt.recency_days > 90].iloc[:50]
    ex = m.explain(risky, top=3)
    assert list(ex.columns) == ["user_id", "rank", "feature", "value", "typical", "contribution", "text"]
    first = ex[ex["rank"] == 1]
    assert len(first) == len(risky) and (first["feature"] == "recency_days").all()
    assert (first["contribution"] > 0).all()
    gap = (
        r"^(no purchase for \d+ days, \d+\.\dx their usual gap of \d+ days"
        r"|last purchase \d+ days ago, within their usual gap of \d+ days"
        r"|no purchase for \d+ days since the first one \(typical: \d+ days\))$"
    )
    assert first["text"].str.match(gap).all()
    assert first["text"].str.startswith("no purchase for").mean() > 0.5
    # the same users in Chinese
    zh = m.explain(risky, top=1, lang="zh")
    assert zh["text"].str.contains("购买").all() and zh["text"].str.contains("天").all()
    # safe users are explained by what keeps their score low (recency again, pushing down)
    safe = m.explain(xt[xt.recency_days < 5].iloc[:20], top=1)
    assert (safe["feature"] == "recency_days").all() and (safe["contribution"] < 0).all()


def test_explanations_are_deterministic_and_ordered(fitted: ChurnModel, holdout: Data) -> None:
    xt = holdout[0].iloc[:100]
    a, b = fitted.explain(xt, top=3), fitted.explain(xt, top=3)
    pd.testing.assert_frame_equal(a, b)
    for _, g in a.groupby("user_id"):
        assert g["rank"].tolist() == list(range(1, len(g) + 1))
        assert g["contribution"].abs().is_monotonic_decreasing
        assert g["feature"].map(concept).is_unique
    assert list(dict.fromkeys(a["user_id"])) == [str(u) for u in xt.index]


def test_reasons_as_json_and_first_reason(fitted: ChurnModel, holdout: Data) -> None:
    xt = holdout[0].iloc[:10]
    ex = fitted.explain(xt, top=2, lang="zh")
    js = reasons_json(ex, xt.index)
    parsed = json.loads(js.iloc[0])
    assert [r["feature"] for r in parsed] == ex[ex.user_id == xt.index[0]]["feature"].tolist()
    assert "天" in parsed[0]["text"] if parsed[0]["feature"] == "recency_days" else True
    assert not js.iloc[0].count("\\u")  # Chinese kept readable
    top = first_reason(ex, xt.index)
    assert top.index.equals(xt.index) and top.iloc[0] == parsed[0]["text"]


def test_one_reason_per_concept() -> None:
    x = pd.DataFrame({"purchase_count_7d": [0.0], "purchase_count_30d": [0.0], "recency_days": [50.0]}, index=["u"])
    contrib = np.array([[0.5, 0.9, 0.2]])
    ex = explain_contributions(
        x, contrib, 0.0, pd.Series({"purchase_count_7d": 1.0, "purchase_count_30d": 2.0, "recency_days": 10.0}), top=3
    )
    assert ex["feature"].tolist() == ["purchase_count_30d", "recency_days"]
    assert ex["text"].tolist()[0] == "0 purchases in the last 30 days (typical: 2 purchases)"


def test_bad_explain_arguments(fitted: ChurnModel, holdout: Data) -> None:
    with pytest.raises(ChurnError, match="lang must be one of en, zh"):
        fitted.explain(holdout[0].iloc[:2], lang="fr")
    with pytest.raises(ChurnError, match="top must be a positive integer"):
        fitted.explain(holdout[0].iloc[:2], top=0)


CASES = [
    (
        "recency_days",
        64.2,
        20.0,
        {"frequency": 6, "tenure_days": 190, "has_purchased": 1},
        "en",
        "no purchase for 64 days, 3.1x their usual gap of 21 days",
    ),
    (
        "recency_days",
        64.2,
        20.0,
        {"frequency": 6, "tenure_days": 190, "has_purchased": 1},
        "zh",
        "已64天未购买，是平时购买间隔（21天）的3.1倍",
    ),
    (
        "recency_days",
        5.0,
        20.0,
        {"frequency": 6, "tenure_days": 190, "has_purchased": 1},
        "en",
        "last purchase 5 days ago, within their usual gap of 31 days",
    ),
    (
        "recency_days",
        40.0,
        20.0,
        {"frequency": 1, "tenure_days": 60, "has_purchased": 1},
        "en",
        "no purchase for 40 days since the first one (typical: 20 days)",
    ),
    ("recency_days", 90.0, 20.0, {"frequency": 0, "tenure_days": 90, "has_purchased": 0}, "zh", "注册90天以来从未购买"),
    ("days_since_last_event", 0.4, 7.0, None, "en", "no visit or other activity for less than a day (typical: 7 days)"),
    ("frequency", 1, 3, None, "en", "1 purchase in total (typical: 3 purchases)"),
    ("frequency", 1, 3, None, "zh", "累计购买1次（一般用户：3次）"),
    ("monetary_total", 1234.5, 80.25, None, "en", "spent 1,234 in total (typical: 80.25)"),
    ("purchase_count_30d", 0, 1, None, "zh", "近30天购买0次（一般用户：1次）"),
    (
        "coupon_received_count_90d",
        1,
        2,
        None,
        "en",
        "1 coupon received in the last 90 days (typical: 2 coupons received)",
    ),
    ("purchase_amount_7d", 0, 35.5, None, "en", "spent 0 in the last 7 days (typical: 35.50)"),
    ("active_days_30d", 2, 9, None, "zh", "近30天中活跃2天（一般用户：9天）"),
    ("trend_events_30d", -1.0, 0.0, None, "en", "no activity in the last 30 days, after some in the 30 before"),
    ("trend_events_30d", -0.5, 0.0, None, "en", "activity down 67% in the last 30 days compared with the 30 before"),
    ("trend_revenue_30d", 0.2, 0.0, None, "zh", "近30天消费额比前30天上升50%"),
    ("coupon_redeem_rate", 0.25, 0.5, None, "en", "uses 25% of the coupons received (typical: 50%)"),
    ("review_sentiment", -0.6, 0.0, None, "en", "mostly negative reviews (sentiment -0.60)"),
    ("has_purchased", 0, 1, None, "zh", "从未购买"),
    ("channel__ads", 1, 0, None, "en", "came through the ads channel"),
    ("cat_share__beauty", 0.4, 0.1, None, "en", "40% of browsing in beauty (typical: 10%)"),
    ("cat_share__服饰", 0.4, 0.1, None, "zh", "40%的浏览在服饰类目（一般用户：10%）"),
    ("session_minutes_mean", 1.0, 4.5, None, "en", "visits last 1 minute on average (typical: 4.5 minutes)"),
    ("text_pc2", 0.123, 0.0, None, "en", "search and review topics (text component 2: 0.12) (typical: 0)"),
    ("my_custom_column", 3.0, 1.0, None, "en", "my_custom_column: 3 (typical: 1)"),
    ("view_count_14d", 3.0, float("nan"), None, "en", "3 product views in the last 14 days"),
]


@pytest.mark.parametrize(("name", "value", "typical", "row", "lang", "expected"), CASES)
def test_sentences(
    name: str, value: float, typical: float, row: dict[str, float] | None, lang: str, expected: str
) -> None:
    assert sentence(name, value, typical, lang, row) == expected


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_catalogue_feature_has_a_sentence(lang: str) -> None:
    names = [*FEATURES, "cat_share__other", "channel__other", "has_text", "text_pc1"]
    texts = [sentence(n, 3.0, 1.0, lang, {"frequency": 2, "tenure_days": 30}) for n in names]
    assert all(texts) and not any("_" in t for t in texts)  # words, not column names
    if lang == "zh":
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts)
    with pytest.raises(ValueError, match="lang"):
        sentence("frequency", 1, 1, "de")
