"""Models of what customers write (layer 4): review sentiment and topics of reviews and search queries.

* :class:`SentimentClassifier` — positive/negative sentiment: logistic regression on text
  embeddings (optionally averaged with a character n-gram model), with the baselines it
  is judged against (:class:`MajorityBaseline`, :class:`CharNgramBaseline`) and
  :func:`evaluate_sentiment_models`.
* :class:`LabelledTexts`, :func:`labels_from_ratings`, :func:`fixed_split` — labelled
  corpora and the fixed, seeded held-out split.
* :class:`TopicModel` — k-means topics on embeddings with k chosen by silhouette,
  c-TF-IDF terms (:func:`growthkit.models.text.terms.class_tfidf`), names from a text
  generator (:func:`name_topics`), and :func:`sentiment_trend` per topic over time.

See ``docs/text.md``.
"""

from growthkit.models.text.corpus import LabelledTexts, fixed_split, labels_from_ratings
from growthkit.models.text.naming import RENDERERS, name_topics, render_topic_name
from growthkit.models.text.sentiment import (
    CharNgramBaseline,
    ClassifierScore,
    MajorityBaseline,
    SentimentClassifier,
    SentimentEvaluation,
    accuracy_and_macro_f1,
    evaluate_sentiment_models,
)
from growthkit.models.text.topics import Topic, TopicModel, template_name
from growthkit.models.text.trend import TrendPoint, sentiment_trend

__all__ = [
    "RENDERERS",
    "CharNgramBaseline",
    "ClassifierScore",
    "LabelledTexts",
    "MajorityBaseline",
    "SentimentClassifier",
    "SentimentEvaluation",
    "Topic",
    "TopicModel",
    "TrendPoint",
    "accuracy_and_macro_f1",
    "evaluate_sentiment_models",
    "fixed_split",
    "labels_from_ratings",
    "name_topics",
    "render_topic_name",
    "sentiment_trend",
    "template_name",
]
