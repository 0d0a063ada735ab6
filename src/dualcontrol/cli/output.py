"""Formatting of tables and errors for the terminal: rich tables, JSON, CSV."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

import pandas as pd
import typer
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from dualcontrol.errors import DualControlError, InputError, Problem
from dualcontrol.exports import frame_records as frame_records  # re-exported
from dualcontrol.exports import neutralise_formulas
from dualcontrol.glossary import COLUMNS, NAME_COLUMNS, header, zh_title, zh_value
from dualcontrol.glossary import SCALED as GLOSSARY_SCALED

#: a terminal (or ``COLUMNS``) sets the width; piped output gets wide lines, not wraps
console = Console(width=None if Console().is_terminal or os.environ.get("COLUMNS")
                  else 220)
err_console = Console(stderr=True, soft_wrap=True)


class Lang(StrEnum):
    """Language of headers in terminal tables."""

    en = "en"
    zh = "zh"


#: Chinese headers of the canonical column names (one table: :mod:`dualcontrol.glossary`).
ZH_HEADERS: dict[str, str] = {k: zh for k, (_en, zh) in COLUMNS.items()}


def choices(name: str, values: Iterable[str]) -> type[StrEnum]:
    """Return an enum of ``values``, so an option refuses anything else with exit code 2.

    Click then names the option, the value given and the accepted values, and ``--help``
    lists them.
    """
    return StrEnum(name, {v: v for v in values})  # type: ignore[return-value]


def check_grid(grid: str) -> None:
    """Refuse a grid with no CO2 factor in ``data/grid_factors.csv`` (exit code 2)."""
    from dualcontrol.reference import load_table

    grids = list(dict.fromkeys(load_table("grid-factors")["grid"].astype(str)))
    if grid not in grids:
        raise InputError(Problem("no CO2 factor for this grid", field="--grid", value=grid,
                                 accepted=grids))


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on standard output."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _fmt(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (
            isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.01:
            return f"{value:.4g}"
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def _fmt_year(value: Any) -> str:
    if isinstance(value, float) and not math.isnan(value) and value.is_integer():
        return str(int(value))
    return _fmt(value)


#: Columns shown in 10^4 units in terminal tables: column -> (English, Chinese header).
SCALED: dict[str, tuple[str, str]] = GLOSSARY_SCALED
#: English headers with their unit.
EN_HEADERS: dict[str, str] = {k: en for k, (en, _zh) in COLUMNS.items()}
#: Columns never dropped to fit the terminal: what a row is about.
KEY_COLUMNS = {"region", "league", "county", "park", "enterprise", "enterprise_name",
               "year", "half", "quarter", "month", "period", "indicator", "rating",
               "horizon", "item", "product", "industry", "unit_id", "class", "verdict",
               "code", "carrier", "level", "name", "rule", "outcome", "fault", "unit"}
#: Longest width of a wrapped text column when the table is too wide [characters].
WRAP_WIDTH = 24

_wide = False


def set_wide(wide: bool) -> None:
    """Show every column of the next tables, however wide (``--wide``)."""
    global _wide
    _wide = wide


def header_of(column: str, lang: Lang) -> str:
    """Return the terminal header of ``column``, with its unit."""
    return header(column, lang.value, scaled=True)


def print_frame(frame: pd.DataFrame, *, title: str | None = None, lang: Lang = Lang.en,
                fmt: Mapping[str, Callable[[Any], str]] | None = None) -> None:
    """Print ``frame`` as a rich table with headers in ``lang``, fitted to the terminal.

    Energy, CO2 and GDP are shown in 10^4 units (named in the header); long text wraps;
    when the table is still wider than the terminal the rightmost columns that are not
    key columns are left out and named below it (``--wide`` keeps them). In Chinese the
    title and the coded values (ratings, indicators, carriers, units...) are named in
    Chinese too (:mod:`dualcontrol.glossary`).
    """
    formatters = dict(fmt or {})
    for column in frame.columns:
        if "year" in str(column) and column not in formatters:
            formatters[column] = _fmt_year
    cells: dict[str, list[str]] = {}
    for column in frame.columns:
        values = frame[column]
        if column in SCALED and pd.api.types.is_numeric_dtype(values):
            values = values / 1e4
        cells[column] = [formatters.get(column, _fmt)(v) for v in values]
        if lang == Lang.zh and column not in NAME_COLUMNS and (
                pd.api.types.is_bool_dtype(values)
                or not pd.api.types.is_numeric_dtype(values)):
            cells[column] = [zh_value(v) for v in cells[column]]
    if lang == Lang.zh and title:
        title = zh_title(title)
    headers = {c: header_of(str(c), lang) for c in frame.columns}
    numeric = {c: pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns}

    def narrowest(column: str) -> int:
        word = max((cell_len(w) for w in headers[column].split()), default=1)
        longest = max((cell_len(v) for v in cells[column]), default=1)
        if numeric[column] or column in KEY_COLUMNS:
            return max(word, longest)
        return max(word, min(longest, WRAP_WIDTH))

    shown = list(frame.columns)
    hidden: list[str] = []
    width = console.width
    while not _wide and sum(narrowest(c) + 3 for c in shown) + 1 > width:
        droppable = [c for c in shown if c not in KEY_COLUMNS]
        if not droppable:
            break
        hidden.insert(0, droppable[-1])
        shown.remove(droppable[-1])
    table = Table(title=escape(title) if title else None, show_lines=False,
                  header_style="bold")
    for column in shown:
        fixed = numeric[column] or column in KEY_COLUMNS  # cells whole, header wraps
        table.add_column(escape(headers[column]), justify="right" if numeric[column] else "left",
                         width=narrowest(column) if fixed else None,
                         min_width=narrowest(column), overflow="fold")
    for i in range(len(frame)):
        table.add_row(*(escape(cells[c][i]) for c in shown))
    console.print(table)
    if hidden:
        err_console.print(f"not shown at {width} columns: {', '.join(map(str, hidden))} "
                          "(dualcontrol --wide ... or --json shows them)", highlight=False)


def emit(frame: pd.DataFrame, *, as_json: bool = False, as_csv: bool = False,
         title: str | None = None, lang: Lang = Lang.en) -> None:
    """Print a table as JSON records, CSV or a readable table."""
    if as_json:
        print_json(frame_records(frame))
    elif as_csv:
        neutralise_formulas(frame).to_csv(sys.stdout, index=False)
    else:
        print_frame(frame, title=title, lang=lang)


def error_json(exc: DualControlError) -> dict[str, Any]:
    """Return an error as the JSON object ``--json`` prints on failure."""
    out: dict[str, Any] = {"ok": False, "error": str(exc), "reason": type(exc).__name__}
    if isinstance(exc, InputError):
        out["problems"] = [p.as_dict() for p in exc.problems]
    as_dict = getattr(exc, "as_dict", None)
    if callable(as_dict):
        out.update(as_dict())
    return out


@contextmanager
def user_errors(as_json: bool = False) -> Iterator[None]:
    """Turn dualcontrol's own errors into a message on stderr and exit code 2.

    With ``as_json`` the error is also printed on standard output as a JSON object
    (``ok``, ``error``, ``reason`` and, for bad input, ``problems``).
    """
    try:
        yield
    except (InputError, DualControlError) as exc:
        err_console.print(Text("error: ", style="bold red") + Text(str(exc)), highlight=False)
        if as_json:
            print_json(error_json(exc))
        raise typer.Exit(code=2) from None
