"""Ingestion of the spreadsheets enterprises and statistics offices fill in.

A file (CSV in UTF-8 or GB18030/GBK, or XLSX with one sheet) is read in chunks, so a
file of hundreds of megabytes is never held in memory at once. Every row is checked
and every problem is reported together (file, row, column, value, why, accepted
values). The import is one transaction: a file with any problem stores nothing,
unless ``skip_invalid`` is set, in which case the valid rows are stored and the
rejected ones are written to ``<file>.rejected.csv`` beside it.

Each upload is a submission; the rows of one entity (enterprise or region) and one
period become a new report revision unless they are identical to the latest
revision (content hash), so re-submitting a corrected period keeps the old revision,
the latest counts, the audit log records who changed what and when, and importing the
same file twice changes nothing.

The kinds of report and their columns are data (:data:`KINDS`); the templates of
``dualcontrol template`` are made from the same definitions.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dualcontrol.accounting import prepare_energy_rows
from dualcontrol.errors import InputError, Problem
from dualcontrol.fileio import XlsxLimits, scan_csv, scan_xlsx
from dualcontrol.numbers import number_problems
from dualcontrol.reference import load_table
from dualcontrol.regions import REGION_CODE, counties, regions, uscc_in_region, uscc_problem
from dualcontrol.store import Store, schema
from dualcontrol.store.audit import seal_pending

logger = logging.getLogger(__name__)

#: Problems kept in memory and reported; beyond this only the count is given.
MAX_PROBLEMS = 5000

#: Rows read per chunk.
CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class Column:
    """One column of a report kind: canonical name, headers and whether it is required."""

    name: str
    zh: str
    en: str
    required: bool = True
    aliases: tuple[str, ...] = ()
    help_en: str = ""


#: Columns of each kind of report. The first names are the entity and the period.
KINDS: dict[str, tuple[Column, ...]] = {
    "energy": (
        Column("uscc", "统一社会信用代码", "USCC", aliases=("信用代码", "enterprise_code",
                                                          "enterprise")),
        Column("enterprise_name", "企业名称", "Enterprise name", required=False,
               aliases=("单位名称", "name")),
        Column("region_code", "行政区划代码", "Region code",
               aliases=("旗县区代码", "所在地区代码", "county_code")),
        Column("period", "统计期", "Period", aliases=("年月", "报告期", "month"),
               help_en="YYYY-MM"),
        Column("carrier", "能源名称", "Carrier", aliases=("能源品种", "energy", "品种")),
        Column("quantity", "消费量", "Quantity", aliases=("实物量", "消费合计", "amount")),
        Column("unit", "计量单位", "Unit", aliases=("单位",)),
        Column("use", "用途", "Use", required=False, aliases=("消费用途",)),
        Column("origin", "来源", "Origin", required=False, aliases=("能源来源",)),
        Column("ncv_kj_per_kg", "低位发热量(千焦/千克)", "Net calorific value (kJ/kg)",
               required=False, aliases=("低位发热量", "ncv"),
               help_en="measured, for fuels in t; blank = the carrier's default"),
    ),
    "output": (
        Column("uscc", "统一社会信用代码", "USCC", aliases=("信用代码", "enterprise_code")),
        Column("enterprise_name", "企业名称", "Enterprise name", required=False),
        Column("region_code", "行政区划代码", "Region code", aliases=("旗县区代码",)),
        Column("period", "统计期", "Period", aliases=("年月", "报告期")),
        Column("unit_code", "生产装置编号", "Unit code", aliases=("装置编号",)),
        Column("product", "产品名称", "Product", aliases=("产品",)),
        Column("output", "产量", "Output", aliases=("产品产量",)),
        Column("output_unit", "计量单位", "Output unit", aliases=("单位",)),
    ),
    "water": (
        Column("uscc", "统一社会信用代码", "USCC", aliases=("信用代码", "enterprise_code")),
        Column("enterprise_name", "企业名称", "Enterprise name", required=False),
        Column("region_code", "行政区划代码", "Region code", aliases=("旗县区代码",)),
        Column("period", "统计期", "Period", aliases=("年月", "报告期")),
        Column("withdrawal_m3", "取水量(立方米)", "Water withdrawal (m3)",
               aliases=("取水量", "withdrawal")),
        Column("reused_m3", "重复利用水量(立方米)", "Water reused (m3)", required=False,
               aliases=("重复利用水量", "reused")),
    ),
    "economic": (
        Column("region_code", "行政区划代码", "Region code", aliases=("地区代码",)),
        Column("period", "年份", "Year", aliases=("统计年度", "year")),
        Column("sector", "行业", "Sector", required=False, aliases=("国民经济行业",)),
        Column("gdp_current_10k_yuan", "地区生产总值(万元,当年价)",
               "GDP (10k yuan, current prices)",
               required=False, aliases=("地区生产总值", "增加值(万元)", "gdp")),
        Column("gdp_index_prev_year_100", "地区生产总值指数(上年=100)",
               "GDP index (previous year = 100)", required=False,
               aliases=("生产总值指数", "gdp_index")),
        Column("industrial_va_current_10k_yuan", "工业增加值(万元)",
               "Industrial value added (10k yuan)", required=False,
               aliases=("工业增加值",)),
    ),
}

#: Entity column of each kind and the column of the data table it goes to.
ENTITY_COLUMN = {"energy": "uscc", "output": "uscc", "water": "uscc",
                 "economic": "region_code"}
#: Columns whose repetition within one file makes rows duplicates.
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "energy": ("enterprise_uscc", "period", "carrier", "use", "origin"),
    "output": ("enterprise_uscc", "period", "unit_code", "product"),
    "water": ("enterprise_uscc", "period"),
    "economic": ("region_code", "period", "sector"),
}
#: Data-table column holding the entity of each kind.
TABLE_ENTITY = {"energy": "enterprise_uscc", "output": "enterprise_uscc",
                "water": "enterprise_uscc", "economic": "region_code"}


@dataclass
class IngestResult:
    """What an import did."""

    file: str
    kind: str
    rows_read: int = 0
    rows_stored: int = 0
    rows_rejected: int = 0
    revisions_created: int = 0
    unchanged_periods: int = 0
    new_enterprises: int = 0
    submission_id: int | None = None
    rejected_file: str | None = None
    encoding: str | None = None
    content_sha256: str = ""
    on_partial: str = "refuse"
    merged_rows: int = 0
    partial_replaced: int = 0
    months_set_aside: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True if the import stored anything."""
        return self.revisions_created > 0

    def as_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-ready mapping."""
        return {
            "file": self.file, "kind": self.kind, "rows_read": self.rows_read,
            "rows_stored": self.rows_stored, "rows_rejected": self.rows_rejected,
            "revisions_created": self.revisions_created,
            "unchanged_periods": self.unchanged_periods,
            "new_enterprises": self.new_enterprises, "submission_id": self.submission_id,
            "rejected_file": self.rejected_file, "encoding": self.encoding,
            "content_sha256": self.content_sha256, "on_partial": self.on_partial,
            "merged_rows": self.merged_rows, "partial_replaced": self.partial_replaced,
            "months_set_aside": self.months_set_aside,
            "problems": [p.as_dict() for p in self.problems],
        }


# --------------------------------------------------------------------------- reading


def _header_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", str(text)).strip().lstrip("\ufeff").lower()
    return re.sub(r"[\s_\-]+", "", folded)


def header_lookup(kind: str) -> dict[str, str]:
    """Return normalised header spelling -> canonical column name for ``kind``."""
    out: dict[str, str] = {}
    for col in KINDS[kind]:
        for spelling in (col.name, col.zh, col.en, *col.aliases):
            out[_header_key(spelling)] = col.name
    return out


def map_headers(headers: list[str], kind: str, file: str) -> list[str | None]:
    """Return the canonical column name of each header (None for blank trailing ones).

    Raises
    ------
    InputError
        For unknown, repeated or missing headers, all listed at once.
    """
    lookup = header_lookup(kind)
    accepted = [f"{c.zh} / {c.en}" for c in KINDS[kind]]
    problems: list[Problem] = []
    names: list[str | None] = []
    for i, header in enumerate(headers):
        text = "" if header is None else str(header)
        if not text.strip():
            names.append(None)
            continue
        key = _header_key(text)
        name = lookup.get(key) or lookup.get(re.sub(r"\(.*\)$", "", key))
        if name is None:
            problems.append(Problem("unknown column header", file=file, row=1,
                                    field=f"column {i + 1}", value=text, accepted=accepted))
        elif name in names:
            problems.append(Problem("column given twice", file=file, row=1, field=name,
                                    value=text))
        names.append(name)
    for col in KINDS[kind]:
        if col.required and col.name not in names:
            problems.append(Problem("required column is missing", file=file, row=1,
                                    field=col.name, accepted=[f"{col.zh} / {col.en}"]))
    if problems:
        raise InputError(problems)
    return names


class _CountingReader(io.RawIOBase):
    """A binary file wrapper that reports how many bytes have been read."""

    def __init__(self, handle: Any, on_read: Callable[[int], None] | None) -> None:
        self._handle = handle
        self._on_read = on_read
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        if self._on_read:
            self._on_read(self.count)
        return len(data)


def _csv_chunks(path: Path, encoding: str, chunk_rows: int,
                on_read: Callable[[int], None] | None,
                ) -> tuple[list[str], Iterator[tuple[np.ndarray, pd.DataFrame]]]:
    """Return the header and the chunks of a CSV file (rows as text).

    Each chunk has one column per header and a last column ``FIELDS`` holding the
    number of fields of the row, so a row with more fields than the header (a stray
    comma, an extra leading column) is refused instead of shifted or cut.
    """
    with open(path, encoding=encoding, newline="") as text:
        headers = next(csv.reader(text), [])
    width = len(headers)

    def frame(rows: list[list[str]]) -> pd.DataFrame:
        # ragged rows: a missing field is None, an empty one "", so counting the
        # non-missing cells counts the fields
        out = pd.DataFrame(rows, dtype=object)
        counts = out.notna().sum(axis=1).to_numpy() if out.shape[1] > width else 0
        out = out.reindex(columns=range(width)).fillna("")
        out[FIELDS] = counts
        return out

    def chunks() -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
        with open(path, "rb") as raw:
            counting = _CountingReader(raw, on_read)
            buffered = io.BufferedReader(counting, buffer_size=1 << 20)
            text = io.TextIOWrapper(buffered, encoding=encoding, newline="")
            reader = csv.reader(text)
            next(reader, None)
            line = 2
            buffer: list[list[str]] = []
            for row in reader:
                buffer.append(row)
                if len(buffer) >= chunk_rows:
                    yield np.arange(line, line + len(buffer)), frame(buffer)
                    line += len(buffer)
                    buffer = []
            if buffer:
                yield np.arange(line, line + len(buffer)), frame(buffer)

    return headers, chunks()


#: Column of a CSV chunk with the number of fields of each row.
FIELDS = "_fields"


def _extra_fields(file: str, row: int, fields: int, width: int) -> Problem:
    return Problem(f"{fields} fields, header has {width}: a value too many (a stray comma "
                   "or an extra leading column) would shift the columns", file=file, row=row,
                   accepted=[f"{width} fields per row, as in the header"])


def xlsx_structure_problems(path: Path) -> list[Problem]:
    """Return problems of an XLSX layout: more than one sheet, merged cells.

    The workbook is checked by :func:`fileio.scan_xlsx` (limits first, then one
    streaming pass); a file that is not a readable XLSX is one problem.
    """
    try:
        return scan_xlsx(path).problems
    except InputError as exc:
        return exc.problems


def _xlsx_chunks(path: Path, chunk_rows: int,
                 on_read: Callable[[int, int], None] | None,
                 ) -> tuple[list[str], Iterator[tuple[np.ndarray, pd.DataFrame]]]:
    """Return the header and the chunks of the one sheet (opened once, read-only).

    ``on_read`` is called with (rows read, rows in the sheet).
    """
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)  # the one open
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    headers = [("" if v is None else str(v)) for v in next(rows, ())]
    width = len(headers)
    total = max(sheet.max_row or 1, 1)
    if on_read:
        on_read(0, total)

    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m")
        return str(value)

    def chunks() -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
        line = 2
        buffer: list[list[str]] = []
        try:
            for values in rows:
                cells = [text(v) for v in values[:width]]
                cells += [""] * (width - len(cells))
                buffer.append(cells)
                if len(buffer) >= chunk_rows:
                    yield np.arange(line, line + len(buffer)), pd.DataFrame(buffer)
                    line += len(buffer)
                    buffer = []
                    if on_read:
                        on_read(line - 1, total)
            if buffer:
                yield np.arange(line, line + len(buffer)), pd.DataFrame(buffer)
                if on_read:
                    on_read(total, total)
        finally:
            book.close()

    return headers, chunks()


# ------------------------------------------------------------------------ validation


def plan_year_range() -> tuple[int, int]:
    """Return the first and last year of the plan periods the store accepts.

    References
    ----------
    ``data/plan_periods.csv`` (13th to 15th Five-Year Plans and their base years).
    """
    table = load_table("plan-periods")
    return int(table["base_year"].astype(int).min()), int(table["last_year"].astype(int).max())


_MONTH = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*月?|(\d{2}))\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*年?\s*$")
#: A cumulative quarter of the economic data (year-to-date GDP): ``2026-Q3``.
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


def normalise_period(text: str, grain: str) -> str | None:
    """Return the period as ``YYYY-MM`` (grain month) or ``YYYY`` (grain year), or None."""
    if grain == "year":
        m = _YEAR.match(str(text))
        return m.group(1) if m else None
    m = _MONTH.match(str(text))
    if not m:
        return None
    month = int(m.group(2) or m.group(3))
    return f"{m.group(1)}-{month:02d}" if 1 <= month <= 12 else None


@dataclass
class _Context:
    """What validation needs to know beyond one row."""

    file: str
    kind: str
    enterprises: dict[str, str]
    today: dt.date
    years: tuple[int, int]
    new_enterprises: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def last_month(self) -> str:
        return f"{self.today.year}-{self.today.month:02d}"


def _blank(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip() == ""


def _period_problems(values: pd.Series, lines: np.ndarray, ctx: _Context,
                     problems: list[tuple[int, Problem]]) -> pd.Series:
    grain = "year" if ctx.kind == "economic" else "month"
    first, last = ctx.years
    accepted_fmt = (["YYYY", "YYYY-Qn (year to date)"] if ctx.kind == "economic" else ["YYYY"]
                    ) if grain == "year" else ["YYYY-MM", "YYYY/MM", "YYYYMM", "YYYY年M月"]
    mapping: dict[str, tuple[str | None, str | None]] = {}
    now = str(ctx.today.year) if grain == "year" else ctx.last_month
    for raw in values.unique():
        period = normalise_period(raw, grain)
        ends = period
        if period is None and ctx.kind == "economic":
            # year-to-date GDP of a quarter (cumulative from January, as published)
            quarter = _QUARTER.match(str(raw))
            if quarter:
                period = f"{quarter.group(1)}-Q{quarter.group(2)}"
                ends = quarter.group(1)
        why = None
        if period is None:
            why = "period not understood"
        elif not first <= int(period[:4]) <= last:
            why = f"period outside the plan years {first}-{last}"
        elif ends is not None and ends > now:
            why = f"period is in the future (latest accepted: {now})"
        mapping[raw] = (period, why)
    out = values.map(lambda v: mapping[v][0])
    for i, raw in enumerate(values):
        why = mapping[raw][1]
        if why:
            accepted = accepted_fmt if why.startswith("period not") else [f"{first}..{now}"]
            problems.append((i, Problem(why, file=ctx.file, row=int(lines[i]), field="period",
                                        value=raw, accepted=accepted)))
    return out


def _enterprise_problems(frame: pd.DataFrame, lines: np.ndarray, ctx: _Context,
                         problems: list[tuple[int, Problem]]) -> None:
    county_codes = set(counties()["code"])
    checked: dict[tuple[str, str, str], str | None] = {}
    names = frame.get("enterprise_name")
    for i, (code, county) in enumerate(zip(frame["uscc"], frame["region_code"], strict=True)):
        name = "" if names is None else str(names.iloc[i]).strip()
        key = (code, county, "named" if name else "")
        if key not in checked:
            checked[key] = _enterprise_why(code, county, bool(name), ctx, county_codes)
        why = checked[key]
        if why:
            fld = "region_code" if why.startswith(("enterprise is registered", "region")) \
                else "uscc"
            value = county if fld == "region_code" else code
            accepted: list[str] = []
            if why.startswith("region code"):
                accepted = sorted(county_codes)
            elif why.startswith("enterprise is registered"):
                accepted = [ctx.enterprises.get(code, "")]
            problems.append((i, Problem(why, file=ctx.file, row=int(lines[i]), field=fld,
                                        value=value, accepted=accepted)))
        elif code not in ctx.enterprises and code not in ctx.new_enterprises:
            ctx.new_enterprises[code] = (name, county)


def _enterprise_why(code: str, county: str, named: bool, ctx: _Context,
                    county_codes: set[str]) -> str | None:
    bad = uscc_problem(code)
    if bad:
        return bad
    if county not in county_codes:
        return "region code is not a banner, county or district of Inner Mongolia (GB/T 2260)"
    if code[2:4] != REGION_CODE[:2]:
        return ("enterprise not in the region: its code was issued outside Inner Mongolia "
                f"(registering office {code[2:8]})")
    registered = ctx.enterprises.get(code)
    if registered is not None and registered != county:
        return f"enterprise is registered in {registered}, not in {county}"
    if registered is None:
        if not uscc_in_region(code, county):
            return (f"enterprise not in the region: its code was issued by office "
                    f"{code[2:8]}, which does not cover {county}")
        if not named:
            return "enterprise is not registered yet: give its name (企业名称) to register it"
        new = ctx.new_enterprises.get(code)
        if new is not None and new[1] != county:
            return f"enterprise given in two regions in this file ({new[1]} and {county})"
    return None


def _number(values: pd.Series, lines: np.ndarray, ctx: _Context, name: str,
            problems: list[tuple[int, Problem]], *, required: bool) -> pd.Series:
    """Return the numbers of a column by the one grammar and range (:mod:`numbers`)."""
    numbers, found = number_problems(values, ctx.kind, name, file=ctx.file, rows=lines,
                                     required=required)
    problems.extend(found)
    return numbers


def output_unit_problem(product: str, unit: str) -> tuple[str, list[str]] | None:
    """Return why ``unit`` cannot measure the output of ``product``, and what can, or None.

    A product with a benchmark level (:func:`benchmarking.level_for`) takes the level's
    output unit, its aliases, or any unit of the same dimension (``MWh`` for ``kWh``);
    another product takes any unit of the units table.
    """
    from dualcontrol.benchmarking import level_for, output_factor
    from dualcontrol.reference import resolve_unit, units

    try:
        level = level_for(product)
    except InputError:
        level = None
    try:
        if level is not None:
            output_factor(unit, level)
        else:
            resolve_unit(unit)
    except InputError as exc:
        problem = exc.problems[0]
        return problem.message, [str(a) for a in problem.accepted] or list(units())
    return None


def _output_unit_problems(frame: pd.DataFrame, lines: np.ndarray, ctx: _Context,
                          problems: list[tuple[int, Problem]]) -> None:
    pairs = list(zip(frame["product"], frame["output_unit"], strict=True))
    checked = {pair: output_unit_problem(*pair) for pair in set(pairs) if pair[1] != ""}
    for i, pair in enumerate(pairs):
        found = checked.get(pair)
        if found:
            problems.append((i, Problem(found[0], file=ctx.file, row=int(lines[i]),
                                        field="output_unit", value=pair[1],
                                        accepted=found[1])))


def validate_chunk(frame: pd.DataFrame, lines: np.ndarray, ctx: _Context,
                   ) -> tuple[pd.DataFrame, list[tuple[int, Problem]]]:
    """Return the valid rows of a chunk in data-table columns, and the problems.

    ``frame`` has the canonical column names of :data:`KINDS` as text; ``lines`` the
    spreadsheet row number of each row. Problems come as (position, problem).
    """
    kind = ctx.kind
    problems: list[tuple[int, Problem]] = []
    frame = frame.reset_index(drop=True)
    for col in KINDS[kind]:
        if col.name not in frame:
            frame[col.name] = ""
        frame[col.name] = frame[col.name].fillna("").astype(str).str.strip()
    frame["period"] = _period_problems(frame["period"], lines, ctx, problems)
    out = pd.DataFrame({"line": lines.astype("int64")})
    if kind in ("energy", "output", "water"):
        frame["uscc"] = frame["uscc"].str.upper()
        _enterprise_problems(frame, lines, ctx, problems)
        out["enterprise_uscc"] = frame["uscc"]
    else:
        known = set(regions()["code"])
        for i in np.flatnonzero(~frame["region_code"].isin(known).to_numpy()):
            problems.append((int(i), Problem("unknown administrative division code (GB/T 2260)",
                                             file=ctx.file, row=int(lines[i]),
                                             field="region_code",
                                             value=frame["region_code"].iloc[i],
                                             accepted=sorted(known))))
        out["region_code"] = frame["region_code"]
    out["period"] = frame["period"]

    if kind == "energy":
        # numbers go through the one grammar here; the accounting core gets them as
        # plain decimal text ("0" / "" for refused cells, whose rows are dropped anyway)
        quantity = _number(frame["quantity"], lines, ctx, "quantity", problems,
                           required=False)
        ncv = _number(frame["ncv_kj_per_kg"], lines, ctx, "ncv_kj_per_kg", problems,
                      required=False)
        refused_quantity = quantity.isna() & (frame["quantity"] != "")
        energy = pd.DataFrame({
            "enterprise": frame["uscc"], "period": "2000",  # period checked above
            "carrier": frame["carrier"],
            "quantity": quantity.map(repr).where(quantity.notna(),
                                                 np.where(refused_quantity, "0", "")),
            "unit": frame["unit"], "use": frame["use"], "origin": frame["origin"],
            "ncv_kj_per_kg": ncv.map(repr).where(ncv.notna(), ""),
        })
        try:
            prepared = prepare_energy_rows(energy, first_row=0)
        except InputError as exc:
            for p in exc.problems:
                pos = int(p.row) if p.row is not None else 0
                p.row = int(lines[pos])
                p.file = ctx.file
                if p.field == "quantity" and p.value is not None:
                    p.value = frame["quantity"].iloc[pos]
                problems.append((pos, p))
            bad = {pos for pos, _ in problems}
            good = [i for i in range(len(frame)) if i not in bad]
            prepared = prepare_energy_rows(energy.iloc[good], first_row=0) if good else None
            if prepared is not None:
                prepared.index = good
        for name in ("carrier", "quantity", "unit", "use", "origin", "ncv_gj_per_t"):
            out[name] = prepared[name] if prepared is not None else None
    elif kind == "output":
        out["unit_code"] = frame["unit_code"]
        out["product"] = frame["product"]
        out["output"] = _number(frame["output"], lines, ctx, "output", problems, required=True)
        out["output_unit"] = frame["output_unit"]
        _output_unit_problems(frame, lines, ctx, problems)
        for name in ("unit_code", "product", "output_unit"):
            for i in np.flatnonzero((frame[name] == "").to_numpy()):
                problems.append((int(i), Problem("value is empty", file=ctx.file,
                                                 row=int(lines[i]), field=name)))
    elif kind == "water":
        out["withdrawal_m3"] = _number(frame["withdrawal_m3"], lines, ctx, "withdrawal_m3",
                                       problems, required=True)
        out["reused_m3"] = _number(frame["reused_m3"], lines, ctx, "reused_m3", problems,
                                   required=False)
    else:
        out["sector"] = frame["sector"].where(frame["sector"] != "", "total")
        for name in ("gdp_current_10k_yuan", "gdp_index_prev_year_100",
                     "industrial_va_current_10k_yuan"):
            out[name] = _number(frame[name], lines, ctx, name, problems, required=False)
        empty = (frame["gdp_current_10k_yuan"] == "") & (
            frame["industrial_va_current_10k_yuan"] == "")
        for i in np.flatnonzero(empty.to_numpy()):
            problems.append((int(i), Problem("give GDP or industrial value added", file=ctx.file,
                                             row=int(lines[i]), field="gdp_current_10k_yuan")))
    _length_problems(frame, out, lines, ctx, problems)
    bad = sorted({pos for pos, _ in problems})
    valid = out.drop(index=bad)
    return valid, problems


def text_limits(kind: str) -> dict[str, int]:
    """Return the longest text each stored column of ``kind`` holds [characters].

    The limits are the lengths of the store's columns (:mod:`dualcontrol.store.schema`),
    which PostgreSQL enforces (DuckDB does not): checking them here refuses a long
    name with its row on both stores instead of failing the whole import on one.
    """
    limits = {c.name: int(c.type.length) for c in schema.STAGING_TABLES[kind].columns
              if isinstance(c.type, sa.String) and c.type.length}
    limits["enterprise_name"] = int(schema.enterprises.c.name.type.length)
    return limits


def _length_problems(frame: pd.DataFrame, out: pd.DataFrame, lines: np.ndarray,
                     ctx: _Context, problems: list[tuple[int, Problem]]) -> None:
    for name, limit in text_limits(ctx.kind).items():
        source = frame if name == "enterprise_name" else out
        if name not in source:
            continue
        values = source[name]
        text = values.where(values.notna(), "").astype(str)
        for i in np.flatnonzero((text.str.len() > limit).to_numpy()):
            shown = text.iloc[i]
            if name == "enterprise_name":  # not registered under a name it cannot hold
                code = str(frame["uscc"].iloc[i])
                if ctx.new_enterprises.get(code, ("",))[0] == shown.strip():
                    del ctx.new_enterprises[code]
            problems.append((int(i), Problem(
                f"text too long: {len(shown)} characters, at most {limit} are stored",
                file=ctx.file, row=int(lines[i]), field=name,
                value=shown[:60] + ("..." if len(shown) > 60 else ""),
                accepted=[f"at most {limit} characters"])))


# ----------------------------------------------------------------------------- store


def _staging_insert(conn: Connection, store: Store, table: sa.Table, frame: pd.DataFrame,
                    ) -> None:
    """Bulk-append ``frame`` (columns of ``table``) inside the open transaction.

    A nullable column the frame lacks is stored as NULL (NaN is NULL on both stores).
    """
    if frame.empty:
        return
    columns = [c.name for c in table.columns]
    missing = {c.name: np.nan for c in table.columns if c.name not in frame and c.nullable}
    frame = frame.assign(**missing)[columns]
    raw = conn.connection.dbapi_connection
    if store.is_duckdb:
        name = f"_chunk_{id(frame)}"
        raw.register(name, frame)
        try:
            raw.execute(f'INSERT INTO {table.name} SELECT {", ".join(columns)} FROM {name}')
        finally:
            raw.unregister(name)
    else:
        cursor = raw.cursor()
        with cursor.copy(f'COPY {table.name} ({", ".join(columns)}) FROM STDIN') as copy:
            for row in frame.itertuples(index=False, name=None):
                copy.write_row([None if (isinstance(v, float) and np.isnan(v)) else v
                                for v in row])


def bulk_insert(conn: Connection, store: Store, table: sa.Table, frame: pd.DataFrame) -> None:
    """Append a DataFrame to a table inside the open transaction (DuckDB scan or COPY)."""
    _staging_insert(conn, store, table, frame)


def _payload_columns(kind: str) -> list[str]:
    data = schema.REPORT_TABLES[kind]
    return [c.name for c in data.columns if c.name not in ("revision_id", "line")]


#: Columns added after data was stored: they enter a row's text (and so the change
#: detection) only when set, so rows stored before them keep their content hash.
_LATER_COLUMNS: frozenset[str] = frozenset({"ncv_gj_per_t"})


def _row_text(kind: str) -> str:
    payload = _payload_columns(kind)
    parts = [f"COALESCE(CAST({c} AS VARCHAR), '')" for c in payload if c not in _LATER_COLUMNS]
    later = "".join(f" || COALESCE('~' || CAST({c} AS VARCHAR), '')"
                    for c in payload if c in _LATER_COLUMNS)
    return " || '~' || ".join(parts) + later


def _duplicate_lines(conn: Connection, kind: str, import_id: int) -> list[tuple[int, int, str]]:
    """Return (line, first line of its key, key text) of every staged row whose key repeats.

    One window over the import's rows (a sort), not a join of the rows to their
    duplicated keys: PostgreSQL, without statistics on the freshly filled staging
    table, planned that join as a nested loop and took minutes on a large file.
    """
    keys = KEY_COLUMNS[kind]
    staging = schema.STAGING_TABLES[kind].name
    key_text = " || ' / ' || ".join(f"CAST({k} AS VARCHAR)" for k in keys)
    sql = f"""
        SELECT line, first_line, key_text FROM (
            SELECT line, MIN(line) OVER w AS first_line, COUNT(*) OVER w AS n,
                   {key_text} AS key_text
            FROM {staging} WHERE import_id = :iid
            WINDOW w AS (PARTITION BY {", ".join(keys)})) t
        WHERE n > 1 ORDER BY line"""
    return [(int(a), int(b), str(c)) for a, b, c in conn.execute(sa.text(sql), {"iid": import_id})]


#: What to do with a submission holding fewer rows of an entity-period than stored.
PARTIAL_MODES = ("refuse", "replace", "merge")


def _row_keys(kind: str) -> tuple[str, ...]:
    """Return the columns telling the rows of one entity-period apart (carrier, use, ...)."""
    return tuple(k for k in KEY_COLUMNS[kind] if k not in (TABLE_ENTITY[kind], "period"))


def _latest_sql() -> str:
    return """SELECT entity, period, id FROM (
                  SELECT entity, period, id,
                         ROW_NUMBER() OVER (PARTITION BY entity, period ORDER BY id DESC) AS rn
                  FROM report_revisions WHERE kind = :kind) ranked
              WHERE rn = 1"""


def _same_key(kind: str, left: str, right: str) -> str:
    return " AND ".join(f"COALESCE(CAST({left}.{k} AS VARCHAR), '') = "
                        f"COALESCE(CAST({right}.{k} AS VARCHAR), '')" for k in _row_keys(kind))


def _partial_months(conn: Connection, kind: str, import_id: int,
                    ) -> list[tuple[str, str, int, int, int, list[str]]]:
    """Return the entity-periods staged with fewer rows than their latest stored revision.

    Each as (entity, period, rows staged, rows stored, first line, the stored keys the
    submission lacks, e.g. ``diesel / combustion / purchased``).
    """
    keys = _row_keys(kind)
    if not keys:
        return []
    staging = schema.STAGING_TABLES[kind].name
    data = schema.REPORT_TABLES[kind].name
    entity = TABLE_ENTITY[kind]
    params = {"iid": import_id, "kind": kind}
    rows = conn.execute(sa.text(f"""
        SELECT s.entity, s.period, s.n, COUNT(*) AS m, s.first_line, l.id
        FROM (SELECT {entity} AS entity, period, COUNT(*) AS n, MIN(line) AS first_line
              FROM {staging} WHERE import_id = :iid GROUP BY {entity}, period) s
        JOIN ({_latest_sql()}) l ON l.entity = s.entity AND l.period = s.period
        JOIN {data} d ON d.revision_id = l.id
        GROUP BY s.entity, s.period, s.n, s.first_line, l.id
        HAVING COUNT(*) > s.n
        ORDER BY s.first_line"""), params).all()
    out = []
    key_text = " || ' / ' || ".join(f"COALESCE(CAST(d.{k} AS VARCHAR), '')" for k in keys)
    for ent, period, n, m, first, prev in rows[:MAX_PROBLEMS]:
        dropped = [r[0] for r in conn.execute(sa.text(f"""
            SELECT {key_text} FROM {data} d WHERE d.revision_id = :prev AND NOT EXISTS (
                SELECT 1 FROM {staging} s WHERE s.import_id = :iid AND s.{entity} = :ent
                   AND s.period = :period AND {_same_key(kind, "s", "d")})
            ORDER BY d.line"""), {"prev": prev, "iid": import_id, "ent": ent,
                                 "period": period})]
        out.append((str(ent), str(period), int(n), int(m), int(first), dropped))
    return out


def _merge_stored(conn: Connection, kind: str, import_id: int) -> int:
    """Stage the stored rows of each submitted entity-period the submission does not replace.

    The latest revision's rows whose keys (carrier, use, origin; unit and product;
    sector) the submission lacks join the submission, with negative lines (-1, -2, ...)
    marking them as carried over. Returns how many rows were carried over.
    """
    staging = schema.STAGING_TABLES[kind].name
    data = schema.REPORT_TABLES[kind].name
    entity = TABLE_ENTITY[kind]
    payload = _payload_columns(kind)
    result = conn.execute(sa.text(f"""
        INSERT INTO {staging} (import_id, line, {", ".join(payload)})
        SELECT :iid, -ROW_NUMBER() OVER (PARTITION BY d.{entity}, d.period ORDER BY d.line),
               {", ".join(f"d.{c}" for c in payload)}
        FROM {data} d
        JOIN ({_latest_sql()}) l ON d.revision_id = l.id
        JOIN (SELECT DISTINCT {entity} AS entity, period FROM {staging}
              WHERE import_id = :iid) g ON g.entity = l.entity AND g.period = l.period
        WHERE NOT EXISTS (SELECT 1 FROM {staging} s WHERE s.import_id = :iid
                          AND s.{entity} = d.{entity} AND s.period = d.period
                          AND {_same_key(kind, "s", "d")})"""),
        {"iid": import_id, "kind": kind})
    return int(result.rowcount or 0)


def _set_aside(conn: Connection, kind: str, import_id: int,
               months: dict[tuple[str, str], str]) -> list[dict[str, Any]]:
    """Remove the staged rows of ``months`` (entity, period -> why); return them as records."""
    if not months:
        return []
    staging = schema.STAGING_TABLES[kind].name
    entity = TABLE_ENTITY[kind]
    table = f"_aside_{import_id}"
    conn.execute(sa.text(f"CREATE TEMPORARY TABLE {table} (entity VARCHAR, period VARCHAR)"))
    try:
        conn.execute(sa.text(f"INSERT INTO {table} VALUES (:entity, :period)"),
                     [{"entity": e, "period": p} for e, p in months])
        where = (f"import_id = :iid AND EXISTS (SELECT 1 FROM {table} a WHERE "
                 f"a.entity = {staging}.{entity} AND a.period = {staging}.period)")
        result = conn.execute(sa.text(f"SELECT * FROM {staging} WHERE {where} ORDER BY line"),
                              {"iid": import_id})
        records = [dict(r._mapping) for r in result]
        conn.execute(sa.text(f"DELETE FROM {staging} WHERE {where}"), {"iid": import_id})
    finally:
        conn.execute(sa.text(f"DROP TABLE {table}"))
    out = []
    for rec in records:
        rec.pop("import_id", None)
        row = int(rec.pop("line"))
        out.append({"row": row, **rec,
                    "problems": months[(str(rec[entity]), str(rec["period"]))]})
    return out


def _finalise(conn: Connection, kind: str, import_id: int, user: str, now: dt.datetime,
              file_name: str) -> tuple[int, int, int]:
    """Turn staged rows into revisions and data rows; return (revisions, unchanged, rows).

    The staged rows of each entity-period are hashed (md5 of the sorted row texts) and
    compared with the latest stored revision; only changed or new entity-periods get
    a revision, an audit entry and their data rows.
    """
    staging = schema.STAGING_TABLES[kind].name
    data = schema.REPORT_TABLES[kind].name
    entity = TABLE_ENTITY[kind]
    payload = _payload_columns(kind)
    groups = f"_groups_{import_id}"
    params = {"iid": import_id, "sid": import_id, "kind": kind}
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        # fresh rows have no statistics; without them the planner picks nested loops
        conn.execute(sa.text(f"ANALYZE {staging}"))
    conn.execute(sa.text(f"""
        CREATE TEMPORARY TABLE {groups} AS
        SELECT g.entity, g.period, g.h, l.id AS prev_id, l.content_md5 AS prev_md5
        FROM (SELECT {entity} AS entity, period,
                     MD5(STRING_AGG({_row_text(kind)}, '|' ORDER BY {_row_text(kind)})) AS h
              FROM {staging} WHERE import_id = :iid GROUP BY {entity}, period) g
        LEFT JOIN (
            SELECT entity, period, id, content_md5 FROM (
                SELECT entity, period, id, content_md5,
                       ROW_NUMBER() OVER (PARTITION BY entity, period ORDER BY id DESC) AS rn
                FROM report_revisions WHERE kind = :kind) ranked
            WHERE rn = 1) l
        ON l.entity = g.entity AND l.period = g.period"""), params)
    try:
        counts = conn.execute(sa.text(
            f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN prev_md5 = h THEN 1 ELSE 0 END), 0) "
            f"FROM {groups}")).one()
        total_groups, unchanged = int(counts[0]), int(counts[1])
        if total_groups == unchanged:
            return 0, unchanged, 0
        conn.execute(sa.text(f"""
            INSERT INTO report_revisions (submission_id, kind, entity, period, content_md5)
            SELECT :sid, :kind, entity, period, h FROM {groups}
            WHERE prev_md5 IS NULL OR prev_md5 <> h ORDER BY entity, period"""), params)
        if postgres:
            conn.execute(sa.text(f"ANALYZE {groups}"))
            conn.execute(sa.text("ANALYZE report_revisions"))
        inserted = conn.execute(sa.text(f"""
            INSERT INTO {data} (revision_id, line, {", ".join(payload)})
            SELECT r.id, s.line, {", ".join(f"s.{c}" for c in payload)}
            FROM {staging} s JOIN report_revisions r
              ON r.submission_id = :sid AND r.kind = :kind AND r.entity = s.{entity}
             AND r.period = s.period
            WHERE s.import_id = :iid"""), params).rowcount
        conn.execute(sa.text(f"""
            INSERT INTO audit_log (changed_at, username, action, entity, entity_key,
                                   before_json, after_json, submission_id)
            SELECT :now, :user, CASE WHEN g.prev_id IS NULL THEN 'create' ELSE 'revise' END,
                   :table, r.entity || ' ' || r.period,
                   CASE WHEN g.prev_id IS NULL THEN NULL ELSE
                     '{{"revision_id": ' || CAST(g.prev_id AS VARCHAR) || ', "content_md5": "'
                     || g.prev_md5 || '"}}' END,
                   '{{"revision_id": ' || CAST(r.id AS VARCHAR) || ', "content_md5": "'
                     || r.content_md5 || '", "file": ' || :file || '}}',
                   :sid
            FROM report_revisions r JOIN {groups} g
              ON g.entity = r.entity AND g.period = r.period
            WHERE r.submission_id = :sid AND r.kind = :kind"""),
            params | {"now": now, "user": user, "table": data,
                      "file": json.dumps(file_name)})
    finally:
        conn.execute(sa.text(f"DROP TABLE {groups}"))
    return total_groups - unchanged, unchanged, int(inserted or 0)


def _register_enterprises(conn: Connection, new: dict[str, tuple[str, str]], user: str,
                          now: dt.datetime, submission_id: int) -> int:
    if not new:
        return 0
    have = {r[0] for r in conn.execute(
        sa.select(schema.enterprises.c.uscc).where(schema.enterprises.c.uscc.in_(list(new))))}
    rows = [{"uscc": code, "name": name, "county_code": county, "park_code": None,
             "industry": "unspecified", "registered_at": now}
            for code, (name, county) in new.items() if code not in have]
    if rows:
        # another import may register the same enterprise at the same moment (PostgreSQL
        # runs them side by side): the first one's row stands, this one's is skipped
        # instead of failing on the primary key, and only rows really inserted are audited
        inserted = set()
        for row in rows:
            got = conn.execute(sa.text(
                "INSERT INTO enterprises (uscc, name, county_code, park_code, industry, "
                "registered_at) VALUES (:uscc, :name, :county_code, :park_code, :industry, "
                ":registered_at) ON CONFLICT (uscc) DO NOTHING RETURNING uscc"), row).first()
            if got is not None:
                inserted.add(got[0])
        rows = [r for r in rows if r["uscc"] in inserted]
    if rows:
        conn.execute(schema.audit_log.insert(), [
            {"changed_at": now, "username": user, "action": "create", "entity": "enterprises",
             "entity_key": r["uscc"], "before_json": None,
             "after_json": json.dumps({k: r[k] for k in ("uscc", "name", "county_code")},
                                      ensure_ascii=False),
             "submission_id": submission_id} for r in rows])
    return len(rows)


def _known_enterprises(store: Store) -> dict[str, str]:
    with store.connect() as conn:
        return dict(conn.execute(sa.select(schema.enterprises.c.uscc,
                                           schema.enterprises.c.county_code)).all())


class _NoChangeError(Exception):
    """Raised inside the transaction to roll back an import that changes nothing."""


#: Times an import is run again after a concurrent one changed the audit chain's head
#: first (DuckDB's snapshot isolation refuses the second writer; nothing was stored).
CONFLICT_RETRIES = 3


def ingest_file(store: Store, path: str | Path, kind: str = "energy", **options: Any,
                ) -> IngestResult:
    """Validate and store a report file as one transaction (see :func:`_ingest_once`).

    Two imports running at once in one process on the embedded store both reach the
    audit chain's head; DuckDB lets the first commit and refuses the second, which
    stored nothing and is run again here (up to :data:`CONFLICT_RETRIES` times).
    """
    from dualcontrol.store.faults import StoreConflictError

    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            return _ingest_once(store, path, kind, **options)
        except StoreConflictError:
            if attempt == CONFLICT_RETRIES or not store.is_duckdb:
                raise
            logger.info("%s: a concurrent import changed the store first; running again",
                        path)
    raise AssertionError("unreachable")


def _ingest_once(store: Store, path: str | Path, kind: str = "energy", *,
                skip_invalid: bool = False, on_partial: str = "refuse",
                user: str | None = None, chunk_rows: int = CHUNK_ROWS,
                progress: Callable[[int, int], None] | None = None,
                today: dt.date | None = None,
                limits: XlsxLimits | None = None,
                before_commit: Callable[[Connection, int], None] | None = None,
                ) -> IngestResult:
    """Validate and store a CSV or XLSX report file as one transaction.

    Parameters
    ----------
    store : Store
        The open store.
    path : str or Path
        The file (``.csv`` or ``.xlsx``).
    kind : str
        One of :data:`KINDS`.
    skip_invalid : bool
        Store the entity-periods whose rows are all valid and write the rows of the
        others to ``<file>.rejected.csv`` (written before anything is committed)
        instead of storing nothing. An entity-period is never stored in part.
    on_partial : str
        What to do when the submission has fewer rows of an entity-period than its
        latest stored revision: ``refuse`` (the default; the problem lists the rows
        that would be dropped), ``replace`` (the submission is the new revision) or
        ``merge`` (the new revision is the stored rows with the submitted ones
        replacing those of the same carrier, use and origin; likewise unit and product,
        or sector).
    user : str, optional
        Who submits (default: the operating-system user).
    chunk_rows : int
        Rows read and checked at a time.
    progress : callable, optional
        Called with (done, total) in bytes (CSV) or rows (XLSX).
    today : date, optional
        The date periods may not be after (default: today, UTC).
    limits : XlsxLimits, optional
        How much an XLSX file may unpack to (default: the command line's row of
        ``data/file_limits.csv``; the web passes its own).
    before_commit : callable, optional
        Called with the transaction's connection and the submission id once the
        revisions are in place, before anything is committed; raising rolls the whole
        import back (the web's confirmation of large energy drops).

    Raises
    ------
    InputError
        With every problem of the file, if any and ``skip_invalid`` is not set.
    """
    path = Path(path)
    file = str(path)
    if kind not in KINDS:
        raise InputError(Problem("unknown kind of report", field="kind", value=kind,
                                 accepted=list(KINDS)))
    if on_partial not in PARTIAL_MODES:
        raise InputError(Problem("unknown way of treating partial submissions",
                                 field="on_partial", value=on_partial,
                                 accepted=list(PARTIAL_MODES)))
    if not path.is_file():
        raise InputError(Problem("file not found", file=file))
    suffix = path.suffix.lower()
    result = IngestResult(file=file, kind=kind, on_partial=on_partial)
    size = path.stat().st_size
    if suffix in (".csv", ".txt"):
        result.encoding, result.content_sha256 = scan_csv(path)
        headers, chunks = _csv_chunks(path, result.encoding, chunk_rows,
                                      (lambda n: progress(n, size)) if progress else None)
    elif suffix in (".xlsx", ".xlsm"):
        if size == 0:
            raise InputError(Problem("file is empty", file=file))
        # limits (a decompression bomb is refused unread), layout and hash in one pass,
        # then the workbook is opened once
        scan = scan_xlsx(path, limits)
        if scan.problems:
            raise InputError(scan.problems)
        result.content_sha256 = scan.sha256
        headers, chunks = _xlsx_chunks(path, chunk_rows, progress)
    else:
        raise InputError(Problem("unsupported file type", file=file, value=suffix,
                                 accepted=[".csv", ".xlsx"]))
    if not any(str(h or "").strip() for h in headers):
        raise InputError(Problem("file has no header row", file=file,
                                 accepted=[f"{c.zh} / {c.en}" for c in KINDS[kind]]))
    names = map_headers(headers, kind, file)
    user = user or _default_user()
    now = dt.datetime.now(dt.UTC)
    ctx = _Context(file=file, kind=kind, enterprises=_known_enterprises(store),
                   today=today or now.date(), years=plan_year_range())
    rejected_path = path.with_name(path.name + ".rejected.csv")
    if skip_invalid:
        _check_writable(rejected_path)
    rejected_rows: list[dict[str, Any]] = []
    bad_months: dict[tuple[str, str], str] = {}
    entity_col = ENTITY_COLUMN[kind]
    problems: list[Problem] = []
    problem_count = 0
    try:
        with store.begin() as conn:
            submission_id = int(conn.execute(schema.submissions.insert().values(
                kind=kind, file_name=path.name, content_sha256=result.content_sha256,
                submitter=user, submitted_at=now, rows_read=0, rows_rejected=0,
                revisions_created=0).returning(schema.submissions.c.id)).scalar_one())
            staging = schema.STAGING_TABLES[kind]
            for lines, raw in chunks:
                if FIELDS in raw:
                    fields = raw.pop(FIELDS).to_numpy()
                    long = fields > len(headers)
                    if long.any():
                        result.rows_read += int(long.sum())
                        for pos in np.flatnonzero(long):
                            problem_count += 1
                            rejected_rows.append({"row": int(lines[pos]),
                                                  "problems": "too many fields"})
                            if len(problems) < MAX_PROBLEMS:
                                problems.append(_extra_fields(file, int(lines[pos]),
                                                              int(fields[pos]), len(headers)))
                        raw, lines = raw[~long].reset_index(drop=True), lines[~long]
                raw = raw.iloc[:, : len(names)]
                raw.columns = [n or f"_blank{i}" for i, n in enumerate(names)]
                raw = raw[[n for n in names if n]]
                blank = raw.apply(lambda s: s.astype(str).str.strip() == "").all(axis=1)
                if blank.any():
                    keep = ~blank.to_numpy()
                    raw, lines = raw[keep].reset_index(drop=True), lines[keep]
                if raw.empty:
                    continue
                result.rows_read += len(raw)
                valid, found = validate_chunk(raw.copy(), lines, ctx)
                problem_count += len(found)
                for _, p in found:
                    if len(problems) < MAX_PROBLEMS:
                        problems.append(p)
                if found and skip_invalid:
                    rejected_rows.extend(_rejected(raw, lines, found))
                    grain = "year" if kind == "economic" else "month"
                    for pos in sorted({pos for pos, _ in found}):
                        ent = str(raw[entity_col].iloc[pos]).strip().upper()
                        text = str(raw["period"].iloc[pos])
                        month = (ent, normalise_period(text, grain) or text.strip())
                        bad_months.setdefault(month, f"set aside: row {int(lines[pos])} of "
                                              "this entity-period is invalid")
                valid = valid.assign(import_id=submission_id)
                _staging_insert(conn, store, staging, valid)
            if result.rows_read == 0:
                raise InputError(Problem("file has no data rows", file=file))
            duplicates = _duplicate_lines(conn, kind, submission_id)
            for line, first, key in duplicates:
                problem_count += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append(Problem(
                        f"duplicated row: the same {' / '.join(KEY_COLUMNS[kind])} "
                        f"appears in rows {first} and {line}" if line != first else
                        f"duplicated row: this {' / '.join(KEY_COLUMNS[kind])} appears "
                        f"again later in the file",
                        file=file, row=line, field=", ".join(KEY_COLUMNS[kind]), value=key))
            if problems and not skip_invalid:
                raise InputError(_sorted(problems, problem_count))
            if duplicates:
                dup_lines = sorted({d[0] for d in duplicates})
                rejected_rows.extend({"row": ln, "problems": "duplicated row"}
                                     for ln in dup_lines)
                entity = TABLE_ENTITY[kind]
                for ent, period, ln in conn.execute(sa.text(
                        f"SELECT {entity}, period, line FROM {staging.name} WHERE import_id "
                        f"= :iid AND line IN ({', '.join(map(str, dup_lines))})"),
                        {"iid": submission_id}):
                    bad_months.setdefault((str(ent), str(period)),
                                          f"set aside: row {ln} of this entity-period is "
                                          "duplicated")
                conn.execute(sa.text(f"DELETE FROM {staging.name} WHERE import_id = :iid AND "
                                     f"line IN ({', '.join(map(str, dup_lines))})"),
                             {"iid": submission_id})
            aside = _set_aside(conn, kind, submission_id, bad_months)
            partial = _partial_months(conn, kind, submission_id)
            if partial and on_partial == "refuse":
                refusals = [_partial_problem(file, kind, p) for p in partial]
                if not skip_invalid:
                    raise InputError(refusals)
                problems.extend(refusals)
                problem_count += len(refusals)
                aside += _set_aside(conn, kind, submission_id, {
                    (e, per): f"set aside: partial submission ({n} of {m} rows stored)"
                    for e, per, n, m, _, _ in partial})
            elif partial and on_partial == "replace":
                result.partial_replaced = len(partial)
            if on_partial == "merge":
                result.merged_rows = _merge_stored(conn, kind, submission_id)
            result.months_set_aside = len({(r[TABLE_ENTITY[kind]], r["period"])
                                           for r in aside})
            rejected_rows.extend(aside)
            result.new_enterprises = _register_enterprises(conn, ctx.new_enterprises, user,
                                                           now, submission_id)
            revisions, unchanged, stored = _finalise(conn, kind, submission_id, user, now,
                                                     path.name)
            conn.execute(sa.text(f"DELETE FROM {staging.name} WHERE import_id = :iid"),
                         {"iid": submission_id})
            result.rows_rejected = len({r["row"] for r in rejected_rows})
            result.revisions_created, result.unchanged_periods = revisions, unchanged
            result.rows_stored = stored
            result.problems = _sorted(problems, problem_count) if problems else []
            if rejected_rows:
                # written before the commit: a file that cannot be written stores nothing
                _write_rejected(rejected_path, rejected_rows)
                result.rejected_file = str(rejected_path)
            if revisions == 0 and result.new_enterprises == 0:
                raise _NoChangeError
            if before_commit is not None:
                before_commit(conn, submission_id)
            seal_pending(conn)  # the audit rows of this import join the hash chain
            conn.execute(schema.submissions.update()
                         .where(schema.submissions.c.id == submission_id)
                         .values(rows_read=result.rows_read, rows_rejected=result.rows_rejected,
                                 revisions_created=revisions))
            result.submission_id = submission_id
    except _NoChangeError:
        logger.info("%s: nothing changed (%d periods as stored)", file,
                    result.unchanged_periods)
    except BaseException:
        if result.rejected_file:
            Path(result.rejected_file).unlink(missing_ok=True)
            result.rejected_file = None
        raise
    return result


def _partial_problem(file: str, kind: str,
                     partial: tuple[str, str, int, int, int, list[str]]) -> Problem:
    entity, period, n, m, first, dropped = partial
    return Problem(
        f"partial submission: {n} rows for {entity} {period}, whose stored revision has "
        f"{m}; storing it would drop {'; '.join(dropped)}. Send every row of the "
        "period, or say --replace (these rows are the whole period) or --merge (replace "
        "only the rows sent)", file=file, row=first,
        field=", ".join(_row_keys(kind)), value=f"{entity} {period}",
        accepted=["every row of the period", "--replace", "--merge"])


def _check_writable(path: Path) -> None:
    """Raise InputError unless the rejected-rows file can be written at ``path``."""
    existed = path.exists()
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise InputError(Problem(f"cannot write the rejected-rows file ({exc.strerror})",
                                 file=str(path), accepted=["a writable folder"])) from None
    if not existed:
        path.unlink(missing_ok=True)


def _sorted(problems: list[Problem], total: int) -> list[Problem]:
    out = sorted(problems, key=lambda p: (p.row or 0, p.field or ""))
    if total > len(out):
        out.append(Problem(f"... and {total - len(out)} more problems not listed"))
    return out


def _rejected(raw: pd.DataFrame, lines: np.ndarray, found: list[tuple[int, Problem]],
              ) -> list[dict[str, Any]]:
    by_pos: dict[int, list[str]] = {}
    for pos, p in found:
        by_pos.setdefault(pos, []).append(f"{p.field}: {p.message}")
    records = raw.iloc[sorted(by_pos)].to_dict("records")
    return [{"row": int(lines[pos]), **rec, "problems": "; ".join(by_pos[pos])}
            for pos, rec in zip(sorted(by_pos), records, strict=True)]


def _write_rejected(path: Path, rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(rows).sort_values("row")
    frame.to_csv(path, index=False, encoding="utf-8-sig")


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# ------------------------------------------------------------------- direct loading


def load_frame(conn: Connection, store: Store, kind: str, frame: pd.DataFrame, *,
               submission_id: int, user: str, now: dt.datetime, file_name: str,
               ) -> tuple[int, int, int]:
    """Store rows that are already valid (generated or checked) as revisions.

    ``frame`` has the data-table columns of ``kind`` plus ``line``; the rows go
    through the same staging, revision and audit steps as a file import.
    Returns (revisions created, unchanged periods, rows stored).
    """
    staged = frame.assign(import_id=submission_id)
    _staging_insert(conn, store, schema.STAGING_TABLES[kind], staged)
    out = _finalise(conn, kind, submission_id, user, now, file_name)
    conn.execute(sa.text(f"DELETE FROM {schema.STAGING_TABLES[kind].name} "
                         "WHERE import_id = :iid"), {"iid": submission_id})
    return out
