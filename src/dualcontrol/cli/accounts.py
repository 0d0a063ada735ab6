"""Commands of the accounting core: ``convert``, ``account``, ``reference``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from dualcontrol.cli.app import app
from dualcontrol.cli.output import Lang, check_grid, choices, emit, print_json, user_errors
from dualcontrol.conversion import Method, convert
from dualcontrol.fileio import read_table
from dualcontrol.reference import TABLES, load_table

LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of table headers.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
#: :data:`dualcontrol.accounting.LEVELS` and ``GRAINS``, here so that ``--help`` does not
#: load the accounting engine (Ibis); tests/test_cli_startup.py checks they agree.
LEVELS = ("region", "league", "county", "park", "enterprise")
GRAINS = ("year", "half", "quarter", "month")
Level = choices("Level", LEVELS)
Grain = choices("Grain", GRAINS)


@app.command("convert")
def convert_cmd(
    quantity: Annotated[float, typer.Argument(help="Physical quantity.")],
    unit: Annotated[str, typer.Argument(help="Unit: t, 万吨, m3, 10^4 m3, kWh, GJ, tce ...")],
    carrier: Annotated[str, typer.Argument(help="Carrier code or name: raw_coal, 原煤 ...")],
    method: Annotated[Method, typer.Option(help="Electricity valuation method.")] = (
        Method.calorific
    ),
    year: Annotated[int | None, typer.Option(help="Year of year-dependent factors.")] = None,
    grid: Annotated[str | None, typer.Option(
        help="Grid of the electricity CO2 factor (default: the year's rule, "
             "electricity_factor_rules.csv: Inner Mongolia's provincial factor).")] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Convert a quantity of an energy carrier to tce and t CO2, with sources."""
    with user_errors(as_json=as_json):
        if grid is not None:
            check_grid(grid)
        result = convert(quantity, unit, carrier, method=method, year=year, grid=grid)
    if as_json:
        print_json(result.as_dict())
        return
    rows = pd.DataFrame([
        {"item": "carrier", "value": f"{result.carrier} ({result.carrier_zh})"},
        {"item": "quantity", "value": f"{result.quantity:g} {result.unit}"},
        {"item": "in carrier unit", "value": f"{result.quantity_in_carrier_unit:g} "
                                             f"{result.carrier_unit}"},
        {"item": "tce", "value": f"{result.tce:.6g}"},
        {"item": "co2_t", "value": f"{result.co2_t:.6g}"},
        {"item": "method", "value": result.method},
        {"item": "tce source", "value": result.sources["tce"]},
        {"item": "co2 source", "value": result.sources["co2"]},
    ])
    emit(rows, title="Conversion", lang=lang)


@app.command("reference")
def reference_cmd(
    table: Annotated[str, typer.Argument(help=f"One of: {', '.join(TABLES)}.")],
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Print a reference table with the source and edition of every row."""
    with user_errors(as_json=as_json):
        frame = load_table(table)
    emit(frame, as_json=as_json, as_csv=as_csv, title=f"Reference: {table}", lang=lang)



@app.command("account")
def account_cmd(
    file: Annotated[Path, typer.Argument(help="Energy-use rows (CSV or XLSX).")],
    by: Annotated[Level, typer.Option("--by", help="Level of the accounts.")] = Level.league,
    grain: Annotated[Grain, typer.Option(help="Period grain.")] = Grain.year,
    year: Annotated[int | None, typer.Option(help="Only this year.")] = None,
    gdp: Annotated[Path | None, typer.Option(help="GDP by area and year (CSV/XLSX).")] = None,
    base_year: Annotated[int | None, typer.Option(help="Price base year of GDP.")] = None,
    method: Annotated[Method, typer.Option(help="Electricity valuation method.")] = (
        Method.calorific
    ),
    grid: Annotated[str | None, typer.Option(
        help="Grid of the electricity CO2 factor (default: the year's rule, "
             "electricity_factor_rules.csv: Inner Mongolia's provincial factor).")] = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Account energy use: total, controlled total, exclusions, CO2 and intensity."""
    from dualcontrol.accounting import accounts

    with user_errors(as_json=as_json):
        if grid is not None:
            check_grid(grid)
        energy = read_table(file)
        gdp_frame = read_table(gdp) if gdp is not None else None
        table = accounts(energy, gdp_frame, level=by.value, grain=grain.value, method=method,
                         grid=grid, base_year=base_year, file=str(file))
    if year is not None:
        table = table[table["year"] == year]
    shown = [c for c in table.columns if c not in ("gdp_base_year",)]
    if not (as_json or as_csv):
        keep = [*[lv for lv in LEVELS if lv in table.columns and lv != "region"][-1:],
                *[g for g in GRAINS if g in table.columns], "energy_tce", "controlled_tce",
                "feedstock_tce", "renewable_tce", "co2_t", "gdp_const_10k_yuan",
                "intensity_tce_per_10k_yuan", "controlled_intensity_tce_per_10k_yuan",
                "co2_intensity_t_per_10k_yuan"]
        shown = [c for c in keep if c in table.columns]
    title = f"Energy and CO2 accounts by {by.value} and {grain.value}"
    if "gdp_base_year" in table.columns and len(table):
        title += f" (GDP at {int(table['gdp_base_year'].dropna().iloc[0])} prices)"
    emit(table[shown], as_json=as_json, as_csv=as_csv, title=title, lang=lang)
