"""Reading the tables people have: CSV in UTF-8 or GB18030/GBK, and XLSX."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dualcontrol.errors import InputError, Problem

#: Encodings tried in order for CSV files. GB18030 is a superset of GBK and GB2312.
CSV_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030")


def detect_encoding(path: Path, sample_bytes: int = 1 << 20) -> str:
    """Return the encoding of a CSV file among :data:`CSV_ENCODINGS`.

    Raises
    ------
    InputError
        If the file is neither UTF-8 nor GB18030 (e.g. UTF-16 or Big5 binary data).
    """
    with open(path, "rb") as handle:
        sample = handle.read(sample_bytes)
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in sample[:4096]:
        raise InputError(Problem("unsupported encoding (UTF-16 or binary)", file=str(path),
                                 accepted=["UTF-8", "GB18030", "GBK"]))
    for encoding in CSV_ENCODINGS:
        try:
            # a multi-byte character may be cut at the end of the sample
            sample.decode(encoding) if len(sample) < sample_bytes else \
                sample[: sample_bytes - 8].decode(encoding, errors="strict")
            return encoding
        except UnicodeDecodeError:
            continue
    raise InputError(Problem("unsupported encoding", file=str(path),
                             accepted=["UTF-8", "GB18030", "GBK"]))


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
        frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    else:
        raise InputError(Problem("unsupported file type", file=str(path), value=suffix,
                                 accepted=[".csv", ".xlsx"]))
    if frame.empty:
        raise InputError(Problem("file has no data rows", file=str(path)))
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
