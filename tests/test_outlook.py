"""Tests of the scenario outlook (dualcontrol.outlook)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.errors import InputError
from dualcontrol.outlook import (
    PATHS,
    check_targets,
    load_scenario,
    project,
    run,
    scenario_from_mapping,
)

SCENARIOS = Path(__file__).resolve().parents[1] / "examples" / "scenarios"


def simple(**over) -> dict:
    """One region, one sector, no electricity: energy = E0 x GDP ratio x intensity."""
    base = {
        "name": "test", "base_year": 2020, "end_year": 2040,
        "electricity_tce_per_kwh": 0.0001229,
        "regions": [{
            "name": "r", "gdp_base_10k_yuan": 1000.0, "energy_base_tce": 500.0,
            "gdp_growth": [], "sectors": [{"name": "all", "share": 1.0,
                                           "intensity_index": 1.0,
                                           "intensity_decline": []}],
            "electricity_share": 0.0, "nonfossil_generation_share": 0.0,
            "fossil_grid_factor_t_per_mwh": 0.8, "direct_nonfossil_share": 0.0,
            "feedstock_share": 0.0, "direct_co2_factor_t_per_tce": 2.5,
        }],
    }
    base["regions"][0].update(over)
    return base


def total_path(scenario, col):
    c = scenario if not hasattr(scenario, "regions") else run(scenario).central
    return c[c["region"] == "total"][col].to_numpy()


def test_constant_factors_give_a_flat_path():
    sc = scenario_from_mapping(simple())
    central = run(sc).central
    for col in ("gdp_const_10k_yuan", "energy_tce", "co2_t", "controlled_tce"):
        values = central[col].to_numpy()
        assert np.allclose(values, values[0], rtol=0, atol=1e-9 * values[0])
    # CO2 = 500 tce x 2.5 t/tce = 1250 t, by hand
    assert central["co2_t"].iloc[0] == pytest.approx(1250.0)


def test_known_rates_peak_in_the_hand_computed_year():
    # GDP +5 %/yr throughout; intensity -2 %/yr to 2030, -8 %/yr from 2031.
    # Energy factor per year: 1.05*0.98 = 1.029 (> 1, rising) to 2030,
    # 1.05*0.92 = 0.966 (< 1, falling) from 2031: the peak is 2030.
    # Level: 1.029**2 = 1.058841, **4 = 1.121144, **8 = 1.256964, **10 = 1.256964 *
    # 1.058841 = 1.330925; 500 * 1.330925 = 665.46 tce.
    sc = scenario_from_mapping(simple(
        gdp_growth=[{"from": 2021, "to": 2040, "rate": 0.05}],
        sectors=[{"name": "all", "share": 1.0, "intensity_index": 1.0,
                  "intensity_decline": [{"from": 2021, "to": 2030, "rate": 0.02},
                                        {"from": 2031, "to": 2040, "rate": 0.08}]}]))
    out = run(sc)
    energy = total_path(out.central, "energy_tce")
    assert sc.years[np.argmax(energy)] == 2030
    assert energy.max() == pytest.approx(665.46, abs=0.01)
    from dualcontrol.outlook import peak_summary
    peaks = peak_summary(out).set_index("quantity")
    assert peaks.loc["co2_t", "peak_year"] == 2030
    assert bool(peaks.loc["co2_t", "peaked_by_end"])
    assert peaks.loc["co2_t", "peak_status"] == "peaked"


def test_a_path_falling_from_the_start_is_already_declining_not_peaking_then():
    # GDP +2 %/yr, intensity -5 %/yr: energy factor 1.02 x 0.95 = 0.969 < 1 every year,
    # so the first year is the maximum: the peak lies in the history, not in the base year.
    from dualcontrol.outlook import peak_status, peak_summary

    sc = scenario_from_mapping(simple(
        gdp_growth=[{"from": 2021, "to": 2040, "rate": 0.02}],
        sectors=[{"name": "all", "share": 1.0, "intensity_index": 1.0,
                  "intensity_decline": [{"from": 2021, "to": 2040, "rate": 0.05}]}]))
    peaks = peak_summary(run(sc)).set_index("quantity")
    assert peaks.loc["energy_tce", "peak_status"] == "already_declining"
    assert peaks.loc["energy_tce", "peak_year"] is None
    assert peak_status(np.array([1.0, 2.0, 2.0])) == "not_peaked"
    assert peak_status(np.array([1.0, 3.0, 2.0])) == "peaked"


def test_electricity_and_grid_by_hand():
    # E = 1000 tce, 30 % electricity = 300 tce = 300/0.0001229 kWh = 2,441,009 kWh
    # = 2,441.009 MWh at grid 0.8 x (1 - 0.5) = 0.4 t/MWh -> 976.40 t;
    # direct 700 tce: 10 % non-fossil -> 630 fossil, 20 % feedstock -> 126, burnt 504
    # x 2.5 = 1260 t; CCS 100 t. CO2 = 1260 + 976.40 - 100 = 2136.40 t.
    # non-fossil = 300 x 0.5 + 70 = 220; controlled = 1000 - 220 - 126 = 654 tce.
    sc = scenario_from_mapping(simple(
        energy_base_tce=1000.0, electricity_share=0.3, nonfossil_generation_share=0.5,
        direct_nonfossil_share=0.1, feedstock_share=0.2, ccs_t=100.0))
    c = run(sc).central.iloc[0]
    assert c["co2_t"] == pytest.approx(2136.40, abs=0.01)
    assert c["controlled_tce"] == pytest.approx(654.0)
    assert c["grid_factor_t_per_mwh"] == pytest.approx(0.4)


def uncertain(sd: float) -> dict:
    raw = simple(
        gdp_growth=[{"from": 2021, "to": 2040,
                     "rate": {"value": 0.05, "dist": "normal", "sd": sd}}],
        energy_base_tce={"value": 500.0, "dist": "triangular", "low": 500.0 - 100 * sd,
                         "high": 500.0 + 100 * sd},
        nonfossil_generation_share={2020: 0.1, 2030: {"value": 0.4, "dist": "uniform",
                                                      "low": 0.4 - sd, "high": 0.4 + sd}},
        electricity_share={2020: 0.2, 2040: 0.4})
    return raw


def test_zero_variance_monte_carlo_equals_the_deterministic_path():
    sc = scenario_from_mapping(uncertain(0.0))
    out = run(sc, draws=50, seed=3)
    central = out.central[out.central["region"] == "total"]
    for col in PATHS:
        # equal up to float rounding: the anchor interpolation is a matrix product whose
        # summation order BLAS may change with the number of rows
        expected = np.tile(central[col].to_numpy(), (50, 1))
        assert np.allclose(out.draws[col], expected, rtol=1e-13, atol=0)


def test_same_seed_same_result_and_other_seed_differs():
    sc = scenario_from_mapping(uncertain(0.01))
    a = run(sc, draws=300, seed=7)
    b = run(sc, draws=300, seed=7)
    c = run(sc, draws=300, seed=8)
    assert np.array_equal(a.draws["co2_t"], b.draws["co2_t"])
    assert not np.array_equal(a.draws["co2_t"], c.draws["co2_t"])


def test_vectorised_equals_plain_loop_reference():
    sc = load_scenario(SCENARIOS / "inner_mongolia_policy.yaml")
    vec = project(sc, n=40, rng=np.random.default_rng(5))
    loop = project(sc, n=40, rng=np.random.default_rng(5), loop=True)
    for col in PATHS:
        assert np.allclose(vec["total"][col], loop["total"][col], rtol=1e-12, atol=0)


def test_regions_add_up_to_the_total():
    raw = simple(gdp_growth=[{"from": 2021, "to": 2040, "rate": 0.03}])
    second = copy.deepcopy(raw["regions"][0])
    second.update(name="r2", energy_base_tce=300.0, electricity_share=0.5)
    raw["regions"].append(second)
    out = run(scenario_from_mapping(raw), draws=20, seed=1)
    c = out.central
    for col in ("energy_tce", "co2_t"):
        parts = c[c.region.isin(["r", "r2"])].groupby("year")[col].sum().to_numpy()
        assert np.allclose(parts, c[c.region == "total"][col].to_numpy())
    assert set(out.peaks) == {"r", "r2", "total"}


def test_target_check_by_hand():
    # history 2020: GDP 1000, energy 500 -> intensity 0.5 (controlled = energy, no
    # non-fossil/feedstock); 2025 after +5 %/yr GDP and -4 %/yr intensity:
    # I_2025 / I_2020 = 0.96**5 = 0.815373 -> reduction 0.184627 >= 0.15: met.
    raw = simple(gdp_growth=[{"from": 2021, "to": 2040, "rate": 0.05}],
                 sectors=[{"name": "all", "share": 1.0, "intensity_index": 1.0,
                           "intensity_decline": [{"from": 2021, "to": 2040,
                                                  "rate": 0.04}]}])
    raw["base_year"] = 2022
    raw["regions"][0]["gdp_base_10k_yuan"] = 1000.0 * 1.05 ** 2
    raw["regions"][0]["energy_base_tce"] = 500.0 * (1.05 * 0.96) ** 2
    raw["history"] = [{"year": 2020, "gdp_const_10k_yuan": 1000.0, "energy_tce": 500.0}]
    raw["targets"] = [{"indicator": "energy_intensity_reduction", "base_year": 2020,
                       "target_year": 2025, "target_value": 0.15, "source": "test"},
                      {"indicator": "co2_peak_year", "target_value": 2030,
                       "source": "test"}]
    checks = check_targets(run(scenario_from_mapping(raw))).set_index("indicator")
    assert checks.loc["energy_intensity_reduction", "value"] == pytest.approx(0.184627,
                                                                              abs=1e-6)
    assert bool(checks.loc["energy_intensity_reduction", "met"])
    # energy grows 1.05*0.96 = 1.008/yr to 2040: no peak by the end -> not met
    assert not bool(checks.loc["co2_peak_year", "met"])


def test_bad_scenario_lists_every_problem():
    raw = simple()
    raw["regions"][0]["energy_base_tce"] = {"value": 1.0, "dist": "lognormal"}
    raw["regions"][0]["electricity_share"] = "high"
    del raw["regions"][0]["gdp_base_10k_yuan"]
    with pytest.raises(InputError) as info:
        scenario_from_mapping(raw, file="x.yaml")
    text = str(info.value)
    assert "3 problems" in text
    assert "regions[0].energy_base_tce.dist" in text and "triangular" in text


@pytest.mark.parametrize("name", ["baseline", "policy", "enhanced"])
def test_shipped_scenarios_run_with_json_and_chart(tmp_path, name):
    chart = tmp_path / "fan.png"
    res = CliRunner().invoke(app, ["outlook", str(SCENARIOS / f"inner_mongolia_{name}.yaml"),
                                   "--draws", "500", "--seed", "1", "--json",
                                   "--chart", str(chart)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["draws"] == 500
    peaks = {p["quantity"]: p for p in out["peaks"]}
    co2 = peaks["co2_t"]
    # the policy paths fall from the first year (2025): their peak is not in the
    # projection, and the base year is not reported as the peak year
    expected = {"baseline": "peaked"}.get(name, "already_declining")
    assert co2["peak_status"] == expected
    if expected == "peaked":
        assert 2025 < co2["peak_year"] <= 2060
    else:
        assert co2["peak_year"] is None
    assert {t["indicator"] for t in out["targets"]} >= {"co2_peak_year",
                                                         "energy_intensity_reduction"}
    assert abs(sum(d["share"] for d in out["co2_peak_year_distribution"]) - 1) < 1e-9
    assert chart.stat().st_size > 10_000


def test_stronger_policy_peaks_no_later():
    years = {}
    for name in ("baseline", "policy", "enhanced"):
        sc = load_scenario(SCENARIOS / f"inner_mongolia_{name}.yaml")
        c = run(sc).central
        years[name] = int(sc.years[np.argmax(c["co2_t"].to_numpy())])
    assert years["enhanced"] <= years["policy"] <= years["baseline"]


def test_nonfossil_share_on_the_official_coal_equivalent_basis():
    # 1000 tce in all at the calorific value, of which 100 tce non-fossil electricity
    # (100 / 0.0001229 = 813,669.65 kWh) and 20 tce direct non-fossil use. At the 2022
    # supply coal consumption 300.7 gce/kWh the power counts 813,669.65 x 0.0003007
    # = 244.6705 tce: share (244.6705 + 20) / (1000 - 100 + 244.6705) = 0.231219,
    # against 120 / 1000 = 0.12 on the calorific basis.
    from dualcontrol.outlook import coal_equivalent_tce_per_kwh, nonfossil_share_official

    factor, year = coal_equivalent_tce_per_kwh(2030)
    assert (factor, year) == (pytest.approx(300.7e-6), 2022)  # latest published year
    share = nonfossil_share_official(energy_tce=1000.0, nonfossil_tce=120.0,
                                     nonfossil_electricity_tce=100.0, tce_per_kwh=0.0001229,
                                     coal_equivalent_tce_per_kwh=factor)
    assert share == pytest.approx(0.231219, abs=1e-6)


def test_policy_scenario_nonfossil_share_is_valued_officially():
    # The policy path's 2030 share is about 21% on the calorific basis; valued as the
    # statistics value non-fossil power it is about 37% and meets the 25% target.
    sc = load_scenario(SCENARIOS / "inner_mongolia_policy.yaml")
    checks = check_targets(run(sc)).set_index("indicator")
    row = checks.loc["nonfossil_share"]
    assert 0.34 < row["value"] < 0.40 and bool(row["met"])
    assert "300.7 gce/kWh" in row["basis"] and "2022" in row["basis"]
