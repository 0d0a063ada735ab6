"""Energy and CO2 accounts by level of the hierarchy and period."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from dualcontrol.accounting import GRAINS, LEVELS
from dualcontrol.web.access import PUBLISHED_LEVELS, Data, within_scope
from dualcontrol.web.contract import TABLE
from dualcontrol.web.deps import Ctx, CurrentPrincipal, WebContext, allow
from dualcontrol.web.tables import Format, YearQ, table_response

router = APIRouter(prefix="/api/accounts", tags=["accounts"])

LevelQ = Annotated[str, Query(pattern="^(" + "|".join(LEVELS) + ")$",
                              description="Level of the hierarchy.")]
GrainQ = Annotated[str, Query(pattern="^(" + "|".join(GRAINS) + ")$",
                              description="Period grain.")]
FormatQ = Annotated[Format, Query(description="json, csv or xlsx.")]


def lineage(ctx: WebContext, level: str, key: str) -> dict[str, str] | None:
    """Return the ancestors of node ``level:key`` (None if there is no such node)."""
    hierarchy = ctx.data.hierarchy()
    if level not in hierarchy:
        return None
    match = hierarchy[hierarchy[level].astype(str) == key]
    if match.empty:
        return None
    row = match.iloc[0]
    return {lv: str(row[lv]) for lv in LEVELS[: LEVELS.index(level)] if lv in hierarchy}


def accounts_kind(level: str, grain: str) -> Data:
    """Return the kind of an accounts table: published (region, league by year) or not."""
    return Data.published if level in PUBLISHED_LEVELS and grain == "year" else Data.accounts


def node_accounts(ctx: WebContext, level: str, key: str, grain: str) -> pd.DataFrame:
    """Return the accounts of one node by ``grain``."""
    return ctx.data.node_accounts(level=level, key=key, grain=grain)


@router.get("", responses=TABLE)
def read_accounts(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                  level: LevelQ = "league", grain: GrainQ = "year",
                  year: YearQ = None, format: FormatQ = Format.json) -> Response:
    """Return the accounts at ``level`` by ``grain`` that the caller may see.

    Columns: the levels, the period, ``energy_tce``, ``controlled_tce``,
    ``feedstock_tce``, ``renewable_tce``, ``co2_t`` and, by year with GDP,
    ``gdp_const_10k_yuan`` and the intensities.
    """
    grant = allow(ctx, request, principal, accounts_kind(level, grain), level=level)
    table = within_scope(principal, grant, ctx.data.accounts(level=level, grain=grain))
    if year is not None:
        table = table[table["year"] == year]
    return table_response(table.reset_index(drop=True), format, f"accounts_{level}_{grain}")


@router.get("/{level}/{key}", responses=TABLE)
def read_node_accounts(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                       level: str, key: str, grain: GrainQ = "year",
                       format: FormatQ = Format.json) -> Response:
    """Return the accounts of one league, county, park or enterprise by ``grain``."""
    if level not in LEVELS:
        raise HTTPException(404, f"unknown level {level!r}; accepted: {', '.join(LEVELS)}")
    kind = accounts_kind(level, grain)
    allow(ctx, request, principal, kind, level=level)  # before saying whether it exists
    ancestors = lineage(ctx, level, key)
    if ancestors is None:
        raise HTTPException(404, f"no {level} {key!r}")
    allow(ctx, request, principal, kind, level=level, node={**ancestors, level: key})
    return table_response(node_accounts(ctx, level, key, grain), format,
                          f"accounts_{level}_{grain}")
