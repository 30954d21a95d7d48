"""``growthkit copy``: grounded marketing copy for an item and a segment (see docs/copy.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape
from rich.table import Table

from growthkit.campaigns.copy import CHANNELS, LANGUAGES, TONES, CompliancePolicy, CopyBatch, Offer
from growthkit.campaigns.copy.policy import DEFAULT_POLICY
from growthkit.cli.app import cli, db_option, make_settings, out, progress_bar
from growthkit.workflows.copy import check_item_copy, generate_for_audience, generate_item_copy

F = TypeVar("F", bound=Callable[..., Any])
DAY = click.DateTime(["%Y-%m-%d"])


@cli.group("copy")
def copy_group() -> None:
    """Marketing copy whose facts come from the catalog and the offer, checked before use."""


def _target_options(f: F) -> F:
    """Channel, language, tone, offer, shop and policy options shared by the copy commands."""
    options = [
        click.option("--channel", type=click.Choice(list(CHANNELS)), required=True, help="Where the copy goes."),
        click.option("--lang", type=click.Choice(list(LANGUAGES)), default="zh", show_default=True),
        click.option("--offer-discount", type=float, help="Discount in percent (20 = 20% off = 8折)."),
        click.option("--offer-amount", type=float, help="Discount as money off the list price."),
        click.option("--coupon", type=float, help="Coupon value."),
        click.option("--min-spend", type=float, help="Minimum spend for the coupon (满X减Y)."),
        click.option("--valid-from", type=DAY, help="First day of the offer (YYYY-MM-DD)."),
        click.option("--valid-until", type=DAY, help="Last day of the offer (YYYY-MM-DD)."),
        click.option("--code", help="Coupon code to enter at checkout."),
        click.option("--free-shipping", is_flag=True, help="The offer includes free shipping."),
        click.option("--link", help="Landing page link the copy may show."),
        click.option("--shop", envvar="GROWTHKIT_SHOP", help="Shop name (default: $GROWTHKIT_SHOP)."),
        click.option("--ban", "ban", multiple=True, help="Another banned phrase (repeatable)."),
        click.option(
            "--banned-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="File of banned phrases, one per line, added to the defaults.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _offer(kw: dict[str, Any]) -> Offer:
    def day(v: datetime | None) -> Any:
        return v.date() if v is not None else None

    return Offer(
        discount_percent=kw.pop("offer_discount"),
        discount_amount=kw.pop("offer_amount"),
        coupon_value=kw.pop("coupon"),
        min_spend=kw.pop("min_spend"),
        valid_from=day(kw.pop("valid_from")),
        valid_until=day(kw.pop("valid_until")),
        code=kw.pop("code"),
        free_shipping=kw.pop("free_shipping"),
        link=kw.pop("link"),
    )


def _policy(kw: dict[str, Any]) -> CompliancePolicy:
    path: Path | None = kw.pop("banned_file")
    policy = CompliancePolicy.from_file(path) if path is not None else DEFAULT_POLICY
    ban: tuple[str, ...] = kw.pop("ban")
    return policy.with_banned(ban) if ban else policy


def _checks(v: Any) -> str:
    checks = v.provenance.checks
    failed = [c.rule for c in checks if not c.passed]
    if failed:
        return "[red]failed: " + ", ".join(failed)
    note = f"\n{len(v.provenance.repairs)} repairs" if v.provenance.repairs else ""
    return f"[green]{len(checks)}/{len(checks)} passed[/]{note}"


def batch_table(batch: CopyBatch) -> Table:
    """The variants of a batch: id, status, text, length against the limit, checks."""
    t = Table(title=f"{batch.channel} copy ({batch.lang}, {batch.tone}) for item {batch.item_id}", show_lines=True)
    t.add_column("variant", no_wrap=True)
    t.add_column("status", no_wrap=True)
    t.add_column("text", overflow="fold", min_width=16, ratio=1)
    t.add_column("length", justify="right", no_wrap=True)
    t.add_column("checks", overflow="fold")
    colour = {"ok": "green", "repaired": "yellow", "rejected": "red"}
    for v in batch.variants:
        text = (f"[bold]{escape(v.title)}[/]\n" if v.title else "") + escape(v.body)
        if v.reasons:
            text += "\n[red]" + escape("\n".join(v.reasons[:3])) + "[/]"
        length = f"{v.body_length}/{v.body_limit}"
        if v.title_length is not None:
            length = f"{v.title_length}/{v.title_limit}\n{length}"
        t.add_row(v.variant_id, f"[{colour[v.status]}]{v.status}", text, length, _checks(v))
    fallback = sorted({v.provenance.fallback_reason for v in batch.variants if v.provenance.fallback_reason})
    t.caption = (
        f"{batch.backend}/{batch.model}, persona: {escape(batch.persona) or 'all customers'}, "
        f"{batch.cache_hits} from cache, {batch.generator_calls} generator calls"
        + ("".join(f"\n[yellow]template fallback: {escape(r)}[/]" for r in fallback))
    )
    return t


@copy_group.command("generate")
@db_option
@click.option("--item", "item_id", required=True, help="Item id in the store's items table.")
@click.option("--segment", help="Segment id or name in the segments table, or a description of the audience.")
@_target_options
@click.option("--tone", type=click.Choice(list(TONES)), default="friendly", show_default=True)
@click.option("--variants", "n", type=click.IntRange(1, 50), default=3, show_default=True)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the copy_cache table.")
@click.option("--json", "as_json", is_flag=True, help="Print the batch as JSON.")
def generate_cmd(
    db: str | None, item_id: str, segment: str | None, tone: str, n: int, no_cache: bool, as_json: bool, **kw: Any
) -> None:
    """Write checked copy variants for one item.

    \b
    Examples:
      growthkit copy generate --item i001 --segment vip --channel push --lang zh --variants 5 \\
          --offer-discount 20 --valid-until 2026-11-30 --shop 小满茶铺
      growthkit copy generate --item i001 --channel sms --lang en --shop "Tea Corner" --json
    """
    offer, policy = _offer(kw), _policy(kw)
    batch = generate_item_copy(
        make_settings(db=db),
        item_id,
        channel=kw["channel"],
        lang=kw["lang"],
        segment=segment,
        tone=tone,
        n=n,
        offer=offer,
        shop=kw["shop"],
        policy=policy,
        use_cache=not no_cache,
    )
    if as_json:
        click.echo(json.dumps(batch.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        out.print(batch_table(batch))


@copy_group.command("audience")
@db_option
@click.option("--items", help="Comma-separated item ids (default: the first --max-items of the catalog).")
@click.option("--segments", help="Comma-separated segment ids or names (default: every saved segment).")
@click.option("--max-items", type=click.IntRange(1), default=100, show_default=True)
@_target_options
@click.option("--tone", type=click.Choice(list(TONES)), default="friendly", show_default=True)
@click.option("--variants", "n", type=click.IntRange(1, 50), default=3, show_default=True)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the copy_cache table.")
@click.option("--json", "as_json", is_flag=True, help="Print every batch as JSON.")
def audience_cmd(
    db: str | None,
    items: str | None,
    segments: str | None,
    max_items: int,
    tone: str,
    n: int,
    no_cache: bool,
    as_json: bool,
    **kw: Any,
) -> None:
    """Write copy for every item x segment of an audience, with a progress bar.

    \b
    Example:
      growthkit copy audience --items i001,i002 --segments vip,lapsed --channel sms --lang zh --shop 小满茶铺
    """
    offer, policy = _offer(kw), _policy(kw)

    def split(v: str | None) -> list[str] | None:
        return [x.strip() for x in v.split(",") if x.strip()] if v else None

    with progress_bar(enabled=not as_json) as update:
        res = generate_for_audience(
            make_settings(db=db),
            channel=kw["channel"],
            items=split(items),
            segments=split(segments),
            lang=kw["lang"],
            tone=tone,
            n=n,
            offer=offer,
            shop=kw["shop"],
            policy=policy,
            use_cache=not no_cache,
            max_items=max_items,
            progress=update,
        )
    if as_json:
        click.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    t = Table(title=f"{kw['channel']} copy for {len(res.batches)} item x segment pairs")
    for c in ("item", "persona", "accepted", "first accepted variant"):
        t.add_column(c, justify="right" if c == "accepted" else "left")
    for b in res.batches:
        first = next((v for v in b.variants if v.accepted), None)
        text = escape(first.text) if first else "[red]none"
        t.add_row(b.item_id, escape(b.persona), f"{len(b.accepted)}/{len(b.variants)}", text)
    for f in res.failures:
        t.add_row(f.item_id, escape(f.segment or ""), "[red]failed", f"[red]{escape(f.reason)}")
    t.caption = f"{res.cache_hits} variants from cache, {res.generator_calls} generator calls"
    out.print(t)


@copy_group.command("check")
@db_option
@click.argument("text")
@click.option("--item", "item_id", required=True, help="Item id in the store's items table.")
@click.option("--title", help="Title or subject line, for channels that have one.")
@_target_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_cmd(db: str | None, text: str, item_id: str, title: str | None, as_json: bool, **kw: Any) -> None:
    """Check a copy someone wrote against the item's record and the channel's rules (exit 1 when it fails).

    \b
    Example:
      growthkit copy check "全场五折，仅限今天！" --item i001 --channel sms --offer-discount 20 --shop 小满茶铺
    """
    offer, policy = _offer(kw), _policy(kw)
    rep = check_item_copy(
        make_settings(db=db),
        item_id,
        text,
        title=title,
        channel=kw["channel"],
        lang=kw["lang"],
        offer=offer,
        shop=kw["shop"],
        policy=policy,
    )
    if as_json:
        data = {
            "passed": rep.passed,
            "issues": [i.__dict__ for i in rep.issues],
            "claims": [{"kind": c.kind, "text": c.text, "values": list(c.values)} for c in rep.claims],
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        t = Table(title="copy check")
        for c in ("rule", "passed", "reasons"):
            t.add_column(c)
        for o in rep.outcomes():
            t.add_row(o.rule, "[green]yes" if o.passed else "[red]no", escape("\n".join(o.reasons)))
        out.print(t)
    if not rep.passed:
        raise click.exceptions.Exit(1)
