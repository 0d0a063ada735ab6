"""User management (administrators only): users, their sessions, deactivation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from dualcontrol.web.access import Data, Principal, Role
from dualcontrol.web.deps import Ctx, CurrentPrincipal, WebContext, allow
from dualcontrol.web.sessions import end_everything
from dualcontrol.web.users import User, make_user

router = APIRouter(prefix="/api/users", tags=["users"])


class UserIn(BaseModel):
    """A user to create."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8)
    role: Role
    scope: str | None = Field(None, description="LEVEL:KEY, e.g. league:Ordos")
    display_name: str | None = None


class UserChange(BaseModel):
    """A change to a user: ``active: false`` deactivates it and ends its sessions."""

    active: bool


class SessionOut(BaseModel):
    """A page session as shown to administrators (never its id or digest)."""

    key: str = Field(description="First 16 hex digits of the session's digest")
    username: str
    created_at: str
    last_seen_at: str
    expires_at: str
    revoked: bool
    client: str | None


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
    allow(ctx, request, principal, Data.users)
    return [UserOut(username=u.username, role=u.role, scope=str(u.scope) if u.scope else None,
                    display_name=u.display_name, active=u.active)
            for u in ctx.users.list_users()]


@router.post("", response_model=UserOut, status_code=201)
def add_user(request: Request, ctx: Ctx, principal: CurrentPrincipal, body: UserIn) -> UserOut:
    """Create a user (the password is stored as its Argon2 hash)."""
    allow(ctx, request, principal, Data.users)
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


UsernameP = Annotated[str, Path(min_length=1, max_length=64)]


def existing_user(ctx: WebContext, request: Request, principal: Principal,
                  username: str) -> User:
    """Return the user an administrator names (403 for others, 404 if unknown)."""
    allow(ctx, request, principal, Data.users)
    user = ctx.users.get_user(username=username)
    if user is None:
        raise HTTPException(404, f"unknown user {username!r}")
    return user


@router.patch("/{username}", response_model=UserOut)
def change_user(request: Request, ctx: Ctx, principal: CurrentPrincipal, username: UsernameP,
                body: UserChange) -> UserOut:
    """Activate or deactivate a user; deactivating revokes its sessions and API tokens."""
    user = existing_user(ctx, request, principal, username)
    if not body.active and user.username == principal.username:
        raise HTTPException(422, "an administrator cannot deactivate itself")
    ctx.users.set_active(username=user.username, active=body.active)
    after: dict[str, Any] = {"active": body.active}
    if not body.active:
        sessions, tokens = end_everything(ctx.users, username=user.username)
        after |= {"sessions_revoked": sessions, "tokens_revoked": tokens}
    ctx.users.audit(username=principal.username,
                    action="user_activated" if body.active else "user_deactivated",
                    entity="user", entity_key=user.username, before={"active": user.active},
                    after=after)
    return UserOut(username=user.username, role=user.role,
                   scope=str(user.scope) if user.scope else None,
                   display_name=user.display_name, active=body.active)


@router.get("/{username}/sessions", response_model=list[SessionOut])
def list_sessions(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                  username: UsernameP) -> list[SessionOut]:
    """Return a user's page sessions, newest first (live, expired and revoked)."""
    user = existing_user(ctx, request, principal, username)
    return [SessionOut(**s.as_dict()) for s in ctx.users.list_sessions(username=user.username)]


@router.delete("/{username}/sessions")
def revoke_sessions(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                    username: UsernameP,
                    key: Annotated[str | None, Query(pattern="^[0-9a-f]{16}$",
                                                     description="Only this session")] = None,
                    ) -> dict[str, int]:
    """Revoke a user's live sessions (or the one of ``key``); return how many."""
    user = existing_user(ctx, request, principal, username)
    count = ctx.users.revoke_sessions(username=user.username, key=key)
    if key is not None and count == 0:
        raise HTTPException(404, f"no live session {key} of {user.username}")
    ctx.users.audit(username=principal.username, action="sessions_revoked", entity="session",
                    entity_key=user.username, after={"key": key, "revoked": count})
    return {"revoked": count}
