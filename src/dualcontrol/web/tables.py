"""Tables as JSON, CSV or XLSX answers: every table the API or a page shows downloads."""

from __future__ import annotations

import io
from enum import StrEnum
from typing import Annotated

import pandas as pd
from fastapi import Query
from fastapi.responses import JSONResponse, Response
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from dualcontrol.exports import frame_records, neutralise_formulas

#: Years a table may be asked for: a year far outside overflowed the date arithmetic (500).
YEAR_MIN, YEAR_MAX = 1949, 2100
YearQ = Annotated[int | None, Query(ge=YEAR_MIN, le=YEAR_MAX,
                                    description="Year (default: all or the latest).")]


class Format(StrEnum):
    """Formats of a table answer."""

    json = "json"
    csv = "csv"
    xlsx = "xlsx"


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_response(frame: pd.DataFrame, fmt: Format, name: str) -> Response:
    """Return ``frame`` as JSON records, a CSV file (UTF-8 with BOM for Excel) or XLSX.

    CSV and XLSX cells that a spreadsheet would run as formulas are made inert.
    """
    if fmt == Format.json:
        return JSONResponse(frame_records(frame))
    frame = neutralise_formulas(frame)
    if fmt == Format.csv:
        body = frame.to_csv(index=False).encode("utf-8-sig")
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    buffer = io.BytesIO()
    frame = xlsx_safe(frame)
    frame.to_excel(buffer, index=False, sheet_name=name[:31], engine="openpyxl")
    return Response(buffer.getvalue(), media_type=XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def xlsx_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` without the control characters a worksheet cannot hold.

    Text such as a user name typed at the login form reaches the audit log as is;
    openpyxl refuses control characters, which made the XLSX download a 500.
    """
    text = frame.select_dtypes(include=["object", "string"]).columns
    if not len(text):
        return frame
    out = frame.copy()
    for column in text:
        out[column] = out[column].map(
            lambda v: ILLEGAL_CHARACTERS_RE.sub("\uFFFD", v) if isinstance(v, str) else v)
    return out
