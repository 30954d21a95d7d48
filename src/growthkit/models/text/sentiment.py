"""Review sentiment: logistic regression on text embeddings, the baselines it is judged against, and the scores.

Assumptions
-----------
* Binary sentiment: ``1`` positive, ``0`` negative (neutral reviews are not labels;
  :func:`growthkit.models.text.corpus.labels_from_ratings` leaves 3 stars out).
* The embedder's vectors carry the sentiment linearly (the "linear probe" of
  representation learning). Features are standardised, then an L2-regularised
  logistic regression is fitted (Cox, 1958; scikit-learn's lbfgs solver).
* ``char_ngrams=True`` adds a second logistic regression on sparse character 1-3-gram
  TF-IDF and averages the two probabilities (soft voting): dense embeddings and sparse
  n-grams make different errors, and the average beats both on the zh-reviews
  held-out split (``docs/text.md``).
* Language: whatever the embedder reads. The multilingual e5 embedder reads Chinese
  and English (and ~100 more) with one model; the TF-IDF embedder and the baselines
  use character n-grams, which need no tokenizer in any language.

Baselines (always reported beside the model, :func:`evaluate_sentiment_models`):
the majority class; multinomial naive Bayes on character 1-2-gram counts (a
lexicon-like model; Wang & Manning, 2012); logistic regression on sparse
character 1-3-gram TF-IDF (a strong linear text classifier).

References
----------
Cox, D. R. (1958). The regression analysis of binary sequences. JRSS B 20(2), 215-242.

Wang, S. & Manning, C. D. (2012). Baselines and bigrams: simple, good sentiment and topic
classification. ACL 2012, 90-94.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Self

import numpy as np
import numpy.typing as npt

from growthkit.errors import ConfigError, NotFittedError
from growthkit.models.text._common import fitted_embedder
from growthkit.models.text.corpus import LabelledTexts
from growthkit.text.embed import Embedder

log = logging.getLogger(__name__)


class TextClassifier(Protocol):
    """What :func:`evaluate_sentiment_models` needs: ``fit(texts, labels)`` and ``predict(texts)``."""

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> Any:
        """Learn from labelled texts; returns the fitted classifier."""

    def predict(self, texts: Sequence[str]) -> npt.NDArray[Any]:
        """One label per text."""


def _check_xy(texts: Sequence[str], labels: Sequence[int]) -> tuple[list[str], npt.NDArray[np.int64]]:
    docs = [str(t) for t in texts]
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != len(docs):
        raise ConfigError(f"{len(docs)} texts but labels of shape {y.shape}")
    if len(docs) == 0:
        raise ConfigError("cannot fit a sentiment model on no texts")
    if np.unique(y).size < 2:
        raise ConfigError("sentiment training data needs both positive and negative texts")
    return docs, y.astype(np.int64)


class SentimentClassifier:
    """Positive/negative sentiment of texts: L2 logistic regression on standardised embeddings.

    Parameters
    ----------
    embedder : Embedder or None
        Turns texts into vectors. ``None``: a 128-dimensional character TF-IDF + SVD
        fitted on the training texts (an unfitted :class:`TfidfEmbedder` is fitted on
        them too, as a copy). A pretrained embedder (e5) is used as it is.
    C : float
        Inverse regularisation strength of the logistic regression on the standardised
        embedding. The default 0.003 was chosen by 5-fold cross-validation on the training
        part of the zh-reviews split (e5 and TF-IDF-SVD features alike).
    char_ngrams : bool
        Also fit a character 1-3-gram TF-IDF logistic regression (``C=4``) and average the
        two models' probabilities.
    class_weight : {"balanced"} or None
        ``balanced`` weighs the classes inversely to their frequency.
    max_iter : int
        Iterations of the lbfgs solver.
    random_state : int
        Seed of the default embedder's SVD.

    Attributes
    ----------
    embedder_ : Embedder
        The embedder used (fitted).
    classes_ : ndarray
        ``[0, 1]``.
    model_ : sklearn Pipeline
        Standardisation and logistic regression.
    ngram_model_ : CharNgramBaseline or None
        The character n-gram model (``char_ngrams=True``).

    Examples
    --------
    >>> texts = ["质量很好", "非常满意", "物流很快，好评", "质量太差", "非常失望", "差评，退货"]
    >>> clf = SentimentClassifier(C=1.0, char_ngrams=True).fit(texts, [1, 1, 1, 0, 0, 0])
    >>> clf.predict(["质量很好，非常满意"]).tolist(), clf.predict_proba(["太差了"]).shape
    ([1], (1, 2))
    """

    def __init__(
        self,
        *,
        embedder: Embedder | None = None,
        C: float = 0.003,  # noqa: N803  (scikit-learn's name)
        char_ngrams: bool = False,
        class_weight: str | None = "balanced",
        max_iter: int = 2000,
        random_state: int = 0,
    ) -> None:
        self.embedder = embedder
        self.C = C
        self.char_ngrams = char_ngrams
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> Self:
        """Embed ``texts`` and fit the logistic regression on ``labels`` (0/1); returns ``self``."""
        if not (isinstance(self.C, int | float) and self.C > 0):
            raise ConfigError(f"C must be a positive number, not {self.C!r}")
        if self.class_weight not in (None, "balanced"):
            raise ConfigError(f"class_weight must be None or 'balanced', not {self.class_weight!r}")
        docs, y = _check_xy(texts, labels)
        if not set(np.unique(y).tolist()) <= {0, 1}:
            raise ConfigError("sentiment labels must be 0 (negative) or 1 (positive)")
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        t0 = time.perf_counter()
        self.embedder_ = fitted_embedder(self.embedder, docs, dim=128, random_state=self.random_state)
        x = self.embedder_.embed(docs)
        self.embed_seconds_ = time.perf_counter() - t0
        self.model_ = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter),
        )
        self.model_.fit(x, y)
        self.ngram_model_ = CharNgramBaseline(kind="logistic").fit(docs, y.tolist()) if self.char_ngrams else None
        self.classes_ = np.asarray(self.model_.classes_)
        self.n_train_ = len(docs)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this SentimentClassifier is not fitted yet: call fit(texts, labels) first")

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """``(n, 2)`` probabilities of negative and positive, in the order of :attr:`classes_`."""
        self._check_fitted()
        docs = [str(t) for t in texts]
        if not docs:
            return np.zeros((0, len(self.classes_)))
        proba = np.asarray(self.model_.predict_proba(self.embedder_.embed(docs)), dtype=np.float64)
        if self.ngram_model_ is not None:
            proba = (proba + self.ngram_model_.predict_proba(docs)) / 2.0
        return proba

    def predict(self, texts: Sequence[str]) -> npt.NDArray[np.int64]:
        """The more probable label of each text."""
        proba = self.predict_proba(texts)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)], dtype=np.int64)

    def sentiment(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Sentiment in [-1, 1]: ``2 P(positive) - 1`` (the scale of the ``review_sentiment`` feature)."""
        proba = self.predict_proba(texts)
        return 2.0 * proba[:, list(self.classes_).index(1)] - 1.0

    def __repr__(self) -> str:
        return (
            f"SentimentClassifier(embedder={self.embedder!r}, C={self.C}, char_ngrams={self.char_ngrams}, "
            f"class_weight={self.class_weight!r})"
        )


class MajorityBaseline:
    """Predicts the most frequent training label for every text (ties: the smaller label)."""

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> Self:
        _, y = _check_xy(texts, labels)
        values, counts = np.unique(y, return_counts=True)
        self.label_ = int(values[np.argmax(counts)])
        return self

    def predict(self, texts: Sequence[str]) -> npt.NDArray[np.int64]:
        if not hasattr(self, "label_"):
            raise NotFittedError("this MajorityBaseline is not fitted yet")
        return np.full(len(texts), self.label_, dtype=np.int64)


class CharNgramBaseline:
    """A sparse character n-gram model: ``nb`` (counts + multinomial naive Bayes) or ``logistic`` (TF-IDF + L2 LR).

    Parameters
    ----------
    kind : {"nb", "logistic"}
        The classifier.
    ngram_range : tuple of int or None
        Character n-grams; default (1, 2) for ``nb``, (1, 3) for ``logistic``.
    C, alpha : float
        Regularisation of the logistic regression; smoothing of naive Bayes.
    min_df : int
        Keep n-grams seen in at least this many training texts.
    """

    def __init__(
        self,
        *,
        kind: str = "nb",
        ngram_range: tuple[int, int] | None = None,
        C: float = 4.0,  # noqa: N803  (scikit-learn's name)
        alpha: float = 0.5,
        min_df: int = 2,
    ) -> None:
        self.kind = kind
        self.ngram_range = ngram_range
        self.C = C
        self.alpha = alpha
        self.min_df = min_df

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> Self:
        docs, y = _check_xy(texts, labels)
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.naive_bayes import MultinomialNB
        from sklearn.pipeline import make_pipeline

        if self.kind == "nb":
            ngrams = self.ngram_range or (1, 2)
            self.model_ = make_pipeline(
                CountVectorizer(analyzer="char", ngram_range=ngrams, min_df=self.min_df),
                MultinomialNB(alpha=self.alpha),
            )
        elif self.kind == "logistic":
            ngrams = self.ngram_range or (1, 3)
            self.model_ = make_pipeline(
                TfidfVectorizer(analyzer="char", ngram_range=ngrams, min_df=self.min_df, sublinear_tf=True),
                LogisticRegression(C=self.C, max_iter=2000),
            )
        else:
            raise ConfigError(f"CharNgramBaseline kind must be 'nb' or 'logistic', not {self.kind!r}")
        self.model_.fit(docs, y)
        return self

    def predict(self, texts: Sequence[str]) -> npt.NDArray[np.int64]:
        if not hasattr(self, "model_"):
            raise NotFittedError("this CharNgramBaseline is not fitted yet")
        return np.asarray(self.model_.predict([str(t) for t in texts]), dtype=np.int64)

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Class probabilities, in the order of the labels (0, 1)."""
        if not hasattr(self, "model_"):
            raise NotFittedError("this CharNgramBaseline is not fitted yet")
        return np.asarray(self.model_.predict_proba([str(t) for t in texts]), dtype=np.float64)


# ---------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class ClassifierScore:
    """How one classifier did on the held-out texts."""

    model: str
    accuracy: float
    macro_f1: float
    fit_seconds: float
    predict_seconds: float
    is_baseline: bool


@dataclass(frozen=True)
class SentimentEvaluation:
    """Every classifier's held-out scores on one split, best macro F1 first within models and baselines."""

    dataset: str
    n_train: int
    n_test: int
    test_positive_share: float
    split: str
    """How the split was made (seed, fraction, deduplication)."""
    scores: tuple[ClassifierScore, ...]

    def best(self, *, baseline: bool) -> ClassifierScore:
        """The best model (``baseline=False``) or the best baseline by macro F1."""
        pool = [s for s in self.scores if s.is_baseline is baseline]
        if not pool:
            raise ConfigError("no " + ("baseline" if baseline else "model") + " was evaluated")
        return max(pool, key=lambda s: s.macro_f1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "dataset": self.dataset,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "test_positive_share": round(self.test_positive_share, 4),
            "split": self.split,
            "scores": [
                {
                    "model": s.model,
                    "accuracy": round(s.accuracy, 4),
                    "macro_f1": round(s.macro_f1, 4),
                    "fit_seconds": round(s.fit_seconds, 3),
                    "predict_seconds": round(s.predict_seconds, 3),
                    "baseline": s.is_baseline,
                }
                for s in self.scores
            ],
        }


def accuracy_and_macro_f1(
    y_true: Sequence[int] | npt.NDArray[Any], y_pred: Sequence[int] | npt.NDArray[Any]
) -> tuple[float, float]:
    """Accuracy and the unweighted mean of the per-class F1 scores (over the labels in ``y_true``).

    Examples
    --------
    >>> accuracy_and_macro_f1([1, 1, 0, 0], [1, 1, 1, 1])
    (0.5, 0.3333333333333333)
    """
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    if yt.shape != yp.shape or yt.size == 0:
        raise ConfigError(f"need equal, non-empty label arrays, got {yt.shape} and {yp.shape}")
    f1s = []
    for c in np.unique(yt):
        tp = float(np.sum((yp == c) & (yt == c)))
        denom = float(np.sum(yp == c) + np.sum(yt == c))
        f1s.append(2.0 * tp / denom if denom else 0.0)
    return float(np.mean(yt == yp)), float(np.mean(f1s))


def default_baselines() -> dict[str, Callable[[], TextClassifier]]:
    """The baselines every evaluation reports: majority class, char-n-gram naive Bayes and logistic."""
    return {
        "majority class": MajorityBaseline,
        "char 1-2-gram naive Bayes": lambda: CharNgramBaseline(kind="nb"),
        "char 1-3-gram TF-IDF logistic": lambda: CharNgramBaseline(kind="logistic"),
    }


def evaluate_sentiment_models(
    train: LabelledTexts,
    test: LabelledTexts,
    models: Mapping[str, Callable[[], TextClassifier]],
    *,
    baselines: Mapping[str, Callable[[], TextClassifier]] | None = None,
    dataset: str = "",
    split: str = "",
) -> SentimentEvaluation:
    """Fit every model and baseline on ``train`` and score it on ``test`` (accuracy, macro F1, timings).

    ``models`` and ``baselines`` map a display name to a factory of an unfitted classifier.
    """
    if len(train) == 0 or len(test) == 0:
        raise ConfigError(f"need texts in both parts, got {len(train)} train and {len(test)} test")
    rows: list[ClassifierScore] = []
    chosen = default_baselines() if baselines is None else baselines
    for is_baseline, pool in ((False, models), (True, chosen)):
        for name, make in pool.items():
            t0 = time.perf_counter()
            clf = make().fit(list(train.texts), list(train.labels))
            t1 = time.perf_counter()
            pred = clf.predict(list(test.texts))
            t2 = time.perf_counter()
            acc, f1 = accuracy_and_macro_f1(test.labels, pred)
            log.info("sentiment %s: accuracy %.4f, macro F1 %.4f (%.1f s)", name, acc, f1, t2 - t0)
            rows.append(ClassifierScore(name, acc, f1, t1 - t0, t2 - t1, is_baseline))
    return SentimentEvaluation(
        dataset=dataset,
        n_train=len(train),
        n_test=len(test),
        test_positive_share=test.positives / len(test),
        split=split,
        scores=tuple(rows),
    )
