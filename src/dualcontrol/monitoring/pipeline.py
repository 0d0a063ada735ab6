"""The monitoring run: one month of readings to quality reports, energy, tce and CO2.

Steps (each a function of :mod:`.quality`, :mod:`.rollup` or :mod:`.reconcile`):

1. select the month's readings (by the ``day`` partition) and those of the day before
   and after, as neighbours of the first and last readings;
2. label every reading and aggregate per meter and day: by the sorted scan of
   :mod:`.scan` (``checks="scan"``, the default on DuckDB for Parquet day partitions), or
   by the window functions of :func:`~.quality.label_readings` and
   :func:`~.rollup.meter_day_counts` (``checks="windows"``, on any engine; also where
   the scan declines); both give the same table;
3. from the meter-day table come the quality per meter and day
   (:func:`~.rollup.meter_day_quality`) and the energy per unit and carrier by day
   (:func:`~.rollup.unit_carrier_days`), valued in tce and CO2 (the daily accounts); on
   request the energy per unit, carrier and hour (:func:`~.rollup.unit_carrier_hours`),
   written to Parquet;
4. month per unit and carrier -> tce and CO2 with the accounting core -> enterprise,
   park, league, region;
5. reconciliation with the enterprises' monthly reports, if given.

With the window functions, units are processed in ``unit_chunks`` groups of consecutive
``unit_id``; the checks are per meter, and a unit's meters are in one group, so any
chunking gives the same result and bounds the memory the window functions need. The
scan reads one day at a time and needs no chunks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from dualcontrol.accounting import (
    LEVELS,
    account_rows,
    coefficient_table,
    prepare_energy_rows,
)
from dualcontrol.conversion import Method
from dualcontrol.errors import InputError, Problem
from dualcontrol.monitoring.engines import (
    MeterData,
    fetch,
    month_days,
    register,
    unregister,
)
from dualcontrol.monitoring.quality import label_readings
from dualcontrol.monitoring.reconcile import reconcile
from dualcontrol.monitoring.rollup import (
    energy_accounts,
    level_rollup,
    meter_day_counts,
    meter_day_quality,
    meter_quality,
    stream_accounts,
    unit_carrier_days,
    unit_carrier_hours,
)
from dualcontrol.monitoring.scan import ScanDeclined, scan_month
from dualcontrol.monitoring.schema import FAULT_CLASSES

logger = logging.getLogger(__name__)


class Checks(StrEnum):
    """How the readings are labelled (see the module)."""

    auto = "auto"
    scan = "scan"
    windows = "windows"


#: Levels the monthly energy is rolled up to.
ROLLUP_LEVELS: tuple[str, ...] = ("enterprise", "park", "league", "region")


@dataclass
class MonitorResult:
    """Everything a monitoring run produced: pandas frames, and the daily accounts as an
    Arrow table (a row per unit, carrier and day: millions at national scale; their
    units' hierarchy is in the unit registry, joined in the monthly accounts)."""

    month: str
    engine: str
    rows: int
    checks: str
    quality: pd.DataFrame
    faults: pd.DataFrame
    daily: pa.Table
    monthly: pd.DataFrame
    levels: dict[str, pd.DataFrame] = field(default_factory=dict)
    reconciliation: pd.DataFrame | None = None


def _fault_summary(quality: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for fault in FAULT_CLASSES:
        rows.append({"fault": fault, "readings": int(quality[fault].sum()),
                     "meters": int((quality[fault] > 0).sum()),
                     "units": int(quality.loc[quality[fault] > 0, "unit_id"].nunique())})
    rows.append({"fault": "incomplete_days (<90%)",
                 "readings": int(quality["days_incomplete"].sum()),
                 "meters": int((quality["days_incomplete"] > 0).sum()),
                 "units": int(quality.loc[quality["days_incomplete"] > 0,
                                          "unit_id"].nunique())})
    return pd.DataFrame(rows)


def unit_groups(unit_ids: np.ndarray, chunks: int) -> list[tuple[int, int]]:
    """Return ``chunks`` inclusive ``unit_id`` ranges covering ``unit_ids``."""
    ids = np.sort(np.unique(unit_ids))
    parts = [p for p in np.array_split(ids, max(1, min(chunks, len(ids)))) if len(p)]
    return [(int(p[0]), int(p[-1])) for p in parts]


def monitor(con: ibis.BaseBackend, data: MeterData, month: str, *, as_of: datetime,
            reports: pd.DataFrame | None = None, fill_gaps: bool = False,
            unit_chunks: int = 1, hourly_path: str | Path | None = None,
            method: Method | str = Method.calorific, grid: str | None = None,
            tolerance: float | None = None, checks: Checks | str = Checks.auto,
            threads: int | None = None,
            progress: Callable[[int, int], None] | None = None) -> MonitorResult:
    """Return the quality, energy, tce and CO2 and reconciliation of one month.

    Parameters
    ----------
    con : ibis backend
        Where the tables live (:func:`~dualcontrol.monitoring.engines.connect`).
    data : MeterData
        The data set (:func:`~dualcontrol.monitoring.engines.open_data`).
    month : str
        ``YYYY-MM``.
    as_of : datetime
        Time of the run (China Standard Time); later readings are ``future``.
    reports : DataFrame, optional
        Monthly statistical reports, rows as the accounting core reads them
        (``enterprise``, ``period``, ``carrier``, ``quantity``, ``unit``).
    fill_gaps : bool
        Estimate interval meters' missing quantities (see :mod:`.quality`).
    unit_chunks : int
        Number of unit groups the window functions process one after the other.
    hourly_path : path, optional
        Directory to write the hourly energy per unit and carrier to, as Parquet.
    method, grid
        Electricity valuation method and grid of the CO2 factor (accounting core).
    tolerance : float, optional
        Reconciliation tolerance [1]; default from the monitoring rules.
    checks : {"auto", "scan", "windows"}
        ``auto``: the sorted scan on DuckDB when the readings are Parquet day
        partitions, else the window functions.
    threads : int, optional
        Threads of the sorted scan.
    progress : callable, optional
        Called with the steps done and the steps of the labelling (days read by the
        scan, unit groups of the window functions), after each step.
    """
    first, last = month_days(month)
    meters = register(con, "dc_meters", data.meters)
    out = Path(hourly_path) if hourly_path is not None else None
    how = Checks(checks)
    if how is Checks.auto:
        how = Checks.scan if con.name == "duckdb" and data.partitions else Checks.windows
    counts = None
    if how is Checks.scan:
        if data.partitions is None:
            raise InputError(Problem("the sorted scan reads Parquet day partitions",
                                     field="checks", value=str(checks),
                                     accepted=["readings/day=YYYY-MM-DD/*.parquet"]))
        try:
            scanned = scan_month(data.partitions, data.meters, data.units, first, last,
                                 as_of=as_of, fill_gaps=fill_gaps, hourly_path=out,
                                 threads=threads, progress=progress)
        except ScanDeclined as exc:
            logger.warning("labelling with window functions instead of the scan: %s", exc)
            how = Checks.windows
            if out is not None:
                for part in out.glob("part-*.parquet"):
                    part.unlink()
        else:
            counts = register(con, "dc_meter_day_counts", scanned.meter_days)
            rows = scanned.readings
            del scanned
    staged: list[ir.Table] = []  # tables materialised on the backend, released at the end
    try:
        if counts is not None:  # a view of the scan's Arrow table
            quality = fetch(con, meter_quality(meter_day_quality(counts), meters))
            daily_table = unit_carrier_days(counts, meters).cache()
            staged.append(daily_table)
            unregister(con, "dc_meter_day_counts")  # before the daily frame is built
        else:
            qualities, dailies, rows = _label_with_windows(
                con, data, meters, first, last, as_of=as_of, fill_gaps=fill_gaps,
                unit_chunks=unit_chunks, out=out, progress=progress)
            quality = pd.concat(qualities, ignore_index=True)
            daily_table = register(con, "dc_daily_amounts",
                                   pd.concat(dailies, ignore_index=True))
        coefficients = register(con, "dc_coefficients",
                                coefficient_table([first.year], method=method, grid=grid,
                                                  latest_for_future=True))
        units = register(con, "dc_units", data.units)
        daily = con.to_pyarrow(stream_accounts(daily_table, coefficients)
                               .order_by(["unit_id", "carrier", "period"]))
        monthly_amounts = daily_table.mutate(
            period=daily_table.period.truncate("M")).group_by(
            ["unit_id", "carrier", "use", "origin", "period"]).aggregate(
            quantity_carrier_unit=daily_table.quantity_carrier_unit.sum())
        monthly_accounted = energy_accounts(monthly_amounts, units, coefficients).cache()
        staged.append(monthly_accounted)
        monthly = fetch(con, monthly_accounted.order_by(["unit_id", "carrier"]))
        levels = {lv: fetch(con, level_rollup(monthly_accounted, lv))
                  for lv in ROLLUP_LEVELS}
        result = MonitorResult(month, con.name, rows, how.value, quality,
                               _fault_summary(quality), daily, monthly, levels)
        if reports is not None:
            result.reconciliation = con.execute(reconcile_reports(
                con, monthly_accounted, reports, month, coefficients,
                tolerance=tolerance))
    finally:
        for table in staged:
            table.release()
    return result


def _label_with_windows(con: ibis.BaseBackend, data: MeterData, meters: ir.Table,
                        first: date, last: date, *, as_of: datetime, fill_gaps: bool,
                        unit_chunks: int, out: Path | None,
                        progress: Callable[[int, int], None] | None = None,
                        ) -> tuple[list[pd.DataFrame], list[pd.DataFrame], int]:
    """Label the readings with window functions, unit group by unit group; return the
    quality per meter and the daily energy per unit and carrier of each group, and the
    readings counted; write the hourly energy to ``out`` if given."""
    # the days either side give the month's first reading its predecessor (else a
    # register's first increment is lost) and the last its successor (out-of-order and
    # spike checks); their own readings are dropped after labelling
    readings = data.readings.filter(data.readings.day.between(first - timedelta(days=1),
                                                              last + timedelta(days=1)))
    qualities, dailies = [], []
    rows = 0
    groups = unit_groups(data.units["unit_id"].to_numpy(), unit_chunks)
    for number, (lo, hi) in enumerate(groups):
        chunk = readings.filter(readings.unit_id.between(lo, hi))
        staged: list[ir.Table] = []

        def stage(table: ir.Table, staged: list[ir.Table] = staged) -> ir.Table:
            staged.append(table.cache())
            return staged[-1]

        try:
            labelled = label_readings(chunk, meters, as_of=as_of, fill_gaps=fill_gaps,
                                      stage=stage)
            labelled = labelled.filter(labelled.day.between(first, last))
            with meter_day_counts(labelled).cache() as counts:
                qualities.append(fetch(con, meter_quality(meter_day_quality(counts),
                                                          meters)))
                dailies.append(fetch(con, unit_carrier_days(counts, meters)))
                rows += int(con.execute(counts.rows.sum()) or 0)
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                con.to_parquet(unit_carrier_hours(labelled, meters),
                               out / f"part-{number:04d}.parquet")
        finally:
            for table in staged:  # the group's intermediate tables, before the next's
                table.release()
        logger.info("units %d-%d done (%d readings so far)", lo, hi, rows)
        if progress:
            progress(number + 1, len(groups))
    return qualities, dailies, rows


def reconcile_reports(con: ibis.BaseBackend, metered: ir.Table, reports: pd.DataFrame,
                      month: str, coefficients: ir.Table, *, tolerance: float | None = None,
                      file: str | None = None) -> ir.Table:
    """Return the reconciliation of metered monthly energy with report rows.

    ``reports`` are rows as the accounting core reads them; only those of ``month`` are
    compared. See :func:`dualcontrol.monitoring.reconcile.reconcile`.
    """
    rows = prepare_energy_rows(reports, file=file)
    first, _ = month_days(month)
    rows = rows[(rows["year"] == first.year) & (rows["month"] == first.month)]
    keep = [c for c in rows.columns if c not in LEVELS or c == "enterprise"]
    reported = account_rows(register(con, "dc_reported", rows[keep]), coefficients)
    return reconcile(metered, reported, tolerance=tolerance)
