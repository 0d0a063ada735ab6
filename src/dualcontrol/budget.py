"""Remaining energy budget ("energy space", 用能空间) under the intensity and total targets.

The budget of a region for a horizon year ``H`` is the controlled energy [tce] it can
add on top of its latest actual annual use (year ``y0``) and still meet both targets in
``H``, with GDP growing at the forecast rate from ``y0``:

- intensity: ``E_int(y0) + B <= I_b * (1 - r(H)) * GDP(y0) * (1 + g) ** (H - y0)``, where
  ``I_b`` is the base-year intensity and ``r(H)`` the required cumulative reduction
  (:func:`dualcontrol.assessment.required_reduction`);
- total: ``E_tot(y0) + B <= allowed(H)`` (:func:`dualcontrol.assessment.allowed_total_tce`).

The budget is the smaller room; the constraint giving it *binds*. Added energy is taken
as fossil, non-feedstock energy, so it counts fully in both measures. The deductions
are those of the rules in force in ``H``. A negative budget is an overdraft: the use
must fall by that much.

References
----------
See :mod:`dualcontrol.assessment` (progress rule, exclusions).
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from dualcontrol.assessment import (
    allowed_total_tce,
    apply_exclusions,
    plan_target,
    prepare_accounts,
    progress,
    progress_path,
    required_reduction,
    targets,
    total_exemption_rule,
)

logger = logging.getLogger(__name__)


def forecast_gdp(gdp_10k_yuan: float, growth: float, years: int) -> float:
    """Return GDP after ``years`` at a constant real growth rate [10^4 yuan, comparable prices].

    Parameters
    ----------
    gdp_10k_yuan : float
        GDP of the starting year [10^4 yuan, comparable prices].
    growth : float
        Real growth rate per year [1/a] (0.05 for 5%).
    years : int
        Number of years ahead [a].
    """
    return gdp_10k_yuan * (1.0 + growth) ** years


def energy_budget(accounts: pd.DataFrame, *, year: int, gdp_growth: float | None = None,
                  level: str | None = None, plan: str | None = None,
                  target_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return how much more controlled energy each region can use this year and to the plan's end.

    Parameters
    ----------
    accounts : DataFrame
        Region accounts (see :mod:`dualcontrol.assessment`); only annual rows are used.
    year : int
        "This year" [a]. The latest actual year ``y0`` is the last year up to ``year``
        with annual data; when ``y0 == year`` the budget is the room left that year.
    gdp_growth : float, optional
        Real GDP growth forecast [1/a]; by default each region's own last observed
        growth, GDP(y0) / GDP(y0 - 1) - 1.
    level, plan, target_table :
        As in :func:`dualcontrol.assessment.progress`.

    Returns
    -------
    DataFrame
        One row per region and horizon (``this_year``, ``plan_end``): ``region_code,
        region_name, level, horizon, year, last_actual_year, gdp_growth,
        gdp_const_10k_yuan`` (forecast), ``intensity_allowed_tce``,
        ``total_allowed_tce``, ``energy_for_intensity_tce`` and
        ``energy_for_total_tce`` of ``y0``, ``intensity_room_tce``,
        ``total_room_tce``, ``incentive_room_tce`` (room under the incentive intensity
        target, where a rule exempts the total at it), ``budget_tce``, ``binding``
        (``intensity``, ``total`` or ``incentive_exemption``), ``gdp_growth_basis``
        (``given`` or the observed years), ``progress_rule``, ``note``.
    """
    data = prepare_accounts(accounts) if "months" not in accounts.columns else accounts
    table = targets(include_demo=True) if target_table is None else target_table
    annual = data[(data["months"] == 12) & data["energy_tce"].notna()
                  & (data["gdp_const_10k_yuan"] > 0)]
    codes = data.loc[data["level"] == level, "region_code"] if level else data["region_code"]
    records = []
    for code in dict.fromkeys(codes):
        meta = data[data["region_code"] == code].iloc[0]
        rows = annual[(annual["region_code"] == code) & (annual["year"] <= year)]
        intensity = plan_target(table, code, "energy_intensity", year, plan)
        total = plan_target(table, code, "energy_total", year, plan)
        incentive = plan_target(table[table["kind"] == "incentive"], code, "energy_intensity",
                                year, plan)
        horizons = {"this_year": year}
        if intensity is not None or total is not None:
            horizons["plan_end"] = int((intensity if intensity is not None
                                        else total)["target_year"])
        for horizon, when in horizons.items():
            record = _budget_one(data, rows, meta, horizon, when, gdp_growth, intensity, total,
                                 incentive)
            records.append(record)
    return pd.DataFrame.from_records(records)


def _allowed_intensity_tce(base: pd.Series, target: pd.Series, when: int,
                           gdp: float) -> tuple[float, str]:
    """Return the energy [tce] an intensity target allows in ``when`` at ``gdp``, and the
    progress rule used."""
    b, t = int(target["base_year"]), int(target["target_year"])
    base_intensity = float(base["energy_for_intensity_tce"]) / float(base["gdp_const_10k_yuan"])
    rule = progress_path(min(when, t))
    required = required_reduction(float(target["target_value"]), min(when, t) - b, t - b,
                                  rule["path"])
    return base_intensity * (1.0 - required) * gdp, str(rule["rule_id"])


def _budget_one(data: pd.DataFrame, rows: pd.DataFrame, meta: pd.Series, horizon: str,
                when: int, gdp_growth: float | None, intensity: pd.Series | None,
                total: pd.Series | None, incentive: pd.Series | None = None) -> dict:
    record: dict = {
        "region_code": meta["region_code"], "region_name": meta["region_name"],
        "level": meta["level"], "horizon": horizon, "year": when, "last_actual_year": None,
        "gdp_growth": np.nan, "gdp_const_10k_yuan": np.nan, "intensity_allowed_tce": np.nan,
        "total_allowed_tce": np.nan, "energy_for_intensity_tce": np.nan,
        "energy_for_total_tce": np.nan, "intensity_room_tce": np.nan,
        "total_room_tce": np.nan, "incentive_room_tce": np.nan, "budget_tce": np.nan,
        "binding": None, "gdp_growth_basis": None, "progress_rule": None, "note": "",
    }
    if rows.empty:
        record["note"] = "no annual data"
        return record
    y0 = int(rows["year"].max())
    ruled = apply_exclusions(data, when)
    ruled = ruled[(ruled["region_code"] == meta["region_code"]) & (ruled["months"] == 12)]
    latest = ruled[ruled["year"] == y0].iloc[0]
    growth = gdp_growth
    basis = "given"
    if growth is None:
        basis = f"observed {y0 - 1}-{y0}"
        previous = ruled[ruled["year"] == y0 - 1]
        growth = (float(latest["gdp_const_10k_yuan"])
                  / float(previous["gdp_const_10k_yuan"].iloc[0]) - 1.0
                  if len(previous) and previous["gdp_const_10k_yuan"].iloc[0] > 0 else np.nan)
    gdp = forecast_gdp(float(latest["gdp_const_10k_yuan"]), growth, when - y0)
    record.update(last_actual_year=y0, gdp_growth=growth, gdp_growth_basis=basis,
                  gdp_const_10k_yuan=gdp,
                  energy_for_intensity_tce=float(latest["energy_for_intensity_tce"]),
                  energy_for_total_tce=float(latest["energy_for_total_tce"]))
    notes = []
    rooms: dict[str, float] = {}
    if intensity is not None:
        base = _base(ruled, int(intensity["base_year"]))
        if base is None:
            notes.append(f"no data for base year {int(intensity['base_year'])}")
        else:
            allowed, record["progress_rule"] = _allowed_intensity_tce(base, intensity, when,
                                                                      gdp)
            record["intensity_allowed_tce"] = allowed
            rooms["intensity"] = allowed - record["energy_for_intensity_tce"]
            exemption = total_exemption_rule(min(when, int(intensity["target_year"])))
            if incentive is not None and exemption is not None:
                strict, _ = _allowed_intensity_tce(base, incentive, when, gdp)
                record["incentive_room_tce"] = strict - record["energy_for_intensity_tce"]
    if total is not None:
        base = _base(ruled, int(total["base_year"]))
        if base is None:
            notes.append(f"no data for base year {int(total['base_year'])}")
        else:
            b, t = int(total["base_year"]), int(total["target_year"])
            base_tce = float(base["energy_for_total_tce"])
            increment = (float(total["target_value"]) - float(base["energy_tce"])
                         if total["indicator"] == "energy_total_cap_tce"
                         else float(total["target_value"]))
            rule = progress_path(min(when, t))
            record["progress_rule"] = rule["rule_id"]
            allowed = allowed_total_tce(base_tce, base_tce + increment, min(when, t) - b, t - b,
                                        rule["path"])
            record["total_allowed_tce"] = allowed
            rooms["total"] = allowed - record["energy_for_total_tce"]
    else:
        notes.append("no total target: intensity alone limits the budget")
    record["intensity_room_tce"] = rooms.get("intensity", np.nan)
    record["total_room_tce"] = rooms.get("total", np.nan)
    if math.isnan(growth):
        notes.append("no GDP growth known: give a forecast")
    if rooms and not any(math.isnan(v) for v in rooms.values()):
        binding = min(rooms, key=rooms.__getitem__)
        record.update(budget_tce=rooms[binding], binding=binding)
        # 发改环资〔2021〕1310号: at the incentive target the total is not assessed
        incentive_room = record["incentive_room_tce"]
        if not math.isnan(incentive_room) and incentive_room > rooms[binding]:
            record.update(budget_tce=incentive_room, binding="incentive_exemption")
            notes.append("the total is exempt while the incentive intensity target is met")
    record["note"] = "; ".join(notes)
    return record


def _base(ruled: pd.DataFrame, base_year: int) -> pd.Series | None:
    hit = ruled[ruled["year"] == base_year]
    return None if hit.empty else hit.iloc[0]


def intensity_effect(accounts: pd.DataFrame, *, year: int, region_code: str, added_tce: float,
                     months: int = 12, plan: str | None = None,
                     target_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return how adding energy in one unit (a league) moves it and the units above it.

    Parameters
    ----------
    accounts : DataFrame
        Region accounts (see :mod:`dualcontrol.assessment`).
    year, months : int
        Assessed period (``months`` from January; 12 for the year).
    region_code : str
        Unit where the energy is added (e.g. a league, 150600 for Ordos).
    added_tce : float
        Added controlled energy [tce], counted in the unit and every unit above it.

    Returns
    -------
    DataFrame
        For the unit and its parents, per indicator ``energy_intensity`` and
        ``energy_total``: ``value_before``, ``value_after``, ``change``,
        ``requirement``, ``rating_before``, ``rating_after``.
    """
    data = prepare_accounts(accounts) if "months" not in accounts.columns else accounts
    chain = [str(region_code)]
    parents = dict(zip(data["region_code"], data["parent_code"], strict=False))
    while parents.get(chain[-1]) and parents[chain[-1]] in parents:
        chain.append(parents[chain[-1]])
    changed = data.copy()
    hit = changed["region_code"].isin(chain) & (changed["year"] == year) & (
        changed["months"] == months)
    changed.loc[hit, "energy_tce"] = changed.loc[hit, "energy_tce"] + added_tce
    keep = ["region_code", "region_name", "indicator", "value", "requirement", "rating"]
    before = progress(data, year=year, months=months, plan=plan, target_table=target_table,
                      regions=chain)[keep]
    after = progress(changed, year=year, months=months, plan=plan, target_table=target_table,
                     regions=chain)[keep]
    out = before.merge(after[["region_code", "indicator", "value", "rating"]],
                       on=["region_code", "indicator"], suffixes=("_before", "_after"))
    out = out[out["indicator"].isin(["energy_intensity", "energy_total"])]
    out["change"] = out["value_after"] - out["value_before"]
    out.insert(2, "added_tce", added_tce)
    return out[["region_code", "region_name", "added_tce", "indicator", "value_before",
                "value_after", "change", "requirement", "rating_before",
                "rating_after"]].reset_index(drop=True)
