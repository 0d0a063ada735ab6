"""Where the monitoring pipeline runs: DuckDB in-process, or Apache Spark.

The table code of :mod:`.quality` and :mod:`.rollup` is written once with Ibis; this
module only opens a backend and reads the data set into it.

``duckdb`` (default)
    In-process; reads Parquet directly, with a memory limit and thread count.
``spark``
    PySpark. ``master`` is ``local[2]`` for a laptop or CI, ``spark://host:7077`` for a
    standalone cluster or ``yarn`` on Hadoop (run from a node with ``HADOOP_CONF_DIR``
    set; the data directory then is an ``hdfs://`` or ``s3a://`` URL readable by the
    executors). Set ``spark.sql.session.timeZone`` to UTC (done here), since readings
    are local times without zone and must not be shifted.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from dualcontrol.errors import InputError, Problem, require_columns
from dualcontrol.fileio import read_table
from dualcontrol.monitoring.schema import prepare_meters, prepare_units

logger = logging.getLogger(__name__)


class Engine(StrEnum):
    """Backends the monitoring pipeline runs on."""

    duckdb = "duckdb"
    spark = "spark"


_SPARK_SESSION: Any = None


def spark_session(master: str = "local[2]", *, conf: dict[str, str] | None = None) -> Any:
    """Return the process's Spark session, creating it on first use."""
    global _SPARK_SESSION
    if _SPARK_SESSION is None:
        from pyspark.sql import SparkSession

        builder = (SparkSession.builder.master(master).appName("dualcontrol-monitor")
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions",
                           os.environ.get("DUALCONTROL_SPARK_PARTITIONS", "4"))
                   .config("spark.driver.memory", os.environ.get("DUALCONTROL_SPARK_MEMORY",
                                                                 "2g")))
        for key, value in (conf or {}).items():
            builder = builder.config(key, value)
        _SPARK_SESSION = builder.getOrCreate()
        _SPARK_SESSION.sparkContext.setLogLevel("ERROR")
    return _SPARK_SESSION


def connect(engine: Engine | str = Engine.duckdb, *, master: str = "local[2]",
            memory_limit: str | None = None, threads: int | None = None) -> ibis.BaseBackend:
    """Return an Ibis backend for ``engine``.

    Parameters
    ----------
    engine : {"duckdb", "spark"}
    master : str
        Spark master URL (``local[2]``, ``spark://host:7077``, ``yarn``).
    memory_limit : str, optional
        DuckDB memory limit such as ``"3GB"``; DuckDB spills to disk beyond it.
    threads : int, optional
        DuckDB worker threads.
    """
    if Engine(engine) is Engine.spark:
        return ibis.pyspark.connect(spark_session(master))
    con = ibis.duckdb.connect()
    if memory_limit:
        # SET takes no bind parameters: only a size literal is let through
        if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", memory_limit):
            raise InputError(Problem("memory limit not understood", field="memory_limit",
                                     value=memory_limit, accepted=["3GB", "512MB", "2.5GiB"]))
        con.raw_sql(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.raw_sql(f"SET threads = {int(threads)}")
    con.raw_sql("SET preserve_insertion_order = false")
    return con


def register(con: ibis.BaseBackend, name: str, frame: pd.DataFrame | pa.Table) -> ir.Table:
    """Return ``frame`` (pandas or Arrow) as a temporary table ``name`` on ``con``
    (replacing any before).

    Small tables (registries, coefficients, per-day results) are registered by name
    rather than as Ibis memtables, which a cached Spark plan cannot resolve. On DuckDB the
    frame becomes a view of an Arrow table that DuckDB scans in place, not a copy.
    """
    if con.name == "pyspark":
        session = con._session
        table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(
            frame, preserve_index=False)
        session.createDataFrame(table).createOrReplaceTempView(name)
        return con.table(name)
    if con.name == "duckdb":
        if isinstance(frame, pd.DataFrame):
            frame = pa.Table.from_pandas(frame, preserve_index=False)
        con.con.register(name, frame)
        return con.table(name)
    return con.create_table(name, frame, temp=True, overwrite=True)


def unregister(con: ibis.BaseBackend, name: str) -> None:
    """Let go of a view :func:`register` made of an Arrow table on DuckDB (its memory is
    freed once nothing else refers to the table)."""
    if con.name == "duckdb":
        con.con.unregister(name)


def fetch(con: ibis.BaseBackend, expr: ir.Table) -> pd.DataFrame:
    """Return the result of ``expr`` as a pandas frame, by way of Arrow.

    Ibis's DuckDB ``execute`` turns every column holding a null into Python objects one
    value at a time (0.8 s for 200,000 meters' quality); Arrow's conversion does not.
    """
    return con.to_pyarrow(expr).to_pandas()


@dataclass
class MeterData:
    """A data set opened on a backend: the readings as an Ibis table, registries as frames."""

    readings: ir.Table
    meters: pd.DataFrame
    units: pd.DataFrame
    has_seq: bool
    #: the ``readings`` directory when it holds ``day=YYYY-MM-DD`` partitions on the local
    #: file system (what the sorted scan of :mod:`.scan` reads), else None
    partitions: Path | None = None


def open_data(con: ibis.BaseBackend, path: str | Path) -> MeterData:
    """Return the data set in directory ``path`` (see :mod:`.schema`) opened on ``con``.

    Raises
    ------
    InputError
        If ``meters.csv``, ``units.csv`` or the readings are missing or invalid.
    """
    root = Path(path)
    problems = [Problem("file not found", file=str(root / f)) for f in ("meters.csv",
                                                                       "units.csv")
                if not (root / f).exists()]
    parquet = root / "readings"
    csv = root / "readings.csv"
    if not parquet.is_dir() and not csv.exists():
        problems.append(Problem("no readings", file=str(root),
                                accepted=["readings/day=YYYY-MM-DD/*.parquet", "readings.csv"]))
    if problems:
        raise InputError(problems)
    meters = prepare_meters(read_table(root / "meters.csv"), file=str(root / "meters.csv"))
    units = prepare_units(read_table(root / "units.csv"), file=str(root / "units.csv"))
    if parquet.is_dir():
        if con.name == "duckdb":
            readings = con.read_parquet(str(parquet / "**" / "*.parquet"),
                                        hive_partitioning=True)
        else:
            readings = con.read_parquet(str(parquet))
    else:
        readings = con.read_csv(str(csv))
    require_columns(readings.columns, ("unit_id", "meter_id", "ts", "reading"),
                    file=str(parquet if parquet.is_dir() else csv),
                    accepted=["unit_id", "meter_id", "ts", "reading", "seq", "day"])
    has_seq = "seq" in readings.columns
    cast = {"unit_id": "int32", "meter_id": "int32", "ts": "timestamp", "reading": "float64"}
    readings = readings.mutate(**{c: readings[c].cast(t) for c, t in cast.items()})
    if not has_seq:
        readings = readings.mutate(seq=ibis.null("int64"))
    if "day" in readings.columns:
        readings = readings.mutate(day=readings.day.cast("date"))
    else:
        # a reading ends its interval: the one at 00:00 belongs to the day before
        readings = readings.mutate(day=(readings.ts - ibis.interval(seconds=1)).date())
    partitions = parquet if parquet.is_dir() and any(parquet.glob("day=*")) else None
    return MeterData(readings.select("unit_id", "meter_id", "ts", "reading",
                                     readings.seq.cast("int64").name("seq"), "day"),
                     meters, units, has_seq, partitions)


def month_days(month: str) -> tuple[date, date]:
    """Return the first and last day of ``month`` (``YYYY-MM``)."""
    try:
        first = pd.Timestamp(f"{month}-01")
    except ValueError:
        raise InputError(Problem("month not understood", field="month", value=month,
                                 accepted=["YYYY-MM"])) from None
    last = first + pd.offsets.MonthEnd(0)
    return first.date(), last.date()
