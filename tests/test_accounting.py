"""Accounts of energy-use rows: hand calculations, exclusions, additivity, bad input."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualcontrol.accounting import (
    account_rows,
    accounts,
    coefficient_table,
    gdp_comparable,
    parse_period,
    prepare_energy_rows,
    prepare_gdp,
)
from dualcontrol.errors import InputError
from dualcontrol.reference import factor_years


def row(enterprise: str = "E1", league: str = "Ordos", period: str = "2022-01",
        carrier: str = "raw_coal", quantity: float = 1.0, unit: str = "t",
        use: str = "combustion", origin: str = "purchased") -> dict:
    return {"region": "IM", "league": league, "county": "C", "park": "P",
            "enterprise": enterprise, "period": period, "carrier": carrier,
            "quantity": quantity, "unit": unit, "use": use, "origin": origin}


def test_hand_calculated_enterprise_year() -> None:
    rows = pd.DataFrame([
        row(carrier="raw_coal", quantity=100, unit="t"),  # fuel
        row(carrier="raw_coal", quantity=50, unit="t", use="feedstock"),  # raw material
        row(carrier="electricity", quantity=10, unit="万千瓦时"),  # purchased
        row(carrier="electricity", quantity=2, unit="万千瓦时", origin="renewable"),
        row(carrier="electricity", quantity=1, unit="万千瓦时", origin="self_produced"),
    ])
    out = accounts(rows, level="enterprise")
    assert len(out) == 1
    got = out.iloc[0]
    # Energy, GB/T 2589 coefficients: coal 0.7143 tce/t, electricity 0.1229 kgce/kWh.
    coal_fuel = 100 * 0.7143          # 71.43 tce
    coal_feed = 50 * 0.7143           # 35.715 tce
    grid = 100_000 * 0.0001229        # 12.29 tce
    green = 20_000 * 0.0001229        # 2.458 tce
    own = 10_000 * 0.0001229          # 1.229 tce, produced from fuel already counted
    assert got.energy_tce == pytest.approx(coal_fuel + coal_feed + grid + green)
    assert got.feedstock_tce == pytest.approx(coal_feed)
    assert got.renewable_tce == pytest.approx(green)
    assert got.self_produced_tce == pytest.approx(own)
    assert got.controlled_tce == pytest.approx(coal_fuel + grid)
    # CO2: coal 20.908 GJ/t x 94.6 kg/GJ = 1.97790 t/t on the fuel share only;
    # grid 100,000 kWh x 0.6849 kg/kWh (MEE & NBS 2022, Inner Mongolia's provincial
    # factor: the rule of electricity_factor_rules.csv) = 68.49 t.
    assert got.co2_combustion_t == pytest.approx(100 * 20.908 * 94.6 / 1000)
    assert got.co2_electricity_t == pytest.approx(68.49)
    assert got.co2_t == pytest.approx(100 * 20.908 * 94.6 / 1000 + 68.49)


def test_rollup_by_league_and_region_keeps_totals() -> None:
    rows = pd.DataFrame([
        row("E1", "Ordos", quantity=10), row("E2", "Ordos", quantity=20),
        row("E3", "Baotou", quantity=30), row("E3", "Baotou", period="2022-02", quantity=5),
    ])
    league = accounts(rows, level="league").set_index("league")
    assert league.loc["Ordos", "energy_tce"] == pytest.approx(30 * 0.7143)
    assert league.loc["Baotou", "energy_tce"] == pytest.approx(35 * 0.7143)
    region = accounts(rows, level="region")
    assert region["energy_tce"].sum() == pytest.approx(league["energy_tce"].sum())
    months = accounts(rows, level="league", grain="month")
    assert len(months) == 3


def test_year_rows_cannot_be_split_by_month() -> None:
    with pytest.raises(InputError, match="cannot be split"):
        accounts(pd.DataFrame([row(period="2022")]), grain="month")


def test_gdp_at_comparable_prices_hand_calculation() -> None:
    # Base 2020: 100 (current). 2021 index 106 -> 106.0; 2022 index 105 -> 111.3.
    # 2019 (index of 2020 = 104 means 2020 = 1.04 x 2019) -> 100 / 1.04 = 96.1538.
    gdp = pd.DataFrame({
        "area": ["A"] * 4, "year": [2019, 2020, 2021, 2022],
        "gdp_current_10k_yuan": [90, 100, 115, 125],
        "gdp_index_prev_year_100": [107, 104, 106, 105],
    })
    out = ibis.duckdb.connect().execute(gdp_comparable(ibis.memtable(prepare_gdp(gdp)), 2020))
    got = out.sort_values("year")["gdp_const_10k_yuan"].tolist()
    assert got == pytest.approx([100 / 1.04, 100.0, 106.0, 106.0 * 1.05])


def test_intensity_is_energy_over_comparable_gdp() -> None:
    rows = pd.DataFrame([row(period="2020", quantity=1000), row(period="2021", quantity=1000)])
    gdp = pd.DataFrame({"area": ["Ordos", "Ordos"], "year": [2020, 2021],
                        "gdp_current_10k_yuan": [10_000, 11_000],
                        "gdp_index_prev_year_100": [103, 105]})
    out = accounts(rows, gdp, level="league").set_index("year")
    # 2021: 714.3 tce / (10,000 x 1.05) 10^4 yuan at 2020 prices.
    assert out.loc[2021, "intensity_tce_per_10k_yuan"] == pytest.approx(714.3 / 10_500)
    assert out.loc[2020, "gdp_const_10k_yuan"] == pytest.approx(10_000)


def test_all_problems_reported_at_once_with_rows_and_fields() -> None:
    rows = pd.DataFrame([
        row(), row(carrier="moon_rock"), row(quantity=-3), row(unit="kWh"),
        row(period="2022-13"), row(use="eaten"), row(quantity="lots"),  # type: ignore[arg-type]
    ])
    with pytest.raises(InputError) as info:
        prepare_energy_rows(rows, file="in.csv")
    where = {(p.row, p.field) for p in info.value.problems}
    # data rows start at spreadsheet row 2
    assert where == {(3, "carrier"), (4, "quantity"), (5, "unit"), (6, "period"),
                     (7, "use"), (8, "quantity")}
    assert all(p.file == "in.csv" for p in info.value.problems)
    assert "accepted" in str(info.value)


def test_missing_column_is_named() -> None:
    with pytest.raises(InputError) as info:
        prepare_energy_rows(pd.DataFrame([{"enterprise": "E", "period": "2022"}]))
    assert {p.field for p in info.value.problems} == {"carrier", "quantity", "unit"}


@pytest.mark.parametrize(("text", "grain"), [("2024", "year"), ("2024-07", "month"),
                                              ("2024-Q3", "quarter"), ("2024-H2", "half")])
def test_periods(text: str, grain: str) -> None:
    period = parse_period(text)
    assert period.year == 2024 and period.grain == grain


amounts = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


#: Bookings the deduction scope accepts (issue 15), energy supplied to others included.
BOOKINGS = [("raw_coal", "t", "combustion", "purchased"),
            ("raw_coal", "t", "feedstock", "purchased"),
            ("electricity", "kWh", "combustion", "purchased"),
            ("electricity", "kWh", "combustion", "renewable"),
            ("electricity", "kWh", "supplied", "self_produced"),
            ("natural_gas", "m3", "feedstock", "purchased"),
            ("heat", "GJ", "combustion", "renewable"),
            ("heat", "GJ", "supplied", "purchased")]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.lists(
    st.tuples(st.sampled_from(["E1", "E2", "E3"]), st.sampled_from(["2021-03", "2022-07"]),
              st.sampled_from(BOOKINGS), amounts),
    min_size=1, max_size=20))
def test_rollups_equal_the_sum_of_their_rows(data: list) -> None:
    # 2021 has no Inner Mongolia grid factor: the nearest year is asked for explicitly.
    with factor_years("nearest"):
        rows = pd.DataFrame([
            row(e, "L1" if e != "E3" else "L2", p, c, q, u, use, origin)
            for e, p, (c, u, use, origin), q in data
        ])
        prepared = prepare_energy_rows(rows)
        coefficients = coefficient_table(prepared["year"].unique())
        con = ibis.duckdb.connect()
        per_row = con.execute(account_rows(ibis.memtable(prepared), ibis.memtable(coefficients)))
        for level, grain in [("enterprise", "month"), ("league", "quarter"), ("region", "year")]:
            rolled = accounts(rows, level=level, grain=grain, con=con)
            for measure in ("energy_tce", "controlled_tce", "co2_t", "feedstock_tce",
                            "supplied_tce"):
                assert rolled[measure].sum() == pytest.approx(per_row[measure].sum(),
                                                              rel=1e-9, abs=1e-6)
        # controlled = total - feedstock - renewable on every row
        assert (per_row.energy_tce - per_row.feedstock_tce - per_row.renewable_tce
                - per_row.controlled_tce).abs().max() < 1e-6


def test_rollup_levels_equal_rollups_of_the_rows() -> None:
    from dualcontrol.accounting import LEVELS, rollup, rollup_levels

    rows = pd.DataFrame([
        row("E1", "Ordos", quantity=10), row("E2", "Ordos", carrier="electricity",
                                             quantity=5, unit="MWh"),
        row("E3", "Baotou", quantity=30, use="feedstock"),
        row("E3", "Baotou", period="2022-02", quantity=5),
    ])
    prepared = prepare_energy_rows(rows)
    con = ibis.duckdb.connect()
    accounted = account_rows(con.create_table("r", prepared),
                             con.create_table("c", coefficient_table([2022])))
    every = rollup_levels(accounted, LEVELS, "quarter")
    for level in LEVELS:
        direct = con.execute(rollup(accounted, level, "quarter"))
        chained = con.execute(every[level])
        pd.testing.assert_frame_equal(direct.reset_index(drop=True),
                                      chained.reset_index(drop=True), check_dtype=False)
