"""Tests of the remaining energy budget and of the effect of added energy in a league.

Expected numbers are worked out by hand in each test; the rules used (the linear
progress path of progress_paths.csv, deductions by year) are those of
:mod:`dualcontrol.assessment`.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.assessment import progress
from dualcontrol.budget import energy_budget, forecast_gdp, intensity_effect


def plan(code: str, reduction: float, increment: float | None) -> pd.DataFrame:
    rows = [{"region_code": code, "region_name": code, "plan": "14th", "base_year": 2020,
             "target_year": 2025, "indicator": "energy_intensity_reduction",
             "target_value": reduction, "unit": "", "kind": "binding", "source": "test case",
             "edition": "test", "verified": "false", "note": ""}]
    if increment is not None:
        rows.append({**rows[0], "indicator": "energy_total_increment_tce",
                     "target_value": increment})
    return pd.DataFrame(rows)


def row(code: str, year: int, energy: float, gdp: float, feedstock: float = 0.0,
        renewable: float = 0.0) -> dict:
    return {"region_code": code, "year": year, "energy_tce": energy, "feedstock_tce": feedstock,
            "renewable_tce": renewable, "co2_t": 2 * energy, "gdp_const_10k_yuan": gdp}


# Base 2020: 1000 tce, 100 of it feedstock, GDP 1000; 2022: 1040 tce, 100 feedstock,
# GDP 1100. Plan: -15% intensity, +100 tce over 2020-2025. Rules of 2023: feedstock out
# of both measures (发改环资〔2022〕803号), no renewables here.
# Base: E = 900 (both measures), I_b = 0.9. Latest (2022): E = 940.
ACCOUNTS = pd.DataFrame([row("150900", 2020, 1000.0, 1000.0, feedstock=100.0),
                         row("150900", 2022, 1040.0, 1100.0, feedstock=100.0)])
PLAN = plan("150900", 0.15, 100.0)


def budget_row(frame: pd.DataFrame, horizon: str) -> pd.Series:
    return frame[frame["horizon"] == horizon].iloc[0]


def test_budget_against_a_direct_calculation_intensity_binds() -> None:
    out = energy_budget(ACCOUNTS, year=2023, gdp_growth=0.05, target_table=PLAN)
    this_year = budget_row(out, "this_year")
    # GDP 2023 = 1100 x 1.05 = 1155. Required reduction after 3 of 5 years on the
    # linear path: 0.15 x 3/5 = 0.09. Allowed intensity 0.9 x 0.91 = 0.819; x 1155
    # = 945.945 tce; room 945.945 - 940 = 5.945.
    assert this_year["intensity_allowed_tce"] == pytest.approx(945.945, abs=1e-9)
    assert this_year["intensity_room_tce"] == pytest.approx(5.945, abs=1e-9)
    # Total: 900 + 100 x 3/5 = 960 tce allowed; room 20.
    assert this_year["total_room_tce"] == pytest.approx(20.0, abs=1e-9)
    assert this_year["progress_rule"] == "linear_14th"
    assert (this_year["binding"], this_year["budget_tce"]) == (
        "intensity", pytest.approx(5.945, abs=1e-9))
    end = budget_row(out, "plan_end")
    # 2025: GDP 1100 x 1.05 ** 3 = 1273.3875; allowed 0.9 x 0.85 x 1273.3875 = 974.1414;
    # room 34.1414. Total: 1000 - 940 = 60.
    assert end["year"] == 2025
    assert end["intensity_room_tce"] == pytest.approx(34.1414, abs=1e-3)
    assert end["total_room_tce"] == pytest.approx(60.0, abs=1e-9)
    assert end["binding"] == "intensity"


def test_budget_total_binds_when_the_economy_grows_fast() -> None:
    out = energy_budget(ACCOUNTS, year=2023, gdp_growth=0.10, target_table=PLAN)
    this_year = budget_row(out, "this_year")
    # GDP 1210: intensity allows 0.819 x 1210 = 990.99, room 50.99 > 20 (total).
    assert this_year["intensity_room_tce"] == pytest.approx(50.99, abs=1e-9)
    assert (this_year["binding"], this_year["budget_tce"]) == (
        "total", pytest.approx(20.0, abs=1e-9))


def test_budget_without_total_target_and_with_observed_growth() -> None:
    # Growth not given: 2022 over 2021 = 1100 / 1000 - 1 = 10%.
    accounts = pd.concat([ACCOUNTS, pd.DataFrame([row("150900", 2021, 1020.0, 1000.0,
                                                      feedstock=100.0)])])
    out = energy_budget(accounts, year=2023, target_table=plan("150900", 0.15, None))
    this_year = budget_row(out, "this_year")
    assert this_year["gdp_growth"] == pytest.approx(0.10, abs=1e-12)
    assert this_year["binding"] == "intensity"
    assert this_year["budget_tce"] == pytest.approx(50.99, abs=1e-9)
    assert "no total target" in this_year["note"]


def test_forecast_gdp() -> None:
    assert forecast_gdp(1100.0, 0.05, 3) == pytest.approx(1273.3875, abs=1e-9)


def test_added_energy_in_a_league_moves_the_region() -> None:
    # Region 150000 2020: 10000 tce / 10000 -> 1.0; 2021: 9800 / 10000 -> 0.98 (-2%).
    # League Ordos 150600 2020: 4000 / 2000 = 2.0; 2021: 3900 / 2100 = 1.857143 (-7.1429%).
    # +100 tce in Ordos in 2021: Ordos 4000 / 2100 = 1.904762 -> -4.7619%, change
    # -0.0238095; the region 9900 / 10000 -> -1%, change -0.01.
    accounts = pd.DataFrame([row("150000", 2020, 10000.0, 10000.0),
                             row("150000", 2021, 9800.0, 10000.0),
                             row("150600", 2020, 4000.0, 2000.0),
                             row("150600", 2021, 3900.0, 2100.0)])
    targets = pd.concat([plan("150000", 0.15, None), plan("150600", 0.16, 600.0)])
    out = intensity_effect(accounts, year=2021, region_code="150600", added_tce=100.0,
                           target_table=targets)
    effect = out[out["indicator"] == "energy_intensity"].set_index("region_code")
    assert effect.loc["150600", "value_before"] == pytest.approx(0.0714286, abs=1e-7)
    assert effect.loc["150600", "change"] == pytest.approx(-0.0238095, abs=1e-7)
    assert effect.loc["150000", "value_before"] == pytest.approx(0.02, abs=1e-12)
    assert effect.loc["150000", "change"] == pytest.approx(-0.01, abs=1e-12)
    total = out[out["indicator"] == "energy_total"].set_index("region_code")
    assert total.loc["150600", "change"] == pytest.approx(100.0)


@settings(max_examples=40, deadline=None)
@given(
    base_energy=st.floats(1_000, 100_000),
    feedstock_share=st.floats(0, 0.3),
    renewable_base_share=st.floats(0, 0.2),
    renewable_growth=st.floats(0, 0.1),
    energy_change=st.floats(-0.1, 0.3),
    gdp_change=st.floats(0.0, 0.4),
    reduction=st.floats(0.05, 0.3),
    increment_share=st.floats(0.0, 0.5),
    growth=st.floats(-0.02, 0.1),
    year=st.integers(2021, 2025),
)
def test_using_the_budget_lands_exactly_on_the_binding_target(
        base_energy: float, feedstock_share: float, renewable_base_share: float,
        renewable_growth: float, energy_change: float, gdp_change: float, reduction: float,
        increment_share: float, growth: float, year: int) -> None:
    code = "150200"
    y0 = year - 1
    renewable_base = base_energy * renewable_base_share
    latest_energy = base_energy * (1 + energy_change)
    latest = row(code, y0, latest_energy, 1000.0 * (1 + gdp_change),
                 feedstock=base_energy * feedstock_share,
                 renewable=renewable_base + base_energy * renewable_growth)
    rows = [row(code, 2020, base_energy, 1000.0, feedstock=base_energy * feedstock_share,
                renewable=renewable_base)]
    if y0 == 2020:
        latest = rows[0]  # the latest actual year is the base year
    else:
        rows.append(latest)
    targets = plan(code, reduction, base_energy * increment_share)
    out = energy_budget(pd.DataFrame(rows), year=year, gdp_growth=growth, target_table=targets)
    this_year = budget_row(out, "this_year")
    budget = this_year["budget_tce"]
    used = {**latest, "year": year, "energy_tce": latest["energy_tce"] + budget,
            "gdp_const_10k_yuan": latest["gdp_const_10k_yuan"] * (1 + growth)}
    if used["energy_tce"] < 0:
        return  # an overdraft larger than the whole use cannot be represented
    assessed = progress(pd.DataFrame([*rows, used]), year=year, target_table=targets)
    gaps = assessed.set_index("indicator")["gap"]
    binding = "energy_intensity" if this_year["binding"] == "intensity" else "energy_total"
    other = "energy_total" if binding == "energy_intensity" else "energy_intensity"
    # Exactly on the binding target (float rounding only), within the other.
    scale = 1e-9 if binding == "energy_intensity" else 1e-9 * base_energy
    assert abs(gaps[binding]) <= scale
    assert gaps[other] <= (1e-9 * base_energy if other == "energy_total" else 1e-9)


def test_budget_at_the_incentive_target_ignores_the_total() -> None:
    # PLAN with an incentive target of -20%: 2023 (k = 3) requires 0.20 x 3/5 = 0.12;
    # allowed 0.9 x 0.88 x 1155 = 914.76 tce < 940 used: no room under the incentive
    # target (-25.24), so the binding intensity target (5.945) stays the budget.
    strict = pd.concat([PLAN, plan("150900", 0.20, None).assign(kind="incentive")])
    out = budget_row(energy_budget(ACCOUNTS, year=2023, gdp_growth=0.05, target_table=strict),
                     "this_year")
    assert out["incentive_room_tce"] == pytest.approx(914.76 - 940.0, abs=1e-9)
    assert (out["binding"], out["budget_tce"]) == ("intensity", pytest.approx(5.945, abs=1e-9))
    # Growing at 10%: the total (room 20) binds; the incentive target (-16%: 0.096
    # required, 0.9 x 0.904 x 1210 = 984.456 allowed, room 44.456) lets the region use
    # up to 44.456 tce with its total exempt (发改环资〔2021〕1310号).
    loose = pd.concat([PLAN, plan("150900", 0.16, None).assign(kind="incentive")])
    out = budget_row(energy_budget(ACCOUNTS, year=2023, gdp_growth=0.10, target_table=loose),
                     "this_year")
    assert out["total_room_tce"] == pytest.approx(20.0, abs=1e-9)
    assert out["incentive_room_tce"] == pytest.approx(44.456, abs=1e-9)
    assert (out["binding"], out["budget_tce"]) == (
        "incentive_exemption", pytest.approx(44.456, abs=1e-9))
    assert out["gdp_growth_basis"] == "given"
