"""Reading the tables people have: CSV in UTF-8 or GB18030/GBK, and XLSX.

An XLSX file is a zip of XML; a few megabytes can unpack to gigabytes (a
"decompression bomb"). :func:`scan_xlsx` checks what a workbook unpacks to and how
many cells it has against ``data/file_limits.csv`` before anything parses it, in one
streaming pass that also finds merged cells and extra sheets.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dualcontrol.errors import InputError, Problem
from dualcontrol.reference import load_table

#: Encodings a CSV file may be in. GB18030 is a superset of GBK and GB2312.
CSV_ENCODINGS: tuple[str, ...] = ("utf-8", "gb18030")
ACCEPTED_ENCODINGS = ["UTF-8", "UTF-8 with BOM", "GB18030", "GBK"]


def scan_csv(path: Path) -> tuple[str, str]:
    """Return the encoding and SHA-256 of a CSV file, reading it once in blocks.

    Raises
    ------
    InputError
        If the file is empty or in an encoding other than UTF-8 or GB18030/GBK.
    """
    digest = hashlib.sha256()
    decoders = {enc: codecs.getincrementaldecoder(enc)() for enc in CSV_ENCODINGS}
    first = True
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            if first:
                if block.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in block[:4096]:
                    raise InputError(Problem("unsupported encoding (UTF-16 or binary file)",
                                             file=str(path), accepted=ACCEPTED_ENCODINGS))
                first = False
            size += len(block)
            digest.update(block)
            for enc in list(decoders):
                try:
                    decoders[enc].decode(block)
                except UnicodeDecodeError:
                    del decoders[enc]
            if not decoders:
                break
    if size == 0:
        raise InputError(Problem("file is empty", file=str(path)))
    for enc, decoder in decoders.items():
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        if enc == "utf-8":
            with open(path, "rb") as handle:
                enc = "utf-8-sig" if handle.read(3) == codecs.BOM_UTF8 else "utf-8"
        return enc, digest.hexdigest()
    raise InputError(Problem("unsupported encoding", file=str(path),
                             accepted=ACCEPTED_ENCODINGS))


def detect_encoding(path: Path) -> str:
    """Return the encoding of a CSV file (see :func:`scan_csv`)."""
    return scan_csv(path)[0]


@dataclass(frozen=True)
class XlsxLimits:
    """How much one XLSX workbook may unpack to [bytes] and how many cells it may hold."""

    uncompressed_bytes: int
    cells: int
    applies_to: str = "cli"


def xlsx_limits(applies_to: str = "cli") -> XlsxLimits:
    """Return the XLSX limits of ``applies_to`` (``cli`` or ``web``) from file_limits.csv."""
    table = load_table("file-limits")
    rows = table[table["applies_to"] == applies_to].set_index("limit")["value"]
    try:
        return XlsxLimits(int(rows["xlsx_uncompressed_bytes"]), int(rows["xlsx_cells"]),
                          applies_to)
    except KeyError:
        from dualcontrol.errors import ReferenceDataError

        raise ReferenceDataError(f"file_limits.csv has no XLSX limits for {applies_to!r}; "
                                 f"accepted: {', '.join(sorted(set(table['applies_to'])))}"
                                 ) from None


@dataclass
class XlsxScan:
    """What one pass over an XLSX file found: its hash, sheets, cells and problems."""

    sha256: str
    sheets: list[str]
    uncompressed_bytes: int
    cells: int = 0
    problems: list[Problem] = field(default_factory=list)


_SHEET_XML = re.compile(r"xl/worksheets/sheet\d+\.xml$")
_CELL = re.compile(rb"<c[\s>/]")
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+\d+:[A-Z]+\d+)"')
_SHEET_NAME = re.compile(rb'<sheet\b[^>]*\bname="([^"]*)"')


def _too_big(path: Path, what: str, value: int, limit: int, unit: str,
             limits: XlsxLimits) -> InputError:
    where = "the web upload" if limits.applies_to == "web" else "one workbook"
    return InputError(Problem(
        f"workbook too large: it unpacks to {what} {value:,} {unit} (limit for {where}: "
        f"{limit:,}, data/file_limits.csv); it was not read. Split it, or send the data "
        "as CSV", file=str(path), value=f"{value:,} {unit}",
        accepted=[f"<= {limit:,} {unit} unpacked", ".csv"]))


def scan_xlsx(path: Path, limits: XlsxLimits | None = None) -> XlsxScan:
    """Check an XLSX file before it is parsed; return its hash, sheets, cells, problems.

    In order, each step refusing before the next costs anything: the zip directory's
    sizes against ``limits.uncompressed_bytes`` (zipfile never unpacks a member beyond
    its declared size, so the declared total bounds the work); then each worksheet's
    XML is streamed once, counting its bytes and cells (``<c>`` elements) against the
    limits and collecting merged ranges. Memory stays at one block (1 MiB).

    Raises
    ------
    InputError
        For a file that is not a readable XLSX, or one beyond the limits.
    """
    limits = limits or xlsx_limits()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(Problem(
            f"not a readable XLSX workbook ({type(exc).__name__}): save it from Excel or "
            "WPS as .xlsx, or send the data as CSV", file=str(path),
            accepted=[".xlsx (a zip of XML sheets)", ".csv"])) from None
    with archive:
        members = archive.infolist()
        declared = sum(m.file_size for m in members)
        if declared > limits.uncompressed_bytes:
            raise _too_big(path, "", declared, limits.uncompressed_bytes, "bytes", limits)
        digest = hashlib.sha256()  # of the file as sent (the submission's fingerprint)
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        try:
            book_xml = archive.read("xl/workbook.xml")
        except KeyError:
            raise InputError(Problem("not an XLSX workbook (no xl/workbook.xml)",
                                     file=str(path), accepted=[".xlsx", ".csv"])) from None
        scan = XlsxScan(sha256=digest.hexdigest(), uncompressed_bytes=declared,
                        sheets=[n.decode("utf-8", "replace")
                                for n in _SHEET_NAME.findall(book_xml)])
        if len(scan.sheets) != 1:
            scan.problems.append(Problem(
                "the workbook must have exactly one sheet", file=str(path),
                value=", ".join(scan.sheets), accepted=["one sheet with the data"]))
        merges: dict[str, Problem] = {}
        for member in members:
            if not _SHEET_XML.match(member.filename):
                continue
            tail = b""
            with archive.open(member) as sheet:
                while block := sheet.read(1 << 20):
                    window = tail + block
                    # a "<c " tag is 3 bytes: one cut by the block boundary starts in the
                    # last 2 bytes before it and was not counted with the previous block
                    scan.cells += len(_CELL.findall(tail[-2:] + block))
                    if scan.cells > limits.cells:
                        raise _too_big(path, "more than", limits.cells, limits.cells,
                                       "cells", limits)
                    for ref in _MERGE.findall(window):
                        cell = ref.decode()
                        first_row = int(re.findall(r"\d+", cell)[0])
                        why = ("merged header cells" if first_row == 1
                               else "merged cells in the data")
                        merges[cell] = Problem(
                            f"{why}: unmerge them so every column has its own header and "
                            "every row its own values", file=str(path), row=first_row,
                            value=cell)
                    tail = window[-64:]
        scan.problems.extend(merges.values())
    return scan


def _read_xlsx(path: Path, limits: XlsxLimits | None = None) -> pd.DataFrame:
    """Return the first sheet of an XLSX file as text; InputError if it is not one."""
    scan_xlsx(path, limits)  # before parsing: a bomb is refused unread
    try:
        return pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # openpyxl and zipfile raise many types for a broken file
        raise InputError(Problem(
            f"not a readable XLSX workbook ({type(exc).__name__}): save it from Excel or "
            "WPS as .xlsx, or send the data as CSV", file=str(path),
            accepted=[".xlsx (a zip of XML sheets)", ".csv"])) from None


def read_table(path: str | Path, limits: XlsxLimits | None = None) -> pd.DataFrame:
    """Return the table in a CSV or XLSX file with every cell as text.

    An XLSX file is first checked against ``limits`` (default: the command line's
    row of ``data/file_limits.csv``), see :func:`scan_xlsx`.

    Raises
    ------
    InputError
        For a missing file, an unsupported format or encoding, or an empty file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(Problem("file not found", file=str(path)))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        if path.stat().st_size == 0:
            raise InputError(Problem("file is empty", file=str(path)))
        frame = pd.read_csv(path, dtype=str, keep_default_na=False,
                            encoding=detect_encoding(path))
    elif suffix in (".xlsx", ".xlsm"):
        frame = _read_xlsx(path, limits)
    else:
        raise InputError(Problem("unsupported file type", file=str(path), value=suffix,
                                 accepted=[".csv", ".xlsx"]))
    if frame.empty:
        raise InputError(Problem("file has no data rows", file=str(path)))
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
