"""Energy-efficiency benchmarking of production units (API and page)."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from dualcontrol import benchmarking
from dualcontrol.web import figures
from dualcontrol.web.access import Principal, check_level, visible_rows
from dualcontrol.web.deps import Ctx, CurrentPrincipal, WebContext, checked, render
from dualcontrol.web.i18n import translator
from dualcontrol.web.routes.pages import may
from dualcontrol.web.tables import Format, table_response

router = APIRouter(tags=["benchmarks"])

#: Tables derived from the unit results, all published aggregates.
AGGREGATES = {
    "shares": lambda units: benchmarking.class_shares(units),
    "shares-by-region": lambda units: benchmarking.class_shares(units, by=("region",)),
    "front-runners": benchmarking.front_runners,
    "savings": benchmarking.savings_potential,
}


def unit_results(ctx: WebContext, year: int | None) -> tuple[pd.DataFrame, int]:
    """Return the benchmarked units of ``year`` (default: the last) and the year."""
    units = ctx.data.unit_benchmarks()
    if units is None or units.empty:
        raise HTTPException(404, "no production-unit data in the store")
    chosen = int(units["year"].max())
    if year is not None and year != chosen:
        raise HTTPException(404, f"benchmarks are computed for the latest year {chosen}")
    # the access checks look for the hierarchy's column names
    return units.assign(league=units["region"], enterprise=units["enterprise_code"]), chosen


def scoped_units(principal: Principal, units: pd.DataFrame) -> pd.DataFrame:
    """Return the units the principal may see one by one."""
    return visible_rows(principal, units, "enterprise").drop(columns=["league", "enterprise"])


@router.get("/api/benchmarks/units")
def read_units(request: Request, ctx: Ctx, principal: CurrentPrincipal,
               year: int | None = None, format: Format = Format.json) -> Response:
    """Return every production unit's unit consumption, levels and class."""
    checked(ctx, request, principal, check_level, "enterprise")
    units, chosen = unit_results(ctx, year)
    return table_response(scoped_units(principal, units), format, f"benchmark_units_{chosen}")


@router.get("/api/benchmarks/{table}")
def read_aggregate(request: Request, ctx: Ctx, principal: CurrentPrincipal, table: str,
                   year: int | None = None, format: Format = Format.json) -> Response:
    """Return a published aggregate: ``shares``, ``shares-by-region``, ``front-runners``
    or ``savings`` (savings potential [tce, t CO2] if units reached the levels)."""
    if table not in AGGREGATES:
        raise HTTPException(404, f"unknown table {table!r}; accepted: {', '.join(AGGREGATES)}")
    checked(ctx, request, principal, check_level, "league")
    units, chosen = unit_results(ctx, year)
    return table_response(AGGREGATES[table](units.drop(columns=["league", "enterprise"])),
                          format, f"benchmark_{table}_{chosen}")


@router.get("/benchmarking", include_in_schema=False)
def benchmarking_page(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                      year: int | None = None) -> Response:
    """Distribution per product with benchmark and baseline, front runners, savings."""
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    t = translator(lang)
    units, chosen = unit_results(ctx, year)
    plain = units.drop(columns=["league", "enterprise"])
    charts = []
    detail = may(principal, "enterprise")
    shown = scoped_units(principal, units) if detail else plain.iloc[0:0]
    for i, (product, part) in enumerate(shown.groupby("product", sort=True)):
        first = part.iloc[0]
        charts.append(figures.distribution(
            part["unit_consumption"].tolist(),
            lines_at={"benchmark": float(first["benchmark"]),
                      "baseline": float(first["baseline"]),
                      "limit": float(first["quota_limit"])},
            title=f"{product} ({first['level_unit']})", x_title=str(first["level_unit"]),
            div_id=f"chart-dist-{i}"))
    return render(request, ctx, principal, "benchmarking.html", year=chosen, charts=charts,
                  units=shown.to_dict("records") if detail else None,
                  shares=AGGREGATES["shares"](plain).to_dict("records"),
                  front=benchmarking.front_runners(plain).to_dict("records"),
                  savings=benchmarking.savings_potential(plain).to_dict("records"),
                  title=t("benchmarking"))
