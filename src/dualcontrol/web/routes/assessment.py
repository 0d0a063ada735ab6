"""The dual-control barometer, the remaining energy budget and the two ledgers (energy and
carbon dual control side by side) of the region and leagues."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from dualcontrol.assessment import level_of
from dualcontrol.errors import InputError
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


RegionQ = Annotated[str, Query(pattern=r"^\d{6}$",
                               description="Region or league code (GB/T 2260).")]


@router.get("/ledgers", responses=TABLE)
def read_ledgers(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                 region: RegionQ = "150000", year: YearQ = None,
                 format: Format = Format.json) -> Response:
    """Return one region or league under energy and under carbon dual control for the same
    year and data, with every deduction (renewable, feedstock, non-fossil, the total
    exemption) and its rule row (:func:`dualcontrol.assessment.compare_rule_sets`); the
    current year on the months reported so far. Labels in Chinese in ``item_zh``,
    ``role_zh``, ``rule_set_zh`` and ``period_zh``."""
    level = level_of(region)
    node = {"region": region} if level == "region" else {"region": region[:2] + "0000",
                                                         "league": region}
    allow(ctx, request, principal, Data.assessment, level=level, node=node)
    chosen = assessment_year(ctx, year)
    try:
        table = ctx.data.ledgers(region_code=region, year=chosen)
    except InputError as exc:
        raise HTTPException(404, str(exc)) from None
    return table_response(table.reset_index(drop=True), format, f"ledgers_{region}_{chosen}")
