"""Energy reports: upload (API and page), validated row by row, stored as revisions."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from dualcontrol.errors import InputError, Problem
from dualcontrol.revisions import LargeDropError
from dualcontrol.web.access import Data, Principal, outside_scope
from dualcontrol.web.contract import UploadNeedsConfirmationOut, UploadUnprocessable
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

router = APIRouter(tags=["reports"])


#: The page's choices for an upload with fewer rows of a period than stored (the CLI's
#: default, --replace and --merge).
PARTIAL_CHOICES = ("refuse", "replace", "merge")


def submit_report(ctx: WebContext, request: Request, principal: Principal, content: bytes,
                  file_name: str, *, on_partial: str = "refuse", confirm_drops: bool = False,
                  confirmed_sha256: str | None = None) -> dict[str, Any]:
    """Validate, check the scope of, store and audit an uploaded energy report.

    Raises InputError for bad rows (nothing stored; LargeDropError when the upload
    needs a confirmation) and HTTPException for refusals.
    """
    grant = allow(ctx, request, principal, Data.uploads, level="enterprise")
    if len(content) > ctx.settings.max_upload_bytes:
        raise InputError(Problem("file too large", file=file_name, value=len(content),
                                 accepted=[f"<= {ctx.settings.max_upload_bytes} bytes"]))
    def in_scope(enterprises: pd.DataFrame) -> None:
        outside = outside_scope(principal, grant, enterprises)
        if len(outside):
            names = ", ".join(sorted(outside["enterprise"].astype(str).unique())[:5])
            raise refuse(ctx, request, principal, f"{principal.username} is scoped to "
                         f"{principal.scope} and may not submit reports of {names}")

    try:
        summary = ctx.data.submit_energy(content=content, file_name=file_name,
                                         username=principal.username, check=in_scope,
                                         on_partial=on_partial, confirm_drops=confirm_drops,
                                         confirmed_sha256=confirmed_sha256)
    except InputError as exc:
        ctx.users.audit(username=principal.username, action="upload_rejected",
                        entity="energy_report", entity_key=file_name,
                        after={"problems": len(exc.problems)})
        raise
    ctx.users.audit(username=principal.username, action="report_uploaded",
                    entity="energy_report", entity_key=file_name, after=summary)
    return summary


@router.post("/api/reports", status_code=201, responses={
    201: {"description": "Stored: a summary of the revisions"},
    409: {"model": UploadNeedsConfirmationOut,
          "description": "Would replace enterprise-months with much less energy: nothing "
                         "stored until the same file is sent with confirm_sha256"},
    422: {"model": UploadUnprocessable, "description": "Bad rows (nothing stored)"}})
async def upload_report(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                        file: Annotated[UploadFile, File(description="CSV or XLSX")],
                        on_partial: Annotated[str, Form(
                            description="A period with fewer rows than stored: refuse "
                                        "(default), replace it whole, or merge carrier by "
                                        "carrier")] = "refuse",
                        confirm_sha256: Annotated[str | None, Form(
                            description="The SHA-256 a 409 answer gave for this file: "
                                        "store it despite the drops listed")] = None,
                        ) -> Response:
    """Upload an energy report; answer 201 with a summary, 409 or 422.

    A file with any bad row stores nothing; the problems list gives ``row``,
    ``field``, ``value``, ``message`` and ``accepted`` for each (422). An upload that
    would replace enterprise-months with much less energy (``revision_rules.csv``)
    stores nothing and lists them (409) with the file's ``confirm_sha256``: the same
    file sent again with it is stored, as the upload page's confirmation does.
    """
    allow(ctx, request, principal, Data.uploads)  # before reading the file
    if on_partial not in PARTIAL_CHOICES:
        problem = Problem("unknown choice for periods with fewer rows than stored",
                          field="on_partial", value=on_partial, accepted=list(PARTIAL_CHOICES))
        return JSONResponse({"stored": False, "problems": [problem.as_dict()]},
                            status_code=422)
    content = await file.read()
    try:
        summary = submit_report(ctx, request, principal, content, file.filename or "upload",
                                on_partial=on_partial, confirm_drops=True,
                                confirmed_sha256=confirm_sha256 or None)
    except LargeDropError as exc:
        drops = exc.drops[["enterprise", "period", "stored_tce", "new_tce", "fraction"]]
        return JSONResponse({"stored": False, "confirm_sha256": exc.content_sha256,
                             "threshold_fraction": exc.rule.fraction,
                             "drops": drops.astype({"enterprise": str, "period": str})
                             .to_dict(orient="records"),
                             "problems": [p.as_dict() for p in exc.problems]},
                            status_code=409)
    except InputError as exc:
        return JSONResponse({"stored": False,
                             "problems": [p.as_dict() for p in exc.problems]}, status_code=422)
    return JSONResponse({"stored": True, **summary}, status_code=201)


@router.get("/upload", include_in_schema=False)
def upload_page(request: Request, ctx: Ctx, principal: CurrentPrincipal) -> Response:
    """Show the upload form."""
    allow(ctx, request, principal, Data.uploads)
    return render(request, ctx, principal, "upload.html", problems=None, summary=None,
                  on_partial="refuse", choices=PARTIAL_CHOICES, drops=None)


@router.post("/upload", include_in_schema=False)
async def upload_form(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                      file: Annotated[UploadFile, File()],
                      csrf_token: Annotated[str | None, Form()] = None,
                      on_partial: Annotated[str, Form()] = "refuse",
                      confirm_sha256: Annotated[str | None, Form()] = None) -> Response:
    """Take the form's file and show what was stored or every row-level problem.

    ``on_partial`` is the replace/merge choice; an upload that would replace
    enterprise-months with much less energy is shown for confirmation first
    (``revision_rules.csv``): the same file sent again with ``confirm_sha256`` is
    stored.
    """
    if not csrf_matches(page_session(request, ctx), csrf_token):
        raise refuse(ctx, request, principal, "missing or wrong CSRF token")
    allow(ctx, request, principal, Data.uploads)
    page = {"choices": PARTIAL_CHOICES, "on_partial": on_partial, "drops": None}
    if on_partial not in PARTIAL_CHOICES:
        problem = Problem("unknown choice for periods with fewer rows than stored",
                          field="on_partial", value=on_partial, accepted=list(PARTIAL_CHOICES))
        return render(request, ctx, principal, "upload.html", status_code=422,
                      problems=[problem], summary=None, **page | {"on_partial": "refuse"})
    content = await file.read()
    try:
        summary = submit_report(ctx, request, principal, content, file.filename or "upload",
                                on_partial=on_partial, confirm_drops=True,
                                confirmed_sha256=confirm_sha256 or None)
    except LargeDropError as exc:
        return render(request, ctx, principal, "upload.html", status_code=409,
                      problems=None, summary=None, **page | {"drops": exc})
    except InputError as exc:
        return render(request, ctx, principal, "upload.html", status_code=422,
                      problems=exc.problems, summary=None, **page)
    except HTTPException as exc:
        return render(request, ctx, principal, "error.html", status_code=exc.status_code,
                      message=str(exc.detail))
    return render(request, ctx, principal, "upload.html", problems=None, summary=summary,
                  **page)
