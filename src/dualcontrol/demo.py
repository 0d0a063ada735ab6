"""A deterministic, realistic Inner Mongolia dataset for the demo (the main job).

``build_demo(seed)`` fills the store with the 12 leagues and cities and their 103
banners and counties (GB/T 2260), industrial parks, about 2,000 enterprises in the
region's key industries with production units, monthly energy reports by carrier
2015-2025 and January-October 2026 (the year to date, :data:`YTD_YEAR`), output, water
use (complete years), yearly and year-to-date quarterly GDP (periods ``YYYY-Qn``) and
the green-manufacturing registry.

The enterprises are synthetic; the totals are calibrated to the figures of
``data/demo_calibration.csv``: every year's regional energy total (as the accounting
core computes it, calorific method) equals the calibration series, GDP equals the
published series, and the 2020 industrial water intensity and the 13th-plan green
registry counts are reproduced. Several calibration values are estimates (``verified``
false in the file: the 2015 and 2019 energy totals are derived from an NDRC interview,
not read as published totals); :func:`calibration_report` prints each with its source.
The industry profiles (``data/demo_industries.csv``) are synthetic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dualcontrol.datasets import DEMO_USER, green_registry, region_accounts, water_use
from dualcontrol.demo_pipeline import load_demo_projects
from dualcontrol.errors import DualControlError
from dualcontrol.ingest import bulk_insert, load_frame
from dualcontrol.reference import carriers, load_table, units
from dualcontrol.regions import counties, make_uscc
from dualcontrol.store import Store, open_store, schema
from dualcontrol.store.audit import seal_pending

logger = logging.getLogger(__name__)

YEARS = tuple(range(2015, 2026))
#: The current, incomplete year and its last reported month: the demo's year to date
#: (December 2026: January-October reported).
YTD_YEAR, YTD_MONTHS = 2026, 10

#: Units the demo reports each carrier in (as enterprises fill in form 205-1).
REPORT_UNIT = {"electricity": "10^4 kWh", "natural_gas": "10^4 m3", "heat": "GJ"}

#: Where each industry tends to be (league codes with extra weight), else GDP share.
LOCATION = {
    "coal_power": {"150600": 4, "152500": 2, "150700": 1.5, "150500": 1.5},
    "coal_chemical": {"150600": 6, "150300": 2, "152900": 1.5},
    "ferroalloy": {"150900": 5, "150300": 3, "150200": 2, "150600": 1.5},
    "cement": {},
    "pvc_caustic": {"150300": 5, "150600": 3, "152900": 2},
    "aluminium": {"150200": 4, "150500": 3, "150700": 1.5},
    "steel": {"150200": 8},
    "polysilicon": {"150200": 5, "150600": 2, "150100": 2},
    "data_centre": {"150900": 4, "150100": 4, "150600": 1},
    "others": {},
}


@dataclass
class DemoSummary:
    """What :func:`build_demo` did."""

    url: str
    seconds: float
    enterprises: int
    energy_rows: int
    latest_year: int
    calibration: pd.DataFrame
    reused: bool = False


def _calibration() -> pd.DataFrame:
    frame = load_table("demo-calibration").copy()
    frame["year"] = frame["year"].astype(int)
    frame["value"] = frame["value"].astype(float)
    return frame


def _cal(frame: pd.DataFrame, indicator: str, area: str = "150000") -> dict[int, float]:
    rows = frame[(frame["indicator"] == indicator) & (frame["area"] == area)]
    return dict(zip(rows["year"], rows["value"], strict=True))


def energy_targets_10k_tce() -> dict[int, float]:
    """Return the regional energy total of each demo year [10^4 tce].

    2015 and 2019 from the calibration file; 2016-2018 geometric interpolation;
    2020-2026 by the yearly growth rates of the file (2026: the whole year's total, of
    which January to :data:`YTD_MONTHS` are generated).
    """
    cal = _calibration()
    total = _cal(cal, "energy_total")
    growth = _cal(cal, "energy_growth")
    step = (total[2019] / total[2015]) ** (1 / 4)
    out = {y: total[2015] * step ** (y - 2015) for y in range(2015, 2020)}
    out[2019] = total[2019]
    for year in range(2020, YTD_YEAR + 1):
        out[year] = out[year - 1] * (1 + growth[year] / 100)
    return out


def gdp_series() -> pd.DataFrame:
    """Return regional GDP by year: current prices [10^4 yuan] and index (prev. year = 100).

    2015-2016 current-price GDP is back-cast from 2017 with the volume index and the
    assumed deflator of the calibration file.
    """
    cal = _calibration()
    current = {y: v * 1e4 for y, v in _cal(cal, "gdp_current").items()}
    index = _cal(cal, "gdp_index")
    deflator = _cal(cal, "gdp_deflator_backcast")[2016] / 100
    for year in (2016, 2015):
        current[year] = current[year + 1] / (index[year + 1] / 100) / deflator
    return pd.DataFrame({"year": list(YEARS),
                         "gdp_current_10k_yuan": [current[y] for y in YEARS],
                         "gdp_index_prev_year_100": [index.get(y, np.nan) for y in YEARS]})


def _league_shares() -> pd.Series:
    cal = _calibration()
    rows = cal[(cal["indicator"] == "gdp_current") & (cal["area"] != "150000")
               & (cal["year"] == 2023)]
    shares = pd.Series(rows["value"].to_numpy(), index=rows["area"].to_numpy())
    return shares / shares.sum()


def _industries() -> pd.DataFrame:
    frame = load_table("demo-industries").copy()
    for col in ("enterprises", "first_year_max"):
        frame[col] = frame[col].astype(int)
    for col in ("energy_share_2015", "growth_per_year", "tce_per_output", "unit_spread",
                "water_m3_per_tce"):
        frame[col] = frame[col].astype(float)
    return frame


def _mix(text: str) -> list[tuple[str, str, str, float]]:
    out = []
    for part in text.split("|"):
        carrier, use, origin, share = part.split(":")
        out.append((carrier, use, origin, float(share)))
    return out


def generate(seed: int = 2025) -> dict[str, pd.DataFrame]:
    """Return the demo tables as DataFrames (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    ind = _industries()
    county = counties()
    league_share = _league_shares()
    county_league = county["league_code"].to_numpy()

    # parks: one or two per league in its most industrial counties
    park_rows = []
    for code, group in county.groupby("league_code"):
        n = 2 if league_share[code] > 0.05 else 1
        for i, row in enumerate(group.sample(n=min(n, len(group)),
                                             random_state=seed % 2**31).itertuples()):
            park_rows.append({"code": f"{row.code}-P{i + 1}",
                              "name_zh": f"{row.name_zh}工业园区",
                              "name_en": f"{row.name_en} Industrial Park",
                              "county_code": row.code, "kind": "industrial"})
    parks = pd.DataFrame(park_rows)
    park_by_county = parks.groupby("county_code")["code"].first()

    ent_rows = []
    serial = 0
    for prof in ind.itertuples():
        weights = league_share.copy()
        for code, w in LOCATION[prof.industry].items():
            weights[code] *= w
        weights /= weights.sum()
        chosen = rng.choice(weights.index.to_numpy(), size=prof.enterprises,
                            p=weights.to_numpy())
        sizes = rng.lognormal(0.0, 1.0, prof.enterprises)
        for i, (league_code, size) in enumerate(zip(chosen, sizes, strict=True)):
            options = county["code"].to_numpy()[county_league == league_code]
            county_code = str(rng.choice(options))
            serial += 1
            in_park = county_code in park_by_county.index and rng.random() < 0.75
            start = int(rng.integers(2015, prof.first_year_max + 1)) if rng.random() < 0.3 \
                else 2015
            ent_rows.append({
                "uscc": make_uscc(county_code, 10_000_000 + serial),
                "name": f"{county.set_index('code').at[county_code, 'name_zh']}"
                        f"{prof.name_zh}企业{i + 1:04d}",
                "county_code": county_code,
                "park_code": park_by_county.get(county_code) if in_park else None,
                "industry": prof.industry, "size": size, "start_year": start,
            })
    ent = pd.DataFrame(ent_rows)

    # yearly energy [tce] per enterprise, industry totals following the shares; the
    # current year (YTD_YEAR) is drawn last with its own generator, so the complete
    # years do not move when it is added
    targets = energy_targets_10k_tce()
    years = np.array((*YEARS, YTD_YEAR))
    share = np.array([[p.energy_share_2015 * p.growth_per_year ** (y - 2015) for y in years]
                      for p in ind.itertuples()])
    share /= share.sum(axis=0)
    industry_index = {p.industry: i for i, p in enumerate(ind.itertuples())}
    ent_ind = ent["industry"].map(industry_index).to_numpy()
    active = (years[None, :] >= ent["start_year"].to_numpy()[:, None])
    weight = ent["size"].to_numpy()[:, None] * active
    sums = np.zeros((len(ind), len(years)))
    np.add.at(sums, ent_ind, weight)
    yearly_tce = weight / sums[ent_ind] * share[ent_ind] * np.array(
        [targets[y] * 1e4 for y in years])[None, :]

    # months: seasonal shape (heating in winter for 'others'), noise, exact yearly sums
    month = np.arange(12)
    heating = 1 + 0.35 * np.cos(2 * np.pi * month / 12)
    season = np.where((ent["industry"] == "others").to_numpy()[:, None], heating[None, :], 1.0)
    noise = rng.normal(1.0, 0.04, (len(ent), len(YEARS), 12))
    ytd_rng = np.random.default_rng([seed, YTD_YEAR])
    noise = np.concatenate([noise, ytd_rng.normal(1.0, 0.04, (len(ent), 1, 12))], axis=1)
    shape = season[:, None, :] * noise
    shape /= shape.sum(axis=2, keepdims=True)
    monthly = yearly_tce[:, :, None] * shape  # enterprise x year x month [tce]
    monthly[:, -1, YTD_MONTHS:] = 0.0  # the current year is reported to YTD_MONTHS

    # production units: each unit's consumption spreads lognormally around its profile's
    # median (own generator, so the energy, water and registry draws do not move)
    prof_by = ind.set_index("industry")
    unit_rng = np.random.default_rng([seed, 1])
    spec = ent["industry"].map(prof_by["tce_per_output"]).to_numpy() * unit_rng.lognormal(
        0.0, ent["industry"].map(prof_by["unit_spread"]).to_numpy())
    carrier_table = carriers()
    unit_table = units()
    # A coal plant's comprehensive consumption is its input less the electricity it sends
    # out (GB/T 2589-2020), so the calibrated total is net: input = net x s / (s - e),
    # sent out = input / s, with s its supply coal consumption [tce/MWh] and e the
    # electricity's calorific value [tce/MWh]; the region then counts the electricity
    # its customers buy once, and what it exports not at all.
    e_tce_per_mwh = carrier_table["electricity"].tce_per_unit * 1000.0
    power = (ent["industry"] == "coal_power").to_numpy()
    gross = np.where(power, spec / (spec - e_tce_per_mwh), 1.0)
    energy_parts = []
    e_idx, y_idx, m_idx = np.nonzero(monthly > 0)
    tce = monthly[e_idx, y_idx, m_idx]
    periods = np.array([f"{y}-{m + 1:02d}" for y in years for m in range(12)])
    period_of = periods[y_idx * 12 + m_idx]
    uscc = ent["uscc"].to_numpy()[e_idx]
    ind_of = ent["industry"].to_numpy()[e_idx]
    year_of = years[y_idx]
    consumed = tce * gross[e_idx]  # energy used before what is supplied is taken off
    for prof in ind.itertuples():
        mask = ind_of == prof.industry
        mix = _mix(prof.carrier_mix)
        renewable_extra = 1 + 0.08 * (year_of[mask] - 2015)
        for carrier, use, origin, frac in mix:
            fraction = frac * (renewable_extra if origin == "renewable" else 1.0)
            if carrier == "electricity" and origin == "purchased":
                green = sum(f for c, _, o, f in mix if c == "electricity" and o == "renewable")
                fraction = frac - green * (renewable_extra - 1)
            c = carrier_table[carrier]
            unit = REPORT_UNIT.get(carrier, c.unit)
            own, rep = unit_table[c.unit], unit_table[unit]
            quantity = consumed[mask] * fraction / c.tce_per_unit * own.to_base / rep.to_base
            energy_parts.append(pd.DataFrame({
                "enterprise_uscc": uscc[mask], "period": period_of[mask], "carrier": carrier,
                "quantity": np.round(quantity, 3), "unit": unit, "use": use,
                "origin": origin}))
    sent = power[e_idx]
    sent_kwh = consumed[sent] / spec[e_idx][sent] * 1000.0  # MWh -> kWh
    elec_unit = REPORT_UNIT["electricity"]
    energy_parts.append(pd.DataFrame({
        "enterprise_uscc": uscc[sent], "period": period_of[sent], "carrier": "electricity",
        "quantity": np.round(sent_kwh * unit_table["kWh"].to_base
                             / unit_table[elec_unit].to_base, 3),
        "unit": elec_unit, "use": "supplied", "origin": "self_produced"}))
    energy = pd.concat(energy_parts, ignore_index=True)
    energy = energy[energy["quantity"] > 0].sort_values(
        ["enterprise_uscc", "period", "carrier", "use", "origin"]).reset_index(drop=True)
    energy.insert(0, "line", np.arange(2, len(energy) + 2))

    # production units and output: output = energy consumed / unit consumption
    utilisation = rng.uniform(0.7, 0.92, len(ent))
    peak_year = yearly_tce[:, :len(YEARS)].max(axis=1) * gross
    unit_frame = pd.DataFrame({
        "enterprise_uscc": ent["uscc"], "unit_code": "U1", "industry": ent["industry"],
        "product": ent["industry"].map(prof_by["product"]),
        "capacity": np.round(peak_year / spec / utilisation, 1),
        "capacity_unit": ent["industry"].map(prof_by["capacity_unit"]),
        "start_year": ent["start_year"]})
    mw = unit_frame["capacity_unit"] == "MW"
    unit_frame.loc[mw, "capacity"] = np.round(unit_frame.loc[mw, "capacity"] / 8760 / 0.6, 1)
    output = pd.DataFrame({
        "enterprise_uscc": uscc, "period": period_of, "unit_code": "U1",
        "product": pd.Series(ind_of).map(prof_by["product"]).to_numpy(),
        "output": np.round(consumed / spec[e_idx] * _output_noise(rng, ytd_rng, year_of), 2),
        "output_unit": pd.Series(ind_of).map(prof_by["output_unit"]).to_numpy()})
    output.insert(0, "line", np.arange(2, len(output) + 2))

    # economic data: region and leagues, and industry value added
    gdp = gdp_series()
    cal = _calibration()
    va_share = float(_cal(cal, "industrial_va_share")[2015])
    econ_rows = []
    for row in gdp.itertuples():
        econ_rows.append({"region_code": "150000", "period": str(row.year), "sector": "total",
                          "gdp_current_10k_yuan": round(row.gdp_current_10k_yuan, 1),
                          "gdp_index_prev_year_100": row.gdp_index_prev_year_100,
                          "industrial_va_current_10k_yuan": round(
                              row.gdp_current_10k_yuan * va_share, 1)})
        for code, s in league_share.items():
            econ_rows.append({"region_code": code, "period": str(row.year), "sector": "total",
                              "gdp_current_10k_yuan": round(row.gdp_current_10k_yuan * s, 1),
                              "gdp_index_prev_year_100": row.gdp_index_prev_year_100,
                              "industrial_va_current_10k_yuan": round(
                                  row.gdp_current_10k_yuan * s * va_share, 1)})
        # industry value added: energy-intensive sectors produce less value per tce
        value_weight = share[:, row.year - 2015] / ind["tce_per_output"].clip(lower=0.3)
        value_weight /= value_weight.sum()
        for prof, w in zip(ind.itertuples(), value_weight, strict=True):
            econ_rows.append({"region_code": "150000", "period": str(row.year),
                              "sector": prof.industry,
                              "gdp_current_10k_yuan": round(
                                  row.gdp_current_10k_yuan * va_share * w, 1),
                              "gdp_index_prev_year_100": row.gdp_index_prev_year_100,
                              "industrial_va_current_10k_yuan": None})
    econ_rows += _ytd_gdp_rows(gdp, league_share, cal)
    econ = pd.DataFrame(econ_rows)
    econ.insert(0, "line", np.arange(2, len(econ) + 2))
    econ["gdp_index_prev_year_100"] = econ["gdp_index_prev_year_100"].astype(float)
    econ["industrial_va_current_10k_yuan"] = econ["industrial_va_current_10k_yuan"].astype(
        float)

    # water: industrial water intensity path x industrial value added, shared by energy
    w2020 = _cal(cal, "water_intensity_industrial")[2020]
    cut = _cal(cal, "water_intensity_reduction_2015_2020")[2020] / 100
    decline = _cal(cal, "water_intensity_decline")[2021] / 100
    w2015 = w2020 / (1 - cut)
    intensity = {y: w2015 * (w2020 / w2015) ** ((y - 2015) / 5) if y <= 2020
                 else w2020 * (1 - decline) ** (y - 2020) for y in YEARS}
    done = year_of != YTD_YEAR  # water use is yearly: the current year is not generated
    tce, ind_of, year_of, uscc, period_of = (tce[done], ind_of[done], year_of[done],
                                             uscc[done], period_of[done])
    water_weight = tce * pd.Series(ind_of).map(prof_by["water_m3_per_tce"]).to_numpy()
    year_totals = pd.Series(water_weight).groupby(year_of).transform("sum").to_numpy()
    va_by_year = dict(zip(gdp["year"], gdp["gdp_current_10k_yuan"] * va_share, strict=True))
    region_water = np.array([intensity[y] * va_by_year[y] for y in year_of])
    withdrawal = np.round(region_water * water_weight / year_totals, 1)
    water = pd.DataFrame({"enterprise_uscc": uscc, "period": period_of,
                          "withdrawal_m3": withdrawal,
                          "reused_m3": np.round(withdrawal * rng.uniform(0.5, 0.95, len(tce)), 1)})
    water.insert(0, "line", np.arange(2, len(water) + 2))

    registry = _green_registry(ent, parks, cal, rng)
    return {"parks": parks, "enterprises": ent, "production_units": unit_frame,
            "energy": energy, "output": output, "water": water, "economic": econ,
            "green_registry": registry}


def _output_noise(rng: np.random.Generator, ytd_rng: np.random.Generator,
                  year_of: np.ndarray) -> np.ndarray:
    """Return output noise: the complete years from ``rng`` (as before), the current
    year from its own generator."""
    noise = np.empty(len(year_of))
    current = year_of == YTD_YEAR
    noise[~current] = rng.normal(1.0, 0.02, int((~current).sum()))
    noise[current] = ytd_rng.normal(1.0, 0.02, int(current.sum()))
    return noise


def _ytd_gdp_rows(gdp: pd.DataFrame, league_share: pd.Series, cal: pd.DataFrame,
                  ) -> list[dict]:
    """Return cumulative quarterly GDP rows (periods ``YYYY-Qn``) of the region and leagues.

    Complete years: the year's GDP times the calibration's cumulative share of each
    quarter, growing at the year's index. The current year (:data:`YTD_YEAR`): the
    first three quarters, each the same quarter of the year before times the
    calibration's 2026 index and deflator. All demo assumptions (demo_calibration.csv).
    """
    shares = {q: float(_cal(cal, f"gdp_ytd_share_q{q}")[2015]) for q in (1, 2, 3)}
    index = float(_cal(cal, "gdp_index")[YTD_YEAR])
    deflator = float(_cal(cal, "gdp_deflator_ytd")[YTD_YEAR]) / 100
    areas = {"150000": 1.0, **league_share.to_dict()}
    rows = []
    last = gdp.set_index("year").loc[YEARS[-1], "gdp_current_10k_yuan"]
    for row in gdp.itertuples():
        for q, share in shares.items():
            for code, s in areas.items():
                rows.append({"region_code": code, "period": f"{row.year}-Q{q}",
                             "sector": "total",
                             "gdp_current_10k_yuan": round(row.gdp_current_10k_yuan * s * share,
                                                           1),
                             "gdp_index_prev_year_100": row.gdp_index_prev_year_100,
                             "industrial_va_current_10k_yuan": None})
    for q, share in shares.items():
        for code, s in areas.items():
            rows.append({"region_code": code, "period": f"{YTD_YEAR}-Q{q}", "sector": "total",
                         "gdp_current_10k_yuan": round(
                             last * s * share * index / 100 * deflator, 1),
                         "gdp_index_prev_year_100": index,
                         "industrial_va_current_10k_yuan": None})
    return rows


def _green_registry(ent: pd.DataFrame, parks: pd.DataFrame, cal: pd.DataFrame,
                    rng: np.random.Generator) -> pd.DataFrame:
    counts = {c: int(_cal(cal, f"green_{c}")[2020]) for c in
              ("factories", "products", "supply_chains", "parks", "standards")}
    national_standards = int(_cal(cal, "green_standards_national")[2020])
    source = "synthetic entry; count from Inner Mongolia DRC 13th-FYP review (2020-12)"
    rows = []
    big = ent[ent["industry"] != "others"].sample(counts["factories"], random_state=1)
    for i, e in enumerate(big.itertuples()):
        rows.append({"category": "factory", "name": f"{e.name}（绿色工厂）",
                     "enterprise_uscc": e.uscc, "region_code": e.county_code,
                     "level": "national" if i % 3 == 0 else "regional",
                     "batch_year": 2017 + i % 4, "source": source})
    for i, e in enumerate(big.head(counts["products"]).itertuples()):
        rows.append({"category": "product", "name": f"{e.industry} product {i + 1}",
                     "enterprise_uscc": e.uscc, "region_code": e.county_code,
                     "level": "national", "batch_year": 2018 + i % 3, "source": source})
    for i, e in enumerate(big.head(counts["supply_chains"]).itertuples()):
        rows.append({"category": "supply_chain", "name": f"{e.name} supply chain",
                     "enterprise_uscc": e.uscc, "region_code": e.county_code,
                     "level": "national", "batch_year": 2019 + i % 2, "source": source})
    chosen = parks.sample(min(counts["parks"], len(parks)), random_state=2)
    for i, p in enumerate(chosen.itertuples()):
        rows.append({"category": "park", "name": f"{p.name_zh}（绿色园区）",
                     "enterprise_uscc": None, "region_code": p.county_code,
                     "level": "national" if i < 5 else "regional",
                     "batch_year": 2017 + i % 4, "source": source})
    for i in range(counts["standards"]):
        rows.append({"category": "standard", "name": f"绿色制造标准 {i + 1}",
                     "enterprise_uscc": None, "region_code": "150000",
                     "level": "national" if i < national_standards else "regional",
                     "batch_year": 2018 + i % 3, "source": source})
    return pd.DataFrame(rows)


def _fingerprint(seed: int) -> str:
    """Return a hash of the demo's inputs: seed and the calibration and profile files."""
    digest = hashlib.sha256(f"demo seed={seed}".encode())
    for name in ("demo-calibration", "demo-industries", "regions"):
        digest.update(load_table(name).to_csv(index=False).encode())
    return digest.hexdigest()


class DemoStoreError(DualControlError, RuntimeError):
    """The store holds data the demo did not write, so the demo will not write into it."""


def non_demo_data(store: Store) -> str | None:
    """Return what the store holds that the demo did not write, or None.

    Demo data is marked by its submitter, :data:`DEMO_USER`; any submission by another
    user, or enterprises in a store without a demo submission, is someone's data.
    """
    subs = schema.submissions
    with store.connect() as conn:
        others = conn.execute(sa.select(subs.c.submitter, sa.func.count())
                              .where(subs.c.submitter != DEMO_USER)
                              .group_by(subs.c.submitter)
                              .order_by(sa.func.count().desc())).all()
        demo = conn.execute(sa.select(sa.func.count()).select_from(subs)
                            .where(subs.c.submitter == DEMO_USER)).scalar_one()
        enterprises = conn.execute(sa.select(sa.func.count())
                                   .select_from(schema.enterprises)).scalar_one()
    if others:
        total = sum(int(n) for _, n in others)
        names = ", ".join(f"{who} ({n})" for who, n in others[:5])
        plural = "s" if total != 1 else ""
        return f"{total} submission{plural} by users other than the demo: {names}"
    if not demo and enterprises:
        return f"{enterprises} enterprise(s) and no demo submission"
    return None


def build_demo(seed: int = 2025, url: str | None = None) -> DemoSummary:
    """Build the demo dataset in the store at ``url`` (default store) and return a summary.

    Re-running with the same seed on a store that has it changes nothing.

    Raises
    ------
    DemoStoreError
        If the store holds data the demo did not write (:func:`non_demo_data`): the
        demo writes about 1.2 million synthetic rows and regional GDP revisions.
    """
    started = time.perf_counter()
    store = open_store(url)
    try:
        found = non_demo_data(store)
        if found:
            shown = sa.make_url(store.url).render_as_string(hide_password=True)
            raise DemoStoreError(
                f"the store {shown} holds data the demo did not write ({found}); the demo "
                "writes about 1.2 million synthetic rows, so it runs only on an empty store "
                "or one only the demo wrote: point DUALCONTROL_DB (or DUALCONTROL_HOME) at "
                "another store, e.g. DUALCONTROL_DB=duckdb:///var/demo.duckdb")
        fingerprint = _fingerprint(seed)
        with store.connect() as conn:
            done = conn.execute(sa.select(sa.func.count()).select_from(schema.submissions)
                                .where(schema.submissions.c.content_sha256 == fingerprint)
                                ).scalar_one()
        if done:
            tables = None
            energy_count = int(store.read_sql("SELECT COUNT(*) AS n FROM energy_reports")
                               ["n"].iloc[0])
            enterprises = int(store.read_sql("SELECT COUNT(*) AS n FROM enterprises")
                              ["n"].iloc[0])
        else:
            tables = generate(seed)
            _load(store, tables, fingerprint, seed)
            energy_count = len(tables["energy"])
            enterprises = len(tables["enterprises"])
        from dualcontrol.demo_measures import load_demo_measures

        load_demo_measures(store, user=DEMO_USER)  # the 1+N+X registry (issue 22)
        load_demo_projects(store)  # the 2026 project pipeline (data/demo_projects.csv)
        calibration = calibration_report(store)
        return DemoSummary(url=store.url, seconds=time.perf_counter() - started,
                           enterprises=enterprises, energy_rows=energy_count,
                           latest_year=YEARS[-1], calibration=calibration,
                           reused=tables is None)
    finally:
        store.close()


def _load(store: Store, tables: dict[str, pd.DataFrame], fingerprint: str, seed: int) -> None:
    now = dt.datetime.now(dt.UTC)
    with store.begin() as conn:
        have = {r[0] for r in conn.execute(sa.select(schema.enterprises.c.uscc))}
        ent = tables["enterprises"]
        ent = ent[~ent["uscc"].isin(have)]
        have_parks = {r[0] for r in conn.execute(sa.select(schema.parks.c.code))}
        parks = tables["parks"][~tables["parks"]["code"].isin(have_parks)]
        bulk_insert(conn, store, schema.parks, parks)
        bulk_insert(conn, store, schema.enterprises, ent.assign(registered_at=now)[
            ["uscc", "name", "county_code", "park_code", "industry", "registered_at"]])
        units = tables["production_units"]
        units = units[units["enterprise_uscc"].isin(ent["uscc"])]
        if not units.empty:
            conn.execute(sa.text(
                "INSERT INTO production_units (enterprise_uscc, unit_code, industry, product, "
                "capacity, capacity_unit, start_year) VALUES (:enterprise_uscc, :unit_code, "
                ":industry, :product, :capacity, :capacity_unit, :start_year)"),
                units.to_dict("records")) if not store.is_duckdb else _duck_units(conn, units)
        if not conn.execute(sa.select(sa.func.count()).select_from(schema.green_registry)
                            ).scalar_one():
            conn.execute(schema.green_registry.insert(),
                         tables["green_registry"].astype(object).where(
                             tables["green_registry"].notna(), None).to_dict("records"))
        for kind in ("economic", "energy", "output", "water"):
            sid = int(conn.execute(schema.submissions.insert().values(
                kind=kind, file_name=f"demo seed={seed}", content_sha256=fingerprint,
                submitter=DEMO_USER, submitted_at=now, rows_read=len(tables[kind]),
                rows_rejected=0, revisions_created=0).returning(schema.submissions.c.id)
            ).scalar_one())
            revisions, _, _ = load_frame(conn, store, kind, tables[kind], submission_id=sid,
                                         user=DEMO_USER, now=now,
                                         file_name=f"demo seed={seed}")
            conn.execute(schema.submissions.update().where(schema.submissions.c.id == sid)
                         .values(revisions_created=revisions))
        conn.execute(schema.audit_log.insert().values(
            changed_at=now, username=DEMO_USER, action="load", entity="demo",
            entity_key=f"seed={seed}", before_json=None,
            after_json=f'{{"enterprises": {len(ent)}, "energy_rows": {len(tables["energy"])}}}',
            submission_id=None))
        seal_pending(conn)  # the demo's audit rows join the hash chain


def _duck_units(conn: sa.Connection, units: pd.DataFrame) -> None:
    raw = conn.connection.dbapi_connection
    raw.register("_demo_units", units)
    try:
        raw.execute("INSERT INTO production_units (enterprise_uscc, unit_code, industry, "
                    "product, capacity, capacity_unit, start_year) SELECT enterprise_uscc, "
                    "unit_code, industry, product, capacity, capacity_unit, start_year "
                    "FROM _demo_units")
    finally:
        raw.unregister("_demo_units")


def calibration_report(store: Store) -> pd.DataFrame:
    """Return the demo's totals beside the figures they are calibrated to, with sources."""
    cal = _calibration()
    region = region_accounts(store, level="region")
    by_year = region.set_index("year")
    rows = []

    def add(name: str, year: int, published: float, demo: float, unit: str, src: pd.Series,
            ) -> None:
        rows.append({"indicator": name, "year": year, "published": round(published, 2),
                     "demo": round(demo, 2), "unit": unit,
                     "deviation_pct": round(100 * (demo / published - 1), 2),
                     "verified": src["verified"], "source": src["source"]})

    for _, src in cal[(cal["indicator"] == "gdp_current") & (cal["area"] == "150000")
                      & cal["verified"].eq("true")].iterrows():
        add("GDP", src["year"], src["value"],
            by_year.at[src["year"], "gdp_current_10k_yuan"] / 1e4, "100m_yuan", src)
    for _, src in cal[cal["indicator"] == "energy_total"].iterrows():
        add("energy total", src["year"], src["value"],
            by_year.at[src["year"], "energy_tce"] / 1e4, "10k_tce", src)
    src = cal[cal["indicator"] == "energy_growth"].set_index("year").loc[2020]
    add("energy growth 2020", 2020, src["value"],
        100 * (by_year.at[2020, "energy_tce"] / by_year.at[2019, "energy_tce"] - 1), "percent",
        src)
    src = cal[cal["indicator"] == "intensity_change_2015_2019"].iloc[0]
    add("intensity change 2015-2019", 2019, src["value"],
        100 * (by_year.at[2019, "intensity_tce_per_10k_yuan"]
               / by_year.at[2015, "intensity_tce_per_10k_yuan"] - 1), "percent", src)
    leagues_2023 = region_accounts(store, level="league", years=[2023]).set_index(
        "region_code")
    for _, src in cal[(cal["indicator"] == "gdp_current") & (cal["area"] != "150000")].iterrows():
        if src["area"] in leagues_2023.index:
            add(f"GDP {leagues_2023.at[src['area'], 'region_name']}", 2023, src["value"],
                leagues_2023.at[src["area"], "gdp_current_10k_yuan"] / 1e4, "100m_yuan", src)
    water = water_use(store).set_index(["region_code", "year"])
    src = cal[cal["indicator"] == "water_intensity_industrial"].iloc[0]
    w2020 = water.at[("150000", 2020), "water_intensity_m3_per_10k_yuan"]
    add("industrial water intensity", 2020, src["value"], w2020, "m3_per_10k_yuan", src)
    src = cal[cal["indicator"] == "water_intensity_reduction_2015_2020"].iloc[0]
    add("water intensity reduction 2015-2020", 2020, src["value"],
        100 * (1 - w2020 / water.at[("150000", 2015), "water_intensity_m3_per_10k_yuan"]),
        "percent", src)
    registry = green_registry(store)
    names = {"factory": "factories", "product": "products", "supply_chain": "supply_chains",
             "park": "parks", "standard": "standards"}
    for category, key in names.items():
        src = cal[cal["indicator"] == f"green_{key}"].iloc[0]
        add(f"green {key}", 2020, src["value"],
            float((registry["category"] == category).sum()), "count", src)
    return pd.DataFrame(rows)


def demo_accounts(url: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the accounts by league for the latest year and the regional trend since 2015.

    Figures are in 10^4 tce, 10^4 t CO2 and 10^8 yuan for reading; intensity in tce per
    10^4 yuan at comparable 2015 prices.
    """
    store = open_store(url)
    try:
        league = region_accounts(store, level="league", years=[YEARS[-1]], base_year=2015)
        trend = region_accounts(store, level="region", base_year=2015)
        trend = trend[trend["year"] <= YEARS[-1]]  # complete years (not the year to date)
    finally:
        store.close()

    def readable(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
        out = frame[key].copy()
        for col in ("energy", "controlled", "feedstock", "renewable"):
            out[f"{col}_10k_tce"] = frame[f"{col}_tce"] / 1e4
        out["co2_10k_t"] = frame["co2_t"] / 1e4
        out["gdp_100m_yuan"] = frame["gdp_current_10k_yuan"] / 1e4
        out["intensity_tce_per_10k_yuan"] = frame["intensity_tce_per_10k_yuan"]
        return out

    trend_out = readable(trend, ["year"])
    base = trend_out["intensity_tce_per_10k_yuan"].iloc[0]
    trend_out["intensity_vs_2015_pct"] = 100 * (trend_out["intensity_tce_per_10k_yuan"]
                                                / base - 1)
    league_out = readable(league.sort_values("energy_tce", ascending=False),
                          ["region_code", "region_name"])
    return league_out.reset_index(drop=True), trend_out


def serve_dashboard(url: str) -> bool:
    """Serve the web dashboard on the demo store if the web module is installed.

    This is the hook the web issue fills in: it calls ``dualcontrol.web.serve(url)``
    when that exists and returns False (doing nothing) otherwise.
    """
    try:
        web = importlib.import_module("dualcontrol.web")
    except ModuleNotFoundError:
        logger.info("dualcontrol.web is not installed; not serving the dashboard")
        return False
    serve = getattr(web, "serve", None)
    if serve is None:
        logger.info("dualcontrol.web has no serve(); not serving the dashboard")
        return False
    serve(url)
    return True
