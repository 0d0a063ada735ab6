"""What refusing an XLSX decompression bomb costs, against parsing a much smaller one.

Prints the seconds and peak Python memory of :func:`dualcontrol.fileio.scan_xlsx`
refusing a workbook that unpacks to 1.1 GiB (the command line's limit is 1 GiB,
``data/file_limits.csv``), and of openpyxl reading every row of one that unpacks to
only 8 MiB (the baseline, measured in the same run), and their ratio.

    PYTHONPATH=src python benchmarks/bench_xlsx_limits.py
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

from openpyxl import load_workbook

from dualcontrol.errors import InputError
from dualcontrol.fileio import scan_xlsx

HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
BOOK = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="http://'
        b'schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" '
        b'sheetId="1" r:id="rId1"/></sheets></workbook>')
RELS = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.'
        b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        b'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        b'Target="worksheets/sheet1.xml"/></Relationships>')
ROOT_RELS = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.'
             b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
             b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
             b'officeDocument" Target="xl/workbook.xml"/></Relationships>')
TYPES = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Types xmlns="http://schemas.openxmlformats'
         b'.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
         b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
         b'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
         b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
         b'"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
         b'officedocument.spreadsheetml.worksheet+xml"/></Types>')


def bomb(path: Path, unpacked: int, *, numbered: bool = True) -> Path:
    """Write a one-sheet workbook whose sheet XML is ``unpacked`` bytes.

    ``numbered`` rows are valid for openpyxl; identical rows pack a thousandfold, as
    a real bomb does.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", BOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(HEAD)
            written, row = len(HEAD), 0
            same = b'<row><c><v>1</v></c></row>' * 10_000
            while written < unpacked:
                chunk = same if not numbered else b"".join(
                    b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r)
                    for r in range(row + 1, row + 10_001))
                row += 10_000
                sheet.write(chunk)
                written += len(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return path


def measure(action) -> tuple[float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        big = bomb(Path(tmp) / "big.xlsx", int(1.1 * 2**30), numbered=False)
        small = bomb(Path(tmp) / "small.xlsx", 8 * 2**20)

        def refuse() -> None:
            try:
                scan_xlsx(big)
            except InputError:
                return
            raise AssertionError("the bomb was not refused")

        def parse() -> None:
            book = load_workbook(small, read_only=True)
            for _ in book.worksheets[0].iter_rows(values_only=True):
                pass
            book.close()

        r_s, r_mb = measure(refuse)
        p_s, p_mb = measure(parse)
        print(f"refuse a {big.stat().st_size / 2**20:.1f} MiB file unpacking to 1.1 GiB: "
              f"{r_s:.3f} s, peak {r_mb:.1f} MiB")
        print(f"baseline: openpyxl reads a {small.stat().st_size / 2**20:.1f} MiB file "
              f"unpacking to 8 MiB: {p_s:.3f} s, peak {p_mb:.1f} MiB")
        print(f"ratio refusal / baseline: time {r_s / p_s:.4f}, memory {r_mb / p_mb:.3f}")


if __name__ == "__main__":
    main()
