"""Blank report templates (CSV or XLSX) with Chinese or English headers.

The columns are those of :data:`dualcontrol.ingest.KINDS`, so a filled-in template
always ingests with the same names.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from dualcontrol.errors import InputError, Problem
from dualcontrol.ingest import KINDS

logger = logging.getLogger(__name__)


def template_headers(kind: str, lang: str = "zh") -> list[str]:
    """Return the header row of the template of ``kind`` in ``lang`` (zh or en)."""
    if kind not in KINDS:
        raise InputError(Problem("unknown kind of report", field="kind", value=kind,
                                 accepted=list(KINDS)))
    if lang not in ("zh", "en"):
        raise InputError(Problem("unknown language", field="lang", value=lang,
                                 accepted=["zh", "en"]))
    return [col.zh if lang == "zh" else col.en for col in KINDS[kind]]


def write_template(kind: str, path: str | Path, *, lang: str = "zh",
                   fmt: str | None = None) -> Path:
    """Write a blank template of ``kind`` to ``path`` and return the path.

    ``fmt`` is ``csv`` (UTF-8 with BOM, so spreadsheet programs show Chinese headers
    correctly) or ``xlsx`` (one sheet); by default it follows the file suffix.
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    headers = template_headers(kind, lang)
    if fmt == "csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerow(headers)
    elif fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        sheet = book.active
        sheet.title = kind
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for cell, header in zip(sheet[1], headers, strict=True):
            sheet.column_dimensions[cell.column_letter].width = max(12, 2 * len(header) + 2)
        sheet.freeze_panes = "A2"
        book.save(path)
    else:
        raise InputError(Problem("unknown template format", field="format", value=fmt,
                                 accepted=["csv", "xlsx"]))
    logger.info("wrote %s template to %s", kind, path)
    return path
