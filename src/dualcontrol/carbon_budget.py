"""Carbon budgets (碳预算) of the region, its leagues, counties and parks, 2026-2030.

The region's budget for year ``y`` is the CO2 its 15th-plan CO2-intensity target allows:

    B(y) = I_b * (1 - r(y)) * GDP_b * (1 + g) ** (y - b) = C_b * (1 - r(y)) * (1 + g) ** (y - b)

with ``b`` the base year (2025), ``C_b`` its CO2 [t], ``I_b = C_b / GDP_b`` its CO2
intensity [t CO2 / 10^4 yuan], ``r(y)`` the cumulative reduction required in ``y``
(:func:`dualcontrol.assessment.required_reduction` on the path of ``progress_paths.csv``)
and ``g`` the real GDP growth assumed [1/a] (given, or by default the region's observed
growth ``GDP_b / GDP_{b-1} - 1``, stated in every row). "To 2030" is the sum of the
yearly budgets 2026-2030.

The budget is allocated down the hierarchy by the rule of ``carbon_budget_rules.csv``
chosen for each level and year (the default rule, or one named):

- ``intensity_target`` (leagues): each league's weight is the CO2 its own target allows,
  ``C_b,l * (1 - r_l(y)) * (1 + g) ** (y - b)``; a league without a target of its own takes
  the region's. Weights are normalised, so the leagues' budgets sum to the region's; the
  sum of the unnormalised weights is shown as ``own_target_co2_t`` (their ratio tells how
  far the league targets and the region's target agree).
- ``base_year_emissions``: a unit's share of its parent's budget is its share of the
  parent's children's base-year CO2 (league targets are not used).

Every unit's budget is shown with its ``actual`` CO2 (the accounts of the year; for a
year in progress the year-to-date CO2 scaled by last year's same period, as the
assessment does; for a later year the latest actual, as a run rate), the CO2
``reserved`` by projects approved but not running (:mod:`dualcontrol.pipeline`: a
project counts once, reserved until it runs and actual afterwards), and
``remaining = budget - actual - reserved`` (negative: an overdraft).

References
----------
国办发〔2024〕39号 加快构建碳排放双控制度体系工作方案 (carbon budgets in the 15th plan).
Targets: ``targets.csv`` and the demo's ``demo_league_targets.csv``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from dualcontrol.assessment import (
    level_of,
    parent_of,
    plan_target,
    progress_path,
    required_reduction,
    targets,
)
from dualcontrol.errors import InputError, Problem
from dualcontrol.pipeline import reservations
from dualcontrol.reference import load_table

logger = logging.getLogger(__name__)

#: Allocation methods of ``carbon_budget_rules.csv``.
METHODS: tuple[str, ...] = ("intensity_target", "base_year_emissions")
#: Levels of the hierarchy a budget is allocated to, coarsest first.
LEVELS: tuple[str, ...] = ("region", "league", "county", "park")
#: Plan of the carbon budgets and its years.
PLAN = "15th"
BASE_YEAR = 2025
YEARS: tuple[int, ...] = (2026, 2027, 2028, 2029, 2030)
#: Label of the cumulative row.
TO_2030 = "2026-2030"


def allowed_co2_t(base_co2_t: float, required: float, gdp_growth: float, years: int) -> float:
    """Return the CO2 an intensity target allows in a year [t CO2].

    ``I_b * (1 - r) * GDP_b * (1 + g) ** n``, which is ``C_b * (1 - r) * (1 + g) ** n``.

    Parameters
    ----------
    base_co2_t : float
        CO2 of the base year [t CO2].
    required : float
        Cumulative intensity reduction required in the year [1] (0.034 for -3.4%).
    gdp_growth : float
        Real GDP growth per year [1/a].
    years : int
        Years after the base year [a].

    References
    ----------
    国办发〔2024〕39号 (CO2 intensity binding); the formula is this project's reading.
    """
    return base_co2_t * (1.0 - required) * (1.0 + gdp_growth) ** years


def allocate(parent_co2_t: float, weights: Mapping[str, float]) -> dict[str, float]:
    """Return the parent's budget split in proportion to ``weights`` [t CO2].

    The parts sum to ``parent_co2_t`` (up to float rounding). With no positive weight
    every part is NaN (the rule cannot allocate).
    """
    total = sum(w for w in weights.values() if w > 0 and math.isfinite(w))
    if total <= 0:
        return {k: math.nan for k in weights}
    return {k: parent_co2_t * max(w, 0.0) / total if math.isfinite(w) else 0.0
            for k, w in weights.items()}


def budget_rule(level: str, year: int, rule_id: str | None = None) -> pd.Series:
    """Return the allocation rule of ``carbon_budget_rules.csv`` for a level and year.

    Without ``rule_id`` the row marked ``is_default`` is taken.

    Raises
    ------
    InputError
        For a rule that does not exist, is for another level, or does not cover the year.
    """
    table = load_table("carbon-budget-rules")
    rows = table[(table["level"] == level)
                 & (table["first_year"].astype(int) <= year)
                 & (table["last_year"].replace("", "9999").astype(int) >= year)]
    if rule_id is not None:
        pick = rows[rows["rule_id"] == rule_id]
        if pick.empty:
            raise InputError(Problem(f"no carbon-budget rule of this id for the {level} in "
                                     f"{year}", field="--rule", value=rule_id,
                                     accepted=list(rows["rule_id"])))
    else:
        pick = rows[rows["is_default"].str.lower() == "true"]
        if pick.empty:
            raise InputError(Problem(f"carbon_budget_rules.csv has no default rule for the "
                                     f"{level} in {year}", field="year", value=year))
    rule = pick.iloc[0]
    if rule["method"] not in METHODS:
        raise InputError(Problem("unknown allocation method in carbon_budget_rules.csv",
                                 field="method", value=rule["method"], accepted=METHODS))
    return rule


def observed_growth(accounts: pd.DataFrame, region_code: str, year: int) -> float:
    """Return the region's real GDP growth from ``year - 1`` to ``year`` [1/a] (NaN if unknown)."""
    rows = accounts[(accounts["region_code"] == region_code)
                    & accounts["year"].isin([year - 1, year])].set_index("year")
    try:
        return float(rows.at[year, "gdp_const_10k_yuan"]
                     / rows.at[year - 1, "gdp_const_10k_yuan"] - 1.0)
    except (KeyError, ZeroDivisionError, TypeError):
        return math.nan


def _target(table: pd.DataFrame, code: str, year: int) -> pd.Series | None:
    return plan_target(table, code, "co2_intensity", year, PLAN)


def _required(target: pd.Series, year: int) -> tuple[float, str]:
    b, t = int(target["base_year"]), int(target["target_year"])
    rule = progress_path(min(year, t))
    return (required_reduction(float(target["target_value"]), min(year, t) - b, t - b,
                               str(rule["path"])), str(rule["rule_id"]))


def _base_co2(annual: pd.DataFrame, code: str) -> float:
    base = annual.attrs.get("base_co2")
    if base is None:
        rows = annual[annual["year"] == BASE_YEAR]
        base = dict(zip(rows["region_code"], rows["co2_t"].astype(float), strict=True))
        annual.attrs["base_co2"] = base
    value = base.get(code, math.nan)
    return math.nan if pd.isna(value) else float(value)


def cumulative_index(actuals: pd.DataFrame) -> dict[str, dict[tuple[int, int], float]]:
    """Return the cumulative CO2 of each unit keyed by (year, months) [t CO2]."""
    out: dict[str, dict[tuple[int, int], float]] = {}
    for code, y, m, c in actuals[["region_code", "year", "months", "co2_t"]].itertuples(
            index=False):
        if pd.notna(c):
            out.setdefault(str(code), {})[(int(y), int(m))] = float(c)
    return out


def actual_co2(index: Mapping[tuple[int, int], float], year: int) -> tuple[float, str]:
    """Return a unit's actual CO2 of ``year`` [t CO2] and how it was obtained.

    ``index`` maps (year, months) to the unit's cumulative-from-January CO2
    (:func:`cumulative_index`). A closed year (12 months) is its own figure; a year in
    progress to month ``m`` is ``C(y-1) * C(1..m, y) / C(1..m, y-1)`` (last year's same
    period removes the season, as :mod:`dualcontrol.assessment` does for year-to-date
    periods); a later year takes the latest figure as a run rate.
    """
    if not index:
        return math.nan, "no accounts"
    if (year, 12) in index:
        return index[(year, 12)], f"accounts {year}"
    months = max((m for y, m in index if y == year), default=None)
    if months is not None:
        last = index.get((year - 1, 12))
        same = index.get((year - 1, months))
        if last is not None and same:
            return (last * index[(year, months)] / same,
                    f"{year} 1-{months}月 x {year - 1} / {year - 1} 1-{months}月")
        return math.nan, f"{year} 1-{months}月 without {year - 1} to scale it"
    earlier = [y for y, _ in index if y < year]
    if not earlier:
        return math.nan, "no accounts"
    value, basis = actual_co2(index, max(earlier))
    return value, f"run rate: {basis}"


def _units(annual: pd.DataFrame) -> pd.DataFrame:
    """Return one row per unit: code, name, level, parent."""
    units = annual.drop_duplicates("region_code").copy()
    if "level" not in units:
        units["level"] = units["region_code"].map(level_of)
    if "parent_code" not in units:
        units["parent_code"] = units["region_code"].map(parent_of)
    missing = units["parent_code"].isna() & (units["level"] != "region")
    units.loc[missing, "parent_code"] = units.loc[missing, "region_code"].map(parent_of)
    if "region_name" not in units:
        units["region_name"] = units["region_code"]
    return units[["region_code", "region_name", "level", "parent_code"]].reset_index(drop=True)


def _weights(rule: pd.Series, children: pd.DataFrame, annual: pd.DataFrame,
             table: pd.DataFrame, year: int, growth: float,
             fallback: pd.Series | None) -> tuple[dict[str, float], dict[str, str]]:
    """Return each child's weight under ``rule`` and a note on the target it used."""
    weights: dict[str, float] = {}
    notes: dict[str, str] = {}
    for code in children["region_code"]:
        base = _base_co2(annual, code)
        if rule["method"] == "base_year_emissions":
            weights[code] = 0.0 if math.isnan(base) else base
            notes[code] = f"{BASE_YEAR} CO2 share"
            continue
        own = _target(table, code, year)
        target = own if own is not None else fallback
        if target is None or math.isnan(base):
            weights[code] = 0.0
            notes[code] = "no target and no region target" if target is None else \
                f"no {BASE_YEAR} CO2"
            continue
        required, _ = _required(target, year)
        weights[code] = allowed_co2_t(base, required, growth, year - BASE_YEAR)
        kind = "own" if own is not None else "region's"
        flag = "verified" if str(target["verified"]).lower() == "true" else "not verified"
        notes[code] = (f"{kind} target -{float(target['target_value']):.0%} "
                       f"({target['source']}, {flag})")
    return weights, notes


def _reserved(projects: pd.DataFrame | None, level: str, code: str, year: int,
              as_of: date) -> float:
    if projects is None or projects.empty:
        return 0.0
    column = {"region": None, "league": "league_code", "county": "county_code",
              "park": "park_code"}[level]
    mine = projects if column is None else projects[projects[column].astype(str) == code]
    return float(reservations(mine, year=year, as_of=as_of).sum()) if len(mine) else 0.0


def carbon_budgets(accounts: pd.DataFrame, *, actuals: pd.DataFrame | None = None,
                   projects: pd.DataFrame | None = None, years: Sequence[int] = YEARS,
                   gdp_growth: float | None = None, rules: Mapping[str, str] | None = None,
                   region_code: str = "150000", as_of: date | None = None,
                   target_table: pd.DataFrame | None = None,
                   levels: Sequence[str] = LEVELS) -> pd.DataFrame:
    """Return the carbon budget of the region and of every unit below it, by year.

    Parameters
    ----------
    accounts : DataFrame
        Yearly accounts: ``region_code``, ``year``, ``co2_t`` [t CO2],
        ``gdp_const_10k_yuan`` [10^4 yuan, comparable prices] (region and leagues),
        optionally ``region_name``, ``level`` and ``parent_code`` (needed for parks;
        derived from GB/T 2260 codes otherwise). The base year 2025 must be there.
    actuals : DataFrame, optional
        Cumulative CO2 (``region_code``, ``year``, ``months``, ``co2_t``) for the
        actuals (see :func:`actual_co2`); default: the yearly ``accounts``.
    projects : DataFrame, optional
        The pipeline (``league_code``, ``county_code``, ``park_code``, ``co2_t``
        [t CO2 / a] and the ``*_on`` dates) whose reservations the budgets are net of.
    years : sequence of int
        Budget years (2026-2030).
    gdp_growth : float, optional
        Real GDP growth assumed [1/a]; default the region's observed growth 2024-2025.
    rules : mapping, optional
        Rule id per level (``{"league": "league_base_emissions"}``); default the
        rule marked ``is_default``.
    as_of : date, optional
        Day the pipeline is read on (default today).
    target_table : DataFrame, optional
        Targets (default :func:`dualcontrol.assessment.targets` with the demo's).
    levels : sequence of str
        Levels to allocate to (the region always).

    Returns
    -------
    DataFrame
        One row per unit and year, and one per unit for ``2026-2030`` (the sums):
        ``region_code, region_name, level, parent_code, period`` (the year, or
        ``2026-2030``), ``rule_id, method, share``
        (of the parent's budget), ``budget_co2_t, actual_co2_t, actual_basis,
        reserved_co2_t, remaining_co2_t`` [t CO2], ``own_target_co2_t`` (league weight
        before normalising, intensity rule), ``gdp_growth``, ``gdp_growth_basis``,
        ``required_reduction``, ``progress_rule``, ``target_source``,
        ``target_verified``, ``note``.

    Raises
    ------
    InputError
        If the region has no 2025 CO2, no published or demo 15th-plan target, or no
        GDP growth can be observed and none is given.
    """
    table = targets(include_demo=True) if target_table is None else target_table
    annual = accounts.assign(region_code=accounts["region_code"].astype(str),
                             year=pd.to_numeric(accounts["year"]).astype(int))
    acts = cumulative_index(annual.assign(months=12) if actuals is None else actuals)
    as_of = as_of or date.today()
    units = _units(annual)
    base = _base_co2(annual, region_code)
    if math.isnan(base):
        raise InputError(Problem(f"the accounts have no {BASE_YEAR} CO2 of the region: the "
                                 "15th-plan carbon budget starts from it", field="co2_t",
                                 value=region_code))
    growth, basis = gdp_growth, "given"
    if growth is None:
        growth = observed_growth(annual, region_code, BASE_YEAR)
        basis = f"observed {BASE_YEAR - 1}-{BASE_YEAR} growth of the region"
        if math.isnan(growth):
            raise InputError(Problem("no GDP growth observed: give one", field="--gdp-growth"))
    records: list[dict] = []
    for year in years:
        target = _target(table, region_code, year)
        if target is None:
            raise InputError(Problem(f"no {PLAN}-plan CO2-intensity target of the region "
                                     f"for {year} (Inner Mongolia's own is unpublished; "
                                     "targets.csv / demo_league_targets.csv)",
                                     field="region_code", value=region_code))
        required, path = _required(target, year)
        region_rule = budget_rule("region", year, (rules or {}).get("region"))
        budget = allowed_co2_t(base, required, growth, year - BASE_YEAR)
        top = units[units["region_code"] == region_code].iloc[0]
        common = {"period": str(year), "gdp_growth": growth, "gdp_growth_basis": basis,
                  "progress_rule": path}
        records.append(_record(top, region_rule, 1.0, budget, acts, projects, year, as_of,
                               common | {"required_reduction": required,
                                         "target_source": target["source"],
                                         "target_verified": target["verified"],
                                         "own_target_co2_t": budget, "note": ""}))
        budgets = {region_code: budget}
        for level in levels[1:] if levels[0] == "region" else levels:
            rule = budget_rule(level, year, (rules or {}).get(level))
            for parent, children in units[units["level"] == level].groupby("parent_code"):
                if parent not in budgets:
                    continue
                weights, notes = _weights(rule, children, annual, table, year, growth,
                                          target if level == "league" else None)
                parts = allocate(budgets[parent], weights)
                total = sum(weights.values())
                for child in children.itertuples(index=False):
                    code = child.region_code
                    budgets[code] = parts[code]
                    share = weights[code] / total if total > 0 else math.nan
                    own = _target(table, code, year) if level == "league" else None
                    records.append(_record(
                        pd.Series(child._asdict()), rule, share, parts[code], acts, projects,
                        year, as_of, common | {
                            "required_reduction": _required(own, year)[0] if own is not None
                            else math.nan,
                            "target_source": "" if own is None else own["source"],
                            "target_verified": "" if own is None else own["verified"],
                            "own_target_co2_t": weights[code]
                            if rule["method"] == "intensity_target" else math.nan,
                            "note": notes[code]}))
    out = pd.DataFrame.from_records(records)
    return pd.concat([out, _cumulative(out)], ignore_index=True)


def _record(unit: pd.Series, rule: pd.Series, share: float, budget: float,
            actuals: Mapping[str, Mapping[tuple[int, int], float]],
            projects: pd.DataFrame | None, year: int, as_of: date,
            extra: dict) -> dict:
    actual, actual_basis = actual_co2(actuals.get(str(unit["region_code"]), {}), year)
    reserved = _reserved(projects, str(unit["level"]), str(unit["region_code"]), year, as_of)
    return {"region_code": unit["region_code"], "region_name": unit["region_name"],
            "level": unit["level"], "parent_code": unit["parent_code"],
            "rule_id": rule["rule_id"], "method": rule["method"], "share": share,
            "budget_co2_t": budget, "actual_co2_t": actual, "actual_basis": actual_basis,
            "reserved_co2_t": reserved,
            "remaining_co2_t": budget - (0.0 if math.isnan(actual) else actual) - reserved,
            } | extra


def _cumulative(out: pd.DataFrame) -> pd.DataFrame:
    """Return the 2026-2030 rows: sums of the yearly figures of each unit."""
    sums = out.groupby("region_code", sort=False).agg(
        region_name=("region_name", "first"), level=("level", "first"),
        parent_code=("parent_code", "first"), rule_id=("rule_id", "first"),
        method=("method", "first"), budget_co2_t=("budget_co2_t", "sum"),
        actual_co2_t=("actual_co2_t", lambda s: s.sum(min_count=1)),
        reserved_co2_t=("reserved_co2_t", "sum"), remaining_co2_t=("remaining_co2_t", "sum"),
        gdp_growth=("gdp_growth", "first"), gdp_growth_basis=("gdp_growth_basis", "first"),
        target_source=("target_source", "first"), target_verified=("target_verified", "first"),
    ).reset_index()
    first = out.drop_duplicates("region_code").set_index("region_code")
    sums["period"] = TO_2030
    sums["share"] = np.nan
    sums["actual_basis"] = "sum of the years (later years at the run rate)"
    sums["note"] = sums["region_code"].map(first["note"])
    return sums
