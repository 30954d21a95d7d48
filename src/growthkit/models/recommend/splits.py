"""Train/test splits of an interaction log for evaluating recommenders.

Every split takes the raw log (one row per event: ``user_id, item_id, ts, event_type`` and,
for baskets, ``session_id``/``order_id``), weighs it with :class:`InteractionWeights`, and
returns a :class:`Split`: the training :class:`Interactions` (carrying the training rows as
``log`` and the catalogue as ``items``, so sequence, basket and content models work) and the
held-out truth, one row per (user, relevant item). Nothing of the test part is in the
training object, so code that only sees ``split.train`` (the hyperparameter search) cannot
peek at the test.

Splits (``kind``):

``random``
    Random ratio split of the distinct (user, item) pairs, globally (``test_ratio``).
``stratified``
    Random ratio split per user (Microsoft Recommenders' ``python_stratified_split``): each
    user's pairs are shuffled and the first ``round(ratio * n)`` (round half to even) go to
    training, so every user is in both parts in proportion.
``temporal``
    One global cutoff time (``test_ratio`` of the events after it, or the last ``test_days``):
    training is everything before, the truth is the items each user touched after it that
    they had not touched before. Users first seen after the cutoff are kept (cold users).
``leave-last``
    Per user with at least two distinct items, the item first touched last is held out with
    all its events.
``next-basket``
    Per user with at least two baskets (``order_id``, else ``session_id``), the last basket is
    the test; the truth is all its items (``basket="all"``), only those bought before
    (``"reorders"``) or only new ones (``"new"``). Seen items stay recommendable except for
    ``"new"``.

The item axis of the training matrix is every item in the log and the catalogue, so the
ranking is over the whole catalogue, cold items included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from growthkit.features.interactions import Interactions, InteractionWeights
from growthkit.models.recommend.base import RecommendError

DAY_S = 86_400.0
SPLIT_KINDS: tuple[str, ...] = ("random", "stratified", "temporal", "leave-last", "next-basket")
BASKET_VARIANTS: tuple[str, ...] = ("all", "reorders", "new")


@dataclass(frozen=True, eq=False)
class Split:
    """A training set and the held-out truth.

    Attributes
    ----------
    kind
        One of :data:`SPLIT_KINDS`.
    train
        Training interactions; ``train.log`` holds the weighted training rows (column
        ``weight``) and ``train.items`` the catalogue, when known.
    test
        Held-out truth: one row per (``user_id``, ``item_id``), plus ``relevance`` (> 0).
    exclude_seen
        Whether recommendations for this split leave out the user's training items.
    description
        The protocol in words.
    params
        The split's parameters (seed, ratios, cutoff, ...), enough to split the same way again.
    weights
        The interaction weights used for the training matrix.
    """

    kind: str
    train: Interactions
    test: pd.DataFrame
    exclude_seen: bool
    description: str
    params: Mapping[str, Any] = field(default_factory=dict)
    weights: InteractionWeights = field(default_factory=InteractionWeights)

    @property
    def test_users(self) -> NDArray[np.str_]:
        """The users with at least one held-out item, in a stable order."""
        return np.asarray(pd.unique(self.test["user_id"]), dtype=str)

    def truth(
        self, users: Sequence[str] | None = None
    ) -> tuple[NDArray[np.str_], sparse.csr_matrix, NDArray[np.int64]]:
        """Users, their relevant items as a CSR matrix over ``train.item_ids``, and relevant counts.

        Held-out items outside the training item axis cannot be ranked; they are left out of the
        matrix but counted in the third result.
        """
        ids = self.test_users if users is None else np.asarray([str(u) for u in users], dtype=str)
        pos = pd.Series(np.arange(len(ids)), index=ids)
        t = self.test[self.test["user_id"].isin(pos.index)]
        rows = pos.reindex(t["user_id"].to_numpy()).to_numpy(dtype=np.int64)
        cols = self.train.item_index(t["item_id"].to_numpy())
        n_rel = np.bincount(rows, minlength=len(ids)).astype(np.int64)
        ok = cols >= 0
        rel = t["relevance"].to_numpy(dtype=np.float64) if "relevance" in t.columns else np.ones(len(t))
        m = sparse.csr_matrix((rel[ok], (rows[ok], cols[ok])), shape=(len(ids), self.train.n_items))
        m.sum_duplicates()
        return ids, m, n_rel


def weigh(log: pd.DataFrame, weights: InteractionWeights) -> pd.DataFrame:
    """The rows of ``log`` whose event type has a weight, with a ``weight`` column (no decay yet).

    A log without ``event_type`` counts every row with weight 1.
    """
    missing = {"user_id", "item_id"} - set(log.columns)
    if missing:
        raise RecommendError(f"the interaction log needs columns user_id and item_id; missing {sorted(missing)}")
    rows = log[log["user_id"].notna() & log["item_id"].notna()].copy()
    rows["user_id"] = rows["user_id"].astype(str)
    rows["item_id"] = rows["item_id"].astype(str)
    if "event_type" in rows.columns:
        w = rows["event_type"].map(dict(weights.event_weights))
        rows = rows[w.notna()].assign(weight=w[w.notna()].astype(float))
    else:
        rows["weight"] = 1.0
    if "ts" in rows.columns:
        rows["ts"] = pd.to_datetime(rows["ts"])
    if rows.empty:
        raise RecommendError(
            f"no interactions left: the log has no rows of the weighted event types {sorted(weights.event_weights)}"
        )
    return rows.reset_index(drop=True)


def to_interactions(
    rows: pd.DataFrame,
    weights: InteractionWeights,
    *,
    item_ids: Sequence[str],
    items: pd.DataFrame | None = None,
) -> Interactions:
    """Weighted rows to a training matrix (decay measured from the last row), carrying context."""
    w = rows["weight"].to_numpy(dtype=np.float64)
    if weights.half_life_days is not None and "ts" in rows.columns and len(rows):
        ts = rows["ts"].astype("datetime64[us]").astype(np.int64).to_numpy() / 1e6
        age = (ts.max() - ts) / DAY_S
        w = w * 0.5 ** (age / weights.half_life_days)
    frame = pd.DataFrame({"user_id": rows["user_id"].to_numpy(), "item_id": rows["item_id"].to_numpy(), "weight": w})
    if weights.binary:
        frame = frame.drop_duplicates(["user_id", "item_id"]).assign(weight=1.0)
    users = pd.unique(frame["user_id"])
    x = Interactions.from_frame(frame, user_ids=list(users), item_ids=item_ids)
    return x.with_context(log=rows.reset_index(drop=True), items=items)


def _item_axis(rows: pd.DataFrame, items: pd.DataFrame | None) -> list[str]:
    ids = pd.unique(rows["item_id"].astype(str)).tolist()
    if items is not None:
        idx = items["item_id"] if "item_id" in items.columns else pd.Series(items.index)
        known = set(ids)
        ids += [i for i in pd.unique(idx.astype(str)).tolist() if i not in known]
    return sorted(ids)


def _pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """Distinct (user, item) pairs with their first time when known, in a stable order."""
    cols = ["user_id", "item_id"]
    if "ts" in rows.columns:
        out = rows.groupby(cols, sort=True, observed=True)["ts"].min().reset_index()
    else:
        out = rows[cols].drop_duplicates().sort_values(cols).reset_index(drop=True)
    return out


def _finish(
    kind: str,
    rows: pd.DataFrame,
    train_mask: NDArray[np.bool_],
    test: pd.DataFrame,
    *,
    weights: InteractionWeights,
    items: pd.DataFrame | None,
    exclude_seen: bool,
    description: str,
    params: Mapping[str, Any],
) -> Split:
    train_rows = rows[train_mask].reset_index(drop=True)
    if train_rows.empty:
        raise RecommendError(f"{kind} split left no training rows; the log is too small for these parameters")
    test = test.loc[:, ["user_id", "item_id"]].drop_duplicates().reset_index(drop=True)
    if test.empty:
        raise RecommendError(f"{kind} split left no test rows; the log is too small for these parameters")
    test["relevance"] = 1.0
    train = to_interactions(train_rows, weights, item_ids=_item_axis(rows, items), items=items)
    return Split(kind, train, test, exclude_seen, description, dict(params), weights)


def random_split(
    rows: pd.DataFrame,
    *,
    weights: InteractionWeights,
    items: pd.DataFrame | None = None,
    test_ratio: float = 0.2,
    seed: int = 0,
) -> Split:
    """Hold out a random ``test_ratio`` of all distinct (user, item) pairs (all their events go along)."""
    if not 0 < test_ratio < 1:
        raise RecommendError(f"test_ratio must be between 0 and 1, got {test_ratio}")
    pairs = _pairs(rows)
    rng = np.random.default_rng(seed)
    n_test = round(test_ratio * len(pairs))
    test = pairs.iloc[np.sort(rng.permutation(len(pairs))[:n_test])]
    held = pd.MultiIndex.from_frame(test[["user_id", "item_id"]])
    mask = ~pd.MultiIndex.from_frame(rows[["user_id", "item_id"]]).isin(held)
    desc = f"random split of the distinct (user, item) pairs: {1 - test_ratio:.0%} train / {test_ratio:.0%} test"
    return _finish(
        "random", rows, mask, test, weights=weights, items=items, exclude_seen=True, description=desc,
        params={"test_ratio": test_ratio, "seed": seed},
    )  # fmt: skip


def stratified_split(
    rows: pd.DataFrame,
    *,
    weights: InteractionWeights,
    items: pd.DataFrame | None = None,
    ratio: float = 0.75,
    seed: int = 42,
    min_pairs: int = 1,
) -> Split:
    """Per user, ``round(ratio * n)`` random pairs of their ``n`` to training, the rest to test.

    Users with fewer than ``min_pairs`` pairs are dropped (Microsoft Recommenders'
    ``min_rating=1`` keeps everyone).
    """
    if not 0 < ratio < 1:
        raise RecommendError(f"ratio must be between 0 and 1, got {ratio}")
    pairs = _pairs(rows)
    rng = np.random.default_rng(seed)
    pairs = pairs.assign(_r=rng.random(len(pairs)))
    pairs = pairs.sort_values(["user_id", "_r"], kind="stable").reset_index(drop=True)
    n = pairs.groupby("user_id", sort=False)["item_id"].transform("size").to_numpy()
    order = pairs.groupby("user_id", sort=False).cumcount().to_numpy()
    n_train = np.round(ratio * n)  # numpy rounds half to even, like Python's round()
    keep = n >= min_pairs
    test = pairs[keep & (order >= n_train)]
    train_pairs = pairs[keep & (order < n_train)]
    mask = pd.MultiIndex.from_frame(rows[["user_id", "item_id"]]).isin(
        pd.MultiIndex.from_frame(train_pairs[["user_id", "item_id"]])
    )
    desc = (
        f"stratified random split per user (python_stratified_split): round({ratio:g} * n) of each user's n "
        f"(user, item) pairs to train, the rest to test; seed {seed}"
    )
    return _finish(
        "stratified", rows, mask, test, weights=weights, items=items, exclude_seen=True, description=desc,
        params={"ratio": ratio, "seed": seed, "min_pairs": min_pairs},
    )  # fmt: skip


def temporal_split(
    rows: pd.DataFrame,
    *,
    weights: InteractionWeights,
    items: pd.DataFrame | None = None,
    test_ratio: float = 0.2,
    test_days: float | None = None,
    test_events: Sequence[str] | None = None,
    seed: int = 0,
) -> Split:
    """Everything before one global cutoff trains; what users touch after it (and not before) is the truth.

    ``test_events`` restricts which event types count as relevant (default: every weighted type).
    """
    if "ts" not in rows.columns:
        raise RecommendError("a temporal split needs a ts column in the log")
    ts = rows["ts"]
    if test_days is not None:
        if not test_days > 0:
            raise RecommendError(f"test_days must be positive, got {test_days}")
        cutoff = ts.max() - pd.Timedelta(days=test_days)
    else:
        if not 0 < test_ratio < 1:
            raise RecommendError(f"test_ratio must be between 0 and 1, got {test_ratio}")
        cutoff = ts.quantile(1 - test_ratio, interpolation="higher")
    mask = (ts < cutoff).to_numpy()
    after = rows[~mask]
    if test_events is not None:
        after = after[after["event_type"].isin(list(test_events))] if "event_type" in after.columns else after
    seen = pd.MultiIndex.from_frame(rows.loc[mask, ["user_id", "item_id"]])
    test = after[~pd.MultiIndex.from_frame(after[["user_id", "item_id"]]).isin(seen)]
    desc = (
        f"temporal split at {pd.Timestamp(cutoff).isoformat()}: events before train; test = items each user "
        f"touched after it and never before{f' (event types {sorted(test_events)})' if test_events else ''}"
    )
    return _finish(
        "temporal", rows, mask, test, weights=weights, items=items, exclude_seen=True, description=desc,
        params={"test_ratio": test_ratio, "test_days": test_days, "seed": seed,
                "test_events": list(test_events) if test_events else None, "cutoff": str(cutoff)},
    )  # fmt: skip


def leave_last_split(
    rows: pd.DataFrame,
    *,
    weights: InteractionWeights,
    items: pd.DataFrame | None = None,
    seed: int = 0,
) -> Split:
    """Per user with two or more distinct items, hold out the item first touched last (ties: larger item id)."""
    if "ts" not in rows.columns:
        raise RecommendError("a leave-last-out split needs a ts column in the log")
    pairs = _pairs(rows).sort_values(["user_id", "ts", "item_id"], kind="stable")
    n = pairs.groupby("user_id", sort=False)["item_id"].transform("size")
    last = pairs[n >= 2].groupby("user_id", sort=False).tail(1)
    held = pd.MultiIndex.from_frame(last[["user_id", "item_id"]])
    mask = ~pd.MultiIndex.from_frame(rows[["user_id", "item_id"]]).isin(held)
    desc = "leave-last-out: per user with at least two items, the item first touched last is the test"
    return _finish(
        "leave-last", rows, mask, last, weights=weights, items=items, exclude_seen=True, description=desc,
        params={"seed": seed},
    )  # fmt: skip


def _basket_key(rows: pd.DataFrame) -> str:
    for col in ("order_id", "session_id"):
        if col in rows.columns and rows[col].notna().any():
            return col
    raise RecommendError("a next-basket split needs order_id or session_id to group purchases into baskets")


def next_basket_split(
    rows: pd.DataFrame,
    *,
    weights: InteractionWeights,
    items: pd.DataFrame | None = None,
    basket: str = "all",
    basket_events: Sequence[str] | None = ("purchase",),
    seed: int = 0,
) -> Split:
    """Per user with two or more baskets, the last basket is the test; earlier baskets train.

    ``basket_events`` are the event types that form baskets (``None``: every row). Rows of
    other event types before the test basket still train.
    """
    if basket not in BASKET_VARIANTS:
        raise RecommendError(f"basket must be one of {BASKET_VARIANTS}, got {basket!r}")
    if "ts" not in rows.columns:
        raise RecommendError("a next-basket split needs a ts column in the log")
    key = _basket_key(rows)
    in_basket = rows[key].notna()
    if basket_events is not None and "event_type" in rows.columns:
        in_basket &= rows["event_type"].isin(list(basket_events))
    bid = rows["user_id"].astype(str) + "\x1f" + rows[key].astype(str)
    b = rows[in_basket].assign(_bid=bid[in_basket])
    ends = b.groupby("_bid", sort=False)[["user_id", "ts"]].agg({"user_id": "first", "ts": "min"}).reset_index()
    ends = ends.sort_values(["user_id", "ts", "_bid"], kind="stable")
    counts = ends.groupby("user_id", sort=False)["_bid"].transform("size")
    last = ends[counts >= 2].groupby("user_id", sort=False).tail(1)
    start = rows["user_id"].map(last.set_index("user_id")["ts"])
    is_test = (in_basket & bid.isin(set(last["_bid"]))).to_numpy()
    mask = ~is_test & (start.isna() | (rows["ts"] <= start)).to_numpy()
    test = rows[is_test][["user_id", "item_id"]].drop_duplicates()
    bought = pd.MultiIndex.from_frame(rows.loc[mask & in_basket.to_numpy(), ["user_id", "item_id"]])
    before = pd.MultiIndex.from_frame(test[["user_id", "item_id"]]).isin(bought)
    if basket == "reorders":
        test = test[before]
    elif basket == "new":
        test = test[~before]
    desc = (
        f"next basket: per user with two or more baskets ({key}), the last basket is the test; truth = "
        + {"all": "all its items", "reorders": "its items bought before", "new": "its items never bought before"}[
            basket
        ]
    )
    return _finish(
        "next-basket", rows, mask, test, weights=weights, items=items, exclude_seen=basket == "new",
        description=desc, params={"basket": basket, "seed": seed,
                                  "basket_events": list(basket_events) if basket_events else None},
    )  # fmt: skip


SPLITTERS: dict[str, Callable[..., Split]] = {
    "random": random_split,
    "stratified": stratified_split,
    "temporal": temporal_split,
    "leave-last": leave_last_split,
    "next-basket": next_basket_split,
}


def make_split(
    kind: str,
    log: pd.DataFrame,
    *,
    weights: InteractionWeights | None = None,
    items: pd.DataFrame | None = None,
    **params: Any,
) -> Split:
    """Weigh ``log`` and split it with the splitter named ``kind`` (see :data:`SPLIT_KINDS`).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"user_id": list("aaabbb"), "item_id": list("xyzxyz")})
    >>> s = make_split("stratified", log, ratio=0.5, seed=1)
    >>> s.train.nnz + len(s.test)
    6
    """
    if kind not in SPLITTERS:
        raise RecommendError(f"unknown split {kind!r}; choose one of {', '.join(SPLIT_KINDS)}")
    w = weights or InteractionWeights()
    rows = log if "weight" in log.columns else weigh(log, w)
    return SPLITTERS[kind](rows, weights=w, items=items, **params)


def split_again(train: Interactions, kind: str, params: Mapping[str, Any], weights: InteractionWeights) -> Split:
    """Carve a validation split out of a training set, the same way the test was split.

    Only ``train.log`` (the training rows) is used: the test part cannot leak in.
    """
    if train.log is None or "weight" not in train.log.columns:
        raise RecommendError("the training interactions carry no weighted log to split again; build them with a split")
    known = {k: v for k, v in params.items() if k not in ("cutoff",)}
    return SPLITTERS[kind](train.log, weights=weights, items=train.items, **known)
