"""Channels and their rules, declared as data, and how text length is counted.

Each :class:`ChannelRule` says whether the channel has a title (push title, e-mail
subject), how long title and body may be per language, how length is counted, and which
compliance lines it needs (an opt-out line, a sender signature). The numbers are common,
conservative defaults, not the hard limits of one vendor; ``docs/copy.md`` explains where
each comes from. Pass your own rules to :func:`~growthkit.campaigns.copy.generate_copy`
when a platform allows more or less.

Counting
--------
``display`` (push, e-mail, social, referral)
    Screen width in the language's own unit: in English a narrow (half-width) character
    counts 1 and a wide one (CJK, full-width forms, most emoji) counts 2; in Chinese a
    wide character counts 1 and a narrow one 1/2 (rounded up). So a 20-unit Chinese push
    title and a 40-unit English one take about the same room on screen.
``sms``
    What carriers bill: a message of GSM 7-bit characters holds 160 (characters from the
    GSM extension table such as ``€ [ ] { } ~ ^ \\ |`` count 2); any other character
    (every Chinese character, emoji) switches the whole message to UCS-2, which holds 70
    UTF-16 code units. Every character counts, punctuation, spaces, signature and the
    opt-out line included.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from growthkit.errors import ConfigError

LANGUAGES: tuple[str, ...] = ("zh", "en")
TONES: tuple[str, ...] = ("friendly", "urgent", "premium", "playful")


class Counting(StrEnum):
    """How a channel counts the length of a text."""

    DISPLAY = "display"
    SMS = "sms"


@dataclass(frozen=True)
class ChannelRule:
    """The rules of one channel.

    Parameters
    ----------
    name
        Channel name (``push``, ``sms``, ...).
    description
        What the channel is, for people and for the model's prompt.
    title_max, body_max
        Maximum length per language (``{"zh": 20, "en": 40}``); ``title_max`` empty when
        the channel has no title.
    counting
        How length is counted (see the module docstring).
    opt_out
        The opt-out line per language that the body must carry, or empty when none is needed.
    opt_out_markers
        Words whose presence counts as an opt-out line already there (per language).
    signature
        Languages whose messages must start with the sender's name in 【】 (Chinese SMS).
    sender_named
        Languages whose messages must name the sender somewhere (English SMS).
    emoji
        Whether emoji are welcome (never in SMS: one emoji halves the size of the message).
    """

    name: str
    description: str
    body_max: Mapping[str, int]
    title_max: Mapping[str, int] = field(default_factory=dict)
    counting: Counting = Counting.DISPLAY
    opt_out: Mapping[str, str] = field(default_factory=dict)
    opt_out_markers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    signature: tuple[str, ...] = ()
    sender_named: tuple[str, ...] = ()
    emoji: bool = True

    @property
    def has_title(self) -> bool:
        return bool(self.title_max)

    def limit(self, part: str, lang: str) -> int:
        """The configured maximum of ``part`` (``"title"`` or ``"body"``) in ``lang``."""
        table = self.title_max if part == "title" else self.body_max
        if lang not in table:
            raise ConfigError(f"channel {self.name!r} has no {part} limit for language {lang!r}")
        return int(table[lang])


_SMS_OPT_OUT = {"zh": "回T退订", "en": "Reply STOP to opt out"}
_EMAIL_OPT_OUT = {
    "zh": "如不想再收到此类邮件，请点击邮件底部的“退订”。",
    "en": "To stop receiving these emails, click Unsubscribe at the bottom of this message.",
}

CHANNELS: dict[str, ChannelRule] = {
    r.name: r
    for r in (
        ChannelRule(
            "push",
            "app push notification: a short title and a one- or two-line body on the lock screen",
            title_max={"zh": 20, "en": 40},
            body_max={"zh": 60, "en": 120},
        ),
        ChannelRule(
            "sms",
            "text message (SMS): one message, plain text, no emoji",
            body_max={"zh": 70, "en": 160},
            counting=Counting.SMS,
            opt_out=_SMS_OPT_OUT,
            opt_out_markers={"zh": ("退订",), "en": ("stop",)},
            signature=("zh",),
            sender_named=("en",),
            emoji=False,
        ),
        ChannelRule(
            "email_subject",
            "e-mail subject line only (what shows in the inbox list)",
            body_max={"zh": 25, "en": 50},
        ),
        ChannelRule(
            "email",
            "marketing e-mail: a subject line and a short body of a few sentences",
            title_max={"zh": 25, "en": 50},
            body_max={"zh": 600, "en": 1200},
            opt_out=_EMAIL_OPT_OUT,
            opt_out_markers={"zh": ("退订",), "en": ("unsubscribe",)},
        ),
        ChannelRule(
            "social",
            "social media post (Weibo, WeChat Moments, X, Instagram caption)",
            body_max={"zh": 140, "en": 280},
        ),
        ChannelRule(
            "referral",
            "referral invite a customer forwards to friends (chat message or share card)",
            body_max={"zh": 80, "en": 160},
        ),
    )
}
"""The default channel rules, by name."""


def get_channel(name: str, rules: Mapping[str, ChannelRule] | None = None) -> ChannelRule:
    """The rule of channel ``name``; a :class:`ConfigError` naming the known channels otherwise."""
    table = CHANNELS if rules is None else rules
    if name not in table:
        raise ConfigError(f"unknown channel {name!r}; use one of: {', '.join(table)}")
    return table[name]


# ---------------------------------------------------------------- counting

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def is_wide(ch: str) -> bool:
    """Whether ``ch`` takes two columns on screen (CJK, full-width forms, most emoji)."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def display_length(text: str, lang: str) -> int:
    """Screen width of ``text`` in the language's unit (see the module docstring).

    Examples
    --------
    >>> display_length("限时8折", "zh"), display_length("限时8折", "en")
    (4, 7)
    """
    wide = sum(1 for ch in text if is_wide(ch))
    narrow = len(text) - wide
    if lang == "zh":
        return wide + math.ceil(narrow / 2)
    return narrow + 2 * wide


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` is in the GSM 7-bit alphabet (with its extension)."""
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text)


def sms_length(text: str) -> tuple[int, int]:
    """``(length, capacity)`` of ``text`` as one SMS: GSM-7 septets of 160, else UTF-16 units of 70.

    Examples
    --------
    >>> sms_length("Hi {you}")
    (10, 160)
    >>> sms_length("【小店】回T退订")
    (8, 70)
    """
    if is_gsm7(text):
        return sum(2 if ch in _GSM_EXTENDED else 1 for ch in text), 160
    return len(text.encode("utf-16-le")) // 2, 70


def measure(text: str, rule: ChannelRule, lang: str) -> int:
    """Length of ``text`` as ``rule`` counts it."""
    if rule.counting is Counting.SMS:
        return sms_length(text)[0]
    return display_length(text, lang)


def effective_limit(text: str, rule: ChannelRule, part: str, lang: str) -> int:
    """The limit that applies to this ``text``: the rule's, capped by the SMS encoding's capacity."""
    limit = rule.limit(part, lang)
    if rule.counting is Counting.SMS:
        return min(limit, sms_length(text)[1])
    return limit
