"""Building and running the web application on the store, for the CLI and the demo."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from dualcontrol.errors import DualControlError
from dualcontrol.factor_policy import set_factor_years
from dualcontrol.store import data_home, open_store
from dualcontrol.web.app import create_app
from dualcontrol.web.cached_users import CachedUsers
from dualcontrol.web.data import StoreData
from dualcontrol.web.demo_users import Credential, create_demo_users, demo_accounts
from dualcontrol.web.results import code_fingerprint, drop_other_versions, results_folder
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.store_users import StoreUsers
from dualcontrol.web.users import UserRepository

logger = logging.getLogger(__name__)

#: Seconds a request waits for another process's lock on the embedded store before
#: the page answers 503 with Retry-After (an import holds the lock while it runs).
WEB_LOCK_WAIT_S = 5.0

#: Inputs that are not reports (scenarios, decomposition factors, project context).
DEFAULT_INPUTS = Path("examples")


@dataclass
class Served:
    """An application ready to serve, with the demo credentials created for it."""

    app: FastAPI
    settings: WebSettings
    credentials: list[Credential]
    data: StoreData

    @property
    def address(self) -> str:
        """Return the URL the server listens on."""
        return f"http://{self.settings.host}:{self.settings.port}/"


def store_app(url: str | None = None, *, settings: WebSettings | None = None,
              inputs: Path | None = DEFAULT_INPUTS, demo_users: bool = False) -> Served:
    """Return the dashboard on the store at ``url`` (default: the configured store).

    With ``demo_users`` every demo account is created (or gets a new password) and its
    credentials are returned. With ``settings.cache_results`` (the default) results are
    kept until the store changes and users and sessions are looked up in memory
    (:class:`~dualcontrol.web.cached_users.CachedUsers`).
    """
    settings = settings or WebSettings()
    # years without a published emission factor: as the command line is told (the demo
    # store asks for the nearest year's by itself, see dualcontrol.datasets)
    set_factor_years(os.environ.get("DUALCONTROL_FACTOR_YEARS") or None)
    store = open_store(url)
    # once serving, a page waits a few seconds for another process's lock, then 503
    store.lock_timeout_s = WEB_LOCK_WAIT_S
    data = StoreData(store, inputs=inputs if inputs is not None and inputs.is_dir() else None,
                     cache=settings.cache_results, version_poll_s=settings.version_poll_s)
    users: UserRepository = StoreUsers(store)
    if settings.cache_results:
        users = CachedUsers(StoreUsers(store), refresh_s=settings.session_refresh_s)
    credentials = create_demo_users(users, demo_accounts(data.hierarchy())) \
        if demo_users else []
    return Served(create_app(data=data, users=users, settings=settings), settings,
                  credentials, data)


def print_credentials(address: str, credentials: list[Credential]) -> None:
    """Print the dashboard's address and the demo users' credentials on the terminal."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Dashboard: {address}", header_style="bold")
    for column in ("user", "password", "role", "scope"):
        table.add_column(column)
    for c in credentials:
        table.add_row(c.username, c.password, c.role.value, str(c.scope or "-"))
    Console().print(table)


def warm(data: StoreData) -> None:
    """Compute what the overview shows, then the other whole-store tables, so visitors
    do not wait for them."""
    try:
        leagues = data.accounts(level="league")
        data.accounts(level="region")
        if len(leagues):
            year = int(leagues["year"].max())
            data.barometer(year=year)
            data.budget(year=year)
        data.names()
        for level in ("county", "park", "enterprise"):
            data.accounts(level=level)
        data.unit_benchmarks()
    except Exception:  # a failed warm-up only means the first page computes it
        logger.exception("warming the dashboard cache failed")


@dataclass
class Keeper:
    """Keeps the whole-store results computed: at start from disk if kept there, then
    again whenever the store changes (an upload, a command-line import).

    ``root`` is the folder of results kept on disk (None: memory only); each store
    version and code gets its own sub-folder (:func:`results_folder`).
    """

    data: StoreData
    root: Path | None
    interval_s: float = 2.0
    _code: str | None = field(default=None, repr=False)
    _warmed: object = field(default=object(), repr=False)

    def folder(self, version: object) -> Path | None:
        """Return the folder of the results of ``version`` (None: not kept on disk)."""
        if self.root is None:
            return None
        if self._code is None:
            self._code = code_fingerprint()
        # the choice for years without a published factor changes the figures too
        policy = os.environ.get("DUALCONTROL_FACTOR_YEARS") or ""
        return results_folder(self.root, self.data.store, (version, policy), self._code)

    def restore(self) -> int:
        """Read the results of the store's version kept on disk; return how many tables."""
        folder = self.folder(self.data.current_version())
        if folder is None:
            return 0
        try:
            return self.data.results.load(folder)
        except Exception:  # a damaged folder: compute instead
            logger.exception("reading the kept results in %s failed", folder)
            return 0

    def warm(self) -> bool:
        """Compute the results of the store's version (if not done) and keep them on disk;
        return True if they were computed now."""
        version = self.data.current_version()
        if version == self._warmed:
            return False
        warm(self.data)
        gc.freeze()  # the kept tables live long: the collector need not scan them again
        self._warmed = version
        folder = self.folder(version)
        if folder is not None and self.data.current_version() == version:
            try:
                self.data.results.save(folder)
                drop_other_versions(folder)
            except OSError:
                logger.exception("keeping the results in %s failed", folder)
        return True

    def run(self, stop: threading.Event, app: FastAPI | None = None) -> None:
        """Warm now and after each change of the store, until ``stop`` is set (and draw
        ``app``'s overview after each warm-up)."""
        while not stop.is_set():
            try:
                if self.warm() and app is not None:
                    prime(app)
            except Exception:
                logger.exception("warming the results failed")
            stop.wait(self.interval_s)


def prime(app: FastAPI, path: str = "/") -> int:
    """Ask the application for ``path`` in-process, as a first visitor would; return the
    status. Compiles the templates, loads the chart library's Python side and draws
    the overview's charts, so the first real visitor does not wait for them."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": b"", "headers": [(b"host", b"localhost")],
             "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 80)}
    status = 0

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]

    def ask() -> None:
        asyncio.run(app(scope, receive, send))

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no event loop in this thread: the usual case (before serving)
        ask()
    else:  # a loop runs in this thread (an embedding program, a browser driver): not here
        worker = threading.Thread(target=ask, name="dualcontrol-prime")
        worker.start()
        worker.join()
    return status


def keeper_of(served: Served) -> Keeper:
    """Return the keeper of the served application's results."""
    on_disk = served.settings.cache_results and served.settings.results_on_disk
    return Keeper(served.data, data_home() / "web-results" if on_disk else None)


def run(served: Served) -> None:
    """Serve until interrupted (Ctrl-C), then close the store."""
    stop = threading.Event()
    keeper = keeper_of(served)
    if served.settings.cache_results and keeper.restore():
        try:  # the overview's results were kept: draw it now, before listening
            prime(served.app)
        except Exception:
            logger.exception("drawing the first overview failed")
    threading.Thread(target=keeper.run, args=(stop, served.app), daemon=True,
                     name="warm").start()
    try:
        uvicorn.run(served.app, host=served.settings.host, port=served.settings.port,
                    log_level="warning")
    finally:
        stop.set()
        flush = getattr(served.app.state.ctx.users, "flush", None)
        if flush is not None:  # the last-seen times not written yet
            flush()
        served.data.store.close()


def serve(url: str | None = None, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the dashboard on the demo store at ``url`` with one user per role.

    The hook of ``dualcontrol demo``: prints the address and the demo credentials
    (this is the command line's edge), then serves until Ctrl-C.
    """
    try:
        settings = WebSettings(host=host, port=port)
    except ValueError as exc:  # a refused secret key: say why, without a traceback
        raise DualControlError(str(exc)) from None
    served = store_app(url, settings=settings, demo_users=True)
    print_credentials(served.address, served.credentials)
    run(served)
