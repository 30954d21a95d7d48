"""Row validation as SQL, generated from the data contract.

Every input row arrives as text. This module turns a relation of text columns
into typed contract columns plus a ``_reason_code`` and a ``_reason`` that a
person understands (``ts '2023-13-45' is not a date/time``); rows with a
reason are quarantined, the rest are loaded. All checks run inside DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from growthkit.schema import (
    CURRENCY_ALIASES,
    EDGE_KINDS,
    EVENT_TYPE_ALIASES,
    Column,
    ColumnType,
    Table,
)

TS_FALLBACK_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y%m%d %H%M%S",
    "%Y%m%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)
"""Unambiguous formats tried when ISO 8601 parsing fails (no day/month guessing)."""

FUTURE_TOLERANCE = "INTERVAL 1 DAY"


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _quoted_value(raw: str) -> str:
    """SQL for ``'<raw value>'`` in a message, cut to 80 characters."""
    return f"'''' || left({raw}, 80) || ''''"


def _typed_expr(col: Column, raw: str, tz: str) -> str:
    t = col.type
    if t is ColumnType.STRING:
        return raw
    if t is ColumnType.TIMESTAMP:
        iso = f"try_cast({raw} AS TIMESTAMPTZ)"
        fmts = "[" + ", ".join(lit(f) for f in TS_FALLBACK_FORMATS) + "]"
        local = f"timezone({lit(tz)}, try_strptime({raw}, {fmts}))"
        epoch = (
            f"CASE WHEN regexp_full_match({raw}, '[0-9]{{13}}') "
            f"THEN make_timestamptz(try_cast({raw} AS BIGINT) * 1000) "
            f"WHEN regexp_full_match({raw}, '[0-9]{{9,10}}') "
            f"THEN make_timestamptz(try_cast({raw} AS BIGINT) * 1000000) "
            "END"
        )
        slow = f"timezone('UTC', coalesce({epoch}, {iso}, {local}))"
        # Fast path: text with no zone suffix that casts as a plain timestamp (the common case).
        # A TIMESTAMP cast ignores offsets, so text with one (after the seconds) takes the slow path.
        naive = f"try_cast({raw} AS TIMESTAMP)"
        if tz != "UTC":
            naive = f"timezone('UTC', timezone({lit(tz)}, {naive}))"
        has_zone = f"(length({raw}) > 19 AND regexp_matches(substr({raw}, 11), '[zZ+]|[0-9]-[0-9]'))"
        plain = f"regexp_full_match({raw}, '[0-9]{{8,13}}')"
        return f"CASE WHEN {has_zone} OR {plain} THEN {slow} ELSE coalesce({naive}, {slow}) END"
    if t is ColumnType.FLOAT:
        return f"try_cast({raw} AS DOUBLE)"
    if t is ColumnType.INTEGER:
        return f"try_cast(try_cast({raw} AS DOUBLE) AS BIGINT)"
    if t is ColumnType.BOOLEAN:
        return (
            f"CASE WHEN lower({raw}) IN ('true','t','yes','y','1','是') THEN TRUE "
            f"WHEN lower({raw}) IN ('false','f','no','n','0','否') THEN FALSE END"
        )
    if t is ColumnType.JSON:
        return f"CASE WHEN json_valid({raw}) THEN CASE WHEN json_type({raw}) = 'OBJECT' THEN {raw}::JSON END END"
    raise AssertionError(t)


def _normalise(col: Column, raw: str, table: Table) -> str:
    """Clean the text before typing: trim, empty to NULL, vocabularies."""
    base = f"nullif(trim({raw}), '')"
    if col.name == "event_type" and table.name == "events":
        low = f"lower({base})"
        cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in EVENT_TYPE_ALIASES.items())
        return f"(CASE {low} {cases} ELSE {low} END)"
    if col.name == "currency":
        up = f"upper({base})"
        cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in CURRENCY_ALIASES.items())
        return f"(CASE {up} {cases} ELSE {up} END)"
    if col.name in ("kind", "language", "channel"):
        return f"lower({base})"
    return base


@dataclass(frozen=True)
class Check:
    """One validation rule: a failing condition, a reason code and a message (SQL)."""

    code: str
    condition: str
    message: str


def column_checks(col: Column, raw: str, typed: str) -> list[Check]:
    n = col.name
    checks: list[Check] = []
    if col.required:
        checks.append(Check(f"{n}_empty", f"{raw} IS NULL", lit(f"{n} is empty")))
    bad_parse = f"{raw} IS NOT NULL AND {typed} IS NULL"
    q = _quoted_value(raw)
    if col.type is ColumnType.TIMESTAMP:
        checks.append(
            Check(
                f"{n}_not_a_date",
                bad_parse,
                f"{lit(n + ' ')} || {q} || {lit(' is not a date/time (use ISO 8601, e.g. 2024-03-01 12:30:00)')}",
            )
        )
        checks.append(
            Check(
                f"{n}_in_future",
                f"{typed} > timezone('UTC', now()) + {FUTURE_TOLERANCE}",
                f"{lit(n + ' ')} || {q} || {lit(' is in the future')}",
            )
        )
    elif col.type in (ColumnType.FLOAT, ColumnType.INTEGER):
        checks.append(Check(f"{n}_not_a_number", bad_parse, f"{lit(n + ' ')} || {q} || {lit(' is not a number')}"))
        checks.append(
            Check(
                f"{n}_not_finite",
                f"{typed} IS NOT NULL AND NOT isfinite({typed})",
                f"{lit(n + ' ')} || {q} || {lit(' is not a finite number')}",
            )
        )
        if col.non_negative:
            checks.append(Check(f"{n}_negative", f"{typed} < 0", f"{lit(n + ' ')} || {raw} || {lit(' is negative')}"))
    elif col.type is ColumnType.BOOLEAN:
        checks.append(Check(f"{n}_not_a_boolean", bad_parse, f"{lit(n + ' ')} || {q} || {lit(' is not true/false')}"))
    elif col.type is ColumnType.JSON:
        checks.append(Check(f"{n}_not_json", bad_parse, f"{lit(n + ' is not a JSON object: ')} || left({raw}, 80)"))
    return checks


def _table_checks(table: Table, raw: Callable[[str], str], typed: Callable[[str], str]) -> list[Check]:
    checks: list[Check] = []
    names = table.column_names
    if "currency" in names:
        checks.append(
            Check(
                "currency_invalid",
                f"{raw('currency')} IS NOT NULL AND NOT regexp_full_match({raw('currency')}, '[A-Z]{{3}}')",
                f"'currency ''' || {raw('currency')} || ''' is not an ISO 4217 code such as CNY or USD'",
            )
        )
    if table.name == "events":
        checks.append(
            Check(
                "amount_negative_purchase",
                f"{typed('event_type')} = 'purchase' AND {typed('amount')} < 0",
                f"'amount ' || {raw('amount')} || ' is negative for a purchase (record refunds as refund events)'",
            )
        )
    if table.name == "reviews":
        checks.append(
            Check(
                "rating_out_of_range",
                f"{typed('rating')} IS NOT NULL AND ({typed('rating')} <= 0 OR {typed('rating')} > 5)",
                f"'rating ' || {raw('rating')} || ' is outside 1-5'",
            )
        )
        checks.append(
            Check(
                "review_empty",
                f"{raw('rating')} IS NULL AND {raw('text')} IS NULL",
                "'review has neither a rating nor a text'",
            )
        )
    if table.name == "edges":
        kinds = ", ".join(EDGE_KINDS)
        checks.append(
            Check(
                "kind_unknown",
                f"{raw('kind')} IS NOT NULL AND {raw('kind')} NOT IN ({', '.join(lit(k) for k in EDGE_KINDS)})",
                f"'kind ''' || {raw('kind')} || ''' is not one of {kinds}'",
            )
        )
        checks.append(
            Check(
                "self_loop",
                f"{raw('src_user')} = {raw('dst_user')}",
                "'src_user equals dst_user (an edge from a user to themselves)'",
            )
        )
    return checks


def validation_sql(table: Table, source_sql: str, *, timezone: str) -> str:
    """SQL that types and checks the rows of ``source_sql``.

    ``source_sql`` yields every contract column as text (or NULL) plus
    ``_idx`` and ``_raw``. The result has the typed contract columns, ``_idx``,
    ``_raw``, ``_hash`` (md5 of the row without its key), ``_key``,
    ``_reason_code`` and ``_reason`` (NULL when the row is valid).
    """

    def raw(n: str) -> str:
        return f"r_{n}"

    def typed(n: str) -> str:
        return f"t_{n}"

    norm = ", ".join(f"{_normalise(c, ident(c.name), table)} AS {raw(c.name)}" for c in table.columns)
    typed_cols = ", ".join(f"{_typed_expr(c, raw(c.name), timezone)} AS {typed(c.name)}" for c in table.columns)
    checks: list[Check] = []
    for c in table.columns:
        checks += column_checks(c, raw(c.name), typed(c.name))
    checks += _table_checks(table, raw, typed)
    flags = ", ".join(f"coalesce({ch.condition}, false) AS _b{i}" for i, ch in enumerate(checks))
    bad = " OR ".join(f"_b{i}" for i in range(len(checks))) or "false"
    code = "CASE " + " ".join(f"WHEN _b{i} THEN {lit(ch.code)}" for i, ch in enumerate(checks)) + " END"
    reason = (
        "nullif(concat_ws('; ', "
        + ", ".join(f"CASE WHEN _b{i} THEN {ch.message} END" for i, ch in enumerate(checks))
        + "), '')"
    )
    content = [c for c in table.columns if c.name != table.key]
    hash_parts = ", ".join(f"coalesce(CAST({typed(c.name)} AS VARCHAR), chr(0))" for c in content)
    row_hash = f"md5(concat_ws(chr(31), {hash_parts}))"
    key_expr = f"coalesce({typed(table.key)}, _hash)" if table.key_from_content else typed(table.key)
    out_cols = ", ".join(f"{typed(c.name)} AS {ident(c.name)}" for c in table.columns if c.name != table.key)
    # each check is evaluated once (as a flag); codes and messages only for rows that fail one
    return f"""
SELECT {key_expr} AS {ident(table.key)}, {out_cols}, _idx, _raw, _hash,
       CASE WHEN _bad THEN {code} END AS _reason_code,
       CASE WHEN _bad THEN {reason} END AS _reason
FROM (
  SELECT *, {bad} AS _bad, {row_hash} AS _hash
  FROM (
    SELECT *, {flags}
    FROM (SELECT *, {typed_cols} FROM (SELECT {norm}, _idx, _raw FROM ({source_sql}) src) n) t
  ) f
) h
"""
