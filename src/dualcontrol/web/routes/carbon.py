"""Carbon budgets and the project pipeline (API and page)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response

from dualcontrol.errors import InputError, Problem
from dualcontrol.pipeline import STATUSES
from dualcontrol.regions import REGION_CODE
from dualcontrol.web.access import Data, Principal, may, permit, within_scope
from dualcontrol.web.contract import TABLE, ProjectUnprocessable
from dualcontrol.web.deps import Ctx, CurrentPrincipal, WebContext, allow, render
from dualcontrol.web.routes.assessment import scoped
from dualcontrol.web.tables import Format, table_response

router = APIRouter(tags=["carbon"])

#: States a project may be asked for by (the query refuses others with a 422).
StatusQ = StrEnum("StatusQ", {s: s for s in STATUSES})  # type: ignore[misc]
#: A 422 of the pipeline: bad fields or an illegal move, every problem listed.
REFUSED: dict[int | str, dict[str, Any]] = {422: {
    "model": ProjectUnprocessable,
    "description": "Bad fields, an unknown project or league, or an illegal move"}}

#: Columns of the pipeline the API and page show.
PROJECT_COLUMNS = ["code", "name", "league_code", "county_code", "park_code", "industry",
                   "product", "status", "energy_tce", "co2_t", "reviewed_on", "approved_on",
                   "under_construction_on", "in_operation_on", "rejected_on", "withdrawn_on",
                   "note"]


def budgets_for(ctx: WebContext, principal: Principal, period: str | None) -> pd.DataFrame:
    """Return the carbon budgets the principal may read (one period, or all)."""
    grant = permit(principal, Data.carbon_budget)
    table = ctx.data.carbon_budgets()
    if table.empty:
        return table
    if period is not None:
        table = table[table["period"] == period]
    return scoped(principal, grant, table).reset_index(drop=True)


def projects_for(ctx: WebContext, principal: Principal, status: str | None = None,
                 ) -> pd.DataFrame:
    """Return the projects of the leagues the principal may read."""
    grant = permit(principal, Data.pipeline)
    frame = ctx.data.projects(status=status)
    if frame.empty:
        return pd.DataFrame(columns=PROJECT_COLUMNS)
    table = frame.assign(league=frame["league_code"])
    out = within_scope(principal, grant, table)[PROJECT_COLUMNS].reset_index(drop=True)
    for column in [c for c in PROJECT_COLUMNS if c.endswith("_on")]:
        # object dtype: pandas would infer text and turn the missing days into NaN
        out[column] = pd.Series([None if v is None else v.isoformat() for v in out[column]],
                                index=out.index, dtype=object)
    return out


@router.get("/api/carbon/budgets", responses=TABLE)
def read_carbon_budgets(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                        period: Annotated[str | None, Query(
                            description="2026 ... 2030, or 2026-2030 (default: all)")] = None,
                        format: Format = Format.json) -> Response:
    """Return the carbon budget [t CO2] of the region and each league by year and for
    2026-2030, with actual, reserved (projects approved, not running) and remaining
    (:func:`dualcontrol.carbon_budget.carbon_budgets`)."""
    allow(ctx, request, principal, Data.carbon_budget)
    return table_response(budgets_for(ctx, principal, period), format, "carbon_budgets")


@router.get("/api/projects", responses=TABLE)
def read_projects(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                  status: Annotated[StatusQ | None, Query(  # type: ignore[valid-type]
                      description="Only projects in this state")] = None,
                  format: Format = Format.json) -> Response:
    """Return the project pipeline with each project's state, energy, CO2 and dates."""
    allow(ctx, request, principal, Data.pipeline)
    chosen = None if status is None else str(status.value)
    return table_response(projects_for(ctx, principal, chosen), format, "projects")


def _league_node(ctx: WebContext, text: str) -> tuple[str, dict[str, str]]:
    league = ctx.data.league_key(text)
    if league is None:
        raise InputError(Problem("unknown league or city", field="league_code", value=text,
                                 accepted=sorted(ctx.data.leagues())))
    return league, {"region": REGION_CODE, "league": league}


def _day(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(Problem("not a date", field=field, value=value,
                                 accepted=["YYYY-MM-DD"])) from None


def _text(value: Any) -> str | None:
    """Return a body field as text (None when absent or empty)."""
    return None if value is None or value == "" else str(value)


def _problems(exc: InputError) -> JSONResponse:
    return JSONResponse({"problems": [p.as_dict() for p in exc.problems]}, status_code=422)


@router.post("/api/projects", status_code=201, responses=REFUSED)
def add_project(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                project: Annotated[dict[str, Any], Body(description=(
                    "code, name, league_code (code or name), energy_tce [tce/a], co2_t "
                    "[t/a], reviewed_on (YYYY-MM-DD); optional county_code, park_code, "
                    "industry, product, note"))]) -> Response:
    """Add a reviewed project to the pipeline (audited with the user and time)."""
    allow(ctx, request, principal, Data.pipeline_edit)
    try:
        league, node = _league_node(ctx, str(project.get("league_code", "")))
        allow(ctx, request, principal, Data.pipeline_edit, level="league", node=node)
        row = ctx.data.add_project(
            code=str(project.get("code", "")), name=str(project.get("name", "")),
            league_code=league, county_code=_text(project.get("county_code")),
            park_code=_text(project.get("park_code")), energy_tce=project.get("energy_tce"),
            co2_t=project.get("co2_t"),
            reviewed_on=_day(project.get("reviewed_on"), "reviewed_on"),
            username=principal.username, industry=_text(project.get("industry")),
            product=_text(project.get("product")), source="API",
            note=_text(project.get("note")))
    except InputError as exc:
        return _problems(exc)
    return JSONResponse(jsonable(row), status_code=201)


@router.post("/api/projects/{code}/status", responses=REFUSED)
def move_project(request: Request, ctx: Ctx, principal: CurrentPrincipal, code: str,
                 move: Annotated[dict[str, Any], Body(description=(
                     "status (the new state), on (YYYY-MM-DD); optional note"))]) -> Response:
    """Move a project to its next state; an illegal move is refused (422) and not stored."""
    allow(ctx, request, principal, Data.pipeline_edit)
    try:
        held = ctx.data.projects()
        mine = held[held["code"] == code] if len(held) else held
        if mine.empty:
            raise InputError(Problem("unknown project", field="code", value=code))
        _, node = _league_node(ctx, str(mine["league_code"].iloc[0]))
        allow(ctx, request, principal, Data.pipeline_edit, level="league", node=node)
        row = ctx.data.move_project(code=code, status=str(move.get("status", "")),
                                    on=_day(move.get("on"), "on"),
                                    username=principal.username, note=_text(move.get("note")))
    except InputError as exc:
        return _problems(exc)
    return JSONResponse(jsonable(row))


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """Return a stored row with dates and times as ISO text."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


@router.get("/carbon", include_in_schema=False)
def carbon_page(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                period: str = "2026") -> Response:
    """Show the carbon budgets of the region and leagues and the project pipeline."""
    allow(ctx, request, principal, Data.carbon_budget)
    budgets = budgets_for(ctx, principal, None)
    periods = list(dict.fromkeys(budgets["period"])) if len(budgets) else []
    chosen = period if period in periods else (periods[0] if periods else period)
    shown = budgets[budgets["period"] == chosen] if len(budgets) else budgets
    region = shown[shown["level"] == "region"] if len(shown) else shown
    projects = projects_for(ctx, principal) if may(principal, Data.pipeline) else None
    names = ctx.data.names()
    return render(request, ctx, principal, "carbon.html", periods=periods, period=chosen,
                  rows=shown.to_dict("records") if len(shown) else [],
                  region=region.iloc[0].to_dict() if len(region) else None,
                  projects=None if projects is None else [
                      {**p, "league_name": names.get(str(p["league_code"]), p["league_code"])}
                      for p in projects.to_dict("records")],
                  statuses=STATUSES)
