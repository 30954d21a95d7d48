"""Review sentiment and topics on a store: scoring into review_sentiment, topics per category, trends."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.features.text_cache import TABLE as CACHE_TABLE
from growthkit.store import open_store
from growthkit.text.embed import FloatMatrix
from growthkit.workflows import reviews as wf

# Three themes; delivery reviews are negative (1-2 stars), quality and service positive (4-5 stars).
THEMES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], str]] = {
    "delivery": (
        "neg",
        ("物流", "快递", "发货"),
        ("太慢了", "很久没到", "一直没到", "包装破损"),
        "Fashion > Dresses",
    ),
    "quality": ("pos", ("质量", "做工", "面料"), ("非常好", "很结实", "比想象的好", "手感很棒"), "Fashion > Shirts"),
    "service": ("pos", ("客服", "售后", "店家"), ("态度很好", "很耐心", "回复及时", "处理得很快"), "Home > Kitchen"),
}


def shop(settings: Settings, *, per_theme: int = 40, seed: int = 3) -> Settings:
    """A store with items in 2 top categories, reviews on the three themes over Jan-Feb 2025, and searches."""
    rng = random.Random(seed)
    items = {theme: f"item-{theme}" for theme in THEMES}
    rows: dict[str, list[object]] = {k: [] for k in ("review_id", "user_id", "item_id", "ts", "rating", "text")}
    n = 0
    for theme, (mood, subjects, comments, _) in THEMES.items():
        made: set[str] = set()
        while len(made) < per_theme:
            text = f"{rng.choice(subjects)}{rng.choice(comments)}，{rng.choice(subjects)}{rng.choice(comments)}"
            if text in made:
                continue
            made.add(text)
            n += 1
            rows["review_id"].append(f"r{n:03d}")
            rows["user_id"].append(f"u{n % 17}")
            rows["item_id"].append(items[theme])
            rows["ts"].append(datetime(2025, 1, 1) + timedelta(days=rng.randrange(0, 59), hours=rng.randrange(24)))
            rows["rating"].append(float(rng.choice([1, 2]) if mood == "neg" else rng.choice([4, 5])))
            rows["text"].append(text)
    reviews = pa.table({**rows, "ts": pa.array(rows["ts"], pa.timestamp("us"))})
    item_rows = pa.table({"item_id": list(items.values()), "category": [v[3] for v in THEMES.values()]})
    queries = ["连衣裙", "连衣裙", "连衣裙 推荐", "衬衫", "衬衫 纯棉", "电热水壶", "电热水壶 便宜", "best kettle"]
    events = pa.table(
        {
            "event_id": [f"e{i}" for i in range(len(queries) + 1)],
            "user_id": ["u1"] * (len(queries) + 1),
            "ts": pa.array([datetime(2025, 1, 5)] * (len(queries) + 1), pa.timestamp("us")),
            "event_type": ["search"] * len(queries) + ["view"],
            "query": [*queries, "not a search"],
        }
    )
    with open_store(settings) as st:
        with st.register("r", reviews):
            st.execute("INSERT INTO reviews (review_id, user_id, item_id, ts, rating, text) SELECT * FROM r")
        with st.register("i", item_rows):
            st.execute("INSERT INTO items (item_id, category) SELECT * FROM i")
        with st.register("e", events):
            st.execute("INSERT INTO events (event_id, user_id, ts, event_type, query) SELECT * FROM e")
    return settings.model_copy(update={"embed_backend": "tfidf"})


def test_reading_reviews_and_queries(settings: Settings) -> None:
    s = shop(settings)
    with open_store(s, read_only=True) as st:
        r = wf.read_reviews(st)
        q = wf.read_search_queries(st)
    assert len(r) == 120 and set(r["category"]) == {v[3] for v in THEMES.values()}
    assert q.iloc[0].tolist() == ["连衣裙", 2] and int(q["n"].sum()) == 8 and "not a search" not in set(q["query"])


def test_score_sentiment_writes_the_table_and_groups(settings: Settings) -> None:
    s = shop(settings)
    rep = wf.score_sentiment(s, period="month")
    assert rep.n_reviews == 120 and rep.table == "review_sentiment" and 80 <= rep.n_train <= 110
    assert rep.trained_on.startswith("store ratings (120 distinct")
    assert rep.holdout_accuracy is not None and rep.holdout_accuracy > 0.8
    cats = {g.key: g for g in rep.by_category}
    assert set(cats) == {"Fashion", "Home"}  # top-level categories
    assert cats["Fashion"].n == 80 and cats["Home"].n == 40
    assert cats["Home"].mean_sentiment > 0.3 > cats["Fashion"].mean_sentiment  # delivery complaints are in Fashion
    assert [g.key for g in rep.by_period] == ["2025-01-01", "2025-02-01"] and sum(g.n for g in rep.by_period) == 120
    with open_store(s, read_only=True) as st:
        t = st.query("SELECT * FROM review_sentiment ORDER BY review_id").to_pandas()
    assert len(t) == 120 and t["sentiment"].between(-1, 1).all() and set(t["label"]) == {0, 1}
    assert (t["label"] == (t["sentiment"] >= 0)).all() and t["model"].iloc[
        0
    ] == f"logistic({rep.embedder}) + char n-grams"
    neg = t["review_id"].isin([f"r{i:03d}" for i in range(1, 41)])  # the delivery reviews
    assert (t.loc[neg, "sentiment"] < 0).mean() > 0.9 and (t.loc[~neg, "sentiment"] > 0).mean() > 0.9
    assert rep.to_dict()["by_category"][0]["key"] == "Fashion"


def test_score_sentiment_needs_labels_or_a_dataset(settings: Settings) -> None:
    s = shop(settings)
    with open_store(s) as st:
        st.execute("UPDATE reviews SET rating = 5")
    with pytest.raises(ConfigError, match="--train-dataset zh-reviews"):
        wf.score_sentiment(s)
    with open_store(s) as st:
        assert "review_sentiment" not in st.tables()


def test_no_write_leaves_the_store_alone(settings: Settings) -> None:
    s = shop(settings)
    rep = wf.score_sentiment(s, write=False, period="week")
    assert rep.table is None and rep.by_period[0].key == "2024-12-30"  # 2025-01-01 is a Wednesday
    with open_store(s, read_only=True) as st:
        assert "review_sentiment" not in st.tables()


def test_review_topics_per_category_and_over_time(settings: Settings) -> None:
    s = shop(settings)
    rep = wf.review_topics(s, period="month")
    assert rep.k == 3 and rep.n_texts == 120 and rep.n_total == 120 and rep.sentiment_source.startswith("ratings")
    assert rep.namer == "template/template" and all(t.name == " / ".join(t.terms[:3]) for t in rep.topics)
    assert rep.embedder == "tfidf-char2-4-svd128"
    names = {t.topic_id: t.name for t in rep.topics}
    home = next(c for c in rep.by_category if c.category == "Home")
    assert home.n == 40 and len(home.topics) == 1 and home.topics[0][1] == 40  # one topic: service
    assert any(w in names[home.topics[0][0]] for w in ("客服", "售后", "店家"))
    fashion = next(c for c in rep.by_category if c.category == "Fashion")
    assert [n for _, n in fashion.topics] == [40, 40]
    by_topic: dict[int, list[float]] = {}
    for p in rep.trend:
        by_topic.setdefault(p.topic, []).append(p.mean_sentiment)
        assert p.period.day == 1 and p.n > 0
    assert sum(p.n for p in rep.trend) == 120
    delivery = (
        home.topics[0][0] if False else next(t.topic_id for t in rep.topics if "物流" in t.terms or "快递" in t.terms)
    )
    assert max(by_topic[delivery]) < 0 < min(v for t, vs in by_topic.items() if t != delivery for v in vs)
    d = rep.to_dict()
    assert d["trend"][0]["period"].endswith("-01") and set(d["silhouettes"]) <= {str(k) for k in range(2, 9)}
    wf.score_sentiment(s)  # now the review_sentiment table is the source
    assert wf.review_topics(s).sentiment_source == "review_sentiment table"


def test_query_topics(settings: Settings) -> None:
    s = shop(settings)
    rep = wf.review_topics(s, source="queries", n_topics=3)
    assert rep.n_total == 8 and rep.n_texts == 7 and rep.k == 3 and rep.trend == () and rep.by_category == ()
    assert sum(t.size for t in rep.topics) == 8
    with pytest.raises(ConfigError, match="'reviews' or 'queries'"):
        wf.review_topics(s, source="orders")  # type: ignore[arg-type]


class PretrainedStandIn:
    """Any embedder that is not the TF-IDF baseline (a pretrained model): hashed words."""

    backend, name, dim = "stand-in", "stand-in-v1", 32

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        self.seen += list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for j in range(len(t) - 1):
                out[i, hash(t[j : j + 2]) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_pretrained_embeddings_are_cached_in_the_store(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    s = shop(settings)
    stand_in = PretrainedStandIn()
    monkeypatch.setattr(wf, "make_embedder", lambda settings, kind="query": stand_in)
    rep = wf.review_topics(s, n_topics=3)
    assert rep.embedder == "stand-in-v1" and len(stand_in.seen) == 120
    wf.score_sentiment(s)
    assert len(stand_in.seen) == 120  # every text came from the cache the second time
    with open_store(s, read_only=True) as st:
        assert st.scalar(f"SELECT count(*) FROM {CACHE_TABLE} WHERE model = 'stand-in-v1'") == 120


def test_evaluate_on_the_stores_ratings(settings: Settings) -> None:
    s = shop(settings)
    ev = wf.evaluate_sentiment(s, dataset=None, embedders=("tfidf",))
    assert ev.dataset.startswith("store ") and ev.n_train + ev.n_test == 120
    assert ev.best(baseline=False).accuracy > 0.8 and [s.model for s in ev.scores][:3] == [
        "logistic on TF-IDF SVD-128",
        "TF-IDF SVD-128 + char n-grams",
        "majority class",
    ]
    with pytest.raises(ConfigError, match="unknown embedder"):
        wf.evaluate_sentiment(s, dataset=None, embedders=("bert",))
