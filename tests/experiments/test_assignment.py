"""Deterministic assignment: GrowthBook's published hash values, stability, coverage, layers, holdouts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from growthkit.errors import ConfigError
from growthkit.experiments.assignment import (
    Exclusion,
    Experiment,
    Holdout,
    Layer,
    assign,
    assign_one,
    check_exclusive,
)
from growthkit.experiments.hashing import hash_v1, hash_v1_many, hash_v2, hash_v2_many

USERS = np.array([f"u{i:07d}" for i in range(100_000)])


@pytest.mark.parametrize(
    ("seed", "value", "version", "expected"),
    [
        # GrowthBook SDK conformance suite (cases.json): hash cases and sticky-bucket "bucket" values.
        ("", "a", 1, 0.22),
        ("ef", "d", 1, 0.652),
        ("feature-exp", "i123", 2, 0.9943),
        ("feature-exp", "d123", 2, 0.6468),
    ],
)
def test_hash_matches_growthbook(seed: str, value: str, version: int, expected: float) -> None:
    scalar = hash_v2 if version == 2 else hash_v1
    many = hash_v2_many if version == 2 else hash_v1_many
    assert scalar(seed, value) == expected
    assert many(seed, [value, value]).tolist() == [expected, expected]


@settings(max_examples=200, deadline=None)
@given(seed=st.text(max_size=8), values=st.lists(st.text(min_size=1, max_size=12).filter(lambda s: "\x00" not in s)))
def test_vectorised_hash_equals_scalar_hash(seed: str, values: list[str]) -> None:
    assert hash_v2_many(seed, values).tolist() == [hash_v2(seed, v) for v in values]
    assert hash_v1_many(seed, values).tolist() == [hash_v1(seed, v) for v in values]


def test_same_user_same_variation_and_split_follows_weights() -> None:
    exp = Experiment("checkout", ("control", "B", "C"), (0.5, 0.3, 0.2))
    a, b = assign(exp, USERS), assign(exp, USERS[::-1])
    assert np.array_equal(a.variation_index, b.variation_index[::-1])  # order and batch do not matter
    assert all(assign_one(exp, u) == a.variation_of(u) for u in USERS[:50])
    shares = np.bincount(a.variation_index, minlength=3) / USERS.size
    assert np.allclose(shares, [0.5, 0.3, 0.2], atol=0.01)


def test_salt_re_randomises() -> None:
    a = assign(Experiment("k", ("control", "B")), USERS)
    b = assign(Experiment("k", ("control", "B"), salt="v2-"), USERS)
    assert 0.45 < (a.variation_index == b.variation_index).mean() < 0.55


def test_changing_weights_moves_only_the_changed_range() -> None:
    before = assign(Experiment("price", ("control", "B"), (50, 50)), USERS)
    after = assign(Experiment("price", ("control", "B"), (40, 60)), USERS)
    moved = before.variation_index != after.variation_index
    assert 0.09 < moved.mean() < 0.11  # ~10 % move ...
    assert set(before.variation_index[moved]) == {0} and set(after.variation_index[moved]) == {1}  # ... from A to B


def test_raising_coverage_only_adds_users() -> None:
    low = assign(Experiment("cov", ("control", "B"), coverage=0.2), USERS)
    high = assign(Experiment("cov", ("control", "B"), coverage=0.6), USERS)
    assert 0.19 < low.assigned.mean() < 0.21 and 0.59 < high.assigned.mean() < 0.61
    assert np.array_equal(high.variation_index[low.assigned], low.variation_index[low.assigned])
    assert set(low.exclusion[~low.assigned]) == {Exclusion.OUTSIDE_COVERAGE}


def test_layers_make_experiments_mutually_exclusive() -> None:
    a = Experiment("a", ("control", "B"), layer=Layer("checkout", 0.0, 0.5))
    b = Experiment("b", ("control", "B"), layer=Layer("checkout", 0.5, 1.0))
    other = Experiment("c", ("control", "B"), layer=Layer("search", 0.0, 0.5))
    ra, rb, rc = assign(a, USERS), assign(b, USERS), assign(other, USERS)
    assert not (ra.assigned & rb.assigned).any()
    assert 0.48 < ra.assigned.mean() < 0.52 and 0.48 < rb.assigned.mean() < 0.52
    assert 0.2 < (ra.assigned & rc.assigned).mean() < 0.3  # another layer is independent
    check_exclusive([a, b, other])
    with pytest.raises(ConfigError, match="disjoint"):
        check_exclusive([a, Experiment("d", ("control", "B"), layer=Layer("checkout", 0.4, 0.6))])


def test_holdout_is_excluded_from_every_experiment() -> None:
    hold = Holdout(0.1)
    r1 = assign(Experiment("one", ("control", "B")), USERS, holdout=hold)
    r2 = assign(Experiment("two", ("control", "B")), USERS, holdout=hold)
    held = r1.exclusion == Exclusion.HOLDOUT
    assert 0.09 < held.mean() < 0.11
    assert np.array_equal(held, r2.exclusion == Exclusion.HOLDOUT)
    assert not r1.assigned[held].any() and r1.assigned[~held].all()
    assert r1.counts()["excluded:holdout"] == int(held.sum())


def test_mapping_and_definition_round_trip() -> None:
    exp = Experiment("rt", ("control", "B"), (0.25, 0.75), coverage=0.5, salt="s", layer=Layer("l", 0.1, 0.9))
    assert Experiment.from_dict(exp.to_dict()) == exp
    a = assign(exp, USERS[:1000])
    m = a.mapping()
    assert len(m) == int(a.assigned.sum()) and set(m.values()) <= {"control", "B"}
    with pytest.raises(KeyError):
        a.variation_of("nobody")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variations": ("control",)}, "at least two"),
        ({"variations": ("a", "a")}, "unique"),
        ({"weights": (0.5, 0.2)}, "sum to 1"),
        ({"weights": (1.0,)}, "one weight each"),
        ({"coverage": 1.5}, "coverage"),
    ],
)
def test_bad_experiments_say_what_to_fix(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Experiment("x", **kwargs)  # type: ignore[arg-type]
