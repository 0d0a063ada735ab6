"""The FastAPI application: ``create_app()`` wires settings, users, data and routers."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import plotly
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dualcontrol import labels
from dualcontrol.errors import InputError
from dualcontrol.store.faults import StoreError
from dualcontrol.web.access import ANONYMOUS, Principal
from dualcontrol.web.assets import Assets, asset_response
from dualcontrol.web.contract import ERRORS
from dualcontrol.web.data import WebData
from dualcontrol.web.deps import WebContext, current_principal, render
from dualcontrol.web.limits import BodyLimit, LoginLimiter, RenderQueue
from dualcontrol.web.response_cache import ResponseCache
from dualcontrol.web.routes import (
    accounts,
    analysis,
    assessment,
    audit,
    auth,
    benchmarks,
    bulletin,
    carbon,
    measures,
    pages,
    reports,
    reviews,
)
from dualcontrol.web.routes import users as users_routes
from dualcontrol.web.security import SessionSigner
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.users import UserRepository

logger = logging.getLogger(__name__)

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
#: Content Security Policy: nothing may load from anywhere but this server.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
#: Headers every response carries (unless the route set its own).
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"))


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CompressedReads:
    """ASGI middleware gzipping API reads (``GET /api/...``: JSON and CSV tables).

    Pages are not compressed: they carry the session's CSRF token next to text a
    visitor chooses, which compression would let an eavesdropper guess (BREACH);
    static files are compressed once, in :mod:`dualcontrol.web.assets`.
    """

    def __init__(self, app: ASGIApp, *, level: int = 5) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024, compresslevel=level)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope.get("method") in ("GET", "HEAD")
                and scope.get("path", "").startswith("/api/")):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def login_limiter(settings: WebSettings) -> LoginLimiter:
    """Return the login limiter configured by ``settings``."""
    return LoginLimiter(max_failures=settings.login_max_failures,
                        max_per_address=settings.login_max_failures_per_address,
                        window_s=settings.login_window_s, backoff_s=settings.login_backoff_s,
                        backoff_max_s=settings.login_backoff_max_s)


def create_app(*, data: WebData, users: UserRepository, settings: WebSettings | None = None,
               ) -> FastAPI:
    """Return the web application over ``data`` with users, tokens and audit in ``users``."""
    settings = settings or WebSettings()
    app = FastAPI(title="dualcontrol", version="0.1.0", docs_url=None, redoc_url=None,
                  responses=ERRORS,
                  description="Energy dual control: accounts, assessment, benchmarking, "
                              "review, decomposition and outlook of a region.")
    web_dir = resources.files("dualcontrol.web")
    templates = Jinja2Templates(directory=str(web_dir.joinpath("templates")))
    assets = Assets(Path(str(web_dir.joinpath("static"))), extra={"plotly.min.js": PLOTLY_JS})
    templates.env.globals["static_url"] = assets.url
    app.state.assets = assets
    templates.env.globals.update(labels.jinja_globals())  # column labels and formats
    app.state.ctx = WebContext(
        settings=settings, users=users, data=data,
        signer=SessionSigner(settings.secret_key, settings.session_max_age_s),
        limiter=login_limiter(settings), templates=templates,
        pdf_queue=RenderQueue(max_running=settings.pdf_max_running,
                              max_waiting=settings.pdf_max_waiting, wait_s=settings.pdf_wait_s))
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(CompressedReads)

    def identify(request: Request) -> tuple[Principal, str | None, object]:
        """Return who asks, the CSRF token of its session and the store's version."""
        ctx = app.state.ctx
        try:
            principal = current_principal(request, ctx)
        except StarletteHTTPException as exc:
            request.state.principal_refusal = exc
            raise
        except StoreError as exc:
            # not answered from the cache: the route meets the store again and its
            # handler answers 503 with Retry-After
            raise StarletteHTTPException(503, str(exc)) from exc
        request.state.principal = principal
        session = getattr(request.state, "page_session", None)
        try:
            version = ctx.data.results_key()
        except StoreError as exc:
            raise StarletteHTTPException(503, str(exc)) from exc
        return principal, session.csrf if session else None, version

    app.add_middleware(ResponseCache, identify=identify, enabled=settings.cache_results)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api") or request.url.path.endswith(".json"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        ctx = app.state.ctx
        try:
            principal = current_principal(request, ctx)
        except StarletteHTTPException:
            principal = ANONYMOUS
        title = {401: "login_required", 403: "forbidden", 404: "not_found",
                 503: "store_busy"}.get(exc.status_code, "forbidden")
        page = render(request, ctx, principal, "error.html", status_code=exc.status_code,
                      title=title, message=str(exc.detail))
        page.headers.update(getattr(exc, "headers", None) or {})
        return page

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Response:
        """A value the science refuses (a year no rule covers, say): 422, in words."""
        return await http_error(request, StarletteHTTPException(422, str(exc)))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        """The store is locked, restarting, full or damaged: 503, and when to try again."""
        logger.warning("store unavailable for %s: %s", request.url.path, exc)
        headers = {"Retry-After": str(max(1, round(exc.retry_after_s)))} \
            if exc.retry_after_s else None
        return await http_error(request, StarletteHTTPException(503, str(exc), headers=headers))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"detail": [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")}
            for e in exc.errors()]}, status_code=422)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_bundle(request: Request) -> Response:
        """The Plotly bundle shipped inside the ``plotly`` package (gzipped, cached)."""
        asset = assets.get("plotly.min.js")
        assert asset is not None
        return asset_response(request, asset,
                              versioned=request.query_params.get("v") == asset.digest)

    @app.get("/docs", include_in_schema=False)
    def api_docs(request: Request) -> Response:
        """The API reference, rendered here from the OpenAPI schema (no CDN)."""
        ctx = app.state.ctx
        return render(request, ctx, current_principal(request, ctx), "docs.html",
                      schema=app.openapi())

    app.mount("/static", assets, name="static")
    for module in (auth, accounts, assessment, reports, reviews, benchmarks, analysis, bulletin,
                   carbon, users_routes, audit, measures, pages):
        app.include_router(module.router)
    return app
