"""CDNOW purchase histories (Fader & Hardie), as shipped with BTYD tools and ``lifetimes``.

Two whitespace-separated layouts:

* ``CDNOW_master.txt``: ``customer_id date number_of_cds dollar_value`` — no
  header in the original; the ``lifetimes`` copy starts with the header line
  `` customer_id  date number_of_cds  dollar_value``. Both are read.
* ``CDNOW_sample.txt``: ``master_id sample_id date cds dollar_value`` (the
  1/10 sample the BG/NBD and Pareto/NBD papers were fit on); the customer is
  ``master_id``, the master file's id, so both files describe the same people.

Dates are ``YYYYMMDD``; each purchase gets 00:00 UTC of its day. The file is
staged one line per record and split on runs of blanks in DuckDB, so line
numbers in quarantine are the file's own.

Mapping: events (``purchase``, ``quantity`` = CDs, ``amount`` = dollars,
``currency`` USD) and users (the distinct customers; ``attributes.sample_id``
for the sample). A customer can buy twice on one day with the same amounts,
so identical lines are separate purchases: ``event_id`` is
``cdnow:<customer>:<date>:<n>``, n counting the lines of that customer and
day. The sample's ids equal the master's, so loading both adds nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from growthkit.errors import SchemaError
from growthkit.ingest.adapters._common import LINES, first_line, json_object_sql, select_sql, stage, ts_sql
from growthkit.ingest.mapping import MappedTable
from growthkit.schema import EVENTS, USERS

if TYPE_CHECKING:
    from growthkit.ingest.api import AdapterContext

HEADER_WORDS = ("customer_id", "master_id", "date")


def _fields(line: str) -> list[str]:
    return line.split()


def _layout(path: Path) -> str:
    """``master`` (4 fields) or ``sample`` (5 fields), from the first record after an optional header."""
    first = _fields(first_line(path))
    if first and first[0].lower() in HEADER_WORDS:
        return "sample" if "sample_id" in (f.lower() for f in first) else "master"
    if len(first) == 4:
        return "master"
    if len(first) == 5:
        return "sample"
    raise SchemaError(
        f"{path}: not a CDNOW file: expected 4 blank-separated fields (customer_id date cds dollars, "
        f"CDNOW_master.txt) or 5 (master_id sample_id date cds dollars, CDNOW_sample.txt); "
        f"the first line is {' '.join(first)[:80]!r}"
    )


class CdnowAdapter:
    """Adapter for ``CDNOW_master.txt`` and ``CDNOW_sample.txt``."""

    name: str = "cdnow"
    title: str = "CDNOW customer purchase histories"
    tables: tuple[str, ...] = ("events", "users")

    def map(self, ctx: AdapterContext, paths: Sequence[Path]) -> list[MappedTable]:
        """Map each CDNOW file to purchase events and the customers in it.

        Raises
        ------
        SchemaError
            A file has neither CDNOW layout.
        """
        out: list[MappedTable] = []
        for p in paths:
            layout = _layout(p)
            s = stage(ctx, p, LINES)
            f = "regexp_split_to_array(trim(line), '\\s+')"
            header = "lower(f[1]) IN (" + ", ".join(f"'{w}'" for w in HEADER_WORDS) + ")"
            # 1-based positions of the fields in each layout
            pos = {"master": (1, None, 2, 3, 4), "sample": (1, 2, 3, 4, 5)}[layout]
            cust, sample, date, cds, dollars = (f"f[{i}]" if i else "NULL" for i in pos)
            nfields = 4 if layout == "master" else 5
            # a record with the wrong number of fields keeps its text in the date so the reason shows it
            ok = f"len(f) = {nfields}"
            split = (
                f"(SELECT *, rowid AS _rid, {f} AS f FROM {s.table} "
                f"WHERE nullif(trim(line), '') IS NOT NULL AND NOT (rowid = 0 AND {header})) x"
            )
            # repeated identical lines are separate purchases: number them within customer and day
            nth = f"row_number() OVER (PARTITION BY {cust}, {date} ORDER BY _rid)"
            events = {
                "event_id": f"CASE WHEN {ok} THEN 'cdnow:' || {cust} || ':' || {date} || ':' || {nth} END",
                "user_id": f"CASE WHEN {ok} THEN {cust} END",
                "ts": f"CASE WHEN {ok} THEN {ts_sql(date, '%Y%m%d', utc=True)} ELSE trim(line) END",
                "event_type": "'purchase'",
                "quantity": f"CASE WHEN {ok} THEN {cds} END",
                "amount": f"CASE WHEN {ok} THEN {dollars} END",
                "currency": "'USD'",
            }
            out.append(MappedTable(EVENTS, select_sql(EVENTS, events, split, idx="_rid"), s, count_rejects=True))
            users = f"""(SELECT {cust} AS uid, min(_rid) AS first_idx, any_value({sample}) AS sid
                FROM {split} WHERE {ok} GROUP BY 1) u"""
            out.append(
                MappedTable(
                    USERS,
                    select_sql(
                        USERS,
                        {"user_id": "uid", "attributes": json_object_sql({"sample_id": "sid"})},
                        users,
                        idx="first_idx",
                    ),
                    s,
                    count_rejects=False,
                )
            )
        return out
