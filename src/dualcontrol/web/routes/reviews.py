"""Energy-saving review of proposed projects (API and page)."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from dualcontrol import review
from dualcontrol.errors import InputError, Problem
from dualcontrol.regions import REGION_CODE
from dualcontrol.web import review_form
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


def league_choices(ctx: WebContext) -> list[tuple[str, str]]:
    """Return (English name, Chinese name) of each league, for the form's list."""
    names = ctx.data.names()
    return [(en, names.get(ctx.data.league_key(en) or "", en)) for en in ctx.data.leagues()]


def _page(request: Request, ctx: WebContext, principal: Principal, *, fields: dict[str, str],
          result: dict[str, Any] | None = None, problems: list[Problem] | None = None,
          status_code: int = 200) -> Response:
    return render(request, ctx, principal, "review.html", status_code=status_code,
                  fields=fields, result=result, problems=problems,
                  leagues=league_choices(ctx), **review_form.choices())


@router.get("/review", include_in_schema=False)
def review_page(request: Request, ctx: Ctx, principal: CurrentPrincipal) -> Response:
    """Show the project form, filled with the sample project."""
    allow(ctx, request, principal, Data.reviews)
    sample = yaml.safe_load(ctx.data.sample_project() or "{}") or {}
    return _page(request, ctx, principal, fields=review_form.form_from_project(sample))


@router.post("/review", include_in_schema=False)
async def review_form_post(request: Request, ctx: Ctx,
                           principal: CurrentPrincipal) -> Response:
    """Review the project of the form's fields, or of an uploaded project file (YAML or
    JSON; a ``project`` text field in YAML is read too), and show the verdict."""
    form = await request.form()
    csrf_token = form.get("csrf_token")
    if not csrf_matches(page_session(request, ctx), csrf_token if isinstance(csrf_token, str)
                        else None):
        raise refuse(ctx, request, principal, "missing or wrong CSRF token")
    upload = form.get("project_file")
    content = await upload.read() if isinstance(upload, StarletteUpload) else b""
    upload_name = upload.filename if isinstance(upload, StarletteUpload) else ""
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    return await run_in_threadpool(_review_post, request, ctx, principal, fields, content,
                                   upload_name or "")


def _review_post(request: Request, ctx: WebContext, principal: Principal,
                 fields: dict[str, str], content: bytes, upload_name: str) -> Response:
    try:
        if content:
            data = review_form.project_from_file(content, upload_name)
            source = upload_name
        elif fields.get("project", "").strip():
            data = yaml.safe_load(fields["project"])
            if not isinstance(data, dict):
                raise InputError(Problem("the project must be a mapping of fields",
                                         file="form", field="project"))
            source = "form"
        else:
            data = review_form.project_from_form(fields)
            source = "form"
        shown = review_form.form_from_project(data)
        result = run_review(ctx, request, principal, data, source)
    except yaml.YAMLError as exc:
        return _page(request, ctx, principal, fields=fields, status_code=422,
                     problems=[Problem(f"not valid YAML: {exc}", file="form")])
    except InputError as exc:
        return _page(request, ctx, principal, fields=fields, status_code=422,
                     problems=exc.problems)
    return _page(request, ctx, principal, fields=shown, result=result.as_dict())
