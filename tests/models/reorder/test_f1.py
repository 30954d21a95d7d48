"""Per-order F1 with None, thresholds, top-k and expected-F1 maximisation, checked by hand and by enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from growthkit.models.reorder import (
    ReorderError,
    at_basket_size,
    best_threshold,
    expected_f1_choice,
    expected_f1_sets,
    order_f1,
    rank_in_user,
    top_k,
)


def test_order_f1_with_the_none_token_by_hand() -> None:
    codes = np.array([0, 0, 0, 1, 1, 2, 2])
    y = np.array([1, 0, 1, 0, 0, 1, 0])
    sel = np.array([1, 1, 0, 0, 0, 0, 0], bool)
    f1 = order_f1(codes, 3, sel, y)
    # user 0: S = {a, b}, T = {a, c}: 2 * 1 / (2 + 2) = 0.5
    # user 1: nothing selected -> None; no positives -> truth None: 1
    # user 2: None predicted, truth {a}: 0
    assert f1.tolist() == [0.5, 1.0, 0.0]
    none = np.array([True, True, False])
    # user 0 with None added: S = {a, b, None}, T = {a, c}: 2 / (3 + 2); user 1 unchanged
    assert order_f1(codes, 3, sel, y, none).tolist() == pytest.approx([0.4, 1.0, 0.0])
    # user 1 selecting one item and None, truth None: 2 * 1 / (2 + 1)
    sel2 = np.array([0, 0, 0, 1, 0, 0, 0], bool)
    assert order_f1(codes, 3, sel2, y, np.array([False, True, False]))[1] == pytest.approx(2 / 3)


def _brute_expected_f1(p: np.ndarray, k: int, with_none: bool) -> float:
    """E[F1] of predicting the top k (plus None) by enumerating every outcome (2^n)."""
    order = np.argsort(-p, kind="stable")
    chosen = set(order[:k].tolist())
    total = 0.0
    for outcome in itertools.product((0, 1), repeat=p.shape[0]):
        prob = float(np.prod([pi if o else 1 - pi for pi, o in zip(p, outcome, strict=True)]))
        truth = {i for i, o in enumerate(outcome) if o}
        t = truth if truth else {"None"}
        s = set(chosen) | ({"None"} if with_none or not chosen else set())
        total += prob * 2 * len(s & t) / (len(s) + len(t))
    return total


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_expected_f1_choice_is_the_best_top_k_by_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, 7) ** 2
    k, none, e = expected_f1_choice(p)
    options = {(kk, nn): _brute_expected_f1(p, kk, nn) for kk in range(8) for nn in (False, True) if kk or not nn}
    best = max(options, key=lambda o: options[o])
    assert (k, none) == best
    assert e == pytest.approx(options[best], abs=1e-9)
    k2, none2, _ = expected_f1_choice(p, with_none=False)
    assert not none2 and k2 == max((o for o in options if not o[1]), key=lambda o: options[o])[0]


def test_expected_f1_sets_per_user() -> None:
    codes = np.array([1, 1, 1, 0, 0])
    p = np.array([0.05, 0.9, 0.8, 0.1, 0.02])
    sel, none, e = expected_f1_sets(codes, 2, p)
    # user 1: the two likely items; user 0: almost surely no reorder -> None alone (P = 0.9 * 0.98)
    assert sel.tolist() == [False, True, True, False, False]
    assert none.tolist() == [False, False] and e[0] == pytest.approx(0.9 * 0.98)


def test_thresholds_ranks_and_top_k() -> None:
    codes = np.array([0, 0, 0, 1, 1])
    score = np.array([0.2, 0.9, 0.2, 0.5, 0.6])
    y = np.array([0, 1, 0, 0, 1])
    assert rank_in_user(codes, score).tolist() == [2, 1, 3, 2, 1]  # the tie 0.2 keeps input order
    assert rank_in_user(codes, score, tiebreak=np.array([0, 0, 5, 0, 0])).tolist() == [3, 1, 2, 2, 1]
    assert top_k(codes, score, np.array([1, 2])).tolist() == [False, True, False, True, True]
    t, f1 = best_threshold(codes, 2, score, y, grid=np.array([0.1, 0.55, 0.95]))
    assert (t, f1) == (0.55, 1.0)  # 0.55 selects exactly {0.9} and {0.6}, the positives
    prec, rec = at_basket_size(codes, 2, score, y, np.array([2, 5]))
    # user 0: top 2 = {0.9, 0.2 (first)}: 1 hit of 2; user 1: size 5 capped at 2 candidates: 1 hit of 2
    assert (prec, rec) == (0.5, 1.0)
    with pytest.raises(ReorderError, match="no pairs"):
        best_threshold(codes[:0], 0, score[:0], y[:0])
