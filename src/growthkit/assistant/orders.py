"""Grounded answers about the signed-in customer's own orders.

Every answer here is built from one :class:`~growthkit.assistant.customer.CustomerContext`
(the customer's rows only) and, for "did I buy X?", the catalog record of X. Each order
is cited by its order id; a count or a total cites the orders it sums.
"""

from __future__ import annotations

from collections.abc import Sequence

from growthkit.assistant.answer import Citation
from growthkit.assistant.compose import Draft, product_evidence, refusal_draft
from growthkit.assistant.corpus import ProductRecord
from growthkit.assistant.customer import CustomerContext, Order
from growthkit.assistant.evidence import Evidence
from growthkit.assistant.messages import SEPARATOR, day_text, msg, quantity_text
from growthkit.assistant.retrieve import Hit
from growthkit.assistant.tokens import Language, language_part
from growthkit.campaigns.copy.slots import money_text

RECENT = 5
"""Orders listed when the question asks for the customer's orders in general."""


def _title(title: str | None, item_id: str | None, lang: Language) -> str:
    return language_part(title, lang) if title else (item_id or "?")


def order_citation(order: Order, lang: Language) -> Citation:
    label = (
        f"订单 {order.order_id}（{day_text(order.day, lang)}）"
        if lang == "zh"
        else f"Order {order.order_id} ({order.day})"
    )
    return Citation("order", order.order_id, label)


def order_evidence(order: Order, lang: Language) -> Evidence:
    """What one order supports: its total and line amounts, quantities, day, id, items."""
    literals = [order.order_id]
    for line in order.lines:
        literals += [s for s in (line.item_id, line.title, _title(line.title, line.item_id, lang)) if s]
    return Evidence(
        citations=(order_citation(order, lang),),
        money=(order.total, *(line.amount for line in order.lines if line.amount is not None)),
        numbers=(float(len(order.lines)), *(line.quantity for line in order.lines if line.quantity is not None)),
        dates=(order.day,),
        literals=tuple(literals),
        record={
            "order_id": order.order_id,
            "day": order.day.isoformat(),
            "total": order.total,
            "currency": order.currency,
            "lines": [
                {"item_id": x.item_id, "title": x.title, "quantity": x.quantity, "amount": x.amount}
                for x in order.lines
            ],
        },
    )


def summary_evidence(ctx: CustomerContext, lang: Language) -> Evidence:
    """What the whole history supports: counts, totals, first and last day."""
    days = [o.day for o in ctx.orders]
    net = round(ctx.total_spent - ctx.total_refunded + 1e-9, 2)
    return Evidence(
        citations=tuple(order_citation(o, lang) for o in ctx.orders),
        money=(ctx.total_spent, ctx.total_refunded, net),
        numbers=(float(len(ctx.orders)), float(len(ctx.refunds))),
        dates=(min(days), max(days)) if days else (),
        literals=tuple(o.order_id for o in ctx.orders),
        record={"orders": len(ctx.orders), "total": ctx.total_spent, "refunded": ctx.total_refunded, "net": net},
    )


def _money(value: float, ctx: CustomerContext, lang: Language) -> str:
    return money_text(value, ctx.currency, lang)


def _order_text(order: Order, which: str, ctx: CustomerContext, lang: Language) -> str:
    lines = [
        msg(
            "line",
            lang,
            title=_title(x.title, x.item_id, lang),
            item_id=x.item_id or "?",
            qty=quantity_text(x.quantity),
            amount=_money(x.amount or 0.0, ctx, lang),
        )
        for x in order.lines
    ]
    return msg(
        "order",
        lang,
        which=msg(which, lang),
        order_id=order.order_id,
        day=day_text(order.day, lang),
        lines=SEPARATOR[lang].join(lines),
        total=_money(order.total, ctx, lang),
    )


def order_draft(
    ctx: CustomerContext,
    aspect: str,
    lang: Language,
    *,
    order_ref: str | None = None,
    product_hits: Sequence[Hit] = (),
    min_strength: float = 0.5,
) -> Draft:
    """The answer to an own-orders question (``aspect`` from :mod:`~growthkit.assistant.intent`)."""
    if aspect == "order_detail":
        order = ctx.order(order_ref or "")
        if order is None:
            return refusal_draft("not_yours", lang)
        return Draft(_order_text(order, "this_order", ctx, lang), (order_evidence(order, lang),))
    if aspect == "bought_item":
        good = sorted((h for h in product_hits if h.passage.product is not None), key=lambda h: -h.strength)
        hit = next((h for h in good if h.strength >= min_strength), None)
        if hit is not None and hit.passage.product is not None:
            return _bought(ctx, hit.passage.product, lang)
        aspect = "list_orders"
    if not ctx.orders:
        return Draft(msg("no_orders", lang), (), aspect=aspect)
    last = ctx.orders[-1]
    if aspect == "last_order":
        return Draft(_order_text(last, "last_order", ctx, lang), (order_evidence(last, lang),))
    if aspect == "first_order":
        first = ctx.orders[0]
        return Draft(_order_text(first, "first_order", ctx, lang), (order_evidence(first, lang),))
    if aspect == "order_status":
        text = msg("order_status", lang, order_id=last.order_id, day=day_text(last.day, lang))
        return Draft(text, (order_evidence(last, lang),), unknown=True)
    summary = summary_evidence(ctx, lang)
    if aspect == "order_count":
        n, first_day, last_day = len(ctx.orders), ctx.orders[0].day, last.day
        key = "order_count_one" if n == 1 else "order_count"
        text = msg(key, lang, n=n, first=day_text(first_day, lang), last=day_text(last_day, lang))
        return Draft(text, (summary,))
    if aspect == "total_spent":
        key = "total_spent_one" if len(ctx.orders) == 1 else "total_spent"
        text = msg(key, lang, n=len(ctx.orders), total=_money(ctx.total_spent, ctx, lang))
        if ctx.refunds:
            net = ctx.total_spent - ctx.total_refunded
            text += msg("net_spent", lang, refunded=_money(ctx.total_refunded, ctx, lang), net=_money(net, ctx, lang))
        return Draft(text, (summary,))
    if aspect == "refunds":
        return _refunds(ctx, lang)
    recent = list(reversed(ctx.orders[-RECENT:]))
    items = [
        msg("order_brief", lang, order_id=o.order_id, day=day_text(o.day, lang), total=_money(o.total, ctx, lang))
        for o in recent
    ]
    key = "recent_orders_one" if len(ctx.orders) == 1 else "recent_orders"
    text = msg(key, lang, n=len(ctx.orders), items=SEPARATOR[lang].join(items))
    return Draft(text, (summary, *(order_evidence(o, lang) for o in recent)), aspect="list_orders")


def _bought(ctx: CustomerContext, product: ProductRecord, lang: Language) -> Draft:
    f = {"title": product.title_in(lang), "item_id": product.item_id}
    found = ctx.orders_with(product.item_id)
    pev = product_evidence(product, lang)
    if not found:
        return Draft(msg("not_bought", lang, **f), (pev,))
    last = found[-1]
    text = msg("bought", lang, order_id=last.order_id, day=day_text(last.day, lang), **f)
    count = Evidence((), numbers=(float(len(found)),), record={"orders_with_item": len(found)})
    if len(found) > 1:
        text += msg("bought_again", lang, k=len(found))
    return Draft(text, (pev, count, *(order_evidence(o, lang) for o in found)))


def _refunds(ctx: CustomerContext, lang: Language) -> Draft:
    if not ctx.refunds:
        return Draft(msg("no_refunds", lang), (summary_evidence(ctx, lang),))
    items = []
    evidence = [summary_evidence(ctx, lang)]
    for r in ctx.refunds:
        items.append(
            msg(
                "refund" if r.order_id else "refund_no_order",
                lang,
                title=_title(r.title, r.item_id, lang),
                item_id=r.item_id or "?",
                amount=_money(r.amount or 0.0, ctx, lang),
                day=day_text(r.day, lang),
                order_id=r.order_id,
            )
        )
        literals = tuple(s for s in (r.item_id, r.title, _title(r.title, r.item_id, lang), r.order_id) if s)
        order = ctx.order(r.order_id) if r.order_id else None
        cites = (order_citation(order, lang),) if order else ()
        record = {"item_id": r.item_id, "amount": r.amount, "day": r.day.isoformat(), "order_id": r.order_id}
        amount = (r.amount,) if r.amount is not None else ()
        evidence.append(Evidence(cites, money=amount, dates=(r.day,), literals=literals, record=record))
    key = "refunds_one" if len(ctx.refunds) == 1 else "refunds"
    return Draft(msg(key, lang, n=len(ctx.refunds), items=SEPARATOR[lang].join(items)), tuple(evidence))
