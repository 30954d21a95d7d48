"""Tokens, language detection and the BM25 index, checked by hand."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from growthkit.assistant import bm25, documents, sanitize, tokens
from growthkit.assistant.bm25 import BM25Index
from growthkit.assistant.tokens import content_terms, coverage_terms, detect_language, language_part, stem, tokenize
from growthkit.errors import ConfigError


@pytest.mark.parametrize("module", [tokens, bm25, documents, sanitize], ids=lambda m: m.__name__)
def test_doctests(module: object) -> None:
    failed, attempted = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)[:2]  # type: ignore[arg-type]
    assert attempted > 0 and failed == 0


def test_chinese_becomes_bigrams_and_marked_characters() -> None:
    assert tokenize("退货运费") == ["退货", "货运", "运费", "#退", "#货", "#运", "#费"]
    # particles and pronouns do not form bigrams; stop bigrams are dropped
    assert tokenize("我的订单") == ["订单", "#订", "#单"]
    assert "什么" not in tokenize("什么时候发货")
    assert content_terms(tokenize("书")) == ["#书"]  # a one-character word keeps its character


def test_english_words_are_stemmed_and_stop_words_dropped() -> None:
    assert tokenize("How long does shipping take for the parcels?") == ["long", "ship", "tak", "parcel"]
    assert stem("shipped") == stem("shipping") == stem("ships") == "ship"
    assert stem("delivered") == stem("delivery") == "deliver"
    assert stem("cancelled") == stem("cancel")
    assert tokenize("ＡＢＣ１２３") == ["abc123"]  # full-width folded by NFKC


def test_coverage_terms_segment_with_the_index_vocabulary() -> None:
    known = {"退货", "几天", "#书"}.__contains__
    assert coverage_terms("退货要几天？", known) == ["退货", "几天"]  # 要 is glue between two known words
    assert coverage_terms("明天北京天气", known) == ["?明天北京天气"]  # all unknown: one out-of-vocabulary term
    assert coverage_terms("书", known) == ["#书"]
    assert coverage_terms("鞋", known) == []  # an unknown single character is glue, not content
    assert coverage_terms("returns shipping", known) == ["return", "ship"]  # stemmed like the index
    # "policy" names the kind of answer, not its topic: it must not dilute the coverage
    assert coverage_terms("What is your return policy?", known) == ["return"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [("退货要几天？", "zh"), ("How do I return it?", "en"), ("iPhone 多少钱", "zh"), ("", "en"), ("123", "en")],
)
def test_language_detection(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_language_part_of_bilingual_titles_and_descriptions() -> None:
    title = "高端便携音箱 灰色 Premium Portable Speaker Grey"
    assert language_part(title, "zh") == "高端便携音箱 灰色"
    assert language_part(title, "en") == "Premium Portable Speaker Grey"
    assert language_part("Green Tea", "zh") == "Green Tea"  # one language: the whole text
    desc = "便携音箱，七天无理由退换。Portable speaker: 7-day free returns."
    assert language_part(desc, "en") == "Portable speaker: 7-day free returns."
    assert language_part(desc, "zh") == "便携音箱，七天无理由退换。"


def test_bm25_scores_match_a_hand_computation() -> None:
    docs = [["red", "shoe", "shoe"], ["blue", "shoe"], ["green", "tea", "cup", "hot"]]
    idx = BM25Index(docs, k1=1.2, b=0.75)
    n, avgdl = 3, 3.0
    idf_red = math.log(1 + (n - 1 + 0.5) / (1 + 0.5))
    idf_shoe = math.log(1 + (n - 2 + 0.5) / (2 + 0.5))

    def w(tf: float, dl: float, idf: float) -> float:
        return idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl))

    expect = [w(1, 3, idf_red) + w(2, 3, idf_shoe), w(1, 2, idf_shoe), 0.0]
    assert np.allclose(idx.scores(["red", "shoe"]), expect)
    assert np.allclose(idx.scores(["shoe", "shoe"]), [2 * w(2, 3, idf_shoe), 2 * w(1, 2, idf_shoe), 0.0])
    assert np.allclose(idx.scores(["unknown"]), 0.0)


def test_bm25_coverage_weighs_unseen_terms_as_rarest() -> None:
    idx = BM25Index([["red", "shoe"], ["blue", "shoe"], ["green", "tea"]])
    cov = idx.coverage(["red", "shoe"])
    assert cov[0] == pytest.approx(1.0) and cov[2] == 0.0 and 0 < cov[1] < 0.5
    with_unknown = idx.coverage(["red", "shoe", "weather"])
    assert with_unknown[0] == pytest.approx((idx.idf[0] + idx.idf[1]) / (idx.idf[0] + idx.idf[1] + idx.unseen_idf))
    assert np.all(idx.coverage([]) == 0)


def test_bm25_rejects_bad_parameters() -> None:
    with pytest.raises(ConfigError, match="k1"):
        BM25Index([["a"]], k1=-1)
    with pytest.raises(ConfigError, match="b"):
        BM25Index([["a"]], b=2)
    assert BM25Index([]).scores(["a"]).shape == (0,)
