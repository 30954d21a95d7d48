"""Records and a scripted text generator for the copy tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from growthkit.campaigns.copy import CopyRecord, Offer, Product
from growthkit.errors import TextBackendError
from growthkit.text.llm import Generation, GenerationRequest


@pytest.fixture
def tea() -> CopyRecord:
    """A Chinese shop's oolong: ¥199, 30 % off (7折, ¥139.30), 满300减50, 11月1日-11月11日, code TEA30."""
    product = Product(
        "tea1",
        "铁观音 特级 Tieguanyin Oolong Tea",
        price=199.0,
        currency="CNY",
        brand="小满",
        category="Tea > Oolong",
        specs=(("净含量", "250g"),),
    )
    offer = Offer(
        discount_percent=30,
        coupon_value=50,
        min_spend=300,
        valid_from=date(2026, 11, 1),
        valid_until=date(2026, 11, 11),
        code="TEA30",
    )
    return CopyRecord(product, offer, "小满茶铺")


@pytest.fixture
def mug() -> CopyRecord:
    """An English shop's mug: $12.50, 20 % off ($10, saving $2.50), until Nov 30, no coupon."""
    product = Product("mug1", "Ceramic Mug 350ml", price=12.5, currency="USD", brand="Clayworks")
    return CopyRecord(product, Offer(discount_percent=20, valid_until=date(2026, 11, 30)), "Clay & Co")


class ScriptedGenerator:
    """A fake model: answers from a script (text, or an exception to raise) and counts its calls."""

    backend = "fake"
    model = "fake-1"
    supports_json_schema = True
    deterministic = True

    def __init__(self, replies: list[str | Exception] | Callable[[GenerationRequest], str]) -> None:
        self.replies = replies
        self.requests: list[GenerationRequest] = []

    @property
    def calls(self) -> int:
        return len(self.requests)

    def generate(self, request: GenerationRequest) -> Generation:
        self.requests.append(request)
        if callable(self.replies):
            reply: str | Exception = self.replies(request)
        else:
            reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        return Generation(reply, self.backend, self.model, 10, 10, 0.0)


@pytest.fixture
def scripted() -> type[ScriptedGenerator]:
    return ScriptedGenerator


@pytest.fixture
def backend_down() -> TextBackendError:
    return TextBackendError("cannot reach http://127.0.0.1:9/v1: connection refused")
