"""Escaping, units, numbers and dates as the report shows them.

Everything the report puts on the page goes through :func:`esc` unless it is
already :class:`Html` (markup built by this package from escaped parts).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import date, datetime

CURRENCY_SYMBOLS: dict[str, str] = {
    "CNY": "¥",
    "RMB": "¥",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "JP¥",
    "KRW": "₩",
    "INR": "₹",
    "HKD": "HK$",
    "TWD": "NT$",
    "SGD": "S$",
    "AUD": "A$",
    "CAD": "C$",
}


class Html(str):
    """Markup that is safe to put on the page as is (built from escaped parts)."""

    __slots__ = ()


def esc(value: object) -> Html:
    """Escape text for HTML and SVG (quotes too, so it is safe in attributes); :class:`Html` passes through.

    Examples
    --------
    >>> esc('<b>"A&B"</b>')
    '&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;'
    """
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def join(parts: list[Html] | tuple[Html, ...], sep: str = "") -> Html:
    """Concatenate markup."""
    return Html(sep.join(parts))


@dataclass(frozen=True)
class Unit:
    """How a value is written: a plain count, a percentage (of 1.0) or money in a currency.

    Examples
    --------
    >>> Unit.money("CNY").format(12345.6)
    '¥12,346'
    >>> Unit.percent().format(0.1234)
    '12.3%'
    >>> Unit.count().format(1_234_567, compact=True)
    '1.23M'
    """

    kind: str = "count"
    currency: str = ""
    suffix: str = ""

    @classmethod
    def count(cls, suffix: str = "") -> Unit:
        return cls("count", "", suffix)

    @classmethod
    def percent(cls) -> Unit:
        return cls("percent")

    @classmethod
    def money(cls, currency: str) -> Unit:
        return cls("money", (currency or "").upper())

    @property
    def symbol(self) -> str:
        """Currency symbol (``¥`` for CNY), or the ISO code and a space when there is no symbol."""
        if self.kind != "money":
            return ""
        if not self.currency:
            return ""
        return CURRENCY_SYMBOLS.get(self.currency, self.currency + " ")

    @property
    def label(self) -> str:
        """Unit as an axis caption: ``CNY (¥)``, ``%``, or the suffix."""
        if self.kind == "money":
            sym = self.symbol.strip()
            return f"{self.currency} ({sym})" if self.currency and sym != self.currency else self.currency
        if self.kind == "percent":
            return "%"
        return self.suffix.strip()

    def format(self, value: float | None, *, compact: bool = False, digits: int | None = None) -> str:
        """Write ``value`` in this unit; ``None`` and NaN as an en dash."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if self.kind == "percent":
            d = 1 if digits is None else digits
            return f"{value * 100:.{d}f}%"
        if self.kind == "money" and digits is None and not compact:
            digits = 0 if abs(value) >= 1000 or float(value).is_integer() else 2
        num = compact_number(value) if compact else plain_number(value, digits)
        if self.kind == "money":
            sign = "−" if num.startswith("-") else ""
            return f"{sign}{self.symbol}{num.lstrip('-')}"
        return f"{num}{self.suffix}"


def plain_number(value: float, digits: int | None = None) -> str:
    """Thousands separators; no decimals for large values, up to two for small ones."""
    if digits is None:
        a = abs(value)
        digits = 0 if a >= 100 or float(value).is_integer() else (1 if a >= 10 else 2)
    return f"{value:,.{digits}f}"


def compact_number(value: float) -> str:
    """``1.2k``, ``3.45M``: three significant digits for axis ticks and tiles.

    Examples
    --------
    >>> compact_number(1500), compact_number(25), compact_number(-2_500_000)
    ('1.5k', '25', '-2.5M')
    """
    a = abs(value)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            s = f"{value / div:.3g}"
            return s + suffix
    if a == 0:
        return "0"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.3g}"


def fmt_date(d: date, *, year: bool = True) -> str:
    """``6 Jan 2025`` (or ``6 Jan``): unambiguous in every locale."""
    s = f"{d.day} {d:%b}"
    return f"{s} {d.year}" if year else s


def fmt_range(start: date, end: date) -> str:
    """``6 Jan – 2 Mar 2025`` (the year once when both ends share it)."""
    if start.year == end.year:
        return f"{fmt_date(start, year=False)} – {fmt_date(end)}"
    return f"{fmt_date(start)} – {fmt_date(end)}"


def fmt_datetime(ts: datetime) -> str:
    """``6 Jan 2025, 14:05 UTC`` for a UTC timestamp."""
    return f"{fmt_date(ts.date())}, {ts:%H:%M} UTC"


def fmt_delta(change: float | None) -> str:
    """A relative change as ``+12.3%`` / ``−4.0%`` (real minus sign)."""
    if change is None or math.isnan(change) or math.isinf(change):
        return "–"
    s = f"{change * 100:+.1f}%"
    return s.replace("-", "−")
