"""A planted corpus for the topic tests: three themes (delivery, quality, service), in Chinese and English."""

from __future__ import annotations

import random

THEMES_ZH: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "delivery": (
        ("物流", "快递", "发货", "配送", "快递员"),
        ("速度很快", "太慢了", "第二天就到了", "等了一个星期", "包裹完好", "送货上门"),
    ),
    "quality": (
        ("质量", "做工", "面料", "材质", "手感"),
        ("非常好", "很一般", "有点粗糙", "很结实", "比想象的好", "洗了会掉色"),
    ),
    "service": (
        ("客服", "售后", "退款", "退换货", "店家"),
        ("态度很好", "回复很慢", "处理得很及时", "一直不理人", "很耐心", "推来推去"),
    ),
}
THEMES_EN: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "delivery": (
        ("shipping", "delivery", "the courier", "the parcel", "dispatch"),
        ("was fast", "took two weeks", "arrived the next day", "was late", "came well packed", "was tracked"),
    ),
    "quality": (
        ("the fabric", "the material", "the stitching", "build quality", "the finish"),
        ("is excellent", "feels cheap", "is sturdy", "is rough", "is better than expected", "faded after washing"),
    ),
    "service": (
        ("customer service", "the seller", "the refund", "support", "the return process"),
        ("was helpful", "never replied", "was quick to respond", "was rude", "was patient", "took forever"),
    ),
}


def planted_corpus(per_theme: int = 30, seed: int = 7) -> tuple[list[str], list[str], list[str]]:
    """``(texts, themes, languages)``: ``per_theme`` distinct texts per theme and language."""
    rng = random.Random(seed)
    texts: list[str] = []
    themes: list[str] = []
    langs: list[str] = []
    for lang, bank in (("zh", THEMES_ZH), ("en", THEMES_EN)):
        for theme, (subjects, comments) in bank.items():
            made: set[str] = set()
            while len(made) < per_theme:
                a, b = rng.sample(subjects, 2)
                c, d = rng.sample(comments, 2)
                text = f"{a}{c}，{b}{d}" if lang == "zh" else f"{a.capitalize()} {c}, and {b} {d}."
                if text not in made:
                    made.add(text)
                    texts.append(text)
                    themes.append(theme)
                    langs.append(lang)
    return texts, themes, langs
