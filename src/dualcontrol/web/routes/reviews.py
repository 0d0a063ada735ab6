"""Energy-saving review of proposed projects (API and page)."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Body, Form, Request
from fastapi.responses import JSONResponse, Response

from dualcontrol import review
from dualcontrol.errors import InputError, Problem
from dualcontrol.regions import REGION_CODE
from dualcontrol.web.access import Data, Principal
from dualcontrol.web.contract import ProjectUnprocessable
from dualcontrol.web.deps import (
    Ctx,
    CurrentPrincipal,
    WebContext,
    allow,
    page_session,
    refuse,
    render,
)
from dualcontrol.web.security import csrf_matches

router = APIRouter(tags=["reviews"])


def run_review(ctx: WebContext, request: Request, principal: Principal,
               data: dict[str, Any], source: str) -> review.Review:
    """Check the role and location scope, review the project and audit it."""
    allow(ctx, request, principal, Data.reviews)
    project = review.parse_project(data, file=source)
    league = ctx.data.league_key(project.league)
    if league is None:
        raise InputError(Problem("unknown league or city", file=source, field="location.league",
                                 value=project.league, accepted=sorted(ctx.data.leagues())))
    allow(ctx, request, principal, Data.reviews, level="league",
          node={"region": REGION_CODE, "league": league})
    result = review.review_project(project, ctx.data.review_context(league, project.start_year))
    ctx.users.audit(username=principal.username, action="project_reviewed",
                    entity="project", entity_key=project.name,
                    after={"verdict": result.verdict, "league": project.league,
                           "unit_consumption": result.unit_consumption})
    return result


@router.post("/api/reviews", responses={
    422: {"model": ProjectUnprocessable, "description": "Bad fields of the project"}})
def submit_review(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                  project: Annotated[dict[str, Any], Body(description=(
                      "The project as in a project YAML file: name, industry, product, "
                      "capacity, capacity_unit, location {region, league}, start_year, "
                      "design_output {quantity, unit}, design_output_value_10k_yuan, "
                      "energy [{carrier, quantity, unit, use, origin}]"))]) -> Response:
    """Review a project: verdict, unit consumption against the levels, reasons, effects."""
    allow(ctx, request, principal, Data.reviews)
    try:
        result = run_review(ctx, request, principal, project, "request body")
    except InputError as exc:
        return JSONResponse({"problems": [p.as_dict() for p in exc.problems]},
                            status_code=422)
    return JSONResponse(result.as_dict())


@router.get("/review", include_in_schema=False)
def review_page(request: Request, ctx: Ctx, principal: CurrentPrincipal) -> Response:
    """Show the project form."""
    allow(ctx, request, principal, Data.reviews)
    return render(request, ctx, principal, "review.html", text=ctx.data.sample_project(),
                  result=None, problems=None)


@router.post("/review", include_in_schema=False)
def review_form(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                project: Annotated[str, Form()],
                csrf_token: Annotated[str | None, Form()] = None) -> Response:
    """Review the project written in the form (YAML or JSON) and show the verdict."""
    if not csrf_matches(page_session(request, ctx), csrf_token):
        raise refuse(ctx, request, principal, "missing or wrong CSRF token")
    try:
        data = yaml.safe_load(project)
        if not isinstance(data, dict):
            raise InputError(Problem("the project must be a mapping of fields",
                                     file="form", field="project"))
        result = run_review(ctx, request, principal, data, "form")
    except yaml.YAMLError as exc:
        return render(request, ctx, principal, "review.html", status_code=422, text=project,
                      result=None, problems=[Problem(f"not valid YAML: {exc}", file="form")])
    except InputError as exc:
        return render(request, ctx, principal, "review.html", status_code=422, text=project,
                      result=None, problems=exc.problems)
    return render(request, ctx, principal, "review.html", text=project,
                  result=result.as_dict(), problems=None)
