"""Energy and carbon accounts: energy-use rows to tce and CO2, rolled up by region and period.

The table work is written once as Ibis expressions, so the same code runs on DuckDB
in-process (the default) and on any other Ibis backend (Apache Spark, PostgreSQL).
Validation of the raw rows (names, units, numbers) happens before, in
:func:`prepare_energy_rows`, which reports every bad row at once.

Accounting rules
----------------
- ``energy_tce``: energy consumption in tce of every row, except secondary energy
  (electricity, heat) an entity produced itself, whose inputs are already counted
  (reported apart as ``self_produced_tce``).
- ``feedstock_tce``: coal, oil and gas (and their products) used as raw material
  (原料用能), deducted from the controlled total (发改环资〔2022〕803号).
- ``renewable_tce``: energy of renewable origin (wind, solar, hydro, biomass,
  geothermal power), deducted from the controlled total (NDRC, NBS and NEA notice of
  2022-11-16 on new renewable consumption).
- ``controlled_tce`` = ``energy_tce`` - ``feedstock_tce`` - ``renewable_tce``. The
  assessment applies the deductions each year's rules require; the accounts report
  each one separately.
- ``co2_t``: CO2 of combustion and transformation inputs at the carrier's factor, and of
  purchased electricity and heat at the year's grid and heat factors; feedstock carbon
  is taken as stored in products (IPCC 2006 Vol. 3 non-energy use), renewable and
  self-produced secondary energy emit nothing here (their fuel is counted where burnt).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from dualcontrol.conversion import Method, co2_coefficient, tce_coefficient
from dualcontrol.errors import InputError, Problem, require_columns, spreadsheet_rows
from dualcontrol.reference import (
    Carrier,
    carriers,
    normalise_name,
    quantity_in_carrier_unit,
    resolve_carrier,
    resolve_unit,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Hierarchy levels from the top down.
LEVELS: tuple[str, ...] = ("region", "league", "county", "park", "enterprise")

#: Time grains of a rollup, coarse to fine.
GRAINS: tuple[str, ...] = ("year", "half", "quarter", "month")

USES: dict[str, tuple[str, ...]] = {
    "combustion": ("combustion", "fuel", "燃料", "燃料用", "燃烧", "终端消费"),
    "feedstock": ("feedstock", "raw_material", "non_energy", "原料", "原料用能", "原材料"),
    "transformation_input": ("transformation_input", "transformation", "加工转换投入",
                             "加工转换"),
}
ORIGINS: dict[str, tuple[str, ...]] = {
    "purchased": ("purchased", "外购", "购入", "grid"),
    "self_produced": ("self_produced", "自产", "自发", "自供"),
    "renewable": ("renewable", "可再生", "绿电", "green"),
}

#: Sum columns of every rollup, each with its unit in the name.
MEASURES: tuple[str, ...] = (
    "energy_tce",
    "feedstock_tce",
    "renewable_tce",
    "controlled_tce",
    "self_produced_tce",
    "co2_t",
    "co2_combustion_t",
    "co2_electricity_t",
    "co2_heat_t",
)

REQUIRED_COLUMNS: tuple[str, ...] = ("enterprise", "period", "carrier", "quantity", "unit")

_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{1,2})|[Qq]([1-4])|[Hh]([12])))?$")


@dataclass(frozen=True)
class Period:
    """A reporting period: a year, or a half, quarter or month of it."""

    year: int
    month: int | None = None
    quarter: int | None = None
    half: int | None = None

    @property
    def grain(self) -> str:
        """Return the finest grain the period has: year, half, quarter or month."""
        if self.month is not None:
            return "month"
        if self.quarter is not None:
            return "quarter"
        if self.half is not None:
            return "half"
        return "year"


def parse_period(text: str, *, row: int | None = None, file: str | None = None,
                 field: str = "period") -> Period:
    """Return the :class:`Period` written as ``2024``, ``2024-07``, ``2024-Q3`` or ``2024-H1``."""
    match = _PERIOD.match(str(text).strip())
    month = int(match.group(2)) if match and match.group(2) else None
    if not match or (month is not None and not 1 <= month <= 12):
        raise InputError(Problem("period not understood", file=file, row=row, field=field,
                                 value=text, accepted=["YYYY", "YYYY-MM", "YYYY-Qn", "YYYY-Hn"]))
    year = int(match.group(1))
    if month is not None:
        quarter = (month - 1) // 3 + 1
        return Period(year, month, quarter, (quarter - 1) // 2 + 1)
    if match.group(3):
        quarter = int(match.group(3))
        return Period(year, None, quarter, (quarter - 1) // 2 + 1)
    if match.group(4):
        return Period(year, None, None, int(match.group(4)))
    return Period(year)


def _lookup(choices: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {normalise_name(alias): code for code, aliases in choices.items() for alias in aliases}


_USE_NAMES = _lookup(USES)
_ORIGIN_NAMES = _lookup(ORIGINS)


def _resolve_distinct(values: pd.Series, resolve: Callable[[str], T], field: str,
                     problems: list[Problem], file: str | None) -> dict[str, T]:
    """Resolve each distinct non-blank value once; add a problem for every row of a bad one.

    Returns the mapping of good values, so a column of millions of rows costs one call
    per distinct spelling.
    """
    good: dict[str, T] = {}
    for value in values.dropna().unique():
        try:
            good[value] = resolve(str(value))
        except InputError as exc:
            first = exc.problems[0]
            for index in values.index[values == value]:
                problems.append(Problem(first.message, file=file, row=int(index), field=field,
                                        value=value, accepted=first.accepted))
    return good


def prepare_energy_rows(frame: pd.DataFrame, *, file: str | None = None,
                        first_row: int = 2) -> pd.DataFrame:
    """Return validated energy-use rows with carriers and units resolved.

    Parameters
    ----------
    frame : DataFrame
        Columns ``enterprise``, ``period``, ``carrier``, ``quantity``, ``unit``, and
        optionally ``use``, ``origin`` and the higher levels ``region``, ``league``,
        ``county``, ``park``.
    file : str, optional
        Name of the file the rows come from, for error messages.
    first_row : int
        Spreadsheet row number of the first data row (the header is row 1).

    Returns
    -------
    DataFrame
        Columns ``row``, the levels, ``year``, ``half``, ``quarter``, ``month``,
        ``grain``, ``carrier``, ``quantity``, ``unit``, ``quantity_carrier_unit``
        [carrier's unit], ``use``, ``origin``.

    Raises
    ------
    InputError
        With one :class:`~dualcontrol.errors.Problem` per bad row and field.
    """
    require_columns(frame.columns, REQUIRED_COLUMNS, file=file,
                    accepted=[*REQUIRED_COLUMNS, "use", "origin", *LEVELS[:-1]])
    data = spreadsheet_rows(frame, first_row)
    problems: list[Problem] = []

    def blank(column: str) -> pd.Series:
        return data[column].isna() | (data[column].astype(str).str.strip() == "")

    for column in REQUIRED_COLUMNS:
        for index in data.index[blank(column)]:
            problems.append(Problem("value is empty", file=file, row=int(index), field=column))

    carrier_raw = data["carrier"].where(~blank("carrier"))
    unit_raw = data["unit"].where(~blank("unit"))
    period_raw = data["period"].where(~blank("period")).astype("object")
    carriers_of = _resolve_distinct(carrier_raw, resolve_carrier, "carrier", problems, file)
    units_of = _resolve_distinct(unit_raw, resolve_unit, "unit", problems, file)
    periods_of = _resolve_distinct(period_raw, parse_period, "period", problems, file)
    quantity = pd.to_numeric(data["quantity"], errors="coerce")
    for index in data.index[quantity.isna() & ~blank("quantity")]:
        problems.append(Problem("quantity is not a number", file=file, row=int(index),
                                field="quantity", value=data.at[index, "quantity"]))
    for index in data.index[(quantity < 0) | np.isinf(quantity)]:
        problems.append(Problem("quantity must be a finite number >= 0", file=file,
                                row=int(index), field="quantity",
                                value=data.at[index, "quantity"]))

    def choice(column: str, names: dict[str, str], default: str,
               accepted: Iterable[str]) -> pd.Series:
        if column not in data.columns:
            return pd.Series(default, index=data.index)
        raw = data[column].where(~blank(column), default).astype(str)
        lookup = {v: names.get(normalise_name(v)) for v in raw.unique()}
        resolved = raw.map(lookup)
        for index in data.index[resolved.isna()]:
            problems.append(Problem(f"unknown {column}", file=file, row=int(index),
                                    field=column, value=raw[index], accepted=list(accepted)))
        return resolved

    use = choice("use", _USE_NAMES, "combustion", USES)
    origin = choice("origin", _ORIGIN_NAMES, "purchased", ORIGINS)

    # The unit conversion is linear: one factor per (carrier, unit) pair.
    carrier_code = carrier_raw.map({k: c.code for k, c in carriers_of.items()})
    unit_code = unit_raw.map({k: u.code for k, u in units_of.items()})
    factor = pd.Series(np.nan, index=data.index)
    pairs = pd.DataFrame({"c": carrier_code, "u": unit_code}).dropna().drop_duplicates()
    for c, u in pairs.itertuples(index=False):
        rows_of_pair = (carrier_code == c) & (unit_code == u)
        try:
            factor[rows_of_pair] = quantity_in_carrier_unit(1.0, resolve_unit(u),
                                                            carriers()[c])
        except InputError as exc:
            first = exc.problems[0]
            for index in data.index[rows_of_pair]:
                problems.append(Problem(first.message, file=file, row=int(index),
                                        field="unit", value=data.at[index, "unit"],
                                        accepted=first.accepted))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.field or ""))
        raise InputError(problems)

    out = pd.DataFrame(index=data.index)
    out["row"] = data.index.astype("int64")
    for level in LEVELS:
        if level in data.columns:
            out[level] = data[level].astype(str).str.strip()
        elif level == "region":
            out[level] = "all"
    out["year"] = period_raw.map({k: p.year for k, p in periods_of.items()}).astype("int64")
    for part in ("half", "quarter", "month"):
        out[part] = period_raw.map({k: getattr(p, part) for k, p in periods_of.items()}
                                   ).astype("Int64")
    out["grain"] = period_raw.map({k: p.grain for k, p in periods_of.items()})
    out["carrier"] = carrier_code
    out["quantity"] = quantity.astype(float)
    out["unit"] = unit_code
    out["quantity_carrier_unit"] = quantity.astype(float) * factor
    out["use"] = use
    out["origin"] = origin
    return out.reset_index(drop=True)


def coefficient_table(years: Iterable[int], *, method: Method | str = Method.calorific,
                      grid: str = "national",
                      carrier_codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Return the coefficients of every carrier and year, with their sources.

    Returns
    -------
    DataFrame
        ``carrier``, ``year``, ``tce_per_unit`` [tce / carrier unit],
        ``co2_t_per_unit`` [t CO2 / carrier unit], ``category``, ``fossil_family``,
        ``tce_source``, ``co2_source``, ``co2_factor_year`` (the year of the grid or
        heat factor actually used, which may differ where that year has none).
    """
    chosen: Sequence[Carrier] = (
        list(carriers().values()) if carrier_codes is None
        else [carriers()[c] for c in carrier_codes]
    )
    rows = []
    for year in sorted(set(int(y) for y in years)):
        for carrier in chosen:
            tce, tce_source = tce_coefficient(carrier, Method(method), year)
            co2, co2_source, factor_year = co2_coefficient(carrier, year, grid)
            rows.append({
                "carrier": carrier.code, "year": year, "tce_per_unit": tce,
                "co2_t_per_unit": co2, "category": carrier.category,
                "fossil_family": carrier.fossil_family, "tce_source": tce_source,
                "co2_source": co2_source,
                "co2_factor_year": factor_year if factor_year is not None else year,
            })
    return pd.DataFrame(rows)


def account_rows(rows: ir.Table, coefficients: ir.Table) -> ir.Table:
    """Return ``rows`` with per-row energy [tce] and CO2 [t] and the exclusions.

    ``rows`` has the columns of :func:`prepare_energy_rows`; ``coefficients`` those of
    :func:`coefficient_table`. See the module docstring for the rules.

    The carrier's properties (secondary, fossil, electricity, heat) are tested once per
    coefficient row, and each row's exclusions once per row, so the engine compares no
    string more than once per energy row.
    """
    c = coefficients
    coef = c.select("carrier", "year", "tce_per_unit", "co2_t_per_unit", "category",
                    "fossil_family",
                    _secondary=c.category == "secondary",
                    _fossil=c.fossil_family.isin(["coal", "oil", "gas"]),
                    _electricity=c.carrier == "electricity",
                    _heat=c.carrier == "heat")
    joined = rows.join(coef, ["carrier", "year"], how="left")
    flagged = joined.mutate(
        _gross=joined.quantity_carrier_unit * joined.tce_per_unit,
        _self_secondary=(joined.origin == "self_produced") & joined._secondary,
        _renewable=joined.origin == "renewable",
        _feedstock=(joined.use == "feedstock") & joined._fossil,
    )
    f = flagged
    measured = f.mutate(
        energy_tce=ibis.ifelse(f._self_secondary, 0.0, f._gross),
        feedstock_tce=ibis.ifelse(f._feedstock & ~f._self_secondary, f._gross, 0.0),
        renewable_tce=ibis.ifelse(f._renewable & ~f._self_secondary, f._gross, 0.0),
        self_produced_tce=ibis.ifelse(f._self_secondary, f._gross, 0.0),
        co2_t=ibis.ifelse(~f._renewable & ~f._self_secondary & ~f._feedstock,
                          f.quantity_carrier_unit * f.co2_t_per_unit, 0.0),
    )
    m = measured
    return m.mutate(
        controlled_tce=m.energy_tce - m.feedstock_tce - m.renewable_tce,
        co2_combustion_t=ibis.ifelse(m._secondary, 0.0, m.co2_t),
        co2_electricity_t=ibis.ifelse(m._electricity, m.co2_t, 0.0),
        co2_heat_t=ibis.ifelse(m._heat, m.co2_t, 0.0),
    ).drop("_secondary", "_fossil", "_electricity", "_heat", "_gross", "_self_secondary",
           "_renewable", "_feedstock")


def _check_level_grain(level: str, grain: str) -> None:
    if level not in LEVELS:
        raise InputError(Problem("unknown level", field="level", value=level, accepted=LEVELS))
    if grain not in GRAINS:
        raise InputError(Problem("unknown grain", field="grain", value=grain, accepted=GRAINS))


def rollup(accounted: ir.Table, level: str = "league", grain: str = "year") -> ir.Table:
    """Return sums of every measure by ``level`` and time ``grain``.

    Parameters
    ----------
    accounted : ibis Table
        Output of :func:`account_rows`, or a finer rollup of it (its ``rows`` counts
        are then added up, so rolling up a rollup gives what rolling up the rows does).
    level : str
        One of :data:`LEVELS`; the groups also carry every level above it.
    grain : str
        One of :data:`GRAINS`; rows reported at a coarser grain than asked are an
        error the caller should prevent (see :func:`check_grain`).
    """
    _check_level_grain(level, grain)
    keys = [lv for lv in LEVELS[: LEVELS.index(level) + 1] if lv in accounted.columns]
    keys += list(GRAINS[: GRAINS.index(grain) + 1])
    sums = {m: accounted[m].sum() for m in MEASURES}
    count = accounted["rows"].sum() if "rows" in accounted.columns else accounted.count()
    return accounted.group_by(keys).aggregate(rows=count, **sums).order_by(keys)


def rollup_levels(accounted: ir.Table, levels: Sequence[str] = LEVELS,
                  grain: str = "year") -> dict[str, ir.Table]:
    """Return rollups of ``accounted`` to each of ``levels``, scanning the rows once.

    The finest level asked for is aggregated from the rows and cached by the backend;
    every coarser level is summed from that small table. Sums are the same as
    :func:`rollup` applied to the rows for each level.
    """
    for level in levels:
        _check_level_grain(level, grain)
    ordered = sorted(set(levels), key=LEVELS.index)
    finest = rollup(accounted, ordered[-1], grain).cache()
    return {level: finest if level == ordered[-1] else rollup(finest, level, grain)
            for level in ordered}


def check_grain(rows: pd.DataFrame, grain: str) -> None:
    """Raise :class:`InputError` for rows reported at a coarser grain than ``grain``."""
    wanted = GRAINS.index(grain)
    coarse = rows[rows["grain"].map(GRAINS.index) < wanted]
    if len(coarse):
        raise InputError([
            Problem(f"period is a {g}; it cannot be split by {grain}", row=int(r),
                    field="period", accepted=[f"periods by {grain} or finer"])
            for r, g in zip(coarse["row"], coarse["grain"], strict=True)
        ])


def gdp_comparable(gdp: ir.Table, base_year: int) -> ir.Table:
    """Return GDP at comparable prices of ``base_year`` [10^4 yuan] by area and year.

    Parameters
    ----------
    gdp : ibis Table
        ``area``, ``year``, ``gdp_current_10k_yuan`` [10^4 yuan, current prices] and
        ``gdp_index_prev_year_100`` (GDP volume index, previous year = 100, as the
        statistical yearbooks publish it).
    base_year : int
        Year whose prices are kept; every area must have that year.

    Notes
    -----
    GDP_const(t) = GDP_current(b) * prod_{k=b+1..t} I_k/100 for t > b, and divided by
    prod_{k=t+1..b} I_k/100 for t < b, which is how the dual-control assessment turns
    nominal GDP into comparable prices (NBS, NDRC and NEA annual bulletin of energy
    intensity, "GDP at 2020 prices").
    """
    window = ibis.window(group_by="area", order_by="year")
    chained = gdp.mutate(
        log_chain=(gdp.gdp_index_prev_year_100 / 100.0).ln().cumsum().over(window)
    )
    base = chained.filter(chained.year == base_year).select(
        area="area", base_gdp=chained.gdp_current_10k_yuan, base_chain=chained.log_chain
    )
    joined = chained.join(base, "area")
    return joined.select(
        "area", "year", "gdp_current_10k_yuan",
        gdp_const_10k_yuan=joined.base_gdp * (joined.log_chain - joined.base_chain).exp(),
        gdp_base_year=ibis.literal(base_year),
    )


def with_intensity(rolled: ir.Table, gdp_const: ir.Table, level: str) -> ir.Table:
    """Return a yearly rollup joined to comparable GDP, with intensities.

    Intensities: ``intensity_tce_per_10k_yuan`` (total energy / GDP),
    ``controlled_intensity_tce_per_10k_yuan`` (controlled total / GDP, GDP not adjusted
    for the deductions, per 发改环资〔2022〕803号) and ``co2_intensity_t_per_10k_yuan``.
    """
    g = gdp_const.rename(**{level: "area"}) if level != "area" else gdp_const
    joined = rolled.left_join(g.select(level, "year", "gdp_current_10k_yuan",
                                       "gdp_const_10k_yuan", "gdp_base_year"),
                              [level, "year"])
    joined = joined.drop(*[c for c in joined.columns if c.endswith("_right")])
    return joined.mutate(
        intensity_tce_per_10k_yuan=joined.energy_tce / joined.gdp_const_10k_yuan,
        controlled_intensity_tce_per_10k_yuan=joined.controlled_tce / joined.gdp_const_10k_yuan,
        co2_intensity_t_per_10k_yuan=joined.co2_t / joined.gdp_const_10k_yuan,
    )


def prepare_gdp(frame: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Return validated GDP rows: ``area``, ``year``, current GDP and volume index.

    Raises
    ------
    InputError
        For a missing column, a non-numeric or non-positive value, or a duplicated
        area and year.
    """
    needed = ("area", "year", "gdp_current_10k_yuan", "gdp_index_prev_year_100")
    require_columns(frame.columns, needed, file=file)
    data = spreadsheet_rows(frame)
    problems = []
    for column in needed[1:]:
        values = pd.to_numeric(data[column], errors="coerce")
        for index in data.index[~(values > 0)]:
            problems.append(Problem("must be a number > 0", file=file, row=int(index),
                                    field=column, value=data.at[index, column]))
        data[column] = values
    duplicated = data.duplicated(["area", "year"], keep="first")
    for index in data.index[duplicated]:
        problems.append(Problem("area and year given twice", file=file, row=int(index),
                                field="year", value=data.at[index, "year"]))
    if problems:
        raise InputError(problems)
    data["area"] = data["area"].astype(str).str.strip()
    data["year"] = data["year"].astype("int64")
    return data[list(needed)].reset_index(drop=True)


def accounts(energy: pd.DataFrame, gdp: pd.DataFrame | None = None, *, level: str = "league",
             grain: str = "year", method: Method | str = Method.calorific,
             grid: str = "national", base_year: int | None = None,
             con: ibis.BaseBackend | None = None, file: str | None = None) -> pd.DataFrame:
    """Return the accounts of raw energy-use rows by ``level`` and ``grain``.

    Validates ``energy`` (and ``gdp``), converts every row, rolls up, and where GDP is
    given and the grain is a year, adds GDP at comparable prices of ``base_year``
    (default: the first year of the energy rows) and the intensities.
    """
    rows = prepare_energy_rows(energy, file=file)
    check_grain(rows, grain)
    con = con or ibis.duckdb.connect()
    coefficients = coefficient_table(rows["year"].unique(), method=method, grid=grid,
                                     carrier_codes=rows["carrier"].unique())
    accounted = account_rows(ibis.memtable(rows), ibis.memtable(coefficients))
    rolled = rollup(accounted, level, grain)
    if gdp is not None and grain == "year":
        gdp_rows = prepare_gdp(gdp)
        base = int(base_year if base_year is not None else rows["year"].min())
        rolled = with_intensity(rolled, gdp_comparable(ibis.memtable(gdp_rows), base), level)
    return con.execute(rolled)
