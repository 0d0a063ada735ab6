"""Reading the tables people have: CSV in UTF-8 or GB18030/GBK, and XLSX."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import pandas as pd

from dualcontrol.errors import InputError, Problem

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


def _read_xlsx(path: Path) -> pd.DataFrame:
    """Return the first sheet of an XLSX file as text; InputError if it is not one."""
    try:
        return pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # openpyxl and zipfile raise many types for a broken file
        raise InputError(Problem(
            f"not a readable XLSX workbook ({type(exc).__name__}): save it from Excel or "
            "WPS as .xlsx, or send the data as CSV", file=str(path),
            accepted=[".xlsx (a zip of XML sheets)", ".csv"])) from None


def read_table(path: str | Path) -> pd.DataFrame:
    """Return the table in a CSV or XLSX file with every cell as text.

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
        frame = _read_xlsx(path)
    else:
        raise InputError(Problem("unsupported file type", file=str(path), value=suffix,
                                 accepted=[".csv", ".xlsx"]))
    if frame.empty:
        raise InputError(Problem("file has no data rows", file=str(path)))
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
