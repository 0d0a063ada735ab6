"""The office's view of the barometer: the headline, the map's colours, and why a rating.

Nothing here computes an assessed figure: the ratings, values and requirements are the
rows of :func:`dualcontrol.assessment.progress` (through ``WebData.barometer``); this
module arranges them (region first, then the leagues by code), words them in Chinese
or English, and looks up the rule, target and deduction rows of ``src/dualcontrol/data``
each rating names (the same tables the assessment read).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from dualcontrol.assessment import barometer_rules, progress_path, targets, total_exemption_rule
from dualcontrol.labels import indicator_figure, show, value_name
from dualcontrol.labels import unit as unit_of
from dualcontrol.reference import load_table

#: Every indicator the barometer may rate (:data:`dualcontrol.assessment.INDICATORS`).
INDICATORS: tuple[str, ...] = ("co2_intensity", "co2_total", "energy_intensity",
                               "energy_total")
#: Roles of an indicator under the year's rule set, most binding first.
ROLES: tuple[str, ...] = ("binding", "flexible", "supplementary", "reported")
#: Ratings in the order of the legend (worst first).
RATINGS: tuple[str, ...] = ("red", "yellow", "green", "exempt", "reported", "no_target",
                            "no_data", "withheld")
#: Indicators that may colour the map by default: the first binding one of the year.
MAP_INDICATORS: tuple[str, ...] = ("energy_intensity", "co2_intensity")
#: Target indicators of targets.csv behind each barometer indicator.
TARGET_INDICATORS: dict[str, tuple[str, ...]] = {
    "energy_intensity": ("energy_intensity_reduction",),
    "energy_total": ("energy_total_cap_tce", "energy_total_increment_tce"),
    "co2_intensity": ("co2_intensity_reduction",),
    "co2_total": ("co2_total_cap_t", "co2_peak_year"),
}
#: What a total indicator is counted in (the others are reductions, in per cent).
TOTAL_KINDS: dict[str, str] = {"energy_total": "tce", "co2_total": "co2"}


def indicators_of(barometer: pd.DataFrame) -> tuple[str, ...]:
    """Return the indicators of a year's barometer, binding first (then as listed)."""
    if barometer.empty or "indicator" not in barometer:
        return ("energy_intensity", "energy_total", "co2_intensity")
    roles = (barometer.drop_duplicates("indicator").set_index("indicator")["role"]
             if "role" in barometer else pd.Series(dtype=str))
    present = [i for i in INDICATORS if i in set(barometer["indicator"])]
    rank = {role: n for n, role in enumerate(ROLES)}
    return tuple(sorted(present, key=lambda i: (rank.get(str(roles.get(i, "binding")), 0),
                                                INDICATORS.index(i))))


def map_indicator(barometer: pd.DataFrame) -> str:
    """Return the indicator the map shows by default: the first of :data:`MAP_INDICATORS`
    binding under the year's rule set (energy intensity to 2025, CO2 intensity from 2026).
    """
    if not barometer.empty and "role" in barometer:
        binding = set(barometer.loc[barometer["role"] == "binding", "indicator"])
        for indicator in MAP_INDICATORS:
            if indicator in binding:
                return indicator
    return MAP_INDICATORS[0]


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def status_rows(barometer: pd.DataFrame, names: Mapping[str, str], lang: str,
                shown: Mapping[str, bool], labels: Mapping[str, str] | None = None,
                indicators: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Return one headline row per place: the region, then each league (by code).

    Each row has ``code``, ``name`` (Chinese, as the map file names it), ``label`` (the
    name in the page's language, from ``labels``), ``level`` and per indicator a cell with
    ``rating``
    (``withheld`` where ``shown[code]`` is False), the achieved ``value`` and the
    ``requirement`` as the page shows them, and a sentence ``text``.
    """
    labels = labels or names
    by_place: dict[str, dict[str, dict[str, Any]]] = {}
    for row in barometer.to_dict("records"):
        by_place.setdefault(str(row["region_code"]), {})[str(row["indicator"])] = row
    codes = sorted(set(by_place) | set(shown))  # the region's code sorts first
    out = []
    for code in codes:
        rows = by_place.get(code, {})
        first = next(iter(rows.values()), {})
        level = str(first.get("level") or ("region" if code.endswith("0000") else "league"))
        cells = {}
        for indicator in indicators or indicators_of(barometer):
            row = rows.get(indicator)
            if not shown.get(code, False):
                cells[indicator] = {"rating": "withheld", "value": "", "requirement": "",
                                    "text": value_name("withheld", lang)}
            elif row is None:
                cells[indicator] = {"rating": "no_data", "value": "", "requirement": "",
                                    "text": value_name("no_data", lang)}
            else:
                cells[indicator] = {"rating": str(row["rating"]),
                                    "value": indicator_figure(row["value"], row["unit"]),
                                    "requirement": indicator_figure(row["requirement"],
                                                                    row["unit"]),
                                    "text": sentence(row, lang,
                                                     name=labels.get(code, code))}
        out.append({"code": code, "name": names.get(code, code),
                    "label": labels.get(code, names.get(code, code)), "level": level,
                    "cells": cells})
    return out


def counts(rows: list[dict[str, Any]], level: str = "league") -> dict[str, dict[str, int]]:
    """Return, per indicator, how many places of ``level`` have each rating."""
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        if row["level"] != level:
            continue
        for indicator, cell in row["cells"].items():
            out.setdefault(indicator, {})
            out[indicator][cell["rating"]] = out[indicator].get(cell["rating"], 0) + 1
    return out


def sentence(row: Mapping[str, Any], lang: str, *, name: str | None = None) -> str:
    """Return one sentence saying where a place stands on an indicator, from its row.

    Intensities: the reduction since the base year against the reduction required by
    now (per cent, and the gap in percentage points). Totals: energy against the
    allowed path [万吨标准煤]. Exempt, no target and no data are said as such.
    """
    zh = lang == "zh"
    who = name or str(row.get("region_name") or row.get("region_code"))
    indicator = str(row["indicator"])
    what = value_name(indicator, lang)
    rating = str(row["rating"])
    period = str(row.get("period") or "")
    if rating == "no_target":
        return (f"{who}{what}：{period}年无适用目标。" if zh
                else f"{who}, {what.lower()}: no target covers {period}.")
    if rating == "no_data" or _nan(row.get("value")):
        return (f"{who}{what}：数据不全，未评估。" if zh
                else f"{who}, {what.lower()}: data missing, not assessed.")
    base = row.get("base_year")
    base_text = str(int(base)) if not _nan(base) else "?"
    level = value_name(rating, lang)
    kind = TOTAL_KINDS.get(indicator)
    if rating == "reported" or _nan(row.get("requirement")):
        shown = show(row["value"], kind) if kind else indicator_figure(row["value"],
                                                                       row.get("unit"))
        unit_text = (unit_of(kind, lang) if kind else "")
        if zh:
            change = "" if kind else f"较{base_text}年降低"
            return f"{who}{what}：{period}年{change}{shown}{unit_text}，仅报告，不作考核。"
        change = "" if kind else f"down since {base_text} by "
        return (f"{who}, {what.lower()}: {change}{shown} {unit_text} in {period}, "
                "reported, not rated.")
    if kind is not None:
        unit_text = unit_of(kind, lang)
        value, allowed, gap = (show(row[k], kind) for k in ("value", "requirement", "gap"))
        over = float(row["gap"]) > 0
        under = show(-float(row["gap"]), kind)
        if zh:
            verb = f"超出{gap}" if over else f"低于进度{under}"
            text = (f"{who}{what}：{period}年{value}{unit_text}，按进度允许{allowed}{unit_text}，"
                    f"{verb}{unit_text}，{level}。")
        else:
            verb = f"{gap} over" if over else f"{under} under"
            text = (f"{who}, {what.lower()}: {value} {unit_text} in {period} against "
                    f"{allowed} allowed by now, {verb}; {level}.")
    else:
        value = indicator_figure(row["value"], row.get("unit"))
        required = indicator_figure(row["requirement"], row.get("unit"))
        points = f"{abs(float(row['gap'])) * 100:,.2f}"
        behind = float(row["gap"]) > 0
        if zh:
            verb = f"落后进度{points}个百分点" if behind else f"超前进度{points}个百分点"
            text = (f"{who}{what}：{period}年较{base_text}年降低{value}，进度要求{required}，"
                    f"{verb}，{level}。")
        else:
            verb = f"{points} points behind" if behind else f"{points} points ahead"
            text = (f"{who}, {what.lower()}: down {value} in {period} since {base_text}, "
                    f"{required} required by now, {verb}; {level}.")
        yoy = row.get("change_vs_same_period_last_year")
        if rating == "red" and not _nan(yoy) and float(yoy) > 0:
            text += (f"强度同比上升{show(yoy, 'fraction')}（不降反升）。" if zh
                     else f" Intensity rose {show(yoy, 'fraction')} on a year earlier.")
    return text


def map_series(rows: list[dict[str, Any]], indicator: str, lang: str,
               colours: Mapping[str, str]) -> list[dict[str, Any]]:
    """Return the map's data: per league its name (as in the map file), code, rating,
    colour and tooltip sentence."""
    out = []
    for row in rows:
        if row["level"] != "league":
            continue
        cell = row["cells"][indicator]
        out.append({"name": row["name"], "label": row["label"], "code": row["code"],
                    "rating": cell["rating"],
                    "rating_label": value_name(cell["rating"], lang), "text": cell["text"],
                    "itemStyle": {"areaColor": colours.get(cell["rating"], "#cfd6dc")}})
    return out


# ---------------------------------------------------------------- why this rating
def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.replace({"": None}).to_dict("records")


def rule_rows(row: Mapping[str, Any], year: int) -> dict[str, list[dict[str, Any]]]:
    """Return the data rows behind one barometer row, by table.

    ``barometer_rules``: every rule of the scheme for the indicator's group (the one
    applied is marked ``applied``); ``total_exemption_rules`` when the total is exempt;
    ``targets``: the plan's targets of the place for the indicator; ``exclusion_rules``:
    the deductions the row names; ``progress_paths``: the path rule in force.
    """
    group = "total" if row["indicator"] in TOTAL_KINDS else "intensity"
    rules = barometer_rules(year)
    rules = rules[rules["indicator_group"] == group]
    rules = rules.assign(applied=rules["rule_id"] == row.get("rule_id"))
    out: dict[str, list[dict[str, Any]]] = {
        "barometer_rules": _records(rules[["applied", "rule_id", "scheme", "precedence",
                                           "condition", "threshold_fraction_of_target",
                                           "rating", "level_zh", "source", "edition",
                                           "verified", "note"]])}
    if row.get("rating") == "exempt":
        exemption = total_exemption_rule(year)
        if exemption is not None:
            out["total_exemption_rules"] = [exemption.replace({"": None}).to_dict()]
    wanted = TARGET_INDICATORS.get(str(row["indicator"]), ())
    table = targets(include_demo=True)
    table = table[(table["region_code"].astype(str) == str(row["region_code"]))
                  & table["indicator"].isin(wanted)]
    if not _nan(row.get("plan")) and row.get("plan"):
        table = table[table["plan"] == row["plan"]]
    out["targets"] = _records(table)
    names = [n for n in str(row.get("exclusions") or "").split(",") if n]
    if names:
        exclusions = load_table("exclusion-rules")
        out["exclusion_rules"] = _records(exclusions[exclusions["rule_id"].isin(names)])
    try:
        out["progress_paths"] = [progress_path(year).replace({"": None}).to_dict()]
    except Exception:
        out["progress_paths"] = []
    return out
