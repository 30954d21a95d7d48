"""Plain-language sentences for feature values, in English and Chinese: "no purchase for 64 days, 3.0x their usual gap".

Every column of :func:`growthkit.features.build_user_features` gets a sentence that states the
user's own value and, in brackets, the typical value (the median over the users the model was
fitted on). Columns without a sentence of their own fall back on their catalogue description
(:func:`growthkit.features.describe`). The text is deterministic: the same value always gives the
same words. Numbers are rounded for reading (days to whole days, shares to whole percent).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from growthkit.features import FeatureError, describe

LANGS: tuple[str, ...] = ("en", "zh")

# kinds of values: how a number is written
DAYS, COUNT, MONEY, PCT, MINUTES, NUM, FLAG = "days", "count", "money", "pct", "minutes", "num", "flag"


@dataclass(frozen=True)
class _Phrase:
    kind: str
    en: str
    zh: str
    noun: tuple[str, str] = ("", "")
    """English singular and plural noun written after a count."""
    measure: str = "次"
    """Chinese measure word written after a count."""


_EVENT_NOUNS: dict[str, tuple[tuple[str, str], str, str]] = {
    # type: ((english singular, plural), chinese name, measure word)
    "view": (("product view", "product views"), "浏览商品", "次"),
    "search": (("search", "searches"), "搜索", "次"),
    "cart": (("add-to-cart", "add-to-carts"), "加购", "次"),
    "purchase": (("purchase", "purchases"), "购买", "次"),
    "refund": (("refund", "refunds"), "退款", "次"),
    "review": (("review", "reviews"), "评价", "条"),
    "share": (("share", "shares"), "分享", "次"),
    "invite": (("invite", "invites"), "邀请", "次"),
    "coupon_received": (("coupon received", "coupons received"), "收到优惠券", "张"),
    "coupon_redeemed": (("coupon used", "coupons used"), "使用优惠券", "张"),
    "signup": (("signup", "signups"), "注册", "次"),
}
_AMOUNT_EN = {"purchase": "spent {v}", "cart": "added {v} to the cart", "refund": "{v} refunded"}
_AMOUNT_ZH = {"purchase": "消费", "cart": "加购金额", "refund": "退款金额"}

_TYP_EN = " (typical: {m})"
_TYP_ZH = "（一般用户：{m}）"

_STATIC: dict[str, _Phrase] = {
    "tenure_days": _Phrase(DAYS, "a customer for {v}", "成为用户{v}"),
    "days_since_last_event": _Phrase(DAYS, "no visit or other activity for {v}", "已{v}没有访问或其他行为"),
    "frequency": _Phrase(COUNT, "{v} in total", "累计购买{v}", ("purchase", "purchases")),
    "purchase_days": _Phrase(COUNT, "purchases on {v}", "在{v}有购买", ("day", "days"), "天"),
    "monetary_total": _Phrase(MONEY, "spent {v} in total", "累计消费{v}"),
    "monetary_mean": _Phrase(MONEY, "spends {v} per purchase on average", "平均每笔消费{v}"),
    "net_revenue": _Phrase(MONEY, "net spend after refunds {v}", "扣除退款后净消费{v}"),
    "events_total": _Phrase(COUNT, "{v} in total", "累计行为{v}", ("action", "actions")),
    "avg_unit_price": _Phrase(MONEY, "average item price {v}", "平均商品单价{v}"),
    "coupons_received": _Phrase(COUNT, "{v} received", "收到优惠券{v}", ("coupon", "coupons"), "张"),
    "coupons_redeemed": _Phrase(COUNT, "{v} used", "使用优惠券{v}", ("coupon", "coupons"), "张"),
    "coupon_redeem_rate": _Phrase(PCT, "uses {v} of the coupons received", "优惠券使用率{v}"),
    "coupon_purchase_share": _Phrase(PCT, "{v} of purchases with a coupon", "{v}的购买使用了优惠券"),
    "promo_purchase_share": _Phrase(PCT, "{v} of purchases on promotion", "{v}的购买是促销购买"),
    "refunds": _Phrase(COUNT, "{v}", "退款{v}", ("refund", "refunds")),
    "refund_rate": _Phrase(PCT, "refunds {v} of purchases", "退款率{v}"),
    "shares": _Phrase(COUNT, "{v}", "分享{v}", ("share", "shares")),
    "invites": _Phrase(COUNT, "{v} sent", "发出邀请{v}", ("invite", "invites")),
    "invites_accepted": _Phrase(COUNT, "{v}", "邀请被接受{v}", ("accepted invite", "accepted invites")),
    "referrals": _Phrase(COUNT, "{v}", "推荐新用户{v}", ("referred customer", "referred customers"), "人"),
    "social_degree": _Phrase(COUNT, "{v}", "好友或关注{v}", ("friend or follower", "friends or followers"), "位"),
    "sessions": _Phrase(COUNT, "{v}", "访问{v}", ("visit", "visits")),
    "events_per_session": _Phrase(NUM, "{v} actions per visit", "平均每次访问{v}个行为"),
    "session_minutes_mean": _Phrase(MINUTES, "visits last {v} on average", "平均每次访问{v}"),
    "session_conversion": _Phrase(PCT, "buys in {v} of visits", "{v}的访问产生购买"),
    "reviews": _Phrase(COUNT, "{v} written", "发表评价{v}", ("review", "reviews"), "条"),
}
_UNIT_KINDS = {
    "days": DAYS,
    "count": COUNT,
    "currency": MONEY,
    "ratio in [0, 1]": PCT,
    "minutes": MINUTES,
    "flag": FLAG,
}


def _plain(v: float, digits: int = 1) -> str:
    if abs(v - round(v)) < 1e-9:
        return f"{round(v):,}"
    return f"{v:,.{digits}f}"


def fmt_value(v: float, kind: str, lang: str, noun: tuple[str, str] = ("", ""), measure: str = "次") -> str:
    """``v`` written for people: ``64 days`` / ``64天``, ``3 purchases`` / ``3次``, ``35%``, ``1,234``."""
    zh = lang == "zh"
    if kind == DAYS:
        if v < 1:
            return "不到1天" if zh else "less than a day"
        d = round(v)
        return f"{d:,}天" if zh else f"{d:,} day" + ("" if d == 1 else "s")
    if kind == MINUTES:
        m = _plain(v)
        return f"{m}分钟" if zh else f"{m} minute" + ("" if m == "1" else "s")
    if kind == PCT:
        return f"{round(100 * v)}%"
    if kind == MONEY:
        return f"{v:,.0f}" if abs(v) >= 100 else _plain(v, 2)
    if kind == COUNT:
        c = _plain(v)
        if zh:
            return c + measure
        return c + (f" {noun[0] if c == '1' else noun[1]}" if noun[0] else "")
    return _plain(v, 2)


def _with_typical(text: str, kind: str, lang: str, typical: float, noun: tuple[str, str], measure: str) -> str:
    if typical != typical:  # NaN: no reference
        return text
    m = fmt_value(typical, kind, lang, noun, measure)
    return text + (_TYP_ZH if lang == "zh" else _TYP_EN).format(m=m)


def _phrase(p: _Phrase, v: float, typical: float, lang: str) -> str:
    text = (p.zh if lang == "zh" else p.en).format(v=fmt_value(v, p.kind, lang, p.noun, p.measure))
    return _with_typical(text, p.kind, lang, typical, p.noun, p.measure)


def _recency(v: float, typical: float, lang: str, row: Mapping[str, float]) -> str:
    zh = lang == "zh"
    freq = row.get("frequency", math.nan)
    tenure = row.get("tenure_days", math.nan)
    days = fmt_value(v, DAYS, lang)
    if row.get("has_purchased", 1.0) == 0 or freq == 0:
        return f"注册{days}以来从未购买" if zh else f"no purchase in {days} since joining"
    if freq >= 2 and tenure > v:
        gap = (tenure - v) / freq  # birth to last purchase, per purchase
        ratio = v / gap
        g = fmt_value(gap, DAYS, lang)
        if ratio >= 1:
            return (
                f"已{days}未购买，是平时购买间隔（{g}）的{ratio:.1f}倍"
                if zh
                else (f"no purchase for {days}, {ratio:.1f}x their usual gap of {g}")
            )
        return (
            f"最近一次购买在{days}前，未超过平时购买间隔（{g}）"
            if zh
            else (f"last purchase {days} ago, within their usual gap of {g}")
        )
    text = f"首次购买后已{days}未再购买" if zh else f"no purchase for {days} since the first one"
    return _with_typical(text, DAYS, lang, typical, ("", ""), "")


def _trend(kind: str, w: str, v: float, lang: str) -> str:
    zh = lang == "zh"
    what = ("活跃度" if kind == "events" else "消费额") if zh else ("activity" if kind == "events" else "spending")
    if v <= -0.999:
        return (
            f"近{w}天没有{what}（前{w}天有）" if zh else f"no {what} in the last {w} days, after some in the {w} before"
        )
    if v >= 0.999:
        return (
            f"近{w}天开始有{what}（前{w}天没有）"
            if zh
            else f"{what} in the last {w} days, after none in the {w} before"
        )
    change = (1 + v) / (1 - v) - 1  # a / b - 1 from t = (a - b) / (a + b)
    if abs(change) < 0.005:
        return f"{what}与前{w}天持平" if zh else f"{what} unchanged over the last {w} days"
    p = f"{abs(round(100 * change))}%"
    if zh:
        return f"近{w}天{what}比前{w}天{'下降' if change < 0 else '上升'}{p}"
    return f"{what} {'down' if change < 0 else 'up'} {p} in the last {w} days compared with the {w} before"


def _sentiment(v: float, lang: str) -> str:
    s = f"{v:+.2f}"
    if lang == "zh":
        mood = "偏负面" if v < -0.2 else "偏正面" if v > 0.2 else "中性或没有评价"
        return f"评价{mood}（情感得分{s}）"
    mood = "mostly negative" if v < -0.2 else "mostly positive" if v > 0.2 else "neutral or no"
    return f"{mood} reviews (sentiment {s})"


def _flag(name: str, v: float, lang: str) -> str:
    on = v >= 0.5
    zh = lang == "zh"
    if name == "has_purchased":
        return ("有过购买" if on else "从未购买") if zh else ("has purchased before" if on else "has never purchased")
    if name == "has_text":
        return (
            ("有搜索或评价" if on else "没有搜索或评价")
            if zh
            else ("has searched or written reviews" if on else "no searches or reviews")
        )
    c = name.removeprefix("channel__")
    if c == "other":
        return (
            ("通过其他渠道获得" if on else "不是通过其他渠道获得")
            if zh
            else ("came through a less common channel" if on else "did not come through a less common channel")
        )
    return (
        (f"通过{c}渠道获得" if on else f"不是通过{c}渠道获得")
        if zh
        else (f"came through the {c} channel" if on else f"did not come through the {c} channel")
    )


Rule = Callable[[float, float, str, Mapping[str, float]], str]
"""``rule(value, typical, lang, row) -> sentence`` for one column."""


def _phrase_rule(p: _Phrase) -> Rule:
    return lambda v, typical, lang, row: _phrase(p, v, typical, lang)


def _family_rule(name: str) -> Rule | None:
    m = re.fullmatch(r"(\w+?)_count_(\d+)d", name)
    if m and m.group(1) in _EVENT_NOUNS:
        noun, zh_name, measure = _EVENT_NOUNS[m.group(1)]
        w = m.group(2)
        return _phrase_rule(_Phrase(COUNT, f"{{v}} in the last {w} days", f"近{w}天{zh_name}{{v}}", noun, measure))
    m = re.fullmatch(r"(\w+?)_amount_(\d+)d", name)
    if m:
        t, w = m.group(1), m.group(2)
        en = _AMOUNT_EN.get(t, t.replace("_", " ") + " amount {v}") + f" in the last {w} days"
        zh_text = f"近{w}天{_AMOUNT_ZH.get(t, t + '金额')}{{v}}"
        return _phrase_rule(_Phrase(MONEY, en, zh_text))
    m = re.fullmatch(r"active_days_(\d+)d", name)
    if m:
        w = m.group(1)
        return _phrase_rule(
            _Phrase(COUNT, f"active on {{v}} of the last {w}", f"近{w}天中活跃{{v}}", ("day", "days"), "天")
        )
    m = re.fullmatch(r"trend_(events|revenue)_(\d+)d", name)
    if m:
        kind, w = m.group(1), m.group(2)
        return lambda v, typical, lang, row: _trend(kind, w, v, lang)
    m = re.fullmatch(r"cat_share__(\w+)", name)
    if m:
        c = m.group(1)
        if c == "other":
            return _phrase_rule(_Phrase(PCT, "{v} of browsing in less common categories", "{v}的浏览在其他类目"))
        return _phrase_rule(_Phrase(PCT, f"{{v}} of browsing in {c}", f"{{v}}的浏览在{c}类目"))
    m = re.fullmatch(r"text_pc(\d+)", name)
    if m:
        k = m.group(1)
        en = f"search and review topics (text component {k}: {{v}})"
        return _phrase_rule(_Phrase(NUM, en, f"搜索和评价内容（文本成分{k}：{{v}}）"))
    return None


def _fallback_rule(name: str) -> Rule:
    try:
        spec = describe(name)
        kind, label = _UNIT_KINDS.get(spec.unit, NUM), spec.description.rstrip(".")
    except FeatureError:
        kind, label = NUM, name

    def rule(v: float, typical: float, lang: str, row: Mapping[str, float]) -> str:
        text = f"{label}: " if lang == "en" else f"{name}："
        return _with_typical(text + fmt_value(v, kind, lang), kind, lang, typical, ("", ""), "次")

    return rule


@lru_cache(maxsize=4096)
def _rule(name: str) -> Rule:
    """How to write column ``name``, worked out once per column (the patterns are matched here, not per user)."""
    if name == "recency_days":
        return lambda v, typical, lang, row: _recency(v, typical, lang, row)
    if name == "review_sentiment":
        return lambda v, typical, lang, row: _sentiment(v, lang)
    if name in ("has_purchased", "has_text") or name.startswith("channel__"):
        return lambda v, typical, lang, row: _flag(name, v, lang)
    if name in _STATIC:
        return _phrase_rule(_STATIC[name])
    return _family_rule(name) or _fallback_rule(name)


def sentence(name: str, value: float, typical: float, lang: str = "en", row: Mapping[str, float] | None = None) -> str:
    """The plain-language sentence for one feature value of one user.

    Parameters
    ----------
    name : str
        A feature column (see :data:`growthkit.features.FEATURES`).
    value : float
        The user's value.
    typical : float
        The typical (median) value among the users the model was fitted on; NaN leaves it out.
    lang : {"en", "zh"}
        English or Chinese.
    row : mapping, optional
        The user's other features; ``recency_days`` uses ``frequency``, ``tenure_days`` and
        ``has_purchased`` to compare with the user's own usual gap between purchases, estimated
        as ``(tenure_days - recency_days) / frequency`` (from the user's birth to the last
        purchase, per purchase; the table has no time of the first purchase, so the wait before
        it counts as one gap).

    Examples
    --------
    >>> sentence("recency_days", 64.2, 20.0, row={"frequency": 6, "tenure_days": 190, "has_purchased": 1})
    'no purchase for 64 days, 3.1x their usual gap of 21 days'
    >>> sentence("purchase_count_30d", 0, 1, "zh")
    '近30天购买0次（一般用户：1次）'
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return _rule(name)(float(value), typical, lang, row or {})


def concept(name: str) -> str:
    """The idea a column stands for, so that one reason is not repeated in other words.

    Every window of one event type (``purchase_count_7d``, ``purchase_amount_90d``) is one
    concept; so are ``active_days_*`` and ``days_since_last_event`` (recent activity), the
    spend totals, and the channel flags.
    """
    m = re.fullmatch(r"(\w+?)_(?:count|amount)_\d+d", name)
    if m:
        return "events:" + m.group(1)
    if name.startswith("active_days_") or name == "days_since_last_event":
        return "activity"
    if name in ("monetary_total", "net_revenue"):
        return "spend"
    if name.startswith("channel__"):
        return "channel"
    return name
