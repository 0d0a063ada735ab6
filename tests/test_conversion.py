"""Conversion of quantities to tce and CO2, checked by hand against the sources."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualcontrol.conversion import Method, convert
from dualcontrol.errors import InputError
from dualcontrol.reference import factor_years


def test_one_tonne_of_raw_coal() -> None:
    # GB/T 2589 appendix: raw coal 0.7143 kgce/kg -> 1 t = 0.7143 tce.
    result = convert(1, "t", "raw_coal")
    assert result.tce == pytest.approx(0.7143, abs=1e-9)
    # IPCC 2006 Table 2.2 other bituminous coal 94,600 kg CO2/TJ; NCV 20.908 GJ/t
    # -> 20.908 GJ * 94.6 kg/GJ = 1,977.9 kg = 1.9779 t CO2.
    assert result.co2_t == pytest.approx(1.9779, abs=1e-4)


def test_chinese_name_gives_the_same() -> None:
    assert convert(1, "t", "原煤").tce == convert(1, "t", "raw_coal").tce


def test_ten_thousand_kwh_calorific() -> None:
    # 10,000 kWh x 0.1229 kgce/kWh = 1,229 kgce = 1.229 tce.
    assert convert(10000, "kWh", "electricity").tce == pytest.approx(1.229, abs=1e-9)


def test_coal_equivalent_uses_the_years_supply_coal_consumption() -> None:
    # 2022: 300.7 gce/kWh (CEC 2023 report) -> 10,000 kWh = 3,007,000 g = 3.007 tce.
    result = convert(10000, "kWh", "electricity", method=Method.coal_equivalent, year=2022)
    assert result.tce == pytest.approx(3.007, abs=1e-9)
    assert "2022" in result.sources["tce"]
    # 2020 has its supply coal consumption but no Inner Mongolia grid factor (the CO2
    # the conversion also gives): refused unless the nearest year's factor is asked for.
    with pytest.raises(InputError, match=r"grid_factors\.csv"):
        convert(10000, "kWh", "electricity", method="coal-equivalent", year=2020)
    with factor_years("nearest"):
        other = convert(10000, "kWh", "electricity", method="coal-equivalent", year=2020)
    assert other.tce != result.tce


def test_coal_equivalent_without_year_is_an_error() -> None:
    with pytest.raises(InputError, match="needs a year"):
        convert(1, "kWh", "electricity", method="coal-equivalent")


def test_electricity_co2_uses_the_grid_factor() -> None:
    # MEE & NBS 2022 national average 0.5366 kg/kWh -> 1 MWh = 0.5366 t CO2.
    assert convert(1, "MWh", "electricity", year=2022, grid="national").co2_t == (
        pytest.approx(0.5366))
    # By default the rule of electricity_factor_rules.csv names Inner Mongolia's
    # provincial factor, 0.6849 kg/kWh in 2022 (28% above the national one), and the
    # source says which rule chose it.
    default = convert(1, "MWh", "electricity", year=2022)
    assert default.co2_t == pytest.approx(0.6849)
    assert "inner_mongolia_provincial" in default.sources["co2"]
    # Inner Mongolia's provincial factor in 2022: 0.6849.
    assert convert(1, "MWh", "electricity", year=2022, grid="inner_mongolia").co2_t == \
        pytest.approx(0.6849)


def test_chinese_statistical_units() -> None:
    # 1 万吨 raw coal = 10,000 t x 0.7143 = 7,143 tce.
    assert convert(1, "万吨", "原煤").tce == pytest.approx(7143)
    # 1 万立方米 natural gas = 10,000 m3 x 1.33 kgce/m3 = 13.3 tce.
    assert convert(1, "万立方米", "天然气").tce == pytest.approx(13.3)
    # 1 万千瓦时 = 1.229 tce.
    assert convert(1, "万千瓦时", "电力").tce == pytest.approx(1.229)


def test_heat_in_mj_and_gj() -> None:
    # 1 GJ x 0.03412 tce/GJ; 1000 MJ is the same.
    assert convert(1000, "MJ", "heat").tce == pytest.approx(convert(1, "GJ", "heat").tce)
    assert convert(1, "GJ", "heat").tce == pytest.approx(0.03412)


def test_quantity_in_tce_round_trips() -> None:
    result = convert(7143, "tce", "raw_coal")
    assert result.quantity_in_carrier_unit == pytest.approx(10000)
    assert result.tce == pytest.approx(7143)


@pytest.mark.parametrize(
    ("quantity", "unit", "carrier", "field"),
    [
        (5, "kWh", "raw_coal", "unit"),
        (5, "t", "electricity", "unit"),
        (5, "tce", "electricity", "unit"),
        (5, "furlong", "raw_coal", "unit"),
        (5, "t", "moon_rock", "carrier"),
        (-1, "t", "raw_coal", "quantity"),
        (math.nan, "t", "raw_coal", "quantity"),
        (math.inf, "t", "raw_coal", "quantity"),
    ],
)
def test_bad_input_names_the_field(quantity: float, unit: str, carrier: str, field: str) -> None:
    with pytest.raises(InputError) as info:
        convert(quantity, unit, carrier)
    assert info.value.problems[0].field == field


def test_wrong_dimension_lists_the_accepted_units() -> None:
    with pytest.raises(InputError) as info:
        convert(5, "kWh", "raw_coal")
    accepted = info.value.problems[0].accepted
    assert "t" in accepted and "10^4 t" in accepted and "kWh" not in accepted


@given(
    a=st.floats(min_value=0, max_value=1e9, allow_nan=False),
    b=st.floats(min_value=0, max_value=1e9, allow_nan=False),
    carrier=st.sampled_from(["raw_coal", "natural_gas", "electricity", "heat", "diesel"]),
)
def test_conversion_is_linear(a: float, b: float, carrier: str) -> None:
    unit = {"raw_coal": "t", "natural_gas": "m3", "electricity": "kWh", "heat": "GJ",
            "diesel": "t"}[carrier]
    both = convert(a + b, unit, carrier, year=2022)
    each = [convert(x, unit, carrier, year=2022) for x in (a, b)]
    assert both.tce == pytest.approx(each[0].tce + each[1].tce, rel=1e-9, abs=1e-9)
    assert both.co2_t == pytest.approx(each[0].co2_t + each[1].co2_t, rel=1e-9, abs=1e-9)
