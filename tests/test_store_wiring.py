"""The analysis commands on the store: benchmark, review, decompose, assess.

A small store is filled by hand (four enterprises in two leagues, raw coal only, GDP
growing by a known index) so every figure the commands print can be computed here.

Hand-calculation inputs (sources):
- raw coal 0.7143 tce/t (GB/T 2589-2020 Appendix A reference coefficient);
- raw coal 20.908 GJ/t x 94,600 kg CO2/TJ x oxidation 1.0 = 1.9778968 t CO2/t
  (GB/T 2589-2020 net calorific value; IPCC 2006 Vol. 2 Ch. 2 Table 2.2);
- NDRC levels (发改产业〔2023〕723号): ferrosilicon 1770/1850 kgce/t, coal-to-methanol
  1400/1800, cement clinker 100/117; quota limits GB 21341 ferrosilicon 1850, GB 16780
  clinker 117;
- demo league targets (data/demo_league_targets.csv, illustrative): binding 14th-plan
  intensity reduction Ulanqab 15 %, Ordos 16 %, base 2020.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dualcontrol import datasets
from dualcontrol.assessment import prepare_accounts
from dualcontrol.budget import energy_budget
from dualcontrol.cli import app
from dualcontrol.datasets import DEMO_USER
from dualcontrol.demo import _load
from dualcontrol.errors import InputError
from dualcontrol.factor_policy import factor_year_policy, set_factor_years
from dualcontrol.regions import make_uscc
from dualcontrol.store import Store, open_store, schema

TCE_PER_T_COAL = 0.7143
CO2_PER_T_COAL = 20.908 * 94.6 / 1000  # GJ/t x kg CO2/GJ / 1000 = t CO2 / t
YEARS = range(2015, 2025)
VOLUME_INDEX = 1.08   # real GDP growth every year
DEFLATOR_STEP = 1.02  # price growth every year
ULANQAB, ORDOS = "150900", "150600"
COUNTY = {ULANQAB: "150902", ORDOS: "150602"}
A = make_uscc("150902", 1)  # ferroalloy, Ulanqab
B = make_uscc("150602", 2)  # coal chemicals, Ordos
C = make_uscc("150602", 3)  # cement, Ordos
D = make_uscc("150602", 4)  # other industry, Ordos


def coal_t(uscc: str, year: int) -> float:
    """Raw coal burnt in a year [t]."""
    k = year - 2015
    return {A: 12_000 + 1_200 * k, B: 24_000 + 2_400 * k, C: 1_200, D: 6_000}[uscc]


OUTPUT_2024_T = {A: 9_000, B: 24_000, C: 6_000, D: 1_000}
PRODUCTS = {A: ("ferroalloy", "ferrosilicon"), B: ("coal_chemical", "coal_to_methanol"),
            C: ("cement", "cement_clinker"), D: ("others", "other products")}
SECTOR_VA_SHARE = {"ferroalloy": 0.2, "coal_chemical": 0.5, "cement": 0.1, "others": 0.2}


def gdp_current(year: int) -> float:
    """Regional GDP at current prices [10^4 yuan]."""
    return 1e6 * (VOLUME_INDEX * DEFLATOR_STEP) ** (year - 2015)


def small_tables() -> dict[str, pd.DataFrame]:
    ents = [A, B, C, D]
    county = {A: COUNTY[ULANQAB], B: COUNTY[ORDOS], C: COUNTY[ORDOS], D: COUNTY[ORDOS]}
    enterprises = pd.DataFrame({"uscc": ents, "name": [f"enterprise {e[-4:]}" for e in ents],
                                "county_code": [county[e] for e in ents],
                                "park_code": [None] * 4,
                                "industry": [PRODUCTS[e][0] for e in ents]})
    parks = pd.DataFrame([{"code": "150602-P1", "name_zh": "园区", "name_en": "Park",
                           "county_code": "150602", "kind": "industrial"}])
    units = pd.DataFrame({"enterprise_uscc": ents, "unit_code": "U1",
                          "industry": [PRODUCTS[e][0] for e in ents],
                          "product": [PRODUCTS[e][1] for e in ents],
                          "capacity": [1.2 * OUTPUT_2024_T[e] for e in ents],
                          "capacity_unit": "t/a", "start_year": 2015})
    energy = pd.DataFrame([
        {"enterprise_uscc": e, "period": f"{y}-{m:02d}", "carrier": "raw_coal",
         "quantity": coal_t(e, y) / 12, "unit": "t", "use": "combustion",
         "origin": "purchased"}
        for e in ents for y in YEARS for m in range(1, 13)])
    output = pd.DataFrame([
        {"enterprise_uscc": e, "period": f"2024-{m:02d}", "unit_code": "U1",
         "product": PRODUCTS[e][1], "output": OUTPUT_2024_T[e] / 12, "output_unit": "t"}
        for e in ents for m in range(1, 13)])
    water = pd.DataFrame([{"enterprise_uscc": A, "period": "2024-01", "withdrawal_m3": 10.0,
                           "reused_m3": 5.0}])
    econ = []
    for y in YEARS:
        index = np.nan if y == 2015 else 100 * VOLUME_INDEX
        for code, share in (("150000", 1.0), (ULANQAB, 0.4), (ORDOS, 0.6)):
            econ.append({"region_code": code, "period": str(y), "sector": "total",
                         "gdp_current_10k_yuan": gdp_current(y) * share,
                         "gdp_index_prev_year_100": index,
                         "industrial_va_current_10k_yuan": 0.5 * gdp_current(y) * share})
        for sector, share in SECTOR_VA_SHARE.items():
            econ.append({"region_code": "150000", "period": str(y), "sector": sector,
                         "gdp_current_10k_yuan": 0.5 * gdp_current(y) * share,
                         "gdp_index_prev_year_100": index,
                         "industrial_va_current_10k_yuan": np.nan})
    registry = pd.DataFrame([{"category": "factory", "name": "green factory",
                              "enterprise_uscc": A, "region_code": "150902",
                              "level": "national", "batch_year": 2020, "source": "test"}])
    tables = {"parks": parks, "enterprises": enterprises, "production_units": units,
              "energy": energy, "output": output, "water": water,
              "economic": pd.DataFrame(econ), "green_registry": registry}
    for kind in ("energy", "output", "water", "economic"):
        tables[kind].insert(0, "line", np.arange(2, len(tables[kind]) + 2))
    return tables


@pytest.fixture
def small_store(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """The ``store`` fixture filled with the hand-made data, and made the default store."""
    _load(store, small_tables(), "test-fingerprint", 0)
    monkeypatch.setenv("DUALCONTROL_DB", store.url)
    yield store


def run_json(*args: str) -> object:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --------------------------------------------------------------------------- benchmark

def test_benchmark_reads_production_units_from_the_store(small_store: Store) -> None:
    out = run_json("benchmark", "--year", "2024")
    units = {u["enterprise_code"]: u for u in out["units"]}
    assert set(units) == {A, B, C}  # D's product has no national level
    assert out["not_benchmarked"] == [{"industry": "others", "product": "other products",
                                       "units": 1,
                                       "reason": "no national benchmark/baseline level"}]
    # A: 22,800 t coal x 0.7143 = 16,286.04 tce over 9,000 t = 1,809.56 kgce/t:
    # between the benchmark 1770 and the baseline (and quota limit) 1850
    assert units[A]["unit_consumption"] == pytest.approx(22_800 * 0.7143 * 1000 / 9_000)
    assert units[A]["class"] == "between"
    # B: 45,600 x 0.7143 = 32,572.08 tce / 24,000 t = 1,357.17 kgce/t <= 1400: benchmark
    assert units[B]["unit_consumption"] == pytest.approx(45_600 * 0.7143 * 1000 / 24_000)
    assert units[B]["class"] == "benchmark"
    # C: 1,200 x 0.7143 = 857.16 tce / 6,000 t = 142.86 kgce/t > limit 117
    assert units[C]["class"] == "below_limit"
    # savings of A to the benchmark: (1809.56 - 1770) kgce/t x 9,000 t / 1000 = 356.04 tce
    savings = {s["industry"]: s for s in out["savings"]}
    assert savings["ferroalloy"]["savings_to_benchmark_tce"] == pytest.approx(
        (22_800 * 0.7143 * 1000 / 9_000 - 1770) * 9_000 / 1000)
    assert savings["ferroalloy"]["savings_to_baseline_tce"] == 0
    # C to the benchmark 100: (142.86 - 100) x 6000 / 1000 = 257.16 tce
    assert savings["cement"]["savings_to_benchmark_tce"] == pytest.approx(
        (1_200 * 0.7143 * 1000 / 6_000 - 100) * 6_000 / 1000)


def test_benchmark_table_is_printed_from_the_store(small_store: Store) -> None:
    result = CliRunner().invoke(app, ["benchmark", "--year", "2024"])
    assert result.exit_code == 0, result.output
    for title in ("Class shares by industry", "Savings potential", "Not benchmarked"):
        assert title in result.stdout


# --------------------------------------------------------------------------- decompose

def test_sector_value_added_is_deflated_with_the_regional_deflator(
        small_store: Store) -> None:
    sectors = datasets.sector_accounts(small_store, base_year=2015).set_index(
        ["sector", "year"])
    # ferroalloy 2020: 0.5 x 0.2 x 1e6 x (1.08 x 1.02)^5 current; / 1.02^5 deflator
    assert sectors.at[("ferroalloy", 2020), "value_added_const_10k_yuan"] == pytest.approx(
        0.1 * 1e6 * 1.08 ** 5)
    assert sectors.at[("ferroalloy", 2020), "energy_tce"] == pytest.approx(18_000 * 0.7143)


@pytest.mark.parametrize(("preset", "per_t"), [("energy-by-sector", TCE_PER_T_COAL),
                                               ("co2-kaya", CO2_PER_T_COAL)])
@pytest.mark.parametrize(("base", "target"), [(2015, 2020), (2020, 2024)])
def test_decompose_presets_on_the_store_sum_to_the_observed_change(
        small_store: Store, preset: str, per_t: float, base: int, target: int) -> None:
    out = run_json("decompose", "--preset", preset, "--base", str(base),
                   "--target", str(target))
    # only A and B change: +1,200 and +2,400 t per year
    change_t = 3_600 * (target - base)
    assert out["observed"] == pytest.approx(change_t * per_t, rel=1e-9)
    assert sum(e["effect"] for e in out["effects"]) == pytest.approx(out["observed"],
                                                                     rel=1e-12)
    assert out["total"] == pytest.approx(out["observed"], rel=1e-12)
    assert {e["factor"] for e in out["effects"]} >= {
        "activity_10k_yuan", "structure_share", "intensity_tce_per_10k_yuan"}


# --------------------------------------------------------------------------- assess

def test_assess_rates_each_league_with_values_requirements_and_budget(
        small_store: Store) -> None:
    records = run_json("assess", "--year", "2024", "--level", "league")
    by = {(r["region_code"], r["indicator"]): r for r in records}
    for code, coal_2020, coal_2024, target in (
            (ULANQAB, 18_000, 22_800, 0.15),
            (ORDOS, 36_000 + 1_200 + 6_000, 45_600 + 1_200 + 6_000, 0.16)):
        for indicator in ("energy_intensity", "energy_total"):
            rec = by[(code, indicator)]
            assert rec["rating"] in ("red", "yellow", "green")
            assert rec["value"] is not None and rec["requirement"] is not None
            assert rec["gap"] is not None
            assert "budget_plan_end_tce" in rec and "budget_this_year_tce" in rec
        rec = by[(code, "energy_intensity")]
        # intensity reduction against 2020: coal ratio over real GDP ratio 1.08^4
        assert rec["value"] == pytest.approx(1 - (coal_2024 / coal_2020) / 1.08 ** 4)
        # requirement after 4 of 5 years on the linear path (progress_paths.csv): R x 4/5
        assert rec["requirement"] == pytest.approx(target * 0.8)
        assert rec["progress_rule"] == "linear_14th"
        # the total: 2024 use [tce]
        assert by[(code, "energy_total")]["value"] == pytest.approx(coal_2024 * 0.7143)


def test_assess_prints_the_budget_table(small_store: Store) -> None:
    result = CliRunner().invoke(app, ["assess", "--year", "2024"])
    assert result.exit_code == 0, result.output
    assert "Barometer 2024" in result.stdout
    assert "Remaining energy budget" in result.stdout


# --------------------------------------------------------------------------- review

def test_review_takes_league_and_region_context_from_the_store(small_store: Store,
                                                               ) -> None:
    from pathlib import Path

    project = Path(__file__).parents[1] / "examples/projects/ferrosilicon_ulanqab.yaml"
    out = run_json("review", str(project))
    effects = {e["level"]: e for e in out["effects"]}
    league, region = effects["league"], effects["region"]
    assert league["year"] == 2024  # the latest year of the store (project starts 2026)
    assert league["controlled_tce"] == pytest.approx(22_800 * 0.7143)
    assert region["controlled_tce"] == pytest.approx((22_800 + 52_800) * 0.7143)
    # intensity before: controlled energy over GDP of 2024 at 2024 prices
    assert league["intensity_before"] == pytest.approx(
        22_800 * 0.7143 / (0.4 * gdp_current(2024)))
    raw = datasets.assessment_accounts(small_store)
    budget = energy_budget(prepare_accounts(raw), year=2024)
    expected = budget[(budget["region_code"] == ULANQAB) & (budget["horizon"] == "plan_end")]
    assert league["remaining_budget_tce"] == pytest.approx(float(expected["budget_tce"].iloc[0]))
    assert not math.isnan(league["remaining_budget_tce"])
    assert out["verdict"] in ("approve", "approve_with_conditions", "reject")


def test_the_demo_store_asks_for_the_nearest_factor_year_and_others_do_not(
        small_store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: a year without a published factor is an error, unless asked for; the
    demo's data (2015-2026, submitted by the demo) asks for the nearest year itself, for
    the process that reads it.
    The small demo store holds 2020-2025 with electricity; Inner Mongolia's factor is
    published for 2022 only."""
    monkeypatch.delenv("DUALCONTROL_FACTOR_YEARS", raising=False)
    monkeypatch.setenv("DUALCONTROL_DB", small_store_url)
    subs = schema.submissions
    with open_store(small_store_url) as store:
        assert datasets.holds_demo(store)
        accounts = datasets.region_accounts(store, level="region")
        assert set(accounts["year"]) == set(range(2020, 2026))
        assert accounts["co2_t"].notna().all()
        try:
            with store.begin() as conn:  # as if someone else had submitted the rows
                conn.execute(subs.update().values(submitter="clerk01"))
            assert not datasets.holds_demo(store)
            # the demo's choice held for the process that read the demo store; a new
            # process (here: the choice undone) reading someone's store has none
            assert factor_year_policy() == "nearest"
            set_factor_years(None)
            with pytest.raises(InputError, match=r"inner_mongolia.*grid_factors\.csv"):
                datasets.region_accounts(store, level="region")
            result = CliRunner().invoke(app, ["assess", "--year", "2024"])
            assert result.exit_code == 2 and "--factor-years nearest" in result.stderr
            asked = CliRunner().invoke(app, ["--factor-years", "nearest", "assess",
                                             "--year", "2024", "--json"])
            assert asked.exit_code == 0, asked.output
        finally:
            with store.begin() as conn:
                conn.execute(subs.update().values(submitter=DEMO_USER))


# --------------------------------------------------------------------------- monitor

def test_monthly_reports_of_the_store_for_reconciliation(small_store: Store) -> None:
    rows = datasets.monthly_report_rows(small_store, month="2024-03")
    assert set(rows["enterprise"]) == {A, B, C, D}
    assert (rows["period"] == "2024-03").all()
    by = rows.set_index("enterprise")["quantity"]
    # monthly report = yearly coal / 12: A 22,800 t / 12 = 1,900 t
    assert by[A] == pytest.approx(22_800 / 12)
    assert by[D] == pytest.approx(6_000 / 12)


def test_monitor_refuses_two_report_sources(tmp_path) -> None:
    (tmp_path / "r.csv").write_text("enterprise,period,carrier,quantity,unit\n")
    shown = CliRunner().invoke(app, ["monitor", str(tmp_path), "--month", "2024-07",
                                     "--reports", str(tmp_path / "r.csv"),
                                     "--store-reports"])
    assert shown.exit_code == 2
    assert "--store-reports" in shown.output


def test_product_energy_is_what_was_consumed_not_net_of_what_was_supplied(
        store: Store) -> None:
    """B sells 1,000 GJ of heat a month from its coal: its comprehensive consumption
    drops by 12,000 GJ x 0.03412 tce/GJ = 409.44 tce, but its methanol unit still used
    all its coal: 45,600 t x 0.7143 = 32,572.08 tce over 24,000 t (issue 15)."""
    from dualcontrol.datasets import production_units, region_accounts

    tables = small_tables()
    sold = pd.DataFrame([{"enterprise_uscc": B, "period": f"2024-{m:02d}", "carrier": "heat",
                          "quantity": 1000.0, "unit": "GJ", "use": "supplied",
                          "origin": "self_produced"} for m in range(1, 13)])
    energy = pd.concat([tables["energy"].drop(columns="line"), sold], ignore_index=True)
    energy.insert(0, "line", np.arange(2, len(energy) + 2))
    tables["energy"] = energy
    _load(store, tables, "test-fingerprint-supplied", 0)
    accounts = region_accounts(store, level="enterprise", years=[2024])
    b = accounts[accounts["region_code"] == B].iloc[0]
    assert b["energy_tce"] == pytest.approx(45_600 * 0.7143 - 12_000 * 0.03412)
    assert b["supplied_tce"] == pytest.approx(409.44)
    units = production_units(store, 2024)
    unit = units[units["enterprise_code"] == B].iloc[0]
    assert unit["energy_tce"] == pytest.approx(45_600 * 0.7143)
    assert unit["electricity_kwh"] == 0


def test_one_figure_for_the_intensity_reduction_in_every_interface(
        small_store: Store, tmp_path) -> None:
    """Issue 15: assess, report, outlook and the web's data give one number.

    Region 150000, 13th plan (-14 % 2015-2020, targets.csv), observed in 2020: raw coal
    43,200 t in 2015 and 61,200 t in 2020 (the same coefficient both years), real GDP
    x 1.08 ** 5; reduction = 1 - (61,200 / 43,200) / 1.08 ** 5 = 1 - 1.416667 / 1.469328
    = 0.035840.
    """
    import yaml

    from dualcontrol.web.data import StoreData

    expected = 1 - (61_200 / 43_200) / 1.08 ** 5
    assess = run_json("assess", "--year", "2020", "--level", "region")
    assessed = next(r for r in assess
                    if r["region_code"] == "150000" and r["indicator"] == "energy_intensity")
    assert assessed["value"] == pytest.approx(expected, abs=1e-9)

    report = run_json("report", "--period", "2020-Q4", "--out", str(tmp_path / "b.html"))
    reported = next(r for r in report["barometer"]
                    if r["region_code"] == "150000" and r["indicator"] == "energy_intensity")
    assert reported["value"] == assessed["value"]

    web = StoreData(small_store).barometer(year=2020)
    served = web[(web["region_code"] == "150000") & (web["indicator"] == "energy_intensity")]
    assert served["value"].iloc[0] == assessed["value"]

    scenario = {
        "name": "one figure", "region_code": "150000", "base_year": 2020, "end_year": 2030,
        "regions": [{
            "name": "r", "gdp_base_10k_yuan": 1000.0, "energy_base_tce": 500.0,
            "gdp_growth": [], "sectors": [{"name": "all", "share": 1.0,
                                           "intensity_index": 1.0, "intensity_decline": []}],
            "electricity_share": 0.0, "nonfossil_generation_share": 0.0,
            "fossil_grid_factor_t_per_mwh": 0.8, "direct_nonfossil_share": 0.0,
            "feedstock_share": 0.0, "direct_co2_factor_t_per_tce": 2.5}],
    }
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(scenario, allow_unicode=True), encoding="utf-8")
    out = run_json("outlook", str(path), "--draws", "0")
    target = next(t for t in out["targets"] if t["indicator"] == "energy_intensity_reduction"
                  and t["target_year"] == 2020)
    assert target["value"] == assessed["value"]
    assert target["value_from"].startswith("assessment of 2020") and target["official"]
    # the web's outlook targets take the same assessment
    from dualcontrol import outlook

    spec = outlook.load_scenario(path)
    checks = outlook.check_targets(outlook.run(spec), assessed=StoreData(
        small_store).observed_assessment(spec))
    row = checks[(checks["indicator"] == "energy_intensity_reduction")
                 & (checks["target_year"] == 2020)].iloc[0]
    assert row["value"] == assessed["value"]
