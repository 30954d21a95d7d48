"""Every sentence the assistant writes itself, in Chinese and English.

Facts are never part of these strings: they are ``{named}`` fields filled from records
(prices with :func:`~growthkit.campaigns.copy.slots.money_text`, days with
:func:`day_text`), so the text a customer reads states only what the records say.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from growthkit.assistant.tokens import Language

MESSAGES: dict[str, dict[str, str]] = {
    # refusals and "I don't know"
    "refuse_injection": {
        "en": "Sorry, I can't do that. I can answer questions about our products, our shop policies and your own "
        "orders.",
        "zh": "抱歉，这个请求我无法执行。我可以回答关于商品、店铺政策和您本人订单的问题。",
    },
    "refuse_other_customer": {
        "en": "Sorry, I can only help with your own account and orders; I can't share anything about other customers.",
        "zh": "抱歉，我只能查询您本人的账户和订单，无法提供其他顾客的任何信息。",
    },
    "refuse_sign_in": {
        "en": "Please sign in first, so that I can look up your own orders.",
        "zh": "请先登录，这样我才能查询您本人的订单。",
    },
    "refuse_not_yours": {
        "en": "I can only look up your own orders, and I can't find that order among them.",
        "zh": "我只能查询您本人的订单，您的订单中没有找到这笔订单。",
    },
    "unknown": {
        "en": "Sorry, I don't know the answer to that. I can help with our products, our shop policies and your "
        "own orders.",
        "zh": "抱歉，这个问题我不知道答案。我可以回答关于商品、店铺政策和您本人订单的问题。",
    },
    "unknown_product": {
        "en": "Sorry, I don't know: I couldn't find a matching product in our catalog.",
        "zh": "抱歉，我不知道：在我们的商品目录中没有找到相符的商品。",
    },
    "unknown_policy": {
        "en": "Sorry, I don't know: our shop policies don't cover that.",
        "zh": "抱歉，我不知道：店铺政策中没有相关说明。",
    },
    "unknown_aspect": {
        "en": "Sorry, I don't know: the catalog has no such information for {title} ({item_id}).",
        "zh": "抱歉，我不知道：商品目录中没有{title}（{item_id}）的这项信息。",
    },
    "greeting": {
        "en": "Hello! Ask me about our products, our shop policies or your own orders.",
        "zh": "您好！您可以问我商品、店铺政策或您本人订单的问题。",
    },
    # products
    "price": {"en": "{title} ({item_id}) costs {price}.", "zh": "{title}（{item_id}）的价格是{price}。"},
    "no_price": {
        "en": "{title} ({item_id}) has no price in our catalog.",
        "zh": "{title}（{item_id}）在商品目录中没有标价。",
    },
    "brand": {"en": "{title} ({item_id}) is made by {brand}.", "zh": "{title}（{item_id}）的品牌是{brand}。"},
    "no_brand": {
        "en": "The catalog names no brand for {title} ({item_id}).",
        "zh": "商品目录中没有{title}（{item_id}）的品牌信息。",
    },
    "category": {
        "en": "{title} ({item_id}) is in the category {category}.",
        "zh": "{title}（{item_id}）属于{category}类目。",
    },
    "rating": {
        "en": "{title} ({item_id}) has {n} reviews with an average rating of {mean} out of 5.",
        "zh": "{title}（{item_id}）共有{n}条评价，平均评分{mean}分（满分5分）。",
    },
    "no_reviews": {"en": "{title} ({item_id}) has no reviews yet.", "zh": "{title}（{item_id}）还没有评价。"},
    "recent_reviews": {"en": " Recent reviews: {quotes}.", "zh": "最近的评价：{quotes}。"},
    "product": {
        "en": "{title} ({item_id}): {description} Brand: {brand}. Category: {category}. Price: {price}.",
        "zh": "{title}（{item_id}）：{description}品牌：{brand}。类目：{category}。价格：{price}。",
    },
    "several": {"en": "{n} products are called {title}: ", "zh": "有{n}件商品名为{title}："},
    "several_match": {"en": "{n} products match your question: ", "zh": "有{n}件商品符合您的问题："},
    "matches": {"en": "These products match: {items}.", "zh": "找到这些相关商品：{items}。"},
    # policy
    "policy": {"en": 'From our {doc} ("{section}"): {text}', "zh": "根据《{doc}》“{section}”：{text}"},
    # own orders
    "no_orders": {"en": "You have no orders yet.", "zh": "您还没有订单。"},
    "order": {
        "en": "{which} {order_id} was placed on {day}: {lines}. Order total: {total}.",
        "zh": "{which}{order_id}于{day}下单：{lines}，订单金额{total}。",
    },
    "last_order": {"en": "Your last order", "zh": "您最近一笔订单"},
    "first_order": {"en": "Your first order", "zh": "您的第一笔订单"},
    "this_order": {"en": "Order", "zh": "订单"},
    "line": {"en": "{title} ({item_id}) × {qty}, {amount}", "zh": "{title}（{item_id}）×{qty}，{amount}"},
    "order_count": {
        "en": "You have placed {n} orders, the first on {first} and the last on {last}.",
        "zh": "您一共下了{n}笔订单，第一笔在{first}，最近一笔在{last}。",
    },
    "order_count_one": {"en": "You have placed 1 order, on {first}.", "zh": "您一共下了1笔订单，在{first}。"},
    "total_spent": {"en": "Your {n} orders total {total}.", "zh": "您的{n}笔订单合计{total}。"},
    "total_spent_one": {"en": "Your 1 order totals {total}.", "zh": "您的1笔订单合计{total}。"},
    "net_spent": {
        "en": " {refunded} of it was refunded, so you paid {net} net.",
        "zh": "其中已退款{refunded}，实际支付{net}。",
    },
    "bought": {
        "en": "Yes, you bought {title} ({item_id}) in order {order_id} on {day}.",
        "zh": "是的，您在{day}的订单{order_id}中购买了{title}（{item_id}）。",
    },
    "bought_again": {"en": " It is in {k} of your orders.", "zh": "它一共出现在您的{k}笔订单中。"},
    "not_bought": {
        "en": "I could not find {title} ({item_id}) in your orders.",
        "zh": "您的订单中没有找到{title}（{item_id}）。",
    },
    "no_refunds": {"en": "You have no refunds.", "zh": "您没有退款记录。"},
    "refunds": {"en": "You have {n} refunds: {items}.", "zh": "您有{n}笔退款：{items}。"},
    "refund": {
        "en": "{title} ({item_id}), {amount}, refunded on {day} (order {order_id})",
        "zh": "{title}（{item_id}），{amount}，于{day}退款（订单{order_id}）",
    },
    "recent_orders": {
        "en": "You have {n} orders. The most recent: {items}.",
        "zh": "您一共有{n}笔订单，最近的几笔：{items}。",
    },
    "recent_orders_one": {"en": "You have 1 order: {items}.", "zh": "您有1笔订单：{items}。"},
    "refunds_one": {"en": "You have 1 refund: {items}.", "zh": "您有1笔退款：{items}。"},
    "refund_no_order": {
        "en": "{title} ({item_id}), {amount}, refunded on {day}",
        "zh": "{title}（{item_id}），{amount}，于{day}退款",
    },
    "order_brief": {"en": "{order_id} on {day}, {total}", "zh": "{order_id}（{day}，{total}）"},
    "order_status": {
        "en": "I can't see delivery status here. Your last order {order_id} was placed on {day}; once it ships, "
        "its tracking number is on the order page.",
        "zh": "我这里看不到物流状态。您最近一笔订单{order_id}于{day}下单，发货后可在订单页面查看运单号。",
    },
}
"""Message templates by key and language."""

NOT_BOUGHT_MARKER: dict[str, str] = {"en": "could not find", "zh": "没有找到"}
"""Words every "you did not buy it" answer contains (what the evaluation looks for)."""

SEPARATOR: dict[str, str] = {"en": "; ", "zh": "；"}


def msg(key: str, lang: Language, **fields: Any) -> str:
    """The message ``key`` in ``lang`` with its fields filled.

    Examples
    --------
    >>> msg("price", "zh", title="绿茶", item_id="i1", price="¥59")
    '绿茶（i1）的价格是¥59。'
    """
    return MESSAGES[key][lang].format(**fields)


def day_text(day: date, lang: Language) -> str:
    """A calendar day: ``2025-01-28`` in English, ``2025年1月28日`` in Chinese (both read back as dates).

    Examples
    --------
    >>> day_text(date(2025, 1, 28), "zh"), day_text(date(2025, 1, 28), "en")
    ('2025年1月28日', '2025-01-28')
    """
    return f"{day.year}年{day.month}月{day.day}日" if lang == "zh" else day.isoformat()


def quantity_text(qty: float | None) -> str:
    """``2`` for whole quantities, ``1.5`` otherwise; ``1`` when unknown."""
    if qty is None:
        return "1"
    return f"{qty:g}"
