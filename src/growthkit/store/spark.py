"""The distributed engine: the canonical tables on PySpark, for the same Ibis analytics.

growthkit's analytics are Ibis expressions, so they run unchanged on an Ibis
PySpark backend that has the canonical tables (``events``, ``users``, ...).
This module builds one: a local Spark session (listening on 127.0.0.1 only),
and the tables either from Parquet files in the contract's shape (what a data
lake holds) or mirrored from a growthkit DuckDB store (for parity checks).

PySpark is the ``[spark]`` extra (``pip install 'growthkit[spark]'``) and
needs Java 17.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from growthkit.errors import ConfigError
from growthkit.schema import TABLES
from growthkit.store.base import Store

INSTALL_HINT = "PySpark is not installed: pip install 'growthkit[spark]' (Java 17 is needed too)"


def spark_session(*, app: str = "growthkit", master: str = "local[2]", shuffle_partitions: int = 4) -> Any:
    """A local Spark session bound to 127.0.0.1, UTC, without the web UI, Arrow transfers on."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ConfigError(INSTALL_HINT) from exc
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        # Ibis sends in-memory tables (calendars, id lists) as pandas frames: through Arrow
        # they stay in the JVM instead of starting Python workers (seconds per query)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def spark_backend(session: Any | None = None) -> Any:
    """An Ibis PySpark backend on ``session`` (a new local session by default)."""
    try:
        import ibis
    except ImportError as exc:  # pragma: no cover
        raise ConfigError(INSTALL_HINT) from exc
    return ibis.pyspark.connect(session if session is not None else spark_session())


def register_parquet(con: Any, files: Mapping[str, str | Path]) -> None:
    """Expose Parquet files (or folders) as the named tables of an Ibis PySpark backend."""
    session = con._session
    for name, path in files.items():
        session.read.parquet(str(path)).createOrReplaceTempView(name)


def mirror_store(store: Store, con: Any, *, workdir: Path | None = None, tables: tuple[str, ...] = ()) -> None:
    """Copy the canonical tables of ``store`` into the Spark backend ``con`` (through Parquet).

    Used to check that an insight gives the same answer on both engines.
    """
    names = tables or tuple(TABLES)
    folder = Path(workdir or tempfile.mkdtemp(prefix="growthkit-spark-"))
    files: dict[str, Path] = {}
    for name in names:
        path = folder / f"{name}.parquet"
        cols = ", ".join(TABLES[name].column_names) if name in TABLES else "*"
        store.execute(f"COPY (SELECT {cols} FROM {name}) TO '{path}' (FORMAT parquet)")
        files[name] = path
    register_parquet(con, files)
