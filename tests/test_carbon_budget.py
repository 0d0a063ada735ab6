"""Tests of dualcontrol.carbon_budget: budgets by hand, allocation sums, reservations."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualcontrol import carbon_budget as cb
from dualcontrol.errors import InputError

# Illustrative targets (not official): the region -17% and Hohhot -20% over 2025-2030.
TARGETS = pd.DataFrame([
    {"region_code": "150000", "plan": "15th", "base_year": 2025, "target_year": 2030,
     "indicator": "co2_intensity_reduction", "target_value": 0.17, "kind": "binding",
     "source": "test", "verified": "false"},
    {"region_code": "150100", "plan": "15th", "base_year": 2025, "target_year": 2030,
     "indicator": "co2_intensity_reduction", "target_value": 0.20, "kind": "binding",
     "source": "test", "verified": "false"},
])


def accounts() -> pd.DataFrame:
    """Region 1000 t CO2 in 2025 (GDP 100 -> 105: 5% growth); two leagues, counties, parks."""
    rows = [
        ("150000", "region", None, 2024, 990.0, 100.0),
        ("150000", "region", None, 2025, 1000.0, 105.0),
        ("150100", "league", "150000", 2025, 600.0, 60.0),
        ("150200", "league", "150000", 2025, 400.0, 45.0),
        ("150102", "county", "150100", 2025, 100.0, math.nan),
        ("150103", "county", "150100", 2025, 300.0, math.nan),
        ("150202", "county", "150200", 2025, 400.0, math.nan),
        ("150103-P1", "park", "150103", 2025, 200.0, math.nan),
        ("150103-none", "park", "150103", 2025, 100.0, math.nan),
    ]
    return pd.DataFrame(rows, columns=["region_code", "level", "parent_code", "year", "co2_t",
                                       "gdp_const_10k_yuan"])


def budgets(**kw: object) -> pd.DataFrame:
    return cb.carbon_budgets(accounts(), target_table=TARGETS, as_of=date(2026, 4, 1), **kw)


def row(frame: pd.DataFrame, code: str, period: str = "2026") -> pd.Series:
    return frame[(frame["region_code"] == code) & (frame["period"] == period)].iloc[0]


def test_region_budget_by_hand() -> None:
    # g = 105 / 100 - 1 = 5%; linear path (progress_paths.csv linear_15th):
    # 2026: r = 0.17 * 1/5 = 0.034 -> B = 1000 * (1 - 0.034) * 1.05 = 1014.3 t
    # 2030: r = 0.17 -> B = 1000 * 0.83 * 1.05**5 = 830 * 1.2762815625 = 1059.31369688 t
    out = budgets()
    region = row(out, "150000")
    assert region["gdp_growth"] == pytest.approx(0.05)
    assert region["required_reduction"] == pytest.approx(0.034)
    assert region["budget_co2_t"] == pytest.approx(1014.3, rel=1e-12)
    assert row(out, "150000", "2030")["budget_co2_t"] == pytest.approx(1059.31369688, rel=1e-10)
    # 2026-2030 is the sum: 1014.3 + 932*1.1025 + 898*1.157625 + 864*1.21550625 + 1059.3137
    by_hand = 1014.3 + 1027.53 + 1039.547250 + 1050.1974 + 1059.31369688
    assert row(out, "150000", "2026-2030")["budget_co2_t"] == pytest.approx(by_hand, rel=1e-9)


def test_given_growth_replaces_the_observed_one() -> None:
    # 2026: 1000 * 0.966 * 1.03 = 994.98 t
    region = row(budgets(gdp_growth=0.03), "150000")
    assert region["budget_co2_t"] == pytest.approx(994.98, rel=1e-12)
    assert region["gdp_growth_basis"] == "given"


def test_league_allocation_by_own_targets_by_hand() -> None:
    # weights 2026: Hohhot own -20%: 600 * (1 - 0.04) * 1.05 = 604.8
    #               Baotou has none, takes the region's -17%: 400 * 0.966 * 1.05 = 405.72
    # Hohhot's budget = 1014.3 * 604.8 / (604.8 + 405.72) = 607.0580...
    out = budgets()
    hohhot, baotou = row(out, "150100"), row(out, "150200")
    assert hohhot["own_target_co2_t"] == pytest.approx(604.8)
    assert baotou["own_target_co2_t"] == pytest.approx(405.72)
    assert hohhot["budget_co2_t"] == pytest.approx(1014.3 * 604.8 / 1010.52, rel=1e-12)
    assert "own target" in hohhot["note"] and "region's target" in baotou["note"]


@pytest.mark.parametrize("rule", ["league_intensity_target", "league_base_emissions"])
@pytest.mark.parametrize("period", ["2026", "2028", "2030", "2026-2030"])
def test_allocations_sum_to_the_parent(rule: str, period: str) -> None:
    out = budgets(rules={"league": rule})
    at = out[out["period"] == period].set_index("region_code")["budget_co2_t"]
    assert at["150100"] + at["150200"] == pytest.approx(at["150000"], rel=1e-12)
    assert at["150102"] + at["150103"] == pytest.approx(at["150100"], rel=1e-12)
    assert at["150202"] == pytest.approx(at["150200"], rel=1e-12)
    assert at["150103-P1"] + at["150103-none"] == pytest.approx(at["150103"], rel=1e-12)


def test_base_year_emission_shares() -> None:
    # grandfathering: 600 / 1000 and 400 / 1000; counties of Hohhot 100 / 400 and 300 / 400
    out = budgets(rules={"league": "league_base_emissions"})
    assert row(out, "150100")["share"] == pytest.approx(0.6)
    assert row(out, "150100")["budget_co2_t"] == pytest.approx(0.6 * 1014.3)
    assert row(out, "150103")["share"] == pytest.approx(0.75)
    assert row(out, "150103-P1")["budget_co2_t"] == pytest.approx(2 / 3 * 0.75 * 0.6 * 1014.3)


@given(st.floats(0, 1e9), st.lists(st.floats(0.001, 1e8), min_size=1, max_size=20))
def test_allocate_always_sums_to_the_parent(parent: float, weights: list[float]) -> None:
    parts = cb.allocate(parent, {str(i): w for i, w in enumerate(weights)})
    assert sum(parts.values()) == pytest.approx(parent, rel=1e-9, abs=1e-6)


def test_unknown_rule_is_refused_with_the_accepted_ones() -> None:
    with pytest.raises(InputError) as err:
        budgets(rules={"league": "league_by_population"})
    assert "league_base_emissions" in str(err.value)


def test_region_without_target_is_an_error() -> None:
    with pytest.raises(InputError, match="target"):
        cb.carbon_budgets(accounts(), target_table=TARGETS.iloc[1:], as_of=date(2026, 4, 1))


def test_year_to_date_actual_is_scaled_by_last_years_same_period() -> None:
    # 2026 Jan-Oct 1,100 t against 1,000 t in Jan-Oct 2025, which closed at 1,200 t:
    # 1200 * 1100 / 1000 = 1320 t
    index = {(2025, 12): 1200.0, (2025, 10): 1000.0, (2026, 10): 1100.0}
    value, basis = cb.actual_co2(index, 2026)
    assert value == pytest.approx(1320.0)
    assert "1-10" in basis
    later, basis = cb.actual_co2(index, 2028)
    assert later == pytest.approx(1320.0) and basis.startswith("run rate")


def project(**dates: date) -> pd.DataFrame:
    return pd.DataFrame([{"code": "P1", "league_code": "150100", "county_code": "150103",
                          "park_code": "150103-P1", "co2_t": 50.0, "reviewed_on": None,
                          "approved_on": None, "under_construction_on": None,
                          "in_operation_on": None, "rejected_on": None, "withdrawn_on": None,
                          **dates}])


def test_approved_in_march_reserves_then_moves_to_actuals_when_it_runs() -> None:
    # approved 2026-03-10: on 1 April it reserves its 50 t/a in Hohhot, county 150103,
    # park 150103-P1 and the region; the 2026 actual is still the 2025 run rate (600 t).
    plan = project(reviewed_on=date(2026, 2, 1), approved_on=date(2026, 3, 10))
    before = cb.carbon_budgets(accounts(), projects=plan, target_table=TARGETS,
                               as_of=date(2026, 4, 1))
    hohhot = row(before, "150100")
    assert hohhot["reserved_co2_t"] == 50.0 and hohhot["actual_co2_t"] == 600.0
    assert hohhot["remaining_co2_t"] == pytest.approx(hohhot["budget_co2_t"] - 650.0)
    for code in ("150000", "150103", "150103-P1"):
        assert row(before, code)["reserved_co2_t"] == 50.0
    assert row(before, "150200")["reserved_co2_t"] == 0.0
    # in operation from 2026-07-01: on 2027-01-20 the closed 2026 accounts hold its CO2
    # (Hohhot 650 t); the reservation is released, so it counts once
    plan = project(reviewed_on=date(2026, 2, 1), approved_on=date(2026, 3, 10),
                   under_construction_on=date(2026, 4, 1), in_operation_on=date(2026, 7, 1))
    closed = pd.concat([accounts(), pd.DataFrame([
        {"region_code": "150100", "level": "league", "parent_code": "150000", "year": 2026,
         "co2_t": 650.0}])], ignore_index=True)
    after = cb.carbon_budgets(closed, projects=plan, target_table=TARGETS,
                              as_of=date(2027, 1, 20))
    hohhot_after = row(after, "150100")
    assert hohhot_after["reserved_co2_t"] == 0.0 and hohhot_after["actual_co2_t"] == 650.0
    assert hohhot_after["remaining_co2_t"] == pytest.approx(hohhot["remaining_co2_t"])


@pytest.mark.parametrize("dates, reserved", [
    ({"reviewed_on": date(2026, 2, 1)}, 0.0),  # reviewed only: nothing reserved
    ({"reviewed_on": date(2026, 2, 1), "rejected_on": date(2026, 3, 1)}, 0.0),
    ({"reviewed_on": date(2026, 2, 1), "approved_on": date(2026, 3, 1),
      "withdrawn_on": date(2026, 3, 20)}, 0.0),
    ({"reviewed_on": date(2026, 2, 1), "approved_on": date(2026, 3, 1),
      "under_construction_on": date(2026, 3, 20)}, 50.0),
    # approved after the day the pipeline is read on: not yet reserving
    ({"reviewed_on": date(2026, 2, 1), "approved_on": date(2026, 5, 1)}, 0.0),
])
def test_only_approved_projects_not_running_reserve(dates: dict, reserved: float) -> None:
    out = cb.carbon_budgets(accounts(), projects=project(**dates), target_table=TARGETS,
                            as_of=date(2026, 4, 1))
    assert row(out, "150100")["reserved_co2_t"] == reserved


def test_project_approved_next_year_does_not_reserve_this_year() -> None:
    plan = project(reviewed_on=date(2026, 2, 1), approved_on=date(2027, 1, 5))
    out = cb.carbon_budgets(accounts(), projects=plan, target_table=TARGETS,
                            as_of=date(2027, 2, 1))
    assert row(out, "150100", "2026")["reserved_co2_t"] == 0.0
    assert row(out, "150100", "2027")["reserved_co2_t"] == 50.0
    assert row(out, "150100", "2026-2030")["reserved_co2_t"] == 4 * 50.0
