"""Reference tables: provenance on every row, and coefficients against GB/T 2589."""

from __future__ import annotations

import pandas as pd
import pytest

from dualcontrol.errors import InputError
from dualcontrol.reference import (
    TABLES,
    carriers,
    grid_factor,
    load_table,
    resolve_carrier,
    resolve_unit,
    supply_coal_consumption,
)

# 1 kgce is defined as 7,000 kcal (GB/T 2589-2020, 3.x); the appendix prints NCVs in
# kJ converted with 4.1816 kJ/kcal, so NCV[kJ] / 4.1816 / 7000 gives the coefficient.
KJ_PER_KCAL_APPENDIX = 4.1816
KCAL_PER_KGCE = 7000.0


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_row_names_source_and_edition(name: str) -> None:
    table = load_table(name)
    assert len(table) > 0
    for column in ("source", "edition"):
        assert (table[column].str.strip() != "").all(), f"{name}: empty {column}"


# The coefficients as printed in the GB/T 2589 appendix, kgce per kg or per m3.
APPENDIX = {
    "raw_coal": 0.7143, "washed_coal": 0.9000, "middlings": 0.2857, "coke": 0.9714,
    "crude_oil": 1.4286, "fuel_oil": 1.4286, "gasoline": 1.4714, "kerosene": 1.4714,
    "diesel": 1.4571, "lpg": 1.7143, "refinery_dry_gas": 1.5714, "natural_gas": 1.3300,
    "gas_field_gas": 1.2143, "coke_oven_gas": 0.5714, "coal_tar": 1.1429,
}


@pytest.mark.parametrize(("code", "kgce"), sorted(APPENDIX.items()))
def test_standard_coal_coefficients_match_the_appendix(code: str, kgce: float) -> None:
    carrier = carriers()[code]
    # tce per t equals kgce per kg; tce per m3 times 1000 is kgce per m3
    per_kg_or_m3 = carrier.tce_per_unit * (1000 if carrier.unit == "m3" else 1)
    assert per_kg_or_m3 == pytest.approx(kgce, abs=1e-9)


@pytest.mark.parametrize("code", sorted(APPENDIX))
def test_coefficient_is_ncv_over_7000_kcal(code: str) -> None:
    # The printed coefficient is rounded to 4 decimals: tolerance 0.5e-4 kgce.
    carrier = carriers()[code]
    ncv_kj = carrier.ncv_gj_per_unit * 1e6 / (1 if carrier.unit == "m3" else 1000)
    expected_kgce = ncv_kj / KJ_PER_KCAL_APPENDIX / KCAL_PER_KGCE
    got_kgce = carrier.tce_per_unit * (1000 if carrier.unit == "m3" else 1)
    assert got_kgce == pytest.approx(expected_kgce, abs=0.6e-4)


def test_electricity_calorific_equivalent_is_860_kcal() -> None:
    # 1 kWh = 860 kcal (3,600 kJ); 860 / 7000 = 0.12286 -> 0.1229 kgce/kWh.
    assert carriers()["electricity"].tce_per_unit * 1000 == pytest.approx(860 / 7000, abs=5e-5)


def test_heat_coefficient_is_0_03412_kgce_per_mj() -> None:
    # 1 MJ = 1/4.1868 Mcal = 238.85 kcal; / 7000 = 0.034121 kgce/MJ = 34.12 kgce/GJ.
    assert carriers()["heat"].tce_per_unit == pytest.approx(1000 / 4.1868 / 7000, abs=1e-5)


@pytest.mark.parametrize(
    ("code", "ipcc_kg_per_tj"),
    [("raw_coal", 94600), ("coke", 107000), ("diesel", 74100), ("natural_gas", 56100),
     ("gasoline", 69300), ("fuel_oil", 77400), ("lpg", 63100)],
)
def test_co2_factor_is_ncv_times_ipcc_default(code: str, ipcc_kg_per_tj: float) -> None:
    # IPCC 2006 Vol.2 Ch.2 Table 2.2 defaults, oxidation factor 1 (Tier 1).
    carrier = carriers()[code]
    assert carrier.co2_t_per_unit == pytest.approx(
        carrier.ncv_gj_per_unit * ipcc_kg_per_tj / 1e6, rel=1e-12)


def test_natural_gas_co2_close_to_chinese_guideline_default() -> None:
    # China's enterprise accounting guideline default: NCV 389.31 GJ/10^4 Nm3,
    # carbon content 15.32 tC/TJ, OF 99% -> 389.31*15.32e-3*44/12*0.99 = 21.65 t/10^4 m3.
    guideline = 389.31 * 15.32e-3 * 44 / 12 * 0.99
    assert guideline == pytest.approx(21.65, abs=0.01)
    ours = carriers()["natural_gas"].co2_t_per_unit * 1e4
    # IPCC's 56.1 t/TJ vs the guideline's 56.17 t/TJ and OF 1 vs 0.99: within 1.5%.
    assert ours == pytest.approx(guideline, rel=0.015)


@pytest.mark.parametrize("spelling", ["raw_coal", "Raw coal", "原煤", "RAW-COAL", " coal "])
def test_carrier_spellings(spelling: str) -> None:
    assert resolve_carrier(spelling).code == "raw_coal"


def test_unknown_carrier_lists_accepted_values() -> None:
    with pytest.raises(InputError) as info:
        resolve_carrier("unobtainium")
    problem = info.value.problems[0]
    assert problem.field == "carrier"
    assert "raw_coal (原煤)" in problem.accepted
    assert "unobtainium" in str(info.value)


@pytest.mark.parametrize(
    ("spelling", "code"),
    [("万吨", "10^4 t"), ("10^4 t", "10^4 t"), ("万立方米", "10^4 m3"), ("m³", "m3"),
     ("万千瓦时", "10^4 kWh"), ("kwh", "kWh"), ("MWh", "MWh"), ("吨标准煤", "tce"),
     ("万吨标准煤", "10^4 tce"), ("GJ", "GJ"), ("MJ", "MJ"), ("kg", "kg")],
)
def test_unit_spellings(spelling: str, code: str) -> None:
    assert resolve_unit(spelling).code == code


def test_unknown_unit_lists_accepted_values() -> None:
    with pytest.raises(InputError) as info:
        resolve_unit("barrel")
    assert "10^4 t" in info.value.problems[0].accepted


def test_supply_coal_consumption_2022_is_the_published_value() -> None:
    # 中国电力行业年度发展报告2023: 300.7 gce/kWh in 2022.
    factor = supply_coal_consumption(2022)
    assert factor.value == pytest.approx(300.7)
    assert factor.verified


def test_supply_coal_consumption_of_a_year_without_data_is_an_error() -> None:
    with pytest.raises(InputError) as info:
        supply_coal_consumption(1990)
    assert "2022" in info.value.problems[0].accepted


def test_grid_factor_exact_and_substituted_years() -> None:
    # MEE & NBS: national average 0.5366 kg/kWh in 2022.
    assert grid_factor(2022).value == pytest.approx(0.5366)
    # Issue 15: a year without a published factor is an error naming the file to add it
    # to and the published years, unless the nearest year is asked for.
    with pytest.raises(InputError, match=r"grid_factors\.csv.*--factor-years nearest") as err:
        grid_factor(2030)
    assert err.value.problems[0].accepted == ["2021", "2022", "2023"]
    with pytest.raises(InputError, match="accepted: 2022"):
        grid_factor(2023, "inner_mongolia")
    from dualcontrol.reference import factor_years

    latest = max(pd.to_numeric(load_table("grid-factors")["year"]))
    with factor_years("nearest"):
        stand_in = grid_factor(2030)
    assert stand_in.substituted and stand_in.year == latest
    assert grid_factor(2030, exact=False).year == latest  # asked for in the call
    with pytest.raises(InputError, match="factor_years"), factor_years("closest"):
        pass


def test_heat_factor_holds_from_its_year_until_replaced() -> None:
    # heat_factors.csv: 0.11 t CO2/GJ, the guidelines' default, from 2015; not a yearly
    # statistic, so 2030 uses it without a substitution and 2010 (before it) is refused.
    from dualcontrol.reference import heat_factor

    later = heat_factor(2030)
    assert (later.value, later.substituted) == (0.11, False)
    with pytest.raises(InputError, match=r"heat_factors\.csv"):
        heat_factor(2010)


def test_missing_factor_years_are_told_in_one_line(caplog, monkeypatch) -> None:
    """Issue 15: one warning line per process, not one per year and factor."""
    import logging

    from dualcontrol import reference

    monkeypatch.setattr(reference, "_substitutions_told", set())
    with caplog.at_level(logging.INFO, logger="dualcontrol.reference"), \
            reference.factor_years("nearest"):
        for year in (2015, 2016, 2017, 2016):
            factor = reference.grid_factor(year)
            assert factor.substituted and factor.year == 2021
        reference.heat_factor(2010)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(warnings) == 1
    assert "2015" in warnings[0].getMessage() and "grid_factors.csv" in warnings[0].getMessage()
    assert len(infos) == 4  # 2015, 2016, 2017 grid and 2010 heat, each once
