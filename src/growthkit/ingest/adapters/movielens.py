"""MovieLens ratings (GroupLens), in the layouts they are distributed in.

Ratings (at least one file is needed):

* ``u.data`` (ml-100k): ``user item rating unix_ts``, tab-separated, no header;
* ``ratings.csv`` (ml-latest, ml-20m, ml-25m): ``userId,movieId,rating,timestamp``;
* ``ratings.dat`` (ml-1m, ml-10m): ``UserID::MovieID::Rating::Timestamp``;
* RecBole atomic files (``ml-100k.inter``): tab-separated with the header
  ``user_id:token item_id:token rating:float timestamp:float``.

Optional catalog and people: ``u.item`` (``id|title|release|video|url|19 genre
flags``), ``movies.csv``/``movies.dat`` (``id, title, genres a|b``),
``ml-100k.item`` (``item_id:token movie_title:token_seq release_year:token
class:token_seq``); ``u.user``, ``users.dat`` and ``ml-100k.user``.

Mapping
-------
* reviews: one per rating (``rating``; no text); ``review_id`` is derived
  from the content by the core.
* events: one ``review`` event per rating, ``properties.rating``.
* items: ``title``; genres as the list ``attributes.genres``, the first one
  as ``category`` (genres are labels, not a path); year, dates, URL in
  ``attributes``.
* users: ``attributes`` age, gender, occupation, zip_code.

Older files are Latin-1; the encoding is detected per file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from growthkit.errors import SchemaError
from growthkit.ingest.adapters._common import (
    LINES,
    classify,
    first_line,
    header_columns,
    int_text,
    json_object_sql,
    select_sql,
    stage,
    text_encoding,
)
from growthkit.ingest.mapping import MappedTable
from growthkit.ingest.sources import CsvOptions, StagedSource
from growthkit.ingest.validate import lit
from growthkit.schema import EVENTS, ITEMS, REVIEWS, USERS

if TYPE_CHECKING:
    from growthkit.ingest.api import AdapterContext

GENRES_100K = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


def _nfields(path: Path, sep: str) -> int:
    return len(first_line(path).split(sep))


def _atomic(path: Path, first: str) -> bool:
    """RecBole atomic file whose first header field is ``first`` (e.g. ``user_id:token``)."""
    cols = header_columns(path, "\t")
    return bool(cols) and cols[0] == first


ROLES = {
    "ratings_inter": lambda p: (
        _atomic(p, "user_id:token") and any(c.startswith("rating") for c in header_columns(p, "\t"))
    ),
    "items_atomic": lambda p: _atomic(p, "item_id:token"),
    "users_atomic": lambda p: _atomic(p, "user_id:token"),
    "ratings_csv": lambda p: header_columns(p, ",")[:3] == ["userid", "movieid", "rating"],
    "items_csv": lambda p: header_columns(p, ",")[:2] == ["movieid", "title"],
    "ratings_dat": lambda p: "::" in first_line(p) and _nfields(p, "::") == 4,
    "items_dat": lambda p: "::" in first_line(p) and _nfields(p, "::") == 3,
    "users_dat": lambda p: "::" in first_line(p) and _nfields(p, "::") == 5,
    "ratings_tab": lambda p: _nfields(p, "\t") == 4 and first_line(p).split("\t")[0].strip().isdigit(),
    "items_pipe": lambda p: _nfields(p, "|") == 24,
    "users_pipe": lambda p: _nfields(p, "|") == 5,
}

# (separator, header?, {logical field: 1-based position or header name prefix})
SPLIT: dict[str, tuple[str, bool, dict[str, str]]] = {
    "ratings_inter": ("\t", True, {"user": "user_id", "item": "item_id", "rating": "rating", "ts": "timestamp"}),
    "ratings_dat": ("::", False, {"user": "1", "item": "2", "rating": "3", "ts": "4"}),
    "ratings_tab": ("\t", False, {"user": "1", "item": "2", "rating": "3", "ts": "4"}),
    "items_atomic": (
        "\t",
        True,
        {"item": "item_id", "title": "movie_title", "year": "release_year", "genres": "class"},
    ),
    "items_dat": ("::", False, {"item": "1", "title": "2", "genres": "3"}),
    "items_pipe": ("|", False, {"item": "1", "title": "2", "release_date": "3", "imdb_url": "5"}),
    "users_atomic": (
        "\t",
        True,
        {"user": "user_id", "age": "age", "gender": "gender", "occupation": "occupation", "zip_code": "zip_code"},
    ),
    "users_dat": ("::", False, {"user": "1", "gender": "2", "age": "3", "occupation": "4", "zip_code": "5"}),
    "users_pipe": ("|", False, {"user": "1", "age": "2", "gender": "3", "occupation": "4", "zip_code": "5"}),
}


def _fields(ctx: AdapterContext, path: Path, role: str) -> tuple[StagedSource, str, dict[str, str]]:
    """Stage ``path``; return it, a FROM clause with ``_rid``, and SQL per logical field."""
    if role in ("ratings_csv", "items_csv"):
        s = stage(ctx, path, CsvOptions(delimiter=",", encoding=text_encoding(path)))
        names = {
            "user": "userid",
            "item": "movieid",
            "rating": "rating",
            "ts": "timestamp",
            "title": "title",
            "genres": "genres",
        }
        exprs = {k: f"nullif(trim(x.\"{v}\"), '')" for k, v in names.items() if v in s.columns}
        return s, f"(SELECT *, rowid AS _rid FROM {s.table}) x", _with_genres(role, exprs)
    sep, has_header, spec = SPLIT[role]
    s = stage(ctx, path, dataclasses.replace(LINES, encoding=text_encoding(path)))
    pos: dict[str, int] = {}
    if has_header:
        header = [h.split(":")[0] for h in first_line(path).split(sep)]
        for k, name in spec.items():
            if name in header:
                pos[k] = header.index(name) + 1
    else:
        pos = {k: int(v) for k, v in spec.items()}
    skip = "AND rowid > 0" if has_header else ""
    from_sql = (
        f"(SELECT *, rowid AS _rid, string_split(line, {lit(sep)}) AS f FROM {s.table} "
        f"WHERE nullif(trim(line), '') IS NOT NULL {skip}) x"
    )
    exprs = {k: f"nullif(trim(f[{i}]), '')" for k, i in pos.items()}
    return s, from_sql, _with_genres(role, exprs, "f")


def _with_genres(role: str, exprs: dict[str, str], fields: str = "") -> dict[str, str]:
    """Add ``genre_list`` (a list of genre names, NULL when none) to the field expressions."""
    f = fields
    # genre lists without lambdas (their syntax differs between DuckDB versions): join, then split
    joined = None
    if role == "items_pipe":
        flags = ", ".join(f"CASE WHEN trim({f}[{6 + i}]) = '1' THEN {lit(g)} END" for i, g in enumerate(GENRES_100K))
        joined = f"concat_ws('|', {flags})"
    elif "genres" in exprs:
        g_sep = "\\s+" if role == "items_atomic" else "\\|"
        joined = f"array_to_string(regexp_split_to_array(trim({exprs['genres']}), {lit(g_sep)}), '|')"
    if joined is not None:
        cleaned = f"nullif(trim(replace({joined}, '(no genres listed)', ''), '|'), '')"
        exprs["genre_list"] = f"string_split({cleaned}, '|')"
    return exprs


class MovieLensAdapter:
    """Adapter for MovieLens ratings, movies and users files (ml-100k, ml-1m, ml-latest, RecBole copies)."""

    name: str = "movielens"
    title: str = "MovieLens ratings"
    tables: tuple[str, ...] = ("reviews", "events", "items", "users")

    def map(self, ctx: AdapterContext, paths: Sequence[Path]) -> list[MappedTable]:
        """Map ratings to reviews and review events, movie files to items, user files to users.

        Raises
        ------
        SchemaError
            No ratings file among ``paths``, or a file in no MovieLens layout.
        """
        roles = classify(paths, ROLES, adapter="movielens")
        if not any(roles[r] for r in ("ratings_inter", "ratings_csv", "ratings_dat", "ratings_tab")):
            raise SchemaError(
                "MovieLens needs a ratings file: u.data, ratings.csv, ratings.dat or a RecBole .inter file; "
                f"given only {', '.join(p.name for p in paths)}"
            )
        out: list[MappedTable] = []
        for role, files in roles.items():
            for p in files:
                s, from_sql, f = _fields(ctx, p, role)
                if role.startswith("ratings"):
                    out += self._ratings(s, from_sql, f)
                elif role.startswith("items"):
                    out.append(self._items(s, from_sql, f))
                else:
                    out.append(self._users(s, from_sql, f))
        return out

    @staticmethod
    def _ratings(s: StagedSource, from_sql: str, f: dict[str, str]) -> list[MappedTable]:
        missing = [k for k in ("user", "item", "rating", "ts") if k not in f]
        if missing:
            raise SchemaError(f"{s.path}: ratings file without field(s) {', '.join(missing)}")
        ts = int_text(f["ts"])
        reviews = {"user_id": f["user"], "item_id": f["item"], "ts": ts, "rating": f["rating"]}
        events = {
            "user_id": f["user"],
            "item_id": f["item"],
            "ts": ts,
            "event_type": "'review'",
            "properties": json_object_sql({"rating": f"try_cast({f['rating']} AS DOUBLE)"}),
        }
        return [
            MappedTable(REVIEWS, select_sql(REVIEWS, reviews, from_sql, idx="_rid"), s, count_rejects=True),
            MappedTable(EVENTS, select_sql(EVENTS, events, from_sql, idx="_rid"), s, count_rejects=False),
        ]

    @staticmethod
    def _items(s: StagedSource, from_sql: str, f: dict[str, str]) -> MappedTable:
        genres = f.get("genre_list", "NULL")
        attrs: dict[str, str] = {k: f[k] for k in ("year", "release_date", "imdb_url") if k in f}
        attrs["genres"] = genres
        exprs = {
            "item_id": f["item"],
            "title": f.get("title", "NULL"),
            "category": f"{genres}[1]",
            "attributes": json_object_sql(attrs),
        }
        return MappedTable(ITEMS, select_sql(ITEMS, exprs, from_sql, idx="_rid"), s, count_rejects=True)

    @staticmethod
    def _users(s: StagedSource, from_sql: str, f: dict[str, str]) -> MappedTable:
        attrs: dict[str, str] = {k: f[k] for k in ("age", "gender", "occupation", "zip_code") if k in f}
        exprs = {"user_id": f["user"], "attributes": json_object_sql(attrs)}
        return MappedTable(USERS, select_sql(USERS, exprs, from_sql, idx="_rid"), s, count_rejects=True)
