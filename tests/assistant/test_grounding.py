"""The grounding check of answers: the copy checker's claims against the cited records, plus ids."""

from __future__ import annotations

import doctest
from datetime import date

import pytest

from growthkit.assistant import evidence as evidence_module
from growthkit.assistant.answer import Citation
from growthkit.assistant.corpus import policy_passages
from growthkit.assistant.documents import load_policy_docs
from growthkit.assistant.evidence import Evidence, EvidenceGrounding, check_answer

ORDER = Evidence(
    (Citation("order", "u0000004-s12", "Order u0000004-s12"),),
    money=(968.7, 322.9),
    numbers=(3.0,),
    dates=(date(2025, 1, 14),),
    literals=("u0000004-s12", "i000135", "Home Latex Pillow 2-Pack"),
)
POLICY = Evidence(
    (Citation("policy", "shipping.en.md#fees", "Shipping › Fees"),),
    text="Shipping is free for orders of ¥99 or more; otherwise ¥8. Orders paid before 16:00 ship the same day. "
    "Call 400-820-1234 from 9:00 to 21:00; we answer within 24 hours.",
)


def verdicts(text: str, *ev: Evidence) -> list[tuple[str, str, bool]]:
    g = EvidenceGrounding.of(ev, "CNY")
    return [(c.kind, c.text, c.supported) for c in check_answer(text, g)]


def test_doctests() -> None:
    failed, attempted = doctest.testmod(evidence_module)[:2]
    assert attempted > 0 and failed == 0


def test_order_facts_are_checked_against_the_order() -> None:
    ok = "Your order u0000004-s12 of 2025-01-14: Home Latex Pillow 2-Pack (i000135) × 3, total ¥968.70."
    assert all(v for *_, v in verdicts(ok, ORDER))
    assert [k for k, _, v in verdicts(ok, ORDER)] == ["date", "number", "money"]  # the 2 of "2-Pack" is a name
    bad = "Your order of 2025-01-15 came to ¥968.00, 4 items."
    assert [(k, v) for k, _, v in verdicts(bad, ORDER)] == [("date", False), ("money", False), ("number", False)]
    assert verdicts("它在2025年1月14日下单，金额¥968.70。", ORDER) == [
        ("date", "2025年1月14日", True),
        ("money", "¥968.70", True),
    ]


def test_currency_must_be_the_shops() -> None:
    assert verdicts("That is $968.70.", ORDER) == [("money", "$968.70", False)]
    assert verdicts("That is 968.7元.", ORDER) == [("money", "968.7元", True)]


def test_ids_must_be_ids_of_the_cited_records() -> None:
    got = verdicts("See order u0000005-s3 and item i000135.", ORDER)
    assert got == [("id", "u0000005-s3", False)]


def test_policy_text_supports_its_own_times_phone_and_durations() -> None:
    text = (
        "Free shipping from ¥99, else ¥8; pay before 16:00. Hotline 400-820-1234, 9:00 to 21:00, reply within 24 hours."
    )
    assert all(v for *_, v in verdicts(text, POLICY)), verdicts(text, POLICY)
    # a time, a phone number or a promise the policy does not state
    assert verdicts("Pay before 18:00.", POLICY) == [("time", "18:00", False)]
    assert verdicts("Call 13800138000.", POLICY) == [("pii", "13800138000", False)]
    assert verdicts("Free shipping on everything.", ORDER) == [("free_shipping", "Free shipping", False)]


def test_every_packaged_policy_section_supports_itself() -> None:
    for p in policy_passages(load_policy_docs()):
        assert p.section is not None
        ev = Evidence((Citation("policy", p.ref, p.section.label),), text=p.section.text)
        bad = [(k, t) for k, t, v in verdicts(p.section.text, ev) if not v]
        assert not bad, (p.ref, bad)


@pytest.mark.parametrize("claim", ["¥99", "16:00", "24 hours", "400-820-1234"])
def test_nothing_is_supported_without_evidence(claim: str) -> None:
    assert not any(v for *_, v in verdicts(f"It is {claim}.")), claim
