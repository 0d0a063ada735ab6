"""XLSX decompression bombs and limits (issue 19): refused before parsing, one open.

The limits are the rows of ``data/file_limits.csv``; a bomb here is a real zip whose
sheet unpacks to more than the limit, made with zipfile's own deflate.
"""

from __future__ import annotations

import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook

from dualcontrol.errors import InputError
from dualcontrol.fileio import XlsxLimits, read_table, scan_xlsx, xlsx_limits
from dualcontrol.ingest import ingest_file
from dualcontrol.report_templates import template_headers
from test_ingest import TODAY, A, nothing_stored

SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
              b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')


def _bomb(path: Path, unpacked: int) -> Path:
    """Write an XLSX-shaped zip whose one sheet unpacks to ``unpacked`` bytes."""
    row = b'<row r="1"><c r="A1" t="inlineStr"><is><t>0</t></is></c></row>' * 1024
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b'<workbook><sheets><sheet name="S" sheetId="1"/>'
                                            b'</sheets></workbook>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_HEAD)
            written = len(SHEET_HEAD)
            while written < unpacked:
                sheet.write(row)
                written += len(row)
    return path


@pytest.fixture(scope="module")
def gib_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 1.1 GiB of sheet XML packed into a few MB: beyond the command line's 1 GiB limit
    return _bomb(tmp_path_factory.mktemp("bomb") / "bomb.xlsx", int(1.1 * 2**30))


def _workbook(path: Path, rows: int) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(template_headers("energy", "en"))
    for month in range(rows):
        sheet.append([A, "鄂尔多斯甲公司", "150602", f"{2021 + month // 12}-{month % 12 + 1:02d}",
                      "原煤", 1000 + month, "吨", "", ""])
    book.save(path)
    return path


def test_limits_are_data_rows_for_the_cli_and_the_web() -> None:
    cli, web = xlsx_limits("cli"), xlsx_limits("web")
    assert cli.uncompressed_bytes == 2**30 and cli.cells == 1_048_576 * 20
    assert web.uncompressed_bytes < cli.uncompressed_bytes and web.cells < cli.cells


def test_a_gib_bomb_is_refused_unread_quickly_and_in_little_memory(
        gib_bomb: Path, store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert gib_bomb.stat().st_size < 20 * 2**20  # a few MB on disk

    def must_not_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", must_not_parse)
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(InputError) as info:
        ingest_file(store, gib_bomb, today=TODAY)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    [problem] = info.value.problems
    assert "workbook too large" in problem.message and "1,073,741,824" in problem.message
    assert nothing_stored(store)
    # refused from the zip directory: no unpacking (bounds generous for a loaded machine)
    assert seconds < 10 and peak < 50 * 2**20


def test_read_table_refuses_the_bomb_too(gib_bomb: Path) -> None:
    with pytest.raises(InputError, match="workbook too large"):
        read_table(gib_bomb)


def test_unpacked_size_limit_counts_unpacked_not_packed_bytes(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "small.xlsx", 3 * 2**20)  # 3 MiB unpacked, a few KB packed
    assert bomb.stat().st_size < 100_000
    limits = XlsxLimits(uncompressed_bytes=2**20, cells=10**9, applies_to="web")
    with pytest.raises(InputError) as info:
        scan_xlsx(bomb, limits)
    assert "limit for the web upload: 1,048,576" in str(info.value)
    assert scan_xlsx(bomb, XlsxLimits(4 * 2**20, 10**9)).problems == []


def test_cell_limit_counts_the_cells_of_the_sheet(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "cells.xlsx", 60)
    cells = scan_xlsx(path).cells
    # the header's 10 cells, then 60 rows of the 9 values appended (openpyxl writes the
    # empty strings as cells too; the 10th column is left out)
    assert cells == 10 + 60 * 9
    with pytest.raises(InputError, match="more than 100 cells"):
        scan_xlsx(path, XlsxLimits(uncompressed_bytes=2**30, cells=100))


def test_cells_cut_by_the_block_boundary_are_counted_once(tmp_path: Path) -> None:
    """Cells made to straddle every 1 MiB block boundary are counted exactly."""
    cell = b'<c r="A1" t="inlineStr"><is><t>x</t></is></c>'
    body = cell * (3 * 2**20 // len(cell) + 7)
    path = tmp_path / "edge.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b'<workbook><sheets><sheet name="S"/></sheets>'
                                            b'</workbook>')
        archive.writestr("xl/worksheets/sheet1.xml", SHEET_HEAD + b'<row r="1">' + body
                         + b"</row></sheetData></worksheet>")
    assert scan_xlsx(path).cells == len(body) // len(cell)


def test_a_workbook_is_opened_once_per_import(store, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = _workbook(tmp_path / "ok.xlsx", 24)
    opened: list[str] = []
    real = openpyxl.load_workbook

    def counting(*args: object, **kwargs: object) -> object:
        opened.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counting)
    seen: list[tuple[int, int]] = []
    result = ingest_file(store, path, today=TODAY,
                         progress=lambda done, total: seen.append((done, total)))
    assert result.rows_stored == 24
    assert opened == [str(path)]  # was four opens (layout, hash, rows, read)
    assert seen[-1] == (25, 25)  # the sheet's rows, header included


def test_web_upload_is_held_to_the_web_limits(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from dualcontrol.store import open_store
    from dualcontrol.web import data as web_data

    bomb = _bomb(tmp_path / "b.xlsx", 2 * 2**20)
    small = XlsxLimits(uncompressed_bytes=2**20, cells=10**9, applies_to="web")
    monkeypatch.setattr(web_data, "xlsx_limits", lambda applies_to="cli": small)
    with open_store(f"duckdb:///{tmp_path / 's.duckdb'}") as store:
        data = web_data.StoreData(store)
        with pytest.raises(InputError) as info:
            data.submit_energy(content=bomb.read_bytes(), file_name="b.xlsx",
                               username="someone", check=lambda frame: None)
        assert "limit for the web upload" in str(info.value)
        assert info.value.problems[0].file == "b.xlsx"
        assert nothing_stored(store)
