"""The shared conformance suite of the TextGenerator seam.

Every backend passes it: subclass :class:`TextGeneratorConformance` in a test module and
give the class a ``generator`` fixture. ``tests/text/test_llm.py`` runs it on the template
backend and on the ``openai`` backend against a fake server; ``test_llm_integration.py``
on the real local model (``llama_cpp``) and on ``openai`` against llama.cpp's own server.
The checks hold for any honest backend, so they are about the contract, not the wording.
"""

from __future__ import annotations

from growthkit.text.llm import Generation, GenerationRequest, TextGenerator, chat

ECHO_SCHEMA = {
    "type": "object",
    "properties": {"echo": {"type": "string", "maxLength": 16}},
    "required": ["echo"],
    "additionalProperties": False,
}


class TextGeneratorConformance:
    """Mixin: the contract every :class:`~growthkit.text.llm.TextGenerator` fulfils."""

    def test_conformance_generate_returns_provenance(self, generator: TextGenerator) -> None:
        assert isinstance(generator, TextGenerator)
        out = generator.generate(GenerationRequest(messages=chat("Be brief.", "Say hello."), max_tokens=16, seed=0))
        assert isinstance(out, Generation)
        assert out.text.strip()  # something came back
        assert out.backend == generator.backend and out.model
        assert out.seconds >= 0 and out.completion_tokens >= 1
        assert out.is_template is (generator.backend == "template")
        if not out.is_template:
            assert out.completion_tokens <= 16 and out.prompt_tokens >= 1

    def test_conformance_json_schema_gives_json(self, generator: TextGenerator) -> None:
        assert generator.supports_json_schema
        req = GenerationRequest(
            messages=chat("Answer in JSON.", "Say hi."),
            json_schema=ECHO_SCHEMA,
            facts={"echo": "hi"},
            max_tokens=64,
            temperature=0.0,
            seed=0,
        )
        data = generator.generate(req).json()
        assert isinstance(data, dict) and set(data) == {"echo"}
        assert isinstance(data["echo"], str) and len(data["echo"]) <= 16

    def test_conformance_is_repeatable_when_deterministic(self, generator: TextGenerator) -> None:
        req = GenerationRequest(messages=chat("s", "same question"), max_tokens=24, temperature=0.0, seed=1)
        assert generator.generate(req).text == generator.generate(req).text
