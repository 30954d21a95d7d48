"""Answers on a simulated shop: products, policies and own orders, in Chinese and English, with citations."""

from __future__ import annotations

import dataclasses
import doctest
import re

import pandas as pd
import pytest
from tests.assistant.conftest import Shop

import growthkit.assistant as assistant_pkg
from growthkit.assistant import Answer, Assistant, Citation
from growthkit.assistant import assistant as assistant_module
from growthkit.assistant.tokens import language_part


def test_doctests() -> None:
    for module in (assistant_pkg, assistant_module):
        failed, attempted = doctest.testmod(module)[:2]
        assert attempted > 0 and failed == 0, module.__name__


def _item(shop: Shop, unique_in: str = "en", k: int = 0) -> pd.Series:
    titles = shop.items.title.map(lambda t: language_part(t, unique_in).lower())  # type: ignore[arg-type]
    unique = shop.items[~titles.duplicated(keep=False)].sort_values("item_id")
    return unique.iloc[k]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_product_price_brand_and_category(shop: Shop, lang: str) -> None:
    item = _item(shop, lang, 3)
    title = language_part(item.title, lang)  # type: ignore[arg-type]
    ask = {"en": f"How much does the {title} cost?", "zh": f"{title}多少钱？"}[lang]
    a = shop.bot.ask(ask, user_id="u0000001")
    price = f"{item.price:.2f}" if lang == "zh" else f"{item.price:,.2f}"
    assert (a.intent, a.aspect, a.language) == ("product", "price", lang)
    assert f"¥{price}" in a.text and item.item_id in a.text
    assert a.citations == (Citation("product", item.item_id, title),)
    assert a.grounded and a.numeric_claims >= 1 and not a.unknown and not a.refused
    brand = shop.bot.ask({"en": f"Which brand makes the {title}?", "zh": f"{title}是什么牌子？"}[lang], user_id=None)
    assert item.brand in brand.text and brand.aspect == "brand"
    cat = shop.bot.ask({"en": f"What category is the {title} in?", "zh": f"{title}属于哪个类目？"}[lang], user_id=None)
    assert item.category in cat.text and cat.aspect == "category"


def test_reviews_are_counted_and_quoted(shop: Shop) -> None:
    stats = shop.store.query(
        "SELECT item_id, count(rating) AS n, avg(rating) AS m FROM reviews GROUP BY item_id ORDER BY n DESC, item_id"
    ).to_pandas()
    for row in stats.itertuples():
        title = language_part(shop.items.set_index("item_id").title[row.item_id], "en")
        if (shop.items.title.map(lambda t: language_part(t, "en")) == title).sum() == 1:
            break
    a = shop.bot.ask(f"What rating does the {title} have?", user_id=None)
    assert f"{row.n} reviews" in a.text and f"{row.m:.1f} out of 5" in a.text
    assert a.citations[0].ref == row.item_id and any(c.kind == "review" for c in a.citations)
    assert a.grounded


@pytest.mark.parametrize(
    ("question", "ref", "fact"),
    [
        ("How long does a refund take?", "returns.en.md#how-long-does-a-refund-take", "3 business days"),
        ("退货要几天？", "returns.zh.md#收到商品后几天内可以退货", "7天内"),
        ("Which payment methods do you accept?", "payment.en.md#which-payment-methods-do-you-accept", "Alipay"),
        ("满多少钱包邮？", "shipping.zh.md#运费怎么算", "¥99"),
        ("What is the customer service hotline?", "privacy.en.md#how-can-i-contact-customer-service", "400-820-1234"),
    ],
)
def test_policy_answers_quote_the_right_section(shop: Shop, question: str, ref: str, fact: str) -> None:
    a = shop.bot.ask(question, user_id="u0000001")
    assert a.intent == "policy" and [c.ref for c in a.citations] == [ref]
    assert fact in a.text and a.grounded and not a.unknown


def _orders(shop: Shop, user: str) -> pd.DataFrame:
    p = shop.purchases[shop.purchases.user_id == user]
    return (
        p.groupby("session_id")
        .agg(ts=("ts", "min"), total=("amount", "sum"), items=("item_id", list))
        .sort_values("ts")
    )


def test_own_order_facts_match_the_events(shop: Shop) -> None:
    user = shop.buyers(2)[0]
    orders = _orders(shop, user)
    last = orders.iloc[-1]
    a = shop.bot.ask("When was my last order?", user_id=user)
    assert (a.intent, a.aspect) == ("orders", "last_order")
    assert last.name in a.text and last.ts.date().isoformat() in a.text and f"¥{last.total:,.2f}" in a.text
    assert [c.ref for c in a.citations] == [last.name] and a.grounded
    n = shop.bot.ask("我一共下过几个订单？", user_id=user)
    assert f"{len(orders)}笔订单" in n.text and {c.ref for c in n.citations} == set(orders.index)
    spent = shop.bot.ask("How much have I spent in total?", user_id=user)
    assert f"¥{orders.total.sum():,.2f}" in spent.text and spent.grounded


def test_did_i_buy(shop: Shop) -> None:
    user = shop.buyers(2)[0]
    orders = _orders(shop, user)
    unique = shop.items.title.map(lambda t: language_part(t, "en").lower())
    unique_ids = set(shop.items.item_id[~unique.duplicated(keep=False)])
    bought = next(i for items in orders["items"] for i in items if i in unique_ids)
    title = language_part(shop.items.set_index("item_id").title[bought], "en")
    yes = shop.bot.ask(f"Did I buy the {title}?", user_id=user)
    assert yes.text.startswith("Yes") and bought in yes.text
    assert {c.ref for c in yes.citations} >= {bought, *(o for o, r in orders.iterrows() if bought in r["items"])}
    never = sorted(unique_ids - {i for items in orders["items"] for i in items})[0]
    title_zh = language_part(shop.items.set_index("item_id").title[never], "zh")
    no = shop.bot.ask(f"我买过{title_zh}吗？", user_id=user)
    assert "没有找到" in no.text and never in no.text and not no.unknown


def test_own_order_by_id_and_someone_elses(shop: Shop) -> None:
    me, other = shop.buyers(2)[:2]
    mine = _orders(shop, me).index[0]
    theirs = _orders(shop, other).index[0]
    a = shop.bot.ask(f"What is in order {mine}?", user_id=me)
    assert a.aspect == "order_detail" and mine in a.text and a.citations[0].ref == mine
    b = shop.bot.ask(f"What is in order {theirs}?", user_id=me)
    assert b.refused and theirs not in b.text and not b.citations


def test_a_customer_without_orders(shop: Shop) -> None:
    buyers = set(shop.purchases.user_id)
    nobody = next(f"u{i:07d}" for i in range(300) if f"u{i:07d}" not in buyers)
    a = shop.bot.ask("When was my last order?", user_id=nobody)
    assert a.text == "You have no orders yet." and not a.citations and not a.refused


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("What will the weather be in Paris tomorrow?", "en"),
        ("明天北京天气怎么样？", "zh"),
        ("Do you sell airplane tickets?", "en"),
    ],
)
def test_says_it_does_not_know_in_the_questions_language(shop: Shop, question: str, lang: str) -> None:
    a = shop.bot.ask(question, user_id="u0000001")
    assert a.unknown and not a.refused and not a.citations and a.language == lang
    assert ("不知道" in a.text) if lang == "zh" else ("don't know" in a.text)


def test_unsupported_product_details_are_unknown(shop: Shop) -> None:
    item = _item(shop, "en", 5)
    a = shop.bot.ask(f"Is the {language_part(item.title, 'en')} in stock?", user_id=None)
    assert a.unknown and a.citations[0].ref == item.item_id


def test_greeting_and_empty_question(shop: Shop) -> None:
    assert shop.bot.ask("你好", user_id=None).aspect == "greeting"
    empty = shop.bot.ask("   ", user_id=None)
    assert empty.unknown and empty.text


def test_the_answer_is_a_frozen_record(shop: Shop) -> None:
    a = shop.bot.ask("How long does a refund take?", user_id="u0000001")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.text = "changed"  # type: ignore[misc]
    d = a.to_dict()
    assert d["citations"][0]["kind"] == "policy" and d["backend"] == "template" and d["seconds"] >= 0
    assert a.render().splitlines()[-1].startswith("Sources: Returns and refunds › How long does a refund take?")
    assert 0 < a.seconds < 5 and a.strength is not None and 0 < a.strength <= 1


def test_answers_are_deterministic(shop: Shop) -> None:
    bot = Assistant(shop.store, shop.bot.knowledge)
    for q in ("How long does a refund take?", "我上次下单是什么时候？", "Do you sell running shoes?"):
        a, b = shop.bot.ask(q, user_id="u0000004"), bot.ask(q, user_id="u0000004")
        assert dataclasses.replace(a, seconds=0) == dataclasses.replace(b, seconds=0)


def test_every_numeric_claim_of_the_templates_is_grounded(shop: Shop) -> None:
    user = shop.buyers(3)[0]
    questions = [
        "When was my last order?", "我最近一笔订单多少钱？", "How many orders have I placed?", "我总共花了多少钱？",
        "What did I buy?", "Have I had any refunds?", "我的退款记录", "What was my first order?", "Where is my order?",
    ]  # fmt: skip
    for q in questions:
        a = shop.bot.ask(q, user_id=user)
        assert a.grounded, (q, [c for c in a.claims if not c.supported])
        assert not re.search(r"\{\w+\}", a.text), a.text  # no unfilled message field


def test_answer_type_is_exported() -> None:
    assert Answer.__module__ == "growthkit.assistant.answer"
