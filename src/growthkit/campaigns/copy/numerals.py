"""Reading numbers the way shoppers write them: Arabic, full-width, Chinese and English words.

Full-width digits (``２０％``) are folded to ASCII by NFKC normalisation before
extraction; this module reads the rest: Chinese numerals (``三百``, ``二十五``, ``两``,
financial forms such as ``叁佰``, digit strings such as ``二〇二六``), the digit-by-digit
form of 折 (``八五折`` = 8.5折) and English number words (``twenty-four``).
"""

from __future__ import annotations

import re

ZH_DIGITS: dict[str, int] = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "两": 2,
    "贰": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
ZH_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
ZH_BIG: dict[str, int] = {"万": 10_000, "萬": 10_000, "亿": 100_000_000}
ZH_NUM_CHARS = "".join(ZH_DIGITS) + "".join(ZH_UNITS) + "".join(ZH_BIG)
ZH_NUM = f"[{ZH_NUM_CHARS}]+"
"""Regex character run of Chinese numerals."""

ARABIC = r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?"
"""Regex of an Arabic number (optional thousands commas and decimals)."""

EN_WORDS: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_UNITS_EN = "one|two|three|four|five|six|seven|eight|nine"
EN_NUM = (
    rf"(?:(?:{_TENS})(?:[- ](?:{_UNITS_EN}))?|a hundred|one hundred|hundred|"
    r"zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen)"
)
"""Regex of an English number word from zero to one hundred."""


def parse_zh(text: str) -> float | None:
    """The value of a Chinese numeral, or None when ``text`` is not one.

    Examples
    --------
    >>> [parse_zh(s) for s in ("五", "十五", "二十", "三百", "两百五十", "一万二", "二〇二六", "叁佰", "一百零五")]
    [5.0, 15.0, 20.0, 300.0, 250.0, 12000.0, 2026.0, 300.0, 105.0]
    """
    if not text or any(ch not in ZH_NUM_CHARS for ch in text):
        return None
    if all(ch in ZH_DIGITS for ch in text):
        if len(text) == 1:
            return float(ZH_DIGITS[text])
        return float(int("".join(str(ZH_DIGITS[ch]) for ch in text)))
    total = 0
    section = 0
    digit: int | None = None
    last_unit = 1
    for ch in text:
        if ch in ("零", "〇"):
            digit = None
            last_unit = 1  # 一百零五: the digit after 零 is a unit
        elif ch in ZH_DIGITS:
            digit = ZH_DIGITS[ch]
        elif ch in ZH_UNITS:
            unit = ZH_UNITS[ch]
            section += (1 if digit is None else digit) * unit
            digit = None
            last_unit = unit
        else:
            big = ZH_BIG[ch]
            section += digit or 0
            total += (section or 1) * big
            section = 0
            digit = None
            last_unit = big
    if digit is not None:
        # 一万二 = 12000, 三百五 = 350: a trailing digit is one unit below the last one
        section += digit * (last_unit // 10 if last_unit >= 100 else 1)
    return float(total + section)


def parse_zhe(text: str) -> float | None:
    """The value of a 折 discount word before 折: ``八`` 8, ``八五`` 8.5, ``85`` 8.5, ``8.5`` 8.5, ``7`` 7.

    Examples
    --------
    >>> [parse_zhe(s) for s in ("八", "八五", "85", "8.5", "七", "9", "九五")]
    [8.0, 8.5, 8.5, 8.5, 7.0, 9.0, 9.5]
    """
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text):
        if "." in text:
            return float(text)
        if len(text) == 1:
            return float(text)
        return float(text[0] + "." + text[1:])
    if text and all(ch in ZH_DIGITS for ch in text):
        digits = "".join(str(ZH_DIGITS[ch]) for ch in text)
        return float(digits[0] + ("." + digits[1:] if len(digits) > 1 else ""))
    return None


def parse_en(text: str) -> float | None:
    """The value of an English number word from zero to one hundred (``twenty-four`` 24).

    Examples
    --------
    >>> [parse_en(s) for s in ("three", "Twenty-Four", "a hundred", "lots")]
    [3.0, 24.0, 100.0, None]
    """
    words = re.split(r"[- ]+", text.lower().strip())
    if words[:1] == ["a"]:
        words = words[1:]
    if not words or any(w not in EN_WORDS for w in words):
        return None
    if words == ["one", "hundred"]:
        return 100.0
    return float(sum(EN_WORDS[w] for w in words))


def parse_number(text: str) -> float | None:
    """Any of the above: Arabic (with thousands commas), Chinese numerals or English words."""
    t = text.strip()
    if re.fullmatch(ARABIC, t):
        return float(t.replace(",", ""))
    zh = parse_zh(t)
    if zh is not None:
        return zh
    return parse_en(t)
