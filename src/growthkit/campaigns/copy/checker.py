"""The checker: does a final text say only what the record supports, and follow the channel's rules?

:func:`check_text` runs every rule on a final title and body and returns a
:class:`CheckReport` (each issue with its rule, sentence and a message saying what to
fix); :func:`check_copies` counts unsupported claims over many texts, for benchmarks.

Rules
-----
``slots``           no unfilled ``{slot}`` and no stray braces remain
``claims``          every amount, discount, date, time, duration, promise and number is
                    supported by the record (see :mod:`~growthkit.campaigns.copy.grounding`)
``superlatives``    no superlative or ranking claims (最X, 第一, best, #1, ...)
``banned_phrases``  none of the policy's banned phrases
``personal_data``   no phone numbers, e-mail addresses or ID-like numbers
``length``          title and body within the channel's limits for the language
``opt_out``         the channel's opt-out line is there (SMS, e-mail)
``sender``          Chinese SMS start with 【shop】; English SMS name the shop
``language``        written in the requested language (see :mod:`~growthkit.campaigns.copy.quality`)
``wording``         says something besides the record's values; the title does not repeat the body
``on_topic``        the body names the product or states the offer
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from growthkit.campaigns.copy.channels import ChannelRule, effective_limit, measure
from growthkit.campaigns.copy.claims import NUMERIC_KINDS, Claim, extract_claims, mask_literals, normalize
from growthkit.campaigns.copy.grounding import Grounding
from growthkit.campaigns.copy.policy import DEFAULT_POLICY, CompliancePolicy
from growthkit.campaigns.copy.quality import language_issues, topic_issues, wording_issues
from growthkit.campaigns.copy.record import CopyRecord

RULES: tuple[str, ...] = (
    "slots",
    "claims",
    "superlatives",
    "banned_phrases",
    "personal_data",
    "length",
    "opt_out",
    "sender",
    "language",
    "wording",
    "on_topic",
)
"""Every rule the checker runs, in report order."""

_CHANNEL_RULES = ("length", "opt_out", "sender", "language", "wording", "on_topic")
"""Rules run only when the channel is known (a final copy, not a loose sentence)."""

_END = "。！？!?；;…\n"
_SENT_RE = re.compile(r".*?(?:[。！？!?；;…]+[」』”’\"')）]*\s*|\.(?=\s|$)[\"')）]*\s*|\n+|$)", re.S)


@dataclass(frozen=True)
class Issue:
    """One broken rule: where (``part`` and ``sentence`` index) and what to fix."""

    rule: str
    message: str
    part: str = "body"
    sentence: int | None = None
    kind: str = ""


@dataclass(frozen=True)
class CheckOutcome:
    """One rule's verdict on a text."""

    rule: str
    passed: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckReport:
    """All issues of a text and every claim found in it."""

    issues: tuple[Issue, ...]
    claims: tuple[Claim, ...] = ()
    checked: tuple[str, ...] = RULES

    @property
    def passed(self) -> bool:
        return not self.issues

    def outcomes(self) -> tuple[CheckOutcome, ...]:
        """One :class:`CheckOutcome` per rule that ran."""
        return tuple(
            CheckOutcome(
                rule,
                not any(i.rule == rule for i in self.issues),
                tuple(i.message for i in self.issues if i.rule == rule),
            )
            for rule in self.checked
        )

    def reasons(self) -> tuple[str, ...]:
        return tuple(f"{i.rule}: {i.message}" for i in self.issues)


def split_sentences(text: str) -> list[str]:
    """``text`` cut after sentence ends (``。！？!?；`` and a full stop before a space); the
    pieces keep their punctuation and joined give ``text`` back.

    Examples
    --------
    >>> split_sentences("限时8折！到手价¥159.20。Now $19.99. Go")
    ['限时8折！', '到手价¥159.20。', 'Now $19.99. ', 'Go']
    """
    return [m.group(0) for m in _SENT_RE.finditer(text) if m.group(0)]


def has_content(text: str) -> bool:
    """Whether ``text`` has any letter or CJK character (not only punctuation and emoji)."""
    return any(ch.isalpha() for ch in text)


def sentence_issues(
    sentence: str,
    grounding: Grounding,
    policy: CompliancePolicy = DEFAULT_POLICY,
    *,
    part: str = "body",
    index: int | None = None,
) -> tuple[list[Issue], list[Claim]]:
    """The content issues of one sentence (slots, claims, superlatives, banned phrases, personal data)."""
    issues: list[Issue] = []
    if re.search(r"[{}]", sentence):
        names = re.findall(r"\{+\s*([^{}\s]*)\s*\}+", sentence)
        what = ", ".join("{" + n + "}" for n in names) if names else "a stray brace"
        issues.append(Issue("slots", f"{what} left unfilled: the record has no such value", part, index))
    claims = extract_claims(sentence, grounding.literals)
    for c in claims:
        if c.kind == "pii":
            if policy.personal_data:
                issues.append(Issue("personal_data", grounding.verify(c) or "", part, index, c.kind))
            continue
        why = grounding.verify(c)
        if why is not None:
            issues.append(Issue("claims", why, part, index, c.kind))
    masked = mask_literals(normalize(sentence), grounding.literals)
    for hit in policy.superlative_hits(masked):
        issues.append(Issue("superlatives", f"{hit!r} is a superlative or ranking claim", part, index))
    for hit in policy.banned_hits(masked):
        issues.append(Issue("banned_phrases", f"{hit!r} is a banned phrase", part, index))
    return issues, claims


def opt_out_present(body: str, rule: ChannelRule, lang: str) -> bool:
    """Whether ``body`` already carries an opt-out line for ``rule``."""
    markers = rule.opt_out_markers.get(lang, ())
    low = body.lower()
    return any(m.lower() in low for m in markers) or (rule.opt_out.get(lang, "\0") in body)


def structure_issues(
    title: str | None, body: str, rule: ChannelRule, lang: str, shop: str | None, policy: CompliancePolicy
) -> list[Issue]:
    """The channel issues of a final text: length, opt-out line, sender."""
    issues: list[Issue] = []
    parts = [("body", body)] + ([("title", title or "")] if rule.has_title else [])
    for part, text in parts:
        n, limit = measure(text, rule, lang), effective_limit(text, rule, part, lang)
        if n > limit:
            issues.append(Issue("length", f"{part} is {n} long, over the {rule.name} limit of {limit} ({lang})", part))
        if not has_content(text):
            issues.append(Issue("length", f"{part} is empty", part))
    if policy.opt_out and rule.opt_out.get(lang) and not opt_out_present(body, rule, lang):
        issues.append(Issue("opt_out", f"{rule.name} in {lang} needs the opt-out line {rule.opt_out[lang]!r}"))
    if policy.opt_out and lang in rule.signature and not re.match(r"\s*【[^】]+】", body):
        issues.append(Issue("sender", f"{rule.name} in {lang} must start with the sender's name in 【】"))
    if policy.opt_out and lang in rule.sender_named and (not shop or shop.lower() not in body.lower()):
        issues.append(Issue("sender", f"{rule.name} in {lang} must name the shop ({shop or 'pass the shop name'})"))
    return issues


def check_text(
    body: str,
    record: CopyRecord,
    *,
    title: str | None = None,
    channel: ChannelRule | None = None,
    lang: str = "zh",
    policy: CompliancePolicy = DEFAULT_POLICY,
    grounding: Grounding | None = None,
) -> CheckReport:
    """Check a final text against ``record`` (and against ``channel``'s rules when given).

    Examples
    --------
    >>> from growthkit.campaigns.copy.record import CopyRecord, Offer, Product
    >>> rec = CopyRecord(Product("i1", "铁观音", price=199.0, currency="CNY"), Offer(discount_percent=30))
    >>> rep = check_text("铁观音七折！全网最低价。", rec)
    >>> rep.passed, [i.rule for i in rep.issues]
    (False, ['superlatives', 'banned_phrases', 'banned_phrases'])
    >>> check_text("铁观音八折！", rec).issues[0].message
    "'八折' claims 20% off but the offer gives 30% off"
    """
    g = grounding or Grounding.of(record)
    issues: list[Issue] = []
    claims: list[Claim] = []
    parts = ([("title", title)] if title else []) + [("body", body)]
    for part, text in parts:
        for i, s in enumerate(split_sentences(text or "")):
            found, cl = sentence_issues(s, g, policy, part=part, index=i)
            issues += found
            claims += cl
    checked: tuple[str, ...] = tuple(r for r in RULES if r not in _CHANNEL_RULES)
    if channel is not None:
        issues += structure_issues(title, body, channel, lang, record.shop, policy)
        issues += [Issue("language", msg, part) for part, msg in language_issues(title, body, record, lang)]
        issues += [Issue("wording", msg, part) for part, msg in wording_issues(title, body, record, lang)]
        issues += [Issue("on_topic", msg, part) for part, msg in topic_issues(body, record, lang)]
        checked = RULES
    return CheckReport(tuple(issues), tuple(claims), checked)


@dataclass(frozen=True)
class CopyCheckStats:
    """Counts over many texts checked against one record (what a benchmark reports)."""

    texts: int
    texts_passed: int
    claims: int
    numeric_claims: int
    unsupported_numeric_claims: int
    texts_with_unsupported_numeric: int
    issues_by_rule: dict[str, int] = field(default_factory=dict)
    unsupported_by_kind: dict[str, int] = field(default_factory=dict)
    examples: tuple[str, ...] = ()

    @property
    def unsupported_rate(self) -> float:
        """Unsupported numeric claims per numeric claim (0 when there are none)."""
        return self.unsupported_numeric_claims / self.numeric_claims if self.numeric_claims else 0.0


def check_copies(
    texts: Iterable[str],
    record: CopyRecord,
    *,
    policy: CompliancePolicy = DEFAULT_POLICY,
    examples: int = 10,
) -> CopyCheckStats:
    """Check many final texts against one record and count what is unsupported.

    Only content rules run (claims, superlatives, banned phrases, personal data, slots);
    channel rules need :func:`check_text` with a channel.

    Examples
    --------
    >>> from growthkit.campaigns.copy.record import CopyRecord, Offer, Product
    >>> rec = CopyRecord(Product("i1", "Tea", price=20.0, currency="USD"), Offer(discount_percent=25))
    >>> s = check_copies(["Tea, now 25% off: $15.", "Tea, now 30% off!"], rec)
    >>> s.numeric_claims, s.unsupported_numeric_claims, s.texts_with_unsupported_numeric
    (3, 1, 1)
    """
    g = Grounding.of(record)
    by_rule: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    n = passed = n_claims = numeric = unsupported = texts_bad = 0
    shown: list[str] = []
    for text in texts:
        n += 1
        rep = check_text(text, record, policy=policy, grounding=g)
        passed += rep.passed
        n_claims += len(rep.claims)
        numeric += sum(c.kind in NUMERIC_KINDS for c in rep.claims)
        bad = [i for i in rep.issues if i.rule == "claims" and i.kind in NUMERIC_KINDS]
        unsupported += len(bad)
        texts_bad += bool(bad)
        by_rule.update(i.rule for i in rep.issues)
        by_kind.update(i.kind for i in rep.issues if i.rule == "claims")
        if rep.issues and len(shown) < examples:
            shown.append(f"{text[:80]!r}: {rep.issues[0].message}")
    return CopyCheckStats(
        texts=n,
        texts_passed=passed,
        claims=n_claims,
        numeric_claims=numeric,
        unsupported_numeric_claims=unsupported,
        texts_with_unsupported_numeric=texts_bad,
        issues_by_rule=dict(by_rule),
        unsupported_by_kind=dict(by_kind),
        examples=tuple(shown),
    )


def first_issue_per_sentence(issues: Sequence[Issue], part: str) -> dict[int, Issue]:
    """The first issue of each sentence of ``part`` (for repair)."""
    out: dict[int, Issue] = {}
    for i in issues:
        if i.part == part and i.sentence is not None and i.sentence not in out:
            out[i.sentence] = i
    return out
