"""SimConfig validation and derived values."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from growthkit.sim import SimConfig


def test_defaults() -> None:
    c = SimConfig()
    assert (c.users, c.days, c.seed, c.start) == (10_000, 180, 7, date(2025, 1, 1))
    assert c.resolved_items == 500
    assert SimConfig(users=10).resolved_items == 200
    assert SimConfig(users=10_000_000).resolved_items == 50_000
    assert SimConfig(users=10, items=7).resolved_items == 7


def test_chunks_depend_only_on_users_and_chunk_size() -> None:
    assert SimConfig(users=25, chunk_users=10).n_chunks == 3
    assert SimConfig(users=30, chunk_users=10).n_chunks == 3
    assert SimConfig(users=1, chunk_users=10).n_chunks == 1


def test_keyword_only() -> None:
    with pytest.raises(TypeError):
        SimConfig(100)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"users": 0}, "users must be >= 1"),
        ({"days": 0}, "days must be between 1"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"items": 0}, "items must be >= 1"),
        ({"chunk_users": 0}, "chunk_users must be >= 1"),
        ({"zh_share": 1.5}, "zh_share must be between 0 and 1"),
        ({"coupon_share": -0.1}, "coupon_share must be between 0 and 1"),
        ({"promo_boost": 0.5}, "promo_boost must be >= 1"),
        ({"start": datetime(2025, 1, 1)}, "start must be a datetime.date"),
        ({"promotions": ((2, 30, "x"),)}, "is not a valid"),
        ({"promotions": ((6, 18, 'bad"name'),)}, "letters, digits"),
        ({"users": 1.5}, "users must be an int"),
    ],
)
def test_invalid_values_say_what_to_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SimConfig(**kwargs)  # type: ignore[arg-type]


def test_to_dict_is_json_ready() -> None:
    d = SimConfig(users=5).to_dict()
    assert d["start"] == "2025-01-01"
    assert d["items"] == 200
    assert d["promotions"][0] == [3, 8, "women_day"]
