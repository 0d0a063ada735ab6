"""The audit log (administrators only)."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from dualcontrol.web.access import Data
from dualcontrol.web.contract import TABLE
from dualcontrol.web.deps import Ctx, CurrentPrincipal, allow
from dualcontrol.web.tables import Format, table_response

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", responses=TABLE)
def read_audit(request: Request, ctx: Ctx, principal: CurrentPrincipal,
               limit: Annotated[int, Query(ge=1, le=10000)] = 200,
               format: Format = Format.json) -> Response:
    """Return the newest entries of the audit log, newest first."""
    allow(ctx, request, principal, Data.audit)
    entries = [e.as_dict() for e in ctx.users.audit_entries(limit=limit)]
    frame = pd.DataFrame(entries, columns=["at", "username", "action", "entity",
                                           "entity_key", "before", "after"])
    return table_response(frame, format, "audit_log")
