"""The shop's policy documents: Markdown files, cut into sections by heading.

A shop describes its policies (returns, shipping, payment, coupons, privacy, ...) in a
folder of Markdown files. Each file is one document; its first ``#`` heading is the
document's title and every ``##`` (or deeper) heading starts a section, the unit that is
retrieved and cited as ``file#section``. A file named ``name.zh.md`` or ``name.en.md``
is in that language; otherwise the language is detected from its text.

The simulated shop's default documents ship with the package
(``growthkit/assistant/policies/``, in Chinese and English): :func:`default_policy_dir`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from growthkit.assistant.tokens import Language, detect_language
from growthkit.errors import ConfigError

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SLUG_DROP = re.compile(r"[^\w\u3400-\u9fff]+")


@dataclass(frozen=True)
class Section:
    """One section of a policy document: the unit of retrieval and citation.

    ``ref`` is ``file#slug`` (what a citation names); ``label`` is ``Document title › Section``.
    """

    doc: str
    doc_title: str
    heading: str
    text: str
    lang: Language
    slug: str

    @property
    def ref(self) -> str:
        return f"{self.doc}#{self.slug}"

    @property
    def label(self) -> str:
        return f"{self.doc_title} › {self.heading}" if self.heading != self.doc_title else self.doc_title


@dataclass(frozen=True)
class PolicyDoc:
    """One Markdown document of the shop, cut into sections."""

    name: str
    title: str
    lang: Language
    sections: tuple[Section, ...]


def slugify(heading: str) -> str:
    """A citation anchor from a heading (letters, digits and CJK characters joined by ``-``).

    Examples
    --------
    >>> slugify("How long does a refund take?"), slugify("退款多久到账？")
    ('how-long-does-a-refund-take', '退款多久到账')
    """
    return _SLUG_DROP.sub("-", heading.lower()).strip("-_") or "section"


def _lang_of(name: str, text: str) -> Language:
    parts = name.lower().split(".")
    if len(parts) >= 3 and parts[-2] in ("zh", "en"):
        return "zh" if parts[-2] == "zh" else "en"
    return detect_language(text)


def parse_markdown(name: str, text: str) -> PolicyDoc:
    """Cut one Markdown document into sections by heading.

    The first level-one heading is the document's title (else the file name); text before
    the first other heading belongs to a section named after the title. Empty sections are
    dropped; fenced code blocks are kept as text.

    Examples
    --------
    >>> doc = parse_markdown("returns.en.md", "# Returns\\n\\nIntro.\\n\\n## Window\\n\\n7 days.\\n")
    >>> [(s.heading, s.text, s.ref) for s in doc.sections]
    [('Returns', 'Intro.', 'returns.en.md#returns'), ('Window', '7 days.', 'returns.en.md#window')]
    """
    lang = _lang_of(name, text)
    lines_in = text.splitlines()
    headings: list[tuple[int, str] | None] = []
    in_fence = False
    for raw in lines_in:
        if raw.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            headings.append(None)
            continue
        m = None if in_fence else _HEADING_RE.match(raw)
        headings.append((len(m.group(1)), m.group(2).strip()) if m else None)
    title_at = next((i for i, h in enumerate(headings) if h is not None and h[0] == 1), None)
    title = Path(name).name.split(".")[0].replace("_", " ").replace("-", " ").strip() or name
    first = headings[title_at] if title_at is not None else None
    if first is not None:
        title = first[1]
    blocks: list[tuple[str, list[str]]] = [(title, [])]
    for i, (raw, h) in enumerate(zip(lines_in, headings, strict=True)):
        if i == title_at:
            continue  # the title's text joins the text before it, in the first block
        if h is not None:
            blocks.append((h[1], []))
        else:
            blocks[-1][1].append(raw)
    sections: list[Section] = []
    seen: dict[str, int] = {}
    for head, body in blocks:
        body_text = "\n".join(body).strip()
        if not body_text:
            continue
        slug = slugify(head)
        seen[slug] = seen.get(slug, 0) + 1
        if seen[slug] > 1:
            slug = f"{slug}-{seen[slug]}"
        sections.append(Section(name, title, head, body_text, lang, slug))
    return PolicyDoc(name, title, lang, tuple(sections))


def default_policy_dir() -> Path:
    """The folder of the simulated shop's policy documents shipped with growthkit."""
    return Path(str(resources.files("growthkit.assistant") / "policies"))


def load_policy_docs(folder: Path | str | None = None) -> tuple[PolicyDoc, ...]:
    """Every ``*.md`` / ``*.markdown`` file in ``folder`` (and its subfolders), parsed; the packaged
    defaults when ``folder`` is None.

    Raises
    ------
    ConfigError
        The folder does not exist, or holds no Markdown file.

    Examples
    --------
    >>> docs = load_policy_docs()
    >>> sorted({d.lang for d in docs}), len(docs) >= 10
    (['en', 'zh'], True)
    """
    base = Path(folder) if folder is not None else default_policy_dir()
    if not base.is_dir():
        raise ConfigError(f"policy folder {base} does not exist; pass a folder of Markdown files (--docs DIR)")
    files = sorted(p for p in base.rglob("*") if p.suffix.lower() in (".md", ".markdown") and p.is_file())
    if not files:
        raise ConfigError(f"no Markdown files (*.md) in {base}; the assistant needs the shop's policy documents")
    docs: list[PolicyDoc] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the policy document {path}: {exc}; save it as UTF-8") from exc
        docs.append(parse_markdown(path.relative_to(base).as_posix(), text))
    return tuple(docs)
