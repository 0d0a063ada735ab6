"""Commands of the accounting core: ``convert``, ``account``, ``reference``."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer

from dualcontrol.cli.app import app
from dualcontrol.cli.output import Lang, emit, print_json, user_errors
from dualcontrol.conversion import Method, convert
from dualcontrol.reference import TABLES, load_table

LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of table headers.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@app.command("convert")
def convert_cmd(
    quantity: Annotated[float, typer.Argument(help="Physical quantity.")],
    unit: Annotated[str, typer.Argument(help="Unit: t, 万吨, m3, 10^4 m3, kWh, GJ, tce ...")],
    carrier: Annotated[str, typer.Argument(help="Carrier code or name: raw_coal, 原煤 ...")],
    method: Annotated[Method, typer.Option(help="Electricity valuation method.")] = (
        Method.calorific
    ),
    year: Annotated[int | None, typer.Option(help="Year of year-dependent factors.")] = None,
    grid: Annotated[str, typer.Option(help="Grid of the electricity CO2 factor.")] = "national",
    as_json: JsonOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Convert a quantity of an energy carrier to tce and t CO2, with sources."""
    with user_errors():
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
    with user_errors():
        frame = load_table(table)
    emit(frame, as_json=as_json, as_csv=as_csv, title=f"Reference: {table}", lang=lang)

