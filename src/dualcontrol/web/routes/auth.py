"""Logging in and out (pages) and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from dualcontrol.web.access import ANONYMOUS
from dualcontrol.web.deps import (
    Ctx,
    CurrentPrincipal,
    WebContext,
    client_of,
    page_session,
    refuse,
    render,
    set_session_cookie,
)
from dualcontrol.web.security import (
    csrf_matches,
    new_session,
    new_token,
    token_digest,
    verify_password,
)
from dualcontrol.web.users import User

router = APIRouter(tags=["auth"])


class TokenAnswer(BaseModel):
    """A new API token (shown once)."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


def _authenticate(ctx: WebContext, request: Request, username: str, password: str,
                  ) -> tuple[User | None, str | None]:
    """Return (user, None) or (None, error key), applying the rate limit and audit."""
    keys = (f"user:{username}", f"ip:{client_of(request)}")
    if ctx.limiter.blocked(*keys):
        ctx.users.audit(username=username or "anonymous", action="login_limited",
                        entity="user", entity_key=username, after={"client": keys[1]})
        return None, "login_limited"
    user = ctx.users.get_user(username=username)
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.active:
        ctx.limiter.fail(*keys)
        ctx.users.audit(username=username or "anonymous", action="login_failed",
                        entity="user", entity_key=username, after={"client": keys[1]})
        return None, "login_failed"
    ctx.limiter.reset(keys[0])
    return user, None


@router.get("/login", include_in_schema=False)
def login_page(request: Request, ctx: Ctx, principal: CurrentPrincipal) -> Response:
    """Show the login form."""
    return render(request, ctx, principal, "login.html", error=None)


@router.post("/login", include_in_schema=False)
def login(request: Request, ctx: Ctx, username: Annotated[str, Form()],
          password: Annotated[str, Form()],
          csrf_token: Annotated[str | None, Form()] = None) -> Response:
    """Check the form's CSRF token and the password; start a new session."""
    if not csrf_matches(page_session(request, ctx), csrf_token):
        ctx.users.audit(username="anonymous", action="denied", entity="request",
                        entity_key="POST /login", after={"reason": "missing or wrong CSRF "
                                                         "token", "client": client_of(request)})
        return render(request, ctx, ANONYMOUS, "login.html", status_code=403,
                      error="csrf_failed")
    user, error = _authenticate(ctx, request, username.strip(), password)
    if user is None:
        status = 429 if error == "login_limited" else 401
        return render(request, ctx, ANONYMOUS, "login.html", status_code=status, error=error)
    ctx.users.audit(username=user.username, action="login", entity="session",
                    entity_key=user.username, after={"client": client_of(request)})
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, ctx, new_session(user.username))
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, ctx: Ctx, principal: CurrentPrincipal,
           csrf_token: Annotated[str | None, Form()] = None) -> Response:
    """End the session (the form must carry the CSRF token)."""
    if not csrf_matches(page_session(request, ctx), csrf_token):
        raise refuse(ctx, request, principal, "missing or wrong CSRF token")
    ctx.users.audit(username=principal.username, action="logout", entity="session",
                    entity_key=principal.username)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, ctx, new_session())
    return response


@router.post("/api/token", response_model=TokenAnswer)
def issue_token(request: Request, ctx: Ctx, username: Annotated[str, Form()],
                password: Annotated[str, Form()]) -> TokenAnswer:
    """Return a bearer token for the API (OAuth2 password form: username, password)."""
    user, error = _authenticate(ctx, request, username.strip(), password)
    if user is None:
        status = 429 if error == "login_limited" else 401
        raise refuse(ctx, request, ANONYMOUS, error or "login_failed", status=status)
    token = new_token()
    expires_at = datetime.now(UTC) + timedelta(seconds=ctx.settings.token_max_age_s)
    ctx.users.add_token(username=user.username, digest=token_digest(token),
                        expires_at=expires_at)
    ctx.users.audit(username=user.username, action="token_issued", entity="api_token",
                    entity_key=token_digest(token)[:12], after={"expires_at": expires_at})
    return TokenAnswer(access_token=token, expires_at=expires_at)
