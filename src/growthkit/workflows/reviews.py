"""Use cases for what customers write: review sentiment and the topics of reviews and search queries.

* :func:`evaluate_sentiment` — accuracy and macro F1 of the sentiment classifier on a
  fixed held-out split of a labelled corpus (the ``zh-reviews`` sample dataset, or the
  store's rated reviews), beside the majority-class and character n-gram baselines.
* :func:`score_sentiment` — fits the classifier on the store's rated reviews (4-5 stars
  positive, 1-2 negative; or on a sample dataset), scores every review with text and
  writes the derived table ``review_sentiment(review_id, sentiment, label, model,
  scored_at)`` (sentiment in [-1, 1]; replaced as a whole in one transaction), with the
  mean sentiment per category and per week or month.
* :func:`review_topics` — topics of the review texts (or of the search queries of
  ``search`` events), named by the configured language model (the template backend
  names them from their terms), the top topics per category (reviews joined to
  ``items.category``) and the sentiment per topic per period.

Embeddings come from :func:`growthkit.text.embed.make_embedder` and are cached in the
store (``embedding_cache``) when the store is writable. When the settings resolve to
the TF-IDF baseline, each model fits its own TF-IDF on the texts it sees.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from growthkit.config import MEMORY_DB, Settings
from growthkit.datasets import load as load_dataset
from growthkit.errors import ConfigError
from growthkit.features.text_cache import CachedEmbedder
from growthkit.models.text.corpus import SPLIT_SEED, TEST_FRACTION, fixed_split, labels_from_ratings
from growthkit.models.text.naming import RENDERERS, name_topics
from growthkit.models.text.sentiment import (
    SentimentClassifier,
    SentimentEvaluation,
    TextClassifier,
    accuracy_and_macro_f1,
    evaluate_sentiment_models,
)
from growthkit.models.text.topics import Topic, TopicModel
from growthkit.models.text.trend import Period, TrendPoint, period_start, sentiment_trend
from growthkit.store import Store, open_store
from growthkit.text.embed import EMBED_BACKENDS, Embedder, TfidfEmbedder, make_embedder
from growthkit.workflows.llm import generator_from_settings

log = logging.getLogger(__name__)

SENTIMENT_TABLE = "review_sentiment"
MIN_PER_CLASS = 20
"""Fewest positive (and negative) rated reviews to train on the store's own ratings."""
TopicSource = Literal["reviews", "queries"]


# ---------------------------------------------------------------- reading the store


def read_reviews(store: Store) -> pd.DataFrame:
    """Reviews with text, joined to their item's category: ``review_id, user_id, item_id, ts, rating, text,
    language, category`` (ordered by ``review_id``)."""
    cat = "i.category" if "items" in store.tables() else "CAST(NULL AS VARCHAR)"
    join = "LEFT JOIN items i ON i.item_id = r.item_id" if "items" in store.tables() else ""
    frame: pd.DataFrame = store.query(
        f"SELECT r.review_id, r.user_id, r.item_id, r.ts, r.rating, trim(r.text) AS text, r.language, "
        f"{cat} AS category FROM reviews r {join} "
        "WHERE r.text IS NOT NULL AND trim(r.text) <> '' ORDER BY r.review_id"
    ).to_pandas()
    return frame


def read_search_queries(store: Store) -> pd.DataFrame:
    """Distinct search queries of ``search`` events with how often each was searched: ``query, n``."""
    frame: pd.DataFrame = store.query(
        "SELECT trim(query) AS query, count(*) AS n FROM events "
        "WHERE event_type = 'search' AND query IS NOT NULL AND trim(query) <> '' "
        "GROUP BY 1 ORDER BY n DESC, query"
    ).to_pandas()
    return frame


def dataset_reviews(settings: Settings, name: str) -> pd.DataFrame:
    """Fetch sample dataset ``name`` (cached), load it into a temporary store and read its reviews."""
    with tempfile.TemporaryDirectory(prefix="growthkit-reviews-") as tmp:
        mem = settings.model_copy(update={"db": MEMORY_DB, "workspace": Path(tmp)})
        with open_store(mem) as store:
            load_dataset(name, store, mem)
            return read_reviews(store)


def resolve_embedder(settings: Settings, store: Store | None = None) -> Embedder | None:
    """The embedder of ``settings`` for the text models, cached in ``store`` when it is writable;
    ``None`` when it is the TF-IDF baseline (each model then fits its own on its texts)."""
    emb = make_embedder(settings, kind="query")
    if isinstance(emb, TfidfEmbedder):
        return None
    if store is not None and not store.read_only:
        return CachedEmbedder(emb, store)
    return emb


def _category(value: Any, depth: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
        return "(none)"
    return " > ".join(p.strip() for p in str(value).split(">")[:depth])


# ---------------------------------------------------------------- sentiment: evaluation


def evaluate_sentiment(
    settings: Settings,
    *,
    dataset: str | None = "zh-reviews",
    embedders: Sequence[str] | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    test_fraction: float = TEST_FRACTION,
    seed: int = SPLIT_SEED,
    cache_db: str | None = None,
) -> SentimentEvaluation:
    """Held-out accuracy and macro F1 of the sentiment classifier on each embedder, and of the baselines.

    Parameters
    ----------
    settings
        The store (when ``dataset`` is None), the dataset cache and the embedder settings.
    dataset
        A labelled sample dataset (``zh-reviews``); ``None``: the store's rated reviews.
    embedders
        Embedder backends to evaluate the classifier on (:data:`~growthkit.text.embed.EMBED_BACKENDS`);
        default: ``tfidf`` and the configured ``settings.embed_backend``. ``auto`` resolves as in
        :func:`~growthkit.text.embed.make_embedder`; an embedder named twice is run once.
    train_size, test_size
        Use only the first texts of each part (a seeded sample) to make a run faster.
    test_fraction, seed
        The fixed split (:func:`growthkit.models.text.corpus.fixed_split`).
    cache_db
        A store file to cache the embeddings in (a rerun embeds nothing again); by default
        they are cached in memory for the run (each text is embedded once for all models).

    Each embedder is evaluated alone and with the character n-gram model averaged in
    (``char_ngrams=True``, what :func:`score_sentiment` uses).
    """
    if dataset is not None:
        frame, source = dataset_reviews(settings, dataset), dataset
    else:
        with open_store(settings, read_only=not settings.is_memory) as store:
            frame, source = read_reviews(store), f"store {settings.db}"
    data = labels_from_ratings(frame["text"].tolist(), frame["rating"].tolist())
    train, test = fixed_split(data, test_fraction=test_fraction, seed=seed)
    train = train.head(train_size) if train_size else train
    test = test.head(test_size) if test_size else test
    models: dict[str, Any] = {}
    with ExitStack() as stack:
        cache = stack.enter_context(open_store(settings.model_copy(update={"db": cache_db or MEMORY_DB})))
        for choice in embedders or ("tfidf", settings.embed_backend):
            if choice not in EMBED_BACKENDS:
                raise ConfigError(f"unknown embedder {choice!r}: use {', '.join(EMBED_BACKENDS)}")
            emb = resolve_embedder(settings.model_copy(update={"embed_backend": choice}), cache)
            label = "TF-IDF SVD-128" if emb is None else emb.name
            models.setdefault(f"logistic on {label}", _classifier_factory(emb, char_ngrams=False))
            models.setdefault(f"{label} + char n-grams", _classifier_factory(emb, char_ngrams=True))
        split = (
            f"distinct texts, {data.dropped_conflicts} with both labels dropped; test = sha256(seed, text) "
            f"< {test_fraction} with seed {seed}" + (f"; first {train_size} train" if train_size else "")
            + (f"; first {test_size} test" if test_size else "")
        )  # fmt: skip
        return evaluate_sentiment_models(train, test, models, dataset=source, split=split)


def _classifier_factory(emb: Embedder | None, *, char_ngrams: bool) -> Any:
    def make() -> TextClassifier:
        return SentimentClassifier(embedder=emb, char_ngrams=char_ngrams)

    return make


# ---------------------------------------------------------------- sentiment: scoring the store


@dataclass(frozen=True)
class GroupSentiment:
    """Mean sentiment of the reviews of one category or one period."""

    key: str
    n: int
    mean_sentiment: float
    negative_share: float


@dataclass(frozen=True)
class ReviewSentimentReport:
    """What :func:`score_sentiment` did and found."""

    embedder: str
    trained_on: str
    n_train: int
    holdout_accuracy: float | None
    """On the fixed held-out fifth of the training texts (None: trained on a sample dataset, see evaluate)."""
    holdout_macro_f1: float | None
    n_reviews: int
    mean_sentiment: float
    by_category: tuple[GroupSentiment, ...]
    by_period: tuple[GroupSentiment, ...]
    period: str
    table: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _groups(keys: pd.Series, s: pd.Series) -> tuple[GroupSentiment, ...]:
    frame = pd.DataFrame({"k": keys.astype(str).to_numpy(), "s": s.to_numpy()})
    agg = frame.groupby("k", sort=True)["s"].agg(n="count", mean="mean", neg=lambda v: float((v < 0).mean()))
    return tuple(GroupSentiment(str(k), int(r.n), float(r["mean"]), float(r.neg)) for k, r in agg.iterrows())


def score_sentiment(
    settings: Settings,
    *,
    train_dataset: str | None = None,
    period: Period = "month",
    category_depth: int = 1,
    write: bool = True,
) -> ReviewSentimentReport:
    """Score every review with text in the store and (``write``) replace the ``review_sentiment`` table.

    Trained on the store's rated reviews (at least :data:`MIN_PER_CLASS` of each class)
    unless ``train_dataset`` names a labelled sample dataset (``zh-reviews``).

    Raises
    ------
    ConfigError
        Too few rated reviews to train on and no ``train_dataset``.
    """
    with open_store(settings, read_only=not write and not settings.is_memory) as store:
        reviews = read_reviews(store)
        embedder = resolve_embedder(settings, store)
        if train_dataset is not None:
            ds = dataset_reviews(settings, train_dataset)
            train = labels_from_ratings(ds["text"].tolist(), ds["rating"].tolist())
            test, trained_on = None, f"dataset {train_dataset}"
        else:
            data = labels_from_ratings(reviews["text"].tolist(), reviews["rating"].tolist())
            if min(data.positives, len(data) - data.positives) < MIN_PER_CLASS:
                raise ConfigError(
                    f"the store has {data.positives} positive and {len(data) - data.positives} negative rated "
                    f"reviews; training needs {MIN_PER_CLASS} of each. Train on a labelled corpus instead: "
                    "--train-dataset zh-reviews"
                )
            train, test = fixed_split(data)
            trained_on = f"store ratings ({len(data)} distinct rated texts)"
        clf = SentimentClassifier(embedder=embedder, char_ngrams=True).fit(list(train.texts), list(train.labels))
        acc = f1 = None
        if test is not None and len(test):
            acc, f1 = accuracy_and_macro_f1(test.labels, clf.predict(list(test.texts)))
        texts = reviews["text"].astype(str)
        distinct = sorted(set(texts))
        score = dict(zip(distinct, clf.sentiment(distinct), strict=True)) if distinct else {}
        s = texts.map(score).astype("float64")
        table = None
        if write and len(reviews):
            _write_sentiment(store, reviews["review_id"], s, f"logistic({clf.embedder_.name}) + char n-grams")
            table = SENTIMENT_TABLE
    dated = reviews["ts"].notna()
    return ReviewSentimentReport(
        embedder=clf.embedder_.name,
        trained_on=trained_on,
        n_train=len(train),
        holdout_accuracy=acc,
        holdout_macro_f1=f1,
        n_reviews=len(reviews),
        mean_sentiment=float(s.mean()) if len(s) else 0.0,
        by_category=_groups(reviews["category"].map(lambda c: _category(c, category_depth)), s),
        by_period=_groups(period_start(reviews.loc[dated, "ts"], period).map(str), s[dated]) if dated.any() else (),
        period=period,
        table=table,
    )


def _write_sentiment(store: Store, review_ids: pd.Series, s: pd.Series, model: str) -> None:
    n = len(review_ids)
    now = datetime.now(UTC).replace(tzinfo=None)
    data = pa.table(
        {
            "review_id": pa.array(review_ids.astype(str).tolist(), pa.string()),
            "sentiment": pa.array(s.to_numpy(dtype="float64")),
            "label": pa.array((s.to_numpy() >= 0).astype("int8")),
            "model": pa.array([model] * n, pa.string()),
            "scored_at": pa.array([now] * n, pa.timestamp("us")),
        }
    )
    with store.transaction(), store.register("_growthkit_review_sentiment", data):
        store.execute(f"CREATE OR REPLACE TABLE {SENTIMENT_TABLE} AS SELECT * FROM _growthkit_review_sentiment")


# ---------------------------------------------------------------- topics


@dataclass(frozen=True)
class CategoryTopics:
    """The most frequent topics of one category's reviews: ``(topic_id, reviews)``, most first."""

    category: str
    n: int
    topics: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class TopicReport:
    """Topics of the store's reviews or search queries, with their names, categories and trend."""

    source: str
    embedder: str
    namer: str
    n_texts: int
    """Distinct texts clustered."""
    n_total: int
    """Reviews (or searches) they stand for."""
    k: int
    silhouettes: dict[int, float]
    topics: tuple[Topic, ...]
    by_category: tuple[CategoryTopics, ...] = ()
    trend: tuple[TrendPoint, ...] = ()
    sentiment_source: str = "none"
    period: str = "month"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (periods as ISO dates)."""
        out = asdict(self)
        out["silhouettes"] = {str(k): round(v, 4) for k, v in self.silhouettes.items()}
        out["trend"] = [asdict(p) | {"period": p.period.isoformat()} for p in self.trend]
        return out


def _review_sentiment(store: Store, reviews: pd.DataFrame) -> tuple[pd.Series, str]:
    """Each review's sentiment: the ``review_sentiment`` table, else ``(rating - 3) / 2``, else none."""
    if SENTIMENT_TABLE in store.tables():
        scored = store.query(f"SELECT review_id, sentiment FROM {SENTIMENT_TABLE}").to_pandas()
        s = reviews["review_id"].map(dict(zip(scored["review_id"], scored["sentiment"], strict=True)))
        return s.astype("float64"), f"{SENTIMENT_TABLE} table"
    rating = pd.to_numeric(reviews["rating"], errors="coerce")
    if rating.notna().any():
        return ((rating - 3.0) / 2.0).clip(-1.0, 1.0), "ratings: (rating - 3) / 2"
    return pd.Series(np.nan, index=reviews.index), "none"


def review_topics(
    settings: Settings,
    *,
    source: TopicSource = "reviews",
    n_topics: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    period: Period = "month",
    per_category: int = 3,
    category_depth: int = 1,
    max_texts: int = 5000,
) -> TopicReport:
    """Find and name the topics of the store's review texts (or search queries).

    The model is fitted on at most ``max_texts`` distinct texts (a seeded sample of the
    more frequent ones); all others get the topic of their nearest centroid.
    """
    with open_store(settings) as store:
        embedder = resolve_embedder(settings, store)
        if source == "reviews":
            reviews = read_reviews(store)
            texts = reviews["text"].astype(str)
            sentiment, sentiment_source = _review_sentiment(store, reviews)
        elif source == "queries":
            queries = read_search_queries(store)
            texts = queries["query"].astype(str).repeat(queries["n"].astype("int64").tolist()).reset_index(drop=True)
        else:
            raise ConfigError(f"source must be 'reviews' or 'queries', not {source!r}")
        counts = texts.value_counts(sort=False)
        if len(counts) < 2:
            raise ConfigError(f"the store has {len(counts)} distinct {source} text(s); topics need at least 2")
        order = counts.sort_values(ascending=False, kind="stable")
        fit_texts = order.index[:max_texts].tolist()
        model = TopicModel(embedder=embedder, n_topics=n_topics, k_range=k_range, random_state=0)
        model.fit(fit_texts, weights=order.iloc[:max_texts].to_numpy(dtype="float64"))
        topic_of = dict(zip(fit_texts, model.labels_.tolist(), strict=True))
        rest = order.index[max_texts:].tolist()
        if rest:
            topic_of.update(zip(rest, model.predict(rest).tolist(), strict=True))
        generator = generator_from_settings(settings, renderers=RENDERERS)
        topics = name_topics(model.topics_, generator)
    per_text = texts.map(topic_of)
    notes = () if not rest else (f"fitted on the {max_texts} most frequent texts; {len(rest)} more assigned",)
    by_category: tuple[CategoryTopics, ...] = ()
    trend: tuple[TrendPoint, ...] = ()
    if source == "reviews":
        cats = reviews["category"].map(lambda c: _category(c, category_depth))
        by_category = _category_topics(cats, per_text, per_category)
        trend = sentiment_trend(reviews["ts"].tolist(), per_text.tolist(), sentiment.tolist(), freq=period)
    else:
        sentiment_source = "none"
    return TopicReport(
        source=source,
        embedder=model.embedder_.name,
        namer=f"{generator.backend}/{generator.model}",
        n_texts=len(counts),
        n_total=len(texts),
        k=model.k_,
        silhouettes=dict(model.silhouettes_),
        topics=topics,
        by_category=by_category,
        trend=trend,
        sentiment_source=sentiment_source,
        period=period,
        notes=notes,
    )


def _category_topics(cats: pd.Series, topics: pd.Series, top: int) -> tuple[CategoryTopics, ...]:
    frame = pd.DataFrame({"c": cats.to_numpy(), "t": topics.to_numpy()})
    out = []
    for cat, grp in frame.groupby("c", sort=True):
        vc = grp["t"].astype("int64").value_counts()
        pairs = [(int(t), int(n)) for t, n in zip(vc.index.tolist(), vc.tolist(), strict=True)]
        ranked = sorted(pairs, key=lambda tn: (-tn[1], tn[0]))[:top]
        out.append(CategoryTopics(str(cat), len(grp), tuple(ranked)))
    return tuple(sorted(out, key=lambda c: (-c.n, c.category)))
