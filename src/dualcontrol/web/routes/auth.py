"""Logging in and out (pages) and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from dualcontrol.web.access import ANONYMOUS
from dualcontrol.web.contract import LIMITED
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
from dualcontrol.web.limits import retry_after_header
from dualcontrol.web.security import (
    csrf_matches,
    new_session,
    new_token,
    token_digest,
    verify_password,
)
from dualcontrol.web.sessions import end_session, start_session
from dualcontrol.web.users import User

router = APIRouter(tags=["auth"])


class TokenAnswer(BaseModel):
    """A new API token (shown once)."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


def _authenticate(ctx: WebContext, request: Request, username: str, password: str,
                  ) -> tuple[User | None, str | None, float]:
    """Return (user, None, 0) or (None, error key, wait [s]), with back-off and audit.

    The back-off counts failures per (user name, client address), so a stranger's
    guesses slow that stranger down without locking the user out elsewhere.
    """
    client = client_of(request)
    wait = ctx.limiter.retry_after(username, client)
    if wait > 0:
        ctx.users.audit(username=username or "anonymous", action="login_limited",
                        entity="user", entity_key=username,
                        after={"client": client, "retry_after_s": round(wait, 1)})
        return None, "login_limited", wait
    user = ctx.users.get_user(username=username)
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.active:
        wait = ctx.limiter.fail(username, client)
        ctx.users.audit(username=username or "anonymous", action="login_failed",
                        entity="user", entity_key=username, after={"client": client})
        return None, "login_failed", wait
    ctx.limiter.succeed(username, client)
    return user, None, 0.0


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
    user, error, wait = _authenticate(ctx, request, username.strip(), password)
    if user is None:
        status = 429 if error == "login_limited" else 401
        page = render(request, ctx, ANONYMOUS, "login.html", status_code=status, error=error)
        if status == 429:
            page.headers.update(retry_after_header(wait))
        return page
    ctx.users.audit(username=user.username, action="login", entity="session",
                    entity_key=user.username, after={"client": client_of(request)})
    response = RedirectResponse("/", status_code=303)
    session = start_session(ctx.users, username=user.username, client=client_of(request),
                            max_age_s=ctx.settings.session_max_age_s)
    set_session_cookie(response, ctx, session)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, ctx: Ctx, principal: CurrentPrincipal,
           csrf_token: Annotated[str | None, Form()] = None) -> Response:
    """End the session in the store (the form must carry the CSRF token)."""
    session = page_session(request, ctx)
    if not csrf_matches(session, csrf_token):
        raise refuse(ctx, request, principal, "missing or wrong CSRF token")
    end_session(ctx.users, session)
    ctx.users.audit(username=principal.username, action="logout", entity="session",
                    entity_key=principal.username)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, ctx, new_session())
    return response


@router.post("/api/token", response_model=TokenAnswer, responses=LIMITED)
def issue_token(request: Request, ctx: Ctx,
                username: Annotated[str, Form(min_length=1, max_length=64)],
                password: Annotated[str, Form(min_length=1)]) -> TokenAnswer:
    """Return a bearer token for the API (OAuth2 password form: username, password)."""
    user, error, wait = _authenticate(ctx, request, username.strip(), password)
    if user is None:
        if error == "login_limited":
            raise HTTPException(429, "too many failed logins: retry later",
                                headers=retry_after_header(wait))
        raise refuse(ctx, request, ANONYMOUS, error or "login_failed", status=401)
    token = new_token()
    expires_at = datetime.now(UTC) + timedelta(seconds=ctx.settings.token_max_age_s)
    ctx.users.add_token(username=user.username, digest=token_digest(token),
                        expires_at=expires_at)
    ctx.users.audit(username=user.username, action="token_issued", entity="api_token",
                    entity_key=token_digest(token)[:12], after={"expires_at": expires_at})
    return TokenAnswer(access_token=token, expires_at=expires_at)
