"""The deterministic persona writer (template backend, task ``segment_persona``), in English and Chinese.

The name comes from a few rules on the segment's lifts (segment mean / population mean),
first match wins; RFM segments keep their RFM name:

* under 25 % of the segment bought, tenure lift <= 0.6: New visitors / 新访客
* under 25 % bought, days-since-last-visit lift <= 0.8: Browsers who have not bought / 只逛不买的访客
* under 25 % bought: Dormant browsers / 沉睡的浏览者
* spend and frequency lifts >= 1.5, recency lift <= 1: High-value regulars / 高价值常客
* spend and frequency lifts >= 1.5: Lapsing high spenders / 流失中的高价值客户
* tenure lift <= 0.6: Newcomers / 新近加入的顾客
* recency lift >= 1.3: Drifting customers / 逐渐流失的顾客
* price-per-unit lift <= 0.75: Budget shoppers / 精打细算的顾客
* frequency lift >= 1.2: Steady buyers / 稳定复购的顾客
* tenure lift >= 1.5: Long-time occasional buyers / 偶尔购买的老顾客
* price-per-unit lift >= 1.5: Premium occasional buyers / 偶尔购买高价商品的顾客
* otherwise: Occasional buyers / 偶尔购买的顾客

Lifts are against all users, buyers or not, so every purchase-based lift of a segment of
buyers is above 1 when many users never bought.

The description quotes only numbers of the facts, formatted so that the grounding
checker (:mod:`growthkit.models.segment.grounding`) accepts them, and no superlatives.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

FEATURE_LABELS: dict[str, tuple[str, str]] = {
    "has_purchased": ("users who bought", "有购买的用户占比"),
    "recency_days": ("days since the last purchase", "距上次购买天数"),
    "frequency": ("purchases", "购买次数"),
    "purchase_days": ("days with a purchase", "有购买的天数"),
    "monetary_total": ("total spend", "累计消费"),
    "monetary_mean": ("spend per purchase", "单次消费"),
    "net_revenue": ("spend after refunds", "退款后消费"),
    "tenure_days": ("days since joining", "加入天数"),
    "days_since_last_event": ("days since the last visit", "距上次访问天数"),
    "events_total": ("actions", "操作次数"),
    "sessions": ("sessions", "访问次数"),
    "events_per_session": ("actions per session", "每次访问的操作数"),
    "session_minutes_mean": ("minutes per session", "每次访问分钟数"),
    "session_conversion": ("sessions with a purchase", "下单访问占比"),
    "avg_unit_price": ("price per unit", "商品单价"),
    "coupon_redeem_rate": ("coupon redemption rate", "优惠券核销率"),
    "coupon_purchase_share": ("purchases with a coupon", "用券购买占比"),
    "promo_purchase_share": ("purchases on promotion", "促销购买占比"),
    "refund_rate": ("refunds per purchase", "退款率"),
    "shares": ("shares", "分享次数"),
    "reviews": ("reviews", "评价数"),
    "trend_events_30d": ("recent activity trend", "近期活跃趋势"),
}
"""How features are called in persona texts (English, Chinese); other columns keep their names."""

NAME_RULES: tuple[tuple[str, str, str], ...] = (
    ("new_visitors", "New visitors", "新访客"),
    ("window_shoppers", "Browsers who have not bought", "只逛不买的访客"),
    ("dormant_browsers", "Dormant browsers", "沉睡的浏览者"),
    ("high_value_regulars", "High-value regulars", "高价值常客"),
    ("lapsing_high_spenders", "Lapsing high spenders", "流失中的高价值客户"),
    ("newcomers", "Newcomers", "新近加入的顾客"),
    ("drifting", "Drifting customers", "逐渐流失的顾客"),
    ("budget", "Budget shoppers", "精打细算的顾客"),
    ("steady", "Steady buyers", "稳定复购的顾客"),
    ("long_time", "Long-time occasional buyers", "偶尔购买的老顾客"),
    ("premium", "Premium occasional buyers", "偶尔购买高价商品的顾客"),
    ("occasional", "Occasional buyers", "偶尔购买的顾客"),
)
"""Persona names by rule key: (key, English, Chinese), in the order the rules are tried."""

SKIP_IN_DESCRIPTION = frozenset({"has_purchased", "frequency", "monetary_total", "recency_days"})
PURCHASE_DERIVED = frozenset(
    {"avg_unit_price", "monetary_mean", "session_conversion", "coupon_purchase_share", "promo_purchase_share",
     "refund_rate", "purchase_days", "net_revenue"}
)  # fmt: skip
"""Features that are 0 for users who never bought: not worth a mention for a segment of mostly non-buyers."""
FEW_BUYERS = 0.25


def label(feature: str, lang: str) -> str:
    """The feature's name in persona texts."""
    en, zh = FEATURE_LABELS.get(feature, (feature, feature))
    return zh if lang == "zh" else en


def _spec(facts: Mapping[str, Any], feature: str) -> Mapping[str, Any] | None:
    spec: Mapping[str, Any] | None = (facts.get("features") or {}).get(feature)
    return spec


def lift(facts: Mapping[str, Any], feature: str) -> float:
    """The feature's lift in the facts (1.0 when it is missing or undefined)."""
    spec = _spec(facts, feature)
    v = None if spec is None else spec.get("lift")
    return 1.0 if v is None else float(v)


def name_rule(facts: Mapping[str, Any]) -> str:
    """The key of the first persona-name rule that applies (see the module docstring)."""
    if share_bought(facts) < FEW_BUYERS:
        if lift(facts, "tenure_days") <= 0.6:
            return "new_visitors"
        return "window_shoppers" if lift(facts, "days_since_last_event") <= 0.8 else "dormant_browsers"
    if lift(facts, "monetary_total") >= 1.5 and lift(facts, "frequency") >= 1.5:
        return "high_value_regulars" if lift(facts, "recency_days") <= 1.0 else "lapsing_high_spenders"
    if lift(facts, "tenure_days") <= 0.6:
        return "newcomers"
    if lift(facts, "recency_days") >= 1.3:
        return "drifting"
    if lift(facts, "avg_unit_price") <= 0.75:
        return "budget"
    if lift(facts, "frequency") >= 1.2:
        return "steady"
    if lift(facts, "tenure_days") >= 1.5:
        return "long_time"
    return "premium" if lift(facts, "avg_unit_price") >= 1.5 else "occasional"


def persona_name(facts: Mapping[str, Any]) -> str:
    """The template persona name: the RFM segment's own name, else the name rule's."""
    zh = facts.get("lang") == "zh"
    if facts.get("method") == "rfm" and facts.get("label"):
        return str(facts.get("label_zh") if zh and facts.get("label_zh") else facts["label"])
    key = name_rule(facts)
    _, en, zh_name = next(r for r in NAME_RULES if r[0] == key)
    return zh_name if zh else en


def num(v: float) -> str:
    """A number as persona texts write it: thousands separated, fewer decimals for larger values."""
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def times(v: float) -> str:
    return f"{v:.1f}" if v >= 1 else f"{v:.2f}"


def _value(feature: str, spec: Mapping[str, Any], key: str) -> str:
    v = float(spec[key])
    unit = str(spec.get("unit", ""))
    return pct(v) if unit.startswith(("ratio in [0", "flag")) else num(v)


def share_bought(facts: Mapping[str, Any]) -> float:
    """The share of the segment's users who bought (from ``has_purchased``, else from the frequency lift)."""
    bought = _spec(facts, "has_purchased")
    if bought is not None:
        return float(bought["mean"])
    return 1.0 if lift(facts, "frequency") > FEW_BUYERS else 0.0


def _standouts(facts: Mapping[str, Any], lang: str) -> list[str]:
    out = []
    skip = SKIP_IN_DESCRIPTION | (PURCHASE_DERIVED if share_bought(facts) < FEW_BUYERS else frozenset())
    for f in facts.get("distinguishing") or ():
        spec = _spec(facts, f)
        if spec is None or f in skip:
            continue
        mine, overall = _value(f, spec, "mean"), _value(f, spec, "population_mean")
        out.append(
            f"{label(f, lang)}{mine}（整体{overall}）"
            if lang == "zh"
            else f"{label(f, lang)} {mine} ({overall} overall)"
        )
        if len(out) == 3:
            break
    return out


def describe_en(facts: Mapping[str, Any]) -> str:
    parts = [
        f"{facts['users']:,} users ({pct(facts['share_users'])} of users) who account for "
        f"{pct(facts['share_revenue'])} of revenue."
    ]
    freq, money, rec = (_spec(facts, f) for f in ("frequency", "monetary_total", "recency_days"))
    bought = share_bought(facts)
    if bought == 0:
        parts.append("They have not bought yet.")
    elif bought < FEW_BUYERS:
        parts.append(f"Only {pct(bought)} of them have bought.")
    elif freq is not None and money is not None:
        s = f"On average they made {num(freq['mean'])} purchases ({times(lift(facts, 'frequency'))}x the average user)"
        s += f" and spent {num(money['mean'])} in total"
        s += f", {num(rec['mean'])} days since the last purchase." if rec is not None else "."
        parts.append(s)
    stand = _standouts(facts, "en")
    if stand:
        parts.append("They stand out on " + "; ".join(stand) + ".")
    cats = [f"{c['category'].replace('_', ' ')} ({pct(c['share'])})" for c in facts.get("categories") or ()]
    if cats:
        parts.append("Categories they browse and buy: " + ", ".join(cats) + ".")
    return " ".join(parts)


def describe_zh(facts: Mapping[str, Any]) -> str:
    parts = [
        f"{facts['users']:,}位用户（占用户的{pct(facts['share_users'])}），贡献了{pct(facts['share_revenue'])}的收入。"
    ]
    freq, money, rec = (_spec(facts, f) for f in ("frequency", "monetary_total", "recency_days"))
    bought = share_bought(facts)
    if bought == 0:
        parts.append("他们还没有下过单。")
    elif bought < FEW_BUYERS:
        parts.append(f"其中只有{pct(bought)}下过单。")
    elif freq is not None and money is not None:
        s = f"平均购买{num(freq['mean'])}次（是平均用户的{times(lift(facts, 'frequency'))}倍）"
        s += f"，累计消费{num(money['mean'])}"
        s += f"，距上次购买{num(rec['mean'])}天。" if rec is not None else "。"
        parts.append(s)
    stand = _standouts(facts, "zh")
    if stand:
        parts.append("突出特征：" + "；".join(stand) + "。")
    cats = [f"{c['category']}（{pct(c['share'])}）" for c in facts.get("categories") or ()]
    if cats:
        parts.append("常逛常买的品类：" + "、".join(cats) + "。")
    return "".join(parts)


def render_persona(facts: Mapping[str, Any]) -> str:
    """The template persona as the JSON a model is asked for: ``{"name": ..., "description": ...}``."""
    zh = facts.get("lang") == "zh"
    text = {"name": persona_name(facts), "description": describe_zh(facts) if zh else describe_en(facts)}
    return json.dumps(text, ensure_ascii=False)


PERSONA_TASK = "segment_persona"
PERSONA_RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {PERSONA_TASK: render_persona}
"""Pass to :class:`growthkit.text.llm.TemplateGenerator` or ``make_generator(settings, renderers=...)``."""
