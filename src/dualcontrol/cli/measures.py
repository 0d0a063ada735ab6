"""Commands of the "1+N+X" measures registry: ``dualcontrol measures ...``."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from dualcontrol.cli.app import app
from dualcontrol.cli.output import Lang, emit, frame_records, print_json, user_errors
from dualcontrol.errors import InputError, Problem

measures_app = typer.Typer(help="The 1+N+X measures registry: import, export, generate "
                                "from the benchmarking register, progress, wedges.",
                           no_args_is_help=True)
app.add_typer(measures_app, name="measures")

LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of table headers.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Date of the overdue check, YYYY-MM-DD (default: today, UTC).")]
UserOpt = Annotated[str | None, typer.Option(
    "--user", help="Who makes the change, for the audit log (default: the login name).")]

#: Columns of the registry shown in a terminal table.
SHOWN = ["measure_id", "level", "owner", "action", "deadline", "status", "effect_tce",
         "effect_co2_t", "effect_water_m3"]


def _user(user: str | None) -> str:
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _as_of(text: str | None) -> dt.date:
    if not text:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(Problem("not a date", field="--as-of", value=text,
                                 accepted=["YYYY-MM-DD"])) from None


def _stored() -> pd.DataFrame:
    from dualcontrol.store import open_store
    from dualcontrol.store.measures import load_measures

    with open_store() as store:
        return load_measures(store)


@measures_app.command("list")
def list_cmd(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    level: Annotated[str | None, typer.Option(help="Only this level.")] = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """List the registry's measures (latest revision of each) and a summary."""
    from dualcontrol import measures

    with user_errors():
        day = _as_of(as_of)
        for name, value, accepted in (("--status", status, measures.STATUSES),
                                      ("--level", level, measures.LEVELS)):
            if value is not None and value not in accepted:
                raise InputError(Problem("unknown value", field=name, value=value,
                                         accepted=list(accepted)))
        frame = _stored()
    if status:
        frame = frame[frame["status"] == status]
    if level:
        frame = frame[frame["level"] == level]
    summary = measures.summary(frame, day)
    if as_json:
        print_json({"as_of": day.isoformat(), "measures": frame_records(frame),
                    "summary": frame_records(summary)})
        return
    if frame.empty:
        typer.echo("the registry has no measures (dualcontrol measures import FILE, "
                   "or dualcontrol measures generate --save)")
        return
    emit(frame[SHOWN], title=f"Measures ({len(frame)})", lang=lang)
    emit(summary, title=f"Summary on {day} (effects of level 'measure' only, per year)",
         lang=lang)


@measures_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="Registry XLSX or CSV (columns: see "
                                               "dualcontrol measures export).")],
    user: UserOpt = None,
) -> None:
    """Check a registry file and store its changes as new revisions (all or nothing)."""
    from dualcontrol import measures
    from dualcontrol.fileio import read_table
    from dualcontrol.store import open_store
    from dualcontrol.store.measures import known_ids, save_measures

    with user_errors():
        rows = measures.parse_measures(read_table(file), file=str(file))
        with open_store() as store:
            measures.check_parents(rows, known_ids(store), file=str(file))
            result = save_measures(store, rows, user=_user(user), file_name=file.name)
    typer.echo(f"{file}: {result.created} measures created, {result.revised} revised, "
               f"{result.unchanged} unchanged")


@measures_app.command("export")
def export_cmd(
    file: Annotated[Path, typer.Argument(help="XLSX or CSV file to write.")],
) -> None:
    """Write the registry (latest revisions) to XLSX or CSV, ready to edit and import."""
    from dualcontrol import measures

    with user_errors():
        suffix = file.suffix.lower()
        if suffix not in (".xlsx", ".csv"):
            raise InputError(Problem("unsupported file type", file=str(file), value=suffix,
                                     accepted=[".xlsx", ".csv"]))
        table = measures.export_frame(_stored())
    if suffix == ".csv":
        table.to_csv(file, index=False, encoding="utf-8-sig")
    else:
        table.to_excel(file, index=False, sheet_name="measures", engine="openpyxl")
    typer.echo(f"wrote {len(table)} measures to {file}")


def _units() -> pd.DataFrame:
    """Return the store's production units of the latest year, benchmarked (products
    with levels only)."""
    from dualcontrol import benchmarking, datasets
    from dualcontrol.store import open_store

    with open_store() as store:
        last = datasets.read_frame(store, "SELECT MAX(CAST(SUBSTR(period, 1, 4) AS INTEGER)) "
                                          "AS y FROM production_output")["y"].iloc[0]
        frame = (pd.DataFrame() if last is None or pd.isna(last)
                 else datasets.production_units(store, year=int(last)))
    if frame.empty:
        raise InputError(Problem("the store has no production units (run `dualcontrol demo` "
                                 "or load output reports)", field="store"))
    covered, _ = benchmarking.split_by_level(frame)
    return benchmarking.benchmark_units(covered)


@measures_app.command("generate")
def generate_cmd(
    save: Annotated[bool, typer.Option(help="Store the generated measures.")] = False,
    user: UserOpt = None,
    top: Annotated[int, typer.Option(help="Front runners shown per product and year.")] = 5,
    as_json: JsonOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Generate the upgrade or exit measure of every unit below the baseline, and the
    front-runner list, from the store's latest production-unit figures."""
    from dualcontrol import benchmarking, measures

    with user_errors():
        latest = _units()
        generated = measures.generate_from_units(latest)
        front = benchmarking.front_runners(latest)
        result = None
        if save:
            from dualcontrol.store import open_store
            from dualcontrol.store.measures import load_measures, save_measures

            with open_store() as store:
                stored = load_measures(store)
                generated = measures.merge_generated(generated, stored)
                result = save_measures(store, generated, user=_user(user),
                                       file_name="generated from the benchmarking register")
            stale = measures.no_longer_required(generated, stored)
    if as_json:
        print_json({"year": int(latest["year"].max()), "measures": frame_records(generated),
                    "front_runners": frame_records(front)})
        return
    emit(generated[["measure_id", "owner", "product", "action", "deadline", "effect_tce",
                    "effect_co2_t"]],
         title=f"Measures required of units below the baseline "
               f"({int(latest['year'].max())} figures)", lang=lang)
    emit(front[front["rank"] <= top], title="Front runners (at or better than the "
         "benchmark)", lang=lang)
    if result is not None:
        typer.echo(f"stored: {result.created} created, {result.revised} revised, "
                   f"{result.unchanged} unchanged")
        if len(stale):
            typer.echo(f"{len(stale)} open generated measures are no longer required by the "
                       f"register (unit at or better than the baseline, or no figures): "
                       f"{', '.join(stale['measure_id'][:20])}; set their status (export, "
                       "edit, import)")


@measures_app.command("progress")
def progress_cmd(
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Overdue measures, and planned against realised savings of completed ones."""
    from dualcontrol import datasets, measures

    with user_errors():
        day = _as_of(as_of)
        frame = _stored()
        units = datasets.production_units()
        late = measures.overdue(frame, day)
        done = measures.progress(frame, units)
        summary = measures.summary(frame, day)
    if as_json:
        print_json({"as_of": day.isoformat(), "summary": frame_records(summary),
                    "overdue": frame_records(late), "realised": frame_records(done)})
        return
    emit(summary, title=f"Measures on {day}", lang=lang)
    emit(late, title=f"Overdue on {day} (open after the deadline day)", lang=lang)
    emit(done, title="Completed measures: planned against realised savings [tce/a, t CO2/a]",
         lang=lang)


@measures_app.command("wedges")
def wedges_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (examples/scenarios).")],
    draws: Annotated[int, typer.Option(help="Monte Carlo draws (0: central only).")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the random generator.")] = 0,
    year: Annotated[int, typer.Option(help="Year the wedges are shown for.")] = 2030,
    chart: Annotated[Path | None, typer.Option("--chart",
                                               help="Write the wedge chart (PNG).")] = None,
    proxy: Annotated[list[str] | None, typer.Option(
        "--proxy-target", help="INDICATOR=VALUE for a target not yet published, from the "
        "scenario's base year to --year (e.g. co2_intensity_reduction=0.17, the national "
        "15th-plan figure as a proxy); shown as a proxy.")] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """The registry's measures as wedges in the outlook, and what else is needed."""
    from dualcontrol import measures, outlook

    with user_errors():
        if draws < 0:
            raise InputError("draws must be >= 0", field="--draws", value=draws)
        spec = outlook.load_scenario(scenario)
        if not spec.base_year < year <= spec.end_year:
            raise InputError(Problem("year outside the scenario", field="--year", value=year,
                                     accepted=[f"{spec.base_year + 1}-{spec.end_year}"]))
        proxies = []
        for text in proxy or []:
            name, sep, value = text.partition("=")
            try:
                number = float(value) if sep else None
            except ValueError:
                number = None
            if number is None:
                raise InputError(Problem("write INDICATOR=VALUE", field="--proxy-target",
                                         value=text,
                                         accepted=["co2_intensity_reduction=0.17"]))
            proxies.append(measures.proxy_target(name.strip(), number, spec, year))
        report = measures.wedge_report(_stored(), spec, draws=draws, seed=seed, year=year,
                                       proxies=proxies)
    if chart is not None:
        outlook.chart_wedges(report.outlook, chart, until=max(year, spec.base_year + 5))
    if as_json:
        print_json({"scenario": spec.name, "year": year, "draws": report.outlook.n_draws,
                    "seed": seed if draws else None, "measures": len(report.effects),
                    "wedges": frame_records(report.wedges),
                    "gaps": frame_records(report.gaps),
                    "targets": frame_records(report.targets)})
        return
    emit(report.wedges, title=f"Wedges in {year} ({len(report.effects)} measures; "
         "as planned and expected with delivery probability and delay) [tce/a, t CO2/a]",
         lang=lang)
    emit(report.gaps, title="Gap to each target without and with the measures: "
         "still_needed is what else is needed in the target year", lang=lang)
    shown = [c for c in ("indicator", "target_year", "target_value", "value", "met",
                         "probability_met") if c in report.targets]
    if len(report.targets):
        emit(report.targets[shown], title="Targets with the measures", lang=lang)
    if chart is not None:
        typer.echo(f"chart written to {chart}")
