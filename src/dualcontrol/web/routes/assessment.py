"""The dual-control barometer and the remaining energy budget of the region and leagues."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from dualcontrol.web.access import Data, Grant, Principal, within_scope
from dualcontrol.web.contract import TABLE
from dualcontrol.web.deps import Ctx, CurrentPrincipal, WebContext, allow
from dualcontrol.web.tables import Format, YearQ, table_response

router = APIRouter(prefix="/api/assessment", tags=["assessment"])



def assessment_year(ctx: WebContext, year: int | None) -> int:
    """Return ``year`` or the latest year of the league accounts."""
    if year is not None:
        return year
    leagues = ctx.data.accounts(level="league")
    if leagues.empty:
        raise HTTPException(404, "the store has no accounts to assess")
    return int(leagues["year"].max())


def scoped(principal: Principal, grant: Grant, frame: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of the region and leagues (``region_code``) the grant shows."""
    table = frame.assign(league=frame["region_code"])
    return within_scope(principal, grant, table).drop(columns=["league"])


@router.get("/barometer", responses=TABLE)
def read_barometer(request: Request, ctx: Ctx, principal: CurrentPrincipal, year: YearQ = None,
                   format: Format = Format.json) -> Response:
    """Return the rating (red, yellow, green, no_data, no_target) of the region and each
    league on energy intensity, total energy and CO2 intensity, with value, requirement
    and gap (:func:`dualcontrol.assessment.progress`)."""
    grant = allow(ctx, request, principal, Data.assessment)
    chosen = assessment_year(ctx, year)
    table = scoped(principal, grant, ctx.data.barometer(year=chosen))
    return table_response(table.reset_index(drop=True), format, f"barometer_{chosen}")


@router.get("/budget", responses=TABLE)
def read_budget(request: Request, ctx: Ctx, principal: CurrentPrincipal, year: YearQ = None,
                format: Format = Format.json) -> Response:
    """Return the remaining energy budget [tce] of the region and each league this year and
    to the end of the plan (:func:`dualcontrol.budget.energy_budget`)."""
    grant = allow(ctx, request, principal, Data.budget)
    chosen = assessment_year(ctx, year)
    table = scoped(principal, grant, ctx.data.budget(year=chosen))
    return table_response(table.reset_index(drop=True), format, f"budget_{chosen}")
