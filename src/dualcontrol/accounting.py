"""Energy and carbon accounts: energy-use rows to tce and CO2, rolled up by region and period.

The table work is written once as Ibis expressions, so the same code runs on DuckDB
in-process (the default) and on any other Ibis backend (Apache Spark, PostgreSQL).
Validation of the raw rows (names, units, numbers) happens before, in
:func:`prepare_energy_rows`, which reports every bad row at once.

Accounting rules
----------------
- ``energy_tce``: comprehensive energy consumption: the tce of every row consumed,
  less the energy the entity supplies to others (``use = supplied``: electricity sent
  out, heat sold, coke or gas sold as energy; reported as ``supplied_tce``), GB/T
  2589-2020. Secondary energy (electricity, heat) an entity produced and used itself
  is not counted again, since its inputs are (reported apart as ``self_produced_tce``).
  A supplied row carries the negative of what the same quantity adds where it is
  consumed, so a sum over entities counts every tonne once: a region that exports
  electricity counts the fuel it burnt less the electricity that left it.
- ``feedstock_tce``: coal, oil and gas (and their products) used as raw material
  (原料用能), deducted from the controlled total (发改环资〔2022〕803号).
- ``renewable_tce``: energy of renewable origin (wind, solar, hydro, biomass,
  geothermal power), deducted from the controlled total (NDRC, NBS and NEA notice of
  2022-11-16 on new renewable consumption).
- ``controlled_tce`` = ``energy_tce`` - ``feedstock_tce`` - ``renewable_tce``. The
  assessment applies the deductions each year's rules require; the accounts report
  each one separately.
- ``co2_t``: CO2 of combustion and transformation inputs at the carrier's factor, and of
  purchased electricity and heat at the year's grid and heat factors, less the CO2 of
  the energy supplied to others at the same factors (so a region's CO2 is that of the
  fuel burnt in it plus that of net imported electricity, as China's provincial
  accounting does); feedstock carbon is taken as stored in products (IPCC 2006 Vol. 3
  non-energy use), renewable and self-produced secondary energy emit nothing here
  (their fuel is counted where burnt).
- A measured net calorific value of a row (``ncv_gj_per_t``, ``ncv_kj_per_kg`` or
  ``ncv_kcal_per_kg``, for carriers measured in tonnes) replaces the carrier's default:
  tce = NCV / 29.3076 GJ per tce (GB/T 2589-2020, 1 kgce = 29,307.6 kJ = 7,000 kcal)
  and CO2 = NCV x the carrier's CO2 per TJ x oxidation. Carriers without a published
  default (coal gangue, semi-coke) need it.
- Deductions have a scope: ``origin = renewable`` only for electricity and heat (the
  2022 and 2024 notices deduct renewable power and heat), ``use = feedstock`` only for
  coal, oil and gas and their products (发改环资〔2022〕803号); anything else is refused.
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
from dualcontrol.numbers import number_problems, parse_numbers, range_of
from dualcontrol.reference import (
    Carrier,
    carriers,
    load_table,
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
    "supplied": ("supplied", "sent_out", "sold", "exported", "外供", "输出", "外销", "供出",
                 "输出能源"),
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
    "supplied_tce",
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
    # the one number grammar and range (dualcontrol.numbers, number_ranges.csv)
    quantity, found = number_problems(data["quantity"], "energy", "quantity", file=file,
                                      rows=data.index.to_numpy(), required=False)
    quantity.index = data.index
    problems.extend(p for _, p in found)

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
    attributes = carrier_attributes(carrier_raw, carriers_of)
    problems += deduction_scope_problems(attributes, use, origin, file=file)
    ncv = measured_ncv(data, attributes, problems, file=file)

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
    out["ncv_gj_per_t"] = ncv
    return out.reset_index(drop=True)


def deduction_scope(deduction: str) -> tuple[str, ...]:
    """Return what a deduction may be booked on (``deduction_scopes.csv``): the carriers
    whose ``renewable`` origin is deducted (renewable power and heat: NDRC, NBS and NEA
    notice of 2022-11-16), or the fossil families whose carriers may be ``feedstock``
    (发改环资〔2022〕803号: coal, oil, gas and their products used as raw material, not
    as fuel, power or reductant)."""
    table = load_table("deduction-scopes")
    return tuple(table.loc[table["deduction"] == deduction, "value"])


#: Columns that may give a row's measured net calorific value, and their factor to GJ/t.
#: 1 kcal = 4.1868 kJ, so that 7,000 kcal/kg is 29.3076 GJ/t = 1 tce/t (GB/T 2589-2020).
NCV_COLUMNS: dict[str, float] = {
    "ncv_gj_per_t": 1.0,
    "ncv_kj_per_kg": 1e-3,
    "ncv_kcal_per_kg": 4.1868e-3,
}
#: GJ per tonne of standard coal equivalent (GB/T 2589-2020: 1 kgce = 29,307.6 kJ).
GJ_PER_TCE = 29.3076


def carrier_attributes(carrier_raw: pd.Series, resolved: dict[str, Carrier]) -> pd.DataFrame:
    """Return per row the resolved carrier's ``code``, ``family``, ``unit``, ``category``
    and ``no_default`` (no published NCV), looked up once per distinct spelling."""
    columns = ["code", "family", "unit", "category", "no_default"]
    positions, spellings = pd.factorize(carrier_raw.astype(object))  # -1: blank
    records = []
    for spelling in spellings:
        c = resolved.get(spelling)
        records.append((c.code, c.fossil_family, c.unit, c.category,
                        bool(np.isnan(c.tce_per_unit))) if c is not None
                       else (None, None, None, None, False))
    records.append((None, None, None, None, False))  # taken by position -1
    table = pd.DataFrame.from_records(records, columns=columns)
    out = table.iloc[positions].reset_index(drop=True)
    out.index = carrier_raw.index
    return out


def deduction_scope_problems(carrier: pd.DataFrame, use: pd.Series, origin: pd.Series, *,
                             file: str | None = None) -> list[Problem]:
    """Return a problem for every row that books a deduction outside its scope.

    ``carrier`` holds the attributes of each row's carrier (:func:`carrier_attributes`;
    NaN where it is unknown, already reported), ``use`` and ``origin`` the resolved
    codes. Refused: renewable origin for a carrier other than electricity or heat;
    feedstock use of a carrier that is not coal, oil or gas or their products; energy
    supplied to others booked as renewable (a renewable generator's output is counted
    where it is used).
    """
    problems: list[Problem] = []
    code, known = carrier["code"], carrier["code"].notna()
    renewable, feedstock = deduction_scope("renewable"), deduction_scope("feedstock")
    for index in code.index[known & (origin == "renewable") & ~code.isin(renewable)]:
        problems.append(Problem(
            f"origin 'renewable' is only deducted for {' and '.join(renewable)} "
            "(deduction_scopes.csv); "
            f"{code[index]} cannot be booked as renewable", file=file, row=int(index),
            field="origin", value="renewable", accepted=["purchased", "self_produced"]))
    bad_feed = known & (use == "feedstock") & ~carrier["family"].isin(feedstock)
    for index in code.index[bad_feed]:
        problems.append(Problem(
            f"use 'feedstock' applies to {', '.join(feedstock)} and their products "
            f"(发改环资〔2022〕803号, deduction_scopes.csv); {code[index]} cannot be "
            "feedstock", file=file,
            row=int(index), field="use", value="feedstock",
            accepted=["combustion", "transformation_input", "supplied"]))
    for index in code.index[known & (use == "supplied") & (origin == "renewable")]:
        problems.append(Problem(
            "energy supplied to others cannot be booked as renewable: a renewable "
            "generator's output is counted as renewable where it is consumed",
            file=file, row=int(index), field="origin", value="renewable",
            accepted=["purchased", "self_produced"]))
    return problems


def measured_ncv(data: pd.DataFrame, carrier: pd.DataFrame, problems: list[Problem], *,
                 file: str | None = None) -> pd.Series:
    """Return each row's measured net calorific value [GJ/t], NaN if none.

    Read from whichever of :data:`NCV_COLUMNS` the rows have (one per row at most). A
    measured value is only accepted for fuels measured in tonnes, must lie in the
    plausible range of ``number_ranges.csv`` (``ncv_kj_per_kg``), and is required for a
    carrier without a default (problems are added to ``problems``, naming the column
    the value came from). ``carrier`` as in :func:`deduction_scope_problems`.
    """
    plausible = range_of("energy", "ncv_kj_per_kg")
    ncv = pd.Series(np.nan, index=data.index)
    given = pd.Series(0, index=data.index)
    column_of = pd.Series("ncv_gj_per_t", index=data.index, dtype=object)
    for column, to_gj_per_t in NCV_COLUMNS.items():
        if column not in data.columns:
            continue
        raw = data[column]
        blank = raw.isna() | (raw.astype(str).str.strip() == "")
        value = parse_numbers(raw.where(~blank))[0].set_axis(data.index) * to_gj_per_t
        for index in data.index[~blank & ~(value > 0)]:
            problems.append(Problem("net calorific value must be a number > 0", file=file,
                                    row=int(index), field=column, value=raw[index]))
        outside = ~plausible.contains(value * 1000.0) & (value > 0)  # GJ/t -> kJ/kg
        for index in data.index[outside]:
            problems.append(Problem(
                f"net calorific value outside {plausible.text()}: check the unit", file=file,
                row=int(index), field=column, value=raw[index], accepted=list(NCV_COLUMNS)))
        given += (~blank).astype(int)
        ncv = ncv.where(blank, value)
        column_of = column_of.where(blank, column)
    for index in data.index[given > 1]:
        problems.append(Problem("give the net calorific value in one column only", file=file,
                                row=int(index), field=column_of[index],
                                accepted=list(NCV_COLUMNS)))
    known = carrier["code"].notna()
    in_tonnes = (carrier["unit"] == "t") & (carrier["category"] == "fossil")
    for index in data.index[ncv.notna() & known & ~in_tonnes]:
        problems.append(Problem(
            f"a measured net calorific value is accepted for fuels measured in t, "
            f"not for {carrier.at[index, 'code']} ({carrier.at[index, 'unit']})", file=file,
            row=int(index), field=column_of[index], value=ncv[index],
            accepted=["blank (the carrier's own coefficient)"]))
    missing = ncv.isna() & known & (carrier["no_default"] == True)  # noqa: E712 (NaN-safe)
    for index in data.index[missing]:
        problems.append(Problem(
            f"{carrier.at[index, 'code']} has no default net calorific value: give the "
            "measured one", file=file, row=int(index), field="ncv_gj_per_t",
            accepted=list(NCV_COLUMNS)))
    return ncv


def coefficient_table(years: Iterable[int], *, method: Method | str = Method.calorific,
                      grid: str | None = None,
                      carrier_codes: Iterable[str] | None = None,
                      latest_for_future: bool = False) -> pd.DataFrame:
    """Return the coefficients of every carrier and year, with their sources.

    ``latest_for_future``: a year after the latest published CO2 factor takes the latest
    (for current figures, such as this month's metered energy, whose factor cannot be
    published yet; :func:`dualcontrol.conversion.co2_coefficient`).

    Returns
    -------
    DataFrame
        ``carrier``, ``year``, ``tce_per_unit`` [tce / carrier unit],
        ``co2_t_per_unit`` [t CO2 / carrier unit], ``co2_t_per_gj`` [t CO2 / GJ, fuels
        only, for a measured net calorific value], ``category``, ``fossil_family``,
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
            co2, co2_source, factor_year = co2_coefficient(
                carrier, year, grid, latest_for_future=latest_for_future)
            rows.append({
                "carrier": carrier.code, "year": year, "tce_per_unit": tce,
                "co2_t_per_unit": co2, "co2_t_per_gj": carrier.co2_t_per_gj,
                "category": carrier.category,
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
    per_gj = c.co2_t_per_gj if "co2_t_per_gj" in c.columns else ibis.null("float64")
    coef = c.select("carrier", "year", "tce_per_unit", "co2_t_per_unit", "category",
                    "fossil_family",
                    _co2_per_gj=per_gj.cast("float64"),
                    _secondary=c.category == "secondary",
                    _fossil=c.fossil_family.isin(list(deduction_scope("feedstock"))),
                    _electricity=c.carrier == "electricity",
                    _heat=c.carrier == "heat")
    joined = rows.join(coef, ["carrier", "year"], how="left")
    if "ncv_gj_per_t" in rows.columns:
        # a measured net calorific value replaces the carrier's default (GB/T 2589-2020)
        ncv = joined.ncv_gj_per_t.cast("float64")
        tce_per_unit = ibis.ifelse(ncv.notnull(), ncv / GJ_PER_TCE, joined.tce_per_unit)
        co2_per_unit = ibis.ifelse(ncv.notnull(), ncv * joined._co2_per_gj,
                                   joined.co2_t_per_unit)
    else:
        tce_per_unit, co2_per_unit = joined.tce_per_unit, joined.co2_t_per_unit
    supplied = joined.use == "supplied"
    flagged = joined.mutate(
        _gross=joined.quantity_carrier_unit * tce_per_unit,
        _co2_gross=joined.quantity_carrier_unit * co2_per_unit,
        _supplied=supplied,
        _self_secondary=(joined.origin == "self_produced") & joined._secondary & ~supplied,
        _renewable=(joined.origin == "renewable") & ~supplied,
        _feedstock=(joined.use == "feedstock") & joined._fossil,
    )
    f = flagged
    measured = f.mutate(
        energy_tce=ibis.cases((f._supplied, -f._gross), (f._self_secondary, 0.0),
                              else_=f._gross),
        feedstock_tce=ibis.ifelse(f._feedstock & ~f._self_secondary, f._gross, 0.0),
        renewable_tce=ibis.ifelse(f._renewable & ~f._self_secondary, f._gross, 0.0),
        self_produced_tce=ibis.ifelse(f._self_secondary, f._gross, 0.0),
        supplied_tce=ibis.ifelse(f._supplied, f._gross, 0.0),
        # what is supplied leaves with the CO2 its consumer counts (same factor, same year)
        co2_t=ibis.cases((f._supplied, -f._co2_gross),
                         (~f._renewable & ~f._self_secondary & ~f._feedstock, f._co2_gross),
                         else_=0.0),
    )
    m = measured
    return m.mutate(
        controlled_tce=m.energy_tce - m.feedstock_tce - m.renewable_tce,
        co2_combustion_t=ibis.ifelse(m._secondary, 0.0, m.co2_t),
        co2_electricity_t=ibis.ifelse(m._electricity, m.co2_t, 0.0),
        co2_heat_t=ibis.ifelse(m._heat, m.co2_t, 0.0),
    ).drop("_secondary", "_fossil", "_electricity", "_heat", "_gross", "_co2_gross",
           "_co2_per_gj", "_supplied", "_self_secondary", "_renewable", "_feedstock")


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
        For a missing column, a non-numeric or non-positive value, an implausible
        volume index, a duplicated area and year, or a year missing inside an area's
        chain.
    """
    needed = ("area", "year", "gdp_current_10k_yuan", "gdp_index_prev_year_100")
    require_columns(frame.columns, needed, file=file)
    data = spreadsheet_rows(frame)
    problems = []
    # the one number grammar and the ranges of number_ranges.csv (GDP > 0, the volume
    # index, previous year = 100, within its plausible band)
    years, _ = parse_numbers(data["year"])
    for row_number in data.index[~(years.to_numpy() % 1 == 0)]:
        problems.append(Problem("year is not a whole number", file=file, row=int(row_number),
                                field="year", value=data.at[row_number, "year"],
                                accepted=["YYYY"]))
    for column in needed[2:]:
        values, found = number_problems(data[column], "economic", column, file=file,
                                        rows=data.index.to_numpy(), required=True)
        problems.extend(p for _, p in found)
        data[column] = values.to_numpy()
    data["year"] = years.to_numpy()
    duplicated = data.duplicated(["area", "year"], keep="first")
    for row_number in data.index[duplicated]:
        problems.append(Problem("area and year given twice", file=file, row=int(row_number),
                                field="year", value=data.at[row_number, "year"]))
    if problems:
        raise InputError(problems)
    data["area"] = data["area"].astype(str).str.strip()
    data["year"] = data["year"].astype("int64")
    problems = gdp_chain_problems(data, file=file)
    if problems:
        raise InputError(problems)
    return data[list(needed)].reset_index(drop=True)


def gdp_chain_problems(gdp: pd.DataFrame, *, file: str | None = None) -> list[Problem]:
    """Return a problem for every year missing inside an area's chain of GDP years.

    Comparable GDP chains the volume index year by year, so a missing year would
    silently drop one year's growth from every later year (NBS practice: GDP at
    constant prices of the base year). ``gdp`` has ``area`` and ``year``.
    """
    problems: list[Problem] = []
    for area, years in gdp.groupby("area")["year"]:
        present = sorted(int(y) for y in years)
        missing = sorted(set(range(present[0], present[-1] + 1)) - set(present))
        for year in missing:
            problems.append(Problem(
                f"GDP of {area} has no row for {year}, inside its chain {present[0]}-"
                f"{present[-1]}: comparable GDP cannot be chained across it; add the year",
                file=file, field="year", value=year))
    return problems


def ytd_gdp_comparable(ytd: pd.DataFrame, deflator: dict[tuple[str, int], float],
                       ) -> pd.DataFrame:
    """Return year-to-date GDP at comparable prices [10^4 yuan] of cumulative quarters.

    Parameters
    ----------
    ytd : DataFrame
        ``area``, ``year``, ``months`` (3, 6, 9: cumulative from January, as the
        statistics publish quarterly GDP: 一季度, 上半年, 前三季度),
        ``gdp_current_10k_yuan`` [10^4 yuan, current prices] and
        ``gdp_index_prev_year_100`` (volume index of the same months of the previous
        year = 100, as published with the quarterly GDP).
    deflator : dict
        ``(area, year) -> GDP_current / GDP_const`` of the whole year [1], the implicit
        deflator of the annual accounts (price base of the annual comparable GDP).

    Returns
    -------
    DataFrame
        ``ytd`` with ``gdp_const_10k_yuan``. Each (area, months) chain is anchored in its
        first year that has a current-price value and an annual deflator
        (``GDP_current(q, y) / deflator(y)``) and chained year to year by the index:
        ``GDP_const(q, y) = GDP_const(q, y-1) * I(q, y) / 100``, so the ratio of the
        same months of two consecutive years is exactly the published index. A gap in
        the years re-anchors; without an anchor the value is NaN (no data).

    References
    ----------
    NBS quarterly GDP releases (cumulative values and growth at comparable prices over
    the same period of the previous year); 单位GDP能耗降低率 = 1 - (1 + energy growth) /
    (1 + GDP growth) over the same period.
    """
    out = ytd.sort_values(["area", "months", "year"]).reset_index(drop=True)
    values: list[float] = []
    previous: tuple[str, int, int] | None = None
    last = float("nan")
    for row in out.itertuples(index=False):
        key = (str(row.area), int(row.months), int(row.year))
        index = float(row.gdp_index_prev_year_100)
        chained = (previous is not None and previous[:2] == key[:2]
                   and previous[2] == key[2] - 1 and not np.isnan(last)
                   and not np.isnan(index))
        if chained:
            last = last * index / 100.0
        else:
            anchor = deflator.get((key[0], key[2]))
            current = float(row.gdp_current_10k_yuan)
            last = (current / anchor if anchor is not None and anchor > 0
                    and not np.isnan(current) else float("nan"))
        values.append(last)
        previous = key
    return out.assign(gdp_const_10k_yuan=values)


def accounts(energy: pd.DataFrame, gdp: pd.DataFrame | None = None, *, level: str = "league",
             grain: str = "year", method: Method | str = Method.calorific,
             grid: str | None = None, base_year: int | None = None,
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
