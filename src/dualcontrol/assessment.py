"""Assessment of plan targets: dual-control progress, the barometer, other plan indicators.

Input: region accounts
----------------------
A DataFrame with one row per region and period (``dualcontrol.datasets.region_accounts``
builds it from the store; any CSV with these columns works):

- ``region_code`` (GB/T 2260, e.g. 150600 for Ordos), ``region_name`` (optional),
  ``level`` (optional: ``region``, ``league``, ``county``; derived from the code when
  absent), ``parent_code`` (optional; derived from the code when absent);
- ``year`` and optionally ``quarter`` (1-4) or ``period`` (``2024``, ``2024-Q3``,
  ``2024-H1``, ``2024-07``). Every period is *cumulative from January* (1-9月 for Q3),
  as the statistics report them; a year is the 12-month period;
- ``energy_tce`` [tce], ``feedstock_tce`` [tce] (原料用能), ``renewable_tce`` [tce]
  (renewable electricity), ``nonfossil_tce`` [tce] (all non-fossil energy; taken as
  ``renewable_tce`` when absent), ``co2_t`` [t CO2] (optional), ``gdp_const_10k_yuan``
  [10^4 yuan at comparable prices of one base year], ``gdp_current_10k_yuan`` (optional,
  not used). ``controlled_tce`` from the accounts is ignored: the deductions are
  recomputed here by the rules of the assessment year and shown.

Rules
-----
- **Rule set of the plan period**, as data in ``assessment_rule_sets.csv`` by
  assessment year: which indicators are assessed and how (role ``binding``,
  ``flexible``, ``supplementary``: rated; ``reported``: shown, not rated). 2021-2025
  energy dual control (发改环资〔2021〕1310号: energy intensity binding, the total
  flexible, CO2 intensity binding); from 2026 carbon dual control (国办发〔2024〕39号:
  CO2 intensity binding, total CO2 supplementary, energy intensity and total reported).
  :func:`compare_rule_sets` applies both to the same data (the two ledgers).
- **Progress requirement** (进度要求), as data in ``progress_paths.csv`` by assessment
  year: a plan reduces intensity by ``R`` over ``n`` years from base year ``b``. After
  ``k = y - b`` years the required cumulative reduction is ``R * k / n`` on the linear
  path (the NDRC's documented practice: 20/40/60/80/100% of the five-year target) or
  ``1 - (1 - R) ** (k / n)`` on the compounded one. A total target (a cap, or an
  increment ``dE`` over the base) is pro-rated the same way:
  ``allowed(k) = E_b + (E_cap - E_b) * k / n`` (linear) or
  ``E_b * (E_cap / E_b) ** (k / n)`` (compounded).
- **Cumulative periods** (a quarter, or the months of the current year reported so
  far, e.g. 1-10月) are the year to date: compared with the same months of the previous
  year (which removes the season) and chained onto the previous full year:
  ``I_est(y) = I(y-1) * I(p, y) / I(p, y-1)``; the requirement is that of year ``y``,
  since the year-to-date pace is the estimate of the year's outcome. A total's allowed
  path is scaled to the period by last year's share of the period in the year.
- **Barometer** (晴雨表), as data in ``barometer_rules.csv``, one scheme per range of
  assessment years. 发改办环资〔2020〕901号 (to 2020): green when the achieved
  reduction meets the requirement (the total stays on its path); yellow when missed by
  at most 10% of the target (the required reduction, or the allowed increment of the
  total); red when missed by more. 发改办环资〔2021〕629号 (from 2021): intensity red
  when it rose against the same period of the previous year, yellow when it misses the
  requirement, green otherwise (the total keeps the 10% split). ``no_data`` when a
  needed row is missing; a region without a numeric target is ``no_target``.
- **Exclusions**, as data in ``exclusion_rules.csv`` by assessment year: feedstock
  (发改环资〔2022〕803号) from total and intensity, from base and assessed year, GDP
  not adjusted; renewable electricity above its 2020 level from the total only
  (notice of 2022-11-16); all non-fossil energy from total and intensity (notice of
  2024-02-02). The rules of the assessment year are applied to every row the
  assessment uses, so base and assessed year are treated alike.

References
----------
NDRC, 各地区能耗双控目标完成情况晴雨表: 发改办环资〔2020〕901号 and 〔2021〕629号;
2021 Q1 as reported by Caixin, 2021-06-04.
NDRC and NBS, 发改环资〔2022〕803号, 2022-10-27.
NDRC, NBS and NEA, notices of 2022-11-16 and 2024-02-02.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dualcontrol.errors import InputError, Problem, require_columns, spreadsheet_rows
from dualcontrol.reference import load_table

logger = logging.getLogger(__name__)

#: Relative tolerance of rating comparisons: float rounding of ratios, not a policy margin.
NUMERIC_TOLERANCE = 1e-9

#: Assessed indicators: group of barometer rules, target indicators, numerator column.
INDICATORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "energy_intensity": ("intensity", ("energy_intensity_reduction",)),
    "energy_total": ("total", ("energy_total_increment_tce", "energy_total_cap_tce")),
    "co2_intensity": ("intensity", ("co2_intensity_reduction",)),
    "co2_total": ("total", ("co2_total_increment_t", "co2_total_cap_t")),
}

#: Column of the accounts each indicator is computed from (after the year's exclusions),
#: and the gross column a cap is turned into an increment against.
NUMERATORS: dict[str, str] = {"energy_intensity": "energy_for_intensity_tce",
                              "energy_total": "energy_for_total_tce",
                              "co2_intensity": "co2_t", "co2_total": "co2_t"}
GROSS: dict[str, str] = {"energy_total": "energy_tce", "co2_total": "co2_t"}
UNITS: dict[str, str] = {"energy_intensity": "1 (reduction vs base year)",
                         "energy_total": "tce", "co2_intensity": "1 (reduction vs base year)",
                         "co2_total": "t CO2"}

#: Roles of an indicator in a rule set (``assessment_rule_sets.csv``): every role but
#: ``reported`` is rated on the barometer.
ROLES: tuple[str, ...] = ("binding", "flexible", "supplementary", "reported")

#: Ratings, worst first; ``exempt``: a total not assessed because the region met its
#: incentive intensity target (``total_exemption_rules.csv``); ``reported``: an indicator the
#: year's rule set reports without rating it (energy under carbon dual control).
RATINGS: tuple[str, ...] = ("red", "yellow", "green", "exempt", "reported", "no_data",
                            "no_target")

ACCOUNT_COLUMNS: tuple[str, ...] = ("region_code", "year", "energy_tce", "gdp_const_10k_yuan")
OPTIONAL_TCE: tuple[str, ...] = ("feedstock_tce", "renewable_tce", "nonfossil_tce")

_KIND_ORDER = {"binding": 0, "expected": 1, "incentive": 2}


# --------------------------------------------------------------------------- rules


#: Shapes of a progress path: ``linear`` (k/n of the plan's change after k of n years,
#: the NDRC's documented evaluation practice) or ``compounded`` (a constant annual rate).
PATHS: tuple[str, ...] = ("linear", "compounded")


def required_reduction(target_reduction: float, years_elapsed: float, plan_years: float,
                       path: str = "linear") -> float:
    """Return the cumulative intensity reduction required after ``years_elapsed`` [1].

    Parameters
    ----------
    target_reduction : float
        Reduction the plan requires by its target year, as a fraction of the
        base-year intensity [1] (0.135 for -13.5%).
    years_elapsed : float
        Years since the base year [a].
    plan_years : float
        Years from the base to the target year [a].
    path : {'linear', 'compounded'}
        ``linear``: ``R * k / n`` (20/40/60/80/100% of the five-year target);
        ``compounded``: ``1 - (1 - R) ** (k / n)``, a constant annual rate. Both end
        on the target; which applies in a year is a row of ``progress_paths.csv``.

    References
    ----------
    NDRC evaluation of the 12th-plan targets: "第一年完成'十二五'节能目标进度的20%，
    第二年40%，第三年60%，第四年80%，第五年100%".
    """
    if path == "linear":
        return target_reduction * years_elapsed / plan_years
    if path == "compounded":
        return 1.0 - (1.0 - target_reduction) ** (years_elapsed / plan_years)
    raise InputError(Problem("unknown progress path", field="path", value=path,
                             accepted=PATHS))


def allowed_total_tce(base_tce: float, cap_tce: float, years_elapsed: float,
                      plan_years: float, path: str = "linear") -> float:
    """Return the total energy allowed after ``years_elapsed`` on the path to the cap [tce].

    Parameters
    ----------
    base_tce : float
        Controlled total of the base year [tce].
    cap_tce : float
        Controlled total allowed in the target year [tce].
    years_elapsed, plan_years : float
        Years since the base year and length of the plan [a].
    path : {'linear', 'compounded'}
        ``linear``: ``E_b + (E_cap - E_b) * k / n``; ``compounded``: constant growth,
        ``E_b * (E_cap / E_b) ** (k / n)`` (see :func:`required_reduction`).
    """
    if path == "linear":
        return base_tce + (cap_tce - base_tce) * years_elapsed / plan_years
    if path == "compounded":
        return base_tce * (cap_tce / base_tce) ** (years_elapsed / plan_years)
    raise InputError(Problem("unknown progress path", field="path", value=path,
                             accepted=PATHS))


def _rows_for_year(table: pd.DataFrame, year: int) -> pd.DataFrame:
    """Return the rows of a rule table in force for an assessment year."""
    first = pd.to_numeric(table["first_assessment_year"]).astype(int)
    last = pd.to_numeric(table["last_assessment_year"].replace("", "9999")).astype(int)
    return table[(first <= year) & (year <= last)]


def progress_path(year: int) -> pd.Series:
    """Return the progress-path rule (``progress_paths.csv``) in force for a year.

    Raises
    ------
    InputError
        When no row covers ``year``, naming the file to add one to.
    """
    table = load_table("progress-paths")
    rows = _rows_for_year(table, year)
    if rows.empty:
        raise InputError(Problem(
            f"no progress-path rule covers {year}: add a row to progress_paths.csv",
            field="year", value=year,
            accepted=[f"{r.first_assessment_year}-{r.last_assessment_year}"
                      for r in table.itertuples()]))
    return rows.iloc[0]


def total_exemption_rule(year: int) -> pd.Series | None:
    """Return the rule exempting a total from assessment in ``year``, or None.

    References
    ----------
    发改环资〔2021〕1310号: a region whose intensity reduction reaches the incentive
    target has its total exempted from the plan period's assessment.
    """
    rows = _rows_for_year(load_table("total-exemption-rules"), year)
    return rows.iloc[0] if len(rows) else None


def rule_set(year: int, name: str | None = None) -> pd.DataFrame:
    """Return the rule set (``assessment_rule_sets.csv``) in force for an assessment year.

    One row per assessed indicator, in the file's order: ``rule_id``, ``rule_set``
    (``energy_dual_control`` to 2025, ``carbon_dual_control`` from 2026), ``name_zh``,
    ``name_en``, ``indicator``, ``role`` (``binding``, ``flexible``, ``supplementary``:
    rated; ``reported``: shown, not rated) and the source columns.

    Raises
    ------
    InputError
        When no row covers ``year`` or a row has an unknown indicator or role.

    References
    ----------
    发改环资〔2021〕1310号 (14th plan, energy dual control); 国办发〔2024〕39号 (15th plan:
    carbon dual control, intensity binding, the total as a supplement).

    With ``name`` (``energy_dual_control`` or ``carbon_dual_control``) that set's rows
    for ``year``, or where the set is not in force that year its nearest edition (the
    14th plan's energy rules for 2026, the 15th plan's carbon rules for 2025): the
    side-by-side view applies both to the same data (:func:`compare_rule_sets`).
    """
    table = load_table("assessment-rule-sets")
    if name is not None:
        named = table[table["rule_set"] == name]
        if named.empty:
            raise InputError(Problem("unknown rule set", field="rule_set", value=name,
                                     accepted=list(dict.fromkeys(table["rule_set"]))))
        rows = _rows_for_year(named, year)
        if rows.empty:
            first = pd.to_numeric(named["first_assessment_year"]).astype(int)
            last = pd.to_numeric(named["last_assessment_year"].replace("", "9999")).astype(int)
            distance = np.maximum(first - year, year - last)
            rows = named[distance == distance.min()]
        table = named
    else:
        rows = _rows_for_year(table, year)
    if rows.empty:
        raise InputError(Problem(
            f"no assessment rule set covers {year}: add rows to assessment_rule_sets.csv",
            field="year", value=year,
            accepted=sorted({f"{r.first_assessment_year}-{r.last_assessment_year}"
                             for r in table.itertuples()})))
    problems = [Problem("unknown indicator", file="assessment_rule_sets.csv", field="indicator",
                        value=v, accepted=list(INDICATORS))
                for v in rows["indicator"] if v not in INDICATORS]
    problems += [Problem("unknown role", file="assessment_rule_sets.csv", field="role",
                         value=v, accepted=ROLES) for v in rows["role"] if v not in ROLES]
    if problems:
        raise InputError(problems)
    return rows.reset_index(drop=True)


def barometer_rules(year: int | None = None) -> pd.DataFrame:
    """Return the barometer rules (``barometer_rules.csv``) with typed columns.

    With ``year`` only the scheme in force for that assessment year (e.g. 发改办环资
    〔2020〕901号 to 2020, 〔2021〕629号 from 2021).
    """
    rules = load_table("barometer-rules").copy()
    if year is not None:
        rules = _rows_for_year(rules, year)
        if rules.empty:
            raise InputError(Problem(
                f"no barometer scheme covers {year}: add rows to barometer_rules.csv",
                field="year", value=year))
    rules["precedence"] = rules["precedence"].astype(int)
    rules["threshold_fraction_of_target"] = pd.to_numeric(
        rules["threshold_fraction_of_target"].replace("", np.nan))
    return rules.sort_values(["indicator_group", "precedence"]).reset_index(drop=True)


def rate(group: str, shortfall: float, target: float, *, rising: bool = False,
         has_data: bool = True, rules: pd.DataFrame | None = None) -> tuple[str, str]:
    """Return the barometer rating and the id of the rule that gave it.

    Parameters
    ----------
    group : str
        ``intensity`` or ``total``.
    shortfall : float
        How far the region is behind its progress requirement, in the units of
        ``target`` (required minus achieved reduction [1]; total minus allowed [tce]);
        zero or negative when on track.
    target : float
        The progress target the shortfall is measured against (required reduction [1],
        or the allowed increment [tce]); 10% of it separates yellow from red.
    rising : bool
        Intensity rose against the same period of the previous year.
    has_data : bool
        False when a needed figure is missing: the rating is ``no_data``.

    ``rules`` are those of one scheme (:func:`barometer_rules` of the assessment
    year); by default the latest scheme.

    References
    ----------
    NDRC barometers 发改办环资〔2020〕901号 and 〔2021〕629号 (``barometer_rules.csv``).
    """
    if rules is None:  # the latest scheme of barometer_rules.csv
        latest = int(load_table("barometer-rules")["first_assessment_year"].astype(int).max())
        rules = barometer_rules(latest)
    table = rules
    table = table[table["indicator_group"] == group]
    behind = shortfall > NUMERIC_TOLERANCE * max(abs(target), 1e-12)
    for rule in table.itertuples(index=False):
        threshold = rule.threshold_fraction_of_target
        if rule.condition == "no_data":
            hit = not has_data
        elif not has_data:
            continue
        elif rule.condition == "rising":
            hit = rising
        elif rule.condition == "shortfall_above":
            hit = behind and (target <= 0 or shortfall / target
                              > threshold * (1 + NUMERIC_TOLERANCE))
        elif rule.condition == "shortfall_up_to":
            hit = behind
        elif rule.condition == "on_track":
            hit = not behind
        else:
            raise ValueError(f"unknown barometer condition {rule.condition!r}")
        if hit:
            return rule.rating, rule.rule_id
    raise ValueError(f"no barometer rule matched group {group!r}")


def exclusion_rules(assessment_year: int) -> pd.DataFrame:
    """Return the exclusion rules (``exclusion_rules.csv``) in force for a year.

    References
    ----------
    发改环资〔2022〕803号; NDRC/NBS/NEA notices of 2022-11-16 and 2024-02-02.
    """
    rules = load_table("exclusion-rules")
    first = pd.to_numeric(rules["first_assessment_year"].replace("", np.nan))
    last = pd.to_numeric(rules["last_assessment_year"].replace("", np.nan))
    active = (first.isna() | (first <= assessment_year)) & (last.isna() | (last >= assessment_year))
    out = rules[active].copy()
    for column in ("applies_to_total", "applies_to_intensity"):
        out[column] = out[column].str.lower() == "true"
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- targets


def targets(*, include_demo: bool = False) -> pd.DataFrame:
    """Return the plan targets, typed; with ``include_demo`` also the demo league targets."""
    frames = [load_table("targets")]
    if include_demo:
        frames.append(load_table("demo-league-targets"))
    out = pd.concat(frames, ignore_index=True)
    out["region_code"] = out["region_code"].astype(str)
    out["base_year"] = out["base_year"].astype(int)
    out["target_year"] = out["target_year"].astype(int)
    # a target not yet published is a row without a value (and a note saying so)
    out["target_value"] = pd.to_numeric(out["target_value"].replace("", np.nan))
    return out


def plan_target(table: pd.DataFrame, region_code: str, indicator: str, year: int,
                plan: str | None = None, *, published: bool = True) -> pd.Series | None:
    """Return the target row assessing ``indicator`` of a region in ``year``, or None.

    Among the plans whose span contains ``year`` (base year < year <= target year):
    binding before expected before incentive, then the longest plan, then an increment
    before a cap (for the total). With ``published=False``, the rows kept for a target
    that is not yet published (no value, a note saying so) are searched instead.
    """
    wanted = INDICATORS[indicator][1]
    has_value = table["target_value"].notna()
    rows = table[(table["region_code"] == str(region_code)) & table["indicator"].isin(wanted)
                 & (table["base_year"] < year) & (table["target_year"] >= year)
                 & (has_value if published else ~has_value)]
    if plan is not None:
        rows = rows[rows["plan"] == plan]
    if rows.empty:
        return None
    order = rows.assign(
        _kind=rows["kind"].map(_KIND_ORDER).fillna(9),
        _span=-(rows["target_year"] - rows["base_year"]),
        _ind=rows["indicator"].map({w: i for i, w in enumerate(wanted)}),
    ).sort_values(["_kind", "_span", "_ind"])
    return order.iloc[0]


# --------------------------------------------------------------------------- accounts


def _months(year_period: str | None, quarter: object) -> int | None:
    from dualcontrol.accounting import parse_period

    if year_period:
        p = parse_period(year_period)
        if p.month is not None:
            return p.month
        if p.quarter is not None:
            return 3 * p.quarter
        if p.half is not None:
            return 6 * p.half
        return 12
    if quarter is None or (isinstance(quarter, float) and math.isnan(quarter)) or quarter == "":
        return 12
    return 3 * int(float(quarter))


def period_label(year: int, months: int) -> str:
    """Return the label of a cumulative period: ``2024``, ``2024-Q3``, ``2024-H1``, ``2024-07``."""
    if months == 12:
        return str(year)
    if months == 6:
        return f"{year}-H1"
    if months % 3 == 0:
        return f"{year}-Q{months // 3}"
    return f"{year}-{months:02d}"


def period_label_zh(year: int, months: int) -> str:
    """Return the Chinese label of a cumulative period: ``2025年``, ``2026年1-10月``."""
    if months == 12:
        return f"{year}年"
    return f"{year}年1月" if months == 1 else f"{year}年1-{months}月"


def comparison_method(year: int, months: int) -> str:
    """Return how a cumulative period is compared, for the output (see :func:`progress`)."""
    if months == 12:
        return f"{year} against the base year (annual data)"
    return (f"{period_label_zh(year, months)} year to date: compared with the same months of "
            f"{year - 1} ({period_label_zh(year - 1, months)}) and chained onto {year - 1}; "
            f"totals against the allowed path scaled by {year - 1}'s share of those months")


def months_available(accounts: pd.DataFrame, year: int) -> int:
    """Return the months of ``year`` to assess: 12 when the year is complete in the
    accounts, else the longest cumulative period of it (10 for 1-10月), else 12.

    ``accounts`` are prepared (:func:`prepare_accounts`: a ``months`` column).
    """
    months = accounts.loc[accounts["year"] == year, "months"]
    if months.empty or (months == 12).any():
        return 12
    return int(months.max())


def parse_assessment_period(text: str) -> tuple[int, int]:
    """Return (year, months from January) of a period written ``2024``, ``2024-Q3``, ``2024-H1``."""
    from dualcontrol.accounting import parse_period

    p = parse_period(text, field="period")
    return p.year, _months(text, None) or 12


def level_of(code: str) -> str:
    """Return the hierarchy level of a GB/T 2260 code: region, league or county."""
    if code.endswith("0000"):
        return "region"
    if code.endswith("00"):
        return "league"
    return "county"


def parent_of(code: str) -> str | None:
    """Return the GB/T 2260 code of the unit above ``code`` (None for a province)."""
    if code.endswith("0000"):
        return None
    if code.endswith("00"):
        return code[:2] + "0000"
    return code[:4] + "00"


def prepare_accounts(frame: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Return validated region accounts with ``months``, ``period``, ``level``, ``parent_code``.

    Raises
    ------
    InputError
        For a missing column, a non-numeric or negative quantity, a period not
        understood, or a region and period given twice; every problem at once.
    """
    require_columns(frame.columns, ACCOUNT_COLUMNS, file=file)
    data = spreadsheet_rows(frame)
    problems: list[Problem] = []
    data["region_code"] = data["region_code"].astype(str).str.strip().str.replace(
        r"\.0$", "", regex=True)
    data["year"] = pd.to_numeric(data["year"], errors="coerce")
    for index in data.index[data["year"].isna()]:
        problems.append(Problem("year must be a whole number", file=file, row=int(index),
                                field="year", value=frame.iloc[index - 2]["year"]))
    for column in ("energy_tce", "gdp_const_10k_yuan", *OPTIONAL_TCE, "co2_t"):
        if column not in data.columns:
            continue
        raw = data[column]
        values = pd.to_numeric(raw, errors="coerce")
        bad = (values < 0) | (values.isna() & raw.notna() & (raw.astype(str).str.strip() != ""))
        for index in data.index[bad]:
            problems.append(Problem("must be a number >= 0 (or empty for no data)", file=file,
                                    row=int(index), field=column, value=raw[index]))
        data[column] = values.astype(float)
    for column in ("feedstock_tce", "renewable_tce"):
        if column not in data.columns:
            data[column] = 0.0
    if "nonfossil_tce" not in data.columns:
        data["nonfossil_tce"] = data["renewable_tce"]
    if "co2_t" not in data.columns:
        data["co2_t"] = np.nan
    months = []
    for index in data.index:
        period = data.at[index, "period"] if "period" in data.columns else None
        quarter = data.at[index, "quarter"] if "quarter" in data.columns else None
        try:
            m = _months(str(period) if period is not None and str(period).strip() not in
                        ("", "nan") else None, quarter)
        except (InputError, ValueError):
            problems.append(Problem("period not understood", file=file, row=int(index),
                                    field="period" if period is not None else "quarter",
                                    value=period if period is not None else quarter,
                                    accepted=["YYYY", "YYYY-Qn", "YYYY-H1", "quarter 1-4"]))
            m = 12
        months.append(m)
    data["months"] = months
    if problems:
        raise InputError(problems)
    data["year"] = data["year"].astype(int)
    duplicated = data.duplicated(["region_code", "year", "months"], keep="first")
    for index in data.index[duplicated]:
        problems.append(Problem("region and period given twice", file=file, row=int(index),
                                field="region_code", value=data.at[index, "region_code"]))
    if problems:
        raise InputError(problems)
    data["period"] = [period_label(y, m) for y, m in zip(data["year"], data["months"],
                                                           strict=True)]
    if "level" not in data.columns:
        data["level"] = data["region_code"].map(level_of)
    if "parent_code" not in data.columns:
        data["parent_code"] = data["region_code"].map(parent_of)
    if "region_name" not in data.columns:
        data["region_name"] = data["region_code"]
    return data.reset_index(drop=True)


def apply_exclusions(accounts: pd.DataFrame, assessment_year: int) -> pd.DataFrame:
    """Return the accounts with the deductions of ``assessment_year``'s rules as columns.

    Adds ``feedstock_deducted_tce``, ``renewable_increment_deducted_tce``,
    ``nonfossil_deducted_tce`` [tce], ``energy_for_total_tce`` and
    ``energy_for_intensity_tce`` [tce], and ``exclusions_total`` /
    ``exclusions_intensity`` (ids of the rules applied).

    Notes
    -----
    The renewable increment of a period is its renewable electricity minus that of the
    same period of the rule's increment base year (2020), not below zero; where the
    base year has no such period, its annual figure pro-rated by months is used. When
    all non-fossil energy is deducted, the renewable increment is part of it and is
    not deducted twice.

    References
    ----------
    ``exclusion_rules.csv``: 发改环资〔2022〕803号; notices of 2022-11-16 and 2024-02-02.
    """
    rules = exclusion_rules(assessment_year)
    out = accounts.copy()
    zero = pd.Series(0.0, index=out.index)
    total_ids: list[str] = []
    intensity_ids: list[str] = []
    amounts: dict[str, pd.Series] = {}
    for rule in rules.itertuples(index=False):
        if rule.deduction == "feedstock":
            amount = out["feedstock_tce"].fillna(0.0)
        elif rule.deduction == "nonfossil":
            amount = out["nonfossil_tce"].fillna(0.0)
        elif rule.deduction == "renewable_increment":
            amount = _renewable_increment(out, int(rule.increment_base_year))
        else:
            raise ValueError(f"unknown deduction {rule.deduction!r} in exclusion_rules.csv")
        amounts[rule.deduction] = amount
        if rule.applies_to_total:
            total_ids.append(rule.rule_id)
        if rule.applies_to_intensity:
            intensity_ids.append(rule.rule_id)
    by_id = dict(zip(rules["rule_id"], rules["deduction"], strict=True))
    if any(by_id[i] == "nonfossil" for i in total_ids):
        total_ids = [i for i in total_ids if by_id[i] != "renewable_increment"]
    out["feedstock_deducted_tce"] = amounts.get("feedstock", zero)
    out["renewable_increment_deducted_tce"] = (
        amounts.get("renewable_increment", zero)
        if any(by_id[i] == "renewable_increment" for i in total_ids) else zero)
    out["nonfossil_deducted_tce"] = amounts.get("nonfossil", zero)
    out["energy_for_total_tce"] = out["energy_tce"] - sum(
        (amounts[by_id[i]] for i in total_ids), zero)
    out["energy_for_intensity_tce"] = out["energy_tce"] - sum(
        (amounts[by_id[i]] for i in intensity_ids), zero)
    out["exclusions_total"] = ",".join(total_ids)
    out["exclusions_intensity"] = ",".join(intensity_ids)
    return out


def _renewable_increment(accounts: pd.DataFrame, base_year: int) -> pd.Series:
    base = accounts[accounts["year"] == base_year]
    same = base.set_index(["region_code", "months"])["renewable_tce"]
    annual = base[base["months"] == 12].set_index("region_code")["renewable_tce"]
    keys = list(zip(accounts["region_code"], accounts["months"], strict=True))
    base_values = []
    for (code, months) in keys:
        if (code, months) in same.index:
            base_values.append(float(same[(code, months)]))
        elif code in annual.index:
            base_values.append(float(annual[code]) * months / 12)
        else:
            base_values.append(np.nan)
    increment = accounts["renewable_tce"].to_numpy(float) - np.asarray(base_values, float)
    # No base-year figure: nothing can be shown to be new, so nothing is deducted.
    return pd.Series(np.clip(np.nan_to_num(increment, nan=0.0), 0.0, None),
                     index=accounts.index)


# --------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class _Rows:
    current: pd.Series | None
    same_period_last_year: pd.Series | None
    last_year: pd.Series | None
    base: pd.Series | None


def _index(frame: pd.DataFrame) -> dict[tuple[str, int, int], pd.Series]:
    return {(str(r["region_code"]), int(r["year"]), int(r["months"])): r
            for _, r in frame.iterrows()}


def _ok(row: pd.Series | None, *columns: str) -> bool:
    return row is not None and all(pd.notna(row[c]) and (c != "gdp_const_10k_yuan" or row[c] > 0)
                                   for c in columns)


def _missing(rows: _Rows, needed: dict[str, tuple[str, ...]], labels: dict[str, str]) -> str:
    gaps = [labels[name] for name, cols in needed.items()
            if not _ok(getattr(rows, name), *cols)]
    return "no data for " + ", ".join(gaps) if gaps else ""


def progress(accounts: pd.DataFrame, *, year: int, months: int = 12, level: str | None = None,
             plan: str | None = None, target_table: pd.DataFrame | None = None,
             regions: Iterable[str] | None = None, path: str | None = None,
             rule_set_name: str | None = None) -> pd.DataFrame:
    """Return the barometer: one row per region and indicator for a cumulative period.

    Parameters
    ----------
    accounts : DataFrame
        Region accounts (see the module docstring); validated here.
    year : int
        Assessment year.
    months : int
        Months from January the period covers: 3 (Q1), 6 (H1), 9 (Q3), 12 (year).
    level : str, optional
        Only regions of this level (``region``, ``league``, ``county``).
    plan : str, optional
        Plan whose targets to use (``14th``); by default the binding plan covering ``year``.
    target_table : DataFrame, optional
        Targets (as :func:`targets`); by default the shipped targets and the demo's.
    path : {'linear', 'compounded'}, optional
        Progress path; by default the rule of ``progress_paths.csv`` for ``year``.
    rule_set_name : str, optional
        Apply this rule set (``energy_dual_control``, ``carbon_dual_control``) instead
        of the one in force for ``year`` (:func:`rule_set`).

    Notes
    -----
    The rule set of the year (``assessment_rule_sets.csv``) says which indicators are
    assessed and how: to 2025 energy dual control (energy intensity binding, the
    total flexible with the exclusions of the year and the incentive exemption, CO2
    intensity binding); from 2026 carbon dual control (国办发〔2024〕39号: CO2
    intensity binding, total CO2 supplementary, energy intensity and total
    ``reported``: shown against the plan's base year, not rated). A total-CO2 target
    (``co2_total_increment_t`` or ``co2_total_cap_t``) is rated like the energy total;
    none is published, so the period's CO2 is shown with ``no_target``.

    A cumulative period (``months`` < 12, e.g. 1-10月 of the current year) is the year
    to date: it is compared with the same months of the previous year (the ratio of
    the two removes the season) and chained onto the previous full year, the
    estimate of the year's outcome; the requirement is that of the year. ``method``
    says so in every row.

    Returns
    -------
    DataFrame
        ``region_code, region_name, level, period, indicator, plan, base_year,
        target_year, target_value, kind, value, unit, requirement, gap,
        shortfall_fraction, change_vs_base, change_vs_same_period_last_year, rating,
        rule_id, barometer_scheme, progress_rule, progress_path``, the deductions
        applied [tce] and the rule ids, ``target_source``, ``note``, ``role`` and
        ``rule_set_rule`` (the row of ``assessment_rule_sets.csv``), ``rule_set``,
        ``rule_set_zh``, ``period_zh`` (``2026年1-10月``) and ``method``. For intensity
        ``value`` and ``requirement`` are cumulative reductions against the base year
        [1]; for the total they are the controlled total and the allowed total of the
        period [tce]. ``gap`` is positive when behind.

    References
    ----------
    See the module docstring (progress rule, barometer, exclusions).
    """
    data = prepare_accounts(accounts) if "months" not in accounts.columns else accounts
    table = targets(include_demo=True) if target_table is None else target_table
    rules = barometer_rules(year)
    if path is None:
        rule = progress_path(year)
        path, path_rule = str(rule["path"]), str(rule["rule_id"])
    else:
        path_rule = f"{path} (asked for)"
    chosen = rule_set(year, rule_set_name)
    ruling = {"barometer_scheme": str(rules["scheme"].iloc[0]), "progress_rule": path_rule,
              "progress_path": path, "rule_set": str(chosen["rule_set"].iloc[0]),
              "rule_set_zh": str(chosen["name_zh"].iloc[0]),
              "period_zh": period_label_zh(year, months),
              "method": comparison_method(year, months)}
    period = plan_period(year)
    if months == 12 and year == int(period["last_year"]):
        ruling["method"] = (f"{year}: final year of the {period['plan']} plan "
                            f"({period['name_zh']}), against its {period['first_year']}-"
                            f"{period['last_year']} targets (annual data)")
    data = apply_exclusions(data, year)
    codes = data.loc[data["level"] == level, "region_code"] if level else data["region_code"]
    wanted = list(dict.fromkeys(codes if regions is None else regions))
    index = _index(data)
    first = data.drop_duplicates("region_code").set_index("region_code")
    table = table[table["region_code"].isin(wanted)]
    records = []
    exemption = total_exemption_rule(year)
    for code in wanted:
        meta = first.loc[code]
        meta = meta.copy()
        meta["region_code"] = code
        by_indicator = {}
        mine = []
        for row in chosen.itertuples(index=False):
            indicator = row.indicator
            if row.role == "reported":
                target = _reporting_basis(period, row)
            else:
                target = plan_target(table, code, indicator, year, plan)
            pending = (plan_target(table, code, indicator, year, plan, published=False)
                       if target is None else None)
            if target is None and pending is None and indicator == "co2_total":
                # no total target: the period's CO2 is shown against the plan's base year
                record = _assess_one(index, meta, indicator, _reporting_basis(period, row),
                                     year, months, rules, path)
                if record["rating"] != "no_data":
                    record.update(rating="no_target", rule_id=None, requirement=np.nan,
                                  gap=np.nan, shortfall_fraction=np.nan, target_value=None,
                                  kind=None, target_source=None, note=(
                                      f"no total-CO2 target covers {year} in targets.csv "
                                      f"({row.document_number}: the total is the "
                                      "supplementary indicator; none is published): the "
                                      "period's CO2 is shown, not rated"))
            else:
                record = _assess_one(index, meta, indicator, target, year, months, rules,
                                     path)
            if pending is not None:
                record["note"] = (f"the {pending['plan']} plan's {indicator} target is not "
                                  f"published ({pending['source']}): {pending['note']}")
            if row.role == "reported" and record["rating"] != "no_data":
                record.update(rating="reported", rule_id=row.rule_id, requirement=np.nan,
                              gap=np.nan, shortfall_fraction=np.nan, target_value=None)
            record.update(role=row.role, rule_set_rule=row.rule_id)
            by_indicator[indicator] = record
            mine.append(record)
        records.extend(mine)
        if exemption is not None and "energy_intensity" in by_indicator:
            incentive = plan_target(table[table["kind"] == "incentive"], code,
                                    "energy_intensity", year, plan)
            _exempt_total(mine, by_indicator, incentive, year, path, exemption)
    return pd.DataFrame.from_records([r | ruling for r in records])


def plan_period(year: int) -> pd.Series:
    """Return the plan period (``plan_periods.csv``) an assessment year belongs to.

    Raises
    ------
    InputError
        When no plan period covers ``year``.
    """
    table = load_table("plan-periods")
    first = pd.to_numeric(table["first_year"]).astype(int)
    last = pd.to_numeric(table["last_year"]).astype(int)
    rows = table[(first <= year) & (year <= last)]
    if rows.empty:
        raise InputError(Problem(f"no plan period covers {year}: add a row to plan_periods.csv",
                                 field="year", value=year, accepted=list(table["plan"])))
    return rows.iloc[0]


def _reporting_basis(period: pd.Series, rule: object) -> pd.Series:
    """Return a target-like row for a reported indicator: its plan's base year, no value."""
    return pd.Series({"plan": str(period["plan"]), "base_year": int(period["base_year"]),
                      "target_year": int(period["last_year"]), "target_value": np.nan,
                      "kind": "reported", "indicator": "reported",
                      "source": str(rule.source)})


#: The two ledgers the side-by-side view compares, in order.
LEDGERS: tuple[str, ...] = ("energy_dual_control", "carbon_dual_control")
#: Deduction columns of :func:`apply_exclusions` by deduction kind.
_DEDUCTED = {"feedstock": "feedstock_deducted_tce",
             "renewable_increment": "renewable_increment_deducted_tce",
             "nonfossil": "nonfossil_deducted_tce"}
LEDGER_COLUMNS: tuple[str, ...] = (
    "region_code", "region_name", "period", "period_zh", "rule_set", "rule_set_zh",
    "section", "item", "item_zh", "role", "role_zh", "rating", "value", "requirement", "gap",
    "unit", "base_year", "base_value", "rule_id", "document_number", "applied_to", "note")
#: Chinese names of the indicators, roles, deductions and ratings of the two ledgers.
LABELS_ZH: dict[str, str] = {
    "energy_intensity": "能耗强度", "energy_total": "能源消费总量",
    "co2_intensity": "碳排放强度", "co2_total": "碳排放总量",
    "binding": "约束性", "flexible": "弹性管理", "supplementary": "辅助指标",
    "reported": "仅统计监测", "feedstock": "原料用能扣除",
    "renewable_increment": "新增可再生能源扣除", "nonfossil": "非化石能源扣除",
    "total_exemption": "总量免予考核", "applied": "适用", "not_applied": "未适用",
    "red": "一级预警", "yellow": "二级预警", "green": "三级", "exempt": "免予考核",
    "no_data": "无数据", "no_target": "无目标",
}


def compare_rule_sets(accounts: pd.DataFrame, *, year: int, region_code: str,
                      months: int = 12, target_table: pd.DataFrame | None = None,
                      path: str | None = None) -> pd.DataFrame:
    """Return one region under both rule sets for the same period and data (two ledgers).

    Parameters
    ----------
    accounts : DataFrame
        Region accounts (module docstring); validated here.
    year, months : int
        The period (cumulative from January; 12 = the year).
    region_code : str
        The region or league.
    target_table, path :
        As in :func:`progress`.

    Returns
    -------
    DataFrame
        Long form, one row per rule set (:data:`LEDGERS`) and item (columns
        :data:`LEDGER_COLUMNS`): ``section`` ``indicator`` rows are the rows of
        :func:`progress` under that rule set (role, rating, value, requirement, gap,
        unit; ``rule_id`` the barometer rule or the rule-set row); ``section``
        ``deduction`` rows list every exclusion rule of the year
        (``exclusion_rules.csv``: feedstock, renewable increment, non-fossil) with the
        amount deducted in the period (``value`` [tce]) and in the base year
        (``base_value`` [tce]), and the indicators it was deducted from under that rule
        set (``applied_to``: CO2 has no deductions, its accounts leave feedstock carbon
        in the products and non-fossil energy emits none); and the total exemption
        (``total_exemption_rules.csv``) with whether it applied. Same figures as
        :func:`progress` (one function computes each).

    References
    ----------
    发改环资〔2021〕1310号 (energy dual control); 国办发〔2024〕39号 (carbon dual control);
    发改环资〔2022〕803号, notices of 2022-11-16 and 2024-02-02 (exclusions).
    """
    data = prepare_accounts(accounts) if "months" not in accounts.columns else accounts
    code = str(region_code)
    if code not in set(data["region_code"]):
        raise InputError(Problem("no accounts for this region", field="region",
                                 value=region_code,
                                 accepted=sorted(set(data["region_code"]))[:20]))
    ruled = apply_exclusions(data, year)
    rows = {(int(y), int(m)): r for _, r in ruled[ruled["region_code"] == code].iterrows()
            for y, m in [(r["year"], r["months"])]}
    exclusions = exclusion_rules(year)
    exemption = total_exemption_rule(year)
    out: list[dict] = []
    for name in LEDGERS:
        result = progress(data, year=year, months=months, target_table=target_table,
                          path=path, regions=[code], rule_set_name=name)
        first = result.iloc[0]
        common = {"region_code": code, "region_name": first["region_name"],
                  "period": first["period"], "period_zh": first["period_zh"],
                  "rule_set": name, "rule_set_zh": first["rule_set_zh"]}
        for r in result.itertuples(index=False):
            out.append(common | {
                "section": "indicator", "item": r.indicator, "role": r.role,
                "rating": r.rating, "value": r.value, "requirement": r.requirement,
                "gap": r.gap, "unit": r.unit, "base_year": r.base_year, "base_value": np.nan,
                "rule_id": r.rule_id, "document_number": None, "applied_to": "",
                "note": r.note})
        base_year = next((int(b) for b in result["base_year"] if b is not None
                          and not (isinstance(b, float) and math.isnan(b))), None)
        current = rows.get((year, months))
        base = rows.get((base_year, 12)) if base_year is not None else None
        for rule in exclusions.itertuples(index=False):
            used = [f"{r.indicator} ({r.role})" for r in result.itertuples(index=False)
                    if rule.rule_id in str(r.exclusions).split(",")]
            column = _DEDUCTED[rule.deduction]
            out.append(common | {
                "section": "deduction", "item": rule.deduction, "role": None,
                "rating": "applied" if used else "not_applied",
                "value": float(current[column]) if current is not None else np.nan,
                "requirement": np.nan, "gap": np.nan, "unit": "tce", "base_year": base_year,
                "base_value": float(base[column]) if base is not None else np.nan,
                "rule_id": rule.rule_id, "document_number": rule.document_number or None,
                "applied_to": ", ".join(used) or "none",
                "note": (f"from the total {'and' if rule.applies_to_intensity else 'only, not'}"
                         f" the intensity ({rule.date})"
                         + ("" if used or not len(result) else
                            "; the renewable increment is part of the non-fossil deduction"
                            if rule.deduction == "renewable_increment" else ""))})
        if exemption is not None:
            total = result[result["indicator"] == "energy_total"]
            applied = bool(len(total)) and total["rating"].iloc[0] == "exempt"
            role = total["role"].iloc[0] if len(total) else None
            out.append(common | {
                "section": "deduction", "item": "total_exemption", "role": None,
                "rating": "applied" if applied else "not_applied", "value": np.nan,
                "requirement": np.nan, "gap": np.nan, "unit": "", "base_year": None,
                "base_value": np.nan, "rule_id": str(exemption["rule_id"]),
                "document_number": str(exemption["document_number"]),
                "applied_to": "energy_total" if applied else "none",
                "note": (total["note"].iloc[0] if applied else
                         "energy total only reported under this rule set" if role == "reported"
                         else "the intensity reduction does not reach the incentive target's "
                         "requirement, or there is no incentive target")})
    for record in out:
        record["item_zh"] = LABELS_ZH.get(record["item"], record["item"])
        record["role_zh"] = LABELS_ZH.get(record["role"]) if record["role"] else None
    return pd.DataFrame.from_records(out, columns=list(LEDGER_COLUMNS))


def _exempt_total(records: list[dict], by_indicator: dict[str, dict],
                  incentive: pd.Series | None, year: int, path: str,
                  rule: pd.Series) -> None:
    """Mark the region's total ``exempt`` when its intensity meets the incentive target."""
    intensity = by_indicator["energy_intensity"]
    if (incentive is None or intensity["rating"] == "reported"
            or math.isnan(intensity["value"])):
        return
    base, target = int(incentive["base_year"]), int(incentive["target_year"])
    needed = required_reduction(float(incentive["target_value"]), year - base,
                                target - base, path)
    achieved = float(intensity["value"])
    if achieved + NUMERIC_TOLERANCE < needed:
        return
    for record in records:
        if record["indicator"] == "energy_total" and record["rating"] not in (
                "no_target", "no_data", "reported"):
            record.update(rating="exempt", rule_id=str(rule["rule_id"]),
                          note=(f"total exempt ({rule['document_number']}): intensity "
                                f"reduction {achieved:.4f} meets the incentive target's "
                                f"requirement {needed:.4f} for {year}"))


def _assess_one(index: dict, meta: pd.Series, indicator: str, target: pd.Series | None,
                year: int, months: int, rules: pd.DataFrame, path: str) -> dict:
    group = INDICATORS[indicator][0]
    code = str(meta["region_code"])
    record: dict = {
        "region_code": code, "region_name": meta["region_name"], "level": meta["level"],
        "period": period_label(year, months), "indicator": indicator,
        "plan": None, "base_year": None, "target_year": None, "target_value": None,
        "kind": None, "value": np.nan,
        "unit": UNITS[indicator],
        "requirement": np.nan, "gap": np.nan, "shortfall_fraction": np.nan,
        "change_vs_base": np.nan, "change_vs_same_period_last_year": np.nan,
        "rating": "no_target", "rule_id": None,
        "feedstock_deducted_tce": np.nan, "renewable_increment_deducted_tce": np.nan,
        "nonfossil_deducted_tce": np.nan, "exclusions": "", "target_source": None, "note": "",
    }
    current = index.get((code, year, months))
    if current is not None:
        for column in ("feedstock_deducted_tce", "renewable_increment_deducted_tce",
                       "nonfossil_deducted_tce"):
            record[column] = float(current[column])
        if indicator.startswith("co2_"):  # CO2 has no deductions (accounting module)
            record.update(feedstock_deducted_tce=0.0, renewable_increment_deducted_tce=0.0,
                          nonfossil_deducted_tce=0.0)
    if target is None:
        record["note"] = f"no {indicator} target covering {year}"
        return record
    base_year, target_year = int(target["base_year"]), int(target["target_year"])
    record.update(plan=target["plan"], base_year=base_year, target_year=target_year,
                  target_value=float(target["target_value"]), kind=target["kind"],
                  target_source=target["source"])
    rows = _Rows(current=current,
                 same_period_last_year=index.get((code, year - 1, months)),
                 last_year=index.get((code, year - 1, 12)),
                 base=index.get((code, base_year, 12)))
    quarterly = months != 12
    numerator = NUMERATORS[indicator]
    needs = (numerator,) if group == "total" else (numerator, "gdp_const_10k_yuan")
    needed = {"current": needs, "base": needs}
    if quarterly:
        needed.update(same_period_last_year=needs, last_year=needs)
    labels = {"current": record["period"], "base": f"base year {base_year}",
              "same_period_last_year": period_label(year - 1, months),
              "last_year": str(year - 1)}
    missing = _missing(rows, needed, labels)
    if missing:
        record["rating"], record["rule_id"] = rate(group, np.nan, np.nan, has_data=False,
                                                   rules=rules)
        record["note"] = missing
        return record
    k, n = year - base_year, target_year - base_year
    record["exclusions"] = ("" if indicator.startswith("co2_") else
                            current["exclusions_total" if group == "total"
                                    else "exclusions_intensity"])
    if group == "intensity":
        _intensity(record, rows, numerator, quarterly, k, n, float(target["target_value"]),
                   rules, path)
    else:
        _total(record, rows, numerator, quarterly, k, n, target, rules, path,
               GROSS[indicator])
    gdp_note = current.get("gdp_note") if current is not None else None
    if isinstance(gdp_note, str) and gdp_note and group == "intensity":
        record["note"] = "; ".join(p for p in (record["note"], gdp_note) if p)
    return record


def _ratio(row: pd.Series, numerator: str) -> float:
    return float(row[numerator]) / float(row["gdp_const_10k_yuan"])


def _intensity(record: dict, rows: _Rows, numerator: str, quarterly: bool, k: int, n: int,
               target_reduction: float, rules: pd.DataFrame, path: str) -> None:
    base = _ratio(rows.base, numerator)
    current = _ratio(rows.current, numerator)
    if quarterly:
        same = _ratio(rows.same_period_last_year, numerator)
        estimate = _ratio(rows.last_year, numerator) * current / same
        yoy = current / same - 1.0
    else:
        estimate = current
        yoy = (current / _ratio(rows.last_year, numerator) - 1.0
               if _ok(rows.last_year, numerator, "gdp_const_10k_yuan") else np.nan)
    reduction = 1.0 - estimate / base
    requirement = required_reduction(target_reduction, k, n, path)
    gap = requirement - reduction
    rising = bool(yoy > NUMERIC_TOLERANCE) if not math.isnan(yoy) else False
    rating, rule_id = rate("intensity", gap, requirement, rising=rising, rules=rules)
    record.update(value=reduction, requirement=requirement, gap=gap,
                  shortfall_fraction=gap / requirement if requirement else np.nan,
                  change_vs_base=estimate / base - 1.0,
                  change_vs_same_period_last_year=yoy, rating=rating, rule_id=rule_id)
    if math.isnan(yoy):
        record["note"] = f"no data for {int(rows.current['year']) - 1}: rise not checked"


def _total(record: dict, rows: _Rows, numerator: str, quarterly: bool, k: int, n: int,
           target: pd.Series, rules: pd.DataFrame, path: str, gross: str) -> None:
    base = float(rows.base[numerator])
    if str(target["indicator"]).endswith("_cap_tce") or str(target["indicator"]).endswith(
            "_cap_t"):
        increment = float(target["target_value"]) - float(rows.base[gross])
    else:
        increment = float(target["target_value"])
    allowed = allowed_total_tce(base, base + increment, k, n, path)
    share = 1.0
    value = float(rows.current[numerator])
    if quarterly:
        share = float(rows.same_period_last_year[numerator]) / float(rows.last_year[numerator])
        yoy = value / float(rows.same_period_last_year[numerator]) - 1.0
    else:
        yoy = (value / float(rows.last_year[numerator]) - 1.0
               if _ok(rows.last_year, numerator) else np.nan)
    requirement = allowed * share
    allowed_increment = (allowed - base) * share
    gap = value - requirement
    rating, rule_id = rate("total", gap, allowed_increment, rules=rules)
    record.update(value=value, requirement=requirement, gap=gap,
                  shortfall_fraction=(gap / allowed_increment if allowed_increment > 0
                                      else np.nan),
                  change_vs_base=value / (base * share) - 1.0,
                  change_vs_same_period_last_year=yoy, rating=rating, rule_id=rule_id)


# --------------------------------------------------------------------------- other indicators


def water_intensity(water_use: pd.DataFrame, *, base_year: int = 2015) -> pd.DataFrame:
    """Return water use per 10^4 yuan of industrial value added and its change since a base year.

    Parameters
    ----------
    water_use : DataFrame
        ``region``, ``year``, ``water_m3`` [m3] (industrial water use) and
        ``industrial_value_added_10k_yuan`` [10^4 yuan, comparable prices].
    base_year : int
        Year the change is measured against (2015 for the 13th plan).

    Returns
    -------
    DataFrame
        The input columns plus ``water_m3_per_10k_yuan`` [m3 / 10^4 yuan] and
        ``change_vs_base`` [1] (negative = fell; NaN where the region lacks the base year).

    References
    ----------
    《"十四五"节水型社会建设规划》 indicator 万元工业增加值用水量 (m3 per 10^4 yuan).
    """
    needed = ("region", "year", "water_m3", "industrial_value_added_10k_yuan")
    require_columns(water_use.columns, needed)
    out = water_use.copy()
    added = pd.to_numeric(out["industrial_value_added_10k_yuan"], errors="coerce")
    bad = ~(added > 0)
    if bad.any():
        raise InputError([Problem("must be a number > 0", row=int(i) + 2,
                                  field="industrial_value_added_10k_yuan",
                                  value=out.at[i, "industrial_value_added_10k_yuan"])
                          for i in out.index[bad]])
    out["water_m3_per_10k_yuan"] = pd.to_numeric(out["water_m3"]) / added
    base = out[out["year"] == base_year].set_index("region")["water_m3_per_10k_yuan"]
    out["change_vs_base"] = out["water_m3_per_10k_yuan"] / out["region"].map(base) - 1.0
    return out


#: Categories of the green-manufacturing registry (绿色制造体系).
GREEN_CATEGORIES: tuple[str, ...] = ("green_factory", "green_product", "green_supply_chain",
                                     "green_park", "standard")


def _check_registry(registry: pd.DataFrame) -> None:
    needed = ("category", "name", "region", "year_listed")
    require_columns(registry.columns, needed)
    bad = ~registry["category"].isin(GREEN_CATEGORIES)
    if bad.any():
        raise InputError([Problem("unknown category", row=int(i) + 2, field="category",
                                  value=registry.at[i, "category"], accepted=GREEN_CATEGORIES)
                          for i in registry.index[bad]])


def green_registry_counts(registry: pd.DataFrame, *, year: int | None = None) -> pd.DataFrame:
    """Return the number of listed green-manufacturing entries by category, as of ``year``.

    Parameters
    ----------
    registry : DataFrame
        ``category`` (one of :data:`GREEN_CATEGORIES`), ``name``, ``region``,
        ``year_listed``, optional ``level`` (``national`` for entries or standards
        at national level).
    year : int, optional
        Count entries listed up to this year (all by default).

    Returns
    -------
    DataFrame
        ``category``, ``count``, ``national`` (of them at national level).

    References
    ----------
    MIIT 绿色制造体系建设 (green factories, products, supply chains, parks).
    """
    _check_registry(registry)
    rows = registry if year is None else registry[registry["year_listed"] <= year]
    national = (rows["level"] == "national") if "level" in rows.columns else False
    rows = rows.assign(_national=national)
    grouped = rows.groupby("category").agg(count=("name", "size"),
                                           national=("_national", "sum"))
    return (grouped.reindex(list(GREEN_CATEGORIES), fill_value=0).reset_index()
            .astype({"count": int, "national": int}))


def green_registry_trend(registry: pd.DataFrame) -> pd.DataFrame:
    """Return new and cumulative listings by category and year (the trend of the registry).

    Returns
    -------
    DataFrame
        ``category``, ``year``, ``new``, ``cumulative``, for every year from the first
        listing to the last (zero-filled).
    """
    _check_registry(registry)
    years = range(int(registry["year_listed"].min()), int(registry["year_listed"].max()) + 1)
    new = (registry.groupby(["category", "year_listed"]).size()
           .unstack(fill_value=0).reindex(index=list(GREEN_CATEGORIES), columns=list(years),
                                          fill_value=0))
    cumulative = new.cumsum(axis=1)
    out = (new.stack().rename("new").to_frame()
           .join(cumulative.stack().rename("cumulative")).reset_index())
    out.columns = ["category", "year", "new", "cumulative"]
    return out
