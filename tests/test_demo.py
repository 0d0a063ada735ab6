"""Tests of the demo dataset: determinism, size, and calibration to published figures."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from dualcontrol.accounting import accounts
from dualcontrol.demo import YEARS, energy_targets_10k_tce, gdp_series, generate, serve_dashboard
from dualcontrol.reference import factor_years
from dualcontrol.regions import is_valid_uscc


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate(2025)


def _digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy()).hexdigest()


def test_same_seed_same_data(tables: dict[str, pd.DataFrame]) -> None:
    again = generate(2025)
    assert _digest(again["energy"]) == _digest(tables["energy"])
    assert _digest(generate(7)["energy"].head(1000)) != _digest(tables["energy"].head(1000))


def test_size_and_codes(tables: dict[str, pd.DataFrame]) -> None:
    ent = tables["enterprises"]
    assert 1900 <= len(ent) <= 2100
    assert ent["uscc"].map(is_valid_uscc).all()
    assert ent["county_code"].str[:4].nunique() == 12  # every league has enterprises
    periods = tables["energy"]["period"]
    # complete years 2015-2025 and the year to date of December 2026 (January-October)
    assert (periods.min(), periods.max()) == ("2015-01", "2026-10")


def test_energy_totals_match_calibration_through_the_accounting_core(
        tables: dict[str, pd.DataFrame]) -> None:
    energy = tables["energy"].copy()
    energy = energy[energy["period"].str[:4].astype(int) <= YEARS[-1]]  # complete years
    energy["year"] = energy["period"].str[:4]
    yearly = (energy.groupby(["year", "carrier", "unit", "use", "origin"], as_index=False)
              ["quantity"].sum())
    rows = yearly.rename(columns={"year": "period"}).assign(enterprise="all", region="150000")
    # the first year of a chained index has no previous year: 100 is neutral there
    gdp = gdp_series().assign(area="150000").fillna({"gdp_index_prev_year_100": 100.0})
    with factor_years("nearest"):  # the demo's years reach beyond the published factors
        result = accounts(rows, gdp, level="region", grain="year",
                          base_year=2015).set_index("year")
    targets = energy_targets_10k_tce()
    for year in YEARS:
        # quantities are rounded to 0.001 of their unit: the totals agree to 1e-6
        assert result.at[year, "energy_tce"] / 1e4 == pytest.approx(targets[year], rel=1e-6)
    # published: 2019 = 2015 + 6,562 10^4 tce (NDRC interview, 2020-09-18)
    assert (result.at[2019, "energy_tce"] - result.at[2015, "energy_tce"]) / 1e4 == \
        pytest.approx(6562, rel=1e-6)
    # published: 2020 total consumption +7.1% (NBS/NDRC/NEA bulletin, 2021-08-23)
    assert result.at[2020, "energy_tce"] / result.at[2019, "energy_tce"] == \
        pytest.approx(1.071, rel=1e-6)
    # published: intensity +9.5% in 2015-2019; the demo's GDP indices are from memory,
    # so a few percent of the change are allowed (it gives about +9.0%)
    change = (result.at[2019, "intensity_tce_per_10k_yuan"]
              / result.at[2015, "intensity_tce_per_10k_yuan"] - 1)
    assert change == pytest.approx(0.095, abs=0.01)
    # published GDP, current prices [10^8 yuan]: 2020 17,359.8; 2021 20,514.2; 2023 24,627
    for year, value in ((2020, 17359.8), (2021, 20514.2), (2023, 24627.0)):
        assert result.at[year, "gdp_current_10k_yuan"] / 1e4 == pytest.approx(value, rel=1e-6)


def test_water_and_registry_reproduce_the_13th_plan_review(
        tables: dict[str, pd.DataFrame]) -> None:
    water = tables["water"].assign(year=lambda f: f["period"].str[:4].astype(int))
    by_year = water.groupby("year")["withdrawal_m3"].sum()
    econ = tables["economic"]
    total = econ[(econ["region_code"] == "150000") & (econ["sector"] == "total")
                 & (econ["period"].str.len() == 4)]
    va = total.set_index(total["period"].astype(int))["industrial_va_current_10k_yuan"]
    intensity = by_year / va
    # published: 15.74 m3 per 10^4 yuan industrial value added in 2020, 38.2% below 2015
    assert intensity[2020] == pytest.approx(15.74, rel=1e-3)
    assert 1 - intensity[2020] / intensity[2015] == pytest.approx(0.382, rel=1e-3)
    counts = tables["green_registry"]["category"].value_counts()
    assert counts.to_dict() == {"factory": 102, "product": 31, "standard": 23, "park": 15,
                                "supply_chain": 4}


def test_serve_hook_is_skipped_without_web_module(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    def missing(name: str) -> None:
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(importlib, "import_module", missing)
    assert serve_dashboard("duckdb:///unused.duckdb") is False
