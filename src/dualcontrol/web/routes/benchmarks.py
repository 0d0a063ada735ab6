"""Energy-efficiency benchmarking of production units (API and page)."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from dualcontrol import benchmarking, labels
from dualcontrol.web import figures
from dualcontrol.web.access import Data, Grant, Principal, may, permit, within_scope
from dualcontrol.web.contract import TABLE
from dualcontrol.web.deps import Ctx, CurrentPrincipal, WebContext, allow, render
from dualcontrol.web.i18n import translator
from dualcontrol.web.tables import Format, YearQ, table_response

router = APIRouter(tags=["benchmarks"])

#: Tables derived from the unit results: aggregates without names, and the front runners.
AGGREGATES = {
    "shares": lambda units: benchmarking.class_shares(units),
    "shares-by-region": lambda units: benchmarking.class_shares(units, by=("region",)),
    "front-runners": benchmarking.front_runners,
    "savings": benchmarking.savings_potential,
}
#: The kind of data of each table (front runners name enterprises).
KINDS = {table: Data.front_runners if table == "front-runners" else Data.benchmark_summary
         for table in AGGREGATES}
#: Hierarchy columns added to the units for the scope filter, dropped before answering.
HIERARCHY = ["league", "county", "park", "enterprise"]


def unit_results(ctx: WebContext, year: int | None) -> tuple[pd.DataFrame, int]:
    """Return the benchmarked units of ``year`` (default: the last) and the year."""
    units = ctx.data.unit_benchmarks()
    if units is None or units.empty:
        raise HTTPException(404, "no production-unit data in the store")
    chosen = int(units["year"].max())
    if year is not None and year != chosen:
        raise HTTPException(404, f"benchmarks are computed for the latest year {chosen}")
    return with_places(ctx, units), chosen


def with_places(ctx: WebContext, units: pd.DataFrame) -> pd.DataFrame:
    """Return benchmarked units with the :data:`HIERARCHY` columns the scope filter reads."""
    places = ctx.data.hierarchy().set_index("enterprise")
    code = units["enterprise_code"].astype(str)
    return units.assign(league=units["region"], county=code.map(places["county"]),
                        park=code.map(places["park"]), enterprise=code)


def scoped_units(principal: Principal, grant: Grant, units: pd.DataFrame) -> pd.DataFrame:
    """Return the units the grant lets the principal see one by one."""
    return within_scope(principal, grant, units).drop(columns=HIERARCHY)


def scoped_front_runners(principal: Principal, grant: Grant, units: pd.DataFrame,
                         ) -> pd.DataFrame:
    """Return the front runners of the whole region that lie in the principal's scope."""
    front = benchmarking.front_runners(units.drop(columns=HIERARCHY))
    mine = set(within_scope(principal, grant, units)["unit_id"])
    return front[front["unit_id"].isin(mine)].reset_index(drop=True)


@router.get("/api/benchmarks/units", responses=TABLE)
def read_units(request: Request, ctx: Ctx, principal: CurrentPrincipal,
               year: YearQ = None, format: Format = Format.json) -> Response:
    """Return every production unit's unit consumption, levels and class."""
    grant = allow(ctx, request, principal, Data.benchmarks, level="enterprise")
    units, chosen = unit_results(ctx, year)
    return table_response(scoped_units(principal, grant, units), format,
                          f"benchmark_units_{chosen}")


@router.get("/api/benchmarks/{table}", responses=TABLE)
def read_aggregate(request: Request, ctx: Ctx, principal: CurrentPrincipal, table: str,
                   year: YearQ = None, format: Format = Format.json) -> Response:
    """Return an aggregate, ``shares``, ``shares-by-region`` or ``savings`` (savings
    potential [tce, t CO2] if units reached the levels), or the ``front-runners`` of the
    caller's scope."""
    if table not in AGGREGATES:
        raise HTTPException(404, f"unknown table {table!r}; accepted: {', '.join(AGGREGATES)}")
    grant = allow(ctx, request, principal, KINDS[table])
    units, chosen = unit_results(ctx, year)
    answer = (scoped_front_runners(principal, grant, units) if table == "front-runners"
              else AGGREGATES[table](units.drop(columns=HIERARCHY)))
    return table_response(answer, format, f"benchmark_{table}_{chosen}")


@router.get("/benchmarking", include_in_schema=False)
def benchmarking_page(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                      year: YearQ = None) -> Response:
    """Distribution per product with benchmark and baseline, front runners, savings."""
    allow(ctx, request, principal, Data.benchmark_summary)
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    t = translator(lang)
    units, chosen = unit_results(ctx, year)
    plain = units.drop(columns=HIERARCHY)
    charts = []
    detail = may(principal, Data.benchmarks)
    shown = (scoped_units(principal, permit(principal, Data.benchmarks), units) if detail
             else plain.iloc[0:0])
    front = (scoped_front_runners(principal, permit(principal, Data.front_runners), units)
             if may(principal, Data.front_runners) else None)
    for i, (product, part) in enumerate(shown.groupby("product", sort=True)):
        first = part.iloc[0]
        charts.append(figures.distribution(
            part["unit_consumption"].tolist(),
            lines_at={labels.label("benchmark", lang): float(first["benchmark"]),
                      labels.label("baseline", lang): float(first["baseline"]),
                      labels.label("quota_limit", lang): float(first["quota_limit"])},
            title=f"{labels.value_name(product, lang, 'product')} ({first['level_unit']})",
            x_title=str(first["level_unit"]), y_title=labels.label("units", lang),
            div_id=f"chart-dist-{i}"))
    return render(request, ctx, principal, "benchmarking.html", year=chosen, charts=charts,
                  units=shown.to_dict("records") if detail else None,
                  shares=AGGREGATES["shares"](plain).to_dict("records"),
                  front=None if front is None else front.to_dict("records"),
                  savings=benchmarking.savings_potential(plain).to_dict("records"),
                  title=t("benchmarking"))
