"""Tests of dualcontrol.benchmarking: classes at every boundary, savings by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualcontrol import benchmarking as bm
from dualcontrol.errors import InputError
from dualcontrol.reference import load_table

# Raw coal's CO2 per tce, by hand from the inputs of carriers.csv:
# NCV 20.908 GJ/t and 0.7143 tce/t (GB/T 2589 Appendix A, 5000 kcal/kg),
# 94,600 kg CO2/TJ (IPCC 2006 Vol.2 Ch.2 Table 2.2, other bituminous coal), OF = 1.
# 20.908 GJ/t * 94,600 kg/TJ / 1e6 = 1.9778968 t CO2/t; / 0.7143 tce/t = 2.76900 t/tce.
COAL_CO2_PER_TCE = 20.908 * 94600 / 1e6 / 0.7143


def unit(**kw: object) -> dict[str, object]:
    base: dict[str, object] = dict(
        unit_id="u", enterprise_code="911500", enterprise_name="Test Alloy Co.",
        region="Wulanchabu", industry="ferroalloy", product="ferrosilicon", year=2022,
        capacity=12_000, capacity_unit="t/a", output=10_000, output_unit="t",
        energy_tce=17_700)
    base.update(kw)
    return base


def run(*rows: dict[str, object]) -> pd.DataFrame:
    return bm.benchmark_units(pd.DataFrame(list(rows)))


# --- the pure classifier ----------------------------------------------------------------

# Ferrosilicon, NDRC 2021 edition: benchmark 1770, baseline 1900 kgce/t.
@pytest.mark.parametrize(("u", "expected"), [
    (1769.9, "benchmark"),
    (1770.0, "benchmark"),       # exactly on the benchmark counts as at the benchmark
    (1770.0 * (1 + 1e-13), "benchmark"),  # float round-off within RELATIVE_TOLERANCE
    (1770.1, "between"),
    (1899.9, "between"),
    (1900.0, "between"),         # exactly on the baseline is not below it
    (1900.1, "below_baseline"),
])
def test_classify_boundaries_positive_levels(u: float, expected: str) -> None:
    assert bm.classify(u, 1770, 1900) == expected


# Converter (BOF) process: benchmark -30, baseline -10 kgce/t; GB 21256-2025 limit -12.
@pytest.mark.parametrize(("u", "limit", "expected"), [
    (-30.1, None, "benchmark"),
    (-30.0, None, "benchmark"),
    (-29.9, None, "between"),
    (-10.0, None, "between"),
    (-9.9, None, "below_baseline"),
    (-12.0, -12.0, "between"),   # on the limit: not beyond it
    (-11.9, -12.0, "below_limit"),  # limit stricter than the baseline applies first
    (5.0, -12.0, "below_limit"),
])
def test_classify_boundaries_negative_levels(u: float, limit: float | None,
                                             expected: str) -> None:
    assert bm.classify(u, -30, -10, limit) == expected


@pytest.mark.parametrize(("u", "expected"), [
    (1850.0, "between"), (1850.1, "below_baseline"), (1980.0, "below_baseline"),
    (1980.1, "below_limit"),
])
def test_classify_limit_worse_than_baseline(u: float, expected: str) -> None:
    # ferrosilicon 2023 levels with the GB 21341-2008 limit of 1980 kgce/t (iepd table)
    assert bm.classify(u, 1770, 1850, 1980) == expected


def test_classify_rejects_benchmark_worse_than_baseline() -> None:
    with pytest.raises(ValueError, match="benchmark"):
        bm.classify(1.0, 10, 5)


@given(st.floats(-1e5, 1e5), st.floats(-1e4, 1e4), st.floats(0, 1e4))
def test_classify_is_monotone(u: float, bench: float, gap: float) -> None:
    """A unit that uses more energy is never in a better class."""
    order = {c: i for i, c in enumerate(bm.CLASSES)}
    worse = u + 1.0
    assert order[bm.classify(worse, bench, bench + gap)] >= order[
        bm.classify(u, bench, bench + gap)]


# --- units through the whole pipeline -----------------------------------------------

@pytest.mark.parametrize(("energy_tce", "expected"), [
    # u = energy_tce * 1000 kgce/tce / 10,000 t
    (17_700, "benchmark"),       # 1770.0
    (17_701, "between"),         # 1770.1
    (19_000, "between"),         # 1900.0
    (19_001, "below_baseline"),  # 1900.1
])
def test_ferrosilicon_2022_classes(energy_tce: float, expected: str) -> None:
    out = run(unit(energy_tce=energy_tce))
    assert out.loc[0, "unit_consumption"] == pytest.approx(energy_tce * 1000 / 10_000)
    assert out.loc[0, "class"] == expected
    assert out.loc[0, "level_set"] == "NDRC-2021"
    assert out.loc[0, "upgrade_deadline"] == "2025-12-31"


def test_year_selects_edition() -> None:
    # 2023 edition: ferrosilicon baseline 1850 (50 lower than 2021), so 1860 kgce/t
    # is 'between' in 2022 and worse than baseline in 2023 - where the GB 21341 limit
    # (1850, in force from 2023 in the table) makes it 'below_limit'.
    out = run(unit(year=2022, energy_tce=18_600), unit(year=2023, energy_tce=18_600))
    assert list(out["level_set"]) == ["NDRC-2021", "NDRC-2023"]
    assert list(out["class"]) == ["between", "below_limit"]


def test_blast_furnace_limit_stricter_than_baseline() -> None:
    # BF benchmark 361, baseline 435 (NDRC); GB 21256-2025 limit 415 from 2027.
    # output 1,000,000 t hot metal; u = energy_tce * 1000 / 1e6 = energy_tce / 1000.
    rows = [unit(unit_id=str(e), product="blast_furnace", industry="steel", year=2027,
                 output=1_000_000, energy_tce=e) for e in (361_000, 361_001, 415_000, 415_001)]
    out = run(*rows)
    assert list(out["class"]) == ["benchmark", "between", "between", "below_limit"]
    # in 2026 the 2025 standard is not yet in force for a full year: no limit applies
    out26 = run(unit(product="blast_furnace", industry="steel", year=2026,
                     output=1_000_000, energy_tce=420_000))
    assert out26.loc[0, "class"] == "between"
    assert math.isnan(out26.loc[0, "quota_limit"])


def test_savings_hand_computed_kgce() -> None:
    # ferrosilicon 2022, u = 1950 kgce/t, output 10,000 t:
    # to benchmark (1770): (1950 - 1770) * 10,000 / 1000 = 1,800 tce
    # to baseline  (1900): (1950 - 1900) * 10,000 / 1000 =   500 tce
    out = run(unit(energy_tce=19_500))
    assert out.loc[0, "savings_to_benchmark_tce"] == pytest.approx(1_800)
    assert out.loc[0, "savings_to_baseline_tce"] == pytest.approx(500)
    assert out.loc[0, "savings_to_benchmark_co2_t"] == pytest.approx(1_800 * COAL_CO2_PER_TCE)
    assert out.loc[0, "savings_to_baseline_co2_t"] == pytest.approx(500 * COAL_CO2_PER_TCE)
    assert bm.co2_per_tce()[0] == pytest.approx(2.76900, abs=5e-6)


def test_savings_negative_levels() -> None:
    # BOF, 2024: u = -20,000 tce * 1000 / 1,000,000 t = -20 kgce/t ('between').
    # to benchmark -30: (-20 - -30) = 10 kgce/t * 1e6 t / 1000 = 10,000 tce; baseline: 0.
    out = run(unit(product="bof_steelmaking", industry="steel", year=2024,
                   output=100, output_unit="10^4 t", energy_tce=-20_000))
    assert out.loc[0, "unit_consumption"] == pytest.approx(-20.0)
    assert out.loc[0, "class"] == "between"
    assert out.loc[0, "savings_to_benchmark_tce"] == pytest.approx(10_000)
    assert out.loc[0, "savings_to_baseline_tce"] == 0


def test_savings_electricity_level() -> None:
    # Electrolytic aluminium 2022: benchmark 13,000, baseline 13,350 kWh/t; 2022 has no
    # quota in force in the table (GB 21346-2022 from 2023).
    # 100,000 t, 1.34e9 kWh -> 13,400 kWh/t ('below_baseline').
    # to benchmark: 400 kWh/t * 1e5 t = 4e7 kWh * 0.1229 kgce/kWh (GB/T 2589 calorific)
    #   = 4,916 tce; CO2 = 4e7 kWh * 0.6849 kg/kWh (MEE/NBS 2022 Inner Mongolia) = 27,396 t
    # to baseline: 50 kWh/t * 1e5 t = 5e6 kWh -> 614.5 tce; 3,424.5 t CO2
    out = run(unit(product="electrolytic_aluminium", industry="nonferrous", year=2022,
                   output=100_000, energy_tce=0, electricity_kwh=1.34e9))
    assert out.loc[0, "class"] == "below_baseline"
    assert out.loc[0, "savings_to_benchmark_tce"] == pytest.approx(4_916)
    assert out.loc[0, "savings_to_benchmark_co2_t"] == pytest.approx(27_396)
    assert out.loc[0, "savings_to_baseline_tce"] == pytest.approx(614.5)
    assert out.loc[0, "savings_to_baseline_co2_t"] == pytest.approx(3_424.5)


def test_coal_power_gce_per_kwh() -> None:
    # 1.5e6 tce for 5e9 kWh supplied: 1.5e6 * 1e6 gce / 5e9 kWh = 300 gce/kWh
    out = run(unit(product="coal_power", industry="power", output=5e9, output_unit="kWh",
                   energy_tce=1.5e6, capacity=1.2e6, capacity_unit="kW"))
    assert out.loc[0, "unit_consumption"] == pytest.approx(300)
    assert out.loc[0, "class"] == "between"
    # to the 270 benchmark: 30 gce/kWh * 5e9 kWh / 1e6 = 150,000 tce
    assert out.loc[0, "savings_to_benchmark_tce"] == pytest.approx(150_000)


def test_shares_front_runners_and_totals() -> None:
    rows = [
        unit(unit_id="a", capacity=10_000, output=8_000, energy_tce=8_000 * 1.7),   # 1700
        unit(unit_id="b", capacity=30_000, output=20_000, energy_tce=20_000 * 1.8),  # 1800
        unit(unit_id="c", capacity=60_000, output=40_000, energy_tce=40_000 * 1.95,
             region="Ordos"),  # 1950
    ]
    out = run(*rows)
    shares = bm.class_shares(out).set_index("class")
    # capacity 10k / 100k, 30k / 100k, 60k / 100k; output 8k / 68k, 20k / 68k, 40k / 68k
    assert shares.loc["benchmark", "capacity_share"] == pytest.approx(0.1)
    assert shares.loc["between", "capacity_share"] == pytest.approx(0.3)
    assert shares.loc["below_baseline", "capacity_share"] == pytest.approx(0.6)
    assert shares.loc["below_baseline", "output_share"] == pytest.approx(40 / 68)
    by_region = bm.class_shares(out, by=("region",))
    assert set(by_region["region"]) == {"Wulanchabu", "Ordos"}
    assert by_region.groupby("region")["capacity_share"].sum().tolist() == pytest.approx([1, 1])
    front = bm.front_runners(out)
    assert list(front["unit_id"]) == ["a"]
    assert front.loc[0, "margin_to_benchmark"] == pytest.approx(70)
    sav = bm.savings_potential(out).set_index("industry")
    # b: (1800-1770)*20,000/1000 = 600; c: (1950-1770)*40,000/1000 = 7,200 -> 7,800 tce
    # to baseline: only c, (1950-1900)*40,000/1000 = 2,000 tce
    assert sav.loc["total", "savings_to_benchmark_tce"] == pytest.approx(7_800)
    assert sav.loc["total", "savings_to_baseline_tce"] == pytest.approx(2_000)
    assert sav.loc["total", "units_worse_than_benchmark"] == 2


@given(st.lists(st.floats(1000, 3000), min_size=1, max_size=8))
def test_shares_sum_to_one(consumptions: list[float]) -> None:
    rows = [unit(unit_id=str(i), energy_tce=c * 10) for i, c in enumerate(consumptions)]
    shares = bm.class_shares(run(*rows))
    assert shares["capacity_share"].sum() == pytest.approx(1)
    assert shares["output_share"].sum() == pytest.approx(1)


# --- bad input ------------------------------------------------------------------------

def test_unknown_product_names_supported() -> None:
    with pytest.raises(InputError) as err:
        run(unit(product="unobtainium"))
    problem = err.value.problems[0]
    assert problem.field == "product" and problem.row == 2
    assert "ferrosilicon" in problem.accepted and "cement_clinker" in problem.accepted


def test_known_product_without_levels_says_why() -> None:
    with pytest.raises(InputError, match="NOT FOUND"):
        run(unit(product="pvc_carbide"))


@pytest.mark.parametrize("output", [0, -5, "n/a"])
def test_output_must_be_positive(output: object) -> None:
    with pytest.raises(InputError) as err:
        run(unit(output=output))
    assert err.value.problems[0].field == "output"


def test_output_unit_must_match_level() -> None:
    with pytest.raises(InputError) as err:
        run(unit(output_unit="kWh"))
    assert err.value.problems[0].field == "output_unit"
    assert "t" in err.value.problems[0].accepted


def test_aluminium_needs_electricity() -> None:
    with pytest.raises(InputError) as err:
        run(unit(product="electrolytic_aluminium", output=1000))
    assert err.value.problems[0].field == "electricity_kwh"


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(InputError) as err:
        run(unit(output=0), unit(product="nope"), unit())
    assert [p.row for p in err.value.problems] == [2, 3]


def test_missing_column() -> None:
    with pytest.raises(InputError, match="energy_tce"):
        bm.benchmark_units(pd.DataFrame([unit()]).drop(columns=["energy_tce"]))


# --- reference data -------------------------------------------------------------------

def test_levels_data_consistent() -> None:
    for level in bm.levels():
        assert level.benchmark <= level.baseline, level.product
        assert level.source and level.edition
    table = load_table("efficiency-levels")
    assert set(table["verified"]) <= {"true", "false"}
    required = {"coal_power", "cement_clinker", "ferrosilicon", "silicomanganese",
                "hc_ferrochrome", "caustic_soda_liquid_30", "calcium_carbide", "coke_top_charged",
                "coal_to_methanol", "coal_to_olefins", "coal_to_ethylene_glycol",
                "ammonia_pulverised_coal", "electrolytic_aluminium", "blast_furnace",
                "bof_steelmaking", "flat_glass_gt800"}
    assert required <= set(bm.supported_products())
    for quota in bm._quotas():
        assert quota.advanced <= quota.access <= quota.limit, quota.product
    products = set(load_table("product-carriers")["product"])
    assert set(bm.supported_products()) <= products
    assert np.isfinite([lv.numerator_scale for lv in bm.levels()]).all()
