"""User management (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from dualcontrol.web.access import Action, Role, require
from dualcontrol.web.deps import Ctx, CurrentPrincipal, checked
from dualcontrol.web.users import make_user

router = APIRouter(prefix="/api/users", tags=["users"])


class UserIn(BaseModel):
    """A user to create."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8)
    role: Role
    scope: str | None = Field(None, description="LEVEL:KEY, e.g. league:Ordos")
    display_name: str | None = None


class UserOut(BaseModel):
    """A user as shown (never the password hash)."""

    username: str
    role: Role
    scope: str | None
    display_name: str | None
    active: bool


@router.get("", response_model=list[UserOut])
def list_users(request: Request, ctx: Ctx, principal: CurrentPrincipal) -> list[UserOut]:
    """Return every user."""
    checked(ctx, request, principal, require, Action.manage_users)
    return [UserOut(username=u.username, role=u.role, scope=str(u.scope) if u.scope else None,
                    display_name=u.display_name, active=u.active)
            for u in ctx.users.list_users()]


@router.post("", response_model=UserOut, status_code=201)
def add_user(request: Request, ctx: Ctx, principal: CurrentPrincipal, body: UserIn) -> UserOut:
    """Create a user (the password is stored as its Argon2 hash)."""
    checked(ctx, request, principal, require, Action.manage_users)
    try:
        user = make_user(body.username, body.password, body.role, scope=body.scope,
                         display_name=body.display_name)
        ctx.users.add_user(user=user)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    ctx.users.audit(username=principal.username, action="user_added", entity="user",
                    entity_key=user.username,
                    after={"role": user.role, "scope": str(user.scope) if user.scope else None})
    return UserOut(username=user.username, role=user.role,
                   scope=str(user.scope) if user.scope else None,
                   display_name=user.display_name, active=user.active)
