from __future__ import annotations

from datetime import datetime
from typing import Any

FLAGS = "|".join(["0"] * 19)


def _flags(*on: int) -> str:
    f = ["0"] * 19
    for i in on:
        f[i] = "1"
    return "|".join(f)


def test_movielens_100k(shop: Any) -> None:
    data = shop.write("u.data", "196\t242\t3\t881250949\n186\t302\t7\t891717742\n22\t377\t1\t878887116\n")
    item = shop.write(
        "u.item",
        f"242|Kolya (1996)|24-Jan-1997||http://x|{_flags(5)}\n"
        f"302|L.A. Confidential (1997)|01-Jan-1997||http://y|{_flags(6, 10, 13, 16)}\n"
        f"377|Heavyweights (1994)|01-Jan-1994||http://z|{_flags(4, 5)}\n",
        encoding="latin-1",
    )
    user = shop.write("u.user", "196|49|M|writer|55105\n")
    rep = shop.ingest([data, item, user], "movielens")
    rv = shop.table(rep, "reviews")
    assert (rv.rows_read, rv.rows_loaded, rv.rows_quarantined) == (3, 2, 1)
    q = shop.quarantine()
    assert [(r["kind"], r["line"], r["reason_code"]) for r in q] == [("reviews", 2, "rating_out_of_range")]
    r = shop.rows("SELECT * FROM reviews WHERE user_id = '196'")[0]
    assert (r["item_id"], r["rating"], r["ts"]) == ("242", 3.0, datetime(1997, 12, 4, 15, 55, 49))
    ev = shop.rows("SELECT * FROM events ORDER BY ts")
    assert [e["event_type"] for e in ev] == ["review"] * 3  # the event keeps the rating, even an odd one
    assert ev[0]["properties"] == '{"rating":1.0}'
    items = {i["item_id"]: i for i in shop.rows("SELECT * FROM items")}
    assert items["302"]["category"] == "Crime"
    assert '"genres":["Crime","Film-Noir","Mystery","Thriller"]' in items["302"]["attributes"]
    assert items["242"]["title"] == "Kolya (1996)"
    assert '"occupation":"writer"' in shop.rows("SELECT attributes FROM users")[0]["attributes"]
    shop.reload_adds_nothing([data, item, user], "movielens")


def test_movielens_csv_dat_and_recbole(shop: Any) -> None:
    csv = shop.write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    movies = shop.write("movies.csv", 'movieId,title,genres\n1,"Toy Story, The (1995)",Adventure|Animation\n')
    dat = shop.write("ratings.dat", "1::1193::5::978300760\n")
    mdat = shop.write("movies.dat", "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n")
    inter = shop.write(
        "ml-100k.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n7\t9\t4\t881250949\n"
    )
    atom = shop.write(
        "ml-100k.item",
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n9\tDead Man Walking\t1995\tDrama\n",
    )
    rep = shop.ingest([csv, movies, dat, mdat, inter, atom], "movielens")
    assert rep.ok and rep.rows_quarantined == 0
    assert shop.store.scalar("SELECT count(*) FROM reviews") == 3
    titles = {r["item_id"]: (r["title"], r["category"]) for r in shop.rows("SELECT * FROM items")}
    assert titles == {
        "1": ("Toy Story, The (1995)", "Adventure"),
        "1193": ("One Flew Over the Cuckoo's Nest (1975)", "Drama"),
        "9": ("Dead Man Walking", "Drama"),
    }


def test_movielens_needs_ratings(shop: Any) -> None:
    movies = shop.write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Animation\n")
    assert "needs a ratings file" in shop.ingest([movies], "movielens").failures[0].error
