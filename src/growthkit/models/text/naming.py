"""Names for topics, from a language model or deterministically from their terms.

:func:`name_topics` asks any :class:`~growthkit.text.llm.TextGenerator` for a short
name per topic from the topic's distinctive terms and most typical texts (a JSON
answer ``{"name": ...}``). The request's task is ``topic_name`` and its facts are
the terms and examples, so the template backend (no model) answers with
:func:`render_topic_name`: the top terms joined by `` / `` (register it with
``make_generator(settings, renderers=RENDERERS)``). An answer that is not usable
(empty, not JSON, too long) falls back to the template name, so every topic has one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from growthkit.errors import TextBackendError
from growthkit.models.text.topics import Topic, template_name
from growthkit.text.llm import GenerationRequest, Renderer, TextGenerator, chat

log = logging.getLogger(__name__)

TASK = "topic_name"
SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}},
    "required": ["name"],
    "additionalProperties": False,
}
MAX_NAME_CHARS = 60
SYSTEM = (
    "You name topics found in an online shop's customer reviews and search queries, for its growth team. "
    'Answer with JSON {"name": ...}: a short topic name of 2 to 5 words, in the language of the texts.'
)


def render_topic_name(facts: Mapping[str, Any]) -> str:
    """The template backend's answer to a ``topic_name`` request: ``{"name": "<top terms>"}``.

    Examples
    --------
    >>> render_topic_name({"terms": ["delivery", "fast", "shipping", "late"]})
    '{"name": "delivery / fast / shipping"}'
    """
    return json.dumps({"name": template_name(list(facts.get("terms") or ()))}, ensure_ascii=False)


RENDERERS: Mapping[str, Renderer] = {TASK: render_topic_name}
"""Template renderers of this module, for ``make_generator(settings, renderers=RENDERERS)``."""


def topic_request(topic: Topic) -> GenerationRequest:
    """The generation request that names ``topic``."""
    examples = "\n".join(f"- {e[:200]}" for e in topic.examples)
    user = f"Distinctive terms: {', '.join(topic.terms) or '(none)'}\nMost typical texts:\n{examples}\nName this topic."
    return GenerationRequest(
        messages=chat(SYSTEM, user),
        max_tokens=48,
        temperature=0.0,
        seed=0,
        json_schema=SCHEMA,
        task=TASK,
        facts={"terms": list(topic.terms), "examples": list(topic.examples)},
    )


def _answer(text: str) -> str:
    try:
        value = json.loads(text)
        name = value.get("name", "") if isinstance(value, dict) else ""
    except json.JSONDecodeError:
        name = text
    return " ".join(str(name).split()).strip(" \"'")


def name_topics(topics: Sequence[Topic], generator: TextGenerator) -> tuple[Topic, ...]:
    """``topics`` with names from ``generator`` (each falls back to its template name when the answer is unusable).

    Examples
    --------
    >>> from growthkit.text.llm import TemplateGenerator
    >>> t = Topic(0, 3, 1.0, ("物流", "快递"), ("物流很快",), "misc")
    >>> name_topics([t], TemplateGenerator(RENDERERS))[0].name
    '物流 / 快递'
    """
    out = []
    for topic in topics:
        try:
            name = _answer(generator.generate(topic_request(topic)).text)
        except TextBackendError as exc:  # one failed topic keeps its template name; the batch goes on
            log.warning("naming topic %d failed: %s", topic.topic_id, exc)
            name = ""
        if not name or len(name) > MAX_NAME_CHARS:
            name = template_name(topic.terms)
        out.append(replace(topic, name=name))
    return tuple(out)
