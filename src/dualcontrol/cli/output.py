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
from dualcontrol.exports import neutralise_formulas

#: a terminal (or ``COLUMNS``) sets the width; piped output gets wide lines, not wraps
console = Console(width=None if Console().is_terminal or os.environ.get("COLUMNS")
                  else 220)
err_console = Console(stderr=True, soft_wrap=True)


class Lang(StrEnum):
    """Language of headers in terminal tables."""

    en = "en"
    zh = "zh"


#: Chinese headers of the canonical column names (the English header is the name).
ZH_HEADERS: dict[str, str] = {
    "region": "地区",
    "league": "盟市",
    "county": "旗县区",
    "park": "园区",
    "enterprise": "企业",
    "year": "年份",
    "quarter": "季度",
    "month": "月份",
    "carrier": "能源品种",
    "quantity": "实物量",
    "unit": "计量单位",
    "energy_tce": "综合能耗(tce)",
    "controlled_tce": "纳入控制能耗(tce)",
    "feedstock_tce": "原料用能(tce)",
    "renewable_tce": "可再生能源(tce)",
    "self_produced_tce": "自产二次能源(tce)",
    "supplied_tce": "外供能源(tce)",
    "co2_t": "二氧化碳(t)",
    "gdp_const_10k_yuan": "可比价GDP(万元)",
    "intensity_tce_per_10k_yuan": "能耗强度(tce/万元)",
    "controlled_intensity_tce_per_10k_yuan": "扣除后能耗强度(tce/万元)",
    "co2_intensity_t_per_10k_yuan": "碳排放强度(t/万元)",
    "tce": "标准煤(tce)",
    "indicator": "指标",
    "value": "数值",
    "requirement": "进度要求",
    "gap": "差距",
    "rating": "预警等级",
}


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


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return _jsonable(value.item())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of ``frame`` as JSON-ready dicts (NaN becomes null)."""
    return [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on standard output."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
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
SCALED: dict[str, tuple[str, str]] = {
    "energy_tce": ("energy (10^4 tce)", "综合能耗(万tce)"),
    "controlled_tce": ("controlled (10^4 tce)", "纳入控制能耗(万tce)"),
    "feedstock_tce": ("feedstock (10^4 tce)", "原料用能(万tce)"),
    "renewable_tce": ("renewable (10^4 tce)", "可再生能源(万tce)"),
    "self_produced_tce": ("self-produced (10^4 tce)", "自产二次能源(万tce)"),
    "supplied_tce": ("supplied (10^4 tce)", "外供能源(万tce)"),
    "co2_t": ("CO2 (10^4 t)", "二氧化碳(万t)"),
    "gdp_const_10k_yuan": ("GDP (10^8 yuan)", "可比价GDP(亿元)"),
}
#: Shorter English headers with their unit.
EN_HEADERS: dict[str, str] = {
    "intensity_tce_per_10k_yuan": "intensity (tce/10^4 yuan)",
    "controlled_intensity_tce_per_10k_yuan": "controlled intensity (tce/10^4 yuan)",
    "co2_intensity_t_per_10k_yuan": "CO2 intensity (t/10^4 yuan)",
    "change_vs_same_period_last_year": "change vs last year",
    "value": "value (in unit)",
    "requirement": "requirement (in unit)",
    "gap": "gap (in unit)",
}
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
    if column in SCALED:
        return SCALED[column][1 if lang == Lang.zh else 0]
    if lang == Lang.zh and column in ZH_HEADERS:
        return ZH_HEADERS[column]
    return EN_HEADERS.get(column, column).replace("_", " ")


def print_frame(frame: pd.DataFrame, *, title: str | None = None, lang: Lang = Lang.en,
                fmt: Mapping[str, Callable[[Any], str]] | None = None) -> None:
    """Print ``frame`` as a rich table with headers in ``lang``, fitted to the terminal.

    Energy, CO2 and GDP are shown in 10^4 units (named in the header); long text wraps;
    when the table is still wider than the terminal the rightmost columns that are not
    key columns are left out and named below it (``--wide`` keeps them).
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
