"""The grounding checker: a persona may only say what the segment's profile says.

A language model asked to describe a segment will happily add colour: "mostly young
mothers in tier-1 cities, our most loyal fans, 3 in 4 buy every week". None of that is
in the numbers. :func:`check_grounding` rejects a text when

* **a number is not in the profile.** Every number in the text (``1,234``, ``24.5%``,
  ``2.8x``, ``3.5倍``, ``12k``, ``1.2万``) must equal one of the profile's numbers up to
  the rounding it is written with (``24.5%`` matches 24.46 % … 24.54 %; ``25%`` matches
  24.5 % … 25.5 %). Percentages are compared with the profile's shares and ratios
  times 100 and with lifts as "x % more / less" (``|lift - 1| x 100``) or ``lift x 100``;
  ``x`` and ``倍`` numbers with the lifts; plain numbers with every value (sizes, revenue,
  means). Only the numbers handed to the writer count (:func:`allowed_numbers`).
* **a superlative is not backed by a rank.** "highest", "most", "largest", "最高", "最多" …
  are allowed only in a clause that names a metric (revenue, frequency, activity, price …)
  on which the segment ranks first (or last, for "lowest", "least", "最低" …) among the
  segments. "Recent" flips the direction of recency (most recent = fewest days).
* **it makes a claim of a kind the profile has no data on**: age, gender, family, income,
  occupation, location (``young``, ``women``, ``mothers``, ``students``, ``city``, ``岁``,
  ``女性``, ``宝妈``, ``城市`` …), or absolutes (``always``, ``never``, ``all``, ``guaranteed``,
  ``总是``, ``从不``, ``所有``, ``一定`` …; "never bought" is fine for a segment in which
  nobody bought, "all bought" for one in which everybody did).

Limits, stated plainly: the check is lexical. It verifies that each number *is* one of
the profile's numbers, not that it is attached to the right metric; it does not read
numbers written as words ("three times", "三倍"); the word lists are finite. It is a
guard against invented facts, not a proof of truthfulness.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.,])(?P<num>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?P<dec>\.\d+)?"
    r"(?:\s?(?P<suffix>%|％|x(?![A-Za-z])|×|倍|k(?![A-Za-z])|K(?![A-Za-z])|M(?![A-Za-z])|万|亿))?"
)
SCALE = {"k": 1e3, "K": 1e3, "M": 1e6, "万": 1e4, "亿": 1e8}

HIGH_WORDS = ("highest", "most", "largest", "biggest", "greatest", "top", "best", "maximum", "strongest")
LOW_WORDS = ("lowest", "least", "smallest", "fewest", "worst", "minimum", "weakest")
ZH_EXCLUDED = ("最近", "最后", "最终", "最初", "最好是")  # "recently", "last", "finally": not superlatives
ZH_LOW = "低少小差弱短"

METRIC_WORDS: dict[str, tuple[tuple[str, ...], bool]] = {
    # metric -> (keywords, inverted: True when "most <word>" means the lowest value of the metric)
    "share_revenue": (
        (
            "revenue",
            "spend",
            "spending",
            "spender",
            "value",
            "valuable",
            "money",
            "收入",
            "营收",
            "消费",
            "花费",
            "价值",
            "金额",
            "贡献",
        ),
        False,
    ),
    "monetary_total": (
        (
            "revenue",
            "spend",
            "spending",
            "spender",
            "value",
            "valuable",
            "money",
            "收入",
            "营收",
            "消费",
            "花费",
            "价值",
            "金额",
        ),
        False,
    ),
    "monetary_mean": (("basket", "order value", "per order", "客单价", "单笔"), False),
    "users": (("segment", "group", "users", "customers", "人数", "规模", "群体", "用户"), False),
    "frequency": (
        (
            "frequent",
            "often",
            "orders",
            "purchases",
            "buy",
            "loyal",
            "repeat",
            "频繁",
            "次数",
            "购买",
            "下单",
            "复购",
            "忠诚",
        ),
        False,
    ),
    "recency_days": (("lapsed", "inactive", "dormant", "ago", "longest", "沉睡", "流失", "久"), False),
    "recency_days_recent": (("recent", "recently", "近期"), True),
    "sessions": (("active", "activity", "sessions", "visits", "engaged", "活跃", "访问", "会话"), False),
    "avg_unit_price": (("price", "expensive", "premium", "pricey", "价格", "单价", "高端"), False),
    "session_conversion": (("conversion", "convert", "转化"), False),
    "tenure_days_new": (("new", "newest", "newer", "新"), True),
    "tenure_days": (("tenure", "oldest", "veteran", "老"), False),
}
DEMOGRAPHIC_WORDS = (
    "young", "old people", "elderly", r"aged\b", "years old", "teen", "student", "women", "woman", "female",
    r"men\b", r"male\b", "mother", r"moms?\b", "father", r"dads?\b", "parent", "famil", "income", "wealthy",
    r"rich\b", "affluent", "salar", "professionals", "office worker", "city", "cities", "urban", "rural", "married",
    "岁", "年轻", "老年", "学生", "女性", "男性", "女士", "男士", "宝妈", "妈妈", "爸爸", "家庭", "收入水平", "白领",
    "城市", "一线", "农村", "已婚", "单身", "富裕",
)  # fmt: skip
"""Claims about who the users are: the profile has no demographic data. ASCII entries match at a word start."""
ABSOLUTE_WORDS = ("always", "never", "every", "all", "guarantee", "certainly", "definitely", "everyone",
                  "总是", "从不", "从未", "所有", "全部", "一定", "必然", "每一位", "每个人")  # fmt: skip
NOT_ABSOLUTE = ("of all", "among all", "than all", "across all", "overall", "占所有", "占全部", "所有用户", "全部用户")
"""Phrases with an absolute word that only name the population (masked before the absolute check)."""
PURCHASE_WORDS = ("bought", "buy", "purchase", "order", "买", "购", "下单")
NEVER_WORDS = ("never", "从不", "从未")
ALL_WORDS = ("always", "every", "all", "everyone", "总是", "所有", "全部", "每一位", "每个人")


@dataclass(frozen=True)
class GroundingCheck:
    """Whether a text passed, why not (one line per problem) and the numbers it contained."""

    passed: bool
    problems: tuple[str, ...]
    numbers: tuple[str, ...]


@dataclass(frozen=True)
class Allowed:
    """The numbers a text may use, by how they are written: plain, as a percentage, as a multiple."""

    plain: tuple[float, ...]
    percent: tuple[float, ...]
    times: tuple[float, ...]


def _finite(values: Iterable[Any]) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, bool) or v is None:
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(abs(f))
    return out


def allowed_numbers(facts: Mapping[str, Any]) -> Allowed:
    """The numbers of a persona's facts (:func:`growthkit.models.segment.persona.persona_facts`)."""
    plain: list[Any] = [facts.get("users"), facts.get("revenue"), facts.get("n_segments")]
    percent: list[Any] = [facts.get("share_users"), facts.get("share_revenue")]
    lifts: list[Any] = []
    sid = str(facts.get("segment_id", ""))
    if sid.isdigit():
        plain.append(int(sid))
    for spec in (facts.get("features") or {}).values():
        plain += [spec.get("mean"), spec.get("population_mean")]
        lifts.append(spec.get("lift"))
        if str(spec.get("unit", "")).startswith(("ratio", "flag")):
            percent += [spec.get("mean"), spec.get("population_mean")]
    for c in facts.get("categories") or ():
        percent += [c.get("share"), c.get("population_share")]
        lifts.append(c.get("lift"))
    lift_values = _finite(lifts)
    pct = [v * 100 for v in _finite(percent)]
    pct += [abs(v - 1) * 100 for v in lift_values] + [v * 100 for v in lift_values]
    return Allowed(tuple(_finite(plain) + lift_values), tuple(pct), tuple(lift_values))


def _matches(value: float, decimals: int, scale: float, candidates: Iterable[float]) -> bool:
    tol = 0.5 * 10.0**-decimals * scale * (1 + 1e-9) + 1e-9
    target = value * scale
    return any(abs(c - target) <= tol for c in candidates)


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[.;:!?。；：！？，,\n()（）]", text) if c.strip()]


def _rank_ok(facts: Mapping[str, Any], clause: str, high: bool) -> bool:
    ranks: Mapping[str, int] = facts.get("ranks") or {}
    n = int(facts.get("n_segments") or 0)
    low = clause.lower()
    for metric, (words, inverted) in METRIC_WORDS.items():
        if not any(w in low for w in words):
            continue
        base = metric.removesuffix("_recent").removesuffix("_new")
        rank = ranks.get(base)
        if rank is None or n < 2:
            continue
        want_first = high != inverted
        if (want_first and rank == 1) or (not want_first and rank == n):
            return True
    return False


def _superlatives(clause: str) -> list[tuple[str, bool]]:
    low = clause.lower()
    found = [(w, True) for w in HIGH_WORDS if re.search(rf"\b{w}\b", low)]
    found += [(w, False) for w in LOW_WORDS if re.search(rf"\b{w}\b", low)]
    masked = clause
    for w in ZH_EXCLUDED:
        masked = masked.replace(w, "")
    for m in re.finditer(r"最(.)", masked):
        found.append((m.group(0), m.group(1) not in ZH_LOW))
    return found


def _absolute_ok(facts: Mapping[str, Any], clause: str, word: str) -> bool:
    low = clause.lower()
    if not any(p in low for p in PURCHASE_WORDS):
        return False
    bought = ((facts.get("features") or {}).get("has_purchased") or {}).get("mean")
    if bought is None:
        return False
    if word in NEVER_WORDS:
        return float(bought) == 0.0
    return word in ALL_WORDS and float(bought) == 1.0


def _strip_names(text: str, facts: Mapping[str, Any]) -> str:
    """The text without the names it may quote verbatim (categories, the segment label), longest first."""
    names = [str(c.get("category", "")) for c in facts.get("categories") or ()]
    names += [str(c.get("category", "")).replace("_", " ") for c in facts.get("categories") or ()]
    names += [str(facts.get("label", ""))]
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = text.replace(name, " ")
    return text


def check_grounding(text: str, facts: Mapping[str, Any]) -> GroundingCheck:
    """Check a generated persona text against its facts (see the module docstring).

    Examples
    --------
    >>> facts = {"users": 1200, "share_users": 0.25, "share_revenue": 0.61, "n_segments": 4,
    ...          "features": {"frequency": {"mean": 4.2, "population_mean": 1.5, "lift": 2.8, "unit": "count"}},
    ...          "ranks": {"share_revenue": 1, "frequency": 1, "users": 2}}
    >>> check_grounding("1,200 users (25%) bring 61% of revenue and buy 2.8x as often.", facts).passed
    True
    >>> bad = check_grounding("Mothers who bring 35% of revenue.", facts)
    >>> bad.passed, bad.problems  # doctest: +NORMALIZE_WHITESPACE
    (False, ("number '35%' is not in the profile",
             "claim about who the users are ('mother') has no support in the profile"))
    """
    problems: list[str] = []
    allowed = allowed_numbers(facts)
    body = _strip_names(text, facts)
    numbers: list[str] = []
    for m in NUMBER.finditer(body):
        raw = m.group(0).strip()
        numbers.append(raw)
        value = float(m.group("num").replace(",", "") + (m.group("dec") or ""))
        decimals = len(m.group("dec") or ".") - 1
        suffix = m.group("suffix") or ""
        if suffix in ("%", "％"):
            ok = _matches(value, decimals, 1.0, allowed.percent)
        elif suffix in ("x", "×", "倍"):
            ok = _matches(value, decimals, 1.0, allowed.times)
        else:
            ok = _matches(value, decimals, SCALE.get(suffix, 1.0), allowed.plain)
        if not ok:
            problems.append(f"number {raw!r} is not in the profile")
    for clause in _clauses(body):
        for word, high in _superlatives(clause):
            if not _rank_ok(facts, clause, high):
                problems.append(f"superlative {word!r} in {clause.strip()!r} is not backed by the segment's ranks")
    low = body.lower()
    for w in DEMOGRAPHIC_WORDS:
        pattern = rf"\b{w}" if w.isascii() else re.escape(w)
        if re.search(pattern, low):
            label = w.replace("\\b", "").replace("s?", "")
            problems.append(f"claim about who the users are ({label!r}) has no support in the profile")
    for phrase in NOT_ABSOLUTE:
        low = low.replace(phrase, " ")
    for clause in _clauses(low):
        for w in ABSOLUTE_WORDS:
            pattern = rf"\b{w}\b" if w.isascii() else re.escape(w)
            if re.search(pattern, clause) and not _absolute_ok(facts, clause, w):
                problems.append(f"absolute claim {w!r} in {clause.strip()!r} is not in the profile")
    return GroundingCheck(not problems, tuple(dict.fromkeys(problems)), tuple(numbers))
