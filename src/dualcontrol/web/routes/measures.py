"""The "1+N+X" measures registry: its tables (API) and the measures page with the wedges."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pandas as pd
import plotly.graph_objects as go
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from dualcontrol import measures, outlook
from dualcontrol.regions import REGION_CODE
from dualcontrol.web import figures
from dualcontrol.web.access import Data, Grant, Principal, within_scope
from dualcontrol.web.contract import TABLE
from dualcontrol.web.deps import Ctx, CurrentPrincipal, WebContext, allow, render
from dualcontrol.web.i18n import translator
from dualcontrol.web.tables import Format, table_response

router = APIRouter(tags=["measures"])

#: Tables of ``/api/measures/{table}``: rows of the caller's scope, or region aggregates.
TABLES: tuple[str, ...] = ("registry", "summary", "overdue", "progress", "wedges", "gaps")
#: The scenario the wedges are cut from when none is asked for: the one without the
#: announced measures, so that they are not counted twice.
DEFAULT_SCENARIO = "baseline"

AsOfQ = Annotated[dt.date | None, Query(
    description="Date of the overdue check, YYYY-MM-DD (default: today, UTC).")]
ScenarioQ = Annotated[str | None, Query(
    description="Outlook scenario of the wedges (default: baseline).")]
DrawsQ = Annotated[int, Query(ge=0, le=20000, description="Monte Carlo draws of the wedges.")]
SeedQ = Annotated[int, Query(ge=0, le=2**32 - 1, description="Seed of the draws.")]
WedgeYearQ = Annotated[int, Query(ge=2000, le=2100, description="Year of the wedge table.")]


def scoped_registry(ctx: WebContext, principal: Principal, grant: Grant) -> pd.DataFrame:
    """Return the registry rows in the principal's scope (a league sees its league's)."""
    frame = ctx.data.measures()
    placed = frame.assign(region=REGION_CODE, league=frame["region_code"])
    return within_scope(principal, grant, placed).drop(columns=["region", "league"])


def _iso_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with its date cells as ``YYYY-MM-DD`` text (JSON has no dates)."""
    out = frame.copy()
    for column in ("deadline", "completed_on"):
        if column in out:
            out[column] = [d.isoformat() if isinstance(d, dt.date) else d for d in out[column]]
    return out


def _today(as_of: dt.date | None) -> dt.date:
    return as_of or dt.datetime.now(dt.UTC).date()


def _progress(ctx: WebContext, registry: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`dualcontrol.measures.progress`, reading unit accounts only if a
    completed measure names a unit."""
    done = (registry["status"] == "completed") & (registry["unit_id"] != "")
    units = (ctx.data.unit_history() if done.any()
             else pd.DataFrame(columns=["unit_id", "year", "output", "energy_tce"]))
    return measures.progress(registry, units)


#: The wedge that measures outside a scoped user's scope are put in.
OTHERS = "other measures"


def wedge_registry(ctx: WebContext, principal: Principal, grant: Grant) -> pd.DataFrame:
    """Return the whole registry, with the measures outside the principal's scope in one
    wedge :data:`OTHERS`: the wedges are the region's, but a group name may name a firm."""
    frame = ctx.data.measures()
    mine = set(scoped_registry(ctx, principal, grant)["measure_id"])
    outside = ~frame["measure_id"].isin(mine)
    return frame.assign(wedge_group=frame["wedge_group"].where(~outside, OTHERS))


def wedge_report(ctx: WebContext, registry: pd.DataFrame, scenario: str | None, draws: int,
                 seed: int, year: int) -> tuple[str, measures.WedgeReport]:
    """Return the chosen scenario's name and the registry's wedges in it."""
    files = ctx.data.scenarios()
    name = scenario or (DEFAULT_SCENARIO if DEFAULT_SCENARIO in files
                        else next(iter(files), None))
    if name is None or name not in files:
        raise HTTPException(404, f"unknown scenario {scenario!r}; accepted: "
                                 f"{', '.join(files) or 'none installed'}")
    spec = outlook.load_scenario(files[name])
    if not spec.base_year < year <= spec.end_year:
        raise HTTPException(422, f"year {year} outside the scenario "
                                 f"({spec.base_year + 1}-{spec.end_year})")
    return name, measures.wedge_report(
        registry, spec, draws=draws, seed=seed, year=year,
        assessed=ctx.data.observed_assessment(spec))


@router.get("/api/measures/{table}", responses=TABLE)
def read_measures(request: Request, ctx: Ctx, principal: CurrentPrincipal, table: str,
                  as_of: AsOfQ = None, scenario: ScenarioQ = None, draws: DrawsQ = 1000,
                  seed: SeedQ = 0, year: WedgeYearQ = 2030,
                  format: Format = Format.json) -> Response:
    """Return the ``registry`` (latest revision of each measure in the caller's scope),
    its ``summary`` by level and status, the ``overdue`` measures, the ``progress`` of
    completed ones (planned and realised savings [tce/a, t CO2/a]), or, for the whole
    region, the ``wedges`` of the measures in the outlook in ``year`` and the ``gaps``
    to each target (what else is needed); measures outside the caller's scope form one
    wedge, ``other measures``."""
    if table not in TABLES:
        raise HTTPException(404, f"unknown table {table!r}; accepted: {', '.join(TABLES)}")
    grant = allow(ctx, request, principal, Data.measures)
    if table in ("wedges", "gaps"):
        name, report = wedge_report(ctx, wedge_registry(ctx, principal, grant), scenario,
                                    draws, seed, year)
        answer = report.wedges if table == "wedges" else report.gaps
        return table_response(answer, format, f"measures_{table}_{name}_{year}")
    registry = scoped_registry(ctx, principal, grant)
    day = _today(as_of)
    answer = {"registry": lambda: measures.export_frame(registry) if format != Format.json
              else registry,
              "summary": lambda: measures.summary(registry, day),
              "overdue": lambda: measures.overdue(registry, day),
              "progress": lambda: _progress(ctx, registry)}[table]()
    return table_response(_iso_dates(answer), format, f"measures_{table}_{day.isoformat()}")


def wedge_figure(report: measures.WedgeReport, *, until: int, title: str) -> str:
    """Return the wedge chart: the CO2 path without measures, each wedge below it."""
    result = report.outlook
    total = result.central[result.central["region"] == "total"]
    total = total[total["year"] <= until]
    years = total["year"].astype(int).tolist()
    top = (total["co2_t"] / 1e4).to_numpy()
    wedges = {str(g): part.set_index("year")["co2_t"].reindex(years).fillna(0.0).to_numpy()
              / 1e4 for g, part in result.wedges.groupby("group", sort=True)}
    top = top + sum(wedges.values(), 0.0)
    fig = go.Figure(go.Scatter(x=years, y=top, mode="lines", name="without measures",
                               line={"color": "#34495e"}))
    for name, values in wedges.items():
        top = top - values
        fig.add_trace(go.Scatter(x=years, y=top, mode="lines", name=name, fill="tonexty"))
    fig.update_layout(title=title, yaxis_title="10^4 t CO2", xaxis={"type": "category"})
    return figures.to_html(fig, div_id="chart-wedges")


@router.get("/measures", include_in_schema=False)
def measures_page(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                  scenario: str | None = None, as_of: AsOfQ = None,
                  draws: DrawsQ = 500) -> Response:
    """Overdue measures, the wedges of the measures to 2030 and what else is needed."""
    grant = allow(ctx, request, principal, Data.measures)
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    t = translator(lang)
    day = _today(as_of)
    registry = scoped_registry(ctx, principal, grant)
    chart, wedges, gaps, name = None, None, None, None
    if ctx.data.scenarios():
        name, report = wedge_report(ctx, wedge_registry(ctx, principal, grant), scenario,
                                    draws, 0, 2030)
        chart = wedge_figure(report, until=2030, title=f"{t('measures_wedges')} · {name}")
        wedges = report.wedges.to_dict("records")
        gaps = report.gaps.drop(columns=["source"]).to_dict("records")
    shown = ["measure_id", "level", "title", "owner", "action", "deadline", "status",
             "effect_tce", "effect_co2_t", "effect_water_m3"]
    return render(request, ctx, principal, "measures.html", title=t("measures"),
                  as_of=day.isoformat(), scenario=name, scenarios=list(ctx.data.scenarios()),
                  chart=chart, wedges=wedges, gaps=gaps,
                  summary=measures.summary(registry, day).to_dict("records"),
                  overdue=_iso_dates(measures.overdue(registry, day)).to_dict("records"),
                  progress=_iso_dates(_progress(ctx, registry)).to_dict("records"),
                  registry=_iso_dates(registry[shown]).to_dict("records"), columns=shown)
