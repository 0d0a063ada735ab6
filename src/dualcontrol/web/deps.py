"""Dependencies of the routes: the context, the principal, refusals that are logged."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from dualcontrol.web.access import (
    ANONYMOUS,
    MENU,
    ROUTES,
    AccessDeniedError,
    Data,
    Grant,
    Principal,
    may,
    permit,
)
from dualcontrol.web.data import WebData
from dualcontrol.web.i18n import pick_lang, translator
from dualcontrol.web.limits import LoginLimiter, RenderQueue
from dualcontrol.web.security import Session, SessionSigner, new_session, token_digest
from dualcontrol.web.sessions import resolve_session
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.users import UserRepository

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class WebContext:
    """Everything a request needs, built once by the app factory."""

    settings: WebSettings
    users: UserRepository
    data: WebData
    signer: SessionSigner
    limiter: LoginLimiter
    templates: Jinja2Templates
    pdf_queue: RenderQueue


def get_context(request: Request) -> WebContext:
    """Return the application's context."""
    return request.app.state.ctx


Ctx = Annotated[WebContext, Depends(get_context)]


def client_of(request: Request) -> str:
    """Return the client's address (for the rate limit and the audit log)."""
    return request.client.host if request.client else "unknown"


def refuse(ctx: WebContext, request: Request, principal: Principal, reason: str, *,
           status: int = 403) -> HTTPException:
    """Log a refused request in the audit log and return the HTTP error to raise."""
    ctx.users.audit(username=principal.username, action="denied", entity="request",
                    entity_key=f"{request.method} {request.url.path}",
                    after={"reason": reason, "status": status, "client": client_of(request),
                           "query": str(request.url.query)})
    logger.warning("refused %s %s for %s: %s", request.method, request.url.path,
                   principal.username, reason)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return HTTPException(status_code=status, detail=reason, headers=headers)


def page_session(request: Request, ctx: WebContext) -> Session | None:
    """Return the live session of the cookie, or None (looked up once per request)."""
    if not hasattr(request.state, "page_session"):
        cookie = ctx.signer.load(request.cookies.get(ctx.settings.session_cookie))
        request.state.page_session = resolve_session(ctx.users, cookie)
    found: Session | None = request.state.page_session
    return found


def current_principal(request: Request, ctx: Ctx) -> Principal:
    """Return who makes the request.

    A bearer token authenticates API calls; a forged, unknown or expired token is
    refused (401) and logged. The page session cookie authenticates pages, and API
    reads (never API writes, which would otherwise need a CSRF token). Anyone else is
    the public. Found once per request (the response cache asks first).
    """
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    refusal: HTTPException | None = getattr(request.state, "principal_refusal", None)
    if refusal is not None:  # refused (and logged) once already
        raise refusal
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise refuse(ctx, request, ANONYMOUS, "malformed authorization header", status=401)
        found = ctx.users.find_token(digest=token_digest(token.strip()))
        if found is None:
            raise refuse(ctx, request, ANONYMOUS, "unknown or forged token", status=401)
        username, expires_at = found
        user = ctx.users.get_user(username=username)
        if expires_at <= datetime.now(UTC):
            raise refuse(ctx, request, ANONYMOUS, f"expired token of {username}", status=401)
        if user is None or not user.active:
            raise refuse(ctx, request, ANONYMOUS, f"token of inactive user {username}",
                         status=401)
        return user.principal
    if request.method in SAFE_METHODS or not request.url.path.startswith("/api"):
        session = page_session(request, ctx)
        if session is not None and session.username:
            user = ctx.users.get_user(username=session.username)
            if user is not None and user.active:
                return user.principal
    return ANONYMOUS


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def route_key(request: Request) -> str | None:
    """Return the request's route as :data:`ROUTES` names it (``"GET /api/accounts"``)."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    method = "GET" if request.method == "HEAD" else request.method
    return f"{method} {path}" if path is not None else None


def allow(ctx: WebContext, request: Request, principal: Principal, data: Data, *,
          level: str | None = None, node: Mapping[str, str] | None = None) -> Grant:
    """Return the principal's grant on ``data`` (:func:`permit`), or raise the refusal.

    The one access check of every route: a refusal is logged and answered 401 to
    anonymous visitors (logging in may help) and 403 to users. A route asking for a
    kind :data:`ROUTES` does not list for it is a programming error.
    """
    key = route_key(request)
    if key in ROUTES and data not in ROUTES[key]:
        raise RuntimeError(f"{key} reads {data}, which the access model does not list for it")
    try:
        return permit(principal, data, level=level, node=node)
    except AccessDeniedError as exc:
        raise refuse(ctx, request, principal, exc.reason,
                     status=401 if principal.is_anonymous else 403) from None


def menu(principal: Principal) -> list[tuple[str, str]]:
    """Return the menu entries (path, label key) the principal may open."""
    return [(path, label) for path, label, data in MENU if may(principal, data)]


def render(request: Request, ctx: WebContext, principal: Principal, template: str,
           status_code: int = 200, session: Session | None = None, **context: Any,
           ) -> Response:
    """Return a page in the visitor's language, keeping or starting its session."""
    lang = pick_lang(request.query_params.get("lang"), request.cookies.get("lang"))
    existing = page_session(request, ctx)
    session = session or existing or new_session()
    response = ctx.templates.TemplateResponse(
        request, template,
        {"t": translator(lang), "lang": lang, "principal": principal, "csrf": session.csrf,
         "path": request.url.path, "menu": menu(principal), **context},
        status_code=status_code)
    if session is not existing:
        set_session_cookie(response, ctx, session)
    if request.query_params.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax",
                            secure=ctx.settings.secure_cookies)
    return response


def set_session_cookie(response: Response, ctx: WebContext, session: Session) -> None:
    """Set the signed, HttpOnly, SameSite=Lax session cookie."""
    response.set_cookie(ctx.settings.session_cookie, ctx.signer.dump(session),
                        max_age=ctx.settings.session_max_age_s, httponly=True,
                        samesite="lax", secure=ctx.settings.secure_cookies, path="/")
