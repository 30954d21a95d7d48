"""Personas: the template writer (en, zh), a scripted fake model, the grounding checker and the fallback."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd
import pytest

from growthkit.config import Settings
from growthkit.errors import ConfigError, TextBackendError
from growthkit.models.segment import (
    PERSONA_RENDERERS,
    PERSONA_TASK,
    SegmentProfile,
    check_grounding,
    persona_facts,
    persona_request,
    profile_segments,
    write_personas,
)
from growthkit.text.llm import Generation, GenerationRequest, TemplateGenerator, make_generator


def profiles() -> tuple[SegmentProfile, ...]:
    """Segment 1: four users who never bought (new); segment 2: two big, frequent, recent buyers."""
    f = pd.DataFrame(
        {
            "has_purchased": [0, 0, 0, 0, 1, 1],
            "recency_days": [10.0, 12, 8, 9, 2, 4],
            "frequency": [0, 0, 0, 0, 12, 8],
            "monetary_total": [0.0, 0, 0, 0, 1200, 800],
            "monetary_mean": [0.0, 0, 0, 0, 100, 100],
            "tenure_days": [10.0, 12, 8, 9, 200, 300],
            "sessions": [1, 2, 1, 1, 30, 20],
            "session_conversion": [0.0, 0, 0, 0, 0.4, 0.4],
            "cat_share__books": [0.5, 0.5, 0.0, 0.0, 0.25, 0.75],
        },
        index=[f"u{i}" for i in range(6)],
    )
    return profile_segments(f, pd.Series([1, 1, 1, 1, 2, 2], index=f.index))


@dataclass
class ScriptedGenerator:
    """A fake TextGenerator that answers with fixed texts, in order, and records the requests."""

    answers: list[str | Exception]
    backend: str = "fake"
    model: str = "scripted-1"
    supports_json_schema: bool = True
    deterministic: bool = True
    requests: list[GenerationRequest] = field(default_factory=list)

    def generate(self, request: GenerationRequest) -> Generation:
        self.requests.append(request)
        answer = self.answers[(len(self.requests) - 1) % len(self.answers)]
        if isinstance(answer, Exception):
            raise answer
        return Generation(answer, self.backend, self.model, 10, 10, 0.01)


def answer(name: str, description: str) -> str:
    return json.dumps({"name": name, "description": description}, ensure_ascii=False)


GOOD = answer(
    "Big repeat buyers",
    "2 users (33.3% of users) bring 100.0% of revenue; they bought 10.0 times on average, 3.0x the average user, "
    "and spent 1,000 each.",
)


def test_template_personas_in_english_and_chinese_pass_the_check() -> None:
    en = write_personas(profiles())
    zh = write_personas(profiles(), lang="zh")
    assert [p.name for p in en] == ["New visitors", "High-value regulars"]
    assert [p.name for p in zh] == ["新访客", "高价值常客"]
    assert en[1].description.startswith("2 users (33.3% of users) who account for 100.0% of revenue.")
    assert "3.0x the average user" in en[1].description and "1,000 in total" in en[1].description
    assert en[0].description.startswith("4 users (66.7% of users)") and "They have not bought yet." in en[0].description
    assert zh[1].description.startswith("2位用户（占用户的33.3%），贡献了100.0%的收入。")
    assert "是平均用户的3.0倍" in zh[1].description
    for p in (*en, *zh):
        assert (p.backend, p.model, p.is_template, p.checks_passed, p.asked) == (
            "template",
            "template",
            True,
            True,
            "template/template",
        )
        assert p.fallback_reason is None and p.problems == ()


def test_make_generator_with_the_persona_renderer() -> None:
    gen = make_generator(Settings(llm_backend="template"), renderers=PERSONA_RENDERERS)
    assert isinstance(gen, TemplateGenerator)
    facts = persona_facts(profiles()[1], "zh")
    out = gen.generate(persona_request(facts))
    assert out.is_template and json.loads(out.text)["name"] == "高价值常客"


def test_the_request_carries_the_profile_numbers_and_asks_for_json() -> None:
    fake = ScriptedGenerator([GOOD])
    (persona,) = write_personas(profiles()[1:], fake)
    (req,) = fake.requests
    assert [m.role for m in req.messages] == ["system", "user"]
    assert "only facts in the profile" in req.messages[0].content and "English" in req.messages[0].content
    shown = json.loads(req.messages[1].content.split("\n", 1)[1].rsplit("\n\n", 1)[0])
    assert shown["users"] == 2 and shown["share_revenue"] == 1.0 and shown["features"]["frequency"]["lift"] == 3.0
    assert req.task == PERSONA_TASK and set(req.json_schema["required"]) == {"name", "description"}  # type: ignore[index]
    assert req.facts == persona_facts(profiles()[1], "en")
    assert (persona.name, persona.backend, persona.model, persona.is_template) == (
        "Big repeat buyers",
        "fake",
        "scripted-1",
        False,
    )
    assert persona.checks_passed and persona.fallback_reason is None and persona.asked == "fake/scripted-1"


def test_an_invented_number_is_rejected_and_the_template_text_is_used() -> None:
    invented = answer("Big repeat buyers", "2 users who bring 100.0% of revenue; 42.0% of them open every newsletter.")
    fake = ScriptedGenerator([invented])
    (persona,) = write_personas(profiles()[1:], fake)
    assert persona.is_template and persona.backend == "template" and persona.checks_passed
    assert persona.name == "High-value regulars" and persona.asked == "fake/scripted-1"
    assert persona.fallback_reason is not None and "grounding check" in persona.fallback_reason
    assert "number '42.0%' is not in the profile" in persona.problems
    assert any("'every'" in p for p in persona.problems)
    assert persona.rejected_text is not None and "42.0%" in persona.rejected_text


@pytest.mark.parametrize(
    ("description", "accepted"),
    [
        ("They bring the highest share of revenue: 100.0%.", True),  # rank 1 on revenue
        ("The most frequent buyers, 3.0x the average user.", True),  # rank 1 on frequency
        ("They are the largest group.", False),  # 2 of 6 users: rank 2
        ("Young mothers who bought 10.0 times.", False),
        ("They always come back.", False),
        ("About 2 users; roughly 3 in 4 buy monthly.", False),
    ],
)
def test_superlatives_and_claims_need_support(description: str, accepted: bool) -> None:
    (persona,) = write_personas(profiles()[1:], ScriptedGenerator([answer("Regulars", description)]))
    assert persona.is_template is not accepted
    if accepted:
        assert persona.description == description


def test_unusable_answers_and_backend_errors_fall_back_per_segment() -> None:
    fake = ScriptedGenerator(["Sure! Here is a persona: big spenders.", TextBackendError("HTTP 503 from x")])
    first, second = write_personas(profiles(), fake)
    assert first.is_template and "unusable model answer" in (first.fallback_reason or "")
    assert first.rejected_text == "Sure! Here is a persona: big spenders."
    assert second.is_template and "the text backend failed: HTTP 503" in (second.fallback_reason or "")
    assert second.name == "High-value regulars" and second.checks_passed
    with pytest.raises(ConfigError, match="lang must be one of en, zh"):
        write_personas(profiles(), lang="fr")


FACTS = {
    "users": 1234,
    "revenue": 12345.0,
    "share_users": 0.2451,
    "share_revenue": 0.612,
    "n_segments": 4,
    "segment_id": "3",
    "label": "Segment 3",
    "features": {
        "frequency": {"mean": 4.26, "population_mean": 1.52, "lift": 2.8, "unit": "count"},
        "has_purchased": {"mean": 1.0, "population_mean": 0.5, "lift": 2.0, "unit": "flag"},
    },
    "categories": [{"category": "home_living", "share": 0.321, "population_share": 0.2, "lift": 1.605}],
    "ranks": {"users": 2, "share_revenue": 1, "frequency": 1, "has_purchased": 1},
}


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("1,234 users, 24.5% of users, 61.2% of revenue.", True),
        ("About 25% of users bring 61% of revenue.", True),  # rounding as written
        ("24.6% of users", False),  # not within the rounding of 24.51
        ("They buy 2.8x as often, 180% more than average.", True),  # lift as a multiple and as a percentage
        ("购买次数是平均用户的2.8倍，占用户的24.5%。", True),
        ("1.23k users spent 1.2万 in total.", True),  # 1,234 and 12,345 with scale suffixes
        ("1.1k users", False),  # 1,100 ± 50 does not contain 1,234
        ("They bought 4.26 times on average (1.52 overall).", True),
        ("Segment 3 likes home living (32.1%) and home_living.", True),  # names and the segment id may be quoted
        ("They all bought, 100.0% of them.", True),  # everybody in the segment bought
        ("They never bought.", False),
        ("Our most valuable customers.", True),  # rank 1 on revenue
        ("Our largest segment.", False),  # rank 2 on users
        ("最近购买的顾客，收入占比最高。", True),  # 最近 is "recently", 最高 backed by the revenue rank
        ("人数最多的群体。", False),
        ("Highly engaged, 24.5% of all users.", True),  # "engaged" is not "aged", "of all" is not an absolute
        ("25-34 year old women", False),
    ],
)
def test_grounding_checker(text: str, ok: bool) -> None:
    check = check_grounding(text, FACTS)
    assert check.passed is ok, check.problems


def test_checker_reports_each_number() -> None:
    check = check_grounding("1,234 users and 77 friends.", FACTS)
    assert check.numbers == ("1,234", "77") and check.problems == ("number '77' is not in the profile",)
