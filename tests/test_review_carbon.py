"""Tests of the carbon evaluation in dualcontrol.review: each side of each threshold."""

from __future__ import annotations

from typing import Any

import pytest

from dualcontrol import review as rv
from dualcontrol.reference import load_table

# Inner Mongolia's provincial grid factor, 2022 (MEE and NBS, announced 2024-12): the
# electricity factor rule values a 2026 project's power at it (nearest published year).
IM_KG_PER_KWH = 0.6849
BENCHMARK_KWH_PER_T = 13000  # electrolytic aluminium, 发改产业〔2023〕723号
BASELINE_KWH_PER_T = 13350


def aluminium(kwh_per_t: float, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "test Al", "industry": "nonferrous", "product": "electrolytic_aluminium",
        "capacity": 100_000, "capacity_unit": "t/a",
        "location": {"region": "Inner Mongolia", "league": "Baotou"}, "start_year": 2026,
        "design_output": {"quantity": 100_000, "unit": "t"},
        "design_output_value_10k_yuan": 190_000, "design_value_added_10k_yuan": 30_000,
        "energy": [{"carrier": "electricity", "quantity": kwh_per_t * 100_000, "unit": "kWh"}],
    }
    data.update(kw)
    return data


def budget(remaining: float | None, total: float = 5.0e7) -> dict[str, Any]:
    league: dict[str, Any] = {"name": "Baotou", "energy_tce": 6.6e7, "controlled_tce": 6.0e7,
                              "gdp_const_10k_yuan": 4.8e7}
    if remaining is not None:
        league |= {"carbon_budget_co2_t": total, "carbon_remaining_co2_t": remaining,
                   "carbon_budget_year": 2026}
    return {"year": 2025, "league": league}


def carbon(data: dict[str, Any], context: dict[str, Any] | None = None) -> rv.CarbonEvaluation:
    result = rv.review_project(rv.parse_project(data, file="p.yaml"), context)
    assert result.carbon is not None
    return result.carbon


def outcome(result: rv.CarbonEvaluation, rule: str) -> str:
    return {r.rule: r.outcome for r in result.reasons}[rule]


def test_aluminium_references_by_hand() -> None:
    # benchmark 13,000 kWh/t x 0.6849 kg/kWh = 8.9037 t CO2/t; baseline 13,350 -> 9.143415
    result = carbon(aluminium(12_900), budget(1.0e8))
    refs = {r["level"]: r for r in result.references}
    assert refs["benchmark"]["co2_t_per_unit"] == pytest.approx(8.9037, rel=1e-12)
    assert refs["baseline"]["co2_t_per_unit"] == pytest.approx(9.143415, rel=1e-12)
    assert not refs["benchmark"]["published"] and not refs["benchmark"]["verified"]
    assert "this project's derivation" in refs["benchmark"]["derivation"]
    # project: 12,900 kWh/t x 0.6849 = 8.83521 t CO2/t; 1.29e9 kWh -> 883,521 t CO2
    assert result.intensity_t_per_unit == pytest.approx(8.83521, rel=1e-12)
    assert result.co2_t == pytest.approx(883_521, rel=1e-12)


@pytest.mark.parametrize("kwh_per_t, rule, expected, verdict", [
    (12_990, "carbon_intensity_benchmark", "pass", "pass"),       # below the benchmark
    (13_000, "carbon_intensity_benchmark", "pass", "pass"),       # at it
    (13_010, "carbon_intensity_benchmark", "conditional", "conditional"),
    (13_350, "carbon_intensity_benchmark", "conditional", "conditional"),  # at the baseline
    (13_360, "carbon_intensity_baseline", "fail", "fail"),        # above the baseline
])
def test_intensity_against_the_references(kwh_per_t: float, rule: str, expected: str,
                                          verdict: str) -> None:
    result = carbon(aluminium(kwh_per_t), budget(1.0e9))
    assert outcome(result, rule) == expected
    assert result.verdict == verdict


def thresholds() -> tuple[float, float]:
    rules = load_table("carbon-evaluation-rules").set_index("rule")["threshold"]
    return float(rules["carbon_budget_share"]), float(rules["carbon_budget_exceeded"])


@pytest.mark.parametrize("share, rule, expected", [
    (0.10, "carbon_budget_share", "pass"),
    (0.20, "carbon_budget_share", "pass"),              # at the referral threshold
    (0.21, "carbon_budget_share", "conditional"),
    (1.00, "carbon_budget_share", "conditional"),       # at the failing threshold
    (1.01, "carbon_budget_exceeded", "fail"),
])
def test_share_of_the_remaining_budget(share: float, rule: str, expected: str) -> None:
    refer, fail = thresholds()
    assert (refer, fail) == (0.2, 1.0)  # the thresholds these cases are written for
    co2 = 12_900 * 100_000 * IM_KG_PER_KWH / 1000  # 883,521 t CO2 / a
    result = carbon(aluminium(12_900), budget(co2 / share))
    assert outcome(result, rule) == expected
    assert result.budget is not None
    assert result.budget["share_of_remaining"] == pytest.approx(share, rel=1e-12)
    assert result.budget["share_of_budget"] == pytest.approx(co2 / 5.0e7, rel=1e-12)


def test_overdrawn_budget_fails_and_unknown_budget_is_conditional() -> None:
    assert outcome(carbon(aluminium(12_900), budget(-1.0)), "carbon_budget_exceeded") == "fail"
    unknown = carbon(aluminium(12_900), budget(None))
    assert outcome(unknown, "carbon_budget_unknown") == "conditional"
    assert unknown.verdict == "conditional" and unknown.budget is None


def test_process_co2_is_added_and_counts_in_the_share() -> None:
    # 883,521 t energy CO2 + 100,000 t stated process CO2 (anodes) = 983,521 t
    plain = carbon(aluminium(12_900), budget(1.0e7))
    assert outcome(plain, "process_co2_not_stated") == "note"
    stated = carbon(aluminium(12_900, process_co2_t=100_000,
                              process_co2_basis="anode consumption 0.4 t/t x 2.5"),
                    budget(1.0e7))
    assert stated.co2_t == pytest.approx(983_521, rel=1e-12)
    assert stated.energy_co2_t == pytest.approx(883_521, rel=1e-12)
    assert stated.budget["share_of_remaining"] == pytest.approx(0.0983521, rel=1e-12)
    assert "process_co2_not_stated" not in {r.rule for r in stated.reasons}
    # energy-related references: the intensity compared is the energy-related one
    assert stated.energy_intensity_t_per_unit == pytest.approx(8.83521, rel=1e-12)


def test_both_verdicts_in_the_json() -> None:
    result = rv.review_project(rv.parse_project(aluminium(12_900), file="p.yaml"),
                               budget(1.0e9))
    data = result.as_dict()
    assert data["verdict"] in rv.VERDICTS
    assert data["carbon"]["verdict"] in rv.CARBON_VERDICTS
    assert all(r["source"] for r in data["carbon"]["reasons"])


def test_carbon_budget_context_picks_the_start_year() -> None:
    import pandas as pd

    budgets = pd.DataFrame([
        {"region_code": "150200", "period": p, "budget_co2_t": b, "actual_co2_t": 1.0,
         "reserved_co2_t": 2.0, "remaining_co2_t": r, "rule_id": "league_intensity_target"}
        for p, b, r in (("2026", 100.0, 97.0), ("2030", 90.0, 87.0),
                        ("2026-2030", 500.0, 400.0))])
    ctx = rv.carbon_budget_context(budgets, "150200", 2026)
    assert ctx is not None and ctx["carbon_remaining_co2_t"] == 97.0
    late = rv.carbon_budget_context(budgets, "150200", 2032)
    assert late is not None and late["carbon_budget_year"] == 2030 and late["carbon_budget_note"]
    assert rv.carbon_budget_context(budgets, "150100", 2026) is None
