"""Report templates: headers, an example row the import refuses until deleted, the
accepted values (XLSX drop-downs), and every offered value accepted by the import."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.ingest import KINDS
from dualcontrol.regions import make_uscc
from dualcontrol.report_templates import (
    EXAMPLE_MARK,
    accepted_values,
    example_row,
    template_headers,
    write_template,
)

A = make_uscc("150602", 1)  # Dongsheng district, Ordos: the example's county
runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("DUALCONTROL_HOME", str(folder))
    return folder


def read_rows(path: Path) -> list[list[str]]:
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle))
    sheet = load_workbook(path).worksheets[0]
    return [["" if v is None else str(v) for v in row]
            for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row)]


def rewrite(path: Path, rows: list[list[str]]) -> Path:
    """Write ``rows`` back in the template's own format (the XLSX keeps its lists)."""
    if path.suffix == ".csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(rows)
        return path
    book = load_workbook(path)
    sheet = book.worksheets[0]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            sheet.cell(r, c).value = value or None
    book.save(path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_the_example_is_refused_as_it_stands_and_valid_once_given_a_code(
        kind: str, lang: str, fmt: str, tmp_path: Path, home: Path) -> None:
    path = write_template(kind, tmp_path / f"t.{fmt}", lang=lang)
    rows = read_rows(path)
    assert rows[0] == template_headers(kind, lang)
    assert rows[1] == example_row(kind, lang) and rows[1][0] == EXAMPLE_MARK[lang]
    refused = runner.invoke(app, ["ingest", "--check", "--kind", kind, str(path)])
    assert refused.exit_code == 2
    assert "row 2" in refused.output and EXAMPLE_MARK[lang] in refused.output
    # the example is a correct row: with a real code in its first cell it is valid
    rows[1][0] = "150600" if kind == "economic" else A
    valid = runner.invoke(app, ["ingest", "--check", "--kind", kind, str(rewrite(path, rows))])
    assert valid.exit_code == 0, valid.output
    assert "valid (1 rows)" in valid.stdout
    assert not home.exists()  # nothing stored, no store made


def test_no_example_gives_headers_only(tmp_path: Path) -> None:
    path = write_template("energy", tmp_path / "t.csv", lang="zh", example=False)
    assert read_rows(path) == [template_headers("energy", "zh")]
    result = runner.invoke(app, ["template", "water", "--no-example", "-o",
                                 str(tmp_path / "w.csv")])
    assert result.exit_code == 0
    assert read_rows(tmp_path / "w.csv") == [template_headers("water", "zh")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_drop_downs_list_the_accepted_values(lang: str, tmp_path: Path) -> None:
    path = write_template("energy", tmp_path / "t.xlsx", lang=lang)
    book = load_workbook(path)
    assert len(book.sheetnames) == 1  # the import takes one sheet
    sheet = book.worksheets[0]
    column = {name.name: chr(ord("A") + i) for i, name in enumerate(KINDS["energy"])}
    lists = accepted_values("energy", lang)
    found = {}
    for rule in sheet.data_validations.dataValidation:
        assert rule.type == "list"
        letter = str(rule.sqref).split(":")[0].rstrip("0123456789")
        found[letter] = rule.formula1.strip('"').split(",")
        assert str(rule.sqref).startswith(f"{letter}2:")
    assert found == {column[name]: lists[name] for name in ("carrier", "unit", "use", "origin")}
    if lang == "zh":
        assert "原煤" in lists["carrier"] and "万千瓦时" in lists["unit"]
        assert lists["use"] == ["燃料", "原料", "加工转换投入", "外供"]
        assert lists["origin"] == ["外购", "自产", "可再生"]
    # codes stay text: an 18-character USCC or 2026-10 is not turned into a number/date
    assert sheet[f"{column['uscc']}5"].number_format == "@"
    assert sheet[f"{column['period']}5"].number_format == "@"
    # each header carries a note naming what it takes
    assert "原煤" in sheet[f"{column['carrier']}1"].comment.text if lang == "zh" else \
        "raw_coal" in sheet[f"{column['carrier']}1"].comment.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_offered_value_is_accepted_by_the_import(lang: str, tmp_path: Path) -> None:
    from dualcontrol.reference import carriers, resolve_carrier, resolve_unit

    lists = accepted_values("energy", lang)
    codes = [resolve_carrier(name).code for name in lists["carrier"]]
    assert codes == list(carriers())  # every carrier of carriers.csv, each once
    for unit in lists["unit"]:
        resolve_unit(unit)  # raises InputError for a unit the import refuses
    # uses and origins through a real check, each with a carrier it is allowed for:
    # feedstock only for coal, oil and gas (803号), renewable only for electricity and
    # heat, and energy supplied to others never renewable
    header = template_headers("energy", lang)
    rows = [header]
    power = (lists["carrier"][codes.index("electricity")], lists["unit"][7])  # 10^4 kWh
    coal = (lists["carrier"][codes.index("raw_coal")], lists["unit"][0])  # t
    use_code = dict(zip(lists["use"], ["combustion", "feedstock", "transformation_input",
                                       "supplied"], strict=True))
    origin_code = dict(zip(lists["origin"], ["purchased", "self_produced", "renewable"],
                           strict=True))
    month = 0
    for use, u in use_code.items():
        for origin, o in origin_code.items():
            if o == "renewable" and u in ("feedstock", "supplied"):
                continue
            carrier, unit = coal if u == "feedstock" else power
            month += 1
            rows.append([A, "甲公司", "150602", f"2025-{month:02d}", carrier, "10", unit,
                         use, origin, ""])
    assert month == 10
    path = tmp_path / "uses.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = runner.invoke(app, ["ingest", "--check", str(path)])
    assert result.exit_code == 0, result.output


def test_cli_template_names_the_accepted_values(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", "energy", "--format", "xlsx", "-o",
                                 str(tmp_path / "e.xlsx")])
    assert result.exit_code == 0, result.output
    assert "row 2 is an example" in result.stderr
    assert "能源名称: 必填; 可选值: 原煤" in result.stderr
