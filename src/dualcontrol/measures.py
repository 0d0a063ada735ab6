"""The "1+N+X" measures registry: what must happen, who owns it, by when, and its effect.

Inner Mongolia organises its carbon-peak policy as "1+N+X": one overall document, N
sector plans, X supporting measures. Each row of the registry is one of them, with its
``level`` (``document``, ``sector_plan``, ``measure``), its ``parent_id`` in that tree,
an owner (a league, a department or an enterprise), the indicators it moves, a
deadline, its expected yearly effect (energy [tce/a], CO2 [t CO2/a], water [m3/a])
with the basis of that figure, a status and the evidence of completion. Only rows of
level ``measure`` carry effects that are added up (a document or plan is the sum of its
measures, so counting both would count twice).

Columns (:data:`COLUMNS`; an XLSX or CSV file has these headers):

===============  ==================================================================
measure_id       key of the measure, kept across revisions (``IM-2026-001``)
level            ``document`` | ``sector_plan`` | ``measure``
parent_id        the document or plan it belongs to (blank for a document)
title            what is to be done
owner_kind       ``league`` | ``department`` | ``enterprise``
owner            the owner's name (or code)
region_code      league code (GB/T 2260) the measure lies in, for scoping; blank: the
                 whole region
enterprise_code  the enterprise's USCC, for an enterprise's measure
indicators       indicators it moves, ``|``-separated (:data:`INDICATORS`)
action           kind of measure (:data:`ACTIONS`)
unit_id          production unit it concerns (generated measures)
product          product code of ``efficiency_levels.csv`` (generated measures)
deadline         date it must be done by (``YYYY-MM-DD``)
effect_tce       expected energy saving once done [tce/a]
effect_co2_t     expected CO2 cut once done [t CO2/a]
effect_water_m3  expected water saving once done [m3/a]
effect_basis     how the effect was worked out (required with any effect)
status           ``planned`` | ``in_progress`` | ``completed`` | ``cancelled``
completed_on     date it was done (required when completed)
evidence         what shows it was done (required when completed)
probability      probability it is delivered at all [-] (outlook Monte Carlo)
delay_years      longest delay in whole years [a] (outlook Monte Carlo)
wedge_group      the wedge it belongs to in the outlook (blank: its action)
source           the document or rule the measure comes from
===============  ==================================================================

References
----------
NDRC et al., 关于严格能效约束推动重点领域节能降碳的若干意见, 发改产业〔2021〕1464号.
NDRC et al., 工业重点领域能效标杆水平和基准水平（2023年版）, 发改产业〔2023〕723号.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import pandas as pd

from dualcontrol.errors import InputError, Problem
from dualcontrol.exports import FORMULA_STARTS, neutralise_formulas
from dualcontrol.numbers import number_problems
from dualcontrol.outlook import (
    MeasureEffect,
    Outlook,
    Scenario,
    check_targets,
    run,
    scenario_targets,
    target_gaps,
)
from dualcontrol.reference import load_table

logger = logging.getLogger(__name__)

#: Levels of the "1+N+X" system: the one document, the N sector plans, the X measures.
LEVELS: tuple[str, ...] = ("document", "sector_plan", "measure")
#: Who may own a measure.
OWNER_KINDS: tuple[str, ...] = ("league", "department", "enterprise")
#: Indicators a measure may move.
INDICATORS: tuple[str, ...] = ("energy_total", "energy_intensity", "co2_total",
                               "co2_intensity", "co2_peak", "nonfossil_share",
                               "water_intensity", "green_manufacturing")
#: Kinds of measure.
ACTIONS: tuple[str, ...] = ("upgrade_to_benchmark", "exit", "retrofit", "fuel_switch",
                            "renewable", "water_saving", "green_manufacturing",
                            "front_runner", "policy", "other")
#: Statuses; the first two are open (can be overdue).
STATUSES: tuple[str, ...] = ("planned", "in_progress", "completed", "cancelled")
OPEN_STATUSES: tuple[str, ...] = ("planned", "in_progress")
#: Number columns, their unit, and the value a blank cell takes.
NUMBERS: dict[str, float] = {"effect_tce": 0.0, "effect_co2_t": 0.0,
                             "effect_water_m3": 0.0, "probability": 1.0,
                             "delay_years": 0.0}
#: Date columns.
DATES: tuple[str, ...] = ("deadline", "completed_on")
#: Every column of the registry, in file order.
COLUMNS: tuple[str, ...] = (
    "measure_id", "level", "parent_id", "title", "owner_kind", "owner", "region_code",
    "enterprise_code", "indicators", "action", "unit_id", "product", "deadline",
    "effect_tce", "effect_co2_t", "effect_water_m3", "effect_basis", "status",
    "completed_on", "evidence", "probability", "delay_years", "wedge_group", "source",
)
#: Columns a file must have (the others may be left out).
REQUIRED: tuple[str, ...] = ("measure_id", "level", "title", "owner_kind", "owner",
                             "indicators", "action", "status", "source")
_CHOICES: dict[str, tuple[str, ...]] = {"level": LEVELS, "owner_kind": OWNER_KINDS,
                                        "action": ACTIONS, "status": STATUSES}
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00:00)?")
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}")


# -- reading and checking --------------------------------------------------------------

def _parse_date(text: str) -> dt.date | None:
    """Return the date written ``YYYY-MM-DD`` (a spreadsheet's midnight time allowed)."""
    match = _DATE_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    return dt.date(int(match[1]), int(match[2]), int(match[3]))


def parse_measures(frame: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Return the registry rows of a table of text cells, checked and typed.

    Parameters
    ----------
    frame : pandas.DataFrame
        Text cells as read by :func:`dualcontrol.fileio.read_table` (header = row 1).
    file : str, optional
        The file's name, for the errors.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`; numbers as floats (``effect_*`` [tce/a, t CO2/a, m3/a]), dates
        as :class:`datetime.date` or None, text stripped.

    Raises
    ------
    InputError
        Every problem found, each naming file, row, field, value and what is accepted:
        a missing column, an unknown level, owner kind, action, status or indicator, a
        bad number or date, a duplicate measure id, an effect without its basis, a
        completed measure without its date or evidence, a parent that is not there.
    """
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError([Problem("required column is missing", file=file, field=c,
                                  accepted=list(COLUMNS)) for c in missing])
    data = frame.reset_index(drop=True).copy()
    for column in COLUMNS:
        if column not in data.columns:
            data[column] = ""
        data[column] = data[column].fillna("").astype(str).str.strip().map(_unquote)
    rows = np.arange(2, len(data) + 2)
    problems: list[tuple[int, Problem]] = []
    for column, blank in NUMBERS.items():
        numbers, found = number_problems(data[column], "measures", column, file=file,
                                         rows=rows, required=False)
        problems += found
        if column == "delay_years":
            for i in np.flatnonzero((numbers % 1).fillna(0).to_numpy() != 0):
                problems.append((int(i), Problem(
                    "a delay is a whole number of years", file=file, row=int(rows[i]),
                    field=column, value=frame[column].iloc[i], accepted=["0", "1", "2"])))
        data[column] = numbers.fillna(blank).to_numpy()
    dates: dict[str, list[dt.date | None]] = {c: [] for c in DATES}
    for i, rec in enumerate(data.to_dict("records")):
        problems += [(i, p) for p in _row_problems(rec, int(rows[i]), file)]
        for column in DATES:
            try:
                dates[column].append(_parse_date(rec[column]) if rec[column] else None)
            except ValueError:
                dates[column].append(None)
    for column, values in dates.items():
        data[column] = pd.Series(values, index=data.index, dtype=object)
    seen: dict[str, int] = {}
    for i, key in enumerate(data["measure_id"]):
        if key in seen:
            problems.append((i, Problem(f"measure id given twice (first in row {seen[key]})",
                                        file=file, row=int(rows[i]), field="measure_id",
                                        value=key)))
        seen.setdefault(key, int(rows[i]))
    if problems:
        raise InputError([p for _, p in sorted(problems, key=lambda x: x[0])])
    data["delay_years"] = data["delay_years"].astype(float)
    return data[list(COLUMNS)]


def _unquote(text: str) -> str:
    """Return text without the quote an export puts before formula-like text, so that
    a registry exported and imported again is unchanged."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def _row_problems(rec: dict[str, str], row: int, file: str | None) -> list[Problem]:
    """Return the problems of one row's text (numbers are checked by the caller)."""
    out: list[Problem] = []

    def bad(field: str, message: str, accepted: tuple[str, ...] | list[str] = ()) -> None:
        out.append(Problem(message, file=file, row=row, field=field, value=rec[field],
                           accepted=list(accepted)))

    for field in REQUIRED:
        if not rec[field]:
            out.append(Problem("value is empty", file=file, row=row, field=field))
    if rec["measure_id"] and not _ID_RE.fullmatch(rec["measure_id"]):
        bad("measure_id", "an id is letters, digits and _ . : / - (at most 64)")
    for field, accepted in _CHOICES.items():
        if rec[field] and rec[field] not in accepted:
            bad(field, f"unknown {field.replace('_', ' ')}", accepted)
    unknown = [i for i in rec["indicators"].split("|") if i.strip() and i.strip() not in
               INDICATORS]
    if unknown:
        bad("indicators", f"unknown indicator(s) {', '.join(unknown)} (separate with |)",
            INDICATORS)
    for field in DATES:
        if rec[field]:
            try:
                _parse_date(rec[field])
            except ValueError:
                bad(field, "not a date", ["YYYY-MM-DD, e.g. 2026-12-31"])
    if rec["region_code"] and rec["region_code"] not in _league_codes():
        bad("region_code", "not a league code (GB/T 2260); blank for the whole region",
            sorted(_league_codes()))
    if rec["level"] == "document" and rec["parent_id"]:
        bad("parent_id", "the overall document has no parent")
    has_effect = any(_positive(rec[c]) for c in ("effect_tce", "effect_co2_t",
                                                 "effect_water_m3"))
    if has_effect and not rec["effect_basis"]:
        out.append(Problem("an expected effect needs its basis (how it was worked out)",
                           file=file, row=row, field="effect_basis"))
    if rec["status"] == "completed":
        for field in ("completed_on", "evidence"):
            if not rec[field]:
                out.append(Problem("a completed measure needs its completion date and "
                                   "evidence", file=file, row=row, field=field))
    return out


@cache
def _league_codes() -> frozenset[str]:
    """Return the league codes of ``data/regions.csv``."""
    from dualcontrol.regions import regions

    table = regions()
    return frozenset(table.loc[table["level"] == "league", "code"].astype(str))


def _positive(text: str) -> bool:
    try:
        return float(str(text).replace(",", "")) > 0
    except ValueError:
        return False


def check_parents(measures: pd.DataFrame, known: set[str] | None = None, *,
                  file: str | None = None) -> None:
    """Raise InputError for a parent id that is neither in ``measures`` nor ``known``.

    ``known`` holds the ids already in the store (a file may add measures to a plan
    stored before).
    """
    ids = set(measures["measure_id"]) | (known or set())
    problems = [Problem("parent measure not found (in the file or the store)", file=file,
                        row=int(i) + 2, field="parent_id", value=parent)
                for i, parent in zip(measures.index, measures["parent_id"], strict=True)
                if parent and parent not in ids]
    if problems:
        raise InputError(problems)


def empty_registry() -> pd.DataFrame:
    """Return a registry with no rows and every column."""
    return pd.DataFrame(columns=list(COLUMNS))


# -- generated from the benchmarking register -----------------------------------------

@dataclass(frozen=True)
class MeasureRule:
    """What a unit of one efficiency class must do (``measure_rules.csv``)."""

    rule_id: str
    efficiency_class: str
    action: str
    saving_to: str
    source: str
    edition: str
    verified: bool


@cache
def measure_rules() -> dict[str, MeasureRule]:
    """Return the rule of each efficiency class that requires action, by class.

    References
    ----------
    ``data/measure_rules.csv`` (发改产业〔2021〕1464号; 发改产业〔2023〕723号).
    """
    return {r["class"]: MeasureRule(r["rule_id"], r["class"], r["action"], r["saving_to"],
                                    r["source"], r["edition"],
                                    r["verified"].strip().lower() == "true")
            for _, r in load_table("measure-rules").iterrows()}


def generate_from_units(units: pd.DataFrame) -> pd.DataFrame:
    """Return the measure every unit below the baseline must carry out.

    For each production unit's latest year in ``units`` whose class has a rule
    (``below_limit``: exit; ``below_baseline``: upgrade to the benchmark), one measure:
    owned by the enterprise, due by the deadline of the product's area group, with
    the expected saving from the unit's own figures,
    ``(unit consumption - benchmark) x output`` [tce/a] and its CO2 [t CO2/a], as
    :func:`dualcontrol.benchmarking.benchmark_units` computes it.

    Parameters
    ----------
    units : pandas.DataFrame
        Output of :func:`dualcontrol.benchmarking.benchmark_units`.

    Returns
    -------
    pandas.DataFrame
        Registry rows (:data:`COLUMNS`), ids ``GEN-<unit_id>``, status ``planned``.
    """
    rules = measure_rules()
    if units.empty:
        return empty_registry()
    latest = units.sort_values("year").groupby("unit_id", sort=False).tail(1)
    due = latest[latest["class"].isin(list(rules))].sort_values(["product", "unit_id"])
    rows = []
    for rec in due.to_dict("records"):
        rule = rules[rec["class"]]
        target = float(rec[rule.saving_to])
        saving_tce = float(rec[f"savings_to_{rule.saving_to}_tce"])
        saving_co2 = float(rec[f"savings_to_{rule.saving_to}_co2_t"])
        deadline = rec.get("upgrade_deadline")
        deadline = deadline if isinstance(deadline, str) and deadline else None
        basis = (f"({rec['unit_consumption']:.4g} - {target:g}) {rec['level_unit']} x "
                 f"output {float(rec['output']):,.0f} {rec['output_unit']} in {rec['year']}"
                 f" ({rec['level_set']}); to the baseline "
                 f"{float(rec['savings_to_baseline_tce']):,.0f} tce/a")
        rows.append({
            "measure_id": f"GEN-{rec['unit_id']}", "level": "measure", "parent_id": "",
            "title": f"{rec['enterprise_name']} {rec['product']} unit {rec['unit_id']}: "
                     f"{rule.action.replace('_', ' ')}",
            "owner_kind": "enterprise", "owner": str(rec["enterprise_name"]),
            "region_code": str(rec.get("region", "") or ""),
            "enterprise_code": str(rec.get("enterprise_code", "") or ""),
            "indicators": "energy_intensity|co2_intensity", "action": rule.action,
            "unit_id": str(rec["unit_id"]), "product": str(rec["product"]),
            "deadline": dt.date.fromisoformat(deadline) if deadline else None,
            "effect_tce": saving_tce, "effect_co2_t": saving_co2, "effect_water_m3": 0.0,
            "effect_basis": basis, "status": "planned", "completed_on": None,
            "evidence": "", "probability": 1.0, "delay_years": 0.0, "wedge_group": "",
            "source": f"{rule.rule_id}: {rule.source}",
        })
    return pd.DataFrame(rows, columns=list(COLUMNS)) if rows else empty_registry()


#: Columns the registry's users keep up to date: regenerating a measure keeps them.
TRACKING: tuple[str, ...] = ("status", "completed_on", "evidence", "probability",
                             "delay_years", "wedge_group", "parent_id")


def merge_generated(generated: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """Return generated measures with the tracking columns of those already stored.

    Regenerating from a newer register updates a measure's figures (effect, deadline,
    basis) but keeps what its owner recorded (:data:`TRACKING`: status, completion,
    evidence, delivery uncertainty, wedge, parent).
    """
    if stored.empty or generated.empty:
        return generated
    kept = stored.set_index("measure_id")
    out = generated.copy()
    hit = out["measure_id"].isin(kept.index)
    for column in TRACKING:
        out.loc[hit, column] = out.loc[hit, "measure_id"].map(kept[column]).to_numpy()
    return out


def no_longer_required(generated: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """Return the stored open generated measures (``GEN-``) that the register no longer
    requires: their unit is now at or better than the baseline, or has no figures."""
    if stored.empty:
        return stored
    open_generated = stored[stored["measure_id"].str.startswith("GEN-")
                            & stored["status"].isin(OPEN_STATUSES)]
    return open_generated[~open_generated["measure_id"].isin(set(generated["measure_id"]))]


def export_frame(measures: pd.DataFrame) -> pd.DataFrame:
    """Return the registry as a table to write to XLSX or CSV and read back.

    Dates are ``YYYY-MM-DD`` text and every cell a spreadsheet would run as a formula
    is made inert (:func:`dualcontrol.exports.neutralise_formulas`); the quote this
    adds is taken off again by :func:`parse_measures`.
    """
    out = measures.reindex(columns=list(COLUMNS)).copy()
    for column in DATES:
        out[column] = [d.isoformat() if isinstance(d, dt.date) else "" for d in out[column]]
    out["delay_years"] = out["delay_years"].fillna(0).astype(int)
    return neutralise_formulas(out)


# -- progress ----------------------------------------------------------------------------

def is_overdue(deadline: dt.date | None, status: str, as_of: dt.date) -> bool:
    """Return True if an open measure's deadline has passed on ``as_of``.

    A measure is due *by* its deadline, so it is overdue from the day after: on the
    deadline itself it is not. Completed and cancelled measures are never overdue, and
    a measure without a deadline cannot be.
    """
    return status in OPEN_STATUSES and deadline is not None and as_of > deadline


def overdue(measures: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Return the open measures past their deadline on ``as_of``, longest overdue first.

    Returns
    -------
    pandas.DataFrame
        ``measure_id``, ``title``, ``owner_kind``, ``owner``, ``region_code``,
        ``deadline``, ``status``, ``days_overdue`` [d], ``effect_tce``, ``effect_co2_t``.
    """
    cols = ["measure_id", "title", "owner_kind", "owner", "region_code", "deadline",
            "status", "days_overdue", "effect_tce", "effect_co2_t"]
    late = [is_overdue(d, s, as_of) for d, s in zip(measures["deadline"], measures["status"],
                                                   strict=True)]
    out = measures[late].copy() if len(measures) else measures.copy()
    out["days_overdue"] = [(as_of - d).days for d in out["deadline"]]
    return out.sort_values(["days_overdue", "measure_id"], ascending=[False, True])[
        cols].reset_index(drop=True)


def realised_saving_tce(energy_before_tce: float, output_before: float,
                        energy_after_tce: float, output_after: float) -> float:
    """Return the energy a unit saved in a year after a measure [tce/a].

    The energy the year-after output would have taken at the unit consumption of the
    year before, less the energy it took:
    ``E_before / Q_before * Q_after - E_after``. Output is in one unit in both years.

    Parameters
    ----------
    energy_before_tce, energy_after_tce : float
        The unit's energy in the year before and after the measure [tce].
    output_before, output_after : float
        Its output in those years [its output unit], > 0.
    """
    return energy_before_tce / output_before * output_after - energy_after_tce


def progress(measures: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Return planned against realised savings of completed unit measures.

    For each completed measure of level ``measure`` with a ``unit_id``: the unit's
    accounts in the last year before the completion year and in the first year after
    it (:func:`realised_saving_tce`); realised CO2 at the measure's own planned
    CO2 per tce (coal's factor when it plans none). Measures without unit accounts
    after completion have no realised figure and say why.

    Parameters
    ----------
    measures : pandas.DataFrame
        Registry rows.
    units : pandas.DataFrame
        Production units over several years (``unit_id``, ``year``, ``output``,
        ``energy_tce``), e.g. :func:`dualcontrol.datasets.production_units`.

    Returns
    -------
    pandas.DataFrame
        ``measure_id``, ``unit_id``, ``completed_on``, ``year_before``, ``year_after``,
        ``planned_tce``, ``realised_tce``, ``planned_co2_t``, ``realised_co2_t``,
        ``delivery_ratio`` [-] and ``note``.
    """
    cols = ["measure_id", "unit_id", "completed_on", "year_before", "year_after",
            "planned_tce", "realised_tce", "planned_co2_t", "realised_co2_t",
            "delivery_ratio", "note"]
    done = measures[(measures["status"] == "completed") & (measures["level"] == "measure")]
    by_unit = {str(k): part.set_index("year") for k, part in units.groupby("unit_id")} \
        if len(units) else {}
    rows = []
    for rec in done.to_dict("records"):
        row = {"measure_id": rec["measure_id"], "unit_id": rec["unit_id"],
               "completed_on": rec["completed_on"], "year_before": None,
               "year_after": None, "planned_tce": float(rec["effect_tce"]),
               "realised_tce": math.nan, "planned_co2_t": float(rec["effect_co2_t"]),
               "realised_co2_t": math.nan, "delivery_ratio": math.nan, "note": ""}
        acc = by_unit.get(str(rec["unit_id"])) if rec["unit_id"] else None
        year = rec["completed_on"].year
        before = acc[acc.index < year] if acc is not None else None
        after = acc[acc.index > year] if acc is not None else None
        if acc is None:
            row["note"] = "no production-unit accounts: realised effect not measured"
        elif before.empty or after.empty:
            row["note"] = (f"no full year of accounts {'before' if before.empty else 'after'}"
                           f" {year}")
        else:
            b, a = before.iloc[-1], after.iloc[0]
            row["year_before"], row["year_after"] = int(before.index[-1]), int(after.index[0])
            realised = realised_saving_tce(float(b["energy_tce"]), float(b["output"]),
                                           float(a["energy_tce"]), float(a["output"]))
            per_tce = (row["planned_co2_t"] / row["planned_tce"] if row["planned_tce"] > 0
                       else _coal_co2_per_tce())
            row |= {"realised_tce": realised, "realised_co2_t": realised * per_tce,
                    "delivery_ratio": (realised / row["planned_tce"]
                                       if row["planned_tce"] > 0 else math.nan),
                    "note": f"{row['year_after']} output at the {row['year_before']} "
                            "unit consumption, less the energy used"}
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def _coal_co2_per_tce() -> float:
    from dualcontrol.benchmarking import co2_per_tce

    return co2_per_tce()[0]


def summary(measures: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Return measures, planned effects and overdue counts per level and status.

    Effects add up over rows of level ``measure`` only.
    """
    frame = measures.assign(
        overdue=[is_overdue(d, s, as_of) for d, s in zip(measures["deadline"],
                                                          measures["status"], strict=True)])
    counted = frame["level"] == "measure"
    for c in ("effect_tce", "effect_co2_t", "effect_water_m3"):
        frame[c] = frame[c].where(counted, 0.0)
    out = (frame.groupby(["level", "status"], sort=True)
           .agg(measures=("measure_id", "count"), overdue=("overdue", "sum"),
                effect_tce=("effect_tce", "sum"), effect_co2_t=("effect_co2_t", "sum"),
                effect_water_m3=("effect_water_m3", "sum")).reset_index())
    out["overdue"] = out["overdue"].astype(int)
    return out


#: Chinese names of the kinds of owner, for the bulletin.
OWNER_KINDS_ZH = {"league": "盟市", "department": "部门", "enterprise": "企业"}


def bulletin_section(measures: pd.DataFrame, as_of: dt.date,
                     ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Return the bulletin's measures table and its sentences in English and Chinese,
    naming no enterprise.

    The table is :func:`summary` on ``as_of`` (the quarter's last day); the sentences
    count the 1+N+X rows, the overdue measures by kind of owner, and the yearly effect
    of the measures once done [万tce, 万t CO2, 万m3].
    """
    table = summary(measures, as_of)
    if measures.empty:
        return table, [], []
    count = measures["level"].value_counts()
    docs, plans, n = (count.get(k, 0) for k in ("document", "sector_plan", "measure"))
    rows = measures[measures["level"] == "measure"]
    late = overdue(measures, as_of)
    done = rows[rows["status"] == "completed"]
    tce, co2 = rows["effect_tce"].sum() / 1e4, rows["effect_co2_t"].sum() / 1e4
    water, done_tce = rows["effect_water_m3"].sum() / 1e4, done["effect_tce"].sum() / 1e4
    en = [f"The 1+N+X registry holds {docs} overall document(s), {plans} sector plan(s) "
          f"and {n} measures; once done they are expected to save {tce:,.1f} 万tce, "
          f"{co2:,.1f} 万t CO2 and {water:,.1f} 万m3 of water a year, of which completed "
          f"measures {done_tce:,.1f} 万tce."]
    zh = [f"“1+N+X”政策体系登记总体方案{docs}个、行业方案{plans}个、措施{n}项；全部完成后"
          f"预计每年节能{tce:,.1f}万吨标准煤、减少二氧化碳排放{co2:,.1f}万吨、节水"
          f"{water:,.1f}万立方米，其中已完成措施节能{done_tce:,.1f}万吨标准煤。"]
    day = f"{as_of.year}年{as_of.month}月{as_of.day}日"
    if len(late):
        kinds = sorted(late["owner_kind"].value_counts().items())
        owed = late["effect_tce"].sum() / 1e4
        en.append(f"{len(late)} measures were overdue on {as_of.isoformat()} (by owner: "
                  f"{', '.join(f'{k} {c}' for k, c in kinds)}), with {owed:,.1f} 万tce a "
                  "year of savings still to come.")
        zh.append(f"截至{day}，{len(late)}项措施逾期未完成（按责任主体："
                  f"{'、'.join(f'{OWNER_KINDS_ZH.get(k, k)}{c}项' for k, c in kinds)}），"
                  f"涉及每年节能{owed:,.1f}万吨标准煤。")
    else:
        en.append(f"No measure was overdue on {as_of.isoformat()}.")
        zh.append(f"截至{day}，无逾期措施。")
    return table, en, zh


# -- wedges ------------------------------------------------------------------------------

def effect_year(rec: dict, base_year: int) -> int | None:
    """Return the first year a measure's full effect counts in the outlook, or None.

    The year after its completion (completed) or its deadline (open), and at least the
    year after the base year: an open measure past its deadline is still to come. A
    measure completed before the base year is in the base year's accounts already
    (None), as is one without deadline or cancelled.
    """
    if rec["status"] == "cancelled":
        return None
    if rec["status"] == "completed" and rec["completed_on"] is not None:
        year = rec["completed_on"].year + 1
        return year if year > base_year else None
    if rec["deadline"] is None:
        return None
    return max(rec["deadline"].year + 1, base_year + 1)


def measure_effects(measures: pd.DataFrame, base_year: int) -> list[MeasureEffect]:
    """Return the outlook's inputs: one :class:`~dualcontrol.outlook.MeasureEffect` per
    measure (level ``measure``) with an energy or CO2 effect still to come.

    The wedge is the row's ``wedge_group``, or its action when blank.
    """
    out = []
    for rec in measures[measures["level"] == "measure"].to_dict("records"):
        year = effect_year(rec, base_year)
        if year is None or (rec["effect_tce"] <= 0 and rec["effect_co2_t"] <= 0):
            continue
        out.append(MeasureEffect(group=rec["wedge_group"] or rec["action"], year=year,
                                 energy_tce=float(rec["effect_tce"]),
                                 co2_t=float(rec["effect_co2_t"]),
                                 probability=float(rec["probability"]),
                                 delay_years=int(rec["delay_years"])))
    skipped = int((measures["level"] == "measure").sum()) - len(out)
    if skipped:
        logger.info("%d measures left out of the wedges (no effect to come)", skipped)
    return out


def expected_cut(effect: MeasureEffect, year: int) -> float:
    """Return the expected share of a measure's effect delivered in ``year`` [-].

    With delivery probability ``p`` and a delay drawn uniformly in ``0..D`` whole
    years after its first year ``y0``: ``p * (number of d in 0..D with y0 + d <= year)
    / (D + 1)``, the mean the Monte Carlo of :func:`dualcontrol.outlook.measure_cuts`
    converges to.
    """
    on = min(max(year - effect.year + 1, 0), effect.delay_years + 1)
    return effect.probability * on / (effect.delay_years + 1)


def wedge_table(effects: list[MeasureEffect], year: int) -> pd.DataFrame:
    """Return each wedge's saving in ``year``: as planned and expected.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``measures``, ``energy_tce``, ``co2_t`` (as planned) and
        ``expected_energy_tce``, ``expected_co2_t`` (probability and delay weighted)
        [tce/a, t CO2/a], with a ``total`` row.
    """
    rows = [{"group": e.group, "measures": 1,
             "energy_tce": e.energy_tce * (year >= e.year),
             "co2_t": e.co2_t * (year >= e.year),
             "expected_energy_tce": e.energy_tce * expected_cut(e, year),
             "expected_co2_t": e.co2_t * expected_cut(e, year)} for e in effects]
    cols = ["group", "measures", "energy_tce", "co2_t", "expected_energy_tce",
            "expected_co2_t"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows).groupby("group", sort=True).sum().reset_index()
    total = out[cols[1:]].sum()
    out = pd.concat([out, pd.DataFrame([{"group": "total", **total.to_dict()}])],
                    ignore_index=True)[cols]
    out["measures"] = out["measures"].astype(int)
    return out


@dataclass
class WedgeReport:
    """The outlook with the registry's measures as wedges, and what else is needed."""

    outlook: Outlook
    effects: list[MeasureEffect]
    year: int
    wedges: pd.DataFrame
    gaps: pd.DataFrame
    targets: pd.DataFrame


def proxy_target(indicator: str, value: float, scenario: Scenario, year: int) -> dict:
    """Return a target the user gives for a plan whose own is not published, from the
    scenario's base year to ``year``, marked as a proxy in its source.

    Raises
    ------
    InputError
        For an indicator other than the intensity reductions, or a value outside (0, 1).
    """
    accepted = ("co2_intensity_reduction", "energy_intensity_reduction")
    if indicator not in accepted:
        raise InputError(Problem("a proxy target is an intensity reduction", field="indicator",
                                 value=indicator, accepted=list(accepted)))
    if not 0 < value < 1:
        raise InputError(Problem("a reduction is a fraction between 0 and 1",
                                 field="target_value", value=value, accepted=["0.17"]))
    return {"indicator": indicator, "base_year": scenario.base_year, "target_year": year,
            "target_value": value,
            "source": "proxy given by the user (not an official allocation)"}


def wedge_report(measures: pd.DataFrame, scenario: Scenario, *, draws: int = 0,
                 seed: int = 0, year: int = 2030,
                 assessed: pd.DataFrame | None = None,
                 proxies: Sequence[dict] = ()) -> WedgeReport:
    """Return the outlook of ``scenario`` with the measures as wedges.

    The one computation of the wedges that the CLI, the API, the page and the
    bulletin show: :func:`measure_effects` of the registry (base year of the
    scenario), :func:`dualcontrol.outlook.run` with them, the wedges in ``year``
    (:func:`wedge_table`), the gap to each target without and with the measures
    (:func:`dualcontrol.outlook.target_gaps`: what else is needed) and the targets'
    check with the Monte Carlo probability of meeting them. ``proxies``
    (:func:`proxy_target`) stand in for targets the shared table lacks.
    """
    if proxies:
        scenario = replace(scenario, targets=[*scenario.targets, *proxies])
        used = {id(t) for t in scenario_targets(scenario)}
        unused = [p for p in scenario.targets[-len(proxies):] if id(p) not in used]
        if unused:
            raise InputError([Problem(
                "the targets table has an official target of this indicator for the "
                "region, which the outlook uses: a proxy cannot replace it",
                field="--proxy-target", value=p["indicator"]) for p in unused])
    effects = measure_effects(measures, scenario.base_year)
    result = run(scenario, draws=draws, seed=seed, measures=effects)
    return WedgeReport(outlook=result, effects=effects, year=year,
                       wedges=wedge_table(effects, year), gaps=target_gaps(result),
                       targets=check_targets(result, assessed=assessed))


__all__ = [
    "ACTIONS",
    "COLUMNS",
    "INDICATORS",
    "LEVELS",
    "OWNER_KINDS",
    "STATUSES",
    "TRACKING",
    "MeasureRule",
    "WedgeReport",
    "check_parents",
    "effect_year",
    "empty_registry",
    "expected_cut",
    "export_frame",
    "generate_from_units",
    "is_overdue",
    "measure_effects",
    "measure_rules",
    "merge_generated",
    "overdue",
    "parse_measures",
    "progress",
    "realised_saving_tce",
    "summary",
    "wedge_report",
    "wedge_table",
]
