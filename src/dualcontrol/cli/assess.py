"""Command ``assess``: the dual-control barometer under the rule set of the year, the
remaining energy budget, and the two ledgers side by side (``--compare-rule-sets``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from dualcontrol.cli.app import app
from dualcontrol.cli.output import Lang, choices, emit, frame_records, print_json, user_errors
from dualcontrol.errors import InputError, Problem
from dualcontrol.fileio import read_table

#: Levels of the assessed regions (:func:`dualcontrol.assessment.level_of`).
ASSESS_LEVELS = ("region", "league", "county")
AssessLevel = choices("AssessLevel", ASSESS_LEVELS)
BAROMETER_COLUMNS = ["region", "indicator", "role", "rating", "value", "requirement", "gap", "unit",
                     "change_vs_same_period_last_year", "plan", "exclusions", "note"]
BUDGET_COLUMNS = ["region", "horizon", "year", "last_actual_year", "gdp_growth",
                  "intensity_room_tce", "total_room_tce", "budget_tce", "binding", "note"]


def _store_accounts(year: int | None, period: str | None) -> pd.DataFrame:
    """Return the accounts of the region and its leagues from the store: complete years
    and the cumulative periods from January with year-to-date GDP
    (:func:`dualcontrol.datasets.assessment_accounts` with ``periods``).

    Targets are not read from the store: they come from the package's data
    (``data/targets.csv`` and, for the demo leagues, ``data/demo_league_targets.csv``;
    see :func:`dualcontrol.assessment.targets`).
    """
    from dualcontrol import datasets

    # the cumulative periods only when asked for, or when the year is not complete
    periods = period is not None or year is None or datasets.months_reported().get(
        year, 12) < 12
    frame = datasets.assessment_accounts(periods=periods)
    if frame.empty:
        raise InputError(Problem("the store has no energy accounts (run `dualcontrol demo` "
                                 "or ingest reports), or pass --data FILE", field="--data"))
    return frame


def _check_plan(plan: str) -> None:
    """Refuse a plan that ``data/plan_periods.csv`` does not know (exit code 2)."""
    from dualcontrol.reference import load_table

    plans = list(load_table("plan-periods")["plan"].astype(str))
    if plan not in plans:
        raise InputError(Problem("unknown plan", field="--plan", value=plan, accepted=plans))


def _with_budget(barometer: pd.DataFrame, budget: pd.DataFrame) -> list[dict[str, Any]]:
    """Return barometer records, each carrying its region's budget figures."""
    records = frame_records(barometer)
    by_region: dict[str, dict[str, Any]] = {}
    for item in frame_records(budget):
        extra = by_region.setdefault(str(item["region_code"]), {})
        extra[f"budget_{item['horizon']}_tce"] = item["budget_tce"]
        extra[f"binding_{item['horizon']}"] = item["binding"]
    for record in records:
        record.update(by_region.get(str(record["region_code"]), {}))
    return records


def _barometer_title(barometer: pd.DataFrame) -> str:
    """Return the barometer's title naming the period and the rules that rated it."""
    if not len(barometer):
        return "Barometer"
    first = barometer.iloc[0]
    return (f"Barometer {first['period']} {first['period_zh']}, {first['rule_set_zh']} "
            f"{first['rule_set']} (progress path {first['progress_rule']}, "
            f"barometer scheme {first['barometer_scheme']})")


@app.command("assess")
def assess_cmd(
    year: Annotated[int | None, typer.Option(help="Assessment year (default: the latest).")]
    = None,
    period: Annotated[str | None, typer.Option(
        help="Cumulative period: 2024, 2024-Q3, 2024-H1 (overrides --year).")] = None,
    level: Annotated[AssessLevel | None, typer.Option(help="Only regions of this level.")]
    = None,
    data: Annotated[Path | None, typer.Option(
        "--data", help="CSV/XLSX of region accounts (default: the store).")] = None,
    gdp_growth: Annotated[float | None, typer.Option(
        "--gdp-growth", help="Real GDP growth forecast, 0.05 = 5% (default: last observed).")]
    = None,
    plan: Annotated[str | None, typer.Option(help="Plan of the targets, e.g. 14th.")] = None,
    add_tce: Annotated[float | None, typer.Option(
        "--add-tce", help="Show the effect of adding this much energy [tce] in --in.")] = None,
    in_region: Annotated[str | None, typer.Option(
        "--in", help="Region code where --add-tce is added (e.g. 150600 Ordos).")] = None,
    compare_rule_sets: Annotated[bool, typer.Option(
        "--compare-rule-sets", help="Show --region under energy and carbon dual control "
        "side by side (same year and data), with every deduction.")] = False,
    region: Annotated[str | None, typer.Option(
        "--region", help="Region or league code for --compare-rule-sets (default 150000).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of table headers.")] = Lang.en,
) -> None:
    """Rate each region under the rule set of the year, and show the energy budget.

    To 2025 energy dual control (energy intensity, total, CO2 intensity); from 2026
    carbon dual control (CO2 intensity binding, total CO2 supplementary, energy
    reported): data/assessment_rule_sets.csv. The current year is assessed on the
    months reported so far (2026年1-10月 against 2025年1-10月). Ratings: red, yellow,
    green (NDRC barometer), exempt, reported (not rated under the rule set), no_data (a
    needed figure is missing), no_target (no numeric target for that indicator).
    """
    from dualcontrol.assessment import (
        months_available,
        parse_assessment_period,
        prepare_accounts,
        progress,
    )
    from dualcontrol.budget import energy_budget, intensity_effect

    with user_errors(as_json=as_json):
        if in_region is not None and add_tce is None:
            raise InputError(Problem("--in needs --add-tce TCE", field="--in",
                                     value=in_region))
        if plan is not None:
            _check_plan(plan)
        raw = read_table(data) if data is not None else _store_accounts(year, period)
        accounts = prepare_accounts(raw, file=str(data) if data else None)
        months = 12
        if period is not None:
            year, months = parse_assessment_period(period)
        if year is None:
            year = int(accounts["year"].max())
        if period is None:  # the current year: the months reported so far (1-10月)
            months = months_available(accounts, year)
        only = level.value if level is not None else None
        if only is not None and not (accounts["level"] == only).any():
            raise InputError(Problem(
                "the accounts have no region of this level"
                + ("" if data else " (the store's accounts are by region and league)"),
                file=str(data) if data else None, field="--level", value=only,
                accepted=sorted(accounts["level"].unique(), key=ASSESS_LEVELS.index)))
        if region is not None and region not in set(accounts["region_code"]):
            raise InputError(Problem("no accounts for this region", field="--region",
                                     value=region,
                                     accepted=sorted(set(accounts["region_code"]))))
        if compare_rule_sets:
            from dualcontrol.assessment import compare_rule_sets as compare

            ledgers = compare(accounts, year=year, months=months,
                              region_code=region or "150000")
        else:
            ledgers = None
    if ledgers is not None:
        _show_ledgers(ledgers, as_json=as_json, lang=lang)
        return
    with user_errors():
        barometer = progress(accounts, year=year, months=months, level=only, plan=plan)
        # the energy budget belongs to energy dual control: none where energy is only reported
        energy_rated = (barometer.empty or not (
            (barometer["indicator"] == "energy_intensity")
            & (barometer["role"] == "reported")).any())
        budget = (energy_budget(accounts, year=year, gdp_growth=gdp_growth, level=only,
                                plan=plan) if energy_rated else None)
        effect = None
        if add_tce is not None:
            if in_region is None:
                raise InputError(Problem("--add-tce needs --in REGION_CODE", field="--in"))
            effect = intensity_effect(accounts, year=year, months=months, plan=plan,
                                      region_code=in_region, added_tce=add_tce)
    for frame in (barometer, budget):
        if frame is not None:
            frame.insert(0, "region", frame["region_name"].astype(str))
    if as_json:
        records = (_with_budget(barometer, budget) if budget is not None
                   else frame_records(barometer))
        print_json(records if effect is None else
                   {"barometer": records, "effect": frame_records(effect)})
        return
    shown = _in_drc_units(barometer[BAROMETER_COLUMNS])
    emit(shown, title=_barometer_title(barometer), lang=lang)
    if len(barometer):
        typer.echo(f"Method: {barometer['method'].iloc[0]}")
    if budget is not None:
        emit(budget[BUDGET_COLUMNS], title="Remaining energy budget [tce]", lang=lang)
    else:
        typer.echo(f"No energy budget: under {barometer['rule_set'].iloc[0]} energy is "
                   "reported, not rated.")
    if effect is not None:
        emit(effect, title=f"Effect of {add_tce:g} tce in {in_region}", lang=lang)


#: Units of totals shown in 10^4 (DRC units 万吨标准煤, 万吨CO2) in the barometer table.
TEN_THOUSAND_UNITS = {"tce": "10^4 tce", "t CO2": "10^4 t CO2"}


def _in_drc_units(shown: pd.DataFrame) -> pd.DataFrame:
    """Return the barometer table as the terminal shows it (``--json`` keeps it whole).

    Totals in tce and t CO2 are given in 10^4 units (value, requirement and gap alike),
    as the other tables give them; the unit of a reduction rate is said in a word.
    """
    shown = shown.copy()
    unit = shown["unit"].astype(str)
    for given, scaled in TEN_THOUSAND_UNITS.items():
        rows = unit == given
        for column in ("value", "requirement", "gap"):
            shown[column] = shown[column].astype("float64")
            shown.loc[rows, column] = shown.loc[rows, column] / 1e4
        shown.loc[rows, "unit"] = scaled
    shown["unit"] = shown["unit"].str.replace(" (reduction vs base year)", " (cut)",
                                              regex=False)
    return shown


#: Chinese headers of the side-by-side view (the English header is the column name).
LEDGER_HEADERS_ZH = {"item": "指标或扣除项", "rule_id": "规则", "document_number": "文件",
                     "value": "本期", "base_value": "基期", "energy_dual_control": "能耗双控",
                     "carbon_dual_control": "碳排放双控", "role": "定位", "rating": "评价",
                     "requirement": "进度要求"}


def _show_ledgers(ledgers: pd.DataFrame, *, as_json: bool, lang: Lang) -> None:
    """Print the two ledgers (:func:`dualcontrol.assessment.compare_rule_sets`)."""
    from dualcontrol.assessment import LABELS_ZH, LEDGERS

    if as_json:
        print_json(frame_records(ledgers))
        return
    zh = lang == Lang.zh
    first = ledgers.iloc[0]
    name = f"{first['region_name']} {first['period_zh'] if zh else first['period']}"
    label = "item_zh" if zh else "item"
    indicators = ledgers[ledgers["section"] == "indicator"]
    wide = pd.DataFrame({"item": list(dict.fromkeys(indicators[label]))})
    for ledger in LEDGERS:
        part = indicators[indicators["rule_set"] == ledger].set_index(label)
        head = LEDGER_HEADERS_ZH[ledger] if zh else ledger.split("_")[0]
        for column in ("role", "rating", "value", "requirement"):
            source = "role_zh" if zh and column == "role" else column
            values = wide["item"].map(part[source])
            if zh and column == "rating":
                values = values.map(lambda v: LABELS_ZH.get(v, v))
            wide[f"{head}: {LEDGER_HEADERS_ZH[column] if zh else column}"] = values
    wide["unit"] = wide["item"].map(indicators.drop_duplicates(label).set_index(label)["unit"])
    deductions = ledgers[ledgers["section"] == "deduction"]
    rows = deductions.drop_duplicates("rule_id")[[label, "rule_id", "document_number",
                                                  "value", "base_value"]].copy()
    for ledger in LEDGERS:
        part = deductions[deductions["rule_set"] == ledger].set_index("rule_id")
        rows[LEDGER_HEADERS_ZH[ledger] if zh else ledger] = rows["rule_id"].map(
            part["applied_to"])
    rows = rows.rename(columns={label: "item"})
    if zh:
        wide = wide.rename(columns={"item": LEDGER_HEADERS_ZH["item"], "unit": "单位"})
        rows = rows.rename(columns=LEDGER_HEADERS_ZH)
    emit(wide, title=("两本账: " if zh else "Two ledgers: ") + name, lang=lang)
    base = deductions["base_year"].dropna()
    emit(rows, title=(f"扣除项 [tce] (基期 {int(base.iloc[0])})" if zh and len(base) else
                      f"Deductions [tce] (base year {int(base.iloc[0])})" if len(base) else
                      "Deductions [tce]"), lang=lang)
