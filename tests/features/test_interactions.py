"""Interaction matrices on a tiny hand-checked timeline (cutoff 2025-03-01 00:00 UTC).

Every event below was placed so that its age at the cutoff is a whole multiple of ten days,
so with a half-life of 10 days each decayed weight is an exact power of one half.
Default weights: view 1, cart 3, purchase 5, review 4, share 2 (other types ignored).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from growthkit.features._base import FeatureError
from growthkit.features.interactions import (
    DEFAULT_EVENT_WEIGHTS,
    MAX_ATTRIBUTE_CHARS,
    Interactions,
    InteractionWeights,
    attributes_text,
    build_interactions,
    interaction_log,
    item_attributes,
)
from growthkit.store import Store

CUTOFF = datetime(2025, 3, 1)

COLS = ("event_id", "user_id", "ts", "event_type", "item_id", "session_id", "properties")
EVENTS = [
    # ann: i1 viewed and bought 10 days before the cutoff, i2 carted 20 days before
    ("a1", "ann", "2025-02-19 00:00:00", "view", "i1", "s1", None),
    ("a2", "ann", "2025-02-19 00:00:00", "purchase", "i1", "s1", '{"order_id": "o1"}'),
    ("a3", "ann", "2025-02-09 00:00:00", "cart", "i2", "s0", None),
    ("a4", "ann", "2025-03-01 00:00:00", "view", "i1", "s2", None),  # exactly at the cutoff: out
    # bob: one view 20 days before; a search without item, a refund (not weighted), a late purchase
    ("b1", "bob", "2025-02-09 00:00:00", "view", "i2", None, None),
    ("b2", "bob", "2025-02-20 00:00:00", "search", None, None, None),
    ("b3", "bob", "2025-02-19 00:00:00", "refund", "i1", None, None),
    ("b4", "bob", "2025-03-02 00:00:00", "purchase", "i1", None, '{"order_id": "o2"}'),  # after the cutoff
    # cat: a share 30 days before, a review 10 days before
    ("c1", "cat", "2025-01-30 00:00:00", "share", "i3", None, None),
    ("c2", "cat", "2025-02-19 00:00:00", "review", "i1", None, None),
    # dan: views of i3 50 days and exactly 40 days (= the start used below) before the cutoff
    ("d1", "dan", "2025-01-10 00:00:00", "view", "i3", None, None),
    ("d2", "dan", "2025-01-20 00:00:00", "view", "i3", None, None),
]
START = datetime(2025, 1, 20)


@pytest.fixture
def events(mem_store: Store, insert) -> Store:  # type: ignore[no-untyped-def]
    insert(mem_store, "events", COLS, EVENTS)
    insert(
        mem_store,
        "items",
        ("item_id", "title", "description", "category", "brand", "price"),
        [("i1", "绿茶", "green tea", "Food > Tea", "leafco", 10.0), ("i2", "Shoe", None, "Shoes", "runco", 50.0)],
    )
    return mem_store


def weights_of(x: Interactions) -> dict[tuple[str, str], float]:
    return {(r.user_id, r.item_id): r.weight for r in x.to_frame().itertuples()}


# ------------------------------------------------------------------------ build_interactions


def test_event_type_weights_and_half_open_cutoff(events: Store) -> None:
    x = build_interactions(events, cutoff=CUTOFF)
    assert weights_of(x) == {
        ("ann", "i1"): 6.0,  # view 1 + purchase 5; the view at the cutoff does not count
        ("ann", "i2"): 3.0,  # cart
        ("bob", "i2"): 1.0,  # view; search has no item, refund has no weight, purchase is late
        ("cat", "i1"): 4.0,  # review
        ("cat", "i3"): 2.0,  # share
        ("dan", "i3"): 2.0,  # two views
    }
    assert x.user_ids.tolist() == ["ann", "bob", "cat", "dan"]
    assert sorted(x.item_ids.tolist()) == ["i1", "i2", "i3"]
    assert x.matrix.dtype == np.float32 and sparse.isspmatrix_csr(x.matrix) and x.nnz == 6


def test_half_life_decay_is_exact(events: Store) -> None:
    x = build_interactions(events, cutoff=CUTOFF, weights=InteractionWeights(half_life_days=10))
    assert weights_of(x) == pytest.approx(
        {
            ("ann", "i1"): 6 * 0.5,  # age 10 days
            ("ann", "i2"): 3 * 0.25,  # age 20 days
            ("bob", "i2"): 1 * 0.25,  # age 20 days
            ("cat", "i1"): 4 * 0.5,  # age 10 days
            ("cat", "i3"): 2 * 0.125,  # age 30 days
            ("dan", "i3"): 1 / 32 + 1 / 16,  # ages 50 and 40 days
        },
        rel=1e-6,
    )


def test_start_is_inclusive(events: Store) -> None:
    x = build_interactions(events, cutoff=CUTOFF, start=START, weights=InteractionWeights(half_life_days=10))
    w = weights_of(x)
    assert w[("dan", "i3")] == pytest.approx(1 / 16)  # the view exactly at the start counts, the older one not
    assert w[("cat", "i3")] == pytest.approx(0.25)  # 01-30 is after the start
    later = build_interactions(events, cutoff=CUTOFF, start=START + timedelta(seconds=1))
    assert "dan" not in later.user_ids.tolist()


def test_dates_and_aware_datetimes_mean_the_same_cutoff(events: Store) -> None:
    base = weights_of(build_interactions(events, cutoff=CUTOFF))
    assert weights_of(build_interactions(events, cutoff=date(2025, 3, 1))) == base
    east8 = timezone(timedelta(hours=8))
    assert weights_of(build_interactions(events, cutoff=datetime(2025, 3, 1, 8, tzinfo=east8))) == base
    assert weights_of(build_interactions(events, cutoff=datetime(2025, 3, 1, tzinfo=UTC))) == base


def test_no_cutoff_uses_everything_and_decays_from_the_last_event(events: Store) -> None:
    x = build_interactions(events)
    w = weights_of(x)
    assert w[("ann", "i1")] == 7.0  # both views and the purchase
    assert w[("bob", "i1")] == 5.0  # the late purchase
    decayed = weights_of(build_interactions(events, weights=InteractionWeights(half_life_days=10)))
    # the last event is bob's purchase on 03-02, so ann's view on 03-01 is 1 day old
    assert decayed[("bob", "i1")] == pytest.approx(5.0)
    assert decayed[("ann", "i1")] == pytest.approx(0.5 ** (1 / 10) + 6 * 0.5 ** (11 / 10), rel=1e-6)


def test_binary_counts_each_pair_once(events: Store) -> None:
    x = build_interactions(events, cutoff=CUTOFF, weights=InteractionWeights(binary=True, half_life_days=5))
    assert set(weights_of(x).values()) == {1.0} and x.nnz == 6


def test_custom_event_weights_leave_other_types_out(events: Store) -> None:
    x = build_interactions(events, cutoff=CUTOFF, weights=InteractionWeights(event_weights={"purchase": 2.0}))
    assert weights_of(x) == {("ann", "i1"): 2.0}
    refunds = build_interactions(events, weights=InteractionWeights(event_weights={"refund": 1.0}))
    assert weights_of(refunds) == {("bob", "i1"): 1.0}  # any event type may be given a weight


def test_item_axis_can_be_fixed(events: Store) -> None:
    x = build_interactions(events, cutoff=CUTOFF, item_ids=["i4", "i3", "i2", "i1"])
    assert x.item_ids.tolist() == ["i4", "i3", "i2", "i1"]
    assert x.matrix.shape == (4, 4) and x.matrix[:, 0].nnz == 0  # nobody touched i4 yet
    assert x.matrix[x.user_index(["ann"])[0], x.item_index(["i1"])[0]] == 6.0
    with pytest.raises(FeatureError, match="not on the given item_ids"):
        build_interactions(events, cutoff=CUTOFF, item_ids=["i1", "i2"])  # i3 occurs


def test_nothing_before_the_cutoff_gives_an_empty_matrix(events: Store) -> None:
    x = build_interactions(events, cutoff=datetime(2024, 1, 1))
    assert x.matrix.shape == (0, 0) and x.nnz == 0


# ------------------------------------------------------------------------ weights


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"event_weights": {}}, "empty"),
        ({"event_weights": {"view": 0.0}}, "positive"),
        ({"event_weights": {"view": -1.0}}, "positive"),
        ({"event_weights": {"view": float("nan")}}, "positive"),
        ({"half_life_days": 0}, "half_life_days"),
        ({"half_life_days": -3.0}, "half_life_days"),
    ],
)
def test_bad_weights_are_refused(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(FeatureError, match=match):
        InteractionWeights(**kwargs)


def test_default_weights_rank_purchases_above_views() -> None:
    w = InteractionWeights().event_weights
    assert dict(w) == dict(DEFAULT_EVENT_WEIGHTS)
    assert w["purchase"] > w["cart"] > w["view"]


# ------------------------------------------------------------------------ from_frame and the object


def test_from_frame_sums_repeats_and_keeps_the_order_of_first_appearance() -> None:
    frame = pd.DataFrame(
        {"user_id": ["u2", "u1", "u2", 7], "item_id": ["b", "a", "b", "a"], "weight": [1.5, 2.0, 0.5, 1.0]}
    )
    x = Interactions.from_frame(frame)
    assert x.user_ids.tolist() == ["u2", "u1", "7"]  # ids become strings
    assert x.item_ids.tolist() == ["b", "a"]
    assert x.matrix.toarray().tolist() == [[2.0, 0.0], [0.0, 2.0], [0.0, 1.0]]
    assert x.user_index(["u1", "nobody", 7]).tolist() == [1, -1, 2]
    assert x.item_index(["a", "zzz"]).tolist() == [1, -1]
    assert (x.n_users, x.n_items, x.nnz) == (3, 2, 3)


def test_from_frame_without_weight_counts_rows_and_drops_zero_weights() -> None:
    x = Interactions.from_frame(pd.DataFrame({"user_id": ["u", "u", "v"], "item_id": ["a", "a", "a"]}))
    assert x.matrix.toarray().ravel().tolist() == [2.0, 1.0]
    z = Interactions.from_frame(pd.DataFrame({"user_id": ["u", "v"], "item_id": ["a", "a"], "weight": [0.0, 1.0]}))
    assert z.nnz == 1  # an explicit zero is not stored


def test_from_frame_axes_and_roundtrip() -> None:
    frame = pd.DataFrame({"user_id": ["u"], "item_id": ["b"], "weight": [3.0]})
    x = Interactions.from_frame(frame, user_ids=["v", "u"], item_ids=["a", "b", "c"])
    assert x.matrix.shape == (2, 3) and x.matrix[1, 1] == 3.0
    back = x.to_frame()
    assert back.to_dict("records") == [{"user_id": "u", "item_id": "b", "weight": 3.0}]


@pytest.mark.parametrize(
    ("frame", "kwargs", "match"),
    [
        (pd.DataFrame({"user_id": ["u"]}), {}, "missing \\['item_id'\\]"),
        (pd.DataFrame({"item_id": ["a"]}), {}, "missing \\['user_id'\\]"),
        (pd.DataFrame({"user_id": ["u"], "item_id": ["a"], "weight": [-1.0]}), {}, "non-negative"),
        (pd.DataFrame({"user_id": ["u"], "item_id": ["a"], "weight": [np.inf]}), {}, "finite"),
        (pd.DataFrame({"user_id": ["u"], "item_id": ["a"], "weight": ["lots"]}), {}, "finite"),
        (pd.DataFrame({"user_id": ["u"], "item_id": ["a"]}), {"user_ids": ["v"]}, "user ids not on"),
        (pd.DataFrame({"user_id": ["u"], "item_id": ["a"]}), {"item_ids": ["b"]}, "item ids not on"),
        (pd.DataFrame({"user_id": ["u"], "item_id": ["a"]}), {"item_ids": ["a", "a"]}, "item_ids must be unique"),
    ],
)
def test_from_frame_errors_say_what_is_wrong(frame: pd.DataFrame, kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(FeatureError, match=match):
        Interactions.from_frame(frame, **kwargs)


def test_constructor_checks_shape_and_unique_ids() -> None:
    m = sparse.csr_matrix(np.ones((2, 2), dtype=np.float32))
    with pytest.raises(FeatureError, match="does not match"):
        Interactions(matrix=m, user_ids=np.asarray(["a"]), item_ids=np.asarray(["i", "j"]))
    with pytest.raises(FeatureError, match="unique"):
        Interactions(matrix=m, user_ids=np.asarray(["a", "a"]), item_ids=np.asarray(["i", "j"]))


def test_with_context_indexes_items_by_id() -> None:
    x = Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": ["1"]}))
    items = pd.DataFrame({"item_id": [1, 2], "category": ["tea", "shoes"]})
    log = pd.DataFrame({"user_id": ["u"], "item_id": ["1"]})
    y = x.with_context(items=items, log=log)
    assert y.items is not None and y.items.index.tolist() == ["1", "2"]
    assert y.items.loc["2", "category"] == "shoes"
    assert y.log is log and x.items is None  # the original is unchanged
    assert y.with_context().items is y.items  # nothing given: context kept


# ------------------------------------------------------------------------ raw log and catalogue


def test_interaction_log_is_in_time_order_per_user(events: Store) -> None:
    log = interaction_log(events, cutoff=CUTOFF, order_key="order_id")
    assert list(log.columns) == ["user_id", "item_id", "ts", "event_type", "session_id", "event_id", "order_id"]
    ann = log[log.user_id == "ann"]
    assert ann.event_type.tolist()[0] == "cart"  # 02-09 before 02-19
    assert ann.ts.is_monotonic_increasing and len(ann) == 3  # the view at the cutoff is out
    assert ann.loc[ann.event_type == "purchase", "order_id"].tolist() == ["o1"]
    assert log.user_id.tolist() == sorted(log.user_id.tolist())
    assert set(log.event_type) == {"view", "cart", "purchase"}  # default types; the share/review not
    assert log.item_id.notna().all()


def test_interaction_log_window_and_types(events: Store) -> None:
    log = interaction_log(events, start=START, cutoff=CUTOFF, event_types=("view",))
    assert sorted(zip(log.user_id, log.item_id, strict=True)) == [("ann", "i1"), ("bob", "i2"), ("dan", "i3")]
    assert interaction_log(events, start=datetime(2030, 1, 1)).empty  # a window may be empty


def test_interaction_log_of_an_empty_store_says_so(mem_store: Store) -> None:
    with pytest.raises(FeatureError, match="no events"):
        interaction_log(mem_store)


def test_item_attributes(events: Store) -> None:
    items = item_attributes(events)
    assert items.index.name == "item_id" and items.index.tolist() == ["i1", "i2"]
    assert list(items.columns) == ["title", "description", "category", "brand", "price", "attributes"]
    assert items.loc["i1", "title"] == "绿茶" and items.loc["i2", "price"] == 50.0
    assert items["attributes"].tolist() == ["", ""]  # no attributes: empty text, never NULL


def test_item_attributes_flattens_the_json_column(mem_store: Store, insert) -> None:  # type: ignore[no-untyped-def]
    docs = [
        ("m1", '{"year": "1995", "genres": ["Animation", "Comedy"], "imdb_url": "http://imdb.com/t?1"}'),
        ("s1", '{"colour": "red", "material": "wool", "size": {"eu": 38, "label": "M"}, "sku": "X-9"}'),
        ("e1", "{}"),
        ("n1", None),
    ]
    insert(mem_store, "items", ("item_id", "attributes"), docs)
    text = item_attributes(mem_store)["attributes"]
    assert text.to_dict() == {
        "m1": "year: 1995; genres: Animation, Comedy",
        "s1": "colour: red; material: wool; eu: 38; label: M",
        "e1": "",
        "n1": "",
    }


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"genres": ["Drama", "War"], "year": "1995"}, "genres: Drama, War; year: 1995"),  # lists joined
        ({"spec": {"fit": "slim", "dims": {"w": 10, "h": 2.5}}}, "fit: slim; w: 10; h: 2.5"),  # nested: leaf keys
        ({"parts": [{"name": "lid"}, {"name": "cup"}]}, "parts: lid, cup"),  # objects inside a list: values
        ({"organic": True, "vegan": False, "note": None, "tags": []}, "organic"),  # true flags by name
        (
            {
                "url": "https://shop.example/p/1",
                "image": "www.example.com/a.jpg",
                "contact": "help@example.com",
                "launched": "2024-03-01",
                "updated": "2024-03-01T10:00:00Z",
                "released": "01-Jan-1995",
                "barcode": "4006381333931",
                "hash": "d41d8cd98f00b204e9800998ecf8427e",
                "ts": 1700000000,
                "colour": "navy",
            },
            "colour: navy",
        ),  # URLs, e-mail, dates, codes and epoch numbers are not text
        (
            {"id": 7, "item_id": "i1", "categoryId": "42", "categoryid": "1016", "sku": "A-1", "paid": True},
            "paid",
        ),  # identifiers; "paid" ends in "id" but is a flag, not a code
        ({"care": "wash cold;\n  dry flat", "a: b": "x"}, "care: wash cold, dry flat; a b: x"),  # separators
        ({"year": 1995, "rating": 4.25, "nan": float("nan")}, "year: 1995; rating: 4.25"),
    ],
)
def test_attributes_text_flattens_json(doc: dict[str, object], expected: str) -> None:
    assert attributes_text([json.dumps(doc)]).tolist() == [expected]
    assert attributes_text([doc]).tolist() == [expected]  # parsed objects too


def test_attributes_text_edge_cases() -> None:
    docs = pd.Series(['{"colour": "red"}', None, "", "not json", "[1, 2]", '"text"', '{"colour": "red"}'])
    assert attributes_text(docs).tolist() == ["colour: red", "", "", "", "1, 2", "text", "colour: red"]
    assert attributes_text(['{"genres": ["Drama", "War"], "year": "1995"}'], keys=False).tolist() == [
        "Drama, War; 1995"
    ]
    assert attributes_text([]).tolist() == []
    long = attributes_text([json.dumps({f"k{i}": "word " * 20 for i in range(50)})])[0]
    assert len(long) == MAX_ATTRIBUTE_CHARS


def test_rows_against_an_empty_axis_are_a_clear_error() -> None:
    with pytest.raises(FeatureError, match="not on the given item_ids"):
        Interactions.from_frame(pd.DataFrame({"user_id": ["u"], "item_id": ["a"]}), item_ids=[])
