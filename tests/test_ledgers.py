"""Tests of the two ledgers: rule sets by plan period, year-to-date assessment, and one
region under energy and carbon dual control side by side.

Every expected number is worked out by hand below from its inputs. Targets here are
test data (not official); the rule sets and exclusions are the shipped tables
(assessment_rule_sets.csv: 发改环资〔2021〕1310号 for 2021-2025, 国办发〔2024〕39号 from
2026; exclusion_rules.csv: 发改环资〔2022〕803号 and the notice of 2024-02-02).
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from dualcontrol.accounting import ytd_gdp_comparable
from dualcontrol.assessment import (
    compare_rule_sets,
    months_available,
    prepare_accounts,
    progress,
    rule_set,
)
from dualcontrol.errors import InputError

#: Relative tolerance of the hand calculations (rounded to 7 digits below).
TOL = 1e-6


def target_rows(code: str, plan: str, base: int, end: int, **values: float) -> list[dict]:
    """Return binding target rows of one region and plan (test data, not official)."""
    return [{"region_code": code, "region_name": code, "plan": plan, "base_year": base,
             "target_year": end, "indicator": ind, "target_value": float(v), "unit": "",
             "kind": "binding", "source": "test case", "edition": "test", "verified": "false",
             "note": ""} for ind, v in values.items()]


def account(code: str, year: int, energy: float, feedstock: float, nonfossil: float,
            co2: float, gdp: float, period: str = "") -> dict:
    return {"region_code": code, "region_name": f"R{code}", "year": year, "period": period,
            "energy_tce": energy, "feedstock_tce": feedstock, "renewable_tce": nonfossil,
            "nonfossil_tce": nonfossil, "co2_t": co2, "gdp_const_10k_yuan": gdp}


# Region A (150100) has a total-CO2 target for the 15th plan (test data); region B
# (150200) has the same rows and none: its total CO2 is shown, not rated.
A, B = "150100", "150200"
TARGETS = pd.DataFrame([
    *(row for code in (A, B) for row in target_rows(
        code, "14th", 2020, 2025, energy_intensity_reduction=0.15,
        energy_total_increment_tce=100, co2_intensity_reduction=0.18)),
    *(row for code in (A, B) for row in target_rows(
        code, "15th", 2025, 2030, co2_intensity_reduction=0.17)),
    *target_rows(A, "15th", 2025, 2030, co2_total_increment_t=50),
])
#: year: energy, feedstock, non-fossil [tce], CO2 [t], comparable GDP [10^4 yuan]
YEARS = {2020: (1000.0, 100.0, 50.0, 2000.0, 1000.0),
         2024: (1080.0, 110.0, 80.0, 2050.0, 1180.0),
         2025: (1100.0, 120.0, 90.0, 2060.0, 1230.0),
         2026: (1120.0, 125.0, 110.0, 2040.0, 1290.0)}


def rows(*, years: tuple[int, ...] = (2020, 2024, 2025, 2026)) -> pd.DataFrame:
    return pd.DataFrame([account(code, y, *YEARS[y]) for code in (A, B) for y in years])


def one(frame: pd.DataFrame, code: str, indicator: str) -> pd.Series:
    hit = frame[(frame["region_code"] == code) & (frame["indicator"] == indicator)]
    assert len(hit) == 1, hit
    return hit.iloc[0]


# ----------------------------------------------------------------------- rule sets


def test_rule_set_is_chosen_by_the_assessment_year() -> None:
    for year in (2021, 2025):
        energy = rule_set(year)
        assert set(energy["rule_set"]) == {"energy_dual_control"}
        assert dict(zip(energy["indicator"], energy["role"], strict=True)) == {
            "energy_intensity": "binding", "energy_total": "flexible",
            "co2_intensity": "binding"}
        assert set(energy["document_number"]) == {"发改环资〔2021〕1310号", "国发〔2021〕23号"}
    for year in (2026, 2030):
        carbon = rule_set(year)
        assert set(carbon["rule_set"]) == {"carbon_dual_control"}
        assert dict(zip(carbon["indicator"], carbon["role"], strict=True)) == {
            "co2_intensity": "binding", "co2_total": "supplementary",
            "energy_intensity": "reported", "energy_total": "reported"}
        assert set(carbon["document_number"]) == {"国办发〔2024〕39号"}
    assert set(rule_set(2018)["rule_id"].str[:11]) == {"energy_13th"}
    # every row says where it comes from and whether it was checked
    for frame in (rule_set(2020), rule_set(2025), rule_set(2026)):
        assert (frame["source"].str.strip() != "").all()
        assert frame["verified"].isin(["true", "false"]).all()
    with pytest.raises(InputError, match=r"assessment_rule_sets\.csv"):
        rule_set(2005)
    # a named set out of its years: its nearest edition (the side-by-side view)
    assert set(rule_set(2026, "energy_dual_control")["rule_id"].str[:10]) == {"energy_14t"}
    assert set(rule_set(2025, "carbon_dual_control")["rule_id"].str[:10]) == {"carbon_15t"}
    with pytest.raises(InputError, match="unknown rule set"):
        rule_set(2025, "water_dual_control")


# ----------------------------------------------------------------------- same rows, two years


def test_2025_under_energy_rules_by_hand() -> None:
    result = progress(rows(), year=2025, target_table=TARGETS, regions=[A])
    assert set(result["rule_set"]) == {"energy_dual_control"}
    assert list(result["indicator"]) == ["energy_intensity", "energy_total", "co2_intensity"]
    # 2025 deducts feedstock and non-fossil from total and intensity, in base and
    # assessed year (renewable_increment_2022 ended with 2023):
    # 2020: 1000 - 100 - 50 = 850 over 1000 = 0.85; 2025: 1100 - 120 - 90 = 890 over
    # 1230 = 0.7235772; reduction 1 - 0.7235772 / 0.85 = 0.1487327. The final year of
    # the 14th plan requires the whole 0.15: gap 0.0012673, behind; 2024: 890 / 1180 =
    # 0.7542373, so intensity fell 4.0650% (not rising): yellow under 629号.
    intensity = one(result, A, "energy_intensity")
    assert intensity["value"] == pytest.approx(0.1487327, abs=TOL)
    assert intensity["requirement"] == pytest.approx(0.15, abs=1e-12)
    assert intensity["change_vs_same_period_last_year"] == pytest.approx(-0.0406504, abs=TOL)
    assert (intensity["rating"], intensity["rule_id"]) == ("yellow", "629_intensity_missed")
    assert (intensity["role"], intensity["exclusions"]) == ("binding",
                                                            "feedstock_2022,nonfossil_2024")
    assert "final year of the 14th plan" in intensity["method"]
    # total: controlled 890 against 850 + 100 (the five-year increment): 60 below: green
    total = one(result, A, "energy_total")
    assert (total["value"], total["requirement"]) == (pytest.approx(890.0),
                                                      pytest.approx(950.0))
    assert (total["rating"], total["role"]) == ("green", "flexible")
    # CO2: 2060 / 1230 = 1.6747967 against 2.0: 0.1626016 < 0.18 required; 2024
    # 2050 / 1180 = 1.7372881, so it fell: yellow
    co2 = one(result, A, "co2_intensity")
    assert co2["value"] == pytest.approx(0.1626016, abs=TOL)
    assert co2["rating"] == "yellow"


def test_2026_under_carbon_rules_by_hand() -> None:
    result = progress(rows(), year=2026, target_table=TARGETS)
    assert set(result["rule_set"]) == {"carbon_dual_control"}
    # CO2 intensity: 2040 / 1290 = 1.5813953 against 2025's 1.6747967 (the 15th plan's
    # base): cut 0.0557696; required after 1 of 5 years 0.17 / 5 = 0.034: green.
    co2 = one(result, A, "co2_intensity")
    assert (co2["plan"], co2["role"]) == ("15th", "binding")
    assert co2["value"] == pytest.approx(0.0557696, abs=TOL)
    assert co2["requirement"] == pytest.approx(0.034, abs=1e-12)
    assert co2["rating"] == "green"
    assert co2["exclusions"] == ""  # CO2 has no deductions
    # Total CO2 with a (test) increment of 50 t over 2030: allowed 2060 + 50 / 5 = 2070;
    # 2040 is 30 below: green on the total barometer.
    total = one(result, A, "co2_total")
    assert (total["value"], total["requirement"]) == (pytest.approx(2040.0),
                                                      pytest.approx(2070.0))
    assert (total["rating"], total["role"], total["unit"]) == ("green", "supplementary",
                                                               "t CO2")
    # Without a total target: the CO2 shown (2040, -0.97087% on 2025), not rated.
    free = one(result, B, "co2_total")
    assert free["rating"] == "no_target" and free["value"] == pytest.approx(2040.0)
    assert free["change_vs_same_period_last_year"] == pytest.approx(2040 / 2060 - 1, abs=1e-12)
    assert "国办发〔2024〕39号" in free["note"] and math.isnan(free["requirement"])
    # Energy is reported, not rated: 2026 (1120 - 125 - 110) / 1290 = 0.6860465 against
    # 2025's 0.7235772: a cut of 0.0518686; the total 885 tce.
    energy = one(result, A, "energy_intensity")
    assert (energy["rating"], energy["rule_id"]) == ("reported", "carbon_15th_energy_intensity")
    assert energy["value"] == pytest.approx(0.0518686, abs=TOL)
    assert math.isnan(energy["requirement"])
    reported = one(result, A, "energy_total")
    assert (reported["rating"], reported["value"]) == ("reported", pytest.approx(885.0))


def test_year_to_date_january_october_by_hand() -> None:
    # 1-10月 2025: CO2 1700 t, GDP 1000; 1-10月 2026: 1690 t, GDP 1050 (test data).
    ytd = [account(A, 2025, 900.0, 100.0, 75.0, 1700.0, 1000.0, period="2025-10"),
           account(A, 2026, 915.0, 104.0, 92.0, 1690.0, 1050.0, period="2026-10")]
    data = prepare_accounts(pd.concat([rows(years=(2020, 2024, 2025)), pd.DataFrame(ytd)]))
    assert months_available(data, 2026) == 10 and months_available(data, 2025) == 12
    result = progress(data, year=2026, months=10, target_table=TARGETS, regions=[A])
    co2 = one(result, A, "co2_intensity")
    assert (co2["period"], co2["period_zh"]) == ("2026-10", "2026年1-10月")
    assert "2025年1-10月" in co2["method"] and "same months" in co2["method"]
    # 1690 / 1050 = 1.6095238 against 1700 / 1000 = 1.7: -5.32213%; chained onto 2025
    # (also the base year), the estimated cut is 0.0532213: required 0.034: green.
    assert co2["change_vs_same_period_last_year"] == pytest.approx(-0.0532213, abs=TOL)
    assert co2["value"] == pytest.approx(0.0532213, abs=TOL)
    assert co2["rating"] == "green"
    # The total's allowed 2070 t is scaled by 2025's share of 1-10月: 1700 / 2060 =
    # 0.8252427, so 1708.2524 t are allowed; 1690 is 18.25 below: green.
    total = one(result, A, "co2_total")
    assert total["requirement"] == pytest.approx(1708.2524, abs=1e-4)
    assert total["rating"] == "green"
    # Reported energy intensity: (915 - 104 - 92) / 1050 = 0.6847619 against
    # (900 - 100 - 75) / 1000 = 0.725: ratio 0.9444992; 2025 annual 0.7235772 is the base,
    # so the cut is 1 - 0.9444992 = 0.0555008.
    energy = one(result, A, "energy_intensity")
    assert energy["rating"] == "reported"
    assert energy["value"] == pytest.approx(0.0555008, abs=TOL)


def test_ytd_gdp_is_chained_by_the_published_index() -> None:
    # Q3 2025 current 700 with the 2025 deflator 1.1: 636.3636 at base prices; 2026 Q3
    # index 105: 668.1818, so the ratio of the two is the index, 1.05. 2024 is missing
    # in the Q1 chain: 2023 Q1 and 2025 Q1 are each anchored on their own deflator.
    ytd = pd.DataFrame([
        {"area": "150000", "year": 2025, "months": 9, "gdp_current_10k_yuan": 700.0,
         "gdp_index_prev_year_100": 105.5},
        {"area": "150000", "year": 2026, "months": 9, "gdp_current_10k_yuan": 740.0,
         "gdp_index_prev_year_100": 105.0},
        {"area": "150000", "year": 2023, "months": 3, "gdp_current_10k_yuan": 200.0,
         "gdp_index_prev_year_100": 107.0},
        {"area": "150000", "year": 2025, "months": 3, "gdp_current_10k_yuan": 220.0,
         "gdp_index_prev_year_100": 105.0},
    ])
    out = ytd_gdp_comparable(ytd, {("150000", 2025): 1.1, ("150000", 2023): 1.05})
    got = {(int(y), int(m)): v for y, m, v in
           out[["year", "months", "gdp_const_10k_yuan"]].itertuples(index=False)}
    assert got[(2025, 9)] == pytest.approx(636.3636364, abs=1e-6)
    assert got[(2026, 9)] == pytest.approx(636.3636364 * 1.05, abs=1e-6)
    assert got[(2023, 3)] == pytest.approx(200 / 1.05, abs=1e-9)
    assert got[(2025, 3)] == pytest.approx(200.0, abs=1e-9)  # 220 / 1.1, re-anchored


# ----------------------------------------------------------------------- side by side


def test_compare_rule_sets_lists_both_ledgers_and_every_deduction() -> None:
    ledgers = compare_rule_sets(rows(), year=2025, region_code=A, target_table=TARGETS)
    energy = ledgers[(ledgers["rule_set"] == "energy_dual_control")
                     & (ledgers["section"] == "indicator")].set_index("item")
    carbon = ledgers[(ledgers["rule_set"] == "carbon_dual_control")
                     & (ledgers["section"] == "indicator")].set_index("item")
    # the same figures as the barometer of the year (one function computes them)
    barometer = progress(rows(), year=2025, target_table=TARGETS, regions=[A]).set_index(
        "indicator")
    for item in ("energy_intensity", "energy_total", "co2_intensity"):
        assert energy.at[item, "rating"] == barometer.at[item, "rating"]
        assert energy.at[item, "value"] == pytest.approx(barometer.at[item, "value"])
    # under carbon rules the same 2025 data: energy reported (cut 0.1487327, as above),
    # CO2 intensity on the 14th plan's -18% (yellow, as above), total CO2 shown
    assert carbon.at["energy_intensity", "rating"] == "reported"
    assert carbon.at["energy_intensity", "value"] == pytest.approx(0.1487327, abs=TOL)
    assert carbon.at["co2_intensity", "rating"] == "yellow"
    assert carbon.at["co2_total", "rating"] == "no_target"  # A's total target is 15th-plan
    assert carbon.at["co2_total", "value"] == pytest.approx(2060.0)
    assert "co2_total" not in energy.index
    assert carbon.at["co2_total", "item_zh"] == "碳排放总量"
    deductions = ledgers[ledgers["section"] == "deduction"]
    by_rule = deductions[deductions["rule_set"] == "energy_dual_control"].set_index("rule_id")
    # 2025: feedstock 120 (base 2020: 100) and non-fossil 90 (base 50), with their documents
    assert by_rule.at["feedstock_2022", "value"] == pytest.approx(120.0)
    assert by_rule.at["feedstock_2022", "base_value"] == pytest.approx(100.0)
    assert by_rule.at["feedstock_2022", "document_number"] == "发改环资〔2022〕803号"
    assert by_rule.at["nonfossil_2024", "value"] == pytest.approx(90.0)
    assert by_rule.at["nonfossil_2024", "base_value"] == pytest.approx(50.0)
    assert "energy_intensity (binding)" in by_rule.at["nonfossil_2024", "applied_to"]
    assert by_rule.at["incentive_exemption_2021", "rating"] == "not_applied"  # no incentive
    carbon_rules = deductions[deductions["rule_set"] == "carbon_dual_control"].set_index(
        "rule_id")
    assert carbon_rules.at["feedstock_2022", "applied_to"] == (
        "energy_intensity (reported), energy_total (reported)")
    assert "renewable_increment_2022" not in by_rule.index  # not in force in 2025
    # 2022: the renewable increment over 2020 is listed (no 2022 row here: no amount)
    in_2022 = compare_rule_sets(rows(), year=2022, region_code=A, target_table=TARGETS)
    renewable = in_2022[in_2022["rule_id"] == "renewable_increment_2022"]
    assert len(renewable) == 2 and renewable["value"].isna().all()
    with pytest.raises(InputError, match="no accounts for this region"):
        compare_rule_sets(rows(), year=2025, region_code="152900", target_table=TARGETS)


# ----------------------------------------------------------------------- on the demo data


@pytest.fixture(scope="module")
def ytd_store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small store of the seeded demo (two enterprises per league), 2020 to 1-10月 2026."""
    from dualcontrol.demo import _load, generate
    from dualcontrol.regions import regions
    from dualcontrol.store import open_store

    tables = generate(2025)
    league_of = regions().set_index("code")["league_code"]
    ent = tables["enterprises"].assign(league=lambda f: f["county_code"].map(league_of))
    ent = ent.sort_values("uscc").groupby("league").head(2).drop(columns=["league"])
    keep = set(ent["uscc"])
    years = set(range(2020, 2027))  # the 14th plan from its base year, and 2026
    econ = tables["economic"]
    out = {"enterprises": ent, "parks": tables["parks"],
           "green_registry": tables["green_registry"].head(5),
           "economic": econ[econ["period"].str[:4].astype(int).isin(years)]}
    for kind in ("energy", "output", "water", "production_units"):
        frame = tables[kind][tables[kind]["enterprise_uscc"].isin(keep)]
        if "period" in frame:
            frame = frame[frame["period"].str[:4].astype(int).isin(years)]
        out[kind] = frame.reset_index(drop=True)
    url = f"duckdb:///{tmp_path_factory.mktemp('ytd') / 'ytd.duckdb'}"
    with open_store(url) as store:
        _load(store, out, "ytd-demo", 2025)
    return url


def test_assess_2026_rates_every_league_on_co2_intensity(ytd_store_url: str,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    from typer.testing import CliRunner

    from dualcontrol.cli import app

    monkeypatch.setenv("DUALCONTROL_DB", ytd_store_url)
    runner = CliRunner()
    answer = runner.invoke(app, ["assess", "--year", "2026", "--level", "league", "--json"])
    assert answer.exit_code == 0, answer.output
    records = json.loads(answer.stdout)
    co2 = [r for r in records if r["indicator"] == "co2_intensity"]
    assert len({r["region_code"] for r in co2}) == 12
    assert all(r["rating"] in {"red", "yellow", "green"} for r in co2), co2
    assert {r["rule_set"] for r in records} == {"carbon_dual_control"}
    assert {r["period"] for r in records} == {"2026-10"}  # the demo reports to October
    assert {r["period_zh"] for r in records} == {"2026年1-10月"}
    assert {r["rating"] for r in records if r["indicator"].startswith("energy_")} == {
        "reported"}
    # the demo's 1-10月 GDP is that of 前三季度, and the note says so
    assert all("2026-Q3" in r["note"] for r in co2)
    # the same store, a quarter of the energy rule years: rated, not no_data
    quarter = runner.invoke(app, ["assess", "--period", "2025-Q3", "--level", "league",
                                  "--json"])
    assert quarter.exit_code == 0, quarter.output
    q3 = [r for r in json.loads(quarter.stdout) if r["indicator"] == "energy_intensity"]
    assert len(q3) == 12 and all(r["rating"] in {"red", "yellow", "green"} for r in q3), q3
    assert {r["rule_set"] for r in q3} == {"energy_dual_control"}
    # 2025 closes the 14th plan under its own rules: the five-year targets in full
    closing = runner.invoke(app, ["assess", "--year", "2025", "--level", "league", "--json"])
    assert closing.exit_code == 0, closing.output
    final = [r for r in json.loads(closing.stdout) if r["indicator"] == "energy_intensity"]
    assert len(final) == 12 and {r["rule_set"] for r in final} == {"energy_dual_control"}
    assert all(r["requirement"] == pytest.approx(r["target_value"]) for r in final)
    assert all("final year of the 14th plan" in r["method"] for r in final)
    assert all(r["rating"] in {"red", "yellow", "green"} for r in final)
    # the side-by-side view of a league, in Chinese
    side = runner.invoke(app, ["assess", "--year", "2026", "--compare-rule-sets",
                               "--region", "150600", "--lang", "zh"])
    assert side.exit_code == 0, side.output
    assert "两本账" in side.stdout and "原料用能扣除" in side.stdout
    bad = runner.invoke(app, ["assess", "--year", "2026", "--compare-rule-sets",
                              "--region", "159999"])
    assert bad.exit_code == 2


def test_year_to_date_gdp_is_ingested_and_read_apart(store, tmp_path) -> None:
    import datetime as dt

    from dualcontrol.datasets import economic_data, economic_ytd
    from dualcontrol.ingest import ingest_file

    path = tmp_path / "gdp.csv"
    path.write_text("region_code,period,sector,gdp_current_10k_yuan,gdp_index_prev_year_100\n"
                    "150600,2025,total,60000000,105.5\n"
                    "150600,2025-Q3,total,41000000,105.2\n"
                    "150600,2026Q3,total,43500000,105.0\n", encoding="utf-8")
    ingest_file(store, path, kind="economic", user="alice", today=dt.date(2026, 12, 2))
    assert economic_data(store)["year"].tolist() == [2025]  # whole years only
    ytd = economic_ytd(store)
    assert ytd[["year", "months"]].values.tolist() == [[2025, 9], [2026, 9]]
    assert ytd["gdp_index_prev_year_100"].tolist() == [105.2, 105.0]
    future = tmp_path / "future.csv"
    future.write_text("region_code,period,sector,gdp_current_10k_yuan\n"
                      "150600,2027-Q1,total,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="future"):
        ingest_file(store, future, kind="economic", user="alice", today=dt.date(2026, 12, 2))
