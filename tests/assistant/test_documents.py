"""Policy documents: Markdown cut into sections by heading; the packaged defaults in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from growthkit.assistant import default_policy_dir, load_policy_docs, parse_markdown
from growthkit.errors import ConfigError

MD = """Intro before any heading.

# Shipping

General words.

## Fees

Free over ¥99.

```
# not a heading inside a fence
```

### Remote areas

¥20 per order.

## Fees

Second section with the same heading.

## Empty

"""


def test_sections_follow_headings() -> None:
    doc = parse_markdown("ship.en.md", MD)
    heads = [(s.heading, s.slug) for s in doc.sections]
    # the first level-one heading is the title; text before and after it forms the title's section
    assert heads == [
        ("Shipping", "shipping"),
        ("Fees", "fees"),
        ("Remote areas", "remote-areas"),
        ("Fees", "fees-2"),
    ]
    assert doc.sections[0].text == "Intro before any heading.\n\n\nGeneral words."
    fees = doc.sections[1]
    assert "# not a heading inside a fence" in fees.text and "Free over ¥99." in fees.text
    assert fees.ref == "ship.en.md#fees" and fees.label == "Shipping › Fees" and fees.lang == "en"


def test_the_title_is_the_first_level_one_heading() -> None:
    doc = parse_markdown("faq.md", "# 常见问题\n\n## 退货\n\n七天内可以退货。\n")
    assert doc.title == "常见问题" and doc.lang == "zh"  # no language in the name: detected
    assert [(s.heading, s.ref, s.label) for s in doc.sections] == [("退货", "faq.md#退货", "常见问题 › 退货")]


def test_loading_a_folder(tmp_path: Path) -> None:
    (tmp_path / "a.en.md").write_text("# A\n\n## One\n\ntext\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.zh.md").write_text("# 乙\n\n## 一\n\n文字\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    docs = load_policy_docs(tmp_path)
    assert [(d.name, d.lang) for d in docs] == [("a.en.md", "en"), ("sub/b.zh.md", "zh")]
    assert docs[1].sections[0].ref == "sub/b.zh.md#一"


def test_loading_errors_say_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_policy_docs(tmp_path / "missing")
    with pytest.raises(ConfigError, match="no Markdown files"):
        load_policy_docs(tmp_path)
    (tmp_path / "bad.md").write_bytes("# 标题\n".encode("gbk"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_policy_docs(tmp_path)


def test_packaged_policies_cover_the_topics_in_both_languages() -> None:
    docs = {d.name: d for d in load_policy_docs()}
    assert default_policy_dir().is_dir()
    for topic in ("returns", "shipping", "payment", "coupons", "privacy"):
        en, zh = docs[f"{topic}.en.md"], docs[f"{topic}.zh.md"]
        assert en.lang == "en" and zh.lang == "zh"
        assert len(en.sections) == len(zh.sections) >= 5, topic
        # the two languages state the same facts: the same numbers, section by section
        for s_en, s_zh in zip(en.sections, zh.sections, strict=True):
            nums_en = sorted(re.findall(r"\d+(?::\d+)?", s_en.text.replace(",", "")))
            nums_zh = sorted(re.findall(r"\d+(?::\d+)?", s_zh.text.replace(",", "")))
            assert nums_en == nums_zh, (s_en.ref, s_zh.ref)


def test_packaged_policies_match_the_simulator() -> None:
    """Coupons in the simulator are worth 10/20/30/50 and valid for 7 days from the next day; the policy says so."""
    from growthkit.sim.behaviour import COUPON_VALUES
    from growthkit.sim.config import SimConfig

    coupons = {d.name: d for d in load_policy_docs()}["coupons.en.md"]
    text = " ".join(s.text for s in coupons.sections)
    assert all(f"¥{v}" in text for v in COUPON_VALUES)
    assert f"valid for {SimConfig().coupon_valid_days} days, starting the day after" in text
