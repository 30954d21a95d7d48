"""Personas: a short name and description per segment, written from the profile's numbers only.

For each :class:`~growthkit.models.segment.profile.SegmentProfile`:

1. :func:`persona_facts` picks the numbers the writer may use (size, shares of users and
   revenue, the core RFM and activity features and the distinguishing ones with their
   population means and lifts, the top categories, the segment's ranks).
2. :func:`persona_request` turns them into a chat prompt (a system message with the rules,
   a user message carrying the facts as JSON) that asks for one JSON object
   ``{"name": ..., "description": ...}``, task ``segment_persona``.
3. The generator (:mod:`growthkit.text.llm`: a local model, an OpenAI-compatible endpoint
   or the template backend) answers; the answer is parsed and checked by the grounding
   checker (:func:`~growthkit.models.segment.grounding.check_grounding`).
4. If the backend fails, the answer is not the JSON asked for, or the check fails, the
   persona falls back to the deterministic template text
   (:func:`~growthkit.models.segment.persona_text.render_persona`) and records why. One
   failing segment never stops the others.

Every :class:`Persona` carries its provenance: which backend and model wrote the text
shown, whether it is template text, whether it passed the check, and what was wrong
with a rejected model answer.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from growthkit.errors import ConfigError, TextBackendError
from growthkit.features import describe
from growthkit.models.segment.grounding import GroundingCheck, check_grounding
from growthkit.models.segment.persona_text import PERSONA_RENDERERS, PERSONA_TASK, render_persona
from growthkit.models.segment.profile import SegmentProfile
from growthkit.models.segment.rfm import PROSPECTS, RFM_SEGMENTS
from growthkit.text.llm import GenerationRequest, TemplateGenerator, TextGenerator, chat

log = logging.getLogger(__name__)

LANGS: tuple[str, ...] = ("en", "zh")
CORE_FEATURES: tuple[str, ...] = (
    "has_purchased",
    "recency_days",
    "frequency",
    "monetary_total",
    "monetary_mean",
    "tenure_days",
    "days_since_last_event",
    "sessions",
    "session_conversion",
    "avg_unit_price",
)
"""Features always given to the writer (when profiled), besides the segment's distinguishing ones."""

PERSONA_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "description": {"type": "string"}},
    "required": ["name", "description"],
    "additionalProperties": False,
}
MAX_NAME = 60
MAX_DESCRIPTION = 700

SYSTEM = (
    "You write customer-segment personas for the marketing team of an online shop. You get one segment's "
    "profile as JSON: its size, its shares of users and revenue, feature means for the segment and for all users "
    "(population_mean), lifts (segment mean / population mean), top categories, and ranks among the segments "
    "(1 = highest). Rules: use only facts in the profile; every number you write must be a number of the profile, "
    "rounded as shown (shares may be written as percentages, lifts as '2.3x'); do not add facts about age, gender, "
    "family, income, occupation or location, motives or products that are not in the profile; no superlatives "
    "(most, highest, best, 最) unless the segment's rank on that metric is 1 (or the last rank, for lowest); no "
    'absolutes (always, never, all). Answer with one JSON object {"name": ..., "description": ...}: a name of '
    "at most 5 words and a description of 2 or 3 sentences. Write in {language}."
)
LANGUAGE = {"en": "English", "zh": "Simplified Chinese (简体中文)"}
RFM_ZH = {r.segment_id: r.name_zh for r in (*RFM_SEGMENTS, PROSPECTS)}


def _r(v: float | None, digits: int = 4) -> float | None:
    return None if v is None else round(float(v), digits)


def persona_facts(profile: SegmentProfile, lang: str = "en", *, label_zh: str | None = None) -> dict[str, Any]:
    """The numbers a persona may use, as a JSON-ready dict (the request's ``facts``).

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.models.segment.profile import profile_segments
    >>> X = pd.DataFrame({"frequency": [0.0, 2, 6], "monetary_total": [0.0, 40, 300]}, index=["a", "b", "c"])
    >>> facts = persona_facts(profile_segments(X, pd.Series({"a": 1, "b": 1, "c": 2}))[1])
    >>> facts["users"], facts["share_revenue"], facts["features"]["frequency"]["lift"]
    (1, 0.8824, 2.25)
    """
    if lang not in LANGS:
        raise ConfigError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    names = list(dict.fromkeys([*(f for f in CORE_FEATURES if profile.has(f)), *profile.distinguishing]))
    features: dict[str, Any] = {}
    for name in names:
        st = profile.feature(name)
        try:
            spec = describe(name)
            unit, text = spec.unit, spec.description
        except (KeyError, ValueError):
            unit, text = "", ""
        features[name] = {
            "description": text,
            "unit": unit,
            "mean": _r(st.mean),
            "population_mean": _r(st.population_mean),
            "lift": _r(st.lift, 3),
        }
    zh_label = label_zh or (RFM_ZH.get(profile.segment_id) if profile.method == "rfm" else None)
    return {
        "lang": lang,
        "method": profile.method,
        "segment_id": profile.segment_id,
        "label": profile.name,
        "label_zh": zh_label,
        "users": profile.users,
        "share_users": _r(profile.share_users),
        "revenue": _r(profile.revenue, 2),
        "share_revenue": _r(profile.share_revenue),
        "n_segments": profile.n_segments,
        "features": features,
        "distinguishing": list(profile.distinguishing),
        "categories": [
            {
                "category": c.category,
                "share": _r(c.share),
                "population_share": _r(c.population_share),
                "lift": _r(c.lift, 3),
            }
            for c in profile.categories
        ],
        "ranks": {k: v for k, v in profile.ranks.items() if k in ("users", "share_revenue", *features)},
    }


def persona_request(facts: Mapping[str, Any], *, temperature: float = 0.2, seed: int | None = 0) -> GenerationRequest:
    """The chat request for one persona: rules in the system message, the facts as JSON in the user message."""
    lang = str(facts.get("lang", "en"))
    shown = {k: v for k, v in facts.items() if k not in ("lang", "label_zh")}
    user = (
        f"Segment profile:\n{json.dumps(shown, ensure_ascii=False, indent=1)}\n\n"
        f'Write the persona of this segment in {LANGUAGE.get(lang, "English")} as JSON {{"name", "description"}}.'
    )
    return GenerationRequest(
        messages=chat(SYSTEM.replace("{language}", LANGUAGE.get(lang, "English")), user),
        max_tokens=400,
        temperature=temperature,
        seed=seed,
        json_schema=PERSONA_SCHEMA,
        task=PERSONA_TASK,
        facts=dict(facts),
    )


@dataclass(frozen=True)
class Persona:
    """A segment's persona and its provenance.

    ``backend``/``model`` wrote the text shown (``template`` after a fallback); ``asked`` is
    the generator that was asked. ``checks_passed`` is the grounding check of the text shown;
    ``problems`` and ``rejected_text`` describe a model answer that was not used, and
    ``fallback_reason`` says in one line why the template text is shown instead.
    """

    segment_id: str
    name: str
    description: str
    lang: str
    backend: str
    model: str
    is_template: bool
    checks_passed: bool
    asked: str
    fallback_reason: str | None = None
    problems: tuple[str, ...] = ()
    rejected_text: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = asdict(self)
        out["problems"] = list(self.problems)
        out["seconds"] = round(self.seconds, 4)
        return out


def parse_persona(text: str) -> tuple[str, str]:
    """``(name, description)`` from a model's JSON answer; a ValueError saying what is wrong otherwise."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the answer is not a JSON object")
    try:
        obj = json.loads(text[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not valid JSON ({exc.msg})") from exc
    name, desc = (obj.get(k) if isinstance(obj, dict) else None for k in ("name", "description"))
    if not isinstance(name, str) or not name.strip() or not isinstance(desc, str) or not desc.strip():
        raise ValueError("the answer needs non-empty string fields 'name' and 'description'")
    name, desc = name.strip(), desc.strip()
    if len(name) > MAX_NAME or len(desc) > MAX_DESCRIPTION:
        raise ValueError(f"the answer is too long (name <= {MAX_NAME}, description <= {MAX_DESCRIPTION} characters)")
    return name, desc


def check_persona(name: str, description: str, facts: Mapping[str, Any]) -> GroundingCheck:
    """The grounding check of a persona's name and description together."""
    return check_grounding(f"{name}. {description}", facts)


def _template(segment_id: str, facts: Mapping[str, Any], asked: str, t0: float, **why: Any) -> Persona:
    name, desc = parse_persona(render_persona(facts))
    check = check_persona(name, desc, facts)
    if not check.passed:  # a bug in the template; shown, but flagged
        log.warning("template persona of segment %s fails the grounding check: %s", segment_id, check.problems)
    return Persona(
        segment_id=segment_id,
        name=name,
        description=desc,
        lang=str(facts.get("lang", "en")),
        backend="template",
        model="template",
        is_template=True,
        checks_passed=check.passed,
        asked=asked,
        seconds=time.perf_counter() - t0,
        **why,
    )


def write_persona(facts: Mapping[str, Any], generator: TextGenerator, *, temperature: float = 0.2) -> Persona:
    """One persona from ``facts`` (see :func:`persona_facts`), falling back to the template text when needed."""
    t0 = time.perf_counter()
    sid = str(facts.get("segment_id", ""))
    asked = f"{generator.backend}/{generator.model}"
    if generator.backend == "template":
        return _template(sid, facts, asked, t0)
    try:
        out = generator.generate(persona_request(facts, temperature=temperature))
    except TextBackendError as exc:
        log.warning("persona of segment %s: %s; using the template text", sid, exc)
        return _template(sid, facts, asked, t0, fallback_reason=f"the text backend failed: {exc}")
    try:
        name, desc = parse_persona(out.text)
    except ValueError as exc:
        return _template(
            sid, facts, asked, t0, fallback_reason=f"unusable model answer: {exc}", rejected_text=out.text[:2000]
        )
    check = check_persona(name, desc, facts)
    if not check.passed:
        log.info("persona of segment %s rejected: %s", sid, "; ".join(check.problems))
        return _template(
            sid,
            facts,
            asked,
            t0,
            fallback_reason=f"the model's text failed the grounding check ({len(check.problems)} problem(s))",
            problems=check.problems,
            rejected_text=json.dumps({"name": name, "description": desc}, ensure_ascii=False),
        )
    return Persona(
        segment_id=sid,
        name=name,
        description=desc,
        lang=str(facts.get("lang", "en")),
        backend=out.backend,
        model=out.model,
        is_template=out.is_template,
        checks_passed=True,
        asked=asked,
        seconds=time.perf_counter() - t0,
    )


def write_personas(
    profiles: Sequence[SegmentProfile],
    generator: TextGenerator | None = None,
    *,
    lang: str = "en",
    temperature: float = 0.2,
) -> tuple[Persona, ...]:
    """A persona per profile, in the same order; ``generator`` defaults to the template backend.

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.models.segment.profile import profile_segments
    >>> X = pd.DataFrame({"has_purchased": [0, 1, 1], "frequency": [0.0, 2, 6],
    ...                   "monetary_total": [0.0, 40, 300]}, index=["a", "b", "c"])
    >>> ps = write_personas(profile_segments(X, pd.Series({"a": 1, "b": 1, "c": 2})))
    >>> [(p.name, p.is_template, p.checks_passed) for p in ps]
    [('Occasional buyers', True, True), ('High-value regulars', True, True)]
    """
    gen = generator if generator is not None else TemplateGenerator(PERSONA_RENDERERS)
    return tuple(write_persona(persona_facts(p, lang), gen, temperature=temperature) for p in profiles)
