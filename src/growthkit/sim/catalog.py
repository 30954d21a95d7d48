"""The simulated catalog: bilingual items, log-normal prices, heavy-tailed popularity.

Model assumptions
-----------------
* Items belong to one of 14 top categories (``text.CATEGORIES``) and one of their
  subcategories; items are stored sorted by top category so each category is a
  contiguous id range.
* Price is log-normal around the subcategory's median (sigma 0.45), in CNY,
  rounded to shop-style prices (``x9.9``).
* Popularity is log-normal (sigma 1.4), so a few items get most of the views.
* Quality is Beta(5, 2); it drives ratings and refunds but is never observed
  directly (it is in the ground truth).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from growthkit.sim import text

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

N_TOP = len(text.CATEGORIES)
TOP_NAMES: tuple[str, ...] = tuple(c[1] for c in text.CATEGORIES)
TOP_WEIGHTS = np.array([1.3, 1.0, 1.2, 1.5, 0.9, 1.3, 0.7, 0.8, 0.9, 0.7, 0.6, 0.6, 0.6, 0.4])
"""Relative share of the catalog and of browsing per top category."""


@dataclass(frozen=True)
class Catalog:
    """Numeric view of the catalog used by the behaviour model plus its Arrow tables."""

    top: npt.NDArray[np.int16]
    price: F64
    rel_log_price: F64
    quality: F64
    cum_pop: F64
    cat_start: I64
    cat_end: I64
    cat_weight: F64
    item_ids: pa.Array
    queries: pa.Array
    query_start: I64
    query_count: I64
    table: pa.Table
    truth: pa.Table

    @property
    def n(self) -> int:
        return int(self.price.shape[0])

    def sample_in_category(self, cats: I64, u: F64) -> I64:
        """Popularity-weighted item index inside each top category (``u`` uniform in [0, 1))."""
        lo = np.where(self.cat_start > 0, self.cum_pop[np.maximum(self.cat_start - 1, 0)], 0.0)[cats]
        hi = self.cum_pop[self.cat_end[cats] - 1]
        idx = np.searchsorted(self.cum_pop, lo + u * (hi - lo), side="right")
        return np.clip(idx, self.cat_start[cats], self.cat_end[cats] - 1).astype(np.int64)


def _shop_price(raw: F64) -> F64:
    rounded = np.where(raw >= 10.0, np.round(raw) - 0.1, np.round(raw, 1))
    return np.maximum(rounded, 1.9)


def id_width(n: int, minimum: int) -> int:
    """Zero-padding width for ids of ``n`` entities."""
    return max(minimum, len(str(max(n - 1, 0))))


def build_catalog(n_items: int, rng: np.random.Generator) -> Catalog:
    """Draw the catalog.

    Parameters
    ----------
    n_items : int
        Number of items.
    rng : numpy.random.Generator
        The catalog's own random stream.
    """
    subs = [(t, s) for t, cat in enumerate(text.CATEGORIES) for s in range(len(cat[2]))]
    sub_w = np.array([TOP_WEIGHTS[t] / len(text.CATEGORIES[t][2]) for t, _ in subs])
    sub_of = rng.choice(len(subs), size=n_items, p=sub_w / sub_w.sum())
    first = [next(i for i, (t, _) in enumerate(subs) if t == top) for top in range(N_TOP)]
    sub_of[: min(n_items, N_TOP)] = first[: min(n_items, N_TOP)]
    sub_top = np.array([t for t, _ in subs])
    order = np.lexsort((sub_of, sub_top[sub_of]))
    sub_of = sub_of[order]
    top = sub_top[sub_of].astype(np.int16)

    medians = np.array([text.CATEGORIES[t][2][s][1] for t, s in subs])
    raw = medians[sub_of] * np.exp(rng.normal(0.0, 0.45, n_items))
    price = _shop_price(raw)
    rel_log_price = np.log(price) - np.log(medians[sub_of])
    quality = rng.beta(5.0, 2.0, n_items)
    pop = rng.lognormal(0.0, 1.4, n_items)
    pop = pop / pop.sum()
    cum_pop = np.cumsum(pop)
    cat_start = np.searchsorted(top, np.arange(N_TOP), side="left").astype(np.int64)
    cat_end = np.searchsorted(top, np.arange(N_TOP), side="right").astype(np.int64)
    cat_weight = np.array([pop[a:b].sum() for a, b in zip(cat_start, cat_end, strict=True)])

    noun_pick = rng.random(n_items)
    adj = rng.integers(0, len(text.ADJECTIVES), n_items)
    var = rng.integers(0, len(text.VARIANTS), n_items)
    brand = rng.integers(0, 4, n_items)
    feat = rng.integers(0, len(text.FEATURES), (n_items, 2))
    width = id_width(n_items, 6)
    ids, titles, descs, cats, brands, attrs = [], [], [], [], [], []
    for i in range(n_items):
        t, s = subs[int(sub_of[i])]
        top_zh, top_en, sublist = text.CATEGORIES[t]
        nouns = sublist[s][2]
        noun_zh, noun_en = nouns[int(noun_pick[i] * len(nouns))]
        adj_zh, adj_en = text.ADJECTIVES[int(adj[i])]
        var_zh, var_en = text.VARIANTS[int(var[i])]
        f1, f2 = text.FEATURES[int(feat[i, 0])], text.FEATURES[int(feat[i, 1])]
        ids.append(f"i{i:0{width}d}")
        titles.append(f"{adj_zh}{noun_zh} {var_zh} {adj_en} {noun_en} {var_en}")
        descs.append(
            f"{noun_zh}，{f1[0]}，{f2[0]}。{adj_en} {noun_en.lower()} ({var_en.lower()}): {f1[1]}, {f2[1]}."
        )
        cats.append(f"{top_en} > {sublist[s][0]}")
        brands.append(text.BRANDS[t][int(brand[i])])
        attrs.append(json.dumps({"category_zh": top_zh, "variant": var_en}, ensure_ascii=False))
    item_ids = pa.array(ids, pa.string())
    table = pa.table(
        {
            "item_id": item_ids,
            "title": pa.array(titles, pa.string()),
            "description": pa.array(descs, pa.string()),
            "category": pa.array(cats, pa.string()),
            "brand": pa.array(brands, pa.string()),
            "price": pa.array(price, pa.float64()),
            "currency": pa.array(["CNY"] * n_items, pa.string()),
            "attributes": pa.array(attrs, pa.string()),
        }
    )
    truth = pa.table(
        {
            "item_id": item_ids,
            "top_category": pa.array([TOP_NAMES[int(t)] for t in top], pa.string()),
            "popularity": pa.array(pop, pa.float64()),
            "quality": pa.array(quality, pa.float64()),
        }
    )
    queries, q_start, q_count = _query_bank()
    return Catalog(
        top=top,
        price=price,
        rel_log_price=rel_log_price,
        quality=quality,
        cum_pop=cum_pop,
        cat_start=cat_start,
        cat_end=cat_end,
        cat_weight=cat_weight,
        item_ids=item_ids,
        queries=queries,
        query_start=q_start,
        query_count=q_count,
        table=table,
        truth=truth,
    )


def _query_bank() -> tuple[pa.Array, I64, I64]:
    """Search queries per (top category, language); language 0 = zh, 1 = en."""
    out: list[str] = []
    start = np.zeros((N_TOP, 2), dtype=np.int64)
    count = np.zeros((N_TOP, 2), dtype=np.int64)
    for t, (_, _, sublist) in enumerate(text.CATEGORIES):
        nouns = [n for sub in sublist for n in sub[2]]
        for lang, templates in enumerate((text.QUERY_TEMPLATES_ZH, text.QUERY_TEMPLATES_EN)):
            start[t, lang] = len(out)
            for k, (zh, en) in enumerate(nouns):
                adj = text.ADJECTIVES[k % len(text.ADJECTIVES)]
                for tpl in templates:
                    if lang == 0:
                        out.append(tpl.format(noun=zh, adj=adj[0]))
                    else:
                        out.append(tpl.format(noun=en.lower(), adj=adj[1].lower()))
            count[t, lang] = len(out) - start[t, lang]
    return pa.array(out, pa.string()), start, count
