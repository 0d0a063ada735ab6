"""Energy-efficiency benchmarking of production units against the national levels.

Each production unit's unit energy consumption (energy within the product boundary
divided by output) is compared with the NDRC "benchmark" (标杆) and "baseline" (基准)
levels of its product and with the limit value of the national energy-consumption quota
standard (GB 2xxxx 单位产品能源消耗限额). Lower is better everywhere, including the
negative levels of the converter (BOF) process.

Input schema (one row per production unit and year; a pandas DataFrame):

==================  =========================================================
column              meaning
==================  =========================================================
unit_id             identifier of the production unit (line, furnace, set)
enterprise_code     unified social credit code or other enterprise key
enterprise_name     enterprise name
region              league or city (盟市) the unit is in
industry            industry label (free text, used for grouping)
product             product code of ``efficiency_levels.csv`` (``ferrosilicon``)
year                calendar year of the data
capacity            design capacity [``capacity_unit`` per year]
capacity_unit       unit of capacity (``t/a``, ``weight_case/a``, ``kW``)
output              output of the year [``output_unit``]
output_unit         unit of output; must fit the level's output unit
                    (t, 10^4 t, kg; kWh supplied for coal power; weight_case)
energy_tce          energy consumption within the product boundary [tce]
                    (coal power: coal burnt for the electricity supplied)
electricity_kwh     electricity within the boundary [kWh]; required where the
                    level is in kWh/t (electrolytic aluminium), else optional
==================  =========================================================

Classes (``u`` is the unit consumption, all levels in the level's unit):

- ``below_limit``: ``u > limit`` of the quota standard in force in that year (to be
  eliminated); checked first, so it applies even where the limit is stricter than the
  NDRC baseline;
- ``benchmark``: ``u <= benchmark`` (at or better than the benchmark);
- ``between``: ``benchmark < u <= baseline``;
- ``below_baseline``: ``u > baseline`` (must upgrade or exit by the deadline).

References
----------
NDRC et al., 高耗能行业重点领域能效标杆水平和基准水平（2021年版）, 发改产业〔2021〕1609号.
NDRC et al., 工业重点领域能效标杆水平和基准水平（2023年版）, 发改产业〔2023〕723号.
NDRC et al., 关于严格能效约束推动重点领域节能降碳的若干意见, 发改产业〔2021〕1464号.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from dualcontrol.conversion import co2_coefficient, tce_coefficient
from dualcontrol.errors import InputError, Problem
from dualcontrol.reference import carriers, load_table, normalise_name, resolve_unit

logger = logging.getLogger(__name__)

#: Columns a production-units frame must have.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "unit_id", "enterprise_code", "enterprise_name", "region", "industry", "product",
    "year", "capacity", "capacity_unit", "output", "output_unit", "energy_tce",
)

#: Classes from best to worst.
CLASSES: tuple[str, ...] = ("benchmark", "between", "below_baseline", "below_limit")

#: Relative tolerance of the level comparisons: a unit consumption within this fraction
#: of a level counts as on it, so float round-off (805.0000000000001) cannot change a class.
RELATIVE_TOLERANCE = 1e-9

#: Grid whose electricity CO2 factor values electricity savings (aluminium): None, the
#: grid the year's rule names (``electricity_factor_rules.csv``), as in the accounts.
DEFAULT_GRID: str | None = None


@dataclass(frozen=True)
class Level:
    """The benchmark and baseline of one product in one level set (edition)."""

    product: str
    name_en: str
    name_zh: str
    industry: str
    area_group: str
    level_set: str
    applies_from_year: int
    unit: str
    output_unit: str
    output_unit_aliases: tuple[str, ...]
    numerator: str
    numerator_scale: float
    boundary: str
    benchmark: float
    baseline: float
    upgrade_deadline: str | None
    source: str
    edition: str
    verified: bool
    checked: str


@dataclass(frozen=True)
class Quota:
    """The advanced, access and limit values of a national quota standard."""

    product: str
    standard: str
    unit: str
    advanced: float
    access: float
    limit: float
    in_force_year: int
    source: str
    verified: bool


def _float_or_nan(text: str) -> float:
    return float(text) if str(text).strip() else math.nan


@cache
def _deadlines() -> dict[str, str | None]:
    table = load_table("efficiency-deadlines")
    return {r["area_group"]: (r["upgrade_deadline"] or None) for _, r in table.iterrows()}


@cache
def levels() -> tuple[Level, ...]:
    """Return every level row of ``efficiency_levels.csv`` that has both levels."""
    out = []
    for _, r in load_table("efficiency-levels").iterrows():
        if not (r["benchmark"].strip() and r["baseline"].strip()):
            continue
        out.append(Level(
            product=r["product"], name_en=r["name_en"], name_zh=r["name_zh"],
            industry=r["industry"], area_group=r["area_group"], level_set=r["level_set"],
            applies_from_year=int(r["applies_from_year"]), unit=r["unit"],
            output_unit=r["output_unit"],
            output_unit_aliases=tuple(a for a in r["output_unit_aliases"].split("|") if a),
            numerator=r["numerator"], numerator_scale=float(r["numerator_scale"]),
            boundary=r["boundary"], benchmark=float(r["benchmark"]),
            baseline=float(r["baseline"]), upgrade_deadline=_deadlines().get(r["area_group"]),
            source=r["source"], edition=r["edition"],
            verified=r["verified"].strip().lower() == "true", checked=r["checked"],
        ))
    return tuple(out)


def supported_products() -> list[str]:
    """Return the product codes that have a benchmark and a baseline."""
    return sorted({lv.product for lv in levels()})


def _products_without_levels() -> dict[str, str]:
    table = load_table("efficiency-levels")
    missing = table[(table["benchmark"].str.strip() == "") | (table["baseline"].str.strip() == "")]
    return {r["product"]: r["checked"] for _, r in missing.iterrows()}


def level_for(product: str, year: int | None = None, *, level_set: str | None = None,
              file: str | None = None, row: int | None = None,
              field: str = "product") -> Level:
    """Return the level of ``product`` that applies to data of ``year``.

    The latest level set whose ``applies_from_year`` is not after ``year`` applies; a
    year before every edition takes the earliest edition (logged). ``level_set``
    (``NDRC-2021``, ``NDRC-2023``) overrides the choice.

    Raises
    ------
    InputError
        If the product has no benchmark and baseline; the error names the supported
        products (and says why a known product such as PVC has none).
    """
    code = normalise_name(product)
    rows = [lv for lv in levels() if lv.product == code]
    if not rows:
        why = _products_without_levels().get(code)
        message = "product has no benchmark/baseline level"
        if why:
            message += f" ({why})"
        raise InputError(Problem(message, file=file, row=row, field=field, value=product,
                                 accepted=supported_products()))
    if level_set is not None:
        chosen = [lv for lv in rows if lv.level_set == level_set]
        if not chosen:
            raise InputError(Problem(f"no level set {level_set!r} for {code}", file=file,
                                     field="level_set", value=level_set,
                                     accepted=sorted({lv.level_set for lv in rows})))
        return chosen[0]
    rows.sort(key=lambda lv: lv.applies_from_year)
    if year is None:
        return rows[-1]
    eligible = [lv for lv in rows if lv.applies_from_year <= year]
    if not eligible:
        logger.warning("no level of %s applies to %s; using %s", code, year, rows[0].level_set)
        return rows[0]
    return eligible[-1]


@cache
def _quotas() -> tuple[Quota, ...]:
    return tuple(
        Quota(r["product"], r["standard"], r["unit"], float(r["advanced"]),
              float(r["access"]), float(r["limit"]), int(r["in_force_year"]), r["source"],
              r["verified"].strip().lower() == "true")
        for _, r in load_table("energy-quota-limits").iterrows()
    )


def quota_for(product: str, year: int | None = None) -> Quota | None:
    """Return the quota standard of ``product`` in force in ``year``, or None.

    With ``year=None`` the latest edition recorded is returned.
    """
    rows = [q for q in _quotas() if q.product == product
            and (year is None or q.in_force_year <= year)]
    return max(rows, key=lambda q: q.in_force_year) if rows else None


def classify(unit_consumption: float, benchmark: float, baseline: float,
             limit: float | None = None) -> str:
    """Return the efficiency class of one unit consumption (lower is better).

    Parameters
    ----------
    unit_consumption : float
        Unit energy consumption [level unit, e.g. kgce/t].
    benchmark : float
        Benchmark level 标杆 [same unit].
    baseline : float
        Baseline level 基准 [same unit]; not better than ``benchmark``.
    limit : float, optional
        Limit value of the quota standard [same unit]; None or NaN if none applies.

    Returns
    -------
    str
        One of ``benchmark``, ``between``, ``below_baseline``, ``below_limit``.

    References
    ----------
    发改产业〔2021〕1464号 (benchmark for new projects, baseline deadline for existing).
    """
    return str(classify_array(np.array([unit_consumption], dtype=float), benchmark,
                              baseline, limit)[0])


def classify_array(unit_consumption: np.ndarray, benchmark: np.ndarray | float,
                   baseline: np.ndarray | float,
                   limit: np.ndarray | float | None = None) -> np.ndarray:
    """Return the class of each unit consumption; vectorised :func:`classify`."""
    u = np.asarray(unit_consumption, dtype=float)
    bench = np.broadcast_to(np.asarray(benchmark, dtype=float), u.shape)
    base = np.broadcast_to(np.asarray(baseline, dtype=float), u.shape)
    if np.any(bench > base):
        raise ValueError("benchmark must be at or below baseline (lower is better)")
    lim = np.full(u.shape, np.nan) if limit is None else np.broadcast_to(
        np.asarray(limit, dtype=float), u.shape)
    beyond_limit = ~np.isnan(lim) & ~at_or_better(u, np.where(np.isnan(lim), np.inf, lim))
    return np.select(
        [beyond_limit, at_or_better(u, bench), at_or_better(u, base)],
        ["below_limit", "benchmark", "between"],
        default="below_baseline",
    ).astype(object)


def at_or_better(unit_consumption: np.ndarray | float, level: np.ndarray | float,
                 ) -> np.ndarray:
    """Return True where the unit consumption is at or better than (below) the level.

    Lower is better; a value within :data:`RELATIVE_TOLERANCE` of the level counts as on
    it (scaled by ``max(1, |level|)`` so that levels near zero keep an absolute margin).
    """
    level_arr = np.asarray(level, dtype=float)
    margin = RELATIVE_TOLERANCE * np.maximum(1.0, np.abs(np.where(np.isinf(level_arr), 1.0,
                                                                    level_arr)))
    return np.asarray(unit_consumption, dtype=float) <= level_arr + margin


def output_factor(unit: str, level: Level, *, file: str | None = None,
                  row: int | None = None, field: str = "output_unit") -> float:
    """Return the factor turning an output in ``unit`` into the level's output unit.

    Raises
    ------
    InputError
        If ``unit`` does not fit the level's output unit (``kWh`` for ferrosilicon).
    """
    accepted = [level.output_unit, *level.output_unit_aliases]
    key = normalise_name(unit)
    if key in {normalise_name(a) for a in accepted}:
        return 1.0
    try:
        given = resolve_unit(unit, field=field, row=row, file=file)
        own = resolve_unit(level.output_unit)
    except InputError:
        given = own = None
    if given is not None and own is not None and given.dimension == own.dimension:
        return given.to_base / own.to_base
    raise InputError(Problem(
        f"output unit does not match the level of {level.product}, which is in {level.unit}",
        file=file, row=row, field=field, value=unit,
        accepted=accepted + ([f"any {own.dimension} unit"] if own is not None else [])))


def co2_per_tce() -> tuple[float, str]:
    """Return the CO2 factor applied to saved standard coal [t CO2 / tce] and its source.

    Energy saved in a unit whose level is in tce is valued as raw coal, the marginal
    fuel of Inner Mongolia's industry and power: raw coal's combustion factor per t
    over its standard-coal coefficient per t.

    References
    ----------
    GB/T 2589-2020 Appendix A (raw coal 0.7143 kgce/kg); IPCC (2006) Vol. 2 Ch. 2
    Table 2.2 (other bituminous coal 94,600 kg CO2/TJ).
    """
    coal = carriers()["raw_coal"]
    assert coal.co2_t_per_unit is not None
    return coal.co2_t_per_unit / coal.tce_per_unit, (
        f"raw coal: {coal.co2_source} / {coal.source}")


def split_by_level(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split production units into those whose product has levels and the others.

    A store holds units of every industry; only products with a benchmark and a baseline
    (:func:`supported_products`) can be benchmarked. A file given by the user is checked
    strictly by :func:`benchmark_units` instead (an unknown product is an error there).

    Returns
    -------
    tuple of pandas.DataFrame
        The covered rows (unchanged), and one row per industry and product not covered:
        ``industry``, ``product``, ``units``, ``reason``.
    """
    known = set(supported_products())
    without = _products_without_levels()
    codes = frame["product"].astype(str).map(normalise_name)
    covered = codes.isin(known)
    rest = frame.loc[~covered].assign(_code=codes[~covered])
    summary = (rest.groupby(["industry", "product", "_code"], dropna=False)["unit_id"]
               .nunique().reset_index(name="units"))
    summary["reason"] = [without.get(code) or "no national benchmark/baseline level"
                         for code in summary["_code"]]
    return frame.loc[covered], summary.drop(columns="_code")


def _finite(value: object) -> float | None:
    """Return ``value`` as a finite float, or None if it is not a number."""
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return float(number) if pd.notna(number) and math.isfinite(float(number)) else None


def _validate(frame: pd.DataFrame, file: str | None) -> list[Problem]:
    problems = [Problem("column is missing", file=file, field=c, accepted=list(REQUIRED_COLUMNS))
                for c in REQUIRED_COLUMNS if c not in frame.columns]
    return problems


def benchmark_units(frame: pd.DataFrame, *, level_set: str | None = None,
                    file: str | None = None, grid: str | None = DEFAULT_GRID,
                    ) -> pd.DataFrame:
    """Return every production unit with its unit consumption, class and savings.

    Parameters
    ----------
    frame : pandas.DataFrame
        Production units, one row per unit and year (schema in the module docstring).
    level_set : str, optional
        Force one level set (``NDRC-2021`` or ``NDRC-2023``) instead of the one that
        applies to each row's year.
    file : str, optional
        Name of the input file, for error messages.
    grid : str
        Grid whose CO2 factor values saved electricity [kg CO2 / kWh].

    Returns
    -------
    pandas.DataFrame
        The input columns plus ``level_set``, ``level_unit``, ``unit_consumption``,
        ``benchmark``, ``baseline``, ``quota_standard``, ``quota_limit``, ``class``,
        ``upgrade_deadline``, ``savings_to_benchmark_tce``,
        ``savings_to_baseline_tce``, ``savings_to_benchmark_co2_t``,
        ``savings_to_baseline_co2_t`` [tce, t CO2 per year] and ``level_verified``.

    Raises
    ------
    InputError
        Listing every bad row: unknown product (naming the supported ones), output
        not > 0, output unit not fitting the level, missing or negative energy.
    """
    problems = _validate(frame, file)
    if problems:
        raise InputError(problems)
    coal_co2, _ = co2_per_tce()
    records = []
    for index, rec in zip(frame.index, frame.to_dict("records"), strict=True):
        row = int(index) + 2 if isinstance(index, (int, np.integer)) else None
        try:
            level = level_for(str(rec["product"]), int(rec["year"]), level_set=level_set,
                              file=file, row=row)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        output = _finite(rec["output"])
        if output is None or output <= 0:
            problems.append(Problem("output must be a number > 0", file=file, row=row,
                                    field="output", value=rec["output"]))
            continue
        try:
            output = output * output_factor(str(rec["output_unit"]), level, file=file,
                                                   row=row)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        column = level.numerator
        raw = rec.get(column)
        numerator = _finite(raw)
        if numerator is None:
            problems.append(Problem(f"{column} is required for {level.product} "
                                    f"(its level is in {level.unit})", file=file, row=row,
                                    field=column, value=raw))
            continue
        quota = quota_for(level.product, int(rec["year"]))
        records.append({
            **rec,
            "output_in_level_unit": output,
            "level_set": level.level_set, "level_unit": level.unit,
            "unit_consumption": numerator * level.numerator_scale / output,
            "benchmark": level.benchmark, "baseline": level.baseline,
            "quota_standard": quota.standard if quota else None,
            "quota_limit": quota.limit if quota else math.nan,
            "upgrade_deadline": level.upgrade_deadline,
            "level_verified": level.verified,
            "_scale": level.numerator_scale, "_numerator": column,
        })
    if problems:
        raise InputError(problems)
    out = pd.DataFrame(records)
    if out.empty:
        return out
    out["class"] = classify_array(out["unit_consumption"].to_numpy(float),
                                  out["benchmark"].to_numpy(float),
                                  out["baseline"].to_numpy(float),
                                  out["quota_limit"].to_numpy(float))
    for target in ("benchmark", "baseline"):
        excess = np.clip(out["unit_consumption"] - out[target], 0, None)
        saved = excess * out["output_in_level_unit"] / out["_scale"]  # tce, or kWh
        is_kwh = out["_numerator"] == "electricity_kwh"
        tce = saved.where(~is_kwh, 0.0)
        co2 = tce * coal_co2
        if is_kwh.any():
            elec = carriers()["electricity"]
            kwh_tce, _ = tce_coefficient(elec)
            for idx in out.index[is_kwh]:
                factor, _, _ = co2_coefficient(elec, int(out.at[idx, "year"]), grid)
                tce.at[idx] = saved.at[idx] * kwh_tce
                co2.at[idx] = saved.at[idx] * factor
        out[f"savings_to_{target}_tce"] = tce
        out[f"savings_to_{target}_co2_t"] = co2
    return out.drop(columns=["_scale", "_numerator"])


def class_shares(result: pd.DataFrame, by: Sequence[str] = ("industry", "product"),
                 ) -> pd.DataFrame:
    """Return the share of capacity and of output in each class, per group.

    Capacity and output are only added within one unit: ``capacity_unit`` and
    ``output_unit`` are always part of the grouping.

    Parameters
    ----------
    result : pandas.DataFrame
        Output of :func:`benchmark_units`.
    by : sequence of str
        Grouping columns, e.g. ``("industry", "product")`` or ``("region",)``.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``class``, ``units``, ``capacity``, ``capacity_share``,
        ``output``, ``output_share`` (shares in [0, 1], summing to 1 per group).
    """
    keys = [*by, "capacity_unit", "output_unit"]
    if result.empty:
        return pd.DataFrame(columns=[*keys, "class", "units", "capacity", "capacity_share",
                                     "output", "output_share"])
    grouped = (result.assign(capacity=pd.to_numeric(result["capacity"]),
                             output=pd.to_numeric(result["output"]))
               .groupby([*keys, "class"], dropna=False)
               .agg(units=("unit_id", "count"), capacity=("capacity", "sum"),
                    output=("output", "sum")).reset_index())
    totals = grouped.groupby(keys, dropna=False)[["capacity", "output"]].transform("sum")
    grouped["capacity_share"] = grouped["capacity"] / totals["capacity"]
    grouped["output_share"] = grouped["output"] / totals["output"]
    grouped["class"] = pd.Categorical(grouped["class"], categories=list(CLASSES), ordered=True)
    grouped = grouped.sort_values([*keys, "class"]).reset_index(drop=True)
    grouped["class"] = grouped["class"].astype(str)
    return grouped[[*keys, "class", "units", "capacity", "capacity_share", "output",
                    "output_share"]]


def front_runners(result: pd.DataFrame) -> pd.DataFrame:
    """Return the units at or better than the benchmark, best first within each product.

    ``margin_to_benchmark`` is ``benchmark - unit_consumption`` [level unit]: how far
    the unit is better than the benchmark (0 = exactly at it).
    """
    cols = ["product", "year", "unit_id", "enterprise_name", "region", "unit_consumption",
            "level_unit", "benchmark", "margin_to_benchmark"]
    if result.empty:
        return pd.DataFrame(columns=cols)
    best = result[result["class"] == "benchmark"].copy()
    best["margin_to_benchmark"] = best["benchmark"] - best["unit_consumption"]
    best = best.sort_values(["product", "year", "unit_consumption"])
    best["rank"] = best.groupby(["product", "year"]).cumcount() + 1
    return best[["rank", *cols]].reset_index(drop=True)


def savings_potential(result: pd.DataFrame, by: Sequence[str] = ("industry",),
                      ) -> pd.DataFrame:
    """Return the energy and CO2 saved if laggards reached the benchmark / baseline.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns and ``savings_to_benchmark_tce``, ``savings_to_benchmark_co2_t``,
        ``savings_to_baseline_tce``, ``savings_to_baseline_co2_t`` [tce / a, t CO2 / a],
        ``units_worse_than_benchmark`` and ``units_worse_than_baseline``, with a
        ``total`` row.
    """
    cols = ["savings_to_benchmark_tce", "savings_to_benchmark_co2_t",
            "savings_to_baseline_tce", "savings_to_baseline_co2_t"]
    if result.empty:
        return pd.DataFrame(columns=[*by, *cols])
    frame = result.assign(
        units_worse_than_benchmark=result["class"] != "benchmark",
        units_worse_than_baseline=result["class"].isin(["below_baseline", "below_limit"]),
    )
    agg = frame.groupby(list(by), dropna=False)[
        [*cols, "units_worse_than_benchmark", "units_worse_than_baseline"]].sum()
    agg = agg.reset_index()
    total = agg[[*cols, "units_worse_than_benchmark", "units_worse_than_baseline"]].sum()
    total_row = {**{b: "total" for b in by}, **total.to_dict()}
    agg = pd.concat([agg, pd.DataFrame([total_row])], ignore_index=True)
    for c in ("units_worse_than_benchmark", "units_worse_than_baseline"):
        agg[c] = agg[c].astype(int)
    return agg
