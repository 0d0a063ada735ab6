"""The FastAPI application: ``create_app()`` wires settings, users, data and routers."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import plotly
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from dualcontrol.errors import InputError
from dualcontrol.store.faults import StoreError
from dualcontrol.web.access import ANONYMOUS
from dualcontrol.web.contract import ERRORS
from dualcontrol.web.data import WebData
from dualcontrol.web.deps import WebContext, current_principal, render
from dualcontrol.web.limits import BodyLimit, LoginLimiter, RenderQueue
from dualcontrol.web.routes import (
    accounts,
    analysis,
    assessment,
    audit,
    auth,
    benchmarks,
    bulletin,
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
    app.state.ctx = WebContext(
        settings=settings, users=users, data=data,
        signer=SessionSigner(settings.secret_key, settings.session_max_age_s),
        limiter=login_limiter(settings), templates=templates,
        pdf_queue=RenderQueue(max_running=settings.pdf_max_running,
                              max_waiting=settings.pdf_max_waiting, wait_s=settings.pdf_wait_s))
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

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
    def plotly_bundle() -> FileResponse:
        """The Plotly bundle shipped inside the ``plotly`` package."""
        return FileResponse(PLOTLY_JS, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/docs", include_in_schema=False)
    def api_docs(request: Request) -> Response:
        """The API reference, rendered here from the OpenAPI schema (no CDN)."""
        ctx = app.state.ctx
        return render(request, ctx, current_principal(request, ctx), "docs.html",
                      schema=app.openapi())

    app.mount("/static", StaticFiles(directory=str(web_dir.joinpath("static"))),
              name="static")
    for module in (auth, accounts, assessment, reports, reviews, benchmarks, analysis, bulletin,
                   users_routes, audit, pages):
        app.include_router(module.router)
    return app
