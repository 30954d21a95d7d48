"""Compliance policy: banned phrases, superlatives and what the checker enforces.

Default banned phrases
----------------------
Chinese: the PRC Advertising Law (中华人民共和国广告法, article 9, item 3) forbids
advertisements from using words such as 国家级 ("national-level"), 最高级 ("highest
grade") and 最佳 ("the best"); regulators and platforms read this as covering absolute
and ranking claims in general (最…, 第一, 唯一, 顶级, 极品, 万能, 100% ...). Article 28
adds that unverifiable or invented facts make an advertisement false, which is why the
checker also rejects numbers, dates and promises the records do not support. The
default list below follows those rules and common platform review guidance; it is a
starting point for a shop's own list, not legal advice.

English: absolute and ranking claims that a shop cannot substantiate (best, #1,
cheapest, lowest price, guaranteed, risk-free, ...). US and EU consumer-protection
rules treat unsubstantiated objective claims as deceptive; mere puffery is allowed,
but a grounded-copy engine has no way to tell the two apart, so it avoids both.

English phrases match whole words, case-insensitively; Chinese phrases match as
substrings, after the exempt phrases (:attr:`CompliancePolicy.exempt`, such as 最近
"recently" and 第一次 "the first time") are set aside.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from growthkit.errors import ConfigError

BANNED_ZH: tuple[str, ...] = (
    "最",
    "第一",
    "唯一",
    "首个",
    "首选",
    "首家",
    "独家",
    "国家级",
    "世界级",
    "全球级",
    "最高级",
    "最佳",
    "顶级",
    "顶尖",
    "极品",
    "极致",
    "万能",
    "100%",
    "百分百",
    "百分之百",
    "绝对",
    "史上",
    "史无前例",
    "全网最低",
    "销量冠军",
    "冠军",
    "领导品牌",
    "遥遥领先",
    "王牌",
    "独一无二",
    "永久",
    "无敌",
    "绝无仅有",
    "驰名商标",
    "国家免检",
    "特供",
    "专供",
    "零风险",
    "无副作用",
)
"""Default Chinese banned phrases (absolute, ranking and guarantee terms)."""

BANNED_EN: tuple[str, ...] = (
    "best",
    "#1",
    "no. 1",
    "no.1",
    "number one",
    "cheapest",
    "lowest price",
    "lowest prices",
    "guaranteed",
    "guarantee",
    "best-selling",
    "best seller",
    "bestseller",
    "top-rated",
    "world-class",
    "unbeatable",
    "unmatched",
    "risk-free",
    "100%",
    "miracle",
    "cure",
)
"""Default English banned phrases (absolute, ranking and guarantee terms)."""

EXEMPT: tuple[str, ...] = ("最近", "第一次", "第一步", "第一时间")
"""Phrases that contain a banned word but make no claim."""

_SUPERLATIVES = re.compile(
    r"最[\u4e00-\u9fff]|第一|史上|独一无二|全网(?:最|第一)|\bno\.?\s*1\b|#\s*1\b|\btop\s*1\b"
    r"|\b(?:best|cheapest|lowest|highest|greatest|finest|biggest|largest|fastest|strongest|"
    r"top[- ]rated|top[- ]selling|best[- ]?selling|bestseller|number\s+one|unbeatable|unmatched|unrivall?ed|"
    r"second\s+to\s+none|world[- ]class|of\s+all\s+time)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CompliancePolicy:
    """What the checker enforces beyond the facts.

    Parameters
    ----------
    banned
        Phrases that may not appear (default: :data:`BANNED_ZH` + :data:`BANNED_EN`).
    exempt
        Phrases set aside before looking for banned words and superlatives.
    superlatives
        Reject superlative and ranking claims found by pattern (最X, 第一, -est words, #1).
    personal_data
        Reject phone numbers, e-mail addresses and ID-like numbers.
    opt_out
        Require (and add) the channel's opt-out line and sender signature.

    Examples
    --------
    >>> p = CompliancePolicy().with_banned(["爆款"])
    >>> p.banned_hits("今日爆款，全网最低价")
    ['最', '全网最低', '爆款']
    """

    banned: tuple[str, ...] = BANNED_ZH + BANNED_EN
    exempt: tuple[str, ...] = EXEMPT
    superlatives: bool = True
    personal_data: bool = True
    opt_out: bool = True
    _patterns: tuple[tuple[str, re.Pattern[str]], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        banned = tuple(dict.fromkeys(p.strip() for p in self.banned if p and p.strip()))
        object.__setattr__(self, "banned", banned)
        object.__setattr__(self, "exempt", tuple(p for p in self.exempt if p))
        pats = []
        for phrase in banned:
            if phrase.isascii():
                rx = re.compile(r"(?<![A-Za-z0-9])" + re.escape(phrase) + r"(?![A-Za-z0-9])", re.IGNORECASE)
            else:
                rx = re.compile(re.escape(phrase))
            pats.append((phrase, rx))
        object.__setattr__(self, "_patterns", tuple(pats))

    def with_banned(self, phrases: Iterable[str], *, replace_defaults: bool = False) -> CompliancePolicy:
        """A copy with ``phrases`` added to (or replacing) the banned list."""
        extra = tuple(phrases)
        return replace(self, banned=extra if replace_defaults else self.banned + extra)

    @classmethod
    def from_file(cls, path: Path, *, replace_defaults: bool = False) -> CompliancePolicy:
        """The default policy plus the phrases in ``path`` (one per line, ``#`` starts a comment)."""
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read the banned-phrase file {path}: {exc.strerror}") from exc
        phrases = [ln.split("#", 1)[0].strip() for ln in lines]
        return cls().with_banned([p for p in phrases if p], replace_defaults=replace_defaults)

    def _set_aside(self, text: str) -> str:
        for phrase in self.exempt:
            text = text.replace(phrase, "\ue000" * len(phrase))
        return text

    def banned_hits(self, text: str) -> list[str]:
        """The banned phrases found in ``text``, in list order."""
        work = self._set_aside(text)
        return [phrase for phrase, rx in self._patterns if rx.search(work)]

    def superlative_hits(self, text: str) -> list[str]:
        """Superlative and ranking expressions found in ``text``."""
        if not self.superlatives:
            return []
        return [m.group(0) for m in _SUPERLATIVES.finditer(self._set_aside(text))]

    def fingerprint(self) -> str:
        """A short hash of the policy (part of the cache key: a new policy means new copy)."""
        data = [self.banned, self.exempt, self.superlatives, self.personal_data, self.opt_out]
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:12]


DEFAULT_POLICY = CompliancePolicy()
"""The default policy (module constant of an immutable value; nothing happens at import)."""
