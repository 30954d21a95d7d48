"""Engine-portable Ibis expression helpers shared by the layers above the store.

The store is the engine seam: what differs between engines (DuckDB, PySpark) is
settled here once, so analytics and features build the same expressions.
"""

from __future__ import annotations

import re
from typing import Any

import ibis
import ibis.expr.types as ir

_JSON_KEY = re.compile(r"\w+")


def _json_text(doc: str, path: str) -> str:
    """Signature of the engines' ``$.key``-as-text functions (the engine runs them, never Python)."""
    raise NotImplementedError


_JSON_TEXT: dict[str, Any] = {
    "duckdb": ibis.udf.scalar.builtin(_json_text, name="json_extract_string"),
    "pyspark": ibis.udf.scalar.builtin(_json_text, name="get_json_object"),
}
"""Engine functions that read ``$.key`` of a JSON document as text, with the same results."""


def json_property(doc: ir.Value, key: str, *, error: type[Exception] = ValueError) -> ir.StringValue:
    """Top-level ``key`` of a JSON object column (``events.properties``) as text, on any engine.

    Strings come unquoted, numbers and booleans as JSON text (``10``, ``10.5``,
    ``true``), nested objects and arrays as compact JSON; a missing key, a JSON
    ``null`` or a NULL document give NULL. DuckDB (``json_extract_string``) and
    Spark (``get_json_object``) agree on all of these; other engines fall back to
    Ibis's JSON access, which reads string values only. ``key`` must be a plain
    name (letters, digits, ``_``); otherwise ``error`` is raised.
    """
    if not _JSON_KEY.fullmatch(key):
        raise error(f"JSON property names are letters, digits and '_'; got {key!r}")
    fn = _JSON_TEXT.get(getattr(ibis.get_backend(doc), "name", ""))
    if fn is None:
        out: ir.StringValue = doc.cast("json")[key].str  # type: ignore[attr-defined]
        return out
    text: ir.StringValue = fn(doc.cast("string"), f"$.{key}")
    return text
