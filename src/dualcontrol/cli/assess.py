"""Command ``assess``: the dual-control barometer and the remaining energy budget."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from dualcontrol.cli.app import app
from dualcontrol.cli.output import Lang, choices, emit, frame_records, print_json, user_errors
from dualcontrol.errors import InputError, Problem
from dualcontrol.fileio import read_table

#: Levels of the assessed regions (:func:`dualcontrol.assessment.level_of`).
ASSESS_LEVELS = ("region", "league", "county")
AssessLevel = choices("AssessLevel", ASSESS_LEVELS)
BAROMETER_COLUMNS = ["region", "indicator", "rating", "value", "requirement", "gap", "unit",
                     "change_vs_same_period_last_year", "plan", "exclusions", "note"]
BUDGET_COLUMNS = ["region", "horizon", "year", "last_actual_year", "gdp_growth",
                  "intensity_room_tce", "total_room_tce", "budget_tce", "binding", "note"]


def _store_accounts() -> pd.DataFrame:
    """Return the yearly accounts of the region and its leagues from the store.

    Targets are not read from the store: they come from the package's data
    (``data/targets.csv`` and, for the demo leagues, ``data/demo_league_targets.csv``;
    see :func:`dualcontrol.assessment.targets`).
    """
    from dualcontrol import datasets

    frame = datasets.assessment_accounts()
    if frame.empty:
        raise InputError(Problem("the store has no energy accounts (run `dualcontrol demo` "
                                 "or ingest reports), or pass --data FILE", field="--data"))
    return frame


def _check_plan(plan: str) -> None:
    """Refuse a plan that ``data/plan_periods.csv`` does not know (exit code 2)."""
    from dualcontrol.reference import load_table

    plans = list(load_table("plan-periods")["plan"].astype(str))
    if plan not in plans:
        raise InputError(Problem("unknown plan", field="--plan", value=plan, accepted=plans))


def _with_budget(barometer: pd.DataFrame, budget: pd.DataFrame) -> list[dict[str, Any]]:
    """Return barometer records, each carrying its region's budget figures."""
    records = frame_records(barometer)
    by_region: dict[str, dict[str, Any]] = {}
    for item in frame_records(budget):
        extra = by_region.setdefault(str(item["region_code"]), {})
        extra[f"budget_{item['horizon']}_tce"] = item["budget_tce"]
        extra[f"binding_{item['horizon']}"] = item["binding"]
    for record in records:
        record.update(by_region.get(str(record["region_code"]), {}))
    return records


def _barometer_title(barometer: pd.DataFrame) -> str:
    """Return the barometer's title naming the period and the rules that rated it."""
    if not len(barometer):
        return "Barometer"
    first = barometer.iloc[0]
    return (f"Barometer {first['period']} (progress path {first['progress_rule']}, "
            f"barometer scheme {first['barometer_scheme']})")


@app.command("assess")
def assess_cmd(
    year: Annotated[int | None, typer.Option(help="Assessment year (default: the latest).")]
    = None,
    period: Annotated[str | None, typer.Option(
        help="Cumulative period: 2024, 2024-Q3, 2024-H1 (overrides --year).")] = None,
    level: Annotated[AssessLevel | None, typer.Option(help="Only regions of this level.")]
    = None,
    data: Annotated[Path | None, typer.Option(
        "--data", help="CSV/XLSX of region accounts (default: the store).")] = None,
    gdp_growth: Annotated[float | None, typer.Option(
        "--gdp-growth", help="Real GDP growth forecast, 0.05 = 5% (default: last observed).")]
    = None,
    plan: Annotated[str | None, typer.Option(help="Plan of the targets, e.g. 14th.")] = None,
    add_tce: Annotated[float | None, typer.Option(
        "--add-tce", help="Show the effect of adding this much energy [tce] in --in.")] = None,
    in_region: Annotated[str | None, typer.Option(
        "--in", help="Region code where --add-tce is added (e.g. 150600 Ordos).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of table headers.")] = Lang.en,
) -> None:
    """Rate each region on intensity, total and CO2 intensity, and show the energy budget.

    Ratings: red, yellow, green (NDRC barometer), no_data (a needed figure is missing),
    no_target (no numeric target for that indicator).
    """
    from dualcontrol.assessment import parse_assessment_period, prepare_accounts, progress
    from dualcontrol.budget import energy_budget, intensity_effect

    with user_errors(as_json=as_json):
        if in_region is not None and add_tce is None:
            raise InputError(Problem("--in needs --add-tce TCE", field="--in",
                                     value=in_region))
        if plan is not None:
            _check_plan(plan)
        raw = read_table(data) if data is not None else _store_accounts()
        accounts = prepare_accounts(raw, file=str(data) if data else None)
        months = 12
        if period is not None:
            year, months = parse_assessment_period(period)
        if year is None:
            year = int(accounts["year"].max())
        only = level.value if level is not None else None
        if only is not None and not (accounts["level"] == only).any():
            raise InputError(Problem(
                "the accounts have no region of this level"
                + ("" if data else " (the store's accounts are by region and league)"),
                file=str(data) if data else None, field="--level", value=only,
                accepted=sorted(accounts["level"].unique(), key=ASSESS_LEVELS.index)))
        barometer = progress(accounts, year=year, months=months, level=only, plan=plan)
        budget = energy_budget(accounts, year=year, gdp_growth=gdp_growth, level=only,
                               plan=plan)
        effect = None
        if add_tce is not None:
            if in_region is None:
                raise InputError(Problem("--add-tce needs --in REGION_CODE", field="--in"))
            effect = intensity_effect(accounts, year=year, months=months, plan=plan,
                                      region_code=in_region, added_tce=add_tce)
    for frame in (barometer, budget):
        frame.insert(0, "region", frame["region_name"].astype(str))
    if as_json:
        records = _with_budget(barometer, budget)
        print_json(records if effect is None else
                   {"barometer": records, "effect": frame_records(effect)})
        return
    shown = barometer[BAROMETER_COLUMNS].assign(  # the unit in a word; --json has it whole
        unit=barometer["unit"].str.replace(" (reduction vs base year)", " (cut)",
                                           regex=False))
    emit(shown, title=_barometer_title(barometer), lang=lang)
    emit(budget[BUDGET_COLUMNS], title="Remaining energy budget [tce]", lang=lang)
    if effect is not None:
        emit(effect, title=f"Effect of {add_tce:g} tce in {in_region}", lang=lang)
