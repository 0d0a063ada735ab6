"""The quarterly bulletin from the dashboard (HTML page, PDF or XLSX download)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from dualcontrol import bulletin as bulletin_mod
from dualcontrol import carbon_budget
from dualcontrol.errors import DualControlError, InputError, Problem
from dualcontrol.web.access import Data, may
from dualcontrol.web.contract import BULLETIN
from dualcontrol.web.data import StoreData
from dualcontrol.web.deps import Ctx, CurrentPrincipal, WebContext, allow, render
from dualcontrol.web.limits import QueueFullError, retry_after_header
from dualcontrol.web.tables import XLSX_TYPE

router = APIRouter(tags=["bulletin"])


def make_bulletin(ctx: WebContext, period: str | None) -> bulletin_mod.Bulletin:
    """Return the bulletin of ``period`` (default: the last quarter with data)."""
    return make_bulletin_from(ctx.data, period)


def make_bulletin_from(data: StoreData, period: str | None) -> bulletin_mod.Bulletin:
    """Return the bulletin of ``period`` on ``data`` (default: the last quarter)."""
    leagues = data.accounts(level="league", grain="quarter")
    if leagues.empty:  # a new store: say so, as for any other refused input
        raise InputError(Problem("the store has no energy reports yet: ingest reports "
                                 "(or run `dualcontrol demo`) to make a bulletin",
                                 field="period", value=period))
    leagues = leagues.assign(league=leagues["name"])
    if period is None:
        last = leagues.sort_values(["year", "quarter"]).iloc[-1]
        period = f"{int(last['year'])}-Q{int(last['quarter'])}"
    year, _ = bulletin_mod.parse_quarter(period)
    region = data.accounts(level="region", grain="quarter")
    try:  # the 15th plan's carbon budgets (none before its base year's CO2 is in)
        budgets = data.carbon_budgets() if year in carbon_budget.YEARS else None
    except InputError:
        budgets = None
    return bulletin_mod.bulletin(leagues, region.assign(region=region["name"]),
                                 data.barometer(year=year), period, measures=data.measures(),
                                 carbon_budgets=budgets)


@router.get("/bulletin", responses=BULLETIN)
def read_bulletin(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                  period: Annotated[str | None, Query(description="YYYY-Qn")] = None,
                  format: Annotated[str, Query(pattern="^(html|pdf|xlsx|page)$")] = "page",
                  ) -> Response:
    """Return the quarterly dual-control bulletin as a page, HTML, PDF or XLSX."""
    allow(ctx, request, principal, Data.bulletin)
    if format == "pdf":  # each PDF starts a Chromium: logged-in roles that need one
        allow(ctx, request, principal, Data.pdf)
    try:
        result = make_bulletin(ctx, period)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    name = f"bulletin_{result.label}"
    if format == "page":
        return render(request, ctx, principal, "bulletin.html", b=result,
                      document=bulletin_mod.render_html(result, inline_js=False),
                      may_pdf=may(principal, Data.pdf))
    if format == "html":
        return HTMLResponse(bulletin_mod.render_html(result, inline_js=False))
    if format == "pdf":
        body = render_pdf(ctx, result, name)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            body = bulletin_mod.write_xlsx(result, Path(tmp) / f"{name}.xlsx").read_bytes()
    media = "application/pdf" if format == "pdf" else XLSX_TYPE
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}.{format}"'})


def render_pdf(ctx: WebContext, result: bulletin_mod.Bulletin, name: str) -> bytes:
    """Return the bulletin as PDF, printed by Chromium through the bounded render queue.

    A full queue, or a wait longer than the settings allow, answers 503 with
    Retry-After.
    """
    try:
        with ctx.pdf_queue.slot(), tempfile.TemporaryDirectory() as tmp:
            path = bulletin_mod.write_pdf(result, Path(tmp) / f"{name}.pdf")
            return path.read_bytes()
    except QueueFullError as exc:
        raise HTTPException(503, "PDF renderer busy: retry later",
                            headers=retry_after_header(exc.retry_after_s)) from None
    except DualControlError as exc:
        raise HTTPException(503, str(exc)) from None
