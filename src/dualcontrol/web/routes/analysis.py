"""Why energy changed (LMDI decomposition) and when CO2 peaks (outlook): API and page."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from dualcontrol import decomposition, labels, outlook
from dualcontrol.web import figures
from dualcontrol.web.access import Data
from dualcontrol.web.contract import TABLE
from dualcontrol.web.deps import Ctx, CurrentPrincipal, WebContext, allow, render
from dualcontrol.web.i18n import translator
from dualcontrol.web.tables import Format, table_response

router = APIRouter(tags=["analysis"])

DrawsQ = Annotated[int, Query(ge=0, le=20000, description="Monte Carlo draws.")]
#: NumPy seeds are unsigned; a negative one is refused with a 422, not a 500.
SeedQ = Annotated[int, Query(ge=0, le=2**32 - 1, description="Seed of the Monte Carlo draws.")]
#: Percentile bands of the fan chart [%].
FAN_BANDS: tuple[tuple[int, int], ...] = ((5, 95), (25, 75))


@lru_cache(maxsize=16)
def _run(path: Path, mtime: float, draws: int, seed: int) -> outlook.Outlook:
    return outlook.run(outlook.load_scenario(path), draws=draws, seed=seed)


def scenario_outlook(ctx: WebContext, name: str, draws: int, seed: int) -> outlook.Outlook:
    """Return the (cached) outlook of scenario ``name``."""
    files = ctx.data.scenarios()
    if name not in files:
        raise HTTPException(404, f"unknown scenario {name!r}; accepted: {', '.join(files)}")
    path = files[name]
    return _run(path, path.stat().st_mtime, draws, seed)


def decompose(ctx: WebContext, mode: str) -> decomposition.Decomposition:
    """Return the LMDI decomposition of the installation's decomposition table."""
    spec = ctx.data.decomposition_input()
    if spec is None:
        raise HTTPException(404, "no decomposition data in this installation")
    return decomposition.lmdi(spec.frame, factors=list(spec.factors), by=spec.by,
                              base=spec.base, target=spec.target, mode=mode)


@router.get("/api/decomposition", responses=TABLE)
def read_decomposition(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                       mode: Annotated[str, Query(pattern="^(additive|multiplicative)$")] =
                       "additive", by_subcategory: bool = False,
                       format: Format = Format.json) -> Response:
    """Return the LMDI-I effect of each factor (additive: in the aggregate's unit)."""
    allow(ctx, request, principal, Data.analysis)
    result = decompose(ctx, mode)
    table = result.by_subcategory if by_subcategory else result.effects.assign(
        base=result.base, target=result.target, observed=result.observed)
    return table_response(table, format, f"decomposition_{result.base}_{result.target}")


@router.get("/api/outlook")
def list_scenarios(request: Request, ctx: Ctx, principal: CurrentPrincipal) -> list[str]:
    """Return the names of the scenarios."""
    allow(ctx, request, principal, Data.analysis)
    return list(ctx.data.scenarios())


@router.get("/api/outlook/{scenario}/{table}", responses=TABLE)
def read_outlook(request: Request, ctx: Ctx, principal: CurrentPrincipal, scenario: str,
                 table: str, draws: DrawsQ = 2000, seed: SeedQ = 0,
                 format: Format = Format.json) -> Response:
    """Return ``paths`` (central path by region and year), ``peaks`` (peak year and
    level with Monte Carlo percentiles), ``peak-years`` (share of draws peaking in
    each year) or ``targets`` (plan targets met or not)."""
    allow(ctx, request, principal, Data.analysis)
    result = scenario_outlook(ctx, scenario, draws, seed)
    tables = {"paths": lambda: result.central, "peaks": lambda: outlook.peak_summary(result),
              "peak-years": lambda: outlook.peak_year_distribution(result),
              "targets": lambda: outlook.check_targets(
                  result, assessed=ctx.data.observed_assessment(result.scenario))}
    if table not in tables or (table == "peak-years" and draws == 0):
        raise HTTPException(404, f"unknown table {table!r}; accepted: {', '.join(tables)}"
                                 " (peak-years needs draws > 0)")
    return table_response(tables[table](), format, f"outlook_{scenario}_{table}")


@router.get("/outlook", include_in_schema=False)
def outlook_page(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                 scenario: str | None = None, draws: DrawsQ = 2000) -> Response:
    """Decomposition waterfall and the CO2 fan chart with the peak year."""
    allow(ctx, request, principal, Data.analysis)
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    t = translator(lang)
    charts: dict[str, str] = {}
    effects = None
    if ctx.data.decomposition_input() is not None:
        result = decompose(ctx, "additive")
        effects = result.effects.to_dict("records")
        tce = labels.KINDS["tce"].divisor  # shown in 万吨标准煤
        charts["waterfall"] = figures.waterfall(
            [labels.value_name(f, lang, "factor") for f in result.effects["factor"]],
            (result.effects["effect"] / tce).tolist(),
            start_label=str(result.base), start=result.value_base / tce,
            end_label=str(result.target),
            title=f"LMDI {result.base}-{result.target}", y_title=labels.unit("tce", lang),
            div_id="chart-lmdi")
    names = list(ctx.data.scenarios())
    peaks = None
    chosen = scenario or (names[0] if names else None)
    if chosen is not None:
        run = scenario_outlook(ctx, chosen, max(draws, 1), 0)
        summary = outlook.peak_summary(run)
        peaks = summary.to_dict("records")
        co2 = summary[(summary["region"] == "total") & (summary["quantity"] == "co2_t")]
        years = [int(y) for y in run.scenario.years]
        co2_unit = labels.KINDS["co2"].divisor  # shown in 万吨CO2
        drawn = run.draws["co2_t"] / co2_unit
        bands = {f"p{lo}-p{hi}": (np.percentile(drawn, lo, axis=0).tolist(),
                                  np.percentile(drawn, hi, axis=0).tolist())
                 for lo, hi in FAN_BANDS}
        central = run.central[run.central["region"] == "total"]
        charts["fan"] = figures.fan(
            years, bands, (central["co2_t"] / co2_unit).tolist(),
            title=(f"二氧化碳排放展望 · {labels.value_name(run.scenario.name, lang)}"
                   f"（{run.n_draws} 次抽样）" if lang == "zh" else
                   f"CO2 · {run.scenario.name} ({run.n_draws} draws)"),
            y_title=labels.unit("co2", lang), median_label=t("median"), peak_label=t("peak"),
            div_id="chart-fan", peak_year=int(co2["peak_year"].iloc[0])
            if len(co2) and pd.notna(co2["peak_year"].iloc[0]) else None)
    return render(request, ctx, principal, "outlook.html", charts=charts, effects=effects,
                  scenarios=names, scenario=chosen, peaks=peaks, draws=draws,
                  title=t("outlook"))



