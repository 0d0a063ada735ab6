"""Building and running the web application on the store, for the CLI and the demo."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from dualcontrol.errors import DualControlError
from dualcontrol.store import open_store
from dualcontrol.web.app import create_app
from dualcontrol.web.data import StoreData
from dualcontrol.web.demo_users import Credential, create_demo_users, demo_accounts
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.store_users import StoreUsers

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
    credentials are returned.
    """
    settings = settings or WebSettings()
    store = open_store(url)
    # once serving, a page waits a few seconds for another process's lock, then 503
    store.lock_timeout_s = WEB_LOCK_WAIT_S
    data = StoreData(store, inputs=inputs if inputs is not None and inputs.is_dir() else None)
    users = StoreUsers(store)
    credentials = create_demo_users(users, demo_accounts(data.hierarchy())) \
        if demo_users else []
    return Served(create_app(data=data, users=users, settings=settings), settings,
                  credentials, data)


def warm(data: StoreData) -> None:
    """Compute what the overview shows, so the first visitor does not wait for it."""
    try:
        leagues = data.accounts(level="league")
        data.accounts(level="region")
        if len(leagues):
            year = int(leagues["year"].max())
            data.barometer(year=year)
            data.budget(year=year)
    except Exception:  # a failed warm-up only means the first page computes it
        logger.exception("warming the dashboard cache failed")


def run(served: Served) -> None:
    """Serve until interrupted (Ctrl-C), then close the store."""
    threading.Thread(target=warm, args=(served.data,), daemon=True, name="warm").start()
    try:
        uvicorn.run(served.app, host=served.settings.host, port=served.settings.port,
                    log_level="warning")
    finally:
        served.data.store.close()


def serve(url: str | None = None, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the dashboard on the demo store at ``url`` with one user per role.

    The hook of ``dualcontrol demo``: prints the address and the demo credentials
    (this is the command line's edge), then serves until Ctrl-C.
    """
    from dualcontrol.cli.web import print_credentials

    try:
        settings = WebSettings(host=host, port=port)
    except ValueError as exc:  # a refused secret key: say why, without a traceback
        raise DualControlError(str(exc)) from None
    served = store_app(url, settings=settings, demo_users=True)
    print_credentials(served.address, served.credentials)
    run(served)
