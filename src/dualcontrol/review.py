"""Energy-saving review (节能审查) of a proposed fixed-asset project.

A project file (YAML or JSON) gives the product, capacity, location, start year, design
output and output value, and design energy use by carrier. The review computes the
project's unit energy consumption against the benchmark (new projects must meet it)
and the quota standard's access value, its annual energy (total and controlled) and
CO2, its effect on the league's and region's total and intensity (and on the league's
remaining budget where known), and gives a verdict with every reason stated.

Project file fields::

    name: Ulanqab 2 x 33 MVA ferrosilicon upgrade
    industry: ferroalloy
    product: ferrosilicon              # a code of efficiency_levels.csv
    capacity: 60000
    capacity_unit: t/a
    location: {region: Inner Mongolia, league: Ulanqab}
    start_year: 2026
    design_output: {quantity: 60000, unit: t}
    design_output_value_10k_yuan: 42000
    design_value_added_10k_yuan: 9000  # optional; GDP contribution
    energy:                            # annual design energy use by carrier
      - {carrier: electricity, quantity: 4.9e8, unit: kWh}
      - {carrier: electricity, quantity: 1.0e8, unit: kWh, origin: renewable}
      - {carrier: coke, quantity: 26000, unit: t, use: feedstock}
    process_co2_t: 0                   # optional: process CO2 per year [t CO2]
    process_co2_basis: ""              # optional: how it was estimated

Accounting rules (the same as :mod:`dualcontrol.accounting`): ``use: feedstock``
(原料用能) is excluded from the controlled total (发改环资〔2022〕803号); electricity
with ``origin: renewable`` is excluded from the controlled total (NDRC/NBS/NEA notice
of 2022-11-16; under the 2024 notice non-fossil energy is excluded from both total and
intensity, which is the rule applied here for the intensity effect). Comprehensive
energy for the unit consumption counts every carrier, electricity at its calorific
value (GB/T 2589-2020), as the quota standards do. Feedstock carbon is taken as stored
in products and renewable electricity emits nothing, so ``co2_t`` excludes both.

Beside the energy-saving verdict the review gives the carbon evaluation (碳排放评价,
国家发展改革委令第31号, in force 2025-09-01) with a verdict of its own (pass,
conditional, fail): the project's CO2 (energy-related from the carriers at the factors
of its start year, and the process CO2 it states), its CO2 per unit of product against
reference levels (published ones from ``carbon_reference_levels.csv``; where none is
published, references derived from the benchmark and baseline energy levels times the
factors, labelled as this project's derivation and not verified), and its share of the
league's remaining carbon budget (:mod:`dualcontrol.carbon_budget`). The thresholds are
rows of ``carbon_evaluation_rules.csv``.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dualcontrol.assessment import NUMERIC_TOLERANCE
from dualcontrol.benchmarking import (
    DEFAULT_GRID,
    Level,
    at_or_better,
    co2_per_tce,
    level_for,
    output_factor,
    quota_for,
)
from dualcontrol.conversion import co2_coefficient, tce_coefficient
from dualcontrol.errors import InputError, Problem
from dualcontrol.reference import (
    electricity_factor_rule,
    load_table,
    normalise_name,
    quantity_in_carrier_unit,
    resolve_carrier,
    resolve_unit,
)

logger = logging.getLogger(__name__)

VERDICTS: tuple[str, ...] = ("approve", "approve_with_conditions", "reject")
#: Verdicts of the carbon evaluation (碳排放评价), given beside the energy-saving verdict.
CARBON_VERDICTS: tuple[str, ...] = ("pass", "conditional", "fail")
USES: tuple[str, ...] = ("combustion", "feedstock")
ORIGINS: tuple[str, ...] = ("purchased", "renewable")
PROJECT_FIELDS: tuple[str, ...] = (
    "industry", "product", "capacity", "location", "start_year", "design_output",
    "design_output_value_10k_yuan", "energy",
)


@dataclass(frozen=True)
class EnergyUse:
    """One carrier of the project's design energy use (per year)."""

    carrier: str
    quantity: float
    unit: str
    use: str = "combustion"
    origin: str = "purchased"


@dataclass(frozen=True)
class Project:
    """A proposed project as read from its file."""

    name: str
    industry: str
    product: str
    capacity: float
    capacity_unit: str
    region: str
    league: str
    start_year: int
    output: float
    output_unit: str
    output_value_10k_yuan: float
    value_added_10k_yuan: float | None
    energy: tuple[EnergyUse, ...]
    file: str | None = None
    #: Process CO2 the project states (工业过程排放, e.g. clinker calcination) [t CO2 / a].
    process_co2_t: float = 0.0
    #: How the process CO2 was estimated (the project's own statement).
    process_co2_basis: str = ""


@dataclass
class Reason:
    """One finding of the review: its rule, outcome and the document behind it."""

    rule: str
    outcome: str  # reject | condition | pass | note
    message: str
    source: str
    message_zh: str = ""  #: the finding in Chinese (the same figures)

    def text(self, lang: str) -> str:
        """Return the finding in ``lang`` (``zh``, else English)."""
        return self.message_zh if lang == "zh" and self.message_zh else self.message


@dataclass
class CarbonEvaluation:
    """The carbon evaluation of one project (国家发展改革委令第31号): its own verdict."""

    verdict: str
    energy_co2_t: float
    process_co2_t: float
    process_co2_basis: str
    co2_t: float
    output: float
    output_unit: str
    intensity_t_per_unit: float
    energy_intensity_t_per_unit: float
    references: list[dict[str, Any]]
    budget: dict[str, Any] | None
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class Review:
    """The review of one project."""

    project: dict[str, Any]
    verdict: str
    unit_consumption: float
    unit: str
    benchmark: float
    baseline: float
    level_set: str
    level_source: str
    level_verified: bool
    quota: dict[str, Any] | None
    energy_tce: float
    controlled_tce: float
    feedstock_tce: float
    renewable_tce: float
    co2_t: float
    carriers: list[dict[str, Any]]
    effects: list[dict[str, Any]]
    reasons: list[Reason] = field(default_factory=list)
    #: The carbon evaluation (碳排放评价) beside the energy-saving verdict.
    carbon: CarbonEvaluation | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the review as a JSON-ready mapping."""
        return _no_nan(asdict(self))


def _no_nan(value: Any) -> Any:
    """Return ``value`` with every NaN (at any depth) as None, for JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value


# --- reading ------------------------------------------------------------------------

def read_mapping(path: str | Path) -> dict[str, Any]:
    """Return the mapping in a YAML or JSON file.

    Raises
    ------
    InputError
        For a missing file, bad syntax, or content that is not a mapping.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(Problem("file not found", file=str(path)))
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(Problem(f"cannot parse file: {exc}", file=str(path))) from None
    if not isinstance(data, dict):
        raise InputError(Problem("file must hold a mapping of fields", file=str(path),
                                 accepted=list(PROJECT_FIELDS)))
    return data


def _number(data: dict[str, Any], key: str, problems: list[Problem], file: str | None,
            *, positive: bool = False, label: str | None = None) -> float:
    value = data.get(key)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        need = "a number > 0" if positive else "a number >= 0"
        problems.append(Problem(f"must be {need}", file=file, field=label or key, value=value))
        return math.nan
    return number


def parse_project(data: dict[str, Any], *, file: str | None = None) -> Project:
    """Return the project described by ``data`` (the file's mapping), validated.

    Raises
    ------
    InputError
        Listing every missing or bad field: output not > 0, unknown carrier or unit, a
        ``use`` or ``origin`` not accepted.
    """
    problems = [Problem("field is missing", file=file, field=k, accepted=list(PROJECT_FIELDS))
                for k in PROJECT_FIELDS if k not in data]
    if problems:
        raise InputError(problems)
    location = data["location"] if isinstance(data["location"], dict) else {}
    if not location.get("league"):
        problems.append(Problem("location needs a league", file=file, field="location.league"))
    output = data["design_output"] if isinstance(data["design_output"], dict) else {}
    out_qty = _number(output, "quantity", problems, file, positive=True,
                      label="design_output.quantity")
    if not output.get("unit"):
        problems.append(Problem("field is missing", file=file, field="design_output.unit"))
    value_added = data.get("design_value_added_10k_yuan")
    energy: list[EnergyUse] = []
    items = data["energy"] if isinstance(data["energy"], list) else []
    if not items:
        problems.append(Problem("energy must list at least one carrier", file=file,
                                field="energy"))
    for i, item in enumerate(items):
        where = f"energy[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem("must be a mapping", file=file, field=where))
            continue
        qty = _number(item, "quantity", problems, file, label=f"{where}.quantity")
        use = normalise_name(item.get("use", "combustion"))
        origin = normalise_name(item.get("origin", "purchased"))
        if use not in USES:
            problems.append(Problem("unknown use", file=file, field=f"{where}.use",
                                    value=item.get("use"), accepted=list(USES)))
        if origin not in ORIGINS:
            problems.append(Problem("unknown origin", file=file, field=f"{where}.origin",
                                    value=item.get("origin"), accepted=list(ORIGINS)))
        try:
            carrier = resolve_carrier(str(item.get("carrier", "")), file=file,
                                      field=f"{where}.carrier")
            quantity_in_carrier_unit(1.0, resolve_unit(str(item.get("unit", "")), file=file,
                                                       field=f"{where}.unit"),
                                     carrier, file=file, field=f"{where}.unit")
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if origin == "renewable" and carrier.code != "electricity":
            problems.append(Problem("only electricity can have origin 'renewable'", file=file,
                                    field=f"{where}.origin", value=item.get("origin"),
                                    accepted=["purchased"]))
        energy.append(EnergyUse(carrier.code, qty, str(item["unit"]), use, origin))
    process_co2 = 0.0 if data.get("process_co2_t") in (None, "") else _number(
        data, "process_co2_t", problems, file)
    start_year = data.get("start_year")
    if not isinstance(start_year, int):
        problems.append(Problem("must be a year", file=file, field="start_year",
                                value=start_year))
    project = Project(
        name=str(data.get("name", Path(file).stem if file else "project")),
        industry=str(data["industry"]), product=str(data["product"]),
        capacity=_number(data, "capacity", problems, file, positive=True),
        capacity_unit=str(data.get("capacity_unit", "")),
        region=str(location.get("region", "Inner Mongolia")),
        league=str(location.get("league", "")),
        start_year=start_year if isinstance(start_year, int) else 0,
        output=out_qty, output_unit=str(output.get("unit", "")),
        output_value_10k_yuan=_number(data, "design_output_value_10k_yuan", problems, file,
                                      positive=True),
        value_added_10k_yuan=None if value_added is None else _number(
            data, "design_value_added_10k_yuan", problems, file, positive=True),
        energy=tuple(energy), file=file, process_co2_t=process_co2,
        process_co2_basis=str(data.get("process_co2_basis", "") or ""),
    )
    if problems:
        raise InputError(problems)
    return project


def load_project(path: str | Path) -> Project:
    """Return the validated project of a YAML or JSON file."""
    return parse_project(read_mapping(path), file=str(path))


# --- energy and CO2 -----------------------------------------------------------------

def feedstock_industries() -> list[str]:
    """Return the industries whose raw-material use of coal, oil and gas may be booked as
    feedstock (``feedstock_scope.csv``, 发改环资〔2022〕803号)."""
    table = load_table("feedstock-scope")
    return sorted(table.loc[table["in_scope"].str.lower() == "true", "industry"])


def check_feedstock_scope(project: Project, industry: str) -> None:
    """Raise InputError for feedstock booked by a product outside the 803号 scope.

    A ferroalloy furnace's reductant coke is fuel and reductant, not raw material: booked
    as feedstock it would leave the controlled energy and flip the review.
    """
    allowed = feedstock_industries()
    if industry in allowed:
        return
    problems = [Problem(f"feedstock (原料用能) is deducted only in {', '.join(allowed)} "
                        f"(发改环资〔2022〕803号); {project.product} is in {industry}: book it "
                        "as combustion", file=project.file, field=f"energy[{i}].use",
                        value="feedstock", accepted=["combustion"])
                for i, e in enumerate(project.energy) if e.use == "feedstock"]
    if problems:
        raise InputError(problems)


def required_carrier_groups(product: str) -> list[set[str]]:
    """Return the carrier groups a product's design energy must cover (one of each)."""
    table = load_table("product-carriers")
    rows = table[table["product"] == product]
    if rows.empty:
        return []
    return [set(g.split("|")) for g in rows.iloc[0]["required"].split(";") if g]


def check_required_carriers(project: Project) -> None:
    """Raise InputError if the design energy lacks a carrier the product needs."""
    present = {e.carrier for e in project.energy if e.quantity > 0}
    problems = [
        Problem(f"design energy of {project.product} must include one of these carriers",
                file=project.file, field="energy", value=", ".join(sorted(present)),
                accepted=sorted(group))
        for group in required_carrier_groups(normalise_name(project.product))
        if not group & present
    ]
    if problems:
        raise InputError(problems)


def energy_by_carrier(project: Project, *, grid: str | None = DEFAULT_GRID) -> pd.DataFrame:
    """Return the project's annual energy and CO2 by carrier.

    Returns
    -------
    pandas.DataFrame
        ``carrier``, ``quantity``, ``unit``, ``use``, ``origin``, ``energy_tce``,
        ``feedstock_tce``, ``renewable_tce``, ``controlled_tce`` [tce / a],
        ``electricity_kwh`` [kWh / a], ``co2_t`` [t CO2 / a].

    References
    ----------
    GB/T 2589-2020 Appendix A (calorific value of electricity); 发改环资〔2022〕803号
    (feedstock); NDRC/NBS/NEA notice of 2022-11-16 (renewable electricity).
    """
    rows = []
    for e in project.energy:
        carrier = resolve_carrier(e.carrier)
        own = quantity_in_carrier_unit(e.quantity, resolve_unit(e.unit), carrier)
        tce_per, _ = tce_coefficient(carrier)
        co2_per, _, _ = co2_coefficient(carrier, project.start_year, grid,
                                        latest_for_future=True)
        tce = own * tce_per
        feedstock = tce if e.use == "feedstock" else 0.0
        renewable = tce if e.origin == "renewable" else 0.0
        emits = e.use != "feedstock" and e.origin != "renewable"
        rows.append({
            "carrier": carrier.code, "quantity": e.quantity, "unit": e.unit, "use": e.use,
            "origin": e.origin, "energy_tce": tce, "feedstock_tce": feedstock,
            "renewable_tce": renewable, "controlled_tce": tce - feedstock - renewable,
            "electricity_kwh": own if carrier.code == "electricity" else 0.0,
            "co2_t": own * co2_per if emits else 0.0,
        })
    return pd.DataFrame(rows)


def project_unit_consumption(project: Project, by_carrier: pd.DataFrame, level: Level,
                             ) -> float:
    """Return the project's design unit consumption in the level's unit.

    Raises
    ------
    InputError
        If the design output's unit does not fit the level's output unit.
    """
    output = project.output * output_factor(project.output_unit, level, file=project.file,
                                            field="design_output.unit")
    numerator = float(by_carrier[level.numerator].sum())
    if level.product == "coal_power":
        # supply coal consumption counts the coal (and other fuel) burnt, not power bought
        numerator = float(by_carrier.loc[by_carrier["carrier"] != "electricity",
                                         "energy_tce"].sum())
    return numerator * level.numerator_scale / output


# --- effect on the league and region ------------------------------------------------

def area_effects(context: dict[str, Any], controlled_tce: float, energy_tce: float,
                 value_added_10k_yuan: float) -> list[dict[str, Any]]:
    """Return the project's effect on each area of ``context`` (league, region).

    Each area of the context may give ``energy_tce``, ``controlled_tce``,
    ``gdp_const_10k_yuan`` and ``remaining_budget_tce`` [tce, 10k yuan]. Intensity is
    controlled energy over GDP [tce / 10k yuan], before and after adding the project's
    controlled energy and value added.
    """
    effects = []
    for level in ("league", "region"):
        area = context.get(level)
        if not isinstance(area, dict):
            continue
        controlled = float(area.get("controlled_tce", area.get("energy_tce", math.nan)))
        gdp = float(area.get("gdp_const_10k_yuan", math.nan))
        before = controlled / gdp
        after = (controlled + controlled_tce) / (gdp + value_added_10k_yuan)
        budget = area.get("remaining_budget_tce")
        effects.append({
            "level": level, "name": area.get("name", ""), "year": context.get("year"),
            "controlled_tce": controlled, "project_controlled_tce": controlled_tce,
            "total_increase_pct": 100 * controlled_tce / controlled,
            "energy_tce": float(area.get("energy_tce", math.nan)),
            "energy_increase_pct": 100 * energy_tce / float(area.get("energy_tce", math.nan)),
            "intensity_before": before, "intensity_after": after,
            "intensity_change_pct": 100 * (after / before - 1),
            "remaining_budget_tce": None if budget is None else float(budget),
            # a budget at or below zero is an overdraft: no share of it can be given
            "budget_share": None if budget is None or float(budget) <= 0
            else controlled_tce / float(budget),
            "source": context.get("source", ""),
        })
    return effects


def context_year(accounts: pd.DataFrame, start_year: int) -> int:
    """Return the latest full year of prepared ``accounts`` up to ``start_year``.

    ``accounts`` is :func:`dualcontrol.assessment.prepare_accounts` output (``months``
    per year); without a full year up to ``start_year``, the latest full year.
    """
    annual = accounts[accounts["months"] == 12]
    years = annual.loc[annual["year"] <= start_year, "year"]
    return int(years.max() if len(years) else annual["year"].max())


def context_from_accounts(accounts: pd.DataFrame, budget: pd.DataFrame | None,
                          league: str, *, year: int | None = None,
                          source: str = "store") -> dict[str, Any]:
    """Return the review context of a league and its region from their accounts.

    Parameters
    ----------
    accounts : DataFrame
        Yearly accounts of the region and its leagues (``region_code``, ``year``,
        ``energy_tce``, ``controlled_tce`` [tce], ``gdp_current_10k_yuan`` [10^4 yuan]),
        as :func:`dualcontrol.datasets.assessment_accounts` returns.
    budget : DataFrame, optional
        :func:`dualcontrol.budget.energy_budget` of ``year``; the league's budget to
        the plan's end (else of the year) becomes ``remaining_budget_tce``.
    league : str
        The project's league: code, Chinese or English name.
    year : int, optional
        Year of the figures (default: the latest year of the league's accounts).

    Returns
    -------
    dict
        The mapping :func:`area_effects` reads: ``year``, ``source``, and ``league``
        and ``region`` with ``name``, ``energy_tce``, ``controlled_tce``,
        ``gdp_const_10k_yuan`` (GDP of ``year`` at that year's prices, to match a
        design value added in today's prices) and ``remaining_budget_tce``.

    Raises
    ------
    InputError
        If the league is unknown or the accounts have no row for it or the region.
    """
    from dualcontrol.regions import REGION_CODE, resolve_region

    area = resolve_region(league)
    code = str(area["code"])
    region_code = str(area.get("parent_code") or REGION_CODE)
    frame = accounts.assign(region_code=accounts["region_code"].astype(str))
    own = frame[(frame["region_code"] == code) & frame["energy_tce"].notna()]
    if own.empty:
        held = sorted(frame.loc[frame["energy_tce"].notna(), "region_code"].unique())
        raise InputError(Problem("no accounts for the project's league", field="location.league",
                                 value=league, accepted=held))
    year = int(own["year"].max()) if year is None else int(year)
    out: dict[str, Any] = {"year": year, "source": f"{source}: accounts of {year} "
                           "(controlled energy after the accounting core's deductions; GDP at "
                           f"{year} prices); remaining budget from dualcontrol.budget"}
    for level, key in (("league", code), ("region", region_code)):
        rows = frame[(frame["region_code"] == key) & (frame["year"] == year)]
        if rows.empty:
            held = sorted(frame.loc[frame["region_code"] == key, "year"].unique().tolist())
            raise InputError(Problem(f"no accounts of {year} for the {level}",
                                     field="year", value=year, accepted=held))
        row = rows.iloc[0]
        names = resolve_region(key)
        entry: dict[str, Any] = {
            "name": names["name_en"], "code": key,
            "energy_tce": float(row["energy_tce"]),
            "controlled_tce": float(row.get("controlled_tce", row["energy_tce"])),
            "gdp_const_10k_yuan": float(row["gdp_current_10k_yuan"]),
        }
        if budget is not None and len(budget):
            mine = budget[budget["region_code"].astype(str) == key]
            pick = mine[mine["horizon"] == "plan_end"]
            pick = pick if len(pick) else mine
            if len(pick) and pd.notna(pick["budget_tce"].iloc[0]):
                entry["remaining_budget_tce"] = float(pick["budget_tce"].iloc[0])
                entry["budget_horizon"] = int(pick["year"].iloc[0])
        out[level] = entry
    return out


# --- the verdict --------------------------------------------------------------------

def _rules() -> dict[str, dict[str, str]]:
    return {r["rule"]: dict(r) for _, r in load_table("review-rules").iterrows()}


def _reason(rule: str, outcome: str, message: str, message_zh: str = "") -> Reason:
    row = _rules()[rule]
    return Reason(rule, outcome, message, f"{row['source']} ({row['edition']})", message_zh)


def _zh_name(name: Any) -> str:
    """Return the Chinese name of a region given by name or code (else the name)."""
    from dualcontrol.regions import resolve_region

    try:
        return resolve_region(str(name))["name_zh"]
    except Exception:  # a name outside the division list: shown as given
        return str(name)


def review_project(project: Project, context: dict[str, Any] | None = None, *,
                   grid: str | None = DEFAULT_GRID) -> Review:
    """Return the review of ``project``: figures, reasons and verdict.

    Parameters
    ----------
    project : Project
        The validated project (:func:`load_project`).
    context : dict, optional
        Baseline figures of the league and region (see :func:`area_effects`).
    grid : str, optional
        Grid whose emission factor values purchased electricity [kg CO2 / kWh].

    Returns
    -------
    Review
        ``verdict`` is ``reject`` if any rule rejects, ``approve_with_conditions`` if any
        sets a condition, else ``approve``; ``reasons`` lists every finding.

    Raises
    ------
    InputError
        Unknown product (naming the supported ones), output unit not fitting the level,
        design energy missing a carrier the product needs.

    References
    ----------
    发改产业〔2021〕1464号 and 1609号; 发改产业〔2023〕723号 (benchmark for new projects);
    national quota standards (access values); review_rules.csv for each rule's source.
    """
    level = level_for(project.product, project.start_year, file=project.file)
    check_feedstock_scope(project, level.industry)
    check_required_carriers(project)
    by_carrier = energy_by_carrier(project, grid=grid)
    u = project_unit_consumption(project, by_carrier, level)
    quota = quota_for(level.product, project.start_year)
    rules = _rules()
    reasons: list[Reason] = []
    if bool(at_or_better(u, level.benchmark)):
        reasons.append(_reason("benchmark_required", "pass",
                               f"design unit consumption {u:,.1f} {level.unit} is at or better "
                               f"than the benchmark {level.benchmark:g} {level.unit} "
                               f"({level.level_set})",
                               f"设计单位产品能耗{u:,.1f} {level.unit}，达到或优于标杆水平"
                               f"{level.benchmark:g} {level.unit}（{level.level_set}）"))
    else:
        reasons.append(_reason("benchmark_required", "reject",
                               f"design unit consumption {u:,.1f} {level.unit} is worse than "
                               f"the benchmark {level.benchmark:g} {level.unit} "
                               f"({level.level_set}; baseline {level.baseline:g}): new projects "
                               "must reach the benchmark",
                               f"设计单位产品能耗{u:,.1f} {level.unit}，未达到标杆水平"
                               f"{level.benchmark:g} {level.unit}（{level.level_set}；基准水平"
                               f"{level.baseline:g}）：新建项目须达到标杆水平"))
    if quota is not None:
        ok = bool(at_or_better(u, quota.access))
        reasons.append(_reason("quota_access", "pass" if ok else "reject",
                               f"{'meets' if ok else 'fails'} the access value {quota.access:g} "
                               f"{quota.unit} of {quota.standard}",
                               f"{'达到' if ok else '未达到'}{quota.standard}的准入值"
                               f"{quota.access:g} {quota.unit}"))
    if not level.verified or (quota is not None and not quota.verified):
        reasons.append(_reason("unverified_level", "condition",
                               f"level {level.product} {level.level_set} is not verified "
                               f"({level.checked}); confirm against {level.source}",
                               f"能效水平 {level.product} {level.level_set} 尚未核实"
                               f"（{level.checked}）；须对照{level.source}确认"))
    if level.product == "electrolytic_aluminium":
        reasons.append(_reason("aluminium_environment", "condition",
                               rules["aluminium_environment"]["description"],
                               "电解铝项目须符合产业与环保政策的附加要求"))
    totals = by_carrier[["energy_tce", "controlled_tce", "feedstock_tce", "renewable_tce",
                         "co2_t"]].sum()
    value_added = project.value_added_10k_yuan
    if value_added is None:
        value_added = project.output_value_10k_yuan
        reasons.append(Reason("value_added", "note",
                              "no design value added given: the output value stands in for "
                              "it, which overstates the GDP added and understates the "
                              "intensity effect", "dualcontrol review",
                              "未提供设计增加值：以产值代替，会高估新增地区生产总值、"
                              "低估对能耗强度的影响"))
    effects = area_effects(context or {}, float(totals["controlled_tce"]),
                           float(totals["energy_tce"]), value_added)
    project_intensity = float(totals["controlled_tce"]) / value_added
    for eff in effects:
        if eff["level"] == "league":
            name_zh = _zh_name(eff["name"])
            if project_intensity > eff["intensity_before"]:
                reasons.append(_reason(
                    "raises_intensity", "condition",
                    f"project intensity {project_intensity:.3f} tce/10k yuan is above "
                    f"{eff['name']}'s {eff['intensity_before']:.3f}: the league's intensity "
                    f"rises {eff['intensity_change_pct']:+.2f}%",
                    f"项目能耗强度{project_intensity:.3f}吨标准煤/万元，高于{name_zh}的"
                    f"{eff['intensity_before']:.3f}：盟市能耗强度变化"
                    f"{eff['intensity_change_pct']:+.2f}%"))
            else:
                reasons.append(_reason(
                    "raises_intensity", "pass",
                    f"project intensity {project_intensity:.3f} tce/10k yuan is at or below "
                    f"{eff['name']}'s {eff['intensity_before']:.3f}",
                    f"项目能耗强度{project_intensity:.3f}吨标准煤/万元，不高于{name_zh}的"
                    f"{eff['intensity_before']:.3f}"))
            share = eff["budget_share"]
            budget_left = eff["remaining_budget_tce"]
            if budget_left is not None and budget_left <= 0:
                reasons.append(_reason(
                    "budget_exceeded", "reject",
                    f"{eff['name']} has no remaining budget: it is "
                    f"{-budget_left:,.0f} tce over its targets' path, so the "
                    f"project's {totals['controlled_tce']:,.0f} tce cannot be accommodated",
                    f"{name_zh}已无剩余用能空间：超出目标进度{-budget_left:,.0f}吨标准煤，"
                    f"项目纳入控制的能耗{totals['controlled_tce']:,.0f}吨标准煤无法安排"))
            elif share is not None:
                limit = float(rules["budget_exceeded"]["threshold"])
                cond = float(rules["budget_share"]["threshold"])
                text = (f"project controlled energy {totals['controlled_tce']:,.0f} tce is "
                        f"{share:.1%} of {eff['name']}'s remaining budget "
                        f"{eff['remaining_budget_tce']:,.0f} tce")
                text_zh = (f"项目纳入控制的能耗{totals['controlled_tce']:,.0f}吨标准煤，占"
                           f"{name_zh}剩余用能空间{eff['remaining_budget_tce']:,.0f}吨标准煤的"
                           f"{share:.1%}")
                if share > limit:
                    reasons.append(_reason("budget_exceeded", "reject", text, text_zh))
                elif share > cond:
                    reasons.append(_reason("budget_share", "condition",
                                           f"{text} (> {cond:.0%}): "
                                           + rules["budget_share"]["description"],
                                           f"{text_zh}（>{cond:.0%}）：开工前须落实等量或"
                                           "减量替代"))
                else:
                    reasons.append(_reason("budget_share", "pass", text, text_zh))
    outcomes = {r.outcome for r in reasons}
    verdict = ("reject" if "reject" in outcomes else
               "approve_with_conditions" if "condition" in outcomes else "approve")
    logger.info("review of %s: %s", project.name, verdict)
    return Review(
        project={"name": project.name, "industry": project.industry,
                 "product": level.product, "product_name": f"{level.name_en} {level.name_zh}",
                 "capacity": project.capacity, "capacity_unit": project.capacity_unit,
                 "region": project.region, "league": project.league,
                 "start_year": project.start_year, "output": project.output,
                 "output_unit": project.output_unit,
                 "output_value_10k_yuan": project.output_value_10k_yuan,
                 "value_added_10k_yuan": project.value_added_10k_yuan,
                 "intensity_tce_per_10k_yuan": project_intensity, "file": project.file,
                 "grid": grid or str(electricity_factor_rule(project.start_year)["grid"])},
        verdict=verdict, unit_consumption=u, unit=level.unit, benchmark=level.benchmark,
        baseline=level.baseline, level_set=level.level_set,
        level_source=f"{level.source} ({level.edition})", level_verified=level.verified,
        quota=None if quota is None else asdict(quota),
        energy_tce=float(totals["energy_tce"]), controlled_tce=float(totals["controlled_tce"]),
        feedstock_tce=float(totals["feedstock_tce"]),
        renewable_tce=float(totals["renewable_tce"]), co2_t=float(totals["co2_t"]),
        carriers=by_carrier.to_dict("records"), effects=effects, reasons=reasons,
        carbon=evaluate_carbon(project, by_carrier, level, context, grid=grid),
    )


# --- the carbon evaluation ----------------------------------------------------------

def _carbon_rules() -> dict[str, dict[str, str]]:
    return {r["rule"]: dict(r) for _, r in load_table("carbon-evaluation-rules").iterrows()}


def _carbon_reason(rule: str, fired: bool, message: str, message_zh: str = "") -> Reason:
    """Return the finding of a carbon rule: its data outcome when it fires, else pass."""
    row = _carbon_rules()[rule]
    return Reason(rule, row["outcome"] if fired else "pass", message,
                  f"{row['source']} ({row['edition']})", message_zh)


def fossil_mix_factor(by_carrier: pd.DataFrame, level: Level) -> tuple[float, str]:
    """Return the CO2 per tce of the project's emitting energy [t CO2 / tce] and how.

    The CO2 of the carriers (:func:`energy_by_carrier`) over their energy less
    renewable electricity, over the carriers the level counts (for coal power the fuel,
    not the electricity bought); raw coal's factor
    (:func:`dualcontrol.benchmarking.co2_per_tce`) when the project has no such energy.
    """
    rows = by_carrier
    if level.product == "coal_power":
        rows = rows[rows["carrier"] != "electricity"]
    tce = float((rows["energy_tce"] - rows["renewable_tce"]).sum())
    if tce <= 0:
        per_tce, source = co2_per_tce()
        return per_tce, f"raw coal {per_tce:.4f} t CO2/tce ({source})"
    factor = float(rows["co2_t"].sum()) / tce
    return factor, (f"{factor:.4f} t CO2/tce, the project's own carriers at the factors of "
                    "its start year (CO2 over energy less renewable electricity)")


def derived_carbon_reference(level: Level, value: float, year: int, mix: tuple[float, str],
                             grid: str | None = DEFAULT_GRID) -> tuple[float, str, str]:
    """Return a CO2-per-unit reference derived from an energy level [t CO2 / output unit].

    A level in electricity per unit (kWh/t) times the grid factor of ``year`` (the
    electricity factor rule, or ``grid``; the latest published for a later year); a
    level in standard coal per unit (kgce/t, gce/kWh) times ``mix``, the CO2 per tce of
    the project's emitting energy (:func:`fossil_mix_factor`): the CO2 the project would
    emit at the level with its own fuels, so that renewable power lowers its CO2 and not
    the reference.
    Energy-related CO2 only: process CO2 is not in it.

    This is this project's derivation, not a published level (not verified). Returns
    the reference, how it was derived, and the factor used with its unit.
    """
    if level.numerator == "electricity_kwh":
        factor, source, _ = co2_coefficient(resolve_carrier("electricity"), year, grid,
                                            latest_for_future=True)
        used = f"{factor * 1000:.4f} kg CO2/kWh"
        return (value / level.numerator_scale * factor,
                f"{value:g} {level.unit} x {used} ({source})", used)
    per_tce, how = mix
    return (value / level.numerator_scale * per_tce, f"{value:g} {level.unit} x {how}",
            f"{per_tce:.4f} t CO2/tce")


def carbon_references(level: Level, year: int, mix: tuple[float, str],
                      grid: str | None = DEFAULT_GRID) -> list[dict[str, Any]]:
    """Return the CO2-per-unit references of a product for ``year``, benchmark and baseline.

    A published value of ``carbon_reference_levels.csv`` (scope ``total``: energy and
    process CO2) stands for its level; a level without one is derived from the energy
    level (:func:`derived_carbon_reference`, scope ``energy``, ``published`` False).
    """
    table = load_table("carbon-reference-levels")
    rows = table[(table["product"] == level.product)
                 & (table["applies_from_year"].astype(int) <= year)
                 & (table["co2_t_per_unit"].str.strip() != "")]
    out = []
    for name, value in (("benchmark", level.benchmark), ("baseline", level.baseline)):
        hit = rows[rows["level"] == name]
        if len(hit):
            row = hit.iloc[-1]
            out.append({"level": name, "co2_t_per_unit": float(row["co2_t_per_unit"]),
                        "unit": f"t CO2/{row['output_unit']}", "scope": row["scope"],
                        "published": True, "derivation": "", "derivation_zh": "",
                        "source": f"{row['source']} ({row['edition']})",
                        "verified": str(row["verified"]).lower() == "true"})
            continue
        if value is None or not math.isfinite(value) or value <= 0:
            continue
        co2, how, used = derived_carbon_reference(level, value, year, mix, grid)
        out.append({"level": name, "co2_t_per_unit": co2, "unit": f"t CO2/{level.output_unit}",
                    "scope": "energy", "published": False,
                    "derivation": f"this project's derivation: {name} {how}",
                    "derivation_zh": f"{'标杆' if name == 'benchmark' else '基准'}水平"
                                     f"{value:g} {level.unit} x {used}",
                    "source": f"{level.source} ({level.edition}) x factors", "verified": False})
    return out


def carbon_budget_context(budgets: pd.DataFrame, league_code: str, year: int
                          ) -> dict[str, Any] | None:
    """Return the league's carbon budget of ``year`` for a review context, or None.

    ``budgets`` is :func:`dualcontrol.carbon_budget.carbon_budgets` output; a year
    outside its years takes the nearest (said in ``carbon_budget_note``).
    """
    mine = budgets[(budgets["region_code"].astype(str) == str(league_code))
                   & (budgets["period"] != "2026-2030")]
    if mine.empty:
        return None
    years = sorted(int(p) for p in mine["period"])
    chosen = min(max(year, years[0]), years[-1])
    row = mine[mine["period"] == str(chosen)].iloc[0]
    note = "" if chosen == year else f"start year {year} outside {years[0]}-{years[-1]}"
    return {"carbon_budget_year": chosen, "carbon_budget_co2_t": float(row["budget_co2_t"]),
            "carbon_actual_co2_t": float(row["actual_co2_t"]),
            "carbon_reserved_co2_t": float(row["reserved_co2_t"]),
            "carbon_remaining_co2_t": float(row["remaining_co2_t"]),
            "carbon_budget_rule": str(row["rule_id"]), "carbon_budget_note": note}


def evaluate_carbon(project: Project, by_carrier: pd.DataFrame, level: Level,
                    context: dict[str, Any] | None = None, *,
                    grid: str | None = DEFAULT_GRID) -> CarbonEvaluation:
    """Return the project's carbon evaluation: CO2, CO2 per unit, budget share, verdict.

    Parameters
    ----------
    project : Project
        The validated project; ``process_co2_t`` [t CO2 / a] is added to the CO2 of
        its carriers.
    by_carrier : DataFrame
        :func:`energy_by_carrier` of the project (``co2_t`` [t CO2 / a] per carrier).
    level : Level
        The product's energy levels (benchmark, baseline).
    context : dict, optional
        The review context; its ``league`` may carry ``carbon_remaining_co2_t`` and
        ``carbon_budget_co2_t`` [t CO2] (:func:`carbon_budget_context`).

    Returns
    -------
    CarbonEvaluation
        ``verdict`` ``fail`` if any rule fails, ``conditional`` if any sets a condition,
        else ``pass``; every finding in ``reasons``.

    References
    ----------
    国家发展改革委令第31号 固定资产投资项目节能审查和碳排放评价办法 (2025-07-25, in force
    2025-09-01); ``carbon_evaluation_rules.csv`` for each rule's source.
    """
    rules = _carbon_rules()
    energy_co2 = float(by_carrier["co2_t"].sum())
    co2 = energy_co2 + project.process_co2_t
    output = project.output * output_factor(project.output_unit, level, file=project.file,
                                            field="design_output.unit")
    intensity, energy_intensity = co2 / output, energy_co2 / output
    references = carbon_references(level, project.start_year,
                                   fossil_mix_factor(by_carrier, level), grid)
    reasons: list[Reason] = []
    if project.process_co2_t == 0:
        reasons.append(_carbon_reason("process_co2_not_stated", True,
                                      rules["process_co2_not_stated"]["description"],
                                      "项目未申报工业过程排放：仅评价能源活动二氧化碳排放；"
                                      "有过程排放的产品须申报"))
    by_level = {r["level"]: r for r in references}
    unit = f"t CO2/{level.output_unit}"
    for name, rule in (("baseline", "carbon_intensity_baseline"),
                       ("benchmark", "carbon_intensity_benchmark")):
        ref = by_level.get(name)
        if ref is None:
            continue
        mine = intensity if ref["scope"] == "total" else energy_intensity
        what = "CO2" if ref["scope"] == "total" else "energy-related CO2"
        worse = not bool(at_or_better(mine, ref["co2_t_per_unit"]))
        text = (f"{what} per unit {mine:.3f} {unit} is {'above' if worse else 'at or below'} "
                f"the {name} reference {ref['co2_t_per_unit']:.3f} {unit}")
        text_zh = (f"单位产品{'二氧化碳' if ref['scope'] == 'total' else '能源活动二氧化碳'}"
                   f"排放{mine:.3f} {unit}，{'高于' if worse else '不高于'}"
                   f"{'基准' if name == 'baseline' else '标杆'}参考值"
                   f"{ref['co2_t_per_unit']:.3f} {unit}")
        if name == "baseline" and not worse:
            continue  # the benchmark finding says it
        reasons.append(_carbon_reason(rule, worse, text, text_zh))
        if worse:
            break  # above the baseline: the benchmark finding adds nothing
    if not references:
        reasons.append(Reason("carbon_intensity_benchmark", "note",
                              f"no CO2 reference for {level.product}: no published value "
                              "and no energy level to derive one from", "dualcontrol review",
                              f"{level.product}无二氧化碳参考值：既无公布值，也无可据以推算的"
                              "能效水平"))
    if any(not r["published"] or not r["verified"] for r in references):
        derived = "; ".join(r["derivation"] or r["source"] for r in references)
        derived_zh = "；".join(r["derivation_zh"] or r["source"] for r in references)
        reasons.append(_carbon_reason("carbon_reference_unverified", True,
                                      f"{rules['carbon_reference_unverified']['description']}"
                                      f": {derived}",
                                      "参考值不是公布值，而是本项目由能效水平乘以项目自身"
                                      f"用能的排放因子推算（未核实）：{derived_zh}"))
    league = (context or {}).get("league") or {}
    remaining = league.get("carbon_remaining_co2_t")
    budget = None
    if remaining is None or (isinstance(remaining, float) and math.isnan(remaining)):
        reasons.append(_carbon_reason("carbon_budget_unknown", True,
                                      rules["carbon_budget_unknown"]["description"],
                                      "所在盟市碳预算未知（无核算数据或目标）：无法评价项目"
                                      "占用比例"))
    else:
        remaining = float(remaining)
        total = league.get("carbon_budget_co2_t")
        budget = {"league": league.get("name", ""), "year": league.get("carbon_budget_year"),
                  "budget_co2_t": None if total is None else float(total),
                  "reserved_co2_t": league.get("carbon_reserved_co2_t"),
                  "remaining_co2_t": remaining,
                  "share_of_budget": None if not total else co2 / float(total),
                  "share_of_remaining": None if remaining <= 0 else co2 / remaining,
                  "rule": league.get("carbon_budget_rule", ""),
                  "note": league.get("carbon_budget_note", "")}
        fail = float(rules["carbon_budget_exceeded"]["threshold"])
        cond = float(rules["carbon_budget_share"]["threshold"])
        where = f"{budget['league']}'s remaining carbon budget of {budget['year']}"
        where_zh = f"{_zh_name(budget['league'])}{budget['year']}年剩余碳预算"
        if remaining <= 0:
            reasons.append(_carbon_reason(
                "carbon_budget_exceeded", True,
                f"{where} is {remaining:,.0f} t CO2: nothing is left for the project's "
                f"{co2:,.0f} t CO2",
                f"{where_zh}为{remaining:,.0f}吨二氧化碳：无余量容纳项目的{co2:,.0f}吨"))
        else:
            share = co2 / remaining
            text = f"project CO2 {co2:,.0f} t/a is {share:.1%} of {where} {remaining:,.0f} t"
            text_zh = (f"项目年排放二氧化碳{co2:,.0f}吨，占{where_zh}{remaining:,.0f}吨的"
                       f"{share:.1%}")
            # a share equal to a threshold (up to float rounding) is not above it
            over_cond = share > cond * (1 + NUMERIC_TOLERANCE)
            if share > fail * (1 + NUMERIC_TOLERANCE):
                reasons.append(_carbon_reason("carbon_budget_exceeded", True,
                                              f"{text} (> {fail:.0%})",
                                              f"{text_zh}（>{fail:.0%}）"))
            else:
                sign = ">" if over_cond else "<="
                reasons.append(_carbon_reason("carbon_budget_share", over_cond,
                                              f"{text} ({sign} {cond:.0%})",
                                              f"{text_zh}（{'>' if over_cond else '≤'}"
                                              f"{cond:.0%}）"))
    outcomes = {r.outcome for r in reasons}
    verdict = ("fail" if "fail" in outcomes else
               "conditional" if "conditional" in outcomes else "pass")
    logger.info("carbon evaluation of %s: %s", project.name, verdict)
    return CarbonEvaluation(
        verdict=verdict, energy_co2_t=energy_co2, process_co2_t=project.process_co2_t,
        process_co2_basis=project.process_co2_basis, co2_t=co2, output=output,
        output_unit=level.output_unit, intensity_t_per_unit=intensity,
        energy_intensity_t_per_unit=energy_intensity, references=references, budget=budget,
        reasons=reasons)


def render_html(review: Review) -> str:
    """Return the review as a self-contained HTML report (inline SVG chart, no scripts)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("dualcontrol", "templates"),
                      autoescape=select_autoescape(["html"]))
    levels = [("benchmark", review.benchmark), ("baseline", review.baseline)]
    if review.quota:
        levels.append(("quota limit", review.quota["limit"]))
    values = [v for _, v in levels] + [review.unit_consumption]
    low, high = min(values), max(values)
    pad = (high - low) * 0.15 or abs(high) * 0.1 or 1.0
    return env.get_template("review.html").render(
        r=review, levels=levels, lo=low - pad, hi=high + pad)
