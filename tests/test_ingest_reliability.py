"""Tests of ingestion under bad input (issue 19): the number grammar and ranges in every
number field, output units, rows with too many fields, on both stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.datasets import energy_reports
from dualcontrol.errors import InputError
from dualcontrol.ingest import ingest_file
from dualcontrol.report_templates import template_headers
from dualcontrol.store import open_store
from test_ingest import GOOD, TODAY, A, nothing_stored, write_csv

OUTPUT_ROW = [A, "鄂尔多斯甲公司", "150602", "2023-01", "G1", "coal_power", "1,000", "MWh"]
ECONOMIC_ROW = ["150602", "2023", "", "12,345,678", "106.5", ""]


def _refused(store, path: Path, kind: str = "energy") -> InputError:
    with pytest.raises(InputError) as info:
        ingest_file(store, path, kind, today=TODAY)
    assert nothing_stored(store)
    return info.value


@pytest.mark.parametrize("quantity", ["1,5", "12,34", "1,2,3", "1,,000", "1e308", "inf",
                                      "nan", "1e309"])
def test_energy_quantity_outside_the_grammar_or_range_stores_nothing(
        store, tmp_path: Path, quantity: str) -> None:
    rows = [r[:] for r in GOOD]
    rows[0][5] = quantity
    error = _refused(store, write_csv(tmp_path / "bad.csv", rows))
    [problem] = error.problems
    assert (problem.file, problem.row, problem.field, problem.value) == (
        str(tmp_path / "bad.csv"), 2, "quantity", quantity)
    assert problem.accepted  # the accepted forms or the range


def test_full_width_and_grouped_numbers_are_read(store, tmp_path: Path) -> None:
    rows = [r[:] for r in GOOD]
    rows[0][5] = "１，０００．５"
    rows[1][5] = " 1,234 "
    ingest_file(store, write_csv(tmp_path / "fw.csv", rows), today=TODAY)
    got = energy_reports(store).set_index("carrier")["quantity"]
    assert (got["raw_coal"], got["electricity"], got["natural_gas"]) == (1000.5, 1234.0, 1200.0)


@pytest.mark.parametrize(("index", "gdp", "field"), [
    ("0", "12,345,678", "gdp_index_prev_year_100"),
    ("1e300", "12,345,678", "gdp_index_prev_year_100"),
    ("49.9", "12,345,678", "gdp_index_prev_year_100"),
    ("106.5", "0", "gdp_current_10k_yuan"),
    ("106.5", "1,23", "gdp_current_10k_yuan"),
])
def test_implausible_economic_values_store_nothing(store, tmp_path: Path, index: str,
                                                   gdp: str, field: str) -> None:
    row = ["150602", "2023", "", gdp, index, ""]
    path = write_csv(tmp_path / "eco.csv", [row], header=template_headers("economic", "en"))
    error = _refused(store, path, "economic")
    assert [(p.row, p.field) for p in error.problems] == [(2, field)]


def test_plausible_economic_row_is_stored(store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "eco.csv", [ECONOMIC_ROW],
                     header=template_headers("economic", "en"))
    assert ingest_file(store, path, "economic", today=TODAY).rows_stored == 1
    stored = store.read_sql("SELECT gdp_current_10k_yuan, gdp_index_prev_year_100 "
                            "FROM economic_data").iloc[0].tolist()
    assert stored == [12345678.0, 106.5]


@pytest.mark.parametrize(("withdrawal", "ok"), [("2,500", True), ("25,00", False),
                                                 ("-1", False), ("1e12", False)])
def test_water_numbers(store, tmp_path: Path, withdrawal: str, ok: bool) -> None:
    row = [A, "鄂尔多斯甲公司", "150602", "2023-01", withdrawal, ""]
    path = write_csv(tmp_path / "w.csv", [row], header=template_headers("water", "en"))
    if ok:
        assert ingest_file(store, path, "water", today=TODAY).rows_stored == 1
    else:
        assert _refused(store, path, "water").problems[0].field == "withdrawal_m3"


@pytest.mark.parametrize(("product", "unit", "ok"), [
    ("coal_power", "MWh", True),           # convertible to the level's kWh
    ("coal_power", "亿千瓦时", True),
    ("coal_power", "kWh", True),
    ("coal_power", "t", False),            # wrong dimension for electricity supplied
    ("coal_power", "桶", False),           # unknown
    ("cement_clinker", "万吨", True),
    ("cement_clinker", "MWh", False),
    ("steel", "t", True),                  # no level: any known unit
    ("steel", "块", False),
])
def test_output_units(store, tmp_path: Path, product: str, unit: str, ok: bool) -> None:
    row = [*OUTPUT_ROW[:5], product, "1,000", unit]
    path = write_csv(tmp_path / "o.csv", [row], header=template_headers("output", "en"))
    if ok:
        assert ingest_file(store, path, "output", today=TODAY).rows_stored == 1
        return
    [problem] = _refused(store, path, "output").problems
    assert (problem.row, problem.field, problem.value) == (2, "output_unit", unit)
    assert problem.accepted


@pytest.mark.parametrize("at", [0, 1, 2])
def test_row_with_a_field_too_many_stores_nothing(store, tmp_path: Path, at: int) -> None:
    rows = [r[:] for r in GOOD]
    rows[at] = ["9", *rows[at]]          # an extra leading field shifts every column
    error = _refused(store, write_csv(tmp_path / "shift.csv", rows))
    [problem] = error.problems
    assert problem.row == at + 2
    assert "10 fields, header has 9" in problem.message


def test_row_with_two_fields_too_many_stores_nothing(store, tmp_path: Path) -> None:
    rows = [r[:] for r in GOOD]
    rows[2] = ["x", "y", *rows[2]]
    [problem] = _refused(store, write_csv(tmp_path / "shift.csv", rows)).problems
    assert problem.row == 4 and "11 fields, header has 9" in problem.message


def test_xlsx_numeric_cells_pass_the_range_check(store, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(template_headers("energy", "en"))
    sheet.append([A, "鄂尔多斯甲公司", "150602", "2023-01", "原煤", 1234.5, "吨", "", ""])
    sheet.append([A, "鄂尔多斯甲公司", "150602", "2023-02", "原煤", 1e308, "吨", "", ""])
    book.save(tmp_path / "n.xlsx")
    [problem] = _refused(store, tmp_path / "n.xlsx").problems
    assert (problem.row, problem.field) == (3, "quantity")
    assert "plausible range" in problem.message
    del sheet
    book = Workbook()
    book.active.append(template_headers("energy", "en"))
    book.active.append([A, "鄂尔多斯甲公司", "150602", "2023-01", "原煤", 1234.5, "吨", "", ""])
    book.save(tmp_path / "ok.xlsx")
    ingest_file(store, tmp_path / "ok.xlsx", today=TODAY)
    assert energy_reports(store)["quantity"].tolist() == [1234.5]


def test_cli_refuses_a_decimal_comma_with_exit_2(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALCONTROL_DB", f"duckdb:///{tmp_path / 'cli.duckdb'}")
    rows = [r[:] for r in GOOD]
    rows[1][5] = "1,5"
    result = CliRunner().invoke(app, ["ingest", str(write_csv(tmp_path / "c.csv", rows))])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "row 3" in text and "'quantity'" in text and "'1,5'" in text and "1,200" in text
    with open_store() as store:
        assert nothing_stored(store)
