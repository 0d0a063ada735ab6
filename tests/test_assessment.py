"""Tests of the plan assessment: progress path, barometer, exclusions, other indicators.

Every expected number is worked out by hand in the test from its inputs; rules come
from the shipped tables (barometer_rules.csv, exclusion_rules.csv), whose sources are
the NDRC barometer (Caixin 2021-06-04), 发改环资〔2022〕803号 and the NDRC/NBS/NEA
notices of 2022-11-16 and 2024-02-02.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dualcontrol.assessment import (
    apply_exclusions,
    barometer_rules,
    exclusion_rules,
    green_registry_counts,
    green_registry_trend,
    parse_assessment_period,
    plan_target,
    prepare_accounts,
    progress,
    rate,
    required_reduction,
    targets,
    water_intensity,
)
from dualcontrol.errors import InputError
from dualcontrol.reference import load_table

TEST_SOURCE = "test case"


def target_rows(code: str, plan: str, base: int, end: int, **values: float) -> list[dict]:
    """Return target rows of one region and plan (test data, not official)."""
    return [{"region_code": code, "region_name": code, "plan": plan, "base_year": base,
             "target_year": end, "indicator": ind, "target_value": float(v), "unit": "",
             "kind": "binding", "source": TEST_SOURCE, "edition": "test", "verified": "false",
             "note": ""} for ind, v in values.items()]


def table(*groups: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([row for group in groups for row in group])


def account(code: str, year: int, energy: float, gdp: float, *, period: str = "",
            feedstock: float = 0.0, renewable: float = 0.0, nonfossil: float | None = None,
            co2: float | None = None) -> dict:
    return {"region_code": code, "region_name": f"R{code}", "year": year, "period": period,
            "energy_tce": energy, "feedstock_tce": feedstock, "renewable_tce": renewable,
            "nonfossil_tce": renewable if nonfossil is None else nonfossil,
            "co2_t": energy * 2 if co2 is None else co2, "gdp_const_10k_yuan": gdp}


def one(frame: pd.DataFrame, code: str, indicator: str) -> pd.Series:
    hit = frame[(frame["region_code"] == code) & (frame["indicator"] == indicator)]
    assert len(hit) == 1
    return hit.iloc[0]


# ----------------------------------------------------------------------- the progress rule


def test_required_reduction_compounded_path() -> None:
    # National 14th plan: -13.5% over 2020-2025 (国发〔2021〕33号).
    # After 1 of 5 years: 1 - 0.865 ** 0.2; ln 0.865 = -0.1450258, / 5 = -0.0290052,
    # exp(-0.0290052) = 0.9714115, so 0.0285885 (5 digits by hand: tolerance 1e-6).
    assert required_reduction(0.135, 1, 5, "compounded") == pytest.approx(0.0285885, abs=1e-6)
    # After 4 of 5: exp(4 * -0.0290052) = exp(-0.1160208) = 0.8904567 -> 0.1095433.
    assert required_reduction(0.135, 4, 5, "compounded") == pytest.approx(0.1095433, abs=1e-6)
    # Start and end of the path: nothing required at the base, the target at the end.
    assert required_reduction(0.135, 0, 5, "compounded") == 0.0
    assert required_reduction(0.135, 5, 5, "compounded") == pytest.approx(0.135, abs=1e-15)


def test_required_reduction_linear_path_is_the_ndrc_practice() -> None:
    # NDRC (12th plan): 20/40/60/80/100% of the five-year target after 1..5 years.
    for k, share in enumerate((0.2, 0.4, 0.6, 0.8, 1.0), start=1):
        assert required_reduction(0.135, k, 5) == pytest.approx(0.135 * share, abs=1e-15)
    # Linear asks less than compounded in the middle years: after 1 year 0.0270 against
    # 0.0285885, after 4 years 0.1080 against 0.1095433.
    assert required_reduction(0.135, 1, 5) < required_reduction(0.135, 1, 5, "compounded")
    with pytest.raises(InputError):
        required_reduction(0.135, 1, 5, "geometric")


def test_progress_path_and_barometer_scheme_are_chosen_by_year() -> None:
    from dualcontrol.assessment import progress_path

    assert progress_path(2013)["rule_id"] == "linear_12th"
    assert progress_path(2024)["path"] == "linear"
    assert progress_path(2026)["rule_id"] == "linear_15th"
    with pytest.raises(InputError) as exc:
        progress_path(2031)
    assert "progress_paths.csv" in str(exc.value)
    assert set(barometer_rules(2020)["scheme"]) == {"901_2020"}
    assert set(barometer_rules(2021)["scheme"]) == {"629_2021"}
    # 629号 has no red for a missed intensity requirement: only a rise is red
    assert "shortfall_above" not in set(
        barometer_rules(2021).query("indicator_group == 'intensity'")["condition"])


# ----------------------------------------------------------------------- barometer: intensity

# A one-year plan 2018 -> 2019 with R = 10%: the requirement in 2019 is 0.10 (k = n).
# Base 2018: 1000 tce over GDP 1000 -> intensity 1.0. 2019 GDP 1000, so the reduction
# is 1 - E/1000 and 10% of the target is a shortfall of 0.01 (E = 910).
ONE_YEAR = table(target_rows("150100", "t", 2018, 2019, energy_intensity_reduction=0.10))


@pytest.mark.parametrize(("energy_2019", "reduction", "expected"), [
    (899.0, 0.101, "green"),   # ahead of the target
    (900.0, 0.100, "green"),   # exactly on the target
    (900.5, 0.0995, "yellow"),  # just behind: shortfall 0.0005 = 0.5% of the target
    (905.0, 0.095, "yellow"),  # shortfall 0.005 = 5% of the target
    (910.0, 0.090, "yellow"),  # shortfall 0.010 = exactly 10% of the target
    (910.5, 0.0895, "red"),    # shortfall 0.0105 = 10.5% of the target
    (950.0, 0.050, "red"),     # shortfall 0.05 = 50%
])
def test_intensity_rating_each_side_of_each_boundary(energy_2019: float, reduction: float,
                                                      expected: str) -> None:
    rows = [account("150100", 2018, 1000.0, 1000.0), account("150100", 2019, energy_2019, 1000.0)]
    row = one(progress(pd.DataFrame(rows), year=2019, target_table=ONE_YEAR), "150100",
              "energy_intensity")
    assert row["requirement"] == pytest.approx(0.10, abs=1e-12)
    assert row["value"] == pytest.approx(reduction, abs=1e-12)
    assert row["gap"] == pytest.approx(0.10 - reduction, abs=1e-12)
    assert row["rating"] == expected


def test_intensity_rising_is_red_even_when_ahead_of_the_path() -> None:
    # Plan 2020 -> 2025, R = 15%; in 2024 (k = 4) the linear path requires 0.15 x 4/5 = 0.12.
    # Intensity 2020 1.00, 2023 0.70, 2024 0.72: reduction 0.28, far ahead, but rising
    # against 2023 (+2.857%): red by the rising rule.
    plan = table(target_rows("150100", "14th", 2020, 2025, energy_intensity_reduction=0.15))
    rows = [account("150100", 2020, 1000.0, 1000.0), account("150100", 2023, 700.0, 1000.0),
            account("150100", 2024, 720.0, 1000.0)]
    row = one(progress(pd.DataFrame(rows), year=2024, target_table=plan), "150100",
              "energy_intensity")
    assert row["requirement"] == pytest.approx(0.12, abs=1e-12)
    assert (row["progress_rule"], row["barometer_scheme"]) == ("linear_14th", "629_2021")
    assert row["value"] == pytest.approx(0.28, abs=1e-12)
    assert row["change_vs_same_period_last_year"] == pytest.approx(20 / 700, abs=1e-12)
    assert (row["rating"], row["rule_id"]) == ("red", "629_intensity_rising")
    # The same region with 2024 at 0.69 (falling) is green.
    rows[-1] = account("150100", 2024, 690.0, 1000.0)
    row = one(progress(pd.DataFrame(rows), year=2024, target_table=plan), "150100",
              "energy_intensity")
    assert row["rating"] == "green"


# ----------------------------------------------------------------------- barometer: total

# One-year plan 2018 -> 2019 allowing an increment of 100 tce over a base of 1000:
# allowed 2019 = 1000 * (1100 / 1000) ** 1 = 1100; 10% of the increment is 10 tce.
TOTAL = table(target_rows("150200", "t", 2018, 2019, energy_total_increment_tce=100))


@pytest.mark.parametrize(("energy_2019", "expected"), [
    (1099.0, "green"), (1100.0, "green"),               # under, on the allowed total
    (1100.5, "yellow"), (1105.0, "yellow"), (1110.0, "yellow"),  # over by <= 10 tce
    (1110.5, "red"), (1200.0, "red"),                   # over by more than 10 tce
])
def test_total_rating_each_side_of_each_boundary(energy_2019: float, expected: str) -> None:
    rows = [account("150200", 2018, 1000.0, 1000.0), account("150200", 2019, energy_2019, 1000.0)]
    row = one(progress(pd.DataFrame(rows), year=2019, target_table=TOTAL), "150200",
              "energy_total")
    assert row["requirement"] == pytest.approx(1100.0, rel=1e-12)
    assert row["gap"] == pytest.approx(energy_2019 - 1100.0, abs=1e-9)
    assert row["rating"] == expected


def test_total_cap_is_turned_into_the_increment_over_the_base() -> None:
    # Cap of 1100 tce in 2019 on a base of 1000: the same path as an increment of 100.
    cap = table(target_rows("150200", "t", 2018, 2019, energy_total_cap_tce=1100))
    rows = [account("150200", 2018, 1000.0, 1000.0), account("150200", 2019, 1105.0, 1000.0)]
    row = one(progress(pd.DataFrame(rows), year=2019, target_table=cap), "150200", "energy_total")
    assert row["requirement"] == pytest.approx(1100.0, rel=1e-12)
    assert row["shortfall_fraction"] == pytest.approx(0.05, abs=1e-12)
    assert row["rating"] == "yellow"


def test_rating_rules_come_from_the_table_with_sources() -> None:
    rules = load_table("barometer-rules")
    assert set(rules["rating"]) == {"red", "yellow", "green", "no_data"}
    assert (rules["source"].str.len() > 0).all()
    # 901号 (to 2020): 10% of the target separates yellow from red.
    rules_2020 = barometer_rules(2020)
    assert rate("intensity", 0.01, 0.1, rules=rules_2020) == (
        "yellow", "901_intensity_missed_within")
    assert rate("intensity", 0.0101, 0.1, rules=rules_2020) == (
        "red", "901_intensity_missed_above")
    # 629号 (from 2021): a missed requirement is yellow however far; a rise is red.
    assert rate("intensity", 0.05, 0.1) == ("yellow", "629_intensity_missed")
    assert rate("intensity", -0.05, 0.1, rising=True) == ("red", "629_intensity_rising")
    assert rate("intensity", float("nan"), float("nan"), has_data=False)[0] == "no_data"


# ----------------------------------------------------------------------- exclusions


def test_exclusion_rules_by_assessment_year() -> None:
    assert list(exclusion_rules(2019)["rule_id"]) == []
    assert set(exclusion_rules(2022)["rule_id"]) == {"feedstock_2022", "renewable_increment_2022"}
    assert set(exclusion_rules(2024)["rule_id"]) == {"feedstock_2022", "nonfossil_2024"}


def test_excluded_renewable_addition_changes_only_intensity_in_2022() -> None:
    # 2020: 1000 tce of which 100 renewable electricity; 2022: 1050 tce, the only change
    # being +50 tce of renewable electricity (150). GDP 1000 both years.
    plan = table(target_rows("150300", "14th", 2020, 2025, energy_intensity_reduction=0.15,
                             energy_total_increment_tce=100))
    rows = [account("150300", 2020, 1000.0, 1000.0, renewable=100.0),
            account("150300", 2021, 1025.0, 1000.0, renewable=125.0),
            account("150300", 2022, 1050.0, 1000.0, renewable=150.0)]
    result = progress(pd.DataFrame(rows), year=2022, target_table=plan)
    total = one(result, "150300", "energy_total")
    # Total: the increment over 2020 (150 - 100 = 50) is deducted -> 1000, the base level.
    # Allowed 2022 (k = 2 of 5, linear path): 1000 + 100 x 2/5 = 1040 tce. 1000 <= 1040:
    # green, change vs base 0.
    assert total["renewable_increment_deducted_tce"] == pytest.approx(50.0)
    assert total["value"] == pytest.approx(1000.0)
    assert total["requirement"] == pytest.approx(1040.0, abs=1e-9)
    assert total["change_vs_base"] == pytest.approx(0.0, abs=1e-12)
    assert total["rating"] == "green"
    # Intensity: renewables still count (但仍纳入能耗强度考核): 1.05 vs 1.00, rising.
    intensity = one(result, "150300", "energy_intensity")
    assert intensity["value"] == pytest.approx(-0.05, abs=1e-12)
    assert intensity["rating"] == "red"
    assert "renewable_increment_2022" not in intensity["exclusions"]


def test_nonfossil_is_deducted_from_total_and_intensity_from_2024() -> None:
    # Same region in 2024: all non-fossil (= the renewables here) out of both measures,
    # from the base as well: base 1000 - 100 = 900, 2024 1050 - 150 = 900.
    plan = table(target_rows("150300", "14th", 2020, 2025, energy_intensity_reduction=0.15,
                             energy_total_increment_tce=100))
    rows = [account("150300", 2020, 1000.0, 1000.0, renewable=100.0),
            account("150300", 2023, 1040.0, 1000.0, renewable=140.0),
            account("150300", 2024, 1050.0, 1000.0, renewable=150.0)]
    result = progress(pd.DataFrame(rows), year=2024, target_table=plan)
    for indicator in ("energy_total", "energy_intensity"):
        row = one(result, "150300", indicator)
        assert row["nonfossil_deducted_tce"] == pytest.approx(150.0)
        assert row["change_vs_base"] == pytest.approx(0.0, abs=1e-12)
        assert "nonfossil_2024" in row["exclusions"]


def test_feedstock_deducted_from_base_and_assessed_year_gdp_unadjusted() -> None:
    # 发改环资〔2022〕803号: feedstock out of both years; GDP not adjusted.
    # 2020: (1000 - 200) / 100 = 8.0 tce per 10^4 yuan; 2022: (1100 - 300) / 110 = 7.272727.
    # Reduction = 1 - 7.272727 / 8 = 0.0909091. (Not deducting: 10 vs 10 -> 0; deducting
    # from 2022 only: 1 - 7.2727 / 10 = 0.2727.)
    plan = table(target_rows("150600", "14th", 2020, 2025, energy_intensity_reduction=0.16))
    rows = [account("150600", 2020, 1000.0, 100.0, feedstock=200.0),
            account("150600", 2022, 1100.0, 110.0, feedstock=300.0)]
    row = one(progress(pd.DataFrame(rows), year=2022, target_table=plan), "150600",
              "energy_intensity")
    assert row["value"] == pytest.approx(0.0909091, abs=1e-7)
    assert row["feedstock_deducted_tce"] == pytest.approx(300.0)
    assert "feedstock_2022" in row["exclusions"]
    ruled = apply_exclusions(prepare_accounts(pd.DataFrame(rows)), 2022)
    assert list(ruled["gdp_const_10k_yuan"]) == [100.0, 110.0]
    assert list(ruled["energy_for_intensity_tce"]) == [800.0, 800.0]


# ----------------------------------------------------------------------- periods and plans


def test_plan_starting_mid_series_uses_its_own_base_year() -> None:
    # Series 2015-2021; 13th plan 2015-2020 (R 14%), 14th 2020-2025 (R 15%).
    plans = table(target_rows("150000", "13th", 2015, 2020, energy_intensity_reduction=0.14),
                  target_rows("150000", "14th", 2020, 2025, energy_intensity_reduction=0.15))
    energy = {2015: 1000.0, 2016: 990.0, 2017: 980.0, 2018: 970.0, 2019: 960.0, 2020: 950.0,
              2021: 920.0}
    rows = [account("150000", y, e, 1000.0) for y, e in energy.items()]
    r2021 = one(progress(pd.DataFrame(rows), year=2021, target_table=plans), "150000",
                "energy_intensity")
    # 2021 under the 14th plan: base 2020 (0.95): 1 - 0.92 / 0.95 = 0.0315789; required
    # on the linear path 0.15 x 1/5 = 0.03 -> ahead: green.
    assert (r2021["plan"], r2021["base_year"]) == ("14th", 2020)
    assert r2021["value"] == pytest.approx(0.0315789, abs=1e-7)
    assert r2021["requirement"] == pytest.approx(0.03, abs=1e-12)
    assert r2021["rating"] == "green"
    # The same year on the compounded path: 1 - 0.85 ** 0.2 = 1 - exp(-0.0325038)
    # = 0.0319812 -> behind by 0.0004023; 629号 rates a missed requirement yellow.
    r2021c = one(progress(pd.DataFrame(rows), year=2021, target_table=plans,
                          path="compounded"), "150000", "energy_intensity")
    assert r2021c["requirement"] == pytest.approx(0.0319812, abs=1e-6)
    assert (r2021c["rating"], r2021c["progress_rule"]) == ("yellow", "compounded (asked for)")
    # 2019 under the 13th plan: base 2015 (1.00): 0.04 achieved; required after 4 of 5:
    # 0.14 x 4/5 = 0.112; shortfall 0.072 = 64% of it: red under 901号.
    r2019 = one(progress(pd.DataFrame(rows), year=2019, target_table=plans), "150000",
                "energy_intensity")
    assert (r2019["plan"], r2019["base_year"]) == ("13th", 2015)
    assert r2019["requirement"] == pytest.approx(0.112, abs=1e-12)
    assert (r2019["rating"], r2019["rule_id"]) == ("red", "901_intensity_missed_above")


def test_cumulative_quarter_chained_on_the_same_period_of_last_year() -> None:
    # 2020 annual 1.0; 2023 annual 900/1000 = 0.9; 1-9 2023: 700/750 = 0.9333333;
    # 1-9 2024: 690/780 = 0.8846154. Year-on-year 0.8846154 / 0.9333333 = 0.9478022,
    # so -5.21978%; estimate for 2024: 0.9 x 0.9478022 = 0.8530220, reduction 0.1469780.
    # Required for 2024 (R 15%, k = 4, linear): 0.12 (see the rising test): green.
    plan = table(target_rows("150100", "14th", 2020, 2025, energy_intensity_reduction=0.15))
    rows = [account("150100", 2020, 1000.0, 1000.0), account("150100", 2023, 900.0, 1000.0),
            account("150100", 2023, 700.0, 750.0, period="2023-Q3"),
            account("150100", 2024, 690.0, 780.0, period="2024-Q3")]
    year, months = parse_assessment_period("2024-Q3")
    assert (year, months) == (2024, 9)
    row = one(progress(pd.DataFrame(rows), year=year, months=months, target_table=plan),
              "150100", "energy_intensity")
    assert row["period"] == "2024-Q3"
    assert row["change_vs_same_period_last_year"] == pytest.approx(-0.0521978, abs=1e-7)
    assert row["value"] == pytest.approx(0.1469780, abs=1e-7)
    assert row["rating"] == "green"


def test_league_without_data_for_a_quarter_is_no_data_never_green() -> None:
    plan = table(*(target_rows(c, "14th", 2020, 2025, energy_intensity_reduction=0.15,
                               energy_total_increment_tce=100, co2_intensity_reduction=0.18)
                   for c in ("150100", "150200")))
    rows = [account(c, 2020, 1000.0, 1000.0) for c in ("150100", "150200")]
    rows += [account(c, 2023, 900.0, 1000.0) for c in ("150100", "150200")]
    rows += [account(c, 2023, 700.0, 750.0, period="2023-Q3") for c in ("150100", "150200")]
    rows.append(account("150100", 2024, 690.0, 780.0, period="2024-Q3"))
    # Baotou (150200) reports nothing for 1-9 2024; a row with an empty energy is no data too.
    empty = account("150200", 2024, float("nan"), 780.0, period="2024-Q3")
    for extra in ([], [empty]):
        result = progress(pd.DataFrame(rows + extra), year=2024, months=9, target_table=plan)
        baotou = result[result["region_code"] == "150200"]
        assert set(baotou["rating"]) == {"no_data"}
        assert baotou["value"].isna().all()
        assert baotou["note"].str.contains("2024-Q3").all()
        assert one(result, "150100", "energy_intensity")["rating"] == "green"


def test_region_without_numeric_total_target_is_no_target() -> None:
    # Inner Mongolia's 14th plan published no total cap (shipped targets.csv).
    rows = [account("150000", 2020, 1000.0, 1000.0), account("150000", 2021, 990.0, 1000.0)]
    result = progress(pd.DataFrame(rows), year=2021)
    assert one(result, "150000", "energy_total")["rating"] == "no_target"
    intensity = one(result, "150000", "energy_intensity")
    # -15% over 2020-2025 (内蒙古"十四五"节能减排综合工作实施方案): 0.15 x 1/5 = 0.03 in 2021.
    assert intensity["requirement"] == pytest.approx(0.03, abs=1e-12)
    assert intensity["value"] == pytest.approx(0.01, abs=1e-12)


def test_co2_intensity_assessed_like_energy_intensity() -> None:
    # CO2 2020 2000 t / 1000 = 2.0; 2021 1900 / 1000 = 1.9: 5% reduction; target 18% over
    # five years: 0.18 x 1/5 = 0.036 required (linear path): green.
    plan = table(target_rows("100000", "14th", 2020, 2025, co2_intensity_reduction=0.18))
    rows = [account("100000", 2020, 1000.0, 1000.0, co2=2000.0),
            account("100000", 2021, 1000.0, 1000.0, co2=1900.0)]
    row = one(progress(pd.DataFrame(rows), year=2021, target_table=plan), "100000",
              "co2_intensity")
    assert row["value"] == pytest.approx(0.05, abs=1e-12)
    assert row["requirement"] == pytest.approx(0.036, abs=1e-12)
    assert row["rating"] == "green"


def test_bad_accounts_report_every_problem() -> None:
    frame = pd.DataFrame([account("150100", 2020, -5.0, 1000.0, co2=10.0),
                          account("150100", 2021, 10.0, 1000.0, period="2021-Q9")])
    with pytest.raises(InputError) as caught:
        prepare_accounts(frame, file="accounts.csv")
    fields = {p.field for p in caught.value.problems}
    assert fields == {"energy_tce", "period"}


# ----------------------------------------------------------------------- shipped targets


def test_shipped_targets_have_sources_and_pick_the_five_year_plan() -> None:
    shipped = targets(include_demo=True)
    assert (shipped["source"].str.len() > 0).all()
    demo = load_table("demo-league-targets")
    assert (demo["source"] == "dualcontrol demo, illustrative").all()
    # The twelve leagues, and the region only where its own target is not published
    # (the 15th plan's CO2 intensity: targets.csv holds an empty official row).
    assert len(set(demo["region_code"]) - {"150000"}) == 12
    assert set(demo.loc[demo["region_code"] == "150000", "plan"]) == {"15th"}
    assert plan_target(targets(), "150000", "co2_intensity", 2026) is None
    region = plan_target(shipped, "150000", "co2_intensity", 2026)
    assert (region["target_value"], region["source"]) == (0.17, "dualcontrol demo, illustrative")
    # 2024 is covered by the 14th plan and by the 2024 annual action plan; the binding
    # five-year plan is used.
    national = plan_target(shipped, "100000", "energy_intensity", 2024)
    assert (national["plan"], national["target_value"]) == ("14th", 0.135)
    league = plan_target(shipped, "150600", "energy_intensity", 2024)
    assert league["kind"] == "binding"


# ----------------------------------------------------------------------- other indicators


def test_water_intensity_reproduces_the_seed_figure() -> None:
    # Seed: 15.74 m3 per 10^4 yuan of industrial value added in 2020, 38.2% below 2015.
    # 2015 intensity implied: 15.74 / (1 - 0.382) = 25.4693 m3; 2015 uses 25.4693e8 m3 of
    # water for 1e8 (10^4 yuan) of value added, 2020 15.74e8 m3 for the same.
    water = pd.DataFrame({"region": ["150000", "150000"], "year": [2015, 2020],
                          "water_m3": [25.4693e8, 15.74e8],
                          "industrial_value_added_10k_yuan": [1e8, 1e8]})
    out = water_intensity(water)
    assert out["water_m3_per_10k_yuan"].tolist() == pytest.approx([25.4693, 15.74])
    assert out["change_vs_base"].iloc[1] == pytest.approx(-0.382, abs=5e-6)


def test_green_registry_counts_and_trend() -> None:
    # Seed: 102 green factories, 31 products, 4 supply chains, 15 parks, 23 standards
    # (3 national). Listed over 2017-2020 here.
    seeds = {"green_factory": 102, "green_product": 31, "green_supply_chain": 4,
             "green_park": 15, "standard": 23}
    rows = []
    for category, count in seeds.items():
        for i in range(count):
            rows.append({"category": category, "name": f"{category}-{i}", "region": "150000",
                         "year_listed": 2017 + i % 4,
                         "level": "national" if category == "standard" and i < 3 else ""})
    registry = pd.DataFrame(rows)
    counts = green_registry_counts(registry).set_index("category")
    assert counts["count"].to_dict() == seeds
    assert counts.loc["standard", "national"] == 3
    # 102 factories at i % 4 == 0 -> 2017 gets i = 0, 4, ..., 100: 26 listings.
    trend = green_registry_trend(registry)
    factories = trend[trend["category"] == "green_factory"].set_index("year")
    assert factories.loc[2017, "new"] == 26
    assert factories.loc[2020, "cumulative"] == 102
    assert green_registry_counts(registry, year=2017).set_index("category").loc[
        "green_factory", "count"] == 26
    with pytest.raises(InputError):
        green_registry_counts(registry.assign(category="green_bank"))


def test_rating_is_never_nan() -> None:
    rows = [account("150100", 2018, 1000.0, 1000.0), account("150100", 2019, 900.0, 1000.0)]
    result = progress(pd.DataFrame(rows), year=2019, target_table=ONE_YEAR)
    assert all(isinstance(r, str) for r in result["rating"])
    assert not any(isinstance(v, float) and math.isnan(v) for v in result["rating"])


# ----------------------------------------------------------------------- command line


def test_assess_command_json_and_table(tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from dualcontrol.cli import app

    # Two leagues with the shipped demo targets (14th plan); Alxa lacks 1-9 2024.
    rows = []
    for code in ("150600", "152900"):
        for year, energy in ((2020, 1000.0), (2023, 900.0), (2024, 880.0)):
            rows.append(account(code, year, energy, 1000.0))
        rows.append(account(code, 2023, 700.0, 750.0, period="2023-Q3"))
    rows.append(account("150600", 2024, 690.0, 780.0, period="2024-Q3"))
    path = tmp_path / "accounts.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    runner = CliRunner()
    result = runner.invoke(app, ["assess", "--data", str(path), "--period", "2024-Q3",
                                 "--level", "league", "--gdp-growth", "0.05", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == 6  # two leagues x three indicators
    for record in records:
        assert {"region", "indicator", "value", "requirement", "rating"} <= set(record)
        assert record["rating"] in {"red", "yellow", "green", "exempt", "no_data"}
    alxa = [r for r in records if r["region_code"] == "152900"]
    assert {r["rating"] for r in alxa} == {"no_data"}
    # Ordos 1-9 2024: the chained estimate of the quarter test, reduction 0.1469780;
    # demo target -16% (illustrative): 0.16 x 4/5 = 0.128 required (linear): green.
    ordos = next(r for r in records
                 if r["region_code"] == "150600" and r["indicator"] == "energy_intensity")
    assert ordos["value"] == pytest.approx(0.1469780, abs=1e-7)
    assert ordos["requirement"] == pytest.approx(0.128, abs=1e-12)
    assert ordos["rating"] == "green"
    # Its incentive target (-18%) requires 0.18 x 4/5 = 0.144 <= 0.1469780: the total is
    # exempt (发改环资〔2021〕1310号).
    total = next(r for r in records
                 if r["region_code"] == "150600" and r["indicator"] == "energy_total")
    assert (total["rating"], total["rule_id"]) == ("exempt", "incentive_exemption_2021")
    assert "budget_this_year_tce" in ordos and ordos["binding_this_year"] in {"intensity",
                                                                             "total"}
    table = runner.invoke(app, ["assess", "--data", str(path), "--year", "2024"])
    assert table.exit_code == 0, table.output
    assert "Barometer 2024" in table.stdout and "budget" in table.stdout
    bad = runner.invoke(app, ["assess", "--data", str(tmp_path / "missing.csv")])
    assert bad.exit_code == 2


def test_renewable_increment_of_a_quarter_without_base_quarter_is_pro_rated() -> None:
    # 2020 has only its annual renewable figure (100 tce); 1-9 2022 uses 90 tce. The
    # base for 9 months is 100 x 9 / 12 = 75, so 15 tce are deducted from the total.
    # With a 1-9 2020 row of 80 tce, the deduction is 90 - 80 = 10.
    rows = [account("150100", 2020, 1000.0, 1000.0, renewable=100.0),
            account("150100", 2022, 800.0, 800.0, period="2022-Q3", renewable=90.0)]
    ruled = apply_exclusions(prepare_accounts(pd.DataFrame(rows)), 2022)
    assert ruled["renewable_increment_deducted_tce"].tolist() == pytest.approx([0.0, 15.0])
    rows.append(account("150100", 2020, 700.0, 700.0, period="2020-Q3", renewable=80.0))
    ruled = apply_exclusions(prepare_accounts(pd.DataFrame(rows)), 2022)
    assert ruled["renewable_increment_deducted_tce"].iloc[1] == pytest.approx(10.0)
    assert ruled["energy_for_total_tce"].iloc[1] == pytest.approx(800.0 - 10.0)


# ----------------------------------------------------------------------- incentive exemption


def incentive_plan(code: str) -> pd.DataFrame:
    binding = target_rows(code, "14th", 2020, 2025, energy_intensity_reduction=0.15,
                          energy_total_increment_tce=100)
    incentive = [{**r, "kind": "incentive"}
                 for r in target_rows(code, "14th", 2020, 2025, energy_intensity_reduction=0.17)]
    return table(binding, incentive)


@pytest.mark.parametrize(("energy_2022", "total_rating"), [
    # 2022 (k = 2 of 5): binding requires 0.15 x 2/5 = 0.06, incentive 0.17 x 2/5 = 0.068.
    # GDP 2022 = 1200 and 2020 = 1000 at intensity 1.0; the total allowed is
    # 1000 + 100 x 2/5 = 1040 tce, so every case below is over its total path.
    (1116.0, "exempt"),   # intensity 0.93: reduction 0.07 >= 0.068: total exempt
    (1118.4, "exempt"),   # 0.932: reduction exactly 0.068
    (1119.6, "red"),      # 0.933: 0.067 < 0.068: total assessed, 79.6 over an increment of 40
])
def test_total_exempt_when_the_incentive_intensity_target_is_met(
        energy_2022: float, total_rating: str) -> None:
    rows = [account("150700", 2020, 1000.0, 1000.0), account("150700", 2021, 1100.0, 1100.0),
            account("150700", 2022, energy_2022, 1200.0)]
    result = progress(pd.DataFrame(rows), year=2022, target_table=incentive_plan("150700"))
    total = one(result, "150700", "energy_total")
    assert total["rating"] == total_rating
    assert one(result, "150700", "energy_intensity")["rating"] == "green"
    if total_rating == "exempt":
        assert "1310" in total["note"]


def test_no_exemption_outside_the_rule_years() -> None:
    # 2019 lies before the rule (2021-2025): a 13th-plan incentive does not exempt.
    binding = target_rows("150700", "13th", 2015, 2020, energy_intensity_reduction=0.15,
                          energy_total_increment_tce=10)
    incentive = [{**r, "kind": "incentive"} for r in
                 target_rows("150700", "13th", 2015, 2020, energy_intensity_reduction=0.16)]
    rows = [account("150700", 2015, 1000.0, 1000.0), account("150700", 2019, 1100.0, 2000.0)]
    result = progress(pd.DataFrame(rows), year=2019, target_table=table(binding, incentive))
    assert one(result, "150700", "energy_total")["rating"] == "red"


def test_2026_is_assessed_on_the_15th_plan_co2_target() -> None:
    # China 2025: CO2 2000 t over GDP 1000 = 2.0; 2026: 1900 / 1050 = 1.809524, a cut of
    # 0.095238. The 15th plan's -17% (targets.csv, base 2025) requires 0.17 x 1/5 = 0.034
    # after one year on the linear path: green. Inner Mongolia's own 15th-plan figure is
    # not published: no target, and the note says which document was read.
    rows = [account(c, y, 1000.0, gdp, co2=co2) for c in ("100000", "150000")
            for y, gdp, co2 in ((2025, 1000.0, 2000.0), (2026, 1050.0, 1900.0))]
    result = progress(pd.DataFrame(rows), year=2026, target_table=targets())
    national = one(result, "100000", "co2_intensity")
    assert (national["plan"], national["kind"]) == ("15th", "binding")
    assert national["value"] == pytest.approx(1 - (1900 / 1050) / 2.0, abs=1e-12)
    assert national["requirement"] == pytest.approx(0.034, abs=1e-12)
    assert (national["rating"], national["progress_rule"]) == ("green", "linear_15th")
    region = one(result, "150000", "co2_intensity")
    assert region["rating"] == "no_target"
    assert "not published" in region["note"] and "内政发〔2026〕5号" in region["note"]
    # With the demo's targets (the default), the region is rated on the demo's
    # illustrative -17%: requirement 0.034, cut 0.095238: green.
    demo = one(progress(pd.DataFrame(rows), year=2026), "150000", "co2_intensity")
    assert (demo["rating"], demo["requirement"]) == ("green", pytest.approx(0.034, abs=1e-12))
