"""Official-method accounts (issue 15): energy supplied to others, coal by calorific value,
the scope of the deductions. Every expected figure is worked out by hand in the test.

Coefficients used (package data, with their sources):
- raw coal 0.7143 tce/t, NCV 20.908 GJ/t, 94,600 kg CO2/TJ (GB/T 2589 appendix A;
  IPCC 2006 Vol. 2 Table 2.2 other bituminous coal);
- electricity 0.1229 kgce/kWh (calorific equivalent, GB/T 2589-2020);
- 2022 Inner Mongolia provincial grid factor 0.6849 kg CO2/kWh (MEE and NBS, announced
  2024-12), the grid the rule of electricity_factor_rules.csv names;
- lignite 101,000 kg CO2/TJ (IPCC 2006 Vol. 2 Table 2.2).
Tolerance: pytest.approx's default relative 1e-6 unless stated (the sums are exact to
float rounding).
"""

from __future__ import annotations

import pandas as pd
import pytest

from dualcontrol.accounting import accounts
from dualcontrol.errors import InputError

COAL_TCE = 0.7143
COAL_CO2 = 20.908 * 94.6 / 1000  # t CO2 per t of raw coal = 1.9778968
ELEC_TCE = 0.0001229  # tce per kWh
GRID_2022 = 0.6849 / 1000  # t CO2 per kWh


def row(enterprise: str, league: str, carrier: str, quantity: float, unit: str,
        use: str = "combustion", origin: str = "purchased", **extra: object) -> dict:
    return {"region": "IM", "league": league, "enterprise": enterprise, "period": "2022",
            "carrier": carrier, "quantity": quantity, "unit": unit, "use": use,
            "origin": origin, **extra}


def plant_and_customer() -> pd.DataFrame:
    """A coal plant in league A sends out 2e8 kWh; a customer in league B buys 1.2e8."""
    return pd.DataFrame([
        row("plant", "A", "raw_coal", 100_000, "t", use="transformation_input"),
        row("plant", "A", "electricity", 2e8, "kWh", use="supplied", origin="self_produced"),
        row("customer", "B", "electricity", 1.2e8, "kWh"),
    ])


def test_plant_and_customer_counted_once_at_every_level() -> None:
    rows = plant_and_customer()
    coal_tce = 100_000 * COAL_TCE  # 71,430 tce
    sent_tce = 2e8 * ELEC_TCE  # 24,580 tce
    bought_tce = 1.2e8 * ELEC_TCE  # 14,748 tce
    coal_co2 = 100_000 * COAL_CO2  # 197,789.68 t
    sent_co2 = 2e8 * GRID_2022  # 136,980 t
    bought_co2 = 1.2e8 * GRID_2022  # 82,188 t

    ent = accounts(rows, level="enterprise").set_index("enterprise")
    # GB/T 2589-2020: a unit's comprehensive consumption = consumed - supplied
    assert ent.at["plant", "energy_tce"] == pytest.approx(coal_tce - sent_tce)  # 46,850
    assert ent.at["plant", "supplied_tce"] == pytest.approx(sent_tce)
    assert ent.at["customer", "energy_tce"] == pytest.approx(bought_tce)
    assert ent.at["plant", "co2_t"] == pytest.approx(coal_co2 - sent_co2)

    league = accounts(rows, level="league").set_index("league")
    assert league["energy_tce"].sum() == pytest.approx(ent["energy_tce"].sum())

    region = accounts(rows, level="region").iloc[0]
    # 8e7 kWh left the region (CO2: coal 197,789.68 - 136,980 sent + 82,188 bought):
    # it counts the coal less the net export
    assert region.energy_tce == pytest.approx(coal_tce - sent_tce + bought_tce)  # 61,598
    assert region.energy_tce == pytest.approx(coal_tce - 8e7 * ELEC_TCE)
    assert region.co2_t == pytest.approx(coal_co2 - sent_co2 + bought_co2)  # 142,997.68
    assert region.co2_t == pytest.approx(coal_co2 - 8e7 * GRID_2022)
    # counted twice (the fault this fixes) the region would show 86,178 tce: 40% more
    assert (coal_tce + bought_tce) / region.energy_tce == pytest.approx(1.399, abs=1e-3)


def test_closed_system_counts_only_the_fuel() -> None:
    """Everything the plant sends out is bought inside: the region counts the coal alone."""
    rows = pd.DataFrame([
        row("plant", "A", "raw_coal", 1000, "t", use="transformation_input"),
        row("plant", "A", "electricity", 2e6, "kWh", use="supplied", origin="self_produced"),
        row("c1", "A", "electricity", 1.5e6, "kWh"),
        row("c2", "B", "electricity", 0.5e6, "kWh"),
    ])
    region = accounts(rows, level="region").iloc[0]
    assert region.energy_tce == pytest.approx(1000 * COAL_TCE)
    assert region.co2_t == pytest.approx(1000 * COAL_CO2)
    assert region.co2_electricity_t == pytest.approx(0.0, abs=1e-9)


def test_net_importer_counts_its_purchases() -> None:
    """No generation inside: the region's energy and CO2 are its purchased electricity."""
    rows = pd.DataFrame([row("customer", "B", "electricity", 1e7, "kWh")])
    region = accounts(rows, level="region").iloc[0]
    assert region.energy_tce == pytest.approx(1e7 * ELEC_TCE)  # 1,229 tce
    assert region.co2_t == pytest.approx(1e7 * GRID_2022)  # 6,849 t
    assert region.supplied_tce == 0


def test_heat_sold_is_deducted_at_the_heat_coefficient() -> None:
    rows = pd.DataFrame([
        row("chp", "A", "raw_coal", 100, "t", use="transformation_input"),
        row("chp", "A", "heat", 1000, "GJ", use="外供"),
    ])
    got = accounts(rows, level="enterprise").iloc[0]
    # heat 0.03412 tce/GJ (GB/T 2589 appendix A)
    assert got.energy_tce == pytest.approx(100 * COAL_TCE - 1000 * 0.03412)
    assert got.supplied_tce == pytest.approx(34.12)


@pytest.mark.parametrize(("column", "value"), [
    ("ncv_gj_per_t", "14.6538"),
    ("ncv_kj_per_kg", "14653.8"),
    ("ncv_kcal_per_kg", "3500"),
])
def test_lignite_with_a_measured_ncv(column: str, value: str) -> None:
    """3,500 kcal/kg x 4.1868 kJ/kcal = 14.6538 GJ/t; tce = 14.6538 / 29.3076 = 0.5 t/t."""
    rows = pd.DataFrame([row("e", "A", "lignite", 1000, "t", **{column: value})])
    got = accounts(rows, level="enterprise").iloc[0]
    assert got.energy_tce == pytest.approx(500.0)
    # CO2 = 14.6538 GJ/t x 0.101 t/GJ x 1000 t
    assert got.co2_t == pytest.approx(14.6538 * 0.101 * 1000)


def test_lignite_default_is_below_raw_coal() -> None:
    """Without a measured NCV lignite takes its own default 14.759 GJ/t (0.5036 tce/t)."""
    rows = pd.DataFrame([row("e", "A", "褐煤", 1000, "t"), row("f", "A", "原煤", 1000, "t")])
    got = accounts(rows, level="enterprise").set_index("enterprise")
    assert got.at["e", "energy_tce"] == pytest.approx(503.6)
    assert got.at["e", "co2_t"] == pytest.approx(1000 * 14.759 * 0.101)
    # booked as raw coal the same lignite is overstated by 0.7143 / 0.5036 - 1 = 41.8%
    assert got.at["f", "energy_tce"] / got.at["e", "energy_tce"] == pytest.approx(1.418,
                                                                               abs=1e-3)


def test_gangue_needs_a_measured_ncv() -> None:
    rows = pd.DataFrame([row("e", "A", "煤矸石", 10, "t")])
    with pytest.raises(InputError) as exc:
        accounts(rows)
    problem = exc.value.problems[0]
    assert problem.field == "ncv_gj_per_t" and problem.row == 2
    assert "coal_gangue" in problem.message
    ok = pd.DataFrame([row("e", "A", "煤矸石", 10, "t", ncv_gj_per_t="8.79228")])
    assert accounts(ok, level="enterprise").iloc[0].energy_tce == pytest.approx(3.0)


@pytest.mark.parametrize(("carrier", "unit", "ncv"), [
    ("electricity", "kWh", "10"),  # not a fuel in tonnes
    ("raw_coal", "t", "0"),
    ("raw_coal", "t", "1,5"),
    ("raw_coal", "t", "5000"),  # GJ/t of a value given in kcal/kg
])
def test_bad_measured_ncv_is_refused(carrier: str, unit: str, ncv: str) -> None:
    rows = pd.DataFrame([row("e", "A", carrier, 10, unit, ncv_gj_per_t=ncv)])
    with pytest.raises(InputError) as exc:
        accounts(rows)
    assert exc.value.problems[0].row == 2
    assert exc.value.problems[0].field in ("ncv_gj_per_t", "ncv")


def test_coal_booked_as_renewable_is_refused() -> None:
    rows = pd.DataFrame([row("e", "A", "raw_coal", 10, "t", origin="renewable"),
                         row("e", "A", "electricity", 10, "kWh", origin="绿电")])
    with pytest.raises(InputError) as exc:
        accounts(rows)
    assert len(exc.value.problems) == 1  # the green electricity is fine
    problem = exc.value.problems[0]
    assert (problem.row, problem.field, problem.value) == (2, "origin", "renewable")
    assert "raw_coal" in problem.message


def test_electricity_booked_as_feedstock_is_refused() -> None:
    rows = pd.DataFrame([row("e", "A", "electricity", 10, "kWh", use="feedstock")])
    with pytest.raises(InputError) as exc:
        accounts(rows)
    assert exc.value.problems[0].field == "use"
    assert "803" in exc.value.problems[0].message


def test_supplied_renewable_is_refused() -> None:
    rows = pd.DataFrame([row("wind", "A", "electricity", 10, "kWh", use="supplied",
                             origin="renewable")])
    with pytest.raises(InputError) as exc:
        accounts(rows)
    assert exc.value.problems[0].field == "origin"


def gdp(years_and_index: list[tuple[int, float]], area: str = "A") -> pd.DataFrame:
    return pd.DataFrame([{"area": area, "year": y, "gdp_current_10k_yuan": 1000.0 * (y - 2019),
                          "gdp_index_prev_year_100": i} for y, i in years_and_index])


def test_gdp_chain_with_a_hole_is_an_error() -> None:
    """2022 missing: 2023 at 2020 prices would lose 2022's growth (1.05: ~5% low)."""
    energy = pd.DataFrame([{**row("e", "A", "raw_coal", 1, "t"), "period": str(y)}
                           for y in (2020, 2021, 2023)])
    with pytest.raises(InputError) as exc:
        accounts(energy, gdp([(2020, 106.0), (2021, 106.3), (2023, 107.3)]), level="league")
    problem = exc.value.problems[0]
    assert (problem.field, problem.value) == ("year", 2022)
    assert "A" in problem.message and "2020-2023" in problem.message


def test_gdp_chain_complete_is_chained_by_hand() -> None:
    """GDP_const(2022, 2020 prices) = 1000 x 1.063 x 1.05 = 1116.15 (10^4 yuan)."""
    energy = pd.DataFrame([{**row("e", "A", "raw_coal", 1, "t"), "period": "2022"}])
    out = accounts(energy, gdp([(2020, 106.0), (2021, 106.3), (2022, 105.0)]),
                   level="league", base_year=2020)
    assert out.iloc[0].gdp_const_10k_yuan == pytest.approx(1000 * 1.063 * 1.05)


@pytest.mark.parametrize("index", [0.0, 1.052, 1e300])
def test_implausible_gdp_index_is_refused(index: float) -> None:
    energy = pd.DataFrame([row("e", "A", "raw_coal", 1, "t")])
    with pytest.raises(InputError) as exc:
        accounts(energy, gdp([(2021, 106.0), (2022, index)]))
    assert exc.value.problems[0].field == "gdp_index_prev_year_100"


def test_ncv_problems_name_the_column_given() -> None:
    rows = pd.DataFrame([row("e", "A", "electricity", 10, "kWh", ncv_kj_per_kg="3600"),
                         row("e", "A", "raw_coal", 10, "t", ncv_kcal_per_kg="5000",
                             ncv_gj_per_t="20.9")])
    with pytest.raises(InputError) as exc:
        accounts(rows)
    fields = {(p.row, p.field) for p in exc.value.problems}
    assert (2, "ncv_kj_per_kg") in fields  # electricity takes no measured NCV
    assert (3, "ncv_kcal_per_kg") in fields  # two columns on one row: the last one read
