"""Reference data shipped with the package: carriers, units, grid and heat factors.

Every table is a CSV file under ``dualcontrol/data`` with one row per fact and a
``source`` and ``edition`` column naming where the figure comes from. Tables are read
once and validated on load; adding a year's grid factor is a data change, not a code
change.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

from dualcontrol.errors import InputError, Problem, ReferenceDataError
from dualcontrol.factor_policy import (  # noqa: F401 (re-exported)
    FACTOR_YEAR_POLICIES,
    factor_year_policy,
    factor_years,
    factor_years_chosen,
    policy_reason,
    set_factor_years,
)

logger = logging.getLogger(__name__)

#: Tables that ``dualcontrol reference TABLE`` can print, with their file names.
TABLES: dict[str, str] = {
    "carriers": "carriers.csv",
    "units": "units.csv",
    "supply-coal-consumption": "supply_coal_consumption.csv",
    "grid-factors": "grid_factors.csv",
    "heat-factors": "heat_factors.csv",
    "efficiency-levels": "efficiency_levels.csv",
    "efficiency-deadlines": "efficiency_deadlines.csv",
    "energy-quota-limits": "energy_quota_limits.csv",
    "product-carriers": "product_carriers.csv",
    "review-rules": "review_rules.csv",
    "carbon-budget-rules": "carbon_budget_rules.csv",
    "carbon-evaluation-rules": "carbon_evaluation_rules.csv",
    "carbon-reference-levels": "carbon_reference_levels.csv",
    "targets": "targets.csv",
    "demo-league-targets": "demo_league_targets.csv",
    "barometer-rules": "barometer_rules.csv",
    "progress-paths": "progress_paths.csv",
    "total-exemption-rules": "total_exemption_rules.csv",
    "electricity-valuation-rules": "electricity_valuation_rules.csv",
    "deduction-scopes": "deduction_scopes.csv",
    "electricity-factor-rules": "electricity_factor_rules.csv",
    "feedstock-scope": "feedstock_scope.csv",
    "exclusion-rules": "exclusion_rules.csv",
    "assessment-rule-sets": "assessment_rule_sets.csv",
    "monitoring-rules": "monitoring_rules.csv",
    "regions": "regions.csv",
    "plan-periods": "plan_periods.csv",
    "demo-calibration": "demo_calibration.csv",
    "demo-industries": "demo_industries.csv",
    "demo-projects": "demo_projects.csv",
    "number-ranges": "number_ranges.csv",
    "measure-rules": "measure_rules.csv",
    "demo-measures": "demo_measures.csv",
    "file-limits": "file_limits.csv",
    "revision-rules": "revision_rules.csv",
}

#: Columns each table must have besides its own.
PROVENANCE_COLUMNS = ("source", "edition")


def data_path(filename: str) -> str:
    """Return the filesystem path of a data file shipped in the package."""
    return str(resources.files("dualcontrol").joinpath("data", filename))


@cache
def load_table(name: str) -> pd.DataFrame:
    """Return the reference table ``name`` (see :data:`TABLES`) as a DataFrame.

    Raises
    ------
    ReferenceDataError
        If the table is unknown, or a row lacks its source or edition.
    """
    if name not in TABLES:
        raise ReferenceDataError(
            f"unknown reference table {name!r}; accepted: {', '.join(sorted(TABLES))}"
        )
    path = data_path(TABLES[name])
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in PROVENANCE_COLUMNS:
        if column not in frame.columns:
            raise ReferenceDataError(f"{path}: column '{column}' is missing")
        empty = frame.index[frame[column].str.strip() == ""]
        if len(empty):
            raise ReferenceDataError(
                f"{path}: row {int(empty[0]) + 2} has no '{column}'"
            )
    return frame


def normalise_name(text: str) -> str:
    """Return a name folded for matching: NFKC, lower case, spaces and dashes as '_'."""
    folded = unicodedata.normalize("NFKC", str(text)).strip().lower()
    for char in (" ", "-", "\u3000"):
        folded = folded.replace(char, "_")
    while "__" in folded:
        folded = folded.replace("__", "_")
    return folded


@dataclass(frozen=True)
class Carrier:
    """One energy carrier and its coefficients.

    ``tce_per_unit`` is in tce per ``unit`` (= kgce per kg for a unit of t);
    ``co2_t_per_unit`` is the combustion CO2 in t per ``unit`` or ``None`` where the
    CO2 factor depends on the year (electricity, heat).
    """

    code: str
    name_en: str
    name_zh: str
    unit: str
    category: str
    fossil_family: str
    ncv_gj_per_unit: float
    tce_per_unit: float
    co2_t_per_unit: float | None
    source: str
    edition: str
    co2_source: str
    verified: bool
    #: Combustion CO2 per GJ of the fuel [t CO2 / GJ] (factor x oxidation), None for
    #: electricity and heat; applied to a measured net calorific value.
    co2_t_per_gj: float | None = None


def co2_factor_t_per_unit(
    ncv_gj_per_unit: float, co2_kg_per_tj: float, oxidation_fraction: float
) -> float:
    """Return the CO2 emitted per physical unit of fuel burnt [t CO2 / unit].

    Parameters
    ----------
    ncv_gj_per_unit : float
        Net calorific value [GJ / unit].
    co2_kg_per_tj : float
        Emission factor on an energy basis [kg CO2 / TJ].
    oxidation_fraction : float
        Fraction of carbon oxidised [1].

    References
    ----------
    IPCC (2006) Guidelines for National Greenhouse Gas Inventories, Vol. 2, Ch. 2,
    Eq. 2.1 (emissions = fuel consumed x emission factor); the factor per TJ times
    NCV gives the factor per unit.
    """
    return ncv_gj_per_unit * co2_kg_per_tj / 1e6 * oxidation_fraction


@cache
def carriers() -> dict[str, Carrier]:
    """Return every carrier keyed by code."""
    table = load_table("carriers")
    out: dict[str, Carrier] = {}
    for _, row in table.iterrows():
        co2 = co2_per_gj = None
        # a carrier without a default net calorific value (NaN) needs a measured one
        ncv = float(row["ncv_gj_per_unit"]) if row["ncv_gj_per_unit"] else float("nan")
        tce = float(row["tce_per_unit"]) if row["tce_per_unit"] else float("nan")
        if row["co2_kg_per_tj"]:
            co2_per_gj = co2_factor_t_per_unit(1.0, float(row["co2_kg_per_tj"]),
                                               float(row["oxidation_fraction"] or 1.0))
            co2 = co2_factor_t_per_unit(
                ncv,
                float(row["co2_kg_per_tj"]),
                float(row["oxidation_fraction"] or 1.0),
            )
        out[row["code"]] = Carrier(
            code=row["code"],
            name_en=row["name_en"],
            name_zh=row["name_zh"],
            unit=row["unit"],
            category=row["category"],
            fossil_family=row["fossil_family"],
            ncv_gj_per_unit=ncv,
            tce_per_unit=tce,
            co2_t_per_unit=co2,
            co2_t_per_gj=co2_per_gj,
            source=row["source"],
            edition=row["edition"],
            co2_source=row["co2_source"],
            verified=row["verified"].strip().lower() == "true",
        )
    return out


@cache
def _carrier_names() -> dict[str, str]:
    names: dict[str, str] = {}
    table = load_table("carriers")
    for _, row in table.iterrows():
        spellings = [row["code"], row["name_en"], row["name_zh"]]
        spellings += [a for a in row["aliases"].split("|") if a]
        for spelling in spellings:
            key = normalise_name(spelling)
            if key in names and names[key] != row["code"]:
                raise ReferenceDataError(
                    f"carrier name {spelling!r} is used by both {names[key]} and {row['code']}"
                )
            names[key] = row["code"]
    return names


def carrier_choices() -> list[str]:
    """Return the accepted carrier spellings: code and Chinese name of each carrier."""
    return [f"{c.code} ({c.name_zh})" for c in carriers().values()]


def resolve_carrier(name: str, *, field: str = "carrier", row: int | None = None,
                    file: str | None = None) -> Carrier:
    """Return the carrier named by code, English name, Chinese name or alias.

    Raises
    ------
    InputError
        If the name matches no carrier; the error lists the accepted names.
    """
    code = _carrier_names().get(normalise_name(name))
    if code is None:
        raise InputError(Problem("unknown energy carrier", file=file, row=row, field=field,
                                 value=name, accepted=carrier_choices()))
    return carriers()[code]


@dataclass(frozen=True)
class Unit:
    """A unit of measure: its dimension and its factor to the dimension's base unit."""

    code: str
    dimension: str
    to_base: float
    base_unit: str


@cache
def units() -> dict[str, Unit]:
    """Return every accepted unit keyed by its canonical code."""
    table = load_table("units")
    return {
        row["code"]: Unit(row["code"], row["dimension"], float(row["to_base"]), row["base_unit"])
        for _, row in table.iterrows()
    }


@cache
def _unit_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for _, row in load_table("units").iterrows():
        for spelling in [row["code"], *[a for a in row["aliases"].split("|") if a]]:
            names[_unit_key(spelling)] = row["code"]
    return names


def _unit_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", str(text)).strip()
    folded = folded.replace("³", "3").replace("⁴", "4").replace("⁸", "8").replace(" ", "")
    # case matters little for units here except m/M (milli/mega are not both accepted)
    return folded.lower()


def resolve_unit(name: str, *, field: str = "unit", row: int | None = None,
                 file: str | None = None) -> Unit:
    """Return the unit spelled ``name`` (``t``, ``万吨``, ``10^4 kWh``, ...).

    Raises
    ------
    InputError
        If the unit is not one of the accepted units, which it lists.
    """
    code = _unit_names().get(_unit_key(name))
    if code is None:
        raise InputError(Problem("unknown unit", file=file, row=row, field=field, value=name,
                                 accepted=list(units())))
    return units()[code]


def units_for(carrier: Carrier) -> list[str]:
    """Return the units a quantity of ``carrier`` may be given in."""
    dimension = units()[carrier.unit].dimension
    accepted = [u.code for u in units().values() if u.dimension == dimension]
    if carrier.code != "electricity":
        accepted += [u.code for u in units().values() if u.dimension == "standard_coal"]
    return accepted


def quantity_in_carrier_unit(quantity: float, unit: Unit, carrier: Carrier, *,
                             row: int | None = None, file: str | None = None,
                             field: str = "unit") -> float:
    """Return ``quantity`` given in ``unit`` expressed in the carrier's own unit.

    A quantity given in tce (or 10^4 tce) is turned back into the carrier's physical
    unit with its standard-coal coefficient, so CO2 can still be computed; electricity
    is refused in tce because its coefficient depends on the method.

    Raises
    ------
    InputError
        If the unit's dimension does not fit the carrier (5 kWh of raw coal).
    """
    own = units()[carrier.unit]
    if unit.dimension == own.dimension:
        return quantity * unit.to_base / own.to_base
    if unit.dimension == "standard_coal" and carrier.code != "electricity":
        return quantity * unit.to_base / carrier.tce_per_unit
    raise InputError(Problem(
        f"unit {unit.code!r} ({unit.dimension}) does not fit {carrier.code} "
        f"({carrier.name_zh}), which is measured as {own.dimension}",
        file=file, row=row, field=field, value=unit.code, accepted=units_for(carrier),
    ))


@dataclass(frozen=True)
class Factor:
    """A year-dependent coefficient and where it comes from."""

    value: float
    year: int
    requested_year: int
    source: str
    edition: str
    verified: bool

    @property
    def substituted(self) -> bool:
        """True if the factor of another year stood in for the requested one."""
        return self.year != self.requested_year


_substitutions_told: set[tuple[str, int]] = set()


def _warn_once(what: str, year: int, used: int) -> None:
    """Say once per process, in one line, that factors of other years stand in; each
    substitution is logged at INFO (``DUALCONTROL_LOG=INFO`` lists them)."""
    if (what, year) in _substitutions_told:
        return
    if not _substitutions_told:
        logger.warning("some years have no published emission factor: the nearest "
                       "published year's is used, %s (first: %s %s -> %s; add rows "
                       "to grid_factors.csv or heat_factors.csv)", policy_reason(),
                       what, year, used)
    _substitutions_told.add((what, year))
    logger.info("no %s for %s; using %s", what, year, used)


def _by_year(table: pd.DataFrame, column: str, year: int, *, what: str,
             exact: bool | None, file: str) -> Factor:
    """Return the factor of ``year``; a year without one is refused, or (``exact=False``,
    or by default the ``nearest`` policy) takes the nearest published year's factor,
    the earlier one on a tie, and says so once."""
    if exact is None:
        exact = factor_year_policy() == "exact"
    years = table["year"].astype(int)
    match = table[years == year]
    if match.empty:
        published = sorted(int(y) for y in years.unique())
        if exact:
            raise InputError(Problem(
                f"no {what} is published for {year}: add its row to "
                f"src/dualcontrol/data/{file}, or ask for the nearest published year's "
                "factor (dualcontrol --factor-years nearest COMMAND, or "
                "DUALCONTROL_FACTOR_YEARS=nearest)",
                field="year", value=year, accepted=[str(y) for y in published]))
        nearest = min(published, key=lambda y: (abs(y - year), y))
        _warn_once(what, year, nearest)
        match = table[years == nearest]
    row = match.iloc[0]
    return Factor(float(row[column]), int(row["year"]), year, row["source"], row["edition"],
                  row.get("verified", "true").strip().lower() == "true")


def supply_coal_consumption(year: int, *, exact: bool = True) -> Factor:
    """Return the national average supply coal consumption of thermal power [gce/kWh].

    It is the coefficient of the coal-equivalent (等价值) method for electricity.

    References
    ----------
    GB/T 2589-2020, definition of equivalent value; CEC annual statistics.
    """
    return _by_year(load_table("supply-coal-consumption"), "gce_per_kwh", year,
                    what="supply coal consumption", exact=exact,
                    file=TABLES["supply-coal-consumption"])


def grid_factors(grid: str = "national") -> pd.DataFrame:
    """Return the grid emission factor rows of one grid [kg CO2 / kWh]."""
    table = load_table("grid-factors")
    rows = table[table["grid"] == grid]
    if rows.empty:
        raise InputError(Problem("unknown grid", field="grid", value=grid,
                                 accepted=sorted(table["grid"].unique())))
    return rows


def grid_factor(year: int, grid: str = "national", *, exact: bool | None = None) -> Factor:
    """Return the average CO2 emission factor of grid electricity [kg CO2 / kWh].

    A year with no published factor is refused unless the nearest year is asked for
    (``exact=False``, or the ``nearest`` policy: :func:`set_factor_years`); the returned
    :class:`Factor` then says which year it is.

    References
    ----------
    MEE & NBS announcements of electricity CO2 emission factors (2021: 2024 No. 12;
    2022: Dec 2024; 2023: Jan 2026).
    """
    return _by_year(grid_factors(grid), "kgco2_per_kwh", year,
                    what=f"grid emission factor ({grid})", exact=exact,
                    file=TABLES["grid-factors"])


#: The region this installation keeps the accounts of (GB/T 2260: Inner Mongolia).
HOME_REGION = "150000"


def electricity_factor_rule(year: int, region_code: str = HOME_REGION) -> pd.Series:
    """Return the rule (``electricity_factor_rules.csv``) naming the grid whose CO2 factor
    values the electricity consumed in ``region_code`` in ``year``: the region's own row,
    else the row for every region (``*``).
    """
    table = load_table("electricity-factor-rules")
    first = table["first_year"].astype(int)
    last = pd.to_numeric(table["last_year"].replace("", "9999")).astype(int)
    rows = table[(first <= year) & (year <= last)]
    for key in (str(region_code), "*"):
        hit = rows[rows["region_code"] == key]
        if len(hit):
            return hit.iloc[0]
    raise InputError(Problem(f"no electricity factor rule covers {region_code} in {year}: "
                             "add a row to electricity_factor_rules.csv", field="year",
                             value=year))


def heat_factor(year: int, *, exact: bool | None = None) -> Factor:
    """Return the CO2 emission factor of purchased heat [t CO2 / GJ].

    The factor is a default of the accounting guidelines, not a yearly statistic: a row
    holds from its ``year`` until a later row replaces it (``heat_factors.csv``). A year
    before the first row is treated as a year without a published factor.

    References
    ----------
    China enterprise GHG accounting guidelines (industry sectors), default for purchased
    heat (see the row's ``source``).
    """
    table = load_table("heat-factors")
    in_force = table[table["year"].astype(int) <= year]
    if len(in_force):
        row = in_force.sort_values("year", key=lambda c: c.astype(int)).iloc[-1]
        return Factor(float(row["tco2_per_gj"]), year, year, row["source"], row["edition"],
                      row.get("verified", "true").strip().lower() == "true")
    return _by_year(table, "tco2_per_gj", year, what="heat emission factor", exact=exact,
                    file=TABLES["heat-factors"])
