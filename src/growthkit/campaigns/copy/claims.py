"""Finding every factual claim in a text: amounts, discounts, dates, durations, promises, personal data.

:func:`extract_claims` reads a text the way a shopper would and returns one
:class:`Claim` per statement of fact it finds. It works on the NFKC form of the text
(full-width ``２０％`` and ``￥`` become ``20%`` and ``¥``), after masking the record's own
strings (the product title, the brand, the shop, the coupon code, the specs): a number
inside the product's name is the name, not a claim.

Claim kinds
-----------
``money``           ``¥199``, ``199元``, ``$19.99``, ``五十元``, ``立减30``, ``save 30``
``percent``         a discount: ``20%``, ``百分之二十``, ``twenty percent``, ``八折``/``85折`` (as
                    percent off: 20 and 15), ``半价``/``half price`` (50)
``threshold``       a spend-and-save rule: ``满300减50``, ``$50 off orders of $300+``
``date``            ``11月11日``, ``2026-11-11``, ``Nov 11``, ``11/11``, ``双11``, ``618``
``time``            ``23:59``, ``8pm``, ``晚8点``, ``零点``
``duration``        ``三天``, ``48小时``, ``3 days``
``limited_time``    ``限时``, ``limited time``: needs an end date in the record
``free_shipping``   ``包邮``, ``free shipping``: needs the offer to say so
``bundle``          ``买一送一``, ``第二件半价``, ``buy one get one``, ``2 for 1``
``relative_date``   ``today only``, ``仅限今天``, ``今晚截止``: the record cannot know the send day
``link``            a URL or domain that is not the record's link
``pii``             phone numbers, e-mail addresses, ID-card-like and other long digit runs
``number``          any other Arabic number
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from growthkit.campaigns.copy.numerals import ARABIC, EN_NUM, ZH_NUM, parse_number, parse_zhe

MASK = "\ue000"
"""Stands in for masked record strings (a private-use character no pattern matches)."""

NUMERIC_KINDS: tuple[str, ...] = ("money", "percent", "threshold", "date", "time", "duration", "number")
"""Claim kinds that state a number (what :func:`~growthkit.campaigns.copy.checker.check_copies` counts)."""


@dataclass(frozen=True)
class Claim:
    """One statement of fact found in a text.

    ``values`` depend on ``kind``: ``(amount,)`` for money, ``(percent_off,)`` for
    percent, ``(min_spend, off)`` for threshold, ``(year or 0, month, day)`` for date,
    ``(hour, minute)`` for time, ``(days,)`` for duration, ``(value,)`` for number, else
    empty. ``unit`` is the currency (``CNY``, ``USD``, ``$``), the discount's style
    (``zhe``, ``%``, ``half``), the kind of personal data, or ``""``.
    """

    kind: str
    text: str
    values: tuple[float, ...] = ()
    unit: str = ""
    start: int = 0
    end: int = 0


_CUR_PREFIX = {"¥": "¥", "$": "$", "€": "EUR", "£": "GBP", "rmb": "CNY", "cny": "CNY", "usd": "USD", "us$": "USD"}
_CUR_PREFIX["hk$"] = "HKD"
_CUR_PREFIX["eur"] = "EUR"
_CUR_PREFIX["gbp"] = "GBP"
_CUR_SUFFIX = {"元": "CNY", "块钱": "CNY", "块": "CNY", "圆": "CNY", "yuan": "CNY", "rmb": "CNY", "cny": "CNY"}
_CUR_SUFFIX.update({"美元": "USD", "美金": "USD", "dollar": "$", "dollars": "$", "bucks": "$", "usd": "USD"})

_NUM = f"(?:{ARABIC}|{ZH_NUM})"
_CUR = r"(?:us\$|hk\$|[¥$€£]|rmb|cny|usd|eur|gbp)"
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_MON = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ZH_SMALL = "[一二三四五六七八九十]{1,3}"
_I = re.IGNORECASE

Builder = Callable[[re.Match[str]], Claim | None]


def _num(text: str | None) -> float:
    v = parse_number(text or "")
    if v is None:
        raise ValueError(text)
    return v


def _money(m: re.Match[str]) -> Claim:
    cur = (m.groupdict().get("cur") or "").lower()
    unit = _CUR_PREFIX.get(cur) or _CUR_SUFFIX.get(cur) or ""
    return Claim("money", m.group(0), (_num(m.group("n")),), unit)


def _date(m: re.Match[str]) -> Claim | None:
    g = m.groupdict()
    mon = g.get("mon")
    month = _MONTHS[mon.lower().rstrip(".")] if mon else _num(g.get("m"))
    day = _num(g.get("d")) if g.get("d") else 0.0
    year = _num(g.get("y")) if g.get("y") else 0.0
    if 0 < year < 100:
        year += 2000
    if not 1 <= month <= 12 or not 0 <= day <= 31:
        return None
    return Claim("date", m.group(0), (year, month, day), "ambiguous" if g.get("slash") else "")


def _fixed(kind: str, values: tuple[float, ...] = (), unit: str = "") -> Builder:
    return lambda m: Claim(kind, m.group(0), values, unit)


def _time(m: re.Match[str]) -> Claim | None:
    hour = _num(m.group("h"))
    minute_text = m.groupdict().get("mi")
    minute = 30.0 if minute_text == "半" else (_num(minute_text) if minute_text else 0.0)
    if re.search(r"p\.?m\.?|下午|晚", m.group(0), _I) and hour < 12:
        hour += 12
    return Claim("time", m.group(0), (hour, minute)) if hour <= 24 and minute < 60 else None


def _duration(m: re.Match[str]) -> Claim:
    n, u = (m.group("n"), m.group("u")) if m.group("n") is not None else (m.group("n2"), m.group("u2"))
    value = _num(n)
    unit = u.lower()
    if unit in ("小时", "个小时", "hour", "hours", "hr", "hrs"):
        days = value / 24
    elif unit in ("分钟", "minute", "minutes", "min", "mins"):
        days = value / 1440
    elif unit in ("周", "星期", "week", "weeks"):
        days = value * 7
    elif unit in ("个月", "month", "months"):
        days = value * 30
    else:
        days = value
    return Claim("duration", m.group(0), (days,), unit)


def _time_zh(m: re.Match[str]) -> Claim | None:
    hour = _num(m.group("h") or m.group("hd"))
    mi = m.group("mi")
    minute = 30.0 if mi == "半" else (_num(mi) if mi else 0.0)
    if re.search(r"下午|晚", m.group(0)) and hour < 12:
        hour += 12
    return Claim("time", m.group(0), (hour, minute)) if hour <= 24 and minute < 60 else None


def _percent(m: re.Match[str]) -> Claim:
    return Claim("percent", m.group(0), (_num(m.group("n")),), "%")


def _zhe(m: re.Match[str]) -> Claim | None:
    z = parse_zhe(m.group("n"))
    if z is None or not 0 < z < 10:
        return None
    return Claim("percent", m.group(0), (round(100 - 10 * z, 4),), "zhe")


def _threshold(m: re.Match[str]) -> Claim:
    return Claim("threshold", m.group(0), (_num(m.group("a")), _num(m.group("b"))))


def _number(m: re.Match[str]) -> Claim:
    return Claim("number", m.group(0), (_num(m.group(0)),))


# Order matters: an earlier pattern masks what it matched, so later ones do not see it again.
PATTERNS: tuple[tuple[re.Pattern[str], Builder], ...] = (
    # personal data
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), _fixed("pii", unit="email")),
    (
        re.compile(
            r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
        ),
        _fixed("pii", unit="id number"),
    ),
    (re.compile(r"(?<![0-9])(?:\+?86[-\s]?)?1[3-9][0-9](?:[-\s]?[0-9]{4}){2}(?![0-9])"), _fixed("pii", unit="phone")),
    (re.compile(r"(?<![\w+])\+[0-9][0-9\s-]{6,}[0-9]"), _fixed("pii", unit="phone")),
    (
        re.compile(r"(?<![0-9])(?:\(?[0-9]{2,4}\)?[-\s])?[0-9]{3,4}-[0-9]{4}(?![0-9])"),
        _fixed("pii", unit="phone"),
    ),
    (re.compile(r"(?<![0-9])[0-9]{9,}(?![0-9])"), _fixed("pii", unit="id-like number")),
    # links
    (
        re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|cn|net|org|shop|top|xyz|io|co|me|ly)\b(?:/\S*)?", _I),
        _fixed("link"),
    ),
    # spend-and-save rules
    (
        re.compile(
            rf"满\s*[¥$€£]?\s*(?P<a>{_NUM})\s*(?:元|块)?\s*[,，]?\s*(?:立减|减|省|返)\s*[¥$€£]?\s*(?P<b>{_NUM})\s*(?:元|块)?"
        ),
        _threshold,
    ),
    (
        re.compile(
            rf"{_CUR}?\s*(?P<b>{ARABIC})\s+off\s+(?:(?:any\s+|your\s+)?(?:orders?|purchases?|spend)\s+)?"
            rf"(?:of|over|above|from)\s+{_CUR}?\s*(?P<a>{ARABIC})\+?",
            _I,
        ),
        _threshold,
    ),
    (
        re.compile(
            rf"spend\s+(?:over\s+)?{_CUR}?\s*(?P<a>{ARABIC})\s*,?\s*(?:and\s+)?(?:get|save)\s+{_CUR}?\s*(?P<b>{ARABIC})",
            _I,
        ),
        _threshold,
    ),
    # dates
    (
        re.compile(r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})(?![0-9])"),
        _date,
    ),
    (
        re.compile(
            rf"(?:(?P<y>[0-9]{{4}}|{ZH_NUM})\s*年\s*)?(?P<m>[0-9]{{1,2}}|{_ZH_SMALL})\s*月\s*"
            rf"(?:(?P<d>[0-9]{{1,2}}|{_ZH_SMALL})\s*[日号])?"
        ),
        _date,
    ),
    (re.compile(r"双\s*(?:11|十一)"), _fixed("date", (0.0, 11.0, 11.0))),
    (re.compile(r"双\s*(?:12|十二)"), _fixed("date", (0.0, 12.0, 12.0))),
    (re.compile(r"(?<![0-9.¥$€£])618(?![0-9.%元块])"), _fixed("date", (0.0, 6.0, 18.0))),
    (
        re.compile(
            rf"\b(?P<mon>{_MON})\s+(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>(?:19|20)[0-9]{{2}}))?", _I
        ),
        _date,
    ),
    (
        re.compile(
            rf"\b(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon>{_MON})(?![a-z])(?:,?\s+(?P<y>(?:19|20)[0-9]{{2}}))?", _I
        ),
        _date,
    ),
    (
        re.compile(r"(?<![0-9/.])(?P<m>[0-9]{1,2})(?P<slash>/)(?P<d>[0-9]{1,2})(?:/(?P<y>[0-9]{2,4}))?(?![0-9/%])"),
        _date,
    ),
    # times of day
    (re.compile(r"(?<![0-9])(?P<h>[01]?[0-9]|2[0-4]):(?P<mi>[0-5][0-9])(?![0-9])"), _time),
    (re.compile(r"\b(?P<h>1[0-2]|[1-9])\s*(?:a\.?m\.?|p\.?m\.?)(?![a-z])", _I), _time),
    (
        re.compile(
            rf"(?:(?:凌晨|早上|上午|中午|下午|晚上|今晚|明晚|今早|明早|晚)\s*(?P<h>[0-9]{{1,2}}|{_ZH_SMALL})|(?P<hd>[0-9]{{1,2}}))"
            rf"\s*[点點时]\s*(?:(?P<mi>[0-9]{{1,2}}|半|{_ZH_SMALL})\s*分?)?"
        ),
        _time_zh,
    ),
    (re.compile(r"零点|午夜|\bmidnight\b", _I), _fixed("time", (0.0, 0.0))),
    # discounts
    (re.compile(rf"(?P<n>{ARABIC})\s*(?:%|percent\b|per\s+cent\b|pct\b)", _I), _percent),
    (re.compile(rf"百分之\s*(?P<n>{ZH_NUM}|{ARABIC})"), _percent),
    (re.compile(rf"\b(?P<n>{EN_NUM})\s+(?:percent|per\s+cent)\b", _I), _percent),
    (re.compile(r"(?P<n>[0-9]+(?:\.[0-9]+)?|[一二三四五六七八九]{1,2})\s*折(?!扣)"), _zhe),
    (re.compile(r"半价|对折|\bhalf[- ](?:price|off)\b", _I), _fixed("percent", (50.0,), "half")),
    # bundles
    (
        re.compile(
            rf"买\s*{_NUM}\s*件?\s*[送赠]\s*{_NUM}|第\s*[二三2-3]\s*件|\bbuy\s+(?:one|two|\d+)\s*,?\s*get\s+(?:one|\d+)\b"
            r"|\bbogo\b|\b\d+\s+for\s+\d+\b|\b(?:two|three)\s+for\s+(?:one|two)\b",
            _I,
        ),
        _fixed("bundle"),
    ),
    # money
    (re.compile(rf"(?P<cur>{_CUR})\s*(?P<n>{ARABIC})", _I), _money),
    (
        re.compile(rf"(?P<n>{ARABIC}|{ZH_NUM})\s*(?P<cur>块钱|元|块(?!儿)|圆|美元|美金|yuan\b|rmb\b|cny\b|usd\b)", _I),
        _money,
    ),
    (re.compile(rf"\b(?P<n>{ARABIC}|{EN_NUM})\s+(?P<cur>dollars?|bucks)\b", _I), _money),
    (re.compile(rf"(?:立减|直降|立省|减免|优惠|省|减|返|降)\s*(?P<n>{ARABIC}|{ZH_NUM})(?!\s*[%折])"), _money),
    (re.compile(rf"\bsave\s+(?P<n>{ARABIC})(?!\s*%)", _I), _money),
    # durations
    (
        re.compile(
            rf"(?P<n>{ARABIC}|(?<![的这那每整]){ZH_NUM})\s*(?P<u>个小时|小时|分钟|星期|个月|天|日|周)"
            rf"|\b(?P<n2>{ARABIC}|{EN_NUM})[\s-]*(?P<u2>days?|hours?|hrs?|minutes?|mins?|weeks?|months?)\b",
            _I,
        ),
        _duration,
    ),
    # promises
    (re.compile(r"限时|\blimited[- ]time\b", _I), _fixed("limited_time")),
    (
        re.compile(r"包邮|免邮|免运费|免费配送|\bfree\s+(?:shipping|delivery)\b|\bships?\s+free\b", _I),
        _fixed("free_shipping"),
    ),
    (
        re.compile(
            r"\btoday\s+only\b|\bonly\s+today\b|\bends\s+(?:today|tonight)\b|\btonight\s+only\b|\blast\s+day\b"
            r"|仅限今[天日晚]|今[天日晚]截止|明[天日]截止|仅此一天|今[天日]最后",
            _I,
        ),
        _fixed("relative_date"),
    ),
    # any other number
    (re.compile(r"(?<![0-9.])[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?"), _number),
)


def normalize(text: str) -> str:
    """The NFKC form of ``text`` (full-width digits, ``％``, ``￥`` folded to ASCII forms)."""
    return unicodedata.normalize("NFKC", text)


def mask_literals(text: str, literals: Iterable[str]) -> str:
    """``text`` with every occurrence of the literal strings replaced by :data:`MASK` characters.

    Longest literals first; ASCII letters match case-insensitively.
    """
    out = text
    for lit in sorted({normalize(s).strip() for s in literals if s and s.strip()}, key=len, reverse=True):
        out = re.sub(re.escape(lit), lambda m: MASK * len(m.group(0)), out, flags=_I)
    return out


def extract_claims(text: str, literals: Iterable[str] = ()) -> list[Claim]:
    """Every claim in ``text``, in order of position (see the module docstring for the kinds).

    Examples
    --------
    >>> [(c.kind, c.values) for c in extract_claims("满300减50，八五折，仅限11月11日！")]
    [('threshold', (300.0, 50.0)), ('percent', (15.0,)), ('date', (0.0, 11.0, 11.0))]
    >>> [(c.kind, c.text) for c in extract_claims("iPhone 15 only $699", literals=["iPhone 15"])]
    [('money', '$699')]
    """
    work = mask_literals(normalize(text), literals)
    claims: list[Claim] = []
    for pattern, build in PATTERNS:
        pieces: list[str] = []
        pos = 0
        for m in pattern.finditer(work):
            if MASK in m.group(0) or not m.group(0).strip():
                continue
            try:
                claim = build(m)
            except ValueError:
                claim = None
            if claim is None:
                continue
            claims.append(Claim(claim.kind, claim.text, claim.values, claim.unit, m.start(), m.end()))
            pieces.append(work[pos : m.start()])
            pieces.append(MASK * (m.end() - m.start()))
            pos = m.end()
        pieces.append(work[pos:])
        work = "".join(pieces)
    return sorted(claims, key=lambda c: c.start)
