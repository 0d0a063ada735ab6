"""Report templates (CSV or XLSX) with Chinese or English headers, an example row and,
in XLSX, drop-down lists of the accepted values.

The columns are those of :data:`dualcontrol.ingest.KINDS`, so a filled-in template
always ingests with the same names. The accepted values come from the same tables the
import checks against (``carriers.csv``, ``units.csv``, the uses and origins of
:mod:`dualcontrol.accounting`), so a value picked from a list is always accepted.

The example row (row 2) shows how a row is filled in. Its first cell says that it is an
example and is not a valid code, so a file still holding it is refused by the import
(naming row 2) rather than storing the example: delete it before submitting. The import
takes one sheet, so the XLSX keeps the accepted values in the drop-downs (with a prompt
naming them) and in a note on each header cell, not on a second sheet.
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

from dualcontrol.errors import InputError, Problem
from dualcontrol.ingest import KINDS

logger = logging.getLogger(__name__)

LANGS = ("zh", "en")
#: First cell of the example row: not a valid code, so the import refuses the row.
EXAMPLE_MARK = {"zh": "示例-提交前删除本行", "en": "EXAMPLE-DELETE THIS ROW"}
#: The example row of each kind by column (zh, en); the first column is the mark.
EXAMPLES: dict[str, dict[str, tuple[str, str]]] = {
    "energy": {
        "enterprise_name": ("鄂尔多斯示例化工有限公司", "Ordos Example Chemicals Co."),
        "region_code": ("150602", "150602"),
        "period": ("2026-10", "2026-10"),
        "carrier": ("原煤", "raw_coal"),
        "quantity": ("1200", "1200"),
        "unit": ("吨", "t"),
        "use": ("燃料", "combustion"),
        "origin": ("外购", "purchased"),
        "ncv_kj_per_kg": ("", ""),
    },
    "output": {
        "enterprise_name": ("鄂尔多斯示例建材有限公司", "Ordos Example Cement Co."),
        "region_code": ("150602", "150602"),
        "period": ("2026-10", "2026-10"),
        "unit_code": ("U01", "U01"),
        "product": ("cement_clinker", "cement_clinker"),
        "output": ("85000", "85000"),
        "output_unit": ("吨", "t"),
    },
    "water": {
        "enterprise_name": ("鄂尔多斯示例化工有限公司", "Ordos Example Chemicals Co."),
        "region_code": ("150602", "150602"),
        "period": ("2026-10", "2026-10"),
        "withdrawal_m3": ("12000", "12000"),
        "reused_m3": ("8000", "8000"),
    },
    "economic": {
        "period": ("2025", "2025"),
        "sector": ("", ""),
        "gdp_current_10k_yuan": ("1000000", "1000000"),
        "gdp_index_prev_year_100": ("106.0", "106.0"),
        "industrial_va_current_10k_yuan": ("400000", "400000"),
    },
}
#: Format of each column, shown in the header's note and the XLSX prompt (zh, en).
FORMATS: dict[str, tuple[str, str]] = {
    "uscc": ("18位统一社会信用代码", "18-character unified social credit code"),
    "region_code": ("6位旗县区代码(GB/T 2260)", "6-digit county code (GB/T 2260)"),
    "period": ("年-月, 如 2026-10; 经济数据为年份", "YYYY-MM; a year for economic data"),
    "quantity": ("数字, 可用千分位逗号", "a number; thousands commas allowed"),
    "ncv_kj_per_kg": ("实测值, 空白=该品种默认值", "measured; blank = the carrier's default"),
    "use": ("空白=燃料", "blank = combustion"),
    "origin": ("空白=外购", "blank = purchased"),
    "sector": ("空白=合计(total)", "blank = total"),
    "product": ("产品代码(dualcontrol reference efficiency-levels)",
                "product code (dualcontrol reference efficiency-levels)"),
}
#: Rows of the XLSX that carry the drop-downs and text formats.
XLSX_ROWS = 2000
#: Columns kept as text in XLSX (long codes Excel would turn into numbers or dates).
TEXT_COLUMNS = ("uscc", "region_code", "period", "unit_code")
#: Longest inline list of an Excel data validation [characters].
EXCEL_LIST_LIMIT = 255


def _check(kind: str, lang: str) -> None:
    if kind not in KINDS:
        raise InputError(Problem("unknown kind of report", field="kind", value=kind,
                                 accepted=list(KINDS)))
    if lang not in LANGS:
        raise InputError(Problem("unknown language", field="lang", value=lang,
                                 accepted=list(LANGS)))


def template_headers(kind: str, lang: str = "zh") -> list[str]:
    """Return the header row of the template of ``kind`` in ``lang`` (zh or en)."""
    _check(kind, lang)
    return [col.zh if lang == "zh" else col.en for col in KINDS[kind]]


def _chinese(aliases: list[str]) -> str | None:
    return next((a for a in aliases if re.search(r"[\u4e00-\u9fff]", a)), None)


def accepted_values(kind: str, lang: str = "zh") -> dict[str, list[str]]:
    """Return the values offered for each listed column of ``kind``, in ``lang``.

    Energy reports list carriers (``carriers.csv``: Chinese name or code), units
    (``units.csv``: Chinese alias or code), uses and origins (:data:`accounting.USES`,
    :data:`accounting.ORIGINS`); output reports list the units. Each value is one the
    import accepts; it also accepts the other aliases of those tables.
    """
    _check(kind, lang)
    from dualcontrol.accounting import ORIGINS, USES
    from dualcontrol.reference import load_table

    zh = lang == "zh"
    units = load_table("units")
    unit_names = [(_chinese(str(a).split("|")) if zh else None) or str(code)
                  for code, a in zip(units["code"], units["aliases"].fillna(""), strict=True)]
    if kind == "energy":
        carriers = load_table("carriers")
        return {
            "carrier": [str(v) for v in carriers["name_zh" if zh else "code"]],
            "unit": unit_names,
            "use": [(_chinese(list(a)) if zh else None) or code for code, a in USES.items()],
            "origin": [(_chinese(list(a)) if zh else None) or code
                       for code, a in ORIGINS.items()],
        }
    if kind == "output":
        return {"output_unit": unit_names}
    return {}


def example_row(kind: str, lang: str = "zh") -> list[str]:
    """Return the example row of ``kind``: the mark in the first column, then values."""
    _check(kind, lang)
    values = EXAMPLES[kind]
    index = LANGS.index(lang)
    row = [values.get(col.name, ("", ""))[index] for col in KINDS[kind]]
    row[0] = EXAMPLE_MARK[lang]
    return row


def column_notes(kind: str, lang: str = "zh", *, lists: bool = True) -> dict[str, str]:
    """Return the note of each column: required or not, format, accepted values."""
    _check(kind, lang)
    zh = lang == "zh"
    values = accepted_values(kind, lang) if lists else {}
    notes: dict[str, str] = {}
    for col in KINDS[kind]:
        parts = [("必填" if zh else "required") if col.required else
                 ("选填" if zh else "optional")]
        if col.name in FORMATS:
            parts.append(FORMATS[col.name][0 if zh else 1])
        if col.name in values:
            parts.append(("可选值: " if zh else "accepted: ") + ", ".join(values[col.name]))
        notes[col.name] = "; ".join(parts)
    return notes


def _inline_list(values: list[str]) -> str | None:
    """Return an Excel inline list formula, or None when it would be too long."""
    text = ",".join(values)
    if any("," in v or '"' in v for v in values) or len(text) + 2 > EXCEL_LIST_LIMIT:
        return None
    return f'"{text}"'


def _write_xlsx(kind: str, lang: str, path: Path, *, example: bool) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    headers = template_headers(kind, lang)
    notes = column_notes(kind, lang)
    prompts = column_notes(kind, lang, lists=False)
    lists = accepted_values(kind, lang)
    zh = lang == "zh"
    book = Workbook()
    sheet = book.active
    sheet.title = kind
    sheet.append(headers)
    if example:
        sheet.append(example_row(kind, lang))
        for cell in sheet[2]:
            cell.font = Font(italic=True, color="808080")
    for cell, col in zip(sheet[1], KINDS[kind], strict=True):
        cell.font = Font(bold=True)
        cell.comment = Comment(notes[col.name], "dualcontrol", width=300, height=160)
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = max(12, 2 * len(cell.value) + 2)
        if col.name in TEXT_COLUMNS:
            for row in range(2, XLSX_ROWS + 2):
                sheet[f"{letter}{row}"].number_format = "@"
        if col.name in lists:
            formula = _inline_list(lists[col.name])
            if formula is None:  # too long for Excel's inline list: the note names them
                logger.warning("%s: %s has too many values for a drop-down", kind, col.name)
                continue
            rule = DataValidation(
                type="list", formula1=formula, allow_blank=not col.required,
                errorStyle="warning", showErrorMessage=True, showInputMessage=True,
                promptTitle=(cell.value or "")[:32],
                prompt=prompts[col.name][:255],
                errorTitle="不在列表中" if zh else "Not in the list",
                error=("该值不在列表中; 导入时还接受其他别名, 否则报错" if zh else
                       "not in the list; the import also accepts other aliases, and "
                       "refuses anything else"))
            rule.add(f"{letter}2:{letter}{XLSX_ROWS + 1}")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"
    book.save(path)


def write_template(kind: str, path: str | Path, *, lang: str = "zh",
                   fmt: str | None = None, example: bool = True) -> Path:
    """Write a template of ``kind`` to ``path`` and return the path.

    ``fmt`` is ``csv`` (UTF-8 with BOM, so spreadsheet programs show Chinese headers
    correctly) or ``xlsx`` (one sheet, with drop-downs and notes on the headers); by
    default it follows the file suffix. With ``example`` (the default) row 2 is the
    example row, which the import refuses until it is deleted.
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    headers = template_headers(kind, lang)
    if fmt == "csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            if example:
                writer.writerow(example_row(kind, lang))
    elif fmt == "xlsx":
        _write_xlsx(kind, lang, path, example=example)
    else:
        raise InputError(Problem("unknown template format", field="format", value=fmt,
                                 accepted=["csv", "xlsx"]))
    logger.info("wrote %s template to %s", kind, path)
    return path
