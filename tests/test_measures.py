"""Tests of the "1+N+X" measures registry (dualcontrol.measures) and its wedges."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dualcontrol import benchmarking, measures, outlook
from dualcontrol.errors import InputError

SCENARIOS = Path(__file__).resolve().parents[1] / "examples" / "scenarios"


def units_frame(rows: list[dict]) -> pd.DataFrame:
    """Production units of the benchmarking schema (unit id, product, output, energy)."""
    base = {"enterprise_code": "E", "enterprise_name": "Ent", "region": "150200",
            "industry": "x", "capacity": 1.0, "capacity_unit": "t/a", "output_unit": "t"}
    return pd.DataFrame([{**base, **r} for r in rows])


# A hand-made register, levels read from efficiency_levels.csv (2023 edition for 2024):
# - F1 high-carbon ferrochrome 8,500 tce / 10,000 t = 850 kgce/t > baseline 800 and
#   within the GB 21341 limit 900: below baseline -> upgrade to the benchmark 710 kgce/t
#   by the end of 2025 (original 25 areas, 发改产业〔2023〕723号); saving
#   (850 - 710) x 10,000 / 1,000 = 1,400 tce/a.
# - C1 cement clinker 125,000 tce / 1,000,000 t = 125 kgce/t > the GB 16780-2021 limit
#   117: below the limit -> exit; saving to the benchmark 100: 25 x 10^6 / 1000 =
#   25,000 tce/a.
# - C2 cement 110 kgce/t (between) and C3 98 kgce/t (benchmark, a front runner): no
#   measure.
REGISTER = [
    {"unit_id": "F1", "product": "hc_ferrochrome", "year": 2024, "output": 10_000.0,
     "energy_tce": 8_500.0},
    {"unit_id": "C1", "product": "cement_clinker", "year": 2024, "output": 1_000_000.0,
     "energy_tce": 125_000.0},
    {"unit_id": "C2", "product": "cement_clinker", "year": 2024, "output": 1_000_000.0,
     "energy_tce": 110_000.0},
    {"unit_id": "C3", "product": "cement_clinker", "year": 2024, "output": 1_000_000.0,
     "energy_tce": 98_000.0},
]


def test_generated_measures_for_each_unit_below_the_baseline() -> None:
    units = benchmarking.benchmark_units(units_frame(REGISTER))
    gen = measures.generate_from_units(units).set_index("measure_id")
    assert sorted(gen.index) == ["GEN-C1", "GEN-F1"]
    assert gen.loc["GEN-F1", "action"] == "upgrade_to_benchmark"
    assert gen.loc["GEN-C1", "action"] == "exit"
    for key in gen.index:  # original 25 areas: upgrade or exit by end-2025
        assert gen.loc[key, "deadline"] == dt.date(2025, 12, 31)
        assert gen.loc[key, "owner_kind"] == "enterprise"
    coal, _ = benchmarking.co2_per_tce()
    assert gen.loc["GEN-F1", "effect_tce"] == pytest.approx(1_400.0, rel=1e-12)
    assert gen.loc["GEN-F1", "effect_co2_t"] == pytest.approx(1_400.0 * coal, rel=1e-12)
    assert gen.loc["GEN-C1", "effect_tce"] == pytest.approx(25_000.0, rel=1e-12)
    assert "850 - 710" in gen.loc["GEN-F1", "effect_basis"]
    # the generated rows are a valid registry (they survive the file check)
    text = gen.reset_index().astype(object).where(gen.reset_index().notna(), "")
    again = measures.parse_measures(text.astype(str))
    assert list(again["measure_id"]) == ["GEN-C1", "GEN-F1"]
    front = benchmarking.front_runners(units)
    assert list(front["unit_id"]) == ["C3"]


def test_a_unit_is_judged_on_its_latest_year() -> None:
    # F1 was below the baseline in 2023 and at 700 kgce/t (benchmark) in 2024
    rows = [dict(REGISTER[0], year=2023), dict(REGISTER[0], energy_tce=7_000.0)]
    units = benchmarking.benchmark_units(units_frame(rows))
    assert measures.generate_from_units(units).empty


def good_row(**over: str) -> dict[str, str]:
    row = {"measure_id": "IM-1", "level": "measure", "parent_id": "", "title": "t",
           "owner_kind": "league", "owner": "Ordos", "indicators": "co2_total",
           "action": "retrofit", "deadline": "2026-12-31", "effect_tce": "1,000",
           "effect_co2_t": "2500", "effect_basis": "estimate", "status": "planned",
           "source": "plan"}
    return row | over


def test_parse_reads_numbers_dates_and_defaults() -> None:
    got = measures.parse_measures(pd.DataFrame([good_row()]))
    rec = got.iloc[0]
    assert rec["effect_tce"] == 1000.0 and rec["effect_co2_t"] == 2500.0
    assert rec["deadline"] == dt.date(2026, 12, 31)
    assert rec["probability"] == 1.0 and rec["delay_years"] == 0.0
    # a spreadsheet's date cell arrives as "YYYY-MM-DD 00:00:00"
    got = measures.parse_measures(pd.DataFrame([good_row(deadline="2026-06-30 00:00:00")]))
    assert got.iloc[0]["deadline"] == dt.date(2026, 6, 30)


@pytest.mark.parametrize(("over", "field", "value"), [
    ({"level": "plan"}, "level", "plan"),
    ({"owner_kind": "company"}, "owner_kind", "company"),
    ({"status": "done"}, "status", "done"),
    ({"indicators": "co2_total|carbon"}, "indicators", "co2_total|carbon"),
    ({"effect_tce": "1,5"}, "effect_tce", "1,5"),
    ({"effect_tce": "-5"}, "effect_tce", "-5"),
    ({"probability": "1.2"}, "probability", "1.2"),
    ({"deadline": "31/12/2026"}, "deadline", "31/12/2026"),
    ({"effect_basis": ""}, "effect_basis", None),
    ({"status": "completed"}, "completed_on", None),
    ({"title": ""}, "title", None),
    ({"delay_years": "1.5"}, "delay_years", "1.5"),
    ({"region_code": "150621"}, "region_code", "150621"),  # a county, not a league
])
def test_bad_rows_name_file_row_field_and_value(over: dict, field: str, value: str | None,
                                                ) -> None:
    frame = pd.DataFrame([good_row(measure_id="IM-0"), good_row(**over)])
    with pytest.raises(InputError) as err:
        measures.parse_measures(frame, file="m.xlsx")
    problems = [p for p in err.value.problems if p.field == field]
    assert problems, err.value
    assert problems[0].file == "m.xlsx" and problems[0].row == 3
    if value is not None:
        assert problems[0].value == value


def test_duplicate_ids_and_missing_parents_are_refused() -> None:
    with pytest.raises(InputError, match="given twice"):
        measures.parse_measures(pd.DataFrame([good_row(), good_row()]))
    frame = measures.parse_measures(pd.DataFrame([good_row(parent_id="PLAN-9")]))
    with pytest.raises(InputError, match="parent measure not found"):
        measures.check_parents(frame)
    measures.check_parents(frame, known={"PLAN-9"})  # stored before: fine


@pytest.mark.parametrize(("deadline", "status", "as_of", "late"), [
    (dt.date(2025, 12, 31), "planned", dt.date(2025, 12, 31), False),  # due that day
    (dt.date(2025, 12, 31), "planned", dt.date(2026, 1, 1), True),  # the day after
    (dt.date(2025, 12, 31), "in_progress", dt.date(2026, 1, 1), True),
    (dt.date(2025, 12, 31), "completed", dt.date(2026, 6, 1), False),
    (dt.date(2025, 12, 31), "cancelled", dt.date(2026, 6, 1), False),
    (None, "planned", dt.date(2030, 1, 1), False),
])
def test_overdue_rule_boundaries(deadline: dt.date | None, status: str, as_of: dt.date,
                                 late: bool) -> None:
    assert measures.is_overdue(deadline, status, as_of) is late


def test_overdue_list_counts_days() -> None:
    frame = measures.parse_measures(pd.DataFrame([
        good_row(measure_id="A", deadline="2025-12-31"),
        good_row(measure_id="B", deadline="2026-11-30"),
        good_row(measure_id="C", deadline="2026-12-02")]))
    late = measures.overdue(frame, dt.date(2026, 12, 2))
    # 2025-12-31 -> 2026-12-02: 336 days; 2026-11-30 -> 2026-12-02: 2 days; C due today
    assert list(late["measure_id"]) == ["A", "B"]
    assert list(late["days_overdue"]) == [336, 2]


def test_realised_saving_from_before_and_after_accounts() -> None:
    # Unit U: 2024 10,000 t with 19,000 tce (1.9 tce/t); measure completed 2025-06-30;
    # 2026 12,000 t with 21,000 tce. Without the measure 2026 would have taken
    # 1.9 x 12,000 = 22,800 tce: realised 22,800 - 21,000 = 1,800 tce/a, against 1,300
    # planned: delivery 1800/1300 = 1.3846. CO2 at the plan's 2.0 t/tce: 3,600 t.
    reg = measures.parse_measures(pd.DataFrame([good_row(
        measure_id="M", status="completed", completed_on="2025-06-30",
        evidence="acceptance report", effect_tce="1300", effect_co2_t="2600")]))
    reg["unit_id"] = "U"
    accounts = pd.DataFrame({"unit_id": ["U", "U", "U"], "year": [2024, 2025, 2026],
                             "output": [10_000.0, 11_000.0, 12_000.0],
                             "energy_tce": [19_000.0, 20_000.0, 21_000.0]})
    got = measures.progress(reg, accounts).iloc[0]
    assert (got["year_before"], got["year_after"]) == (2024, 2026)
    assert got["realised_tce"] == pytest.approx(1_800.0, rel=1e-12)
    assert got["realised_co2_t"] == pytest.approx(3_600.0, rel=1e-12)
    assert got["delivery_ratio"] == pytest.approx(1800 / 1300, rel=1e-12)
    # no year after completion yet: no realised figure, and the note says why
    short = measures.progress(reg, accounts[accounts["year"] < 2026]).iloc[0]
    assert np.isnan(short["realised_tce"]) and "after 2025" in short["note"]


def test_effect_year_rules() -> None:
    base = 2025
    rec = {"status": "planned", "deadline": dt.date(2026, 6, 30), "completed_on": None}
    assert measures.effect_year(rec, base) == 2027
    # overdue before the base year: still to come, from the first projected year
    assert measures.effect_year(rec | {"deadline": dt.date(2023, 12, 31)}, base) == 2026
    done = {"status": "completed", "deadline": None, "completed_on": dt.date(2023, 5, 1)}
    assert measures.effect_year(done, base) is None  # in the base year's accounts
    assert measures.effect_year(done | {"completed_on": dt.date(2025, 5, 1)}, base) == 2026
    assert measures.effect_year(rec | {"status": "cancelled"}, base) is None


# -- wedges in the outlook --------------------------------------------------------------

def flat(**over: object) -> outlook.Scenario:
    """One region, flat: energy 500 tce, CO2 1,250 t every year 2020-2040."""
    raw = {"name": "flat", "base_year": 2020, "end_year": 2040,
           "electricity_tce_per_kwh": 0.0001229,
           "regions": [{"name": "r", "gdp_base_10k_yuan": 1000.0, "energy_base_tce": 500.0,
                        "gdp_growth": [], "sectors": [{"name": "all", "share": 1.0,
                                                       "intensity_index": 1.0,
                                                       "intensity_decline": []}],
                        "electricity_share": 0.0, "nonfossil_generation_share": 0.0,
                        "fossil_grid_factor_t_per_mwh": 0.8, "direct_nonfossil_share": 0.0,
                        "feedstock_share": 0.0, "direct_co2_factor_t_per_tce": 2.5}]}
    raw.update(over)
    return outlook.scenario_from_mapping(raw)


def total(result: outlook.Outlook, col: str) -> np.ndarray:
    return result.central[result.central["region"] == "total"][col].to_numpy()


def test_outlook_without_measures_is_unchanged() -> None:
    # Values from the outlook before measures existed (main at 38db7b0, same call)
    sc = outlook.load_scenario(SCENARIOS / "inner_mongolia_policy.yaml")
    res = outlook.run(sc, draws=300, seed=7, chunk=128, measures=())
    t = res.central[res.central["region"] == "total"].set_index("year")
    assert t.loc[2030, "co2_t"] == pytest.approx(796415872.6490424, rel=1e-12)
    assert t.loc[2030, "controlled_tce"] == pytest.approx(250384716.61470738, rel=1e-12)
    i = 2030 - sc.base_year
    assert res.draws["co2_t"][:, i].mean() == pytest.approx(785304274.991924, rel=1e-12)
    assert res.draws["energy_tce"][:, i].std() == pytest.approx(24694552.376728844,
                                                                 rel=1e-12)
    assert res.peaks["total"]["co2"].mean() == pytest.approx(2025.11, abs=1e-9)
    assert res.wedges.empty


def test_one_measure_wedge_equals_its_effect() -> None:
    sc = flat()
    effect = outlook.MeasureEffect("upgrade", 2026, energy_tce=100.0, co2_t=250.0)
    plain, cut = outlook.run(sc), outlook.run(sc, measures=[effect])
    years = sc.years
    for col, saved in (("energy_tce", 100.0), ("controlled_tce", 100.0), ("co2_t", 250.0)):
        diff = total(plain, col) - total(cut, col)
        assert np.allclose(diff[years < 2026], 0.0, atol=1e-9)
        assert np.allclose(diff[years >= 2026], saved, rtol=1e-12)
    wedge = cut.wedges.set_index("year")
    assert wedge.loc[2030, "co2_t"] == 250.0 and wedge.loc[2025, "co2_t"] == 0.0


def test_monte_carlo_delivery_probability_and_delay() -> None:
    sc = flat()
    # probability 0: every draw as without the measure (the measure's draws come after
    # the region's within one chunk, so the region's draws are the same)
    none = outlook.MeasureEffect("g", 2026, 100.0, 250.0, probability=0.0)
    a = outlook.run(sc, draws=500, seed=3)
    b = outlook.run(sc, draws=500, seed=3, measures=[none])
    assert np.array_equal(a.draws["co2_t"], b.draws["co2_t"])
    # probability 0.6, delay up to 2 years: share of draws cut in 2026, 2027, 2028 is
    # 0.6 x 1/3, 0.6 x 2/3, 0.6. With 20,000 draws the sd of a share is at most
    # sqrt(0.25 / 20000) = 0.0035; tolerance 0.015 is more than four sd.
    risky = outlook.MeasureEffect("g", 2026, 100.0, 250.0, probability=0.6, delay_years=2)
    res = outlook.run(sc, draws=20_000, seed=11, measures=[risky])
    cut_share = (1250.0 - res.draws["co2_t"]) / 250.0
    years = list(sc.years)
    for year, expected in ((2025, 0.0), (2026, 0.2), (2027, 0.4), (2028, 0.6)):
        assert cut_share[:, years.index(year)].mean() == pytest.approx(expected, abs=0.015)


def test_target_gap_and_what_else_is_needed() -> None:
    # Flat path, GDP flat: a 10 % CO2-intensity cut from 2020 to 2030 allows
    # 0.9 x 1250 = 1125 t in 2030: the gap is 125 t. A measure of 50 t from 2026 covers
    # 50 / 125 = 40 %; 75 t are still needed.
    target = {"indicator": "co2_intensity_reduction", "base_year": 2020, "target_year": 2030,
              "target_value": 0.10, "source": "test"}
    sc = flat(targets=[target])
    res = outlook.run(sc, measures=[outlook.MeasureEffect("g", 2026, 20.0, 50.0)])
    gaps = outlook.target_gaps(res).set_index("indicator").loc["co2_intensity_reduction"]
    assert gaps["gap_without_measures"] == pytest.approx(125.0, rel=1e-12)
    assert gaps["covered_by_measures"] == pytest.approx(50.0, rel=1e-12)
    assert gaps["share_covered"] == pytest.approx(0.4, rel=1e-12)
    assert gaps["still_needed"] == pytest.approx(75.0, rel=1e-12)


def test_peak_gap_is_the_largest_rise_after_the_target_year() -> None:
    path = pd.DataFrame({"year": [2028, 2029, 2030, 2031, 2032],
                         "co2_t": [90.0, 95.0, 100.0, 104.0, 103.0],
                         "gdp_const_10k_yuan": 1.0})
    target = {"target_value": 2030}
    assert outlook.target_gap("co2_peak_year", target, path, pd.DataFrame()) == 4.0
    assert outlook.target_gap("co2_peak_year", {"target_value": 2031}, path,
                              pd.DataFrame()) == 0.0


def test_measure_effects_group_and_skip() -> None:
    reg = measures.parse_measures(pd.DataFrame([
        good_row(measure_id="A", wedge_group="coal power"),
        good_row(measure_id="B", status="cancelled"),
        good_row(measure_id="C", level="sector_plan"),
        good_row(measure_id="D", effect_tce="", effect_co2_t="", effect_basis="")]))
    got = measures.measure_effects(reg, base_year=2025)
    assert [(e.group, e.year, e.energy_tce, e.co2_t) for e in got] == [
        ("coal power", 2027, 1000.0, 2500.0)]


def test_wedge_chart_is_written(tmp_path: Path) -> None:
    sc = flat()
    res = outlook.run(sc, measures=[outlook.MeasureEffect("a", 2026, 10.0, 25.0),
                                    outlook.MeasureEffect("b", 2028, 20.0, 50.0)])
    out = outlook.chart_wedges(res, tmp_path / "w.png")
    assert out.stat().st_size > 1000


def test_bulletin_section_counts_overdue_at_the_quarter_end_and_names_no_firm(
        tmp_path: Path) -> None:
    from dualcontrol import bulletin

    reg = measures.parse_measures(pd.DataFrame([
        good_row(measure_id="DOC", level="document", effect_tce="", effect_co2_t="",
                 effect_basis=""),
        good_row(measure_id="E1", owner_kind="enterprise", owner="SecretFirm",
                 deadline="2024-09-30", effect_tce="20000", effect_co2_t="55380"),
        good_row(measure_id="E2", owner_kind="enterprise", owner="SecretFirm",
                 deadline="2024-10-01", effect_tce="30000", effect_co2_t="83070")]))
    rows = [("A", y, q, 100.0, 200.0) for y in (2023, 2024) for q in (1, 2, 3, 4)]
    leagues = pd.DataFrame(rows, columns=["league", "year", "quarter", "energy_tce", "co2_t"])
    leagues = leagues.assign(controlled_tce=50.0, feedstock_tce=0.0, renewable_tce=0.0)
    region = leagues.rename(columns={"league": "region"})
    b = bulletin.bulletin(leagues, region, pd.DataFrame(), "2024-Q3", measures=reg)
    text = " ".join(b.commentary)
    # On 2024-09-30 (end of Q3) E1 is due that day and E2 later: none overdue. The two
    # measures save 20,000 + 30,000 = 50,000 tce = 5.0 万tce a year (DOC carries none).
    assert "1 overall document(s), 0 sector plan(s) and 2 measures" in text
    assert "5.0 万tce" in text and "No measure was overdue on 2024-09-30" in text
    q4 = bulletin.bulletin(leagues, region, pd.DataFrame(), "2024-Q4", measures=reg)
    # On 2024-12-31 both are overdue: 5.0 万tce still to come
    assert "2 measures were overdue on 2024-12-31 (by owner: enterprise 2)" in " ".join(
        q4.commentary)
    # and in Chinese: the same counts and figures
    assert "登记总体方案1个、行业方案0个、措施2项" in " ".join(b.commentary_zh)
    assert "预计每年节能5.0万吨标准煤" in " ".join(b.commentary_zh)
    assert "截至2024年9月30日，无逾期措施。" in b.commentary_zh
    assert ("截至2024年12月31日，2项措施逾期未完成（按责任主体：企业2项），"
            "涉及每年节能5.0万吨标准煤。") in q4.commentary_zh
    assert not any("registry" in line for line in q4.commentary_zh)
    html = bulletin.render_html(q4)
    assert 'id="measures"' in html and "SecretFirm" not in html
    book = bulletin.write_xlsx(q4, tmp_path / "b.xlsx")
    assert "measures" in pd.ExcelFile(book).sheet_names


def test_regenerating_keeps_what_owners_recorded_and_names_stale_measures() -> None:
    units = benchmarking.benchmark_units(units_frame(REGISTER))
    first = measures.generate_from_units(units)
    stored = first.copy()
    stored.loc[stored["measure_id"] == "GEN-F1", ["status", "evidence"]] = [
        "in_progress", "contract signed"]
    # a year on, C1 reached 99 kgce/t (a front runner); F1 is still at 850 kgce/t
    later = [dict(r, year=2025) for r in REGISTER]
    later[1]["energy_tce"] = 99_000.0
    again = measures.generate_from_units(benchmarking.benchmark_units(units_frame(later)))
    merged = measures.merge_generated(again, stored).set_index("measure_id")
    assert list(merged.index) == ["GEN-F1"]
    assert merged.loc["GEN-F1", "status"] == "in_progress"
    assert merged.loc["GEN-F1", "evidence"] == "contract signed"
    assert list(measures.no_longer_required(again, stored)["measure_id"]) == ["GEN-C1"]


def test_a_proxy_target_stands_in_only_for_an_unpublished_one() -> None:
    sc = outlook.load_scenario(SCENARIOS / "inner_mongolia_baseline.yaml")
    reg = measures.empty_registry()
    # the region's 15th-plan CO2-intensity target is not published: the proxy is used
    co2 = measures.proxy_target("co2_intensity_reduction", 0.17, sc, 2030)
    report = measures.wedge_report(reg, sc, proxies=[co2])
    row = report.gaps.set_index("indicator").loc["co2_intensity_reduction"]
    assert row["target_year"] == 2030 and "proxy" in row["source"]
    # the energy-intensity row of targets.csv exists (14th plan): a proxy may not replace it
    energy = measures.proxy_target("energy_intensity_reduction", 0.12, sc, 2030)
    with pytest.raises(InputError, match="proxy cannot replace it"):
        measures.wedge_report(reg, sc, proxies=[energy])
    with pytest.raises(InputError, match="between 0 and 1"):
        measures.proxy_target("co2_intensity_reduction", 17, sc, 2030)
