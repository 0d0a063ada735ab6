"""Commands of the online monitoring pipeline: ``synth meters`` and ``monitor``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from dualcontrol.cli.app import app
from dualcontrol.cli.output import (
    Lang,
    choices,
    emit,
    err_console,
    frame_records,
    print_json,
    user_errors,
)
from dualcontrol.conversion import Method
from dualcontrol.errors import InputError, Problem
from dualcontrol.fileio import read_table

synth_app = typer.Typer(help="Write synthetic data sets for tests and benchmarks.",
                        no_args_is_help=True)
app.add_typer(synth_app, name="synth")

CST = timezone(timedelta(hours=8))
#: The values of :class:`dualcontrol.monitoring.engines.Engine` and ``pipeline.Checks``,
#: here so that ``--help`` does not load Ibis and Numba (tests/test_cli_startup.py).
Engine = choices("Engine", ("duckdb", "spark"))
Checks = choices("Checks", ("auto", "scan", "windows"))


@synth_app.command("meters")
def synth_meters_cmd(
    out: Annotated[Path, typer.Argument(help="Directory to write the data set to.")],
    units: Annotated[int, typer.Option("--units", help="Key energy-consuming units.")] = 100,
    meters: Annotated[int, typer.Option("--meters", help="Meters per unit.")] = 5,
    days: Annotated[int, typer.Option("--days", help="Days from the first of the month.")] = 3,
    month: Annotated[str, typer.Option("--month", help="Month YYYY-MM.")] = "2024-07",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    fault_rate: Annotated[float, typer.Option(
        help="Faults of each class per meter and day (at least one per class).")] = 0.001,
    csv: Annotated[bool, typer.Option("--csv", help="One readings.csv instead of Parquet.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Write units, meters, readings (Parquet by day) and the injected faults (faults.csv)."""
    from dualcontrol.monitoring.synth import write_synthetic

    with user_errors(as_json=as_json):
        try:
            datetime.strptime(month, "%Y-%m")
        except ValueError:
            raise InputError(Problem("month not understood", field="--month", value=month,
                                     accepted=["YYYY-MM, e.g. 2024-07"])) from None
        counts = write_synthetic(out, n_units=units, n_meters=meters, days=days, month=month,
                                 seed=seed, fault_rate=fault_rate, csv=csv)
    if as_json:
        print_json(counts)
    else:
        typer.echo(f"wrote {counts['readings']:,} readings of {counts['meters']:,} meters "
                   f"({counts['units']:,} units) and {counts['faults']:,} injected faults "
                   f"to {out}")


@app.command("monitor")
def monitor_cmd(
    data: Annotated[Path, typer.Argument(help="Data set directory (units.csv, meters.csv, "
                                              "readings/ or readings.csv).")],
    month: Annotated[str, typer.Option("--month", help="Month YYYY-MM.")],
    engine: Annotated[Engine, typer.Option(help="duckdb (in-process) or spark.")] = (
        Engine.duckdb),
    master: Annotated[str, typer.Option(
        help="Spark master: local[2], spark://host:7077 or yarn.")] = "local[2]",
    reports: Annotated[Path | None, typer.Option(
        help="Monthly statistical reports (enterprise, period, carrier, quantity, unit) "
             "to reconcile with.")] = None,
    store_reports: Annotated[bool, typer.Option(
        "--store-reports", help="Reconcile with the month's energy reports in the store "
                                "(instead of --reports FILE).")] = False,
    fill_gaps: Annotated[bool, typer.Option(
        help="Estimate interval meters' missing quantities (labelled filled_quantity).")]
    = False,
    as_of: Annotated[datetime | None, typer.Option(
        help="Time of the run (China Standard Time); later readings are 'future'. "
             "Default: now.")] = None,
    unit_chunks: Annotated[int, typer.Option(help="Unit groups processed in turn.")] = 1,
    hourly: Annotated[Path | None, typer.Option(
        help="Directory to write hourly energy per unit and carrier (Parquet).")] = None,
    memory_limit: Annotated[str | None, typer.Option(help="DuckDB memory limit, e.g. 3GB.")]
    = None,
    threads: Annotated[int | None, typer.Option(
        help="Threads of DuckDB and of the sorted scan.")] = None,
    checks: Annotated[Checks, typer.Option(
        help="How readings are labelled: scan (compiled pass over Parquet day "
             "partitions), windows (SQL window functions, any engine), auto (scan on "
             "DuckDB where it can).")] = Checks.auto,
    method: Annotated[Method, typer.Option(help="Electricity valuation method.")] = (
        Method.calorific),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of table headers.")] = Lang.en,
) -> None:
    """Check a month of meter readings, roll energy up to tce and CO2, reconcile."""
    from dualcontrol.monitoring import engines, pipeline
    from dualcontrol.monitoring.schema import FAULT_CLASSES

    with user_errors(as_json=as_json):
        if reports is not None and store_reports:
            raise InputError(Problem("give --reports FILE or --store-reports, not both",
                                     field="--store-reports"))
        con = engines.connect(engines.Engine(engine.value), master=master,
                              memory_limit=memory_limit, threads=threads)
        meter_data = engines.open_data(con, data)
        report_frame = read_table(reports) if reports is not None else None
        if store_reports:
            from dualcontrol import datasets

            report_frame = datasets.monthly_report_rows(month=month)
        when = as_of or datetime.now(CST).replace(tzinfo=None)
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeRemainingColumn(), console=err_console,
                      disable=as_json, transient=True) as bar:
            task = bar.add_task("label readings", total=None)
            result = pipeline.monitor(con, meter_data, month, as_of=when, reports=report_frame,
                             fill_gaps=fill_gaps, unit_chunks=unit_chunks,
                             hourly_path=hourly, method=method,
                             checks=pipeline.Checks(checks.value),
                             threads=threads, progress=lambda done, total: bar.update(
                                 task, completed=done, total=total))
    flagged = result.quality[(result.quality[list(FAULT_CLASSES)].sum(axis=1) > 0)
                             | (result.quality["days_incomplete"] > 0)]
    if as_json:
        print_json({
            "month": result.month, "engine": result.engine, "checks": result.checks,
            "readings": result.rows,
            "faults": frame_records(result.faults),
            "meters_flagged": frame_records(flagged),
            "monthly": frame_records(result.monthly),
            "levels": {k: frame_records(v) for k, v in result.levels.items()},
            "reconciliation": None if result.reconciliation is None
            else frame_records(result.reconciliation),
        })
        return
    typer.echo(f"{result.rows:,} readings of {month} on {result.engine} "
               f"(checks: {result.checks})")
    emit(result.faults, title="Quality: flagged readings by fault class", lang=lang)
    shown = flagged.drop(columns=["days", "quantity", "filled_quantity"])
    emit(shown.head(50), title=f"Meters flagged ({len(flagged)}; first 50)", lang=lang)
    for level in ("league", "region"):
        frame = result.levels[level]
        keep = [c for c in ("region", "league", "year", "month", "rows", "energy_tce",
                            "controlled_tce", "co2_t") if c in frame.columns]
        emit(frame[keep], title=f"Metered energy by {level}", lang=lang)
    if result.reconciliation is not None:
        rec = result.reconciliation
        emit(rec[rec["status"] != "ok"], title=f"Reconciliation with reports: "
             f"{int((rec['status'] != 'ok').sum())} of {len(rec)} beyond tolerance or "
             "missing", lang=lang)
