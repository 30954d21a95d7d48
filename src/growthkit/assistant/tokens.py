"""Tokens for retrieval that work for Chinese without a segmenter, and language detection.

Latin text becomes lower-cased words with a light suffix stripper (``shipping``,
``shipped`` and ``ships`` all become ``ship``); runs of CJK characters become
overlapping character bigrams (``退货运费`` -> ``退货 货运 运费``) plus, marked with a
leading ``#``, their single characters. Bigrams are the classic segmenter-free index
unit for Chinese retrieval (Nie, Gao, Zhang and Zhou, 2000, "On the use of words and
n-grams for Chinese information retrieval", IRAL); single characters add recall for
one-character words (书, 鞋) and are left out where only content terms count
(:func:`content_terms`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Literal

Language = Literal["zh", "en"]

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{CJK}]+|[a-z0-9]+", re.IGNORECASE)
_CJK_RE = re.compile(rf"[{CJK}]")
_LATIN_RE = re.compile(r"[A-Za-z]")

_STOP_EN_WORDS = (
    "a an the is are was were be been am do does did i me my mine you your yours we us our it its of to "
    "in on for with and or what whats which who whom how much many can could would should will shall "
    "please tell about this that these those there here any some have has had if at by from as so than "
    "then also just get got want know let may might must need s t d ll ve re m o hi hello hey thanks "
    "thank something anything everything thing things stuff someone anyone like when where why whether "
    "into out up down over under again very really still yet "
    "policy policies rule rules terms conditions"
)
STOP_EN: frozenset[str] = frozenset(_STOP_EN_WORDS.split())
"""English words that carry no content for retrieval ("policy" and "rules" name the kind of
answer wanted, not its topic: "What is your return policy?" is about returns)."""

_STOP_ZH_WORDS = (
    "什么 怎么 怎样 多少 可以 能否 能不 是否 有没 没有 一下 这个 那个 请问 你们 我们 "
    "我的 您的 如果 还是 的话 就是 需要 想要 知道 一个 告诉 帮我 为什 么时 时候 所有 全部 一些 哪些 "
    "这些 那些 已经 现在 还有 或者 因为 所以 但是 而且 然后 应该 能够 其他 其它 任何 都是 "
    "政策 规定 规则 条款"
)
STOP_ZH: frozenset[str] = frozenset(_STOP_ZH_WORDS.split())
"""Chinese bigrams that carry no content for retrieval."""

_FUNCTION_ZH = frozenset("的吗呢了吧啊呀嘛么是在和与或及我你您他她它")
"""Characters whose bigrams are dropped (particles, pronouns, copula)."""

_IRREGULAR = {"paid": "pay", "bought": "buy", "sent": "send", "took": "take", "gave": "give", "sold": "sell"}
_VOWELS = frozenset("aeiou")


def stem(word: str) -> str:
    """A light English suffix stripper: the same stem for the common inflections of a word.

    Examples
    --------
    >>> [stem(w) for w in ("shipping", "shipped", "ships", "delivery", "delivered", "returns", "refundable", "paid")]
    ['ship', 'ship', 'ship', 'deliver', 'deliver', 'return', 'refund', 'pay']
    """
    w = _IRREGULAR.get(word, word)
    if len(w) <= 3 or w.isdigit():
        return w
    for suffix, repl in (("ies", "y"), ("able", ""), ("ment", ""), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: len(w) - len(suffix)] + repl
            break
    if len(w) > 3 and w[-1] in "ye":
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in _VOWELS and w[-1] != "s":
        w = w[:-1]
    return w


def is_cjk(ch: str) -> bool:
    """Whether ``ch`` is a CJK ideograph."""
    return bool(_CJK_RE.match(ch))


def tokenize(text: str) -> list[str]:
    """Index terms of ``text``: stemmed English words, CJK bigrams and ``#``-marked CJK characters.

    Examples
    --------
    >>> tokenize("When do parcels ship? 退货运费")
    ['parcel', 'ship', '退货', '货运', '运费', '#退', '#货', '#运', '#费']
    """
    out: list[str] = []
    for m in _TOKEN_RE.finditer(unicodedata.normalize("NFKC", text).lower()):
        tok = m.group(0)
        if is_cjk(tok[0]):
            out.extend(_cjk_terms(tok))
        elif tok not in STOP_EN:
            out.append(stem(tok))
    return out


def _cjk_terms(run: str) -> list[str]:
    grams = [
        run[i : i + 2]
        for i in range(len(run) - 1)
        if run[i : i + 2] not in STOP_ZH and not (run[i] in _FUNCTION_ZH or run[i + 1] in _FUNCTION_ZH)
    ]
    chars = ["#" + ch for ch in run if ch not in _FUNCTION_ZH]
    return grams + chars


def content_terms(terms: Iterable[str]) -> list[str]:
    """The terms that say what a text is about: words and bigrams, or the single characters when there is
    nothing else."""
    terms = list(terms)
    main = [t for t in terms if not t.startswith("#")]
    return main or terms


def coverage_terms(text: str, known: Callable[[str], bool]) -> list[str]:
    """The content terms of a question for measuring how much of it a passage covers.

    Latin words as in :func:`tokenize`. A CJK run is segmented with the index's own
    vocabulary: bigrams the index knows are terms; characters no known bigram covers form
    out-of-vocabulary segments, and a segment of two or more characters is one term
    (``?`` + segment, which no passage contains: content the shop's texts never mention),
    while a single uncovered character is glue between words (要 in 退货要几天). Stop bigrams
    and function characters are glue too. A one-character run is that character when the
    index knows it, else glue.

    Examples
    --------
    >>> vocab = {"退货", "几天", "快递"}
    >>> coverage_terms("退货要几天？", vocab.__contains__)
    ['退货', '几天']
    >>> coverage_terms("明天北京天气怎么样", vocab.__contains__)
    ['?明天北京天气']
    """
    out: list[str] = []
    for m in _TOKEN_RE.finditer(unicodedata.normalize("NFKC", text).lower()):
        tok = m.group(0)
        if not is_cjk(tok[0]):
            if tok not in STOP_EN:
                out.append(stem(tok))
            continue
        glue = [ch in _FUNCTION_ZH for ch in tok]
        for i in range(len(tok) - 1):
            gram = tok[i : i + 2]
            if gram in STOP_ZH:
                glue[i] = glue[i + 1] = True
            elif not (glue[i] or glue[i + 1]) and known(gram):
                out.append(gram)
                glue[i] = glue[i + 1] = True
        segment = ""
        for ch, g in zip([*tok, ""], [*glue, True], strict=True):
            if not g:
                segment += ch
                continue
            if len(segment) >= 2:
                out.append("?" + segment)
            elif len(segment) == 1 and len(tok) == 1 and known("#" + segment):
                out.append("#" + segment)
            segment = ""
    return out


def detect_language(text: str) -> Language:
    """``zh`` when at least a third of the letters are CJK characters, else ``en``.

    Examples
    --------
    >>> detect_language("退货要几天？"), detect_language("How do I return an item?"), detect_language("iPhone 多少钱")
    ('zh', 'en', 'zh')
    """
    cjk = len(_CJK_RE.findall(text))
    latin = len(_LATIN_RE.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk * 3 >= cjk + latin else "en"


def language_part(text: str, lang: Language) -> str:
    """The part of a bilingual text (``中文标题 English title``, or a description with sentences in
    both languages) that is in ``lang``; the whole text when it is not bilingual.

    Examples
    --------
    >>> language_part("高端便携音箱 灰色 Premium Portable Speaker Grey", "en")
    'Premium Portable Speaker Grey'
    >>> language_part("便携音箱，性价比高。Portable speaker: great value.", "zh")
    '便携音箱，性价比高。'
    """
    text = " ".join(text.split())
    if not text:
        return text
    pieces = [p.strip() for p in re.split(r"(?<=[。！？!?])|(?<=\.)\s+", text) if p and p.strip()]
    if len(pieces) > 1:
        mine = [p for p in pieces if detect_language(p) == lang]
        if mine and len(mine) < len(pieces):
            return (" " if lang == "en" else "").join(mine)
    tokens = text.split()
    cjk = [bool(_CJK_RE.search(t)) for t in tokens]
    if len(tokens) < 2 or all(cjk) or not any(cjk):
        return text
    cut = next(i for i in range(1, len(tokens) + 1) if i == len(tokens) or cjk[i] != cjk[0])
    if cut == len(tokens) or any(c == cjk[0] for c in cjk[cut:]):
        return text  # mixed, not two halves
    first, second = " ".join(tokens[:cut]), " ".join(tokens[cut:])
    return first if cjk[0] == (lang == "zh") else second
