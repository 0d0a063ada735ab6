"""``account FILE`` reads numbers by the one grammar; output units are not summed blindly.

Issue 19: the accounting core parsed quantities and GDP with pandas' ``to_numeric``
(``"1,5"`` was refused there only by luck, ``"1e308"`` accepted), and the production
units' yearly output added MWh to 万千瓦时.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dualcontrol.accounting import prepare_energy_rows, prepare_gdp
from dualcontrol.cli import app
from dualcontrol.datasets import output_in_one_unit
from dualcontrol.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ROW = {"enterprise": "E1", "period": "2023-01", "carrier": "raw_coal", "unit": "t"}


@pytest.mark.parametrize("quantity", ["1,5", "12,34", "1e308", "inf", "-1", "1e12"])
def test_account_rows_refuse_numbers_outside_the_grammar_or_range(quantity: str) -> None:
    frame = pd.DataFrame([{**ROW, "quantity": "100"}, {**ROW, "quantity": quantity}])
    with pytest.raises(InputError) as info:
        prepare_energy_rows(frame, file="e.csv")
    [problem] = info.value.problems
    assert (problem.file, problem.row, problem.field, problem.value) == (
        "e.csv", 3, "quantity", quantity)


def test_account_rows_read_grouped_and_full_width_numbers() -> None:
    frame = pd.DataFrame([{**ROW, "quantity": "1,234.5"}, {**ROW, "quantity": "１２"}])
    assert prepare_energy_rows(frame)["quantity"].tolist() == [1234.5, 12.0]


@pytest.mark.parametrize(("column", "value"), [
    ("gdp_current_10k_yuan", "12,34"), ("gdp_current_10k_yuan", "0"),
    ("gdp_index_prev_year_100", "1e300"), ("gdp_index_prev_year_100", "10,5")])
def test_gdp_file_numbers_go_through_the_grammar(column: str, value: str) -> None:
    frame = pd.DataFrame([{"area": "A", "year": "2023", "gdp_current_10k_yuan": "1,000",
                           "gdp_index_prev_year_100": "105"}])
    frame.loc[0, column] = value
    with pytest.raises(InputError) as info:
        prepare_gdp(frame, file="g.csv")
    [problem] = info.value.problems
    assert (problem.row, problem.field, problem.value) == (2, column, value)


def test_cli_account_refuses_a_decimal_comma_with_exit_2(tmp_path: Path) -> None:
    text = (EXAMPLES / "energy_use.csv").read_text(encoding="utf-8").splitlines()
    head, first = text[0], text[1].split(",")
    first[7] = '"2,91"'  # a decimal comma (or a slip for 291): refused, not 291
    path = tmp_path / "e.csv"
    path.write_text("\n".join([head, ",".join(first), *text[2:]]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["account", str(path)])
    assert result.exit_code == 2, result.output
    assert "row 2" in result.output and "quantity" in result.output
    assert "'2,91'" in result.output


def _units(*rows: tuple[str, int, float, str]) -> pd.DataFrame:
    return pd.DataFrame([{"unit_id": uid, "enterprise_code": "E", "year": 2023,
                          "capacity_unit": None, "product": p, "output": out,
                          "output_unit": unit} for uid, p, out, unit in
                         [(r[1], "coal_power", r[2], r[3]) for r in rows]])


def test_output_of_one_unit_in_two_units_is_converted_before_adding() -> None:
    # 1,000 MWh + 10 万千瓦时 (= 100 MWh): 1,000 x 3.6 + 10 x 36 = 3,960 GJ (units.csv)
    mixed = _units(("a", 1, 1000.0, "MWh"), ("b", 1, 10.0, "10^4 kWh"),
                   ("c", 2, 500.0, "MWh"))
    out = output_in_one_unit(mixed).set_index("unit_id")
    assert out.loc[1, "output_unit"] == "GJ"
    assert out.loc[1, "output"] == pytest.approx(3960.0, rel=1e-12)
    # a unit reporting in one unit keeps it
    assert (out.loc[2, "output"], out.loc[2, "output_unit"]) == (500.0, "MWh")
    # the old SUM gave 1,010 "MWh" for unit 1: 3,600 GJ short of 3,960, about 9% low
    assert 1010.0 * 3.6 / out.loc[1, "output"] == pytest.approx(0.918, abs=1e-3)


def test_output_in_units_of_different_dimensions_is_refused() -> None:
    with pytest.raises(InputError) as info:
        output_in_one_unit(_units(("a", 7, 1000.0, "MWh"), ("b", 7, 5.0, "t")))
    [problem] = info.value.problems
    assert "different dimensions" in problem.message
    assert problem.value == "MWh, t"


def test_json_commands_print_a_json_error_object_on_failure() -> None:
    import json

    result = CliRunner().invoke(app, ["convert", "1", "t", "no_such_fuel", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert error["ok"] is False and error["reason"] == "InputError"
    assert error["problems"][0]["field"] == "carrier"
