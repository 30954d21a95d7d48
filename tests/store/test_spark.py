"""The canonical tables on PySpark (local mode): the distributed engine behind the same Ibis code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from growthkit.config import Settings
from growthkit.store import open_store

pytest.importorskip("pyspark", reason="the [spark] extra is not installed")
from growthkit.store.spark import mirror_store, spark_backend, spark_session

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_session(app="growthkit-tests", shuffle_partitions=2)
    yield session
    session.stop()


def test_mirrored_store_gives_the_same_answers(spark: Any, tmp_path: Path) -> None:
    with open_store(Settings(db=":memory:")) as store:
        store.execute(
            "INSERT INTO events (event_id, user_id, ts, event_type, amount) VALUES "
            "('e1', 'u1', TIMESTAMP '2025-01-01 23:59:59', 'purchase', 10.5), "
            "('e2', 'u1', TIMESTAMP '2025-01-02 00:00:00', 'view', NULL), "
            "('e3', 'u2', TIMESTAMP '2025-01-06 12:00:00', 'purchase', 4.5)"
        )
        store.execute("INSERT INTO users (user_id, channel) VALUES ('u1', 'ads'), ('u2', 'organic')")
        con = spark_backend(spark)
        mirror_store(store, con, workdir=tmp_path)
        duck = store.ibis().table("events")
        spark_ev = con.table("events")

        def weekly(t: Any) -> list[tuple[str, int, float]]:
            q = t.group_by(week=t.ts.truncate("W")).agg(n=t.count(), revenue=t.amount.sum()).order_by("week")
            df = q.execute()
            return [(str(w)[:10], int(n), float(r)) for w, n, r in zip(df.week, df.n, df.revenue, strict=True)]

        assert weekly(duck) == weekly(spark_ev) == [("2024-12-30", 2, 10.5), ("2025-01-06", 1, 4.5)]
        assert con.table("users").count().execute() == 2
