"""Tests of the number grammar and the plausible ranges (dualcontrol.numbers)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualcontrol.numbers import (
    NUMBER_RE,
    clean_number_text,
    number_problems,
    parse_number,
    parse_numbers,
    range_of,
    ranges,
)
from dualcontrol.reference import load_table


@pytest.mark.parametrize(("text", "value"), [
    ("1200", 1200.0),
    ("1,200", 1200.0),
    ("1,234,567.5", 1234567.5),
    ("  42  ", 42.0),
    ("\u3000７\u3000", 7.0),              # ideographic spaces around a full-width digit
    ("１２３", 123.0),
    ("１，２００．５", 1200.5),            # full-width comma and point
    ("-3.5", -3.5),
    ("+3", 3.0),
    ("0.25", 0.25),
    (".5", 0.5),
    ("1.5E+06", 1.5e6),                   # Excel's scientific notation
    ("-0", 0.0),
    ("", None),
    ("   ", None),
])
def test_accepted_forms(text: str, value: float | None) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", [
    "1,5",          # European decimal comma or a typo: never 15
    "12,34",        # not a group of three
    "1,2,3",
    "1,,000",
    "1,000,00",
    ",100",
    "1,000.",       # grouped digits need fraction digits after the point
    "1,000e3",      # no exponent on grouped digits
    "1.2.3",
    "1 000",        # space grouping is ambiguous with two numbers
    "inf", "-inf", "nan", "NaN", "Infinity",
    "1e309",        # overflows to inf
    "1e", "e5", "--1", "+-1", "12abc", "0x10", "١٢٣",  # Arabic-Indic digits
    "1_000",
])
def test_refused_forms(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


def test_vectorised_form_agrees_and_marks_bad_cells() -> None:
    cells = pd.Series(["1,200", "1,5", "", "１２３", "inf", " -2 "])
    numbers, bad = parse_numbers(cells)
    assert bad.tolist() == [False, True, False, False, True, False]
    assert numbers[0] == 1200.0 and numbers[3] == 123.0 and numbers[5] == -2.0
    assert numbers[[1, 2, 4]].isna().all()


def test_every_range_row_has_a_source_and_a_sane_interval() -> None:
    table = load_table("number-ranges")
    assert (table["source"].str.strip() != "").all()
    for limits in ranges().values():
        assert limits.minimum < limits.maximum
    assert (range_of("economic", "gdp_index_prev_year_100").minimum,
            range_of("economic", "gdp_index_prev_year_100").maximum) == (50.0, 200.0)


@pytest.mark.parametrize(("kind", "field", "text", "ok"), [
    ("energy", "quantity", "0", True),
    ("energy", "quantity", "999999999999", True),
    ("energy", "quantity", "1e12", False),
    ("energy", "quantity", "1e308", False),     # would make the region's total inf
    ("energy", "quantity", "-1", False),
    ("economic", "gdp_index_prev_year_100", "0", False),
    ("economic", "gdp_index_prev_year_100", "1e300", False),
    ("economic", "gdp_index_prev_year_100", "50", True),
    ("economic", "gdp_index_prev_year_100", "107.5", True),
    ("economic", "gdp_index_prev_year_100", "200.1", False),
    ("economic", "gdp_current_10k_yuan", "0", False),
    ("economic", "gdp_current_10k_yuan", "24,627,000", True),
    ("water", "withdrawal_m3", "1e12", False),
])
def test_ranges(kind: str, field: str, text: str, ok: bool) -> None:
    numbers, problems = number_problems(pd.Series([text]), kind, field, file="f.csv",
                                        rows=np.array([7]), required=True)
    assert (problems == []) is ok
    if not ok:
        problem = problems[0][1]
        assert (problem.file, problem.row, problem.field, problem.value) == (
            "f.csv", 7, field, text)
        assert "plausible range" in problem.message and problem.accepted
        assert numbers.isna().all()


def test_bad_form_names_the_accepted_forms() -> None:
    _, problems = number_problems(pd.Series(["12,34"]), "energy", "quantity", file="f.csv",
                                  rows=np.array([3]), required=True)
    [(pos, problem)] = problems
    assert (pos, problem.row, problem.value) == (0, 3, "12,34")
    assert "1,200" in problem.accepted and "groups of three" in problem.message


def _grouped(integer: int) -> str:
    return f"{integer:,}"


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=0, max_value=999),
       st.booleans(), st.sampled_from(["", "-", "+"]))
def test_round_trip_of_grouped_numbers(integer: int, fraction: int, group: bool,
                                       sign: str) -> None:
    digits = _grouped(integer) if group else str(integer)
    text = f"{sign}{digits}.{fraction:03d}"
    expected = float(f"{'-' if sign == '-' else ''}{integer}.{fraction:03d}") + 0.0
    assert parse_number(text) == expected
    assert parse_number(f"  {text} ") == expected
    full_width = text.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"}).replace(
        ",", "\uff0c").replace(".", "\uff0e")
    assert parse_number(full_width) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_round_trip_of_python_floats(value: float) -> None:
    assert parse_number(repr(value)) == value


_ALPHABET = st.sampled_from([*"0123456789,.+-eE ", "１", "，", "．", "\u3000", "a", "١",
                             "_", "i", "n", "f"])


@given(st.text(_ALPHABET, max_size=14) | st.text(max_size=10))
def test_random_text_never_crashes_nor_differs_from_python(text: str) -> None:
    try:
        value = parse_number(text)
    except ValueError:
        value = "refused"
    cleaned = clean_number_text(text)
    if value is None:
        assert cleaned == ""
    elif value != "refused":
        assert NUMBER_RE.fullmatch(cleaned)
        assert value == float(cleaned.replace(",", ""))
        assert math.isfinite(value)
    numbers, bad = parse_numbers(pd.Series([text]))
    if value == "refused":
        assert bool(bad[0]) and math.isnan(numbers[0])
    elif value is None:
        assert not bad[0] and math.isnan(numbers[0])
    else:
        assert not bad[0] and numbers[0] == value
