"""Tables as JSON, CSV or XLSX answers: every table the API or a page shows downloads."""

from __future__ import annotations

import io
from enum import StrEnum

import pandas as pd
from fastapi.responses import JSONResponse, Response

from dualcontrol.cli.output import frame_records
from dualcontrol.exports import neutralise_formulas


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
    frame.to_excel(buffer, index=False, sheet_name=name[:31], engine="openpyxl")
    return Response(buffer.getvalue(), media_type=XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
