"""Copy use cases on a real store: item and persona look-ups, the copy_cache table, audiences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from growthkit.campaigns.copy import Offer
from growthkit.config import Settings
from growthkit.errors import ConfigError, TextBackendError
from growthkit.store import open_store
from growthkit.text.llm import Generation, GenerationRequest
from growthkit.workflows.copy import (
    CACHE_TABLE,
    check_item_copy,
    copy_generator,
    generate_for_audience,
    generate_item_copy,
    list_segments,
    load_product,
    resolve_persona,
)


class CountingModel:
    """A fake model that answers every request with grounded slot text and counts its calls."""

    backend = "fake"
    model = "fake-1"
    supports_json_schema = True
    deterministic = True

    def __init__(self) -> None:
        self.calls = 0

    def generate(self, request: GenerationRequest) -> Generation:
        self.calls += 1
        n = int(request.facts["count"])
        variants = [
            {"title": f"{{product}}{'!' * k}", "body": "{product}现{discount}。" + "快来。" * k} for k in range(n)
        ]
        return Generation(json.dumps({"variants": variants}, ensure_ascii=False), "fake", "fake-1", 1, 1, 0.0)


@pytest.fixture
def shop(tmp_path: Path) -> Settings:
    s = Settings(db=str(tmp_path / "shop.duckdb"), workspace=tmp_path / "ws", llm_backend="template")
    with open_store(s) as st:
        st.execute(
            "INSERT INTO items (item_id, title, category, brand, price, currency, attributes) VALUES "
            "('tea1', '铁观音 特级', 'Tea > Oolong', '小满', 199, 'CNY', '{\"specs\": {\"净含量\": \"250g\"}}'), "
            "('mug1', 'Ceramic Mug 350ml', 'Home > Kitchen', 'Clayworks', 12.5, 'USD', NULL)"
        )
    return s


def _segments(s: Settings, layout: str) -> None:
    with open_store(s) as st:
        if layout == "ids":
            st.execute("CREATE TABLE segments (user_id VARCHAR, segment_id VARCHAR, segment_name VARCHAR)")
            st.execute(
                "INSERT INTO segments VALUES ('u1', 'vip', '高价值老客'), ('u2', 'vip', '高价值老客'), "
                "('u3', 'lapsed', '沉睡用户')"
            )
        else:  # the saved segments of growthkit.analytics.segments
            st.execute("CREATE TABLE segments (name VARCHAR, user_id VARCHAR, created_at TIMESTAMP)")
            st.execute("INSERT INTO segments VALUES ('churn-risk', 'u1', now()), ('churn-risk', 'u2', now())")


def test_products_come_from_the_items_table(shop: Settings) -> None:
    with open_store(shop) as st:
        p = load_product(st, "tea1")
        assert (p.title, p.price, p.currency, p.specs) == ("铁观音 特级", 199.0, "CNY", (("净含量", "250g"),))
        with pytest.raises(ConfigError, match="no item 'nope'"):
            load_product(st, "nope")


def test_personas_from_either_segments_layout_or_from_text(shop: Settings, tmp_path: Path) -> None:
    with open_store(shop) as st:
        assert resolve_persona(st, "students on a budget").text == "students on a budget"  # no segments table
        assert resolve_persona(st, None).source == "none"
        assert list_segments(st) == []
    _segments(shop, "ids")
    with open_store(shop) as st:
        p = resolve_persona(st, "vip")
        assert (p.name, p.segment_id, p.users, p.source) == ("高价值老客", "vip", 2, "table")
        assert resolve_persona(st, "沉睡用户").segment_id == "lapsed"
        assert resolve_persona(st, "someone else").source == "text"
        assert list_segments(st) == ["lapsed", "vip"]
    other = Settings(db=str(tmp_path / "other.duckdb"))
    _segments(other, "saved")
    with open_store(other) as st:
        p = resolve_persona(st, "churn-risk")
        assert (p.name, p.users, p.source) == ("churn-risk", 2, "table")
        assert list_segments(st) == ["churn-risk"]


def test_copy_is_cached_in_the_store(shop: Settings) -> None:
    model = CountingModel()
    offer = Offer(discount_percent=20)
    kw: dict[str, Any] = {"channel": "push", "lang": "zh", "offer": offer, "shop": "小满茶铺", "generator": model}
    first = generate_item_copy(shop, "tea1", n=3, **kw)
    assert model.calls == 1 and [v.provenance.source for v in first.variants] == ["model"] * 3
    second = generate_item_copy(shop, "tea1", n=3, **kw)  # a new connection: the cache is in the file
    assert model.calls == 1 and second.cache_hits == 3
    assert [v.variant_id for v in second.variants] == [v.variant_id for v in first.variants]
    with open_store(shop, read_only=True) as st:
        assert st.scalar(f"SELECT count(*) FROM {CACHE_TABLE}") == 3
        assert st.scalar(f"SELECT count(DISTINCT variant_id) FROM {CACHE_TABLE} WHERE item_id = 'tea1'") == 3
    generate_item_copy(shop, "tea1", n=3, use_cache=False, **kw)
    assert model.calls == 2


def test_without_a_model_the_template_backend_writes(shop: Settings) -> None:
    assert copy_generator(shop).backend == "template"
    batch = generate_item_copy(shop, "mug1", channel="sms", lang="en", shop="Clay & Co", n=2)
    assert all(v.accepted and v.body.startswith("Clay & Co: ") for v in batch.variants)


def test_audience_records_failures_and_reports_progress(shop: Settings) -> None:
    _segments(shop, "ids")
    seen: list[tuple[str, float]] = []
    res = generate_for_audience(
        shop,
        channel="sms",
        lang="zh",
        items=["tea1", "missing", "mug1"],
        offer=Offer(discount_percent=10),
        shop="小满茶铺",
        n=2,
        progress=lambda what, frac: seen.append((what, frac)),
    )
    assert len(res.batches) == 4 and {b.persona for b in res.batches} == {"高价值老客", "沉睡用户"}
    assert [(f.item_id, f.segment) for f in res.failures] == [("missing", "lapsed"), ("missing", "vip")]
    assert "no item 'missing'" in res.failures[0].reason
    assert len(seen) == 6 and seen[-1] == ("copy 6/6", 1.0)
    again = generate_for_audience(
        shop, channel="sms", lang="zh", offer=Offer(discount_percent=10), shop="小满茶铺", n=2
    )
    assert again.cache_hits == 8 and again.generator_calls == 0  # all items, all segments: the same 4 pairs


def test_a_broken_model_still_gives_copy(shop: Settings) -> None:
    class Down(CountingModel):
        def generate(self, request: GenerationRequest) -> Generation:
            raise TextBackendError("HTTP 401 from http://localhost/v1 (check openai_api_key)")

    batch = generate_item_copy(shop, "tea1", channel="push", lang="zh", shop="小满", n=2, generator=Down())
    assert all(
        v.provenance.source == "template_fallback" and "401" in v.provenance.fallback_reason for v in batch.variants
    )


def test_check_a_written_copy(shop: Settings) -> None:
    rep = check_item_copy(
        shop, "tea1", "铁观音8折，仅需¥159.20！", channel="push", title="好价", offer=Offer(discount_percent=20)
    )
    assert rep.passed
    rep = check_item_copy(
        shop, "tea1", "铁观音五折，全网最低！", channel="push", title="好价", offer=Offer(discount_percent=20)
    )
    assert {i.rule for i in rep.issues} == {"claims", "superlatives", "banned_phrases"}


def test_a_missing_store_says_how_to_make_one(tmp_path: Path) -> None:
    s = Settings(db=str(tmp_path / "nope.duckdb"))
    with pytest.raises(ConfigError, match="growthkit demo"):
        generate_item_copy(s, "tea1", channel="push")
    assert not (tmp_path / "nope.duckdb").exists()
